/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the Check suites: replayable randomness, child processes, the runner.
 * Fleet names and clocks are common/testing/names.h and common/basics.h, which it includes.
 */
#include "testutil.h"

#include <signal.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char run_tag[32]; /* test_tag() */

static uint64_t rng_state;

void test_rng_seed(const char *what)
{
	const char *replay = getenv("ORBIT_TEST_SEED");
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	rng_state = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^ (uint64_t)getpid();
	if (replay)
		rng_state = strtoull(replay, NULL, 10);
	rng_state |= 1;
	fprintf(stderr, "%s: random seed %" PRIu64 "\n", what, rng_state);
}

uint64_t test_rng_below(uint64_t bound)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (rng_state * 0x2545F4914F6CDD1Dull) % bound;
}

void test_reap_as(pid_t pid, const char *who)
{
	int status;

	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "%s (process %ld) did not exit 0 (status 0x%x)", who, (long)pid, status);
}

void test_reap(pid_t pid)
{
	test_reap_as(pid, "a child");
}

void test_run_child(int (*body)(void))
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(body());
	test_reap(pid);
}

pid_t test_spawn_ready(void (*body)(void *arg, int ready_fd, int go_fd), void *arg,
		       const char *what, int *go_fd)
{
	int ready[2], go[2];
	pid_t pid;
	char byte;

	ck_assert_int_eq(pipe(ready), 0);
	ck_assert_int_eq(pipe(go), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(ready[0]);
		close(go[1]);
		body(arg, ready[1], go[0]);
		_exit(0);
	}
	close(ready[1]);
	close(go[0]);
	ck_assert_msg(read(ready[0], &byte, 1) == 1, "%s failed to start", what);
	close(ready[0]);
	*go_fd = go[1];
	return pid;
}

int test_run_suite(Suite *suite, const char *tag)
{
	SRunner *runner = srunner_create(suite);
	int failed;

	srunner_run_all(runner, CK_ENV);
	failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	if (tag)
		test_unlink_tag(tag);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

const char *test_tag(void)
{
	return run_tag;
}

int test_run(const char *area, Suite *(*make_suite)(void))
{
	snprintf(run_tag, sizeof(run_tag), "%s%ld", area, (long)getpid());
	return test_run_suite(make_suite(), run_tag);
}
