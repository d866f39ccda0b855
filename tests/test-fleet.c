/* SPDX-License-Identifier: MIT */
/*
 * Fleets: join validation (names, node/size, options), getters, the ring registry, unlink,
 * and probing an existing segment for the options that join it.
 */
#include <orbit.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fixture.h"
#include "segment-layout.h"
#include "testutil.h"

#define MAX_NAME     200
#define THREADS	     8
#define THREAD_KINDS 16

/* fixture_peer, when a test needs one, is a second handle of the fixture's fleet. */

/* An address no call may store through or return on error. */
static char sentinel;
#define SENTINEL_FLEET ((orbit_fleet_t *)&sentinel)
#define SENTINEL_RING  ((orbit_ring_t *)&sentinel)

/* Joins fixture_fleet_name as node 0 of 1 into fixture_fleet. */
static orbit_fleet_t *join_ok(int backing, const orbit_fleet_options_t *opts)
{
	ck_assert_int_eq(fixture_joins[backing](fixture_fleet_name, 0, 1, opts, &fixture_fleet), 0);
	ck_assert_ptr_nonnull(fixture_fleet);
	return fixture_fleet;
}

static int segment_stat(uint8_t kind, struct stat *st)
{
	char path[512];

	test_segment_path(path, sizeof(path), fixture_fleet_name, kind);
	return stat(path, st);
}

static int segment_exists(uint8_t kind)
{
	struct stat st;

	return segment_stat(kind, &st) == 0;
}

static void assert_join_fails(int backing, const char *name, uint16_t node, uint16_t size,
			      const orbit_fleet_options_t *opts)
{
	orbit_fleet_t *f = SENTINEL_FLEET;

	ck_assert_int_eq(fixture_joins[backing](name, node, size, opts, &f), -EINVAL);
	ck_assert_ptr_eq(f, SENTINEL_FLEET);
}

static void assert_join_works(int backing, const char *name, uint16_t node, uint16_t size,
			      const orbit_fleet_options_t *opts)
{
	orbit_fleet_t *f = NULL;

	ck_assert_int_eq(fixture_joins[backing](name, node, size, opts, &f), 0);
	ck_assert_ptr_nonnull(f);
	orbit_fleet_leave(f);
}

START_TEST(test_join_getters)
{
	char name[sizeof(fixture_fleet_name)];

	strcpy(name, fixture_fleet_name);
	ck_assert_int_eq(fixture_joins[_i](name, 2, 5, NULL, &fixture_fleet), 0);
	memset(name, 'z', strlen(name));

	ck_assert_str_eq(orbit_fleet_name(fixture_fleet), fixture_fleet_name);
	ck_assert_uint_eq(orbit_fleet_node(fixture_fleet), 2);
	ck_assert_uint_eq(orbit_fleet_size(fixture_fleet), 5);
	ck_assert_int_eq(orbit_fleet_is_shared(fixture_fleet), _i == FIXTURE_SHM);
}
END_TEST

START_TEST(test_join_shm_creates_segments_lazily)
{
	struct stat st;

	join_ok(FIXTURE_SHM, NULL);
	for (unsigned kind = 0; kind < 256; kind++)
		ck_assert_msg(!segment_exists((uint8_t)kind), "join made a segment for kind %u",
			      kind);

	fixture_ring(fixture_fleet, 4);
	ck_assert_int_eq(segment_stat(4, &st), 0);
	ck_assert_uint_eq(st.st_uid, geteuid());
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	ck_assert(!segment_exists(3));
}
END_TEST

START_TEST(test_name_longest_allowed)
{
	char name[MAX_NAME + 1];
	orbit_ring_t *ring;

	ck_assert_uint_lt(strlen(fixture_fleet_name), MAX_NAME);
	memset(name, 'n', MAX_NAME);
	memcpy(name, fixture_fleet_name, strlen(fixture_fleet_name));
	name[MAX_NAME] = '\0';
	strcpy(fixture_fleet_name, name);

	ck_assert_int_eq(fixture_joins[_i](fixture_fleet_name, 0, 1, NULL, &fixture_fleet), 0);
	ck_assert_str_eq(orbit_fleet_name(fixture_fleet), fixture_fleet_name);
	ring = fixture_ring(fixture_fleet, 255);
	ck_assert_int_eq(orbit_ring_write(ring, 0, 0, "x", 1, NULL), 0);
	ck_assert_int_eq(segment_exists(255), _i == FIXTURE_SHM);
}
END_TEST

START_TEST(test_name_too_long)
{
	char name[MAX_NAME + 2];

	memset(name, 'n', MAX_NAME + 1);
	name[MAX_NAME + 1] = '\0';
	assert_join_fails(_i, name, 0, 1, NULL);
}
END_TEST

static const char *const good_names[] = {
	"a", "Z", "0", "-", "_", "a.", "A-z_0.9", "-leading-dash", "_leading_underscore", "a..b",
};

static const char *const bad_names[] = {
	"",    ".",    "..",   ".hidden", "a/b", "/a",	"a b", " a",	   "a ",    "a:b",
	"a*b", "a\\b", "a\nb", "a\tb",	  "a%b", "a+b", "a@b", "\xc3\xa9", "a\xff", "a\x01",
};

START_TEST(test_name_rules)
{
	for (size_t i = 0; i < ARRAY_SIZE(good_names); i++)
		assert_join_works(_i, good_names[i], 0, 1, NULL);
	for (size_t i = 0; i < ARRAY_SIZE(bad_names); i++)
		assert_join_fails(_i, bad_names[i], 0, 1, NULL);
}
END_TEST

START_TEST(test_node_and_size)
{
	assert_join_fails(_i, fixture_fleet_name, 5, 5, NULL);
	assert_join_fails(_i, fixture_fleet_name, 6, 5, NULL);
	assert_join_fails(_i, fixture_fleet_name, 0, 0, NULL);
	assert_join_fails(_i, fixture_fleet_name, UINT16_MAX, UINT16_MAX, NULL);
	assert_join_fails(_i, fixture_fleet_name, UINT16_MAX, 0, NULL);

	assert_join_works(_i, fixture_fleet_name, 4, 5, NULL);
	assert_join_works(_i, fixture_fleet_name, 0, 1, NULL);
	assert_join_works(_i, fixture_fleet_name, UINT16_MAX - 1, UINT16_MAX, NULL);
}
END_TEST

