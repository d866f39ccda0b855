/* SPDX-License-Identifier: MIT */
/*
 * Hostile and mismatching segments: what another process, user or version may leave
 * under a ring's name, or write into its slots after we attached. Each gives its
 * documented error and never a crash, a hang or a read past the mapping.
 */
#include <orbit.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
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

static const uint32_t layouts[] = { 256, 100 };

static char run_tag[32];
static char fleet_name[256];
static orbit_fleet_t *fleet;

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

static void snapshot_take(struct snapshot *snap)
{
	char path[512];
	int fd;

	segment_path(path, sizeof(path));
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &snap->st), 0);
	snap->bytes = malloc((size_t)snap->st.st_size + 1);
	ck_assert_ptr_nonnull(snap->bytes);
	ck_assert_int_eq(pread(fd, snap->bytes, (size_t)snap->st.st_size, 0), snap->st.st_size);
	close(fd);
}

static void assert_unchanged(struct snapshot *before)
{
	struct snapshot after;

	snapshot_take(&after);
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

	snapshot_take(&snap);
	ck_assert_int_eq(attach(opts), expect);
	assert_unchanged(&snap);
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
	fprintf(stderr, "header case %s (payload_max %u):\n", hc->what, hc->payload_max);
	assert_attach_refused(&opts, -EPROTO);
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

	ck_assert_int_eq(attach(&opts), -ELOOP);

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

/* ---- a full /dev/shm ---- */

enum { NOSPACE_OK, NOSPACE_SETUP = 10, NOSPACE_BIG = 20, NOSPACE_AGAIN = 30, NOSPACE_SMALL = 40 };

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

/* In a private mount namespace, with a 64 KiB tmpfs on /dev/shm. */
static int nospace_child(void)
{
	char big[300], small[300];
	int ret, again;

	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("tmpfs", "/dev/shm", "tmpfs", 0, "size=64k") < 0) {
		perror("private /dev/shm");
		return NOSPACE_SETUP;
	}
	for (int i = 0; i < TEST_ARRAY_SIZE(layouts); i++) {
		snprintf(big, sizeof(big), "%s-big%d", fleet_name, i);
		snprintf(small, sizeof(small), "%s-small%d", fleet_name, i);
		/* 1024 slots: 320 KiB in layout 1, 192 KiB in layout 2 with 100-byte payloads. */
		ret = try_ring(1024, layouts[i], big);
		/* The failed creation leaves nothing that turns the next try into another error. */
		again = try_ring(1024, layouts[i], big);
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

START_TEST(test_shm_full)
{
	int status;
	pid_t pid;

	if (geteuid() != 0) {
		fprintf(stderr, "test_shm_full skipped: mounting a small /dev/shm needs root\n");
		return;
	}
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(nospace_child());
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(!WIFSIGNALED(status), "the process died of signal %d (SIGBUS is %d)",
		      WIFSIGNALED(status) ? WTERMSIG(status) : 0, SIGBUS);
	ck_assert_msg(WEXITSTATUS(status) == NOSPACE_OK,
		      "exit %d: 10 no namespace, 2x big ring not -ENOSPC, 3x retry not -ENOSPC, "
		      "4x small ring failed (x = layout index)",
		      WEXITSTATUS(status));
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
	uint64_t deadline = test_now_ms() + DRAIN_DEADLINE_MS, cursor = 0, seq;
	orbit_frame_t frame;
	uint16_t writer;
	int n = 0, ret;

	while (cursor < until) {
		ck_assert_msg(test_now_ms() < deadline, "cursor stalled at %llu",
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
	const struct slot_case *sc = &slot_cases[_i / TEST_ARRAY_SIZE(layouts)];
	uint32_t payload_max = layouts[_i % TEST_ARRAY_SIZE(layouts)];
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

static Suite *segment_suite(void)
{
	Suite *suite = suite_create("segment");
	TCase *header = tcase_create("header");
	TCase *owner = tcase_create("owner");
	TCase *name = tcase_create("name");
	TCase *full = tcase_create("full");
	TCase *slots = tcase_create("slots");
	TCase *all[] = { header, owner, name, full, slots };

	for (int i = 0; i < TEST_ARRAY_SIZE(all); i++) {
		tcase_add_checked_fixture(all[i], setup, teardown);
		tcase_set_timeout(all[i], 120);
		suite_add_tcase(suite, all[i]);
	}
	tcase_add_loop_test(header, test_header_mismatch, 0, TEST_ARRAY_SIZE(header_cases));
	tcase_add_loop_test(header, test_options_mismatch, 0, TEST_ARRAY_SIZE(options_cases));
	/* Root only (CI runs as root); elsewhere it prints why it checked nothing. */
	tcase_add_loop_test(owner, test_other_owner, 0, TEST_ARRAY_SIZE(layouts));
	tcase_add_loop_test(owner, test_mode, 0, TEST_ARRAY_SIZE(mode_cases));
	tcase_add_loop_test(name, test_symlink_to_file, 0, TEST_ARRAY_SIZE(layouts));
	tcase_add_loop_test(name, test_symlink_dangling, 0, TEST_ARRAY_SIZE(layouts));
	tcase_add_test(name, test_not_a_regular_object);
	/* Root only, as above. */
	tcase_add_test(full, test_shm_full);
	tcase_add_loop_test(slots, test_corrupt_slots, 0,
			    TEST_ARRAY_SIZE(slot_cases) * TEST_ARRAY_SIZE(layouts));
	tcase_add_loop_test(slots, test_header_rewritten_after_attach, 0, TEST_ARRAY_SIZE(layouts));
	return suite;
}

int main(void)
{
	snprintf(run_tag, sizeof(run_tag), "segment%ld", (long)getpid());
	/* Refusals say on stderr which field differed: useful in the test log. */
	setenv("ORBIT_DEBUG", "1", 0);
	return test_run_suite(segment_suite(), run_tag);
}
