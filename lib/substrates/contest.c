/* SPDX-License-Identifier: MIT */
/*
 * The claim/yield contest: who holds a subject is decided in the fleet's lease table
 * (subject.c); claims, renewals and releases are also published as orbit-rs 0.1 contest
 * frames on the ring ORBIT_KIND_CONTEST, for observers and for peers that read only the
 * ring. The frames record decisions; nothing here reads them back.
 */
#include <orbit.h>

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "fleet.h"
#include "lease.h"
#include "log.h"
#include "macro.h"
#include "subject.h"
#include "wire.h"

#define CONTEST_CLAIM	1
#define CONTEST_RELEASE 2
#define CLAIM_HEADER	21 /* subject_kind u8, subject_len u16, owner_len u16, 2 x u64 */
#define RELEASE_HEADER	11 /* claim_id u64, subject_kind u8, subject_len u16 */
#define OWNER_MAX	255

struct orbit_guard {
	orbit_ring_t *ring;
	struct subject_table table;
	struct subject_lease lease;
	struct subject_key key;
	bool lost; /* a renewal found the lease over: only release remains */
	uint8_t owner_len;
	uint64_t claimed_at_ms; /* Unix ms, carried by every claim frame of the lease */
	orbit_id_t newest;	/* the newest claim frame, which the release names */
	char owner[OWNER_MAX];
};

/* ---- frames ---- */

static int key_init(const char *call, struct subject_key *key, uint8_t kind, const char *label)
{
	size_t len = label ? strnlen(label, SUBJECT_LABEL_MAX + 1) : 0;

	if (!label)
		return ORBIT_INVALID("%s: label is NULL", call);
	if (len == 0 || len > SUBJECT_LABEL_MAX)
		return ORBIT_INVALID("%s: label is %s %u bytes", call,
				     len ? "longer than" : "empty, not 1 to", SUBJECT_LABEL_MAX);
	key->kind = kind;
	key->len = (uint8_t)len;
	memcpy(key->label, label, len);
	return 0;
}

static size_t claim_size(const orbit_guard_t *g)
{
	return CLAIM_HEADER + g->key.len + g->owner_len;
}

/* A claim frame of the guard's lease, dated now, expiring ttl_ms later. */
static int claim_publish(orbit_guard_t *g, uint64_t ttl_ms)
{
	uint8_t buf[CLAIM_HEADER + SUBJECT_LABEL_MAX + OWNER_MAX], *p;
	uint64_t now_ms = clock_unix_ms();
	uint64_t expires = ttl_ms > UINT64_MAX - now_ms ? UINT64_MAX : now_ms + ttl_ms;
	orbit_id_t id;
	int ret;

	p = wire_put_u8(buf, g->key.kind);
	p = wire_put_u16(p, g->key.len);
	p = wire_put_u16(p, g->owner_len);
	p = wire_put_u64(p, g->claimed_at_ms);
	p = wire_put_u64(p, expires);
	p = wire_put_bytes(p, g->key.label, g->key.len);
	wire_put_bytes(p, g->owner, g->owner_len);
	ret = orbit_ring_write(g->ring, CONTEST_CLAIM, now_ms, buf, claim_size(g), &id);
	if (ret == 0)
		g->newest = id;
	return ret;
}

/* A release naming the guard's newest claim frame: readers of the ring end its claim. */
static int release_publish(const orbit_guard_t *g)
{
	uint8_t buf[RELEASE_HEADER + SUBJECT_LABEL_MAX], *p;

	p = wire_put_u64(buf, g->newest);
	p = wire_put_u8(p, g->key.kind);
	p = wire_put_u16(p, g->key.len);
	wire_put_bytes(p, g->key.label, g->key.len);
	return orbit_ring_write(g->ring, CONTEST_RELEASE, clock_unix_ms(), buf,
				RELEASE_HEADER + g->key.len, NULL);
}

/* ---- the fleet's table ---- */

/* The contest ring and the subject slots; with_self also this process's record. */
static int contest_open(orbit_fleet_t *fleet, bool with_self, orbit_ring_t **ring,
			struct subject_table *t)
{
	int ret = orbit_fleet_ring(fleet, ORBIT_KIND_CONTEST, ring);

	t->self = -1;
	if (ret < 0)
		return ret;
	/* A fleet opens its lease table before its first ring: this finds it open. */
	t->leases = fleet_leases(fleet);
	if (!t->leases)
		return -ENOMEM;
	ret = lease_subjects(t->leases, &t->slots);
	if (ret < 0 || !with_self)
		return ret;
	t->self = lease_table_self(t->leases);
	return t->self < 0 ? t->self : 0;
}

