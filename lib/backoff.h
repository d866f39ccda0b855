/* SPDX-License-Identifier: MIT */
/*
 * Waiting on another process, which may be preempted or stopped for any time: every such
 * wait is bounded by its caller, and paces itself here.
 */
#ifndef ORBIT_BACKOFF_H
#define ORBIT_BACKOFF_H

#include <stdint.h>

/*
 * The default stall bound (orbit_fleet_options_t.stall_ms): how long a live process that
 * stopped in the middle of a frame or an install is waited for before its work is given up.
 */
#define STALL_DEFAULT_NS (200ull * 1000000ull)

#define BACKOFF_SPINS  64
#define BACKOFF_YIELDS 64

/* Spins, then yields, then naps 50 us per round: a hand-off first, a stopped peer last. */
struct backoff {
	unsigned rounds;
};

/* For waits on more than a cache-line hand-off (a frame, an install): no spinning. */
#define BACKOFF_YIELDING ((struct backoff){ .rounds = BACKOFF_SPINS })

void backoff_pause(struct backoff *b);

/* The spin-loop hint: lets the sibling hyperthread run and the cache line settle. */
static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

#endif
