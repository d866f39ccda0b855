/* SPDX-License-Identifier: MIT */
/*
 * orbit ls and orbit stat: what the rings of this user in /dev/shm are, from
 * their files (size, owner, mode) and their headers (probe, then a read-only join).
 */
#include "tool.h"

#include <getopt.h>
#include <string.h>

static const char ls_help[] =
	"Usage: orbit ls [--json] [FLEET]\n"
	"\n"
	"List the rings of this user's fleets in /dev/shm (of FLEET only, if given):\n"
	"fleet, kind, layout, capacity, payload size, head, segment bytes, owner, mode,\n"
	"age of the last write (events, heartbeat and contest rings only) and status.\n"
	"\n"
	"  --json   one JSON array, an object per ring\n"
	"  --help   show this help\n";

static const char stat_help[] =
	"Usage: orbit stat [--json] FLEET KIND\n"
	"\n"
	"Show the header of the ring of kind KIND (0..255) of FLEET: layout, capacity,\n"
	"payload size, head, oldest retained counter, segment bytes, owner and mode.\n"
	"\n"
	"  --json   one JSON object\n"
	"  --help   show this help\n";

static const struct option json_options[] = {
	{ "json", no_argument, NULL, 'j' },
	{ "help", no_argument, NULL, 'h' },
	{ 0 },
};

/* Parses --json and --help; returns -1 to go on, else the exit status. */
static int parse_json_options(int argc, char **argv, const char *help, bool *json)
{
	int c;

	while ((c = getopt_long(argc, argv, ":h", json_options, NULL)) != -1) {
		switch (c) {
		case 'j':
			*json = true;
			break;
		case 'h':
			return tool_help(help);
		default:
			return tool_bad_option(argv[0], argv, c);
		}
	}
	return -1;
}

static void format_mode(mode_t mode, char *buf, size_t size)
{
	snprintf(buf, size, "%04o", (unsigned)mode);
}

static uint64_t oldest_counter(const struct tool_ring_info *info)
{
	return info->head > info->capacity ? info->head - info->capacity : 0;
}

/* Owner, mode and last-write age as text, "-" where unknown. */
struct info_text {
	char owner[64], mode[8], age[32];
};

static void info_text(const struct tool_ring_info *info, struct info_text *text)
{
	*text = (struct info_text){ "-", "-", "-" };
	if (info->have_file) {
		tool_user_name(info->uid, text->owner, sizeof(text->owner));
		format_mode(info->mode, text->mode, sizeof(text->mode));
	}
	if (info->have_age)
		tool_format_age(info->age_ms, text->age, sizeof(text->age));
}

/* The fields ls and stat share, as members of the current JSON object. */
static void json_ring_info(struct json *j, const struct tool_ring_info *info)
{
	bool ok = info->status == 0;
	struct info_text text;

	info_text(info, &text);
	if (ok) {
		json_field_uint(j, "layout", info->layout);
		json_field_uint(j, "capacity", info->capacity);
		json_field_uint(j, "payload_max", info->payload_max);
		json_field_uint(j, "head", info->head);
		json_field_uint(j, "oldest", oldest_counter(info));
	} else {
		json_field_null(j, "layout");
		json_field_null(j, "capacity");
		json_field_null(j, "payload_max");
		json_field_null(j, "head");
		json_field_null(j, "oldest");
	}
	if (info->have_file) {
		json_field_uint(j, "bytes", info->bytes);
		json_field_string(j, "owner", text.owner);
		json_field_uint(j, "uid", info->uid);
		json_field_string(j, "mode", text.mode);
	} else {
		json_field_null(j, "bytes");
		json_field_null(j, "owner");
		json_field_null(j, "uid");
		json_field_null(j, "mode");
	}
	if (info->have_age)
		json_field_int(j, "last_write_age_ms", info->age_ms);
	else
		json_field_null(j, "last_write_age_ms");
	json_field_string(j, "status", tool_ring_status(info->status));
	if (ok)
		json_field_null(j, "error");
	else
		json_field_string(j, "error", tool_ring_strerror(info->status));
}

static const struct table_column ls_columns[] = {
	{ "FLEET", false },  { "KIND", true },	     { "LAYOUT", true },  { "CAPACITY", true },
	{ "PAYLOAD", true }, { "HEAD", true },	     { "BYTES", true },	  { "OWNER", false },
	{ "MODE", false },   { "LAST-WRITE", true }, { "STATUS", false },
};

/* A number, or "-" when the ring could not tell. */
static void table_add_number(struct table *t, bool known, uint64_t v)
{
	if (known)
		table_add(t, "%llu", (unsigned long long)v);
	else
		table_add(t, "-");
}

