/* SPDX-License-Identifier: MIT */
/*
 * Rings: the slot protocol over a region, for both on-memory layouts.
 *
 * A writer claims counter c with a fetch_add on write_pos, takes slot c & mask by
 * CAS of its seq to 2c+1, stores the frame, and commits with seq = 2c+2. Readers
 * use the seqlock pattern that is correct in the C11 model: every shared content
 * access is a relaxed atomic, bracketed by an acquire load of seq and an acquire
 * fence before seq is read again; the writer's release fence after taking the slot
 * is the other half. A frame is accepted only if seq read 2c+2 both times.
 */
#include "ring.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "id.h"
#include "log.h"
#include "macro.h"
#include "region.h"

#define RING_MAGIC	0x4F524254u
#define RING_PAYLOAD_V1 256
#define RING_SLOT_ALIGN 64
/* How long an uncommitted claim may hold up readers and the next lap's writer. */
#define RING_STALL_NS (200ull * 1000000ull)
/* Torn reads retried before -EAGAIN: a lapping writer settles within a few tries. */
#define RING_READ_TRIES 4
/* The largest counter whose committed seq, 2c+2, fits in 64 bits. */
#define RING_COUNTER_MAX ((UINT64_MAX - 2) / 2)

/* Byte offsets of every shared field, named once per layout (DESIGN.md §4). */
struct ring_layout {
	uint32_t version;
	uint32_t header_size;
	uint32_t hdr_magic, hdr_version, hdr_kind, hdr_capacity, hdr_write_pos;
	uint32_t hdr_futex, hdr_waiters; /* liborbit's words in bytes the seed reserves */
	uint32_t hdr_payload_capacity, hdr_slot_stride; /* layout 2 only */
	uint32_t slot_seq, slot_id, slot_kind, slot_ver, slot_len, slot_payload;
};

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
	.slot_seq = 0,
	.slot_id = 8,
	.slot_ver = 16,
	.slot_len = 24,
	.slot_kind = 28,
	.slot_payload = 32,
};

struct orbit_ring {
	uint8_t *slots;
	_Atomic uint64_t *write_pos;
	_Atomic uint32_t *futex_word;
	_Atomic uint32_t *waiters;
	const struct ring_layout *layout;
	uint64_t mask;
	size_t stride;
	uint32_t capacity;
	uint32_t payload_max;
	uint16_t node;
	uint8_t kind;
	struct region region;
};

/* Geometry and name of a ring being opened, for the region's format and check callbacks. */
struct ring_open_ctx {
	const orbit_ring_t *ring;
	const char *name;
	size_t size;
};

static _Atomic uint64_t *field64(uint8_t *base, uint32_t offset)
{
	return (_Atomic uint64_t *)(void *)(base + offset);
}

static _Atomic uint32_t *field32(uint8_t *base, uint32_t offset)
{
	return (_Atomic uint32_t *)(void *)(base + offset);
}

static _Atomic uint8_t *field8(uint8_t *base, uint32_t offset)
{
	return (_Atomic uint8_t *)(base + offset);
}

static uint8_t *slot_of(const orbit_ring_t *ring, uint64_t counter)
{
	return ring->slots + (size_t)(counter & ring->mask) * ring->stride;
}

static uint64_t load_head(const orbit_ring_t *ring)
{
	/* Relaxed: the head only says which counters were claimed; each slot's seq decides what is readable. */
	return atomic_load_explicit(ring->write_pos, memory_order_relaxed);
}

/* Payload bytes move as relaxed 8-byte atomics: payloads start 8-aligned and slots end on 64. */
static void copy_out(void *dst, uint8_t *src, size_t n)
{
	_Atomic uint64_t *word = (_Atomic uint64_t *)(void *)src;
	uint8_t *d = dst;
	uint64_t v;

	for (; n >= 8; n -= 8, d += 8, word++) {
		v = atomic_load_explicit(word, memory_order_relaxed);
		memcpy(d, &v, 8);
	}
	if (n) {
		v = atomic_load_explicit(word, memory_order_relaxed);
		memcpy(d, &v, n);
	}
}

