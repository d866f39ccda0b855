/* SPDX-License-Identifier: MIT */
/*
 * The bare slot protocol (see bare.h): what any ring with liborbit's guarantees
 * must do per frame, and nothing else, as the reference liborbit is judged by.
 */
#include "bare.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define BARE_WORDS (BARE_PAYLOAD_MAX / 8)

/* Layout 1's geometry: 40 bytes of header fields, 256 of payload, 320 in all. */
struct bare_slot {
	_Atomic uint64_t seq; /* 2c+1 while counter c is written, 2c+2 once committed */
	_Atomic uint64_t id;
	_Atomic uint64_t ver;
	_Atomic uint64_t len_kind; /* len in the low 32 bits, kind above */
	_Atomic uint64_t spare;
	_Atomic uint64_t payload[BARE_WORDS];
	uint64_t pad[3];
};

/* The head has a line of its own: readers of slots never miss on the writers' fetch_add. */
struct bare_ring {
	uint64_t mask;
	size_t bytes;
	_Alignas(64) _Atomic uint64_t head;
	_Alignas(64) struct bare_slot slots[];
};

_Static_assert(sizeof(struct bare_slot) == 320, "the slot of layout 1");

/* Whole words in a tight loop, then the tail: the cheapest relaxed 8-byte copy. */
static void words_in(_Atomic uint64_t *word, const uint8_t *src, size_t n)
{
	uint64_t v;

	for (; n >= 8; n -= 8, src += 8, word++) {
		memcpy(&v, src, 8);
		atomic_store_explicit(word, v, memory_order_relaxed);
	}
	if (n) {
		v = 0;
		memcpy(&v, src, n);
		atomic_store_explicit(word, v, memory_order_relaxed);
	}
}

static void words_out(uint8_t *dst, _Atomic uint64_t *word, size_t n)
{
	uint64_t v;

	for (; n >= 8; n -= 8, dst += 8, word++) {
		v = atomic_load_explicit(word, memory_order_relaxed);
		memcpy(dst, &v, 8);
	}
	if (n) {
		v = atomic_load_explicit(word, memory_order_relaxed);
		memcpy(dst, &v, n);
	}
}

struct bare_ring *bare_ring_new(uint64_t capacity)
{
	size_t bytes = sizeof(struct bare_ring) + capacity * sizeof(struct bare_slot);
	struct bare_ring *ring = bench_shared_map(bytes);

	if (!ring)
		return NULL;
	ring->mask = capacity - 1;
	ring->bytes = bytes;
	return ring;
}

void bare_ring_free(struct bare_ring *ring)
{
	if (ring)
		bench_shared_unmap(ring, ring->bytes);
}

int bare_write(struct bare_ring *ring, uint8_t kind, uint64_t ver, const void *payload, size_t len)
{
	uint64_t c = atomic_fetch_add_explicit(&ring->head, 1, memory_order_relaxed);
	struct bare_slot *s = &ring->slots[c & ring->mask];
	uint64_t seq = atomic_load_explicit(&s->seq, memory_order_relaxed);

	do {
		if (seq >= 2 * c + 1)
			return -ESTALE;
	} while (!atomic_compare_exchange_weak_explicit(
		&s->seq, &seq, 2 * c + 1, memory_order_relaxed, memory_order_relaxed));
	/* The odd seq is visible before any content store: pairs with the reader's fence. */
	atomic_thread_fence(memory_order_release);
	atomic_store_explicit(&s->id, c, memory_order_relaxed);
	atomic_store_explicit(&s->ver, ver, memory_order_relaxed);
	atomic_store_explicit(&s->len_kind, (uint64_t)kind << 32 | len, memory_order_relaxed);
	words_in(s->payload, payload, len);
	/* Publishes the content: pairs with the reader's acquire load of seq. */
	atomic_store_explicit(&s->seq, 2 * c + 2, memory_order_release);
	return 0;
}

int bare_read_at(struct bare_ring *ring, uint64_t c, struct bare_frame *frame, void *buf)
{
	struct bare_slot *s = &ring->slots[c & ring->mask];
	uint64_t seq = atomic_load_explicit(&s->seq, memory_order_acquire);
	uint64_t len_kind;
	size_t len;

	if (seq != 2 * c + 2)
		return seq < 2 * c + 2 ? -EAGAIN : -ENOENT;
	frame->id = atomic_load_explicit(&s->id, memory_order_relaxed);
	frame->ver = atomic_load_explicit(&s->ver, memory_order_relaxed);
	len_kind = atomic_load_explicit(&s->len_kind, memory_order_relaxed);
	/* A torn read is thrown away below, but must not overrun buf first. */
	len = (uint32_t)len_kind < BARE_PAYLOAD_MAX ? (uint32_t)len_kind : BARE_PAYLOAD_MAX;
	words_out(buf, s->payload, len);
	/* The copies happen before the second look at seq: pairs with the writer's fence. */
	atomic_thread_fence(memory_order_acquire);
	if (atomic_load_explicit(&s->seq, memory_order_relaxed) != seq)
		return -EAGAIN;
	frame->len = (uint32_t)len;
	frame->kind = (uint8_t)(len_kind >> 32);
	return 0;
}

