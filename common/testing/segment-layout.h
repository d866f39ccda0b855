/* SPDX-License-Identifier: MIT */
/*
 * The two shm ring layouts of orbit(7) (Layouts), named once, and raw access to a
 * ring segment for tests that must plant what a dead or hostile peer would leave.
 */
#ifndef ORBIT_SEGMENT_LAYOUT_H
#define ORBIT_SEGMENT_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SEG_MAGIC      0x4F524254u
#define SEG_V1_PAYLOAD 256u
#define SEG_NO_FIELD   SIZE_MAX
/* liborbit's mark on a slot's odd seq whose counter was given up: SEG_SEQ_GIVEN_UP | (2c+1). */
#define SEG_SEQ_GIVEN_UP (UINT64_C(1) << 63)

/* Byte offsets of one layout; SEG_NO_FIELD where the layout has no such field. */
struct seg_layout {
	uint32_t version;
	size_t header_size;
	size_t hdr_magic, hdr_version, hdr_kind, hdr_capacity, hdr_write_pos;
	size_t hdr_futex, hdr_waiters, hdr_payload_capacity, hdr_slot_stride;
	size_t slot_seq, slot_id, slot_kind, slot_ver, slot_len, slot_payload;
};

extern const struct seg_layout seg_layout_v1;
extern const struct seg_layout seg_layout_v2;

/* payload_max as given in the fleet options: 0 and 256 select layout 1. */
const struct seg_layout *seg_layout_for(uint32_t payload_max);
size_t seg_slot_stride(uint32_t payload_max);
size_t seg_size(uint32_t capacity, uint32_t payload_max);

/* A ring header's stored fields; tests change one to plant what a dead or hostile peer leaves. */
struct seg_header {
	const struct seg_layout *layout;
	uint32_t magic;
	uint32_t version;
	uint8_t kind;
	uint64_t capacity;
	uint64_t write_pos;
	uint32_t payload_capacity; /* layout 2 only */
	uint32_t slot_stride;	   /* layout 2 only */
};

/* The header a join with these options writes (payload_max as in the fleet options). */
struct seg_header seg_header_of(uint8_t kind, uint32_t capacity, uint32_t payload_max);

/* The object size the header's geometry implies. */
uint64_t seg_header_object_size(const struct seg_header *h);

/*
 * Creates the fleet's segment of `kind` (mode 0600) at `size` bytes holding the header,
 * cut short if the object is: 0 or a negative errno.
 */
int seg_plant(const char *fleet, uint8_t kind, const struct seg_header *h, uint64_t size);

/* Writes the header into the open object of `size` bytes, cut short as above. */
int seg_write_header(int fd, const struct seg_header *h, uint64_t size);

/* A ring segment mapped by hand, as another process would map it. */
struct seg_map {
	int fd;
	uint8_t *base;
	size_t size;
	uint32_t capacity;
	uint32_t payload_max;
	const struct seg_layout *layout;
};

/* Maps the existing segment of fleet/kind (its whole object). 0 or a negative errno. */
int seg_map_open(struct seg_map *map, const char *fleet, uint8_t kind, uint32_t capacity,
		 uint32_t payload_max);

/*
 * Describes the mapping of fleet/kind this process already has (the one liborbit made
 * when it joined), without mapping anything (fd -1): 0, -ENOENT, or -EEXIST when there
 * is more than one, since then it cannot tell which the library writes through.
 */
int seg_map_find(struct seg_map *map, const char *fleet, uint8_t kind, uint32_t capacity,
		 uint32_t payload_max);

/* Unmaps what seg_map_open mapped; a map seg_map_find described is only forgotten. */
void seg_map_close(struct seg_map *map);

uint8_t *seg_slot(const struct seg_map *map, uint64_t counter);

/* Atomic (seq_cst) access to a field of the shared mapping, as a peer would do it. */
uint64_t seg_load64(const uint8_t *base, size_t offset);
void seg_store64(uint8_t *base, size_t offset, uint64_t value);
uint64_t seg_fetch_add64(uint8_t *base, size_t offset, uint64_t delta);
/* Compare-and-swap, as a late writer commits: true when the field held `expected`. */
bool seg_cas64(uint8_t *base, size_t offset, uint64_t expected, uint64_t desired);
uint32_t seg_load32(const uint8_t *base, size_t offset);
void seg_store32(uint8_t *base, size_t offset, uint32_t value);
void seg_store8(uint8_t *base, size_t offset, uint8_t value);

/* Claims the next counter by hand and leaves it odd, as a writer that died mid-write. */
uint64_t seg_claim_and_abandon(struct seg_map *map);

/* The seq of a slot whose counter was given up. */
uint64_t seg_seq_given_up(uint64_t counter);

/*
 * A slot's seq sampled over time. It only moves forward: each counter that takes the slot
 * makes it 2c+1, then 2c+2 or the given-up mark; it never goes back to an older counter,
 * nor from one outcome of a counter to the other.
 */
struct seg_seq_watch {
	uint64_t last;
	uint64_t samples;
	uint64_t regressions;
	uint64_t from, to; /* the first regression */
};

/* Adds a sample; counts a regression when it goes back from the last one. */
void seg_seq_watch_add(struct seg_seq_watch *watch, uint64_t seq);

/* Waits until some process sleeps in orbit_ring_wait on the mapped ring: 0 or -ETIMEDOUT. */
int seg_await_waiter(const struct seg_map *map, int timeout_ms);

/* The shm_open name ("/orbit-...") of a fleet's ring. */
void seg_shm_name(char *buf, size_t size, const char *fleet, uint8_t kind);

#endif
