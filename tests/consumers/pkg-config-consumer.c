/* SPDX-License-Identifier: MIT */
/*
 * A program built against an installed liborbit with `pkg-config --cflags --libs liborbit`:
 * the installed header and library agree on the version, and a shared-memory fleet works.
 * Prints the library's version on its first line; exit status 0 when every check passed.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <orbit.h>

#define KIND 7

static int fail(const char *what, int ret)
{
	fprintf(stderr, "FAIL: %s: %d (%s)\n", what, ret, ret < 0 ? strerror(-ret) : "-");
	return 1;
}

/* Writes one frame and reads it back at the head. */
static int round_trip(orbit_fleet_t *fleet)
{
	static const char hello[] = "hello from an installed liborbit";
	char buf[sizeof(hello)];
	orbit_frame_t frame;
	orbit_ring_t *ring;
	orbit_id_t id;
	int ret;

	ret = orbit_fleet_ring(fleet, KIND, &ring);
	if (ret < 0)
		return fail("orbit_fleet_ring", ret);
	ret = orbit_ring_write(ring, 1, 2, hello, sizeof(hello), &id);
	if (ret < 0)
		return fail("orbit_ring_write", ret);
	ret = orbit_ring_read_head(ring, &frame, buf, sizeof(buf));
	if (ret < 0)
		return fail("orbit_ring_read_head", ret);
	if (frame.id != id || frame.ver != 2 || frame.kind != 1 || frame.len != sizeof(hello) ||
	    memcmp(buf, hello, sizeof(hello)) != 0)
		return fail("the frame read back differs", 0);
	return 0;
}

int main(void)
{
	char header_version[32], name[64];
	orbit_fleet_t *fleet;
	int status, ret;

	printf("%s\n", orbit_version());
	snprintf(header_version, sizeof(header_version), "%d.%d.%d", ORBIT_VERSION_MAJOR,
		 ORBIT_VERSION_MINOR, ORBIT_VERSION_PATCH);
	if (strcmp(orbit_version(), header_version) != 0) {
		fprintf(stderr, "FAIL: library %s, header %s\n", orbit_version(), header_version);
		return 1;
	}

	snprintf(name, sizeof(name), "consumer-pc-%ld", (long)getpid());
	ret = orbit_fleet_join_shm(name, 0, 1, NULL, &fleet);
	if (ret < 0)
		return fail("orbit_fleet_join_shm", ret);
	status = round_trip(fleet);
	ret = orbit_fleet_unlink(fleet);
	if (ret != 1)
		status = fail("orbit_fleet_unlink removed", ret);
	orbit_fleet_leave(fleet);
	return status;
}
