/* SPDX-License-Identifier: MIT */
/*
 * Error and usage messages, and strict argument parsing, for every command.
 */
#include "cli.h"

#include <orbit.h>

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__attribute__((format(printf, 2, 0))) static void vreport(const char *command, const char *fmt,
							  va_list ap)
{
	fflush(stdout);
	fputs("orbit: ", stderr);
	if (command)
		fprintf(stderr, "%s: ", command);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

int tool_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(NULL, fmt, ap);
	va_end(ap);
	return TOOL_EXIT_ERROR;
}

int tool_usage_error(const char *command, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(command, fmt, ap);
	va_end(ap);
	fprintf(stderr, "Try 'orbit %s --help'.\n", command);
	return TOOL_EXIT_USAGE;
}

int tool_bad_option(const char *command, char **argv, int c)
{
	/* getopt_long leaves a long option at argv[optind - 1]; a short one in optopt, which
	 * for a long option is set only when it is known (and was given a value it takes not). */
	const char *arg = optind > 0 ? argv[optind - 1] : "";
	bool is_long = strncmp(arg, "--", 2) == 0;
	char option[64];

	if (is_long)
		snprintf(option, sizeof(option), "%.*s", (int)strcspn(arg, "="), arg);
	else
		snprintf(option, sizeof(option), "-%c", optopt);
	if (c == ':')
		return tool_usage_error(command, "option %s needs a value", option);
	if (is_long && optopt)
		return tool_usage_error(command, "option %s takes no value", option);
	return tool_usage_error(command, "unknown option %s", option);
}

int tool_help(const char *text)
{
	fputs(text, stdout);
	return TOOL_EXIT_OK;
}

void tool_oom(void)
{
	tool_error("out of memory");
	exit(TOOL_EXIT_ERROR);
}

void *tool_calloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		tool_oom();
	return p;
}

int tool_parse_u64(const char *text, uint64_t max, uint64_t *value)
{
	uint64_t v = 0;

	if (!text || !*text)
		return -EINVAL;
	for (const char *p = text; *p; p++) {
		unsigned digit = (unsigned)(*p - '0');

		if (digit > 9 || digit > max || v > (max - digit) / 10)
			return -EINVAL;
		v = v * 10 + digit;
	}
	*value = v;
	return 0;
}

int tool_parse_option(const char *command, const char *option, const char *text, uint64_t max,
		      uint64_t *value)
{
	if (tool_parse_u64(text, max, value) == 0)
		return 0;
	tool_usage_error(command, "%s wants a number from 0 to %llu, not '%s'", option,
			 (unsigned long long)max, text);
	return -EINVAL;
}

bool tool_fleet_name_ok(const char *command, const char *fleet)
{
	orbit_fleet_options_t opts = ORBIT_FLEET_OPTIONS_INIT;

	/* liborbit is the authority on names: its probe rejects a bad one with -EINVAL
	 * (the options are valid), whether or not such a fleet exists. */
	if (orbit_fleet_probe(fleet, 0, &opts) != -EINVAL)
		return true;
	tool_usage_error(command,
			 "'%s' is not a fleet name (1 to 200 of A-Z a-z 0-9 _ . -, "
			 "not starting with '.')",
			 fleet);
	return false;
}

bool tool_kind_ok(const char *command, const char *text, uint8_t *kind)
{
	uint64_t v;

	if (tool_parse_u64(text, UINT8_MAX, &v) < 0) {
		tool_usage_error(command, "a kind is a number from 0 to 255, not '%s'", text);
		return false;
	}
	*kind = (uint8_t)v;
	return true;
}
