/* SPDX-License-Identifier: MIT */
/*
 * The contest's subject slots: finding a subject's slot in the fleet's lease table, and
 * deciding its holder, fencing token and expiry by compare-and-swap on the slot's words.
 *
 * Exclusivity is a property of one word: the owner word names at most one holder, and
 * only a CAS that sees it free, or its holder's lease invalid, names another. A lease is
 * valid while its holder's record lives and the term word names its token, unexpired;
 * only the holder extends the term, and a claimant that takes over first moves the term
 * to the next token, so the old holder's renewal, a CAS of the term it wrote, fails.
 * Every value read from the slots is another process's and may be anything: it is
 * decoded, never trusted to index or size anything.
 */
#include "subject.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>

#include "backoff.h"
#include "clock.h"
#include "lease.h"

/*
 * A slot: the key word says what it holds, then the owner and term words, then the
 * subject itself, written once before the key says it is ready.
 */
struct subject_slot {
	_Atomic uint64_t key;
	_Atomic uint64_t owner; /* token << 16 | holder field (0: free); the token stays */
	_Atomic uint64_t term;	/* expires_ms << 22 | token low 22 bits */
	_Atomic uint64_t shape; /* subject kind | label length << 8 */
	uint8_t reserved[32];
	_Atomic uint64_t label[(SUBJECT_LABEL_MAX + 8) / 8];
};

_Static_assert(sizeof(struct subject_slot) == LEASE_SUBJECT_SIZE, "subject slot size");

/* Key word: [state:2][holder field of the installer:16][tag:46]; 0 is an empty slot. */
#define KEY_STATE_SHIFT	 62
#define KEY_HOLDER_SHIFT 46
#define KEY_TAG_MASK	 ((UINT64_C(1) << KEY_HOLDER_SHIFT) - 1)
enum key_state {
	KEY_EMPTY = 0,	 /* only as the word 0; any other word in this state is junk */
	KEY_WRITING = 1, /* the installer named in it is writing the subject */
	KEY_READY = 2,	 /* the subject is written; it stays for the life of the table */
	KEY_RETIRED = 3, /* an install that never finished: skipped for good */
};

/* Holder field: [generation low 6 bits][record + 1: 10 bits]; record + 1 == 0 is nobody. */
#define HOLDER_RECORD_MASK 0x3ffu
#define HOLDER_GEN_SHIFT   10
#define HOLDER_GEN_MASK	   0x3fu
_Static_assert(LEASE_RECORDS < HOLDER_RECORD_MASK, "record + 1 fits the holder field");

#define OWNER_TOKEN_SHIFT 16
#define TOKEN_MAX	  ((UINT64_C(1) << (64 - OWNER_TOKEN_SHIFT)) - 1)

/*
 * The term names only the token's low 22 bits: a claimant whose CAS expects a term it read
 * four million hand-offs ago would also need that term's expiry, to the millisecond.
 */
#define TERM_TOKEN_BITS 22
#define TERM_TOKEN_MASK ((UINT64_C(1) << TERM_TOKEN_BITS) - 1)
#define TERM_EXPIRY_MAX ((UINT64_C(1) << (64 - TERM_TOKEN_BITS)) - 1)

/* Tries of a claim whose CAS lost to another process's before it could decide. */
#define CLAIM_TRIES 64
/* Re-reads of the owner word to take it and the term as one snapshot. */
#define SNAPSHOT_TRIES 8
/* Restarts of an install whose slot was retired under it. */
#define INSTALL_TRIES 4
/* How long an install by a live process may hold up others: the rings' default stall bound. */
#define INSTALL_STALL_NS STALL_DEFAULT_NS

static struct subject_slot *slot_at(const struct subject_table *t, uint32_t index)
{
	return &((struct subject_slot *)t->slots)[index];
}

/*
 * Expiries are CLOCK_MONOTONIC: one clock for every process of the host, never stepped.
 * Processes in different time namespaces read it with different offsets and must not share
 * a contest.
 */
static uint64_t now_ms(void)
{
	return clock_mono_ns() / 1000000u;
}

/* ---- holders ---- */

static uint16_t self_holder(const struct subject_table *t)
{
	uint32_t gen = lease_record_generation(t->leases, (uint32_t)t->self);

	return (uint16_t)((gen & HOLDER_GEN_MASK) << HOLDER_GEN_SHIFT | ((uint32_t)t->self + 1));
}

