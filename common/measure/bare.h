/* SPDX-License-Identifier: MIT */
/*
 * The floor of liborbit's slot protocol: a ring written here, with the same
 * guarantees as liborbit's (a writer owns its slot by CAS before writing and
 * never publishes over a newer lap; readers copy between two reads of the slot's
 * seq, the second after an acquire fence) and none of its checks, options or
 * layouts. Same slot size as layout 1 (320 bytes, 256 of payload). Benchmarks
 * measure liborbit against it in the same run.
 */
#ifndef ORBIT_BENCH_BARE_H
#define ORBIT_BENCH_BARE_H

#include "transport.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define BARE_PAYLOAD_MAX 256

struct bare_frame {
	uint64_t id, ver;
	uint32_t len;
	uint8_t kind;
};

struct bare_ring;

/* A ring of capacity (a power of two) slots in memory shared with forked children. */
struct bare_ring *bare_ring_new(uint64_t capacity);
void bare_ring_free(struct bare_ring *ring);

/* fetch_add on the head, CAS of the slot's seq, relaxed 8-byte copies, release commit.
 * 0, or -ESTALE when a newer lap already owns the slot. */
int bare_write(struct bare_ring *ring, uint8_t kind, uint64_t ver, const void *payload, size_t len);

/* The frame at counter c: 0, -EAGAIN (not committed yet, or torn), -ENOENT (overwritten). */
int bare_read_at(struct bare_ring *ring, uint64_t c, struct bare_frame *frame, void *buf);

/* The newest committed frame: bare_read_at(head - 1). */
int bare_read_head(struct bare_ring *ring, struct bare_frame *frame, void *buf);

/* The frame at *cursor, advancing it on success. */
int bare_next(struct bare_ring *ring, uint64_t *cursor, struct bare_frame *frame, void *buf);

uint64_t bare_head(struct bare_ring *ring);

/* One bare ring per direction; receivers spin (can_spin only: the protocol has no sleep).
 * Streams keep the sender within half a ring of a count the receiver shares. */
extern const struct bench_transport bench_transport_bare;

#endif
