/* SPDX-License-Identifier: MIT */
/*
 * Typed values: a fixed-size value published as one frame (frame kind 0, ver 0) on the
 * caller's ring; a load returns the newest committed value frame of exactly that size.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <orbit.h>

#include "log.h"
#include "macro.h"

#define VALUE_FRAME_KIND 0

/* Values up to this size are staged on the stack; larger ones in a heap buffer. */
#define VALUE_STACK_BYTES 256

/* Both calls take the same arguments: a 0-byte value could not be told from no value. */
static int value_ring(const char *call, orbit_fleet_t *fleet, uint8_t kind, const void *value,
		      size_t size, orbit_ring_t **ring)
{
	if (!fleet || !value)
		return ORBIT_INVALID("%s: %s is NULL", call, fleet ? "value" : "fleet");
	if (size == 0)
		return ORBIT_INVALID("%s: size is 0", call);
	return orbit_fleet_ring(fleet, kind, ring);
}

ORBIT_EXPORT int orbit_value_store(orbit_fleet_t *fleet, uint8_t kind, const void *value,
				   size_t size)
{
	orbit_ring_t *ring;
	int ret = value_ring(__func__, fleet, kind, value, size, &ring);

	return ret < 0 ? ret : orbit_ring_write(ring, VALUE_FRAME_KIND, 0, value, size, NULL);
}

/* Once a slot older than `counter` has been reused, every older counter is gone as well. */
static bool value_lapped(orbit_ring_t *ring, uint64_t counter)
{
	return orbit_ring_head(ring) - counter > orbit_ring_capacity(ring);
}

/*
 * Walks back from the head over at most one lap, past claims still being written and
 * frames of other kinds, to the newest committed value frame; buf holds it only on 0.
 */
static int value_find_newest(orbit_ring_t *ring, void *buf, size_t size)
{
	uint64_t head = orbit_ring_head(ring);
	uint64_t steps = orbit_ring_capacity(ring);

	for (uint64_t counter = head; counter > 0 && steps > 0; steps--) {
		orbit_frame_t frame;
		int ret;

		counter--;
		ret = orbit_ring_read_at(ring, counter, &frame, buf, size);
		if (ret == -EMSGSIZE && frame.kind == VALUE_FRAME_KIND)
			return -EMSGSIZE;
		if (ret == -ENOENT && value_lapped(ring, counter))
			return -EAGAIN;
		if (ret < 0 || frame.kind != VALUE_FRAME_KIND)
			continue;
		return frame.len == size ? 0 : -EMSGSIZE;
	}
	return -ENOENT;
}

ORBIT_EXPORT int orbit_value_load(orbit_fleet_t *fleet, uint8_t kind, void *value, size_t size)
{
	unsigned char stack[VALUE_STACK_BYTES];
	orbit_ring_t *ring;
	void *staging;
	int ret = value_ring(__func__, fleet, kind, value, size, &ring);

	if (ret < 0)
		return ret;
	if (size > orbit_ring_payload_max(ring))
		return -EMSGSIZE;

	/* A failed or torn read may have scribbled on its buffer: the caller's stays untouched. */
	staging = size <= sizeof(stack) ? stack : malloc(size);
	if (!staging)
		return -ENOMEM;
	ret = value_find_newest(ring, staging, size);
	if (ret == 0)
		memcpy(value, staging, size);
	if (staging != stack)
		free(staging);
	return ret;
}
