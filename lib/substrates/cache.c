/* SPDX-License-Identifier: MIT */
/*
 * The key/value cache: put, delete and reset frames (orbit-rs 0.1 cache frames) on one
 * ring, and a per-handle index that answers a get without walking the ring.
 */
#include <orbit.h>

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "backoff.h"
#include "clock.h"
#include "log.h"
#include "macro.h"
#include "wire.h"

#define CACHE_OP_PUT	1
#define CACHE_OP_DELETE 2
#define CACHE_OP_RESET	3
#define CACHE_HEADER	13 /* op u8, key_len u16, value_len u16, expires_at_ms u64 */
/*
 * How long a get waits for a writer in the middle of a frame before the one it wants:
 * twice the default stall bound, so that a claim no liveness record names (which the ring
 * gives up after that bound) is given up before the get stops waiting.
 */
#define CACHE_WAIT_NS (2 * STALL_DEFAULT_NS)

/* Frames up to this size are encoded on the stack; larger ones in a heap buffer. */
#define CACHE_STACK_FRAME 512

/* Leading key bytes kept in the index: short keys compare, and match prefixes, without a read. */
#define CACHE_KEY_HEAD 8

/* A cache frame decoded in place: key and value point into the raw payload. */
struct cache_record {
	uint8_t op;
	uint16_t key_len;
	uint16_t value_len;
	uint64_t expires_at_ms;
	const uint8_t *key;
	const uint8_t *value;
};

/*
 * The newest retained put of one key. Entries live at the ring slot of their frame, so
 * there are never more than capacity of them and a frame landing on a slot evicts its entry.
 */
struct cache_entry {
	uint64_t hash;
	uint64_t counter;
	uint16_t key_len;
	bool live;
	uint8_t key_head[CACHE_KEY_HEAD];
};

struct orbit_cache {
	orbit_ring_t *ring;
	uint32_t capacity;
	uint32_t payload_max;
	size_t key_max;
	uint64_t seed; /* keys the hash, so nobody can aim keys at one probe chain */

	pthread_mutex_t lock; /* guards everything below; put, delete and reset never take it */
	uint64_t cursor;      /* next ring counter to index */
	struct cache_entry *entries; /* capacity, by ring slot */
	uint32_t *table;	     /* linear probing over entries: ring slot + 1, 0 = empty */
	uint32_t table_mask;	     /* table holds 2 * capacity: probe chains stay short */
	uint8_t *frame;		     /* payload_max: the frame being indexed or answered */
	uint8_t *other;		     /* payload_max: an indexed frame compared with `frame` */
};

/* False for anything that is not a well-formed cache frame: such frames are ignored. */
static bool cache_decode(const orbit_frame_t *frame, const uint8_t *raw, struct cache_record *rec)
{
	struct wire_reader r = wire_reader_init(raw, frame->len);

	rec->op = wire_u8(&r);
	rec->key_len = wire_u16(&r);
	rec->value_len = wire_u16(&r);
	rec->expires_at_ms = wire_u64(&r);
	rec->key = wire_take(&r, rec->key_len);
	rec->value = wire_take(&r, rec->value_len);
	if (!wire_done(&r) || rec->op != frame->kind)
		return false;
	if (rec->op == CACHE_OP_RESET)
		return true;
	return (rec->op == CACHE_OP_PUT || rec->op == CACHE_OP_DELETE) && rec->key_len > 0;
}

static bool record_has_key(const struct cache_record *rec, const void *key, size_t key_len)
{
	return rec->key_len == key_len && !memcmp(rec->key, key, key_len);
}

static bool record_has_prefix(const struct cache_record *rec, const void *prefix, size_t len)
{
	return rec->key_len >= len && !memcmp(rec->key, prefix, len);
}

static uint64_t hash_mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9u;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebu;
	return x ^ (x >> 31);
}

static uint64_t key_hash(uint64_t seed, const uint8_t *key, size_t len)
{
	uint64_t h = seed ^ len;
	uint64_t word;

	for (; len >= sizeof(word); key += sizeof(word), len -= sizeof(word)) {
		memcpy(&word, key, sizeof(word));
		h = hash_mix(h ^ word);
	}
	word = 0;
	memcpy(&word, key, len);
	return hash_mix(h ^ word);
}

static size_t key_head_len(size_t key_len)
{
	return key_len < CACHE_KEY_HEAD ? key_len : CACHE_KEY_HEAD;
}

/* Exact for keys of up to CACHE_KEY_HEAD bytes; longer ones are confirmed against the ring. */
static bool entry_may_be(const struct cache_entry *e, uint64_t hash, const void *key,
			 size_t key_len)
{
	return e->hash == hash && e->key_len == key_len &&
	       !memcmp(e->key_head, key, key_head_len(key_len));
}

