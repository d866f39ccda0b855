/* SPDX-License-Identifier: MIT */
/*
 * Heartbeats: snapshot states (alive, stale, missing) from beats and from the liveness of
 * the nodes' processes, snapshots while nodes beat, argument rules, the beat frame.
 */
#include <orbit.h>

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixture.h"
#include "segment-layout.h"
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

	before = unix_ms();
	ck_assert_int_eq(orbit_heartbeat(fleet), 0);
	after = unix_ms();
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

START_TEST(test_age_limit)
{
	orbit_fleet_t *fleet = join_local(0, 1);
	uint64_t old = unix_ms() - HOUR_MS;
	orbit_member_t member;

	beat_at(fleet, old);
	ck_assert_int_eq(orbit_heartbeat_snapshot(fleet, MAX_AGE_MS, &member, 1), 1);
	assert_member(&member, 0, ORBIT_MEMBER_STALE, old);
	ck_assert_int_eq(orbit_heartbeat_snapshot(fleet, 2 * HOUR_MS, &member, 1), 1);
	assert_member(&member, 0, ORBIT_MEMBER_ALIVE, old);
	ck_assert_int_eq(orbit_heartbeat_snapshot(fleet, UINT64_MAX, &member, 1), 1);
	assert_member(&member, 0, ORBIT_MEMBER_ALIVE, old);
	orbit_fleet_leave(fleet);
}
END_TEST

/*
 * A beat stamped ahead of our clock counts as alive only within max_age_ms: one stamped
 * further ahead (a clock that far off, or a forged stamp) would otherwise keep its node
 * alive until it is overwritten, whatever became of the node.
 */
START_TEST(test_future_beats_bounded)
{
	const uint64_t max_age = 5000;
	orbit_fleet_t *fleet = join_local(0, 2);
	uint64_t now = unix_ms(), beyond = now + max_age + 1000, within = now + max_age - 1000;
	orbit_member_t members[2];

	beat_at(fleet, beyond);
	ck_assert_int_eq(orbit_heartbeat_snapshot(fleet, max_age, members, 2), 2);
	assert_member(&members[0], 0, ORBIT_MEMBER_STALE, beyond);
	assert_member(&members[1], 1, ORBIT_MEMBER_MISSING, 0);

	beat_at(fleet, within);
	ck_assert_int_eq(orbit_heartbeat_snapshot(fleet, max_age, members, 2), 2);
	assert_member(&members[0], 0, ORBIT_MEMBER_ALIVE, within);

	beat_at(fleet, now + HOUR_MS);
	ck_assert_int_eq(orbit_heartbeat_snapshot(fleet, 0, members, 2), 2);
	assert_member(&members[0], 0, ORBIT_MEMBER_STALE, now + HOUR_MS);
	ck_assert_int_eq(orbit_heartbeat_snapshot(fleet, 2 * HOUR_MS, members, 2), 2);
	assert_member(&members[0], 0, ORBIT_MEMBER_ALIVE, now + HOUR_MS);
	orbit_fleet_leave(fleet);
}
END_TEST

/* "Newest" is ring order: a node's latest frame speaks for it, whatever its stamp. */
START_TEST(test_newest_beat_wins)
{
	orbit_fleet_t *fleet = join_local(0, 2);
	uint64_t old = unix_ms() - HOUR_MS, before;
	orbit_member_t members[2];

	beat_at(fleet, old);
	before = unix_ms();
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
	uint64_t now = unix_ms(), earlier = now - 1000;
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

/*
 * Children that beat, say so on `ready`, and live until the parent closes `hold` (or kills
 * them): a node is alive, as the lease table tells, while its process is.
 */
struct holders {
	int ready[2];
	int hold[2];
};

static void holders_open(struct holders *h)
{
	ck_assert_int_eq(pipe(h->ready), 0);
	ck_assert_int_eq(pipe(h->hold), 0);
}

/* First thing in a child: it dies with the test, and only the parent keeps hold open. */
static void holder_start(const struct holders *h)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	close(h->hold[1]);
}

/* In a child: says it is ready, then lives until the parent lets go. */
static int holder_wait(const struct holders *h)
{
	char c = 'r';

	if (write(h->ready[1], &c, 1) != 1)
		return 3;
	while (read(h->hold[0], &c, 1) > 0)
		;
	return 0;
}