START_TEST(test_null_arguments)
{
	assert_join_fails(_i, NULL, 0, 1, NULL);
	ck_assert_int_eq(fixture_joins[_i](fixture_fleet_name, 0, 1, NULL, NULL), -EINVAL);
}
END_TEST

START_TEST(test_leave_null)
{
	orbit_fleet_leave(NULL);
}
END_TEST

START_TEST(test_null_handle)
{
	orbit_ring_t *ring = SENTINEL_RING;

	ck_assert_int_eq(orbit_fleet_is_shared(NULL), -EINVAL);
	ck_assert_int_eq(orbit_fleet_unlink(NULL), -EINVAL);
	ck_assert_int_eq(orbit_fleet_ring(NULL, 1, &ring), -EINVAL);
	ck_assert_ptr_eq(ring, SENTINEL_RING);
}
END_TEST

struct options_case {
	size_t size; /* 0 here means sizeof(orbit_fleet_options_t) */
	uint32_t capacity, payload_max, mode, flags;
};

static const struct options_case rejected_options[] = {
	{ .size = 1 },
	{ .size = 4 },
	{ .size = sizeof(size_t) - 1 },
	{ .capacity = 1 },
	{ .capacity = 3 },
	{ .capacity = 6 },
	{ .capacity = 1000 },
	{ .capacity = 1u << 25 },
	{ .capacity = 1u << 31 },
	{ .capacity = UINT32_MAX },
	{ .payload_max = 1048577 },
	{ .payload_max = 1u << 21 },
	{ .payload_max = UINT32_MAX },
	{ .mode = 0400 },
	{ .mode = 0644 },
	{ .mode = 0620 },
	{ .mode = 0666 },
	{ .mode = 0700 },
	{ .mode = 0777 },
	{ .mode = 01600 },
	{ .mode = 04600 },
	{ .mode = S_IFREG | 0600 },
	{ .flags = 2 },
	{ .flags = ORBIT_FLEET_OWNER | 2 },
	{ .flags = 1u << 31 },
};

START_TEST(test_options_rejected)
{
	const struct options_case *c = &rejected_options[_i / 2];
	orbit_fleet_options_t opts = {
		.size = c->size ? c->size : sizeof(opts),
		.capacity = c->capacity,
		.payload_max = c->payload_max,
		.mode = c->mode,
		.flags = c->flags,
	};

	assert_join_fails(_i % 2, fixture_fleet_name, 0, 1, &opts);
}
END_TEST

START_TEST(test_options_size_zero)
{
	orbit_fleet_options_t opts = { .size = 0 };

	assert_join_fails(_i, fixture_fleet_name, 0, 1, &opts);
}
END_TEST

struct accepted_case {
	uint32_t capacity, payload_max;
	uint32_t want_capacity, want_payload_max; /* 0: too large to map in a test, join only */
};

static const struct accepted_case accepted_options[] = {
	{ 0, 0, 1024, 256 },  { 2, 0, 2, 256 },		  { 4, 1, 4, 1 },
	{ 8, 100, 8, 100 },   { 16, 255, 16, 255 },	  { 16, 256, 16, 256 },
	{ 16, 257, 16, 257 }, { 2, 1048576, 2, 1048576 }, { 1u << 24, 0, 0, 0 },
};

START_TEST(test_options_accepted)
{
	const struct accepted_case *c = &accepted_options[_i / 2];
	orbit_fleet_options_t opts = ORBIT_FLEET_OPTIONS_INIT;
	orbit_ring_t *ring;

	opts.capacity = c->capacity;
	opts.payload_max = c->payload_max;
	join_ok(_i % 2, &opts);
	if (!c->want_capacity)
		return;
	ring = fixture_ring(fixture_fleet, 1);
	ck_assert_uint_eq(orbit_ring_capacity(ring), c->want_capacity);
	ck_assert_uint_eq(orbit_ring_payload_max(ring), c->want_payload_max);
}
END_TEST

static const uint32_t modes[][2] = { { 0, 0600 }, { 0600, 0600 }, { 0640, 0640 }, { 0660, 0660 } };

