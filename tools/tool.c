/* SPDX-License-Identifier: MIT */
/*
 * What every command of the orbit tool needs: error messages and exit
 * statuses, strict argument parsing, escaping bytes for display, clocks, and
 * the follow loop of tail and events.
 */
#include "tool.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

char *tool_escape(const void *data, size_t len, bool hex)
{
	static const char digits[] = "0123456789abcdef";
	const uint8_t *bytes = data;
	char *out = tool_calloc(len * 4 + 1, 1);
	char *p = out;

	for (size_t i = 0; i < len; i++) {
		uint8_t b = bytes[i];

		if (hex) {
			*p++ = digits[b >> 4];
			*p++ = digits[b & 15];
		} else if (b == '\\') {
			*p++ = '\\';
			*p++ = '\\';
		} else if (b == '\n' || b == '\r' || b == '\t') {
			*p++ = '\\';
			*p++ = b == '\n' ? 'n' : b == '\r' ? 'r' : 't';
		} else if (b >= 0x20 && b < 0x7f) {
			*p++ = (char)b;
		} else {
			*p++ = '\\';
			*p++ = 'x';
			*p++ = digits[b >> 4];
			*p++ = digits[b & 15];
		}
	}
	*p = '\0';
	return out;
}

void tool_format_age(int64_t age_ms, char *buf, size_t size)
{
	const char *sign = age_ms < 0 ? "-" : "";
	uint64_t ms = age_ms < 0 ? -(uint64_t)age_ms : (uint64_t)age_ms;
	uint64_t s = ms / 1000;

	if (ms < 1000)
		snprintf(buf, size, "%s%llums", sign, (unsigned long long)ms);
	else if (s < 60)
		snprintf(buf, size, "%s%llu.%llus", sign, (unsigned long long)s,
			 (unsigned long long)(ms % 1000 / 100));
	else if (s < 3600)
		snprintf(buf, size, "%s%llum%02llus", sign, (unsigned long long)(s / 60),
			 (unsigned long long)(s % 60));
	else if (s < 86400)
		snprintf(buf, size, "%s%lluh%02llum", sign, (unsigned long long)(s / 3600),
			 (unsigned long long)(s % 3600 / 60));
	else
		snprintf(buf, size, "%s%llud%02lluh", sign, (unsigned long long)(s / 86400),
			 (unsigned long long)(s % 86400 / 3600));
}

void tool_format_time(uint64_t stamp_ms, char *buf, size_t size)
{
	time_t secs = (time_t)(stamp_ms / 1000);
	char date[32];
	struct tm tm;

	if (!gmtime_r(&secs, &tm) || !strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm)) {
		snprintf(buf, size, "%llu", (unsigned long long)stamp_ms);
		return;
	}
	snprintf(buf, size, "%s.%03uZ", date, (unsigned)(stamp_ms % 1000));
}

static volatile sig_atomic_t follow_stopped;

static void follow_stop(int sig)
{
	(void)sig;
	follow_stopped = 1;
}

/* Without SA_RESTART, so a wait in the kernel returns -EINTR at once. */
static void follow_catch_signals(void)
{
	struct sigaction sa = { .sa_handler = follow_stop };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/* Waits are sliced so a signal that lands between the stop check and the wait
 * costs at most one slice. */
#define FOLLOW_SLICE_MS 1000

/* How long to nap while the counter at the cursor is claimed and not committed. */
#define UNCOMMITTED_NAP_MS 10

int tool_wait_past(orbit_ring_t *ring, uint64_t cursor, int timeout_ms)
{
	uint64_t head = orbit_ring_head(ring);

	if (head <= cursor)
		return orbit_ring_wait(ring, cursor, timeout_ms);
	/* orbit_ring_wait returns at once while head > cursor, and a commit wakes nobody:
	 * the writer is mid-write (done within microseconds) or died (the cursor moves on
	 * once a later frame is claimed and the stall bound passes). Nap until a later
	 * claim or a short while, whichever comes first. */
	if (timeout_ms < 0 || timeout_ms > UNCOMMITTED_NAP_MS)
		timeout_ms = UNCOMMITTED_NAP_MS;
	return orbit_ring_wait(ring, head, timeout_ms);
}

int tool_follow_run(const struct tool_follow *f)
{
	uint64_t deadline = f->timeout_ms >= 0 ? mono_ms() + (uint64_t)f->timeout_ms : 0;
	uint64_t printed = 0;

	follow_catch_signals();
	while (!follow_stopped && (!f->count || printed < f->count)) {
		int slice = FOLLOW_SLICE_MS;
		int r = f->step(f->ctx);

		if (r < 0)
			return tool_error("reading %s: %s", f->what, strerror(-r));
		fflush(stdout); /* a follower's lines are read as they come */
		if (r > 0) {
			printed++;
			continue;
		}
		if (!f->follow)
			break;
		if (f->timeout_ms >= 0) {
			uint64_t now = mono_ms();

			if (now >= deadline) {
				if (f->count)
					return tool_error("timed out after %llu of %llu %s",
							  (unsigned long long)printed,
							  (unsigned long long)f->count, f->what);
				break;
			}
			if (deadline - now < (uint64_t)slice)
				slice = (int)(deadline - now);
		}
		r = f->wait(f->ctx, slice);
		if (r < 0 && r != -ETIMEDOUT && r != -EINTR)
			return tool_error("waiting for %s: %s", f->what, strerror(-r));
	}
	fflush(stdout);
	return TOOL_EXIT_OK;
}