static void holders_await(const struct holders *h, int count)
{
	char c;

	for (int i = 0; i < count; i++)
		ck_assert_int_eq(read(h->ready[0], &c, 1), 1);
}

static void holders_release(struct holders *h)
{
	close(h->hold[1]);
	close(h->hold[0]);
	close(h->ready[0]);
	close(h->ready[1]);
}

#define FLEET_SIZE  64
#define FIRST_STALE 25
#define FIRST_GONE  41

/* Nodes 1..24 beat now; nodes 25..40 leave a beat an hour old; the rest never beat. */
static int child_beat(const char *name, uint16_t node, uint64_t old, const struct holders *h)
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
	if (r == 0)
		r = holder_wait(h);
	orbit_fleet_leave(fleet);
	return r == 0 ? 0 : 2;
}

START_TEST(test_fleet_of_64_processes)
{
	orbit_member_t members[FLEET_SIZE], alive[FLEET_SIZE];
	uint64_t old = unix_ms() - HOUR_MS, before = unix_ms();
	pid_t pids[FIRST_GONE];
	struct holders holders;
	orbit_fleet_t *fleet;
	char name[128];

	test_fleet_name(name, sizeof(name), test_tag());
	ck_assert_int_eq(join_shm(name, 0, FLEET_SIZE, 1024, &fleet), 0);
	ck_assert_int_eq(orbit_heartbeat(fleet), 0);
	holders_open(&holders);
	for (uint16_t node = 1; node < FIRST_GONE; node++) {
		pids[node] = fork();
		ck_assert_int_ge(pids[node], 0);
		if (pids[node] == 0) {
			holder_start(&holders);
			_exit(child_beat(name, node, old, &holders));
		}
	}
	holders_await(&holders, FIRST_GONE - 1);

	ck_assert_int_eq(orbit_heartbeat_snapshot(fleet, MAX_AGE_MS, alive, FLEET_SIZE),
			 FLEET_SIZE);
	for (uint16_t node = 0; node < FLEET_SIZE; node++) {
		ck_assert_uint_eq(alive[node].node, node);
		if (node < FIRST_STALE) {
			ck_assert_uint_eq(alive[node].state, ORBIT_MEMBER_ALIVE);
			ck_assert_uint_ge(alive[node].last_beat_ms, before);
		} else if (node < FIRST_GONE) {
			assert_member(&alive[node], node, ORBIT_MEMBER_STALE, old - node);
		} else {
			assert_member(&alive[node], node, ORBIT_MEMBER_MISSING, 0);
		}
	}

	/* Gone now, and the lease table says so: their fresh beats no longer make them alive. */
	holders_release(&holders);
	for (uint16_t node = 1; node < FIRST_GONE; node++)
		test_reap(pids[node]);
	ck_assert_int_eq(orbit_heartbeat_snapshot(fleet, MAX_AGE_MS, members, FLEET_SIZE),
			 FLEET_SIZE);
	ck_assert_uint_eq(members[0].state, ORBIT_MEMBER_ALIVE);
	for (uint16_t node = 1; node < FLEET_SIZE; node++) {
		uint8_t state = node < FIRST_GONE ? ORBIT_MEMBER_STALE : ORBIT_MEMBER_MISSING;

		assert_member(&members[node], node, state, alive[node].last_beat_ms);
	}
	orbit_fleet_leave(fleet);
	test_unlink_fleet(name);
}
END_TEST

/* Joins as node of 3, beats, and lives until released or killed. */
static int child_beat_and_hold(const char *name, uint16_t node, const struct holders *h)
{
	orbit_fleet_t *fleet;
	int r;

	if (join_shm(name, node, 3, 64, &fleet) < 0)
		return 1;
	r = orbit_heartbeat(fleet);
	if (r == 0)
		r = holder_wait(h);
	orbit_fleet_leave(fleet);
	return r == 0 ? 0 : 2;
}

/*
 * A node whose process is gone is not alive, however fresh its last beat: killed right
 * after it beat, it is stale in the next snapshot; one that left the fleet and exited
 * is too. A live node with the same fresh beat stays alive.
 */
