/* SPDX-License-Identifier: MIT */
/* Typed values: store/load rules, errors, the wire frame, walking past other frames, processes. */
#include <orbit.h>

#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "fixture.h"
#include "segment-layout.h"
#include "testutil.h"

#define KIND 12

/* A small fixed-layout struct, as a caller would publish. */
struct load {
	uint32_t busy;
	uint32_t idle;
	uint64_t tick;
};

/* The test's handle is fixture_fleet, node 0 of 2; forked children join as node 1. */

static void assert_load(uint8_t kind, const struct load *want)
{
	struct load got;

	memset(&got, 0xee, sizeof(got));
	ck_assert_int_eq(orbit_value_load(fixture_fleet, kind, &got, sizeof(got)), 0);
	ck_assert_mem_eq(&got, want, sizeof(got));
}

START_TEST(test_store_then_load)
{
	struct load v = { .busy = 3, .idle = 5, .tick = 0x1122334455667788u };

	fixture_fleet = fixture_join(_i, 0, 2, 0, 0);
	ck_assert_int_eq(orbit_value_store(fixture_fleet, KIND, &v, sizeof(v)), 0);
	assert_load(KIND, &v);
	/* A load reads, it does not consume. */
	assert_load(KIND, &v);
}
END_TEST

START_TEST(test_newest_wins)
{
	struct load v = { 0 };

	fixture_fleet = fixture_join(_i, 0, 2, 0, 0);
	for (v.tick = 1; v.tick <= 5; v.tick++)
		ck_assert_int_eq(orbit_value_store(fixture_fleet, KIND, &v, sizeof(v)), 0);
	v.tick = 5;
	assert_load(KIND, &v);
}
END_TEST

START_TEST(test_load_empty_ring)
{
	struct load got, untouched;

	fixture_fleet = fixture_join(_i, 0, 2, 0, 0);
	memset(&got, 0xee, sizeof(got));
	untouched = got;
	ck_assert_int_eq(orbit_value_load(fixture_fleet, KIND, &got, sizeof(got)), -ENOENT);
	ck_assert_mem_eq(&got, &untouched, sizeof(got));
}
END_TEST

START_TEST(test_kinds_are_separate)
{
	struct load v = { .busy = 1 }, got;

	fixture_fleet = fixture_join(_i, 0, 2, 0, 0);
	ck_assert_int_eq(orbit_value_store(fixture_fleet, KIND, &v, sizeof(v)), 0);
	ck_assert_int_eq(orbit_value_load(fixture_fleet, KIND + 1, &got, sizeof(got)), -ENOENT);
}
END_TEST

START_TEST(test_size_mismatch_leaves_value_untouched)
{
	uint8_t small[4], big[32], pattern[32];
	uint64_t stored = 0xabcdef;

	fixture_fleet = fixture_join(_i, 0, 2, 0, 0);
	ck_assert_int_eq(orbit_value_store(fixture_fleet, KIND, &stored, sizeof(stored)), 0);
	memset(pattern, 0x5a, sizeof(pattern));
	memcpy(small, pattern, sizeof(small));
	memcpy(big, pattern, sizeof(big));
	ck_assert_int_eq(orbit_value_load(fixture_fleet, KIND, small, sizeof(small)), -EMSGSIZE);
	ck_assert_mem_eq(small, pattern, sizeof(small));
	ck_assert_int_eq(orbit_value_load(fixture_fleet, KIND, big, sizeof(big)), -EMSGSIZE);
	ck_assert_mem_eq(big, pattern, sizeof(big));
}
END_TEST

/* Only the newest value frame counts: an older frame of the right size is not a fallback. */
START_TEST(test_newest_size_decides)
{
	uint64_t narrow = 7, got = 0;
	uint8_t wide[16] = { 1 };

	fixture_fleet = fixture_join(_i, 0, 2, 0, 0);
	ck_assert_int_eq(orbit_value_store(fixture_fleet, KIND, &narrow, sizeof(narrow)), 0);
	ck_assert_int_eq(orbit_value_store(fixture_fleet, KIND, wide, sizeof(wide)), 0);
	ck_assert_int_eq(orbit_value_load(fixture_fleet, KIND, &got, sizeof(got)), -EMSGSIZE);
	ck_assert_uint_eq(got, 0);
}
END_TEST

