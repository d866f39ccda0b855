/* SPDX-License-Identifier: MIT */
/* The operations a peer process performs on a shared fleet (see peer-ops.h). */
#include "peer-ops.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <orbit.h>

#include "frame-pattern.h"
#include "segment-layout.h"
#include "testutil.h"

/* Generous: peers run beside other suites on a loaded two-core machine. */
#define PEER_DEADLINE_MS 30000

static const char *const op_names[] = {
	[PEER_WRITE] = "write",
	[PEER_READ] = "read",
	[PEER_WAIT] = "wait",
	[PEER_RACE] = "race",
};

static int peer_fail(const struct peer_args *args, int status, const char *what, int ret)
{
	fprintf(stderr, "peer %s node %u (pid %ld): %s: %d (%s)\n", op_names[args->op], args->node,
		(long)getpid(), what, ret, ret < 0 ? strerror(-ret) : "-");
	return status;
}

static int await_waiter(const struct peer_args *args)
{
	struct seg_map map;
	int ret = seg_map_open(&map, args->fleet, args->kind, args->capacity, args->payload_max);

	if (ret < 0)
		return ret;
	ret = seg_await_waiter(&map, PEER_DEADLINE_MS);
	seg_map_close(&map);
	return ret;
}

static int do_write(const struct peer_args *args, orbit_ring_t *ring)
{
	orbit_id_t id;
	int ret;

	if (args->await_waiter && (ret = await_waiter(args)) < 0)
		return peer_fail(args, PEER_TIMEOUT, "no waiter on the ring", ret);
	for (uint32_t seq = 0; seq < args->count; seq++) {
		ret = pattern_write(ring, args->node, seq, &id);
		if (ret < 0)
			return peer_fail(args, PEER_CALL, "orbit_ring_write", ret);
		if (orbit_id_node(id) != args->node || orbit_id_kind(id) != args->kind)
			return peer_fail(args, PEER_VERIFY, "minted id", (int)orbit_id_node(id));
	}
	return PEER_OK;
}

/* Takes the next committed frame, sleeping in orbit_ring_wait until one comes. */
static int next_frame(orbit_ring_t *ring, uint64_t *cursor, orbit_frame_t *frame, void *buf,
		      uint64_t *lost)
{
	uint64_t deadline = mono_ms() + PEER_DEADLINE_MS;
	int ret;

	while ((ret = orbit_ring_next(ring, cursor, frame, buf, orbit_ring_payload_max(ring),
				      lost)) == -EAGAIN) {
		if (mono_ms() >= deadline)
			return -ETIMEDOUT;
		ret = orbit_ring_wait(ring, *cursor, 100);
		if (ret < 0 && ret != -ETIMEDOUT)
			return ret;
	}
	return ret;
}

static int do_read(const struct peer_args *args, orbit_ring_t *ring)
{
	static uint8_t buf[1u << 20];
	uint64_t cursor = 0, lost = 0, seq;
	orbit_frame_t frame;
	uint16_t writer;
	int ret;

	for (uint32_t want = 0; want < args->count; want++) {
		ret = next_frame(ring, &cursor, &frame, buf, &lost);
		if (ret < 0)
			return peer_fail(args, ret == -ETIMEDOUT ? PEER_TIMEOUT : PEER_CALL,
					 "orbit_ring_next", ret);
		if (pattern_verify(ring, &frame, buf, &writer, &seq) < 0 ||
		    writer != args->writer || seq != want)
			return peer_fail(args, PEER_VERIFY, "frame differs at seq", (int)want);
	}
	if (lost)
		return peer_fail(args, PEER_VERIFY, "frames lost", (int)lost);
	return PEER_OK;
}

static int do_wait(const struct peer_args *args, orbit_ring_t *ring)
{
	int ret = orbit_ring_wait(ring, args->cursor, args->timeout_ms);

	if (ret < 0)
		return peer_fail(args, ret == -ETIMEDOUT ? PEER_TIMEOUT : PEER_CALL,
				 "orbit_ring_wait", ret);
	if (orbit_ring_head(ring) <= args->cursor)
		return peer_fail(args, PEER_VERIFY, "woken with head not past the cursor", 0);
	return PEER_OK;
}

/* Every member's frame must be in the one segment all members joined. */
static int check_members(const struct peer_args *args, orbit_ring_t *ring)
{
	static uint8_t buf[1u << 20];
	uint64_t seen = 0, seq, deadline = mono_ms() + PEER_DEADLINE_MS;
	orbit_frame_t frame;
	uint16_t writer;
	int ret;

	for (uint64_t counter = 0; counter < args->count; counter++) {
		/* Claimed is not yet committed: a member may still be copying its frame. */
		while ((ret = orbit_ring_read_at(ring, counter, &frame, buf,
						 orbit_ring_payload_max(ring))) == -EAGAIN &&
		       mono_ms() < deadline)
			usleep(1000);
		if (ret < 0)
			return peer_fail(args, PEER_CALL, "orbit_ring_read_at", ret);
		if (pattern_verify(ring, &frame, buf, &writer, &seq) < 0 || seq != 0 ||
		    writer >= args->count || (seen & (1ull << writer)))
			return peer_fail(args, PEER_VERIFY, "member frame at counter",
					 (int)counter);
		seen |= 1ull << writer;
	}
	return PEER_OK;
}

