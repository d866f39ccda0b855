/* SPDX-License-Identifier: MIT */
/* Opt-in diagnostics: with ORBIT_DEBUG set, say on stderr why a call failed. */
#include "log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

enum { LOG_UNKNOWN, LOG_OFF, LOG_ON };

static _Atomic int log_state = LOG_UNKNOWN;

static int log_enabled(void)
{
	int state = atomic_load_explicit(&log_state, memory_order_relaxed);

	if (state == LOG_UNKNOWN) {
		const char *env = getenv("ORBIT_DEBUG");

		state = env && *env && *env != '0' ? LOG_ON : LOG_OFF;
		atomic_store_explicit(&log_state, state, memory_order_relaxed);
	}
	return state == LOG_ON;
}

void orbit_log_debug(const char *fmt, ...)
{
	va_list ap;

	if (!log_enabled())
		return;
	va_start(ap, fmt);
	fputs("liborbit: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}
