/* SPDX-License-Identifier: MIT */
/*
 * The cache: put/get/delete/reset rules, TTL, errors, the per-handle index against a model
 * of the ring, the §6 wire frames both ways, garbage frames, threads and processes.
 */
#include <orbit.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "copy-trap.h"
#include "fixture.h"
#include "segment-layout.h"
#include "testutil.h"

#define KIND   ORBIT_KIND_CACHE
#define HEADER 13

enum { OP_PUT = 1, OP_DELETE = 2, OP_RESET = 3 };

/* The test's handle is fixture_fleet, node 0 of 2; forked children join as node 1. */

static orbit_ring_t *ring_ok(void)
{
	return fixture_ring(fixture_fleet, KIND);
}

static orbit_cache_t *cache_ok(void)
{
	orbit_cache_t *cache = NULL;

	ck_assert_int_eq(orbit_cache_open(fixture_fleet, KIND, &cache), 0);
	ck_assert_ptr_nonnull(cache);
	return cache;
}

static void put_ok(orbit_cache_t *cache, const char *key, const char *value, uint64_t ttl_ms)
{
	ck_assert_int_eq(orbit_cache_put(cache, key, strlen(key), value, strlen(value), ttl_ms), 0);
}

static void assert_hit(orbit_cache_t *cache, const char *key, const char *value)
{
	char buf[512];
	size_t len = 0;

	ck_assert_int_eq(orbit_cache_get(cache, key, strlen(key), buf, sizeof(buf), &len), 0);
	ck_assert_uint_eq(len, strlen(value));
	ck_assert_mem_eq(buf, value, len);
}

static void assert_miss(orbit_cache_t *cache, const char *key)
{
	char buf[16] = "untouched";
	size_t len = 12345;

	ck_assert_int_eq(orbit_cache_get(cache, key, strlen(key), buf, sizeof(buf), &len), -ENOENT);
	ck_assert_str_eq(buf, "untouched");
	ck_assert_uint_eq(len, 12345);
}

/* Encodes a §6 cache payload by hand, independently of the library. Returns its length. */
static size_t encode_frame(uint8_t *out, uint8_t op, uint16_t key_len, uint16_t value_len,
			   uint64_t expires_at_ms, const void *key, const void *value)
{
	out[0] = op;
	out[1] = (uint8_t)key_len;
	out[2] = (uint8_t)(key_len >> 8);
	out[3] = (uint8_t)value_len;
	out[4] = (uint8_t)(value_len >> 8);
	for (int i = 0; i < 8; i++)
		out[5 + i] = (uint8_t)(expires_at_ms >> (8 * i));
	memcpy(out + HEADER, key, key_len);
	memcpy(out + HEADER + key_len, value, value_len);
	return HEADER + (size_t)key_len + value_len;
}

static void write_frame(uint8_t frame_kind, uint8_t op, const char *key, const char *value,
			uint64_t expires_at_ms)
{
	uint8_t raw[256];
	size_t len = encode_frame(raw, op, (uint16_t)strlen(key), (uint16_t)strlen(value),
				  expires_at_ms, key, value);

	ck_assert_int_eq(orbit_ring_write(ring_ok(), frame_kind, expires_at_ms, raw, len, NULL), 0);
}

START_TEST(test_put_then_get)
{
	orbit_cache_t *cache;
	char buf[8];

	fixture_fleet = fixture_join(_i, 0, 2, 0, 0);
	cache = cache_ok();
	put_ok(cache, "user:1", "alice", 0);
	assert_hit(cache, "user:1", "alice");
	/* value_len may be NULL. */
	ck_assert_int_eq(orbit_cache_get(cache, "user:1", 6, buf, sizeof(buf), NULL), 0);
	ck_assert_mem_eq(buf, "alice", 5);
	assert_miss(cache, "user:2");
	assert_miss(cache, "user:");
	orbit_cache_close(cache);
}
END_TEST

START_TEST(test_overwrite_newest_wins)
{
	orbit_cache_t *cache;

	fixture_fleet = fixture_join(_i, 0, 2, 0, 0);
	cache = cache_ok();
	put_ok(cache, "k", "one", 0);
	put_ok(cache, "k", "two", 0);
	assert_hit(cache, "k", "two");
	put_ok(cache, "k", "three", 0);
	put_ok(cache, "other", "x", 0);
	assert_hit(cache, "k", "three");
	assert_hit(cache, "other", "x");
	orbit_cache_close(cache);
}
END_TEST

START_TEST(test_empty_value)
{
	orbit_cache_t *cache;
	size_t len = 99;

	fixture_fleet = fixture_join(_i, 0, 2, 0, 0);
	cache = cache_ok();
	ck_assert_int_eq(orbit_cache_put(cache, "k", 1, NULL, 0, 0), 0);
	ck_assert_int_eq(orbit_cache_get(cache, "k", 1, NULL, 0, &len), 0);
	ck_assert_uint_eq(len, 0);
	orbit_cache_close(cache);
}
END_TEST

START_TEST(test_binary_and_long_keys)
{
	const uint8_t bin_a[] = { 0, 1, 0, 2 }, bin_b[] = { 0, 1, 0, 3 };
	orbit_cache_t *cache;
	char buf[8];
	size_t len;

	fixture_fleet = fixture_join(_i, 0, 2, 0, 0);
	cache = cache_ok();
	/* Long keys that share their first bytes must not be confused. */
	put_ok(cache, "abcdefgh-key-1", "v1", 0);
	put_ok(cache, "abcdefgh-key-2", "v2", 0);
	put_ok(cache, "abcdefgh", "short", 0);
	assert_hit(cache, "abcdefgh-key-1", "v1");
	assert_hit(cache, "abcdefgh-key-2", "v2");
	assert_hit(cache, "abcdefgh", "short");
	assert_miss(cache, "abcdefgh-key-3");
	assert_miss(cache, "abcdefg");
	ck_assert_int_eq(orbit_cache_put(cache, bin_a, sizeof(bin_a), "A", 1, 0), 0);
	ck_assert_int_eq(orbit_cache_put(cache, bin_b, sizeof(bin_b), "B", 1, 0), 0);
	ck_assert_int_eq(orbit_cache_get(cache, bin_a, sizeof(bin_a), buf, sizeof(buf), &len), 0);
	ck_assert_uint_eq(len, 1);
	ck_assert_int_eq(buf[0], 'A');
	ck_assert_int_eq(orbit_cache_get(cache, bin_b, 3, buf, sizeof(buf), &len), -ENOENT);
	orbit_cache_close(cache);
}
END_TEST

START_TEST(test_delete_shadows)
{
	orbit_cache_t *cache;

	fixture_fleet = fixture_join(_i, 0, 2, 0, 0);
	cache = cache_ok();
	put_ok(cache, "k", "v", 0);
	put_ok(cache, "keep", "v", 0);
	ck_assert_int_eq(orbit_cache_delete(cache, "k", 1), 0);
	assert_miss(cache, "k");
	assert_hit(cache, "keep", "v");
	/* Deleting what is not there is still a frame, and harmless. */
	ck_assert_int_eq(orbit_cache_delete(cache, "never", 5), 0);
	put_ok(cache, "k", "again", 0);
	assert_hit(cache, "k", "again");
	orbit_cache_close(cache);
}
END_TEST

