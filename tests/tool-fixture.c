/* SPDX-License-Identifier: MIT */
/*
 * Makes the fleets that test-tool.py points the orbit tool at: frames of a
 * kind, heartbeats, events and contest claims, written through <orbit.h> only.
 *
 * Usage: tool-fixture [--capacity N] [--payload-max N] [--node N] [--interval-ms MS]
 *                     [--hold] COMMAND FLEET ARG...
 *   write FLEET KIND COUNT            COUNT frames: frame kind 1, ver = counter,
 *                                     payload "frame COUNTER"
 *   beat FLEET                        one heartbeat of --node
 *   publish FLEET TOPIC PAYLOAD COUNT COUNT events
 *   claim FLEET SUBJECT_KIND LABEL TTL_MS
 *                                     claims the subject; prints the holder and
 *                                     exits 1 if it is taken. With --hold, the
 *                                     lease lasts until standard input ends
 * --interval-ms sleeps between frames (write) or events (publish). --hold keeps the
 * process, and so its node and leases, alive after the command: it prints "held"
 * and waits for the end of its standard input. Without
 * --capacity and --payload-max, an existing ring is joined with its own options.
 */
#include <orbit.h>

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct fixture {
	orbit_fleet_options_t opts;
	unsigned long node, interval_ms;
	bool hold;
	orbit_fleet_t *fleet;
};

/* Alive until the test closes our standard input: liveness is the process's, not its beat's. */
static void hold_until_eof(void)
{
	char buf[64];

	printf("held\n");
	fflush(stdout);
	while (fread(buf, 1, sizeof(buf), stdin) > 0)
		;
}

static int fail(const char *what, int err)
{
	fprintf(stderr, "tool-fixture: %s: %s\n", what, strerror(-err));
	return 1;
}

static unsigned long number(const char *text)
{
	char *end;
	unsigned long v = strtoul(text, &end, 10);

	if (!*text || *end) {
		fprintf(stderr, "tool-fixture: not a number: %s\n", text);
		exit(2);
	}
	return v;
}

static void pause_between(const struct fixture *f)
{
	struct timespec ts = { .tv_sec = (time_t)(f->interval_ms / 1000),
			       .tv_nsec = (long)(f->interval_ms % 1000) * 1000000L };

	if (f->interval_ms)
		nanosleep(&ts, NULL);
}

static int write_frames(struct fixture *f, char **args)
{
	unsigned long kind = number(args[0]), count = number(args[1]);
	orbit_ring_t *ring;
	int r = orbit_fleet_ring(f->fleet, (uint8_t)kind, &ring);

	if (r < 0)
		return fail("ring", r);
	for (unsigned long i = 0; i < count; i++) {
		uint64_t counter = orbit_ring_head(ring);
		char payload[64];
		int len;

		/* One writer per test ring, so the next counter is the head. */
		len = snprintf(payload, sizeof(payload), "frame %llu", (unsigned long long)counter);
		r = orbit_ring_write(ring, 1, counter, payload, (size_t)len, NULL);
		if (r < 0)
			return fail("write", r);
		if (i + 1 < count)
			pause_between(f);
	}
	return 0;
}

static int beat(struct fixture *f, char **args)
{
	int r = orbit_heartbeat(f->fleet);

	(void)args;
	return r < 0 ? fail("heartbeat", r) : 0;
}

static int publish(struct fixture *f, char **args)
{
	unsigned long count = number(args[2]);
	orbit_events_t *events;
	int r = orbit_events_open(f->fleet, ORBIT_KIND_EVENTS, &events);

	if (r < 0)
		return fail("events", r);
	for (unsigned long i = 0; i < count && r == 0; i++) {
		r = orbit_events_publish(events, args[0], args[1], strlen(args[1]));
		if (i + 1 < count)
			pause_between(f);
	}
	orbit_events_close(events);
	return r < 0 ? fail("publish", r) : 0;
}

/* The claim's guard, never released: a lease lasts as long as its process (--hold
 * keeps it). Kept here, it is not a leak. */
static orbit_guard_t *held;

static int claim(struct fixture *f, char **args)
{
	uint16_t holder = 0;
	int r = orbit_contest_claim(f->fleet, (uint8_t)number(args[0]), args[1], "tool-fixture",
				    number(args[2]), &held, &holder);

	if (r == -EBUSY) {
		printf("%u\n", holder);
		return 1;
	}
	return r < 0 ? fail("claim", r) : 0;
}

struct command {
	const char *name;
	int (*run)(struct fixture *f, char **args);
	int nargs;
	int kind; /* the ring it writes; -1: the first argument names it */
};

static const struct command commands[] = {
	{ "write", write_frames, 2, -1 },
	{ "beat", beat, 0, ORBIT_KIND_HEARTBEAT },
	{ "publish", publish, 3, ORBIT_KIND_EVENTS },
	{ "claim", claim, 3, ORBIT_KIND_CONTEST },
};

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "capacity", required_argument, NULL, 'c' },
		{ "payload-max", required_argument, NULL, 'p' },
		{ "node", required_argument, NULL, 'n' },
		{ "interval-ms", required_argument, NULL, 'i' },
		{ "hold", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct fixture f = { .opts = ORBIT_FLEET_OPTIONS_INIT };
	bool geometry = false;
	int c, r;

	while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (c) {
		case 'c':
			f.opts.capacity = (uint32_t)number(optarg);
			geometry = true;
			break;
		case 'p':
			f.opts.payload_max = (uint32_t)number(optarg);
			geometry = true;
			break;
		case 'n':
			f.node = number(optarg);
			break;
		case 'i':
			f.interval_ms = number(optarg);
			break;
		case 'h':
			f.hold = true;
			break;
		default:
			return 2;
		}
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		const struct command *cmd = &commands[i];

		if (argc - optind < 2 || strcmp(argv[optind], cmd->name) != 0)
			continue;
		if (argc - optind != 2 + cmd->nargs) {
			fprintf(stderr, "tool-fixture: %s wants %d arguments\n", cmd->name,
				cmd->nargs);
			return 2;
		}
		if (!geometry) {
			unsigned long kind = cmd->kind >= 0 ? (unsigned long)cmd->kind
							    : number(argv[optind + 2]);

			orbit_fleet_probe(argv[optind + 1], (uint8_t)kind, &f.opts);
		}
		r = orbit_fleet_join_shm(argv[optind + 1], (uint16_t)f.node, UINT16_MAX, &f.opts,
					 &f.fleet);
		if (r < 0)
			return fail("join", r);
		r = cmd->run(&f, argv + optind + 2);
		if (r == 0 && f.hold)
			hold_until_eof();
		orbit_fleet_leave(f.fleet);
		return r;
	}
	fprintf(stderr, "tool-fixture: unknown command\n");
	return 2;
}