static int guard_new(orbit_fleet_t *fleet, uint8_t subject_kind, const char *label,
		     const char *owner, orbit_guard_t **out)
{
	size_t owner_len = owner ? strnlen(owner, OWNER_MAX + 1) : 0;
	orbit_guard_t *g;
	int ret;

	if (owner_len > OWNER_MAX)
		return ORBIT_INVALID("orbit_contest_claim: owner is longer than %u bytes",
				     OWNER_MAX);
	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	ret = key_init("orbit_contest_claim", &g->key, subject_kind, label);
	if (ret == 0)
		ret = contest_open(fleet, true, &g->ring, &g->table);
	g->owner_len = (uint8_t)owner_len;
	memcpy(g->owner, owner ? owner : "", owner_len);
	if (ret == 0 && claim_size(g) > orbit_ring_payload_max(g->ring))
		ret = -EMSGSIZE;
	if (ret < 0) {
		free(g);
		return ret;
	}
	*out = g;
	return 0;
}

/*
 * Publishes a new lease's first claim frame. A lease that ring readers cannot be told of
 * is given back: a live writer stalled on the ring held the frame up past its bound.
 */
static int guard_announce(orbit_guard_t *g, uint64_t ttl_ms)
{
	int ret;

	g->claimed_at_ms = clock_unix_ms();
	ret = claim_publish(g, ttl_ms);
	if (ret == 0)
		return 0;
	subject_release(&g->table, &g->lease);
	return ret == -EBUSY || ret == -ESTALE ? -EAGAIN : ret;
}

/* ---- public calls ---- */

ORBIT_EXPORT int orbit_contest_claim(orbit_fleet_t *fleet, uint8_t subject_kind, const char *label,
				     const char *owner, uint64_t ttl_ms, orbit_guard_t **guard,
				     uint16_t *holder)
{
	orbit_guard_t *g;
	uint32_t slot;
	uint16_t node = 0;
	int ret;

	if (!fleet || !guard)
		return ORBIT_INVALID("%s: %s is NULL", __func__, fleet ? "guard" : "fleet");
	if (!ttl_ms)
		return ORBIT_INVALID("%s: ttl_ms is 0", __func__);
	ret = guard_new(fleet, subject_kind, label, owner, &g);
	if (ret < 0)
		return ret;
	ret = subject_install(&g->table, &g->key, &slot);
	if (ret == 0)
		ret = subject_claim(&g->table, slot, ttl_ms, &g->lease, &node);
	if (ret == -EBUSY && holder)
		*holder = node;
	if (ret == 0)
		ret = guard_announce(g, ttl_ms);
	if (ret < 0) {
		free(g);
		return ret;
	}
	*guard = g;
	return 0;
}

ORBIT_EXPORT int orbit_contest_holder(orbit_fleet_t *fleet, uint8_t subject_kind, const char *label,
				      uint16_t *holder)
{
	struct subject_table table;
	struct subject_key key;
	orbit_ring_t *ring;
	uint32_t slot;
	uint16_t node;
	int ret;

	if (!fleet)
		return ORBIT_INVALID("%s: fleet is NULL", __func__);
	ret = key_init(__func__, &key, subject_kind, label);
	if (ret == 0)
		ret = contest_open(fleet, false, &ring, &table);
	if (ret == 0)
		ret = subject_lookup(&table, &key, &slot);
	if (ret == 0)
		ret = subject_holder(&table, slot, &node);
	if (ret == 0 && holder)
		*holder = node;
	return ret;
}

ORBIT_EXPORT int orbit_guard_renew(orbit_guard_t *guard, uint64_t ttl_ms)
{
	int ret;

	if (!guard)
		return ORBIT_INVALID("%s: guard is NULL", __func__);
	if (!ttl_ms)
		return ORBIT_INVALID("%s: ttl_ms is 0", __func__);
	if (guard->lost)
		return -ESTALE;
	ret = subject_renew(&guard->table, &guard->lease, ttl_ms);
	if (ret < 0) {
		guard->lost = true;
		return ret;
	}
	/* The table renewed the lease; a frame a stalled ring writer held up only leaves
	 * ring readers with the previous expiry. */
	claim_publish(guard, ttl_ms);
	return 0;
}

ORBIT_EXPORT uint64_t orbit_guard_token(const orbit_guard_t *guard)
{
	return guard ? guard->lease.token : 0;
}

ORBIT_EXPORT int orbit_guard_release(orbit_guard_t *guard)
{
	int ret;

	if (!guard)
		return 0;
	/* The frame first: ring readers see the release before the next holder's claim. */
	ret = release_publish(guard);
	subject_release(&guard->table, &guard->lease);
	free(guard);
	return ret;
}