START_TEST(test_options_mode)
{
	orbit_fleet_options_t opts = ORBIT_FLEET_OPTIONS_INIT;
	struct stat st;

	/* The mode is the fleet's promise to its group: the creator's umask must not narrow it. */
	umask(022);
	opts.capacity = 2;
	opts.mode = modes[_i][0];
	join_ok(FIXTURE_SHM, &opts);
	fixture_ring(fixture_fleet, 9);
	ck_assert_int_eq(segment_stat(9, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, modes[_i][1]);
}
END_TEST

/* An older caller's struct ends before mode: the bytes after it are not the caller's. */
START_TEST(test_options_older_caller)
{
	orbit_fleet_options_t opts = {
		.size = offsetof(orbit_fleet_options_t, mode),
		.capacity = 8,
		.payload_max = 100,
		.mode = 0777,
		.flags = 0xdeadbeef,
	};
	orbit_ring_t *ring;
	struct stat st;

	join_ok(_i, &opts);
	ring = fixture_ring(fixture_fleet, 1);
	ck_assert_uint_eq(orbit_ring_capacity(ring), 8);
	ck_assert_uint_eq(orbit_ring_payload_max(ring), 100);
	if (_i == FIXTURE_SHM) {
		ck_assert_int_eq(segment_stat(1, &st), 0);
		ck_assert_uint_eq(st.st_mode & 07777, 0600);
	}
}
END_TEST

START_TEST(test_options_oldest_caller)
{
	orbit_fleet_options_t opts = {
		.size = sizeof(size_t),
		.capacity = 3,
		.payload_max = UINT32_MAX,
		.mode = 0777,
		.flags = 1,
	};
	orbit_ring_t *ring;

	join_ok(_i, &opts);
	ring = fixture_ring(fixture_fleet, 1);
	ck_assert_uint_eq(orbit_ring_capacity(ring), 1024);
	ck_assert_uint_eq(orbit_ring_payload_max(ring), 256);
}
END_TEST

START_TEST(test_options_older_caller_without_payload_max)
{
	orbit_fleet_options_t opts = {
		.size = offsetof(orbit_fleet_options_t, payload_max),
		.capacity = 16,
		.payload_max = 7,
	};
	orbit_ring_t *ring;

	join_ok(_i, &opts);
	ring = fixture_ring(fixture_fleet, 1);
	ck_assert_uint_eq(orbit_ring_capacity(ring), 16);
	ck_assert_uint_eq(orbit_ring_payload_max(ring), 256);
}
END_TEST

/* A newer caller's struct: 64 bytes, the known fields first. */
union newer_options {
	orbit_fleet_options_t known;
	unsigned char bytes[64];
};

static void newer_options_init(union newer_options *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->known.size = sizeof(*opts);
	opts->known.capacity = 8;
}

START_TEST(test_options_newer_caller_zero_tail)
{
	union newer_options opts;
	orbit_ring_t *ring;

	newer_options_init(&opts);
	join_ok(_i, &opts.known);
	ring = fixture_ring(fixture_fleet, 1);
	ck_assert_uint_eq(orbit_ring_capacity(ring), 8);
}
END_TEST

START_TEST(test_options_newer_caller_nonzero_tail)
{
	const size_t tail[] = { sizeof(orbit_fleet_options_t), sizeof(union newer_options) - 1 };
	union newer_options opts;

	for (size_t i = 0; i < ARRAY_SIZE(tail); i++) {
		newer_options_init(&opts);
		opts.bytes[tail[i]] = 0x80;
		assert_join_fails(_i, fixture_fleet_name, 0, 1, &opts.known);
	}
}
END_TEST

/* ORBIT_FLEET_OWNER naming the caller is no flag at all: the caller's own fleet. */
START_TEST(test_options_owner_self)
{
	orbit_fleet_options_t opts = ORBIT_FLEET_OPTIONS_INIT;

	opts.flags = ORBIT_FLEET_OWNER;
	opts.owner = (uint32_t)geteuid();
	fixture_ring(join_ok(_i, &opts), 1);
	ck_assert_int_eq(segment_exists(1), _i == FIXTURE_SHM);
	if (_i == FIXTURE_SHM)
		ck_assert_int_eq(orbit_fleet_unlink(fixture_fleet), 1);
}
END_TEST

/* A struct that ends before owner cannot name one. */
START_TEST(test_options_owner_outside_struct)
{
	orbit_fleet_options_t opts = ORBIT_FLEET_OPTIONS_INIT;

	opts.size = offsetof(orbit_fleet_options_t, owner);
	opts.flags = ORBIT_FLEET_OWNER;
	opts.owner = (uint32_t)geteuid();
	assert_join_fails(_i, fixture_fleet_name, 0, 1, &opts);
}
END_TEST

/* Another user's fleet: joined with mode 0660 only, never created, never removed by us. */
START_TEST(test_options_owner_other)
{
	const uint32_t refused[] = { 0, 0600, 0640 };
	orbit_fleet_options_t opts = ORBIT_FLEET_OPTIONS_INIT;
	orbit_fleet_t *f = SENTINEL_FLEET;
	orbit_ring_t *ring = SENTINEL_RING;
	char path[512];
	struct stat st;

	opts.flags = ORBIT_FLEET_OWNER;
	opts.owner = (uint32_t)geteuid() + 1;
	for (size_t i = 0; i < ARRAY_SIZE(refused); i++) {
		opts.mode = refused[i];
		ck_assert_int_eq(orbit_fleet_join_shm(fixture_fleet_name, 0, 1, &opts, &f),
				 -EACCES);
		ck_assert_ptr_eq(f, SENTINEL_FLEET);
		assert_join_works(FIXTURE_LOCAL, fixture_fleet_name, 0, 1, &opts);
	}
	opts.mode = 0660;
	join_ok(FIXTURE_SHM, &opts);
	ck_assert_int_eq(orbit_fleet_ring(fixture_fleet, 1, &ring), -ENOENT);
	ck_assert_ptr_eq(ring, SENTINEL_RING);
	/* There is nothing of that user's to remove, and nothing of ours is touched. */
	ck_assert_int_eq(orbit_fleet_unlink(fixture_fleet), 0);
	ck_assert(!segment_exists(1));
	snprintf(path, sizeof(path), "/dev/shm/orbit-%s-1-%u", fixture_fleet_name, opts.owner);
	ck_assert_int_ne(stat(path, &st), 0);
}
END_TEST

START_TEST(test_ring_get_or_create)
{
	orbit_ring_t *first, *again, *other, *out = SENTINEL_RING;

	join_ok(_i, NULL);
	first = fixture_ring(fixture_fleet, 0);
	again = fixture_ring(fixture_fleet, 0);
	other = fixture_ring(fixture_fleet, 255);
	ck_assert_ptr_eq(first, again);
	ck_assert_ptr_ne(first, other);
	ck_assert_uint_eq(orbit_ring_kind(first), 0);
	ck_assert_uint_eq(orbit_ring_kind(other), 255);
	ck_assert_uint_eq(orbit_ring_capacity(first), 1024);
	ck_assert_uint_eq(orbit_ring_payload_max(first), 256);
	ck_assert_int_eq(orbit_fleet_ring(fixture_fleet, 1, NULL), -EINVAL);
	ck_assert_int_eq(orbit_fleet_ring(NULL, 0, &out), -EINVAL);
	ck_assert_ptr_eq(out, SENTINEL_RING);
}
END_TEST

struct ring_grab {
	pthread_barrier_t *start;
	int thread;
	int result[THREAD_KINDS];
	orbit_ring_t *ring[THREAD_KINDS];
};

/* Every thread asks for every kind, each starting at a different kind, all at once. */
static void *grab_rings(void *arg)
{
	struct ring_grab *grab = arg;

	pthread_barrier_wait(grab->start);
	for (int j = 0; j < THREAD_KINDS; j++) {
		int kind = (grab->thread * 5 + j) % THREAD_KINDS;

		grab->result[kind] =
			orbit_fleet_ring(fixture_fleet, (uint8_t)kind, &grab->ring[kind]);
	}
	return NULL;
}

START_TEST(test_ring_concurrent_get_or_create)
{
	orbit_fleet_options_t opts = ORBIT_FLEET_OPTIONS_INIT;
	struct ring_grab grabs[THREADS];
	pthread_t threads[THREADS];
	pthread_barrier_t start;

	opts.capacity = 8;
	join_ok(_i, &opts);
	ck_assert_int_eq(pthread_barrier_init(&start, NULL, THREADS), 0);
	for (int t = 0; t < THREADS; t++) {
		grabs[t] = (struct ring_grab){ .start = &start, .thread = t };
		ck_assert_int_eq(pthread_create(&threads[t], NULL, grab_rings, &grabs[t]), 0);
	}
	for (int t = 0; t < THREADS; t++)
		ck_assert_int_eq(pthread_join(threads[t], NULL), 0);
	pthread_barrier_destroy(&start);

	for (int kind = 0; kind < THREAD_KINDS; kind++) {
		orbit_ring_t *ring = fixture_ring(fixture_fleet, (uint8_t)kind);

		ck_assert_uint_eq(orbit_ring_kind(ring), kind);
		for (int t = 0; t < THREADS; t++) {
			ck_assert_int_eq(grabs[t].result[kind], 0);
			ck_assert_ptr_eq(grabs[t].ring[kind], ring);
		}
		for (int other = 0; other < kind; other++)
			ck_assert_ptr_ne(grabs[0].ring[other], ring);
	}
}
END_TEST

START_TEST(test_unlink_counts_segments)
{
	orbit_fleet_options_t opts = ORBIT_FLEET_OPTIONS_INIT;
	const uint8_t kinds[] = { 1, 2, 200 };
	orbit_frame_t frame;
	orbit_ring_t *ring;

	opts.capacity = 4;
	join_ok(FIXTURE_SHM, &opts);
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++)
		fixture_ring(fixture_fleet, kinds[i]);
	ck_assert_int_eq(orbit_fleet_unlink(fixture_fleet), ARRAY_SIZE(kinds));
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++)
		ck_assert(!segment_exists(kinds[i]));
	ck_assert_int_eq(orbit_fleet_unlink(fixture_fleet), 0);

	/* Unlinking removes names, not mappings: the rings still work. */
	ring = fixture_ring(fixture_fleet, 2);
	ck_assert_int_eq(orbit_ring_write(ring, 1, 2, "abc", 3, NULL), 0);
	ck_assert_int_eq(orbit_ring_read_head(ring, &frame, NULL, 0), -EMSGSIZE);
	ck_assert_uint_eq(frame.len, 3);
}
END_TEST

