/* SPDX-License-Identifier: MIT */
/*
 * The orbit tool's output: bytes, ages and times as text, text tables with aligned
 * columns, and a small streaming JSON writer whose strings are always valid JSON.
 */
#include "output.h"

#include <assert.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

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

void table_init(struct table *t, const struct table_column *columns, size_t ncolumns)
{
	*t = (struct table){ .columns = columns, .ncolumns = ncolumns };
}

void table_add(struct table *t, const char *fmt, ...)
{
	va_list ap;
	char *cell;

	if (t->ncells == t->capacity) {
		size_t capacity = t->capacity ? t->capacity * 2 : 64;
		char **cells = realloc(t->cells, capacity * sizeof(*cells));

		if (!cells)
			tool_oom();
		t->cells = cells;
		t->capacity = capacity;
	}
	va_start(ap, fmt);
	if (vasprintf(&cell, fmt, ap) < 0)
		tool_oom();
	va_end(ap);
	t->cells[t->ncells++] = cell;
}

static void table_print_row(const struct table *t, FILE *out, const size_t *widths,
			    const char *const *cells)
{
	for (size_t c = 0; c < t->ncolumns; c++) {
		bool last = c + 1 == t->ncolumns;
		int width = (int)widths[c];

		if (t->columns[c].right)
			fprintf(out, "%*s", width, cells[c]);
		else
			fprintf(out, "%-*s", last ? 0 : width, cells[c]);
		fputs(last ? "\n" : "  ", out);
	}
}

void table_print(const struct table *t, FILE *out, bool header)
{
	size_t *widths = tool_calloc(t->ncolumns, sizeof(*widths));
	const char **titles = tool_calloc(t->ncolumns, sizeof(*titles));

	for (size_t c = 0; c < t->ncolumns; c++) {
		titles[c] = t->columns[c].title;
		widths[c] = header ? strlen(titles[c]) : 0;
	}
	for (size_t i = 0; i < t->ncells; i++) {
		size_t len = strlen(t->cells[i]);

		if (len > widths[i % t->ncolumns])
			widths[i % t->ncolumns] = len;
	}
	if (header)
		table_print_row(t, out, widths, titles);
	for (size_t row = 0; row + t->ncolumns <= t->ncells; row += t->ncolumns)
		table_print_row(t, out, widths, (const char *const *)t->cells + row);
	free(titles);
	free(widths);
}

void table_free(struct table *t)
{
	for (size_t i = 0; i < t->ncells; i++)
		free(t->cells[i]);
	free(t->cells);
	*t = (struct table){ 0 };
}

void json_init(struct json *j, FILE *out)
{
	*j = (struct json){ .out = out };
	j->first[0] = true;
}

/* Separates a new value (or key) from the previous element of its container. */
static void json_separate(struct json *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (!j->first[j->depth])
		fputc(',', j->out);
	j->first[j->depth] = false;
}

static void json_open(struct json *j, char bracket)
{
	json_separate(j);
	fputc(bracket, j->out);
	assert(j->depth + 1 < JSON_MAX_DEPTH); /* the commands nest a few levels at most */
	j->first[++j->depth] = true;
}

static void json_close(struct json *j, char bracket)
{
	assert(j->depth > 0);
	fputc(bracket, j->out);
	j->depth--;
}

void json_object_begin(struct json *j)
{
	json_open(j, '{');
}

void json_object_end(struct json *j)
{
	json_close(j, '}');
}

void json_array_begin(struct json *j)
{
	json_open(j, '[');
}

void json_array_end(struct json *j)
{
	json_close(j, ']');
}

