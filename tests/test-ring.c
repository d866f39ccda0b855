/* SPDX-License-Identifier: MIT */
/* Rings in one process: write, reads, next, wait, reset and every error, per layout and backing. */
#include <orbit.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>

#include "fixture.h"
#include "testutil.h"

#define RING_KIND 7
#define NODE	  3
#define BUF_SIZE  512  /* larger than every payload_max used here */
#define FILL	  0xa5 /* what a buffer holds where no call may write */

struct ring_config {
	int backing;
	uint32_t payload_max;	   /* as passed in the options */
	uint32_t want_payload_max; /* as the ring reports it */
};

/* Loop tests run once per configuration: _i is the index into this table. */
static const struct ring_config configs[] = {
	{ FIXTURE_LOCAL, 0, 256 },   /* layout 1 */
	{ FIXTURE_LOCAL, 100, 100 }, /* layout 2 */
	{ FIXTURE_SHM, 0, 256 },     /* layout 1 */
	{ FIXTURE_SHM, 100, 100 },   /* layout 2 */
};

/* An id no call may store on error. */
#define SENTINEL_ID UINT64_C(0x0123456789abcdef)

static orbit_fleet_t *join(int config, uint16_t node, uint32_t capacity)
{
	return fixture_join(configs[config].backing, node, NODE + 1, capacity,
			    configs[config].payload_max);
}

/* The fixture's fleet (node NODE) and its ring of kind RING_KIND. */
static orbit_ring_t *open_ring(int config, uint32_t capacity)
{
	fixture_fleet = join(config, NODE, capacity);
	return fixture_ring(fixture_fleet, RING_KIND);
}

/* Every frame's fields and payload are derived from its counter, so any mix-up shows. */
static uint8_t frame_kind_of(uint64_t counter)
{
	return (uint8_t)(counter * 3 + 1);
}

static uint64_t ver_of(uint64_t counter)
{
	return counter + 1000;
}

static void fill_payload(uint8_t *buf, size_t len, uint64_t counter)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(counter * 31 + i * 7 + 1);
}

static void write_frame(orbit_ring_t *ring, uint64_t counter, size_t len)
{
	uint8_t payload[BUF_SIZE];
	orbit_id_t id = SENTINEL_ID;

	fill_payload(payload, len, counter);
	ck_assert_int_eq(
		orbit_ring_write(ring, frame_kind_of(counter), ver_of(counter), payload, len, &id),
		0);
	ck_assert_uint_eq(id, orbit_id_make(RING_KIND, NODE, counter));
}

static void write_frames(orbit_ring_t *ring, uint64_t count, size_t len)
{
	for (uint64_t counter = 0; counter < count; counter++)
		write_frame(ring, counter, len);
}

/* The frame read into (frame, buf) is the one write_frame(counter, len) wrote. */
static void assert_frame(const orbit_frame_t *frame, const uint8_t *buf, uint64_t counter,
			 size_t len)
{
	uint8_t want[BUF_SIZE];

	fill_payload(want, len, counter);
	ck_assert_uint_eq(frame->id, orbit_id_make(RING_KIND, NODE, counter));
	ck_assert_uint_eq(frame->kind, frame_kind_of(counter));
	ck_assert_uint_eq(frame->ver, ver_of(counter));
	ck_assert_uint_eq(frame->len, len);
	ck_assert_mem_eq(buf, want, len);
	ck_assert_uint_eq(buf[len], FILL);
}

static int read_at(orbit_ring_t *ring, uint64_t counter, orbit_frame_t *frame, uint8_t *buf)
{
	memset(buf, FILL, BUF_SIZE);
	return orbit_ring_read_at(ring, counter, frame, buf, BUF_SIZE);
}

/* Reads this node's frame at counter by its id. */
static int read_id(orbit_ring_t *ring, uint64_t counter, orbit_frame_t *frame, uint8_t *buf)
{
	memset(buf, FILL, BUF_SIZE);
	return orbit_ring_read(ring, orbit_id_make(RING_KIND, NODE, counter), frame, buf, BUF_SIZE);
}

