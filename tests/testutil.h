/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the Check suites (libc and Check only: the fuzz harnesses link them too):
 * unique fleet names, segment cleanup, clocks, replayable randomness, child processes, the
 * runner.
 */
#ifndef ORBIT_TESTUTIL_H
#define ORBIT_TESTUTIL_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define TEST_ARRAY_SIZE(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* Writes a fleet name unique to this process and call ("t-TAG-PID-N") into buf. */
void test_fleet_name(char *buf, size_t size, const char *tag);

/* The /dev/shm path of a fleet's ring segment, as liborbit names it. */
void test_segment_path(char *buf, size_t size, const char *fleet, uint8_t kind);

/* Removes every segment of the fleet (all 256 kinds, its lease table and its bell table);
 * missing ones are fine. */
void test_unlink_fleet(const char *fleet);

/*
 * Removes every segment of every fleet test_fleet_name() named with this tag, in any
 * process: the runner's sweep after forked tests that failed before their own cleanup.
 * Put the runner's pid in the tag so concurrent runs never sweep each other.
 */
void test_unlink_tag(const char *tag);

/*
 * Polls in a row at a claim waiting for its writer after which orbit_ring_next has judged
 * it (orbit_ring_next(3), NOTES): a dead writer's claim is counted lost by then.
 */
#define TEST_JUDGE_POLLS 64

/* CLOCK_MONOTONIC in milliseconds: for deadlines that bound waits, never for speed. */
uint64_t test_now_ms(void);

/* CLOCK_REALTIME in Unix milliseconds, the clock of the stamps on the wire. */
uint64_t test_unix_ms(void);

/* Sleeps the whole time, through signals. */
void test_sleep_ms(unsigned ms);

/*
 * Seeds test_rng_below() from the clock and prints the seed under `what`; ORBIT_TEST_SEED=N
 * replays the same choices (the timing they meet is the machine's).
 */
void test_rng_seed(const char *what);

/* A number in [0, bound) from the seeded generator (xorshift64*); bound > 0. */
uint64_t test_rng_below(uint64_t bound);

/* Waits for the child pid and asserts it exited with status 0. */
void test_reap(pid_t pid);

/* Forks a child that exits with body()'s result, and asserts that result was 0. */
void test_run_child(int (*body)(void));

/*
 * Forks a child, killed with its parent, that runs body(arg, ready_fd, go_fd) and exits
 * 0 if body returns. Returns once the child wrote a byte to ready_fd (asserts it did,
 * naming `what`); *go_fd is the end of the pipe whose byte, or closing, lets it go on.
 */
pid_t test_spawn_ready(void (*body)(void *arg, int ready_fd, int go_fd), void *arg,
		       const char *what, int *go_fd);

/* Runs the suite, then test_unlink_tag(tag) unless tag is NULL; returns the exit status. */
int test_run_suite(Suite *suite, const char *tag);

/*
 * The run's tag, "AREA<pid>" as test_run() set it: fleets named with it are swept after
 * the run.
 */
const char *test_tag(void);

/* Sets test_tag() from area, then test_run_suite() with it on the suite make_suite() builds. */
int test_run(const char *area, Suite *(*make_suite)(void));

#endif
