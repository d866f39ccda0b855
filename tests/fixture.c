/* SPDX-License-Identifier: MIT */
/* The fleet fixture of the Check suites: a unique fleet per test, its handles and cleanup. */
#include "fixture.h"

#include "testutil.h"

fixture_join_fn *const fixture_joins[FIXTURE_BACKINGS] = {
	[FIXTURE_LOCAL] = orbit_fleet_join,
	[FIXTURE_SHM] = orbit_fleet_join_shm,
};

char fixture_fleet_name[256];
orbit_fleet_t *fixture_fleet;
orbit_fleet_t *fixture_peer;

static void fixture_setup(void)
{
	test_fleet_name(fixture_fleet_name, sizeof(fixture_fleet_name), test_tag());
	fixture_fleet = NULL;
	fixture_peer = NULL;
}

static void fixture_teardown(void)
{
	orbit_fleet_leave(fixture_peer);
	orbit_fleet_leave(fixture_fleet);
	test_unlink_fleet(fixture_fleet_name);
}

TCase *fixture_tcase(Suite *suite, const char *name, int timeout_s)
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, fixture_setup, fixture_teardown);
	if (timeout_s > 0)
		tcase_set_timeout(tc, timeout_s);
	suite_add_tcase(suite, tc);
	return tc;
}

orbit_fleet_options_t fixture_options(uint32_t capacity, uint32_t payload_max)
{
	orbit_fleet_options_t opts = ORBIT_FLEET_OPTIONS_INIT;

	opts.capacity = capacity;
	opts.payload_max = payload_max;
	return opts;
}

orbit_fleet_t *fixture_join(int backing, uint16_t node, uint16_t size, uint32_t capacity,
			    uint32_t payload_max)
{
	orbit_fleet_options_t opts = fixture_options(capacity, payload_max);
	orbit_fleet_t *fleet = NULL;

	ck_assert_int_eq(fixture_joins[backing](fixture_fleet_name, node, size, &opts, &fleet), 0);
	ck_assert_ptr_nonnull(fleet);
	return fleet;
}

orbit_ring_t *fixture_ring(orbit_fleet_t *fleet, uint8_t kind)
{
	orbit_ring_t *ring = NULL;

	ck_assert_int_eq(orbit_fleet_ring(fleet, kind, &ring), 0);
	ck_assert_ptr_nonnull(ring);
	return ring;
}
