/* SPDX-License-Identifier: MIT */
/*
 * The contest: claim/holder/renew/release rules, every error, withdrawal, expiry, renewal
 * across ring wraparound, fencing tokens, the §6 wire frames both ways, garbage frames, a
 * dead writer, and threads and processes contending for one subject.
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
#include <sys/mman.h>
#include <unistd.h>

#include "fixture.h"
#include "segment-layout.h"
#include "testutil.h"

#define KIND	       ORBIT_KIND_CONTEST
#define CLAIM	       1
#define RELEASE	       2
#define CLAIM_HEADER   21
#define RELEASE_HEADER 11
#define SUBJECT	       7      /* the subject kind most tests use */
#define LONG_TTL       600000 /* ten minutes: never expires during a test */
#define FLEET_SIZE     8

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
	uint64_t now = test_unix_ms();

	return write_frame(fleet, CLAIM, now, buf,
			   encode_claim(buf, SUBJECT, label, 3, now, now + ttl_ms));
}

static void raw_release(orbit_fleet_t *fleet, orbit_id_t claim_id, const char *label)
{
	uint8_t buf[512];

	write_frame(fleet, RELEASE, test_unix_ms(), buf,
		    encode_release(buf, claim_id, SUBJECT, label));
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

/* ---- rules ---- */

START_TEST(test_claim_holder_release)
{
	orbit_fleet_t *fleet = join(_i, 3);
	orbit_guard_t *guard;

	assert_free(fleet, "job");
	guard = claim_ok(fleet, "job", LONG_TTL);
	assert_holder(fleet, "job", 3);
	ck_assert_uint_eq(orbit_guard_token(guard), newest(fleet));
	ck_assert_int_eq(orbit_contest_holder(fleet, SUBJECT, "job", NULL), 0);
	ck_assert_int_eq(orbit_guard_release(guard), 0);
	assert_free(fleet, "job");
	ck_assert_int_eq(orbit_contest_holder(fleet, SUBJECT, "job", NULL), -ENOENT);
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
	/* Queued claimants are not holders: every observer still sees node 1. */
	assert_holder(a, "job", 1);
	assert_holder(b, "job", 1);
	assert_holder(c, "job", 1);
	ck_assert_int_eq(orbit_guard_release(guard), 0);
	assert_free(b, "job");
}
END_TEST

/* A peer's claim frame planted at `counter`, whose seq the planter still holds odd. */
static void plant_claim(struct seg_map *map, uint64_t counter, uint16_t node, const char *label)
{
	const struct seg_layout *l = map->layout;
	uint8_t *slot = seg_slot(map, counter);
	uint64_t now = test_unix_ms();
	uint8_t buf[64];
	size_t len = encode_claim(buf, SUBJECT, label, 0, now, now + LONG_TTL);

	seg_store64(slot, l->slot_id, orbit_id_make(KIND, node, counter));
	seg_store8(slot, l->slot_kind, CLAIM);
	seg_store64(slot, l->slot_ver, now);
	seg_store32(slot, l->slot_len, (uint32_t)len);
	for (size_t i = 0; i < len; i++)
		seg_store8(slot, l->slot_payload + i, buf[i]);
}

struct slow_peer {
	struct seg_map *map;
	uint64_t counter;
};

/* Commits the planted frame as soon as a later counter is claimed. */
static void *commit_when_passed(void *p)
{
	struct slow_peer *peer = p;
	const struct seg_layout *l = peer->map->layout;
	uint64_t deadline = test_unix_ms() + 60000;

	while (seg_load64(peer->map->base, l->hdr_write_pos) <= peer->counter + 1 &&
	       test_unix_ms() < deadline)
		sched_yield();
	seg_store64(seg_slot(peer->map, peer->counter), l->slot_seq, 2 * peer->counter + 2);
	return NULL;
}

/*
 * The subject looks free, so we publish a claim; an earlier peer claim, still being
 * written then, commits before we decide: we yield and withdraw at once, and our
 * claim blocks nobody after the peer releases.
 */
START_TEST(test_yielder_withdraws_at_once)
{
	orbit_fleet_t *a = join(FIXTURE_SHM, 1), *c = join(FIXTURE_SHM, 3),
		      *peer = join(FIXTURE_SHM, 5);
	struct seg_map map;
	int raced = 0;

	ring_of(a);
	ck_assert_int_eq(seg_map_open(&map, fixture_fleet_name, KIND, 1024, 256), 0);
	/* Retried only if this machine delays the committing thread past the stall bound. */
	for (int attempt = 0; attempt < 5 && !raced; attempt++) {
		struct slow_peer slow = { .map = &map };
		orbit_guard_t *guard = NULL;
		orbit_frame_t frame;
		uint16_t holder = 0;
		uint8_t buf[512];
		char label[16];
		pthread_t thread;
		int r;

		snprintf(label, sizeof(label), "job-%d", attempt);
		slow.counter = seg_claim_and_abandon(&map);
		plant_claim(&map, slow.counter, 5, label);
		ck_assert_int_eq(pthread_create(&thread, NULL, commit_when_passed, &slow), 0);
		r = orbit_contest_claim(a, SUBJECT, label, NULL, LONG_TTL, &guard, &holder);
		ck_assert_int_eq(pthread_join(thread, NULL), 0);
		if (r == 0) {
			ck_assert_int_eq(orbit_guard_release(guard), 0);
			continue;
		}
		raced = 1;
		ck_assert_int_eq(r, -EBUSY);
		ck_assert_uint_eq(holder, 5);
		read_frame(a, slow.counter + 1, &frame, buf, sizeof(buf));
		ck_assert_uint_eq(frame.kind, CLAIM);
		ck_assert_uint_eq(orbit_id_node(frame.id), 1);
		assert_release_of(a, slow.counter + 2, 1, slow.counter + 1, label);
		assert_holder(c, label, 5);

		raw_release(peer, orbit_id_make(KIND, 5, slow.counter), label);
		guard = claim_ok(c, label, LONG_TTL);
		assert_holder(a, label, 3);
		ck_assert_int_eq(orbit_guard_release(guard), 0);
	}
	ck_assert(raced);
	seg_map_close(&map);
}
END_TEST

/* A claimant that yields but never withdraws (an orbit-rs 0.1 peer) blocks nobody. */
START_TEST(test_unwithdrawn_yielder_blocks_nobody)
{
	orbit_fleet_t *a = join(FIXTURE_SHM, 1), *peer = join(FIXTURE_SHM, 5),
		      *c = join(FIXTURE_SHM, 3);
	orbit_guard_t *guard = claim_ok(a, "job", LONG_TTL);

	raw_claim(peer, "job", LONG_TTL);
	raw_claim(peer, "job", LONG_TTL);
	assert_holder(c, "job", 1);
	claim_busy(c, "job", 1);
	ck_assert_int_eq(orbit_guard_release(guard), 0);
	guard = claim_ok(c, "job", LONG_TTL);
	assert_holder(a, "job", 3);
	claim_busy(a, "job", 3);
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

		if (i)
			ck_assert_uint_gt(orbit_guard_token(guard), last);
		last = orbit_guard_token(guard);
		/* A busy claim in between does not change the holder's token. */
		claim_busy(fleets[order[i] % 3 + 1], "job", order[i]);
		ck_assert_uint_eq(orbit_guard_token(guard), last);
		ck_assert_int_eq(orbit_guard_release(guard), 0);
	}
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

	test_sleep_ms(120);
	assert_free(b, "job");
	ck_assert_int_eq(orbit_guard_renew(guard, LONG_TTL), -ESTALE);
	ck_assert_int_eq(orbit_guard_renew(guard, LONG_TTL), -ESTALE);
	next = claim_ok(b, "job", LONG_TTL);
	ck_assert_uint_gt(orbit_guard_token(next), orbit_guard_token(guard));
	/* Releasing the stale guard does not end the new holder's claim. */
	ck_assert_int_eq(orbit_guard_release(guard), 0);
	assert_holder(a, "job", 2);
	ck_assert_int_eq(orbit_guard_release(next), 0);
}
END_TEST

