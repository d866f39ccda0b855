/* SPDX-License-Identifier: MIT */
/*
 * The contest's subject slots in the fleet's lease table: where a subject lives, and who
 * holds it, decided by compare-and-swap on shared words. The contest substrate publishes
 * what is decided here on its ring; nothing here reads or writes a ring.
 */
#ifndef ORBIT_SUBJECT_H
#define ORBIT_SUBJECT_H

#include <stdint.h>

#define SUBJECT_LABEL_MAX 255

struct lease_table;

struct subject_key {
	uint8_t kind;
	uint8_t len; /* 1..SUBJECT_LABEL_MAX */
	uint8_t label[SUBJECT_LABEL_MAX];
};

/* The slots of one table: the lease records that name holders, and the subject slots. */
struct subject_table {
	struct lease_table *leases;
	void *slots; /* from lease_subjects() */
	int self;    /* this process's record, from lease_table_self() */
};

/* What a holder keeps to renew and release: the words it last wrote. */
struct subject_lease {
	uint32_t slot;
	uint16_t holder; /* the holder field naming this process's record */
	uint64_t token;
	uint64_t term;
};

/*
 * The slot of key, installed if missing: 0 and *slot; -ENOSPC when every slot holds
 * another subject (or is retired); -EAGAIN when this process's own install was retired
 * under it each time it tried (it stayed in the middle of it past the stall bound).
 * Waits up to the stall bound behind a live process installing a subject that may be key.
 */
int subject_install(const struct subject_table *t, const struct subject_key *key, uint32_t *slot);

/* The slot of key if it is installed: 0 and *slot, or -ENOENT. Never waits. */
int subject_lookup(const struct subject_table *t, const struct subject_key *key, uint32_t *slot);

/*
 * Takes the subject in slot for ttl_ms: 0 and *lease; -EBUSY and *node, the holder's node,
 * while another lease is valid (this process's own included); -EOVERFLOW when the
 * subject's tokens are spent; -EAGAIN when the slot changed hands under every try.
 */
int subject_claim(const struct subject_table *t, uint32_t slot, uint64_t ttl_ms,
		  struct subject_lease *lease, uint16_t *node);

/* Extends a valid lease to ttl_ms from now: 0, or -ESTALE when it is no longer valid. */
int subject_renew(const struct subject_table *t, struct subject_lease *lease, uint64_t ttl_ms);

/* Frees the subject if the lease still names it; a lost lease frees nothing. */
void subject_release(const struct subject_table *t, const struct subject_lease *lease);

/* The node holding a valid lease on the subject in slot: 0 and *node, or -ENOENT. */
int subject_holder(const struct subject_table *t, uint32_t slot, uint16_t *node);

#endif