START_TEST(test_killed_node_not_alive)
{
	orbit_member_t members[3], first[3];
	struct holders holders;
	orbit_fleet_t *fleet;
	pid_t pids[3];
	char name[128];
	int status;

	test_fleet_name(name, sizeof(name), test_tag());
	ck_assert_int_eq(join_shm(name, 0, 3, 64, &fleet), 0);
	ck_assert_int_eq(orbit_heartbeat(fleet), 0);
	holders_open(&holders);
	for (uint16_t node = 1; node < 3; node++) {
		pids[node] = fork();
		ck_assert_int_ge(pids[node], 0);
		if (pids[node] == 0) {
			holder_start(&holders);
			_exit(child_beat_and_hold(name, node, &holders));
		}
	}
	holders_await(&holders, 2);
	ck_assert_int_eq(orbit_heartbeat_snapshot(fleet, MAX_AGE_MS, first, 3), 3);
	for (uint16_t node = 0; node < 3; node++)
		ck_assert_uint_eq(first[node].state, ORBIT_MEMBER_ALIVE);

	ck_assert_int_eq(kill(pids[1], SIGKILL), 0);
	ck_assert_int_eq(waitpid(pids[1], &status, 0), pids[1]);
	ck_assert(WIFSIGNALED(status));
	ck_assert_int_eq(orbit_heartbeat_snapshot(fleet, MAX_AGE_MS, members, 3), 3);
	assert_member(&members[0], 0, ORBIT_MEMBER_ALIVE, first[0].last_beat_ms);
	assert_member(&members[1], 1, ORBIT_MEMBER_STALE, first[1].last_beat_ms);
	assert_member(&members[2], 2, ORBIT_MEMBER_ALIVE, first[2].last_beat_ms);

	holders_release(&holders);
	test_reap(pids[2]);
	ck_assert_int_eq(orbit_heartbeat_snapshot(fleet, MAX_AGE_MS, members, 3), 3);
	assert_member(&members[2], 2, ORBIT_MEMBER_STALE, first[2].last_beat_ms);
	orbit_fleet_leave(fleet);
	test_unlink_fleet(name);
}
END_TEST

/* A beat as an orbit-rs 0.1 peer writes it, straight into the segment: no record names it. */
static void peer_beat(const struct seg_map *map, uint16_t node, uint64_t stamp)
{
	const struct seg_layout *l = map->layout;
	uint64_t c = seg_fetch_add64(map->base, l->hdr_write_pos, 1);
	uint8_t *slot = seg_slot(map, c);

	seg_store64(slot, l->slot_seq, 2 * c + 1);
	seg_store64(slot, l->slot_id, orbit_id_make(ORBIT_KIND_HEARTBEAT, node, c));
	seg_store8(slot, l->slot_kind, BEAT_FRAME);
	seg_store64(slot, l->slot_ver, stamp);
	seg_store32(slot, l->slot_len, 0);
	seg_store64(slot, l->slot_seq, 2 * c + 2);
}

/* Where liveness is unknown (an orbit-rs 0.1 peer keeps no record), the beat decides alone. */
START_TEST(test_unrecorded_node_judged_by_beat)
{
	uint64_t now = unix_ms(), old = now - HOUR_MS;
	orbit_member_t members[3];
	orbit_fleet_t *fleet;
	struct seg_map map;
	char name[128];

	test_fleet_name(name, sizeof(name), test_tag());
	ck_assert_int_eq(join_shm(name, 0, 3, 64, &fleet), 0);
	beat_ring(fleet);
	ck_assert_int_eq(seg_map_open(&map, name, ORBIT_KIND_HEARTBEAT, 64, 0), 0);

	peer_beat(&map, 2, now);
	ck_assert_int_eq(orbit_heartbeat_snapshot(fleet, MAX_AGE_MS, members, 3), 3);
	assert_member(&members[1], 1, ORBIT_MEMBER_MISSING, 0);
	assert_member(&members[2], 2, ORBIT_MEMBER_ALIVE, now);
	peer_beat(&map, 2, old);
	ck_assert_int_eq(orbit_heartbeat_snapshot(fleet, MAX_AGE_MS, members, 3), 3);
	assert_member(&members[2], 2, ORBIT_MEMBER_STALE, old);
	seg_map_close(&map);
	orbit_fleet_leave(fleet);
	test_unlink_fleet(name);
}
END_TEST

