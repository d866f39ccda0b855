/* SPDX-License-Identifier: MIT */
/* Opt-in diagnostics: with ORBIT_DEBUG set, say on stderr why a call failed. */
#include "log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { LOG_UNKNOWN, LOG_OFF, LOG_ON };

static _Atomic int log_state = LOG_UNKNOWN;

static int log_enabled(void)
{
	int state = atomic_load_explicit(&log_state, memory_order_relaxed);

	if (state == LOG_UNKNOWN) {
		/* secure_getenv: a set-user-ID program's caller cannot make it write to stderr. */
		const char *env = secure_getenv("ORBIT_DEBUG");

		state = env && *env && *env != '0' ? LOG_ON : LOG_OFF;
		atomic_store_explicit(&log_state, state, memory_order_relaxed);
	}
	return state == LOG_ON;
}

__attribute__((format(printf, 1, 0))) static void log_line(const char *fmt, va_list ap)
{
	char line[512];

	/* One write per line, so lines of concurrent threads do not interleave. */
	vsnprintf(line, sizeof(line), fmt, ap);
	fprintf(stderr, "liborbit: %s\n", line);
}

void orbit_log_debug(const char *fmt, ...)
{
	va_list ap;

	if (!log_enabled())
		return;
	va_start(ap, fmt);
	log_line(fmt, ap);
	va_end(ap);
}

const char *orbit_log_errname(int err, char *buf, size_t size)
{
	const char *name = NULL;

	if (err < 0)
		err = -err;
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
	/* Unlike strerror, thread-safe: it returns a constant string or NULL. */
	name = strerrorname_np(err);
#endif
	if (name)
		return name;
	snprintf(buf, size, "errno %d", err);
	return buf;
}