/* The record a holder field names, or -1 for nobody or an impossible index. */
static int holder_record(uint16_t holder)
{
	uint32_t rec = holder & HOLDER_RECORD_MASK;

	return rec == 0 || rec > LEASE_RECORDS ? -1 : (int)rec - 1;
}

/*
 * The process named still holds the record it held: the record is locked by a live
 * process and has not been taken again since (a restarted process often gets the record
 * of the one that died).
 */
static bool holder_lives(const struct subject_table *t, uint16_t holder)
{
	int rec = holder_record(holder);

	return rec >= 0 &&
	       (lease_record_generation(t->leases, (uint32_t)rec) & HOLDER_GEN_MASK) ==
		       (uint32_t)holder >> HOLDER_GEN_SHIFT &&
	       lease_record_alive(t->leases, (uint32_t)rec) == 1;
}

static uint16_t holder_node(const struct subject_table *t, uint16_t holder)
{
	int node = lease_record_node(t->leases, (uint32_t)holder_record(holder));

	return node < 0 ? 0 : (uint16_t)node;
}

/* ---- owner and term words ---- */

static uint64_t owner_token(uint64_t owner)
{
	return owner >> OWNER_TOKEN_SHIFT;
}

static uint16_t owner_holder(uint64_t owner)
{
	return (uint16_t)owner;
}

static uint64_t owner_make(uint64_t token, uint16_t holder)
{
	return token << OWNER_TOKEN_SHIFT | holder;
}

static uint64_t term_make(uint64_t expires_ms, uint64_t token)
{
	if (expires_ms > TERM_EXPIRY_MAX)
		expires_ms = TERM_EXPIRY_MAX;
	return expires_ms << TERM_TOKEN_BITS | (token & TERM_TOKEN_MASK);
}

static uint64_t term_expiry(uint64_t term)
{
	return term >> TERM_TOKEN_BITS;
}

static bool term_names(uint64_t term, uint64_t token)
{
	return (term & TERM_TOKEN_MASK) == (token & TERM_TOKEN_MASK);
}

static uint64_t expiry_after(uint64_t now, uint64_t ttl_ms)
{
	return ttl_ms > TERM_EXPIRY_MAX - now ? TERM_EXPIRY_MAX : now + ttl_ms;
}

/*
 * The owner word and a term read while the owner word held that value. Tokens only
 * grow, so an owner word read twice alike did not change in between. Acquire: pairs
 * with the CAS that stored either word, so the holder's record reads as it took it.
 */
static void slot_snapshot(struct subject_slot *s, uint64_t *owner, uint64_t *term)
{
	uint64_t o = atomic_load_explicit(&s->owner, memory_order_acquire), again;

	for (int i = 0; i < SNAPSHOT_TRIES; i++) {
		*term = atomic_load_explicit(&s->term, memory_order_acquire);
		again = atomic_load_explicit(&s->owner, memory_order_acquire);
		if (again == o)
			break;
		o = again;
	}
	*owner = o;
}

/* Checks the cheap words first: the holder's liveness may cost a system call. */
static bool lease_valid(const struct subject_table *t, uint64_t owner, uint64_t term, uint64_t now)
{
	return owner_holder(owner) && term_names(term, owner_token(owner)) &&
	       now < term_expiry(term) && holder_lives(t, owner_holder(owner));
}

int subject_claim(const struct subject_table *t, uint32_t slot, uint64_t ttl_ms,
		  struct subject_lease *lease, uint16_t *node)
{
	struct subject_slot *s = slot_at(t, slot);
	uint16_t me = self_holder(t);