START_TEST(test_reset_prefix_shadows)
{
	orbit_cache_t *cache;

	fixture_fleet = fixture_join(_i, 0, 2, 0, 0);
	cache = cache_ok();
	put_ok(cache, "user:1", "a", 0);
	put_ok(cache, "user:2", "b", 0);
	put_ok(cache, "user:profile:long-key", "c", 0);
	put_ok(cache, "users", "d", 0);
	put_ok(cache, "team:1", "e", 0);
	ck_assert_int_eq(orbit_cache_reset(cache, "user:", 5), 0);
	assert_miss(cache, "user:1");
	assert_miss(cache, "user:2");
	assert_miss(cache, "user:profile:long-key");
	assert_hit(cache, "users", "d");
	assert_hit(cache, "team:1", "e");

	/* A put after the reset is visible; a prefix longer than the index keeps in memory too. */
	put_ok(cache, "user:1", "new", 0);
	assert_hit(cache, "user:1", "new");
	put_ok(cache, "user:profile:other", "f", 0);
	ck_assert_int_eq(orbit_cache_reset(cache, "user:profile:", 13), 0);
	assert_miss(cache, "user:profile:other");
	assert_hit(cache, "user:1", "new");
	/* The key itself is a prefix of itself. */
	ck_assert_int_eq(orbit_cache_reset(cache, "team:1", 6), 0);
	assert_miss(cache, "team:1");
	orbit_cache_close(cache);
}
END_TEST

START_TEST(test_reset_empty_prefix_shadows_all)
{
	orbit_cache_t *cache;

	fixture_fleet = fixture_join(_i, 0, 2, 0, 0);
	cache = cache_ok();
	put_ok(cache, "a", "1", 0);
	put_ok(cache, "bbbbbbbbbbbbbbbb", "2", 0);
	ck_assert_int_eq(orbit_cache_reset(cache, NULL, 0), 0);
	assert_miss(cache, "a");
	assert_miss(cache, "bbbbbbbbbbbbbbbb");
	put_ok(cache, "a", "3", 0);
	assert_hit(cache, "a", "3");
	ck_assert_int_eq(orbit_cache_reset(cache, "", 0), 0);
	assert_miss(cache, "a");
	orbit_cache_close(cache);
}
END_TEST

START_TEST(test_ttl_expiry)
{
	orbit_cache_t *cache;

	fixture_fleet = fixture_join(_i, 0, 2, 0, 0);
	cache = cache_ok();
	put_ok(cache, "short", "v", 50);
	put_ok(cache, "long", "v", 3600 * 1000);
	put_ok(cache, "shadowed", "forever", 0);
	put_ok(cache, "shadowed", "briefly", 50);
	sleep_ms(200);
	assert_miss(cache, "short");
	assert_hit(cache, "long", "v");
	/* The newest frame decides: an expired put does not uncover an older one. */
	assert_miss(cache, "shadowed");
	put_ok(cache, "short", "renewed", 0);
	assert_hit(cache, "short", "renewed");
	orbit_cache_close(cache);
}
END_TEST

/* A TTL that would overflow the clock means "practically never". */
START_TEST(test_ttl_saturates)
{
	orbit_cache_t *cache;
	orbit_frame_t frame;
	uint8_t raw[64];

	fixture_fleet = fixture_join(_i, 0, 2, 0, 0);
	cache = cache_ok();
	put_ok(cache, "k", "v", UINT64_MAX);
	assert_hit(cache, "k", "v");
	ck_assert_int_eq(orbit_ring_read_head(ring_ok(), &frame, raw, sizeof(raw)), 0);
	ck_assert_uint_eq(frame.ver, UINT64_MAX);
	orbit_cache_close(cache);
}
END_TEST

START_TEST(test_get_buffer_too_small)
{
	char buf[4] = "abc";
	orbit_cache_t *cache;
	size_t len = 0;

	fixture_fleet = fixture_join(_i, 0, 2, 0, 0);
	cache = cache_ok();
	put_ok(cache, "k", "0123456789", 0);
	ck_assert_int_eq(orbit_cache_get(cache, "k", 1, buf, sizeof(buf), &len), -EMSGSIZE);
	ck_assert_uint_eq(len, 10);
	ck_assert_str_eq(buf, "abc");
	len = 0;
	ck_assert_int_eq(orbit_cache_get(cache, "k", 1, NULL, 0, &len), -EMSGSIZE);
	ck_assert_uint_eq(len, 10);
	ck_assert_int_eq(orbit_cache_get(cache, "k", 1, NULL, 0, NULL), -EMSGSIZE);
	orbit_cache_close(cache);
}
END_TEST

START_TEST(test_handles_share_the_ring)
{
	orbit_cache_t *a, *b;

	fixture_fleet = fixture_join(_i, 0, 2, 0, 0);
	a = cache_ok();
	put_ok(a, "k", "from a", 0);
	b = cache_ok();
	assert_hit(b, "k", "from a");
	put_ok(b, "k", "from b", 0);
	ck_assert_int_eq(orbit_cache_delete(b, "gone", 4), 0);
	assert_hit(a, "k", "from b");
	orbit_cache_close(a);
	orbit_cache_close(b);
}
END_TEST

/* A handle opened on a ring with history indexes every retained frame, in order. */
START_TEST(test_open_builds_from_retained_frames)
{
	orbit_cache_t *writer, *late;

	fixture_fleet = fixture_join(_i, 0, 2, 0, 0);
	writer = cache_ok();
	put_ok(writer, "a", "1", 0);
	put_ok(writer, "b", "2", 0);
	put_ok(writer, "c", "3", 0);
	ck_assert_int_eq(orbit_cache_delete(writer, "b", 1), 0);
	put_ok(writer, "pre:x", "4", 0);
	ck_assert_int_eq(orbit_cache_reset(writer, "pre:", 4), 0);
	put_ok(writer, "a", "5", 0);
	late = cache_ok();
	assert_hit(late, "a", "5");
	assert_miss(late, "b");
	assert_hit(late, "c", "3");
	assert_miss(late, "pre:x");
	orbit_cache_close(writer);
	orbit_cache_close(late);
}
END_TEST

/* More frames than the ring holds arrive while a handle looks away: it re-indexes. */
START_TEST(test_index_fell_behind)
{
	orbit_cache_t *reader, *writer;
	char key[32];

	fixture_fleet = fixture_join(_i, 0, 2, 16, 0);
	reader = cache_ok();
	writer = cache_ok();
	put_ok(writer, "old", "v", 0);
	assert_hit(reader, "old", "v");
	for (int i = 0; i < 40; i++) {
		snprintf(key, sizeof(key), "new-%d", i);
		put_ok(writer, key, key, 0);
	}
	assert_miss(reader, "old");
	for (int i = 0; i < 40; i++) {
		snprintf(key, sizeof(key), "new-%d", i);
		if (i < 40 - 16)
			assert_miss(reader, key);
		else
			assert_hit(reader, key, key);
	}
	orbit_cache_close(reader);
	orbit_cache_close(writer);
}
END_TEST

