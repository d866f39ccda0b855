/* SPDX-License-Identifier: MIT */
/* NetId64 constants shared by the ring, which mints ids. */
#ifndef ORBIT_ID_H
#define ORBIT_ID_H

#include <stdint.h>

#define ID_COUNTER_BITS 40
#define ID_COUNTER_MASK ((UINT64_C(1) << ID_COUNTER_BITS) - 1)

/* The library's own uses, inlined: the exported calls are the same arithmetic. */
static inline uint64_t id_make(uint8_t kind, uint16_t node, uint64_t counter)
{
	return (uint64_t)kind << 56 | (uint64_t)node << 40 | (counter & ID_COUNTER_MASK);
}

static inline uint8_t id_kind(uint64_t id)
{
	return (uint8_t)(id >> 56);
}

static inline uint64_t id_counter(uint64_t id)
{
	return id & ID_COUNTER_MASK;
}

/* "255:65535:1099511627775" and its NUL. */
#define ID_TEXT_MAX 24

#endif
