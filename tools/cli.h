/* SPDX-License-Identifier: MIT */
/*
 * What every command of the orbit tool needs to talk to its user: exit statuses, error
 * and usage messages, and strict parsing of arguments.
 */
#ifndef ORBIT_TOOL_CLI_H
#define ORBIT_TOOL_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Exit statuses: EXIT STATUS in orbit(1). */
#define TOOL_EXIT_OK	0
#define TOOL_EXIT_ERROR 1
#define TOOL_EXIT_USAGE 2

/* Prints "orbit: MESSAGE" to stderr; returns TOOL_EXIT_ERROR. */
__attribute__((format(printf, 1, 2))) int tool_error(const char *fmt, ...);

/* Prints "orbit: COMMAND: MESSAGE" and a pointer to --help; returns TOOL_EXIT_USAGE. */
__attribute__((format(printf, 2, 3))) int tool_usage_error(const char *command, const char *fmt,
							   ...);

/*
 * Reports what getopt_long rejected: c is its return, ':' for a missing value
 * (the option strings start with ':'), '?' for an unknown option. Returns
 * TOOL_EXIT_USAGE.
 */
int tool_bad_option(const char *command, char **argv, int c);

/* Prints a command's --help text to stdout; returns TOOL_EXIT_OK. */
int tool_help(const char *text);

/* Prints "orbit: out of memory" and exits: nothing sensible is left to do. */
__attribute__((noreturn)) void tool_oom(void);

void *tool_calloc(size_t n, size_t size);

/* Strict decimal in [0, max]: digits only, no sign, no spaces. 0 or -EINVAL. */
int tool_parse_u64(const char *text, uint64_t max, uint64_t *value);

/* Parses option text into *value, or prints a usage error naming the option. 0 or -EINVAL. */
int tool_parse_option(const char *command, const char *option, const char *text, uint64_t max,
		      uint64_t *value);

/* The fleet name is one liborbit accepts; otherwise prints a usage error and returns false. */
bool tool_fleet_name_ok(const char *command, const char *fleet);

/* A ring kind argument, 0..255; otherwise prints a usage error and returns false. */
bool tool_kind_ok(const char *command, const char *text, uint8_t *kind);

#endif
