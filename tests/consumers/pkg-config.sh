#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Builds pkg-config-consumer.c as a user of an installed liborbit does, with
# `pkg-config --cflags --libs liborbit` and nothing else, checks that it loads the installed
# library and that pkg-config, the header and the library name one version, and runs it.
#
# Usage: pkg-config.sh CONSUMER_DIR                   the system's liborbit (Debian packages)
#        pkg-config.sh CONSUMER_DIR BUILD_ROOT MESON  `MESON install` of BUILD_ROOT into a
#                                                     temporary root
# CC names the C compiler (default cc).
set -eu

if [ $# -ne 1 ] && [ $# -ne 3 ]; then
	echo "usage: $0 CONSUMER_DIR [BUILD_ROOT MESON]" >&2
	exit 2
fi
dir=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

root=
if [ $# -eq 3 ]; then
	root=$work/root
	# Not --no-rebuild: `meson test` builds only what the tests run, not all that installs.
	if ! "$3" install -C "$2" --quiet --destdir "$root" >"$work/install.log" 2>&1; then
		cat "$work/install.log"
		echo "FAIL: meson install into $root"
		exit 1
	fi
	pc=$(find "$root" -name liborbit.pc)
	if [ -z "$pc" ]; then
		echo "FAIL: meson install put no liborbit.pc under $root"
		exit 1
	fi
	# Only the temporary root: a liborbit installed on the system must not be found.
	PKG_CONFIG_LIBDIR=$(dirname "$pc")
	PKG_CONFIG_SYSROOT_DIR=$root
	export PKG_CONFIG_LIBDIR PKG_CONFIG_SYSROOT_DIR
fi

libdir=$(pkg-config --variable=libdir liborbit)
case $libdir in
"$root"/*) ;;
*) libdir=$root$libdir ;;
esac
flags=$(pkg-config --cflags --libs liborbit)
echo "pkg-config --cflags --libs liborbit: $flags"

# shellcheck disable=SC2086 # CC may be a command with arguments; flags are words
${CC:-cc} -std=c11 -Wall -Wextra -Werror -pedantic "$dir/pkg-config-consumer.c" $flags \
	-o "$work/consumer"

# The system's loader path for the packages, the temporary root's libdir otherwise.
if [ -n "$root" ]; then
	LD_LIBRARY_PATH=$libdir
	export LD_LIBRARY_PATH
else
	unset LD_LIBRARY_PATH
fi
found=$(ldd "$work/consumer" | awk '$1 == "liborbit.so.1" { print $3 }')
if [ "$(readlink -f "$found")" != "$(readlink -f "$libdir/liborbit.so.1")" ]; then
	echo "FAIL: the consumer loads liborbit.so.1 from '$found', not from $libdir"
	exit 1
fi

"$work/consumer" >"$work/out"
version=$(head -n 1 "$work/out")
if [ "$version" != "$(pkg-config --modversion liborbit)" ]; then
	echo "FAIL: the library is $version, pkg-config says $(pkg-config --modversion liborbit)"
	exit 1
fi
echo "ok: liborbit $version from $found, built with pkg-config"
