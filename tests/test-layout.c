/* SPDX-License-Identifier: MIT */
/*
 * The shared-memory bytes of orbit(7) (Layouts), read and written behind liborbit's back:
 * what liborbit lays down, segments built by hand the way the seed does, and the seed's
 * decoding of liborbit's slots.
 */
#include <orbit.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fixture.h"
#include "segment-layout.h"
#include "testutil.h"

#define RING_KIND     42
#define NODE	      5
#define COUNTER_LIMIT (UINT64_C(1) << 40)
#define PAYLOAD_BUF   1024 /* the largest frame these tests write or read */

static struct seg_map seg; /* the segment as the test maps it, behind liborbit's back */

/*
 * A fixture added after the fleet fixture: Check tears fixtures down in reverse order, so
 * the mapping is closed before the fleet is left and its segments unlinked.
 */
static void seg_setup(void)
{
	seg = (struct seg_map){ .base = NULL };
}

static void seg_teardown(void)
{
	if (seg.base)
		seg_map_close(&seg);
}

static void map_segment(uint32_t capacity, uint32_t payload_max)
{
	ck_assert_int_eq(seg_map_open(&seg, fixture_fleet_name, RING_KIND, capacity, payload_max),
			 0);
}

/* Creates the segment the way the seed does (O_EXCL, ftruncate, zeroed, 0600) and maps it. */
static void create_segment(uint32_t capacity, uint32_t payload_max)
{
	char name[512];
	int fd;

	seg_shm_name(name, sizeof(name), fixture_fleet_name, RING_KIND);
	fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, (off_t)seg_size(capacity, payload_max)), 0);
	close(fd);
	map_segment(capacity, payload_max);
}

static orbit_ring_t *open_ring(uint32_t capacity, uint32_t payload_max)
{
	fixture_fleet = fixture_join(FIXTURE_SHM, NODE, NODE + 1, capacity, payload_max);
	return fixture_ring(fixture_fleet, RING_KIND);
}

static void assert_zero(const uint8_t *base, size_t from, size_t to)
{
	for (size_t at = from; at < to; at++)
		ck_assert_msg(base[at] == 0, "byte %zu is 0x%02x, not zero", at, base[at]);
}

/* Every frame's fields and payload are derived from its counter, so any mix-up shows. */
static uint8_t frame_kind_of(uint64_t counter)
{
	return (uint8_t)(counter * 5 + 2);
}

static uint64_t ver_of(uint64_t counter)
{
	return UINT64_C(0x1122334455667788) + counter;
}

/* payload_max as the ring reports it for these options. */
static uint32_t effective_max(uint32_t payload_max)
{
	return payload_max ? payload_max : SEG_V1_PAYLOAD;
}

/* Lengths vary from 0 to payload_max, small enough for the test's buffers. */
static size_t len_of(uint64_t counter, uint32_t payload_max)
{
	return (counter * 37 + 3) % (effective_max(payload_max) + 1) % PAYLOAD_BUF;
}

static void fill_payload(uint8_t *buf, size_t len, uint64_t counter)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(counter * 13 + i + 1);
}

static void write_frame(orbit_ring_t *ring, uint64_t counter, uint32_t payload_max)
{
	const size_t len = len_of(counter, payload_max);
	uint8_t payload[PAYLOAD_BUF];
	orbit_id_t id;

	fill_payload(payload, len, counter);
	ck_assert_int_eq(
		orbit_ring_write(ring, frame_kind_of(counter), ver_of(counter), payload, len, &id),
		0);
	ck_assert_uint_eq(id, orbit_id_make(RING_KIND, NODE, counter));
}

/* Lays a committed frame into its slot by hand, as the seed's writer leaves it. */
static void put_frame(uint64_t counter, uint16_t node)
{
	const struct seg_layout *l = seg.layout;
	uint8_t *slot = seg_slot(&seg, counter);
	const size_t len = len_of(counter, seg.payload_max);

	seg_store64(slot, l->slot_id, orbit_id_make(RING_KIND, node, counter));
	seg_store8(slot, l->slot_kind, frame_kind_of(counter));
	seg_store64(slot, l->slot_ver, ver_of(counter));
	seg_store32(slot, l->slot_len, (uint32_t)len);
	fill_payload(slot + l->slot_payload, len, counter);
	seg_store64(slot, l->slot_seq, 2 * counter + 2);
}