static void assert_read_at(orbit_ring_t *ring, uint64_t counter, size_t len)
{
	uint8_t buf[BUF_SIZE];
	orbit_frame_t frame;

	ck_assert_int_eq(read_at(ring, counter, &frame, buf), 0);
	assert_frame(&frame, buf, counter, len);
}

static int next(orbit_ring_t *ring, uint64_t *cursor, orbit_frame_t *frame, uint8_t *buf,
		uint64_t *lost)
{
	memset(buf, FILL, BUF_SIZE);
	return orbit_ring_next(ring, cursor, frame, buf, BUF_SIZE, lost);
}

START_TEST(test_getters)
{
	orbit_ring_t *ring = open_ring(_i, 16);

	ck_assert_uint_eq(orbit_ring_kind(ring), RING_KIND);
	ck_assert_uint_eq(orbit_ring_capacity(ring), 16);
	ck_assert_uint_eq(orbit_ring_payload_max(ring), configs[_i].want_payload_max);
	ck_assert_uint_eq(orbit_ring_head(ring), 0);
	write_frames(ring, 3, 1);
	ck_assert_uint_eq(orbit_ring_head(ring), 3);
}
END_TEST

START_TEST(test_write_then_every_read)
{
	orbit_ring_t *ring = open_ring(_i, 16);
	uint64_t cursor = 0, lost = 0;
	uint8_t buf[BUF_SIZE];
	orbit_frame_t frame;

	write_frames(ring, 2, 5);

	ck_assert_int_eq(read_id(ring, 0, &frame, buf), 0);
	assert_frame(&frame, buf, 0, 5);

	memset(buf, FILL, sizeof(buf));
	ck_assert_int_eq(orbit_ring_read_head(ring, &frame, buf, sizeof(buf)), 0);
	assert_frame(&frame, buf, 1, 5);

	assert_read_at(ring, 0, 5);
	assert_read_at(ring, 1, 5);

	for (uint64_t counter = 0; counter < 2; counter++) {
		ck_assert_int_eq(next(ring, &cursor, &frame, buf, &lost), 0);
		assert_frame(&frame, buf, counter, 5);
		ck_assert_uint_eq(cursor, counter + 1);
	}
	ck_assert_int_eq(next(ring, &cursor, &frame, buf, &lost), -EAGAIN);
	ck_assert_uint_eq(cursor, 2);
	ck_assert_uint_eq(lost, 0);
}
END_TEST

START_TEST(test_write_id_may_be_null)
{
	orbit_ring_t *ring = open_ring(_i, 4);

	ck_assert_int_eq(orbit_ring_write(ring, 1, 2, "ab", 2, NULL), 0);
	ck_assert_uint_eq(orbit_ring_head(ring), 1);
}
END_TEST

START_TEST(test_extreme_kinds_and_versions)
{
	static const struct {
		uint8_t kind;
		uint64_t ver;
	} cases[] = { { 0, 0 }, { 255, UINT64_MAX }, { 128, UINT64_C(1) << 63 } };
	orbit_ring_t *ring = open_ring(_i, 4);
	orbit_frame_t frame;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		ck_assert_int_eq(orbit_ring_write(ring, cases[i].kind, cases[i].ver, NULL, 0, NULL),
				 0);
		ck_assert_int_eq(orbit_ring_read_at(ring, (uint64_t)i, &frame, NULL, 0), 0);
		ck_assert_uint_eq(frame.kind, cases[i].kind);
		ck_assert_uint_eq(frame.ver, cases[i].ver);
	}
}
END_TEST

