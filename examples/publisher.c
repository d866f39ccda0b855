/* SPDX-License-Identifier: MIT */
/*
 * publisher: write COUNT frames to ring 7 of a shared-memory fleet, one every few
 * milliseconds, for follower or epoll-follower to read.
 *
 *   cc -std=c11 publisher.c $(pkg-config --cflags --libs liborbit) -o publisher
 *   ./publisher FLEET COUNT
 *
 * Every process of the fleet joins with the same name and size; each picks its own node
 * number (here 0 for the publisher, 1 for the followers), which is written into the id of
 * every frame it writes. Nothing is removed at the end: the segments outlive the processes,
 * as they must for readers that come later. `orbit rm FLEET` removes them.
 */
#define _POSIX_C_SOURCE 200809L /* nanosleep */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <orbit.h>

#define RING_KIND  7 /* the kind of ring both sides agree on: one ring per kind */
#define NODE	   0 /* this process's node number in the fleet */
#define FLEET_SIZE 2 /* nodes 0 and 1 */

static int usage(void)
{
	fprintf(stderr, "usage: publisher FLEET COUNT\n");
	return 2;
}

int main(int argc, char **argv)
{
	const struct timespec pause = { .tv_nsec = 2 * 1000 * 1000 }; /* 2 ms */
	orbit_fleet_t *fleet;
	orbit_ring_t *ring;
	long count;
	int r;

	if (argc != 3 || (count = strtol(argv[2], NULL, 10)) < 0)
		return usage();

	/* _shm: a POSIX shared-memory fleet that other processes can join by name. */
	r = orbit_fleet_join_shm(argv[1], NODE, FLEET_SIZE, NULL, &fleet);
	if (r < 0) {
		fprintf(stderr, "publisher: join %s: %s\n", argv[1], strerror(-r));
		return 1;
	}
	/* Creates the ring's segment, or joins it if another process created it first. */
	r = orbit_fleet_ring(fleet, RING_KIND, &ring);
	if (r < 0) {
		fprintf(stderr, "publisher: ring %d: %s\n", RING_KIND, strerror(-r));
		orbit_fleet_leave(fleet);
		return 1;
	}

	for (long i = 0; i < count; i++) {
		char payload[64];
		char text[ORBIT_ID_STRLEN];
		orbit_id_t id;
		int len = snprintf(payload, sizeof(payload), "frame %ld", i);

		/*
		 * Frame kind 1 (the message class: ours to define), ver = i (the caller's own
		 * version or tick). A write never blocks: a ring keeps the newest `capacity`
		 * frames (1024 by default), and a reader that falls further behind is told how
		 * many it lost.
		 */
		r = orbit_ring_write(ring, 1, (uint64_t)i, payload, (size_t)len, &id);
		if (r < 0) {
			fprintf(stderr, "publisher: write: %s\n", strerror(-r));
			break;
		}
		orbit_id_format(id, text, sizeof(text));
		printf("wrote %s %s\n", text, payload);
		nanosleep(&pause, NULL);
	}
	fflush(stdout);
	orbit_fleet_leave(fleet); /* unmaps; the segments stay for the readers */
	return r < 0 ? 1 : 0;
}
