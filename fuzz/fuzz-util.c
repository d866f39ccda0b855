/* SPDX-License-Identifier: MIT */
/* Input fields, property checks and the ring read exercise shared by the harnesses. */
#include "fuzz-util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Counters read on each side of the head, and next calls allowed past one lap. */
#define FUZZ_SCAN      32
#define FUZZ_NEXT_MORE 2
/*
 * A cursor below the head at a slot no writer reached, or one being written, is judged
 * on the 64th poll in a row at the latest (orbit_ring_next(3), NOTES): drains poll that
 * much longer there.
 */
#define FUZZ_JUDGE_POLLS 64
/* The largest counter whose commit value, 2c+2, a u64 seq can hold. */
#define FUZZ_COUNTER_MAX ((UINT64_MAX - 2) / 2)

struct fuzz_input fuzz_input_init(const uint8_t *data, size_t size)
{
	return (struct fuzz_input){ .data = data, .left = size };
}

static uint64_t take_le(struct fuzz_input *in, size_t width)
{
	uint64_t v = 0;

	for (size_t i = 0; i < width && in->left; i++, in->data++, in->left--)
		v |= (uint64_t)in->data[0] << (8 * i);
	return v;
}

uint8_t fuzz_u8(struct fuzz_input *in)
{
	return (uint8_t)take_le(in, 1);
}

uint16_t fuzz_u16(struct fuzz_input *in)
{
	return (uint16_t)take_le(in, 2);
}

uint32_t fuzz_u32(struct fuzz_input *in)
{
	return (uint32_t)take_le(in, 4);
}

uint64_t fuzz_u64(struct fuzz_input *in)
{
	return take_le(in, 8);
}

size_t fuzz_bytes(struct fuzz_input *in, size_t max, const uint8_t **bytes)
{
	size_t n = max < in->left ? max : in->left;

	*bytes = in->data;
	in->data += n;
	in->left -= n;
	return n;
}

size_t fuzz_field(struct fuzz_input *in, size_t max, const uint8_t **bytes)
{
	size_t len = fuzz_u8(in);

	return fuzz_bytes(in, len < max ? len : max, bytes);
}

static void put_room(struct fuzz_output *out, size_t more)
{
	if (out->len + more <= out->room)
		return;
	out->room = (out->len + more) * 2;
	out->data = realloc(out->data, out->room);
	if (!out->data)
		abort();
}

static void put_le(struct fuzz_output *out, uint64_t v, size_t width)
{
	put_room(out, width);
	for (size_t i = 0; i < width; i++)
		out->data[out->len++] = (uint8_t)(v >> (8 * i));
}

void fuzz_put_u8(struct fuzz_output *out, uint8_t v)
{
	put_le(out, v, 1);
}

void fuzz_put_u16(struct fuzz_output *out, uint16_t v)
{
	put_le(out, v, 2);
}

void fuzz_put_u32(struct fuzz_output *out, uint32_t v)
{
	put_le(out, v, 4);
}

void fuzz_put_u64(struct fuzz_output *out, uint64_t v)
{
	put_le(out, v, 8);
}

void fuzz_put_bytes(struct fuzz_output *out, const void *bytes, size_t len)
{
	if (!len)
		return;
	put_room(out, len);
	memcpy(out->data + out->len, bytes, len);
	out->len += len;
}

void fuzz_put_field(struct fuzz_output *out, const void *bytes, size_t len)
{
	fuzz_put_u8(out, (uint8_t)len);
	fuzz_put_bytes(out, bytes, len);
}

