/* SPDX-License-Identifier: MIT */
/* Typed values: store/load rules, errors, the wire frame, walking past other frames, processes. */
#include <orbit.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "segment-layout.h"
#include "testutil.h"

typedef int join_fn(const char *name, uint16_t node, uint16_t size,
		    const orbit_fleet_options_t *opts, orbit_fleet_t **fleet);

/* Loop tests run once per backing: _i is the index into this table. */
static join_fn *const joins[] = { orbit_fleet_join, orbit_fleet_join_shm };
enum { LOCAL, SHM };

#define KIND 12

/* A small fixed-layout struct, as a caller would publish. */
struct load {
	uint32_t busy;
	uint32_t idle;
	uint64_t tick;
};

static char run_tag[32];
static char fleet_name[256];
static orbit_fleet_t *fleet;

static void setup(void)
{
	test_fleet_name(fleet_name, sizeof(fleet_name), run_tag);
	fleet = NULL;
}

static void teardown(void)
{
	orbit_fleet_leave(fleet);
	test_unlink_fleet(fleet_name);
}

static void join_ok(int backing, uint32_t capacity, uint32_t payload_max)
{
	orbit_fleet_options_t opts = ORBIT_FLEET_OPTIONS_INIT;

	opts.capacity = capacity;
	opts.payload_max = payload_max;
	ck_assert_int_eq(joins[backing](fleet_name, 0, 2, &opts, &fleet), 0);
}

static orbit_ring_t *ring_ok(uint8_t kind)
{
	orbit_ring_t *ring = NULL;

	ck_assert_int_eq(orbit_fleet_ring(fleet, kind, &ring), 0);
	return ring;
}

static void assert_load(uint8_t kind, const struct load *want)
{
	struct load got;

	memset(&got, 0xee, sizeof(got));
	ck_assert_int_eq(orbit_value_load(fleet, kind, &got, sizeof(got)), 0);
	ck_assert_mem_eq(&got, want, sizeof(got));
}

/* Forks; the child runs body and exits with its result; the parent asserts it was 0. */
static void run_child(int (*body)(void))
{
	int status;
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(body());
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
}

START_TEST(test_store_then_load)
{
	struct load v = { .busy = 3, .idle = 5, .tick = 0x1122334455667788u };

	join_ok(_i, 0, 0);
	ck_assert_int_eq(orbit_value_store(fleet, KIND, &v, sizeof(v)), 0);
	assert_load(KIND, &v);
	/* A load reads, it does not consume. */
	assert_load(KIND, &v);
}
END_TEST

START_TEST(test_newest_wins)
{
	struct load v = { 0 };

	join_ok(_i, 0, 0);
	for (v.tick = 1; v.tick <= 5; v.tick++)
		ck_assert_int_eq(orbit_value_store(fleet, KIND, &v, sizeof(v)), 0);
	v.tick = 5;
	assert_load(KIND, &v);
}
END_TEST

START_TEST(test_load_empty_ring)
{
	struct load got, untouched;

	join_ok(_i, 0, 0);
	memset(&got, 0xee, sizeof(got));
	untouched = got;
	ck_assert_int_eq(orbit_value_load(fleet, KIND, &got, sizeof(got)), -ENOENT);
	ck_assert_mem_eq(&got, &untouched, sizeof(got));
}
END_TEST

START_TEST(test_kinds_are_separate)
{
	struct load v = { .busy = 1 }, got;

	join_ok(_i, 0, 0);
	ck_assert_int_eq(orbit_value_store(fleet, KIND, &v, sizeof(v)), 0);
	ck_assert_int_eq(orbit_value_load(fleet, KIND + 1, &got, sizeof(got)), -ENOENT);
}
END_TEST

START_TEST(test_size_mismatch_leaves_value_untouched)
{
	uint8_t small[4], big[32], pattern[32];
	uint64_t stored = 0xabcdef;

	join_ok(_i, 0, 0);
	ck_assert_int_eq(orbit_value_store(fleet, KIND, &stored, sizeof(stored)), 0);
	memset(pattern, 0x5a, sizeof(pattern));
	memcpy(small, pattern, sizeof(small));
	memcpy(big, pattern, sizeof(big));
	ck_assert_int_eq(orbit_value_load(fleet, KIND, small, sizeof(small)), -EMSGSIZE);
	ck_assert_mem_eq(small, pattern, sizeof(small));
	ck_assert_int_eq(orbit_value_load(fleet, KIND, big, sizeof(big)), -EMSGSIZE);
	ck_assert_mem_eq(big, pattern, sizeof(big));
}
END_TEST

/* Only the newest value frame counts: an older frame of the right size is not a fallback. */
START_TEST(test_newest_size_decides)
{
	uint64_t narrow = 7, got = 0;
	uint8_t wide[16] = { 1 };

	join_ok(_i, 0, 0);
	ck_assert_int_eq(orbit_value_store(fleet, KIND, &narrow, sizeof(narrow)), 0);
	ck_assert_int_eq(orbit_value_store(fleet, KIND, wide, sizeof(wide)), 0);
	ck_assert_int_eq(orbit_value_load(fleet, KIND, &got, sizeof(got)), -EMSGSIZE);
	ck_assert_uint_eq(got, 0);
}
END_TEST

