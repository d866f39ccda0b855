/* SPDX-License-Identifier: MIT */
/*
 * bench/substrates: what one call of each substrate costs through <orbit.h>
 * (cache, events, contest, heartbeat, typed values), beside the Redis round
 * trips that do the same jobs over loopback TCP, measured in one run.
 */
#include <orbit.h>

#include "benchutil.h"
#include "redis.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FLEET_NODES  64
#define RING_SLOTS   1024
#define DEEP_BACK    1000 /* frames written after the deep key */
#define VALUE_BYTES  64
#define VALUE_KIND   1 /* the typed value's ring */
#define SUBJECT_KIND 1
#define CLAIM_TTL_MS 10000
#define HELD_LABEL   "bench-held" /* a subject another node holds for the whole run */
#define HELD_NODE    1
#define HELD_TTL_MS  3600000
#define BEAT_MAX_AGE 3600000 /* every beat stays alive for the whole run */
#define TOPIC	     "bench"

#define KEY_NEAR "user:near"
#define KEY_DEEP "user:deep"
#define KEY_MISS "user:none"
#define KEY_PUT	 "user:put"

/* The same 64 bytes for every value, event and Redis request. */
static const char value64[VALUE_BYTES + 1] =
	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

struct settings {
	const char *name;
	unsigned rounds;	    /* liborbit: best of this many rounds */
	size_t ops;		    /* ... of this many operations */
	size_t slow_ops;	    /* ... or of this many, for calls costing microseconds */
	unsigned redis_warmup;	    /* untimed round trips per command */
	unsigned redis_round_trips; /* timed round trips per command */
};

static const struct settings full_run = {
	.name = "full",
	.rounds = 7,
	.ops = 200000,
	.slow_ops = 20000,
	.redis_warmup = 1000,
	.redis_round_trips = 20000,
};

static const struct settings quick_run = {
	.name = "quick",
	.rounds = 3,
	.ops = 20000,
	.slow_ops = 2000,
	.redis_warmup = 200,
	.redis_round_trips = 2000,
};

static bool failed;

static double fail(const char *what, int rc)
{
	fprintf(stderr, "substrates: %s: %s\n", what, strerror(-rc));
	failed = true;
	return NAN;
}

/* liborbit: single-thread loops over one fleet. */

struct typed_value {
	uint64_t seq;
	uint64_t check;
};

struct subject {
	orbit_fleet_t *fleet;
	orbit_fleet_t *peer; /* another node, holding HELD_LABEL */
	orbit_guard_t *held;
	orbit_cache_t *cache;
	orbit_events_t *events;
	uint64_t cursor;
	const char *key; /* cache get: the key, and what the get must return */
	int expect;
	int err;
	uint8_t buf[VALUE_BYTES];
	orbit_event_t event;
	orbit_member_t members[FLEET_NODES];
	orbit_fleet_t *beaters[FLEET_NODES]; /* nodes 1.. stay joined: a node that left is stale */
};

static void cache_get_loop(void *ctx, size_t ops)
{
	struct subject *s = ctx;
	size_t key_len = strlen(s->key);

	for (size_t i = 0; i < ops; i++) {
		size_t len = 0;
		int rc = orbit_cache_get(s->cache, s->key, key_len, s->buf, sizeof(s->buf), &len);

		if (rc != s->expect)
			s->err = rc < 0 ? rc : -EPROTO;
		else if (rc == 0 && len != VALUE_BYTES)
			s->err = -EPROTO;
	}
}

static void cache_put_loop(void *ctx, size_t ops)
{
	struct subject *s = ctx;

	for (size_t i = 0; i < ops; i++) {
		int rc = orbit_cache_put(s->cache, KEY_PUT, strlen(KEY_PUT), value64, VALUE_BYTES,
					 0);

		if (rc < 0)
			s->err = rc;
	}
}