static int do_race(const struct peer_args *args, orbit_ring_t *ring)
{
	uint64_t deadline = mono_ms() + PEER_DEADLINE_MS;
	int ret = pattern_write(ring, args->node, 0, NULL);

	if (ret < 0)
		return peer_fail(args, PEER_CALL, "orbit_ring_write", ret);
	while (orbit_ring_head(ring) < args->count) {
		if (mono_ms() >= deadline)
			return peer_fail(args, PEER_TIMEOUT, "members' frames, head",
					 (int)orbit_ring_head(ring));
		ret = orbit_ring_wait(ring, args->count - 1, 100);
		if (ret < 0 && ret != -ETIMEDOUT)
			return peer_fail(args, PEER_CALL, "orbit_ring_wait", ret);
	}
	return check_members(args, ring);
}

/* Says it is ready, then blocks until every holder of the release pipe's write end closed it. */
static void await_release(const struct peer_args *args)
{
	char byte = 'r';
	ssize_t got;

	if (write(args->ready_fd, &byte, 1) != 1)
		peer_fail(args, PEER_USAGE, "ready pipe", -errno);
	/* Closed, so the test sees EOF instead of waiting forever if a member fails to start. */
	close(args->ready_fd);
	do
		got = read(args->release_fd, &byte, 1);
	while (got > 0 || (got < 0 && errno == EINTR));
}

int peer_run(const struct peer_args *args)
{
	orbit_fleet_options_t opts = ORBIT_FLEET_OPTIONS_INIT;
	orbit_fleet_t *fleet;
	orbit_ring_t *ring;
	int ret, status;

	if (args->op == PEER_RACE)
		await_release(args);
	opts.capacity = args->capacity;
	opts.payload_max = args->payload_max;
	ret = orbit_fleet_join_shm(args->fleet, args->node, PEER_FLEET_SIZE, &opts, &fleet);
	if (ret < 0)
		return peer_fail(args, PEER_JOIN, "orbit_fleet_join_shm", ret);
	ret = orbit_fleet_ring(fleet, args->kind, &ring);
	if (ret < 0) {
		orbit_fleet_leave(fleet);
		return peer_fail(args, PEER_RING, "orbit_fleet_ring", ret);
	}
	switch (args->op) {
	case PEER_WRITE:
		status = do_write(args, ring);
		break;
	case PEER_READ:
		status = do_read(args, ring);
		break;
	case PEER_WAIT:
		status = do_wait(args, ring);
		break;
	default:
		status = do_race(args, ring);
		break;
	}
	orbit_fleet_leave(fleet);
	return status;
}

void peer_args_to_argv(const struct peer_args *args, const char *program, char store[][256],
		       char *argv[])
{
	int n = 0;

	snprintf(store[n++], 256, "%s", program);
	snprintf(store[n++], 256, "%s", op_names[args->op]);
	snprintf(store[n++], 256, "%s", args->fleet);
	snprintf(store[n++], 256, "%u", args->kind);
	snprintf(store[n++], 256, "%" PRIu32, args->capacity);
	snprintf(store[n++], 256, "%" PRIu32, args->payload_max);
	snprintf(store[n++], 256, "%u", args->node);
	snprintf(store[n++], 256, "%u", args->writer);
	snprintf(store[n++], 256, "%" PRIu32, args->count);
	snprintf(store[n++], 256, "%" PRIu64, args->cursor);
	snprintf(store[n++], 256, "%d", args->timeout_ms);
	snprintf(store[n++], 256, "%d", args->await_waiter);
	snprintf(store[n++], 256, "%d", args->ready_fd);
	snprintf(store[n++], 256, "%d", args->release_fd);
	for (int i = 0; i < n; i++)
		argv[i] = store[i];
	argv[n] = NULL;
}

static int parse_number(const char *text, long long min, long long max, long long *value)
{
	char *end;

	errno = 0;
	*value = strtoll(text, &end, 10);
	return errno || end == text || *end || *value < min || *value > max ? -1 : 0;
}

/* Ranges of the numeric fields after the program, op and fleet, in argv order. */
static const long long field_limits[][2] = {
	{ 0, UINT8_MAX },  { 0, UINT32_MAX }, { 0, UINT32_MAX }, { 0, UINT16_MAX },
	{ 0, UINT16_MAX }, { 0, UINT32_MAX }, { 0, INT64_MAX },	 { -1, INT32_MAX },
	{ 0, 1 },	   { -1, INT32_MAX }, { -1, INT32_MAX },
};
#define FIELDS ((int)(sizeof(field_limits) / sizeof(field_limits[0])))
_Static_assert(PEER_ARGC == 3 + FIELDS, "argv layout and PEER_ARGC disagree");

int peer_args_from_argv(int argc, char **argv, struct peer_args *args)
{
	long long v[FIELDS];
	int op;

	if (argc != PEER_ARGC)
		return -1;
	for (op = 0; op <= PEER_RACE; op++)
		if (strcmp(argv[1], op_names[op]) == 0)
			break;
	if (op > PEER_RACE)
		return -1;
	for (int i = 0; i < FIELDS; i++)
		if (parse_number(argv[3 + i], field_limits[i][0], field_limits[i][1], &v[i]) < 0)
			return -1;
	*args = (struct peer_args){
		.op = (enum peer_op)op,
		.fleet = argv[2],
		.kind = (uint8_t)v[0],
		.capacity = (uint32_t)v[1],
		.payload_max = (uint32_t)v[2],
		.node = (uint16_t)v[3],
		.writer = (uint16_t)v[4],
		.count = (uint32_t)v[5],
		.cursor = (uint64_t)v[6],
		.timeout_ms = (int)v[7],
		.await_waiter = (int)v[8],
		.ready_fd = (int)v[9],
		.release_fd = (int)v[10],
	};
	return 0;
}
