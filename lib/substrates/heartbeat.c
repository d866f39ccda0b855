/* SPDX-License-Identifier: MIT */
/*
 * Fleet heartbeats: a beat is one empty frame on the heartbeat ring (orbit-rs 0.1),
 * and a snapshot reports every node's newest retained beat as alive, stale or missing,
 * with the fleet's lease table overruling a beat whose node's processes are all gone.
 */
#include <orbit.h>

#include <errno.h>

#include "clock.h"
#include "fleet.h"
#include "lease.h"
#include "log.h"
#include "macro.h"

#define HEARTBEAT_FRAME 1
/*
 * Frames a snapshot reads, over all its passes, per frame of the ring's capacity: the
 * first pass reads one ring's worth, and the passes after it read only what was written
 * meanwhile, so this bounds the call only when writers outrun it.
 */
#define BEAT_WALK_LAPS 4

struct beat_walk {
	orbit_ring_t *ring;
	orbit_member_t *members;
	uint16_t size;
	unsigned unseen; /* nodes without a beat yet */
	uint64_t budget; /* frames left to read */
};

ORBIT_EXPORT int orbit_heartbeat(orbit_fleet_t *fleet)
{
	orbit_ring_t *ring;
	uint64_t now;
	int ret;

	if (!fleet)
		return ORBIT_INVALID("%s: fleet is NULL", __func__);
	ret = orbit_fleet_ring(fleet, ORBIT_KIND_HEARTBEAT, &ring);
	if (ret < 0)
		return ret;
	now = clock_unix_ms();
	return orbit_ring_write(ring, HEARTBEAT_FRAME, now, NULL, 0, NULL);
}

/*
 * Reads counters high - 1 down to low, so the first beat met for a node is its newest
 * there, and gives it to each node still without one. Only exact beats count: frame
 * kind 1 with an empty payload (a payload makes the size-0 read fail) from a node
 * inside the fleet. Returns the lowest counter still being written, or high if none.
 */
static uint64_t beats_scan(struct beat_walk *w, uint64_t low, uint64_t high)
{
	uint64_t pending = high;
	orbit_frame_t frame;
	uint16_t node;
	int ret;

	for (uint64_t c = high; c > low && w->unseen && w->budget; c--, w->budget--) {
		ret = orbit_ring_read_at(w->ring, c - 1, &frame, NULL, 0);
		if (ret == -EAGAIN)
			pending = c - 1;
		if (ret < 0 || frame.kind != HEARTBEAT_FRAME)
			continue;
		node = orbit_id_node(frame.id);
		if (node >= w->size || w->members[node].state != ORBIT_MEMBER_MISSING)
			continue;
		/* Stale until judged, once every beat is in: see members_judge(). */
		w->members[node].state = ORBIT_MEMBER_STALE;
		w->members[node].last_beat_ms = frame.ver;
		w->unseen--;
	}
	return pending;
}

/*
 * Walks back from the head over one ring's worth of frames. Beats written meanwhile can
 * overwrite the older beats the walk is heading for, so while nodes are missing and the
 * head has moved, it walks again over what was written since, newest first, and over
 * the frames that were still being written when it read them.
 */
static void beats_collect(struct beat_walk *w)
{
	uint64_t capacity = orbit_ring_capacity(w->ring);
	uint64_t top = orbit_ring_head(w->ring), head;
	uint64_t low = top > capacity ? top - capacity : 0;

	for (;;) {
		low = beats_scan(w, low, top);
		if (!w->unseen || !w->budget)
			return;
		head = orbit_ring_head(w->ring);
		/* Nothing claimed since the pass began (or the ring was reset): it saw the
		 * ring as it still stands. */
		if (head <= top)
			return;
		if (head - low > capacity)
			low = head - capacity;
		top = head;
	}
}

/*
 * Alive needs a beat of at most max_age_ms, either way: a beat stamped further ahead of
 * our clock than that says nothing about now (a clock that far off, or a forged stamp).
 */
static uint8_t beat_state(uint64_t beat_ms, uint64_t now_ms, uint64_t max_age_ms)
{
	uint64_t age = beat_ms > now_ms ? beat_ms - now_ms : now_ms - beat_ms;

	return age <= max_age_ms ? ORBIT_MEMBER_ALIVE : ORBIT_MEMBER_STALE;
}

/*
 * The beat says alive or stale by its age, read against the clock after the walk, so no
 * beat the walk met is ahead of it. Liveness only overrules "alive": a node whose
 * records in the lease table all belong to processes that are gone is stale whatever its
 * beat, one with a live process is still stale when it stopped beating, and one no record
 * names (an orbit-rs 0.1 peer) is judged by its beat alone.
 */
static void members_judge(orbit_fleet_t *fleet, orbit_member_t *members, uint16_t size,
			  uint64_t max_age_ms)
{
	struct lease_table *leases = fleet_leases(fleet);
	uint64_t now = clock_unix_ms();

	for (uint16_t node = 0; node < size; node++) {
		orbit_member_t *m = &members[node];

		if (m->state == ORBIT_MEMBER_MISSING)
			continue;
		m->state = beat_state(m->last_beat_ms, now, max_age_ms);
		if (m->state == ORBIT_MEMBER_ALIVE && leases && lease_node_alive(leases, node) == 0)
			m->state = ORBIT_MEMBER_STALE;
	}
}

ORBIT_EXPORT int orbit_heartbeat_snapshot(orbit_fleet_t *fleet, uint64_t max_age_ms,
					  orbit_member_t *members, size_t count)
{
	struct beat_walk walk = { .members = members };
	int ret;

	if (!fleet)
		return ORBIT_INVALID("%s: fleet is NULL", __func__);
	if (!members && count)
		return ORBIT_INVALID("%s: members is NULL, count %zu", __func__, count);
	walk.size = orbit_fleet_size(fleet);
	if (count < walk.size)
		return -ENOSPC;
	ret = orbit_fleet_ring(fleet, ORBIT_KIND_HEARTBEAT, &walk.ring);
	if (ret < 0)
		return ret;

	for (uint16_t node = 0; node < walk.size; node++)
		members[node] = (orbit_member_t){ .node = node, .state = ORBIT_MEMBER_MISSING };
	walk.unseen = walk.size;
	walk.budget = (uint64_t)BEAT_WALK_LAPS * orbit_ring_capacity(walk.ring);
	beats_collect(&walk);
	members_judge(fleet, members, walk.size, max_age_ms);
	return walk.size;
}
