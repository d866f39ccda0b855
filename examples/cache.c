/* SPDX-License-Identifier: MIT */
/*
 * cache: a key/value cache every process of a fleet shares: put with and without a
 * time to live, get, delete, and see an entry expire.
 *
 *   cc -std=c11 cache.c $(pkg-config --cflags --libs liborbit) -o cache
 *   ./cache FLEET
 *
 * The cache is a ring of put, delete and reset frames (ring ORBIT_KIND_CACHE, 200): the
 * newest frame for a key wins, so a get in any process sees the latest put or delete of
 * any other. It keeps as many entries as the ring keeps frames; it is for recent facts,
 * not a database.
 */
#define _POSIX_C_SOURCE 200809L /* nanosleep */

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <orbit.h>

/* Prints what a get of key says: the value, or why there is none. */
static void show(orbit_cache_t *cache, const char *key)
{
	char value[128];
	size_t len = 0;
	int r = orbit_cache_get(cache, key, strlen(key), value, sizeof(value), &len);

	if (r == 0)
		printf("get %s: %.*s\n", key, (int)len, value);
	else if (r == -ENOENT)
		printf("get %s: miss\n", key); /* never put, deleted, or expired */
	else if (r == -EMSGSIZE)
		printf("get %s: %zu bytes, more than the buffer holds\n", key, len);
	else
		printf("get %s: %s\n", key, strerror(-r));
}

static int put(orbit_cache_t *cache, const char *key, const char *value, uint64_t ttl_ms)
{
	int r = orbit_cache_put(cache, key, strlen(key), value, strlen(value), ttl_ms);

	if (r < 0)
		fprintf(stderr, "cache: put %s: %s\n", key, strerror(-r));
	else
		printf("put %s = %s (ttl %llu ms)\n", key, value, (unsigned long long)ttl_ms);
	return r;
}

int main(int argc, char **argv)
{
	const struct timespec expiry = { .tv_sec = 1, .tv_nsec = 200 * 1000 * 1000 }; /* 1.2 s */
	orbit_fleet_t *fleet;
	orbit_cache_t *cache;
	int r;

	if (argc != 2) {
		fprintf(stderr, "usage: cache FLEET\n");
		return 2;
	}
	r = orbit_fleet_join_shm(argv[1], 0, 1, NULL, &fleet);
	if (r < 0) {
		fprintf(stderr, "cache: join %s: %s\n", argv[1], strerror(-r));
		return 1;
	}
	r = orbit_cache_open(fleet, ORBIT_KIND_CACHE, &cache);
	if (r < 0) {
		fprintf(stderr, "cache: open: %s\n", strerror(-r));
		orbit_fleet_leave(fleet);
		return 1;
	}

	/* Keys and values are bytes with a length; these happen to be text. */
	if (put(cache, "user:1", "alice", 0) < 0 || put(cache, "session:1", "token-abc", 1000) < 0)
		r = -1;
	show(cache, "user:1");
	show(cache, "session:1");

	/* A ttl is measured on the clocks of the processes (Unix time), not by a sweeper. */
	nanosleep(&expiry, NULL);
	show(cache, "session:1");

	/* A later put of the same key replaces it; a delete hides every older put. */
	if (put(cache, "user:1", "alice2", 0) < 0)
		r = -1;
	show(cache, "user:1");
	orbit_cache_delete(cache, "user:1", strlen("user:1"));
	printf("delete user:1\n");
	show(cache, "user:1");

	orbit_cache_close(cache);
	orbit_fleet_leave(fleet);
	return r < 0 ? 1 : 0;
}
