/* SPDX-License-Identifier: MIT */
/* The two clocks liborbit reads: Unix milliseconds (on the wire) and monotonic time (bounds). */
#include "clock.h"

#include <time.h>

static uint64_t clock_read_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t clock_unix_ms(void)
{
	return clock_read_ns(CLOCK_REALTIME) / 1000000u;
}

uint64_t clock_mono_ns(void)
{
	return clock_read_ns(CLOCK_MONOTONIC);
}
