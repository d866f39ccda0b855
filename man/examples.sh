#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Compiles the code of the man pages' EXAMPLES sections as a reader would copy it. Each
# .EX/.EE block there is a complete program, compiled and linked with
# `cc -std=c11 -Wall -Wextra -Werror` against <orbit.h> and liborbit, unless the line before
# its .EX is the roff comment `.\" fragment`: a fragment is not compiled, but must include
# <errno.h> when it names an error such as -EAGAIN. Shell transcripts (a block whose first
# line starts with "$ ", and all of man1) are not code and are skipped.
#
# Usage: examples.sh INCLUDE_DIR LIBORBIT_SO PAGE...   (CC names the C compiler)
set -eu

if [ $# -lt 3 ]; then
	echo "usage: $0 INCLUDE_DIR LIBORBIT_SO PAGE..." >&2
	exit 2
fi
include=$1
lib=$2
shift 2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=0
programs=0
fragments=0

for page in "$@"; do
	case $page in *.1) continue ;; esac
	name=$(basename "$page")
	# One file per block: NAME.N.K.c for a program, NAME.N.K.fragment for a fragment. The
	# roff escapes examples use become the characters they stand for.
	awk -v out="$work/$name" '
		/^\.SH / { in_examples = ($0 ~ /^\.SH "?EXAMPLES"?$/); next }
		in_examples && /^\.EX/ { n++; file = out "." n (fragment ? ".fragment" : ".c"); inblock = 1; fragment = 0; next }
		in_examples && /^\.EE/ { inblock = 0; close(file); next }
		inblock {
			line = $0
			gsub(/\\-/, "-", line); gsub(/\\\(aq/, "\047", line); gsub(/\\\(dq/, "\"", line)
			gsub(/\\e/, "\\", line); gsub(/\\&/, "", line)
			print line > file
			next
		}
		{ fragment = ($0 ~ /^\.\\" fragment$/) }
	' "$page"
done

for src in "$work"/*.c; do
	[ -e "$src" ] || continue
	case $(head -n 1 "$src") in '$ '*) continue ;; esac
	programs=$((programs + 1))
	# shellcheck disable=SC2086 # CC may be a command with arguments
	if ! ${CC:-cc} -std=c11 -Wall -Wextra -Werror -I "$include" "$src" "$lib" \
		-o "${src%.c}" >"$work/cc.log" 2>&1; then
		echo "FAIL: the EXAMPLES program $(basename "${src%.c}") does not compile:"
		cat "$work/cc.log"
		failed=1
	fi
done
for frag in "$work"/*.fragment; do
	[ -e "$frag" ] || continue
	fragments=$((fragments + 1))
	if grep -q -- '-E[A-Z][A-Z]*\>' "$frag" && ! grep -q '#include <errno.h>' "$frag"; then
		echo "FAIL: the EXAMPLES fragment $(basename "${frag%.fragment}") names an errno" \
			"value and does not include <errno.h>"
		failed=1
	fi
done
[ $failed -eq 0 ] && echo "ok: $programs EXAMPLES programs compile; $fragments fragments checked"
exit $failed
