/* SPDX-License-Identifier: MIT */
/*
 * The few helpers every program outside lib/ wants: array length, clocks, sleeping and the
 * spin-loop hint. libc only; lib/ keeps its own (macro.h, clock.h), so the library never
 * depends on this tree.
 */
#ifndef ORBIT_COMMON_BASICS_H
#define ORBIT_COMMON_BASICS_H

#include <stdint.h>
#include <time.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static inline uint64_t clock_read_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* CLOCK_MONOTONIC: for intervals and deadlines. */
static inline uint64_t mono_ns(void)
{
	return clock_read_ns(CLOCK_MONOTONIC);
}

static inline uint64_t mono_ms(void)
{
	return mono_ns() / 1000000u;
}

/* CLOCK_REALTIME in Unix milliseconds: the clock of the stamps on the wire. */
static inline uint64_t unix_ms(void)
{
	return clock_read_ns(CLOCK_REALTIME) / 1000000u;
}

/* Sleeps the whole time, through signals. */
static inline void sleep_ms(uint64_t ms)
{
	struct timespec ts = { .tv_sec = (time_t)(ms / 1000),
			       .tv_nsec = (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) != 0)
		;
}

/* Spin-loop hint: lets the sibling hyperthread run and the cache line settle. */
static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

#endif
