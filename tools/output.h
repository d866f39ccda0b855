/* SPDX-License-Identifier: MIT */
/*
 * The orbit tool's output: bytes, ages and times as text, text tables with aligned
 * columns, and a small streaming JSON writer whose strings are always valid JSON.
 */
#ifndef ORBIT_TOOL_OUTPUT_H
#define ORBIT_TOOL_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Bytes as C-style escaped text (printable ASCII kept, \\ \n \r \t, else \xNN), or as hex. */
char *tool_escape(const void *data, size_t len, bool hex);

/* A short age, "350ms", "12.3s", "5m03s", "2h05m", "3d04h"; negative means in the future. */
void tool_format_age(int64_t age_ms, char *buf, size_t size);

/* A Unix ms time as "2026-11-22T00:55:01.123Z". */
void tool_format_time(uint64_t stamp_ms, char *buf, size_t size);

struct table_column {
	const char *title;
	bool right; /* right-aligned: numbers */
};

struct table {
	const struct table_column *columns;
	size_t ncolumns;
	char **cells;
	size_t ncells, capacity;
};

void table_init(struct table *t, const struct table_column *columns, size_t ncolumns);
/* Appends one cell; rows fill left to right, ncolumns cells each. */
__attribute__((format(printf, 2, 3))) void table_add(struct table *t, const char *fmt, ...);
/* Prints the header (unless header is false) and the rows, columns two spaces apart. */
void table_print(const struct table *t, FILE *out, bool header);
void table_free(struct table *t);

#define JSON_MAX_DEPTH 8

/* A streaming JSON writer: values are separated and strings escaped as they are written. */
struct json {
	FILE *out;
	unsigned depth;
	bool first[JSON_MAX_DEPTH]; /* the next element at that depth is its container's first */
	bool after_key;
};

void json_init(struct json *j, FILE *out);
void json_object_begin(struct json *j);
void json_object_end(struct json *j);
void json_array_begin(struct json *j);
void json_array_end(struct json *j);
void json_key(struct json *j, const char *key);
void json_string(struct json *j, const char *s);
/* Bytes as a string: UTF-8 as text, other bytes as U+DC80..U+DCFF (surrogateescape). */
void json_bytes(struct json *j, const void *data, size_t len);
void json_uint(struct json *j, uint64_t v);
void json_int(struct json *j, int64_t v);
void json_double(struct json *j, double v); /* up to 15 significant digits; NaN, inf: null */
void json_bool(struct json *j, bool v);
void json_null(struct json *j);
/* Ends a top-level value with a newline (one document, or one line of JSON Lines). */
void json_end_line(struct json *j);

/* A key and its value, inside an object. */
void json_field_string(struct json *j, const char *key, const char *s);
void json_field_bytes(struct json *j, const char *key, const void *data, size_t len);
void json_field_uint(struct json *j, const char *key, uint64_t v);
void json_field_int(struct json *j, const char *key, int64_t v);
void json_field_double(struct json *j, const char *key, double v);
void json_field_null(struct json *j, const char *key);

#endif
