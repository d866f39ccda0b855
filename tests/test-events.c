/* SPDX-License-Identifier: MIT */
/*
 * The event bus: publish/poll rules, topic filter, lag, the wire frame, cross-process
 * wait, and a subscriber idle behind a publisher stopped or killed mid-frame.
 */
#include <orbit.h>

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "copy-trap.h"
#include "fixture.h"
#include "segment-layout.h"
#include "testutil.h"

#define EVENT_FRAME  1
#define EVENT_HEADER 12
#define BIG_PAYLOAD  70000 /* layout 2 slots larger than the u16 payload_len can describe */

struct bus {
	char name[128];
	orbit_fleet_t *fleet;
	orbit_events_t *events;
	orbit_ring_t *ring; /* the events ring, for raw frames */
};

static void bus_attach(struct bus *bus)
{
	ck_assert_int_eq(orbit_events_open(bus->fleet, ORBIT_KIND_EVENTS, &bus->events), 0);
	ck_assert_int_eq(orbit_fleet_ring(bus->fleet, ORBIT_KIND_EVENTS, &bus->ring), 0);
}

/* A process-local fleet of one node with its events handle. */
static void bus_local(struct bus *bus, uint32_t capacity, uint32_t payload_max)
{
	orbit_fleet_options_t opts = fixture_options(capacity, payload_max);

	test_fleet_name(bus->name, sizeof(bus->name), test_tag());
	ck_assert_int_eq(orbit_fleet_join(bus->name, 0, 1, &opts, &bus->fleet), 0);
	bus_attach(bus);
}

/* Node `node` of a shared fleet of `size` nodes, under an existing name. */
static int bus_join_shm(struct bus *bus, uint16_t node, uint16_t size)
{
	orbit_fleet_options_t opts = fixture_options(1024, 0);
	int r;

	r = orbit_fleet_join_shm(bus->name, node, size, &opts, &bus->fleet);
	if (r < 0)
		return r;
	r = orbit_events_open(bus->fleet, ORBIT_KIND_EVENTS, &bus->events);
	if (r < 0)
		return r;
	return orbit_fleet_ring(bus->fleet, ORBIT_KIND_EVENTS, &bus->ring);
}

static void bus_close(struct bus *bus)
{
	orbit_events_close(bus->events);
	orbit_fleet_leave(bus->fleet);
}

static void publish_u32(struct bus *bus, const char *topic, uint32_t value)
{
	ck_assert_int_eq(orbit_events_publish(bus->events, topic, &value, sizeof(value)), 0);
}

/* Polls one event carrying a u32 and returns the value. */
static uint32_t poll_u32(struct bus *bus, uint64_t *cursor, const char *topic, uint64_t *lagged)
{
	orbit_event_t event;
	uint32_t value = 0;

	ck_assert_int_eq(orbit_events_poll(bus->events, cursor, topic, &event, &value,
					   sizeof(value), lagged),
			 0);
	ck_assert_uint_eq(event.len, sizeof(value));
	return value;
}

static void assert_drained(struct bus *bus, uint64_t *cursor, const char *topic)
{
	orbit_event_t event;
	uint8_t buf[16];

	ck_assert_int_eq(
		orbit_events_poll(bus->events, cursor, topic, &event, buf, sizeof(buf), NULL),
		-EAGAIN);
	ck_assert_uint_eq(*cursor, orbit_events_head(bus->events));
}

/* Writes the §6 event layout with each length field given separately, so tests can lie. */
static size_t encode_event(uint8_t *out, uint16_t topic_len, uint16_t payload_len, uint64_t ts,
			   const void *body, size_t body_len)
{
	out[0] = (uint8_t)topic_len;
	out[1] = (uint8_t)(topic_len >> 8);
	out[2] = (uint8_t)payload_len;
	out[3] = (uint8_t)(payload_len >> 8);
	for (int i = 0; i < 8; i++)
		out[4 + i] = (uint8_t)(ts >> (8 * i));
	if (body_len)
		memcpy(out + EVENT_HEADER, body, body_len);
	return EVENT_HEADER + body_len;
}

