/* SPDX-License-Identifier: MIT */
/* The subjects segment as liborbit lays it out (see subject-layout.h). */
#include "subject-layout.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

void subj_path(char *buf, size_t size, const char *fleet)
{
	snprintf(buf, size, "/dev/shm/orbit-%s-subjects-%lu", fleet, (unsigned long)geteuid());
}

int subj_map_open(struct subj_map *map, const char *fleet)
{
	char path[512];
	void *base;
	int fd;

	subj_path(path, sizeof(path), fleet);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	base = mmap(NULL, SUBJ_SEGMENT, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (base == MAP_FAILED)
		return -errno;
	map->base = base;
	return 0;
}

void subj_map_close(struct subj_map *map)
{
	munmap(map->base, SUBJ_SEGMENT);
	map->base = NULL;
}

uint8_t *subj_slot(const struct subj_map *map, uint32_t index)
{
	return map->base + SUBJ_HEADER + (size_t)index * SUBJ_SLOT_SIZE;
}

uint64_t subj_load(const uint8_t *slot, size_t field)
{
	return __atomic_load_n((const uint64_t *)(slot + field), __ATOMIC_SEQ_CST);
}

void subj_store(uint8_t *slot, size_t field, uint64_t value)
{
	__atomic_store_n((uint64_t *)(slot + field), value, __ATOMIC_SEQ_CST);
}

/* FNV-1a over the kind and the label, as the library hashes a subject. */
static uint64_t subj_hash(uint8_t kind, const char *label)
{
	uint64_t h = 0xcbf29ce484222325u;

	h = (h ^ kind) * 0x100000001b3u;
	for (const char *p = label; *p; p++)
		h = (h ^ (uint8_t)*p) * 0x100000001b3u;
	return h;
}

uint32_t subj_home(uint8_t kind, const char *label)
{
	return (uint32_t)(subj_hash(kind, label) % SUBJ_SLOTS);
}

uint64_t subj_tag(uint8_t kind, const char *label)
{
	return subj_hash(kind, label) >> 18;
}

uint64_t subj_key(uint64_t state, uint16_t holder, uint64_t tag)
{
	return state << 62 | (uint64_t)holder << 46 | (tag & ((UINT64_C(1) << 46) - 1));
}

int subj_find(const struct subj_map *map, uint8_t kind, const char *label)
{
	size_t len = strlen(label);

	for (uint32_t i = 0; i < SUBJ_SLOTS; i++) {
		const uint8_t *slot = subj_slot(map, i);

		if (subj_load(slot, SUBJ_KEY) >> 62 == SUBJ_READY &&
		    subj_load(slot, SUBJ_SHAPE) == (kind | (uint64_t)len << 8) &&
		    memcmp(slot + SUBJ_LABEL, label, len) == 0)
			return (int)i;
	}
	return -1;
}

void subj_plant(const struct subj_map *map, uint32_t index, uint8_t kind, const char *label)
{
	uint8_t *slot = subj_slot(map, index);
	size_t len = strlen(label);

	memset(slot + SUBJ_LABEL, 0, SUBJ_SLOT_SIZE - SUBJ_LABEL);
	memcpy(slot + SUBJ_LABEL, label, len);
	subj_store(slot, SUBJ_SHAPE, kind | (uint64_t)len << 8);
	subj_store(slot, SUBJ_KEY, subj_key(SUBJ_READY, 0, subj_tag(kind, label)));
}
