#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Checks the man pages as the build makes them: mandoc finds nothing to warn about, every
# page has the sections its kind needs and names the project's version, every alias page
# points at a page that names it, and every page in the source tree is one that meson builds
# and installs, with the version left to the build.
#
# Usage: lint.sh MANDIR VERSION BUILT_PAGE...
#   MANDIR       the source man/ directory (holding man1, man3, man7)
#   VERSION      the project's version, which every built page's .TH must name
#   BUILT_PAGE   the pages meson builds from MANDIR's and installs (any directory)
set -eu

if [ $# -lt 3 ]; then
	echo "usage: $0 MANDIR VERSION BUILT_PAGE..." >&2
	exit 2
fi
if ! command -v mandoc >/dev/null 2>&1; then
	echo "mandoc not found: skipping"
	exit 77
fi

srcdir=$(cd "$1" && pwd)
version=$2
shift 2
failed=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fail() {
	echo "$*"
	failed=1
}

# The built pages laid out as man/ is, so that .so requests resolve: manN/NAME.N.
for page in "$@"; do
	name=$(basename "$page")
	section=${name##*.}
	mkdir -p "$work/man$section"
	cp "$page" "$work/man$section/$name"
done
installed=$(cd "$work" && ls man[0-9]/*.[0-9] | sort)

# A source page carries the placeholder, not a version: the build puts the version in.
for page in $(cd "$srcdir" && ls man[0-9]/*.[0-9]); do
	if grep -q '^\.TH' "$srcdir/$page" &&
		! grep -q '^\.TH .*"liborbit @ORBIT_VERSION@"' "$srcdir/$page"; then
		fail "$page: .TH must name \"liborbit @ORBIT_VERSION@\" (the build fills it in)"
	fi
done

# .so requests name pages relative to the man root, so work from there.
cd "$work"
pages=$installed

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
		if ! grep -q "^\\.TH .*\"liborbit $version\"" "$page"; then
			fail "$page: .TH does not name liborbit $version"
		fi
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

sources=$(cd "$srcdir" && ls man[0-9]/*.[0-9] | sort)
for page in $sources; do
	printf '%s\n' "$installed" | grep -qx "$page" ||
		fail "$page: not installed (add it to man/meson.build)"
done
for page in $installed; do
	printf '%s\n' "$sources" | grep -qx "$page" ||
		fail "$page: installed but not under $srcdir"
done

exit $failed
