/* SPDX-License-Identifier: MIT */
/* Heartbeats: snapshot states (alive, stale, missing), argument rules, the §6 beat frame. */
#include <orbit.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "fixture.h"
#include "testutil.h"

#define BEAT_FRAME 1
#define HOUR_MS	   (UINT64_C(3600) * 1000)
#define MAX_AGE_MS (UINT64_C(600) * 1000) /* generous: a loaded machine never makes a beat stale */

static orbit_fleet_t *join_local(uint16_t node, uint16_t size)
{
	orbit_fleet_t *fleet = NULL;
	char name[128];

	test_fleet_name(name, sizeof(name), test_tag());
	ck_assert_int_eq(orbit_fleet_join(name, node, size, NULL, &fleet), 0);
	return fleet;
}

static int join_shm(const char *name, uint16_t node, uint16_t size, uint32_t capacity,
		    orbit_fleet_t **fleet)
{
	orbit_fleet_options_t opts = fixture_options(capacity, 0);

	return orbit_fleet_join_shm(name, node, size, &opts, fleet);
}

static orbit_ring_t *beat_ring(orbit_fleet_t *fleet)
{
	return fixture_ring(fleet, ORBIT_KIND_HEARTBEAT);
}

/* A beat frame as a peer writes it, stamped with any time we like. */
static void beat_at(orbit_fleet_t *fleet, uint64_t at_ms)
{
	ck_assert_int_eq(orbit_ring_write(beat_ring(fleet), BEAT_FRAME, at_ms, NULL, 0, NULL), 0);
}

static void assert_member(const orbit_member_t *m, uint16_t node, uint8_t state, uint64_t last)
{
	ck_assert_uint_eq(m->node, node);
	ck_assert_uint_eq(m->state, state);
	ck_assert_uint_eq(m->last_beat_ms, last);
}

START_TEST(test_arguments)
{
	orbit_fleet_t *fleet = join_local(0, 4);
	orbit_member_t members[4], untouched[4];

	memset(members, 0xab, sizeof(members));
	memcpy(untouched, members, sizeof(members));
	ck_assert_int_eq(orbit_heartbeat(NULL), -EINVAL);
	ck_assert_int_eq(orbit_heartbeat_snapshot(NULL, MAX_AGE_MS, members, 4), -EINVAL);
	ck_assert_int_eq(orbit_heartbeat_snapshot(fleet, MAX_AGE_MS, NULL, 4), -EINVAL);
	ck_assert_int_eq(orbit_heartbeat_snapshot(fleet, MAX_AGE_MS, members, 3), -ENOSPC);
	ck_assert_int_eq(orbit_heartbeat_snapshot(fleet, MAX_AGE_MS, NULL, 0), -ENOSPC);
	ck_assert_mem_eq(members, untouched, sizeof(members));
	orbit_fleet_leave(fleet);
}
END_TEST

START_TEST(test_no_beats_all_missing)
{
	orbit_fleet_t *fleet = join_local(0, 4);
	orbit_member_t members[6], untouched;

	memset(members, 0xab, sizeof(members));
	memcpy(&untouched, &members[4], sizeof(untouched));
	ck_assert_int_eq(orbit_heartbeat_snapshot(fleet, MAX_AGE_MS, members, 6), 4);
	for (uint16_t node = 0; node < 4; node++)
		assert_member(&members[node], node, ORBIT_MEMBER_MISSING, 0);
	ck_assert_mem_eq(&members[4], &untouched, sizeof(untouched));
	ck_assert_mem_eq(&members[5], &untouched, sizeof(untouched));
	orbit_fleet_leave(fleet);
}
END_TEST

START_TEST(test_own_beat_alive)
{
	orbit_fleet_t *fleet = join_local(1, 3);
	orbit_member_t members[3];
	uint64_t before, after;

	before = test_unix_ms();
	ck_assert_int_eq(orbit_heartbeat(fleet), 0);
	after = test_unix_ms();
	ck_assert_int_eq(orbit_heartbeat_snapshot(fleet, MAX_AGE_MS, members, 3), 3);
	assert_member(&members[0], 0, ORBIT_MEMBER_MISSING, 0);
	assert_member(&members[2], 2, ORBIT_MEMBER_MISSING, 0);
	ck_assert_uint_eq(members[1].node, 1);
	ck_assert_uint_eq(members[1].state, ORBIT_MEMBER_ALIVE);
	ck_assert_uint_ge(members[1].last_beat_ms, before);
	ck_assert_uint_le(members[1].last_beat_ms, after);
	orbit_fleet_leave(fleet);
}
END_TEST

