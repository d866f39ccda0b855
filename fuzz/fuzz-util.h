/* SPDX-License-Identifier: MIT */
/*
 * Shared by the libFuzzer harnesses: typed fields taken off (and, for the seed corpus,
 * put into) a fuzz input, a property check that crashes the run so libFuzzer keeps the
 * input, and every read call run over a ring whose memory holds whatever an input put there.
 */
#ifndef ORBIT_FUZZ_UTIL_H
#define ORBIT_FUZZ_UTIL_H

#include <orbit.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basics.h"
#include "segment-layout.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The unread rest of an input; fields past its end read as zero, so every input is whole. */
struct fuzz_input {
	const uint8_t *data;
	size_t left;
};

struct fuzz_input fuzz_input_init(const uint8_t *data, size_t size);
uint8_t fuzz_u8(struct fuzz_input *in);
uint16_t fuzz_u16(struct fuzz_input *in);
uint32_t fuzz_u32(struct fuzz_input *in);
uint64_t fuzz_u64(struct fuzz_input *in);

/* Up to max bytes (fewer at the end of the input); *bytes points into the input. */
size_t fuzz_bytes(struct fuzz_input *in, size_t max, const uint8_t **bytes);

/* A u8 length, then that many bytes (at most max): a key, topic or label. */
size_t fuzz_field(struct fuzz_input *in, size_t max, const uint8_t **bytes);

/* The writing side, for the seed corpus: appends to a growing buffer. */
struct fuzz_output {
	uint8_t *data;
	size_t len;
	size_t room;
};

void fuzz_put_u8(struct fuzz_output *out, uint8_t v);
void fuzz_put_u16(struct fuzz_output *out, uint16_t v);
void fuzz_put_u32(struct fuzz_output *out, uint32_t v);
void fuzz_put_u64(struct fuzz_output *out, uint64_t v);
void fuzz_put_bytes(struct fuzz_output *out, const void *bytes, size_t len);
void fuzz_put_field(struct fuzz_output *out, const void *bytes, size_t len);

/*
 * A buffer of exactly size bytes in the heap (NULL for 0), so that ASan sees a byte stored
 * past it, filled with FUZZ_UNTOUCHED: fuzz_untouched() tells whether a call wrote to it.
 */
#define FUZZ_UNTOUCHED 0xa5
uint8_t *fuzz_buffer(size_t size);
bool fuzz_untouched(const void *buf, size_t size);

/* A broken promise of the library: reported, then abort(), which libFuzzer records as a crash. */
#define FUZZ_CHECK(cond, ...)                                                 \
	do {                                                                  \
		if (!(cond))                                                  \
			fuzz_fail(__FILE__, __LINE__, #cond, "" __VA_ARGS__); \
	} while (0)

__attribute__((noreturn, format(printf, 4, 5))) void
fuzz_fail(const char *file, int line, const char *cond, const char *fmt, ...);

/* What an input asks of the read calls over a ring: buffer size, counters, cursor, a write. */
struct fuzz_reads {
	uint16_t size;
	uint64_t counters[3];
	orbit_id_t id;
	uint64_t cursor;
	uint8_t frame_kind;
	uint64_t ver;
	uint16_t write_len;
};

/*
 * Runs every read call over the ring and checks what each returns against its contract:
 * read_at around the head and at the input's counters, read, read_head, next to the head,
 * a write, wait and reset. map is a raw mapping of the ring's segment.
 */
void fuzz_ring_exercise(orbit_ring_t *ring, const struct seg_map *map,
			const struct fuzz_reads *reads);

/* Removes the fleet's segment of one kind, if any. */
void fuzz_unlink_segment(const char *fleet, uint8_t kind);

/* Removes the fleet's lease table (its records and subject slots), if any. */
void fuzz_unlink_tables(const char *fleet);

#endif