static uint64_t read_le(const uint8_t *p, int bytes)
{
	uint64_t v = 0;

	for (int i = bytes - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

START_TEST(test_open_close_arguments)
{
	struct bus bus;
	orbit_events_t *events = NULL;

	bus_local(&bus, 8, 0);
	ck_assert_int_eq(orbit_events_open(NULL, ORBIT_KIND_EVENTS, &events), -EINVAL);
	ck_assert_ptr_null(events);
	ck_assert_int_eq(orbit_events_open(bus.fleet, ORBIT_KIND_EVENTS, NULL), -EINVAL);
	orbit_events_close(NULL);
	ck_assert_uint_eq(orbit_events_head(NULL), 0);
	ck_assert_uint_eq(orbit_events_oldest(NULL), 0);
	ck_assert_int_eq(orbit_events_wait(NULL, 0, 0), -EINVAL);
	bus_close(&bus);
}
END_TEST

START_TEST(test_publish_arguments)
{
	char long_topic[257];
	struct bus bus;

	memset(long_topic, 'x', 256);
	long_topic[256] = '\0';
	bus_local(&bus, 8, 0);
	ck_assert_int_eq(orbit_events_publish(NULL, "t", "x", 1), -EINVAL);
	ck_assert_int_eq(orbit_events_publish(bus.events, NULL, "x", 1), -EINVAL);
	ck_assert_int_eq(orbit_events_publish(bus.events, "", "x", 1), -EINVAL);
	ck_assert_int_eq(orbit_events_publish(bus.events, long_topic, NULL, 0), -EINVAL);
	ck_assert_int_eq(orbit_events_publish(bus.events, "t", NULL, 1), -EINVAL);
	ck_assert_uint_eq(orbit_events_head(bus.events), 0);
	ck_assert_int_eq(orbit_events_publish(bus.events, "t", NULL, 0), 0);
	ck_assert_uint_eq(orbit_events_head(bus.events), 1);
	bus_close(&bus);
}
END_TEST

START_TEST(test_publish_longest_topic)
{
	char topic[256];
	orbit_event_t event;
	uint64_t cursor = 0;
	struct bus bus;

	memset(topic, 'q', 255);
	topic[255] = '\0';
	bus_local(&bus, 8, 512);
	ck_assert_int_eq(orbit_events_publish(bus.events, topic, NULL, 0), 0);
	ck_assert_int_eq(orbit_events_poll(bus.events, &cursor, topic, &event, NULL, 0, NULL), 0);
	ck_assert_uint_eq(event.topic_len, 255);
	ck_assert_str_eq(event.topic, topic);
	ck_assert_uint_eq(event.len, 0);
	bus_close(&bus);
}
END_TEST

START_TEST(test_publish_too_big_writes_nothing)
{
	uint8_t payload[256] = { 0 };
	char topic[256];
	struct bus bus;

	memset(topic, 'q', 255);
	topic[255] = '\0';
	bus_local(&bus, 8, 256);
	/* 12 + 1 + 243 fills a 256-byte slot exactly. */
	ck_assert_int_eq(orbit_events_publish(bus.events, "t", payload, 243), 0);
	ck_assert_int_eq(orbit_events_publish(bus.events, "t", payload, 244), -EMSGSIZE);
	ck_assert_int_eq(orbit_events_publish(bus.events, "tt", payload, 243), -EMSGSIZE);
	ck_assert_int_eq(orbit_events_publish(bus.events, topic, NULL, 0), -EMSGSIZE);
	ck_assert_uint_eq(orbit_events_head(bus.events), 1);
	bus_close(&bus);
}
END_TEST

/* Slots larger than 64 KiB still carry at most a u16 payload length on the wire. */
START_TEST(test_publish_payload_over_u16)
{
	uint8_t *payload = malloc(UINT16_MAX + 1);
	uint8_t *buf = malloc(UINT16_MAX + 1);
	orbit_event_t event;
	uint64_t cursor = 0;
	struct bus bus;

	ck_assert_ptr_nonnull(payload);
	ck_assert_ptr_nonnull(buf);
	for (size_t i = 0; i <= UINT16_MAX; i++)
		payload[i] = (uint8_t)(i * 7);
	bus_local(&bus, 8, BIG_PAYLOAD);
	ck_assert_int_eq(orbit_events_publish(bus.events, "big", payload, UINT16_MAX + 1),
			 -EMSGSIZE);
	ck_assert_int_eq(orbit_events_publish(bus.events, "big", payload, UINT16_MAX), 0);
	ck_assert_int_eq(
		orbit_events_poll(bus.events, &cursor, "big", &event, buf, UINT16_MAX + 1, NULL),
		0);
	ck_assert_uint_eq(event.len, UINT16_MAX);
	ck_assert_mem_eq(buf, payload, UINT16_MAX);
	ck_assert_uint_eq(cursor, 1);
	bus_close(&bus);
	free(payload);
	free(buf);
}
END_TEST

START_TEST(test_poll_arguments)
{
	char long_topic[257];
	orbit_event_t event;
	uint64_t cursor = 0;
	uint8_t buf[8];
	struct bus bus;

	memset(long_topic, 'x', 256);
	long_topic[256] = '\0';
	bus_local(&bus, 8, 0);
	publish_u32(&bus, "t", 1);
	ck_assert_int_eq(orbit_events_poll(NULL, &cursor, NULL, &event, buf, 8, NULL), -EINVAL);
	ck_assert_int_eq(orbit_events_poll(bus.events, NULL, NULL, &event, buf, 8, NULL), -EINVAL);
	ck_assert_int_eq(orbit_events_poll(bus.events, &cursor, NULL, NULL, buf, 8, NULL), -EINVAL);
	ck_assert_int_eq(orbit_events_poll(bus.events, &cursor, NULL, &event, NULL, 8, NULL),
			 -EINVAL);
	ck_assert_int_eq(orbit_events_poll(bus.events, &cursor, "", &event, buf, 8, NULL), -EINVAL);
	ck_assert_int_eq(orbit_events_poll(bus.events, &cursor, long_topic, &event, buf, 8, NULL),
			 -EINVAL);
	ck_assert_uint_eq(cursor, 0);
	bus_close(&bus);
}
END_TEST

START_TEST(test_round_trip_fields)
{
	static const char *const topics[] = { "alpha", "beta", "alpha" };
	static const char *const payloads[] = { "one", "two", "" };
	orbit_event_t event;
	uint64_t cursor = 0, lagged = 0, before, after;
	char buf[16];
	struct bus bus;

	bus_local(&bus, 8, 0);
	before = unix_ms();
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(orbit_events_publish(bus.events, topics[i], payloads[i],
						      strlen(payloads[i])),
				 0);
	after = unix_ms();

	for (int i = 0; i < 3; i++) {
		memset(buf, 0, sizeof(buf));
		ck_assert_int_eq(orbit_events_poll(bus.events, &cursor, NULL, &event, buf,
						   sizeof(buf), &lagged),
				 0);
		ck_assert_uint_eq(orbit_id_kind(event.id), ORBIT_KIND_EVENTS);
		ck_assert_uint_eq(orbit_id_node(event.id), 0);
		ck_assert_uint_eq(orbit_id_counter(event.id), i);
		ck_assert_uint_ge(event.timestamp_ms, before);
		ck_assert_uint_le(event.timestamp_ms, after);
		ck_assert_str_eq(event.topic, topics[i]);
		ck_assert_uint_eq(event.topic_len, strlen(topics[i]));
		ck_assert_uint_eq(event.len, strlen(payloads[i]));
		ck_assert_str_eq(buf, payloads[i]);
		ck_assert_uint_eq(cursor, i + 1);
	}
	ck_assert_uint_eq(lagged, 0);
	assert_drained(&bus, &cursor, NULL);
	bus_close(&bus);
}
END_TEST

START_TEST(test_topic_filter_advances_cursor)
{
	uint64_t cursor = 0, lagged = 0;
	struct bus bus;

	bus_local(&bus, 64, 0);
	for (uint32_t i = 0; i < 5; i++)
		publish_u32(&bus, "b", i);
	/* Five frames, none for "a": the cursor still moves past all of them. */
	assert_drained(&bus, &cursor, "a");
	ck_assert_uint_eq(cursor, 5);

	publish_u32(&bus, "a", 1);
	publish_u32(&bus, "ab", 2);
	publish_u32(&bus, "A", 3);
	publish_u32(&bus, "a", 4);
	ck_assert_uint_eq(poll_u32(&bus, &cursor, "a", &lagged), 1);
	ck_assert_uint_eq(cursor, 6);
	ck_assert_uint_eq(poll_u32(&bus, &cursor, "a", &lagged), 4);
	ck_assert_uint_eq(cursor, 9);
	assert_drained(&bus, &cursor, "a");

	cursor = 0;
	ck_assert_uint_eq(poll_u32(&bus, &cursor, "ab", &lagged), 2);
	ck_assert_uint_eq(cursor, 7);
	assert_drained(&bus, &cursor, "ab");
	ck_assert_uint_eq(lagged, 0);
	bus_close(&bus);
}
END_TEST

START_TEST(test_lag_counted_exactly)
{
	uint64_t cursor = 0, filtered = 0, lagged = 0, lagged_filtered = 0;
	orbit_event_t event;
	struct bus bus;

	bus_local(&bus, 8, 0);
	for (uint32_t i = 0; i < 20; i++)
		publish_u32(&bus, "n", i);
	ck_assert_uint_eq(orbit_events_head(bus.events), 20);
	ck_assert_uint_eq(orbit_events_oldest(bus.events), 12);

	ck_assert_uint_eq(poll_u32(&bus, &cursor, NULL, &lagged), 12);
	ck_assert_uint_eq(lagged, 12);
	for (uint32_t i = 13; i < 20; i++)
		ck_assert_uint_eq(poll_u32(&bus, &cursor, NULL, &lagged), i);
	ck_assert_uint_eq(lagged, 12);
	assert_drained(&bus, &cursor, NULL);

	/* Lag is reported when every retained frame is filtered out, too. */
	ck_assert_int_eq(orbit_events_poll(bus.events, &filtered, "other", &event, NULL, 0,
					   &lagged_filtered),
			 -EAGAIN);
	ck_assert_uint_eq(lagged_filtered, 12);
	ck_assert_uint_eq(filtered, 20);

	/* lagged may be NULL; the caller's counter is added to, not overwritten. */
	cursor = 0;
	ck_assert_uint_eq(poll_u32(&bus, &cursor, NULL, NULL), 12);
	cursor = 0;
	lagged = 100;
	ck_assert_uint_eq(poll_u32(&bus, &cursor, NULL, &lagged), 12);
	ck_assert_uint_eq(lagged, 112);
	bus_close(&bus);
}
END_TEST

START_TEST(test_head_and_oldest)
{
	uint64_t cursor, lagged = 0;
	struct bus bus;

	bus_local(&bus, 8, 0);
	ck_assert_uint_eq(orbit_events_head(bus.events), 0);
	ck_assert_uint_eq(orbit_events_oldest(bus.events), 0);
	for (uint32_t i = 0; i < 3; i++)
		publish_u32(&bus, "n", i);
	ck_assert_uint_eq(orbit_events_head(bus.events), 3);
	ck_assert_uint_eq(orbit_events_oldest(bus.events), 0);

	cursor = orbit_events_head(bus.events);
	assert_drained(&bus, &cursor, NULL);
	publish_u32(&bus, "n", 3);
	ck_assert_uint_eq(poll_u32(&bus, &cursor, NULL, &lagged), 3);

	for (uint32_t i = 4; i < 11; i++)
		publish_u32(&bus, "n", i);
	ck_assert_uint_eq(orbit_events_head(bus.events), 11);
	ck_assert_uint_eq(orbit_events_oldest(bus.events), 3);
	cursor = orbit_events_oldest(bus.events);
	for (uint32_t i = 3; i < 11; i++)
		ck_assert_uint_eq(poll_u32(&bus, &cursor, NULL, &lagged), i);
	ck_assert_uint_eq(lagged, 0);
	bus_close(&bus);
}
END_TEST

START_TEST(test_small_buffer_leaves_cursor)
{
	uint8_t payload[100], buf[200];
	orbit_event_t event;
	uint64_t cursor = 0;
	struct bus bus;

	for (int i = 0; i < 100; i++)
		payload[i] = (uint8_t)(i + 1);
	bus_local(&bus, 8, 0);
	publish_u32(&bus, "skip", 0);
	ck_assert_int_eq(orbit_events_publish(bus.events, "big", payload, sizeof(payload)), 0);

	for (int attempt = 0; attempt < 2; attempt++) {
		memset(buf, 0xee, sizeof(buf));
		ck_assert_int_eq(
			orbit_events_poll(bus.events, &cursor, "big", &event, buf, 10, NULL),
			-EMSGSIZE);
		ck_assert_uint_eq(cursor, 1); /* past the filtered frame, on the event */
		ck_assert_uint_eq(event.len, sizeof(payload));
		ck_assert_str_eq(event.topic, "big");
		ck_assert_uint_eq(event.topic_len, 3);
		ck_assert_uint_eq(orbit_id_counter(event.id), 1);
		ck_assert_mem_eq(buf, payload, 10);
		ck_assert_uint_eq(buf[10], 0xee);
	}
	ck_assert_int_eq(orbit_events_poll(bus.events, &cursor, "big", &event, NULL, 0, NULL),
			 -EMSGSIZE);
	ck_assert_uint_eq(cursor, 1);
	ck_assert_int_eq(
		orbit_events_poll(bus.events, &cursor, "big", &event, buf, sizeof(payload), NULL),
		0);
	ck_assert_mem_eq(buf, payload, sizeof(payload));
	ck_assert_uint_eq(cursor, 2);

	/* An empty payload fits a zero-sized buffer. */
	ck_assert_int_eq(orbit_events_publish(bus.events, "empty", NULL, 0), 0);
	ck_assert_int_eq(orbit_events_poll(bus.events, &cursor, NULL, &event, NULL, 0, NULL), 0);
	ck_assert_uint_eq(event.len, 0);
	ck_assert_uint_eq(cursor, 3);
	bus_close(&bus);
}
END_TEST

START_TEST(test_wait_timeout)
{
	struct bus bus;
	uint64_t head;

	bus_local(&bus, 8, 0);
	head = orbit_events_head(bus.events);
	ck_assert_int_eq(orbit_events_wait(bus.events, head, 0), -ETIMEDOUT);
	ck_assert_int_eq(orbit_events_wait(bus.events, head, 20), -ETIMEDOUT);
	ck_assert_int_eq(orbit_events_wait(bus.events, head, -2), -EINVAL);
	publish_u32(&bus, "n", 1);
	ck_assert_int_eq(orbit_events_wait(bus.events, head, 0), 0);
	ck_assert_int_eq(orbit_events_wait(bus.events, head, -1), 0);
	bus_close(&bus);
}
END_TEST

/*
 * Joins a fresh shared bus as node 0 of 2 and takes the cursor at its head, then forks a
 * child that joins the bus as node 1 and exits with publish()'s result (1: it could not join).
 */
static pid_t fork_publisher(struct bus *bus, uint64_t *cursor, int (*publish)(struct bus *peer))
{
	struct bus peer = { 0 };
	pid_t pid;
	int r;

	test_fleet_name(bus->name, sizeof(bus->name), test_tag());
	ck_assert_int_eq(bus_join_shm(bus, 0, 2), 0);
	*cursor = orbit_events_head(bus->events);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid)
		return pid;
	strcpy(peer.name, bus->name);
	if (bus_join_shm(&peer, 1, 2) < 0)
		_exit(1);
	r = publish(&peer);
	bus_close(&peer);
	_exit(r);
}

/* The child publishes after a delay, so the parent is most likely asleep in the wait. */
static int publish_ping(struct bus *peer)
{
	usleep(200 * 1000);
	return orbit_events_publish(peer->events, "ping", "hello", 5) == 0 ? 0 : 2;
}

START_TEST(test_wait_across_processes)
{
	orbit_event_t event;
	uint64_t cursor, lagged = 0;
	struct bus bus;
	char buf[16] = { 0 };
	pid_t pid;

	pid = fork_publisher(&bus, &cursor, publish_ping);
	ck_assert_int_eq(orbit_events_wait(bus.events, cursor, 60 * 1000), 0);
	ck_assert_int_eq(
		orbit_events_poll(bus.events, &cursor, NULL, &event, buf, sizeof(buf), &lagged), 0);
	ck_assert_str_eq(event.topic, "ping");
	ck_assert_uint_eq(orbit_id_node(event.id), 1);
	ck_assert_uint_eq(event.len, 5);
	ck_assert_str_eq(buf, "hello");
	ck_assert_uint_eq(lagged, 0);
	test_reap(pid);
	bus_close(&bus);
	test_unlink_fleet(bus.name);
}
END_TEST

#define STREAM_EVENTS 200

static int publish_stream(struct bus *peer)
{
	int r = 0;

	for (uint32_t i = 0; i < STREAM_EVENTS && r == 0; i++) {
		r = orbit_events_publish(peer->events, i % 2 ? "odd" : "even", &i, sizeof(i));
		if (i % 16 == 0)
			usleep(1000);
	}
	return r == 0 ? 0 : 2;
}

/* A subscriber in another process sees every "odd" event, in order, while they are published. */
START_TEST(test_stream_across_processes)
{
	uint64_t cursor, lagged = 0;
	uint32_t expect = 1;
	orbit_event_t event;
	struct bus bus;
	uint32_t value;
	pid_t pid;
	int r;

	pid = fork_publisher(&bus, &cursor, publish_stream);
	while (expect < STREAM_EVENTS) {
		r = orbit_events_poll(bus.events, &cursor, "odd", &event, &value, sizeof(value),
				      &lagged);
		if (r == -EAGAIN) {
			ck_assert_int_eq(orbit_events_wait(bus.events, cursor, 60 * 1000), 0);
			continue;
		}
		ck_assert_int_eq(r, 0);
		ck_assert_str_eq(event.topic, "odd");
		ck_assert_uint_eq(value, expect);
		expect += 2;
	}
	ck_assert_uint_eq(lagged, 0);
	test_reap(pid);
	assert_drained(&bus, &cursor, "odd");
	ck_assert_uint_eq(cursor, STREAM_EVENTS);
	bus_close(&bus);
	test_unlink_fleet(bus.name);
}
END_TEST

/*
 * ---- a publisher stopped or killed in the middle of its frame ----
 *
 * The publisher's frame runs into the copy trap (copy-trap.h), which stops the whole
 * process with the counter claimed and the frame half-written. The subscriber runs the
 * loop of orbit_events_open(3)'s EXAMPLES in a thread of its own, whose CPU time tells
 * whether the loop slept or spun meanwhile.
 */
#define TRAPPED_TOPIC	 "stopped"
#define TRAPPED_BEFORE	 16  /* bytes the copy gets through before it stops */
#define IDLE_MS		 300 /* how long the subscriber is left idle behind the claim */
#define LOOP_DEADLINE_MS 30000

/* Writes one well-formed event frame whose copy into the ring stops the process. */
static int publish_trapped(struct bus *peer)
{
	static const char payload[40] = "written after the stop";
	const size_t topic_len = strlen(TRAPPED_TOPIC);
	uint8_t body[64], *frame;
	size_t len;
	int r;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (trap_setup(orbit_ring_payload_max(peer->ring), 0) < 0)
		return 3;
	memcpy(body, TRAPPED_TOPIC, topic_len);
	memcpy(body + topic_len, payload, sizeof(payload));
	frame = trap_payload(TRAPPED_BEFORE);
	len = encode_event(frame, (uint16_t)topic_len, sizeof(payload), unix_ms(), body,
			   topic_len + sizeof(payload));
	if (trap_close() < 0)
		return 3;
	r = orbit_ring_write(peer->ring, EVENT_FRAME, unix_ms(), frame, len, NULL);
	if (trap_open() < 0)
		return 3;
	return r == 0 ? 0 : 2;
}

/* A publisher in the middle of its frame: stopped, its counter claimed. */
static pid_t fork_stopped_publisher(struct bus *bus, uint64_t *cursor)
{
	pid_t pid = fork_publisher(bus, cursor, publish_trapped);
	int status;

	ck_assert_int_eq(waitpid(pid, &status, WUNTRACED), pid);
	ck_assert_msg(WIFSTOPPED(status), "the publisher ended before its frame (status 0x%x)",
		      status);
	ck_assert_uint_eq(orbit_events_head(bus->events), *cursor + 1);
	return pid;
}

struct idle_loop {
	orbit_events_t *events;
	int wait_ms; /* each orbit_events_wait() */
	uint64_t cursor;
	uint64_t lagged;
	orbit_event_t event;
	char buf[64];
	int result;	  /* of the poll that ended the loop */
	unsigned rounds;  /* polls */
	uint64_t cpu_ns;  /* the loop thread's CPU time */
	uint64_t wall_ns; /* the loop's */
};

/* The EXAMPLES loop of orbit_events_open(3), until it receives one event. */
static void *idle_loop_run(void *arg)
{
	struct idle_loop *l = arg;
	uint64_t cpu = clock_read_ns(CLOCK_THREAD_CPUTIME_ID),
		 wall = clock_read_ns(CLOCK_MONOTONIC);
	uint64_t deadline = mono_ms() + LOOP_DEADLINE_MS;
	int r;

	for (;;) {
		r = orbit_events_poll(l->events, &l->cursor, NULL, &l->event, l->buf,
				      sizeof(l->buf), &l->lagged);
		l->rounds++;
		if (r != -EAGAIN || mono_ms() >= deadline)
			break;
		r = orbit_events_wait(l->events, l->cursor, l->wait_ms);
		if (r < 0 && r != -ETIMEDOUT)
			break;
	}
	l->result = r;
	l->cpu_ns = clock_read_ns(CLOCK_THREAD_CPUTIME_ID) - cpu;
	l->wall_ns = clock_read_ns(CLOCK_MONOTONIC) - wall;
	return NULL;
}

static void idle_loop_start(struct idle_loop *l, pthread_t *thread, struct bus *bus,
			    uint64_t cursor, int wait_ms)
{
	*l = (struct idle_loop){ .events = bus->events, .wait_ms = wait_ms, .cursor = cursor };
	ck_assert_int_eq(pthread_create(thread, NULL, idle_loop_run, l), 0);
}

/* Joins the loop and asserts it received an event having slept: a tenth of its time on CPU. */
static void idle_loop_join(struct idle_loop *l, pthread_t thread)
{
	ck_assert_int_eq(pthread_join(thread, NULL), 0);
	ck_assert_int_eq(l->result, 0);
	ck_assert_msg(l->cpu_ns < l->wall_ns / 10,
		      "the subscriber's loop spun: %llu us of CPU in %llu us, %u polls",
		      (unsigned long long)(l->cpu_ns / 1000),
		      (unsigned long long)(l->wall_ns / 1000), l->rounds);
	ck_assert_uint_le(l->rounds, 20);
}

/* Waits until the loop sleeps in the kernel on the events ring. */
static void await_sleeper(const struct bus *bus)
{
	struct seg_map map;

	ck_assert_int_eq(seg_map_open(&map, bus->name, ORBIT_KIND_EVENTS, 1024, 0), 0);
	ck_assert_msg(seg_await_waiter(&map, 5000) == 0, "the subscriber's loop never slept");
	seg_map_close(&map);
}

/*
 * A live publisher stopped in the middle of its frame: the loop sleeps however long it
 * is stopped, although the head is past the cursor (orbit_ring_wait() would return at
 * once, as its contract says), and the publisher's commit after SIGCONT wakes it.
 */
START_TEST(test_wait_sleeps_behind_stopped_publisher)
{
	orbit_event_t event;
	struct idle_loop loop;
	pthread_t thread;
	uint64_t cursor, polled;
	struct bus bus;
	pid_t pid;

	pid = fork_stopped_publisher(&bus, &cursor);
	polled = cursor;
	ck_assert_int_eq(orbit_events_poll(bus.events, &polled, NULL, &event, NULL, 0, NULL),
			 -EAGAIN);
	ck_assert_uint_eq(polled, cursor);
	ck_assert_int_eq(orbit_ring_wait(bus.ring, cursor, 0), 0);
	ck_assert_int_eq(orbit_events_wait(bus.events, cursor, 0), -ETIMEDOUT);

	idle_loop_start(&loop, &thread, &bus, cursor, 10 * 1000);
	await_sleeper(&bus);
	sleep_ms(IDLE_MS);
	ck_assert_int_eq(kill(pid, SIGCONT), 0);
	idle_loop_join(&loop, thread);
	ck_assert_uint_ge(loop.wall_ns, IDLE_MS * UINT64_C(1000000));
	ck_assert_str_eq(loop.event.topic, TRAPPED_TOPIC);
	ck_assert_str_eq(loop.buf, "written after the stop");
	ck_assert_uint_eq(orbit_id_counter(loop.event.id), cursor);
	ck_assert_uint_eq(loop.lagged, 0);
	test_reap(pid);
	bus_close(&bus);
	test_unlink_fleet(bus.name);
}
END_TEST

/*
 * A publisher killed in the middle of its frame while the loop sleeps behind it: its
 * death wakes nobody, so the wait sleeps to its timeout; the next poll gives the claim up
 * (lag) and the loop sleeps at the head, until a later event wakes it.
 */
START_TEST(test_wait_sleeps_after_publisher_killed)
{
	uint64_t cursor, deadline;
	struct idle_loop loop;
	orbit_frame_t frame;
	pthread_t thread;
	struct bus bus;
	int status;
	pid_t pid;

	pid = fork_stopped_publisher(&bus, &cursor);
	idle_loop_start(&loop, &thread, &bus, cursor, 200);
	await_sleeper(&bus);
	sleep_ms(IDLE_MS);
	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFSIGNALED(status));

	/* The loop's next look after its timeout gives the dead publisher's counter up. */
	deadline = mono_ms() + LOOP_DEADLINE_MS;
	while (orbit_ring_read_at(bus.ring, cursor, &frame, NULL, 0) == -EAGAIN) {
		ck_assert_msg(mono_ms() < deadline, "nobody gave the dead claim up");
		sleep_ms(10);
	}
	sleep_ms(IDLE_MS);
	ck_assert_int_eq(orbit_events_publish(bus.events, "later", "after", 6), 0);
	idle_loop_join(&loop, thread);
	ck_assert_str_eq(loop.event.topic, "later");
	ck_assert_str_eq(loop.buf, "after");
	ck_assert_uint_eq(orbit_id_counter(loop.event.id), cursor + 1);
	ck_assert_uint_eq(loop.lagged, 1);
	bus_close(&bus);
	test_unlink_fleet(bus.name);
}
END_TEST