/* Length of the valid UTF-8 sequence at p (1..4), or 0 if it is not one (RFC 3629). */
static size_t utf8_sequence(const uint8_t *p, size_t left)
{
	uint8_t b = p[0], lo = 0x80, hi = 0xbf;
	size_t n;

	if (b < 0x80)
		return 1;
	if (b >= 0xc2 && b <= 0xdf)
		n = 2;
	else if (b >= 0xe0 && b <= 0xef)
		n = 3;
	else if (b >= 0xf0 && b <= 0xf4)
		n = 4;
	else
		return 0;
	if (n > left)
		return 0;
	/* The second byte's range excludes overlong forms, surrogates and > U+10FFFF. */
	if (b == 0xe0)
		lo = 0xa0;
	else if (b == 0xed)
		hi = 0x9f;
	else if (b == 0xf0)
		lo = 0x90;
	else if (b == 0xf4)
		hi = 0x8f;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

/*
 * Writes bytes as a JSON string: valid UTF-8 as text, with quotes, backslashes and
 * control characters escaped. A byte that is not part of valid UTF-8 is written as
 * the lone surrogate U+DC80..U+DCFF that stands for it in Python's "surrogateescape"
 * (PEP 383), so no byte is lost and none is escaped twice: a reader gets the exact
 * bytes back with s.encode("utf-8", "surrogateescape").
 */
static void json_write_bytes(FILE *out, const void *data, size_t left)
{
	const uint8_t *p = data;

	fputc('"', out);
	while (left) {
		size_t n = utf8_sequence(p, left);

		if (n == 0) {
			fprintf(out, "\\udc%02x", *p);
			n = 1;
		} else if (*p == '"' || *p == '\\') {
			fprintf(out, "\\%c", *p);
		} else if (*p == '\n') {
			fputs("\\n", out);
		} else if (*p == '\r') {
			fputs("\\r", out);
		} else if (*p == '\t') {
			fputs("\\t", out);
		} else if (*p < 0x20) {
			fprintf(out, "\\u%04x", *p);
		} else {
			fwrite(p, 1, n, out);
		}
		p += n;
		left -= n;
	}
	fputc('"', out);
}

void json_key(struct json *j, const char *key)
{
	json_separate(j);
	json_write_bytes(j->out, key, strlen(key));
	fputc(':', j->out);
	j->after_key = true;
}

void json_string(struct json *j, const char *s)
{
	json_bytes(j, s, strlen(s));
}

void json_bytes(struct json *j, const void *data, size_t len)
{
	json_separate(j);
	json_write_bytes(j->out, data, len);
}

void json_uint(struct json *j, uint64_t v)
{
	json_separate(j);
	fprintf(j->out, "%" PRIu64, v);
}

void json_int(struct json *j, int64_t v)
{
	json_separate(j);
	fprintf(j->out, "%" PRId64, v);
}

void json_bool(struct json *j, bool v)
{
	json_separate(j);
	fputs(v ? "true" : "false", j->out);
}

void json_double(struct json *j, double v)
{
	json_separate(j);
	/* JSON has no NaN or infinity: a figure that was not measured is null. */
	if (isfinite(v))
		fprintf(j->out, "%.15g", v);
	else
		fputs("null", j->out);
}

void json_null(struct json *j)
{
	json_separate(j);
	fputs("null", j->out);
}

void json_end_line(struct json *j)
{
	fputc('\n', j->out);
	j->first[0] = true;
}

void json_field_string(struct json *j, const char *key, const char *s)
{
	json_key(j, key);
	json_string(j, s);
}

void json_field_bytes(struct json *j, const char *key, const void *data, size_t len)
{
	json_key(j, key);
	json_bytes(j, data, len);
}

void json_field_uint(struct json *j, const char *key, uint64_t v)
{
	json_key(j, key);
	json_uint(j, v);
}

void json_field_int(struct json *j, const char *key, int64_t v)
{
	json_key(j, key);
	json_int(j, v);
}

void json_field_double(struct json *j, const char *key, double v)
{
	json_key(j, key);
	json_double(j, v);
}

void json_field_null(struct json *j, const char *key)
{
	json_key(j, key);
	json_null(j);
}
