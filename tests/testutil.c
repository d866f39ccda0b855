/* SPDX-License-Identifier: MIT */
/* Helpers shared by the Check suites: unique fleet names, segment cleanup, the runner. */
#include "testutil.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

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
	char name[256];

	for (unsigned kind = 0; kind < 256; kind++) {
		snprintf(name, sizeof(name), "/orbit-%s-%u-%lu", fleet, kind,
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

uint64_t test_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
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