START_TEST(test_age_limit_and_future_beats)
{
	orbit_fleet_t *fleet = join_local(0, 1);
	uint64_t old = test_unix_ms() - HOUR_MS, future = test_unix_ms() + HOUR_MS;
	orbit_member_t member;

	beat_at(fleet, old);
	ck_assert_int_eq(orbit_heartbeat_snapshot(fleet, MAX_AGE_MS, &member, 1), 1);
	assert_member(&member, 0, ORBIT_MEMBER_STALE, old);
	ck_assert_int_eq(orbit_heartbeat_snapshot(fleet, 2 * HOUR_MS, &member, 1), 1);
	assert_member(&member, 0, ORBIT_MEMBER_ALIVE, old);
	ck_assert_int_eq(orbit_heartbeat_snapshot(fleet, UINT64_MAX, &member, 1), 1);
	assert_member(&member, 0, ORBIT_MEMBER_ALIVE, old);

	/* A clock ahead of ours does not make a beat old, even with no tolerance at all. */
	beat_at(fleet, future);
	ck_assert_int_eq(orbit_heartbeat_snapshot(fleet, 0, &member, 1), 1);
	assert_member(&member, 0, ORBIT_MEMBER_ALIVE, future);
	orbit_fleet_leave(fleet);
}
END_TEST

/* "Newest" is ring order: a node's latest frame speaks for it, whatever its stamp. */
START_TEST(test_newest_beat_wins)
{
	orbit_fleet_t *fleet = join_local(0, 2);
	uint64_t old = test_unix_ms() - HOUR_MS, before;
	orbit_member_t members[2];

	beat_at(fleet, old);
	before = test_unix_ms();
	ck_assert_int_eq(orbit_heartbeat(fleet), 0);
	ck_assert_int_eq(orbit_heartbeat_snapshot(fleet, MAX_AGE_MS, members, 2), 2);
	ck_assert_uint_eq(members[0].state, ORBIT_MEMBER_ALIVE);
	ck_assert_uint_ge(members[0].last_beat_ms, before);

	beat_at(fleet, old);
	ck_assert_int_eq(orbit_heartbeat_snapshot(fleet, MAX_AGE_MS, members, 2), 2);
	assert_member(&members[0], 0, ORBIT_MEMBER_STALE, old);
	assert_member(&members[1], 1, ORBIT_MEMBER_MISSING, 0);
	orbit_fleet_leave(fleet);
}
END_TEST

/* Only beats still in the ring count: one overwritten by wraparound leaves its node missing. */
START_TEST(test_overwritten_beat_missing)
{
	orbit_fleet_t *zero, *one;
	orbit_member_t members[3];
	char name[128];

	test_fleet_name(name, sizeof(name), test_tag());
	ck_assert_int_eq(join_shm(name, 0, 3, 8, &zero), 0);
	ck_assert_int_eq(join_shm(name, 1, 3, 8, &one), 0);
	ck_assert_int_eq(orbit_heartbeat(one), 0);
	ck_assert_int_eq(orbit_heartbeat_snapshot(zero, MAX_AGE_MS, members, 3), 3);
	ck_assert_uint_eq(members[1].state, ORBIT_MEMBER_ALIVE);

	for (int i = 0; i < 8; i++)
		ck_assert_int_eq(orbit_heartbeat(zero), 0);
	ck_assert_int_eq(orbit_heartbeat_snapshot(zero, MAX_AGE_MS, members, 3), 3);
	ck_assert_uint_eq(members[0].state, ORBIT_MEMBER_ALIVE);
	assert_member(&members[1], 1, ORBIT_MEMBER_MISSING, 0);
	assert_member(&members[2], 2, ORBIT_MEMBER_MISSING, 0);
	orbit_fleet_leave(one);
	orbit_fleet_leave(zero);
	test_unlink_fleet(name);
}
END_TEST

