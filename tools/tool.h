/* SPDX-License-Identifier: MIT */
/*
 * The orbit tool's commands and the helpers they share: errors and arguments
 * (tool.c), text tables and JSON (output.c), and finding, probing and joining
 * fleets in /dev/shm (fleets.c). Public API only.
 */
#ifndef ORBIT_TOOL_H
#define ORBIT_TOOL_H

#include <orbit.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "basics.h"

/* Exit statuses: EXIT STATUS in orbit(1). */
#define TOOL_EXIT_OK	0
#define TOOL_EXIT_ERROR 1
#define TOOL_EXIT_USAGE 2

/* Every command: argv[0] is the command's name; returns the process exit status. */
int cmd_ls(int argc, char **argv);
int cmd_stat(int argc, char **argv);
int cmd_dump(int argc, char **argv);
int cmd_tail(int argc, char **argv);
int cmd_events(int argc, char **argv);
int cmd_cache(int argc, char **argv);
int cmd_members(int argc, char **argv);
int cmd_holder(int argc, char **argv);
int cmd_publish(int argc, char **argv);
int cmd_write(int argc, char **argv);
int cmd_rm(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_bench(int argc, char **argv);

/* ---- errors and arguments (tool.c) ---- */

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

/* Bytes as C-style escaped text (printable ASCII kept, \\ \n \r \t, else \xNN), or as hex. */
char *tool_escape(const void *data, size_t len, bool hex);

/* A short age, "350ms", "12.3s", "5m03s", "2h05m", "3d04h"; negative means in the future. */
void tool_format_age(int64_t age_ms, char *buf, size_t size);

/* A Unix ms time as "2026-11-22T00:55:01.123Z". */
void tool_format_time(uint64_t stamp_ms, char *buf, size_t size);

/*
 * Following a ring until --count items, --timeout-ms or SIGINT/SIGTERM. step
 * prints at most one item: 1 printed, 0 nothing new, or a negative errno. wait
 * blocks until there may be something new (0, -ETIMEDOUT, -EINTR or an error).
 */
struct tool_follow {
	int (*step)(void *ctx);
	int (*wait)(void *ctx, int timeout_ms);
	void *ctx;
	bool follow;	    /* false: stop once nothing new is left */
	uint64_t count;	    /* stop after this many items; 0 = no limit */
	int64_t timeout_ms; /* stop after this long; -1 = no limit */
	const char *what;   /* "frames", "events": for messages */
};

/* Returns the exit status: 0 when stopped by count, signal, end or timeout without a
 * --count; 1 on errors and when the timeout came before --count items. */
int tool_follow_run(const struct tool_follow *follow);

/*
 * Sleeps until the frame at cursor, which a cursor read found not readable yet,
 * may be: orbit_ring_wait, but without spinning on a counter that is claimed
 * and not committed. 0, -ETIMEDOUT or -EINTR.
 */
int tool_wait_past(orbit_ring_t *ring, uint64_t cursor, int timeout_ms);

/* ---- output (output.c) ---- */

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

/* ---- fleets in /dev/shm (fleets.c) ---- */

/* Where glibc's shm_open keeps POSIX shared-memory objects on Linux. */
#define TOOL_SHM_DIR "/dev/shm"

/* Joins large enough for every node number 0..65534 a ring can carry. */
#define TOOL_FLEET_SIZE 65535

/* The tool's own errors, not errnos: a fleet's rings disagree on their geometry; another
 * user's ring that its mode or group keeps us from joining. */
#define TOOL_ERR_MIXED	   (-4096)
#define TOOL_ERR_NO_ACCESS (-4097)

/*
 * Whose fleets the commands look at: the caller's (geteuid), unless --owner named
 * another user. Names carry the owner's uid and its segments must be its own.
 */
void tool_set_owner(uid_t uid);
uid_t tool_owner(void);

/* A user name or a decimal uid. 0 or -EINVAL. */
int tool_parse_user(const char *text, uid_t *uid);

/* The segment name of one ring, as liborbit makes it: orbit-{fleet}-{kind}-{uid}. */
struct tool_segment {
	char *fleet; /* as found in /dev/shm: any bytes but '/' and NUL */
	uint8_t kind;
	uid_t uid; /* from the name, not the object's owner */
};

/*
 * The rings in /dev/shm of the owner (or with all_users, of every user), of one
 * fleet or (fleet NULL) all, sorted by fleet, uid, kind. 0, or a negative errno
 * when /dev/shm cannot be read.
 */
int tool_segments_find(const char *fleet, bool all_users, struct tool_segment **segments,
		       size_t *count);
void tool_segments_free(struct tool_segment *segments, size_t count);

/* /dev/shm/orbit-{fleet}-{kind}-{uid} */
void tool_segment_path(const char *fleet, uint8_t kind, uid_t uid, char *buf, size_t size);

/* Whether any segment of the owner's fleet exists (false too when /dev/shm cannot be read). */
bool tool_fleet_exists(const char *fleet);

/*
 * Says "no fleet F" (of whom, under --owner) and names the other users that have a
 * fleet of that name, with path, owner and mode. Returns TOOL_EXIT_ERROR.
 */
int tool_no_fleet(const char *fleet);

/*
 * The options the owner's fleet's rings share (orbit_fleet_probe of each), for a new
 * ring to agree with them. 0, -ENOENT (no readable ring), TOOL_ERR_MIXED, or an errno.
 */
int tool_fleet_options(const char *fleet, orbit_fleet_options_t *opts);

/*
 * The one operand of a command that takes just FLEET (after getopt): a valid name of a
 * fleet that exists. 0 with *fleet set, or the exit status, having said why.
 */
int tool_existing_fleet_operand(const char *command, int argc, char **argv, const char **fleet);

/* A fleet joined for one ring of it. */
struct tool_ring {
	orbit_fleet_t *fleet;
	orbit_ring_t *ring;
};

/*
 * Joins the owner's fleet as node of size with the options that fit its existing
 * ring of that kind (orbit_fleet_probe), and opens that ring. With create, a ring
 * that does not exist yet is created with the options of the fleet's other rings
 * (TOOL_ERR_MIXED if they disagree), or the defaults when the fleet has none:
 * callers that must not make a fleet check tool_fleet_exists first. 0 or a
 * negative errno (-ENOENT: no such ring).
 */
int tool_ring_open(const char *fleet, uint8_t kind, uint16_t node, uint16_t size, bool create,
		   struct tool_ring *out);
void tool_ring_close(struct tool_ring *r);

/* What a probe or join error means for a ring, in a few words ("owned by another user"). */
const char *tool_ring_strerror(int err);

/* One word for the ls status column ("ok", "creating", "foreign", ...). */
const char *tool_ring_status(int err);

/*
 * Reports a failed tool_ring_open: "no fleet F" when the fleet has no segment
 * at all, "fleet F has no ring of kind K" for -ENOENT, else what the error
 * means. Returns TOOL_EXIT_ERROR.
 */
int tool_ring_error(const char *fleet, uint8_t kind, int err);

/* What ls and stat show about one ring; fields past status are valid only as flagged. */
struct tool_ring_info {
	int status;	/* 0, or the probe / join error */
	uid_t name_uid; /* the uid its name carries */
	bool have_file; /* bytes, uid, mode: the object's */
	uint64_t bytes;
	uid_t uid;
	mode_t mode;
	bool have_header; /* layout, capacity, payload_max: the probe read them */
	unsigned layout;
	uint32_t capacity;
	uint32_t payload_max;
	bool have_head; /* head: the ring was joined */
	uint64_t head;
	bool have_age; /* age of the head frame's time, for kinds that carry one */
	int64_t age_ms;
};

/* Ring kind of uid's fleet: its file, its header, then (if it may be joined) its head. */
void tool_ring_info(const char *fleet, uint8_t kind, uid_t uid, struct tool_ring_info *info);

/* The owner's user name, or the uid in decimal. */
void tool_user_name(uid_t uid, char *buf, size_t size);

/*
 * The heartbeat snapshot of a fleet of size nodes (orbit_heartbeat_snapshot)
 * with max_age_ms, into *members, allocated with size entries; every node is
 * missing when the fleet has no heartbeat ring. 0 or a negative errno.
 */
int tool_heartbeats(const char *fleet, uint16_t size, uint64_t max_age_ms,
		    orbit_member_t **members);

#endif
