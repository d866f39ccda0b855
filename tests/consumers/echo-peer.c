/* SPDX-License-Identifier: MIT */
/*
 * The C process of the Python consumer test. It finds the options of the request ring with
 * orbit_fleet_probe, joins the fleet as NODE, reads COUNT requests in order (frame kind 1,
 * version 0..COUNT-1, all from WRITER) and answers each on ring REQUEST_KIND + 1 with a frame
 * of the same frame kind and version whose payload is "echo:" and the request's payload.
 *
 * Usage: echo-peer FLEET REQUEST_KIND NODE WRITER COUNT; exit status 0 once all are answered.
 */
/* clock_gettime: this program is also built outside the project, with plain -std=c11. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <orbit.h>

#define FLEET_SIZE    4
#define REQUEST_FRAME 1
#define ECHO_PREFIX   "echo:"
/* Generous: the test may share two cores with every other suite. */
#define DEADLINE_MS 60000

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int fail(const char *what, long value)
{
	fprintf(stderr, "echo-peer: %s: %ld%s%s\n", what, value, value < 0 ? " " : "",
		value < 0 ? strerror((int)-value) : "");
	return 1;
}

static int parse(const char *text, unsigned long max, unsigned long *value)
{
	char *end;

	errno = 0;
	*value = strtoul(text, &end, 10);
	return errno || end == text || *end || *value > max ? -1 : 0;
}

/* The next committed request, sleeping in orbit_ring_wait until one comes. */
static int next_request(orbit_ring_t *ring, uint64_t *cursor, orbit_frame_t *frame, void *buf,
			size_t size, uint64_t deadline)
{
	uint64_t lost = 0;
	int ret;

	while ((ret = orbit_ring_next(ring, cursor, frame, buf, size, &lost)) == -EAGAIN) {
		if (now_ms() >= deadline)
			return -ETIMEDOUT;
		ret = orbit_ring_wait(ring, *cursor, 100);
		if (ret < 0 && ret != -ETIMEDOUT)
			return ret;
	}
	return lost ? -ENODATA : ret;
}

static int serve(orbit_ring_t *requests, orbit_ring_t *replies, unsigned long writer,
		 unsigned long count)
{
	uint32_t max = orbit_ring_payload_max(requests);
	char *buf = malloc(max), *reply = malloc(sizeof(ECHO_PREFIX) - 1 + max);
	uint64_t deadline = now_ms() + DEADLINE_MS, cursor = 0;
	orbit_frame_t frame;
	int ret = 0;

	if (!buf || !reply) {
		ret = fail("malloc", -ENOMEM);
		goto out;
	}
	memcpy(reply, ECHO_PREFIX, sizeof(ECHO_PREFIX) - 1);
	for (unsigned long seq = 0; seq < count; seq++) {
		ret = next_request(requests, &cursor, &frame, buf, max, deadline);
		if (ret < 0) {
			ret = fail("request", ret);
			goto out;
		}
		if (orbit_id_node(frame.id) != writer || frame.ver != seq ||
		    frame.kind != REQUEST_FRAME) {
			ret = fail("unexpected request, version", (long)frame.ver);
			goto out;
		}
		memcpy(reply + sizeof(ECHO_PREFIX) - 1, buf, frame.len);
		ret = orbit_ring_write(replies, frame.kind, frame.ver, reply,
				       sizeof(ECHO_PREFIX) - 1 + frame.len, NULL);
		if (ret < 0) {
			ret = fail("orbit_ring_write", ret);
			goto out;
		}
	}
out:
	free(buf);
	free(reply);
	return ret;
}

int main(int argc, char **argv)
{
	orbit_fleet_options_t opts = ORBIT_FLEET_OPTIONS_INIT;
	unsigned long kind, node, writer, count;
	orbit_ring_t *requests, *replies;
	orbit_fleet_t *fleet;
	int ret;

	if (argc != 6 || parse(argv[2], UINT8_MAX - 1, &kind) < 0 ||
	    parse(argv[3], FLEET_SIZE - 1, &node) < 0 ||
	    parse(argv[4], FLEET_SIZE - 1, &writer) < 0 || parse(argv[5], UINT32_MAX, &count) < 0) {
		fprintf(stderr, "usage: %s FLEET REQUEST_KIND NODE WRITER COUNT\n", argv[0]);
		return 2;
	}
	ret = orbit_fleet_probe(argv[1], (uint8_t)kind, &opts);
	if (ret < 0)
		return fail("orbit_fleet_probe", ret);
	ret = orbit_fleet_join_shm(argv[1], (uint16_t)node, FLEET_SIZE, &opts, &fleet);
	if (ret < 0)
		return fail("orbit_fleet_join_shm", ret);
	ret = orbit_fleet_ring(fleet, (uint8_t)kind, &requests);
	if (ret == 0)
		ret = orbit_fleet_ring(fleet, (uint8_t)(kind + 1), &replies);
	if (ret < 0)
		ret = fail("orbit_fleet_ring", ret);
	else
		ret = serve(requests, replies, writer, count);
	orbit_fleet_leave(fleet);
	return ret ? 1 : 0;
}
