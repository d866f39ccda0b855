/* SPDX-License-Identifier: MIT */
/*
 * Liveness: a fleet's lease table, one small segment beside its rings. Every process
 * holds a record there, and every writing thread one more, each locked with an
 * open-file-description lock that the kernel drops when the process dies. A writer's
 * record names the ring counter it is writing, so a stalled live writer is told from
 * a dead one by asking the kernel, never by a clock. The table also carries the
 * contest's subject slots, whose holders are named by record.
 */
#ifndef ORBIT_LEASE_H
#define ORBIT_LEASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#define LEASE_RECORDS	   512u
#define LEASE_SUBJECTS	   256u
#define LEASE_SUBJECT_SIZE 320u
#define LEASE_COUNTER_BITS 54
#define LEASE_COUNTER_MASK ((UINT64_C(1) << LEASE_COUNTER_BITS) - 1)

struct lease_table;
struct lease_record;

/* What the records say about a ring counter that is claimed but not committed. */
enum lease_owner {
	LEASE_OWNER_NONE,    /* no record names it: a writer without one (orbit-rs 0.1) */
	LEASE_OWNER_ALIVE,   /* a live process holds it, or may be about to */
	LEASE_OWNER_DEAD,    /* the record that holds it belongs to a process that is gone */
	LEASE_OWNER_DROPPED, /* its writer gave it up and will never commit it */
};

/*
 * Opens (creating if needed) the records of a shared fleet, or process-local ones when
 * shm_name is NULL, and takes this process's record for node. The subject slots live in
 * a segment of their own, subjects_name, made on first use.
 */
int lease_table_open(const char *shm_name, const char *subjects_name, uid_t owner, uint32_t mode,
		     uint16_t node, struct lease_table **table);
void lease_table_close(struct lease_table *table);
/* Removes a table's name if owner's object holds it: as ring_unlink(). */
int lease_table_unlink(const char *shm_name, uid_t owner);

/* Whether the records object shm_name exists, whether or not the caller may open it. */
bool lease_table_exists(const char *shm_name);

/*
 * Calls found() for every records object whose name starts with prefix that another user
 * shares with the caller's group, as region_shm_shared() does; returns what it returns.
 */
int lease_tables_shared(const char *prefix,
			int (*found)(const char *name, const struct stat *st, void *ctx),
			void *ctx);

/* This process's record index, held until the table is closed; or -errno. */
int lease_table_self(struct lease_table *table);

/* 1 if the process holding record index is alive, 0 if it is gone (or index is invalid). */
int lease_record_alive(struct lease_table *table, uint32_t index);

/*
 * The node of the process that last took record index, or -ENOENT (never taken, or an
 * index or value out of range). Written before the record is used, so whoever learnt the
 * index from a word the holder stored after taking the record reads its node.
 */
int lease_record_node(struct lease_table *table, uint32_t index);

/*
 * How many times record index has been taken (0 for an invalid index): with the index,
 * it tells the process that held a record from a later one that took it after a death.
 */
uint32_t lease_record_generation(struct lease_table *table, uint32_t index);

/* 1 if a live process holds a record of node, 0 if records of node exist and all are
 * dead, -ENOENT if no record names node (liveness unknown). */
int lease_node_alive(struct lease_table *table, uint16_t node);

/*
 * The contest's subject slots, opened (created zeroed) on first use: LEASE_SUBJECTS slots
 * of LEASE_SUBJECT_SIZE bytes, 64-byte aligned, in shared memory any same-uid process may
 * write. 0 and *slots, or a negative errno.
 */
int lease_subjects(struct lease_table *table, void **slots);

/* ---- writers: the calling thread's record, acquired on first use ---- */

/* NULL when no record can be had (the table is full): the write goes unrecorded. */
struct lease_record *lease_writer(struct lease_table *table);

/* Before taking a counter on ring kind: ordered before the fetch_add that takes it. */
void lease_pending(struct lease_record *rec, uint8_t kind);
/* After the fetch_add, before the first slot is taken: the writer holds [first, end). */
void lease_claim(struct lease_record *rec, uint8_t kind, uint64_t first, uint64_t end);
/* A batch's writer moves on to counter: those before it are committed or given up. */
void lease_advance(struct lease_record *rec, uint8_t kind, uint64_t counter);
/* The writer gives counter and the rest of its claim up for good: readers count them
 * lost without waiting. */
void lease_drop(struct lease_record *rec, uint8_t kind, uint64_t counter);
/* After the commit (release: whoever sees the record idle sees the commit). */
void lease_idle(struct lease_record *rec);

/* Judges a claimed, uncommitted counter of ring kind by the records that may hold it. */
enum lease_owner lease_owner_of(struct lease_table *table, uint8_t kind, uint64_t counter);

#endif
