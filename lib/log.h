/* SPDX-License-Identifier: MIT */
/* Opt-in diagnostics: with ORBIT_DEBUG set, say on stderr why a call failed. */
#ifndef ORBIT_LOG_H
#define ORBIT_LOG_H

/* Errors are returned as negative errno; this only explains them (e.g. which header field differs). */
void orbit_log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