START_TEST(test_zero_length_payload)
{
	orbit_ring_t *ring = open_ring(_i, 4);
	uint8_t buf[BUF_SIZE];
	uint64_t cursor = 0;
	orbit_frame_t frame;

	write_frame(ring, 0, 0);
	ck_assert_int_eq(orbit_ring_write(ring, frame_kind_of(1), ver_of(1), "ignored", 0, NULL),
			 0);
	assert_read_at(ring, 0, 0);
	assert_read_at(ring, 1, 0);
	ck_assert_int_eq(next(ring, &cursor, &frame, buf, NULL), 0);
	assert_frame(&frame, buf, 0, 0);
}
END_TEST

START_TEST(test_payload_exactly_max)
{
	orbit_ring_t *ring = open_ring(_i, 4);
	const size_t max = configs[_i].want_payload_max;
	uint8_t buf[BUF_SIZE];
	orbit_frame_t frame;

	write_frame(ring, 0, max);
	assert_read_at(ring, 0, max);
	memset(buf, FILL, sizeof(buf));
	ck_assert_int_eq(orbit_ring_read_head(ring, &frame, buf, max), 0);
	assert_frame(&frame, buf, 0, max);
}
END_TEST

START_TEST(test_write_too_large)
{
	orbit_ring_t *ring = open_ring(_i, 4);
	const size_t max = configs[_i].want_payload_max;
	uint8_t payload[BUF_SIZE] = { 0 };
	orbit_id_t id = SENTINEL_ID;

	write_frame(ring, 0, 3);
	ck_assert_int_eq(orbit_ring_write(ring, 1, 1, payload, max + 1, &id), -EMSGSIZE);
	ck_assert_int_eq(orbit_ring_write(ring, 1, 1, payload, BUF_SIZE, &id), -EMSGSIZE);
	ck_assert_int_eq(orbit_ring_write(ring, 1, 1, payload, SIZE_MAX, &id), -EMSGSIZE);
	ck_assert_uint_eq(id, SENTINEL_ID);
	ck_assert_uint_eq(orbit_ring_head(ring), 1);
	assert_read_at(ring, 0, 3);
	ck_assert_int_eq(read_at(ring, 1, &(orbit_frame_t){ 0 }, payload), -ENOENT);
}
END_TEST

START_TEST(test_write_invalid_arguments)
{
	orbit_ring_t *ring = open_ring(_i, 4);
	orbit_id_t id = SENTINEL_ID;

	ck_assert_int_eq(orbit_ring_write(NULL, 1, 1, "a", 1, &id), -EINVAL);
	ck_assert_int_eq(orbit_ring_write(ring, 1, 1, NULL, 1, &id), -EINVAL);
	ck_assert_uint_eq(id, SENTINEL_ID);
	ck_assert_uint_eq(orbit_ring_head(ring), 0);
	ck_assert_int_eq(orbit_ring_write(ring, 1, 1, NULL, 0, &id), 0);
	ck_assert_uint_eq(id, orbit_id_make(RING_KIND, NODE, 0));
}
END_TEST