/* The slot the index points at now holds another key's frame: a miss, never that value. */
START_TEST(test_slot_reused_by_another_key)
{
	orbit_cache_t *reader, *writer;

	fixture_fleet = fixture_join(_i, 0, 2, 4, 0);
	reader = cache_ok();
	writer = cache_ok();
	put_ok(writer, "victim", "mine", 0);
	assert_hit(reader, "victim", "mine");
	put_ok(writer, "b", "1", 0);
	put_ok(writer, "c", "2", 0);
	put_ok(writer, "d", "3", 0);
	assert_hit(reader, "victim", "mine");
	put_ok(writer, "usurper", "theirs", 0);
	assert_miss(reader, "victim");
	assert_hit(reader, "usurper", "theirs");
	assert_hit(reader, "b", "1");
	orbit_cache_close(reader);
	orbit_cache_close(writer);
}
END_TEST

START_TEST(test_ring_reset_under_a_handle)
{
	orbit_cache_t *cache;

	fixture_fleet = fixture_join(_i, 0, 2, 0, 0);
	cache = cache_ok();
	put_ok(cache, "k", "v", 0);
	put_ok(cache, "j", "w", 0);
	assert_hit(cache, "k", "v");
	ck_assert_int_eq(orbit_ring_reset(ring_ok()), 0);
	assert_miss(cache, "k");
	put_ok(cache, "j", "after", 0);
	assert_hit(cache, "j", "after");
	orbit_cache_close(cache);
}
END_TEST

/*
 * The index against a model of the ring: a random mix of puts, deletes and resets on
 * keys that share prefixes and leading bytes, each get compared with what a walk back
 * over the retained frames (the orbit-rs semantics) answers. One handle follows every
 * frame; another looks only now and then, and so is lapped and re-indexes.
 */
#define MODEL_CAPACITY 32
#define MODEL_OPS      3000

struct model_op {
	uint8_t op;
	const char *key;
	uint32_t value;
};

static const char *const model_keys[] = {
	"a",
	"ab",
	"abcdefgh",
	"abcdefghi",
	"abcdefghij",
	"abcdefgX-long-key-1",
	"abcdefgX-long-key-2",
	"zzzzzzzzzzzz1",
	"zzzzzzzzzzzz2",
	"q",
};

static const char *const model_prefixes[] = {
	"", "a", "abcdefgh", "abcdefghi", "abcdefgX-long", "zz", "zzzzzzzzzzzz1", "q", "none",
};

static int model_get(const struct model_op *log, int count, const char *key, uint32_t *value)
{
	for (int i = count - 1; i >= 0 && i >= count - MODEL_CAPACITY; i--) {
		const struct model_op *op = &log[i];

		if (op->op == OP_RESET && strncmp(key, op->key, strlen(op->key)) == 0)
			return -ENOENT;
		if (op->op != OP_RESET && strcmp(key, op->key) == 0) {
			*value = op->value;
			return op->op == OP_PUT ? 0 : -ENOENT;
		}
	}
	return -ENOENT;
}

static void model_check(orbit_cache_t *cache, const struct model_op *log, int count)
{
	for (size_t k = 0; k < ARRAY_SIZE(model_keys); k++) {
		const char *key = model_keys[k];
		uint32_t want = 0, got = 0;
		size_t len = 0;
		int r = orbit_cache_get(cache, key, strlen(key), &got, sizeof(got), &len);

		ck_assert_int_eq(r, model_get(log, count, key, &want));
		if (r == 0) {
			ck_assert_uint_eq(len, sizeof(got));
			ck_assert_uint_eq(got, want);
		}
	}
}

START_TEST(test_index_matches_model)
{
	static struct model_op log[MODEL_OPS];
	orbit_cache_t *follower, *sleeper;
	unsigned seed = 12345u + (unsigned)_i;

	fixture_fleet = fixture_join(_i, 0, 2, MODEL_CAPACITY, 0);
	follower = cache_ok();
	sleeper = cache_ok();
	for (int n = 0; n < MODEL_OPS; n++) {
		struct model_op *op = &log[n];
		int roll = rand_r(&seed) % 20;

		op->value = (uint32_t)n;
		if (roll < 14) {
			op->op = OP_PUT;
			op->key = model_keys[rand_r(&seed) % ARRAY_SIZE(model_keys)];
			ck_assert_int_eq(orbit_cache_put(follower, op->key, strlen(op->key),
							 &op->value, sizeof(op->value), 0),
					 0);
		} else if (roll < 18) {
			op->op = OP_DELETE;
			op->key = model_keys[rand_r(&seed) % ARRAY_SIZE(model_keys)];
			ck_assert_int_eq(orbit_cache_delete(follower, op->key, strlen(op->key)), 0);
		} else {
			op->op = OP_RESET;
			op->key = model_prefixes[rand_r(&seed) % ARRAY_SIZE(model_prefixes)];
			ck_assert_int_eq(orbit_cache_reset(follower, op->key, strlen(op->key)), 0);
		}
		model_check(follower, log, n + 1);
		if (rand_r(&seed) % 50 == 0)
			model_check(sleeper, log, n + 1);
	}
	orbit_cache_close(follower);
	orbit_cache_close(sleeper);
}
END_TEST

START_TEST(test_large_frames)
{
	static char value[3000], buf[3000];
	orbit_cache_t *cache;
	size_t len = 0;

	fixture_fleet = fixture_join(_i, 0, 2, 0, 4096);
	cache = cache_ok();
	memset(value, 'v', sizeof(value));
	ck_assert_int_eq(orbit_cache_put(cache, "big", 3, value, sizeof(value), 0), 0);
	ck_assert_int_eq(orbit_cache_get(cache, "big", 3, buf, sizeof(buf), &len), 0);
	ck_assert_uint_eq(len, sizeof(value));
	ck_assert_mem_eq(buf, value, sizeof(value));
	orbit_cache_close(cache);
}
END_TEST

START_TEST(test_open_close_errors)
{
	static char sentinel; /* an address orbit_cache_open must not store on error */
	orbit_cache_t *cache = (orbit_cache_t *)&sentinel;

	fixture_fleet = fixture_join(_i, 0, 2, 0, 0);
	ck_assert_int_eq(orbit_cache_open(NULL, KIND, &cache), -EINVAL);
	ck_assert_ptr_eq(cache, (orbit_cache_t *)&sentinel);
	ck_assert_int_eq(orbit_cache_open(fixture_fleet, KIND, NULL), -EINVAL);
	orbit_cache_close(NULL);
}
END_TEST

START_TEST(test_invalid_arguments)
{
	orbit_cache_t *cache;
	char buf[8];
	size_t len;

	fixture_fleet = fixture_join(_i, 0, 2, 0, 0);
	cache = cache_ok();
	ck_assert_int_eq(orbit_cache_put(NULL, "k", 1, "v", 1, 0), -EINVAL);
	ck_assert_int_eq(orbit_cache_put(cache, NULL, 1, "v", 1, 0), -EINVAL);
	ck_assert_int_eq(orbit_cache_put(cache, "k", 0, "v", 1, 0), -EINVAL);
	ck_assert_int_eq(orbit_cache_put(cache, "k", 1, NULL, 1, 0), -EINVAL);
	ck_assert_int_eq(orbit_cache_delete(NULL, "k", 1), -EINVAL);
	ck_assert_int_eq(orbit_cache_delete(cache, NULL, 1), -EINVAL);
	ck_assert_int_eq(orbit_cache_delete(cache, "k", 0), -EINVAL);
	ck_assert_int_eq(orbit_cache_reset(NULL, "k", 1), -EINVAL);
	ck_assert_int_eq(orbit_cache_reset(cache, NULL, 1), -EINVAL);
	ck_assert_uint_eq(orbit_ring_head(ring_ok()), 0);

	put_ok(cache, "k", "v", 0);
	ck_assert_int_eq(orbit_cache_get(NULL, "k", 1, buf, sizeof(buf), &len), -EINVAL);
	ck_assert_int_eq(orbit_cache_get(cache, NULL, 1, buf, sizeof(buf), &len), -EINVAL);
	ck_assert_int_eq(orbit_cache_get(cache, "k", 0, buf, sizeof(buf), &len), -EINVAL);
	ck_assert_int_eq(orbit_cache_get(cache, "k", 1, NULL, 1, &len), -EINVAL);
	orbit_cache_close(cache);
}
END_TEST

