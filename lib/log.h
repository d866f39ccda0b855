/* SPDX-License-Identifier: MIT */
/* Opt-in diagnostics: with ORBIT_DEBUG set, say on stderr why a call failed. */
#ifndef ORBIT_LOG_H
#define ORBIT_LOG_H

#include <errno.h>
#include <stddef.h>

/* Errors are returned as negative errno; this only explains them (e.g. which header field differs). */
void orbit_log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * -EINVAL, explained as "call: what is wrong" (one line per check that can fail). A macro, so
 * the compiler sees the value is negative.
 */
#define ORBIT_INVALID(...) (orbit_log_debug(__VA_ARGS__), -EINVAL)

/* The name of errno value err (either sign), "ENOENT", or its number when it has none. */
const char *orbit_log_errname(int err, char *buf, size_t size);
#define ORBIT_ERRNAME(err) orbit_log_errname((err), (char[16]){ 0 }, 16)

#endif
