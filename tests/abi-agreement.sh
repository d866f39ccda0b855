#!/bin/sh
# SPDX-License-Identifier: MIT
# The public calls named by include/orbit.h, symbols.map, the library's dynamic symbols and
# man/man3 must be one set, and the library must export nothing else.
# Usage: abi-agreement.sh SOURCE_ROOT LIBORBIT_SO   (CC names the preprocessor's compiler)
set -eu

if [ $# -ne 2 ]; then
	echo "usage: $0 SOURCE_ROOT LIBORBIT_SO" >&2
	exit 2
fi
src=$1
lib=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Declared functions: preprocessed, so neither comments nor macros can pass for a call.
# shellcheck disable=SC2086 # CC may be a command with arguments, e.g. "ccache cc"
${CC:-cc} -E -P -x c "$src/include/orbit.h" | tr '\n' ' ' |
	grep -oE '\<orbit_[A-Za-z0-9_]+[[:space:]]*\(' | tr -d '( \t' | sort -u >"$work/header"

# Names in the global: part of every version node.
sed -e 's,/\*.*\*/,,g' -e 's/#.*//' -e 's/[{};:]/ & /g' "$src/symbols.map" |
	tr -s '[:blank:]' '\n' |
	awk '$0 == "global" { global = 1; next }
	     $0 == "local" || $0 == "}" { global = 0; next }
	     global && $0 != ":" && $0 != ";" && $0 != "{" && $0 != "" { print }' |
	sort -u >"$work/map"

# Defined dynamic symbols: every one an orbit_* call bound to a version node, or a node itself.
nm -D --defined-only --with-symbol-versions --format=posix "$lib" >"$work/nm"
awk '{ print $1 }' "$work/nm" | sed 's/@.*//' | grep '^orbit_' | sort -u >"$work/exports"
awk '$2 == "A" && $1 ~ /^LIBORBIT_[0-9.]+$/ { next }
     $1 ~ /^orbit_[A-Za-z0-9_]*@@?LIBORBIT_[0-9.]+$/ { next }
     { print $1 }' "$work/nm" >"$work/stray"

find "$src/man/man3" -maxdepth 1 -name '*.3' -exec basename {} .3 \; 2>/dev/null |
	sort -u >"$work/man"

status=0
if [ ! -s "$work/header" ]; then
	echo "no function declarations found in $src/include/orbit.h"
	status=1
fi
for set in map exports man; do
	if ! diff -u --label "include/orbit.h" --label "$set" "$work/header" "$work/$set"; then
		echo "FAIL: $set disagrees with the header (- only in the header, + only in $set)"
		status=1
	fi
done
if [ -s "$work/stray" ]; then
	echo "FAIL: exported but not an orbit_* call bound to a LIBORBIT_ node:"
	cat "$work/stray"
	status=1
fi
if [ $status -eq 0 ]; then
	echo "ok: $(wc -l <"$work/header") calls agree in orbit.h, symbols.map, $lib and man/man3"
fi
exit $status