/* Key and value share a slot (payload_max - 13 bytes), checked before anything is written. */
START_TEST(test_slot_limits)
{
	static uint8_t key[256], value[256];
	orbit_cache_t *cache;
	orbit_ring_t *ring;
	size_t len = 0;

	fixture_fleet = fixture_join(_i, 0, 2, 0, 0);
	cache = cache_ok();
	ring = ring_ok();
	memset(key, 'k', sizeof(key));
	ck_assert_int_eq(orbit_cache_put(cache, key, 200, value, 43, 0), 0);
	ck_assert_int_eq(orbit_cache_put(cache, key, 200, value, 44, 0), -EMSGSIZE);
	ck_assert_int_eq(orbit_cache_put(cache, key, 243, NULL, 0, 0), 0);
	ck_assert_int_eq(orbit_cache_get(cache, key, 243, NULL, 0, &len), 0);
	ck_assert_uint_eq(len, 0);
	ck_assert_int_eq(orbit_cache_put(cache, key, 244, NULL, 0, 0), -EMSGSIZE);
	ck_assert_int_eq(orbit_cache_delete(cache, key, 244), -EMSGSIZE);
	ck_assert_int_eq(orbit_cache_reset(cache, key, 244), -EMSGSIZE);
	ck_assert_uint_eq(orbit_ring_head(ring), 2);
	/* No frame can hold a longer key, so it is simply not cached. */
	ck_assert_int_eq(orbit_cache_get(cache, key, 244, NULL, 0, &len), -ENOENT);
	ck_assert_int_eq(orbit_cache_delete(cache, key, 243), 0);
	ck_assert_int_eq(orbit_cache_reset(cache, key, 243), 0);
	orbit_cache_close(cache);
}
END_TEST

/* Lengths are u16 on the wire even when the slots are larger. */
START_TEST(test_u16_limits)
{
	const size_t max = UINT16_MAX;
	uint8_t *key = calloc(1, max + 1), *value = calloc(1, max + 1), *buf = malloc(max);
	orbit_cache_t *cache;
	size_t len = 0;

	ck_assert(key && value && buf);
	fixture_fleet = fixture_join(_i, 0, 2, 2, 200000);
	cache = cache_ok();
	key[0] = 'x';
	value[max - 1] = 0x99;
	ck_assert_int_eq(orbit_cache_put(cache, key, max + 1, value, 1, 0), -EMSGSIZE);
	ck_assert_int_eq(orbit_cache_put(cache, key, 1, value, max + 1, 0), -EMSGSIZE);
	ck_assert_int_eq(orbit_cache_delete(cache, key, max + 1), -EMSGSIZE);
	ck_assert_int_eq(orbit_cache_reset(cache, key, max + 1), -EMSGSIZE);
	ck_assert_uint_eq(orbit_ring_head(ring_ok()), 0);
	ck_assert_int_eq(orbit_cache_get(cache, key, max + 1, NULL, 0, &len), -ENOENT);
	ck_assert_int_eq(orbit_cache_put(cache, key, max, value, max, 0), 0);
	ck_assert_int_eq(orbit_cache_get(cache, key, max, buf, max, &len), 0);
	ck_assert_uint_eq(len, max);
	ck_assert_uint_eq(buf[max - 1], 0x99);
	orbit_cache_close(cache);
	free(key);
	free(value);
	free(buf);
}
END_TEST

/* WIRE: exact bytes of a put written by hand are read through the API. */
START_TEST(test_wire_read_hand_written_put)
{
	static const char raw[] = "\x01"	     /* op: put */
				  "\x02\x00"	     /* key_len 2 */
				  "\x03\x00"	     /* value_len 3 */
				  "\0\0\0\0\0\0\0\0" /* expires_at_ms 0: never */
				  "ab"		     /* key */
				  "xyz";	     /* value */
	orbit_cache_t *cache;

	fixture_fleet = fixture_join(_i, 0, 2, 0, 0);
	cache = cache_ok();
	/* sizeof counts the literal's terminating NUL. */
	ck_assert_int_eq(orbit_ring_write(ring_ok(), OP_PUT, 0, raw, sizeof(raw) - 1, NULL), 0);
	assert_hit(cache, "ab", "xyz");
	orbit_cache_close(cache);
}
END_TEST

/* WIRE: hand-written deletes, resets and expiry times act as the API's own. */
START_TEST(test_wire_read_hand_written_ops)
{
	uint64_t now = unix_ms();
	orbit_cache_t *cache;

	fixture_fleet = fixture_join(_i, 0, 2, 0, 0);
	cache = cache_ok();
	write_frame(OP_PUT, OP_PUT, "del", "1", 0);
	write_frame(OP_PUT, OP_PUT, "pre:a", "2", 0);
	write_frame(OP_PUT, OP_PUT, "pre-b", "3", 0);
	write_frame(OP_PUT, OP_PUT, "past", "4", now - 1000);
	write_frame(OP_PUT, OP_PUT, "future", "5", now + 3600 * 1000);
	write_frame(OP_DELETE, OP_DELETE, "del", "", 0);
	write_frame(OP_RESET, OP_RESET, "pre:", "", 0);
	assert_miss(cache, "del");
	assert_miss(cache, "pre:a");
	assert_hit(cache, "pre-b", "3");
	assert_miss(cache, "past");
	assert_hit(cache, "future", "5");
	/* An empty prefix written by hand resets everything. */
	write_frame(OP_RESET, OP_RESET, "", "", 0);
	assert_miss(cache, "future");
	orbit_cache_close(cache);
}
END_TEST

static void assert_raw_frame(orbit_ring_t *ring, uint64_t counter, uint8_t op, const char *key,
			     const char *value, uint64_t expires_min, uint64_t expires_max)
{
	size_t key_len = strlen(key), value_len = strlen(value);
	orbit_frame_t frame;
	uint64_t expires = 0;
	uint8_t raw[256];

	ck_assert_int_eq(orbit_ring_read_at(ring, counter, &frame, raw, sizeof(raw)), 0);
	ck_assert_uint_eq(frame.kind, op);
	ck_assert_uint_eq(orbit_id_kind(frame.id), KIND);
	ck_assert_uint_eq(orbit_id_counter(frame.id), counter);
	ck_assert_uint_eq(frame.len, HEADER + key_len + value_len);
	ck_assert_uint_eq(raw[0], op);
	ck_assert_uint_eq(raw[1] | raw[2] << 8, key_len);
	ck_assert_uint_eq(raw[3] | raw[4] << 8, value_len);
	for (int i = 7; i >= 0; i--)
		expires = expires << 8 | raw[5 + i];
	ck_assert_uint_ge(expires, expires_min);
	ck_assert_uint_le(expires, expires_max);
	ck_assert_uint_eq(frame.ver, expires);
	ck_assert_mem_eq(raw + HEADER, key, key_len);
	ck_assert_mem_eq(raw + HEADER + key_len, value, value_len);
}

