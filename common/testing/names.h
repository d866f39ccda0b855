/* SPDX-License-Identifier: MIT */
/*
 * Fleet names unique to a test run, the shared-memory names liborbit gives their segments,
 * and their removal: libc only, for the suites, the fuzz harnesses and the soak.
 */
#ifndef ORBIT_TESTING_NAMES_H
#define ORBIT_TESTING_NAMES_H

#include <stddef.h>
#include <stdint.h>

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

#endif