static void publish_poll_loop(void *ctx, size_t ops)
{
	struct subject *s = ctx;

	for (size_t i = 0; i < ops; i++) {
		int rc = orbit_events_publish(s->events, TOPIC, value64, VALUE_BYTES);

		if (rc == 0)
			rc = orbit_events_poll(s->events, &s->cursor, TOPIC, &s->event, s->buf,
					       sizeof(s->buf), NULL);
		if (rc < 0)
			s->err = rc;
		else if (s->event.len != VALUE_BYTES)
			s->err = -EPROTO;
	}
}

static void claim_release_loop(void *ctx, size_t ops)
{
	struct subject *s = ctx;

	for (size_t i = 0; i < ops; i++) {
		orbit_guard_t *guard;
		uint16_t holder;
		int rc = orbit_contest_claim(s->fleet, SUBJECT_KIND, "bench-subject", "bench",
					     CLAIM_TTL_MS, &guard, &holder);

		if (rc == 0)
			rc = orbit_guard_release(guard);
		if (rc < 0)
			s->err = rc;
	}
}

static void holder_loop(void *ctx, size_t ops)
{
	struct subject *s = ctx;

	for (size_t i = 0; i < ops; i++) {
		uint16_t holder = 0;
		int rc = orbit_contest_holder(s->fleet, SUBJECT_KIND, HELD_LABEL, &holder);

		if (rc < 0)
			s->err = rc;
		else if (holder != HELD_NODE)
			s->err = -EPROTO;
	}
}

static void snapshot_loop(void *ctx, size_t ops)
{
	struct subject *s = ctx;

	for (size_t i = 0; i < ops; i++) {
		int rc = orbit_heartbeat_snapshot(s->fleet, BEAT_MAX_AGE, s->members, FLEET_NODES);

		if (rc != FLEET_NODES)
			s->err = rc < 0 ? rc : -EPROTO;
	}
}

static void value_loop(void *ctx, size_t ops)
{
	struct subject *s = ctx;

	for (size_t i = 0; i < ops; i++) {
		struct typed_value in = { .seq = i, .check = ~(uint64_t)i }, out;
		int rc = orbit_value_store(s->fleet, VALUE_KIND, &in, sizeof(in));

		if (rc == 0)
			rc = orbit_value_load(s->fleet, VALUE_KIND, &out, sizeof(out));
		if (rc < 0)
			s->err = rc;
		else if (out.seq != in.seq || out.check != in.check)
			s->err = -EPROTO;
	}
}

enum figure {
	GET_NEAR,
	GET_DEEP,
	GET_MISS,
	PUT,
	PUBLISH_POLL,
	CLAIM_RELEASE,
	HOLDER,
	SNAPSHOT,
	VALUE,
	FIGURE_COUNT
};

enum redis_figure { REDIS_GET, REDIS_SET, REDIS_PUBLISH, REDIS_COUNT, REDIS_NONE };

static const struct {
	const char *label;
	bench_loop_fn *loop;
	bool slow; /* runs settings.slow_ops per round */
	enum redis_figure match;
} figures[FIGURE_COUNT] = {
	[GET_NEAR] = { "cache get, hit near head", cache_get_loop, false, REDIS_GET },
	[GET_DEEP] = { "cache get, hit 1000 frames back", cache_get_loop, false, REDIS_GET },
	[GET_MISS] = { "cache get, miss, full ring", cache_get_loop, false, REDIS_GET },
	[PUT] = { "cache put, 64 B value", cache_put_loop, false, REDIS_SET },
	[PUBLISH_POLL] = { "events publish + poll, 64 B", publish_poll_loop, false, REDIS_PUBLISH },
	[CLAIM_RELEASE] = { "contest claim + release", claim_release_loop, true, REDIS_NONE },
	[HOLDER] = { "contest holder, held elsewhere", holder_loop, true, REDIS_NONE },
	[SNAPSHOT] = { "heartbeat snapshot, 64 nodes", snapshot_loop, true, REDIS_NONE },
	[VALUE] = { "value store + load, 16 B", value_loop, false, REDIS_NONE },
};