static void put_header(uint64_t write_pos)
{
	const struct seg_layout *l = seg.layout;

	seg_store32(seg.base, l->hdr_magic, SEG_MAGIC);
	seg_store32(seg.base, l->hdr_version, l->version);
	seg_store8(seg.base, l->hdr_kind, RING_KIND);
	seg_store64(seg.base, l->hdr_capacity, seg.capacity);
	seg_store64(seg.base, l->hdr_write_pos, write_pos);
	if (l == &seg_layout_v2) {
		seg_store32(seg.base, l->hdr_payload_capacity, seg.payload_max);
		seg_store32(seg.base, l->hdr_slot_stride,
			    (uint32_t)seg_slot_stride(seg.payload_max));
	}
}

/*
 * The seed's read_committed_frame plus ShmRing::read's counter check: seq even and
 * non-zero, length within the slot, seq unchanged after the copy, and the stored id's
 * counter the one asked for.
 */
static void assert_seed_reads(uint64_t counter, uint16_t node)
{
	const struct seg_layout *l = seg.layout;
	const uint8_t *slot = seg_slot(&seg, counter);
	const uint64_t seq_pre = seg_load64(slot, l->slot_seq);
	const uint32_t len = seg_load32(slot, l->slot_len);
	const uint64_t id = seg_load64(slot, l->slot_id);
	uint8_t want[PAYLOAD_BUF];

	ck_assert_uint_ne(seq_pre, 0);
	ck_assert_uint_eq(seq_pre & 1, 0);
	ck_assert_uint_eq(seq_pre, 2 * counter + 2);
	ck_assert_uint_le(len, seg.payload_max);
	ck_assert_uint_eq(len, len_of(counter, seg.payload_max));
	ck_assert_uint_eq(id, orbit_id_make(RING_KIND, node, counter));
	ck_assert_uint_eq(orbit_id_counter(id), counter % COUNTER_LIMIT);
	ck_assert_uint_eq(slot[l->slot_kind], frame_kind_of(counter));
	ck_assert_uint_eq(seg_load64(slot, l->slot_ver), ver_of(counter));
	fill_payload(want, len, counter);
	ck_assert_mem_eq(slot + l->slot_payload, want, len);
	ck_assert_uint_eq(seg_load64(slot, l->slot_seq), seq_pre);
}

/* liborbit returned what put_frame/write_frame stored for counter. */
static void assert_frame(const orbit_frame_t *frame, const uint8_t *buf, uint64_t counter,
			 uint16_t node, uint32_t payload_max)
{
	const size_t len = len_of(counter, payload_max);
	uint8_t want[PAYLOAD_BUF];

	fill_payload(want, len, counter);
	ck_assert_uint_eq(frame->id, orbit_id_make(RING_KIND, node, counter));
	ck_assert_uint_eq(frame->kind, frame_kind_of(counter));
	ck_assert_uint_eq(frame->ver, ver_of(counter));
	ck_assert_uint_eq(frame->len, len);
	ck_assert_mem_eq(buf, want, len);
}

static void assert_read_at(orbit_ring_t *ring, uint64_t counter, uint16_t node,
			   uint32_t payload_max)
{
	uint8_t buf[PAYLOAD_BUF];
	orbit_frame_t frame;

	ck_assert_int_eq(orbit_ring_read_at(ring, counter, &frame, buf, sizeof(buf)), 0);
	assert_frame(&frame, buf, counter, node, payload_max);
}

/* Loop tests: _i indexes this table of payload_max options; 0 and 256 are layout 1. */
static const uint32_t payload_maxes[] = { 0, 256, 100, 1, 200 };

START_TEST(test_header_bytes)
{
	const uint32_t payload_max = payload_maxes[_i];
	orbit_ring_t *ring = open_ring(8, payload_max);
	const struct seg_layout *l;

	for (uint64_t counter = 0; counter < 3; counter++)
		write_frame(ring, counter, payload_max);
	ck_assert_int_eq(orbit_ring_wait(ring, 3, 10), -ETIMEDOUT);
	map_segment(8, payload_max);
	l = seg.layout;

	ck_assert_uint_eq(seg.size, seg_size(8, payload_max));
	ck_assert_uint_eq(seg_load32(seg.base, l->hdr_magic), SEG_MAGIC);
	ck_assert_uint_eq(seg_load32(seg.base, l->hdr_version), l->version);
	ck_assert_uint_eq(seg.base[l->hdr_kind], RING_KIND);
	ck_assert_uint_eq(seg_load64(seg.base, l->hdr_capacity), 8);
	ck_assert_uint_eq(seg_load64(seg.base, l->hdr_write_pos), 3);
	ck_assert_uint_eq(seg_load32(seg.base, l->hdr_waiters), 0);
	if (l == &seg_layout_v1) {
		assert_zero(seg.base, l->hdr_kind + 1, l->hdr_capacity);
	} else {
		ck_assert_uint_eq(seg_load32(seg.base, l->hdr_payload_capacity), payload_max);
		ck_assert_uint_eq(seg_load32(seg.base, l->hdr_slot_stride),
				  seg_slot_stride(payload_max));
		assert_zero(seg.base, l->hdr_kind + 1, l->hdr_futex);
	}
	assert_zero(seg.base, l->hdr_waiters + 4, l->header_size);
}
END_TEST