/* Frames on the events ring that are not well-formed events are stepped over, not lagged. */
START_TEST(test_garbage_frames_skipped)
{
	uint8_t frame[512], body[400];
	orbit_event_t event;
	uint64_t cursor = 0, lagged = 0;
	char buf[16] = { 0 };
	struct bus bus;
	size_t len;

	memset(body, 'g', sizeof(body));
	bus_local(&bus, 64, 512);

	len = encode_event(frame, 3, 2, 1, "abcde", 5);
	ck_assert_int_eq(orbit_ring_write(bus.ring, 2, 1, frame, len, NULL), 0); /* frame kind */
	ck_assert_int_eq(orbit_ring_write(bus.ring, 0, 1, frame, len, NULL), 0);
	ck_assert_int_eq(orbit_ring_write(bus.ring, EVENT_FRAME, 1, NULL, 0, NULL), 0);
	ck_assert_int_eq(orbit_ring_write(bus.ring, EVENT_FRAME, 1, frame, 5, NULL), 0);
	ck_assert_int_eq(orbit_ring_write(bus.ring, EVENT_FRAME, 1, frame, 11, NULL), 0);
	len = encode_event(frame, 3, 10, 1, "abcde", 5); /* payload cut short */
	ck_assert_int_eq(orbit_ring_write(bus.ring, EVENT_FRAME, 1, frame, len, NULL), 0);
	len = encode_event(frame, 3, 2, 1, "abcdeXYZ", 8); /* trailing bytes */
	ck_assert_int_eq(orbit_ring_write(bus.ring, EVENT_FRAME, 1, frame, len, NULL), 0);
	len = encode_event(frame, 300, 0, 1, body, 300); /* topic beyond 255 bytes */
	ck_assert_int_eq(orbit_ring_write(bus.ring, EVENT_FRAME, 1, frame, len, NULL), 0);
	len = encode_event(frame, UINT16_MAX, UINT16_MAX, 1, NULL, 0);
	ck_assert_int_eq(orbit_ring_write(bus.ring, EVENT_FRAME, 1, frame, len, NULL), 0);
	ck_assert_int_eq(orbit_events_publish(bus.events, "ok", "fine", 4), 0);

	ck_assert_int_eq(
		orbit_events_poll(bus.events, &cursor, NULL, &event, buf, sizeof(buf), &lagged), 0);
	ck_assert_str_eq(event.topic, "ok");
	ck_assert_str_eq(buf, "fine");
	ck_assert_uint_eq(orbit_id_counter(event.id), 9);
	ck_assert_uint_eq(lagged, 0);
	assert_drained(&bus, &cursor, NULL);

	cursor = 0;
	assert_drained(&bus, &cursor, "abc");
	ck_assert_uint_eq(cursor, 10);
	bus_close(&bus);
}
END_TEST