START_TEST(test_unlink_every_kind_of_the_fleet)
{
	orbit_fleet_options_t opts = ORBIT_FLEET_OPTIONS_INIT;

	opts.capacity = 2;
	join_ok(FIXTURE_SHM, &opts);
	fixture_ring(fixture_fleet, 0);
	fixture_ring(fixture_fleet, 255);
	ck_assert_int_eq(orbit_fleet_join_shm(fixture_fleet_name, 0, 1, &opts, &fixture_peer), 0);
	ck_assert_int_eq(orbit_fleet_unlink(fixture_peer), 2);
	ck_assert(!segment_exists(0));
	ck_assert(!segment_exists(255));
}
END_TEST

START_TEST(test_unlink_local_fleet)
{
	join_ok(FIXTURE_LOCAL, NULL);
	fixture_ring(fixture_fleet, 1);
	fixture_ring(fixture_fleet, 2);
	ck_assert_int_eq(orbit_fleet_unlink(fixture_fleet), 0);
}
END_TEST

START_TEST(test_segments_outlive_leave)
{
	orbit_frame_t frame;
	char payload[8];

	join_ok(FIXTURE_SHM, NULL);
	ck_assert_int_eq(orbit_ring_write(fixture_ring(fixture_fleet, 3), 4, 77, "kept", 4, NULL),
			 0);
	orbit_fleet_leave(fixture_fleet);
	fixture_fleet = NULL;
	ck_assert(segment_exists(3));

	join_ok(FIXTURE_SHM, NULL);
	ck_assert_int_eq(orbit_ring_read_head(fixture_ring(fixture_fleet, 3), &frame, payload,
					      sizeof(payload)),
			 0);
	ck_assert_uint_eq(frame.ver, 77);
	ck_assert_uint_eq(frame.len, 4);
	ck_assert_mem_eq(payload, "kept", 4);
}
END_TEST

struct attach_case {
	uint8_t kind;
	uint32_t capacity, payload_max;
	int want;
};

/* Kind 1 is made with capacity 8 and layout 1, kind 2 with capacity 8 and 100-byte slots. */
static const struct attach_case attach_cases[] = {
	{ 1, 8, 0, 0 },		 { 1, 8, 256, 0 },	 { 1, 16, 0, -EPROTO },
	{ 1, 4, 0, -EPROTO },	 { 1, 8, 100, -EPROTO }, { 2, 8, 100, 0 },
	{ 2, 8, 0, -EPROTO },	 { 2, 8, 101, -EPROTO }, { 2, 8, 64, -EPROTO },
	{ 2, 16, 100, -EPROTO },
};

/* A segment made with other options is not this fleet's: the attach names the mismatch. */
START_TEST(test_ring_attach_mismatch)
{
	const struct attach_case *c = &attach_cases[_i];
	orbit_fleet_options_t opts = ORBIT_FLEET_OPTIONS_INIT;
	orbit_ring_t *ring = SENTINEL_RING;

	opts.capacity = 8;
	join_ok(FIXTURE_SHM, &opts);
	fixture_ring(fixture_fleet, 1);
	orbit_fleet_leave(fixture_fleet);
	fixture_fleet = NULL;
	opts.payload_max = 100;
	join_ok(FIXTURE_SHM, &opts);
	fixture_ring(fixture_fleet, 2);

	opts.capacity = c->capacity;
	opts.payload_max = c->payload_max;
	ck_assert_int_eq(orbit_fleet_join_shm(fixture_fleet_name, 1, 2, &opts, &fixture_peer), 0);
	ck_assert_int_eq(orbit_fleet_ring(fixture_peer, c->kind, &ring), c->want);
	if (c->want)
		ck_assert_ptr_eq(ring, SENTINEL_RING);
	else
		ck_assert_uint_eq(orbit_ring_capacity(ring), c->capacity);
}
END_TEST

