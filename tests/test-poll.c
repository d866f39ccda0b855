/* SPDX-License-Identifier: MIT */
/*
 * Waiting without polling: orbit_ring_follow, the pollable descriptors of rings and event
 * buses (arming, level-triggered readiness, wake-ups from other threads and processes,
 * fork, dead pollers) and interrupting a blocked wait.
 */
#include <orbit.h>

#include <dirent.h>
#include <fcntl.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "copy-trap.h"
#include "fixture.h"
#include "frame-pattern.h"
#include "testutil.h"

#define RING_KIND 9
#define NODE	  1
#define BUF_SIZE  512
/* Bounds a wait that must end: far beyond any wake-up, short of the test's timeout. */
#define MUST_WAKE_MS 20000

struct poll_config {
	int backing;
	uint32_t payload_max;
};

static const struct poll_config configs[] = {
	{ FIXTURE_LOCAL, 0 },
	{ FIXTURE_LOCAL, 100 },
	{ FIXTURE_SHM, 0 },
	{ FIXTURE_SHM, 100 },
};

/* The options open_ring() joined with, for children that join the same fleet. */
static orbit_fleet_options_t joined;

static orbit_ring_t *open_ring(int config, uint32_t capacity)
{
	joined = fixture_options(capacity, configs[config].payload_max);
	fixture_fleet = fixture_join(configs[config].backing, NODE, 4, capacity,
				     configs[config].payload_max);
	return fixture_ring(fixture_fleet, RING_KIND);
}

/* 1 if fd polls readable within timeout_ms, 0 if not. */
static int readable(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int n = poll(&p, 1, timeout_ms);

	ck_assert_int_ge(n, 0);
	return n;
}

static void write_frames(orbit_ring_t *ring, uint64_t from, uint64_t count)
{
	for (uint64_t seq = from; seq < from + count; seq++)
		ck_assert_int_eq(pattern_write(ring, NODE, seq, NULL), 0);
}

/* Reads the next frame and checks it is frame seq of pattern_write. */
static void assert_next(orbit_ring_t *ring, uint64_t *cursor, uint64_t seq)
{
	uint8_t buf[BUF_SIZE];
	orbit_frame_t frame;
	uint64_t got_seq, lost = 0;
	uint16_t writer;

	ck_assert_int_eq(orbit_ring_next(ring, cursor, &frame, buf, sizeof(buf), &lost), 0);
	ck_assert_int_eq(pattern_verify(ring, &frame, buf, &writer, &got_seq), 0);
	ck_assert_uint_eq(got_seq, seq);
	ck_assert_uint_eq(lost, 0);
}

START_TEST(test_invalid_arguments)
{
	orbit_ring_t *ring = open_ring(_i, 8);
	uint64_t cursor = 0;
	orbit_frame_t frame;

	ck_assert_int_eq(orbit_ring_fd(NULL), -EINVAL);
	ck_assert_int_eq(orbit_ring_arm(NULL, 0), -EINVAL);
	ck_assert_int_eq(orbit_ring_interrupt(NULL, 1), -EINVAL);
	ck_assert_int_eq(orbit_ring_follow(NULL, &cursor, &frame, NULL, 0, NULL, 0), -EINVAL);
	ck_assert_int_eq(orbit_ring_follow(ring, NULL, &frame, NULL, 0, NULL, 0), -EINVAL);
	ck_assert_int_eq(orbit_ring_follow(ring, &cursor, &frame, NULL, 0, NULL, -2), -EINVAL);
	ck_assert_int_eq(orbit_ring_follow(ring, &cursor, NULL, NULL, 0, NULL, 0), -EINVAL);
	ck_assert_int_eq(orbit_events_fd(NULL), -EINVAL);
	ck_assert_int_eq(orbit_events_arm(NULL, 0), -EINVAL);
	ck_assert_int_eq(orbit_events_interrupt(NULL, 1), -EINVAL);
	ck_assert_int_eq(orbit_events_follow(NULL, &cursor, NULL, NULL, NULL, 0, NULL, 0), -EINVAL);
	/* Nothing was consumed by the failures. */
	write_frames(ring, 0, 1);
	ck_assert_uint_eq(cursor, 0);
	assert_next(ring, &cursor, 0);
}
END_TEST