/*
 * Random frames whose length fields are sometimes right: poll must return exactly
 * the well-formed frame-kind-1 ones, with every field as encoded.
 */
START_TEST(test_random_frames)
{
	enum { FRAMES = 500 };
	static uint8_t body[FRAMES][64];
	uint8_t frame[256], buf[64];
	bool valid[FRAMES];
	uint16_t topic_len[FRAMES], payload_len[FRAMES];
	orbit_event_t event;
	uint64_t cursor = 0, lagged = 0;
	unsigned seed = 12345;
	struct bus bus;
	int r;

	bus_local(&bus, 1024, 256);
	for (int i = 0; i < FRAMES; i++) {
		uint8_t kind = (uint8_t)(rand_r(&seed) % 3);
		int slack = rand_r(&seed) % 5 - 2;
		int body_len;

		topic_len[i] = (uint16_t)(rand_r(&seed) % 20);
		payload_len[i] = (uint16_t)(rand_r(&seed) % 40);
		body_len = topic_len[i] + payload_len[i] + slack;
		if (body_len < 0)
			body_len = 0;
		for (int b = 0; b < body_len; b++)
			body[i][b] = (uint8_t)rand_r(&seed);
		valid[i] = kind == EVENT_FRAME && body_len == topic_len[i] + payload_len[i];
		encode_event(frame, topic_len[i], payload_len[i], (uint64_t)i, body[i],
			     (size_t)body_len);
		ck_assert_int_eq(orbit_ring_write(bus.ring, kind, 0, frame,
						  EVENT_HEADER + (size_t)body_len, NULL),
				 0);
	}
	for (int i = 0; i < FRAMES; i++) {
		if (!valid[i])
			continue;
		r = orbit_events_poll(bus.events, &cursor, NULL, &event, buf, sizeof(buf), &lagged);
		ck_assert_int_eq(r, 0);
		ck_assert_uint_eq(orbit_id_counter(event.id), i);
		ck_assert_uint_eq(event.timestamp_ms, i);
		ck_assert_uint_eq(event.topic_len, topic_len[i]);
		ck_assert_mem_eq(event.topic, body[i], topic_len[i]);
		ck_assert_uint_eq(event.topic[event.topic_len], '\0');
		ck_assert_uint_eq(event.len, payload_len[i]);
		ck_assert_mem_eq(buf, body[i] + topic_len[i], payload_len[i]);
	}
	assert_drained(&bus, &cursor, NULL);
	ck_assert_uint_eq(lagged, 0);
	bus_close(&bus);
}
END_TEST