START_TEST(test_invalid_arguments)
{
	uint64_t v = 1;

	join_ok(_i, 0, 0);
	ck_assert_int_eq(orbit_value_store(NULL, KIND, &v, sizeof(v)), -EINVAL);
	ck_assert_int_eq(orbit_value_store(fleet, KIND, NULL, sizeof(v)), -EINVAL);
	ck_assert_int_eq(orbit_value_store(fleet, KIND, &v, 0), -EINVAL);
	ck_assert_int_eq(orbit_value_store(fleet, KIND, NULL, 0), -EINVAL);
	ck_assert_int_eq(orbit_value_load(NULL, KIND, &v, sizeof(v)), -EINVAL);
	ck_assert_int_eq(orbit_value_load(fleet, KIND, NULL, sizeof(v)), -EINVAL);
	ck_assert_int_eq(orbit_value_load(fleet, KIND, &v, 0), -EINVAL);
	/* None of the rejected stores reached the ring. */
	ck_assert_uint_eq(orbit_ring_head(ring_ok(KIND)), 0);
}
END_TEST

START_TEST(test_larger_than_payload_max)
{
	uint8_t v[257] = { 0 };

	join_ok(_i, 0, 0);
	ck_assert_int_eq(orbit_value_store(fleet, KIND, v, sizeof(v)), -EMSGSIZE);
	ck_assert_uint_eq(orbit_ring_head(ring_ok(KIND)), 0);
	ck_assert_int_eq(orbit_value_load(fleet, KIND, v, sizeof(v)), -EMSGSIZE);
	/* Exactly payload_max fits. */
	memset(v, 0x42, 256);
	ck_assert_int_eq(orbit_value_store(fleet, KIND, v, 256), 0);
	memset(v, 0, sizeof(v));
	ck_assert_int_eq(orbit_value_load(fleet, KIND, v, 256), 0);
	for (int i = 0; i < 256; i++)
		ck_assert_uint_eq(v[i], 0x42);
}
END_TEST

/* Values above the on-stack staging size take the heap path; same rules apply. */
START_TEST(test_large_values)
{
	static uint8_t v[4000], got[4000], pattern[4000];

	join_ok(_i, 0, 4096);
	for (size_t i = 0; i < sizeof(v); i++)
		v[i] = (uint8_t)(i * 7);
	ck_assert_int_eq(orbit_value_store(fleet, KIND, v, sizeof(v)), 0);
	ck_assert_int_eq(orbit_value_load(fleet, KIND, got, sizeof(got)), 0);
	ck_assert_mem_eq(got, v, sizeof(v));
	memset(pattern, 0x77, sizeof(pattern));
	memcpy(got, pattern, sizeof(got));
	ck_assert_int_eq(orbit_value_load(fleet, KIND, got, sizeof(got) - 1), -EMSGSIZE);
	ck_assert_mem_eq(got, pattern, sizeof(got));
}
END_TEST

/* Frames of another frame kind on the same ring are not values: a load looks past them. */
START_TEST(test_skips_other_frame_kinds)
{
	struct load v = { .tick = 99 }, decoy = { .tick = 1000 };
	orbit_ring_t *ring;

	join_ok(_i, 0, 0);
	ring = ring_ok(KIND);
	ck_assert_int_eq(orbit_value_store(fleet, KIND, &v, sizeof(v)), 0);
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

	join_ok(_i, 4, 0);
	ring = ring_ok(KIND);
	ck_assert_int_eq(orbit_value_store(fleet, KIND, &v, sizeof(v)), 0);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(orbit_ring_write(ring, 1, 0, "x", 1, NULL), 0);
	assert_load(KIND, &v);
	ck_assert_int_eq(orbit_ring_write(ring, 1, 0, "x", 1, NULL), 0);
	ck_assert_int_eq(orbit_value_load(fleet, KIND, &got, sizeof(got)), -ENOENT);
}
END_TEST

/* WIRE: a value frame is frame kind 0, ver 0, payload = the value's bytes. */
START_TEST(test_wire_store_layout)
{
	const uint8_t v[6] = { 0xde, 0xad, 0xbe, 0xef, 0x00, 0x01 };
	orbit_frame_t frame;
	uint8_t raw[256];
	orbit_ring_t *ring;

	join_ok(_i, 0, 0);
	ring = ring_ok(KIND);
	ck_assert_int_eq(orbit_value_store(fleet, KIND, v, sizeof(v)), 0);
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

	join_ok(_i, 0, 0);
	ck_assert_int_eq(orbit_ring_write(ring_ok(KIND), 0, 0, raw, sizeof(raw), NULL), 0);
	ck_assert_int_eq(orbit_value_load(fleet, KIND, got, sizeof(got)), 0);
	ck_assert_mem_eq(got, raw, sizeof(raw));
}
END_TEST

