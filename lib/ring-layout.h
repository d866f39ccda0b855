/* SPDX-License-Identifier: MIT */
/*
 * The two ring segment layouts, byte by byte (orbit(7), Layouts): which one a geometry
 * takes, formatting a new header, checking an existing one against a join's geometry,
 * and probing one for the geometry it records. The slot protocol (ring.c) reads the
 * offsets from here and nothing else of a layout.
 */
#ifndef ORBIT_RING_LAYOUT_H
#define ORBIT_RING_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Byte offsets of every shared field, named once per layout. */
struct ring_layout {
	uint32_t version;
	uint32_t header_size;
	uint32_t hdr_magic, hdr_version, hdr_kind, hdr_capacity, hdr_write_pos;
	/* liborbit's words in bytes the seed reserves: futex, sleepers, armed pollers */
	uint32_t hdr_futex, hdr_waiters, hdr_bells;
	uint32_t hdr_payload_capacity, hdr_slot_stride; /* layout 2 only */
	uint32_t slot_seq, slot_id, slot_kind, slot_ver, slot_len, slot_payload;
};

/* What a ring's header records, and what a join compares with an existing one. */
struct ring_geometry {
	const struct ring_layout *layout;
	uint8_t kind;
	uint32_t capacity;    /* slots, a power of two */
	uint32_t payload_max; /* ORBIT_LAYOUT1_PAYLOAD in layout 1 */
	size_t stride;	      /* bytes per slot, a multiple of 64 */
	size_t size;	      /* the whole segment */
};

/* A ring capacity any layout can hold: a power of two from 2 to 2^32 - 1. */
bool ring_capacity_valid(uint64_t capacity);

/*
 * The geometry of a ring of `capacity` slots (ring_capacity_valid) of payload_max bytes:
 * ORBIT_LAYOUT1_PAYLOAD selects layout 1, any other size layout 2. -ENOMEM when the
 * segment would not fit in size_t.
 */
int ring_geometry_init(struct ring_geometry *geo, uint8_t kind, uint32_t capacity,
		       uint32_t payload_max);

/* A segment being opened: region_spec's ctx for ring_header_init and ring_header_check. */
struct ring_segment {
	const struct ring_geometry *geo;
	const char *name; /* for the log */
};

/* region_spec.init: writes the header of segment->geo into a new segment. */
int ring_header_init(void *head, size_t head_len, void *segment);

/*
 * region_spec.check: 0 when an existing header describes segment->geo exactly,
 * REGION_UNFORMATTED when nobody wrote it yet, -EPROTO otherwise.
 */
int ring_header_check(const void *head, size_t head_len, uint64_t object_size, void *segment);

/*
 * The geometry an existing header of `kind` records, if a join could recreate it (what
 * it says adds up, and to object_size): 0, -EAGAIN while it is blank, or -EPROTO.
 * `head` holds the object's first `len` bytes.
 */
int ring_header_probe(const uint8_t *head, size_t len, uint64_t object_size, uint8_t kind,
		      struct ring_geometry *geo);

/* The bytes ring_header_probe wants to see. */
size_t ring_header_probe_len(void);

#endif
