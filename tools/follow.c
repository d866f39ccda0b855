/* SPDX-License-Identifier: MIT */
/* The follow loop of tail and events (follow.h). */
#include "follow.h"

#include <orbit.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "basics.h"
#include "cli.h"

static volatile sig_atomic_t follow_stopped;

static void follow_stop(int sig)
{
	(void)sig;
	follow_stopped = 1;
}

/* Without SA_RESTART, so a wait in the kernel returns -EINTR at once. */
static void follow_catch_signals(void)
{
	struct sigaction sa = { .sa_handler = follow_stop };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/* Waits are sliced so a signal that lands between the stop check and the wait
 * costs at most one slice. */
#define FOLLOW_SLICE_MS 1000

/* How long to nap while the counter at the cursor is claimed and not committed. */
#define UNCOMMITTED_NAP_MS 10

int tool_wait_past(orbit_ring_t *ring, uint64_t cursor, int timeout_ms)
{
	uint64_t head = orbit_ring_head(ring);

	if (head <= cursor)
		return orbit_ring_wait(ring, cursor, timeout_ms);
	/* orbit_ring_wait returns at once while head > cursor, and a commit wakes nobody:
	 * the writer is mid-write (done within microseconds) or died (the cursor moves on
	 * once a later frame is claimed and the stall bound passes). Nap until a later
	 * claim or a short while, whichever comes first. */
	if (timeout_ms < 0 || timeout_ms > UNCOMMITTED_NAP_MS)
		timeout_ms = UNCOMMITTED_NAP_MS;
	return orbit_ring_wait(ring, head, timeout_ms);
}

int tool_follow_run(const struct tool_follow *f)
{
	uint64_t deadline = f->timeout_ms >= 0 ? mono_ms() + (uint64_t)f->timeout_ms : 0;
	uint64_t printed = 0;

	follow_catch_signals();
	while (!follow_stopped && (!f->count || printed < f->count)) {
		int slice = FOLLOW_SLICE_MS;
		int r = f->step(f->ctx);

		if (r < 0)
			return tool_error("reading %s: %s", f->what, strerror(-r));
		fflush(stdout); /* a follower's lines are read as they come */
		if (r > 0) {
			printed++;
			continue;
		}
		if (!f->follow)
			break;
		if (f->timeout_ms >= 0) {
			uint64_t now = mono_ms();

			if (now >= deadline) {
				if (f->count)
					return tool_error("timed out after %llu of %llu %s",
							  (unsigned long long)printed,
							  (unsigned long long)f->count, f->what);
				break;
			}
			if (deadline - now < (uint64_t)slice)
				slice = (int)(deadline - now);
		}
		r = f->wait(f->ctx, slice);
		if (r < 0 && r != -ETIMEDOUT && r != -EINTR)
			return tool_error("waiting for %s: %s", f->what, strerror(-r));
	}
	fflush(stdout);
	return TOOL_EXIT_OK;
}
