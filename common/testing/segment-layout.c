/* SPDX-License-Identifier: MIT */
/* Raw access to ring segments for tests, by the offsets of orbit(7), Layouts. */
#include "segment-layout.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basics.h"
#include "names.h"

#define SHM_DIR "/dev/shm"

const struct seg_layout seg_layout_v1 = {
	.version = 1,
	.header_size = 128,
	.hdr_magic = 0,
	.hdr_version = 4,
	.hdr_kind = 8,
	.hdr_capacity = 16,
	.hdr_write_pos = 24,
	.hdr_futex = 32,
	.hdr_waiters = 36,
	.hdr_payload_capacity = SEG_NO_FIELD,
	.hdr_slot_stride = SEG_NO_FIELD,
	.slot_seq = 0,
	.slot_id = 8,
	.slot_kind = 16,
	.slot_ver = 24,
	.slot_len = 32,
	.slot_payload = 40,
};

const struct seg_layout seg_layout_v2 = {
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

static int is_layout_v1(uint32_t payload_max)
{
	return payload_max == 0 || payload_max == SEG_V1_PAYLOAD;
}

const struct seg_layout *seg_layout_for(uint32_t payload_max)
{
	return is_layout_v1(payload_max) ? &seg_layout_v1 : &seg_layout_v2;
}

size_t seg_slot_stride(uint32_t payload_max)
{
	if (is_layout_v1(payload_max))
		return 320;
	return (seg_layout_v2.slot_payload + payload_max + 63) / 64 * 64;
}

size_t seg_size(uint32_t capacity, uint32_t payload_max)
{
	return seg_layout_for(payload_max)->header_size +
	       (size_t)capacity * seg_slot_stride(payload_max);
}

struct seg_header seg_header_of(uint8_t kind, uint32_t capacity, uint32_t payload_max)
{
	const struct seg_layout *layout = seg_layout_for(payload_max);
	struct seg_header h = {
		.layout = layout,
		.magic = SEG_MAGIC,
		.version = layout->version,
		.kind = kind,
		.capacity = capacity,
	};

	if (layout->hdr_payload_capacity != SEG_NO_FIELD) {
		h.payload_capacity = payload_max;
		h.slot_stride = (uint32_t)seg_slot_stride(payload_max);
	}
	return h;
}

uint64_t seg_header_object_size(const struct seg_header *h)
{
	uint64_t stride = h->layout->hdr_slot_stride != SEG_NO_FIELD
				  ? h->slot_stride
				  : seg_slot_stride(SEG_V1_PAYLOAD);

	return h->layout->header_size + h->capacity * stride;
}

/* Stores the header's fields at base, 8-aligned room for layout->header_size bytes. */
static void seg_header_store(uint8_t *base, const struct seg_header *h)
{
	const struct seg_layout *layout = h->layout;

	seg_store32(base, layout->hdr_version, h->version);
	seg_store8(base, layout->hdr_kind, h->kind);
	seg_store64(base, layout->hdr_capacity, h->capacity);
	seg_store64(base, layout->hdr_write_pos, h->write_pos);
	if (layout->hdr_payload_capacity != SEG_NO_FIELD) {
		seg_store32(base, layout->hdr_payload_capacity, h->payload_capacity);
		seg_store32(base, layout->hdr_slot_stride, h->slot_stride);
	}
	/* Last, as a creator publishes it. */
	seg_store32(base, layout->hdr_magic, h->magic);
}

int seg_write_header(int fd, const struct seg_header *h, uint64_t size)
{
	uint64_t words[16] = { 0 }; /* 8-aligned room for the larger header */
	size_t len = h->layout->header_size < size ? h->layout->header_size : (size_t)size;
	ssize_t n;

	seg_header_store((uint8_t *)words, h);
	n = pwrite(fd, words, len, 0);
	if (n < 0)
		return -errno;
	return n == (ssize_t)len ? 0 : -EIO;
}

int seg_plant(const char *fleet, uint8_t kind, const struct seg_header *h, uint64_t size)
{
	char name[512];
	int fd, ret;

	seg_shm_name(name, sizeof(name), fleet, kind);
	fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (fchmod(fd, 0600) < 0 || ftruncate(fd, (off_t)size) < 0)
		ret = -errno;
	else
		ret = seg_write_header(fd, h, size);
	close(fd);
	return ret;
}

int seg_map_open(struct seg_map *map, const char *fleet, uint8_t kind, uint32_t capacity,
		 uint32_t payload_max)
{
	char path[512];
	struct stat st;
	void *base;
	int fd;

	test_segment_path(path, sizeof(path), fleet, kind);
	fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || st.st_size == 0) {
		close(fd);
		return -EPROTO;
	}
	base = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (base == MAP_FAILED) {
		int err = -errno;

		close(fd);
		return err;
	}
	*map = (struct seg_map){
		.fd = fd,
		.base = base,
		.size = (size_t)st.st_size,
		.capacity = capacity,
		.payload_max = payload_max ? payload_max : SEG_V1_PAYLOAD,
		.layout = seg_layout_for(payload_max),
	};
	return 0;
}