/* WIRE: frames written through the API decode byte by byte as §6 says. */
START_TEST(test_wire_written_by_api)
{
	orbit_cache_t *cache;
	orbit_ring_t *ring;
	uint64_t before, after;

	fixture_fleet = fixture_join(_i, 0, 2, 0, 0);
	cache = cache_ok();
	ring = ring_ok();
	put_ok(cache, "key", "value", 0);
	before = unix_ms();
	put_ok(cache, "ttl", "v", 5000);
	after = unix_ms();
	ck_assert_int_eq(orbit_cache_delete(cache, "gone", 4), 0);
	ck_assert_int_eq(orbit_cache_reset(cache, "pre:", 4), 0);
	ck_assert_int_eq(orbit_cache_reset(cache, NULL, 0), 0);
	ck_assert_uint_eq(orbit_ring_head(ring), 5);
	assert_raw_frame(ring, 0, OP_PUT, "key", "value", 0, 0);
	assert_raw_frame(ring, 1, OP_PUT, "ttl", "v", before + 5000, after + 5000);
	assert_raw_frame(ring, 2, OP_DELETE, "gone", "", 0, 0);
	assert_raw_frame(ring, 3, OP_RESET, "pre:", "", 0, 0);
	assert_raw_frame(ring, 4, OP_RESET, "", "", 0, 0);
	orbit_cache_close(cache);
}
END_TEST

/* Frames whose lengths do not add up, or whose op is unknown or disagrees, change nothing. */
START_TEST(test_garbage_frames_ignored)
{
	orbit_cache_t *cache;
	orbit_ring_t *ring;
	uint8_t raw[64];
	size_t len;

	fixture_fleet = fixture_join(_i, 0, 2, 0, 0);
	cache = cache_ok();
	ring = ring_ok();
	put_ok(cache, "k", "good", 0);

	/* A delete of "k" claiming one key byte more than it carries. */
	len = encode_frame(raw, OP_DELETE, 2, 0, 0, "k", "");
	ck_assert_int_eq(orbit_ring_write(ring, OP_DELETE, 0, raw, len - 1, NULL), 0);
	/* A delete of "k" with a trailing byte. */
	len = encode_frame(raw, OP_DELETE, 1, 0, 0, "k", "");
	raw[len] = 0;
	ck_assert_int_eq(orbit_ring_write(ring, OP_DELETE, 0, raw, len + 1, NULL), 0);
	/* A put of "k" whose value length runs past the frame. */
	len = encode_frame(raw, OP_PUT, 1, 3, 0, "k", "bad");
	raw[3] = 40;
	ck_assert_int_eq(orbit_ring_write(ring, OP_PUT, 0, raw, len, NULL), 0);
	/* Unknown ops, in the frame kind and the payload alike. */
	len = encode_frame(raw, 4, 1, 3, 0, "k", "bad");
	ck_assert_int_eq(orbit_ring_write(ring, 4, 0, raw, len, NULL), 0);
	len = encode_frame(raw, 0, 1, 3, 0, "k", "bad");
	ck_assert_int_eq(orbit_ring_write(ring, 0, 0, raw, len, NULL), 0);
	/* A delete in the payload under a put frame kind, and the reverse. */
	len = encode_frame(raw, OP_DELETE, 1, 0, 0, "k", "");
	ck_assert_int_eq(orbit_ring_write(ring, OP_PUT, 0, raw, len, NULL), 0);
	len = encode_frame(raw, OP_PUT, 1, 3, 0, "k", "bad");
	ck_assert_int_eq(orbit_ring_write(ring, OP_DELETE, 0, raw, len, NULL), 0);
	/* Frames too short for the header, and an empty one. */
	ck_assert_int_eq(orbit_ring_write(ring, OP_RESET, 0, "\x03\x00", 2, NULL), 0);
	ck_assert_int_eq(orbit_ring_write(ring, OP_RESET, 0, NULL, 0, NULL), 0);
	/* A put with an empty key, and an empty-key delete: no key is empty. */
	len = encode_frame(raw, OP_PUT, 0, 3, 0, "", "bad");
	ck_assert_int_eq(orbit_ring_write(ring, OP_PUT, 0, raw, len, NULL), 0);
	len = encode_frame(raw, OP_DELETE, 0, 0, 0, "", "");
	ck_assert_int_eq(orbit_ring_write(ring, OP_DELETE, 0, raw, len, NULL), 0);

	assert_hit(cache, "k", "good");
	orbit_cache_close(cache);
	/* A fresh handle indexing the same garbage agrees. */
	cache = cache_ok();
	assert_hit(cache, "k", "good");
	orbit_cache_close(cache);
}
END_TEST

/* Random bytes under every frame kind: nothing crashes, and real frames still work after. */
START_TEST(test_random_garbage)
{
	unsigned seed = 777u + (unsigned)_i;
	orbit_cache_t *cache;
	orbit_ring_t *ring;
	uint8_t raw[256], buf[256];
	size_t len;

	fixture_fleet = fixture_join(_i, 0, 2, 64, 0);
	cache = cache_ok();
	ring = ring_ok();
	for (int n = 0; n < 2000; n++) {
		size_t size = (size_t)rand_r(&seed) % sizeof(raw);
		uint8_t frame_kind;

		for (size_t i = 0; i < size; i++)
			raw[i] = (uint8_t)rand_r(&seed);
		/* Small lengths make frames whose header looks plausible. */
		if (size >= HEADER && rand_r(&seed) % 2) {
			raw[1] = (uint8_t)(rand_r(&seed) % 16);
			raw[2] = 0;
			raw[3] = (uint8_t)(rand_r(&seed) % 16);
			raw[4] = 0;
		}
		frame_kind = (uint8_t)(rand_r(&seed) % 5);
		ck_assert_int_eq(orbit_ring_write(ring, frame_kind, 0, raw, size, NULL), 0);
		if (n % 7 == 0) {
			int r = orbit_cache_get(cache, raw, 1 + (size_t)rand_r(&seed) % 4, buf,
						sizeof(buf), &len);

			ck_assert(r == 0 || r == -ENOENT);
		}
	}
	put_ok(cache, "k", "after", 0);
	assert_hit(cache, "k", "after");
	orbit_cache_close(cache);
}
END_TEST

/* A writer that died mid-write between two frames delays a get, never blocks or loses it. */
START_TEST(test_abandoned_claim)
{
	orbit_cache_t *cache;
	struct seg_map map;

	fixture_fleet = fixture_join(FIXTURE_SHM, 0, 2, 16, 0);
	cache = cache_ok();
	put_ok(cache, "before", "1", 0);
	assert_hit(cache, "before", "1");
	ck_assert_int_eq(seg_map_open(&map, fixture_fleet_name, KIND, 16, 0), 0);
	seg_claim_and_abandon(&map);
	seg_map_close(&map);
	put_ok(cache, "after", "2", 0);
	assert_hit(cache, "after", "2");
	assert_hit(cache, "before", "1");
	orbit_cache_close(cache);
}
END_TEST