/* A limit of 0 means none. */
static const struct {
	enum figure subject;
	double max_ns;
	double min_speedup; /* Redis round trip / liborbit call */
} targets[] = {
	{ .subject = GET_NEAR, .max_ns = 200, .min_speedup = 50 },
	{ .subject = GET_DEEP, .max_ns = 200, .min_speedup = 50 },
	{ .subject = GET_MISS, .max_ns = 1000, .min_speedup = 50 },
	{ .subject = CLAIM_RELEASE, .max_ns = 2000 },
};

static double measure(enum figure f, struct subject *s, const struct settings *set)
{
	double ns;

	s->err = 0;
	ns = bench_best_ns_per_op(figures[f].loop, s, figures[f].slow ? set->slow_ops : set->ops,
				  set->rounds);
	return s->err < 0 ? fail(figures[f].label, s->err) : ns;
}

static void measure_cache_get(struct subject *s, const struct settings *set, enum figure f,
			      const char *key, int expect, double ns[FIGURE_COUNT])
{
	s->key = key;
	s->expect = expect;
	ns[f] = measure(f, s, set);
}

static void measure_orbit(struct subject *s, const struct settings *set, double ns[FIGURE_COUNT])
{
	/* Gets first: the put loop laps the cache ring and overwrites their keys. */
	measure_cache_get(s, set, GET_NEAR, KEY_NEAR, 0, ns);
	measure_cache_get(s, set, GET_DEEP, KEY_DEEP, 0, ns);
	measure_cache_get(s, set, GET_MISS, KEY_MISS, -ENOENT, ns);
	for (enum figure f = PUT; f < FIGURE_COUNT; f++)
		ns[f] = measure(f, s, set);
}

/* A full ring: the near key is the newest frame, the deep key DEEP_BACK frames older. */
static int fill_cache(orbit_fleet_t *fleet, orbit_cache_t *cache)
{
	orbit_ring_t *ring;
	int rc = orbit_fleet_ring(fleet, ORBIT_KIND_CACHE, &ring);

	for (uint32_t c = 0; rc == 0 && c < RING_SLOTS; c++) {
		char filler[32];
		const char *key = filler;

		if (c == RING_SLOTS - 1)
			key = KEY_NEAR;
		else if (c == RING_SLOTS - 1 - DEEP_BACK)
			key = KEY_DEEP;
		else
			snprintf(filler, sizeof(filler), "user:%04u", c);
		rc = orbit_cache_put(cache, key, strlen(key), value64, VALUE_BYTES, 0);
	}
	if (rc == 0 && orbit_ring_head(ring) != RING_SLOTS)
		rc = -EPROTO; /* someone else wrote to the ring */
	return rc;
}

/* Also warms the handle: its index catches up with the whole ring here, not in a round. */
static int check_deep_key(orbit_cache_t *cache)
{
	uint8_t buf[VALUE_BYTES];
	size_t len = 0;
	int rc = orbit_cache_get(cache, KEY_DEEP, strlen(KEY_DEEP), buf, sizeof(buf), &len);

	if (rc == 0 && (len != VALUE_BYTES || memcmp(buf, value64, VALUE_BYTES)))
		rc = -EPROTO;
	return rc;
}

static int join(const char *name, uint16_t node, orbit_fleet_t **fleet)
{
	orbit_fleet_options_t opts = ORBIT_FLEET_OPTIONS_INIT;

	opts.capacity = RING_SLOTS;
	return orbit_fleet_join_shm(name, node, FLEET_NODES, &opts, fleet);
}