/* WIRE in: a frame laid out by hand as orbit-rs 0.1 writes it. */
START_TEST(test_wire_hand_encoded_event)
{
	static const uint8_t payload[] = { 0x00, 0x01, 0xfe, 0xff, 0x7f };
	const uint64_t ts = UINT64_C(1700000000123);
	uint8_t frame[64], body[64], buf[8];
	orbit_event_t event;
	uint64_t cursor = 0;
	orbit_id_t id;
	struct bus bus;
	size_t len;

	bus_local(&bus, 8, 0);
	memcpy(body, "orders.created", 14);
	memcpy(body + 14, payload, sizeof(payload));
	len = encode_event(frame, 14, sizeof(payload), ts, body, 14 + sizeof(payload));
	ck_assert_uint_eq(len, 12 + 14 + 5);
	ck_assert_int_eq(orbit_ring_write(bus.ring, EVENT_FRAME, ts, frame, len, &id), 0);

	ck_assert_int_eq(orbit_events_poll(bus.events, &cursor, "orders.created", &event, buf,
					   sizeof(buf), NULL),
			 0);
	ck_assert_uint_eq(event.id, id);
	ck_assert_uint_eq(event.timestamp_ms, ts);
	ck_assert_uint_eq(event.topic_len, 14);
	ck_assert_str_eq(event.topic, "orders.created");
	ck_assert_uint_eq(event.len, sizeof(payload));
	ck_assert_mem_eq(buf, payload, sizeof(payload));

	/* The timestamp comes from the payload, whatever the frame's ver says. */
	len = encode_event(frame, 1, 0, ts, "x", 1);
	ck_assert_int_eq(orbit_ring_write(bus.ring, EVENT_FRAME, 5, frame, len, NULL), 0);
	ck_assert_int_eq(orbit_events_poll(bus.events, &cursor, "x", &event, NULL, 0, NULL), 0);
	ck_assert_uint_eq(event.timestamp_ms, ts);

	/* An empty topic is a well-formed frame (a peer may send one); it matches no filter. */
	len = encode_event(frame, 0, 1, ts, "z", 1);
	ck_assert_int_eq(orbit_ring_write(bus.ring, EVENT_FRAME, ts, frame, len, NULL), 0);
	assert_drained(&bus, &cursor, "z");
	cursor--;
	ck_assert_int_eq(
		orbit_events_poll(bus.events, &cursor, NULL, &event, buf, sizeof(buf), NULL), 0);
	ck_assert_uint_eq(event.topic_len, 0);
	ck_assert_str_eq(event.topic, "");
	ck_assert_uint_eq(event.len, 1);
	ck_assert_uint_eq(buf[0], 'z');
	bus_close(&bus);
}
END_TEST