static void copy_in(uint8_t *dst, const void *src, size_t n)
{
	_Atomic uint64_t *word = (_Atomic uint64_t *)(void *)dst;
	const uint8_t *s = src;
	uint64_t v;

	for (; n >= 8; n -= 8, s += 8, word++) {
		memcpy(&v, s, 8);
		atomic_store_explicit(word, v, memory_order_relaxed);
	}
	if (n) {
		v = 0;
		memcpy(&v, s, n);
		atomic_store_explicit(word, v, memory_order_relaxed);
	}
}

/* Bounded waiting on another process: spin briefly, then yield, then sleep, until the stall bound. */
struct backoff {
	unsigned rounds;
	uint64_t watched; /* the slot's seq when the bound started */
	uint64_t deadline_ns;
};

static void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

static void backoff_pause(struct backoff *b)
{
	static const struct timespec nap = { .tv_nsec = 50000 };

	if (b->rounds < 64)
		cpu_relax();
	else if (b->rounds < 128)
		sched_yield();
	else
		nanosleep(&nap, NULL);
	b->rounds++;
}

/*
 * The stall bound runs from the last change of the watched seq: a slot that changed
 * hands has a new owner, and a live one, who gets the whole bound again.
 */
static bool backoff_expired(struct backoff *b, uint64_t seq)
{
	uint64_t now = clock_mono_ns();

	if (!b->deadline_ns || seq != b->watched) {
		b->watched = seq;
		b->deadline_ns = now + RING_STALL_NS;
	}
	return now >= b->deadline_ns;
}

/* ---- opening: format a new segment, or validate an existing one ---- */

static size_t slot_stride(const struct ring_layout *layout, uint32_t payload_max)
{
	size_t fixed = layout->slot_payload + (size_t)payload_max;

	return (fixed + RING_SLOT_ALIGN - 1) & ~(size_t)(RING_SLOT_ALIGN - 1);
}

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

static int ring_format(void *head, size_t head_len, void *opaque)
{
	const struct ring_open_ctx *ctx = opaque;
	const orbit_ring_t *ring = ctx->ring;
	const struct ring_layout *layout = ring->layout;
	uint8_t *h = head;
	uint64_t capacity = ring->capacity;
	uint32_t magic = RING_MAGIC, version = layout->version;

	(void)head_len;
	memcpy(h + layout->hdr_magic, &magic, sizeof(magic));
	memcpy(h + layout->hdr_version, &version, sizeof(version));
	h[layout->hdr_kind] = ring->kind;
	memcpy(h + layout->hdr_capacity, &capacity, sizeof(capacity));
	if (layout == &layout_v2) {
		uint32_t payload = ring->payload_max, stride = (uint32_t)ring->stride;

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
		h->payload_max = RING_PAYLOAD_V1;
		h->stride = slot_stride(layout, RING_PAYLOAD_V1);
	}
}

static int check_mismatch(const char *name, const char *what, uint64_t found, uint64_t expected)
{
	orbit_log_debug("%s: %s is %llu, the fleet expects %llu", name, what,
			(unsigned long long)found, (unsigned long long)expected);
	return -EPROTO;
}

static int ring_check(const void *head_bytes, size_t head_len, uint64_t object_size, void *opaque)
{
	const struct ring_open_ctx *ctx = opaque;
	const orbit_ring_t *ring = ctx->ring;
	const struct ring_layout *layout = header_layout(head_bytes, head_len);
	struct ring_header h;

	if (header_blank(head_bytes, head_len, ring->layout))
		return REGION_UNFORMATTED;
	if (!layout) {
		orbit_log_debug("%s: not a ring header of layout 1 or 2 (%zu bytes)", ctx->name,
				head_len);
		return -EPROTO;
	}
	if (layout != ring->layout)
		return check_mismatch(ctx->name, "layout", layout->version, ring->layout->version);
	header_decode(head_bytes, layout, &h);
	if (h.kind != ring->kind)
		return check_mismatch(ctx->name, "kind", h.kind, ring->kind);
	if (h.capacity != ring->capacity)
		return check_mismatch(ctx->name, "capacity", h.capacity, ring->capacity);
	if (h.payload_max != ring->payload_max)
		return check_mismatch(ctx->name, "payload capacity", h.payload_max,
				      ring->payload_max);
	if (h.stride != ring->stride)
		return check_mismatch(ctx->name, "slot stride", h.stride, ring->stride);
	if (object_size != ctx->size)
		return check_mismatch(ctx->name, "object size", object_size, ctx->size);
	return 0;
}