START_TEST(test_invalid_arguments)
{
	uint64_t v = 1;

	fixture_fleet = fixture_join(_i, 0, 2, 0, 0);
	ck_assert_int_eq(orbit_value_store(NULL, KIND, &v, sizeof(v)), -EINVAL);
	ck_assert_int_eq(orbit_value_store(fixture_fleet, KIND, NULL, sizeof(v)), -EINVAL);
	ck_assert_int_eq(orbit_value_store(fixture_fleet, KIND, &v, 0), -EINVAL);
	ck_assert_int_eq(orbit_value_store(fixture_fleet, KIND, NULL, 0), -EINVAL);
	ck_assert_int_eq(orbit_value_load(NULL, KIND, &v, sizeof(v)), -EINVAL);
	ck_assert_int_eq(orbit_value_load(fixture_fleet, KIND, NULL, sizeof(v)), -EINVAL);
	ck_assert_int_eq(orbit_value_load(fixture_fleet, KIND, &v, 0), -EINVAL);
	/* None of the rejected stores reached the ring. */
	ck_assert_uint_eq(orbit_ring_head(fixture_ring(fixture_fleet, KIND)), 0);
}
END_TEST

START_TEST(test_larger_than_payload_max)
{
	uint8_t v[257] = { 0 };

	fixture_fleet = fixture_join(_i, 0, 2, 0, 0);
	ck_assert_int_eq(orbit_value_store(fixture_fleet, KIND, v, sizeof(v)), -EMSGSIZE);
	ck_assert_uint_eq(orbit_ring_head(fixture_ring(fixture_fleet, KIND)), 0);
	ck_assert_int_eq(orbit_value_load(fixture_fleet, KIND, v, sizeof(v)), -EMSGSIZE);
	/* Exactly payload_max fits. */
	memset(v, 0x42, 256);
	ck_assert_int_eq(orbit_value_store(fixture_fleet, KIND, v, 256), 0);
	memset(v, 0, sizeof(v));
	ck_assert_int_eq(orbit_value_load(fixture_fleet, KIND, v, 256), 0);
	for (int i = 0; i < 256; i++)
		ck_assert_uint_eq(v[i], 0x42);
}
END_TEST

/* Values above the on-stack staging size take the heap path; same rules apply. */
START_TEST(test_large_values)
{
	static uint8_t v[4000], got[4000], pattern[4000];

	fixture_fleet = fixture_join(_i, 0, 2, 0, 4096);
	for (size_t i = 0; i < sizeof(v); i++)
		v[i] = (uint8_t)(i * 7);
	ck_assert_int_eq(orbit_value_store(fixture_fleet, KIND, v, sizeof(v)), 0);
	ck_assert_int_eq(orbit_value_load(fixture_fleet, KIND, got, sizeof(got)), 0);
	ck_assert_mem_eq(got, v, sizeof(v));
	memset(pattern, 0x77, sizeof(pattern));
	memcpy(got, pattern, sizeof(got));
	ck_assert_int_eq(orbit_value_load(fixture_fleet, KIND, got, sizeof(got) - 1), -EMSGSIZE);
	ck_assert_mem_eq(got, pattern, sizeof(got));
}
END_TEST

/* Frames of another frame kind on the same ring are not values: a load looks past them. */
START_TEST(test_skips_other_frame_kinds)
{
	struct load v = { .tick = 99 }, decoy = { .tick = 1000 };
	orbit_ring_t *ring;

	fixture_fleet = fixture_join(_i, 0, 2, 0, 0);
	ring = fixture_ring(fixture_fleet, KIND);
	ck_assert_int_eq(orbit_value_store(fixture_fleet, KIND, &v, sizeof(v)), 0);
	ck_assert_int_eq(orbit_ring_write(ring, 1, 0, &decoy, sizeof(decoy), NULL), 0);
	ck_assert_int_eq(orbit_ring_write(ring, 7, 0, "not a value", 11, NULL), 0);
	assert_load(KIND, &v);
}
END_TEST

/* The walk covers at most one lap: once the value's slot is reused it is gone. */
START_TEST(test_walk_is_bounded_by_the_ring)
{
	struct load v = { .tick = 4 }, got;
	orbit_ring_t *ring;

	fixture_fleet = fixture_join(_i, 0, 2, 4, 0);
	ring = fixture_ring(fixture_fleet, KIND);
	ck_assert_int_eq(orbit_value_store(fixture_fleet, KIND, &v, sizeof(v)), 0);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(orbit_ring_write(ring, 1, 0, "x", 1, NULL), 0);
	assert_load(KIND, &v);
	ck_assert_int_eq(orbit_ring_write(ring, 1, 0, "x", 1, NULL), 0);
	ck_assert_int_eq(orbit_value_load(fixture_fleet, KIND, &got, sizeof(got)), -ENOENT);
}
END_TEST

