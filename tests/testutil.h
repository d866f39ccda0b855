/* SPDX-License-Identifier: MIT */
/* Helpers shared by the Check suites: unique fleet names, segment cleanup, the runner. */
#ifndef ORBIT_TESTUTIL_H
#define ORBIT_TESTUTIL_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>

#define TEST_ARRAY_SIZE(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* Writes a fleet name unique to this process and call ("t-TAG-PID-N") into buf. */
void test_fleet_name(char *buf, size_t size, const char *tag);

/* The /dev/shm path of a fleet's ring segment, as liborbit names it. */
void test_segment_path(char *buf, size_t size, const char *fleet, uint8_t kind);

/* Removes every segment of the fleet (all 256 kinds); missing ones are fine. */
void test_unlink_fleet(const char *fleet);

/*
 * Removes every segment of every fleet test_fleet_name() named with this tag, in any
 * process: the runner's sweep after forked tests that failed before their own cleanup.
 * Put the runner's pid in the tag so concurrent runs never sweep each other.
 */
void test_unlink_tag(const char *tag);

/* CLOCK_MONOTONIC in milliseconds: for deadlines that bound waits, never for speed. */
uint64_t test_now_ms(void);

/* Runs the suite, then test_unlink_tag(tag) unless tag is NULL; returns the exit status. */
int test_run_suite(Suite *suite, const char *tag);

#endif
