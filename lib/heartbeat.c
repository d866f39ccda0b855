/* SPDX-License-Identifier: MIT */
/*
 * Fleet heartbeats: a beat is one empty frame on the heartbeat ring (orbit-rs 0.1),
 * and a snapshot reports every node's newest retained beat as alive, stale or missing.
 */
#include <orbit.h>

#include <errno.h>

#include "clock.h"
#include "macro.h"

#define HEARTBEAT_FRAME 1

ORBIT_EXPORT int orbit_heartbeat(orbit_fleet_t *fleet)
{
	orbit_ring_t *ring;
	uint64_t now;
	int r;

	if (!fleet)
		return -EINVAL;
	r = orbit_fleet_ring(fleet, ORBIT_KIND_HEARTBEAT, &ring);
	if (r < 0)
		return r;
	now = clock_unix_ms();
	return orbit_ring_write(ring, HEARTBEAT_FRAME, now, NULL, 0, NULL);
}

static uint8_t beat_state(uint64_t beat_ms, uint64_t now_ms, uint64_t max_age_ms)
{
	/* A beat stamped ahead of our clock (skew between writers) is as fresh as one stamped now. */
	if (beat_ms >= now_ms || now_ms - beat_ms <= max_age_ms)
		return ORBIT_MEMBER_ALIVE;
	return ORBIT_MEMBER_STALE;
}

/*
 * Walks back from the head, so the first beat met for a node is its newest; stops
 * once every node has one. Only exact beats count: frame kind 1 with an empty
 * payload (a payload makes the size-0 read fail) from a node inside the fleet.
 */
static void beats_collect(orbit_ring_t *ring, orbit_member_t *members, uint16_t size,
			  uint64_t max_age_ms)
{
	uint64_t head = orbit_ring_head(ring);
	uint64_t capacity = orbit_ring_capacity(ring);
	uint64_t oldest = head > capacity ? head - capacity : 0;
	uint64_t now = clock_unix_ms();
	unsigned unseen = size;
	orbit_frame_t frame;
	uint16_t node;

	for (uint64_t c = head; c > oldest && unseen; c--) {
		if (orbit_ring_read_at(ring, c - 1, &frame, NULL, 0) < 0 ||
		    frame.kind != HEARTBEAT_FRAME)
			continue;
		node = orbit_id_node(frame.id);
		if (node >= size || members[node].state != ORBIT_MEMBER_MISSING)
			continue;
		members[node].state = beat_state(frame.ver, now, max_age_ms);
		members[node].last_beat_ms = frame.ver;
		unseen--;
	}
}

ORBIT_EXPORT int orbit_heartbeat_snapshot(orbit_fleet_t *fleet, uint64_t max_age_ms,
					  orbit_member_t *members, size_t count)
{
	orbit_ring_t *ring;
	uint16_t size;
	int r;

	if (!fleet || (!members && count))
		return -EINVAL;
	size = orbit_fleet_size(fleet);
	if (count < size)
		return -ENOSPC;
	r = orbit_fleet_ring(fleet, ORBIT_KIND_HEARTBEAT, &ring);
	if (r < 0)
		return r;

	for (uint16_t node = 0; node < size; node++)
		members[node] = (orbit_member_t){ .node = node, .state = ORBIT_MEMBER_MISSING };
	beats_collect(ring, members, size, max_age_ms);
	return size;
}