/* Reads the entry's frame into buf; false when it is gone (overwritten) or no longer a put. */
static bool entry_load(const struct orbit_cache *c, const struct cache_entry *e, uint8_t *buf,
		       struct cache_record *rec)
{
	orbit_frame_t frame;

	return orbit_ring_read_at(c->ring, e->counter, &frame, buf, c->payload_max) == 0 &&
	       cache_decode(&frame, buf, rec) && rec->op == CACHE_OP_PUT;
}

static uint32_t table_home(const struct orbit_cache *c, uint64_t hash)
{
	return (uint32_t)hash & c->table_mask;
}

static uint32_t table_step(const struct orbit_cache *c, uint32_t pos)
{
	return (pos + 1) & c->table_mask;
}

static struct cache_entry *table_entry(const struct orbit_cache *c, uint32_t pos)
{
	return &c->entries[c->table[pos] - 1];
}

/* The table never fills: it has twice as many positions as there can be entries. */
static void table_insert(struct orbit_cache *c, uint32_t slot)
{
	uint32_t pos = table_home(c, c->entries[slot].hash);

	while (c->table[pos])
		pos = table_step(c, pos);
	c->table[pos] = slot + 1;
	c->entries[slot].live = true;
}

/* Backward-shift deletion: later members of the chain move up, so no tombstones pile up. */
static void table_remove_at(struct orbit_cache *c, uint32_t pos)
{
	uint32_t hole = pos;

	table_entry(c, pos)->live = false;
	for (uint32_t next = table_step(c, pos); c->table[next]; next = table_step(c, next)) {
		uint32_t home = table_home(c, table_entry(c, next)->hash);

		/* The member at next may move up only if the hole is between its home and next. */
		if (((next - home) & c->table_mask) >= ((next - hole) & c->table_mask)) {
			c->table[hole] = c->table[next];
			hole = next;
		}
	}
	c->table[hole] = 0;
}

static void index_drop(struct orbit_cache *c, uint32_t slot)
{
	uint32_t pos = table_home(c, c->entries[slot].hash);

	while (c->table[pos] != slot + 1)
		pos = table_step(c, pos);
	table_remove_at(c, pos);
}

/*
 * Finds the key's entry and decodes its frame from buf into rec. Entries met on the
 * way whose frame has been overwritten are dropped: nothing of their key is retained.
 */
static bool index_find(struct orbit_cache *c, const void *key, size_t key_len, uint64_t hash,
		       uint8_t *buf, struct cache_record *rec, uint32_t *found)
{
	uint32_t pos = table_home(c, hash);

	while (c->table[pos]) {
		const struct cache_entry *e = table_entry(c, pos);

		if (!entry_may_be(e, hash, key, key_len)) {
			pos = table_step(c, pos);
		} else if (!entry_load(c, e, buf, rec)) {
			table_remove_at(c, pos);
		} else if (record_has_key(rec, key, key_len)) {
			*found = pos;
			return true;
		} else {
			pos = table_step(c, pos);
		}
	}
	return false;
}

static void index_forget_key(struct orbit_cache *c, const struct cache_record *rec)
{
	uint64_t hash = key_hash(c->seed, rec->key, rec->key_len);
	struct cache_record old;
	uint32_t pos;

	if (index_find(c, rec->key, rec->key_len, hash, c->other, &old, &pos))
		table_remove_at(c, pos);
}

/* An entry whose frame can no longer be read counts as matching: it is dropped either way. */
static bool entry_has_prefix(struct orbit_cache *c, const struct cache_entry *e,
			     const uint8_t *prefix, size_t len)
{
	struct cache_record rec;

	if (e->key_len < len || memcmp(e->key_head, prefix, key_head_len(len)))
		return false;
	if (len <= CACHE_KEY_HEAD)
		return true;
	return !entry_load(c, e, c->other, &rec) || record_has_prefix(&rec, prefix, len);
}

static void index_forget_prefix(struct orbit_cache *c, const struct cache_record *rec)
{
	for (uint32_t slot = 0; slot < c->capacity; slot++) {
		struct cache_entry *e = &c->entries[slot];

		if (e->live && entry_has_prefix(c, e, rec->key, rec->key_len))
			index_drop(c, slot);
	}
}

static void index_add_put(struct orbit_cache *c, const struct cache_record *rec, uint32_t slot,
			  uint64_t counter)
{
	struct cache_entry *e = &c->entries[slot];

	index_forget_key(c, rec);
	e->hash = key_hash(c->seed, rec->key, rec->key_len);
	e->counter = counter;
	e->key_len = rec->key_len;
	memcpy(e->key_head, rec->key, key_head_len(rec->key_len));
	table_insert(c, slot);
}

