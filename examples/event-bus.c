/* SPDX-License-Identifier: MIT */
/*
 * event-bus: publish events on topics, and follow one topic, across processes.
 *
 *   cc -std=c11 event-bus.c $(pkg-config --cflags --libs liborbit) -o event-bus
 *   ./event-bus FLEET follow TOPIC COUNT        print COUNT events of TOPIC, then exit
 *   ./event-bus FLEET publish TOPIC MESSAGE...  publish each MESSAGE on TOPIC
 *
 * All topics share one ring (ORBIT_KIND_EVENTS, 220); a follower asks for one topic and
 * its cursor moves over the others. The follower starts at the oldest event the ring still
 * holds, so it also prints what was published before it started; start at
 * orbit_events_head() instead to see only later events.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <orbit.h>

#define FLEET_SIZE 2

static int publish(orbit_events_t *events, const char *topic, char **messages, int count)
{
	for (int i = 0; i < count; i++) {
		int r = orbit_events_publish(events, topic, messages[i], strlen(messages[i]));

		if (r < 0) {
			fprintf(stderr, "event-bus: publish: %s\n", strerror(-r));
			return 1;
		}
		printf("published %s: %s\n", topic, messages[i]);
	}
	return 0;
}

static int follow(orbit_events_t *events, const char *topic, long count)
{
	uint64_t cursor = orbit_events_oldest(events), lagged = 0;
	orbit_event_t event;
	char payload[256];

	while (count > 0) {
		/*
		 * The next event of topic at or after cursor, sleeping in the kernel while there
		 * is none (-1: no time limit). Events of other topics are stepped over.
		 */
		int r = orbit_events_follow(events, &cursor, topic, &event, payload,
					    sizeof(payload), &lagged, -1);

		if (r == -EINTR)
			continue; /* a signal handler ran; nothing is lost */
		if (r == -EMSGSIZE) {
			/* event.len says how large it is; this example skips it. */
			fprintf(stderr, "event-bus: skipping a %u-byte event\n", event.len);
			cursor++;
			continue;
		}
		if (r < 0) {
			fprintf(stderr, "event-bus: poll: %s\n", strerror(-r));
			return 1;
		}
		printf("node %u %s: %.*s\n", orbit_id_node(event.id), event.topic, (int)event.len,
		       payload);
		count--;
	}
	/* Events the ring overwrote before this follower read them: counted, never hidden. */
	if (lagged)
		printf("lagged behind by %llu events\n", (unsigned long long)lagged);
	return 0;
}

int main(int argc, char **argv)
{
	orbit_fleet_t *fleet;
	orbit_events_t *events;
	int follower, r, status;

	if (argc < 5 || (strcmp(argv[2], "follow") != 0 && strcmp(argv[2], "publish") != 0) ||
	    (strcmp(argv[2], "follow") == 0 && argc != 5)) {
		fprintf(stderr, "usage: event-bus FLEET follow TOPIC COUNT\n"
				"       event-bus FLEET publish TOPIC MESSAGE...\n");
		return 2;
	}
	follower = strcmp(argv[2], "follow") == 0;
	/* The node is in every event's id: followers print which node published. */
	r = orbit_fleet_join_shm(argv[1], follower ? 1 : 0, FLEET_SIZE, NULL, &fleet);
	if (r < 0) {
		fprintf(stderr, "event-bus: join %s: %s\n", argv[1], strerror(-r));
		return 1;
	}
	r = orbit_events_open(fleet, ORBIT_KIND_EVENTS, &events);
	if (r < 0) {
		fprintf(stderr, "event-bus: open: %s\n", strerror(-r));
		orbit_fleet_leave(fleet);
		return 1;
	}
	if (follower)
		status = follow(events, argv[3], strtol(argv[4], NULL, 10));
	else
		status = publish(events, argv[3], argv + 4, argc - 4);
	fflush(stdout);
	orbit_events_close(events);
	orbit_fleet_leave(fleet);
	return status;
}
