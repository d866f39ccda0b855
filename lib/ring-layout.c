/* SPDX-License-Identifier: MIT */
/* The ring layouts byte by byte: see ring-layout.h and orbit(7), Layouts. */
#include "ring-layout.h"

#include <orbit.h>

#include <errno.h>
#include <string.h>

#include "log.h"
#include "macro.h"
#include "region.h"

#define RING_MAGIC	0x4F524254u
#define RING_SLOT_ALIGN 64

/* orbit-rs 0.1 V1: 128-byte header, 320-byte slots, 256-byte payloads. */
static const struct ring_layout layout_v1 = {
	.version = 1,
	.header_size = 128,
	.hdr_magic = 0,
	.hdr_version = 4,
	.hdr_kind = 8,
	.hdr_capacity = 16,
	.hdr_write_pos = 24,
	.hdr_futex = 32,
	.hdr_waiters = 36,
	.hdr_bells = 40,
	.slot_seq = 0,
	.slot_id = 8,
	.slot_kind = 16,
	.slot_ver = 24,
	.slot_len = 32,
	.slot_payload = 40,
};

/* Layout 2: 64-byte header that records the payload size and slot stride. */
static const struct ring_layout layout_v2 = {
	.version = 2,
	.header_size = 64,
	.hdr_write_pos = 0,
	.hdr_capacity = 8,
	.hdr_magic = 16,
	.hdr_version = 20,
	.hdr_payload_capacity = 24,
	.hdr_slot_stride = 28,
	.hdr_kind = 32,
	.hdr_futex = 36,
	.hdr_waiters = 40,
	.hdr_bells = 44,
	.slot_seq = 0,
	.slot_id = 8,
	.slot_ver = 16,
	.slot_len = 24,
	.slot_kind = 28,
	.slot_payload = 32,
};

static uint32_t head_u32(const uint8_t *head, uint32_t offset)
{
	uint32_t v;

	memcpy(&v, head + offset, sizeof(v));
	return v;
}

static uint64_t head_u64(const uint8_t *head, uint32_t offset)
{
	uint64_t v;

	memcpy(&v, head + offset, sizeof(v));
	return v;
}

static size_t slot_stride(const struct ring_layout *layout, uint32_t payload_max)
{
	size_t fixed = layout->slot_payload + (size_t)payload_max;

	return (fixed + RING_SLOT_ALIGN - 1) & ~(size_t)(RING_SLOT_ALIGN - 1);
}

bool ring_capacity_valid(uint64_t capacity)
{
	return capacity >= 2 && capacity <= UINT32_MAX && !(capacity & (capacity - 1));
}

static const struct ring_layout *layout_of(uint32_t payload_max)
{
	return payload_max == ORBIT_LAYOUT1_PAYLOAD ? &layout_v1 : &layout_v2;
}

int ring_geometry_init(struct ring_geometry *geo, uint8_t kind, uint32_t capacity,
		       uint32_t payload_max)
{
	const struct ring_layout *layout = layout_of(payload_max);
	size_t stride = slot_stride(layout, payload_max);

	if (capacity > (SIZE_MAX - layout->header_size) / stride)
		return -ENOMEM;
	*geo = (struct ring_geometry){
		.layout = layout,
		.kind = kind,
		.capacity = capacity,
		.payload_max = payload_max,
		.stride = stride,
		.size = layout->header_size + (size_t)capacity * stride,
	};
	return 0;
}

int ring_header_init(void *head, size_t head_len, void *segment)
{
	const struct ring_geometry *geo = ((const struct ring_segment *)segment)->geo;
	const struct ring_layout *layout = geo->layout;
	uint8_t *h = head;
	uint64_t capacity = geo->capacity;
	uint32_t magic = RING_MAGIC, version = layout->version;

	(void)head_len;
	memcpy(h + layout->hdr_magic, &magic, sizeof(magic));
	memcpy(h + layout->hdr_version, &version, sizeof(version));
	h[layout->hdr_kind] = geo->kind;
	memcpy(h + layout->hdr_capacity, &capacity, sizeof(capacity));
	if (layout == &layout_v2) {
		uint32_t payload = geo->payload_max, stride = (uint32_t)geo->stride;

		memcpy(h + layout->hdr_payload_capacity, &payload, sizeof(payload));
		memcpy(h + layout->hdr_slot_stride, &stride, sizeof(stride));
	}
	return 0;
}

/* A stored header, decoded: what a join compares with its geometry and a probe reports. */
struct ring_header {
	uint8_t kind;
	uint64_t capacity;
	uint32_t payload_max;
	uint64_t stride; /* stored in layout 2, implied by layout 1 */
};