START_TEST(test_ring_attach_wider_mode)
{
	orbit_fleet_options_t opts = ORBIT_FLEET_OPTIONS_INIT;
	orbit_ring_t *ring = SENTINEL_RING;

	umask(022);
	opts.capacity = 2;
	opts.mode = 0640;
	join_ok(FIXTURE_SHM, &opts);
	fixture_ring(fixture_fleet, 1);
	ck_assert_int_eq(orbit_fleet_join_shm(fixture_fleet_name, 1, 2, NULL, &fixture_peer), 0);
	ck_assert_int_eq(orbit_fleet_ring(fixture_peer, 1, &ring), -EACCES);
	ck_assert_ptr_eq(ring, SENTINEL_RING);
	orbit_fleet_leave(fixture_peer);
	fixture_peer = NULL;

	/* A fleet that allows more may join a segment that grants less. */
	opts.mode = 0660;
	ck_assert_int_eq(orbit_fleet_join_shm(fixture_fleet_name, 1, 2, &opts, &fixture_peer), 0);
	ck_assert_int_eq(orbit_fleet_ring(fixture_peer, 1, &ring), 0);
}
END_TEST

/* ---- orbit_fleet_probe ---- */

#define PROBE_KIND 7
/* A value no probe reports: a field that still holds it was not written. */
#define UNSET 0xdeadbeefu
/* The same in flags, but for ORBIT_FLEET_OWNER, which a probe reads: it probes our fleet. */
#define UNSET_FLAGS	(UNSET & ~ORBIT_FLEET_OWNER)
#define OPTS_END(field) (offsetof(orbit_fleet_options_t, field) + sizeof(uint32_t))

static orbit_fleet_options_t unset_options(size_t size)
{
	return (orbit_fleet_options_t){
		.size = size,
		.capacity = UNSET,
		.payload_max = UNSET,
		.mode = UNSET,
		.flags = UNSET_FLAGS,
	};
}

/* Probes PROBE_KIND of `name`; on error *opts must be as it was. */
static void assert_probe_of(const char *what, const char *name, orbit_fleet_options_t *opts,
			    int want)
{
	orbit_fleet_options_t before = *opts;
	int ret = orbit_fleet_probe(name, PROBE_KIND, opts);

	ck_assert_msg(ret == want, "probe of %s: %d, want %d", what, ret, want);
	if (want)
		ck_assert_mem_eq(opts, &before, sizeof(before));
}

static void assert_probe(const char *name, orbit_fleet_options_t *opts, int want)
{
	assert_probe_of(name ? name : "NULL", name, opts, want);
}

static void assert_probed(const orbit_fleet_options_t *opts, uint32_t capacity,
			  uint32_t payload_max, uint32_t mode)
{
	ck_assert_uint_eq(opts->capacity, capacity);
	ck_assert_uint_eq(opts->payload_max, payload_max);
	ck_assert_uint_eq(opts->mode, mode);
}

/* What a probe must leave as it was: the object's metadata and its first bytes. */
#define SNAPSHOT_MAX (1u << 20)

struct snapshot {
	struct stat st;
	size_t len;
	uint8_t bytes[SNAPSHOT_MAX];
};

static struct snapshot snap_before, snap_after;

static void segment_snapshot(uint8_t kind, struct snapshot *snap)
{
	char path[512];
	int fd;

	test_segment_path(path, sizeof(path), fixture_fleet_name, kind);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &snap->st), 0);
	snap->len =
		(size_t)snap->st.st_size < SNAPSHOT_MAX ? (size_t)snap->st.st_size : SNAPSHOT_MAX;
	ck_assert_int_eq(pread(fd, snap->bytes, snap->len, 0), (ssize_t)snap->len);
	close(fd);
}

