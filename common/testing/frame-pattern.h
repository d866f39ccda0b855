/* SPDX-License-Identifier: MIT */
/*
 * Self-describing frames for cross-process tests: the payload of frame `seq` by writer
 * node `writer` is derived from the pair and carries a checksum, so any reader can tell
 * an exact frame from a torn or mixed one without sharing state with the writer.
 */
#ifndef ORBIT_FRAME_PATTERN_H
#define ORBIT_FRAME_PATTERN_H

#include <stddef.h>
#include <stdint.h>

#include <orbit.h>

/* writer u16, seq u64, then bytes derived from both, then a checksum u32 of all before it. */
#define PATTERN_MIN_LEN 14u

/* Writes frame `seq` as node `writer` (the node the ring's fleet joined as); ver = seq. */
int pattern_write(orbit_ring_t *ring, uint16_t writer, uint64_t seq, orbit_id_t *id);

/* The payload length of frame `seq` by `writer` on a ring of payload_max `max`. */
size_t pattern_length(size_t max, uint16_t writer, uint64_t seq);

/* The same in two steps, for callers that keep the payload somewhere of their own. */
size_t pattern_fill(void *buf, size_t max, uint16_t writer, uint64_t seq);
/* Frame `seq` by `writer` as a batch message, its payload filled into buf (max bytes). */
orbit_msg_t pattern_msg(void *buf, size_t max, uint16_t writer, uint64_t seq);
int pattern_write_filled(orbit_ring_t *ring, uint16_t writer, uint64_t seq, const void *payload,
			 size_t len, orbit_id_t *id);

/*
 * 0 when frame and payload (len bytes in buf) are exactly what pattern_write stored,
 * with the writer and seq decoded; -1 for anything else (torn, mixed, wrong id or kind).
 */
int pattern_verify(orbit_ring_t *ring, const orbit_frame_t *frame, const void *buf,
		   uint16_t *writer, uint64_t *seq);

/* 0 when frame and payload are exactly frame `seq` of `writer`, -1 otherwise. */
int pattern_expect(orbit_ring_t *ring, const orbit_frame_t *frame, const void *buf, uint16_t writer,
		   uint64_t seq);
/* The same for a payload of which only the first `size` bytes (at least 10) were copied. */
int pattern_verify_prefix(orbit_ring_t *ring, const orbit_frame_t *frame, const void *buf,
			  size_t size, uint16_t *writer, uint64_t *seq);

/* For pattern_check_head: no writer node is out of range. */
#define PATTERN_ANY_WRITER (UINT16_MAX + 1u)

/*
 * read_head into a 64-byte buffer, its prefix checked: a copy that short fits inside the
 * window in which a resumed stale writer, or a scribbler, has rewritten the start of a
 * committed frame. A frame, whole or cut short, counts in *reads, and in *torn as well
 * unless its prefix is one pattern_write stored as a writer node below `writers`. Any
 * other return but -ENOENT and -EAGAIN counts in *errors and is kept in *last_error.
 */
void pattern_check_head(orbit_ring_t *ring, uint32_t writers, uint64_t *reads, uint64_t *torn,
			uint64_t *errors, int *last_error);

#endif