START_TEST(test_fd_is_level_triggered)
{
	orbit_ring_t *ring = open_ring(_i, 8);
	int fd = orbit_ring_fd(ring);
	uint64_t cursor = 0;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(orbit_ring_fd(ring), fd);
	ck_assert_int_eq(readable(fd, 0), 0); /* not armed */
	write_frames(ring, 0, 1);
	ck_assert_int_eq(readable(fd, 0), 0); /* still not armed */

	/* Armed where a frame waits: readable at once, and until armed again. */
	ck_assert_int_eq(orbit_ring_arm(ring, cursor), 0);
	ck_assert_int_eq(readable(fd, 0), 1);
	ck_assert_int_eq(readable(fd, 0), 1);
	assert_next(ring, &cursor, 0);
	ck_assert_int_eq(readable(fd, 0), 1);

	/* Armed at the head: quiet until the next write, then readable for good. */
	ck_assert_int_eq(orbit_ring_arm(ring, cursor), 0);
	ck_assert_int_eq(readable(fd, 0), 0);
	write_frames(ring, 1, 2);
	ck_assert_int_eq(readable(fd, 0), 1);
	ck_assert_int_eq(readable(fd, 0), 1);
	assert_next(ring, &cursor, 1);
	/* A frame is still there: arming there makes it readable again. */
	ck_assert_int_eq(orbit_ring_arm(ring, cursor), 0);
	ck_assert_int_eq(readable(fd, 0), 1);
	assert_next(ring, &cursor, 2);
	ck_assert_int_eq(orbit_ring_arm(ring, cursor), 0);
	ck_assert_int_eq(readable(fd, 0), 0);
}
END_TEST

/* Armed at a counter beyond the head: earlier writes do not wake it. */
START_TEST(test_fd_armed_ahead)
{
	orbit_ring_t *ring = open_ring(_i, 8);
	int fd = orbit_ring_fd(ring);

	ck_assert_int_eq(orbit_ring_arm(ring, 2), 0);
	write_frames(ring, 0, 2);
	ck_assert_int_eq(readable(fd, 0), 0);
	write_frames(ring, 2, 1);
	ck_assert_int_eq(readable(fd, 0), 1);
}
END_TEST

/* Frames lost to wraparound are something to deliver: next reports them. */
START_TEST(test_fd_wakes_for_lost_frames)
{
	orbit_ring_t *ring = open_ring(_i, 4);
	int fd = orbit_ring_fd(ring);
	uint8_t buf[BUF_SIZE];
	uint64_t cursor = 0, lost = 0;
	orbit_frame_t frame;

	write_frames(ring, 0, 10);
	ck_assert_int_eq(orbit_ring_arm(ring, cursor), 0);
	ck_assert_int_eq(readable(fd, 0), 1);
	ck_assert_int_eq(orbit_ring_next(ring, &cursor, &frame, buf, sizeof(buf), &lost), 0);
	ck_assert_uint_eq(lost, 6);
}
END_TEST

static void *write_later(void *arg)
{
	sleep_ms(30);
	write_frames(arg, 0, 1);
	return NULL;
}

START_TEST(test_fd_wakes_epoll_from_another_thread)
{
	orbit_ring_t *ring = open_ring(_i, 8);
	struct epoll_event ev = { .events = EPOLLIN }, got;
	int ep = epoll_create1(EPOLL_CLOEXEC);
	uint64_t cursor = 0;
	pthread_t writer;

	ck_assert_int_ge(ep, 0);
	ck_assert_int_eq(epoll_ctl(ep, EPOLL_CTL_ADD, orbit_ring_fd(ring), &ev), 0);
	ck_assert_int_eq(orbit_ring_arm(ring, cursor), 0);
	ck_assert_int_eq(pthread_create(&writer, NULL, write_later, ring), 0);
	ck_assert_int_eq(epoll_wait(ep, &got, 1, MUST_WAKE_MS), 1);
	assert_next(ring, &cursor, 0);
	ck_assert_int_eq(pthread_join(writer, NULL), 0);
	close(ep);
}
END_TEST

