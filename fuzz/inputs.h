/* SPDX-License-Identifier: MIT */
/*
 * The input formats of the structured harnesses, each named once: the harness takes its
 * input with these, make-corpus puts seeds with them. Fields past an input's end read as
 * zero (fuzz-util.h), so any byte string is an input.
 */
#ifndef ORBIT_FUZZ_INPUTS_H
#define ORBIT_FUZZ_INPUTS_H

#include "fuzz-util.h"

void fuzz_reads_take(struct fuzz_input *in, struct fuzz_reads *reads);
void fuzz_reads_put(struct fuzz_output *out, const struct fuzz_reads *reads);

/* fuzz-segment: an object planted under a ring's name, then probed, joined and read. */
struct segment_input {
	uint8_t kind;
	uint8_t object_mode; /* picks the object's permission bits (fuzz-segment.c) */
	uint8_t fleet_mode;  /* picks the fleet's mode option (fuzz-segment.c) */
	bool join_probed;    /* join with the options the probe reported */
	uint32_t object_size;
	uint8_t capacity_log2; /* the join's own options */
	uint16_t payload_max;
	struct fuzz_reads reads;
	const uint8_t *bytes; /* the object's first bytes; the rest of it reads as zero */
	size_t len;
};

void segment_input_take(struct fuzz_input *in, struct segment_input *seg);
void segment_input_put(struct fuzz_output *out, const struct segment_input *seg);

/* fuzz-ring: a joined ring whose head and slots the input overwrites. */
struct ring_input {
	uint8_t geometry; /* capacity and payload_max, see ring_geometry() */
	uint8_t kind;
	uint64_t head;
	struct fuzz_reads reads;
	const uint8_t *slots; /* from the first slot on */
	size_t len;
};

void ring_input_take(struct fuzz_input *in, struct ring_input *ring);
void ring_input_put(struct fuzz_output *out, const struct ring_input *ring);
void ring_geometry(uint8_t geometry, uint32_t *capacity, uint32_t *payload_max);

/* fuzz-substrates: the fleet's geometry, then operations until the input ends. */
enum substrate_op {
	OP_RAW,		   /* sel: ring (substrate_rings), sub: frame kind, num: ver, b: payload */
	OP_CACHE_PUT,	   /* a: key, b: value, num: ttl_ms */
	OP_CACHE_GET,	   /* a: key, num: buffer size */
	OP_CACHE_DELETE,   /* a: key */
	OP_CACHE_RESET,	   /* a: prefix */
	OP_EVENTS_PUBLISH, /* a: topic, b: payload */
	OP_EVENTS_POLL,	   /* a: topic filter (none if empty), num: buffer size */
	OP_CLAIM,	   /* sel: subject kind, a: label, b: owner, num: ttl_ms */
	OP_HOLDER,	   /* sel: subject kind, a: label */
	OP_GUARD,	   /* sel: guard slot, sub: renew if odd, else release; num: ttl_ms */
	OP_HEARTBEAT,	   /* beats */
	OP_SNAPSHOT,	   /* sel: members array size, num: max_age_ms */
	OP_VALUE_STORE,	   /* b: the value */
	OP_VALUE_LOAD,	   /* num: size */
	OP_FRAME,	   /* as OP_RAW, but num: ver << 16 | split, see frame_fit() */
	OP_COUNT,
};

struct substrate_op_input {
	uint8_t op; /* modulo OP_COUNT */
	uint8_t node;
	uint8_t sel;
	uint8_t sub;
	uint64_t num;
	const uint8_t *a; /* at most 255 bytes */
	size_t a_len;
	const uint8_t *b; /* at most 65535 bytes */
	size_t b_len;
};

void substrate_op_take(struct fuzz_input *in, struct substrate_op_input *op);
void substrate_op_put(struct fuzz_output *out, const struct substrate_op_input *op);

/* Header sizes of the substrate frames (orbit(7), SUBSTRATES). */
#define CACHE_HEADER   13
#define EVENT_HEADER   12
#define CLAIM_HEADER   21
#define RELEASE_HEADER 11

/*
 * Sets the length fields of a substrate frame to add up to its size, the first part taking
 * `split` bytes (modulo what there is): every pair of lengths a well-formed frame can carry,
 * within each decoder's limits and past them, is then one number away.
 */
void frame_fit(uint8_t ring, uint8_t frame_kind, uint8_t *payload, size_t len, uint16_t split);

/* The split that gives a frame back the lengths it has. */
uint16_t frame_split(uint8_t ring, uint8_t frame_kind, const uint8_t *payload, size_t len);

/* The substrates' rings (OP_RAW's sel); the last is the typed values' ring. */
#define SUBSTRATE_VALUE_KIND 7
extern const uint8_t substrate_rings[5]; /* u8 each: sizeof gives the count */

#endif