/* Every node of the fleet beats once, each through its own handle, as in a real fleet. */
static int beat_all(orbit_fleet_t *fleet, orbit_fleet_t *beaters[FLEET_NODES],
		    orbit_member_t members[FLEET_NODES])
{
	int rc = orbit_heartbeat(fleet);

	for (uint16_t node = 1; rc == 0 && node < FLEET_NODES; node++) {
		rc = join(orbit_fleet_name(fleet), node, &beaters[node]);
		if (rc == 0)
			rc = orbit_heartbeat(beaters[node]);
	}
	if (rc == 0)
		rc = orbit_heartbeat_snapshot(fleet, BEAT_MAX_AGE, members, FLEET_NODES);
	if (rc < 0)
		return rc;
	for (unsigned node = 0; node < FLEET_NODES; node++)
		if (members[node].state != ORBIT_MEMBER_ALIVE)
			return -EPROTO;
	return 0;
}

static int open_subject(struct subject *s, const char *name)
{
	const char *what = "joining the fleet";
	int rc = join(name, 0, &s->fleet);

	if (rc == 0) {
		what = "filling the cache";
		rc = orbit_cache_open(s->fleet, ORBIT_KIND_CACHE, &s->cache);
	}
	if (rc == 0)
		rc = fill_cache(s->fleet, s->cache);
	if (rc == 0)
		rc = check_deep_key(s->cache);
	if (rc == 0) {
		what = "opening the event bus";
		rc = orbit_events_open(s->fleet, ORBIT_KIND_EVENTS, &s->events);
	}
	if (rc == 0) {
		s->cursor = orbit_events_head(s->events);
		what = "beating 64 nodes";
		rc = beat_all(s->fleet, s->beaters, s->members);
	}
	if (rc == 0) {
		what = "claiming a subject as another node";
		rc = join(name, HELD_NODE, &s->peer);
	}
	if (rc == 0)
		rc = orbit_contest_claim(s->peer, SUBJECT_KIND, HELD_LABEL, "bench", HELD_TTL_MS,
					 &s->held, NULL);
	if (rc < 0)
		fail(what, rc);
	return rc;
}

static void close_subject(struct subject *s)
{
	orbit_guard_release(s->held);
	orbit_fleet_leave(s->peer);
	for (unsigned node = 0; node < FLEET_NODES; node++)
		orbit_fleet_leave(s->beaters[node]);
	orbit_events_close(s->events);
	orbit_cache_close(s->cache);
	if (s->fleet)
		orbit_fleet_unlink(s->fleet);
	orbit_fleet_leave(s->fleet);
}

/* Redis: the same jobs as round trips to a private server (redis.h). */

struct redis_command {
	const char *label;
	const char *argv[3];
	unsigned argc;
	char reply_type;
	long long reply_len;
};

static const struct redis_command redis_commands[REDIS_COUNT] = {
	[REDIS_GET] = { "GET, hit", { "GET", KEY_PUT }, 2, '$', VALUE_BYTES },
	[REDIS_SET] = { "SET, 64 B value", { "SET", KEY_PUT, value64 }, 3, '+', -1 },
	[REDIS_PUBLISH] = { "PUBLISH, 64 B", { "PUBLISH", TOPIC, value64 }, 3, ':', -1 },
};

static int redis_round_trips(struct bench_redis *r, const struct bench_resp_request *req,
			     const struct settings *set, double *median)
{
	unsigned total = set->redis_warmup + set->redis_round_trips;
	double *samples = calloc(set->redis_round_trips, sizeof(*samples));
	int rc = samples ? 0 : -ENOMEM;

	for (unsigned i = 0; rc == 0 && i < total; i++) {
		uint64_t start = mono_ns();

		rc = bench_resp_call(&r->conn, req);
		if (i >= set->redis_warmup)
			samples[i - set->redis_warmup] = (double)(mono_ns() - start);
	}
	if (rc == 0)
		*median = bench_median(samples, set->redis_round_trips);
	free(samples);
	return rc;
}