/* WIRE out: decode the raw frame publish wrote, field by field. */
START_TEST(test_wire_published_frame)
{
	static const uint8_t payload[] = { 0xde, 0xad, 0xbe, 0xef, 0x00, 0x42 };
	orbit_fleet_options_t opts = fixture_options(8, 0);
	uint64_t before, after, ts;
	orbit_frame_t frame;
	uint8_t raw[256];
	struct bus bus;

	test_fleet_name(bus.name, sizeof(bus.name), test_tag());
	ck_assert_int_eq(orbit_fleet_join(bus.name, 3, 5, &opts, &bus.fleet), 0);
	bus_attach(&bus);
	before = unix_ms();
	ck_assert_int_eq(orbit_events_publish(bus.events, "cfg.reload", payload, sizeof(payload)),
			 0);
	after = unix_ms();

	ck_assert_int_eq(orbit_ring_read_at(bus.ring, 0, &frame, raw, sizeof(raw)), 0);
	ck_assert_uint_eq(frame.kind, EVENT_FRAME);
	ck_assert_uint_eq(frame.len, EVENT_HEADER + 10 + sizeof(payload));
	ck_assert_uint_eq(orbit_id_kind(frame.id), ORBIT_KIND_EVENTS);
	ck_assert_uint_eq(orbit_id_node(frame.id), 3);
	ck_assert_uint_eq(orbit_id_counter(frame.id), 0);
	ck_assert_uint_eq(read_le(raw, 2), 10);
	ck_assert_uint_eq(read_le(raw + 2, 2), sizeof(payload));
	ts = read_le(raw + 4, 8);
	ck_assert_uint_ge(ts, before);
	ck_assert_uint_le(ts, after);
	ck_assert_uint_eq(frame.ver, ts);
	ck_assert_mem_eq(raw + EVENT_HEADER, "cfg.reload", 10);
	ck_assert_mem_eq(raw + EVENT_HEADER + 10, payload, sizeof(payload));
	bus_close(&bus);
}
END_TEST

