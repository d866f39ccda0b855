/* SPDX-License-Identifier: MIT */
/* The slot protocol over a region; the fleet opens and closes rings through this. */
#ifndef ORBIT_RING_H
#define ORBIT_RING_H

#include <orbit.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/types.h>

struct lease_table;
struct bell_table;
struct bell;

struct ring_config {
	uint8_t kind;
	uint16_t node;		    /* written into every id this handle mints */
	uint32_t capacity;	    /* power of two >= 2 */
	uint32_t payload_max;	    /* 256 selects layout 1, anything else layout 2 */
	uint32_t mode;		    /* permissions of a new segment */
	const char *shm_name;	    /* NULL: process-local memory */
	uid_t owner;		    /* who owns (and alone creates) the segment */
	struct lease_table *leases; /* the fleet's: who holds a claimed counter */
	struct bell_table *bells;   /* the fleet's: pollers to wake */
	uint64_t stall_ns;	    /* how long a claim no record names may hold others up */
};

int ring_open(const struct ring_config *config, orbit_ring_t **ring);
void ring_close(orbit_ring_t *ring);

/*
 * Fills config's capacity, payload_max and mode from the existing segment of ring
 * config->kind, without joining it.
 */
int ring_probe(const char *shm_name, struct ring_config *config);

/*
 * Removes a ring's segment name if it holds owner's object: 1 removed, 0 absent, -EPERM
 * for another user's object (left in place), or a negative errno.
 */
int ring_unlink(const char *shm_name, uid_t owner);

/*
 * orbit_ring_wait() for a reader whose cursor must move, not just the head: sleeps until
 * orbit_ring_next() at cursor would not return -EAGAIN. 0 once the head is past cursor
 * and counter cursor is settled: committed, given up or overwritten, or claimed by a
 * writer that is dead or dropped it, or by a writer no record names that has held it
 * for the stall bound; the next poll then delivers it or counts it lost. A claim a live
 * writer holds keeps the caller asleep however long that writer is stopped; its commit
 * usually wakes the caller, who also looks again every 10 ms (a commit is not fenced
 * against the wake check, and a writer that dies wakes nobody). -ETIMEDOUT once
 * deadline_ns (monotonic; 0 = never) passes, -EINTR, or -ECANCELED while *interrupted.
 */
int ring_wait_settled(orbit_ring_t *ring, uint64_t cursor, uint64_t deadline_ns,
		      const atomic_bool *interrupted);

/* The deadline for ring_wait_settled() timeout_ms (-1: never) from now. */
uint64_t ring_deadline(int timeout_ms);

/*
 * Sets or clears an interrupt flag that sleepers on ring test; setting it wakes every
 * sleeper of the ring, and those whose flag it is return -ECANCELED.
 */
void ring_interrupt(orbit_ring_t *ring, atomic_bool *flag, bool on);

/* A descriptor that polls readable once the frame at an armed cursor settles. */
struct ring_poller {
	pthread_mutex_t lock;
	struct bell *bell; /* made on first use, and anew in a forked child */
};

void ring_poller_init(struct ring_poller *poller);
void ring_poller_close(orbit_ring_t *ring, struct ring_poller *poller);
/* The descriptor, or a negative errno. */
int ring_poller_fd(orbit_ring_t *ring, struct ring_poller *poller);
/* Clears its readiness; it turns readable once the frame at cursor settles. */
int ring_poller_arm(orbit_ring_t *ring, struct ring_poller *poller, uint64_t cursor);

#endif