/* A header a join could recreate: what it says adds up, and to the object's size. */
static bool header_joinable(const struct ring_layout *layout, const struct ring_header *h,
			    uint64_t object_size)
{
	if (h->capacity < 2 || h->capacity > UINT32_MAX || (h->capacity & (h->capacity - 1)))
		return false;
	/* 256 selects layout 1 in a join, so layout 2 cannot carry it. */
	if (layout == &layout_v2 && (h->payload_max == 0 || h->payload_max == RING_PAYLOAD_V1 ||
				     h->stride != slot_stride(layout, h->payload_max)))
		return false;
	return object_size == layout->header_size + h->capacity * h->stride;
}

int ring_probe(const char *shm_name, struct ring_config *config)
{
	uint8_t head[REGION_HEAD_MAX];
	const struct ring_layout *layout;
	struct ring_header h;
	uint64_t object_size;
	size_t got;
	mode_t mode;
	int ret;

	ret = region_probe_shm(shm_name, head, layout_v1.header_size, &got, &object_size, &mode);
	if (ret < 0)
		return ret;
	layout = header_layout(head, got);
	if (header_blank(head, got, &layout_v1) || header_blank(head, got, &layout_v2))
		return -EAGAIN;
	if (!layout)
		return -EPROTO;
	header_decode(head, layout, &h);
	if (h.kind != config->kind || !header_joinable(layout, &h, object_size)) {
		orbit_log_debug("%s: header does not describe a kind %u ring of its size", shm_name,
				config->kind);
		return -EPROTO;
	}
	config->capacity = (uint32_t)h.capacity;
	config->payload_max = h.payload_max;
	config->mode = mode;
	return 0;
}

int ring_open(const struct ring_config *config, orbit_ring_t **out)
{
	orbit_ring_t *ring = calloc(1, sizeof(*ring));
	struct ring_open_ctx ctx = { .ring = ring, .name = config->shm_name };
	struct region_spec spec;
	uint8_t *base;
	int ret;

	if (!ring)
		return -ENOMEM;
	ring->layout = config->payload_max == RING_PAYLOAD_V1 ? &layout_v1 : &layout_v2;
	ring->kind = config->kind;
	ring->node = config->node;
	ring->capacity = config->capacity;
	ring->mask = config->capacity - 1;
	ring->payload_max = config->payload_max;
	ring->stride = slot_stride(ring->layout, config->payload_max);
	if (config->capacity > (SIZE_MAX - ring->layout->header_size) / ring->stride) {
		free(ring);
		return -ENOMEM;
	}
	ctx.size = ring->layout->header_size + (size_t)config->capacity * ring->stride;
	spec = (struct region_spec){
		.name = config->shm_name,
		.size = ctx.size,
		.head_len = ring->layout->header_size,
		.mode = config->mode,
		.init = ring_format,
		.check = ring_check,
		.ctx = &ctx,
	};
	ret = config->shm_name ? region_open_shm(&spec, &ring->region)
			       : region_open_local(&spec, &ring->region);
	if (ret < 0) {
		free(ring);
		return ret;
	}
	base = ring->region.base;
	ring->slots = base + ring->layout->header_size;
	ring->write_pos = field64(base, ring->layout->hdr_write_pos);
	ring->futex_word = field32(base, ring->layout->hdr_futex);
	ring->waiters = field32(base, ring->layout->hdr_waiters);
	*out = ring;
	return 0;
}