START_TEST(test_follow)
{
	orbit_ring_t *ring = open_ring(_i, 8);
	uint8_t buf[BUF_SIZE], small[4];
	uint64_t cursor = 0, lost = 0, seq;
	orbit_frame_t frame;
	uint16_t writer;
	pthread_t thread;

	ck_assert_int_eq(orbit_ring_follow(ring, &cursor, &frame, buf, sizeof(buf), &lost, 0),
			 -ETIMEDOUT);
	ck_assert_int_eq(orbit_ring_follow(ring, &cursor, &frame, buf, sizeof(buf), &lost, 20),
			 -ETIMEDOUT);
	ck_assert_uint_eq(cursor, 0);
	write_frames(ring, 0, 2);
	for (uint64_t want = 0; want < 2; want++) {
		ck_assert_int_eq(
			orbit_ring_follow(ring, &cursor, &frame, buf, sizeof(buf), &lost, -1), 0);
		ck_assert_int_eq(pattern_verify(ring, &frame, buf, &writer, &seq), 0);
		ck_assert_uint_eq(seq, want);
	}
	/* Too small a buffer: the cursor stays, and a larger one gets the frame. */
	write_frames(ring, 2, 1);
	ck_assert_int_eq(orbit_ring_follow(ring, &cursor, &frame, small, sizeof(small), &lost, -1),
			 -EMSGSIZE);
	ck_assert_uint_eq(cursor, 2);
	assert_next(ring, &cursor, 2);

	/* Sleeps until another thread writes. */
	ck_assert_int_eq(orbit_ring_reset(ring), 0);
	cursor = 0;
	ck_assert_int_eq(pthread_create(&thread, NULL, write_later, ring), 0);
	ck_assert_int_eq(
		orbit_ring_follow(ring, &cursor, &frame, buf, sizeof(buf), &lost, MUST_WAKE_MS), 0);
	ck_assert_uint_eq(cursor, 1);
	ck_assert_uint_eq(lost, 0);
	ck_assert_int_eq(pthread_join(thread, NULL), 0);
}
END_TEST

struct blocked {
	orbit_ring_t *ring;
	orbit_events_t *events;
	atomic_int ret;
	atomic_bool entered;
};

static void *follow_forever(void *arg)
{
	struct blocked *b = arg;
	uint8_t buf[BUF_SIZE];
	orbit_frame_t frame;
	uint64_t cursor = orbit_ring_head(b->ring);

	atomic_store(&b->entered, true);
	atomic_store(&b->ret,
		     orbit_ring_follow(b->ring, &cursor, &frame, buf, sizeof(buf), NULL, -1));
	return NULL;
}

static void *wait_forever(void *arg)
{
	struct blocked *b = arg;

	atomic_store(&b->entered, true);
	atomic_store(&b->ret, orbit_ring_wait(b->ring, orbit_ring_head(b->ring), -1));
	return NULL;
}

static void *follow_events_forever(void *arg)
{
	struct blocked *b = arg;
	uint64_t cursor = orbit_events_head(b->events);
	orbit_event_t event;

	atomic_store(&b->entered, true);
	atomic_store(&b->ret,
		     orbit_events_follow(b->events, &cursor, NULL, &event, NULL, 0, NULL, -1));
	return NULL;
}

/*
 * A thread blocked forever is woken by an interrupt, whenever it comes: before the
 * thread sleeps or after (the flag is sticky until cleared).
 */
static void assert_interrupts(struct blocked *b, void *(*body)(void *),
			      int (*interrupt)(void *, int), void *handle)
{
	pthread_t thread;

	for (int early = 0; early < 2; early++) {
		atomic_store(&b->ret, 1);
		atomic_store(&b->entered, false);
		if (early)
			ck_assert_int_eq(interrupt(handle, 1), 0);
		ck_assert_int_eq(pthread_create(&thread, NULL, body, b), 0);
		while (!atomic_load(&b->entered))
			sleep_ms(1);
		sleep_ms(20);
		ck_assert_int_eq(interrupt(handle, 1), 0);
		ck_assert_int_eq(pthread_join(thread, NULL), 0);
		ck_assert_int_eq(atomic_load(&b->ret), -ECANCELED);
		ck_assert_int_eq(interrupt(handle, 0), 0);
	}
}

