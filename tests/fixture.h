/* SPDX-License-Identifier: MIT */
/*
 * The fleet fixture of the Check suites: a fleet name unique to each test, the handles the
 * test joins into (left by teardown, which then unlinks every segment of the fleet), and
 * the asserting joins and ring lookups that fill them, per backing.
 */
#ifndef ORBIT_TEST_FIXTURE_H
#define ORBIT_TEST_FIXTURE_H

#include <check.h>
#include <orbit.h>

/* The two backings: loop tests that run once per backing pass _i as the backing. */
enum { FIXTURE_LOCAL, FIXTURE_SHM, FIXTURE_BACKINGS };

typedef int fixture_join_fn(const char *name, uint16_t node, uint16_t size,
			    const orbit_fleet_options_t *opts, orbit_fleet_t **fleet);

/* orbit_fleet_join and orbit_fleet_join_shm, by backing. */
extern fixture_join_fn *const fixture_joins[FIXTURE_BACKINGS];

/* This test's fleet name, fresh in each test; a test may change it before it joins. */
extern char fixture_fleet_name[256];

/* Handles of that fleet, NULL at setup; the suite decides which node each one is. */
extern orbit_fleet_t *fixture_fleet;
extern orbit_fleet_t *fixture_peer;

/*
 * Adds a TCase to suite with the fixture checked around each test (in the test's process):
 * a fresh name and NULL handles before, the handles left and the fleet unlinked after.
 * timeout_s > 0 replaces Check's default timeout.
 */
TCase *fixture_tcase(Suite *suite, const char *name, int timeout_s);

/* Options with that ring geometry (0: the library's default) and every other field unset. */
orbit_fleet_options_t fixture_options(uint32_t capacity, uint32_t payload_max);

/* Joins fixture_fleet_name through backing as node of size with that geometry; asserts it. */
orbit_fleet_t *fixture_join(int backing, uint16_t node, uint16_t size, uint32_t capacity,
			    uint32_t payload_max);

/* The fleet's ring of kind; asserts the lookup worked. */
orbit_ring_t *fixture_ring(orbit_fleet_t *fleet, uint8_t kind);

#endif
