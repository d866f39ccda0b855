/* SPDX-License-Identifier: MIT */
/* The structured harnesses' input formats: each field taken and put in one order. */
#include "inputs.h"

const uint8_t substrate_rings[5] = {
	ORBIT_KIND_CACHE,   ORBIT_KIND_EVENTS,	  ORBIT_KIND_HEARTBEAT,
	ORBIT_KIND_CONTEST, SUBSTRATE_VALUE_KIND,
};

void fuzz_reads_take(struct fuzz_input *in, struct fuzz_reads *reads)
{
	reads->size = fuzz_u16(in);
	for (size_t i = 0; i < ARRAY_SIZE(reads->counters); i++)
		reads->counters[i] = fuzz_u64(in);
	reads->id = fuzz_u64(in);
	reads->cursor = fuzz_u64(in);
	reads->frame_kind = fuzz_u8(in);
	reads->ver = fuzz_u64(in);
	reads->write_len = fuzz_u16(in);
}

void fuzz_reads_put(struct fuzz_output *out, const struct fuzz_reads *reads)
{
	fuzz_put_u16(out, reads->size);
	for (size_t i = 0; i < ARRAY_SIZE(reads->counters); i++)
		fuzz_put_u64(out, reads->counters[i]);
	fuzz_put_u64(out, reads->id);
	fuzz_put_u64(out, reads->cursor);
	fuzz_put_u8(out, reads->frame_kind);
	fuzz_put_u64(out, reads->ver);
	fuzz_put_u16(out, reads->write_len);
}

void segment_input_take(struct fuzz_input *in, struct segment_input *seg)
{
	seg->kind = fuzz_u8(in);
	seg->object_mode = fuzz_u8(in);
	seg->fleet_mode = fuzz_u8(in);
	seg->join_probed = fuzz_u8(in) & 1;
	seg->object_size = fuzz_u32(in);
	seg->capacity_log2 = fuzz_u8(in);
	seg->payload_max = fuzz_u16(in);
	fuzz_reads_take(in, &seg->reads);
	seg->len = fuzz_bytes(in, SIZE_MAX, &seg->bytes);
}

void segment_input_put(struct fuzz_output *out, const struct segment_input *seg)
{
	fuzz_put_u8(out, seg->kind);
	fuzz_put_u8(out, seg->object_mode);
	fuzz_put_u8(out, seg->fleet_mode);
	fuzz_put_u8(out, seg->join_probed);
	fuzz_put_u32(out, seg->object_size);
	fuzz_put_u8(out, seg->capacity_log2);
	fuzz_put_u16(out, seg->payload_max);
	fuzz_reads_put(out, &seg->reads);
	fuzz_put_bytes(out, seg->bytes, seg->len);
}

void ring_input_take(struct fuzz_input *in, struct ring_input *ring)
{
	ring->geometry = fuzz_u8(in);
	ring->kind = fuzz_u8(in);
	ring->head = fuzz_u64(in);
	fuzz_reads_take(in, &ring->reads);
	ring->len = fuzz_bytes(in, SIZE_MAX, &ring->slots);
}

void ring_input_put(struct fuzz_output *out, const struct ring_input *ring)
{
	fuzz_put_u8(out, ring->geometry);
	fuzz_put_u8(out, ring->kind);
	fuzz_put_u64(out, ring->head);
	fuzz_reads_put(out, &ring->reads);
	fuzz_put_bytes(out, ring->slots, ring->len);
}

/* Layout 1 and layout 2 payloads of several strides, the smallest below any substrate's header. */
void ring_geometry(uint8_t geometry, uint32_t *capacity, uint32_t *payload_max)
{
	static const uint32_t payloads[] = { 256, 8, 24, 40, 100, 216, 300, 1000 };

	*capacity = 2u << (geometry & 3);
	*payload_max = payloads[(geometry >> 2) % ARRAY_SIZE(payloads)];
}

void substrate_op_take(struct fuzz_input *in, struct substrate_op_input *op)
{
	op->op = fuzz_u8(in);
	op->node = fuzz_u8(in);
	op->sel = fuzz_u8(in);
	op->sub = fuzz_u8(in);
	op->num = fuzz_u64(in);
	op->a_len = fuzz_field(in, UINT8_MAX, &op->a);
	op->b_len = fuzz_bytes(in, fuzz_u16(in), &op->b);
}

void substrate_op_put(struct fuzz_output *out, const struct substrate_op_input *op)
{
	fuzz_put_u8(out, op->op);
	fuzz_put_u8(out, op->node);
	fuzz_put_u8(out, op->sel);
	fuzz_put_u8(out, op->sub);
	fuzz_put_u64(out, op->num);
	fuzz_put_field(out, op->a, op->a_len);
	fuzz_put_u16(out, (uint16_t)op->b_len);
	fuzz_put_bytes(out, op->b, op->b_len);
}

/*
 * Where a substrate frame keeps its lengths: after `header` bytes come two parts, whose
 * lengths are the u16 fields at `first` and `second`; a frame of one part has no second
 * field (0). Frame kind 0 stands for any.
 */
static const struct frame_lengths {
	uint8_t ring;
	uint8_t frame_kind;
	uint8_t header;
	uint8_t first;
	uint8_t second;
} frame_lengths[] = {
	{ ORBIT_KIND_CACHE, 0, CACHE_HEADER, 1, 3 },
	{ ORBIT_KIND_EVENTS, 0, EVENT_HEADER, 0, 2 },
	{ ORBIT_KIND_CONTEST, 1, CLAIM_HEADER, 1, 3 },
	{ ORBIT_KIND_CONTEST, 2, RELEASE_HEADER, 9, 0 },
};

static const struct frame_lengths *lengths_of(uint8_t ring, uint8_t frame_kind, size_t len)
{
	for (size_t i = 0; i < ARRAY_SIZE(frame_lengths); i++) {
		const struct frame_lengths *f = &frame_lengths[i];

		if (f->ring == ring && (!f->frame_kind || f->frame_kind == frame_kind))
			return len >= f->header ? f : NULL;
	}
	return NULL;
}

static void put_len(uint8_t *field, size_t len)
{
	field[0] = (uint8_t)len;
	field[1] = (uint8_t)(len >> 8);
}

void frame_fit(uint8_t ring, uint8_t frame_kind, uint8_t *payload, size_t len, uint16_t split)
{
	const struct frame_lengths *f = lengths_of(ring, frame_kind, len);
	size_t rest, first;

	if (!f)
		return;
	rest = len - f->header;
	first = f->second ? split % (rest + 1) : rest;
	put_len(payload + f->first, first);
	if (f->second)
		put_len(payload + f->second, rest - first);
}

uint16_t frame_split(uint8_t ring, uint8_t frame_kind, const uint8_t *payload, size_t len)
{
	const struct frame_lengths *f = lengths_of(ring, frame_kind, len);

	return f ? (uint16_t)(payload[f->first] | payload[f->first + 1] << 8) : 0;
}
