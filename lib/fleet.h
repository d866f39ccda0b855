/* SPDX-License-Identifier: MIT */
/* What the fleet shares with the substrates beyond <orbit.h>: its lease table. */
#ifndef ORBIT_FLEET_H
#define ORBIT_FLEET_H

#include <orbit.h>

struct lease_table;

/* The fleet's lease table, opened on first use; NULL if it cannot be opened. */
struct lease_table *fleet_leases(orbit_fleet_t *fleet);

#endif