/* Applies the frame at `counter` (in c->frame), newer than everything indexed so far. */
static void index_apply(struct orbit_cache *c, const orbit_frame_t *frame, uint64_t counter)
{
	uint32_t slot = (uint32_t)(counter & (c->capacity - 1));
	struct cache_record rec;

	/* This frame reused the slot, so the put the entry there pointed at is gone. */
	if (c->entries[slot].live)
		index_drop(c, slot);
	if (!cache_decode(frame, c->frame, &rec))
		return;
	switch (rec.op) {
	case CACHE_OP_PUT:
		index_add_put(c, &rec, slot, counter);
		break;
	case CACHE_OP_DELETE:
		index_forget_key(c, &rec);
		break;
	case CACHE_OP_RESET:
		index_forget_prefix(c, &rec);
		break;
	}
}

/*
 * A frame before the head is still being written by a live writer: wait for it, so a
 * get sees every put that returned before it. Bounded, since that writer may be stopped
 * for any time; past the bound the get answers from the frames before it.
 */
static bool catch_up_wait(uint64_t started_ns, struct backoff *backoff)
{
	if (clock_mono_ns() - started_ns >= CACHE_WAIT_NS)
		return false;
	backoff_pause(backoff);
	return true;
}

/*
 * Brings the index up to the ring head seen on entry (not later: a stream of writers
 * must not keep a get from returning). Entries whose frames the ring overwrote while
 * the handle looked away (orbit_ring_next jumps a cursor that fell a lap behind) are
 * evicted when their slot is indexed again, or read as gone when looked up.
 */
static void index_catch_up(struct orbit_cache *c)
{
	uint64_t head = orbit_ring_head(c->ring), started_ns = 0;
	struct backoff backoff = BACKOFF_YIELDING;

	/* The ring was reset and starts again at counter 0. */
	if (head < c->cursor)
		c->cursor = 0;
	while (c->cursor < head) {
		orbit_frame_t frame;
		/* c->frame holds any frame the ring accepts, so the ring never reports -EMSGSIZE;
		 * -EAGAIN means the frame at the cursor is still being written. */
		int ret = orbit_ring_next(c->ring, &c->cursor, &frame, c->frame, c->payload_max,
					  NULL);

		if (ret == -EAGAIN && c->cursor < head) {
			if (!started_ns)
				started_ns = clock_mono_ns();
			if (catch_up_wait(started_ns, &backoff))
				continue;
		}
		if (ret < 0)
			break;
		index_apply(c, &frame, c->cursor - 1);
	}
}

static void cache_free(struct orbit_cache *c)
{
	free(c->entries);
	free(c->table);
	free(c->frame);
	free(c->other);
	free(c);
}

static struct orbit_cache *cache_alloc(orbit_ring_t *ring)
{
	uint32_t capacity = orbit_ring_capacity(ring);
	uint32_t payload_max = orbit_ring_payload_max(ring);
	size_t table_size = (size_t)capacity * 2;
	struct orbit_cache *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->ring = ring;
	c->capacity = capacity;
	c->payload_max = payload_max;
	c->key_max = payload_max > CACHE_HEADER ? payload_max - CACHE_HEADER : 0;
	if (c->key_max > UINT16_MAX)
		c->key_max = UINT16_MAX;
	arc4random_buf(&c->seed, sizeof(c->seed));
	c->table_mask = (uint32_t)(table_size - 1);
	c->entries = calloc(capacity, sizeof(*c->entries));
	c->table = calloc(table_size, sizeof(*c->table));
	c->frame = malloc(payload_max);
	c->other = malloc(payload_max);
	if (!c->entries || !c->table || !c->frame || !c->other ||
	    pthread_mutex_init(&c->lock, NULL)) {
		cache_free(c);
		return NULL;
	}
	return c;
}

ORBIT_EXPORT int orbit_cache_open(orbit_fleet_t *fleet, uint8_t kind, orbit_cache_t **cache)
{
	struct orbit_cache *c;
	orbit_ring_t *ring;
	int ret;

	if (!fleet || !cache)
		return ORBIT_INVALID("orbit_cache_open: %s is NULL", fleet ? "cache" : "fleet");
	ret = orbit_fleet_ring(fleet, kind, &ring);
	if (ret < 0)
		return ret;
	c = cache_alloc(ring);
	if (!c)
		return -ENOMEM;
	index_catch_up(c);
	*cache = c;
	return 0;
}

ORBIT_EXPORT void orbit_cache_close(orbit_cache_t *cache)
{
	if (!cache)
		return;
	pthread_mutex_destroy(&cache->lock);
	cache_free(cache);
}