START_TEST(test_slot_bytes)
{
	const uint32_t payload_max = payload_maxes[_i];
	orbit_ring_t *ring = open_ring(8, payload_max);

	for (uint64_t counter = 0; counter < 3; counter++)
		write_frame(ring, counter, payload_max);
	map_segment(8, payload_max);

	for (uint64_t counter = 0; counter < 3; counter++)
		assert_seed_reads(counter, NODE);
	for (uint64_t counter = 3; counter < 8; counter++)
		ck_assert_uint_eq(seg_load64(seg_slot(&seg, counter), seg.layout->slot_seq), 0);
}
END_TEST

/* After wraparound the seed still finds each live counter in its slot. */
START_TEST(test_slot_bytes_after_wraparound)
{
	const uint32_t payload_max = payload_maxes[_i];
	orbit_ring_t *ring = open_ring(4, payload_max);

	for (uint64_t counter = 0; counter < 11; counter++)
		write_frame(ring, counter, payload_max);
	map_segment(4, payload_max);

	ck_assert_uint_eq(seg_load64(seg.base, seg.layout->hdr_write_pos), 11);
	for (uint64_t counter = 7; counter < 11; counter++)
		assert_seed_reads(counter, NODE);
}
END_TEST

static const uint32_t strides[][2] = {
	{ 1, 64 },   { 31, 64 },   { 32, 64 },	 { 33, 128 },	 { 64, 128 },	       { 96, 128 },
	{ 97, 192 }, { 255, 320 }, { 257, 320 }, { 1000, 1088 }, { 1048576, 1048640 },
};

START_TEST(test_layout2_strides)
{
	const uint32_t payload_max = strides[_i][0];
	orbit_ring_t *ring = open_ring(2, payload_max);

	write_frame(ring, 0, payload_max);
	write_frame(ring, 1, payload_max);
	map_segment(2, payload_max);

	ck_assert_uint_eq(seg.size, 64 + 2 * strides[_i][1]);
	ck_assert_uint_eq(seg_load32(seg.base, seg_layout_v2.hdr_version), 2);
	ck_assert_uint_eq(seg_load32(seg.base, seg_layout_v2.hdr_payload_capacity), payload_max);
	ck_assert_uint_eq(seg_load32(seg.base, seg_layout_v2.hdr_slot_stride), strides[_i][1]);
	assert_seed_reads(0, NODE);
	assert_seed_reads(1, NODE);
}
END_TEST

/* A segment the seed made: 6 frames by node 9 in a ring of 4, so counters 2..5 are live. */
START_TEST(test_reads_hand_built_segment)
{
	const uint32_t payload_max = payload_maxes[_i];
	const uint16_t seed_node = 9;
	uint64_t cursor = 0, lost = 0;
	uint8_t buf[PAYLOAD_BUF];
	orbit_frame_t frame;
	orbit_ring_t *ring;

	create_segment(4, payload_max);
	put_header(6);
	for (uint64_t counter = 0; counter < 6; counter++)
		put_frame(counter, seed_node);

	ring = open_ring(4, payload_max);
	ck_assert_uint_eq(orbit_ring_head(ring), 6);
	ck_assert_uint_eq(orbit_ring_capacity(ring), 4);
	ck_assert_uint_eq(orbit_ring_payload_max(ring), effective_max(payload_max));
	for (uint64_t counter = 2; counter < 6; counter++)
		assert_read_at(ring, counter, seed_node, payload_max);
	ck_assert_int_eq(orbit_ring_read_at(ring, 1, &frame, buf, sizeof(buf)), -ENOENT);

	ck_assert_int_eq(orbit_ring_read(ring, orbit_id_make(RING_KIND, seed_node, 4), &frame, buf,
					 sizeof(buf)),
			 0);
	assert_frame(&frame, buf, 4, seed_node, payload_max);
	ck_assert_int_eq(orbit_ring_read_head(ring, &frame, buf, sizeof(buf)), 0);
	assert_frame(&frame, buf, 5, seed_node, payload_max);

	ck_assert_int_eq(orbit_ring_next(ring, &cursor, &frame, buf, sizeof(buf), &lost), 0);
	ck_assert_uint_eq(lost, 2);
	assert_frame(&frame, buf, 2, seed_node, payload_max);
	for (uint64_t counter = 3; counter < 6; counter++) {
		ck_assert_int_eq(orbit_ring_next(ring, &cursor, &frame, buf, sizeof(buf), &lost),
				 0);
		assert_frame(&frame, buf, counter, seed_node, payload_max);
	}
	ck_assert_int_eq(orbit_ring_next(ring, &cursor, &frame, buf, sizeof(buf), &lost), -EAGAIN);
	ck_assert_uint_eq(cursor, 6);

	/* liborbit's next frame continues the seed's counters, in the seed's format. */
	write_frame(ring, 6, payload_max);
	ck_assert_uint_eq(seg_load64(seg.base, seg.layout->hdr_write_pos), 7);
	assert_seed_reads(6, NODE);
	assert_seed_reads(5, seed_node);
}
END_TEST

