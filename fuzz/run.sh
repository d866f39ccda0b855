#!/bin/sh
# SPDX-License-Identifier: MIT
# Fuzzes each harness for a bounded time, one after another, starting from a scratch copy of
# its committed corpus (new inputs stay out of the tree) plus its kept crashes, and prints
# libFuzzer's final counts. A crash is kept as BUILD/fuzz-artifacts/HARNESS-crash-*; once
# fixed, copy it to fuzz/regressions/HARNESS/ so `meson test --suite fuzz` replays it.
# Usage: fuzz/run.sh BUILD_DIR SECONDS [HARNESS...]   (BUILD_DIR set up with -Dfuzzing=true)
set -eu

if [ $# -lt 2 ]; then
	echo "usage: $0 BUILD_DIR SECONDS [HARNESS...]" >&2
	exit 2
fi
build=$1
seconds=$2
shift 2
src=$(cd "$(dirname "$0")" && pwd)
harnesses=${*:-segment ring substrates id fleet-name}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
artifacts=$build/fuzz-artifacts
mkdir -p "$artifacts"

# Every sanitizer report is a crash libFuzzer keeps.
export ASAN_OPTIONS=halt_on_error=1:print_stacktrace=1:detect_leaks=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

failed=0
for name in $harnesses; do
	mkdir -p "$work/$name"
	cp "$src/corpus/$name"/* "$work/$name"/
	corpora=$work/$name
	if [ -d "$src/regressions/$name" ]; then
		corpora="$corpora $src/regressions/$name"
	fi
	# Segments and slots of the larger geometries need room. The contest keeps a view of
	# each contest ring it has seen until it evicts it, so nearly every substrates input
	# ends with more allocations than frees, and libFuzzer would stop for a full leak scan
	# after each (half its speed); leaks are still caught when the replay test exits and
	# by the ASan and valgrind suites.
	case $name in
	segment | ring) flags="-max_len=20000" ;;
	substrates) flags="-max_len=4096 -detect_leaks=0" ;;
	*) flags="-max_len=4096" ;;
	esac
	# shellcheck disable=SC2086 # flags and corpora are lists
	"$build/fuzz/fuzz-$name" -max_total_time="$seconds" $flags -timeout=30 \
		-print_final_stats=1 -artifact_prefix="$artifacts/$name-" $corpora \
		>"$work/$name.log" 2>&1 &
	pid=$!
	status=0
	wait $pid || status=$?
	# A crash leaves its run's segments behind (fleet names carry the pid).
	rm -f /dev/shm/orbit-t-fz-*-"$pid"-*
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$name.log")
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/$name.log")
	cov=$(grep -o 'cov: [0-9]* ft: [0-9]* corp: [0-9/a-zA-Z]*' "$work/$name.log" | tail -1)
	echo "fuzz-$name: ${runs:-?} runs in ${seconds} s (${rate:-?}/s), $cov, exit $status"
	if [ $status -ne 0 ]; then
		failed=1
		tail -n 60 "$work/$name.log"
	fi
done
exit $failed