/* Encodes one cache frame and writes it; -EMSGSIZE before anything is written if it cannot fit. */
static int cache_write(struct orbit_cache *c, uint8_t op, uint64_t expires_at_ms, const void *key,
		       size_t key_len, const void *value, size_t value_len)
{
	uint8_t stack[CACHE_STACK_FRAME];
	uint8_t *frame, *p;
	size_t len;
	int ret;

	/* Lengths are u16 on the wire even when the ring's slots are larger. */
	if (key_len > UINT16_MAX || value_len > UINT16_MAX)
		return -EMSGSIZE;
	len = CACHE_HEADER + key_len + value_len;
	if (len > c->payload_max)
		return -EMSGSIZE;
	frame = len <= sizeof(stack) ? stack : malloc(len);
	if (!frame)
		return -ENOMEM;
	p = wire_put_u8(frame, op);
	p = wire_put_u16(p, (uint16_t)key_len);
	p = wire_put_u16(p, (uint16_t)value_len);
	p = wire_put_u64(p, expires_at_ms);
	p = wire_put_bytes(p, key, key_len);
	wire_put_bytes(p, value, value_len);
	ret = orbit_ring_write(c->ring, op, expires_at_ms, frame, len, NULL);
	if (frame != stack)
		free(frame);
	return ret;
}

/* 0 means no expiry; a TTL that would pass the end of time saturates instead of wrapping. */
static uint64_t cache_expiry(uint64_t ttl_ms)
{
	uint64_t now;

	if (ttl_ms == 0)
		return 0;
	now = clock_unix_ms();
	return ttl_ms > UINT64_MAX - now ? UINT64_MAX : now + ttl_ms;
}

/* The checks put, delete and get share; call names the caller. */
static int key_check(const char *call, const orbit_cache_t *cache, const void *key, size_t key_len)
{
	if (!cache)
		return ORBIT_INVALID("%s: cache is NULL", call);
	if (!key)
		return ORBIT_INVALID("%s: key is NULL", call);
	return key_len ? 0 : ORBIT_INVALID("%s: key_len is 0", call);
}

ORBIT_EXPORT int orbit_cache_put(orbit_cache_t *cache, const void *key, size_t key_len,
				 const void *value, size_t value_len, uint64_t ttl_ms)
{
	int ret = key_check(__func__, cache, key, key_len);

	if (ret < 0)
		return ret;
	if (!value && value_len > 0)
		return ORBIT_INVALID("%s: value is NULL, value_len %zu", __func__, value_len);
	return cache_write(cache, CACHE_OP_PUT, cache_expiry(ttl_ms), key, key_len, value,
			   value_len);
}

ORBIT_EXPORT int orbit_cache_delete(orbit_cache_t *cache, const void *key, size_t key_len)
{
	int ret = key_check(__func__, cache, key, key_len);

	if (ret < 0)
		return ret;
	return cache_write(cache, CACHE_OP_DELETE, 0, key, key_len, NULL, 0);
}

ORBIT_EXPORT int orbit_cache_reset(orbit_cache_t *cache, const void *prefix, size_t prefix_len)
{
	if (!cache)
		return ORBIT_INVALID("%s: cache is NULL", __func__);
	if (!prefix && prefix_len > 0)
		return ORBIT_INVALID("%s: prefix is NULL, prefix_len %zu", __func__, prefix_len);
	return cache_write(cache, CACHE_OP_RESET, 0, prefix, prefix_len, NULL, 0);
}

/* A put is live while the reader's clock is before its expires_at_ms. */
static int record_answer(const struct cache_record *rec, void *buf, size_t size, size_t *value_len)
{
	if (rec->expires_at_ms && clock_unix_ms() >= rec->expires_at_ms)
		return -ENOENT;
	if (value_len)
		*value_len = rec->value_len;
	if (rec->value_len > size)
		return -EMSGSIZE;
	if (rec->value_len)
		memcpy(buf, rec->value, rec->value_len);
	return 0;
}

ORBIT_EXPORT int orbit_cache_get(orbit_cache_t *cache, const void *key, size_t key_len, void *buf,
				 size_t size, size_t *value_len)
{
	struct cache_record rec;
	uint64_t hash;
	uint32_t pos;
	int ret;

	ret = key_check(__func__, cache, key, key_len);
	if (ret < 0)
		return ret;
	if (!buf && size > 0)
		return ORBIT_INVALID("%s: buf is NULL, size %zu", __func__, size);
	/* No frame can carry such a key, so it cannot be cached. */
	if (key_len > cache->key_max)
		return -ENOENT;
	hash = key_hash(cache->seed, key, key_len);

	pthread_mutex_lock(&cache->lock);
	index_catch_up(cache);
	if (index_find(cache, key, key_len, hash, cache->frame, &rec, &pos))
		ret = record_answer(&rec, buf, size, value_len);
	else
		ret = -ENOENT;
	pthread_mutex_unlock(&cache->lock);
	return ret;
}
