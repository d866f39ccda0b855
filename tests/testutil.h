/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the Check suites: replayable randomness, child processes, the runner.
 * Fleet names and clocks are common/testing/names.h and common/basics.h, which it includes.
 */
#ifndef ORBIT_TESTUTIL_H
#define ORBIT_TESTUTIL_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "basics.h"
#include "names.h"

/*
 * Polls in a row at a claim waiting for its writer after which orbit_ring_next has judged
 * it (orbit_ring_next(3), NOTES): a dead writer's claim is counted lost by then.
 */
#define TEST_JUDGE_POLLS 64

/*
 * Seeds test_rng_below() from the clock and prints the seed under `what`; ORBIT_TEST_SEED=N
 * replays the same choices (the timing they meet is the machine's).
 */
void test_rng_seed(const char *what);

/* A number in [0, bound) from the seeded generator (xorshift64*); bound > 0. */
uint64_t test_rng_below(uint64_t bound);

/* Waits for the child pid and asserts it exited with status 0. */
void test_reap(pid_t pid);

/* The same, naming the child in the failure message ("the paused writer"). */
void test_reap_as(pid_t pid, const char *who);

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