/* A claim expired, another node took the subject: a late renewal must not take it back. */
START_TEST(test_renew_after_takeover_is_stale)
{
	orbit_fleet_t *a = join(FIXTURE_SHM, 1), *b = join(FIXTURE_SHM, 2);
	orbit_guard_t *guard = claim_ok(a, "job", 50);
	orbit_guard_t *next;

	test_sleep_ms(120);
	next = claim_ok(b, "job", LONG_TTL);
	ck_assert_int_eq(orbit_guard_renew(guard, LONG_TTL), -ESTALE);
	assert_holder(a, "job", 2);
	assert_holder(b, "job", 2);
	claim_busy(a, "job", 2);
	ck_assert_int_eq(orbit_guard_release(guard), 0);
	ck_assert_int_eq(orbit_guard_release(next), 0);
}
END_TEST

/* Other subjects' claims and releases lap the ring many times; renewals keep the claim. */
START_TEST(test_renew_across_wraparound)
{
	orbit_fleet_t *a = join_opts(FIXTURE_SHM, 1, 8, 0), *b = join_opts(FIXTURE_SHM, 2, 8, 0);
	orbit_guard_t *guard = claim_ok(a, "lease", LONG_TTL);
	uint64_t token = orbit_guard_token(guard);

	for (int i = 0; i < 40; i++) {
		char label[32];

		snprintf(label, sizeof(label), "other-%d", i);
		ck_assert_int_eq(orbit_guard_release(claim_ok(b, label, LONG_TTL)), 0);
		ck_assert_int_eq(orbit_guard_release(claim_ok(a, label, LONG_TTL)), 0);
		claim_busy(b, "lease", 1);
		ck_assert_int_eq(orbit_guard_renew(guard, LONG_TTL), 0);
		assert_holder(b, "lease", 1);
	}
	ck_assert_uint_gt(orbit_ring_head(ring_of(a)), 20 * 8);
	ck_assert_uint_eq(orbit_guard_token(guard), token);
	ck_assert_int_eq(orbit_guard_release(guard), 0);
	assert_free(b, "lease");
}
END_TEST

