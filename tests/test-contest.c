/* SPDX-License-Identifier: MIT */
/*
 * The contest: claim/holder/renew/release rules, every error, expiry, fencing tokens that
 * outlive the ring and the fleet's processes, holders that die or stop, a full table, hash
 * collisions, hostile table contents, the §6 frames the contest still writes, the issue's
 * split scenarios, and threads and processes hammering a few subjects.
 */
#include <orbit.h>

#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "contest-hammer.h"
#include "fixture.h"
#include "segment-layout.h"
#include "subject-layout.h"
#include "testutil.h"

#define KIND	       ORBIT_KIND_CONTEST
#define CLAIM	       1
#define RELEASE	       2
#define CLAIM_HEADER   21
#define RELEASE_HEADER 11
#define SUBJECT	       7      /* the subject kind most tests use */
#define LONG_TTL       600000 /* ten minutes: never expires during a test */
#define FLEET_SIZE     8
#define SUBJECTS_MAX   256 /* subjects a fleet's table can hold */

static orbit_fleet_t *fleets[FLEET_SIZE]; /* handles of the fixture's fleet, by node */

/*
 * A fixture added after the fleet fixture: Check tears fixtures down in reverse order, so
 * the handles are left before the fleet's segments are unlinked.
 */
static void fleets_setup(void)
{
	memset(fleets, 0, sizeof(fleets));
}

static void fleets_teardown(void)
{
	for (int i = 0; i < FLEET_SIZE; i++)
		orbit_fleet_leave(fleets[i]);
}

static orbit_fleet_t *join_opts(int backing, uint16_t node, uint32_t capacity, uint32_t payload_max)
{
	fleets[node] = fixture_join(backing, node, FLEET_SIZE, capacity, payload_max);
	return fleets[node];
}

static orbit_fleet_t *join(int backing, uint16_t node)
{
	return join_opts(backing, node, 0, 0);
}

static orbit_ring_t *ring_of(orbit_fleet_t *fleet)
{
	return fixture_ring(fleet, KIND);
}

static orbit_guard_t *claim_ok(orbit_fleet_t *fleet, const char *label, uint64_t ttl_ms)
{
	orbit_guard_t *guard = NULL;

	ck_assert_int_eq(orbit_contest_claim(fleet, SUBJECT, label, "test", ttl_ms, &guard, NULL),
			 0);
	ck_assert_ptr_nonnull(guard);
	return guard;
}

static void claim_busy(orbit_fleet_t *fleet, const char *label, uint16_t expected_holder)
{
	orbit_guard_t *guard = (orbit_guard_t *)&guard; /* must stay untouched */
	uint16_t holder = 0xbeef;

	ck_assert_int_eq(
		orbit_contest_claim(fleet, SUBJECT, label, NULL, LONG_TTL, &guard, &holder),
		-EBUSY);
	ck_assert_uint_eq(holder, expected_holder);
	ck_assert_ptr_eq(guard, (orbit_guard_t *)&guard);
}

static void assert_holder(orbit_fleet_t *fleet, const char *label, uint16_t expected)
{
	uint16_t holder = 0xbeef;

	ck_assert_int_eq(orbit_contest_holder(fleet, SUBJECT, label, &holder), 0);
	ck_assert_uint_eq(holder, expected);
}

static void assert_free(orbit_fleet_t *fleet, const char *label)
{
	uint16_t holder = 0xbeef;

	ck_assert_int_eq(orbit_contest_holder(fleet, SUBJECT, label, &holder), -ENOENT);
	ck_assert_uint_eq(holder, 0xbeef);
}

/* ---- the wire, by hand ---- */

static uint8_t *put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	return p + 2;
}

static uint8_t *put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
	return p + 8;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* Encodes a §6 claim payload into buf; returns its length. */
static size_t encode_claim(uint8_t *buf, uint8_t subject_kind, const char *label, size_t owner_len,
			   uint64_t claimed_at_ms, uint64_t expires_at_ms)
{
	uint8_t *p = buf;

	*p++ = subject_kind;
	p = put16(p, (uint16_t)strlen(label));
	p = put16(p, (uint16_t)owner_len);
	p = put64(p, claimed_at_ms);
	p = put64(p, expires_at_ms);
	memcpy(p, label, strlen(label));
	p += strlen(label);
	memset(p, 'o', owner_len);
	return (size_t)(p - buf) + owner_len;
}

static size_t encode_release(uint8_t *buf, orbit_id_t claim_id, uint8_t subject_kind,
			     const char *label)
{
	uint8_t *p = put64(buf, claim_id);

	*p++ = subject_kind;
	p = put16(p, (uint16_t)strlen(label));
	memcpy(p, label, strlen(label));
	return (size_t)(p - buf) + strlen(label);
}

static orbit_id_t write_frame(orbit_fleet_t *fleet, uint8_t frame_kind, uint64_t ver,
			      const void *payload, size_t len)
{
	orbit_id_t id = 0;

	ck_assert_int_eq(orbit_ring_write(ring_of(fleet), frame_kind, ver, payload, len, &id), 0);
	return id;
}

/* A peer's claim, as orbit-rs writes it: claimed now, for ttl_ms. */
static orbit_id_t raw_claim(orbit_fleet_t *fleet, const char *label, uint64_t ttl_ms)
{
	uint8_t buf[512];
	uint64_t now = unix_ms();

	return write_frame(fleet, CLAIM, now, buf,
			   encode_claim(buf, SUBJECT, label, 3, now, now + ttl_ms));
}

static void raw_release(orbit_fleet_t *fleet, orbit_id_t claim_id, const char *label)
{
	uint8_t buf[512];

	write_frame(fleet, RELEASE, unix_ms(), buf, encode_release(buf, claim_id, SUBJECT, label));
}

static void read_frame(orbit_fleet_t *fleet, uint64_t counter, orbit_frame_t *frame, uint8_t *buf,
		       size_t size)
{
	ck_assert_int_eq(orbit_ring_read_at(ring_of(fleet), counter, frame, buf, size), 0);
}

/* The counter of the newest frame on the contest ring. */
static uint64_t newest(orbit_fleet_t *fleet)
{
	uint64_t head = orbit_ring_head(ring_of(fleet));

	ck_assert_uint_gt(head, 0);
	return head - 1;
}

/* The frame at `counter` is a release by `node` naming the claim frame at `claim`. */
static void assert_release_of(orbit_fleet_t *fleet, uint64_t counter, uint16_t node, uint64_t claim,
			      const char *label)
{
	orbit_frame_t frame;
	uint8_t buf[512];

	read_frame(fleet, counter, &frame, buf, sizeof(buf));
	ck_assert_uint_eq(frame.kind, RELEASE);
	ck_assert_uint_eq(orbit_id_node(frame.id), node);
	ck_assert_uint_eq(frame.len, RELEASE_HEADER + strlen(label));
	ck_assert_uint_eq(get64(buf), orbit_id_make(KIND, node, claim));
	ck_assert_uint_eq(buf[8], SUBJECT);
	ck_assert_uint_eq(get16(buf + 9), strlen(label));
	ck_assert_mem_eq(buf + RELEASE_HEADER, label, strlen(label));
}

/* ---- agents: processes of the fleet that act on command, at precise points ---- */

/*
 * A child process joined as its own node, holding at most one guard, that does one thing
 * per command and answers; between commands it waits on the pipe, paused exactly there.
 */
struct agent {
	pid_t pid;
	int to, from;
};

struct agent_command {
	char op; /* c: claim, r: renew, x: release, h: holder, l: renew for ever, q: quit */
	char label[32];
	uint64_t ttl_ms;
};

struct agent_reply {
	int r;
	uint16_t node;
	uint64_t token;
};

static void full_io(int fd, void *buf, size_t len, bool out)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = out ? write(fd, p, len) : read(fd, p, len);

		if (n <= 0)
			_exit(3);
		p += n;
		len -= (size_t)n;
	}
}

static void agent_serve(int in, int out, uint16_t node, uint32_t capacity)
{
	orbit_fleet_options_t opts = fixture_options(capacity, 0);
	orbit_guard_t *guard = NULL;
	orbit_fleet_t *fleet;
	struct agent_command cmd;
	struct agent_reply reply;

	if (orbit_fleet_join_shm(fixture_fleet_name, node, FLEET_SIZE, &opts, &fleet))
		_exit(2);
	for (;;) {
		full_io(in, &cmd, sizeof(cmd), false);
		reply = (struct agent_reply){ 0 };
		switch (cmd.op) {
		case 'c':
			reply.r = orbit_contest_claim(fleet, SUBJECT, cmd.label, "agent",
						      cmd.ttl_ms, &guard, &reply.node);
			reply.token = reply.r == 0 ? orbit_guard_token(guard) : 0;
			break;
		case 'r':
			reply.r = orbit_guard_renew(guard, cmd.ttl_ms);
			break;
		case 'x':
			reply.r = orbit_guard_release(guard);
			guard = NULL;
			break;
		case 'h':
			reply.r = orbit_contest_holder(fleet, SUBJECT, cmd.label, &reply.node);
			break;
		case 'l':
			full_io(out, &reply, sizeof(reply), true);
			while (orbit_guard_renew(guard, cmd.ttl_ms) == 0)
				;
			_exit(4);
		default:
			_exit(0); /* holding what it holds: the guard dies with the process */
		}
		full_io(out, &reply, sizeof(reply), true);
	}
}

static void agent_start(struct agent *ag, uint16_t node, uint32_t capacity)
{
	int down[2], up[2];

	ck_assert_int_eq(pipe(down), 0);
	ck_assert_int_eq(pipe(up), 0);
	ag->pid = fork();
	ck_assert_int_ge(ag->pid, 0);
	if (ag->pid == 0) {
		close(down[1]);
		close(up[0]);
		agent_serve(down[0], up[1], node, capacity);
	}
	close(down[0]);
	close(up[1]);
	ag->to = down[1];
	ag->from = up[0];
}

