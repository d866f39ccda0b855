/* SPDX-License-Identifier: MIT */
/*
 * Liveness, not time, decides a stalled claim: writers killed in the middle of their
 * frames are judged dead at once, by a reader and by the writer a lap later, and a
 * forked child keeps none of its parent's liveness.
 */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <orbit.h>

#include "copy-trap.h"
#include "fixture.h"
#include "frame-pattern.h"
#include "testutil.h"

#define KIND	 7
#define NODES	 64
#define CAPACITY 64
#define DEAD	 32
/*
 * Far above what judging a dead claim costs (a system call per record), far below the
 * 200 ms that liborbit 1.1.0 waited for each: it would take 6.4 s for DEAD claims.
 */
#define AT_ONCE_MS 100
/* A cursor that should reach a live frame; only a broken library waits this long. */
#define DELIVERY_DEADLINE_MS 5000

static orbit_ring_t *join_ring(uint16_t node, orbit_fleet_t **fleet)
{
	orbit_fleet_options_t opts = fixture_options(CAPACITY, 0);
	orbit_ring_t *ring;

	if (orbit_fleet_join_shm(fixture_fleet_name, node, NODES, &opts, fleet) < 0 ||
	    orbit_fleet_ring(*fleet, KIND, &ring) < 0)
		return NULL;
	return ring;
}

/* Stops the calling process in the middle of frame seq, with its counter claimed. */
static void write_and_stop(orbit_ring_t *ring, uint16_t node, uint64_t seq)
{
	if (trap_setup(orbit_ring_payload_max(ring), 0) < 0)
		_exit(1);
	_exit(trapped_write(ring, node, seq, 8) == 0 ? 0 : 2);
}

/* A child, node `node`, stopped in the middle of its frame: its counter stays claimed. */
static pid_t spawn_stopped_writer(uint16_t node, uint64_t seq)
{
	orbit_fleet_t *fleet;
	orbit_ring_t *ring;
	int status;
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		ring = join_ring(node, &fleet);
		if (!ring)
			_exit(1);
		write_and_stop(ring, node, seq);
	}
	ck_assert_int_eq(waitpid(pid, &status, WUNTRACED), pid);
	ck_assert_msg(WIFSTOPPED(status), "writer %u did not stop in its frame (status 0x%x)", node,
		      status);
	return pid;
}