/* Without renewals, the ring wrapping past the only claim frame ends the claim. */
START_TEST(test_wrapped_past_claim_is_lost)
{
	orbit_fleet_t *a = join_opts(FIXTURE_SHM, 1, 8, 0), *b = join_opts(FIXTURE_SHM, 2, 8, 0);
	orbit_guard_t *guard = claim_ok(a, "lease", LONG_TTL);
	orbit_guard_t *next;

	claim_busy(b, "lease", 1);
	for (int i = 0; i < 5; i++)
		ck_assert_int_eq(orbit_guard_release(claim_ok(b, "other", LONG_TTL)), 0);
	assert_free(b, "lease");
	next = claim_ok(b, "lease", LONG_TTL);
	ck_assert_uint_gt(orbit_guard_token(next), orbit_guard_token(guard));
	ck_assert_int_eq(orbit_guard_renew(guard, LONG_TTL), -ESTALE);
	assert_holder(a, "lease", 2);
	ck_assert_int_eq(orbit_guard_release(guard), 0);
	ck_assert_int_eq(orbit_guard_release(next), 0);
}
END_TEST

/* An abandoned claim (its process exited without releasing) lapses at its expiry. */
START_TEST(test_abandoned_claim_expires)
{
	uint64_t *child_token = mmap(NULL, sizeof(*child_token), PROT_READ | PROT_WRITE,
				     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	orbit_fleet_t *parent = join(FIXTURE_SHM, 1);
	orbit_guard_t *guard;
	uint64_t deadline;
	int ret;
	pid_t pid;

	ck_assert_ptr_ne(child_token, MAP_FAILED);
	*child_token = 0;
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		orbit_fleet_t *fleet = NULL;
		orbit_guard_t *lost = NULL;

		if (orbit_fleet_join_shm(fixture_fleet_name, 4, FLEET_SIZE, NULL, &fleet) ||
		    orbit_contest_claim(fleet, SUBJECT, "job", "child", 2500, &lost, NULL))
			_exit(1);
		*child_token = orbit_guard_token(lost);
		_exit(0); /* no release: the claim is abandoned */
	}
	test_reap(pid);
	claim_busy(parent, "job", 4);
	assert_holder(parent, "job", 4);
	deadline = test_unix_ms() + 30000;
	while ((ret = orbit_contest_holder(parent, SUBJECT, "job", NULL)) == 0 &&
	       test_unix_ms() < deadline)
		test_sleep_ms(20);
	ck_assert_int_eq(ret, -ENOENT);
	guard = claim_ok(parent, "job", LONG_TTL);
	ck_assert_uint_gt(orbit_guard_token(guard), *child_token);
	ck_assert_int_eq(orbit_guard_release(guard), 0);
	munmap(child_token, sizeof(*child_token));
}
END_TEST