void fuzz_fail(const char *file, int line, const char *cond, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s:%d: broken promise: %s: ", file, line, cond);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

uint8_t *fuzz_buffer(size_t size)
{
	uint8_t *buf = size ? malloc(size) : NULL;

	if (size && !buf)
		abort();
	if (size)
		memset(buf, FUZZ_UNTOUCHED, size);
	return buf;
}

bool fuzz_untouched(const void *buf, size_t size)
{
	const uint8_t *bytes = buf;

	for (size_t i = 0; i < size; i++)
		if (bytes[i] != FUZZ_UNTOUCHED)
			return false;
	return true;
}

/* Ids carry a counter's low 40 bits. */
static uint64_t counter_bits(uint64_t counter)
{
	return orbit_id_counter((orbit_id_t)counter);
}

/* What a read call delivered (0 or -EMSGSIZE): a frame of this ring and counter that fits a slot. */
static void check_frame(orbit_ring_t *ring, uint64_t counter, const orbit_frame_t *frame,
			size_t size, int r)
{
	FUZZ_CHECK(frame->len <= orbit_ring_payload_max(ring), "len %u", frame->len);
	FUZZ_CHECK(orbit_id_kind(frame->id) == orbit_ring_kind(ring), "id %#llx",
		   (unsigned long long)frame->id);
	FUZZ_CHECK(orbit_id_counter(frame->id) == counter_bits(counter), "id %#llx, counter %llu",
		   (unsigned long long)frame->id, (unsigned long long)counter);
	FUZZ_CHECK((r == -EMSGSIZE) == (frame->len > size), "%d for len %u into %zu", r, frame->len,
		   size);
}

static bool read_result_valid(int r)
{
	return r == 0 || r == -ENOENT || r == -EAGAIN || r == -EMSGSIZE || r == -EPROTO;
}

/* After a read of counter: a result the contract allows, and *frame untouched on errors
 * other than -EMSGSIZE (orbit_ring_read(3)). */
static void check_read(orbit_ring_t *ring, const char *call, uint64_t counter,
		       const orbit_frame_t *frame, size_t size, int r)
{
	FUZZ_CHECK(read_result_valid(r), "%s(%llu) = %d", call, (unsigned long long)counter, r);
	if (r == 0 || r == -EMSGSIZE)
		check_frame(ring, counter, frame, size, r);
	else
		FUZZ_CHECK(fuzz_untouched(frame, sizeof(*frame)), "%s = %d wrote *frame", call, r);
}

static void read_at(orbit_ring_t *ring, uint64_t counter, size_t size)
{
	uint8_t *buf = fuzz_buffer(size);
	orbit_frame_t frame;

	memset(&frame, FUZZ_UNTOUCHED, sizeof(frame));
	check_read(ring, "read_at", counter, &frame, size,
		   orbit_ring_read_at(ring, counter, &frame, buf, size));
	free(buf);
}

static void read_head(orbit_ring_t *ring, size_t size)
{
	uint64_t head = orbit_ring_head(ring);
	uint8_t *buf = fuzz_buffer(size);
	orbit_frame_t frame;
	int r;

	memset(&frame, FUZZ_UNTOUCHED, sizeof(frame));
	r = orbit_ring_read_head(ring, &frame, buf, size);
	FUZZ_CHECK(head || r == -ENOENT, "read_head = %d on an empty ring", r);
	check_read(ring, "read_head", head - 1, &frame, size, r);
	free(buf);
}

static void read_id(orbit_ring_t *ring, orbit_id_t id, size_t size)
{
	uint8_t *buf = fuzz_buffer(size);
	orbit_frame_t frame;
	int r;

	memset(&frame, FUZZ_UNTOUCHED, sizeof(frame));
	r = orbit_ring_read(ring, id, &frame, buf, size);
	FUZZ_CHECK(orbit_id_kind(id) == orbit_ring_kind(ring) || r == -ENOENT,
		   "read of another kind's id = %d", r);
	check_read(ring, "read", orbit_id_counter(id), &frame, size, r);
	free(buf);
}

/*
 * orbit_ring_next and orbit_ring_write give an uncommitted claim the ring's stall bound
 * (200 ms) before they count it lost or take its slot over. The stress tests cover that
 * waiting; here it would cut fuzzing to a few runs a second. So before those calls each
 * slot whose seq would make them wait is settled, its other fields kept: a seq below its
 * last-lap counter's commit value becomes that value, and an odd one even.
 */
/* Whether seq holds a counter older than c: below its commit value, or an older one given up. */
static bool settles_below(uint64_t seq, uint64_t c)
{
	if ((seq & SEG_SEQ_GIVEN_UP) && (seq & 1))
		return (seq & ~SEG_SEQ_GIVEN_UP) < 2 * c + 1;
	return seq < 2 * c + 2;
}

static void settle_claims(const struct seg_map *map, uint64_t head)
{
	for (uint64_t slot = 0; slot < map->capacity; slot++) {
		uint8_t *p = seg_slot(map, slot);
		uint64_t seq = seg_load64(p, map->layout->slot_seq);

		if (head > slot) {
			uint64_t c = head - 1 - ((head - 1 - slot) & (map->capacity - 1));

			if (c <= FUZZ_COUNTER_MAX && settles_below(seq, c))
				seq = 2 * c + 2;
		}
		seg_store64(p, map->layout->slot_seq, seq & ~(uint64_t)1);
	}
}

/*
 * Follows a cursor to the head: every counter it passes is delivered or counted lost,
 * it never moves back, and it gets there within one lap of calls (nothing is left that
 * could make it wait).
 */
static void drain(orbit_ring_t *ring, uint64_t cursor, size_t size)
{
	uint8_t *buf = fuzz_buffer(size);
	uint64_t lost = 0;
	int r = 0;

	for (uint64_t calls = 0, again = 0;
	     calls < orbit_ring_capacity(ring) + FUZZ_NEXT_MORE + FUZZ_JUDGE_POLLS; calls++) {
		uint64_t before = cursor, lost_before = lost;
		orbit_frame_t frame;

		memset(&frame, FUZZ_UNTOUCHED, sizeof(frame));
		r = orbit_ring_next(ring, &cursor, &frame, buf, size, &lost);
		FUZZ_CHECK(r == 0 || r == -EAGAIN || r == -EMSGSIZE, "next = %d", r);
		FUZZ_CHECK(cursor >= before && cursor - before == lost - lost_before + (r == 0),
			   "cursor %llu -> %llu, lost %llu -> %llu, next = %d",
			   (unsigned long long)before, (unsigned long long)cursor,
			   (unsigned long long)lost_before, (unsigned long long)lost, r);
		if (r == 0)
			check_frame(ring, cursor - 1, &frame, size, r);
		if (r == -EMSGSIZE)
			check_frame(ring, cursor, &frame, size, r);
		if (r == -EAGAIN)
			FUZZ_CHECK(fuzz_untouched(&frame, sizeof(frame)), "next = %d wrote *frame",
				   r);
		if (r == -EAGAIN && cursor < orbit_ring_head(ring) && ++again < FUZZ_JUDGE_POLLS)
			continue;
		if (r < 0)
			break;
	}
	FUZZ_CHECK(r < 0, "next still delivering after a lap of calls");
	FUZZ_CHECK(r == -EMSGSIZE || cursor >= orbit_ring_head(ring), "next = %d at %llu of %llu",
		   r, (unsigned long long)cursor, (unsigned long long)orbit_ring_head(ring));
	free(buf);
}

/* Frames per orbit_ring_next_batch call in drain_batches(). */
#define FUZZ_BATCH 8

/*
 * drain() in batches: each call delivers up to FUZZ_BATCH frames that fit, and the
 * cursor moves by the frames delivered and counted lost.
 */
static void drain_batches(orbit_ring_t *ring, uint64_t cursor, size_t size)
{
	uint8_t *bufs = fuzz_buffer(size * FUZZ_BATCH);
	orbit_frame_t frames[FUZZ_BATCH];
	uint64_t lost = 0;
	int r = 0;

	for (uint64_t calls = 0, again = 0;
	     calls < orbit_ring_capacity(ring) + FUZZ_NEXT_MORE + FUZZ_JUDGE_POLLS; calls++) {
		uint64_t before = cursor, lost_before = lost;

		memset(frames, FUZZ_UNTOUCHED, sizeof(frames));
		r = orbit_ring_next_batch(ring, &cursor, frames, bufs, size, FUZZ_BATCH, &lost);
		FUZZ_CHECK(r == -EAGAIN || r == -EMSGSIZE || (r > 0 && r <= FUZZ_BATCH),
			   "next_batch = %d", r);
		FUZZ_CHECK(cursor >= before && cursor - before == lost - lost_before +
									  (r > 0 ? (uint64_t)r : 0),
			   "cursor %llu -> %llu, lost %llu -> %llu, next_batch = %d",
			   (unsigned long long)before, (unsigned long long)cursor,
			   (unsigned long long)lost_before, (unsigned long long)lost, r);
		/* Each a frame of this ring that fits (its counter: ids keep 40 bits of it). */
		for (int i = 0; i < r; i++)
			check_frame(ring, orbit_id_counter(frames[i].id), &frames[i], size, 0);
		if (r == -EMSGSIZE)
			check_frame(ring, cursor, &frames[0], size, r);
		if (r == -EAGAIN)
			FUZZ_CHECK(fuzz_untouched(frames, sizeof(frames)),
				   "next_batch = %d wrote frames", r);
		if (r == -EAGAIN && cursor < orbit_ring_head(ring) && ++again < FUZZ_JUDGE_POLLS)
			continue;
		if (r < 0)
			break;
	}
	FUZZ_CHECK(r < 0, "next_batch still delivering after a lap of calls");
	FUZZ_CHECK(r == -EMSGSIZE || cursor >= orbit_ring_head(ring),
		   "next_batch = %d at %llu of %llu", r, (unsigned long long)cursor,
		   (unsigned long long)orbit_ring_head(ring));
	free(bufs);
}

static void write_one(orbit_ring_t *ring, const struct fuzz_reads *reads)
{
	size_t len = reads->write_len % (orbit_ring_payload_max(ring) + 2);
	uint8_t *payload = fuzz_buffer(len);
	int r;

	if (len)
		memset(payload, reads->frame_kind, len);
	r = orbit_ring_write(ring, reads->frame_kind, reads->ver, payload, len, NULL);
	FUZZ_CHECK(r == (len > orbit_ring_payload_max(ring) ? -EMSGSIZE : 0), "write(%zu) = %d",
		   len, r);
	free(payload);
}

static void reset_empties(orbit_ring_t *ring)
{
	orbit_frame_t frame;

	FUZZ_CHECK(orbit_ring_reset(ring) == 0);
	FUZZ_CHECK(orbit_ring_head(ring) == 0);
	FUZZ_CHECK(orbit_ring_read_head(ring, &frame, NULL, 0) == -ENOENT);
	FUZZ_CHECK(orbit_ring_read_at(ring, 0, &frame, NULL, 0) == -ENOENT);
}

void fuzz_ring_exercise(orbit_ring_t *ring, const struct seg_map *map,
			const struct fuzz_reads *reads)
{
	/* Sizes around the slot's payload size, down to none at all. */
	size_t size = reads->size % (orbit_ring_payload_max(ring) + 64);
	uint64_t head = orbit_ring_head(ring);
	uint64_t from = head > FUZZ_SCAN ? head - FUZZ_SCAN : 0;

	for (uint64_t c = from; c - from < 2 * FUZZ_SCAN; c++)
		read_at(ring, c, size);
	for (size_t i = 0; i < ARRAY_SIZE(reads->counters); i++)
		read_at(ring, reads->counters[i], size);
	read_head(ring, size);
	read_head(ring, 0);
	read_id(ring, reads->id, size);
	read_id(ring, orbit_id_make(orbit_ring_kind(ring), 0, head - 1), size);

	settle_claims(map, head);
	drain_batches(ring, reads->cursor, size);
	drain(ring, reads->cursor, size);
	drain(ring, 0, size);
	write_one(ring, reads);
	FUZZ_CHECK(orbit_ring_wait(ring, reads->cursor, 0) ==
		   (orbit_ring_head(ring) > reads->cursor ? 0 : -ETIMEDOUT));
	reset_empties(ring);
}

void fuzz_unlink_segment(const char *fleet, uint8_t kind)
{
	char name[512];

	seg_shm_name(name, sizeof(name), fleet, kind);
	shm_unlink(name);
}

void fuzz_unlink_tables(const char *fleet)
{
	static const char *const tables[] = { "leases", "subjects", "bells" };
	char name[512];

	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		snprintf(name, sizeof(name), "/orbit-%s-%s-%lu", fleet, tables[i],
			 (unsigned long)geteuid());
		shm_unlink(name);
	}
}