/* SET runs first, so GET finds its key. */
static void measure_redis(struct bench_redis *r, const struct settings *set, double ns[REDIS_COUNT])
{
	static const enum redis_figure order[] = { REDIS_SET, REDIS_GET, REDIS_PUBLISH };

	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		const struct redis_command *cmd = &redis_commands[order[i]];
		struct bench_resp_request req = { .reply_type = cmd->reply_type,
						  .reply_len = cmd->reply_len };
		int rc = bench_resp_encode(&req, cmd->argc, cmd->argv, NULL);

		if (rc == 0)
			rc = redis_round_trips(r, &req, set, &ns[order[i]]);
		if (rc < 0)
			ns[order[i]] = fail(cmd->label, rc);
	}
}

/* Measures Redis when it is installed; false (and ns all NaN) when it was not measured. */
static bool run_redis(const struct settings *set, double ns[REDIS_COUNT])
{
	struct bench_redis r;
	int rc;

	for (int i = 0; i < REDIS_COUNT; i++)
		ns[i] = NAN;
	if (!bench_redis_find(&r)) {
		printf("redis: not installed, skipped\n");
		return false;
	}
	rc = bench_redis_start(&r);
	if (rc < 0) {
		printf("redis: %s did not start (%s), skipped\n", r.path,
		       rc == -ECHILD ? "it exited before answering PING" : strerror(-rc));
		failed = true;
		return false;
	}
	printf("redis    %s %s, private server on 127.0.0.1:%u\n", r.path, r.version, r.port);
	fflush(stdout);
	measure_redis(&r, set, ns);
	bench_redis_stop(&r);
	return true;
}

/* Output. */

/* v in width columns with one decimal, then its unit; "n/a" when it was not measured. */
static void print_value(double v, int width, const char *unit)
{
	if (isnan(v))
		printf("%*s", width + (int)strlen(unit), "n/a");
	else
		printf("%*.1f%s", width, v, unit);
}

static void print_table(const double ns[FIGURE_COUNT], const double redis[REDIS_COUNT])
{
	printf("\n%-34s%10s   %-18s%10s  %9s\n", "liborbit, one call", "ns", "redis, round trip",
	       "ns", "speed-up");
	for (int f = 0; f < FIGURE_COUNT; f++) {
		enum redis_figure m = figures[f].match;

		printf("  %-32s", figures[f].label);
		print_value(ns[f], 10, "");
		if (m == REDIS_NONE) {
			printf("   -\n");
			continue;
		}
		printf("   %-18s", redis_commands[m].label);
		print_value(redis[m], 10, "");
		printf("  ");
		print_value(redis[m] / ns[f], 8, "x");
		printf("\n");
	}
}

static const char *verdict(double measured, bool met)
{
	return isnan(measured) ? "n/a" : met ? "met" : "MISSED";
}

/* unit is three columns wide, so ns and speed-up figures line up. */
static void print_target(enum figure f, double measured, const char *unit, const char *limit,
			 const char *result)
{
	printf("  %-32s", figures[f].label);
	print_value(measured, 9, unit);
	printf("   %-28s%s\n", limit, result);
}

static void print_targets(const double ns[FIGURE_COUNT], const double redis[REDIS_COUNT],
			  bool redis_measured)
{
	char limit[64];

	printf("\n%-34s%12s   %-28s%s\n", "target", "measured", "limit", "result");
	for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
		enum figure f = targets[i].subject;

		if (targets[i].max_ns == 0)
			continue;
		snprintf(limit, sizeof(limit), "<= %.0f ns", targets[i].max_ns);
		print_target(f, ns[f], " ns", limit, verdict(ns[f], ns[f] <= targets[i].max_ns));
	}
	for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
		enum figure f = targets[i].subject;
		enum redis_figure m = figures[f].match;
		double speedup;

		if (targets[i].min_speedup == 0 || m == REDIS_NONE)
			continue;
		speedup = redis[m] / ns[f];
		snprintf(limit, sizeof(limit), ">= %.0fx faster than %s", targets[i].min_speedup,
			 redis_commands[m].argv[0]);
		print_target(f, speedup, "x  ", limit,
			     redis_measured ? verdict(speedup, speedup >= targets[i].min_speedup)
					    : "not checked: redis not measured");
	}
}