/*
 * A claim no record names (an orbit-rs 0.1 writer that stalled) is given up by a reader
 * once the stall bound passed, in its slot, so for everyone: a late commit the way a
 * liborbit writer makes one (its frame stored, then a CAS of seq from 2c+1 to 2c+2)
 * fails, and a handle opened before the give-up and one opened after agree on every key.
 */
#define LATE_CAPACITY	 16
#define LATE_DEADLINE_MS 10000

static const char *const late_keys[] = { "k1", "k2", "k3", "k4", "k5" };
static const char *const late_values[] = { "v1", "v2", "v3", "v4", "v5" };

/* A put of key=value stored into the slot of counter c by hand; its seq is left alone. */
static void plant_put(const struct seg_map *map, uint64_t c, const char *key, const char *value)
{
	const struct seg_layout *layout = map->layout;
	uint8_t raw[64], *slot = seg_slot(map, c);
	size_t len = encode_frame(raw, OP_PUT, (uint16_t)strlen(key), (uint16_t)strlen(value), 0,
				  key, value);

	seg_store64(slot, layout->slot_id, orbit_id_make(KIND, 1, c));
	seg_store8(slot, layout->slot_kind, OP_PUT);
	seg_store64(slot, layout->slot_ver, 0);
	seg_store32(slot, layout->slot_len, (uint32_t)len);
	for (size_t i = 0; i < len; i++)
		seg_store8(slot, layout->slot_payload + i, raw[i]);
}

/* Both handles' answers for key: the same result and value. */
static bool handles_agree(orbit_cache_t *a, orbit_cache_t *b, const char *key)
{
	char va[64] = "", vb[64] = "";
	size_t la = 0, lb = 0;
	int ra = orbit_cache_get(a, key, strlen(key), va, sizeof(va), &la);
	int rb = orbit_cache_get(b, key, strlen(key), vb, sizeof(vb), &lb);

	if (ra != 0 || rb != 0)
		fprintf(stderr, "  %s: %d and %d\n", key, ra, rb);
	else if (la != lb || memcmp(va, vb, la))
		fprintf(stderr, "  %s: \"%.*s\" and \"%.*s\"\n", key, (int)la, va, (int)lb, vb);
	return ra == rb && la == lb && !memcmp(va, vb, la);
}

START_TEST(test_given_up_for_everyone)
{
	uint64_t cursor = 0, lost = 0, start, waited, c, seq;
	orbit_cache_t *before, *after;
	bool late_committed;
	struct seg_map map;
	orbit_ring_t *ring;
	int agree = 0;

	fixture_fleet = fixture_join(FIXTURE_SHM, 0, 2, LATE_CAPACITY, 0);
	before = cache_ok();
	for (int i = 0; i < 3; i++)
		put_ok(before, late_keys[i], late_values[i], 0);
	assert_hit(before, "k1", "v1");
	ck_assert_int_eq(seg_map_open(&map, fixture_fleet_name, KIND, LATE_CAPACITY, 0), 0);
	c = seg_claim_and_abandon(&map);
	for (int i = 3; i < 5; i++)
		put_ok(before, late_keys[i], late_values[i], 0);

	/* A reader waits the stall bound out at the claim, then gives it up. */
	ring = ring_ok();
	start = mono_ms();
	while (cursor <= c && mono_ms() - start < LATE_DEADLINE_MS) {
		uint8_t buf[256];
		orbit_frame_t frame;

		if (orbit_ring_next(ring, &cursor, &frame, buf, sizeof(buf), &lost) == -EAGAIN)
			sleep_ms(5);
	}
	waited = mono_ms() - start;
	seq = seg_load64(seg_slot(&map, c), map.layout->slot_seq);
	/* The handle opened before has indexed past the claim too. */
	assert_hit(before, "k5", "v5");

	/* The stalled writer comes back and commits "k1" = "late" at its counter. */
	plant_put(&map, c, "k1", "late");
	late_committed = seg_cas64(seg_slot(&map, c), map.layout->slot_seq, 2 * c + 1, 2 * c + 2);
	after = cache_ok();
	for (size_t i = 0; i < ARRAY_SIZE(late_keys); i++)
		agree += handles_agree(before, after, late_keys[i]);
	fprintf(stderr,
		"claim %llu given up by a reader after %llu ms (seq 0x%llx); late commit %s; "
		"handles opened before and after agree on %d of %zu keys\n",
		(unsigned long long)c, (unsigned long long)waited, (unsigned long long)seq,
		late_committed ? "succeeded" : "failed", agree, ARRAY_SIZE(late_keys));

	ck_assert_msg(seq == seg_seq_given_up(c), "the reader left seq 0x%llx, not given up",
		      (unsigned long long)seq);
	ck_assert_uint_eq(lost, 1);
	ck_assert_msg(!late_committed, "a late commit turned a given-up counter committed");
	ck_assert_uint_eq(seg_load64(seg_slot(&map, c), map.layout->slot_seq), seg_seq_given_up(c));
	ck_assert_int_eq(agree, ARRAY_SIZE(late_keys));
	for (size_t i = 0; i < ARRAY_SIZE(late_keys); i++)
		assert_hit(after, late_keys[i], late_values[i]);
	orbit_cache_close(before);
	orbit_cache_close(after);
	seg_map_close(&map);
}
END_TEST

/*
 * A recorded writer (a forked child's orbit_cache_put) stopped with SIGSTOP in the middle
 * of its frame, five times the stall bound: a get on a handle opened before answers
 * without that put after its bounded wait; once the writer goes on, the put reaches that
 * handle and a newly opened one alike.
 */
#define STOPPED_CAPACITY 16
#define STOPPED_PAYLOAD	 65536
#define STOPPED_VALUE	 49152
#define STOPPED_MS	 1000
/* A get waits 200 ms for a live writer mid-put: bounded, and far below this. */
#define STOPPED_GET_MAX_MS 1000

static const char stopped_key[] = "stopped";

static void stopped_value(char *value)
{
	for (size_t i = 0; i < STOPPED_VALUE; i++)
		value[i] = (char)('a' + i % 26);
}

/* Joins before the test maps anything, so its mapping of the ring is its only one. */
static void run_stopped_put(void *unused, int ready_fd, int go_fd)
{
	(void)unused;
	orbit_fleet_options_t opts = fixture_options(STOPPED_CAPACITY, STOPPED_PAYLOAD);
	static char value[STOPPED_VALUE];
	orbit_cache_t *cache;
	orbit_fleet_t *peer;
	orbit_ring_t *ring;
	struct seg_map map;
	char byte = 0;
	uint8_t *slot;

	if (orbit_fleet_join_shm(fixture_fleet_name, 1, 2, &opts, &peer) < 0 ||
	    orbit_cache_open(peer, KIND, &cache) < 0 || orbit_fleet_ring(peer, KIND, &ring) < 0 ||
	    trap_setup(0, 0) < 0)
		_exit(1);
	stopped_value(value);
	if (write(ready_fd, &byte, 1) != 1 || read(go_fd, &byte, 1) != 1)
		_exit(2);
	/* Nobody writes while the test waits for this put to stop: the next counter is ours. */
	if (seg_map_find(&map, fixture_fleet_name, KIND, STOPPED_CAPACITY, STOPPED_PAYLOAD) < 0)
		_exit(3);
	slot = seg_slot(&map, orbit_ring_head(ring));
	if (trap_arm_page(slot + map.layout->slot_payload + STOPPED_VALUE / 2) < 0)
		_exit(4);
	_exit(orbit_cache_put(cache, stopped_key, strlen(stopped_key), value, STOPPED_VALUE, 0) == 0
		      ? 0
		      : 5);
}

