/* SPDX-License-Identifier: MIT */
/*
 * The follow loop of tail and events: reading a ring as it grows, until a count, a
 * timeout or a signal.
 */
#ifndef ORBIT_TOOL_FOLLOW_H
#define ORBIT_TOOL_FOLLOW_H

#include <orbit.h>

#include <stdbool.h>
#include <stdint.h>

/*
 * Following a ring until --count items, --timeout-ms or SIGINT/SIGTERM. step
 * prints at most one item: 1 printed, 0 nothing new, or a negative errno. wait
 * blocks until there may be something new (0, -ETIMEDOUT, -EINTR or an error).
 */
struct tool_follow {
	int (*step)(void *ctx);
	int (*wait)(void *ctx, int timeout_ms);
	void *ctx;
	bool follow;	    /* false: stop once nothing new is left */
	uint64_t count;	    /* stop after this many items; 0 = no limit */
	int64_t timeout_ms; /* stop after this long; -1 = no limit */
	const char *what;   /* "frames", "events": for messages */
};

/* Returns the exit status: 0 when stopped by count, signal, end or timeout without a
 * --count; 1 on errors and when the timeout came before --count items. */
int tool_follow_run(const struct tool_follow *follow);

/*
 * Sleeps until the frame at cursor, which a cursor read found not readable yet,
 * may be: orbit_ring_wait, but without spinning on a counter that is claimed
 * and not committed. 0, -ETIMEDOUT or -EINTR.
 */
int tool_wait_past(orbit_ring_t *ring, uint64_t cursor, int timeout_ms);

#endif