START_TEST(test_read_invalid_arguments)
{
	orbit_ring_t *ring = open_ring(_i, 4);
	const orbit_id_t id = orbit_id_make(RING_KIND, NODE, 0);
	uint64_t cursor = 0, lost = 0;
	uint8_t buf[BUF_SIZE];
	orbit_frame_t frame;

	write_frame(ring, 0, 4);

	ck_assert_int_eq(orbit_ring_read(NULL, id, &frame, buf, sizeof(buf)), -EINVAL);
	ck_assert_int_eq(orbit_ring_read(ring, id, NULL, buf, sizeof(buf)), -EINVAL);
	ck_assert_int_eq(orbit_ring_read(ring, id, &frame, NULL, sizeof(buf)), -EINVAL);

	ck_assert_int_eq(orbit_ring_read_head(NULL, &frame, buf, sizeof(buf)), -EINVAL);
	ck_assert_int_eq(orbit_ring_read_head(ring, NULL, buf, sizeof(buf)), -EINVAL);
	ck_assert_int_eq(orbit_ring_read_head(ring, &frame, NULL, 1), -EINVAL);

	ck_assert_int_eq(orbit_ring_read_at(NULL, 0, &frame, buf, sizeof(buf)), -EINVAL);
	ck_assert_int_eq(orbit_ring_read_at(ring, 0, NULL, buf, sizeof(buf)), -EINVAL);
	ck_assert_int_eq(orbit_ring_read_at(ring, 0, &frame, NULL, 1), -EINVAL);

	ck_assert_int_eq(orbit_ring_next(NULL, &cursor, &frame, buf, sizeof(buf), &lost), -EINVAL);
	ck_assert_int_eq(orbit_ring_next(ring, NULL, &frame, buf, sizeof(buf), &lost), -EINVAL);
	ck_assert_int_eq(orbit_ring_next(ring, &cursor, NULL, buf, sizeof(buf), &lost), -EINVAL);
	ck_assert_int_eq(orbit_ring_next(ring, &cursor, &frame, NULL, 1, &lost), -EINVAL);
	ck_assert_uint_eq(cursor, 0);
	ck_assert_uint_eq(lost, 0);

	ck_assert_int_eq(orbit_ring_wait(NULL, 0, 0), -EINVAL);
	ck_assert_int_eq(orbit_ring_reset(NULL), -EINVAL);
	ck_assert_uint_eq(orbit_ring_head(ring), 1);
}
END_TEST

/* A buffer smaller than the payload: -EMSGSIZE, the frame filled, the first size bytes copied. */
static void assert_truncated(int ret, const orbit_frame_t *frame, const uint8_t *buf,
			     uint64_t counter, size_t len, size_t size)
{
	uint8_t want[BUF_SIZE];

	fill_payload(want, len, counter);
	ck_assert_int_eq(ret, -EMSGSIZE);
	ck_assert_uint_eq(frame->id, orbit_id_make(RING_KIND, NODE, counter));
	ck_assert_uint_eq(frame->kind, frame_kind_of(counter));
	ck_assert_uint_eq(frame->ver, ver_of(counter));
	ck_assert_uint_eq(frame->len, len);
	ck_assert_mem_eq(buf, want, size);
	ck_assert_uint_eq(buf[size], FILL);
}

START_TEST(test_read_small_buffer)
{
	orbit_ring_t *ring = open_ring(_i, 4);
	const orbit_id_t id = orbit_id_make(RING_KIND, NODE, 0);
	const size_t len = 10, size = 4;
	uint64_t cursor = 0, lost = 0;
	uint8_t buf[BUF_SIZE];
	orbit_frame_t frame;
	int ret;

	write_frame(ring, 0, len);

	memset(buf, FILL, sizeof(buf));
	ret = orbit_ring_read(ring, id, &frame, buf, size);
	assert_truncated(ret, &frame, buf, 0, len, size);

	memset(buf, FILL, sizeof(buf));
	ret = orbit_ring_read_head(ring, &frame, buf, size);
	assert_truncated(ret, &frame, buf, 0, len, size);

	memset(buf, FILL, sizeof(buf));
	ret = orbit_ring_read_at(ring, 0, &frame, buf, len - 1);
	assert_truncated(ret, &frame, buf, 0, len, len - 1);

	memset(buf, FILL, sizeof(buf));
	ret = orbit_ring_next(ring, &cursor, &frame, buf, size, &lost);
	assert_truncated(ret, &frame, buf, 0, len, size);
	ck_assert_uint_eq(cursor, 0);
	ck_assert_uint_eq(lost, 0);

	/* The cursor stayed on the frame: a big enough buffer gets it next. */
	ck_assert_int_eq(next(ring, &cursor, &frame, buf, &lost), 0);
	assert_frame(&frame, buf, 0, len);
	ck_assert_uint_eq(cursor, 1);

	memset(buf, FILL, sizeof(buf));
	ck_assert_int_eq(orbit_ring_read_at(ring, 0, &frame, buf, len), 0);
	assert_frame(&frame, buf, 0, len);
}
END_TEST