static void kill_and_reap(pid_t pid)
{
	int status;

	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

/* DEAD writers, killed in the middle of frames 1..DEAD; frame 0 is the test's. */
static orbit_ring_t *ring_with_dead_claims(void)
{
	orbit_ring_t *ring;
	pid_t pids[DEAD];

	fixture_fleet = fixture_join(FIXTURE_SHM, 0, NODES, CAPACITY, 0);
	ring = fixture_ring(fixture_fleet, KIND);
	ck_assert_int_eq(pattern_write(ring, 0, 0, NULL), 0);
	for (int i = 0; i < DEAD; i++)
		pids[i] = spawn_stopped_writer((uint16_t)(1 + i), 1 + (uint64_t)i);
	ck_assert_uint_eq(orbit_ring_head(ring), 1 + DEAD);
	for (int i = 0; i < DEAD; i++)
		kill_and_reap(pids[i]);
	return ring;
}

/*
 * The poll that judges the first dead claim (by TEST_JUDGE_POLLS in a row at it) passes
 * all of them, counts each lost and delivers the next frame.
 */
START_TEST(test_reader_judges_dead_writers_at_once)
{
	orbit_ring_t *ring = ring_with_dead_claims();
	uint64_t cursor = 1, lost = 0, start, took;
	orbit_frame_t frame;
	uint8_t buf[256];
	int polls = 1, ret;

	ck_assert_int_eq(pattern_write(ring, 0, 1 + DEAD, NULL), 0);
	start = mono_ms();
	while ((ret = orbit_ring_next(ring, &cursor, &frame, buf, sizeof(buf), &lost)) == -EAGAIN &&
	       polls < TEST_JUDGE_POLLS) {
		ck_assert_uint_eq(lost, 0);
		polls++;
	}
	took = mono_ms() - start;
	fprintf(stderr, "%d dead claims: %d orbit_ring_next calls took %llu ms\n", DEAD, polls,
		(unsigned long long)took);
	ck_assert_int_eq(ret, 0);
	ck_assert_uint_lt(took, AT_ONCE_MS);
	ck_assert_uint_eq(lost, DEAD);
	ck_assert_uint_eq(cursor, 2 + DEAD);
	ck_assert_int_eq(pattern_expect(ring, &frame, buf, 0, 1 + DEAD), 0);
	/* Given up for every reader: a cursor from 0 counts them lost too. */
	cursor = 0;
	lost = 0;
	ck_assert_int_eq(orbit_ring_next(ring, &cursor, &frame, buf, sizeof(buf), &lost), 0);
	ck_assert_int_eq(orbit_ring_next(ring, &cursor, &frame, buf, sizeof(buf), &lost), 0);
	ck_assert_uint_eq(lost, DEAD);
	ck_assert_int_eq(pattern_expect(ring, &frame, buf, 0, 1 + DEAD), 0);
}
END_TEST

/* Nobody read the dead claims: the next lap's writers take their slots over at once. */
START_TEST(test_writer_takes_dead_slots_at_once)
{
	orbit_ring_t *ring = ring_with_dead_claims();
	uint64_t start, took, head = orbit_ring_head(ring);
	orbit_frame_t frame;
	uint8_t buf[256];

	start = mono_ms();
	for (uint64_t c = head; c < 1 + DEAD + CAPACITY; c++)
		ck_assert_int_eq(pattern_write(ring, 0, c, NULL), 0);
	took = mono_ms() - start;
	fprintf(stderr, "a lap over %d dead claims: %llu writes took %llu ms\n", DEAD,
		(unsigned long long)(1 + DEAD + CAPACITY - head), (unsigned long long)took);
	ck_assert_uint_lt(took, AT_ONCE_MS);
	for (uint64_t c = 1 + CAPACITY; c < 1 + DEAD + CAPACITY; c++) {
		ck_assert_int_eq(orbit_ring_read_at(ring, c, &frame, buf, sizeof(buf)), 0);
		ck_assert_int_eq(pattern_expect(ring, &frame, buf, 0, c), 0);
	}
}
END_TEST

/*
 * The forked child: says it is running (so fork has finished with it, handlers and all),
 * then waits for a command on `cmd`; 'w' makes it write frame 2 through the handle it
 * inherited (node 1). Its inherited descriptors and mappings must not keep its parent
 * alive in the lease table.
 */
static void run_child(orbit_ring_t *ring, int cmd, int ready)
{
	char byte;

	if (write(ready, "c", 1) != 1 || read(cmd, &byte, 1) != 1)
		_exit(0);
	_exit(pattern_write(ring, 1, 2, NULL) == 0 ? 0 : 3);
}

/* The parent: writes frame 0, forks the child, then stops in the middle of frame 1. */
static void run_parent(int cmd, int ready)
{
	orbit_fleet_t *fleet;
	orbit_ring_t *ring;
	pid_t child;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	ring = join_ring(1, &fleet);
	if (!ring || pattern_write(ring, 1, 0, NULL) < 0)
		_exit(1);
	child = fork();
	if (child < 0)
		_exit(1);
	if (child == 0)
		run_child(ring, cmd, ready);
	close(cmd);
	close(ready);
	write_and_stop(ring, 1, 1);
}

START_TEST(test_forked_child_keeps_no_parent_alive)
{
	int cmd[2], ready[2], status;
	uint64_t cursor = 0, lost = 0, start, took;
	orbit_frame_t frame;
	orbit_ring_t *ring;
	uint8_t buf[256];
	pid_t parent;
	char byte;
	int ret;

	fixture_fleet = fixture_join(FIXTURE_SHM, 0, NODES, CAPACITY, 0);
	ring = fixture_ring(fixture_fleet, KIND);
	ck_assert_int_eq(pipe(cmd), 0);
	ck_assert_int_eq(pipe(ready), 0);
	parent = fork();
	ck_assert_int_ge(parent, 0);
	if (parent == 0) {
		close(cmd[1]);
		close(ready[0]);
		run_parent(cmd[0], ready[1]);
	}
	close(cmd[0]);
	close(ready[1]);
	ck_assert_int_eq(read(ready[0], &byte, 1), 1);
	ck_assert_int_eq(waitpid(parent, &status, WUNTRACED), parent);
	ck_assert_msg(WIFSTOPPED(status), "the parent did not stop in its frame");
	kill_and_reap(parent);

	/* The child lives on with the parent's inherited descriptors: the claim is still dead. */
	ck_assert_int_eq(orbit_ring_next(ring, &cursor, &frame, buf, sizeof(buf), &lost), 0);
	ck_assert_int_eq(pattern_expect(ring, &frame, buf, 1, 0), 0);
	start = mono_ms();
	for (int polls = 0; polls < TEST_JUDGE_POLLS && !lost; polls++)
		ck_assert_int_eq(orbit_ring_next(ring, &cursor, &frame, buf, sizeof(buf), &lost),
				 -EAGAIN);
	took = mono_ms() - start;
	fprintf(stderr, "a dead parent's claim, its child alive: judged in %llu ms\n",
		(unsigned long long)took);
	ck_assert_uint_lt(took, AT_ONCE_MS);
	ck_assert_uint_eq(lost, 1);
	ck_assert_uint_eq(cursor, 2);

	/* The child writes under records of its own, and its frame is delivered. */
	ck_assert_int_eq(write(cmd[1], "w", 1), 1);
	start = mono_ms();
	while ((ret = orbit_ring_next(ring, &cursor, &frame, buf, sizeof(buf), &lost)) == -EAGAIN) {
		ck_assert_msg(mono_ms() - start < DELIVERY_DEADLINE_MS,
			      "the child's frame never came");
		sleep_ms(1);
	}
	ck_assert_int_eq(ret, 0);
	ck_assert_int_eq(pattern_expect(ring, &frame, buf, 1, 2), 0);
	ck_assert_uint_eq(lost, 1);
	close(cmd[1]);
	close(ready[0]);
}
END_TEST

static Suite *liveness_suite(void)
{
	Suite *suite = suite_create("liveness");
	TCase *dead = fixture_tcase(suite, "dead", 0);

	tcase_add_test(dead, test_reader_judges_dead_writers_at_once);
	tcase_add_test(dead, test_writer_takes_dead_slots_at_once);
	tcase_add_test(dead, test_forked_child_keeps_no_parent_alive);
	return suite;
}

int main(void)
{
	return test_run("liveness", liveness_suite);
}
