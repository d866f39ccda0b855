#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Builds a consumer of <orbit.h> with the compiler command given, checks that it calls every
# function liborbit exports, each bound to its version node, and nothing liborbit lacks, then
# runs it. A call added to the library without a use in the consumer fails here.
#
# Usage: every-call.sh LIBORBIT_SO OUTPUT COMPILER [ARG...]   (the command gets -o OUTPUT)
set -eu

if [ $# -lt 3 ]; then
	echo "usage: $0 LIBORBIT_SO OUTPUT COMPILER [ARG...]" >&2
	exit 2
fi
lib=$1
out=$2
shift 2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$@" -o "$out"

# NAME@NODE of liborbit's calls: defined by the library (--defined-only) or bound by the
# consumer (--undefined-only).
orbit_symbols() {
	nm -D "$1" "$2" --with-symbol-versions --format=posix | awk '{ print $1 }' |
		grep '^orbit_' | sed 's/@@*/@/' | sort -u
}
orbit_symbols --defined-only "$lib" >"$work/exports"
orbit_symbols --undefined-only "$out" >"$work/calls"
if ! diff -u --label "exported by $lib" --label "called by $out" "$work/exports" "$work/calls"; then
	echo "FAIL: the consumer must call every exported function (- not called, + not exported)"
	exit 1
fi

"$out"
