/* SPDX-License-Identifier: MIT */
/*
 * Segment attach and validation: any bytes, at any size, planted as a fleet's ring
 * segment in /dev/shm as another process could leave them, then probed, joined and, when
 * joined, read. No object may crash the library or make it touch pages past the object's
 * end, and a probe that succeeds names options that join.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz-util.h"
#include "inputs.h"
#include "names.h"

/* Objects up to this size; they stay sparse except for the input's bytes. */
#define OBJECT_SIZE_MAX (256u * 1024)
/* The join's own geometry stays small too: it formats an object it finds unformatted. */
#define CAPACITY_LOG2_MAX 10
#define PAYLOAD_MAX_MAX	  2048

static const mode_t object_modes[] = { 0600, 0640, 0660, 0604, 0666 };
static const uint32_t fleet_modes[] = { 0, 0600, 0640, 0660 };

static void plant(const char *fleet, const struct segment_input *seg, size_t size)
{
	size_t len = seg->len < size ? seg->len : size;
	char name[512];
	int fd;

	seg_shm_name(name, sizeof(name), fleet, seg->kind);
	fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	FUZZ_CHECK(fd >= 0, "shm_open %s: %d", name, errno);
	FUZZ_CHECK(fchmod(fd, object_modes[seg->object_mode % ARRAY_SIZE(object_modes)]) == 0);
	FUZZ_CHECK(ftruncate(fd, (off_t)size) == 0);
	FUZZ_CHECK(pwrite(fd, seg->bytes, len, 0) == (ssize_t)len);
	close(fd);
}

static bool probe_result_valid(int r)
{
	/* Never -ENOENT (it exists), -EPERM (ours) or -ELOOP (no symlink). */
	return r == 0 || r == -EAGAIN || r == -EPROTO || r == -EACCES;
}

static bool ring_result_valid(int r)
{
	return r == 0 || r == -EPROTO || r == -EACCES;
}

static void read_ring(const char *fleet, orbit_ring_t *ring, const struct fuzz_reads *reads)
{
	struct seg_map map;

	FUZZ_CHECK(seg_map_open(&map, fleet, orbit_ring_kind(ring), orbit_ring_capacity(ring),
				orbit_ring_payload_max(ring)) == 0);
	fuzz_ring_exercise(ring, &map, reads);
	seg_map_close(&map);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = fuzz_input_init(data, size);
	orbit_fleet_options_t probed = ORBIT_FLEET_OPTIONS_INIT, opts = ORBIT_FLEET_OPTIONS_INIT;
	struct segment_input seg;
	orbit_fleet_t *fleet;
	orbit_ring_t *ring;
	char name[64];
	int probe, r;

	segment_input_take(&in, &seg);
	test_fleet_name(name, sizeof(name), "fz-segment");
	plant(name, &seg, seg.object_size % (OBJECT_SIZE_MAX + 1));

	probe = orbit_fleet_probe(name, seg.kind, &probed);
	FUZZ_CHECK(probe_result_valid(probe), "probe = %d", probe);
	if (probe == 0 && seg.join_probed) {
		opts = probed;
	} else {
		opts.capacity = 1u << (seg.capacity_log2 % (CAPACITY_LOG2_MAX + 1));
		opts.payload_max = seg.payload_max % (PAYLOAD_MAX_MAX + 1);
		opts.mode = fleet_modes[seg.fleet_mode % ARRAY_SIZE(fleet_modes)];
	}

	r = orbit_fleet_join_shm(name, 0, 1, &opts, &fleet);
	FUZZ_CHECK(r == 0 || r == -EINVAL, "join = %d", r);
	if (r == 0) {
		r = orbit_fleet_ring(fleet, seg.kind, &ring);
		FUZZ_CHECK(ring_result_valid(r), "ring = %d", r);
		if (r == 0)
			read_ring(name, ring, &seg.reads);
		orbit_fleet_leave(fleet);
	}
	/* orbit_fleet_probe(3): the options it fills in are exactly the ones that join. */
	FUZZ_CHECK(r == 0 || !(probe == 0 && seg.join_probed), "the probed options fail: %d", r);
	fuzz_unlink_segment(name, seg.kind);
	fuzz_unlink_tables(name);
	return 0;
}
