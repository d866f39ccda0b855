/* SPDX-License-Identifier: MIT */
/*
 * follower: print the frames of ring 7 of a shared-memory fleet as they are written,
 * sleeping while there are none; stop after COUNT frames, or cleanly on SIGINT or SIGTERM.
 *
 *   cc -std=c11 follower.c $(pkg-config --cflags --libs liborbit) -o follower
 *   ./follower FLEET COUNT       (COUNT 0: until a signal)
 *
 * Start it before or after ./publisher FLEET N: it reads from the oldest frame the ring
 * still holds, so it prints what was written before it started too.
 */
#define _POSIX_C_SOURCE 200809L /* sigaction */

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <orbit.h>

#define RING_KIND  7
#define NODE	   1
#define FLEET_SIZE 2

/* The handler's way to the ring: set once, before the handler is installed. */
static orbit_ring_t *followed;

static void on_signal(int sig)
{
	(void)sig;
	/*
	 * Safe in a signal handler (one system call, no lock): every orbit_ring_follow on this
	 * handle from now on returns -ECANCELED, so the stop cannot be missed by a call that
	 * was just about to sleep, as a flag checked between calls could be.
	 */
	orbit_ring_interrupt(followed, 1);
}

static int stop_on_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	return sigaction(SIGINT, &sa, NULL) == 0 && sigaction(SIGTERM, &sa, NULL) == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
	uint64_t cursor = 0, lost = 0; /* cursor 0: from the oldest frame still held */
	orbit_fleet_t *fleet;
	orbit_frame_t frame;
	char payload[256];
	long count, seen = 0;
	int r;

	if (argc != 3 || (count = strtol(argv[2], NULL, 10)) < 0) {
		fprintf(stderr, "usage: follower FLEET COUNT\n");
		return 2;
	}
	r = orbit_fleet_join_shm(argv[1], NODE, FLEET_SIZE, NULL, &fleet);
	if (r < 0) {
		fprintf(stderr, "follower: join %s: %s\n", argv[1], strerror(-r));
		return 1;
	}
	r = orbit_fleet_ring(fleet, RING_KIND, &followed);
	if (r < 0 || stop_on_signals() < 0) {
		fprintf(stderr, "follower: ring %d: %s\n", RING_KIND, strerror(r < 0 ? -r : errno));
		orbit_fleet_leave(fleet);
		return 1;
	}

	while (count == 0 || seen < count) {
		/*
		 * The frame at cursor, sleeping in the kernel until there is one (-1: no time
		 * limit). Frames the ring overwrote before we read them are skipped and added
		 * to lost: a slow reader is told, never silently stalled.
		 */
		r = orbit_ring_follow(followed, &cursor, &frame, payload, sizeof(payload), &lost,
				      -1);
		if (r == -EINTR)
			continue; /* a handler ran: the next call says if it was ours (-ECANCELED) */
		if (r == -EMSGSIZE) {
			/* Larger than our buffer: frame.len says how large. Skip it. */
			fprintf(stderr, "follower: skipping a %u-byte frame\n", frame.len);
			cursor++;
			continue;
		}
		if (r < 0)
			break; /* -ECANCELED: a signal asked us to stop */

		char id[ORBIT_ID_STRLEN];

		orbit_id_format(frame.id, id, sizeof(id));
		printf("%s ver=%llu %.*s\n", id, (unsigned long long)frame.ver, (int)frame.len,
		       payload);
		fflush(stdout);
		seen++;
	}
	if (lost)
		printf("lost %llu frames to wraparound\n", (unsigned long long)lost);
	orbit_fleet_leave(fleet);
	if (r < 0 && r != -ECANCELED) {
		fprintf(stderr, "follower: %s\n", strerror(-r));
		return 1;
	}
	return 0;
}