static bool magic_at(const uint8_t *head, size_t len, const struct ring_layout *layout)
{
	return len >= layout->hdr_magic + sizeof(uint32_t) &&
	       head_u32(head, layout->hdr_magic) == RING_MAGIC;
}

/*
 * The layout whose magic and version the header carries, or NULL. Layout 2 is tried
 * first: its head (write_pos, at 0) can take any value, 0x14F524254 included, whose
 * two halves read as layout 1's magic and version, whereas layout 1 keeps its
 * capacity, a power of two, where layout 2 keeps the magic.
 */
static const struct ring_layout *header_layout(const uint8_t *head, size_t len)
{
	static const struct ring_layout *const layouts[] = { &layout_v2, &layout_v1 };

	for (size_t i = 0; i < ORBIT_ARRAY_SIZE(layouts); i++) {
		const struct ring_layout *layout = layouts[i];

		if (len >= layout->header_size && magic_at(head, len, layout) &&
		    head_u32(head, layout->hdr_version) == layout->version)
			return layout;
	}
	return NULL;
}

/*
 * Every byte of the layout's header zero (of those there are): nobody wrote it yet, for
 * a creator writes the header before anything else, and liborbit in one write. Any
 * byte set means someone did and may be using the segment: it is checked, never
 * formatted over.
 */
static bool header_blank(const uint8_t *head, size_t len, const struct ring_layout *layout)
{
	size_t n = len < layout->header_size ? len : layout->header_size;

	for (size_t i = 0; i < n; i++)
		if (head[i])
			return false;
	return true;
}

static void header_decode(const uint8_t *head, const struct ring_layout *layout,
			  struct ring_header *h)
{
	h->kind = head[layout->hdr_kind];
	h->capacity = head_u64(head, layout->hdr_capacity);
	if (layout == &layout_v2) {
		h->payload_max = head_u32(head, layout->hdr_payload_capacity);
		h->stride = head_u32(head, layout->hdr_slot_stride);
	} else {
		h->payload_max = ORBIT_LAYOUT1_PAYLOAD;
		h->stride = slot_stride(layout, ORBIT_LAYOUT1_PAYLOAD);
	}
}

static int check_mismatch(const char *name, const char *what, uint64_t found, uint64_t expected)
{
	orbit_log_debug("%s: %s is %llu, the fleet expects %llu", name, what,
			(unsigned long long)found, (unsigned long long)expected);
	return -EPROTO;
}

int ring_header_check(const void *head, size_t head_len, uint64_t object_size, void *segment)
{
	const struct ring_segment *seg = segment;
	const struct ring_geometry *geo = seg->geo;
	const struct ring_layout *layout = header_layout(head, head_len);
	struct ring_header h;

	if (header_blank(head, head_len, geo->layout))
		return REGION_UNFORMATTED;
	if (!layout) {
		orbit_log_debug("%s: not a ring header of layout 1 or 2 (%zu bytes)", seg->name,
				head_len);
		return -EPROTO;
	}
	if (layout != geo->layout)
		return check_mismatch(seg->name, "layout", layout->version, geo->layout->version);
	header_decode(head, layout, &h);
	if (h.kind != geo->kind)
		return check_mismatch(seg->name, "kind", h.kind, geo->kind);
	if (h.capacity != geo->capacity)
		return check_mismatch(seg->name, "capacity", h.capacity, geo->capacity);
	if (h.payload_max != geo->payload_max)
		return check_mismatch(seg->name, "payload capacity", h.payload_max,
				      geo->payload_max);
	if (h.stride != geo->stride)
		return check_mismatch(seg->name, "slot stride", h.stride, geo->stride);
	if (object_size != geo->size)
		return check_mismatch(seg->name, "object size", object_size, geo->size);
	return 0;
}

size_t ring_header_probe_len(void)
{
	return layout_v1.header_size;
}

int ring_header_probe(const uint8_t *head, size_t len, uint64_t object_size, uint8_t kind,
		      struct ring_geometry *geo)
{
	const struct ring_layout *layout = header_layout(head, len);
	struct ring_header h;

	if (header_blank(head, len, &layout_v1) || header_blank(head, len, &layout_v2))
		return -EAGAIN;
	if (!layout)
		return -EPROTO;
	header_decode(head, layout, &h);
	/*
	 * A header a join could recreate: a payload size a join can ask for (0 asks for the
	 * default), whose geometry takes this layout and fills the object exactly.
	 */
	if (h.kind != kind || !ring_capacity_valid(h.capacity) || h.payload_max == 0 ||
	    layout_of(h.payload_max) != layout ||
	    ring_geometry_init(geo, kind, (uint32_t)h.capacity, h.payload_max) < 0 ||
	    geo->stride != h.stride || geo->size != object_size)
		return -EPROTO;
	return 0;
}