/* A get of the stopped put's key: its result, how long it took, and the value checked. */
static int get_stopped(orbit_cache_t *cache, uint64_t *ms)
{
	static char buf[STOPPED_PAYLOAD], expected[STOPPED_VALUE];
	uint64_t start = mono_ms();
	size_t len = 0;
	int ret = orbit_cache_get(cache, stopped_key, strlen(stopped_key), buf, sizeof(buf), &len);

	*ms = mono_ms() - start;
	stopped_value(expected);
	if (ret == 0 && (len != STOPPED_VALUE || memcmp(buf, expected, len)))
		ret = -EBADMSG;
	return ret;
}

START_TEST(test_stopped_put_seen_by_every_handle)
{
	uint64_t stopped_at, waited[4], c;
	orbit_cache_t *before, *after;
	int go, status, got[4];
	struct seg_map map;
	char byte = 0;
	pid_t pid;

	pid = test_spawn_ready(run_stopped_put, NULL, "the putting child", &go);
	fixture_fleet = fixture_join(FIXTURE_SHM, 0, 2, STOPPED_CAPACITY, STOPPED_PAYLOAD);
	before = cache_ok();
	put_ok(before, "first", "1", 0);
	assert_hit(before, "first", "1");

	ck_assert_int_eq(write(go, &byte, 1), 1);
	close(go);
	ck_assert_int_eq(waitpid(pid, &status, WUNTRACED), pid);
	ck_assert_msg(WIFSTOPPED(status), "the put did not stop (status 0x%x)", status);
	stopped_at = mono_ms();
	c = orbit_ring_head(ring_ok()) - 1;
	ck_assert_int_eq(
		seg_map_open(&map, fixture_fleet_name, KIND, STOPPED_CAPACITY, STOPPED_PAYLOAD), 0);
	ck_assert_uint_eq(seg_load64(seg_slot(&map, c), map.layout->slot_seq), 2 * c + 1);
	seg_map_close(&map);
	/* Later counters are claimed too: nothing keeps a reader at the stopped one but liveness. */
	put_ok(before, "later", "2", 0);

	got[0] = get_stopped(before, &waited[0]);
	while (mono_ms() - stopped_at < STOPPED_MS)
		sleep_ms(20);
	got[1] = get_stopped(before, &waited[1]);
	assert_hit(before, "first", "1");

	ck_assert_int_eq(kill(pid, SIGCONT), 0);
	test_reap(pid);
	got[2] = get_stopped(before, &waited[2]);
	after = cache_ok();
	got[3] = get_stopped(after, &waited[3]);
	fprintf(stderr,
		"put stopped mid-frame for %d ms: gets while stopped %d after %llu ms, %d after "
		"%llu ms; after SIGCONT the handle from before %d, a new handle %d\n",
		STOPPED_MS, got[0], (unsigned long long)waited[0], got[1],
		(unsigned long long)waited[1], got[2], got[3]);

	ck_assert_int_eq(got[0], -ENOENT);
	ck_assert_int_eq(got[1], -ENOENT);
	ck_assert_uint_lt(waited[0], STOPPED_GET_MAX_MS);
	ck_assert_uint_lt(waited[1], STOPPED_GET_MAX_MS);
	ck_assert_msg(got[2] == 0, "the handle opened before never saw the put (%d)", got[2]);
	ck_assert_msg(got[3] == 0, "a new handle does not see the put (%d)", got[3]);
	assert_hit(before, "later", "2");
	assert_hit(after, "later", "2");
	orbit_cache_close(before);
	orbit_cache_close(after);
}
END_TEST

/*
 * A slot reused by a frame the index never saw (its writer died, so it was skipped as
 * lost): the entry still points there, and only reading the slot shows the put is gone.
 */
START_TEST(test_verification_catches_unindexed_reuse)
{
	orbit_cache_t *cache;
	struct seg_map map;

	fixture_fleet = fixture_join(FIXTURE_SHM, 0, 2, 4, 0);
	cache = cache_ok();
	put_ok(cache, "victim", "mine", 0);
	put_ok(cache, "b", "1", 0);
	put_ok(cache, "c", "2", 0);
	put_ok(cache, "d", "3", 0);
	assert_hit(cache, "victim", "mine");
	ck_assert_int_eq(seg_map_open(&map, fixture_fleet_name, KIND, 4, 0), 0);
	ck_assert_uint_eq(seg_claim_and_abandon(&map), 4);
	seg_map_close(&map);
	put_ok(cache, "e", "4", 0);
	assert_miss(cache, "victim");
	assert_miss(cache, "b");
	assert_hit(cache, "e", "4");
	assert_hit(cache, "d", "3");
	orbit_cache_close(cache);
}
END_TEST

static int child_mutate(void)
{
	orbit_fleet_t *peer;
	orbit_cache_t *cache;
	int r = 0;

	if (orbit_fleet_join_shm(fixture_fleet_name, 1, 2, NULL, &peer) < 0)
		return 1;
	if (orbit_cache_open(peer, KIND, &cache) < 0) {
		orbit_fleet_leave(peer);
		return 2;
	}
	r |= orbit_cache_put(cache, "child", 5, "hello", 5, 0);
	r |= orbit_cache_put(cache, "p:1", 3, "x", 1, 0);
	r |= orbit_cache_delete(cache, "parent-del", 10);
	r |= orbit_cache_reset(cache, "p:", 2);
	r |= orbit_cache_put(cache, "shared", 6, "child", 5, 0);
	orbit_cache_close(cache);
	orbit_fleet_leave(peer);
	return r == 0 ? 0 : 3;
}

static int child_read(void)
{
	orbit_fleet_t *peer;
	orbit_cache_t *cache;
	char buf[16];
	size_t len = 0;
	int r;

	if (orbit_fleet_join_shm(fixture_fleet_name, 1, 2, NULL, &peer) < 0)
		return 1;
	if (orbit_cache_open(peer, KIND, &cache) < 0) {
		orbit_fleet_leave(peer);
		return 2;
	}
	r = orbit_cache_get(cache, "shared", 6, buf, sizeof(buf), &len);
	orbit_cache_close(cache);
	orbit_fleet_leave(peer);
	return r == 0 && len == 6 && memcmp(buf, "parent", 6) == 0 ? 0 : 3;
}

START_TEST(test_cross_process)
{
	orbit_cache_t *cache;

	fixture_fleet = fixture_join(FIXTURE_SHM, 0, 2, 0, 0);
	cache = cache_ok();
	put_ok(cache, "parent-del", "v", 0);
	put_ok(cache, "p:2", "y", 0);
	assert_hit(cache, "p:2", "y");
	test_run_child(child_mutate);
	assert_hit(cache, "child", "hello");
	assert_miss(cache, "p:1");
	assert_miss(cache, "p:2");
	assert_miss(cache, "parent-del");
	assert_hit(cache, "shared", "child");
	put_ok(cache, "shared", "parent", 0);
	test_run_child(child_read);
	orbit_cache_close(cache);
}
END_TEST