START_TEST(test_read_null_buffer_size_zero)
{
	orbit_ring_t *ring = open_ring(_i, 4);
	uint64_t cursor = 0;
	orbit_frame_t frame;

	write_frame(ring, 0, 6);
	write_frame(ring, 1, 0);

	ck_assert_int_eq(orbit_ring_read_at(ring, 0, &frame, NULL, 0), -EMSGSIZE);
	ck_assert_uint_eq(frame.len, 6);
	ck_assert_uint_eq(frame.ver, ver_of(0));
	ck_assert_int_eq(orbit_ring_read(ring, orbit_id_make(RING_KIND, NODE, 0), &frame, NULL, 0),
			 -EMSGSIZE);
	ck_assert_uint_eq(frame.len, 6);
	ck_assert_int_eq(orbit_ring_next(ring, &cursor, &frame, NULL, 0, NULL), -EMSGSIZE);
	ck_assert_uint_eq(cursor, 0);

	ck_assert_int_eq(orbit_ring_read_at(ring, 1, &frame, NULL, 0), 0);
	ck_assert_uint_eq(frame.len, 0);
	ck_assert_uint_eq(frame.ver, ver_of(1));
	ck_assert_int_eq(orbit_ring_read_head(ring, &frame, NULL, 0), 0);
	ck_assert_uint_eq(frame.id, orbit_id_make(RING_KIND, NODE, 1));
	cursor = 1;
	ck_assert_int_eq(orbit_ring_next(ring, &cursor, &frame, NULL, 0, NULL), 0);
	ck_assert_uint_eq(cursor, 2);
}
END_TEST

START_TEST(test_read_id_of_another_kind)
{
	orbit_ring_t *ring = open_ring(_i, 4);
	uint8_t buf[BUF_SIZE];
	orbit_frame_t frame;

	write_frame(ring, 0, 3);
	ck_assert_int_eq(orbit_ring_read(ring, orbit_id_make(RING_KIND + 1, NODE, 0), &frame, buf,
					 sizeof(buf)),
			 -ENOENT);
	ck_assert_int_eq(orbit_ring_read(ring, orbit_id_make(0, NODE, 0), &frame, buf, sizeof(buf)),
			 -ENOENT);
}
END_TEST

START_TEST(test_read_never_written)
{
	orbit_ring_t *ring = open_ring(_i, 8);
	uint8_t buf[BUF_SIZE];
	orbit_frame_t frame;

	ck_assert_int_eq(read_at(ring, 0, &frame, buf), -ENOENT);
	ck_assert_int_eq(orbit_ring_read_head(ring, &frame, buf, sizeof(buf)), -ENOENT);
	ck_assert_int_eq(read_id(ring, 0, &frame, buf), -ENOENT);

	write_frame(ring, 0, 2);
	ck_assert_int_eq(read_at(ring, 1, &frame, buf), -ENOENT);
	ck_assert_int_eq(read_at(ring, 5, &frame, buf), -ENOENT);
	ck_assert_int_eq(read_at(ring, 8, &frame, buf), -ENOENT);
	/* Counters whose seq (2c + 2) overflows must not alias slot 0's frame. */
	ck_assert_int_eq(read_at(ring, UINT64_C(1) << 63, &frame, buf), -ENOENT);
	ck_assert_int_eq(read_at(ring, UINT64_MAX, &frame, buf), -ENOENT);
	ck_assert_int_eq(read_id(ring, 5, &frame, buf), -ENOENT);
	/* Slot 0 holds counter 0, not the next lap's counter 8. */
	ck_assert_int_eq(read_id(ring, 8, &frame, buf), -ENOENT);
}
END_TEST