START_TEST(test_kinds_are_separate_buses)
{
	orbit_events_t *other;
	uint64_t cursor = 0;
	struct bus bus;

	bus_local(&bus, 8, 0);
	ck_assert_int_eq(orbit_events_open(bus.fleet, 7, &other), 0);
	ck_assert_int_eq(orbit_events_publish(other, "t", "x", 1), 0);
	ck_assert_uint_eq(orbit_events_head(other), 1);
	ck_assert_uint_eq(orbit_events_head(bus.events), 0);
	assert_drained(&bus, &cursor, NULL);
	orbit_events_close(other);
	bus_close(&bus);
}
END_TEST

#define THREAD_EVENTS	300
#define THREAD_READERS	3
#define THREAD_WRITERS	2
#define THREAD_TOTAL	(THREAD_EVENTS * THREAD_WRITERS)
#define THREAD_MAX_BODY 2000

struct publisher {
	orbit_events_t *events;
	size_t body_max;
	int writer;
	int result;
};

struct subscriber {
	orbit_events_t *events;
	size_t body_max;
	uint64_t seen;
	uint64_t lagged;
	const char *error; /* NULL while every event checked out */
};

/* Event j of writer w carries j followed by (j % body_max) bytes of w. */
static void *thread_publish(void *arg)
{
	struct publisher *p = arg;
	uint8_t body[4 + THREAD_MAX_BODY];
	char topic[3] = { 'w', (char)('0' + p->writer), '\0' };

	for (uint32_t j = 0; j < THREAD_EVENTS && p->result == 0; j++) {
		size_t extra = j % p->body_max;

		memcpy(body, &j, 4);
		memset(body + 4, p->writer, extra);
		p->result = orbit_events_publish(p->events, topic, body, 4 + extra);
	}
	return NULL;
}

