/* SPDX-License-Identifier: MIT */
/*
 * Hostile and mismatching segments: what another process, user or version may leave
 * under a ring's name, or write into its slots after we attached. Each gives its
 * documented error and never a crash, a hang or a read past the mapping.
 */
#include <orbit.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "frame-pattern.h"
#include "segment-layout.h"
#include "testutil.h"

#define KIND	   21
#define CAPACITY   8
#define FLEET_SIZE 4
#define NOBODY	   65534
/* Far larger than any slot: a reader that trusted a stored length would copy this much. */
#define BIG_BUF		  (64u * 1024u)
#define DRAIN_DEADLINE_MS 10000
#define PAGE		  4096

static const uint32_t layouts[] = { 256, 100 };

static char run_tag[32];
static char fleet_name[256];
static orbit_fleet_t *fleet;

/* Hostile inputs planted, counted across the forked tests (shared memory) for the log. */
static _Atomic unsigned *hostile_count;

static void hostile_tried(unsigned n)
{
	atomic_fetch_add(hostile_count, n);
}

static void setup(void)
{
	test_fleet_name(fleet_name, sizeof(fleet_name), run_tag);
	fleet = NULL;
}

static void teardown(void)
{
	orbit_fleet_leave(fleet);
	test_unlink_fleet(fleet_name);
}

static orbit_fleet_options_t options(uint32_t capacity, uint32_t payload_max, uint32_t mode)
{
	orbit_fleet_options_t opts = ORBIT_FLEET_OPTIONS_INIT;

	opts.capacity = capacity;
	opts.payload_max = payload_max;
	opts.mode = mode;
	return opts;
}

/* Makes the ring's segment the normal way, with one frame in it, and leaves it. */
static void make_segment(const orbit_fleet_options_t *opts)
{
	orbit_fleet_t *f;
	orbit_ring_t *ring;

	ck_assert_int_eq(orbit_fleet_join_shm(fleet_name, 0, FLEET_SIZE, opts, &f), 0);
	ck_assert_int_eq(orbit_fleet_ring(f, KIND, &ring), 0);
	ck_assert_int_eq(pattern_write(ring, 0, 0, NULL), 0);
	orbit_fleet_leave(f);
}

/* The attach path: orbit_fleet_ring on a fresh handle of the fleet. */
static int attach(const orbit_fleet_options_t *opts)
{
	orbit_fleet_t *f;
	orbit_ring_t *ring;
	int ret;

	ck_assert_int_eq(orbit_fleet_join_shm(fleet_name, 1, FLEET_SIZE, opts, &f), 0);
	ret = orbit_fleet_ring(f, KIND, &ring);
	orbit_fleet_leave(f);
	return ret;
}

static void segment_path(char *buf, size_t size)
{
	test_segment_path(buf, size, fleet_name, KIND);
}

/* Everything about the object an attach must leave alone when it refuses it. */
struct snapshot {
	struct stat st;
	uint8_t *bytes;
};

static void snapshot_take(struct snapshot *snap, const char *path)
{
	int fd;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &snap->st), 0);
	snap->bytes = malloc((size_t)snap->st.st_size + 1);
	ck_assert_ptr_nonnull(snap->bytes);
	ck_assert_int_eq(pread(fd, snap->bytes, (size_t)snap->st.st_size, 0), snap->st.st_size);
	close(fd);
}

static void assert_unchanged(struct snapshot *before, const char *path)
{
	struct snapshot after;

	snapshot_take(&after, path);
	ck_assert_uint_eq(after.st.st_ino, before->st.st_ino);
	ck_assert_uint_eq(after.st.st_size, before->st.st_size);
	ck_assert_uint_eq(after.st.st_mode, before->st.st_mode);
	ck_assert_uint_eq(after.st.st_uid, before->st.st_uid);
	ck_assert_msg(memcmp(after.bytes, before->bytes, (size_t)before->st.st_size) == 0,
		      "a refused attach modified the segment");
	free(after.bytes);
	free(before->bytes);
}

/* The attach must fail with `expect` and leave the segment exactly as it found it. */
static void assert_attach_refused(const orbit_fleet_options_t *opts, int expect)
{
	struct snapshot snap;
	char path[512];

	segment_path(path, sizeof(path));
	snapshot_take(&snap, path);
	ck_assert_int_eq(attach(opts), expect);
	assert_unchanged(&snap, path);
}

/* What orbit_fleet_probe says about the fleet's segment. */
static int probe(void)
{
	orbit_fleet_options_t found = ORBIT_FLEET_OPTIONS_INIT;

	return orbit_fleet_probe(fleet_name, KIND, &found);
}

/* A segment whose header nobody wrote (all zero, or no bytes at all): the join formats it. */
static void assert_formatted_afresh(const orbit_fleet_options_t *opts)
{
	uint8_t buf[BIG_BUF];
	orbit_frame_t frame;
	orbit_ring_t *ring;
	uint16_t writer;
	uint64_t seq;

	ck_assert_int_eq(orbit_fleet_join_shm(fleet_name, 0, FLEET_SIZE, opts, &fleet), 0);
	ck_assert_int_eq(orbit_fleet_ring(fleet, KIND, &ring), 0);
	ck_assert_uint_eq(orbit_ring_head(ring), 0);
	ck_assert_int_eq(pattern_write(ring, 0, 7, NULL), 0);
	ck_assert_int_eq(orbit_ring_read_head(ring, &frame, buf, sizeof(buf)), 0);
	ck_assert_int_eq(pattern_verify(ring, &frame, buf, &writer, &seq), 0);
	ck_assert_uint_eq(seq, 7);
	ck_assert_int_eq(probe(), 0);
}

/* ---- headers that differ from what the fleet expects ---- */

static void bad_magic(struct seg_map *m)
{
	seg_store32(m->base, m->layout->hdr_magic, SEG_MAGIC ^ 0x00FF0000u);
}

static void bad_version(struct seg_map *m)
{
	seg_store32(m->base, m->layout->hdr_version, m->layout->version + 7);
}

static void bad_kind(struct seg_map *m)
{
	seg_store8(m->base, m->layout->hdr_kind, KIND + 1);
}

static void bad_capacity(struct seg_map *m)
{
	seg_store64(m->base, m->layout->hdr_capacity, 2 * CAPACITY);
}

static void bad_payload_capacity(struct seg_map *m)
{
	seg_store32(m->base, m->layout->hdr_payload_capacity, m->payload_max + 8);
}

static void bad_stride(struct seg_map *m)
{
	seg_store32(m->base, m->layout->hdr_slot_stride,
		    (uint32_t)seg_slot_stride(m->payload_max) + 64);
}

static void object_shorter(struct seg_map *m)
{
	ck_assert_int_eq(ftruncate(m->fd, (off_t)m->size - 64), 0);
}

static void object_longer(struct seg_map *m)
{
	ck_assert_int_eq(ftruncate(m->fd, (off_t)m->size + 4096), 0);
}

static void object_cut_inside_header(struct seg_map *m)
{
	ck_assert_int_eq(ftruncate(m->fd, (off_t)m->layout->header_size - 8), 0);
}

static const struct header_case {
	const char *what;
	uint32_t payload_max;
	void (*mutate)(struct seg_map *m);
} header_cases[] = {
	{ "magic", 256, bad_magic },
	{ "magic", 100, bad_magic },
	{ "version", 256, bad_version },
	{ "version", 100, bad_version },
	{ "kind", 256, bad_kind },
	{ "kind", 100, bad_kind },
	{ "capacity", 256, bad_capacity },
	{ "capacity", 100, bad_capacity },
	{ "payload capacity", 100, bad_payload_capacity },
	{ "slot stride", 100, bad_stride },
	{ "object shorter", 256, object_shorter },
	{ "object shorter", 100, object_shorter },
	{ "object longer", 256, object_longer },
	{ "object longer", 100, object_longer },
	{ "object cut inside the header", 256, object_cut_inside_header },
	{ "object cut inside the header", 100, object_cut_inside_header },
};

START_TEST(test_header_mismatch)
{
	const struct header_case *hc = &header_cases[_i];
	orbit_fleet_options_t opts = options(CAPACITY, hc->payload_max, 0);
	struct seg_map map;

	make_segment(&opts);
	ck_assert_int_eq(seg_map_open(&map, fleet_name, KIND, CAPACITY, hc->payload_max), 0);
	hc->mutate(&map);
	seg_map_close(&map);
	hostile_tried(1);
	fprintf(stderr, "header case %s (payload_max %u):\n", hc->what, hc->payload_max);
	assert_attach_refused(&opts, -EPROTO);
}
END_TEST

/*
 * A layout 2 head whose halves read as layout 1's magic (u32 at 0) and version 1 (u32 at
 * 4): the header is still layout 2's, by its own magic and version at 16 and 20.
 */
#define HEAD_LIKE_LAYOUT_1 ((UINT64_C(1) << 32) | SEG_MAGIC)

static const uint32_t layout_2_payloads[] = { 100, 4096 };