START_TEST(test_wraparound)
{
	orbit_ring_t *ring = open_ring(_i, 4);
	uint64_t cursor = 0, lost = 0;
	uint8_t buf[BUF_SIZE];
	orbit_frame_t frame;

	write_frames(ring, 10, 12);
	ck_assert_uint_eq(orbit_ring_head(ring), 10);

	for (uint64_t counter = 0; counter < 6; counter++) {
		ck_assert_int_eq(read_at(ring, counter, &frame, buf), -ENOENT);
		ck_assert_int_eq(read_id(ring, counter, &frame, buf), -ENOENT);
	}
	for (uint64_t counter = 6; counter < 10; counter++)
		assert_read_at(ring, counter, 12);

	memset(buf, FILL, sizeof(buf));
	ck_assert_int_eq(orbit_ring_read_head(ring, &frame, buf, sizeof(buf)), 0);
	assert_frame(&frame, buf, 9, 12);

	ck_assert_int_eq(next(ring, &cursor, &frame, buf, &lost), 0);
	ck_assert_uint_eq(lost, 6);
	assert_frame(&frame, buf, 6, 12);
	ck_assert_uint_eq(cursor, 7);
	for (uint64_t counter = 7; counter < 10; counter++) {
		ck_assert_int_eq(next(ring, &cursor, &frame, buf, &lost), 0);
		assert_frame(&frame, buf, counter, 12);
		ck_assert_uint_eq(cursor, counter + 1);
	}
	ck_assert_int_eq(next(ring, &cursor, &frame, buf, &lost), -EAGAIN);
	ck_assert_uint_eq(cursor, 10);
	ck_assert_uint_eq(lost, 6);
}
END_TEST

START_TEST(test_next_lost_is_added_to)
{
	orbit_ring_t *ring = open_ring(_i, 4);
	uint64_t cursor = 0, lost = 100;
	uint8_t buf[BUF_SIZE];
	orbit_frame_t frame;

	write_frames(ring, 7, 1);
	ck_assert_int_eq(next(ring, &cursor, &frame, buf, &lost), 0);
	assert_frame(&frame, buf, 3, 1);
	ck_assert_uint_eq(lost, 103);
}
END_TEST

START_TEST(test_next_lost_may_be_null)
{
	orbit_ring_t *ring = open_ring(_i, 4);
	uint8_t buf[BUF_SIZE];
	uint64_t cursor = 0;
	orbit_frame_t frame;

	write_frames(ring, 6, 1);
	ck_assert_int_eq(next(ring, &cursor, &frame, buf, NULL), 0);
	assert_frame(&frame, buf, 2, 1);
	ck_assert_uint_eq(cursor, 3);
}
END_TEST

START_TEST(test_next_at_head)
{
	orbit_ring_t *ring = open_ring(_i, 4);
	uint64_t cursor = 0, lost = 0;
	uint8_t buf[BUF_SIZE];
	orbit_frame_t frame;

	ck_assert_int_eq(next(ring, &cursor, &frame, buf, &lost), -EAGAIN);
	ck_assert_uint_eq(cursor, 0);
	write_frame(ring, 0, 2);
	ck_assert_int_eq(next(ring, &cursor, &frame, buf, &lost), 0);
	ck_assert_int_eq(next(ring, &cursor, &frame, buf, &lost), -EAGAIN);
	ck_assert_int_eq(next(ring, &cursor, &frame, buf, &lost), -EAGAIN);
	ck_assert_uint_eq(cursor, 1);
	write_frame(ring, 1, 2);
	ck_assert_int_eq(next(ring, &cursor, &frame, buf, &lost), 0);
	assert_frame(&frame, buf, 1, 2);
	ck_assert_uint_eq(lost, 0);
}
END_TEST