static const char *check_event(const orbit_event_t *event, const uint8_t *body, size_t body_max,
			       uint32_t *next)
{
	int w = event->topic[1] - '0';
	uint32_t j;

	if (event->topic_len != 2 || event->topic[0] != 'w' || w < 0 || w >= THREAD_WRITERS)
		return "foreign topic";
	memcpy(&j, body, 4);
	if (j < next[w])
		return "out of order";
	if (event->len != 4 + j % body_max ||
	    (event->len > 4 && (body[4] != w || body[event->len - 1] != w)))
		return "payload does not match its header";
	next[w] = j + 1;
	return NULL;
}

/*
 * Reads until the cursor reaches the end. A claim a preempted writer leaves open past
 * the ring's bound is skipped as lag, so the invariant is seen + lagged == total.
 */
static void *thread_subscribe(void *arg)
{
	struct subscriber *s = arg;
	uint32_t next[THREAD_WRITERS] = { 0 };
	uint8_t body[4 + THREAD_MAX_BODY];
	orbit_event_t event;
	uint64_t cursor = 0;
	int r;

	while (!s->error && cursor < THREAD_TOTAL) {
		r = orbit_events_poll(s->events, &cursor, NULL, &event, body, sizeof(body),
				      &s->lagged);
		if (r == -EAGAIN) {
			if (orbit_events_wait(s->events, cursor, 60 * 1000) < 0)
				s->error = "wait failed";
			sched_yield();
		} else if (r < 0) {
			s->error = "poll failed";
		} else {
			s->error = check_event(&event, body, s->body_max, next);
			s->seen++;
		}
	}
	return NULL;
}

/* One handle shared by publishing and polling threads, on the stack path and the locked one. */
START_TEST(test_shared_handle_threads)
{
	static const uint32_t payload_max[] = { 256, 4096 };
	struct subscriber readers[THREAD_READERS];
	struct publisher writers[THREAD_WRITERS];
	pthread_t reader_threads[THREAD_READERS], writer_threads[THREAD_WRITERS];
	size_t body_max =
		payload_max[_i] - 64 < THREAD_MAX_BODY ? payload_max[_i] - 64 : THREAD_MAX_BODY;
	int started_readers = 0, started_writers = 0;
	struct bus bus;

	bus_local(&bus, 1024, payload_max[_i]);
	for (int i = 0; i < THREAD_READERS; i++) {
		readers[i] = (struct subscriber){ .events = bus.events, .body_max = body_max };
		if (pthread_create(&reader_threads[i], NULL, thread_subscribe, &readers[i]))
			break;
		started_readers++;
	}
	for (int i = 0; i < THREAD_WRITERS; i++) {
		writers[i] = (struct publisher){ .events = bus.events,
						 .body_max = body_max,
						 .writer = i };
		if (pthread_create(&writer_threads[i], NULL, thread_publish, &writers[i]))
			break;
		started_writers++;
	}
	/* Join everything before asserting: a failed assertion must not abandon running threads. */
	for (int i = 0; i < started_writers; i++)
		pthread_join(writer_threads[i], NULL);
	for (int i = 0; i < started_readers; i++)
		pthread_join(reader_threads[i], NULL);
	ck_assert_int_eq(started_writers, THREAD_WRITERS);
	ck_assert_int_eq(started_readers, THREAD_READERS);
	for (int i = 0; i < THREAD_WRITERS; i++)
		ck_assert_int_eq(writers[i].result, 0);
	for (int i = 0; i < THREAD_READERS; i++) {
		ck_assert_msg(!readers[i].error, "reader %d: %s", i, readers[i].error);
		ck_assert_uint_eq(readers[i].seen + readers[i].lagged, THREAD_TOTAL);
	}
	ck_assert_uint_eq(orbit_events_head(bus.events), THREAD_TOTAL);
	bus_close(&bus);
}
END_TEST

static Suite *events_suite(void)
{
	Suite *suite = suite_create("events");
	TCase *api = tcase_create("api");
	TCase *cursor = tcase_create("cursor");
	TCase *wire = tcase_create("wire");
	TCase *concurrency = tcase_create("concurrency");

	tcase_add_test(api, test_open_close_arguments);
	tcase_add_test(api, test_publish_arguments);
	tcase_add_test(api, test_publish_longest_topic);
	tcase_add_test(api, test_publish_too_big_writes_nothing);
	tcase_add_test(api, test_publish_payload_over_u16);
	tcase_add_test(api, test_poll_arguments);
	tcase_add_test(api, test_kinds_are_separate_buses);
	suite_add_tcase(suite, api);

	tcase_add_test(cursor, test_round_trip_fields);
	tcase_add_test(cursor, test_topic_filter_advances_cursor);
	tcase_add_test(cursor, test_lag_counted_exactly);
	tcase_add_test(cursor, test_head_and_oldest);
	tcase_add_test(cursor, test_small_buffer_leaves_cursor);
	tcase_add_test(cursor, test_wait_timeout);
	suite_add_tcase(suite, cursor);

	tcase_add_test(wire, test_wire_hand_encoded_event);
	tcase_add_test(wire, test_wire_published_frame);
	tcase_add_test(wire, test_garbage_frames_skipped);
	tcase_add_test(wire, test_random_frames);
	suite_add_tcase(suite, wire);

	tcase_set_timeout(concurrency, 120);
	tcase_add_test(concurrency, test_wait_across_processes);
	tcase_add_test(concurrency, test_stream_across_processes);
	tcase_add_test(concurrency, test_wait_sleeps_behind_stopped_publisher);
	tcase_add_test(concurrency, test_wait_sleeps_after_publisher_killed);
	tcase_add_loop_test(concurrency, test_shared_handle_threads, 0, 2);
	suite_add_tcase(suite, concurrency);
	return suite;
}

int main(void)
{
	return test_run("events", events_suite);
}