static int ring_interrupt(void *ring, int on)
{
	return orbit_ring_interrupt(ring, on);
}

static int events_interrupt(void *events, int on)
{
	return orbit_events_interrupt(events, on);
}

START_TEST(test_interrupt)
{
	orbit_ring_t *ring = open_ring(_i, 8);
	struct blocked b = { .ring = ring };
	uint8_t buf[BUF_SIZE];
	uint64_t cursor = 0;
	orbit_frame_t frame;

	assert_interrupts(&b, follow_forever, ring_interrupt, ring);
	assert_interrupts(&b, wait_forever, ring_interrupt, ring);
	ck_assert_int_eq(orbit_events_open(fixture_fleet, ORBIT_KIND_EVENTS, &b.events), 0);
	assert_interrupts(&b, follow_events_forever, events_interrupt, b.events);
	orbit_events_close(b.events);

	/* Cleared: waits work again. */
	write_frames(ring, 0, 1);
	ck_assert_int_eq(orbit_ring_follow(ring, &cursor, &frame, buf, sizeof(buf), NULL, -1), 0);
	ck_assert_int_eq(orbit_ring_wait(ring, 0, -1), 0);
}
END_TEST

/* An event bus handle interrupts only its own waits, not the ring's or another's. */
START_TEST(test_interrupt_is_per_handle)
{
	orbit_ring_t *ring = open_ring(_i, 8);
	orbit_events_t *a, *b;
	orbit_event_t event;
	uint64_t cursor = 0;

	ck_assert_int_eq(orbit_events_open(fixture_fleet, RING_KIND, &a), 0);
	ck_assert_int_eq(orbit_events_open(fixture_fleet, RING_KIND, &b), 0);
	ck_assert_int_eq(orbit_events_interrupt(a, 1), 0);
	ck_assert_int_eq(orbit_events_follow(a, &cursor, NULL, &event, NULL, 0, NULL, 10),
			 -ECANCELED);
	ck_assert_int_eq(orbit_events_follow(b, &cursor, NULL, &event, NULL, 0, NULL, 10),
			 -ETIMEDOUT);
	ck_assert_int_eq(orbit_ring_wait(ring, 0, 10), -ETIMEDOUT);
	orbit_events_close(a);
	orbit_events_close(b);
}
END_TEST

START_TEST(test_events_fd_and_follow)
{
	orbit_ring_t *ring = open_ring(_i, 16);
	orbit_events_t *events;
	orbit_event_t event;
	char buf[64];
	uint64_t cursor, lagged = 0;
	int fd;

	(void)ring;
	ck_assert_int_eq(orbit_events_open(fixture_fleet, ORBIT_KIND_EVENTS, &events), 0);
	fd = orbit_events_fd(events);
	ck_assert_int_ge(fd, 0);
	cursor = orbit_events_head(events);
	ck_assert_int_eq(orbit_events_arm(events, cursor), 0);
	ck_assert_int_eq(readable(fd, 0), 0);
	ck_assert_int_eq(orbit_events_publish(events, "other", "x", 1), 0);
	ck_assert_int_eq(readable(fd, 0), 1);
	/* Filtered out: the cursor moves past it, and arming there is quiet. */
	ck_assert_int_eq(
		orbit_events_poll(events, &cursor, "job", &event, buf, sizeof(buf), &lagged),
		-EAGAIN);
	ck_assert_uint_eq(cursor, 1);
	ck_assert_int_eq(orbit_events_arm(events, cursor), 0);
	ck_assert_int_eq(readable(fd, 0), 0);
	ck_assert_int_eq(orbit_events_publish(events, "job", "done", 4), 0);
	ck_assert_int_eq(readable(fd, 0), 1);
	ck_assert_int_eq(
		orbit_events_follow(events, &cursor, "job", &event, buf, sizeof(buf), &lagged, -1),
		0);
	ck_assert_str_eq(event.topic, "job");
	ck_assert_uint_eq(event.len, 4);
	ck_assert_int_eq(memcmp(buf, "done", 4), 0);
	ck_assert_int_eq(
		orbit_events_follow(events, &cursor, "job", &event, buf, sizeof(buf), &lagged, 10),
		-ETIMEDOUT);
	ck_assert_uint_eq(lagged, 0);
	orbit_events_close(events);
}
END_TEST