START_TEST(test_wait_timeouts)
{
	orbit_ring_t *ring = open_ring(_i, 4);

	ck_assert_int_eq(orbit_ring_wait(ring, 0, 0), -ETIMEDOUT);
	ck_assert_int_eq(orbit_ring_wait(ring, 0, 20), -ETIMEDOUT);
	ck_assert_int_eq(orbit_ring_wait(ring, 0, -2), -EINVAL);
	ck_assert_int_eq(orbit_ring_wait(ring, 0, -1000), -EINVAL);
	ck_assert_int_eq(orbit_ring_wait(ring, 0, INT32_MIN), -EINVAL);

	write_frame(ring, 0, 1);
	ck_assert_int_eq(orbit_ring_wait(ring, 0, 0), 0);
	ck_assert_int_eq(orbit_ring_wait(ring, 0, 20), 0);
	ck_assert_int_eq(orbit_ring_wait(ring, 0, -1), 0);
	ck_assert_int_eq(orbit_ring_wait(ring, 1, 0), -ETIMEDOUT);
	ck_assert_int_eq(orbit_ring_wait(ring, 1, 10), -ETIMEDOUT);
	ck_assert_int_eq(orbit_ring_wait(ring, 5, 0), -ETIMEDOUT);
	ck_assert_int_eq(orbit_ring_wait(ring, 1, -2), -EINVAL);
}
END_TEST

static void *write_later(void *arg)
{
	sleep_ms(50);
	write_frame(arg, 0, 1);
	return NULL;
}

START_TEST(test_wait_wakes_on_write)
{
	orbit_ring_t *ring = open_ring(_i, 4);
	pthread_t writer;

	ck_assert_int_eq(pthread_create(&writer, NULL, write_later, ring), 0);
	ck_assert_int_eq(orbit_ring_wait(ring, 0, -1), 0);
	ck_assert_uint_ge(orbit_ring_head(ring), 1);
	ck_assert_int_eq(pthread_join(writer, NULL), 0);
}
END_TEST

struct interrupter {
	pthread_t target;
	atomic_bool done;
};

static void on_signal(int sig)
{
	(void)sig;
}

/* Signals until the waiter returns: one that lands before it sleeps does not lose the test. */
static void *interrupt_waiter(void *arg)
{
	struct interrupter *in = arg;

	while (!atomic_load(&in->done)) {
		sleep_ms(10);
		pthread_kill(in->target, SIGUSR1);
	}
	return NULL;
}

START_TEST(test_wait_interrupted)
{
	struct sigaction sa = { .sa_handler = on_signal }; /* no SA_RESTART */
	struct interrupter in = { .target = pthread_self() };
	orbit_ring_t *ring = open_ring(_i, 4);
	pthread_t thread;

	ck_assert_int_eq(sigaction(SIGUSR1, &sa, NULL), 0);
	ck_assert_int_eq(pthread_create(&thread, NULL, interrupt_waiter, &in), 0);
	ck_assert_int_eq(orbit_ring_wait(ring, 0, 60000), -EINTR);
	atomic_store(&in.done, true);
	ck_assert_int_eq(pthread_join(thread, NULL), 0);
}
END_TEST

START_TEST(test_reset)
{
	orbit_ring_t *ring = open_ring(_i, 4);
	uint64_t cursor = 0, lost = 0;
	uint8_t buf[BUF_SIZE];
	orbit_frame_t frame;

	write_frames(ring, 6, 8);
	ck_assert_int_eq(orbit_ring_reset(ring), 0);
	ck_assert_uint_eq(orbit_ring_head(ring), 0);
	for (uint64_t counter = 0; counter < 6; counter++)
		ck_assert_int_eq(read_at(ring, counter, &frame, buf), -ENOENT);
	ck_assert_int_eq(orbit_ring_read_head(ring, &frame, buf, sizeof(buf)), -ENOENT);
	ck_assert_int_eq(read_id(ring, 5, &frame, buf), -ENOENT);
	ck_assert_int_eq(next(ring, &cursor, &frame, buf, &lost), -EAGAIN);
	ck_assert_uint_eq(cursor, 0);
	ck_assert_int_eq(orbit_ring_wait(ring, 0, 0), -ETIMEDOUT);

	write_frame(ring, 0, 3);
	assert_read_at(ring, 0, 3);
	ck_assert_int_eq(read_at(ring, 1, &frame, buf), -ENOENT);
	ck_assert_int_eq(next(ring, &cursor, &frame, buf, &lost), 0);
	assert_frame(&frame, buf, 0, 3);
	ck_assert_uint_eq(lost, 0);
}
END_TEST

