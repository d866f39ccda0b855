#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Checks the man pages: mandoc finds nothing to warn about, every page has the
# sections its kind needs, every alias page points at a page that names it, and
# every page on disk is one that meson installs.
#
# Usage: lint.sh MANDIR [INSTALLED_PAGE...]
#   MANDIR           the source man/ directory (holding man1, man3, man7)
#   INSTALLED_PAGE   the pages meson.build installs; when given, the two lists must agree
set -eu

if [ $# -lt 1 ]; then
	echo "usage: $0 MANDIR [INSTALLED_PAGE...]" >&2
	exit 2
fi
if ! command -v mandoc >/dev/null 2>&1; then
	echo "mandoc not found: skipping"
	exit 77
fi

mandir=$(cd "$1" && pwd)
shift
failed=0

fail() {
	echo "$*"
	failed=1
}

# Installed pages as paths relative to MANDIR ("man3/orbit_ring_next.3").
installed=$(for page in "$@"; do
	printf '%s\n' "$page" | sed 's|^.*/\(man[0-9]/[^/]*\)$|\1|'
done | sort)

# .so requests name pages relative to the man root, so work from there.
cd "$mandir"
pages=$(ls man[0-9]/*.[0-9] 2>/dev/null | sort)

if [ -z "$pages" ]; then
	fail "no man pages under $mandir"
fi

# An alias page is a single ".so manN/page.N" line.
is_alias() {
	[ "$(wc -l <"$1")" -eq 1 ] && grep -q '^\.so man[0-9]/[^ ]*$' "$1"
}

# The section headings of a page, one a line, without quotes.
sections_of() {
	sed -n 's/^\.SH[ 	]*//p' "$1" | tr -d '"'
}

required_sections() {
	case $1 in
	man3/*) printf '%s\n' NAME LIBRARY SYNOPSIS DESCRIPTION "RETURN VALUE" ERRORS \
		"THREAD SAFETY" "SEE ALSO" ;;
	man1/*) printf '%s\n' NAME SYNOPSIS DESCRIPTION "SEE ALSO" ;;
	*) printf '%s\n' NAME DESCRIPTION "SEE ALSO" ;;
	esac
}

for page in $pages; do
	if is_alias "$page"; then
		# mandoc flags every .so as fragile; alias pages are the project's convention.
		out=$(mandoc -T lint -W warning "$page" 2>&1 | grep -v 'WARNING: \.so is fragile' || true)
		target=$(sed 's/^\.so //' "$page")
		name=$(basename "$page" | sed 's/\.[0-9]$//')
		if [ ! -f "$target" ]; then
			fail "$page: alias of missing page $target"
		elif is_alias "$target"; then
			fail "$page: alias of another alias, $target"
		elif ! sed -n '/^\.SH NAME/,/^\.SH/p' "$target" | grep -qw -- "$name"; then
			fail "$page: $target does not list $name in its NAME section"
		fi
	else
		out=$(mandoc -T lint -W warning "$page" 2>&1 || true)
		have=$(sections_of "$page")
		missing=$(required_sections "$page" | while IFS= read -r section; do
			printf '%s\n' "$have" | grep -qx "$section" || echo "$page: missing section $section"
		done)
		if [ -n "$missing" ]; then
			fail "$missing"
		fi
	fi
	if [ -n "$out" ]; then
		fail "$out"
	fi
done

if [ $# -gt 0 ]; then
	for page in $pages; do
		printf '%s\n' "$installed" | grep -qx "$page" ||
			fail "$page: not installed (add it to man/meson.build)"
	done
	for page in $installed; do
		printf '%s\n' "$pages" | grep -qx "$page" ||
			fail "$page: installed but not under $mandir"
	done
fi

exit $failed