/* Every handle has a descriptor of its own, so two subscribers never steal wake-ups. */
START_TEST(test_two_subscribers)
{
	orbit_ring_t *ring = open_ring(_i, 16);
	orbit_events_t *a, *b;
	int fa, fb;

	ck_assert_int_eq(orbit_events_open(fixture_fleet, RING_KIND, &a), 0);
	ck_assert_int_eq(orbit_events_open(fixture_fleet, RING_KIND, &b), 0);
	fa = orbit_events_fd(a);
	fb = orbit_events_fd(b);
	ck_assert_int_ne(fa, fb);
	ck_assert_int_ne(fa, orbit_ring_fd(ring));
	ck_assert_int_eq(orbit_events_arm(a, 0), 0);
	ck_assert_int_eq(orbit_events_arm(b, 0), 0);
	ck_assert_int_eq(orbit_ring_arm(ring, 0), 0);
	ck_assert_int_eq(orbit_events_publish(a, "t", "", 0), 0);
	ck_assert_int_eq(readable(fa, 0), 1);
	ck_assert_int_eq(readable(fb, 0), 1);
	ck_assert_int_eq(readable(orbit_ring_fd(ring), 0), 1);
	orbit_events_close(a);
	orbit_events_close(b);
}
END_TEST

static int count_fds(void)
{
	DIR *dir = opendir("/proc/self/fd");
	int n = 0;

	ck_assert_ptr_nonnull(dir);
	while (readdir(dir))
		n++;
	closedir(dir);
	return n;
}

static int count_threads(void)
{
	DIR *dir = opendir("/proc/self/task");
	int n = 0;

	ck_assert_ptr_nonnull(dir);
	while (readdir(dir))
		n++;
	closedir(dir);
	return n;
}

/* No thread behind the descriptors, and closing the handles closes every descriptor. */
START_TEST(test_no_threads_no_leaks)
{
	int fds = count_fds(), threads = count_threads();

	for (int round = 0; round < 3; round++) {
		orbit_ring_t *ring = open_ring(_i, 8);
		orbit_events_t *events;

		ck_assert_int_eq(orbit_events_open(fixture_fleet, ORBIT_KIND_EVENTS, &events), 0);
		ck_assert_int_ge(orbit_ring_fd(ring), 0);
		ck_assert_int_ge(orbit_events_fd(events), 0);
		ck_assert_int_eq(orbit_ring_arm(ring, 0), 0);
		write_frames(ring, 0, 1);
		ck_assert_int_eq(count_threads(), threads);
		orbit_events_close(events);
		orbit_fleet_unlink(fixture_fleet);
		orbit_fleet_leave(fixture_fleet);
		fixture_fleet = NULL;
		ck_assert_int_eq(count_fds(), fds);
	}
}
END_TEST

/* A fleet has 128 poller slots; the next is refused, and closing one frees it. */
START_TEST(test_too_many_pollers)
{
	enum { MANY = 140 };
	orbit_events_t *events[MANY];
	int ok = 0, refused = 0;

	open_ring(_i, 8);
	for (int i = 0; i < MANY; i++) {
		int fd;

		ck_assert_int_eq(orbit_events_open(fixture_fleet, ORBIT_KIND_EVENTS, &events[i]),
				 0);
		fd = orbit_events_fd(events[i]);
		if (fd >= 0) {
			ok++;
			continue;
		}
		ck_assert_int_eq(fd, -EUSERS);
		refused++;
	}
	ck_assert_int_eq(ok, 128);
	ck_assert_int_eq(refused, MANY - 128);
	orbit_events_close(events[0]);
	ck_assert_int_ge(orbit_events_fd(events[MANY - 1]), 0);
	for (int i = 1; i < MANY; i++)
		orbit_events_close(events[i]);
}
END_TEST

/* ---- across processes ---- */