/* WIRE: a value frame is frame kind 0, ver 0, payload = the value's bytes. */
START_TEST(test_wire_store_layout)
{
	const uint8_t v[6] = { 0xde, 0xad, 0xbe, 0xef, 0x00, 0x01 };
	orbit_frame_t frame;
	uint8_t raw[256];
	orbit_ring_t *ring;

	fixture_fleet = fixture_join(_i, 0, 2, 0, 0);
	ring = fixture_ring(fixture_fleet, KIND);
	ck_assert_int_eq(orbit_value_store(fixture_fleet, KIND, v, sizeof(v)), 0);
	ck_assert_uint_eq(orbit_ring_head(ring), 1);
	ck_assert_int_eq(orbit_ring_read_at(ring, 0, &frame, raw, sizeof(raw)), 0);
	ck_assert_uint_eq(frame.kind, 0);
	ck_assert_uint_eq(frame.ver, 0);
	ck_assert_uint_eq(frame.len, sizeof(v));
	ck_assert_uint_eq(orbit_id_kind(frame.id), KIND);
	ck_assert_uint_eq(orbit_id_node(frame.id), 0);
	ck_assert_uint_eq(orbit_id_counter(frame.id), 0);
	ck_assert_mem_eq(raw, v, sizeof(v));
}
END_TEST

/* WIRE: a frame written by hand in the value layout loads as the value. */
START_TEST(test_wire_load_hand_written)
{
	const uint8_t raw[8] = { 8, 7, 6, 5, 4, 3, 2, 1 };
	uint8_t got[8] = { 0 };

	fixture_fleet = fixture_join(_i, 0, 2, 0, 0);
	ck_assert_int_eq(
		orbit_ring_write(fixture_ring(fixture_fleet, KIND), 0, 0, raw, sizeof(raw), NULL),
		0);
	ck_assert_int_eq(orbit_value_load(fixture_fleet, KIND, got, sizeof(got)), 0);
	ck_assert_mem_eq(got, raw, sizeof(raw));
}
END_TEST

/* A claim at the head that is never committed (a writer died mid-write) is walked past. */
START_TEST(test_head_mid_write)
{
	struct load v = { .tick = 31 }, got;
	struct seg_map map;

	fixture_fleet = fixture_join(FIXTURE_SHM, 0, 2, 8, 0);
	ck_assert_int_eq(orbit_value_store(fixture_fleet, KIND, &v, sizeof(v)), 0);
	ck_assert_int_eq(seg_map_open(&map, fixture_fleet_name, KIND, 8, 0), 0);
	ck_assert_uint_eq(seg_claim_and_abandon(&map), 1);
	seg_map_close(&map);
	ck_assert_uint_eq(orbit_ring_head(fixture_ring(fixture_fleet, KIND)), 2);
	assert_load(KIND, &v);

	/* With nothing committed behind the claim, there is no value. */
	fixture_ring(fixture_fleet, KIND + 1);
	ck_assert_int_eq(seg_map_open(&map, fixture_fleet_name, KIND + 1, 8, 0), 0);
	seg_claim_and_abandon(&map);
	seg_map_close(&map);
	ck_assert_int_eq(orbit_value_load(fixture_fleet, KIND + 1, &got, sizeof(got)), -ENOENT);
}
END_TEST

static const struct load from_child = { .busy = 11, .idle = 22, .tick = 33 };
static const struct load from_parent = { .busy = 44, .idle = 55, .tick = 66 };

static int child_store(void)
{
	orbit_fleet_t *peer;
	int r;

	if (orbit_fleet_join_shm(fixture_fleet_name, 1, 2, NULL, &peer) < 0)
		return 1;
	r = orbit_value_store(peer, KIND, &from_child, sizeof(from_child));
	orbit_fleet_leave(peer);
	return r == 0 ? 0 : 2;
}

static int child_load(void)
{
	orbit_fleet_t *peer;
	struct load got;
	int r;

	if (orbit_fleet_join_shm(fixture_fleet_name, 1, 2, NULL, &peer) < 0)
		return 1;
	r = orbit_value_load(peer, KIND, &got, sizeof(got));
	orbit_fleet_leave(peer);
	if (r != 0)
		return 2;
	return memcmp(&got, &from_parent, sizeof(got)) == 0 ? 0 : 3;
}