static int same_time(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

/* Probes PROBE_KIND as assert_probe does, and asserts the segment was not changed. */
static void assert_probe_changes_nothing(const char *what, orbit_fleet_options_t *opts, int want)
{
	const struct stat *a = &snap_before.st, *b = &snap_after.st;

	segment_snapshot(PROBE_KIND, &snap_before);
	assert_probe_of(what, fixture_fleet_name, opts, want);
	segment_snapshot(PROBE_KIND, &snap_after);
	ck_assert_uint_eq(a->st_size, b->st_size);
	ck_assert_uint_eq(a->st_mode, b->st_mode);
	ck_assert_uint_eq(a->st_uid, b->st_uid);
	ck_assert(same_time(&a->st_mtim, &b->st_mtim));
	ck_assert(same_time(&a->st_ctim, &b->st_ctim));
	ck_assert_mem_eq(snap_before.bytes, snap_after.bytes, snap_before.len);
}

static int segment_mapped(uint8_t kind)
{
	char path[512], line[1024];
	FILE *maps = fopen("/proc/self/maps", "r");
	int found = 0;

	ck_assert_ptr_nonnull(maps);
	test_segment_path(path, sizeof(path), fixture_fleet_name, kind);
	while (!found && fgets(line, sizeof(line), maps))
		found = strstr(line, path) != NULL;
	fclose(maps);
	return found;
}

struct probe_case {
	uint32_t capacity, payload_max, mode; /* the creator's options */
	uint32_t want_capacity, want_payload_max, want_mode;
};

static const struct probe_case probe_cases[] = {
	{ 0, 0, 0, 1024, 256, 0600 },
	{ 2, 256, 0640, 2, 256, 0640 },
	{ 4, 1, 0660, 4, 1, 0660 },
	{ 8, 100, 0600, 8, 100, 0600 },
	{ 16, 255, 0640, 16, 255, 0640 },
	{ 32, 257, 0660, 32, 257, 0660 },
	{ 1u << 16, 8, 0600, 1u << 16, 8, 0600 },
	{ 2, 1048576, 0640, 2, 1048576, 0640 },
};

START_TEST(test_probe_reports_join_options)
{
	const struct probe_case *c = &probe_cases[_i];
	orbit_fleet_options_t opts = ORBIT_FLEET_OPTIONS_INIT, found = unset_options(sizeof(found));
	orbit_ring_t *ring, *joined;
	orbit_frame_t frame;

	opts.capacity = c->capacity;
	opts.payload_max = c->payload_max;
	opts.mode = c->mode;
	ring = fixture_ring(join_ok(FIXTURE_SHM, &opts), PROBE_KIND);

	assert_probe(fixture_fleet_name, &found, 0);
	assert_probed(&found, c->want_capacity, c->want_payload_max, c->want_mode);
	ck_assert_uint_eq(found.size, sizeof(found));
	ck_assert_uint_eq(found.flags, UNSET_FLAGS);

	/* Exactly the options that join it: the same segment, of the same geometry. */
	found.flags = 0;
	ck_assert_int_eq(orbit_fleet_join_shm(fixture_fleet_name, 1, 2, &found, &fixture_peer), 0);
	joined = fixture_ring(fixture_peer, PROBE_KIND);
	ck_assert_uint_eq(orbit_ring_capacity(joined), orbit_ring_capacity(ring));
	ck_assert_uint_eq(orbit_ring_payload_max(joined), orbit_ring_payload_max(ring));
	ck_assert_int_eq(orbit_ring_write(ring, 1, 42, NULL, 0, NULL), 0);
	ck_assert_int_eq(orbit_ring_read_head(joined, &frame, NULL, 0), 0);
	ck_assert_uint_eq(frame.ver, 42);
}
END_TEST

/* The segment is read where it lies: not mapped, not locked, not changed. */
START_TEST(test_probe_touches_nothing)
{
	orbit_fleet_options_t opts = unset_options(sizeof(opts));
	orbit_ring_t *ring = fixture_ring(join_ok(FIXTURE_SHM, NULL), PROBE_KIND);
	char path[512];
	int fd;

	for (int i = 0; i < 100; i++)
		ck_assert_int_eq(orbit_ring_write(ring, 1, (uint64_t)i, "frame", 5, NULL), 0);
	orbit_fleet_leave(fixture_fleet);
	fixture_fleet = NULL;
	ck_assert(!segment_mapped(PROBE_KIND));

	/* A joiner holds this lock while it creates or checks the segment. */
	test_segment_path(path, sizeof(path), fixture_fleet_name, PROBE_KIND);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(flock(fd, LOCK_EX), 0);
	assert_probe_changes_nothing("a locked segment", &opts, 0);
	close(fd);
	assert_probed(&opts, 1024, 256, 0600);
	ck_assert(!segment_mapped(PROBE_KIND));
}
END_TEST

/* An older caller's struct: the fields past its size are not the caller's. */
START_TEST(test_probe_older_caller)
{
	const size_t sizes[] = { sizeof(size_t), offsetof(orbit_fleet_options_t, payload_max),
				 offsetof(orbit_fleet_options_t, mode),
				 offsetof(orbit_fleet_options_t, flags) };
	orbit_fleet_options_t opts = ORBIT_FLEET_OPTIONS_INIT;

	opts.capacity = 8;
	opts.payload_max = 100;
	opts.mode = 0640;
	fixture_ring(join_ok(FIXTURE_SHM, &opts), PROBE_KIND);
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		orbit_fleet_options_t found = unset_options(sizes[i]);

		assert_probe(fixture_fleet_name, &found, 0);
		ck_assert_uint_eq(found.size, sizes[i]);
		assert_probed(&found, OPTS_END(capacity) <= sizes[i] ? 8 : UNSET,
			      OPTS_END(payload_max) <= sizes[i] ? 100 : UNSET,
			      OPTS_END(mode) <= sizes[i] ? 0640 : UNSET);
		ck_assert_uint_eq(found.flags, UNSET_FLAGS);
	}
}
END_TEST

START_TEST(test_probe_newer_caller)
{
	union newer_options opts, before;

	fixture_ring(join_ok(FIXTURE_SHM, NULL), PROBE_KIND);
	memset(&opts, 0x80, sizeof(opts));
	opts.known.size = sizeof(opts);
	before = opts;
	ck_assert_int_eq(orbit_fleet_probe(fixture_fleet_name, PROBE_KIND, &opts.known), 0);
	assert_probed(&opts.known, 1024, 256, 0600);
	ck_assert_uint_eq(opts.known.flags, before.known.flags);
	ck_assert_mem_eq(opts.bytes + sizeof(opts.known), before.bytes + sizeof(opts.known),
			 sizeof(opts) - sizeof(opts.known));
}
END_TEST

START_TEST(test_probe_invalid)
{
	const size_t small[] = { 0, 1, sizeof(size_t) - 1 };
	orbit_fleet_options_t opts = unset_options(sizeof(opts));
	char name[MAX_NAME + 2];

	/* The segment exists: only the arguments are wrong. */
	fixture_ring(join_ok(FIXTURE_SHM, NULL), PROBE_KIND);
	assert_probe(NULL, &opts, -EINVAL);
	ck_assert_int_eq(orbit_fleet_probe(fixture_fleet_name, PROBE_KIND, NULL), -EINVAL);
	for (size_t i = 0; i < ARRAY_SIZE(bad_names); i++)
		assert_probe(bad_names[i], &opts, -EINVAL);
	memset(name, 'n', MAX_NAME + 1);
	name[MAX_NAME + 1] = '\0';
	assert_probe(name, &opts, -EINVAL);
	for (size_t i = 0; i < ARRAY_SIZE(small); i++) {
		opts = unset_options(small[i]);
		assert_probe(fixture_fleet_name, &opts, -EINVAL);
	}
	opts = unset_options(sizeof(opts));
	assert_probe(fixture_fleet_name, &opts, 0);
}
END_TEST

START_TEST(test_probe_no_segment)
{
	orbit_fleet_options_t opts = unset_options(sizeof(opts));

	assert_probe(fixture_fleet_name, &opts, -ENOENT);
	/* A process-local ring has no segment. */
	fixture_ring(join_ok(FIXTURE_LOCAL, NULL), PROBE_KIND);
	assert_probe(fixture_fleet_name, &opts, -ENOENT);
	orbit_fleet_leave(fixture_fleet);
	fixture_fleet = NULL;

	fixture_ring(join_ok(FIXTURE_SHM, NULL), PROBE_KIND + 1);
	assert_probe(fixture_fleet_name, &opts, -ENOENT);
	fixture_ring(fixture_fleet, PROBE_KIND);
	ck_assert_int_eq(orbit_fleet_unlink(fixture_fleet), 2);
	assert_probe(fixture_fleet_name, &opts, -ENOENT);
}
END_TEST

/* Turns the header a join writes (and the object's size) into what a case plants. */
typedef void spoil_fn(struct seg_header *h, uint64_t *size);