static void child_writes(void *arg, int ready_fd, int go_fd)
{
	orbit_fleet_t *fleet;
	orbit_ring_t *ring;
	char byte = 1;
	uint32_t count = *(uint32_t *)arg;

	if (orbit_fleet_join_shm(fixture_fleet_name, 2, 4, &joined, &fleet) < 0 ||
	    orbit_fleet_ring(fleet, RING_KIND, &ring) < 0)
		_exit(2);
	if (write(ready_fd, &byte, 1) != 1 || read(go_fd, &byte, 1) != 1)
		_exit(3);
	for (uint32_t seq = 0; seq < count; seq++) {
		if (pattern_write(ring, 2, seq, NULL) < 0)
			_exit(4);
		/* Let the reader fall asleep between some frames, so wake-ups are exercised. */
		if (seq % 7 == 0)
			usleep((useconds_t)test_rng_below(300));
	}
	orbit_fleet_leave(fleet);
}

/*
 * A writer process and a reader in an epoll loop: every frame arrives, each epoll_wait
 * ends long before the bound (a lost wake-up would leave the reader asleep), and the
 * frames check out.
 */
START_TEST(test_no_lost_wakeups_across_processes)
{
	const uint32_t count = 20000;
	orbit_ring_t *ring;
	struct epoll_event ev = { .events = EPOLLIN }, got;
	uint8_t buf[BUF_SIZE];
	uint64_t cursor = 0, lost = 0, seq, received = 0, waits = 0;
	orbit_frame_t frame;
	uint16_t writer;
	char go = 1;
	int go_fd, ep = epoll_create1(EPOLL_CLOEXEC);
	pid_t pid;

	test_rng_seed("writer pauses");
	ring = open_ring(2 + _i, 1u << 15);
	ck_assert_int_eq(epoll_ctl(ep, EPOLL_CTL_ADD, orbit_ring_fd(ring), &ev), 0);
	pid = test_spawn_ready(child_writes, (void *)&count, "writer joined", &go_fd);
	ck_assert_int_eq(write(go_fd, &go, 1), 1);
	while (received + lost < count) {
		int ret = orbit_ring_next(ring, &cursor, &frame, buf, sizeof(buf), &lost);

		if (ret == 0) {
			ck_assert_int_eq(pattern_verify(ring, &frame, buf, &writer, &seq), 0);
			ck_assert_uint_eq(seq, received);
			received++;
			continue;
		}
		ck_assert_int_eq(ret, -EAGAIN);
		ck_assert_int_eq(orbit_ring_arm(ring, cursor), 0);
		ck_assert_msg(epoll_wait(ep, &got, 1, MUST_WAKE_MS) == 1,
			      "no wake-up at cursor %llu", (unsigned long long)cursor);
		waits++;
	}
	ck_assert_uint_eq(received, count);
	ck_assert_uint_eq(lost, 0);
	ck_assert_uint_gt(waits, 0);
	test_reap(pid);
	close(go_fd);
	close(ep);
}
END_TEST

static int child_polls_its_own(void)
{
	orbit_ring_t *ring;
	int fd;

	/* The fixture's handle, inherited: the child gets a descriptor of its own. */
	if (orbit_fleet_ring(fixture_fleet, RING_KIND, &ring) < 0)
		return 2;
	fd = orbit_ring_fd(ring);
	if (fd < 0 || orbit_ring_arm(ring, orbit_ring_head(ring)) < 0)
		return 3;
	if (pattern_write(ring, NODE, 1, NULL) < 0)
		return 4;
	return readable(fd, MUST_WAKE_MS) == 1 ? 0 : 5;
}

/* After fork the child's descriptor is its own; the parent's keeps working. */
START_TEST(test_fork)
{
	orbit_ring_t *ring = open_ring(2 + _i, 8);
	int fd = orbit_ring_fd(ring);
	uint64_t cursor = 0;

	ck_assert_int_eq(orbit_ring_arm(ring, cursor), 0);
	test_run_child(child_polls_its_own);
	ck_assert_int_eq(readable(fd, MUST_WAKE_MS), 1);
	ck_assert_int_eq(orbit_ring_fd(ring), fd);
	ck_assert_uint_eq(orbit_ring_head(ring), 1);
	ck_assert_int_eq(orbit_ring_arm(ring, 1), 0);
	ck_assert_int_eq(readable(fd, 0), 0);
	write_frames(ring, 0, 1);
	ck_assert_int_eq(readable(fd, 0), 1);
}
END_TEST

