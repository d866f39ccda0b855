/* SPDX-License-Identifier: MIT */
/*
 * orbit ls and orbit stat: what the rings in /dev/shm are, from their files (size,
 * owner, mode) and their headers (probe, then a join). Names come from /dev/shm,
 * where anyone can create any name: they are escaped like frame bytes.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "fleets.h"
#include "output.h"

static const char ls_help[] =
	"Usage: orbit ls [--all] [--json] [FLEET]\n"
	"\n"
	"List the rings of this user's fleets in /dev/shm (of FLEET only, if given):\n"
	"fleet, kind, layout, capacity, payload size, head, segment bytes, owner, mode,\n"
	"age of the last write (events, heartbeat and contest rings only) and status.\n"
	"A fleet whose rings disagree on capacity or payload size is flagged 'mixed'.\n"
	"\n"
	"  --all    every user's fleets (root sees every header; a fleet is joined to\n"
	"           read its head only where its group lets the caller in)\n"
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

static const struct option ls_options[] = {
	{ "all", no_argument, NULL, 'a' },
	{ "json", no_argument, NULL, 'j' },
	{ "help", no_argument, NULL, 'h' },
	{ 0 },
};

/* Parses --json, --help and (ls only: all not NULL) --all; returns -1 to go on, else
 * the exit status. */
static int parse_json_options(int argc, char **argv, const char *help, bool *json, bool *all)
{
	int c;

	while ((c = getopt_long(argc, argv, ":h", all ? ls_options : json_options, NULL)) != -1) {
		switch (c) {
		case 'a':
			*all = true;
			break;
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
static void json_field_known(struct json *j, const char *key, bool known, uint64_t v)
{
	if (known)
		json_field_uint(j, key, v);
	else
		json_field_null(j, key);
}

static void json_ring_info(struct json *j, const struct tool_ring_info *info)
{
	struct info_text text;

	info_text(info, &text);
	json_field_known(j, "layout", info->have_header, info->layout);
	json_field_known(j, "capacity", info->have_header, info->capacity);
	json_field_known(j, "payload_max", info->have_header, info->payload_max);
	json_field_known(j, "head", info->have_head, info->head);
	json_field_known(j, "oldest", info->have_head, oldest_counter(info));
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
	json_field_uint(j, "name_uid", info->name_uid);
	json_field_string(j, "status", tool_ring_status(info->status));
	if (info->status == 0)
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
	char *name = tool_escape(fleet, strlen(fleet), false);
	struct info_text text;

	info_text(info, &text);
	table_add(t, "%s", name);
	free(name);
	table_add(t, "%u", kind);
	table_add_number(t, info->have_header, info->layout);
	table_add_number(t, info->have_header, info->capacity);
	table_add_number(t, info->have_header, info->payload_max);
	table_add_number(t, info->have_head, info->head);
	table_add_number(t, info->have_file, info->bytes);
	table_add(t, "%s", text.owner);
	table_add(t, "%s", text.mode);
	table_add(t, "%s", text.age);
	table_add(t, "%s", tool_ring_status(info->status));
}

/* Whether segments i and k are rings of one fleet (of one user). */
static bool same_fleet(const struct tool_segment *a, const struct tool_segment *b)
{
	return a->uid == b->uid && strcmp(a->fleet, b->fleet) == 0;
}

/* Flags every ring of a fleet (infos[0..n)) whose rings disagree on their geometry. */
static void flag_mixed(struct tool_ring_info *infos, size_t n)
{
	const struct tool_ring_info *first = NULL;
	bool mixed = false;

	for (size_t i = 0; i < n; i++) {
		if (!infos[i].have_header)
			continue;
		if (!first)
			first = &infos[i];
		else if (infos[i].capacity != first->capacity ||
			 infos[i].payload_max != first->payload_max)
			mixed = true;
	}
	for (size_t i = 0; mixed && i < n; i++)
		if (infos[i].status == 0)
			infos[i].status = TOOL_ERR_MIXED;
}

static void ls_print(const struct tool_segment *segments, const struct tool_ring_info *infos,
		     size_t count, bool json)
{
	struct table t;
	struct json j;

	table_init(&t, ls_columns, sizeof(ls_columns) / sizeof(ls_columns[0]));
	json_init(&j, stdout);
	if (json)
		json_array_begin(&j);
	for (size_t i = 0; i < count; i++) {
		if (!json) {
			table_ring_info(&t, segments[i].fleet, segments[i].kind, &infos[i]);
			continue;
		}
		json_object_begin(&j);
		json_field_string(&j, "fleet", segments[i].fleet);
		json_field_uint(&j, "kind", segments[i].kind);
		json_ring_info(&j, &infos[i]);
		json_object_end(&j);
	}
	if (json) {
		json_array_end(&j);
		json_end_line(&j);
	} else {
		table_print(&t, stdout, true);
	}
	table_free(&t);
}

int cmd_ls(int argc, char **argv)
{
	struct tool_segment *segments;
	struct tool_ring_info *infos;
	bool json = false, all = false;
	const char *fleet = NULL;
	size_t count, start = 0;
	int r;

	r = parse_json_options(argc, argv, ls_help, &json, &all);
	if (r >= 0)
		return r;
	if (argc - optind > 1)
		return tool_usage_error(argv[0], "too many arguments");
	if (optind < argc) {
		fleet = argv[optind];
		if (!tool_fleet_name_ok(argv[0], fleet))
			return TOOL_EXIT_USAGE;
	}
	r = tool_segments_find(fleet, all, &segments, &count);
	if (r < 0)
		return tool_error("cannot read " TOOL_SHM_DIR ": %s", strerror(-r));
	if (fleet && count == 0) {
		tool_segments_free(segments, count);
		return tool_no_fleet(fleet);
	}
	infos = tool_calloc(count ? count : 1, sizeof(*infos));
	for (size_t i = 0; i < count; i++) {
		tool_ring_info(segments[i].fleet, segments[i].kind, segments[i].uid, &infos[i]);
		if (i + 1 == count || !same_fleet(&segments[i], &segments[i + 1])) {
			flag_mixed(infos + start, i + 1 - start);
			start = i + 1;
		}
	}
	ls_print(segments, infos, count, json);
	free(infos);
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

	r = parse_json_options(argc, argv, stat_help, &json, NULL);
	if (r >= 0)
		return r;
	if (argc - optind != 2)
		return tool_usage_error(argv[0], "wants FLEET and KIND");
	fleet = argv[optind];
	if (!tool_fleet_name_ok(argv[0], fleet) || !tool_kind_ok(argv[0], argv[optind + 1], &kind))
		return TOOL_EXIT_USAGE;

	tool_ring_info(fleet, kind, tool_owner(), &info);
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