	for (int i = 0; i < CLAIM_TRIES; i++) {
		uint64_t owner, term, token, mine, now = now_ms();

		slot_snapshot(s, &owner, &term);
		if (lease_valid(t, owner, term, now)) {
			*node = holder_node(t, owner_holder(owner));
			return -EBUSY;
		}
		token = owner_token(owner);
		if (token >= TOKEN_MAX)
			return -EOVERFLOW;
		mine = term_make(expiry_after(now, ttl_ms), token + 1);
		/*
		 * Fence first: once the term names the next token, the old holder cannot renew,
		 * whoever then wins the owner word. A term naming it already was moved by another
		 * claimant, who may lose the owner word to us.
		 */
		if (!term_names(term, token + 1)) {
			if (!atomic_compare_exchange_strong(&s->term, &term, mine))
				continue;
			term = mine;
		}
		if (!atomic_compare_exchange_strong(&s->owner, &owner, owner_make(token + 1, me)))
			continue;
		/* Another claimant's expiry stands in the term until this CAS puts ours; if it
		 * fails, someone found that expiry passed and fenced us already. */
		if (term != mine && !atomic_compare_exchange_strong(&s->term, &term, mine))
			continue;
		*lease = (struct subject_lease){
			.slot = slot, .holder = me, .token = token + 1, .term = mine
		};
		return 0;
	}
	return -EAGAIN;
}

int subject_renew(const struct subject_table *t, struct subject_lease *lease, uint64_t ttl_ms)
{
	struct subject_slot *s = slot_at(t, lease->slot);
	uint64_t expected = lease->term, next, now;

	/* Acquire, as in slot_snapshot(); the CAS below decides, this only answers early. */
	if (atomic_load_explicit(&s->owner, memory_order_acquire) !=
	    owner_make(lease->token, lease->holder))
		return -ESTALE;
	now = now_ms();
	/* Past its expiry a lease is over, taken over or not: the holder must learn it. */
	if (now >= term_expiry(expected))
		return -ESTALE;
	next = term_make(expiry_after(now, ttl_ms), lease->token);
	/* Fails when a claimant fenced the term: the CAS that makes renewal and takeover
	 * exclusive. */
	if (!atomic_compare_exchange_strong(&s->term, &expected, next))
		return -ESTALE;
	lease->term = next;
	return 0;
}

void subject_release(const struct subject_table *t, const struct subject_lease *lease)
{
	uint64_t held = owner_make(lease->token, lease->holder);

	/* The token stays: the next holder's is larger. */
	atomic_compare_exchange_strong(&slot_at(t, lease->slot)->owner, &held,
				       owner_make(lease->token, 0));
}

int subject_holder(const struct subject_table *t, uint32_t slot, uint16_t *node)
{
	uint64_t owner, term;

	slot_snapshot(slot_at(t, slot), &owner, &term);
	if (!lease_valid(t, owner, term, now_ms()))
		return -ENOENT;
	*node = holder_node(t, owner_holder(owner));
	return 0;
}

/* ---- finding a subject's slot ---- */

/* FNV-1a over the kind and the label: every process must place a subject alike. */
static uint64_t key_hash(const struct subject_key *key)
{
	uint64_t h = 0xcbf29ce484222325u;

	h = (h ^ key->kind) * 0x100000001b3u;
	for (size_t i = 0; i < key->len; i++)
		h = (h ^ key->label[i]) * 0x100000001b3u;
	return h;
}

static uint64_t key_tag(uint64_t hash)
{
	return hash >> (64 - KEY_HOLDER_SHIFT);
}

static enum key_state key_state(uint64_t key)
{
	return (enum key_state)(key >> KEY_STATE_SHIFT);
}

static uint64_t key_make(enum key_state state, uint16_t holder, uint64_t tag)
{
	return (uint64_t)state << KEY_STATE_SHIFT | (uint64_t)holder << KEY_HOLDER_SHIFT |
	       (tag & KEY_TAG_MASK);
}

static bool key_tagged(uint64_t key, uint64_t tag)
{
	return (key & KEY_TAG_MASK) == tag;
}

/*
 * The subject is written with relaxed stores before the release that makes the slot
 * ready, and read with relaxed loads after the acquire that saw it ready.
 */
static void slot_fill(struct subject_slot *s, const struct subject_key *key)
{
	uint8_t bytes[sizeof(s->label)] = { 0 };

	memcpy(bytes, key->label, key->len);
	atomic_store_explicit(&s->shape, key->kind | (uint64_t)key->len << 8, memory_order_relaxed);
	for (size_t w = 0; w < sizeof(s->label) / 8; w++) {
		uint64_t v;

		memcpy(&v, bytes + 8 * w, 8);
		atomic_store_explicit(&s->label[w], v, memory_order_relaxed);
	}
}