static int child_arms_and_dies(void)
{
	orbit_fleet_t *fleet;
	orbit_ring_t *ring;

	if (orbit_fleet_join_shm(fixture_fleet_name, 3, 4, &joined, &fleet) < 0 ||
	    orbit_fleet_ring(fleet, RING_KIND, &ring) < 0 || orbit_ring_fd(ring) < 0 ||
	    orbit_ring_arm(ring, orbit_ring_head(ring)) < 0)
		return 2;
	kill(getpid(), SIGKILL);
	return 3;
}

/*
 * Pollers that die armed cost a writer nothing it cannot pay: the next write fires them,
 * and their slots are taken again, so more than 128 of them never exhaust the table.
 */
START_TEST(test_dead_pollers)
{
	orbit_ring_t *ring = open_ring(2 + _i, 8);
	int fd;

	for (int i = 0; i < 140; i++) {
		pid_t pid = fork();
		int status;

		ck_assert_int_ge(pid, 0);
		if (pid == 0)
			_exit(child_arms_and_dies());
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
		write_frames(ring, (uint64_t)i, 1);
	}
	fd = orbit_ring_fd(ring);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(orbit_ring_arm(ring, orbit_ring_head(ring)), 0);
	write_frames(ring, 140, 1);
	ck_assert_int_eq(readable(fd, 0), 1);
}
END_TEST

/* Bytes of the trapped frame the copy gets through before its writer stops. */
#define TRAPPED_BEFORE 16
/* How long the poller is left behind the stopped writer's claim. */
#define STOPPED_MS 300

static int child_writes_trapped(void)
{
	orbit_fleet_t *fleet;
	orbit_ring_t *ring;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (orbit_fleet_join_shm(fixture_fleet_name, 2, 4, &joined, &fleet) < 0 ||
	    orbit_fleet_ring(fleet, RING_KIND, &ring) < 0 ||
	    trap_setup(orbit_ring_payload_max(ring), 0) < 0)
		return 2;
	return trapped_write(ring, 2, 0, TRAPPED_BEFORE) == 0 ? 0 : 3;
}

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * A writer stopped in the middle of the frame at the armed cursor: the event loop is
 * woken now and then to look again (never spins), and the writer's commit, once it
 * resumes, wakes it with the frame.
 */
START_TEST(test_fd_behind_a_stopped_writer)
{
	orbit_ring_t *ring = open_ring(2 + _i, 8);
	int fd = orbit_ring_fd(ring), status, wakes = 0;
	uint64_t cursor = 0, cpu, deadline;
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(child_writes_trapped());
	ck_assert_int_eq(waitpid(pid, &status, WUNTRACED), pid);
	ck_assert_msg(WIFSTOPPED(status), "the writer ended before its frame (0x%x)", status);
	ck_assert_uint_eq(orbit_ring_head(ring), 1);

	cpu = thread_cpu_ns();
	deadline = mono_ms() + STOPPED_MS;
	ck_assert_int_eq(orbit_ring_arm(ring, cursor), 0);
	while (mono_ms() < deadline) {
		uint8_t buf[BUF_SIZE];
		orbit_frame_t frame;

		if (!readable(fd, 50))
			continue;
		wakes++;
		ck_assert_int_eq(orbit_ring_next(ring, &cursor, &frame, buf, sizeof(buf), NULL),
				 -EAGAIN);
		ck_assert_int_eq(orbit_ring_arm(ring, cursor), 0);
	}
	ck_assert_msg(wakes <= STOPPED_MS / 5, "%d wake-ups in %d ms: the loop spun", wakes,
		      STOPPED_MS);
	ck_assert_uint_lt(thread_cpu_ns() - cpu, (uint64_t)STOPPED_MS * 1000000u / 10);

	ck_assert_int_eq(kill(pid, SIGCONT), 0);
	for (;;) {
		ck_assert_int_eq(readable(fd, MUST_WAKE_MS), 1);
		if (orbit_ring_next(ring, &cursor, &(orbit_frame_t){ 0 }, NULL, 0, NULL) != -EAGAIN)
			break;
		ck_assert_int_eq(orbit_ring_arm(ring, cursor), 0);
	}
	ck_assert_uint_eq(cursor, 0); /* -EMSGSIZE: the frame is there, and it stays */
	cursor = 0;
	assert_next(ring, &cursor, 0);
	test_reap(pid);
}
END_TEST