START_TEST(test_head_like_layout_1_magic)
{
	uint32_t payload_max = layout_2_payloads[_i];
	orbit_fleet_options_t opts = options(CAPACITY, payload_max, 0);
	orbit_fleet_options_t found = ORBIT_FLEET_OPTIONS_INIT;
	static uint8_t buf[BIG_BUF];
	orbit_frame_t frame;
	orbit_ring_t *ring;
	struct seg_map map;
	uint16_t writer;
	uint64_t seq;

	make_segment(&opts);
	ck_assert_int_eq(seg_map_open(&map, fleet_name, KIND, CAPACITY, payload_max), 0);
	seg_store64(map.base, map.layout->hdr_write_pos, HEAD_LIKE_LAYOUT_1);
	seg_map_close(&map);
	fprintf(stderr, "layout 2 head 0x%llx (payload_max %u):\n",
		(unsigned long long)HEAD_LIKE_LAYOUT_1, payload_max);

	ck_assert_int_eq(orbit_fleet_probe(fleet_name, KIND, &found), 0);
	ck_assert_uint_eq(found.capacity, CAPACITY);
	ck_assert_uint_eq(found.payload_max, payload_max);

	/* Joined as what it is, it goes on from that head. */
	ck_assert_int_eq(orbit_fleet_join_shm(fleet_name, 1, FLEET_SIZE, &opts, &fleet), 0);
	ck_assert_int_eq(orbit_fleet_ring(fleet, KIND, &ring), 0);
	ck_assert_uint_eq(orbit_ring_head(ring), HEAD_LIKE_LAYOUT_1);
	ck_assert_int_eq(pattern_write(ring, 1, 5, NULL), 0);
	ck_assert_int_eq(orbit_ring_read_at(ring, HEAD_LIKE_LAYOUT_1, &frame, buf, sizeof(buf)), 0);
	ck_assert_int_eq(pattern_verify(ring, &frame, buf, &writer, &seq), 0);
	ck_assert_uint_eq(writer, 1);
	ck_assert_uint_eq(seq, 5);
}
END_TEST

/* ---- a fleet whose options make a different segment ---- */

static const struct options_case {
	uint32_t made_capacity, made_payload, asked_capacity, asked_payload;
} options_cases[] = {
	{ 8, 256, 16, 256 },  /* capacity */
	{ 8, 100, 16, 100 },  /* capacity, layout 2 */
	{ 8, 100, 8, 200 },   /* payload size and stride */
	{ 8, 100, 8, 120 },   /* payload size, same stride and object size */
	{ 8, 256, 8, 100 },   /* layout 1 segment, layout 2 fleet */
	{ 8, 100, 8, 256 },   /* layout 2 segment, layout 1 fleet */
	{ 16, 288, 16, 256 }, /* layout 2 with layout 1's stride */
};

START_TEST(test_options_mismatch)
{
	const struct options_case *oc = &options_cases[_i];
	orbit_fleet_options_t made = options(oc->made_capacity, oc->made_payload, 0);
	orbit_fleet_options_t asked = options(oc->asked_capacity, oc->asked_payload, 0);

	make_segment(&made);
	hostile_tried(1);
	assert_attach_refused(&asked, -EPROTO);
	/* The segment still serves the fleet that made it. */
	ck_assert_int_eq(attach(&made), 0);
}
END_TEST

/* ---- ownership and permissions ---- */

static int open_segment(void)
{
	char path[512];
	int fd;

	segment_path(path, sizeof(path));
	fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	return fd;
}

START_TEST(test_other_owner)
{
	orbit_fleet_options_t opts = options(CAPACITY, layouts[_i], 0);
	int fd;

	if (geteuid() != 0) {
		fprintf(stderr, "test_other_owner skipped: giving a segment away needs root\n");
		return;
	}
	make_segment(&opts);
	fd = open_segment();
	ck_assert_int_eq(fchown(fd, NOBODY, NOBODY), 0);
	close(fd);
	hostile_tried(1);
	assert_attach_refused(&opts, -EPERM);
}
END_TEST

static const struct mode_case {
	mode_t segment;
	uint32_t fleet;
	int expect;
} mode_cases[] = {
	{ 0666, 0600, -EACCES }, { 0640, 0600, -EACCES }, { 0620, 0640, -EACCES },
	{ 0604, 0660, -EACCES }, { 0600, 0660, 0 }, /* grants less than the fleet would: fine */
	{ 0640, 0640, 0 },
};

START_TEST(test_mode)
{
	const struct mode_case *mc = &mode_cases[_i];
	orbit_fleet_options_t made = options(CAPACITY, 256, 0600);
	orbit_fleet_options_t asked = options(CAPACITY, 256, mc->fleet);
	int fd;

	make_segment(&made);
	fd = open_segment();
	ck_assert_int_eq(fchmod(fd, mc->segment), 0);
	close(fd);
	hostile_tried(1);
	if (mc->expect)
		assert_attach_refused(&asked, mc->expect);
	else
		ck_assert_int_eq(attach(&asked), 0);
}
END_TEST

/* ---- things other than a segment under the name ---- */

static void make_target(char *path, size_t size, const char *content)
{
	int fd;

	snprintf(path, size, "/tmp/orbit-target-XXXXXX");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	close(fd);
}