static struct agent_reply agent_do(struct agent *ag, char op, const char *label, uint64_t ttl_ms)
{
	struct agent_command cmd = { .op = op, .ttl_ms = ttl_ms };
	struct agent_reply reply;

	snprintf(cmd.label, sizeof(cmd.label), "%s", label ? label : "");
	ck_assert_int_eq(write(ag->to, &cmd, sizeof(cmd)), sizeof(cmd));
	ck_assert_int_eq(read(ag->from, &reply, sizeof(reply)), sizeof(reply));
	return reply;
}

static uint64_t agent_claim_ok(struct agent *ag, const char *label, uint64_t ttl_ms)
{
	struct agent_reply reply = agent_do(ag, 'c', label, ttl_ms);

	ck_assert_int_eq(reply.r, 0);
	return reply.token;
}

/* Ends the agent: SIGKILL, or a quit command (exit holding whatever it holds). */
static void agent_end(struct agent *ag, bool kill_it)
{
	int status;

	if (kill_it) {
		ck_assert_int_eq(kill(ag->pid, SIGKILL), 0);
	} else {
		struct agent_command cmd = { .op = 'q' };

		ck_assert_int_eq(write(ag->to, &cmd, sizeof(cmd)), sizeof(cmd));
	}
	ck_assert_int_eq(waitpid(ag->pid, &status, 0), ag->pid);
	ck_assert(kill_it ? WIFSIGNALED(status) : WIFEXITED(status) && !WEXITSTATUS(status));
	close(ag->to);
	close(ag->from);
}

/* ---- rules ---- */

START_TEST(test_claim_holder_release)
{
	orbit_fleet_t *fleet = join(_i, 3);
	orbit_guard_t *guard;

	assert_free(fleet, "job");
	guard = claim_ok(fleet, "job", LONG_TTL);
	assert_holder(fleet, "job", 3);
	/* Tokens count the subject's holders, from 1. */
	ck_assert_uint_eq(orbit_guard_token(guard), 1);
	ck_assert_int_eq(orbit_contest_holder(fleet, SUBJECT, "job", NULL), 0);
	ck_assert_int_eq(orbit_guard_release(guard), 0);
	assert_free(fleet, "job");
	ck_assert_int_eq(orbit_contest_holder(fleet, SUBJECT, "job", NULL), -ENOENT);
	guard = claim_ok(fleet, "job", LONG_TTL);
	ck_assert_uint_eq(orbit_guard_token(guard), 2);
	ck_assert_int_eq(orbit_guard_release(guard), 0);
}
END_TEST

START_TEST(test_subjects_are_independent)
{
	orbit_fleet_t *fleet = join(_i, 1);
	orbit_guard_t *a = claim_ok(fleet, "alpha", LONG_TTL);
	orbit_guard_t *b = claim_ok(fleet, "beta", LONG_TTL);
	orbit_guard_t *other_kind = NULL;

	/* Same label, other subject kind: another subject. */
	ck_assert_int_eq(
		orbit_contest_claim(fleet, SUBJECT + 1, "alpha", NULL, LONG_TTL, &other_kind, NULL),
		0);
	ck_assert_uint_eq(orbit_guard_token(other_kind), 1);
	ck_assert_int_eq(orbit_guard_release(a), 0);
	assert_free(fleet, "alpha");
	assert_holder(fleet, "beta", 1);
	ck_assert_int_eq(orbit_contest_holder(fleet, SUBJECT + 1, "alpha", NULL), 0);
	ck_assert_int_eq(orbit_guard_release(b), 0);
	ck_assert_int_eq(orbit_guard_release(other_kind), 0);
	ck_assert_int_eq(orbit_contest_holder(fleet, SUBJECT + 1, "alpha", NULL), -ENOENT);
}
END_TEST

START_TEST(test_same_node_is_not_reentrant)
{
	orbit_fleet_t *fleet = join(_i, 2);
	orbit_guard_t *guard = claim_ok(fleet, "job", LONG_TTL);

	claim_busy(fleet, "job", 2);
	claim_busy(fleet, "job", 2);
	assert_holder(fleet, "job", 2);
	ck_assert_int_eq(orbit_guard_release(guard), 0);
	guard = claim_ok(fleet, "job", LONG_TTL);
	ck_assert_int_eq(orbit_guard_release(guard), 0);
}
END_TEST

START_TEST(test_busy_names_the_holder)
{
	orbit_fleet_t *a = join(FIXTURE_SHM, 1), *b = join(FIXTURE_SHM, 2),
		      *c = join(FIXTURE_SHM, 3);
	orbit_guard_t *guard = claim_ok(a, "job", LONG_TTL);

	claim_busy(b, "job", 1);
	claim_busy(c, "job", 1);
	claim_busy(b, "job", 1);
	assert_holder(a, "job", 1);
	assert_holder(b, "job", 1);
	assert_holder(c, "job", 1);
	ck_assert_int_eq(orbit_guard_release(guard), 0);
	assert_free(b, "job");
}
END_TEST

/* Exclusivity is between processes' handles, not node numbers: two may share one. */
START_TEST(test_one_node_two_handles)
{
	orbit_fleet_t *a = join(FIXTURE_SHM, 1), *twin = NULL;
	orbit_guard_t *guard = claim_ok(a, "job", LONG_TTL);

	ck_assert_int_eq(orbit_fleet_join_shm(fixture_fleet_name, 1, FLEET_SIZE, NULL, &twin), 0);
	claim_busy(twin, "job", 1);
	ck_assert_int_eq(orbit_guard_release(guard), 0);
	guard = claim_ok(twin, "job", LONG_TTL);
	claim_busy(a, "job", 1);
	ck_assert_int_eq(orbit_guard_release(guard), 0);
	orbit_fleet_leave(twin);
}
END_TEST

/* A claimant that finds the subject held writes nothing to the ring. */
START_TEST(test_busy_claim_writes_nothing)
{
	orbit_fleet_t *a = join(FIXTURE_SHM, 1), *b = join(FIXTURE_SHM, 2);
	orbit_guard_t *guard = claim_ok(a, "job", LONG_TTL);
	uint64_t head = orbit_ring_head(ring_of(a));

	for (int i = 0; i < 10; i++)
		claim_busy(b, "job", 1);
	ck_assert_uint_eq(orbit_ring_head(ring_of(a)), head);
	ck_assert_int_eq(orbit_guard_release(guard), 0);
}
END_TEST

START_TEST(test_tokens_grow_with_every_holder)
{
	static const uint16_t order[] = { 1, 2, 1, 3, 3, 2, 1 };
	uint64_t last = 0;

	for (uint16_t node = 1; node <= 3; node++)
		join(FIXTURE_SHM, node);
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		orbit_guard_t *guard = claim_ok(fleets[order[i]], "job", LONG_TTL);

		ck_assert_uint_gt(orbit_guard_token(guard), last);
		last = orbit_guard_token(guard);
		/* A busy claim in between does not change the holder's token. */
		claim_busy(fleets[order[i] % 3 + 1], "job", order[i]);
		ck_assert_uint_eq(orbit_guard_token(guard), last);
		ck_assert_int_eq(orbit_guard_release(guard), 0);
	}
}
END_TEST

/* Tokens live in the table: neither a ring reset nor every process leaving resets them. */
START_TEST(test_tokens_outlive_ring_and_processes)
{
	orbit_fleet_t *a = join(FIXTURE_SHM, 1), *b;
	orbit_guard_t *guard = NULL;
	struct agent agent;
	uint64_t last = 0;

	for (int i = 0; i < 3; i++) {
		guard = claim_ok(a, "job", LONG_TTL);
		ck_assert_uint_gt(orbit_guard_token(guard), last);
		last = orbit_guard_token(guard);
		ck_assert_int_eq(orbit_guard_release(guard), 0);
	}
	ck_assert_int_eq(orbit_ring_reset(ring_of(a)), 0);
	orbit_fleet_leave(a);
	fleets[1] = NULL;
	b = join(FIXTURE_SHM, 2);
	guard = claim_ok(b, "job", LONG_TTL);
	ck_assert_uint_eq(orbit_guard_token(guard), last + 1);
	ck_assert_int_eq(orbit_guard_release(guard), 0);
	orbit_fleet_leave(b);
	fleets[2] = NULL;
	agent_start(&agent, 3, 0);
	ck_assert_uint_eq(agent_claim_ok(&agent, "job", LONG_TTL), last + 2);
	agent_end(&agent, false);
}
END_TEST

START_TEST(test_renew_keeps_holder_and_token)
{
	orbit_fleet_t *a = join(FIXTURE_SHM, 1), *b = join(FIXTURE_SHM, 2);
	orbit_guard_t *guard = claim_ok(a, "job", LONG_TTL);
	uint64_t token = orbit_guard_token(guard);

	for (int i = 0; i < 5; i++) {
		ck_assert_int_eq(orbit_guard_renew(guard, LONG_TTL + (uint64_t)i), 0);
		ck_assert_uint_eq(orbit_guard_token(guard), token);
		assert_holder(b, "job", 1);
		claim_busy(b, "job", 1);
	}
	ck_assert_int_eq(orbit_guard_release(guard), 0);
	guard = claim_ok(b, "job", LONG_TTL);
	ck_assert_uint_gt(orbit_guard_token(guard), token);
	ck_assert_int_eq(orbit_guard_release(guard), 0);
}
END_TEST