/* Frames that are not exact beats, or come from beyond the fleet, are ignored. */
START_TEST(test_ignores_non_beats)
{
	orbit_fleet_t *zero, *two, *three, *outsider;
	uint64_t now = test_unix_ms(), earlier = now - 1000;
	orbit_member_t members[4];
	orbit_ring_t *ring;
	char name[128];

	test_fleet_name(name, sizeof(name), test_tag());
	ck_assert_int_eq(join_shm(name, 0, 4, 64, &zero), 0);
	ck_assert_int_eq(join_shm(name, 2, 4, 64, &two), 0);
	ck_assert_int_eq(join_shm(name, 3, 4, 64, &three), 0);
	ck_assert_int_eq(join_shm(name, 80, 100, 64, &outsider), 0);

	ring = beat_ring(two);
	ck_assert_int_eq(orbit_ring_write(ring, 2, now, NULL, 0, NULL), 0);
	ck_assert_int_eq(orbit_ring_write(ring, 0, now, NULL, 0, NULL), 0);
	ck_assert_int_eq(orbit_ring_write(ring, BEAT_FRAME, now, "junk", 4, NULL), 0);
	/* Node 3's newest frame carries a payload: its older exact beat is the one that counts. */
	beat_at(three, earlier);
	ck_assert_int_eq(orbit_ring_write(beat_ring(three), BEAT_FRAME, now, "x", 1, NULL), 0);
	ck_assert_int_eq(orbit_heartbeat(outsider), 0);

	ck_assert_int_eq(orbit_heartbeat_snapshot(zero, MAX_AGE_MS, members, 4), 4);
	assert_member(&members[0], 0, ORBIT_MEMBER_MISSING, 0);
	assert_member(&members[1], 1, ORBIT_MEMBER_MISSING, 0);
	assert_member(&members[2], 2, ORBIT_MEMBER_MISSING, 0);
	assert_member(&members[3], 3, ORBIT_MEMBER_ALIVE, earlier);
	orbit_fleet_leave(outsider);
	orbit_fleet_leave(three);
	orbit_fleet_leave(two);
	orbit_fleet_leave(zero);
	test_unlink_fleet(name);
}
END_TEST

#define FLEET_SIZE  64
#define FIRST_STALE 25
#define FIRST_GONE  41

/* Nodes 1..24 beat now; nodes 25..40 leave a beat an hour old; the rest never beat. */
static int child_beat(const char *name, uint16_t node, uint64_t old)
{
	orbit_fleet_t *fleet;
	orbit_ring_t *ring;
	int r;

	if (join_shm(name, node, FLEET_SIZE, 1024, &fleet) < 0)
		return 1;
	if (node < FIRST_STALE) {
		r = orbit_heartbeat(fleet);
	} else {
		r = orbit_fleet_ring(fleet, ORBIT_KIND_HEARTBEAT, &ring);
		if (r == 0)
			r = orbit_ring_write(ring, BEAT_FRAME, old - node, NULL, 0, NULL);
	}
	orbit_fleet_leave(fleet);
	return r == 0 ? 0 : 2;
}