/* Two handles of one shm fleet share its rings; ids name the writing node. */
START_TEST(test_shared_handles)
{
	orbit_ring_t *ring = open_ring(_i, 8), *peer_ring;
	uint8_t buf[BUF_SIZE];
	orbit_id_t id = 0;
	orbit_frame_t frame;

	fixture_peer = join(_i, 1, 8);
	peer_ring = fixture_ring(fixture_peer, RING_KIND);
	ck_assert_ptr_ne(ring, peer_ring);
	write_frame(ring, 0, 4);
	ck_assert_int_eq(orbit_ring_write(peer_ring, 9, 9, "peer", 4, &id), 0);
	ck_assert_uint_eq(id, orbit_id_make(RING_KIND, 1, 1));

	ck_assert_uint_eq(orbit_ring_head(ring), 2);
	memset(buf, FILL, sizeof(buf));
	ck_assert_int_eq(orbit_ring_read(ring, id, &frame, buf, sizeof(buf)), 0);
	ck_assert_uint_eq(frame.id, id);
	ck_assert_mem_eq(buf, "peer", 4);
	memset(buf, FILL, sizeof(buf));
	ck_assert_int_eq(orbit_ring_read_at(peer_ring, 0, &frame, buf, sizeof(buf)), 0);
	assert_frame(&frame, buf, 0, 4);
}
END_TEST

static Suite *ring_suite(void)
{
	Suite *suite = suite_create("ring");
	TCase *write = fixture_tcase(suite, "write", 0);
	TCase *read = fixture_tcase(suite, "read", 0);
	TCase *next = fixture_tcase(suite, "next", 0);
	TCase *wait = fixture_tcase(suite, "wait", 0);
	const int n = ARRAY_SIZE(configs);

	tcase_add_loop_test(write, test_getters, 0, n);
	tcase_add_loop_test(write, test_write_then_every_read, 0, n);
	tcase_add_loop_test(write, test_write_id_may_be_null, 0, n);
	tcase_add_loop_test(write, test_extreme_kinds_and_versions, 0, n);
	tcase_add_loop_test(write, test_zero_length_payload, 0, n);
	tcase_add_loop_test(write, test_payload_exactly_max, 0, n);
	tcase_add_loop_test(write, test_write_too_large, 0, n);
	tcase_add_loop_test(write, test_write_invalid_arguments, 0, n);
	tcase_add_loop_test(write, test_reset, 0, n);
	/* configs 2 and 3 are the shm ones */
	tcase_add_loop_test(write, test_shared_handles, 2, n);

	tcase_add_loop_test(read, test_read_invalid_arguments, 0, n);
	tcase_add_loop_test(read, test_read_small_buffer, 0, n);
	tcase_add_loop_test(read, test_read_null_buffer_size_zero, 0, n);
	tcase_add_loop_test(read, test_read_id_of_another_kind, 0, n);
	tcase_add_loop_test(read, test_read_never_written, 0, n);
	tcase_add_loop_test(read, test_wraparound, 0, n);

	tcase_add_loop_test(next, test_next_lost_is_added_to, 0, n);
	tcase_add_loop_test(next, test_next_lost_may_be_null, 0, n);
	tcase_add_loop_test(next, test_next_at_head, 0, n);

	tcase_add_loop_test(wait, test_wait_timeouts, 0, n);
	tcase_add_loop_test(wait, test_wait_wakes_on_write, 0, n);
	tcase_add_loop_test(wait, test_wait_interrupted, 0, n);
	return suite;
}

int main(void)
{
	return test_run("ring", ring_suite);
}
