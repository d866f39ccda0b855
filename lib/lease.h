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

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#define LEASE_RECORDS	   512u
#define LEASE_SUBJECTS	   256u
#define LEASE_SUBJECT_SIZE 320u
#define LEASE_COUNTER_BITS 54
#define LEASE_COUNTER_MASK ((UINT64_C(1) << LEASE_COUNTER_BITS) - 1)
#define LEASE_RECORD_SIZE  64u

/* A record's claim word: [state:2][ring kind:8][counter, low 54 bits]. */
#define CLAIM_STATE_SHIFT 62
#define CLAIM_KIND_SHIFT  LEASE_COUNTER_BITS
/* Marks a claim_end word as written by a batch-aware writer (see struct lease_record). */
#define CLAIM_END_SET (UINT64_C(1) << 63)
/* Counters a claim may cover: a batch is at most a ring's capacity. */
#define CLAIM_SPAN_MAX UINT32_MAX

enum claim_state {
	CLAIM_IDLE = 0,
	CLAIM_PENDING = 1, /* about to take a counter of this ring */
	CLAIM_HELD = 2,	   /* taking or writing this counter */
	CLAIM_DROPPED = 3, /* gave this counter up: it will never be committed */
};

/* One record of the table, in shared memory (orbit(7), Lease table). */
struct lease_record {
	_Atomic uint64_t claim;
	_Atomic uint32_t node; /* node + 1 of the holder; 0 = never held */
	_Atomic uint32_t pid;  /* the holder's pid, for people reading the segment */
	/* Bumped each time the record is taken: a lease naming it names one holder. */
	_Atomic uint32_t generation;
	uint32_t pad;
	/*
	 * CLAIM_END_SET | kind | end: a held or dropped claim covers counters up to end
	 * (exclusive), not only the one it names. Not read by liborbit 1.3, which takes a
	 * claim for its one counter; such peers judge the rest of a batch as unrecorded.
	 */
	_Atomic uint64_t claim_end;
	uint8_t reserved[LEASE_RECORD_SIZE - 32];
};

_Static_assert(sizeof(struct lease_record) == LEASE_RECORD_SIZE, "lease record size");

struct lease_table;

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

/*
 * A writer's record, in the order a write goes through it. Inline: they are the write
 * path's only stores besides the frame's. Every claim store is a release: the pending
 * store is ordered before the writer's fetch_add (itself seq_cst), so a reader that saw
 * the head move sees the record too; the idle store is ordered after the commit.
 * Readers pair with acquire loads in lease_owner_of().
 */
static inline uint64_t claim_word(enum claim_state state, uint8_t kind, uint64_t counter)
{
	return (uint64_t)state << CLAIM_STATE_SHIFT | (uint64_t)kind << CLAIM_KIND_SHIFT |
	       (counter & LEASE_COUNTER_MASK);
}

/* Before taking a counter on ring kind: ordered before the fetch_add that takes it. */
static inline void lease_pending(struct lease_record *rec, uint8_t kind)
{
	atomic_store_explicit(&rec->claim, claim_word(CLAIM_PENDING, kind, 0),
			      memory_order_release);
}

/*
 * After the fetch_add, before the first slot is taken: the writer holds [first, end). A
 * claim of one counter leaves the end alone: any end an earlier claim left is at or
 * behind first, a span no claim has, and covers nothing.
 */
static inline void lease_claim(struct lease_record *rec, uint8_t kind, uint64_t first, uint64_t end)
{
	if (end - first == 1) {
		atomic_store_explicit(&rec->claim, claim_word(CLAIM_HELD, kind, first),
				      memory_order_release);
		return;
	}
	/*
	 * Release fence: a reader that sees this end and then fences sees the claim word's
	 * change before it (pending), so its re-read of the word tells it the end is not
	 * the one of the claim it read first (see lease_owner_of()).
	 */
	atomic_thread_fence(memory_order_release);
	atomic_store_explicit(&rec->claim_end,
			      CLAIM_END_SET | (uint64_t)kind << CLAIM_KIND_SHIFT |
				      (end & LEASE_COUNTER_MASK),
			      memory_order_relaxed);
	atomic_store_explicit(&rec->claim, claim_word(CLAIM_HELD, kind, first),
			      memory_order_release);
}

/* A batch's writer moves on to counter: those before it are committed or given up. */
static inline void lease_advance(struct lease_record *rec, uint8_t kind, uint64_t counter)
{
	atomic_store_explicit(&rec->claim, claim_word(CLAIM_HELD, kind, counter),
			      memory_order_release);
}

/* The writer gives counter and the rest of its claim up for good: readers count them
 * lost without waiting. */
static inline void lease_drop(struct lease_record *rec, uint8_t kind, uint64_t counter)
{
	atomic_store_explicit(&rec->claim, claim_word(CLAIM_DROPPED, kind, counter),
			      memory_order_release);
}

/* After the commit (release: whoever sees the record idle sees the commit). */
static inline void lease_idle(struct lease_record *rec)
{
	atomic_store_explicit(&rec->claim, 0, memory_order_release);
}

/* Judges a claimed, uncommitted counter of ring kind by the records that may hold it. */
enum lease_owner lease_owner_of(struct lease_table *table, uint8_t kind, uint64_t counter);

#endif
