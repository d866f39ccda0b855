#!/bin/sh
# SPDX-License-Identifier: MIT
#
# liborbit from a build tree, before anything is installed, as two kinds of consumer find it:
# a C program built with `pkg-config --cflags --libs liborbit` through the build tree's
# meson-uninstalled/liborbit-uninstalled.pc, and a meson project that has the source tree as
# a subproject and asks for dependency('liborbit').
#
# Usage: uninstalled.sh CONSUMER_DIR SOURCE_ROOT BUILD_ROOT MESON   (CC names the C compiler)
set -eu

if [ $# -ne 4 ]; then
	echo "usage: $0 CONSUMER_DIR SOURCE_ROOT BUILD_ROOT MESON" >&2
	exit 2
fi
dir=$1
src=$2
build=$3
meson=$4
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Only the build tree's .pc files: an installed liborbit must not be found.
PKG_CONFIG_LIBDIR=$build/meson-uninstalled
export PKG_CONFIG_LIBDIR
unset PKG_CONFIG_PATH
flags=$(pkg-config --cflags --libs liborbit)
echo "pkg-config --cflags --libs liborbit (uninstalled): $flags"
case " $(pkg-config --cflags liborbit) " in
*" -I$src/include "*) ;;
*)
	echo "FAIL: the uninstalled .pc does not name $src/include"
	exit 1
	;;
esac
# shellcheck disable=SC2086 # CC may be a command with arguments; flags are words
${CC:-cc} -std=c11 -Wall -Wextra -Werror -pedantic "$dir/pkg-config-consumer.c" $flags \
	-o "$work/consumer"
LD_LIBRARY_PATH=$(pkg-config --variable=libdir liborbit):$build/lib "$work/consumer" \
	>"$work/out"
echo "ok: built with the uninstalled .pc, runs liborbit $(head -n 1 "$work/out")"

# The subproject: a copy of the source tree, forced (a liborbit installed on the system would
# be found first), which must provide the dependency by name: meson.override_dependency.
unset PKG_CONFIG_LIBDIR
mkdir -p "$work/app/subprojects/liborbit"
tar -C "$src" -c --exclude='./build*' --exclude=./.git . | tar -x -C "$work/app/subprojects/liborbit"
cp "$dir/pkg-config-consumer.c" "$work/app/app.c"
cat >"$work/app/meson.build" <<'MESON'
project('app', 'c', default_options: ['c_std=c11'])
executable('app', 'app.c', dependencies: dependency('liborbit', allow_fallback: true))
MESON
if ! "$meson" setup --force-fallback-for=liborbit -Dliborbit:tests=false \
	"$work/app/build" "$work/app" >"$work/setup.log" 2>&1 ||
	! ninja -C "$work/app/build" app >"$work/ninja.log" 2>&1; then
	cat "$work/setup.log" "$work/ninja.log" 2>/dev/null
	echo "FAIL: a meson project with liborbit as a subproject does not build"
	exit 1
fi
"$work/app/build/app" >/dev/null
echo "ok: dependency('liborbit') from a subproject"