int bare_read_head(struct bare_ring *ring, struct bare_frame *frame, void *buf)
{
	uint64_t head = atomic_load_explicit(&ring->head, memory_order_acquire);

	return head ? bare_read_at(ring, head - 1, frame, buf) : -EAGAIN;
}

int bare_next(struct bare_ring *ring, uint64_t *cursor, struct bare_frame *frame, void *buf)
{
	int rc = bare_read_at(ring, *cursor, frame, buf);

	if (rc == 0)
		(*cursor)++;
	return rc;
}

uint64_t bare_head(struct bare_ring *ring)
{
	return atomic_load_explicit(&ring->head, memory_order_acquire);
}

/*
 * The transport: a spinning ping-pong through two bare rings, as bench_transport_orbit
 * spins through two liborbit rings. A stream has the same flow control as liborbit's,
 * at its floor: the receiver stores its count in a shared word every ack_every frames
 * and the sender stays within half a ring of it.
 */

#define BARE_CAPACITY  1024
#define BARE_WINDOW    (BARE_CAPACITY / 2)
#define BARE_ACK_EVERY (BARE_WINDOW / 4)

struct bare_ack {
	_Alignas(128) _Atomic uint64_t count; /* 128: the adjacent-line prefetcher pairs lines */
};

struct bare_pair {
	struct bare_ring *rings[2];
	struct bare_ack *acks; /* two, one per direction, shared with the child */
	uint64_t cursors[2];
	uint64_t seqs[2];
	size_t bytes;
	bool stream;
	uint8_t payload[BENCH_MESSAGE_MAX];
	uint8_t buf[BENCH_MESSAGE_MAX];
};

static int bare_send(void *ctx, int dir)
{
	struct bare_pair *p = ctx;

	/* Acquire: pairs with the receiver's release store of its count. */
	while (p->stream &&
	       p->seqs[dir] - atomic_load_explicit(&p->acks[dir].count, memory_order_acquire) >=
		       BARE_WINDOW)
		cpu_relax();
	return bare_write(p->rings[dir], 1, ++p->seqs[dir], p->payload, p->bytes);
}

static int bare_receive(void *ctx, int dir)
{
	struct bare_pair *p = ctx;
	struct bare_frame frame;
	int rc;

	while ((rc = bare_next(p->rings[dir], &p->cursors[dir], &frame, p->buf)) == -EAGAIN)
		cpu_relax();
	if (rc < 0)
		return rc;
	if (frame.ver != ++p->seqs[dir] || frame.len != p->bytes)
		return -EPROTO;
	if (p->stream && p->seqs[dir] % BARE_ACK_EVERY == 0)
		atomic_store_explicit(&p->acks[dir].count, p->seqs[dir], memory_order_release);
	return 0;
}

static void bare_close(struct bench_pingpong *pp)
{
	struct bare_pair *p = pp->ctx;

	if (!p)
		return;
	for (int dir = 0; dir < 2; dir++)
		bare_ring_free(p->rings[dir]);
	if (p->acks)
		bench_shared_unmap(p->acks, 2 * sizeof(*p->acks));
	free(p);
	pp->ctx = NULL;
}

static int bare_open(const struct bench_channel *ch, struct bench_pingpong *pp)
{
	struct bare_pair *p;

	if (ch->bytes < 1 || ch->bytes > BENCH_MESSAGE_MAX || !ch->spin)
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->bytes = ch->bytes;
	p->stream = ch->stream;
	*pp = (struct bench_pingpong){ .send = bare_send, .receive = bare_receive, .ctx = p };
	p->acks = bench_shared_map(2 * sizeof(*p->acks));
	for (int dir = 0; dir < 2; dir++)
		p->rings[dir] = bare_ring_new(BARE_CAPACITY);
	if (!p->acks || !p->rings[0] || !p->rings[1]) {
		bare_close(pp);
		return -ENOMEM;
	}
	return 0;
}

const struct bench_transport bench_transport_bare = {
	.name = "bare",
	.label = "bare slot protocol",
	.can_spin = true,
	.open = bare_open,
	.close = bare_close,
};