START_TEST(test_symlink_to_file)
{
	static const char precious[] = "not a ring: must stay exactly as it is\n";
	orbit_fleet_options_t opts = options(CAPACITY, layouts[_i], 0);
	char path[512], target[64], back[sizeof(precious) + 16];
	struct stat st;
	int fd;

	make_target(target, sizeof(target), precious);
	segment_path(path, sizeof(path));
	ck_assert_int_eq(symlink(target, path), 0);
	hostile_tried(1);

	ck_assert_int_eq(attach(&opts), -ELOOP);
	ck_assert_int_eq(probe(), -ELOOP);

	ck_assert_int_eq(lstat(path, &st), 0);
	ck_assert(S_ISLNK(st.st_mode));
	fd = open(target, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_int_eq(st.st_size, (off_t)strlen(precious));
	ck_assert_int_eq(read(fd, back, sizeof(back)), (ssize_t)strlen(precious));
	ck_assert(memcmp(back, precious, strlen(precious)) == 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	close(fd);
	unlink(path);
	unlink(target);
}
END_TEST

START_TEST(test_symlink_dangling)
{
	orbit_fleet_options_t opts = options(CAPACITY, layouts[_i], 0);
	char path[512], target[512];

	snprintf(target, sizeof(target), "/tmp/orbit-absent-%ld-%s", (long)getpid(), fleet_name);
	segment_path(path, sizeof(path));
	ck_assert_int_eq(symlink(target, path), 0);
	hostile_tried(1);

	ck_assert_int_eq(attach(&opts), -ELOOP);
	ck_assert_msg(access(target, F_OK) < 0 && errno == ENOENT,
		      "the attach created the symlink's target %s", target);
	unlink(path);
	unlink(target);
}
END_TEST

/* Directories and FIFOs: refused, without hanging on a "creator" that never finishes. */
START_TEST(test_not_a_regular_object)
{
	orbit_fleet_options_t opts = options(CAPACITY, 256, 0);
	char path[512];
	int ret;

	segment_path(path, sizeof(path));
	hostile_tried(2);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	ret = attach(&opts);
	rmdir(path);
	ck_assert_msg(ret < 0, "a directory was attached as a ring");

	ck_assert_int_eq(mkfifo(path, 0600), 0);
	ret = attach(&opts);
	unlink(path);
	ck_assert_msg(ret < 0, "a FIFO was attached as a ring");
}
END_TEST

/* ---- headers planted under the name before anyone joined ---- */

enum header_field {
	FIELD_NONE,
	FIELD_ALL_ZERO,
	FIELD_MAGIC,
	FIELD_VERSION,
	FIELD_KIND,
	FIELD_CAPACITY,
	FIELD_PAYLOAD,
	FIELD_STRIDE,
};

#define L1 256
#define L2 100

/* The planted object's size: the one the fleet's options give, 0, or a page more. */
enum object_size { SIZE_FLEET, SIZE_EMPTY, SIZE_LONGER };

static const struct planted_case {
	const char *what;
	uint32_t fleet_payload;	 /* the joining fleet's payload_max, and so its layout */
	uint32_t header_payload; /* the options whose header is planted */
	enum header_field field;
	uint64_t value;
	enum object_size size;
	int expect; /* of the join; 0: never written, so formatted afresh */
	int probe;  /* of orbit_fleet_probe, which knows no fleet's layout */
} planted_cases[] = {
	{ "empty object", L1, L1, FIELD_NONE, 0, SIZE_EMPTY, 0, -EAGAIN },
	{ "empty object", L2, L2, FIELD_NONE, 0, SIZE_EMPTY, 0, -EAGAIN },
	/* Only an all-zero header was never written: any other may be in use. */
	{ "all-zero header", L1, L1, FIELD_ALL_ZERO, 0, SIZE_FLEET, 0, -EAGAIN },
	{ "all-zero header", L2, L2, FIELD_ALL_ZERO, 0, SIZE_FLEET, 0, -EAGAIN },
	/* Not the size the fleet needs, and not its to resize; a probe knows no size. */
	{ "all-zero header, longer object", L1, L1, FIELD_ALL_ZERO, 0, SIZE_LONGER, -EPROTO,
	  -EAGAIN },
	{ "all-zero header, longer object", L2, L2, FIELD_ALL_ZERO, 0, SIZE_LONGER, -EPROTO,
	  -EAGAIN },
	{ "every field but the magic", L1, L1, FIELD_MAGIC, 0, SIZE_FLEET, -EPROTO, -EPROTO },
	{ "every field but the magic", L2, L2, FIELD_MAGIC, 0, SIZE_FLEET, -EPROTO, -EPROTO },
	{ "magic byte-swapped", L1, L1, FIELD_MAGIC, 0x5442524F, SIZE_FLEET, -EPROTO, -EPROTO },
	{ "magic byte-swapped", L2, L2, FIELD_MAGIC, 0x5442524F, SIZE_FLEET, -EPROTO, -EPROTO },
	{ "version 0", L1, L1, FIELD_VERSION, 0, SIZE_FLEET, -EPROTO, -EPROTO },
	{ "version 0", L2, L2, FIELD_VERSION, 0, SIZE_FLEET, -EPROTO, -EPROTO },
	{ "version 2 in layout 1", L1, L1, FIELD_VERSION, 2, SIZE_FLEET, -EPROTO, -EPROTO },
	{ "version 1 in layout 2", L2, L2, FIELD_VERSION, 1, SIZE_FLEET, -EPROTO, -EPROTO },
	{ "version 0xFFFFFFFF", L1, L1, FIELD_VERSION, UINT32_MAX, SIZE_FLEET, -EPROTO, -EPROTO },
	{ "version 0xFFFFFFFF", L2, L2, FIELD_VERSION, UINT32_MAX, SIZE_FLEET, -EPROTO, -EPROTO },
	{ "kind 0", L1, L1, FIELD_KIND, 0, SIZE_FLEET, -EPROTO, -EPROTO },
	{ "kind 255", L2, L2, FIELD_KIND, 255, SIZE_FLEET, -EPROTO, -EPROTO },
	{ "capacity 0", L1, L1, FIELD_CAPACITY, 0, SIZE_FLEET, -EPROTO, -EPROTO },
	{ "capacity 0", L2, L2, FIELD_CAPACITY, 0, SIZE_FLEET, -EPROTO, -EPROTO },
	{ "capacity 3", L1, L1, FIELD_CAPACITY, 3, SIZE_FLEET, -EPROTO, -EPROTO },
	{ "capacity 3", L2, L2, FIELD_CAPACITY, 3, SIZE_FLEET, -EPROTO, -EPROTO },
	{ "capacity 2^32", L1, L1, FIELD_CAPACITY, UINT64_C(1) << 32, SIZE_FLEET, -EPROTO,
	  -EPROTO },
	{ "capacity 2^32", L2, L2, FIELD_CAPACITY, UINT64_C(1) << 32, SIZE_FLEET, -EPROTO,
	  -EPROTO },
	{ "capacity 2^64 - 1", L1, L1, FIELD_CAPACITY, UINT64_MAX, SIZE_FLEET, -EPROTO, -EPROTO },
	{ "capacity 2^64 - 1", L2, L2, FIELD_CAPACITY, UINT64_MAX, SIZE_FLEET, -EPROTO, -EPROTO },
	{ "payload 0", L2, L2, FIELD_PAYLOAD, 0, SIZE_FLEET, -EPROTO, -EPROTO },
	{ "payload 256 in layout 2", L2, L2, FIELD_PAYLOAD, 256, SIZE_FLEET, -EPROTO, -EPROTO },
	{ "payload 2^20 + 1", L2, L2, FIELD_PAYLOAD, (1u << 20) + 1, SIZE_FLEET, -EPROTO, -EPROTO },
	{ "payload 0xFFFFFFFF", L2, L2, FIELD_PAYLOAD, UINT32_MAX, SIZE_FLEET, -EPROTO, -EPROTO },
	/* 32 + 160 rounds to the same 192-byte stride: only the payload size tells; the
	 * header adds up, so a probe reports it. */
	{ "payload 160, same stride and size", L2, L2, FIELD_PAYLOAD, 160, SIZE_FLEET, -EPROTO, 0 },
	{ "stride 0", L2, L2, FIELD_STRIDE, 0, SIZE_FLEET, -EPROTO, -EPROTO },
	{ "stride 64", L2, L2, FIELD_STRIDE, 64, SIZE_FLEET, -EPROTO, -EPROTO },
	{ "stride 0xFFFFFFFF", L2, L2, FIELD_STRIDE, UINT32_MAX, SIZE_FLEET, -EPROTO, -EPROTO },
	{ "layout 2 header in a layout 1 object", L1, L2, FIELD_NONE, 0, SIZE_FLEET, -EPROTO,
	  -EPROTO },
	{ "layout 1 header in a layout 2 object", L2, L1, FIELD_NONE, 0, SIZE_FLEET, -EPROTO,
	  -EPROTO },
};

static void header_set(struct seg_header *h, enum header_field field, uint64_t value)
{
	switch (field) {
	case FIELD_NONE:
		break;
	case FIELD_ALL_ZERO:
		*h = (struct seg_header){ .layout = h->layout };
		break;
	case FIELD_MAGIC:
		h->magic = (uint32_t)value;
		break;
	case FIELD_VERSION:
		h->version = (uint32_t)value;
		break;
	case FIELD_KIND:
		h->kind = (uint8_t)value;
		break;
	case FIELD_CAPACITY:
		h->capacity = value;
		break;
	case FIELD_PAYLOAD:
		h->payload_capacity = (uint32_t)value;
		break;
	case FIELD_STRIDE:
		h->slot_stride = (uint32_t)value;
		break;
	}
}

START_TEST(test_planted_header)
{
	const struct planted_case *pc = &planted_cases[_i];
	orbit_fleet_options_t opts = options(CAPACITY, pc->fleet_payload, 0);
	struct seg_header h = seg_header_of(KIND, CAPACITY, pc->header_payload);
	uint64_t size = seg_size(CAPACITY, pc->fleet_payload);

	header_set(&h, pc->field, pc->value);
	if (pc->size == SIZE_EMPTY)
		size = 0;
	else if (pc->size == SIZE_LONGER)
		size += PAGE;
	ck_assert_int_eq(seg_plant(fleet_name, KIND, &h, size), 0);
	hostile_tried(1);
	fprintf(stderr, "planted %s (fleet payload_max %u):\n", pc->what, pc->fleet_payload);
	ck_assert_int_eq(probe(), pc->probe);
	if (pc->expect)
		assert_attach_refused(&opts, pc->expect);
	else
		assert_formatted_afresh(&opts);
}
END_TEST

/* ---- objects cut short ---- */

/* Where to cut: inside the magic or before it, just after it, around the header and slots. */
#define CUTS 10

static size_t cut_at(uint32_t payload_max, int k)
{
	const struct seg_layout *layout = seg_layout_for(payload_max);
	size_t magic_end = layout->hdr_magic + sizeof(uint32_t);
	size_t header = layout->header_size, stride = seg_slot_stride(payload_max);
	size_t size = seg_size(CAPACITY, payload_max);
	const size_t at[CUTS] = {
		1,	    magic_end - 1,	 magic_end,	  header - 1, header,
		header + 1, header + stride - 1, header + stride, size - 8,   size - 1,
	};

	return at[k];
}

START_TEST(test_truncated)
{
	uint32_t payload_max = layouts[_i / CUTS];
	size_t at = cut_at(payload_max, _i % CUTS);
	orbit_fleet_options_t opts = options(CAPACITY, payload_max, 0);
	char path[512];

	make_segment(&opts);
	segment_path(path, sizeof(path));
	ck_assert_int_eq(truncate(path, (off_t)at), 0);
	hostile_tried(1);
	fprintf(stderr, "cut at %zu bytes (payload_max %u):\n", at, payload_max);
	/* Even cut inside the magic, what is left was written: never formatted over. */
	assert_attach_refused(&opts, -EPROTO);
	ck_assert_int_eq(probe(), -EPROTO);
}
END_TEST

/* ---- segments another user created for real ---- */

/* Runs fn in a child that dropped to uid and gid NOBODY; returns its exit status. */
static int run_as_nobody(int (*fn)(void *), void *arg)
{
	pid_t pid = fork();
	int status;

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (setgroups(0, NULL) < 0 || setgid(NOBODY) < 0 || setuid(NOBODY) < 0)
			_exit(100);
		_exit(fn(arg));
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status), "child died (status 0x%x)", status);
	return WEXITSTATUS(status);
}

