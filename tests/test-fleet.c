/* SPDX-License-Identifier: MIT */
/* Fleets: join validation (names, node/size, options), getters, the ring registry, unlink. */
#include <orbit.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"

typedef int join_fn(const char *name, uint16_t node, uint16_t size,
		    const orbit_fleet_options_t *opts, orbit_fleet_t **fleet);

/* Loop tests run once per backing: _i is the index into this table. */
static join_fn *const joins[] = { orbit_fleet_join, orbit_fleet_join_shm };
enum { LOCAL, SHM };

#define MAX_NAME     200
#define THREADS	     8
#define THREAD_KINDS 16

static char run_tag[32];
static char fleet_name[MAX_NAME + 2];
static orbit_fleet_t *fleet;
static orbit_fleet_t *peer; /* a second handle of the same fleet */

/* An address no call may store through or return on error. */
static char sentinel;
#define SENTINEL_FLEET ((orbit_fleet_t *)&sentinel)
#define SENTINEL_RING  ((orbit_ring_t *)&sentinel)

static void setup(void)
{
	test_fleet_name(fleet_name, sizeof(fleet_name), run_tag);
	fleet = NULL;
	peer = NULL;
}

static void teardown(void)
{
	orbit_fleet_leave(peer);
	orbit_fleet_leave(fleet);
	test_unlink_fleet(fleet_name);
}

/* Joins fleet_name as node 0 of 1 into the fixture's handle. */
static orbit_fleet_t *join_ok(int backing, const orbit_fleet_options_t *opts)
{
	ck_assert_int_eq(joins[backing](fleet_name, 0, 1, opts, &fleet), 0);
	ck_assert_ptr_nonnull(fleet);
	return fleet;
}

static orbit_ring_t *ring_ok(orbit_fleet_t *f, uint8_t kind)
{
	orbit_ring_t *ring = NULL;

	ck_assert_int_eq(orbit_fleet_ring(f, kind, &ring), 0);
	ck_assert_ptr_nonnull(ring);
	return ring;
}

static int segment_stat(uint8_t kind, struct stat *st)
{
	char path[512];

	test_segment_path(path, sizeof(path), fleet_name, kind);
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

	ck_assert_int_eq(joins[backing](name, node, size, opts, &f), -EINVAL);
	ck_assert_ptr_eq(f, SENTINEL_FLEET);
}

static void assert_join_works(int backing, const char *name, uint16_t node, uint16_t size,
			      const orbit_fleet_options_t *opts)
{
	orbit_fleet_t *f = NULL;

	ck_assert_int_eq(joins[backing](name, node, size, opts, &f), 0);
	ck_assert_ptr_nonnull(f);
	orbit_fleet_leave(f);
}

START_TEST(test_join_getters)
{
	char name[sizeof(fleet_name)];

	strcpy(name, fleet_name);
	ck_assert_int_eq(joins[_i](name, 2, 5, NULL, &fleet), 0);
	memset(name, 'z', strlen(name));

	ck_assert_str_eq(orbit_fleet_name(fleet), fleet_name);
	ck_assert_uint_eq(orbit_fleet_node(fleet), 2);
	ck_assert_uint_eq(orbit_fleet_size(fleet), 5);
	ck_assert_int_eq(orbit_fleet_is_shared(fleet), _i == SHM);
}
END_TEST

START_TEST(test_join_shm_creates_segments_lazily)
{
	struct stat st;

	join_ok(SHM, NULL);
	for (unsigned kind = 0; kind < 256; kind++)
		ck_assert_msg(!segment_exists((uint8_t)kind), "join made a segment for kind %u",
			      kind);

	ring_ok(fleet, 4);
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

	ck_assert_uint_lt(strlen(fleet_name), MAX_NAME);
	memset(name, 'n', MAX_NAME);
	memcpy(name, fleet_name, strlen(fleet_name));
	name[MAX_NAME] = '\0';
	strcpy(fleet_name, name);

	ck_assert_int_eq(joins[_i](fleet_name, 0, 1, NULL, &fleet), 0);
	ck_assert_str_eq(orbit_fleet_name(fleet), fleet_name);
	ring = ring_ok(fleet, 255);
	ck_assert_int_eq(orbit_ring_write(ring, 0, 0, "x", 1, NULL), 0);
	ck_assert_int_eq(segment_exists(255), _i == SHM);
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
	for (int i = 0; i < TEST_ARRAY_SIZE(good_names); i++)
		assert_join_works(_i, good_names[i], 0, 1, NULL);
	for (int i = 0; i < TEST_ARRAY_SIZE(bad_names); i++)
		assert_join_fails(_i, bad_names[i], 0, 1, NULL);
}
END_TEST