/* Threads sharing one handle: each reads back its own keys. */
#define THREADS		4
#define THREAD_ROUNDS	400
#define THREAD_CAPACITY 4096

struct thread_arg {
	orbit_cache_t *cache;
	int id;
	int failures;
};

static void *thread_put_get(void *p)
{
	struct thread_arg *arg = p;
	char key[32], value[32], buf[32];
	size_t len;

	for (int n = 0; n < THREAD_ROUNDS; n++) {
		snprintf(key, sizeof(key), "t%d-k%d", arg->id, n % 10);
		snprintf(value, sizeof(value), "t%d-v%d", arg->id, n);
		if (orbit_cache_put(arg->cache, key, strlen(key), value, strlen(value), 0) ||
		    orbit_cache_get(arg->cache, key, strlen(key), buf, sizeof(buf), &len) ||
		    len != strlen(value) || memcmp(buf, value, len))
			arg->failures++;
	}
	return NULL;
}

START_TEST(test_threads_share_a_handle)
{
	struct thread_arg args[THREADS];
	pthread_t threads[THREADS];
	orbit_cache_t *cache;

	fixture_fleet = fixture_join(_i, 0, 2, THREAD_CAPACITY, 0);
	cache = cache_ok();
	for (int t = 0; t < THREADS; t++) {
		args[t] = (struct thread_arg){ .cache = cache, .id = t };
		ck_assert_int_eq(pthread_create(&threads[t], NULL, thread_put_get, &args[t]), 0);
	}
	for (int t = 0; t < THREADS; t++) {
		ck_assert_int_eq(pthread_join(threads[t], NULL), 0);
		ck_assert_int_eq(args[t].failures, 0);
	}
	orbit_cache_close(cache);
}
END_TEST

/*
 * A tiny ring lapped while readers look up keys: a hit always carries the value
 * written for that key, whatever slot reuse the verification has to catch.
 */
#define LAP_CAPACITY 8
#define LAP_WRITES   20000
#define LAP_KEYS     13

struct lap_state {
	orbit_cache_t *writer;
	orbit_cache_t *reader;
	volatile int done;
	int wrong;
	int hits;
};

/* Write n puts key n % LAP_KEYS with a value naming both: "key-number-K=n". */
static void lap_frame(int n, char key[static 32], char value[static 64])
{
	snprintf(key, 32, "key-number-%d", n % LAP_KEYS);
	snprintf(value, 64, "%s=%d", key, n);
}

static void *lap_writer(void *p)
{
	struct lap_state *s = p;
	char key[32], value[64];

	for (int n = 0; n < LAP_WRITES; n++) {
		lap_frame(n, key, value);
		orbit_cache_put(s->writer, key, strlen(key), value, strlen(value), 0);
	}
	__atomic_store_n(&s->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

START_TEST(test_lapped_while_reading)
{
	struct lap_state s = { 0 };
	char key[32], buf[64];
	pthread_t writer;
	unsigned seed = 99;
	size_t len;

	fixture_fleet = fixture_join(_i, 0, 2, LAP_CAPACITY, 0);
	s.writer = cache_ok();
	s.reader = cache_ok();
	ck_assert_int_eq(pthread_create(&writer, NULL, lap_writer, &s), 0);
	while (!__atomic_load_n(&s.done, __ATOMIC_ACQUIRE)) {
		snprintf(key, sizeof(key), "key-number-%d", rand_r(&seed) % LAP_KEYS);
		if (orbit_cache_get(s.reader, key, strlen(key), buf, sizeof(buf) - 1, &len) != 0)
			continue;
		buf[len] = '\0';
		s.hits++;
		if (strncmp(buf, key, strlen(key)) != 0 || buf[strlen(key)] != '=')
			s.wrong++;
	}
	ck_assert_int_eq(pthread_join(writer, NULL), 0);
	ck_assert_int_eq(s.wrong, 0);
	/* Once the writer stops, the last LAP_CAPACITY keys are all there. */
	for (int n = LAP_WRITES - LAP_CAPACITY; n < LAP_WRITES; n++) {
		char value[64];

		lap_frame(n, key, value);
		assert_hit(s.reader, key, value);
	}
	orbit_cache_close(s.writer);
	orbit_cache_close(s.reader);
}
END_TEST

static Suite *cache_suite(void)
{
	Suite *suite = suite_create("cache");
	TCase *rules = fixture_tcase(suite, "rules", 120);
	TCase *index = fixture_tcase(suite, "index", 120);
	TCase *errors = fixture_tcase(suite, "errors", 120);
	TCase *wire = fixture_tcase(suite, "wire", 120);
	TCase *shared = fixture_tcase(suite, "shared", 120);
	const int backings = FIXTURE_BACKINGS;

	tcase_add_loop_test(rules, test_put_then_get, 0, backings);
	tcase_add_loop_test(rules, test_overwrite_newest_wins, 0, backings);
	tcase_add_loop_test(rules, test_empty_value, 0, backings);
	tcase_add_loop_test(rules, test_binary_and_long_keys, 0, backings);
	tcase_add_loop_test(rules, test_delete_shadows, 0, backings);
	tcase_add_loop_test(rules, test_reset_prefix_shadows, 0, backings);
	tcase_add_loop_test(rules, test_reset_empty_prefix_shadows_all, 0, backings);
	tcase_add_loop_test(rules, test_ttl_expiry, 0, backings);
	tcase_add_loop_test(rules, test_ttl_saturates, 0, backings);
	tcase_add_loop_test(rules, test_get_buffer_too_small, 0, backings);
	tcase_add_loop_test(rules, test_large_frames, 0, backings);

	tcase_add_loop_test(index, test_handles_share_the_ring, 0, backings);
	tcase_add_loop_test(index, test_open_builds_from_retained_frames, 0, backings);
	tcase_add_loop_test(index, test_index_fell_behind, 0, backings);
	tcase_add_loop_test(index, test_slot_reused_by_another_key, 0, backings);
	tcase_add_loop_test(index, test_ring_reset_under_a_handle, 0, backings);
	tcase_add_loop_test(index, test_index_matches_model, 0, backings);

	tcase_add_loop_test(errors, test_open_close_errors, 0, backings);
	tcase_add_loop_test(errors, test_invalid_arguments, 0, backings);
	tcase_add_loop_test(errors, test_slot_limits, 0, backings);
	tcase_add_loop_test(errors, test_u16_limits, 0, backings);

	tcase_add_loop_test(wire, test_wire_read_hand_written_put, 0, backings);
	tcase_add_loop_test(wire, test_wire_read_hand_written_ops, 0, backings);
	tcase_add_loop_test(wire, test_wire_written_by_api, 0, backings);
	tcase_add_loop_test(wire, test_garbage_frames_ignored, 0, backings);
	tcase_add_loop_test(wire, test_random_garbage, 0, backings);

	tcase_add_test(shared, test_abandoned_claim);
	tcase_add_test(shared, test_verification_catches_unindexed_reuse);
	tcase_add_test(shared, test_given_up_for_everyone);
	tcase_add_test(shared, test_stopped_put_seen_by_every_handle);
	tcase_add_test(shared, test_cross_process);
	tcase_add_loop_test(shared, test_threads_share_a_handle, 0, backings);
	tcase_add_loop_test(shared, test_lapped_while_reading, 0, backings);
	return suite;
}

int main(void)
{
	return test_run("cache", cache_suite);
}
