/* SPDX-License-Identifier: MIT */
#include "backoff.h"

#include <sched.h>
#include <time.h>

void backoff_pause(struct backoff *b)
{
	static const struct timespec nap = { .tv_nsec = 50000 };

	if (b->rounds < BACKOFF_SPINS)
		cpu_relax();
	else if (b->rounds < BACKOFF_SPINS + BACKOFF_YIELDS)
		sched_yield();
	else
		nanosleep(&nap, NULL);
	b->rounds++;
}