/* The object size the spoiled header's geometry implies: only the header is wrong. */
static void fit(const struct seg_header *h, uint64_t *size)
{
	*size = seg_header_object_size(h);
}

static void spoil_nothing(struct seg_header *h, uint64_t *size)
{
	(void)h;
	(void)size;
}

static void spoil_empty(struct seg_header *h, uint64_t *size)
{
	(void)h;
	*size = 0;
}

static void spoil_all_zero(struct seg_header *h, uint64_t *size)
{
	(void)size;
	*h = (struct seg_header){ .layout = h->layout };
}

static void spoil_magic_missing(struct seg_header *h, uint64_t *size)
{
	(void)size;
	h->magic = 0;
}

/* A ring already written to, whose magic or version is spoiled. */
static void spoil_magic(struct seg_header *h, uint64_t *size)
{
	(void)size;
	h->magic = 0x0BADF00D;
	h->write_pos = 3;
}

static void spoil_version(struct seg_header *h, uint64_t *size)
{
	(void)size;
	h->version = 3;
	h->write_pos = 3;
}

static void spoil_kind(struct seg_header *h, uint64_t *size)
{
	(void)size;
	h->kind = PROBE_KIND + 1;
}

static void spoil_capacity_odd(struct seg_header *h, uint64_t *size)
{
	h->capacity = 6;
	fit(h, size);
}

static void spoil_capacity_one(struct seg_header *h, uint64_t *size)
{
	h->capacity = 1;
	fit(h, size);
}

/* Sparse: the object is never touched past its header. */
static void spoil_capacity_over_limit(struct seg_header *h, uint64_t *size)
{
	h->capacity = 1u << 25;
	fit(h, size);
}

static void spoil_size_short(struct seg_header *h, uint64_t *size)
{
	(void)h;
	*size -= 64;
}

static void spoil_size_long(struct seg_header *h, uint64_t *size)
{
	(void)h;
	*size += 64;
}

/* Layout 2 only: 256 selects layout 1 in a join. */
static void spoil_payload_256(struct seg_header *h, uint64_t *size)
{
	h->payload_capacity = 256;
	h->slot_stride = 320;
	fit(h, size);
}

static void spoil_payload_zero(struct seg_header *h, uint64_t *size)
{
	h->payload_capacity = 0;
	h->slot_stride = 64;
	fit(h, size);
}

static void spoil_payload_over_limit(struct seg_header *h, uint64_t *size)
{
	h->payload_capacity = (1u << 20) + 1;
	h->slot_stride = (uint32_t)seg_slot_stride(h->payload_capacity);
	fit(h, size);
}

static void spoil_stride(struct seg_header *h, uint64_t *size)
{
	h->slot_stride += 64;
	fit(h, size);
}

struct planted_case {
	const char *what;
	uint32_t payload_max; /* the layout, and the header a join with it writes */
	spoil_fn *spoil;
	int want;
};

#define PLANT_CAPACITY 8
#define L1	       256
#define L2	       100

static const struct planted_case planted_cases[] = {
	{ "intact", L1, spoil_nothing, 0 },
	{ "intact", L2, spoil_nothing, 0 },
	{ "empty object", L1, spoil_empty, -EAGAIN },
	{ "all-zero header", L1, spoil_all_zero, -EAGAIN },
	{ "all-zero header", L2, spoil_all_zero, -EAGAIN },
	/* Written by someone, so not a segment being created, whatever is missing. */
	{ "every field but the magic", L1, spoil_magic_missing, -EPROTO },
	{ "every field but the magic", L2, spoil_magic_missing, -EPROTO },
	{ "garbage magic", L1, spoil_magic, -EPROTO },
	{ "garbage magic", L2, spoil_magic, -EPROTO },
	{ "unknown version", L1, spoil_version, -EPROTO },
	{ "unknown version", L2, spoil_version, -EPROTO },
	{ "another kind", L1, spoil_kind, -EPROTO },
	{ "another kind", L2, spoil_kind, -EPROTO },
	{ "capacity 6", L1, spoil_capacity_odd, -EPROTO },
	{ "capacity 6", L2, spoil_capacity_odd, -EPROTO },
	{ "capacity 1", L1, spoil_capacity_one, -EPROTO },
	{ "capacity 1", L2, spoil_capacity_one, -EPROTO },
	{ "capacity 2^25", L1, spoil_capacity_over_limit, -EPROTO },
	{ "capacity 2^25", L2, spoil_capacity_over_limit, -EPROTO },
	{ "object too short", L1, spoil_size_short, -EPROTO },
	{ "object too short", L2, spoil_size_short, -EPROTO },
	{ "object too long", L1, spoil_size_long, -EPROTO },
	{ "object too long", L2, spoil_size_long, -EPROTO },
	{ "layout 2 with payload 256", L2, spoil_payload_256, -EPROTO },
	{ "layout 2 with payload 0", L2, spoil_payload_zero, -EPROTO },
	{ "payload 2^20 + 1", L2, spoil_payload_over_limit, -EPROTO },
	{ "slot stride", L2, spoil_stride, -EPROTO },
};

START_TEST(test_probe_planted)
{
	const struct planted_case *c = &planted_cases[_i];
	struct seg_header h = seg_header_of(PROBE_KIND, PLANT_CAPACITY, c->payload_max);
	uint64_t size = seg_header_object_size(&h);
	orbit_fleet_options_t opts = unset_options(sizeof(opts));
	char what[128];

	c->spoil(&h, &size);
	ck_assert_int_eq(seg_plant(fixture_fleet_name, PROBE_KIND, &h, size), 0);
	snprintf(what, sizeof(what), "%s (layout %u)", c->what, h.layout->version);
	assert_probe_changes_nothing(what, &opts, c->want);
	if (c->want == 0)
		assert_probed(&opts, PLANT_CAPACITY, c->payload_max, 0600);
}
END_TEST

/* A segment's permission bits, and the fleet mode a probe reports (0: -EACCES). */
static const uint32_t probe_modes[][2] = {
	{ 0400, 0600 }, { 0600, 0600 }, { 0440, 0640 }, { 0640, 0640 }, { 0420, 0660 },
	{ 0460, 0660 }, { 0620, 0660 }, { 0660, 0660 }, { 0666, 0 },	{ 0604, 0 },
	{ 0700, 0 },	{ 0670, 0 },	{ 01600, 0 },	{ 02600, 0 },
};