void ring_close(orbit_ring_t *ring)
{
	if (!ring)
		return;
	region_close(&ring->region);
	free(ring);
}

int ring_unlink(const char *shm_name)
{
	return region_unlink(shm_name);
}

/* ---- writing ---- */

/*
 * Takes slot ownership for counter c by CAS of seq from an older lap's value to
 * 2c+1, so two writers a lap apart can never fill one slot at once. Returns false
 * when a later lap already owns the slot: this frame is overwritten before written.
 */
static bool slot_take(const orbit_ring_t *ring, uint8_t *slot, uint64_t c)
{
	_Atomic uint64_t *seq = field64(slot, ring->layout->slot_seq);
	const uint64_t mine = 2 * c + 1;
	uint64_t cur = atomic_load_explicit(seq, memory_order_relaxed);
	struct backoff wait = { 0 };

	/* A head someone set past the end of the seq space: no slot can be taken. */
	if (c > RING_COUNTER_MAX)
		return false;
	for (;;) {
		if (cur >= mine)
			return false;
		/* An older lap still writing: give it until the stall bound, then take over. */
		if ((cur & 1) && !backoff_expired(&wait, cur)) {
			backoff_pause(&wait);
			cur = atomic_load_explicit(seq, memory_order_relaxed);
			continue;
		}
		/* Acquire: pairs with the older lap's release commit, ordering its content stores before ours. */
		if (atomic_compare_exchange_weak_explicit(seq, &cur, mine, memory_order_acquire,
							  memory_order_relaxed))
			break;
	}
	if (cur & 1)
		orbit_log_debug("ring %u: took over a slot left uncommitted by counter %llu",
				ring->kind, (unsigned long long)(cur / 2));
	/* Release fence: the odd seq is ordered before the content stores; pairs with the reader's acquire fence. */
	atomic_thread_fence(memory_order_release);
	return true;
}

static void slot_fill(const orbit_ring_t *ring, uint8_t *slot, orbit_id_t id, uint8_t frame_kind,
		      uint64_t ver, const void *payload, size_t len)
{
	const struct ring_layout *layout = ring->layout;

	atomic_store_explicit(field64(slot, layout->slot_id), id, memory_order_relaxed);
	atomic_store_explicit(field8(slot, layout->slot_kind), frame_kind, memory_order_relaxed);
	atomic_store_explicit(field64(slot, layout->slot_ver), ver, memory_order_relaxed);
	atomic_store_explicit(field32(slot, layout->slot_len), (uint32_t)len, memory_order_relaxed);
	copy_in(slot + layout->slot_payload, payload, len);
}

static void slot_commit(const orbit_ring_t *ring, uint8_t *slot, uint64_t c)
{
	_Atomic uint64_t *seq = field64(slot, ring->layout->slot_seq);

	/*
	 * Only a writer stopped past the stall bound can find its slot taken over; it must
	 * not publish over the lap that owns it now. A check, not a CAS: a CAS would cost a
	 * locked instruction on every write, and cannot protect that writer's content stores
	 * anyway (see BUGS in orbit(7)).
	 */
	if (atomic_load_explicit(seq, memory_order_relaxed) != 2 * c + 1)
		return;
	/* Release: pairs with the reader's acquire load of seq. */
	atomic_store_explicit(seq, 2 * c + 2, memory_order_release);
}

static long futex_op(const orbit_ring_t *ring, int op, uint32_t val, const struct timespec *at)
{
	/* Process-local rings need no cross-process futex hashing. */
	if (!ring->region.shared)
		op |= FUTEX_PRIVATE_FLAG;
	return syscall(SYS_futex, ring->futex_word, op, val, at, NULL, FUTEX_BITSET_MATCH_ANY);
}

static void wake_waiters(const orbit_ring_t *ring)
{
	/*
	 * seq_cst: with the seq_cst fetch_add on write_pos this is one side of a Dekker
	 * pair; orbit_ring_wait() increments the count, then reads write_pos. Either the
	 * waiter sees the new head or this load sees the waiter. No waiter, no syscall.
	 */
	if (atomic_load_explicit(ring->waiters, memory_order_seq_cst) == 0)
		return;
	/* Release: pairs with the waiter's acquire load of the futex word. */
	atomic_fetch_add_explicit(ring->futex_word, 1, memory_order_release);
	futex_op(ring, FUTEX_WAKE, INT_MAX, NULL);
}