START_TEST(test_renew_after_expiry_is_stale)
{
	orbit_fleet_t *a = join(FIXTURE_SHM, 1), *b = join(FIXTURE_SHM, 2);
	orbit_guard_t *guard = claim_ok(a, "job", 50);
	orbit_guard_t *next;

	sleep_ms(120);
	assert_free(b, "job");
	/* Nobody took it, but a lease past its expiry is over. */
	ck_assert_int_eq(orbit_guard_renew(guard, LONG_TTL), -ESTALE);
	ck_assert_int_eq(orbit_guard_renew(guard, LONG_TTL), -ESTALE);
	next = claim_ok(b, "job", LONG_TTL);
	ck_assert_uint_gt(orbit_guard_token(next), orbit_guard_token(guard));
	/* Releasing the stale guard does not end the new holder's lease. */
	ck_assert_int_eq(orbit_guard_release(guard), 0);
	assert_holder(a, "job", 2);
	ck_assert_int_eq(orbit_guard_release(next), 0);
}
END_TEST

START_TEST(test_renew_after_takeover_is_stale)
{
	orbit_fleet_t *a = join(FIXTURE_SHM, 1), *b = join(FIXTURE_SHM, 2);
	orbit_guard_t *guard = claim_ok(a, "job", 50);
	orbit_guard_t *next;

	sleep_ms(120);
	next = claim_ok(b, "job", LONG_TTL);
	ck_assert_int_eq(orbit_guard_renew(guard, LONG_TTL), -ESTALE);
	assert_holder(a, "job", 2);
	claim_busy(a, "job", 2);
	ck_assert_int_eq(orbit_guard_release(guard), 0);
	assert_holder(b, "job", 2);
	ck_assert_int_eq(orbit_guard_release(next), 0);
}
END_TEST

/* Other subjects' claims and releases lap the ring many times: nothing of ours is lost. */
START_TEST(test_ring_wraparound_keeps_the_holder)
{
	orbit_fleet_t *a = join_opts(FIXTURE_SHM, 1, 8, 0), *b = join_opts(FIXTURE_SHM, 2, 8, 0);
	orbit_guard_t *guard = claim_ok(a, "lease", LONG_TTL);
	uint64_t token = orbit_guard_token(guard);

	for (int i = 0; i < 40; i++) {
		char label[32];

		snprintf(label, sizeof(label), "other-%d", i % 5);
		ck_assert_int_eq(orbit_guard_release(claim_ok(b, label, LONG_TTL)), 0);
		ck_assert_int_eq(orbit_guard_release(claim_ok(a, label, LONG_TTL)), 0);
		claim_busy(b, "lease", 1);
		assert_holder(b, "lease", 1);
		if (i % 10 == 9)
			ck_assert_int_eq(orbit_guard_renew(guard, LONG_TTL), 0);
	}
	ck_assert_uint_gt(orbit_ring_head(ring_of(a)), 20 * 8);
	ck_assert_uint_eq(orbit_guard_token(guard), token);
	ck_assert_int_eq(orbit_guard_release(guard), 0);
	assert_free(b, "lease");
}
END_TEST

/* A writer that died mid-frame on the contest ring holds up no claim. */
START_TEST(test_dead_ring_writer_holds_up_nothing)
{
	orbit_fleet_t *a = join(FIXTURE_SHM, 1), *peer = join(FIXTURE_SHM, 5);
	orbit_guard_t *guard;
	struct seg_map map;

	ring_of(a);
	ck_assert_int_eq(seg_map_open(&map, fixture_fleet_name, KIND, 1024, 256), 0);
	seg_claim_and_abandon(&map);
	guard = claim_ok(a, "job", LONG_TTL);
	assert_holder(peer, "job", 1);
	seg_claim_and_abandon(&map);
	ck_assert_int_eq(orbit_guard_renew(guard, LONG_TTL), 0);
	ck_assert_int_eq(orbit_guard_release(guard), 0);
	seg_map_close(&map);
}
END_TEST

/* ---- the scenarios ---- */

/*
 * An observer reads the holder, then is paused while the holder releases, another node
 * claims, and the ring wraps just past the release but not past the new claim. Resumed,
 * it must find the subject held, answer so, and fail to claim it, however many laps the
 * new holder then renews through.
 */
START_TEST(test_observer_paused_for_a_lap)
{
	orbit_fleet_t *first = join_opts(FIXTURE_SHM, 1, 8, 0),
		      *second = join_opts(FIXTURE_SHM, 3, 8, 0),
		      *traffic = join_opts(FIXTURE_SHM, 4, 8, 0);
	orbit_guard_t *guard = claim_ok(first, "job", LONG_TTL);
	struct agent observer;
	struct agent_reply reply;
	uint64_t claim;

	agent_start(&observer, 2, 8);
	reply = agent_do(&observer, 'h', "job", 0);
	ck_assert_int_eq(reply.r, 0);
	ck_assert_uint_eq(reply.node, 1);
	/* The observer waits on its pipe from here: paused. */
	ck_assert_int_eq(orbit_guard_release(guard), 0);
	guard = claim_ok(second, "job", LONG_TTL);
	claim = newest(second);
	for (int j = 0; j < 3; j++)
		ck_assert_int_eq(orbit_guard_release(claim_ok(traffic, "other", LONG_TTL)), 0);
	ck_assert_int_eq(orbit_guard_renew(guard, LONG_TTL), 0);
	/* The release is overwritten, the new holder's claim is the oldest frame left. */
	ck_assert_uint_eq(orbit_ring_head(ring_of(second)), claim + 8);
	reply = agent_do(&observer, 'h', "job", 0);
	ck_assert_int_eq(reply.r, 0);
	ck_assert_uint_eq(reply.node, 3);
	/* Fewer than a lap of frames between two of the new holder's, 42 in all. */
	for (int i = 0; i < 6; i++) {
		for (int j = 0; j < 3; j++)
			ck_assert_int_eq(orbit_guard_release(claim_ok(traffic, "other", LONG_TTL)),
					 0);
		ck_assert_int_eq(orbit_guard_renew(guard, LONG_TTL), 0);
	}
	reply = agent_do(&observer, 'c', "job", LONG_TTL);
	ck_assert_int_eq(reply.r, -EBUSY);
	ck_assert_uint_eq(reply.node, 3);
	reply = agent_do(&observer, 'h', "job", 0);
	ck_assert_int_eq(reply.r, 0);
	ck_assert_uint_eq(reply.node, 3);
	ck_assert_int_eq(orbit_guard_renew(guard, LONG_TTL), 0);
	agent_end(&observer, false);
	ck_assert_int_eq(orbit_guard_release(guard), 0);
}
END_TEST

/* What a watcher saw: holder queries, and answers that would mean a split. */
struct watch {
	_Atomic uint64_t queries;
	_Atomic uint64_t nobody;  /* "nobody holds it" */
	_Atomic uint64_t claimed; /* a claim that succeeded */
};

/* Queries the holder, and now and then claims, for ever. */
static void watch_forever(struct watch *w, int ready)
{
	orbit_fleet_options_t opts = fixture_options(8, 0);
	orbit_fleet_t *fleet;
	char byte = 1;

	if (orbit_fleet_join_shm(fixture_fleet_name, 2, FLEET_SIZE, &opts, &fleet) ||
	    write(ready, &byte, 1) != 1)
		_exit(2);
	for (uint64_t i = 0;; i++) {
		orbit_guard_t *guard;

		if (orbit_contest_holder(fleet, SUBJECT, "job", NULL) == -ENOENT)
			atomic_fetch_add(&w->nobody, 1);
		if (i % 4 == 3 &&
		    orbit_contest_claim(fleet, SUBJECT, "job", NULL, LONG_TTL, &guard, NULL) == 0)
			atomic_fetch_add(&w->claimed, 1);
		atomic_fetch_add(&w->queries, 1);
	}
}

/* Waits until the watcher has made n more queries: it reads between our writes. */
static void watched(struct watch *w, uint64_t n)
{
	uint64_t target = atomic_load(&w->queries) + n, deadline = mono_ms() + 60000;

	while (atomic_load(&w->queries) < target) {
		ck_assert_uint_lt(mono_ms(), deadline);
		sched_yield();
	}
}

/* Claim and release frames of another subject, then a renewal: 7 frames, under a lap. */
static void lap_less_one(orbit_fleet_t *traffic, orbit_guard_t *guard)
{
	for (int j = 0; j < 3; j++)
		ck_assert_int_eq(orbit_guard_release(claim_ok(traffic, "other", LONG_TTL)), 0);
	ck_assert_int_eq(orbit_guard_renew(guard, LONG_TTL), 0);
}

/*
 * The same, with the observer stopped by SIGSTOP wherever it happens to be, inside a
 * call or not, while the subject changes hands and the ring wraps past the release. The
 * subject is held whenever the observer runs: it must never be told otherwise, nor win it.
 */