/* A writer that died mid-frame delays a claim by the stall bound at most, and is no claim. */
START_TEST(test_dead_writer_is_no_claim)
{
	orbit_fleet_t *a = join(FIXTURE_SHM, 1), *peer = join(FIXTURE_SHM, 5);
	orbit_guard_t *guard;
	struct seg_map map;

	ring_of(a);
	ck_assert_int_eq(seg_map_open(&map, fixture_fleet_name, KIND, 1024, 256), 0);
	seg_claim_and_abandon(&map);
	guard = claim_ok(a, "job", LONG_TTL);
	assert_holder(peer, "job", 1);
	ck_assert_int_eq(orbit_guard_release(guard), 0);

	seg_claim_and_abandon(&map);
	raw_claim(peer, "job", LONG_TTL);
	claim_busy(a, "job", 5);
	guard = claim_ok(peer, "other", LONG_TTL);
	seg_claim_and_abandon(&map);
	ck_assert_int_eq(orbit_guard_renew(guard, LONG_TTL), 0);
	ck_assert_int_eq(orbit_guard_release(guard), 0);
	seg_map_close(&map);
}
END_TEST

/* A claim whose time to live runs out before it is decided holds nothing and withdraws. */
START_TEST(test_claim_expiring_undecided)
{
	orbit_fleet_t *a = join(FIXTURE_SHM, 1);
	orbit_guard_t *guard = NULL;
	struct seg_map map;
	uint64_t dead;

	ring_of(a);
	ck_assert_int_eq(seg_map_open(&map, fixture_fleet_name, KIND, 1024, 256), 0);
	/* The claim waits for the dead writer's counter for the stall bound, 200 ms. */
	dead = seg_claim_and_abandon(&map);
	ck_assert_int_eq(orbit_contest_claim(a, SUBJECT, "job", NULL, 1, &guard, NULL), -EAGAIN);
	ck_assert_ptr_null(guard);
	assert_release_of(a, dead + 2, 1, dead + 1, "job");
	assert_free(a, "job");
	seg_map_close(&map);
}
END_TEST

/* A release naming the claim, written by its node elsewhere, ends it: renewal says so. */
START_TEST(test_renew_after_release_elsewhere)
{
	orbit_fleet_t *a = join(FIXTURE_SHM, 1), *b = join(FIXTURE_SHM, 2);
	orbit_fleet_t *again = NULL;
	orbit_guard_t *guard = claim_ok(a, "job", LONG_TTL);

	ck_assert_int_eq(orbit_fleet_join_shm(fixture_fleet_name, 1, FLEET_SIZE, NULL, &again), 0);
	raw_release(again, orbit_id_make(KIND, 1, orbit_guard_token(guard)), "job");
	orbit_fleet_leave(again);
	assert_free(b, "job");
	ck_assert_int_eq(orbit_guard_renew(guard, LONG_TTL), -ESTALE);
	ck_assert_int_eq(orbit_guard_release(guard), 0);
}
END_TEST

/*
 * A rival that claimed at a time past our expiry saw the subject free: a renewal written
 * after its claim must not keep our place. The renewal is written, found broken, withdrawn.
 */