/* A claim at the head that is never committed (a writer died mid-write) is walked past. */
START_TEST(test_head_mid_write)
{
	struct load v = { .tick = 31 }, got;
	struct seg_map map;

	join_ok(SHM, 8, 0);
	ck_assert_int_eq(orbit_value_store(fleet, KIND, &v, sizeof(v)), 0);
	ck_assert_int_eq(seg_map_open(&map, fleet_name, KIND, 8, 0), 0);
	ck_assert_uint_eq(seg_claim_and_abandon(&map), 1);
	seg_map_close(&map);
	ck_assert_uint_eq(orbit_ring_head(ring_ok(KIND)), 2);
	assert_load(KIND, &v);

	/* With nothing committed behind the claim, there is no value. */
	ring_ok(KIND + 1);
	ck_assert_int_eq(seg_map_open(&map, fleet_name, KIND + 1, 8, 0), 0);
	seg_claim_and_abandon(&map);
	seg_map_close(&map);
	ck_assert_int_eq(orbit_value_load(fleet, KIND + 1, &got, sizeof(got)), -ENOENT);
}
END_TEST

static const struct load from_child = { .busy = 11, .idle = 22, .tick = 33 };
static const struct load from_parent = { .busy = 44, .idle = 55, .tick = 66 };

static int child_store(void)
{
	orbit_fleet_t *peer;
	int r;

	if (orbit_fleet_join_shm(fleet_name, 1, 2, NULL, &peer) < 0)
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

	if (orbit_fleet_join_shm(fleet_name, 1, 2, NULL, &peer) < 0)
		return 1;
	r = orbit_value_load(peer, KIND, &got, sizeof(got));
	orbit_fleet_leave(peer);
	if (r != 0)
		return 2;
	return memcmp(&got, &from_parent, sizeof(got)) == 0 ? 0 : 3;
}

START_TEST(test_cross_process)
{
	join_ok(SHM, 0, 0);
	run_child(child_store);
	assert_load(KIND, &from_child);
	ck_assert_int_eq(orbit_value_store(fleet, KIND, &from_parent, sizeof(from_parent)), 0);
	run_child(child_load);
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

	join_ok(_i, 2, 0);
	s.fleet = fleet;
	ck_assert_int_eq(orbit_value_store(fleet, KIND, &first, sizeof(first)), 0);
	ck_assert_int_eq(pthread_create(&writer, NULL, race_writer, &s), 0);
	while (!__atomic_load_n(&s.done, __ATOMIC_ACQUIRE)) {
		int r = orbit_value_load(fleet, KIND, &got, sizeof(got));

		ck_assert(r == 0 || r == -EAGAIN);
		if (r < 0)
			continue;
		ck_assert_uint_eq(got.busy, (uint32_t)got.tick);
		ck_assert_uint_eq(got.idle, ~(uint32_t)got.tick);
		ck_assert_uint_ge(got.tick, newest);
		newest = got.tick;
	}
	ck_assert_int_eq(pthread_join(writer, NULL), 0);
	ck_assert_int_eq(orbit_value_load(fleet, KIND, &got, sizeof(got)), 0);
	ck_assert_uint_eq(got.tick, RACE_STORES);
}
END_TEST

static TCase *fixture_tcase(const char *name)
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	return tc;
}

static Suite *value_suite(void)
{
	Suite *suite = suite_create("value");
	TCase *rules = fixture_tcase("rules");
	TCase *errors = fixture_tcase("errors");
	TCase *wire = fixture_tcase("wire");
	TCase *shared = fixture_tcase("shared");
	const int backings = TEST_ARRAY_SIZE(joins);

	tcase_add_loop_test(rules, test_store_then_load, 0, backings);
	tcase_add_loop_test(rules, test_newest_wins, 0, backings);
	tcase_add_loop_test(rules, test_kinds_are_separate, 0, backings);
	tcase_add_loop_test(rules, test_skips_other_frame_kinds, 0, backings);
	tcase_add_loop_test(rules, test_walk_is_bounded_by_the_ring, 0, backings);
	tcase_add_loop_test(rules, test_large_values, 0, backings);
	suite_add_tcase(suite, rules);

	tcase_add_loop_test(errors, test_load_empty_ring, 0, backings);
	tcase_add_loop_test(errors, test_size_mismatch_leaves_value_untouched, 0, backings);
	tcase_add_loop_test(errors, test_newest_size_decides, 0, backings);
	tcase_add_loop_test(errors, test_invalid_arguments, 0, backings);
	tcase_add_loop_test(errors, test_larger_than_payload_max, 0, backings);
	suite_add_tcase(suite, errors);

	tcase_add_loop_test(wire, test_wire_store_layout, 0, backings);
	tcase_add_loop_test(wire, test_wire_load_hand_written, 0, backings);
	suite_add_tcase(suite, wire);

	tcase_add_test(shared, test_head_mid_write);
	tcase_add_test(shared, test_cross_process);
	tcase_add_loop_test(shared, test_loads_race_a_writer, 0, backings);
	suite_add_tcase(suite, shared);
	return suite;
}

int main(void)
{
	snprintf(run_tag, sizeof(run_tag), "value%ld", (long)getpid());
	return test_run_suite(value_suite(), run_tag);
}