START_TEST(test_observer_stopped_anywhere)
{
	orbit_fleet_t *holders[2] = { join_opts(FIXTURE_SHM, 1, 8, 0),
				      join_opts(FIXTURE_SHM, 3, 8, 0) };
	orbit_fleet_t *traffic = join_opts(FIXTURE_SHM, 4, 8, 0);
	orbit_guard_t *guard = claim_ok(holders[0], "job", LONG_TTL);
	struct watch *w =
		mmap(NULL, sizeof(*w), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int ready[2], status;
	pid_t pid;
	char byte;

	ck_assert_ptr_ne(w, MAP_FAILED);
	memset(w, 0, sizeof(*w));
	ck_assert_int_eq(pipe(ready), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		watch_forever(w, ready[1]);
	ck_assert_int_eq(read(ready[0], &byte, 1), 1);
	for (int round = 0; round < 20; round++) {
		for (int i = 0; i < 6; i++) {
			watched(w, 2);
			lap_less_one(traffic, guard);
		}
		ck_assert_int_eq(kill(pid, SIGSTOP), 0);
		ck_assert_int_eq(waitpid(pid, &status, WUNTRACED), pid);
		ck_assert_int_eq(orbit_guard_release(guard), 0);
		guard = claim_ok(holders[(round + 1) % 2], "job", LONG_TTL);
		lap_less_one(traffic, guard);
		ck_assert_int_eq(kill(pid, SIGCONT), 0);
	}
	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	fprintf(stderr, "observer stopped anywhere: %llu queries\n",
		(unsigned long long)atomic_load(&w->queries));
	ck_assert_uint_gt(atomic_load(&w->queries), 0);
	ck_assert_uint_eq(atomic_load(&w->nobody), 0);
	ck_assert_uint_eq(atomic_load(&w->claimed), 0);
	ck_assert_int_eq(orbit_guard_release(guard), 0);
	close(ready[0]);
	close(ready[1]);
	munmap(w, sizeof(*w));
}
END_TEST

/*
 * A holder renews in time, but more than a lap of other frames reaches the ring between
 * two of its frames: a holder query must name it every time, and no claim may succeed.
 */
START_TEST(test_holder_answers_while_renewed_in_time)
{
	orbit_fleet_t *holder = join_opts(FIXTURE_SHM, 1, 8, 0),
		      *observer = join_opts(FIXTURE_SHM, 2, 8, 0),
		      *traffic = join_opts(FIXTURE_SHM, 3, 8, 0);
	orbit_guard_t *guard = claim_ok(holder, "job", 60000);

	for (int i = 0; i < 10; i++) {
		for (int j = 0; j < 12; j++) {
			char label[16];

			snprintf(label, sizeof(label), "other-%d", j);
			ck_assert_int_eq(orbit_guard_release(claim_ok(traffic, label, LONG_TTL)),
					 0);
			assert_holder(observer, "job", 1);
		}
		claim_busy(observer, "job", 1);
		ck_assert_int_eq(orbit_guard_renew(guard, 60000), 0);
	}
	ck_assert_int_eq(orbit_guard_release(guard), 0);
}
END_TEST

/*
 * A holder paused past its TTL, a second holder taking over: resumed, the first learns
 * -ESTALE at its next renewal, and its release does not end the second's lease.
 */
START_TEST(test_two_holders_after_a_stall)
{
	orbit_fleet_t *second = join(FIXTURE_SHM, 2);
	struct agent first;
	struct agent_reply reply;
	orbit_guard_t *guard;
	uint64_t token;

	agent_start(&first, 1, 0);
	token = agent_claim_ok(&first, "job", 200);
	ck_assert_int_eq(agent_do(&first, 'r', NULL, 200).r, 0);
	claim_busy(second, "job", 1);
	sleep_ms(260); /* time passes; the first is paused on its pipe */
	guard = claim_ok(second, "job", LONG_TTL);
	ck_assert_uint_gt(orbit_guard_token(guard), token);
	reply = agent_do(&first, 'r', NULL, 200);
	ck_assert_int_eq(reply.r, -ESTALE);
	ck_assert_int_eq(agent_do(&first, 'r', NULL, 200).r, -ESTALE);
	ck_assert_int_eq(orbit_guard_renew(guard, LONG_TTL), 0);
	ck_assert_int_eq(agent_do(&first, 'x', NULL, 0).r, 0);
	assert_holder(second, "job", 2);
	ck_assert_int_eq(agent_do(&first, 'h', "job", 0).node, 2);
	agent_end(&first, false);
	ck_assert_int_eq(orbit_guard_release(guard), 0);
}
END_TEST

/* ---- holders that die or stop ---- */

/* A holder killed while holding frees the subject at once, renewing or not. */
START_TEST(test_killed_holder_frees_at_once)
{
	orbit_fleet_t *self = join(FIXTURE_SHM, 1);

	for (int round = 0; round < 3; round++) {
		struct agent holder;
		orbit_guard_t *guard;
		uint64_t token;

		agent_start(&holder, 4, 0);
		token = agent_claim_ok(&holder, "job", LONG_TTL);
		claim_busy(self, "job", 4);
		if (round > 0) /* killed in the middle of its renewals */
			ck_assert_int_eq(agent_do(&holder, 'l', NULL, LONG_TTL).r, 0);
		if (round > 1)
			sleep_ms(5);
		agent_end(&holder, true);
		assert_free(self, "job");
		guard = claim_ok(self, "job", LONG_TTL);
		ck_assert_uint_gt(orbit_guard_token(guard), token);
		ck_assert_int_eq(orbit_guard_release(guard), 0);
	}
}
END_TEST

/* A holder that exits without releasing frees the subject as it goes. */
START_TEST(test_exited_holder_frees_at_once)
{
	orbit_fleet_t *self = join(FIXTURE_SHM, 1);
	struct agent holder;
	orbit_guard_t *guard;

	agent_start(&holder, 4, 0);
	agent_claim_ok(&holder, "job", LONG_TTL);
	agent_end(&holder, false);
	guard = claim_ok(self, "job", LONG_TTL);
	ck_assert_int_eq(orbit_guard_release(guard), 0);
}
END_TEST

/* The holder field of the lease a guard of agent holds on label, read from the table. */
static uint16_t raw_holder(const char *label)
{
	struct subj_map map;
	int slot;
	uint16_t holder;

	ck_assert_int_eq(subj_map_open(&map, fixture_fleet_name), 0);
	slot = subj_find(&map, SUBJECT, label);
	ck_assert_int_ge(slot, 0);
	holder = (uint16_t)subj_load(subj_slot(&map, (uint32_t)slot), SUBJ_OWNER);
	subj_map_close(&map);
	return holder;
}

/*
 * A restarted process usually takes the lease record of the one that died: the dead
 * holder's lease must not pass for the newcomer's.
 */
START_TEST(test_dead_holders_record_taken_again)
{
	orbit_fleet_t *self = join(FIXTURE_SHM, 1);
	struct agent dead, restarted;
	struct agent_reply reply;
	orbit_guard_t *guard;
	uint16_t held;

	ring_of(self);
	agent_start(&dead, 4, 0);
	agent_claim_ok(&dead, "job", LONG_TTL);
	held = raw_holder("job");
	agent_end(&dead, true);
	agent_start(&restarted, 4, 0);
	agent_claim_ok(&restarted, "probe", LONG_TTL);
	/* Same record: the test exercises what it means to. */
	ck_assert_uint_eq(raw_holder("probe") & SUBJ_RECORD_MASK, held & SUBJ_RECORD_MASK);
	ck_assert_uint_ne(raw_holder("probe"), held);
	reply = agent_do(&restarted, 'h', "job", 0);
	ck_assert_int_eq(reply.r, -ENOENT);
	guard = claim_ok(self, "job", LONG_TTL);
	ck_assert_int_eq(orbit_guard_release(guard), 0);
	agent_end(&restarted, false);
}
END_TEST

/* What a holder that renews until refused saw, in memory its parent reads. */
struct renew_log {
	uint64_t claimed_before; /* mono_ms() before its claim */
	uint64_t token;
	int count;
	struct {
		uint64_t before, after;
		int r;
	} renewals[20000];
};

#define STOP_TTL 200

static void renew_until_refused(struct renew_log *log, int ready)
{
	orbit_fleet_t *fleet;
	orbit_guard_t *guard;
	char byte = 1;

	if (orbit_fleet_join_shm(fixture_fleet_name, 4, FLEET_SIZE, NULL, &fleet))
		_exit(2);
	log->claimed_before = mono_ms();
	if (orbit_contest_claim(fleet, SUBJECT, "job", NULL, STOP_TTL, &guard, NULL))
		_exit(3);
	log->token = orbit_guard_token(guard);
	if (write(ready, &byte, 1) != 1)
		_exit(4);
	for (size_t i = 0; i < ARRAY_SIZE(log->renewals); i++) {
		log->renewals[i].before = mono_ms();
		log->renewals[i].r = orbit_guard_renew(guard, STOP_TTL);
		log->renewals[i].after = mono_ms();
		log->count = i + 1;
		if (log->renewals[i].r < 0)
			break;
		usleep(1000);
	}
	orbit_guard_release(guard);
	orbit_fleet_leave(fleet);
	_exit(0);
}

/*
 * A holder renewing every millisecond is stopped at some point of its loop, past its
 * TTL, while another takes the subject. Resumed, it must learn -ESTALE at once, and none
 * of its renewals may have let it believe in a lease after the other's began.
 */
START_TEST(test_stopped_holder_learns_stale)
{
	orbit_fleet_t *self = join(FIXTURE_SHM, 1);
	struct renew_log *log =
		mmap(NULL, sizeof(*log), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	ck_assert_ptr_ne(log, MAP_FAILED);
	for (unsigned round = 0; round < 4; round++) {
		orbit_guard_t *guard;
		uint64_t taken;
		int ready[2], status, last;
		pid_t pid;
		char byte;

		memset(log, 0, sizeof(*log));
		ck_assert_int_eq(pipe(ready), 0);
		pid = fork();
		ck_assert_int_ge(pid, 0);
		if (pid == 0)
			renew_until_refused(log, ready[1]);
		ck_assert_int_eq(read(ready[0], &byte, 1), 1);
		sleep_ms(3 + 7 * round);
		ck_assert_int_eq(kill(pid, SIGSTOP), 0);
		ck_assert_int_eq(waitpid(pid, &status, WUNTRACED), pid);
		ck_assert(WIFSTOPPED(status));
		sleep_ms(STOP_TTL + 50);
		guard = claim_ok(self, "job", LONG_TTL);
		taken = mono_ms();
		ck_assert_uint_gt(orbit_guard_token(guard), log->token);
		ck_assert_int_eq(kill(pid, SIGCONT), 0);
		test_reap(pid);
		close(ready[0]);
		close(ready[1]);

		last = log->count - 1;
		ck_assert_int_ge(last, 0);
		ck_assert_int_eq(log->renewals[last].r, -ESTALE);
		ck_assert_uint_gt(log->renewals[last].after, taken - 1);
		ck_assert_uint_le(log->claimed_before + STOP_TTL, taken);
		for (int i = 0; i < last; i++) {
			ck_assert_int_eq(log->renewals[i].r, 0);
			ck_assert_uint_le(log->renewals[i].before + STOP_TTL, taken);
		}
		assert_holder(self, "job", 1);
		ck_assert_int_eq(orbit_guard_release(guard), 0);
	}
	munmap(log, sizeof(*log));
}
END_TEST

/* ---- the table ---- */

START_TEST(test_full_table)
{
	orbit_fleet_t *fleet = join(_i, 1), *other = _i == FIXTURE_SHM ? join(_i, 2) : fleet;
	orbit_guard_t *guards[SUBJECTS_MAX], *guard = NULL;
	char label[32];

	for (int i = 0; i < SUBJECTS_MAX; i++) {
		snprintf(label, sizeof(label), "subject-%d", i);
		guards[i] = claim_ok(fleet, label, LONG_TTL);
	}
	ck_assert_int_eq(
		orbit_contest_claim(fleet, SUBJECT, "one-too-many", NULL, LONG_TTL, &guard, NULL),
		-ENOSPC);
	ck_assert_ptr_null(guard);
	assert_free(fleet, "one-too-many");
	for (int i = 0; i < SUBJECTS_MAX; i++) {
		snprintf(label, sizeof(label), "subject-%d", i);
		claim_busy(other, label, 1);
		ck_assert_int_eq(orbit_guard_release(guards[i]), 0);
	}
	/* Subjects stay in the table once claimed: known ones go on working. */
	guard = claim_ok(other, "subject-7", LONG_TTL);
	ck_assert_uint_eq(orbit_guard_token(guard), 2);
	ck_assert_int_eq(orbit_guard_release(guard), 0);
	ck_assert_int_eq(
		orbit_contest_claim(other, SUBJECT, "one-too-many", NULL, LONG_TTL, &guard, NULL),
		-ENOSPC);
}
END_TEST

#define COLLIDING 6

/* Labels whose probes start at one slot: each subject is still its own. */
START_TEST(test_hash_collisions)
{
	orbit_fleet_t *a = join(FIXTURE_SHM, 1), *b = join(FIXTURE_SHM, 2);
	orbit_guard_t *guards[COLLIDING];
	char labels[COLLIDING][16];
	struct subj_map map;
	uint32_t home = subj_home(SUBJECT, "c0");
	int found = 0;

	for (unsigned n = 0; found < COLLIDING; n++) {
		snprintf(labels[found], sizeof(labels[found]), "c%u", n);
		if (subj_home(SUBJECT, labels[found]) == home)
			found++;
	}
	for (int i = 0; i < COLLIDING; i++) {
		guards[i] = claim_ok(i % 2 ? b : a, labels[i], LONG_TTL);
		ck_assert_uint_eq(orbit_guard_token(guards[i]), 1);
	}
	ck_assert_int_eq(subj_map_open(&map, fixture_fleet_name), 0);
	for (int i = 0; i < COLLIDING; i++)
		ck_assert_int_eq(subj_find(&map, SUBJECT, labels[i]),
				 (int)((home + i) % SUBJ_SLOTS));
	subj_map_close(&map);
	for (int i = 0; i < COLLIDING; i++)
		assert_holder(a, labels[i], i % 2 ? 2 : 1);
	ck_assert_int_eq(orbit_guard_release(guards[2]), 0);
	assert_free(b, labels[2]);
	for (int i = 0; i < COLLIDING; i++)
		if (i != 2)
			claim_busy(i % 2 ? a : b, labels[i], i % 2 ? 2 : 1);
	guards[2] = claim_ok(b, labels[2], LONG_TTL);
	ck_assert_uint_eq(orbit_guard_token(guards[2]), 2);
	for (int i = 0; i < COLLIDING; i++)
		ck_assert_int_eq(orbit_guard_release(guards[i]), 0);
}
END_TEST

/* ---- hostile table contents ---- */

static void raw_open(struct subj_map *map, orbit_fleet_t *fleet)
{
	orbit_guard_t *guard = claim_ok(fleet, "made", LONG_TTL); /* makes the segment */

	ck_assert_int_eq(orbit_guard_release(guard), 0);
	ck_assert_int_eq(subj_map_open(map, fixture_fleet_name), 0);
}

static uint8_t *raw_slot_of(struct subj_map *map, const char *label)
{
	int slot = subj_find(map, SUBJECT, label);

	ck_assert_int_ge(slot, 0);
	return subj_slot(map, (uint32_t)slot);
}

/* Owner and term words naming holders that cannot be: the lease is nobody's. */
START_TEST(test_hostile_owner_and_term)
{
	orbit_fleet_t *a = join(FIXTURE_SHM, 1), *b = join(FIXTURE_SHM, 2);
	orbit_guard_t *guard = NULL;
	struct subj_map map;
	uint8_t *slot;
	uint64_t far = (mono_ms() + LONG_TTL) << 22;

	raw_open(&map, a);
	guard = claim_ok(a, "job", LONG_TTL);
	slot = raw_slot_of(&map, "job");
	/* A record index past the table's, a term that names the token far ahead. */
	subj_store(slot, SUBJ_OWNER, UINT64_C(9) << 16 | 1000);
	subj_store(slot, SUBJ_TERM, far | 9);
	assert_free(b, "job");
	ck_assert_int_eq(orbit_guard_renew(guard, LONG_TTL), -ESTALE);
	ck_assert_int_eq(orbit_guard_release(guard), 0);
	guard = claim_ok(b, "job", LONG_TTL);
	ck_assert_uint_eq(orbit_guard_token(guard), 10);
	/* A record no process holds (the last one), with any generation. */
	subj_store(slot, SUBJ_OWNER, UINT64_C(20) << 16 | 0xfc00 | 512);
	subj_store(slot, SUBJ_TERM, far | 20);
	assert_free(a, "job");
	ck_assert_int_eq(orbit_guard_release(guard), 0);
	/* Our own live holder field, but a term naming another token: fenced. */
	guard = claim_ok(a, "job", LONG_TTL);
	subj_store(slot, SUBJ_TERM, far | 5);
	assert_free(b, "job");
	ck_assert_int_eq(orbit_guard_release(guard), 0);
	guard = claim_ok(b, "job", LONG_TTL);
	ck_assert_int_eq(orbit_guard_release(guard), 0);
	/* Tokens spent. */
	subj_store(slot, SUBJ_OWNER, SUBJ_TOKEN_MAX << 16);
	ck_assert_int_eq(orbit_contest_claim(a, SUBJECT, "job", NULL, 10, &guard, NULL),
			 -EOVERFLOW);
	assert_free(a, "job");
	subj_map_close(&map);
}
END_TEST

/* Slots whose key or subject bytes are not what a process wrote are not the subject's. */
START_TEST(test_hostile_keys)
{
	orbit_fleet_t *a = join(FIXTURE_SHM, 1), *b = join(FIXTURE_SHM, 2);
	uint32_t home = subj_home(SUBJECT, "job");
	orbit_guard_t *guard;
	struct subj_map map;
	uint8_t *slot;
	uint64_t start;

	raw_open(&map, a);
	ck_assert_uint_ne(subj_home(SUBJECT, "made"), home);
	/* At the subject's home: its tag, a length no label has, bytes that look like it. */
	slot = subj_slot(&map, home);
	subj_plant(&map, home, SUBJECT, "job");
	subj_store(slot, SUBJ_SHAPE, SUBJECT | UINT64_C(300) << 8);
	/* Next: its tag and length, another label. */
	subj_plant(&map, (home + 1) % SUBJ_SLOTS, SUBJECT, "jbo");
	subj_store(subj_slot(&map, (home + 1) % SUBJ_SLOTS), SUBJ_KEY,
		   subj_key(SUBJ_READY, 0, subj_tag(SUBJECT, "job")));
	/* Next: an install of its tag by a record past the table's: dead, so retired. */
	subj_store(subj_slot(&map, (home + 2) % SUBJ_SLOTS), SUBJ_KEY,
		   subj_key(SUBJ_WRITING, 1000, subj_tag(SUBJECT, "job")));
	/* Next: junk in the empty state. */
	subj_store(subj_slot(&map, (home + 3) % SUBJ_SLOTS), SUBJ_KEY, 12345);
	assert_free(b, "job");
	start = mono_ms();
	guard = claim_ok(a, "job", LONG_TTL);
	ck_assert_uint_lt(mono_ms() - start, 190); /* not the stall bound */
	ck_assert_int_eq(subj_find(&map, SUBJECT, "job"), (int)(home + 4) % SUBJ_SLOTS);
	ck_assert_uint_eq(subj_load(subj_slot(&map, (home + 2) % SUBJ_SLOTS), SUBJ_KEY) >> 62,
			  SUBJ_RETIRED);
	assert_holder(b, "job", 1);
	ck_assert_int_eq(orbit_guard_release(guard), 0);
	subj_map_close(&map);
}
END_TEST

/* An install of a subject's tag by a live process that never finishes holds it up for
 * the stall bound, then is retired. */
START_TEST(test_stalled_install_is_retired)
{
	orbit_fleet_t *a = join(FIXTURE_SHM, 1), *b = join(FIXTURE_SHM, 2);
	uint32_t home = subj_home(SUBJECT, "job");
	orbit_guard_t *guard;
	struct subj_map map;
	uint64_t start, took;

	raw_open(&map, a);
	guard = claim_ok(a, "live", LONG_TTL);
	/* The holder field of a's live record stands for an installer stopped mid-way. */
	subj_store(subj_slot(&map, home), SUBJ_KEY,
		   subj_key(SUBJ_WRITING, raw_holder("live"), subj_tag(SUBJECT, "job")));
	assert_free(b, "job"); /* a query never waits */
	start = mono_ms();
	ck_assert_int_eq(orbit_guard_release(claim_ok(b, "job", LONG_TTL)), 0);
	took = mono_ms() - start;
	ck_assert_uint_ge(took, 190);
	ck_assert_uint_lt(took, 5000);
	ck_assert_uint_eq(subj_load(subj_slot(&map, home), SUBJ_KEY) >> 62, SUBJ_RETIRED);
	ck_assert_int_eq(subj_find(&map, SUBJECT, "job"), (int)(home + 1) % SUBJ_SLOTS);
	ck_assert_int_eq(orbit_guard_release(guard), 0);
	subj_map_close(&map);
}
END_TEST

static bool documented(int r)
{
	return r == 0 || r == -EBUSY || r == -ENOENT || r == -ENOSPC || r == -EOVERFLOW ||
	       r == -EAGAIN || r == -ESTALE;
}

/* Random bytes anywhere in the slots: every call answers something documented. */
START_TEST(test_random_slot_contents)
{
	orbit_fleet_t *a = join(FIXTURE_SHM, 1), *b = join(FIXTURE_SHM, 2);
	orbit_guard_t *held[8] = { NULL };
	struct subj_map map;

	raw_open(&map, a);
	srand(4242);
	for (int round = 0; round < 300; round++) {
		int words = 1 + rand() % 16;
		char label[16];
		uint16_t node;
		int r, i = rand() % 8;

		for (int w = 0; w < words; w++) {
			uint8_t *slot = subj_slot(&map, (uint32_t)rand() % SUBJ_SLOTS);
			uint64_t v =
				(uint64_t)rand() << 62 ^ (uint64_t)rand() << 31 ^ (uint64_t)rand();

			subj_store(slot, (size_t)(rand() % (SUBJ_SLOT_SIZE / 8)) * 8,
				   rand() % 4 ? v : 0);
		}
		snprintf(label, sizeof(label), "r%d", i);
		if (held[i]) {
			ck_assert(documented(orbit_guard_renew(held[i], LONG_TTL)));
			ck_assert(documented(orbit_guard_release(held[i])));
			held[i] = NULL;
		}
		r = orbit_contest_claim(round % 2 ? a : b, SUBJECT, label, NULL, LONG_TTL, &held[i],
					&node);
		ck_assert_msg(documented(r), "claim: %d", r);
		if (r < 0)
			held[i] = NULL;
		ck_assert(documented(orbit_contest_holder(a, SUBJECT, label, &node)));
	}
	for (int i = 0; i < 8; i++)
		orbit_guard_release(held[i]);
	subj_map_close(&map);
}
END_TEST

/* A subjects segment that is not one is refused, not used. */
START_TEST(test_foreign_subjects_segment)
{
	orbit_fleet_t *a = join(FIXTURE_SHM, 1);
	orbit_guard_t *guard = NULL;
	char path[512];
	FILE *f;

	subj_path(path, sizeof(path), fixture_fleet_name);
	f = fopen(path, "wx");
	ck_assert_ptr_nonnull(f);
	for (int i = 0; i < 16; i++)
		ck_assert_int_ge(fputs("not subjects", f), 0);
	ck_assert_int_eq(fchmod(fileno(f), 0600), 0);
	fclose(f);
	ck_assert_int_eq(orbit_contest_claim(a, SUBJECT, "job", NULL, 10, &guard, NULL), -EPROTO);
	ck_assert_int_eq(orbit_contest_holder(a, SUBJECT, "job", NULL), -EPROTO);
	ck_assert_ptr_null(guard);
	unlink(path);
}
END_TEST
/* ---- errors ---- */

START_TEST(test_invalid_arguments)
{
	orbit_fleet_t *fleet = join(_i, 1);
	orbit_guard_t *guard = NULL;
	char long_label[300];
	uint16_t holder = 0;

	memset(long_label, 'x', sizeof(long_label) - 1);
	long_label[sizeof(long_label) - 1] = '\0';
	ck_assert_int_eq(orbit_contest_claim(NULL, SUBJECT, "job", NULL, 10, &guard, NULL),
			 -EINVAL);
	ck_assert_int_eq(orbit_contest_claim(fleet, SUBJECT, NULL, NULL, 10, &guard, NULL),
			 -EINVAL);
	ck_assert_int_eq(orbit_contest_claim(fleet, SUBJECT, "", NULL, 10, &guard, NULL), -EINVAL);
	ck_assert_int_eq(orbit_contest_claim(fleet, SUBJECT, long_label, NULL, 10, &guard, NULL),
			 -EINVAL);
	ck_assert_int_eq(orbit_contest_claim(fleet, SUBJECT, "job", long_label, 10, &guard, NULL),
			 -EINVAL);
	ck_assert_int_eq(orbit_contest_claim(fleet, SUBJECT, "job", NULL, 0, &guard, NULL),
			 -EINVAL);
	ck_assert_int_eq(orbit_contest_claim(fleet, SUBJECT, "job", NULL, 10, NULL, &holder),
			 -EINVAL);
	ck_assert_ptr_null(guard);
	ck_assert_int_eq(orbit_contest_holder(NULL, SUBJECT, "job", &holder), -EINVAL);
	ck_assert_int_eq(orbit_contest_holder(fleet, SUBJECT, NULL, &holder), -EINVAL);
	ck_assert_int_eq(orbit_contest_holder(fleet, SUBJECT, "", &holder), -EINVAL);
	ck_assert_int_eq(orbit_contest_holder(fleet, SUBJECT, long_label, &holder), -EINVAL);
	ck_assert_int_eq(orbit_guard_renew(NULL, 10), -EINVAL);
	ck_assert_uint_eq(orbit_guard_token(NULL), 0);
	ck_assert_int_eq(orbit_guard_release(NULL), 0);

	guard = claim_ok(fleet, "job", LONG_TTL);
	ck_assert_int_eq(orbit_guard_renew(guard, 0), -EINVAL);
	assert_holder(fleet, "job", 1);
	ck_assert_int_eq(orbit_guard_release(guard), 0);
	/* Nothing the failed calls did left a claim behind. */
	assert_free(fleet, "job");
}
END_TEST

START_TEST(test_size_limits)
{
	orbit_fleet_t *fleet = join(_i, 1);
	orbit_guard_t *guard = NULL;
	char label[256], owner[256];

	/* Default ring: 256-byte payloads, so subject + owner <= 235 bytes. */
	memset(label, 'l', sizeof(label));
	memset(owner, 'o', sizeof(owner));
	label[235] = '\0';
	owner[0] = '\0';
	ck_assert_int_eq(orbit_contest_claim(fleet, SUBJECT, label, owner, LONG_TTL, &guard, NULL),
			 0);
	assert_holder(fleet, label, 1);
	ck_assert_int_eq(orbit_guard_release(guard), 0);
	label[235] = 'l';
	label[236] = '\0';
	guard = NULL;
	ck_assert_int_eq(orbit_contest_claim(fleet, SUBJECT, label, NULL, 10, &guard, NULL),
			 -EMSGSIZE);
	label[200] = '\0';
	owner[0] = 'o';
	owner[36] = '\0';
	ck_assert_int_eq(orbit_contest_claim(fleet, SUBJECT, label, owner, 10, &guard, NULL),
			 -EMSGSIZE);
	ck_assert_ptr_null(guard);
	assert_free(fleet, label);
}
END_TEST

START_TEST(test_longest_label_and_owner)
{
	orbit_fleet_t *fleet = join_opts(_i, 1, 0, 1024);
	orbit_guard_t *guard = NULL;
	char label[256], owner[256];

	memset(label, 'l', sizeof(label));
	memset(owner, 'o', sizeof(owner));
	label[255] = owner[255] = '\0';
	ck_assert_int_eq(orbit_contest_claim(fleet, SUBJECT, label, owner, LONG_TTL, &guard, NULL),
			 0);
	assert_holder(fleet, label, 1);
	ck_assert_int_eq(orbit_guard_renew(guard, LONG_TTL), 0);
	ck_assert_int_eq(orbit_guard_release(guard), 0);
	assert_free(fleet, label);
}
END_TEST

START_TEST(test_tiny_slots)
{
	orbit_fleet_t *fleet = join_opts(_i, 1, 0, 24);
	orbit_guard_t *guard = NULL;

	ck_assert_int_eq(orbit_contest_claim(fleet, SUBJECT, "abc", NULL, 10, &guard, NULL), 0);
	ck_assert_int_eq(orbit_guard_release(guard), 0);
	ck_assert_int_eq(orbit_contest_claim(fleet, SUBJECT, "abcd", NULL, 10, &guard, NULL),
			 -EMSGSIZE);
	ck_assert_int_eq(orbit_contest_claim(fleet, SUBJECT, "abc", "x", 10, &guard, NULL),
			 -EMSGSIZE);
}
END_TEST

/* ---- the wire ---- */

START_TEST(test_wire_frames_written_by_api)
{
	orbit_fleet_t *fleet = join(_i, 6);
	uint64_t before = unix_ms(), after, claimed_at, claim, renewal;
	orbit_guard_t *guard = NULL;
	orbit_frame_t frame;
	uint8_t buf[512];

	ck_assert_int_eq(
		orbit_contest_claim(fleet, SUBJECT, "build/42", "worker-1", 5000, &guard, NULL), 0);
	after = unix_ms();
	claim = newest(fleet);
	read_frame(fleet, claim, &frame, buf, sizeof(buf));
	ck_assert_uint_eq(frame.id, orbit_id_make(KIND, 6, claim));
	ck_assert_uint_eq(frame.kind, CLAIM);
	ck_assert_uint_ge(frame.ver, before);
	ck_assert_uint_le(frame.ver, after);
	ck_assert_uint_eq(frame.len, CLAIM_HEADER + 8 + 8);
	ck_assert_uint_eq(buf[0], SUBJECT);
	ck_assert_uint_eq(get16(buf + 1), 8);
	ck_assert_uint_eq(get16(buf + 3), 8);
	claimed_at = get64(buf + 5);
	ck_assert_uint_eq(claimed_at, frame.ver);
	ck_assert_uint_eq(get64(buf + 13), frame.ver + 5000);
	ck_assert_mem_eq(buf + CLAIM_HEADER, "build/42", 8);
	ck_assert_mem_eq(buf + CLAIM_HEADER + 8, "worker-1", 8);

	sleep_ms(5);
	before = unix_ms();
	ck_assert_int_eq(orbit_guard_renew(guard, 7000), 0);
	after = unix_ms();
	renewal = newest(fleet);
	ck_assert_uint_eq(renewal, claim + 1);
	read_frame(fleet, renewal, &frame, buf, sizeof(buf));
	ck_assert_uint_eq(frame.kind, CLAIM);
	ck_assert_uint_eq(frame.id, orbit_id_make(KIND, 6, renewal));
	ck_assert_uint_ge(frame.ver, before);
	ck_assert_uint_le(frame.ver, after);
	ck_assert_uint_eq(frame.len, CLAIM_HEADER + 16);
	ck_assert_uint_eq(get64(buf + 5), claimed_at); /* the original claim time */
	ck_assert_uint_eq(get64(buf + 13), frame.ver + 7000);
	ck_assert_mem_eq(buf + CLAIM_HEADER, "build/42worker-1", 16);

	ck_assert_int_eq(orbit_guard_release(guard), 0);
	assert_release_of(fleet, newest(fleet), 6, renewal, "build/42");
	read_frame(fleet, newest(fleet), &frame, buf, sizeof(buf));
	ck_assert_uint_ge(frame.ver, after);
	ck_assert_uint_le(frame.ver, unix_ms());
}
END_TEST

START_TEST(test_wire_no_owner)
{
	orbit_fleet_t *fleet = join(_i, 1);
	orbit_guard_t *guard = NULL;
	orbit_frame_t frame;
	uint8_t buf[512];

	ck_assert_int_eq(orbit_contest_claim(fleet, 9, "x", NULL, 10, &guard, NULL), 0);
	read_frame(fleet, newest(fleet), &frame, buf, sizeof(buf));
	ck_assert_uint_eq(frame.kind, CLAIM);
	ck_assert_uint_eq(frame.len, CLAIM_HEADER + 1);
	ck_assert_uint_eq(buf[0], 9);
	ck_assert_uint_eq(get16(buf + 3), 0);
	ck_assert_int_eq(orbit_guard_release(guard), 0);
}
END_TEST

/* A released stale guard still names its own newest claim frame, for ring readers. */
START_TEST(test_wire_release_of_a_lost_guard)
{
	orbit_fleet_t *a = join(FIXTURE_SHM, 1), *b = join(FIXTURE_SHM, 2);
	orbit_guard_t *guard = claim_ok(a, "job", 50);
	uint64_t claim = newest(a);
	orbit_guard_t *next;

	sleep_ms(120);
	next = claim_ok(b, "job", LONG_TTL);
	ck_assert_int_eq(orbit_guard_renew(guard, LONG_TTL), -ESTALE);
	ck_assert_uint_eq(newest(a), claim + 1); /* the refused renewal wrote nothing */
	ck_assert_int_eq(orbit_guard_release(guard), 0);
	assert_release_of(a, newest(a), 1, claim, "job");
	assert_holder(a, "job", 2);
	ck_assert_int_eq(orbit_guard_release(next), 0);
}
END_TEST

/* Claims that only ring readers make (orbit-rs 0.1 peers) hold nothing in the table. */
START_TEST(test_wire_ring_only_claims_hold_nothing)
{
	orbit_fleet_t *self = join(FIXTURE_SHM, 1), *peer = join(FIXTURE_SHM, 5);
	orbit_guard_t *guard;
	orbit_id_t claim;
	orbit_frame_t frame;
	uint8_t buf[512];

	claim = raw_claim(peer, "job", LONG_TTL);
	assert_free(self, "job");
	guard = claim_ok(self, "job", LONG_TTL);
	/* Published after the peer's: a peer reading the ring sees the two in order. */
	read_frame(self, newest(self), &frame, buf, sizeof(buf));
	ck_assert_uint_gt(orbit_id_counter(frame.id), orbit_id_counter(claim));
	ck_assert_uint_eq(orbit_id_node(frame.id), 1);
	/* A release frame, by anyone, changes nothing in the table either. */
	raw_release(peer, frame.id, "job");
	assert_holder(peer, "job", 1);
	ck_assert_int_eq(orbit_guard_renew(guard, LONG_TTL), 0);
	ck_assert_int_eq(orbit_guard_release(guard), 0);
}
END_TEST

/* Anything on the contest ring, whoever wrote it, leaves the contest alone. */
START_TEST(test_garbage_frames_ignored)
{
	orbit_fleet_t *self = join(FIXTURE_SHM, 1), *peer = join(FIXTURE_SHM, 5);
	orbit_guard_t *guard = claim_ok(self, "job", LONG_TTL);
	uint8_t buf[512];

	srand(12345);
	for (int i = 0; i < 300; i++) {
		size_t n = (size_t)rand() % 256;

		for (size_t j = 0; j < n; j++)
			buf[j] = (uint8_t)rand();
		write_frame(peer, (uint8_t)(rand() % 4), (uint64_t)rand(), buf, n);
		if (i % 50 == 0)
			assert_holder(peer, "job", 1);
	}
	assert_holder(peer, "job", 1);
	ck_assert_int_eq(orbit_guard_renew(guard, LONG_TTL), 0);
	ck_assert_int_eq(orbit_guard_release(guard), 0);
	assert_free(peer, "job");
}
END_TEST

/* ---- fleets ---- */

/* A process-local fleet's table is its handle's: a new handle starts empty. */
START_TEST(test_local_fleet_starts_empty)
{
	for (int i = 0; i < 8; i++) {
		orbit_fleet_t *fleet = join(FIXTURE_LOCAL, 4);

		orbit_guard_t *guard;

		assert_free(fleet, "job");
		guard = claim_ok(fleet, "job", LONG_TTL);
		ck_assert_uint_eq(orbit_guard_token(guard), 1);
		ck_assert_int_eq(orbit_guard_release(guard), 0);
		orbit_fleet_leave(fleet);
		fleets[4] = NULL;
	}
}
END_TEST

START_TEST(test_ring_reset_keeps_leases)
{
	orbit_fleet_t *fleet = join(_i, 1);
	orbit_guard_t *guard = claim_ok(fleet, "job", LONG_TTL);

	ck_assert_int_eq(orbit_ring_reset(ring_of(fleet)), 0);
	assert_holder(fleet, "job", 1);
	ck_assert_int_eq(orbit_guard_renew(guard, LONG_TTL), 0);
	ck_assert_int_eq(orbit_guard_release(guard), 0);
	guard = claim_ok(fleet, "job", LONG_TTL);
	ck_assert_uint_eq(orbit_guard_token(guard), 2);
	ck_assert_int_eq(orbit_guard_release(guard), 0);
}
END_TEST

START_TEST(test_many_fleets_in_one_process)
{
	orbit_fleet_t *local[40];
	orbit_guard_t *guards[40];

	for (int i = 0; i < 40; i++) {
		char name[256];

		test_fleet_name(name, sizeof(name), "contest-many");
		ck_assert_int_eq(orbit_fleet_join(name, 1, 2, NULL, &local[i]), 0);
		guards[i] = claim_ok(local[i], "job", LONG_TTL);
	}
	for (int i = 0; i < 40; i++) {
		assert_holder(local[i], "job", 1);
		ck_assert_int_eq(orbit_guard_renew(guards[i], LONG_TTL), 0);
		ck_assert_int_eq(orbit_guard_release(guards[i]), 0);
		assert_free(local[i], "job");
		orbit_fleet_leave(local[i]);
	}
}
END_TEST
/* ---- contention ---- */

/* Shared by the contenders: who is inside, and what went wrong. */
struct arena {
	atomic_int inside;
	atomic_int last_holder;
	atomic_ullong last_token;
	atomic_ullong overlaps;
	atomic_ullong regressions; /* a holder whose token was not above the previous one */
	atomic_ullong errors;
	atomic_ullong handoffs;
	atomic_ullong held[FLEET_SIZE];
	atomic_ullong busy;
};

/* One turn inside the subject: nobody else may be in, and the token must have grown. */
static void hold_once(struct arena *arena, int who, const orbit_guard_t *guard)
{
	unsigned long long token = orbit_guard_token(guard);

	if (atomic_exchange(&arena->inside, 1) != 0)
		atomic_fetch_add(&arena->overlaps, 1);
	if (token <= atomic_load(&arena->last_token) && atomic_load(&arena->handoffs))
		atomic_fetch_add(&arena->regressions, 1);
	atomic_store(&arena->last_token, token);
	if (atomic_exchange(&arena->last_holder, who) != who)
		atomic_fetch_add(&arena->handoffs, 1);
	atomic_fetch_add(&arena->held[who], 1);
	sched_yield();
	atomic_store(&arena->inside, 0);
}

static bool everyone_held(struct arena *arena, int first, int count)
{
	for (int i = first; i < first + count; i++)
		if (!atomic_load(&arena->held[i]))
			return false;
	return true;
}

/* Claims the subject over and over until everyone held it and min_ms passed (max_ms cap). */
static void contend(orbit_fleet_t *fleet, struct arena *arena, int who, int first, int count,
		    uint64_t min_ms, uint64_t max_ms)
{
	uint64_t start = unix_ms();

	for (;;) {
		uint64_t elapsed = unix_ms() - start;
		orbit_guard_t *guard = NULL;
		int r;

		if (elapsed >= max_ms || (elapsed >= min_ms && everyone_held(arena, first, count)))
			break;
		r = orbit_contest_claim(fleet, SUBJECT, "hot", NULL, LONG_TTL, &guard, NULL);
		if (r == 0) {
			hold_once(arena, who, guard);
			if (orbit_guard_release(guard))
				atomic_fetch_add(&arena->errors, 1);
			/* A worker does something between turns; with no queue, one that
			 * claimed again at once would mostly win again. */
			sched_yield();
		} else if (r == -EBUSY) {
			atomic_fetch_add(&arena->busy, 1);
			sched_yield();
		} else if (r != -EAGAIN) {
			atomic_fetch_add(&arena->errors, 1);
		}
	}
}

static struct arena *arena_new(void)
{
	struct arena *arena = mmap(NULL, sizeof(*arena), PROT_READ | PROT_WRITE,
				   MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	ck_assert_ptr_ne(arena, MAP_FAILED);
	memset(arena, 0, sizeof(*arena));
	atomic_store(&arena->last_holder, -1);
	return arena;
}

static void arena_check(struct arena *arena, int first, int count)
{
	fprintf(stderr, "contest: %llu handoffs, %llu busy answers, held:",
		(unsigned long long)atomic_load(&arena->handoffs),
		(unsigned long long)atomic_load(&arena->busy));
	for (int i = first; i < first + count; i++)
		fprintf(stderr, " %llu", (unsigned long long)atomic_load(&arena->held[i]));
	fprintf(stderr, "\n");
	ck_assert_uint_eq(atomic_load(&arena->overlaps), 0);
	ck_assert_uint_eq(atomic_load(&arena->regressions), 0);
	ck_assert_uint_eq(atomic_load(&arena->errors), 0);
	ck_assert(everyone_held(arena, first, count));
	ck_assert_uint_ge(atomic_load(&arena->handoffs), (unsigned long long)count);
}

#define CONTENDERS 4

static void hammer_check(const struct hammer_result *r, unsigned processes)
{
	fprintf(stderr,
		"hammer: %llu ms, %llu turns, %llu hand-offs, %llu busy, %llu again, %llu "
		"renewals, %llu stalls\n",
		(unsigned long long)r->elapsed_ms, (unsigned long long)r->turns,
		(unsigned long long)r->handoffs, (unsigned long long)r->busy,
		(unsigned long long)r->again, (unsigned long long)r->renewals,
		(unsigned long long)r->stalls);
	ck_assert_msg(r->errors == 0, "%llu errors, the first %d", (unsigned long long)r->errors,
		      r->first_error);
	ck_assert_uint_eq(r->overlaps, 0);
	ck_assert_uint_eq(r->regressions, 0);
	ck_assert_uint_eq(r->repeats, 0);
	ck_assert_uint_eq(r->lost, 0);
	for (unsigned node = 1; node <= processes; node++)
		ck_assert_uint_gt(r->held[node], 0);
	ck_assert_uint_ge(r->handoffs, processes);
}

/* Processes claim and release one subject as fast as they can: it keeps changing hands. */
START_TEST(test_processes_contend)
{
	struct hammer_config config = {
		.fleet = fixture_fleet_name,
		.processes = CONTENDERS,
		.subjects = 1,
		.duration_ms = 1500,
		.ttl_ms = LONG_TTL,
	};
	struct hammer_result result;

	ck_assert_int_eq(hammer_run(&config, &result), 0);
	hammer_check(&result, CONTENDERS);
	assert_free(join(FIXTURE_SHM, 0), "hammer-0");
}
END_TEST

/*
 * The load: 8 processes on 3 subjects, a contest ring of 64 slots, holders that
 * renew within a short TTL, and now and then one that stalls past it. No two valid leases
 * may overlap, and every subject's tokens must only grow.
 */
START_TEST(test_hammer)
{
	struct hammer_config config = {
		.fleet = fixture_fleet_name,
		.capacity = 64,
		.processes = 8,
		.subjects = 3,
		.duration_ms = 2000,
		.ttl_ms = 50,
		.renewals = 3,
		.stall_every = 500,
	};
	struct hammer_result result;

	ck_assert_int_eq(hammer_run(&config, &result), 0);
	hammer_check(&result, 8);
	ck_assert_uint_gt(result.stalls, 0);
}
END_TEST

struct thread_arg {
	orbit_fleet_t *fleet;
	struct arena *arena;
	int who;
};

static void *thread_contend(void *p)
{
	struct thread_arg *arg = p;

	contend(arg->fleet, arg->arena, arg->who, 0, CONTENDERS, 500, 30000);
	return NULL;
}

/* Threads of one process share its lease record: still one holder at a time. */
START_TEST(test_threads_contend)
{
	orbit_fleet_t *fleet = join(_i, 2);
	struct arena *arena = arena_new();
	struct thread_arg args[CONTENDERS];
	pthread_t threads[CONTENDERS];

	for (int i = 0; i < CONTENDERS; i++) {
		args[i] = (struct thread_arg){ .fleet = fleet, .arena = arena, .who = i };
		ck_assert_int_eq(pthread_create(&threads[i], NULL, thread_contend, &args[i]), 0);
	}
	for (int i = 0; i < CONTENDERS; i++)
		ck_assert_int_eq(pthread_join(threads[i], NULL), 0);
	arena_check(arena, 0, CONTENDERS);
	assert_free(fleet, "hot");
	munmap(arena, sizeof(*arena));
}
END_TEST

static Suite *contest_suite(void)
{
	Suite *suite = suite_create("contest");
	TCase *rules = fixture_tcase(suite, "rules", 0);
	TCase *scenarios = fixture_tcase(suite, "scenarios", 0);
	TCase *table = fixture_tcase(suite, "table", 0);
	TCase *errors = fixture_tcase(suite, "errors", 0);
	TCase *wire = fixture_tcase(suite, "wire", 0);
	TCase *contention = fixture_tcase(suite, "contention", 0);
	const int backings = FIXTURE_BACKINGS;

	tcase_add_checked_fixture(rules, fleets_setup, fleets_teardown);
	tcase_add_loop_test(rules, test_claim_holder_release, 0, backings);
	tcase_add_loop_test(rules, test_subjects_are_independent, 0, backings);
	tcase_add_loop_test(rules, test_same_node_is_not_reentrant, 0, backings);
	tcase_add_test(rules, test_busy_names_the_holder);
	tcase_add_test(rules, test_one_node_two_handles);
	tcase_add_test(rules, test_busy_claim_writes_nothing);
	tcase_add_test(rules, test_tokens_grow_with_every_holder);
	tcase_add_test(rules, test_tokens_outlive_ring_and_processes);
	tcase_add_test(rules, test_renew_keeps_holder_and_token);
	tcase_add_test(rules, test_renew_after_expiry_is_stale);
	tcase_add_test(rules, test_renew_after_takeover_is_stale);
	tcase_add_test(rules, test_ring_wraparound_keeps_the_holder);
	tcase_add_test(rules, test_dead_ring_writer_holds_up_nothing);
	tcase_add_test(rules, test_local_fleet_starts_empty);
	tcase_add_loop_test(rules, test_ring_reset_keeps_leases, 0, backings);
	tcase_add_test(rules, test_many_fleets_in_one_process);

	tcase_add_checked_fixture(scenarios, fleets_setup, fleets_teardown);
	tcase_add_test(scenarios, test_observer_paused_for_a_lap);
	tcase_add_test(scenarios, test_observer_stopped_anywhere);
	tcase_add_test(scenarios, test_holder_answers_while_renewed_in_time);
	tcase_add_test(scenarios, test_two_holders_after_a_stall);
	tcase_add_test(scenarios, test_killed_holder_frees_at_once);
	tcase_add_test(scenarios, test_exited_holder_frees_at_once);
	tcase_add_test(scenarios, test_dead_holders_record_taken_again);
	tcase_add_test(scenarios, test_stopped_holder_learns_stale);

	tcase_add_checked_fixture(table, fleets_setup, fleets_teardown);
	tcase_add_loop_test(table, test_full_table, 0, backings);
	tcase_add_test(table, test_hash_collisions);
	tcase_add_test(table, test_hostile_owner_and_term);
	tcase_add_test(table, test_hostile_keys);
	tcase_add_test(table, test_stalled_install_is_retired);
	tcase_add_test(table, test_random_slot_contents);
	tcase_add_test(table, test_foreign_subjects_segment);

	tcase_add_checked_fixture(errors, fleets_setup, fleets_teardown);
	tcase_add_loop_test(errors, test_invalid_arguments, 0, backings);
	tcase_add_loop_test(errors, test_size_limits, 0, backings);
	tcase_add_loop_test(errors, test_longest_label_and_owner, 0, backings);
	tcase_add_loop_test(errors, test_tiny_slots, 0, backings);

	tcase_add_checked_fixture(wire, fleets_setup, fleets_teardown);
	tcase_add_loop_test(wire, test_wire_frames_written_by_api, 0, backings);
	tcase_add_loop_test(wire, test_wire_no_owner, 0, backings);
	tcase_add_test(wire, test_wire_release_of_a_lost_guard);
	tcase_add_test(wire, test_wire_ring_only_claims_hold_nothing);
	tcase_add_test(wire, test_garbage_frames_ignored);

	tcase_add_checked_fixture(contention, fleets_setup, fleets_teardown);
	tcase_add_test(contention, test_processes_contend);
	tcase_add_loop_test(contention, test_threads_contend, 0, backings);
	tcase_add_test(contention, test_hammer);
	return suite;
}

int main(void)
{
	return test_run("contest", contest_suite);
}
