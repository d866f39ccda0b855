/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the Check suites (libc and Check only: the fuzz harnesses link them too):
 * unique fleet names, segment cleanup, clocks, replayable randomness, child processes, the
 * runner.
 */
#include "testutil.h"

#include <dirent.h>
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

void test_fleet_name(char *buf, size_t size, const char *tag)
{
	static unsigned serial;

	snprintf(buf, size, "t-%s-%ld-%u", tag, (long)getpid(), serial++);
}

void test_segment_path(char *buf, size_t size, const char *fleet, uint8_t kind)
{
	snprintf(buf, size, "/dev/shm/orbit-%s-%u-%lu", fleet, kind, (unsigned long)geteuid());
}

void test_unlink_fleet(const char *fleet)
{
	static const char *const tables[] = { "leases", "subjects", "bells" };
	char name[256];

	for (unsigned kind = 0; kind < 256; kind++) {
		snprintf(name, sizeof(name), "/orbit-%s-%u-%lu", fleet, kind,
			 (unsigned long)geteuid());
		shm_unlink(name);
	}
	for (int i = 0; i < TEST_ARRAY_SIZE(tables); i++) {
		snprintf(name, sizeof(name), "/orbit-%s-%s-%lu", fleet, tables[i],
			 (unsigned long)geteuid());
		shm_unlink(name);
	}
}

void test_unlink_tag(const char *tag)
{
	char prefix[128], name[512];
	struct dirent *entry;
	DIR *dir;

	snprintf(prefix, sizeof(prefix), "orbit-t-%s-", tag);
	dir = opendir("/dev/shm");
	if (!dir)
		return;
	while ((entry = readdir(dir))) {
		if (strncmp(entry->d_name, prefix, strlen(prefix)) != 0)
			continue;
		snprintf(name, sizeof(name), "/%s", entry->d_name);
		shm_unlink(name);
	}
	closedir(dir);
}

static uint64_t clock_ms(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t test_now_ms(void)
{
	return clock_ms(CLOCK_MONOTONIC);
}

uint64_t test_unix_ms(void)
{
	return clock_ms(CLOCK_REALTIME);
}

void test_sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) != 0)
		;
}

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

void test_reap(pid_t pid)
{
	int status;

	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
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
