/* SPDX-License-Identifier: MIT */
/* The slot protocol over a region; the fleet opens and closes rings through this. */
#ifndef ORBIT_RING_H
#define ORBIT_RING_H

#include <orbit.h>

struct lease_table;

struct ring_config {
	uint8_t kind;
	uint16_t node;		    /* written into every id this handle mints */
	uint32_t capacity;	    /* power of two >= 2 */
	uint32_t payload_max;	    /* 256 selects layout 1, anything else layout 2 */
	uint32_t mode;		    /* permissions of a new segment */
	const char *shm_name;	    /* NULL: process-local memory */
	struct lease_table *leases; /* the fleet's: who holds a claimed counter */
	uint64_t stall_ns;	    /* how long a claim no record names may hold others up */
};

int ring_open(const struct ring_config *config, orbit_ring_t **ring);
void ring_close(orbit_ring_t *ring);

/*
 * Fills config's capacity, payload_max and mode from the existing segment of ring
 * config->kind, without joining it.
 */
int ring_probe(const char *shm_name, struct ring_config *config);

/* Removes a ring's segment name: 1 removed, 0 absent, or a negative errno. */
int ring_unlink(const char *shm_name);

/*
 * orbit_ring_wait() for a reader whose cursor must move, not just the head: sleeps until
 * orbit_ring_next() at cursor would not return -EAGAIN. 0 once the head is past cursor
 * and counter cursor is settled: committed, given up or overwritten, or claimed by a
 * writer that is dead or dropped it, or by a writer no record names that has held it
 * for the stall bound; the next poll then delivers it or counts it lost. A claim a live
 * writer holds keeps the caller asleep however long that writer is stopped; its commit
 * usually wakes the caller, who also looks again every 10 ms (a commit is not fenced
 * against the wake check, and a writer that dies wakes nobody). -ETIMEDOUT, -EINTR and
 * -EINVAL as orbit_ring_wait().
 */
int ring_wait_settled(orbit_ring_t *ring, uint64_t cursor, int timeout_ms);

#endif