static void print_method(const struct settings *set, const char *fleet, int cpu)
{
	/* One request in flight wakes the other side every time: on one CPU that is a context
	 * switch, across CPUs an inter-processor wake-up, which costs Redis more (much more
	 * in a VM). Sharing the CPU gives Redis its best figure. */
	if (cpu >= 0)
		printf("pinning  benchmark and redis-server both on CPU %d (sched_setaffinity):\n"
		       "         Redis's fastest placement for one request in flight\n",
		       cpu);
	else
		printf("pinning  none: the CPU affinity could not be set\n");
	printf("timer    clock_gettime(CLOCK_MONOTONIC) costs %.1f ns\n", bench_timer_ns());
	printf("fleet    shm fleet %s, %d nodes, %d slots per ring, payload_max 256\n", fleet,
	       FLEET_NODES, RING_SLOTS);
	printf("         cache ring full (%d puts of 64 B), all %d nodes have beaten once\n",
	       RING_SLOTS, FLEET_NODES);
	printf("         node %d holds a contest subject through a handle of its own\n", HELD_NODE);
	printf("method   liborbit: one thread, ns per call, best of %u rounds of %zu calls\n"
	       "         (%zu for contest and heartbeat)\n",
	       set->rounds, set->ops, set->slow_ops);
	printf("         redis: median of %u round trips per command (after %u warm-up), one\n"
	       "         request in flight, RESP over a blocking TCP socket with TCP_NODELAY\n",
	       set->redis_round_trips, set->redis_warmup);
	printf("         speed-up = redis round trip / liborbit call\n");
}

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: substrates [--quick]\n"
		"Measures one call of each liborbit substrate (cache, events, contest, heartbeat,\n"
		"typed values) and, where redis-server is installed, the matching Redis round "
		"trips\n"
		"against a private server on 127.0.0.1; prints the ratios with their targets.\n\n"
		"  -q, --quick   a short run with fewer rounds and round trips\n"
		"  -h, --help    show this help\n\n"
		"Exit status: 0 when every figure was measured (targets may be missed; Redis may\n"
		"be absent), 1 on an error, 2 on bad usage.\n");
}

static int parse_options(int argc, char **argv, const struct settings **set)
{
	bool quick;
	int ret = bench_parse_quick(argc, argv, usage, &quick);

	*set = quick ? &quick_run : &full_run;
	return ret;
}

int main(int argc, char **argv)
{
	const struct settings *set;
	struct subject s = { 0 };
	double ns[FIGURE_COUNT], redis[REDIS_COUNT];
	char name[64], load[128];
	bool redis_measured;
	int cpus[2];

	if (parse_options(argc, argv, &set) < 0)
		return 2;
	snprintf(name, sizeof(name), "bench-substrates-%ld", (long)getpid());

	printf("liborbit %s substrate benchmark, %s run\n", orbit_version(), set->name);
	bench_print_machine(stdout);
	/* After the machine report, which counts the CPUs this process may use. */
	if (bench_pick_cpus(cpus) == 0 || bench_pin(cpus[0]) < 0)
		cpus[0] = -1;
	print_method(set, name, cpus[0]);
	fflush(stdout);
	if (open_subject(&s, name) == 0) {
		measure_orbit(&s, set, ns);
		redis_measured = run_redis(set, redis);
		print_table(ns, redis);
		print_targets(ns, redis, redis_measured);
		bench_format_load(load, sizeof(load));
		printf("\nload     %s (1, 5, 15 min, at end)\n", load);
	}
	close_subject(&s);
	return failed ? 1 : 0;
}