/* A ring that has carried 2^40 frames: ids wrap, positions and seq do not. */
START_TEST(test_counter_wraps_at_40_bits)
{
	const uint32_t payload_max = payload_maxes[_i];
	const uint64_t start = COUNTER_LIMIT - 1;
	orbit_ring_t *ring = open_ring(8, payload_max);
	uint64_t cursor = start, lost = 0;
	uint8_t buf[PAYLOAD_BUF];
	orbit_frame_t frame;
	uint8_t *slot;

	write_frame(ring, 0, payload_max);
	map_segment(8, payload_max);
	seg_store64(seg.base, seg.layout->hdr_write_pos, start);

	ck_assert_int_eq(orbit_ring_write(ring, 1, 10, "a", 1, NULL), 0);
	ck_assert_int_eq(orbit_ring_write(ring, 2, 11, "b", 1, NULL), 0);
	ck_assert_uint_eq(orbit_ring_head(ring), start + 2);
	slot = seg_slot(&seg, start);
	ck_assert_uint_eq(seg_load64(slot, seg.layout->slot_seq), 2 * start + 2);
	ck_assert_uint_eq(seg_load64(slot, seg.layout->slot_id),
			  orbit_id_make(RING_KIND, NODE, COUNTER_LIMIT - 1));
	slot = seg_slot(&seg, start + 1);
	ck_assert_uint_eq(seg_load64(slot, seg.layout->slot_seq), 2 * start + 4);
	ck_assert_uint_eq(seg_load64(slot, seg.layout->slot_id), orbit_id_make(RING_KIND, NODE, 0));

	ck_assert_int_eq(orbit_ring_read_at(ring, start + 1, &frame, buf, sizeof(buf)), 0);
	ck_assert_uint_eq(frame.id, orbit_id_make(RING_KIND, NODE, 0));
	ck_assert_uint_eq(frame.ver, 11);
	ck_assert_int_eq(orbit_ring_read_head(ring, &frame, buf, sizeof(buf)), 0);
	ck_assert_uint_eq(frame.id, orbit_id_make(RING_KIND, NODE, 0));
	ck_assert_int_eq(orbit_ring_read_at(ring, start, &frame, buf, sizeof(buf)), 0);
	ck_assert_uint_eq(frame.id, orbit_id_make(RING_KIND, NODE, COUNTER_LIMIT - 1));
	ck_assert_uint_eq(frame.ver, 10);

	ck_assert_int_eq(orbit_ring_next(ring, &cursor, &frame, buf, sizeof(buf), &lost), 0);
	ck_assert_uint_eq(frame.ver, 10);
	ck_assert_int_eq(orbit_ring_next(ring, &cursor, &frame, buf, sizeof(buf), &lost), 0);
	ck_assert_uint_eq(frame.ver, 11);
	ck_assert_uint_eq(orbit_id_counter(frame.id), 0);
	ck_assert_uint_eq(cursor, start + 2);
	ck_assert_uint_eq(lost, 0);
}
END_TEST

static Suite *layout_suite(void)
{
	Suite *suite = suite_create("layout");
	TCase *bytes = fixture_tcase(suite, "bytes", 0);
	TCase *seed = fixture_tcase(suite, "seed", 0);
	const int n = ARRAY_SIZE(payload_maxes);

	tcase_add_checked_fixture(bytes, seg_setup, seg_teardown);
	tcase_add_loop_test(bytes, test_header_bytes, 0, n);
	tcase_add_loop_test(bytes, test_slot_bytes, 0, n);
	tcase_add_loop_test(bytes, test_slot_bytes_after_wraparound, 0, n);
	tcase_add_loop_test(bytes, test_layout2_strides, 0, ARRAY_SIZE(strides));
	tcase_add_loop_test(bytes, test_counter_wraps_at_40_bits, 0, n);

	tcase_add_checked_fixture(seed, seg_setup, seg_teardown);
	tcase_add_loop_test(seed, test_reads_hand_built_segment, 0, n);
	return suite;
}

int main(void)
{
	return test_run("layout", layout_suite);
}