ORBIT_EXPORT int orbit_ring_write(orbit_ring_t *ring, uint8_t frame_kind, uint64_t ver,
				  const void *payload, size_t len, orbit_id_t *id)
{
	orbit_id_t frame_id;
	uint8_t *slot;
	uint64_t c;

	if (!ring || (!payload && len))
		return -EINVAL;
	if (len > ring->payload_max)
		return -EMSGSIZE;
	/* seq_cst: the other half of the Dekker pair in wake_waiters(). */
	c = atomic_fetch_add_explicit(ring->write_pos, 1, memory_order_seq_cst);
	frame_id = orbit_id_make(ring->kind, ring->node, c);
	slot = slot_of(ring, c);
	if (slot_take(ring, slot, c)) {
		slot_fill(ring, slot, frame_id, frame_kind, ver, payload, len);
		slot_commit(ring, slot, c);
	}
	wake_waiters(ring);
	if (id)
		*id = frame_id;
	return 0;
}

/* ---- reading ---- */

/*
 * slot_read() result when the slot still holds an older lap: c was never written,
 * or is claimed and its writer has not taken the slot yet. Only the head can tell,
 * and the caller decides when to read it.
 */
#define SLOT_UNREACHED (-EINPROGRESS)

/* Why counter c cannot be read, from the seq its slot holds. */
static int unread_reason(uint64_t c, uint64_t seq)
{
	if (seq > 2 * c + 2)
		return -ENOENT; /* a later lap took the slot */
	if (seq == 2 * c + 1)
		return -EAGAIN; /* being written */
	return SLOT_UNREACHED;
}

/* A consistent snapshot may still be impossible: the segment is writable by anyone. */
static int frame_verify(const orbit_ring_t *ring, uint64_t c, const orbit_frame_t *snap,
			orbit_frame_t *frame, size_t size)
{
	if (snap->len > ring->payload_max || orbit_id_kind(snap->id) != ring->kind ||
	    orbit_id_counter(snap->id) != (c & ID_COUNTER_MASK))
		return -EPROTO;
	*frame = *snap;
	return snap->len > size ? -EMSGSIZE : 0;
}

static int slot_read(const orbit_ring_t *ring, uint64_t c, orbit_frame_t *frame, void *buf,
		     size_t size)
{
	const struct ring_layout *layout = ring->layout;
	uint8_t *slot = slot_of(ring, c);
	_Atomic uint64_t *seq = field64(slot, layout->slot_seq);
	const uint64_t committed = 2 * c + 2;
	orbit_frame_t snap;

	if (c > RING_COUNTER_MAX)
		return -ENOENT;
	for (int tries = 0; tries < RING_READ_TRIES; tries++) {
		/* Acquire: pairs with the writer's release commit, making its content visible. */
		uint64_t before = atomic_load_explicit(seq, memory_order_acquire);

		if (before != committed)
			return unread_reason(c, before);
		snap.id =
			atomic_load_explicit(field64(slot, layout->slot_id), memory_order_relaxed);
		snap.kind =
			atomic_load_explicit(field8(slot, layout->slot_kind), memory_order_relaxed);
		snap.ver =
			atomic_load_explicit(field64(slot, layout->slot_ver), memory_order_relaxed);
		snap.len =
			atomic_load_explicit(field32(slot, layout->slot_len), memory_order_relaxed);
		if (snap.len <= ring->payload_max)
			copy_out(buf, slot + layout->slot_payload,
				 snap.len < size ? snap.len : size);
		/* Acquire fence: pairs with the writer's release fence in slot_take(), so content
		 * from any later writer shows up as a changed seq below. */
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load_explicit(seq, memory_order_relaxed) == before)
			return frame_verify(ring, c, &snap, frame, size);
	}
	return -EAGAIN;
}

