/* SPDX-License-Identifier: MIT */
/*
 * The ring handle, shared by the two halves of the ring layer: the slot protocol
 * (ring.c: writing, reading, judging claims) and sleeping and polling (ring-wait.c).
 */
#ifndef ORBIT_RING_HANDLE_H
#define ORBIT_RING_HANDLE_H

#include <orbit.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "region.h"
#include "ring-layout.h"
#include "ring.h"

/* Marks a seq whose counter was given up (ring.c, seq values). */
#define SEQ_GIVEN_UP (UINT64_C(1) << 63)
/* The largest counter whose committed seq, 2c+2, leaves SEQ_GIVEN_UP clear. */
#define RING_COUNTER_MAX ((SEQ_GIVEN_UP >> 1) - 2)
/* How often a sleeper behind a live writer's frame looks again, in case its wake-up passed. */
#define RING_SETTLE_RECHECK_NS (10ull * 1000000ull)

/* A claim no record names, first seen stuck by this handle at since_ns. */
struct stall_watch {
	uint64_t counter;
	uint64_t since_ns;
};

struct orbit_ring {
	uint8_t *slots;
	_Atomic uint64_t *write_pos;
	_Atomic uint32_t *futex_word;
	_Atomic uint32_t *waiters;
	_Atomic uint32_t *bells_armed;
	struct ring_geometry geo; /* layout, kind, capacity, payload_max, stride */
	uint64_t mask;
	uint16_t node;
	struct region region;
	struct lease_table *leases;
	struct bell_table *bells;
	uint64_t stall_ns;
	pthread_mutex_t watch_lock;
	struct stall_watch watch[4];
	struct ring_poller poller; /* orbit_ring_fd()'s */
	atomic_bool interrupted;   /* orbit_ring_interrupt() */
	/* Polls in a row that found this counter waiting for its writer (see judge_due()). */
	_Atomic uint64_t waiting_counter;
	_Atomic uint32_t waiting_polls;
};

static inline _Atomic uint64_t *field64(uint8_t *base, uint32_t offset)
{
	return (_Atomic uint64_t *)(void *)(base + offset);
}

static inline _Atomic uint32_t *field32(uint8_t *base, uint32_t offset)
{
	return (_Atomic uint32_t *)(void *)(base + offset);
}

static inline uint8_t *slot_of(const orbit_ring_t *ring, uint64_t counter)
{
	return ring->slots + (size_t)(counter & ring->mask) * ring->geo.stride;
}

static inline uint64_t load_head(const orbit_ring_t *ring)
{
	/* Relaxed: the head only says which counters were claimed; each slot's seq decides what is readable. */
	return atomic_load_explicit(ring->write_pos, memory_order_relaxed);
}

enum claim_verdict {
	CLAIM_WAIT,    /* a live writer has it: -EAGAIN, not lost */
	CLAIM_SETTLED, /* its seq moved on: read it again */
	CLAIM_LOST,    /* given up for good: count it lost */
};

/*
 * Counter c is claimed but not committed: what its writer's record, or for a claim no
 * record names the stall bound, says of it (ring.c). *until_ns, if not NULL, is set
 * when the verdict is to wait for a claim that the bound will end.
 */
enum claim_verdict claim_judge(orbit_ring_t *ring, uint64_t c, uint64_t *until_ns);

/* Wakes every thread asleep on the ring, in any process (ring-wait.c). */
void ring_wake_sleepers(const orbit_ring_t *ring);

#endif