START_TEST(test_cross_process)
{
	fixture_fleet = fixture_join(FIXTURE_SHM, 0, 2, 0, 0);
	test_run_child(child_store);
	assert_load(KIND, &from_child);
	ck_assert_int_eq(orbit_value_store(fixture_fleet, KIND, &from_parent, sizeof(from_parent)),
			 0);
	test_run_child(child_load);
}
END_TEST

/*
 * One writer storing as fast as it can into a two-slot ring, so loads keep meeting
 * frames mid-write and slots reused under them. A value always exists, so a load
 * gives it or -EAGAIN (lapped), never -ENOENT; it is never torn and never older
 * than one an earlier load returned.
 */
#define RACE_STORES 20000

struct race_state {
	orbit_fleet_t *fleet;
	volatile int done;
};

static void *race_writer(void *p)
{
	struct race_state *s = p;

	for (uint64_t n = 1; n <= RACE_STORES; n++) {
		struct load v = { .busy = (uint32_t)n, .idle = ~(uint32_t)n, .tick = n };

		orbit_value_store(s->fleet, KIND, &v, sizeof(v));
	}
	__atomic_store_n(&s->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

START_TEST(test_loads_race_a_writer)
{
	struct race_state s = { 0 };
	struct load first = { .busy = 0, .idle = ~0u, .tick = 0 }, got;
	uint64_t newest = 0;
	pthread_t writer;

	fixture_fleet = fixture_join(_i, 0, 2, 2, 0);
	s.fleet = fixture_fleet;
	ck_assert_int_eq(orbit_value_store(fixture_fleet, KIND, &first, sizeof(first)), 0);
	ck_assert_int_eq(pthread_create(&writer, NULL, race_writer, &s), 0);
	while (!__atomic_load_n(&s.done, __ATOMIC_ACQUIRE)) {
		int r = orbit_value_load(fixture_fleet, KIND, &got, sizeof(got));

		ck_assert(r == 0 || r == -EAGAIN);
		if (r < 0)
			continue;
		ck_assert_uint_eq(got.busy, (uint32_t)got.tick);
		ck_assert_uint_eq(got.idle, ~(uint32_t)got.tick);
		ck_assert_uint_ge(got.tick, newest);
		newest = got.tick;
	}
	ck_assert_int_eq(pthread_join(writer, NULL), 0);
	ck_assert_int_eq(orbit_value_load(fixture_fleet, KIND, &got, sizeof(got)), 0);
	ck_assert_uint_eq(got.tick, RACE_STORES);
}
END_TEST

static Suite *value_suite(void)
{
	Suite *suite = suite_create("value");
	TCase *rules = fixture_tcase(suite, "rules", 30);
	TCase *errors = fixture_tcase(suite, "errors", 30);
	TCase *wire = fixture_tcase(suite, "wire", 30);
	TCase *shared = fixture_tcase(suite, "shared", 30);
	const int backings = FIXTURE_BACKINGS;

	tcase_add_loop_test(rules, test_store_then_load, 0, backings);
	tcase_add_loop_test(rules, test_newest_wins, 0, backings);
	tcase_add_loop_test(rules, test_kinds_are_separate, 0, backings);
	tcase_add_loop_test(rules, test_skips_other_frame_kinds, 0, backings);
	tcase_add_loop_test(rules, test_walk_is_bounded_by_the_ring, 0, backings);
	tcase_add_loop_test(rules, test_large_values, 0, backings);

	tcase_add_loop_test(errors, test_load_empty_ring, 0, backings);
	tcase_add_loop_test(errors, test_size_mismatch_leaves_value_untouched, 0, backings);
	tcase_add_loop_test(errors, test_newest_size_decides, 0, backings);
	tcase_add_loop_test(errors, test_invalid_arguments, 0, backings);
	tcase_add_loop_test(errors, test_larger_than_payload_max, 0, backings);

	tcase_add_loop_test(wire, test_wire_store_layout, 0, backings);
	tcase_add_loop_test(wire, test_wire_load_hand_written, 0, backings);

	tcase_add_test(shared, test_head_mid_write);
	tcase_add_test(shared, test_cross_process);
	tcase_add_loop_test(shared, test_loads_race_a_writer, 0, backings);
	return suite;
}

int main(void)
{
	return test_run("value", value_suite);
}