static bool slot_holds(struct subject_slot *s, const struct subject_key *key)
{
	uint64_t shape = atomic_load_explicit(&s->shape, memory_order_relaxed);
	uint8_t bytes[sizeof(s->label)];

	/* Any length but the key's, 256 or more included, is another subject. */
	if ((shape & 0xff) != key->kind || shape >> 8 != key->len)
		return false;
	for (size_t w = 0; w < ((size_t)key->len + 7) / 8; w++) {
		uint64_t v = atomic_load_explicit(&s->label[w], memory_order_relaxed);

		memcpy(bytes + 8 * w, &v, 8);
	}
	return memcmp(bytes, key->label, key->len) == 0;
}

/*
 * Waits while a live process installs, in slot s, a subject that may be ours; returns
 * the key word once it changes. An installer that died, or that stays in the middle of
 * it past the bound, has its slot retired: should it resume, its install fails and
 * starts over, so no subject is ever in two slots.
 */
static uint64_t install_await(const struct subject_table *t, struct subject_slot *s, uint64_t key)
{
	uint64_t deadline = clock_mono_ns() + INSTALL_STALL_NS;
	struct backoff backoff = BACKOFF_YIELDING;
	uint64_t seen;

	for (;;) {
		if (!holder_lives(t, (uint16_t)(key >> KEY_HOLDER_SHIFT)) ||
		    clock_mono_ns() >= deadline)
			break;
		backoff_pause(&backoff);
		seen = atomic_load_explicit(&s->key, memory_order_acquire);
		if (seen != key)
			return seen;
	}
	if (atomic_compare_exchange_strong(&s->key, &key, key_make(KEY_RETIRED, 0, key)))
		return key_make(KEY_RETIRED, 0, key);
	return key;
}

/*
 * Takes the empty slot s for key. 1: installed; 0: the slot was taken first (*seen is
 * its key word now); -EAGAIN: retired under us, the caller starts over.
 */
static int install_at(const struct subject_table *t, struct subject_slot *s,
		      const struct subject_key *key, uint64_t tag, uint64_t *seen)
{
	uint64_t writing = key_make(KEY_WRITING, self_holder(t), tag);

	if (!atomic_compare_exchange_strong(&s->key, seen, writing))
		return 0;
	slot_fill(s, key);
	/* Release: pairs with the acquire loads of the key word in find(). */
	if (!atomic_compare_exchange_strong_explicit(&s->key, &writing, key_make(KEY_READY, 0, tag),
						     memory_order_release, memory_order_relaxed))
		return -EAGAIN;
	return 1;
}

/*
 * Probes linearly from the key's hash. A subject is installed in the first empty slot on
 * its path and slots are never emptied, so a lookup that reaches an empty slot, or a
 * slot still being written for this tag, knows the subject is nowhere further. Installs
 * never pass a slot being written for their tag: it may be their subject.
 */
static int find(const struct subject_table *t, const struct subject_key *key, bool install,
		uint32_t *slot)
{
	uint64_t hash = key_hash(key), tag = key_tag(hash);

	for (uint32_t i = 0; i < LEASE_SUBJECTS; i++) {
		uint32_t index = (uint32_t)((hash + i) % LEASE_SUBJECTS);
		struct subject_slot *s = slot_at(t, index);
		/* Acquire: pairs with the release that made the slot ready. */
		uint64_t k = atomic_load_explicit(&s->key, memory_order_acquire);

		for (;;) {
			int ret;

			if (k == 0) {
				if (!install)
					return -ENOENT;
				ret = install_at(t, s, key, tag, &k);
				if (ret == 0)
					continue;
				if (ret == 1)
					*slot = index;
				return ret < 0 ? ret : 0;
			}
			if (!key_tagged(k, tag))
				break;
			if (key_state(k) == KEY_READY && slot_holds(s, key)) {
				*slot = index;
				return 0;
			}
			if (key_state(k) != KEY_WRITING)
				break;
			if (!install)
				return -ENOENT;
			k = install_await(t, s, k);
		}
	}
	return install ? -ENOSPC : -ENOENT;
}

int subject_install(const struct subject_table *t, const struct subject_key *key, uint32_t *slot)
{
	int ret = -EAGAIN;

	for (int i = 0; i < INSTALL_TRIES && ret == -EAGAIN; i++)
		ret = find(t, key, true, slot);
	return ret;
}

int subject_lookup(const struct subject_table *t, const struct subject_key *key, uint32_t *slot)
{
	return find(t, key, false, slot);
}