START_TEST(test_node_and_size)
{
	assert_join_fails(_i, fleet_name, 5, 5, NULL);
	assert_join_fails(_i, fleet_name, 6, 5, NULL);
	assert_join_fails(_i, fleet_name, 0, 0, NULL);
	assert_join_fails(_i, fleet_name, UINT16_MAX, UINT16_MAX, NULL);
	assert_join_fails(_i, fleet_name, UINT16_MAX, 0, NULL);

	assert_join_works(_i, fleet_name, 4, 5, NULL);
	assert_join_works(_i, fleet_name, 0, 1, NULL);
	assert_join_works(_i, fleet_name, UINT16_MAX - 1, UINT16_MAX, NULL);
}
END_TEST

START_TEST(test_null_arguments)
{
	assert_join_fails(_i, NULL, 0, 1, NULL);
	ck_assert_int_eq(joins[_i](fleet_name, 0, 1, NULL, NULL), -EINVAL);
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
	{ .flags = 1 },
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

	assert_join_fails(_i % 2, fleet_name, 0, 1, &opts);
}
END_TEST

START_TEST(test_options_size_zero)
{
	orbit_fleet_options_t opts = { .size = 0 };

	assert_join_fails(_i, fleet_name, 0, 1, &opts);
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
	ring = ring_ok(fleet, 1);
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
	join_ok(SHM, &opts);
	ring_ok(fleet, 9);
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
	ring = ring_ok(fleet, 1);
	ck_assert_uint_eq(orbit_ring_capacity(ring), 8);
	ck_assert_uint_eq(orbit_ring_payload_max(ring), 100);
	if (_i == SHM) {
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
	ring = ring_ok(fleet, 1);
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
	ring = ring_ok(fleet, 1);
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
	ring = ring_ok(fleet, 1);
	ck_assert_uint_eq(orbit_ring_capacity(ring), 8);
}
END_TEST

START_TEST(test_options_newer_caller_nonzero_tail)
{
	const size_t tail[] = { sizeof(orbit_fleet_options_t), sizeof(union newer_options) - 1 };
	union newer_options opts;

	for (int i = 0; i < TEST_ARRAY_SIZE(tail); i++) {
		newer_options_init(&opts);
		opts.bytes[tail[i]] = 0x80;
		assert_join_fails(_i, fleet_name, 0, 1, &opts.known);
	}
}
END_TEST

START_TEST(test_ring_get_or_create)
{
	orbit_ring_t *first, *again, *other, *out = SENTINEL_RING;

	join_ok(_i, NULL);
	first = ring_ok(fleet, 0);
	again = ring_ok(fleet, 0);
	other = ring_ok(fleet, 255);
	ck_assert_ptr_eq(first, again);
	ck_assert_ptr_ne(first, other);
	ck_assert_uint_eq(orbit_ring_kind(first), 0);
	ck_assert_uint_eq(orbit_ring_kind(other), 255);
	ck_assert_uint_eq(orbit_ring_capacity(first), 1024);
	ck_assert_uint_eq(orbit_ring_payload_max(first), 256);
	ck_assert_int_eq(orbit_fleet_ring(fleet, 1, NULL), -EINVAL);
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

		grab->result[kind] = orbit_fleet_ring(fleet, (uint8_t)kind, &grab->ring[kind]);
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
		orbit_ring_t *ring = ring_ok(fleet, (uint8_t)kind);

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
	join_ok(SHM, &opts);
	for (int i = 0; i < TEST_ARRAY_SIZE(kinds); i++)
		ring_ok(fleet, kinds[i]);
	ck_assert_int_eq(orbit_fleet_unlink(fleet), TEST_ARRAY_SIZE(kinds));
	for (int i = 0; i < TEST_ARRAY_SIZE(kinds); i++)
		ck_assert(!segment_exists(kinds[i]));
	ck_assert_int_eq(orbit_fleet_unlink(fleet), 0);

	/* Unlinking removes names, not mappings: the rings still work. */
	ring = ring_ok(fleet, 2);
	ck_assert_int_eq(orbit_ring_write(ring, 1, 2, "abc", 3, NULL), 0);
	ck_assert_int_eq(orbit_ring_read_head(ring, &frame, NULL, 0), -EMSGSIZE);
	ck_assert_uint_eq(frame.len, 3);
}
END_TEST

START_TEST(test_unlink_every_kind_of_the_fleet)
{
	orbit_fleet_options_t opts = ORBIT_FLEET_OPTIONS_INIT;

	opts.capacity = 2;
	join_ok(SHM, &opts);
	ring_ok(fleet, 0);
	ring_ok(fleet, 255);
	ck_assert_int_eq(orbit_fleet_join_shm(fleet_name, 0, 1, &opts, &peer), 0);
	ck_assert_int_eq(orbit_fleet_unlink(peer), 2);
	ck_assert(!segment_exists(0));
	ck_assert(!segment_exists(255));
}
END_TEST

START_TEST(test_unlink_local_fleet)
{
	join_ok(LOCAL, NULL);
	ring_ok(fleet, 1);
	ring_ok(fleet, 2);
	ck_assert_int_eq(orbit_fleet_unlink(fleet), 0);
}
END_TEST

START_TEST(test_segments_outlive_leave)
{
	orbit_frame_t frame;
	char payload[8];

	join_ok(SHM, NULL);
	ck_assert_int_eq(orbit_ring_write(ring_ok(fleet, 3), 4, 77, "kept", 4, NULL), 0);
	orbit_fleet_leave(fleet);
	fleet = NULL;
	ck_assert(segment_exists(3));

	join_ok(SHM, NULL);
	ck_assert_int_eq(orbit_ring_read_head(ring_ok(fleet, 3), &frame, payload, sizeof(payload)),
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
	join_ok(SHM, &opts);
	ring_ok(fleet, 1);
	orbit_fleet_leave(fleet);
	fleet = NULL;
	opts.payload_max = 100;
	join_ok(SHM, &opts);
	ring_ok(fleet, 2);

	opts.capacity = c->capacity;
	opts.payload_max = c->payload_max;
	ck_assert_int_eq(orbit_fleet_join_shm(fleet_name, 1, 2, &opts, &peer), 0);
	ck_assert_int_eq(orbit_fleet_ring(peer, c->kind, &ring), c->want);
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
	join_ok(SHM, &opts);
	ring_ok(fleet, 1);
	ck_assert_int_eq(orbit_fleet_join_shm(fleet_name, 1, 2, NULL, &peer), 0);
	ck_assert_int_eq(orbit_fleet_ring(peer, 1, &ring), -EACCES);
	ck_assert_ptr_eq(ring, SENTINEL_RING);
	orbit_fleet_leave(peer);
	peer = NULL;

	/* A fleet that allows more may join a segment that grants less. */
	opts.mode = 0660;
	ck_assert_int_eq(orbit_fleet_join_shm(fleet_name, 1, 2, &opts, &peer), 0);
	ck_assert_int_eq(orbit_fleet_ring(peer, 1, &ring), 0);
}
END_TEST

static TCase *fixture_tcase(const char *name)
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, setup, teardown);
	return tc;
}

