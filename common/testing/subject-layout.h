/* SPDX-License-Identifier: MIT */
/*
 * The contest's subject slots as liborbit lays them out in the segment
 * /orbit-FLEET-subjects-UID, for tests that read or plant slot contents through a raw
 * mapping: the slot fields, the key, owner and term words, and where a subject's probe
 * starts. The library names these once (lib/subject.c); tests see only <orbit.h>.
 */
#ifndef ORBIT_TEST_SUBJECT_LAYOUT_H
#define ORBIT_TEST_SUBJECT_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#define SUBJ_HEADER    64
#define SUBJ_SLOTS     256
#define SUBJ_SLOT_SIZE 320
#define SUBJ_SEGMENT   (SUBJ_HEADER + SUBJ_SLOTS * SUBJ_SLOT_SIZE)
#define SUBJ_KEY       0  /* [state:2][installer's holder field:16][tag:46] */
#define SUBJ_OWNER     8  /* token << 16 | holder field */
#define SUBJ_TERM      16 /* expires_ms << 22 | token low 22 bits (CLOCK_MONOTONIC) */
#define SUBJ_SHAPE     24 /* subject kind | label length << 8 */
#define SUBJ_LABEL     64
#define SUBJ_WRITING   UINT64_C(1)
#define SUBJ_READY     UINT64_C(2)
#define SUBJ_RETIRED   UINT64_C(3)
#define SUBJ_TOKEN_MAX ((UINT64_C(1) << 48) - 1)
/* Holder field: generation low 6 bits << 10 | (lease record + 1). */
#define SUBJ_RECORD_MASK 0x3ffu

struct subj_map {
	uint8_t *base; /* the segment, header included */
};

/* Maps the fleet's subjects segment read-write; 0 or -errno. */
int subj_map_open(struct subj_map *map, const char *fleet);
void subj_map_close(struct subj_map *map);

uint8_t *subj_slot(const struct subj_map *map, uint32_t index);
uint64_t subj_load(const uint8_t *slot, size_t field);
void subj_store(uint8_t *slot, size_t field, uint64_t value);

/* The slot a subject's probe starts at, and the tag its key word carries. */
uint32_t subj_home(uint8_t kind, const char *label);
uint64_t subj_tag(uint8_t kind, const char *label);
uint64_t subj_key(uint64_t state, uint16_t holder, uint64_t tag);

/* The slot holding the subject (ready, same kind and label), or -1. */
int subj_find(const struct subj_map *map, uint8_t kind, const char *label);

/* Writes a ready subject into slot index, as an installer would. */
void subj_plant(const struct subj_map *map, uint32_t index, uint8_t kind, const char *label);

/* The /dev/shm path of the fleet's subjects segment. */
void subj_path(char *buf, size_t size, const char *fleet);

#endif