/* A single read: a counter the slot has not reached is claimed (-EAGAIN) if the head passed it. */
static int read_counter(const orbit_ring_t *ring, uint64_t c, orbit_frame_t *frame, void *buf,
			size_t size)
{
	int ret = slot_read(ring, c, frame, buf, size);

	if (ret == SLOT_UNREACHED)
		ret = c < load_head(ring) ? -EAGAIN : -ENOENT;
	return ret;
}

static int check_read_args(const orbit_ring_t *ring, const orbit_frame_t *frame, const void *buf,
			   size_t size)
{
	return !ring || !frame || (!buf && size) ? -EINVAL : 0;
}

/* The newest counter at or below the head whose low 40 bits are the id's counter. */
static uint64_t counter_of_id(uint64_t head, orbit_id_t id)
{
	uint64_t c = (head & ~ID_COUNTER_MASK) | orbit_id_counter(id);

	if (c >= head && c > ID_COUNTER_MASK)
		c -= ID_COUNTER_MASK + 1;
	return c;
}

ORBIT_EXPORT int orbit_ring_read(orbit_ring_t *ring, orbit_id_t id, orbit_frame_t *frame, void *buf,
				 size_t size)
{
	int ret = check_read_args(ring, frame, buf, size);

	if (ret < 0)
		return ret;
	if (orbit_id_kind(id) != ring->kind)
		return -ENOENT;
	return read_counter(ring, counter_of_id(load_head(ring), id), frame, buf, size);
}

ORBIT_EXPORT int orbit_ring_read_at(orbit_ring_t *ring, uint64_t counter, orbit_frame_t *frame,
				    void *buf, size_t size)
{
	int ret = check_read_args(ring, frame, buf, size);

	return ret < 0 ? ret : read_counter(ring, counter, frame, buf, size);
}

ORBIT_EXPORT int orbit_ring_read_head(orbit_ring_t *ring, orbit_frame_t *frame, void *buf,
				      size_t size)
{
	int ret = check_read_args(ring, frame, buf, size);
	uint64_t head;

	if (ret < 0)
		return ret;
	head = load_head(ring);
	return head ? read_counter(ring, head - 1, frame, buf, size) : -ENOENT;
}

enum claim_state {
	CLAIM_PENDING,	 /* nothing after it yet: plain -EAGAIN */
	CLAIM_SETTLED,	 /* its seq moved on: read it again */
	CLAIM_ABANDONED, /* still uncommitted at the stall bound: count it lost */
};

/*
 * Counter c is claimed but not committed. A live writer finishes in nanoseconds, so
 * when later counters are claimed too, wait for it up to the stall bound; past that
 * its writer is taken for dead and the claim counted lost, so a cursor never stalls
 * behind it forever.
 */
static enum claim_state claim_wait(const orbit_ring_t *ring, uint64_t c)
{
	_Atomic uint64_t *seq = field64(slot_of(ring, c), ring->layout->slot_seq);
	struct backoff wait = { 0 };

	if (load_head(ring) <= c + 1)
		return CLAIM_PENDING;
	for (;;) {
		uint64_t now_seq = atomic_load_explicit(seq, memory_order_relaxed);

		if (now_seq >= 2 * c + 2)
			return CLAIM_SETTLED;
		if (backoff_expired(&wait, now_seq))
			return CLAIM_ABANDONED;
		backoff_pause(&wait);
	}
}

