#!/bin/sh
# SPDX-License-Identifier: MIT
#
# The library's ABI against the committed abigail baseline (abi/liborbit.abi). Fails on any
# change but calls added in a version node the baseline does not have: a removed symbol, a
# changed signature or public struct, a symbol moved to another node, or a call added to a
# released node.
#
# Usage: abi-check.sh check|update BASELINE SOURCE_ROOT LIBORBIT_SO
#   check    compares LIBORBIT_SO with BASELINE (exit 77 = skipped, with the reason)
#   update   rewrites BASELINE from LIBORBIT_SO: a deliberate ABI change
set -eu
# One collation for sort and comm.
export LC_ALL=C

if [ $# -ne 4 ] || { [ "$1" != check ] && [ "$1" != update ]; }; then
	echo "usage: $0 check|update BASELINE SOURCE_ROOT LIBORBIT_SO" >&2
	exit 2
fi
mode=$1
baseline=$2
src=$3
lib=$4

for tool in abidw abidiff readelf; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "$tool not found (packages abigail-tools, binutils): skipping"
		exit 77
	fi
done
# Without DWARF abigail sees only symbol names, and a changed signature would pass unseen.
if ! readelf -S "$lib" | grep -q '\.debug_info'; then
	echo "$lib has no debug info (build with -g, e.g. buildtype=debugoptimized): skipping"
	exit 77
fi

# The one abidw invocation for both modes. --exported-interfaces-only ties every function to
# its ELF symbol (without it abigail 2.2 leaves calls inlined within the library unbound, and
# their signatures go unchecked); the headers make every struct not defined in include/
# opaque, so private layouts may change freely; paths, line numbers and DT_NEEDED entries
# are left out so the baseline changes only when the ABI does.
abi_dump() {
	abidw --exported-interfaces-only --headers-dir "$src/include" --drop-private-types \
		--no-corpus-path --no-comp-dir-path --no-show-locs --no-elf-needed "$1"
}

if [ "$mode" = update ]; then
	abi_dump "$lib" >"$baseline.tmp"
	mv "$baseline.tmp" "$baseline"
	echo "wrote $baseline from $lib"
	exit 0
fi

if [ ! -f "$baseline" ]; then
	echo "FAIL: no baseline $baseline (the abi-baseline target writes one)"
	exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
abi_dump "$lib" >"$work/current.abi"

architecture() {
	sed -n "s/^<abi-corpus .*architecture='\([^']*\)'.*/\1/p" "$1"
}
if [ "$(architecture "$baseline")" != "$(architecture "$work/current.abi")" ]; then
	echo "the baseline is for $(architecture "$baseline"), $lib is" \
		"$(architecture "$work/current.abi"): skipping"
	exit 77
fi

# Defined symbols as NAME@NODE (NAME@ when unversioned), one a line.
symbols() {
	awk -v q="'" '
		function attr(name) {
			if (!match($0, " " name "=" q "[^" q "]*" q))
				return ""
			return substr($0, RSTART + length(name) + 3, RLENGTH - length(name) - 4)
		}
		/<elf-symbol / && attr("is-defined") == "yes" { print attr("name") "@" attr("version") }
	' "$1" | sort -u
}
symbols "$baseline" >"$work/baseline.syms"
symbols "$work/current.abi" >"$work/current.syms"
sed 's/.*@//' "$work/baseline.syms" | sort -u >"$work/baseline.nodes"

status=0

# Every change but an added symbol: abidiff's exit status has bit 4 set for an ABI change
# (and 8 too when it is surely incompatible, such as a removed symbol), bit 1 for an error.
abidiff_status=0
abidiff --no-default-suppression --no-added-syms "$baseline" "$work/current.abi" \
	>"$work/report" 2>&1 || abidiff_status=$?
if [ $abidiff_status -ne 0 ]; then
	cat "$work/report"
	if [ $((abidiff_status & 1)) -ne 0 ]; then
		echo "FAIL: abidiff could not compare (exit status $abidiff_status)"
	else
		echo "FAIL: the ABI differs from $baseline (abidiff exit status $abidiff_status)"
	fi
	status=1
fi

# Added symbols are allowed only in a node the baseline does not have.
comm -13 "$work/baseline.syms" "$work/current.syms" >"$work/added"
while IFS=@ read -r name node; do
	if [ -z "$node" ] || grep -qxF "$node" "$work/baseline.nodes"; then
		echo "FAIL: $name added to ${node:-no version node}, which the baseline already has:" \
			"new calls go in a new node (symbols.map)"
		status=1
	fi
done <"$work/added"

if [ $status -eq 0 ]; then
	echo "ok: $(wc -l <"$work/baseline.syms") symbols of $(wc -l <"$work/baseline.nodes")" \
		"nodes unchanged, $(wc -l <"$work/added") added in new nodes"
fi
exit $status