/*
 * Snapshots while every node beats, round robin, as fast as it can, into a ring one slot
 * larger than the fleet: at every instant the ring holds a committed beat of every node,
 * yet a walk back from the head that does not look again at what was written meanwhile
 * meets beats overwritten under it, and reports their nodes missing.
 */
#define WALK_NODES	 63
#define WALK_CAPACITY	 64
#define WALK_OVERLAPS	 2000 /* snapshots during which the head moved by 2 or more */
#define WALK_MIN_OVERLAP 100
#define WALK_DEADLINE_MS 20000

static int child_beat_round_robin(const char *name, _Atomic int *stop, const struct holders *h)
{
	static orbit_fleet_t *fleets[WALK_NODES];

	for (uint16_t node = 0; node < WALK_NODES; node++)
		if (join_shm(name, node, WALK_NODES, WALK_CAPACITY, &fleets[node]) < 0 ||
		    orbit_heartbeat(fleets[node]) < 0)
			return 1;
	if (write(h->ready[1], "r", 1) != 1)
		return 3;
	while (!atomic_load(stop))
		for (uint16_t node = 0; node < WALK_NODES; node++)
			if (orbit_heartbeat(fleets[node]) < 0)
				return 2;
	for (uint16_t node = 0; node < WALK_NODES; node++)
		orbit_fleet_leave(fleets[node]);
	return 0;
}

START_TEST(test_beats_during_walk_not_missing)
{
	orbit_member_t members[WALK_NODES];
	unsigned overlaps = 0, snapshots = 0;
	int bad = -1, bad_state = 0;
	uint64_t deadline, before;
	struct holders holders;
	orbit_fleet_t *fleet;
	orbit_ring_t *ring;
	_Atomic int *stop;
	char name[128];
	pid_t pid;

	test_fleet_name(name, sizeof(name), test_tag());
	ck_assert_int_eq(join_shm(name, 0, WALK_NODES, WALK_CAPACITY, &fleet), 0);
	ring = beat_ring(fleet);
	stop = mmap(NULL, sizeof(*stop), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(stop, MAP_FAILED);
	atomic_init(stop, 0);
	holders_open(&holders);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		holder_start(&holders);
		_exit(child_beat_round_robin(name, stop, &holders));
	}
	holders_await(&holders, 1);

	deadline = mono_ms() + WALK_DEADLINE_MS;
	while (bad < 0 && overlaps < WALK_OVERLAPS && mono_ms() < deadline) {
		before = orbit_ring_head(ring);
		ck_assert_int_eq(orbit_heartbeat_snapshot(fleet, MAX_AGE_MS, members, WALK_NODES),
				 WALK_NODES);
		overlaps += orbit_ring_head(ring) - before >= 2;
		snapshots++;
		for (int node = 0; node < WALK_NODES && bad < 0; node++)
			if (members[node].state != ORBIT_MEMBER_ALIVE) {
				bad = node;
				bad_state = members[node].state;
			}
	}
	atomic_store(stop, 1);
	test_reap(pid);
	holders_release(&holders);
	ck_assert_msg(bad < 0,
		      "snapshot %u of a fleet beating throughout found node %d in state %d",
		      snapshots, bad, bad_state);
	ck_assert_msg(overlaps >= WALK_MIN_OVERLAP,
		      "only %u of %u snapshots ran while the nodes beat", overlaps, snapshots);
	munmap(stop, sizeof(*stop));
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

	before = unix_ms();
	ck_assert_int_eq(orbit_heartbeat(fleet), 0);
	after = unix_ms();
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
	tcase_add_test(snapshot, test_age_limit);
	tcase_add_test(snapshot, test_future_beats_bounded);
	tcase_add_test(snapshot, test_newest_beat_wins);
	tcase_add_test(snapshot, test_overwritten_beat_missing);
	tcase_add_test(snapshot, test_ignores_non_beats);
	tcase_add_test(snapshot, test_fleet_of_64_processes);
	tcase_add_test(snapshot, test_killed_node_not_alive);
	tcase_add_test(snapshot, test_unrecorded_node_judged_by_beat);
	tcase_add_test(snapshot, test_beats_during_walk_not_missing);
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