ORBIT_EXPORT int orbit_ring_next(orbit_ring_t *ring, uint64_t *cursor, orbit_frame_t *frame,
				 void *buf, size_t size, uint64_t *lost)
{
	uint64_t c, head, skipped = 0;
	int settled = 0, ret = check_read_args(ring, frame, buf, size);

	if (ret < 0 || !cursor)
		return -EINVAL;
	c = *cursor;
	for (;;) {
		/* The slot first: a delivered frame never touches the writers' header line. */
		ret = slot_read(ring, c, frame, buf, size);
		if (ret == 0 || ret == -EMSGSIZE)
			break;
		head = load_head(ring);
		if (c >= head) {
			ret = -EAGAIN;
			break;
		}
		if (head - c > ring->capacity) {
			skipped += head - ring->capacity - c;
			c = head - ring->capacity;
			continue;
		}
		if (ret == -EAGAIN || ret == SLOT_UNREACHED) {
			enum claim_state state = claim_wait(ring, c);

			if (state == CLAIM_PENDING) {
				ret = -EAGAIN;
				break;
			}
			/* Bounded, so a slot someone keeps rewriting cannot hold the cursor. */
			if (state == CLAIM_SETTLED && settled++ < RING_READ_TRIES)
				continue;
		}
		/* Overwritten, impossible, or abandoned: lost, and the cursor moves on. */
		skipped++;
		c++;
	}
	*cursor = ret == 0 ? c + 1 : c;
	if (lost)
		*lost += skipped;
	return ret;
}

/* ---- waiting, reset and getters ---- */

static void deadline_after(struct timespec *at, int timeout_ms)
{
	uint64_t ns = clock_mono_ns() + (uint64_t)timeout_ms * 1000000u;

	at->tv_sec = (time_t)(ns / 1000000000u);
	at->tv_nsec = (long)(ns % 1000000000u);
}

ORBIT_EXPORT int orbit_ring_wait(orbit_ring_t *ring, uint64_t cursor, int timeout_ms)
{
	struct timespec at;
	int ret;

	if (!ring || timeout_ms < -1)
		return -EINVAL;
	if (load_head(ring) > cursor)
		return 0;
	if (timeout_ms == 0)
		return -ETIMEDOUT;
	if (timeout_ms > 0)
		deadline_after(&at, timeout_ms);
	/* seq_cst: the waiter's half of the Dekker pair with wake_waiters(). */
	atomic_fetch_add_explicit(ring->waiters, 1, memory_order_seq_cst);
	for (;;) {
		/* Acquire: pairs with the writer's release bump; read before the head check, so
		 * a write after that check changes the word and the futex returns at once. */
		uint32_t word = atomic_load_explicit(ring->futex_word, memory_order_acquire);

		if (atomic_load_explicit(ring->write_pos, memory_order_seq_cst) > cursor) {
			ret = 0;
			break;
		}
		if (futex_op(ring, FUTEX_WAIT_BITSET, word, timeout_ms > 0 ? &at : NULL) == 0 ||
		    errno == EAGAIN)
			continue;
		ret = -errno;
		if (ret == -EINTR || ret == -ETIMEDOUT)
			ret = load_head(ring) > cursor ? 0 : ret;
		break;
	}
	atomic_fetch_sub_explicit(ring->waiters, 1, memory_order_relaxed);
	return ret;
}

ORBIT_EXPORT int orbit_ring_reset(orbit_ring_t *ring)
{
	if (!ring)
		return -EINVAL;
	for (uint32_t i = 0; i < ring->capacity; i++) {
		_Atomic uint64_t *word = field64(slot_of(ring, i), 0);

		for (size_t w = 0; w < ring->stride / 8; w++)
			atomic_store_explicit(&word[w], 0, memory_order_relaxed);
	}
	/* Release: cleared slots are visible before the head reads 0 (pairs with readers' seq loads). */
	atomic_store_explicit(ring->write_pos, 0, memory_order_release);
	return 0;
}

ORBIT_EXPORT uint64_t orbit_ring_head(const orbit_ring_t *ring)
{
	return ring ? load_head(ring) : 0;
}

ORBIT_EXPORT uint8_t orbit_ring_kind(const orbit_ring_t *ring)
{
	return ring ? ring->kind : 0;
}

ORBIT_EXPORT uint32_t orbit_ring_capacity(const orbit_ring_t *ring)
{
	return ring ? ring->capacity : 0;
}

ORBIT_EXPORT uint32_t orbit_ring_payload_max(const orbit_ring_t *ring)
{
	return ring ? ring->payload_max : 0;
}
