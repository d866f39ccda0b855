/* SPDX-License-Identifier: MIT */
/*
 * Doorbells: pollable descriptors that writers ring directly. A fleet's bell table
 * (one small segment beside its rings) lists, per ring kind, the pollers that wait for
 * it; a writer that finds a poller armed sends one datagram to that poller's socket, so
 * a poll, epoll or select on the poller's descriptor wakes after one kernel wake-up.
 * Nothing here knows what a ring is: the ring layer says when to arm and when to ring.
 */
#ifndef ORBIT_BELL_H
#define ORBIT_BELL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct lease_table;
struct bell_table;
struct bell;

/*
 * The table of a fleet whose records are leases; shm_name NULL for a process-local
 * fleet. Nothing is mapped or opened until a poller or a writer needs it.
 */
int bell_table_open(const char *shm_name, uint32_t mode, struct lease_table *leases,
		    struct bell_table **table);
void bell_table_close(struct bell_table *table);
/* Maps (creating if needed) the table's segment now rather than on first use. */
int bell_table_map(struct bell_table *table);

/*
 * Rings every poller of ring kind armed at or below counter. armed is the ring's count
 * of armed pollers, which the writer read as non-zero.
 */
void bells_ring(struct bell_table *table, _Atomic uint32_t *armed, uint8_t kind, uint64_t counter);

/* A poller of ring kind: registers it in the table and makes its descriptor. */
int bell_open(struct bell_table *table, uint8_t kind, struct bell **bell);
/* Disarms, leaves the table and closes the descriptors; armed as for bell_arm(). */
void bell_close(struct bell *bell, _Atomic uint32_t *armed);
/* The descriptor an event loop polls. */
int bell_fd(const struct bell *bell);
/* True in a forked child: the bell is its parent's, and only bell_forget() applies. */
bool bell_inherited(const struct bell *bell);
/* Closes a forked child's copies of the descriptors, leaving the parent's bell as it is. */
void bell_forget(struct bell *bell);

/*
 * Clears readiness and arms the bell for counters from cursor on, counting it in
 * armed (seq_cst, so a writer that takes a counter after this sees it).
 */
void bell_arm(struct bell *bell, _Atomic uint32_t *armed, uint64_t cursor);
/* Makes the descriptor readable now, unless a writer already did. */
void bell_fire(struct bell *bell, _Atomic uint32_t *armed);
/* Makes the descriptor readable at monotonic time until_ns, whoever rings or not. */
void bell_fire_at(struct bell *bell, uint64_t until_ns);

#endif