START_TEST(test_renew_broken_by_rival)
{
	orbit_fleet_t *a = join(FIXTURE_SHM, 1), *peer = join(FIXTURE_SHM, 5);
	orbit_guard_t *guard = claim_ok(a, "job", 60000);
	uint64_t later = test_unix_ms() + 120000;
	uint8_t buf[512];

	write_frame(peer, CLAIM, later, buf,
		    encode_claim(buf, SUBJECT, "job", 0, later, later + LONG_TTL));
	ck_assert_int_eq(orbit_guard_renew(guard, 60000), -ESTALE);
	assert_release_of(a, newest(a), 1, newest(a) - 1, "job");
	assert_holder(a, "job", 5);
	ck_assert_int_eq(orbit_guard_release(guard), 0);
	assert_holder(a, "job", 5);
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
	ck_assert_int_eq(orbit_contest_claim(fleet, SUBJECT, label, owner, 10, &guard, NULL), 0);
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
	ck_assert_int_eq(orbit_contest_claim(fleet, SUBJECT, label, owner, 10, &guard, NULL), 0);
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

START_TEST(test_wire_peer_frames_recognised)
{
	orbit_fleet_t *self = join(FIXTURE_SHM, 1), *peer = join(FIXTURE_SHM, 5);
	orbit_guard_t *guard;
	orbit_id_t claim;

	claim = raw_claim(peer, "job", LONG_TTL);
	assert_holder(self, "job", 5);
	claim_busy(self, "job", 5);
	/* A release from another node does not end node 5's claim. */
	raw_release(self, claim, "job");
	assert_holder(self, "job", 5);
	raw_release(peer, claim, "job");
	assert_free(self, "job");
	guard = claim_ok(self, "job", LONG_TTL);
	ck_assert_uint_gt(orbit_guard_token(guard), orbit_id_counter(claim));
	ck_assert_int_eq(orbit_guard_release(guard), 0);
}
END_TEST

/* A peer renews by a new frame with the original claimed_at_ms and releases its newest. */
START_TEST(test_wire_peer_renewal_and_release)
{
	orbit_fleet_t *self = join(FIXTURE_SHM, 1), *peer = join(FIXTURE_SHM, 5);
	uint64_t claimed = test_unix_ms();
	uint8_t buf[512];
	orbit_id_t renewal;

	write_frame(peer, CLAIM, claimed, buf,
		    encode_claim(buf, SUBJECT, "job", 0, claimed, claimed + LONG_TTL));
	renewal = write_frame(peer, CLAIM, claimed + 1, buf,
			      encode_claim(buf, SUBJECT, "job", 0, claimed, claimed + LONG_TTL));
	claim_busy(self, "job", 5);
	raw_release(peer, renewal, "job");
	assert_free(self, "job");
	ck_assert_int_eq(orbit_guard_release(claim_ok(self, "job", LONG_TTL)), 0);
}
END_TEST

/* Two claims of one node; releasing the later one twice must not end the earlier one. */
START_TEST(test_wire_duplicate_release)
{
	orbit_fleet_t *self = join(FIXTURE_SHM, 1), *peer = join(FIXTURE_SHM, 5);
	uint64_t now = test_unix_ms();
	orbit_id_t held, yielded;
	uint8_t buf[512];

	held = write_frame(peer, CLAIM, now, buf,
			   encode_claim(buf, SUBJECT, "job", 0, now, now + LONG_TTL));
	yielded = write_frame(peer, CLAIM, now, buf,
			      encode_claim(buf, SUBJECT, "job", 0, now + 1, now + LONG_TTL));
	raw_release(peer, yielded, "job");
	raw_release(peer, yielded, "job");
	assert_holder(self, "job", 5);
	claim_busy(self, "job", 5);
	raw_release(peer, held, "job");
	assert_free(self, "job");
}
END_TEST

/* Peers' owners may be long: only the frame's first bytes are needed to judge it. */
START_TEST(test_wire_long_owner)
{
	orbit_fleet_t *self = join_opts(FIXTURE_SHM, 1, 0, 2048),
		      *peer = join_opts(FIXTURE_SHM, 5, 0, 2048);
	uint64_t now = test_unix_ms();
	uint8_t buf[2048];
	orbit_id_t claim;

	claim = write_frame(peer, CLAIM, now, buf,
			    encode_claim(buf, SUBJECT, "job", 1500, now, now + LONG_TTL));
	assert_holder(self, "job", 5);
	raw_release(peer, claim, "job");
	assert_free(self, "job");
}
END_TEST

/*
 * A renewal dated before its claim expired but landing after a rival claimed the expired
 * subject starts over behind the rival; with no rival it renews.
 */
START_TEST(test_wire_late_renewal)
{
	orbit_fleet_t *self = join(FIXTURE_SHM, 1), *peer = join(FIXTURE_SHM, 5),
		      *observer = join(FIXTURE_SHM, 3);
	uint64_t now = test_unix_ms(), t0 = now - 1000;
	orbit_guard_t *guard;
	uint8_t buf[512];

	write_frame(peer, CLAIM, t0, buf, encode_claim(buf, SUBJECT, "job", 0, t0, now - 900));
	guard = claim_ok(self, "job", LONG_TTL);
	write_frame(peer, CLAIM, now - 950, buf,
		    encode_claim(buf, SUBJECT, "job", 0, t0, now + LONG_TTL));
	assert_holder(self, "job", 1);
	assert_holder(observer, "job", 1);
	ck_assert_int_eq(orbit_guard_renew(guard, LONG_TTL), 0);
	ck_assert_int_eq(orbit_guard_release(guard), 0);

	write_frame(peer, CLAIM, t0, buf, encode_claim(buf, SUBJECT, "late", 0, t0, now - 900));
	write_frame(peer, CLAIM, now - 950, buf,
		    encode_claim(buf, SUBJECT, "late", 0, t0, now + LONG_TTL));
	assert_holder(observer, "late", 5);
	claim_busy(self, "late", 5);
}
END_TEST

START_TEST(test_wire_expired_claim_holds_nothing)
{
	orbit_fleet_t *self = join(FIXTURE_SHM, 1), *peer = join(FIXTURE_SHM, 5);
	uint64_t now = test_unix_ms();
	uint8_t buf[512];

	write_frame(peer, CLAIM, now - 2000, buf,
		    encode_claim(buf, SUBJECT, "job", 0, now - 2000, now - 1000));
	assert_free(self, "job");
	ck_assert_int_eq(orbit_guard_release(claim_ok(self, "job", LONG_TTL)), 0);
}
END_TEST

START_TEST(test_wire_frames_written_by_api)
{
	orbit_fleet_t *fleet = join(_i, 6);
	uint64_t before = test_unix_ms(), after, claimed_at, token, renewal;
	orbit_guard_t *guard = NULL;
	orbit_frame_t frame;
	uint8_t buf[512];

	ck_assert_int_eq(
		orbit_contest_claim(fleet, SUBJECT, "build/42", "worker-1", 5000, &guard, NULL), 0);
	after = test_unix_ms();
	token = orbit_guard_token(guard);
	read_frame(fleet, token, &frame, buf, sizeof(buf));
	ck_assert_uint_eq(frame.id, orbit_id_make(KIND, 6, token));
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

	test_sleep_ms(5);
	before = test_unix_ms();
	ck_assert_int_eq(orbit_guard_renew(guard, 7000), 0);
	after = test_unix_ms();
	renewal = newest(fleet);
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
	ck_assert_uint_le(frame.ver, test_unix_ms());
}
END_TEST

START_TEST(test_wire_no_owner)
{
	orbit_fleet_t *fleet = join(_i, 1);
	orbit_guard_t *guard = NULL;
	orbit_frame_t frame;
	uint8_t buf[512];

	ck_assert_int_eq(orbit_contest_claim(fleet, 9, "x", NULL, 10, &guard, NULL), 0);
	read_frame(fleet, orbit_guard_token(guard), &frame, buf, sizeof(buf));
	ck_assert_uint_eq(frame.len, CLAIM_HEADER + 1);
	ck_assert_uint_eq(buf[0], 9);
	ck_assert_uint_eq(get16(buf + 3), 0);
	ck_assert_int_eq(orbit_guard_release(guard), 0);
}
END_TEST

/* Frames that are not well-formed contest frames, whoever wrote them, are ignored. */
START_TEST(test_garbage_frames_ignored)
{
	orbit_fleet_t *self = join(FIXTURE_SHM, 1), *peer = join(FIXTURE_SHM, 5);
	uint64_t now = test_unix_ms(), far = now + LONG_TTL;
	orbit_guard_t *guard;
	uint8_t buf[512];
	orbit_id_t claim;
	size_t len;

	len = encode_claim(buf, SUBJECT, "job", 2, now, far);
	write_frame(peer, CLAIM, now, buf, len - 1); /* owner short */
	write_frame(peer, CLAIM, now, buf, len + 1); /* a byte too many */
	write_frame(peer, CLAIM, now, buf, 10);	     /* header cut */
	write_frame(peer, CLAIM, now, NULL, 0);	     /* empty */
	write_frame(peer, 3, now, buf, len);	     /* unknown frame kind */
	write_frame(peer, 0, now, buf, len);
	put16(buf + 1, 0); /* empty subject */
	write_frame(peer, CLAIM, now, buf, CLAIM_HEADER + 2);
	put16(buf + 1, 200); /* subject longer than the frame */
	write_frame(peer, CLAIM, now, buf, len);
	put16(buf + 1, 300); /* subject longer than any label */
	write_frame(peer, CLAIM, now, buf, len);
	assert_free(self, "job");

	claim = raw_claim(peer, "job", LONG_TTL);
	len = encode_release(buf, claim, SUBJECT, "job");
	write_frame(peer, RELEASE, now, buf, len - 1);
	write_frame(peer, RELEASE, now, buf, len + 1);
	write_frame(peer, CLAIM, now, buf, len); /* a release under the claim kind */
	put64(buf, orbit_id_make(KIND + 1, 5, orbit_id_counter(claim)));
	write_frame(peer, RELEASE, now, buf, len); /* claim id of another kind */
	put64(buf, orbit_id_make(KIND, 5, orbit_id_counter(claim) + 100));
	write_frame(peer, RELEASE, now, buf, len); /* names a frame after itself */
	encode_release(buf, claim, SUBJECT + 1, "job");
	write_frame(peer, RELEASE, now, buf, len); /* another subject */
	assert_holder(self, "job", 5);

	srand(12345);
	for (int i = 0; i < 300; i++) {
		size_t n = (size_t)rand() % 256;

		for (size_t j = 0; j < n; j++)
			buf[j] = (uint8_t)rand();
		write_frame(peer, (uint8_t)(1 + rand() % 2), (uint64_t)rand(), buf, n);
		if (i % 50 == 0)
			orbit_contest_holder(self, SUBJECT, "job", NULL);
	}
	assert_holder(self, "job", 5);
	raw_release(peer, claim, "job");
	guard = claim_ok(self, "job", LONG_TTL);
	ck_assert_int_eq(orbit_guard_release(guard), 0);
}
END_TEST

/* ---- the process-wide view ---- */

/* A view is found by ring address: a later ring at the same address must not inherit it. */
START_TEST(test_view_of_freed_ring_not_reused)
{
	orbit_fleet_t *first = join(FIXTURE_LOCAL, 3), *second;
	uint8_t buf[64];

	raw_claim(first, "job", LONG_TTL);
	assert_holder(first, "job", 3);
	orbit_fleet_leave(first);
	fleets[3] = NULL;
	for (int i = 0; i < 8; i++) {
		second = join(FIXTURE_LOCAL, 4);
		memset(buf, i, sizeof(buf));
		write_frame(second, 9, 0, buf, sizeof(buf));
		write_frame(second, 9, 0, buf, sizeof(buf));
		assert_free(second, "job");
		orbit_fleet_leave(second);
		fleets[4] = NULL;
	}
}
END_TEST

START_TEST(test_ring_reset_under_the_view)
{
	orbit_fleet_t *fleet = join(_i, 1);
	orbit_guard_t *guard = claim_ok(fleet, "job", LONG_TTL);

	assert_holder(fleet, "job", 1);
	ck_assert_int_eq(orbit_ring_reset(ring_of(fleet)), 0);
	assert_free(fleet, "job");
	ck_assert_int_eq(orbit_guard_renew(guard, LONG_TTL), -ESTALE);
	ck_assert_int_eq(orbit_guard_release(guard), 0);
	guard = claim_ok(fleet, "job", LONG_TTL);
	assert_holder(fleet, "job", 1);
	ck_assert_int_eq(orbit_guard_release(guard), 0);
}
END_TEST

START_TEST(test_many_fleets_in_one_process)
{
	orbit_fleet_t *local[40];
	orbit_guard_t *guards[40];

	/* More rings than the process keeps views of: views are dropped and rebuilt. */
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < 40; i++) {
			char name[256];

			if (round == 0) {
				test_fleet_name(name, sizeof(name), "contest-many");
				ck_assert_int_eq(orbit_fleet_join(name, 1, 2, NULL, &local[i]), 0);
				guards[i] = claim_ok(local[i], "job", LONG_TTL);
			}
			assert_holder(local[i], "job", 1);
		}
	}
	for (int i = 0; i < 40; i++) {
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
	uint64_t start = test_unix_ms();

	for (;;) {
		uint64_t elapsed = test_unix_ms() - start;
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

START_TEST(test_processes_contend)
{
	struct arena *arena = arena_new();
	pid_t pids[CONTENDERS];

	join(FIXTURE_SHM, 0);
	for (int i = 1; i <= CONTENDERS; i++) {
		pid_t pid = fork();

		ck_assert_int_ge(pid, 0);
		if (pid == 0) {
			orbit_fleet_t *fleet = NULL;

			if (orbit_fleet_join_shm(fixture_fleet_name, (uint16_t)i, FLEET_SIZE, NULL,
						 &fleet))
				_exit(1);
			contend(fleet, arena, i, 1, CONTENDERS, 1500, 30000);
			orbit_fleet_leave(fleet);
			_exit(0);
		}
		pids[i - 1] = pid;
	}
	for (int i = 0; i < CONTENDERS; i++)
		test_reap(pids[i]);
	arena_check(arena, 1, CONTENDERS);
	assert_free(fleets[0], "hot");
	munmap(arena, sizeof(*arena));
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

/* Threads of one process share a node and a view: still one holder at a time. */
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
	TCase *errors = fixture_tcase(suite, "errors", 0);
	TCase *wire = fixture_tcase(suite, "wire", 0);
	TCase *view = fixture_tcase(suite, "view", 0);
	TCase *contention = fixture_tcase(suite, "contention", 0);
	const int backings = FIXTURE_BACKINGS;

	tcase_add_checked_fixture(rules, fleets_setup, fleets_teardown);
	tcase_add_loop_test(rules, test_claim_holder_release, 0, backings);
	tcase_add_loop_test(rules, test_subjects_are_independent, 0, backings);
	tcase_add_loop_test(rules, test_same_node_is_not_reentrant, 0, backings);
	tcase_add_test(rules, test_busy_names_the_holder);
	tcase_add_test(rules, test_yielder_withdraws_at_once);
	tcase_add_test(rules, test_unwithdrawn_yielder_blocks_nobody);
	tcase_add_test(rules, test_tokens_grow_with_every_holder);
	tcase_add_test(rules, test_renew_keeps_holder_and_token);
	tcase_add_test(rules, test_renew_after_expiry_is_stale);
	tcase_add_test(rules, test_renew_after_takeover_is_stale);
	tcase_add_test(rules, test_renew_across_wraparound);
	tcase_add_test(rules, test_wrapped_past_claim_is_lost);
	tcase_add_test(rules, test_abandoned_claim_expires);
	tcase_add_test(rules, test_dead_writer_is_no_claim);
	tcase_add_test(rules, test_claim_expiring_undecided);
	tcase_add_test(rules, test_renew_after_release_elsewhere);
	tcase_add_test(rules, test_renew_broken_by_rival);

	tcase_add_checked_fixture(errors, fleets_setup, fleets_teardown);
	tcase_add_loop_test(errors, test_invalid_arguments, 0, backings);
	tcase_add_loop_test(errors, test_size_limits, 0, backings);
	tcase_add_loop_test(errors, test_longest_label_and_owner, 0, backings);
	tcase_add_loop_test(errors, test_tiny_slots, 0, backings);

	tcase_add_checked_fixture(wire, fleets_setup, fleets_teardown);
	tcase_add_test(wire, test_wire_peer_frames_recognised);
	tcase_add_test(wire, test_wire_peer_renewal_and_release);
	tcase_add_test(wire, test_wire_duplicate_release);
	tcase_add_test(wire, test_wire_long_owner);
	tcase_add_test(wire, test_wire_late_renewal);
	tcase_add_test(wire, test_wire_expired_claim_holds_nothing);
	tcase_add_loop_test(wire, test_wire_frames_written_by_api, 0, backings);
	tcase_add_loop_test(wire, test_wire_no_owner, 0, backings);
	tcase_add_test(wire, test_garbage_frames_ignored);

	tcase_add_checked_fixture(view, fleets_setup, fleets_teardown);
	tcase_add_test(view, test_view_of_freed_ring_not_reused);
	tcase_add_loop_test(view, test_ring_reset_under_the_view, 0, backings);
	tcase_add_test(view, test_many_fleets_in_one_process);

	tcase_add_checked_fixture(contention, fleets_setup, fleets_teardown);
	tcase_add_test(contention, test_processes_contend);
	tcase_add_loop_test(contention, test_threads_contend, 0, backings);
	return suite;
}

int main(void)
{
	return test_run("contest", contest_suite);
}