/* Overwrites the bell table's bytes after its header with noise: n bytes at a time. */
static void scribble_bells(const char *fleet, size_t from)
{
	char path[512];
	struct stat st;
	uint8_t *base;
	int fd;

	snprintf(path, sizeof(path), "/dev/shm/orbit-%s-bells-%lu", fleet,
		 (unsigned long)geteuid());
	fd = open(path, O_RDWR | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	base = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ck_assert_ptr_ne(base, MAP_FAILED);
	for (size_t i = from; i < (size_t)st.st_size; i++)
		base[i] = (uint8_t)test_rng_below(256);
	munmap(base, (size_t)st.st_size);
	close(fd);
}

/*
 * A peer that writes noise over the bell table costs wake-ups, never a crash: writers
 * and pollers go on, frames are delivered, and a table whose header is noise is refused.
 */
START_TEST(test_hostile_bell_table)
{
	orbit_ring_t *ring = open_ring(2 + _i, 8), *peer_ring;
	uint64_t cursor = 0;

	test_rng_seed("bell table noise");
	ck_assert_int_ge(orbit_ring_fd(ring), 0);
	for (int round = 0; round < 20; round++) {
		scribble_bells(fixture_fleet_name, 64);
		write_frames(ring, (uint64_t)round, 1);
		ck_assert_int_eq(orbit_ring_arm(ring, cursor), 0);
		assert_next(ring, &cursor, (uint64_t)round);
		ck_assert_int_eq(orbit_ring_wait(ring, 0, 0), 0);
	}
	scribble_bells(fixture_fleet_name, 0);
	fixture_peer = fixture_join(configs[2 + _i].backing, 2, 4, 8, configs[2 + _i].payload_max);
	peer_ring = fixture_ring(fixture_peer, RING_KIND);
	ck_assert_int_eq(orbit_ring_fd(peer_ring), -EPROTO);
	ck_assert_int_eq(pattern_write(peer_ring, 2, 20, NULL), 0);
	assert_next(ring, &cursor, 20);
}
END_TEST

static Suite *poll_suite(void)
{
	Suite *suite = suite_create("poll");
	TCase *fd = fixture_tcase(suite, "fd", 0);
	TCase *follow = fixture_tcase(suite, "follow", 0);
	TCase *xproc = fixture_tcase(suite, "xproc", 0);
	const int n = ARRAY_SIZE(configs);

	tcase_add_loop_test(fd, test_invalid_arguments, 0, n);
	tcase_add_loop_test(fd, test_fd_is_level_triggered, 0, n);
	tcase_add_loop_test(fd, test_fd_armed_ahead, 0, n);
	tcase_add_loop_test(fd, test_fd_wakes_for_lost_frames, 0, n);
	tcase_add_loop_test(fd, test_fd_wakes_epoll_from_another_thread, 0, n);
	tcase_add_loop_test(fd, test_events_fd_and_follow, 0, n);
	tcase_add_loop_test(fd, test_two_subscribers, 0, n);
	tcase_add_loop_test(fd, test_no_threads_no_leaks, 0, n);
	tcase_add_loop_test(fd, test_too_many_pollers, 0, n);
	tcase_add_loop_test(follow, test_follow, 0, n);
	tcase_add_loop_test(follow, test_interrupt, 0, n);
	tcase_add_loop_test(follow, test_interrupt_is_per_handle, 0, n);
	/* The shm configurations only. */
	tcase_add_loop_test(xproc, test_no_lost_wakeups_across_processes, 0, 2);
	tcase_add_loop_test(xproc, test_fork, 0, 2);
	tcase_add_loop_test(xproc, test_dead_pollers, 0, 2);
	tcase_add_loop_test(xproc, test_fd_behind_a_stopped_writer, 0, 2);
	tcase_add_loop_test(xproc, test_hostile_bell_table, 0, 2);
	return suite;
}

int main(void)
{
	return test_run("poll", poll_suite);
}