START_TEST(test_fleet_of_64_processes)
{
	orbit_member_t members[FLEET_SIZE];
	uint64_t old = test_unix_ms() - HOUR_MS, before = test_unix_ms();
	pid_t pids[FIRST_GONE];
	orbit_fleet_t *fleet;
	char name[128];

	test_fleet_name(name, sizeof(name), test_tag());
	ck_assert_int_eq(join_shm(name, 0, FLEET_SIZE, 1024, &fleet), 0);
	ck_assert_int_eq(orbit_heartbeat(fleet), 0);
	for (uint16_t node = 1; node < FIRST_GONE; node++) {
		pids[node] = fork();
		ck_assert_int_ge(pids[node], 0);
		if (pids[node] == 0)
			_exit(child_beat(name, node, old));
	}
	for (uint16_t node = 1; node < FIRST_GONE; node++)
		test_reap(pids[node]);

	ck_assert_int_eq(orbit_heartbeat_snapshot(fleet, MAX_AGE_MS, members, FLEET_SIZE),
			 FLEET_SIZE);
	for (uint16_t node = 0; node < FLEET_SIZE; node++) {
		ck_assert_uint_eq(members[node].node, node);
		if (node < FIRST_STALE) {
			ck_assert_uint_eq(members[node].state, ORBIT_MEMBER_ALIVE);
			ck_assert_uint_ge(members[node].last_beat_ms, before);
		} else if (node < FIRST_GONE) {
			assert_member(&members[node], node, ORBIT_MEMBER_STALE, old - node);
		} else {
			assert_member(&members[node], node, ORBIT_MEMBER_MISSING, 0);
		}
	}
	orbit_fleet_leave(fleet);
	test_unlink_fleet(name);
}
END_TEST

/* WIRE out: a beat is frame kind 1, ver = capture time, empty payload, writer in the id. */
START_TEST(test_wire_beat_frame)
{
	orbit_fleet_t *fleet = join_local(2, 3);
	uint64_t before, after;
	orbit_frame_t frame;
	uint8_t buf[16];

	before = test_unix_ms();
	ck_assert_int_eq(orbit_heartbeat(fleet), 0);
	after = test_unix_ms();
	ck_assert_int_eq(orbit_ring_read_head(beat_ring(fleet), &frame, buf, sizeof(buf)), 0);
	ck_assert_uint_eq(frame.kind, BEAT_FRAME);
	ck_assert_uint_eq(frame.len, 0);
	ck_assert_uint_ge(frame.ver, before);
	ck_assert_uint_le(frame.ver, after);
	ck_assert_uint_eq(orbit_id_kind(frame.id), ORBIT_KIND_HEARTBEAT);
	ck_assert_uint_eq(orbit_id_node(frame.id), 2);
	ck_assert_uint_eq(orbit_id_counter(frame.id), 0);
	orbit_fleet_leave(fleet);
}
END_TEST

/* WIRE in: a beat written as a seed peer writes it is read back with its exact stamp. */
START_TEST(test_wire_peer_beat)
{
	const uint64_t stamp = UINT64_C(1700000000456);
	orbit_fleet_t *fleet = join_local(0, 1);
	orbit_member_t member;

	ck_assert_int_eq(orbit_ring_write(beat_ring(fleet), BEAT_FRAME, stamp, NULL, 0, NULL), 0);
	ck_assert_int_eq(orbit_heartbeat_snapshot(fleet, UINT64_MAX, &member, 1), 1);
	assert_member(&member, 0, ORBIT_MEMBER_ALIVE, stamp);
	ck_assert_int_eq(orbit_heartbeat_snapshot(fleet, 1000, &member, 1), 1);
	assert_member(&member, 0, ORBIT_MEMBER_STALE, stamp);
	orbit_fleet_leave(fleet);
}
END_TEST

static Suite *heartbeat_suite(void)
{
	Suite *suite = suite_create("heartbeat");
	TCase *api = tcase_create("api");
	TCase *snapshot = tcase_create("snapshot");
	TCase *wire = tcase_create("wire");

	tcase_add_test(api, test_arguments);
	tcase_add_test(api, test_no_beats_all_missing);
	tcase_add_test(api, test_own_beat_alive);
	suite_add_tcase(suite, api);

	tcase_set_timeout(snapshot, 120);
	tcase_add_test(snapshot, test_age_limit_and_future_beats);
	tcase_add_test(snapshot, test_newest_beat_wins);
	tcase_add_test(snapshot, test_overwritten_beat_missing);
	tcase_add_test(snapshot, test_ignores_non_beats);
	tcase_add_test(snapshot, test_fleet_of_64_processes);
	suite_add_tcase(suite, snapshot);

	tcase_add_test(wire, test_wire_beat_frame);
	tcase_add_test(wire, test_wire_peer_beat);
	suite_add_tcase(suite, wire);
	return suite;
}

int main(void)
{
	return test_run("heartbeat", heartbeat_suite);
}