static void table_ring_info(struct table *t, const char *fleet, uint8_t kind,
			    const struct tool_ring_info *info)
{
	bool ok = info->status == 0;
	struct info_text text;

	info_text(info, &text);
	table_add(t, "%s", fleet);
	table_add(t, "%u", kind);
	table_add_number(t, ok, info->layout);
	table_add_number(t, ok, info->capacity);
	table_add_number(t, ok, info->payload_max);
	table_add_number(t, ok, info->head);
	table_add_number(t, info->have_file, info->bytes);
	table_add(t, "%s", text.owner);
	table_add(t, "%s", text.mode);
	table_add(t, "%s", text.age);
	table_add(t, "%s", tool_ring_status(info->status));
}

int cmd_ls(int argc, char **argv)
{
	struct tool_segment *segments;
	const char *fleet = NULL;
	bool json = false;
	struct table t;
	struct json j;
	size_t count;
	int r;

	r = parse_json_options(argc, argv, ls_help, &json);
	if (r >= 0)
		return r;
	if (argc - optind > 1)
		return tool_usage_error(argv[0], "too many arguments");
	if (optind < argc) {
		fleet = argv[optind];
		if (!tool_fleet_name_ok(argv[0], fleet))
			return TOOL_EXIT_USAGE;
	}
	r = tool_segments_find(fleet, &segments, &count);
	if (r < 0)
		return tool_error("cannot read /dev/shm: %s", strerror(-r));
	if (fleet && count == 0) {
		tool_segments_free(segments, count);
		return tool_error("no fleet %s", fleet);
	}

	table_init(&t, ls_columns, sizeof(ls_columns) / sizeof(ls_columns[0]));
	json_init(&j, stdout);
	if (json)
		json_array_begin(&j);
	for (size_t i = 0; i < count; i++) {
		struct tool_ring_info info;

		tool_ring_info(segments[i].fleet, segments[i].kind, &info);
		if (json) {
			json_object_begin(&j);
			json_field_string(&j, "fleet", segments[i].fleet);
			json_field_uint(&j, "kind", segments[i].kind);
			json_ring_info(&j, &info);
			json_object_end(&j);
		} else {
			table_ring_info(&t, segments[i].fleet, segments[i].kind, &info);
		}
	}
	if (json) {
		json_array_end(&j);
		json_end_line(&j);
	} else {
		table_print(&t, stdout, true);
	}
	table_free(&t);
	tool_segments_free(segments, count);
	return TOOL_EXIT_OK;
}

static const struct table_column stat_columns[] = {
	{ "FIELD", false },
	{ "VALUE", false },
};

static void stat_print(const char *fleet, uint8_t kind, const struct tool_ring_info *info)
{
	struct info_text text;
	struct table t;

	info_text(info, &text);
	table_init(&t, stat_columns, 2);
	table_add(&t, "fleet");
	table_add(&t, "%s", fleet);
	table_add(&t, "kind");
	table_add(&t, "%u", kind);
	table_add(&t, "layout");
	table_add(&t, "%u", info->layout);
	table_add(&t, "capacity");
	table_add(&t, "%u", info->capacity);
	table_add(&t, "payload_max");
	table_add(&t, "%u", info->payload_max);
	table_add(&t, "head");
	table_add(&t, "%llu", (unsigned long long)info->head);
	table_add(&t, "oldest");
	table_add(&t, "%llu", (unsigned long long)oldest_counter(info));
	table_add(&t, "bytes");
	table_add_number(&t, info->have_file, info->bytes);
	table_add(&t, "owner");
	table_add(&t, "%s", text.owner);
	table_add(&t, "mode");
	table_add(&t, "%s", text.mode);
	table_add(&t, "last_write");
	table_add(&t, "%s", text.age);
	table_print(&t, stdout, false);
	table_free(&t);
}

int cmd_stat(int argc, char **argv)
{
	struct tool_ring_info info;
	bool json = false;
	const char *fleet;
	uint8_t kind;
	struct json j;
	int r;

	r = parse_json_options(argc, argv, stat_help, &json);
	if (r >= 0)
		return r;
	if (argc - optind != 2)
		return tool_usage_error(argv[0], "wants FLEET and KIND");
	fleet = argv[optind];
	if (!tool_fleet_name_ok(argv[0], fleet) || !tool_kind_ok(argv[0], argv[optind + 1], &kind))
		return TOOL_EXIT_USAGE;

	tool_ring_info(fleet, kind, &info);
	if (info.status < 0)
		return tool_ring_error(fleet, kind, info.status);
	if (!json) {
		stat_print(fleet, kind, &info);
		return TOOL_EXIT_OK;
	}
	json_init(&j, stdout);
	json_object_begin(&j);
	json_field_string(&j, "fleet", fleet);
	json_field_uint(&j, "kind", kind);
	json_ring_info(&j, &info);
	json_object_end(&j);
	json_end_line(&j);
	return TOOL_EXIT_OK;
}