/* A valid ring of the fleet's options, made the normal way and then removed: its bytes. */
static void ring_image(const orbit_fleet_options_t *opts, struct snapshot *image)
{
	char path[512];

	make_segment(opts);
	segment_path(path, sizeof(path));
	snapshot_take(image, path);
	test_unlink_fleet(fleet_name);
}

struct planting {
	char path[512];
	mode_t mode;
	const struct snapshot *image;
};

/* Creates the object with exactly this mode and the image's bytes, as whoever runs it. */
static int plant_image(void *arg)
{
	const struct planting *p = arg;
	size_t size = (size_t)p->image->st.st_size;
	int fd = open(p->path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	int ret = 0;

	if (fd < 0)
		return 1;
	if (fchmod(fd, p->mode) < 0 || pwrite(fd, p->image->bytes, size, 0) != (ssize_t)size)
		ret = 2;
	close(fd);
	return ret;
}

/* As nobody, plants a well-formed ring of opts under our name for KIND, with mode. */
static void plant_as_nobody(const orbit_fleet_options_t *opts, struct planting *planting)
{
	struct snapshot image;

	ring_image(opts, &image);
	planting->image = &image;
	segment_path(planting->path, sizeof(planting->path));
	ck_assert_int_eq(run_as_nobody(plant_image, planting), 0);
	free(image.bytes);
	planting->image = NULL;
	hostile_tried(1);
}

static const mode_t planted_modes[] = { 0600, 0644, 0666 };

/* Another user (nobody) creates a well-formed ring under our name: we refuse to join it. */
START_TEST(test_created_by_another_user)
{
	uint32_t payload_max = layouts[_i / ARRAY_SIZE(planted_modes)];
	mode_t mode = planted_modes[_i % ARRAY_SIZE(planted_modes)];
	orbit_fleet_options_t opts = options(CAPACITY, payload_max, 0660);
	struct planting planting = { .mode = mode };
	struct stat st;

	if (geteuid() != 0) {
		fprintf(stderr, "test_created_by_another_user skipped: needs root\n");
		return;
	}
	plant_as_nobody(&opts, &planting);
	ck_assert_int_eq(stat(planting.path, &st), 0);
	ck_assert_uint_eq(st.st_uid, NOBODY);
	fprintf(stderr, "created by uid %u, mode %04o (payload_max %u):\n", NOBODY, (unsigned)mode,
		payload_max);
	/* Root may open anything, so it is the owner check that refuses. */
	assert_attach_refused(&opts, -EPERM);
	ck_assert_int_eq(probe(), -EPERM);
}
END_TEST

/*
 * Unlinking the fleet removes our own segments and leaves the one nobody planted under
 * our name: even root, whom the kernel would let remove it, must not.
 */
START_TEST(test_unlink_leaves_planted)
{
	orbit_fleet_options_t opts = options(CAPACITY, layouts[_i], 0600);
	struct planting planting = { .mode = 0600 };
	char ours[512];
	orbit_ring_t *ring;

	if (geteuid() != 0) {
		fprintf(stderr, "test_unlink_leaves_planted skipped: needs root\n");
		return;
	}
	plant_as_nobody(&opts, &planting);
	ck_assert_int_eq(orbit_fleet_join_shm(fleet_name, 0, FLEET_SIZE, &opts, &fleet), 0);
	ck_assert_int_eq(orbit_fleet_ring(fleet, KIND + 1, &ring), 0);
	test_segment_path(ours, sizeof(ours), fleet_name, KIND + 1);

	ck_assert_int_eq(orbit_fleet_unlink(fleet), -EPERM);
	ck_assert_int_eq(access(planting.path, F_OK), 0);
	ck_assert_int_ne(access(ours, F_OK), 0);
	ck_assert_int_eq(unlink(planting.path), 0);
	ck_assert_int_eq(orbit_fleet_unlink(fleet), 0);
}
END_TEST

struct refusal {
	int ring;
	int probe;
};

/* As nobody: join the fleet (whose name carries nobody's uid) and probe it. */
static int join_as_nobody(void *arg)
{
	struct refusal *out = arg;
	orbit_fleet_options_t opts = options(CAPACITY, L1, 0660);
	orbit_fleet_t *f;
	orbit_ring_t *ring;

	if (orbit_fleet_join_shm(fleet_name, 1, FLEET_SIZE, &opts, &f) < 0)
		return 1;
	out->ring = orbit_fleet_ring(f, KIND, &ring);
	out->probe = probe();
	orbit_fleet_leave(f);
	return 0;
}

/* What nobody gets for a segment root created under nobody's name, by its mode. */
static const struct refusal nobody_refusals[] = {
	{ -EACCES, -EACCES }, /* 0600: nobody cannot even open it */
	{ -EACCES, -EPERM },  /* 0644: nobody opens it to read, never to join */
	{ -EPERM, -EPERM },   /* 0666: opens, but the owner is not nobody */
};

START_TEST(test_joined_by_another_user)
{
	orbit_fleet_options_t opts = options(CAPACITY, L1, 0660);
	struct refusal *got =
		mmap(NULL, sizeof(*got), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct planting planting = { .mode = planted_modes[_i] };
	struct snapshot image, before;

	if (geteuid() != 0) {
		fprintf(stderr, "test_joined_by_another_user skipped: needs root\n");
		return;
	}
	ck_assert_ptr_ne(got, MAP_FAILED);
	ring_image(&opts, &image);
	planting.image = &image;
	snprintf(planting.path, sizeof(planting.path), "/dev/shm/orbit-%s-%u-%u", fleet_name, KIND,
		 NOBODY);
	ck_assert_int_eq(plant_image(&planting), 0);
	free(image.bytes);
	hostile_tried(1);
	snapshot_take(&before, planting.path);
	fprintf(stderr, "uid %u joins root's segment of mode %04o:\n", NOBODY,
		(unsigned)planting.mode);
	ck_assert_int_eq(run_as_nobody(join_as_nobody, got), 0);
	assert_unchanged(&before, planting.path);
	unlink(planting.path);
	ck_assert_int_eq(got->ring, nobody_refusals[_i].ring);
	ck_assert_int_eq(got->probe, nobody_refusals[_i].probe);
	munmap(got, sizeof(*got));
}
END_TEST

/* A symlink to another fleet's live segment: refused, and the segment is left alone. */
START_TEST(test_symlink_to_segment)
{
	orbit_fleet_options_t opts = options(CAPACITY, layouts[_i], 0);
	char path[512], target[512], target_fleet[300];
	struct snapshot before;
	orbit_ring_t *ring;

	snprintf(target_fleet, sizeof(target_fleet), "%s-target", fleet_name);
	ck_assert_int_eq(orbit_fleet_join_shm(target_fleet, 0, FLEET_SIZE, &opts, &fleet), 0);
	ck_assert_int_eq(orbit_fleet_ring(fleet, KIND, &ring), 0);
	ck_assert_int_eq(pattern_write(ring, 0, 0, NULL), 0);
	test_segment_path(target, sizeof(target), target_fleet, KIND);
	segment_path(path, sizeof(path));
	ck_assert_int_eq(symlink(target, path), 0);
	hostile_tried(1);
	snapshot_take(&before, target);

	ck_assert_int_eq(attach(&opts), -ELOOP);
	ck_assert_int_eq(probe(), -ELOOP);

	assert_unchanged(&before, target);
	unlink(path);
	test_unlink_fleet(target_fleet);
}
END_TEST

/* ---- a full /dev/shm ---- */

enum {
	NOSPACE_OK,
	NOSPACE_SETUP = 10,
	NOSPACE_BIG = 20,
	NOSPACE_AGAIN = 30,
	NOSPACE_SMALL = 40,
	NOSPACE_FIRST_USE = 50,
	NOSPACE_KEPT_ROOM = 60,
	NOSPACE_ROOM_AGAIN = 70,
};

#define SMALL_SHM "256k"

static int try_ring(uint32_t capacity, uint32_t payload_max, const char *name)
{
	orbit_fleet_options_t opts = options(capacity, payload_max, 0);
	orbit_fleet_t *f;
	orbit_ring_t *ring;
	int ret = orbit_fleet_join_shm(name, 0, FLEET_SIZE, &opts, &f);

	if (ret < 0)
		return ret;
	ret = orbit_fleet_ring(f, KIND, &ring);
	if (ret == 0)
		ret = pattern_write(ring, 0, 0, NULL);
	orbit_fleet_leave(f);
	return ret;
}

/* A private mount namespace with a 256 KiB tmpfs on /dev/shm: 0, or -1 (and says why). */
static int private_small_shm(void)
{
	/* Source and type are ignored for a propagation change; named so valgrind sees strings. */
	if (unshare(CLONE_NEWNS) < 0 || mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("tmpfs", "/dev/shm", "tmpfs", 0, "size=" SMALL_SHM) < 0) {
		perror("private /dev/shm");
		return -1;
	}
	return 0;
}

/* In a private mount namespace, with a 256 KiB tmpfs on /dev/shm. */
static int nospace_child(void)
{
	char big[300], small[300];
	int ret, again;

	if (private_small_shm() < 0)
		return NOSPACE_SETUP;
	for (size_t i = 0; i < ARRAY_SIZE(layouts); i++) {
		snprintf(big, sizeof(big), "%s-big%zu", fleet_name, i);
		snprintf(small, sizeof(small), "%s-small%zu", fleet_name, i);
		/* 4096 slots: 1.25 MiB in layout 1, 768 KiB in layout 2 with 100-byte payloads. */
		ret = try_ring(4096, layouts[i], big);
		/* The failed creation leaves the name unformatted: the next try formats it again,
		 * and fails the same way. */
		again = try_ring(4096, layouts[i], big);
		fprintf(stderr, "full /dev/shm, payload_max %u: %d, again: %d\n", layouts[i], ret,
			again);
		if (ret != -ENOSPC)
			return NOSPACE_BIG + i;
		if (again != -ENOSPC)
			return NOSPACE_AGAIN + i;
		if (try_ring(8, layouts[i], small) != 0)
			return NOSPACE_SMALL + i;
	}
	return NOSPACE_OK;
}

/* Runs child in a forked process, which must exit, not die of a signal: its exit code. */
static int run_nospace(int (*child)(void))
{
	int status;
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(child());
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(!WIFSIGNALED(status), "the process died of signal %d (SIGBUS is %d)",
		      WIFSIGNALED(status) ? WTERMSIG(status) : 0, SIGBUS);
	return WEXITSTATUS(status);
}

START_TEST(test_shm_full)
{
	int code;

	if (geteuid() != 0) {
		fprintf(stderr, "test_shm_full skipped: mounting a small /dev/shm needs root\n");
		return;
	}
	code = run_nospace(nospace_child);
	ck_assert_msg(code == NOSPACE_OK,
		      "exit %d: 10 no namespace, 2x big ring not -ENOSPC, 3x retry not -ENOSPC, "
		      "4x small ring failed (x = layout index)",
		      code);
}
END_TEST

/* The first call that makes each kind of ring: a plain ring and every substrate's. */
static int use_ring(orbit_fleet_t *f)
{
	orbit_ring_t *ring;

	return orbit_fleet_ring(f, KIND, &ring);
}

static int use_value(orbit_fleet_t *f)
{
	uint64_t value = 42;

	return orbit_value_store(f, KIND + 1, &value, sizeof(value));
}

static int use_cache(orbit_fleet_t *f)
{
	orbit_cache_t *cache;
	int ret = orbit_cache_open(f, ORBIT_KIND_CACHE, &cache);

	if (ret == 0) {
		ret = orbit_cache_put(cache, "key", 3, "value", 5, 0);
		orbit_cache_close(cache);
	}
	return ret;
}

static int use_events(orbit_fleet_t *f)
{
	orbit_events_t *events;
	int ret = orbit_events_open(f, ORBIT_KIND_EVENTS, &events);

	if (ret == 0) {
		ret = orbit_events_publish(events, "topic", "payload", 7);
		orbit_events_close(events);
	}
	return ret;
}

static int use_contest(orbit_fleet_t *f)
{
	orbit_guard_t *guard;
	int ret = orbit_contest_claim(f, 1, "job", NULL, 60000, &guard, NULL);

	return ret == 0 ? orbit_guard_release(guard) : ret;
}

static int use_heartbeat(orbit_fleet_t *f)
{
	return orbit_heartbeat(f);
}

static const struct first_use {
	const char *what;
	int (*use)(orbit_fleet_t *f);
} first_uses[] = {
	{ "orbit_fleet_ring", use_ring },	{ "orbit_value_store", use_value },
	{ "orbit_cache_open", use_cache },	{ "orbit_events_open", use_events },
	{ "orbit_contest_claim", use_contest }, { "orbit_heartbeat", use_heartbeat },
};

/* Free bytes on /dev/shm, or 0 if statvfs fails. */
static uint64_t shm_free(void)
{
	struct statvfs vfs;

	return statvfs("/dev/shm", &vfs) < 0 ? 0 : (uint64_t)vfs.f_bavail * vfs.f_frsize;
}

/* 32 slots: 10 KiB in layout 1, 6 KiB in layout 2; a page holds either header, not the slots. */
#define FIRST_USE_CAPACITY 32

/*
 * Every first use, on a fresh handle of each layout (a fleet of its own: a failed creation
 * leaves the name, sized for its layout): all must return `expect`, and a failure must
 * leave as much room as it found.
 */
static int first_uses_all(const char *name, int expect, int fail_code)
{
	for (size_t l = 0; l < ARRAY_SIZE(layouts); l++) {
		orbit_fleet_options_t opts = options(FIRST_USE_CAPACITY, layouts[l], 0);
		char fleet_l[300];

		snprintf(fleet_l, sizeof(fleet_l), "%s-%zu", name, l);
		for (size_t u = 0; u < ARRAY_SIZE(first_uses); u++) {
			uint64_t room = shm_free();
			orbit_fleet_t *f;
			int ret = orbit_fleet_join_shm(fleet_l, 0, FLEET_SIZE, &opts, &f);

			if (ret == 0) {
				ret = first_uses[u].use(f);
				if (expect == 0)
					orbit_fleet_unlink(f);
				orbit_fleet_leave(f);
			}
			fprintf(stderr, "  %s (payload_max %u): %d\n", first_uses[u].what,
				layouts[l], ret);
			if (ret != expect)
				return fail_code + u;
			if (ret < 0 && shm_free() != room)
				return NOSPACE_KEPT_ROOM + u;
		}
	}
	return NOSPACE_OK;
}

/*
 * One page left on /dev/shm: every first use fails with -ENOSPC; with room, all work,
 * formatting what the failed ones left.
 */
static int first_use_child(void)
{
	struct statvfs vfs;
	char name[300];
	int fd, code;

	if (private_small_shm() < 0)
		return NOSPACE_SETUP;
	fd = open("/dev/shm/filler", O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || statvfs("/dev/shm", &vfs) < 0 ||
	    posix_fallocate(fd, 0, (off_t)(vfs.f_blocks * vfs.f_frsize - PAGE)) != 0 ||
	    shm_free() != PAGE) {
		fprintf(stderr, "cannot leave exactly one page free on /dev/shm\n");
		return NOSPACE_SETUP;
	}
	snprintf(name, sizeof(name), "%s-first", fleet_name);
	fprintf(stderr, "one page free on /dev/shm:\n");
	code = first_uses_all(name, -ENOSPC, NOSPACE_FIRST_USE);
	if (code != NOSPACE_OK)
		return code;
	close(fd);
	unlink("/dev/shm/filler");
	fprintf(stderr, "room again:\n");
	return first_uses_all(name, 0, NOSPACE_ROOM_AGAIN);
}

START_TEST(test_shm_full_first_use)
{
	int code;

	if (geteuid() != 0) {
		fprintf(stderr, "test_shm_full_first_use skipped: needs root\n");
		return;
	}
	code = run_nospace(first_use_child);
	ck_assert_msg(code == NOSPACE_OK,
		      "exit %d: 10 setup, 5x first use x not -ENOSPC, 6x failed first use x kept "
		      "room, 7x first use x failed with room (x indexes first_uses)",
		      code);
}
END_TEST

/* ---- slots corrupted after we attached ---- */

struct slot_case {
	const char *what;
	void (*corrupt)(const struct seg_map *m, uint8_t *slot, uint64_t counter);
	int expect;
};

static void len_over_max(const struct seg_map *m, uint8_t *slot, uint64_t counter)
{
	(void)counter;
	seg_store32(slot, m->layout->slot_len, m->payload_max + 1);
}

static void len_huge(const struct seg_map *m, uint8_t *slot, uint64_t counter)
{
	(void)counter;
	seg_store32(slot, m->layout->slot_len, UINT32_MAX);
}

static void id_other_kind(const struct seg_map *m, uint8_t *slot, uint64_t counter)
{
	seg_store64(slot, m->layout->slot_id, orbit_id_make(KIND + 1, 0, counter));
}

static void id_other_counter(const struct seg_map *m, uint8_t *slot, uint64_t counter)
{
	seg_store64(slot, m->layout->slot_id, orbit_id_make(KIND, 0, counter + 1));
}

static void seq_odd_forever(const struct seg_map *m, uint8_t *slot, uint64_t counter)
{
	seg_store64(slot, m->layout->slot_seq, 2 * counter + 1);
}

static void seq_from_the_future(const struct seg_map *m, uint8_t *slot, uint64_t counter)
{
	seg_store64(slot, m->layout->slot_seq, 2 * (counter + m->capacity) + 2);
}

static void seq_max(const struct seg_map *m, uint8_t *slot, uint64_t counter)
{
	(void)counter;
	seg_store64(slot, m->layout->slot_seq, UINT64_MAX - 1);
}

static void seq_from_the_past(const struct seg_map *m, uint8_t *slot, uint64_t counter)
{
	(void)counter;
	seg_store64(slot, m->layout->slot_seq, 2);
}

static const struct slot_case slot_cases[] = {
	{ "payload_len > payload_max", len_over_max, -EPROTO },
	{ "payload_len 0xFFFFFFFF", len_huge, -EPROTO },
	{ "stored id of another kind", id_other_kind, -EPROTO },
	{ "stored id of another counter", id_other_counter, -EPROTO },
	{ "seq odd forever", seq_odd_forever, -EAGAIN },
	{ "seq from a future lap", seq_from_the_future, -ENOENT },
	{ "seq UINT64_MAX - 1", seq_max, -ENOENT },
	{ "seq of an older lap", seq_from_the_past, -EAGAIN },
};

/* The cursor from 0 to `until`: delivered seqs into out, lost added to *lost. */
static int drain(orbit_ring_t *ring, uint64_t until, uint64_t *lost, uint64_t *out, int max)
{
	static uint8_t buf[BIG_BUF];
	uint64_t deadline = mono_ms() + DRAIN_DEADLINE_MS, cursor = 0, seq;
	orbit_frame_t frame;
	uint16_t writer;
	int n = 0, ret;

	while (cursor < until) {
		ck_assert_msg(mono_ms() < deadline, "cursor stalled at %llu",
			      (unsigned long long)cursor);
		ret = orbit_ring_next(ring, &cursor, &frame, buf, sizeof(buf), lost);
		if (ret == -EAGAIN) {
			usleep(1000);
			continue;
		}
		ck_assert_int_eq(ret, 0);
		ck_assert_int_eq(pattern_verify(ring, &frame, buf, &writer, &seq), 0);
		ck_assert_int_lt(n, max);
		out[n++] = seq;
	}
	ck_assert_uint_eq(cursor, until);
	return n;
}

static void assert_read_fails(orbit_ring_t *ring, uint64_t counter, int expect)
{
	static uint8_t buf[BIG_BUF];
	orbit_frame_t frame;

	ck_assert_int_eq(orbit_ring_read_at(ring, counter, &frame, buf, sizeof(buf)), expect);
	ck_assert_int_eq(
		orbit_ring_read(ring, orbit_id_make(KIND, 0, counter), &frame, buf, sizeof(buf)),
		expect);
}

START_TEST(test_corrupt_slots)
{
	const struct slot_case *sc = &slot_cases[_i / ARRAY_SIZE(layouts)];
	uint32_t payload_max = layouts[_i % ARRAY_SIZE(layouts)];
	orbit_fleet_options_t opts = options(CAPACITY, payload_max, 0);
	static uint8_t buf[BIG_BUF];
	uint64_t lost = 0, seqs[8];
	orbit_frame_t frame;
	orbit_ring_t *ring;
	struct seg_map map;

	fprintf(stderr, "slot case %s (payload_max %u)\n", sc->what, payload_max);
	ck_assert_int_eq(orbit_fleet_join_shm(fleet_name, 0, FLEET_SIZE, &opts, &fleet), 0);
	ck_assert_int_eq(orbit_fleet_ring(fleet, KIND, &ring), 0);
	for (uint64_t c = 0; c < 5; c++)
		ck_assert_int_eq(pattern_write(ring, 0, c, NULL), 0);

	/* A middle frame and the head frame. */
	ck_assert_int_eq(seg_map_open(&map, fleet_name, KIND, CAPACITY, payload_max), 0);
	hostile_tried(2);
	sc->corrupt(&map, seg_slot(&map, 2), 2);
	sc->corrupt(&map, seg_slot(&map, 4), 4);

	assert_read_fails(ring, 2, sc->expect);
	assert_read_fails(ring, 4, sc->expect);
	ck_assert_int_eq(orbit_ring_read_head(ring, &frame, buf, sizeof(buf)), sc->expect);

	/* A cursor counts both lost and goes on to the frames around them. */
	ck_assert_int_eq(pattern_write(ring, 0, 5, NULL), 0);
	ck_assert_int_eq(drain(ring, 6, &lost, seqs, 8), 4);
	ck_assert_uint_eq(lost, 2);
	ck_assert_uint_eq(seqs[0], 0);
	ck_assert_uint_eq(seqs[1], 1);
	ck_assert_uint_eq(seqs[2], 3);
	ck_assert_uint_eq(seqs[3], 5);
	seg_map_close(&map);
}
END_TEST

/* The geometry in the header rewritten after we attached: we keep the one we checked. */
START_TEST(test_header_rewritten_after_attach)
{
	uint32_t payload_max = layouts[_i];
	orbit_fleet_options_t opts = options(CAPACITY, payload_max, 0);
	static uint8_t buf[BIG_BUF];
	const struct seg_layout *layout;
	uint64_t lost = 0, seqs[CAPACITY];
	orbit_frame_t frame;
	orbit_ring_t *ring;
	struct seg_map map;
	uint16_t writer;
	uint64_t seq;

	ck_assert_int_eq(orbit_fleet_join_shm(fleet_name, 0, FLEET_SIZE, &opts, &fleet), 0);
	ck_assert_int_eq(orbit_fleet_ring(fleet, KIND, &ring), 0);
	ck_assert_int_eq(seg_map_open(&map, fleet_name, KIND, CAPACITY, payload_max), 0);
	layout = map.layout;
	hostile_tried(1);
	seg_store64(map.base, layout->hdr_capacity, UINT64_C(1) << 40);
	seg_store8(map.base, layout->hdr_kind, KIND + 1);
	if (layout->hdr_slot_stride != SEG_NO_FIELD) {
		seg_store32(map.base, layout->hdr_payload_capacity, UINT32_MAX);
		seg_store32(map.base, layout->hdr_slot_stride, UINT32_MAX);
	}

	for (uint64_t c = 0; c < 3 * CAPACITY; c++)
		ck_assert_int_eq(pattern_write(ring, 0, c, NULL), 0);
	ck_assert_uint_eq(orbit_ring_capacity(ring), CAPACITY);
	ck_assert_uint_eq(orbit_ring_payload_max(ring), payload_max);
	ck_assert_int_eq(orbit_ring_read_head(ring, &frame, buf, sizeof(buf)), 0);
	ck_assert_int_eq(pattern_verify(ring, &frame, buf, &writer, &seq), 0);
	ck_assert_uint_eq(seq, 3 * CAPACITY - 1);
	ck_assert_int_eq(drain(ring, 3 * CAPACITY, &lost, seqs, CAPACITY), CAPACITY);
	ck_assert_uint_eq(lost, 2 * CAPACITY);
	seg_map_close(&map);
}
END_TEST

/* ---- header words that move, rewritten by a hostile peer ---- */

/* Heads around the ends of the 40-bit id counter and of the 64-bit seq space. */
static const uint64_t hostile_heads[] = {
	0,
	(UINT64_C(1) << 40) - 1,
	UINT64_C(1) << 40,
	(UINT64_C(1) << 40) + 3,
	UINT64_MAX / 2 - 1, /* the largest counter whose committed seq fits in 64 bits */
	UINT64_MAX / 2,
	UINT64_MAX / 2 + 1,
	UINT64_MAX - 1,
	UINT64_MAX,
};

/* A read's result is one the read calls document, and any frame it gives is whole. */
static void assert_read_documented(orbit_ring_t *ring, int ret, const orbit_frame_t *frame,
				   const uint8_t *buf)
{
	uint16_t writer;
	uint64_t seq;

	ck_assert_msg(ret == 0 || ret == -ENOENT || ret == -EAGAIN || ret == -EPROTO,
		      "undocumented read result %d", ret);
	if (ret == 0)
		ck_assert_int_eq(pattern_verify(ring, frame, buf, &writer, &seq), 0);
}

/* A cursor from `from`: it delivers whole frames or says -EAGAIN, within a bounded time. */
static void assert_cursor_documented(orbit_ring_t *ring, uint64_t from)
{
	static uint8_t buf[BIG_BUF];
	uint64_t deadline = mono_ms() + DRAIN_DEADLINE_MS, cursor = from, lost = 0;
	orbit_frame_t frame;
	int ret;

	for (int calls = 0; calls < 4 * CAPACITY + 8; calls++) {
		ret = orbit_ring_next(ring, &cursor, &frame, buf, sizeof(buf), &lost);
		ck_assert_msg(ret == 0 || ret == -EAGAIN, "undocumented next result %d", ret);
		if (ret == -EAGAIN)
			break;
		assert_read_documented(ring, ret, &frame, buf);
		ck_assert_msg(mono_ms() < deadline, "cursor stuck at %llu",
			      (unsigned long long)cursor);
	}
}

START_TEST(test_hostile_head)
{
	uint64_t head = hostile_heads[_i / ARRAY_SIZE(layouts)];
	uint32_t payload_max = layouts[_i % ARRAY_SIZE(layouts)];
	orbit_fleet_options_t opts = options(CAPACITY, payload_max, 0);
	static uint8_t buf[BIG_BUF];
	orbit_frame_t frame;
	orbit_ring_t *ring;
	struct seg_map map;

	ck_assert_int_eq(orbit_fleet_join_shm(fleet_name, 0, FLEET_SIZE, &opts, &fleet), 0);
	ck_assert_int_eq(orbit_fleet_ring(fleet, KIND, &ring), 0);
	for (uint64_t c = 0; c < 5; c++)
		ck_assert_int_eq(pattern_write(ring, 0, c, NULL), 0);
	ck_assert_int_eq(seg_map_open(&map, fleet_name, KIND, CAPACITY, payload_max), 0);
	seg_store64(map.base, map.layout->hdr_write_pos, head);
	hostile_tried(1);
	fprintf(stderr, "head 0x%llx (payload_max %u)\n", (unsigned long long)head, payload_max);

	assert_read_documented(ring, orbit_ring_read_head(ring, &frame, buf, sizeof(buf)), &frame,
			       buf);
	for (uint64_t c = head - 2; c != head + 2; c++) {
		assert_read_documented(ring, orbit_ring_read_at(ring, c, &frame, buf, sizeof(buf)),
				       &frame, buf);
		assert_read_documented(
			ring,
			orbit_ring_read(ring, orbit_id_make(KIND, 0, c), &frame, buf, sizeof(buf)),
			&frame, buf);
	}
	assert_cursor_documented(ring, 0);
	assert_cursor_documented(ring, head - 1);
	/* Writes go on (a write past the end of the seq space is superseded, not stored). */
	for (uint64_t seq = 100; seq < 100 + CAPACITY; seq++)
		ck_assert_int_eq(pattern_write(ring, 0, seq, NULL), 0);
	assert_read_documented(ring, orbit_ring_read_head(ring, &frame, buf, sizeof(buf)), &frame,
			       buf);
	assert_cursor_documented(ring, 0);
	ck_assert_int_eq(orbit_ring_wait(ring, orbit_ring_head(ring), 0), -ETIMEDOUT);
	seg_map_close(&map);
}
END_TEST

/*
 * Garbage in the futex word and the waiter count: a wait still returns (a count a peer
 * wrapped can delay its wake-up to the timeout, never lose it) and writes go on.
 */
START_TEST(test_hostile_wait_words)
{
	orbit_fleet_options_t opts = options(CAPACITY, layouts[_i], 0);
	orbit_ring_t *ring;
	struct seg_map map;
	uint64_t cursor;
	pid_t pid;

	ck_assert_int_eq(orbit_fleet_join_shm(fleet_name, 0, FLEET_SIZE, &opts, &fleet), 0);
	ck_assert_int_eq(orbit_fleet_ring(fleet, KIND, &ring), 0);
	ck_assert_int_eq(seg_map_open(&map, fleet_name, KIND, CAPACITY, layouts[_i]), 0);
	seg_store32(map.base, map.layout->hdr_futex, 0xDEADBEEF);
	seg_store32(map.base, map.layout->hdr_waiters, UINT32_MAX);
	hostile_tried(1);

	cursor = orbit_ring_head(ring);
	ck_assert_int_eq(orbit_ring_wait(ring, cursor, 20), -ETIMEDOUT);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		sleep_ms(50);
		_exit(pattern_write(ring, 0, 0, NULL) == 0 ? 0 : 1);
	}
	ck_assert_int_eq(orbit_ring_wait(ring, cursor, 2000), 0);
	ck_assert_uint_gt(orbit_ring_head(ring), cursor);
	test_reap(pid);
	ck_assert_int_eq(orbit_ring_wait(ring, cursor, -1), 0);
	seg_map_close(&map);
}
END_TEST

/* ---- slots full of garbage, and a seq that never settles, from a hostile peer ---- */

#define GARBAGE_ROUNDS 16
/* No poll call sleeps: each returns sooner than the 200 ms stall bound, even under valgrind. */
#define POLL_MAX_MS 100
/* A write against a seq that never settles still returns: four stall bounds at most, plus
 * the slowness of valgrind; 1.1.0 never returns. */
#define FLIPPED_WRITE_MAX_MS 8000
/* Past this the write is taken for hung: the flipping stops, so it can end. */
#define FLIPPED_HANG_MS 10000

/* A seq a hostile peer may store in the slot that counter c would use. */
static uint64_t garbage_seq(uint64_t c)
{
	switch (test_rng_below(10)) {
	case 0:
		return 0;
	case 1:
		return 2 * c + 1; /* claimed, and no live writer names it */
	case 2:
		return seg_seq_given_up(c);
	case 3:
		return 2 * test_rng_below(c + 1) + 1; /* an older lap's claim, or its own */
	case 4:
		return 2 * (c + 1 + test_rng_below(1000)) + 1; /* a later lap's claim */
	case 5:
		return 2 * test_rng_below(UINT64_MAX / 2); /* any committed counter */
	case 6:
		return 2 * c + 2; /* committed, over fields that may be garbage */
	case 7:
		return seg_seq_given_up(test_rng_below(UINT64_MAX / 4));
	case 8:
		return test_rng_below(UINT64_MAX) ^ (test_rng_below(2) << 63);
	default:
		return UINT64_MAX - test_rng_below(2);
	}
}

/* Garbage in the slot of counter c: its seq, and its stored fields now and then. */
static void plant_garbage(const struct seg_map *m, uint64_t c)
{
	const struct seg_layout *layout = m->layout;
	uint8_t *slot = seg_slot(m, c);

	seg_store64(slot, layout->slot_seq, garbage_seq(c));
	if (test_rng_below(2))
		seg_store64(slot, layout->slot_id,
			    test_rng_below(2) ? orbit_id_make(KIND, 0, c)
					      : test_rng_below(UINT64_MAX));
	if (test_rng_below(2))
		seg_store32(slot, layout->slot_len, (uint32_t)test_rng_below(2 * m->payload_max));
}

/* What a cursor's calls over garbage came to. */
struct garbage_report {
	uint64_t calls;
	uint64_t max_ms;
	uint64_t delivered;
	uint64_t lost;
};

/*
 * One orbit_ring_next over garbage: it answers at once with a documented result, its
 * cursor only moves forward, every counter it passes is delivered or counted lost, and a
 * frame it delivers is one its slot's stored fields allow.
 */
static int next_over_garbage(orbit_ring_t *ring, uint64_t *cursor, struct garbage_report *rep)
{
	static uint8_t buf[BIG_BUF];
	uint64_t from = *cursor, lost = 0, start = mono_ms(), ms;
	orbit_frame_t frame;
	int ret = orbit_ring_next(ring, cursor, &frame, buf, sizeof(buf), &lost);

	ms = mono_ms() - start;
	rep->calls++;
	rep->max_ms = ms > rep->max_ms ? ms : rep->max_ms;
	ck_assert_msg(ms < POLL_MAX_MS, "orbit_ring_next from %" PRIu64 " took %" PRIu64 " ms",
		      from, ms);
	ck_assert_msg(ret == 0 || ret == -EAGAIN, "undocumented next result %d", ret);
	ck_assert_uint_ge(*cursor, from);
	ck_assert_uint_eq(*cursor - from, lost + (ret == 0));
	if (ret == 0) {
		/* An id carries the counter's low bits only. */
		ck_assert_uint_eq(orbit_id_counter(frame.id),
				  orbit_id_counter(orbit_id_make(KIND, 0, *cursor - 1)));
		ck_assert_uint_eq(orbit_id_kind(frame.id), KIND);
		ck_assert_uint_le(frame.len, orbit_ring_payload_max(ring));
		rep->delivered++;
	}
	rep->lost += lost;
	return ret;
}

START_TEST(test_garbage_seqs)
{
	uint32_t payload_max = layouts[_i];
	orbit_fleet_options_t opts = options(CAPACITY, payload_max, 0);
	struct garbage_report rep = { 0 };
	uint64_t head = 0, claimed, cursor, start;
	orbit_ring_t *ring;
	struct seg_map map;

	test_rng_seed("garbage seqs");
	ck_assert_int_eq(orbit_fleet_join_shm(fleet_name, 0, FLEET_SIZE, &opts, &fleet), 0);
	ck_assert_int_eq(orbit_fleet_ring(fleet, KIND, &ring), 0);
	for (uint64_t c = 0; c < CAPACITY; c++)
		ck_assert_int_eq(pattern_write(ring, 0, c, NULL), 0);
	ck_assert_int_eq(seg_map_open(&map, fleet_name, KIND, CAPACITY, payload_max), 0);

	for (uint32_t round = 0; round < GARBAGE_ROUNDS; round++) {
		/* A fresh lap of garbage, at least one claim no live writer names among it. */
		head += CAPACITY + test_rng_below(CAPACITY);
		seg_store64(map.base, map.layout->hdr_write_pos, head);
		for (uint64_t c = head - CAPACITY; c < head; c++)
			plant_garbage(&map, c);
		claimed = head - 1 - test_rng_below(CAPACITY);
		seg_store64(seg_slot(&map, claimed), map.layout->slot_seq, 2 * claimed + 1);
		hostile_tried(CAPACITY);
		/* A cursor from every counter of the lap, from behind it and from past the head. */
		for (uint64_t from = head - CAPACITY - 1; from <= head + 1; from++) {
			cursor = from;
			for (int calls = 0; calls < 4; calls++)
				if (next_over_garbage(ring, &cursor, &rep) == -EAGAIN)
					break;
		}
	}

	/* Past the stall bound each claim no record names is given up: the cursor gets through. */
	start = mono_ms();
	cursor = head - CAPACITY;
	while (cursor < head) {
		ck_assert_msg(mono_ms() - start < DRAIN_DEADLINE_MS, "cursor stuck at %" PRIu64,
			      cursor);
		if (next_over_garbage(ring, &cursor, &rep) == -EAGAIN)
			sleep_ms(10);
	}
	fprintf(stderr,
		"garbage seqs (payload_max %" PRIu32 "): %" PRIu64 " calls, slowest %" PRIu64
		" ms, %" PRIu64 " delivered, %" PRIu64 " lost; the last lap passed in %" PRIu64
		" ms\n",
		payload_max, rep.calls, rep.max_ms, rep.delivered, rep.lost, mono_ms() - start);
	seg_map_close(&map);
}
END_TEST

/* A peer that keeps rewriting one slot's seq between two odd values, as fast as it can. */
struct seq_flipper {
	uint8_t *slot;
	size_t seq_offset;
	uint64_t values[2];
	_Atomic int flipping; /* set once the first value is stored */
	_Atomic int stop;
	uint64_t flips;
};

static void *flip_seq(void *arg)
{
	struct seq_flipper *f = arg;

	seg_store64(f->slot, f->seq_offset, f->values[f->flips++ & 1]);
	atomic_store(&f->flipping, 1);
	while (!atomic_load_explicit(&f->stop, memory_order_relaxed))
		seg_store64(f->slot, f->seq_offset, f->values[f->flips++ & 1]);
	return NULL;
}

struct flipped_write {
	orbit_ring_t *ring;
	uint64_t seq;
	_Atomic int done;
	int ret;
	uint64_t ms;
};

static void *write_flipped(void *arg)
{
	struct flipped_write *w = arg;
	uint64_t start = mono_ms();

	w->ret = pattern_write(w->ring, 0, w->seq, NULL);
	w->ms = mono_ms() - start;
	atomic_store(&w->done, 1);
	return NULL;
}

/*
 * The slot the next write lands on has a seq a peer flips between two older laps'
 * claims, which no record names. The write must still return within a bounded time:
 * written (0), given up (-EBUSY), or given up by someone else (-ESTALE).
 */
START_TEST(test_seq_flipping_under_a_writer)
{
	uint32_t payload_max = layouts[_i];
	orbit_fleet_options_t opts = options(CAPACITY, payload_max, 0);
	struct seq_flipper flipper = { 0 };
	struct flipped_write w = { 0 };
	pthread_t flip_thread, write_thread;
	orbit_ring_t *ring;
	struct seg_map map;
	uint64_t c, start;
	bool hung;

	ck_assert_int_eq(orbit_fleet_join_shm(fleet_name, 0, FLEET_SIZE, &opts, &fleet), 0);
	ck_assert_int_eq(orbit_fleet_ring(fleet, KIND, &ring), 0);
	for (uint64_t n = 0; n < 2 * CAPACITY; n++)
		ck_assert_int_eq(pattern_write(ring, 0, n, NULL), 0);
	ck_assert_int_eq(seg_map_open(&map, fleet_name, KIND, CAPACITY, payload_max), 0);
	c = orbit_ring_head(ring);
	flipper.slot = seg_slot(&map, c);
	flipper.seq_offset = map.layout->slot_seq;
	flipper.values[0] = 2 * (c - CAPACITY) + 1;
	flipper.values[1] = 2 * (c - 2 * CAPACITY) + 1;
	hostile_tried(1);

	ck_assert_int_eq(pthread_create(&flip_thread, NULL, flip_seq, &flipper), 0);
	while (!atomic_load(&flipper.flipping))
		sched_yield();
	w.ring = ring;
	w.seq = c;
	start = mono_ms();
	ck_assert_int_eq(pthread_create(&write_thread, NULL, write_flipped, &w), 0);
	while (!atomic_load(&w.done) && mono_ms() - start < FLIPPED_HANG_MS)
		sleep_ms(10);
	hung = !atomic_load(&w.done);
	atomic_store(&flipper.stop, 1);
	ck_assert_int_eq(pthread_join(flip_thread, NULL), 0);
	ck_assert_int_eq(pthread_join(write_thread, NULL), 0);
	fprintf(stderr,
		"seq flipped under a write (payload_max %" PRIu32 "): %s %d after %" PRIu64
		" ms, %" PRIu64 " flips\n",
		payload_max, hung ? "hung, returned once the flipping stopped:" : "returned", w.ret,
		w.ms, flipper.flips);

	ck_assert_msg(!hung, "orbit_ring_write did not return in %d ms while a peer flipped seq",
		      FLIPPED_HANG_MS);
	ck_assert_uint_lt(w.ms, FLIPPED_WRITE_MAX_MS);
	ck_assert_msg(w.ret == 0 || w.ret == -EBUSY || w.ret == -ESTALE, "write returned %d",
		      w.ret);
	seg_map_close(&map);
}
END_TEST

static Suite *segment_suite(void)
{
	Suite *suite = suite_create("segment");
	TCase *header = tcase_create("header");
	TCase *owner = tcase_create("owner");
	TCase *name = tcase_create("name");
	TCase *full = tcase_create("full");
	TCase *slots = tcase_create("slots");
	TCase *all[] = { header, owner, name, full, slots };

	for (size_t i = 0; i < ARRAY_SIZE(all); i++) {
		tcase_add_checked_fixture(all[i], setup, teardown);
		tcase_set_timeout(all[i], 120);
		suite_add_tcase(suite, all[i]);
	}
	tcase_add_loop_test(header, test_header_mismatch, 0, ARRAY_SIZE(header_cases));
	tcase_add_loop_test(header, test_options_mismatch, 0, ARRAY_SIZE(options_cases));
	tcase_add_loop_test(header, test_planted_header, 0, ARRAY_SIZE(planted_cases));
	tcase_add_loop_test(header, test_truncated, 0, CUTS * ARRAY_SIZE(layouts));
	tcase_add_loop_test(header, test_head_like_layout_1_magic, 0,
			    ARRAY_SIZE(layout_2_payloads));
	/* Root only (CI runs as root); elsewhere it prints why it checked nothing. */
	tcase_add_loop_test(owner, test_other_owner, 0, ARRAY_SIZE(layouts));
	tcase_add_loop_test(owner, test_mode, 0, ARRAY_SIZE(mode_cases));
	tcase_add_loop_test(owner, test_created_by_another_user, 0,
			    ARRAY_SIZE(planted_modes) * ARRAY_SIZE(layouts));
	tcase_add_loop_test(owner, test_joined_by_another_user, 0, ARRAY_SIZE(planted_modes));
	tcase_add_loop_test(owner, test_unlink_leaves_planted, 0, ARRAY_SIZE(layouts));
	tcase_add_loop_test(name, test_symlink_to_file, 0, ARRAY_SIZE(layouts));
	tcase_add_loop_test(name, test_symlink_dangling, 0, ARRAY_SIZE(layouts));
	tcase_add_loop_test(name, test_symlink_to_segment, 0, ARRAY_SIZE(layouts));
	tcase_add_test(name, test_not_a_regular_object);
	/* Root only, as above. */
	tcase_add_test(full, test_shm_full);
	tcase_add_test(full, test_shm_full_first_use);
	tcase_add_loop_test(slots, test_corrupt_slots, 0,
			    ARRAY_SIZE(slot_cases) * ARRAY_SIZE(layouts));
	tcase_add_loop_test(slots, test_header_rewritten_after_attach, 0, ARRAY_SIZE(layouts));
	tcase_add_loop_test(slots, test_hostile_head, 0,
			    ARRAY_SIZE(hostile_heads) * ARRAY_SIZE(layouts));
	tcase_add_loop_test(slots, test_hostile_wait_words, 0, ARRAY_SIZE(layouts));
	tcase_add_loop_test(slots, test_garbage_seqs, 0, ARRAY_SIZE(layouts));
	tcase_add_loop_test(slots, test_seq_flipping_under_a_writer, 0, ARRAY_SIZE(layouts));
	return suite;
}

int main(void)
{
	int status;

	snprintf(run_tag, sizeof(run_tag), "segment%ld", (long)getpid());
	/* Refusals say on stderr which field differed: useful in the test log. */
	setenv("ORBIT_DEBUG", "1", 0);
	/* Shared with the forked tests, which count what they plant. */
	hostile_count = mmap(NULL, sizeof(*hostile_count), PROT_READ | PROT_WRITE,
			     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (hostile_count == MAP_FAILED)
		return EXIT_FAILURE;
	status = test_run_suite(segment_suite(), run_tag);
	fprintf(stderr, "hostile inputs tried: %u\n", atomic_load(hostile_count));
	return status;
}