static Suite *fleet_suite(void)
{
	Suite *suite = suite_create("fleet");
	TCase *join = fixture_tcase("join");
	TCase *options = fixture_tcase("options");
	TCase *rings = fixture_tcase("rings");
	TCase *unlink = fixture_tcase("unlink");
	const int backings = TEST_ARRAY_SIZE(joins);

	tcase_add_loop_test(join, test_join_getters, 0, backings);
	tcase_add_test(join, test_join_shm_creates_segments_lazily);
	tcase_add_loop_test(join, test_name_longest_allowed, 0, backings);
	tcase_add_loop_test(join, test_name_too_long, 0, backings);
	tcase_add_loop_test(join, test_name_rules, 0, backings);
	tcase_add_loop_test(join, test_node_and_size, 0, backings);
	tcase_add_loop_test(join, test_null_arguments, 0, backings);
	tcase_add_test(join, test_leave_null);
	tcase_add_test(join, test_null_handle);
	suite_add_tcase(suite, join);

	tcase_add_loop_test(options, test_options_rejected, 0,
			    TEST_ARRAY_SIZE(rejected_options) * backings);
	tcase_add_loop_test(options, test_options_size_zero, 0, backings);
	tcase_add_loop_test(options, test_options_accepted, 0,
			    TEST_ARRAY_SIZE(accepted_options) * backings);
	tcase_add_loop_test(options, test_options_mode, 0, TEST_ARRAY_SIZE(modes));
	tcase_add_loop_test(options, test_options_older_caller, 0, backings);
	tcase_add_loop_test(options, test_options_oldest_caller, 0, backings);
	tcase_add_loop_test(options, test_options_older_caller_without_payload_max, 0, backings);
	tcase_add_loop_test(options, test_options_newer_caller_zero_tail, 0, backings);
	tcase_add_loop_test(options, test_options_newer_caller_nonzero_tail, 0, backings);
	suite_add_tcase(suite, options);

	tcase_add_loop_test(rings, test_ring_get_or_create, 0, backings);
	tcase_add_loop_test(rings, test_ring_concurrent_get_or_create, 0, backings);
	tcase_add_loop_test(rings, test_ring_attach_mismatch, 0, TEST_ARRAY_SIZE(attach_cases));
	tcase_add_test(rings, test_ring_attach_wider_mode);
	suite_add_tcase(suite, rings);

	tcase_add_test(unlink, test_unlink_counts_segments);
	tcase_add_test(unlink, test_unlink_every_kind_of_the_fleet);
	tcase_add_test(unlink, test_unlink_local_fleet);
	tcase_add_test(unlink, test_segments_outlive_leave);
	suite_add_tcase(suite, unlink);
	return suite;
}

int main(void)
{
	snprintf(run_tag, sizeof(run_tag), "fleet%ld", (long)getpid());
	return test_run_suite(fleet_suite(), run_tag);
}