/* The start of this process's one mapping of path at offset 0, or NULL (errno set). */
static uint8_t *mapping_of(const char *path)
{
	char line[1024], name[512];
	unsigned long start, offset;
	uint8_t *found = NULL;
	FILE *maps = fopen("/proc/self/maps", "re");

	if (!maps)
		return NULL;
	errno = ENOENT;
	while (fgets(line, sizeof(line), maps)) {
		if (sscanf(line, "%lx-%*x %*s %lx %*s %*u %511s", &start, &offset, name) != 3 ||
		    offset != 0 || strcmp(name, path) != 0)
			continue;
		if (found) {
			found = NULL;
			errno = EEXIST;
			break;
		}
		found = (uint8_t *)start;
	}
	fclose(maps);
	return found;
}

int seg_map_find(struct seg_map *map, const char *fleet, uint8_t kind, uint32_t capacity,
		 uint32_t payload_max)
{
	char path[512];
	uint8_t *base;

	test_segment_path(path, sizeof(path), fleet, kind);
	base = mapping_of(path);
	if (!base)
		return -errno;
	*map = (struct seg_map){
		.fd = -1,
		.base = base,
		.size = seg_size(capacity, payload_max),
		.capacity = capacity,
		.payload_max = payload_max ? payload_max : SEG_V1_PAYLOAD,
		.layout = seg_layout_for(payload_max),
	};
	return 0;
}

void seg_map_close(struct seg_map *map)
{
	if (map->fd >= 0) {
		munmap(map->base, map->size);
		close(map->fd);
	}
	map->base = NULL;
}

uint8_t *seg_slot(const struct seg_map *map, uint64_t counter)
{
	size_t index = (size_t)(counter & (map->capacity - 1));

	return map->base + map->layout->header_size + index * seg_slot_stride(map->payload_max);
}

uint64_t seg_load64(const uint8_t *base, size_t offset)
{
	return __atomic_load_n((const uint64_t *)(base + offset), __ATOMIC_SEQ_CST);
}

void seg_store64(uint8_t *base, size_t offset, uint64_t value)
{
	__atomic_store_n((uint64_t *)(base + offset), value, __ATOMIC_SEQ_CST);
}

uint64_t seg_fetch_add64(uint8_t *base, size_t offset, uint64_t delta)
{
	return __atomic_fetch_add((uint64_t *)(base + offset), delta, __ATOMIC_SEQ_CST);
}

bool seg_cas64(uint8_t *base, size_t offset, uint64_t expected, uint64_t desired)
{
	return __atomic_compare_exchange_n((uint64_t *)(base + offset), &expected, desired, false,
					   __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}

uint32_t seg_load32(const uint8_t *base, size_t offset)
{
	return __atomic_load_n((const uint32_t *)(base + offset), __ATOMIC_SEQ_CST);
}

void seg_store32(uint8_t *base, size_t offset, uint32_t value)
{
	__atomic_store_n((uint32_t *)(base + offset), value, __ATOMIC_SEQ_CST);
}

void seg_store8(uint8_t *base, size_t offset, uint8_t value)
{
	__atomic_store_n(base + offset, value, __ATOMIC_SEQ_CST);
}

uint64_t seg_claim_and_abandon(struct seg_map *map)
{
	uint64_t counter = seg_fetch_add64(map->base, map->layout->hdr_write_pos, 1);

	seg_store64(seg_slot(map, counter), map->layout->slot_seq, 2 * counter + 1);
	return counter;
}

uint64_t seg_seq_given_up(uint64_t counter)
{
	return SEG_SEQ_GIVEN_UP | (2 * counter + 1);
}

/* Orders seq values by how far the slot has moved: a given-up counter is as final as a commit. */
static uint64_t seq_rank(uint64_t seq)
{
	return seq & SEG_SEQ_GIVEN_UP ? (seq & ~SEG_SEQ_GIVEN_UP) + 1 : seq;
}

void seg_seq_watch_add(struct seg_seq_watch *w, uint64_t seq)
{
	if (w->samples++ && (seq_rank(seq) < seq_rank(w->last) ||
			     (seq_rank(seq) == seq_rank(w->last) && seq != w->last))) {
		if (!w->regressions++) {
			w->from = w->last;
			w->to = seq;
		}
	}
	w->last = seq;
}

int seg_await_waiter(const struct seg_map *map, int timeout_ms)
{
	uint64_t deadline = mono_ms() + (uint64_t)timeout_ms;

	while (seg_load32(map->base, map->layout->hdr_waiters) == 0) {
		if (mono_ms() >= deadline)
			return -ETIMEDOUT;
		usleep(1000);
	}
	return 0;
}

void seg_shm_name(char *buf, size_t size, const char *fleet, uint8_t kind)
{
	char path[512];

	test_segment_path(path, sizeof(path), fleet, kind);
	snprintf(buf, size, "%s", path + strlen(SHM_DIR));
}