static void segment_chmod(uint8_t kind, mode_t mode)
{
	char path[512];
	int fd;

	test_segment_path(path, sizeof(path), fixture_fleet_name, kind);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fchmod(fd, mode), 0);
	close(fd);
}

START_TEST(test_probe_mode)
{
	const uint32_t bits = probe_modes[_i][0], want = probe_modes[_i][1];
	orbit_fleet_options_t opts = unset_options(sizeof(opts));
	char what[32];

	fixture_ring(join_ok(FIXTURE_SHM, NULL), PROBE_KIND);
	segment_chmod(PROBE_KIND, bits);
	snprintf(what, sizeof(what), "mode %04o", (unsigned)bits);
	assert_probe_changes_nothing(what, &opts, want ? 0 : -EACCES);
	if (want)
		assert_probed(&opts, 1024, 256, want);
}
END_TEST

START_TEST(test_probe_other_owner)
{
	orbit_fleet_options_t opts = unset_options(sizeof(opts));
	char path[512];
	int fd;

	if (geteuid() != 0) {
		fprintf(stderr, "probe: -EPERM case not run: only root can give a segment away\n");
		return;
	}
	fixture_ring(join_ok(FIXTURE_SHM, NULL), PROBE_KIND);
	test_segment_path(path, sizeof(path), fixture_fleet_name, PROBE_KIND);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fchown(fd, 65534, 65534), 0);
	close(fd);
	assert_probe_changes_nothing("a segment of uid 65534", &opts, -EPERM);
}
END_TEST

START_TEST(test_probe_not_a_segment)
{
	orbit_fleet_options_t opts = unset_options(sizeof(opts));
	char path[512], target[512];
	int ret;

	/* A symlink to a good segment of another kind. */
	fixture_ring(join_ok(FIXTURE_SHM, NULL), PROBE_KIND + 1);
	test_segment_path(target, sizeof(target), fixture_fleet_name, PROBE_KIND + 1);
	test_segment_path(path, sizeof(path), fixture_fleet_name, PROBE_KIND);
	ck_assert_int_eq(symlink(target, path), 0);
	assert_probe(fixture_fleet_name, &opts, -ELOOP);
	ck_assert_int_eq(unlink(path), 0);

	ck_assert_int_eq(mkdir(path, 0700), 0);
	ret = orbit_fleet_probe(fixture_fleet_name, PROBE_KIND, &opts);
	ck_assert_int_eq(rmdir(path), 0);
	ck_assert_int_eq(ret, -EPROTO);
	ck_assert_uint_eq(opts.capacity, UNSET);
}
END_TEST

static Suite *fleet_suite(void)
{
	Suite *suite = suite_create("fleet");
	TCase *join = fixture_tcase(suite, "join", 0);
	TCase *options = fixture_tcase(suite, "options", 0);
	TCase *rings = fixture_tcase(suite, "rings", 0);
	TCase *unlink = fixture_tcase(suite, "unlink", 0);
	TCase *probe = fixture_tcase(suite, "probe", 0);
	const int backings = FIXTURE_BACKINGS;

	tcase_add_loop_test(join, test_join_getters, 0, backings);
	tcase_add_test(join, test_join_shm_creates_segments_lazily);
	tcase_add_loop_test(join, test_name_longest_allowed, 0, backings);
	tcase_add_loop_test(join, test_name_too_long, 0, backings);
	tcase_add_loop_test(join, test_name_rules, 0, backings);
	tcase_add_loop_test(join, test_node_and_size, 0, backings);
	tcase_add_loop_test(join, test_null_arguments, 0, backings);
	tcase_add_test(join, test_leave_null);
	tcase_add_test(join, test_null_handle);

	tcase_add_loop_test(options, test_options_rejected, 0,
			    ARRAY_SIZE(rejected_options) * backings);
	tcase_add_loop_test(options, test_options_size_zero, 0, backings);
	tcase_add_loop_test(options, test_options_accepted, 0,
			    ARRAY_SIZE(accepted_options) * backings);
	tcase_add_loop_test(options, test_options_mode, 0, ARRAY_SIZE(modes));
	tcase_add_loop_test(options, test_options_older_caller, 0, backings);
	tcase_add_loop_test(options, test_options_oldest_caller, 0, backings);
	tcase_add_loop_test(options, test_options_older_caller_without_payload_max, 0, backings);
	tcase_add_loop_test(options, test_options_newer_caller_zero_tail, 0, backings);
	tcase_add_loop_test(options, test_options_newer_caller_nonzero_tail, 0, backings);
	tcase_add_loop_test(options, test_options_owner_self, 0, backings);
	tcase_add_loop_test(options, test_options_owner_outside_struct, 0, backings);
	tcase_add_test(options, test_options_owner_other);

	tcase_add_loop_test(rings, test_ring_get_or_create, 0, backings);
	tcase_add_loop_test(rings, test_ring_concurrent_get_or_create, 0, backings);
	tcase_add_loop_test(rings, test_ring_attach_mismatch, 0, ARRAY_SIZE(attach_cases));
	tcase_add_test(rings, test_ring_attach_wider_mode);

	tcase_add_test(unlink, test_unlink_counts_segments);
	tcase_add_test(unlink, test_unlink_every_kind_of_the_fleet);
	tcase_add_test(unlink, test_unlink_local_fleet);
	tcase_add_test(unlink, test_segments_outlive_leave);

	tcase_add_loop_test(probe, test_probe_reports_join_options, 0, ARRAY_SIZE(probe_cases));
	tcase_add_test(probe, test_probe_touches_nothing);
	tcase_add_test(probe, test_probe_older_caller);
	tcase_add_test(probe, test_probe_newer_caller);
	tcase_add_test(probe, test_probe_invalid);
	tcase_add_test(probe, test_probe_no_segment);
	tcase_add_loop_test(probe, test_probe_planted, 0, ARRAY_SIZE(planted_cases));
	tcase_add_loop_test(probe, test_probe_mode, 0, ARRAY_SIZE(probe_modes));
	tcase_add_test(probe, test_probe_other_owner);
	tcase_add_test(probe, test_probe_not_a_segment);
	return suite;
}

int main(void)
{
	return test_run("fleet", fleet_suite);
}
