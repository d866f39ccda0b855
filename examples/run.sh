#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Runs the examples as a user would, briefly, each on a fleet of its own, and checks what
# they print: a publisher's N frames reach the follower and the epoll follower exactly, a
# signal stops a follower cleanly, the cache, event bus and contest behave as they say.
#
# Usage: run.sh EXAMPLES_BUILD_DIR
set -eu

if [ $# -ne 1 ]; then
	echo "usage: $0 EXAMPLES_BUILD_DIR" >&2
	exit 2
fi
bin=$1
work=$(mktemp -d)
fleet=examples-$$
trap 'rm -rf "$work"; rm -f /dev/shm/orbit-"$fleet"-*' EXIT
failed=0
N=25

fail() {
	echo "FAIL: $*"
	failed=1
}

# Waits up to 20 s for FILE to hold a line matching PATTERN (a program got that far).
wait_for() {
	tries=0
	until grep -q -- "$2" "$1" 2>/dev/null; do
		tries=$((tries + 1))
		[ $tries -lt 200 ] || return 1
		sleep 0.1
	done
}

# The N lines a follower must print for the publisher's N frames, in order.
i=0
while [ $i -lt $N ]; do
	echo "7:0:$i ver=$i frame $i"
	i=$((i + 1))
done >"$work/want"

# Followers first, so they sleep until the frames come; then the publisher.
timeout 30 "$bin/follower" "$fleet" $N >"$work/follower" 2>&1 &
follower=$!
timeout 30 "$bin/epoll-follower" "$fleet" $N >"$work/epoll" 2>&1 &
epoll=$!
sleep 0.2
timeout 30 "$bin/publisher" "$fleet" $N >"$work/publisher" 2>&1 || fail "publisher exited $?"
[ "$(wc -l <"$work/publisher")" -eq $N ] || fail "publisher did not report $N writes"
wait $follower || fail "follower exited $?"
wait $epoll || fail "epoll-follower exited $?"
diff -u "$work/want" "$work/follower" || fail "follower printed other than the $N frames"
diff -u "$work/want" "$work/epoll" || fail "epoll-follower printed other than the $N frames"

# With nothing more to read, a signal ends each follower cleanly (status 0).
for prog in follower epoll-follower; do
	"$bin/$prog" "$fleet" 0 >"$work/$prog.stop" 2>&1 &
	pid=$!
	# Its handler (or signalfd) is set up before it reads: the last frame means ready.
	wait_for "$work/$prog.stop" "^7:0:$((N - 1)) " || fail "$prog did not print the frames"
	kill -TERM $pid
	status=0
	wait $pid || status=$?
	[ $status -eq 0 ] || fail "$prog exited $status on SIGTERM"
	[ "$(grep -c ' ver=' "$work/$prog.stop")" -eq $N ] || fail "$prog: not the $N frames before SIGTERM"
done

timeout 30 "$bin/cache" "$fleet" >"$work/cache" 2>&1 || fail "cache exited $?"
cat >"$work/cache.want" <<'OUT'
put user:1 = alice (ttl 0 ms)
put session:1 = token-abc (ttl 1000 ms)
get user:1: alice
get session:1: token-abc
get session:1: miss
put user:1 = alice2 (ttl 0 ms)
get user:1: alice2
delete user:1
get user:1: miss
OUT
diff -u "$work/cache.want" "$work/cache" || fail "cache printed something else"

# A follower of one topic sees that topic's events only, with the publisher's node.
timeout 30 "$bin/event-bus" "$fleet" follow orders 2 >"$work/bus" 2>&1 &
bus=$!
sleep 0.2
timeout 30 "$bin/event-bus" "$fleet" publish audit login >/dev/null || fail "publish audit"
timeout 30 "$bin/event-bus" "$fleet" publish orders "order 1" "order 2" >/dev/null ||
	fail "publish orders"
wait $bus || fail "event-bus follow exited $?"
printf 'node 0 orders: order 1\nnode 0 orders: order 2\n' >"$work/bus.want"
diff -u "$work/bus.want" "$work/bus" || fail "event-bus follow printed something else"

# One node holds the job while it works; another is told so (status 3); the token shows.
timeout 30 "$bin/contest-job" "$fleet" 1 nightly 30 >"$work/job1" 2>&1 &
job=$!
wait_for "$work/job1" '^step 0 ' || fail "contest-job did not start its job"
status=0
timeout 30 "$bin/contest-job" "$fleet" 2 nightly 1 >"$work/job2" 2>&1 || status=$?
[ $status -eq 3 ] || fail "a second claimant exited $status, not 3 (busy)"
grep -qx 'job nightly is held by node 1' "$work/job2" || fail "the second claimant was not told node 1 holds it"
wait $job || fail "contest-job exited $?"
token=$(sed -n 's/^node 1 claimed job nightly, token \([0-9]*\)$/\1/p' "$work/job1")
[ -n "$token" ] || fail "contest-job did not show its token"
[ "$(grep -c "^step [0-9]* with token $token\$" "$work/job1")" -eq 30 ] || fail "contest-job: not 30 steps"
grep -qx 'node 1 released job nightly' "$work/job1" || fail "contest-job did not release"
# Released: the next claimant gets it at once, with a larger token.
timeout 30 "$bin/contest-job" "$fleet" 2 nightly 0 >"$work/job3" 2>&1 || fail "the next claimant exited $?"
next=$(sed -n 's/^node 2 claimed job nightly, token \([0-9]*\)$/\1/p' "$work/job3")
[ -n "$next" ] && [ "$next" -gt "$token" ] || fail "the next holder's token $next is not above $token"

if [ $failed -ne 0 ]; then
	for f in "$work"/*; do
		echo "--- $(basename "$f")"
		cat "$f"
	done
	exit 1
fi
echo "ok: follower, epoll-follower, cache, event-bus and contest-job as documented"
