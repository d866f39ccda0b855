/* SPDX-License-Identifier: MIT */
/* The two clocks liborbit reads: Unix milliseconds (on the wire) and monotonic time (bounds). */
#ifndef ORBIT_CLOCK_H
#define ORBIT_CLOCK_H

#include <stdint.h>

/* CLOCK_REALTIME in milliseconds since the Unix epoch, as substrate frames carry it. */
uint64_t clock_unix_ms(void);

/* CLOCK_MONOTONIC in nanoseconds, for bounds and timeouts that must not jump. */
uint64_t clock_mono_ns(void);

#endif
