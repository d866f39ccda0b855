#!/bin/sh
# SPDX-License-Identifier: MIT
#
# The installed Debian packages as their users meet them, with nothing from the build tree:
# a C program built with the system's pkg-config, and the Python ctypes consumer loading
# liborbit.so.1 from the system's library path, exchanging frames with a C peer built the
# same way; the liborbit module of python3-liborbit, from the system's Python path, doing
# the same exchange; and the orbit command of orbit-tools. .ci/run calls it after
# installing the four packages.
#
# Usage: installed.sh   (CC names the C compiler, default cc)
set -eu

here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
unset LD_LIBRARY_PATH

sh "$here/pkg-config.sh" "$here"

# shellcheck disable=SC2046,SC2086 # CC may be a command with arguments; pkg-config prints words
${CC:-cc} -std=c11 -Wall -Wextra -Werror -pedantic "$here/echo-peer.c" \
	$(pkg-config --cflags --libs liborbit) -o "$work/echo-peer"
status=0
python3 "$here/ctypes-consumer.py" "$work/echo-peer" >"$work/python" || status=$?
cat "$work/python"
[ $status -eq 0 ] || exit $status
loaded=$(sed -n 's/^loaded liborbit.so.1 from \([^,]*\),.*/\1/p' "$work/python")
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)
if [ "$(readlink -f "$loaded")" != "$(readlink -f "/usr/lib/$multiarch/liborbit.so.1")" ]; then
	echo "FAIL: Python loaded '$loaded', not the packaged /usr/lib/$multiarch/liborbit.so.1"
	exit 1
fi

# The packaged module, run from a directory with no liborbit in it: what Python imports
# must be the system's package, and the library it loads the packaged one.
(cd "$work" && unset PYTHONPATH && /usr/bin/python3 - "$work/echo-peer") <"$here/python-smoke.py" \
	>"$work/module" || status=$?
cat "$work/module"
[ $status -eq 0 ] || exit $status
if ! grep -qx "module /usr/lib/python3/dist-packages/liborbit/__init__.py" "$work/module" ||
	! grep -qx "library $(readlink -f "/usr/lib/$multiarch/liborbit.so.1")" "$work/module"; then
	echo "FAIL: Python did not use the packaged module and library"
	exit 1
fi

tool=$(/usr/bin/orbit --version)
echo "$tool"
case $tool in
*"(liborbit $(pkg-config --modversion liborbit))"*) ;;
*)
	echo "FAIL: orbit does not report the installed liborbit $(pkg-config --modversion liborbit)"
	exit 1
	;;
esac
echo "ok: the installed packages work from C (pkg-config), Python (ctypes and the module) and orbit"
