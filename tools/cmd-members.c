/* SPDX-License-Identifier: MIT */
/*
 * orbit members: which nodes of a fleet are alive, stale or missing, from the
 * newest heartbeat of each in the ring ORBIT_KIND_HEARTBEAT.
 */
#include <orbit.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "fleets.h"
#include "output.h"
#include "basics.h"

#define MEMBERS_DEFAULT_MAX_AGE_MS 5000

static const char members_help[] =
	"Usage: orbit members [--size N] [--max-age-ms MS] [--json] FLEET\n"
	"\n"
	"Show each node of FLEET as alive (its newest heartbeat is at most MS old, and\n"
	"its processes are not known to be gone), stale (older, or its processes are\n"
	"gone) or missing (no heartbeat retained), with the age of its newest beat.\n"
	"Nodes 0 to N-1 are shown; without --size, N is the highest node with a\n"
	"retained heartbeat, plus one.\n"
	"\n"
	"  --size N         the fleet's size: show nodes 0 to N-1 (1..65535)\n"
	"  --max-age-ms MS  how old a beat may be for its node to be alive (default 5000)\n"
	"  --json           one JSON array, an object per node\n"
	"  --help           show this help\n";

static const struct option members_options[] = {
	{ "size", required_argument, NULL, 's' },
	{ "max-age-ms", required_argument, NULL, 'a' },
	{ "json", no_argument, NULL, 'j' },
	{ "help", no_argument, NULL, 'h' },
	{ 0 },
};

static const char *state_name(uint8_t state)
{
	switch (state) {
	case ORBIT_MEMBER_ALIVE:
		return "alive";
	case ORBIT_MEMBER_STALE:
		return "stale";
	default:
		return "missing";
	}
}

static const struct table_column members_columns[] = {
	{ "NODE", true },
	{ "STATE", false },
	{ "LAST-BEAT", true },
};

static void members_print(const orbit_member_t *m, size_t count, bool json)
{
	uint64_t now = unix_ms();
	struct table t;
	struct json j;

	table_init(&t, members_columns, sizeof(members_columns) / sizeof(members_columns[0]));
	json_init(&j, stdout);
	if (json)
		json_array_begin(&j);
	for (size_t i = 0; i < count; i++) {
		bool beat = m[i].state != ORBIT_MEMBER_MISSING;
		int64_t age = (int64_t)(now - m[i].last_beat_ms);
		char text[32] = "-";

		if (json) {
			json_object_begin(&j);
			json_field_uint(&j, "node", m[i].node);
			json_field_string(&j, "state", state_name(m[i].state));
			if (beat) {
				json_field_uint(&j, "last_beat_ms", m[i].last_beat_ms);
				json_field_int(&j, "age_ms", age);
			} else {
				json_field_null(&j, "last_beat_ms");
				json_field_null(&j, "age_ms");
			}
			json_object_end(&j);
			continue;
		}
		if (beat)
			tool_format_age(age, text, sizeof(text));
		table_add(&t, "%u", m[i].node);
		table_add(&t, "%s", state_name(m[i].state));
		table_add(&t, "%s", text);
	}
	if (json) {
		json_array_end(&j);
		json_end_line(&j);
	} else {
		table_print(&t, stdout, true);
	}
	table_free(&t);
}

/*
 * An empty or all-stale table is an answer, but a puzzling one: says on stderr why no
 * node is alive, keeping stdout the table (or JSON) a script parses.
 */
static void explain_none_alive(const char *fleet, const orbit_member_t *members, size_t count,
			       uint64_t max_age_ms)
{
	uint64_t newest = 0;
	char path[512];

	for (size_t node = 0; node < count; node++) {
		if (members[node].state == ORBIT_MEMBER_ALIVE)
			return;
		if (members[node].last_beat_ms > newest)
			newest = members[node].last_beat_ms;
	}
	tool_segment_path(fleet, ORBIT_KIND_HEARTBEAT, tool_owner(), path, sizeof(path));
	if (access(path, F_OK) < 0) {
		fprintf(stderr,
			"orbit: fleet %s has no heartbeat ring (kind %u): none of its nodes has "
			"ever beaten (nodes beat with orbit_heartbeat(3))\n",
			fleet, ORBIT_KIND_HEARTBEAT);
	} else if (!newest) {
		fprintf(stderr,
			"orbit: the heartbeat ring of fleet %s holds no beat of these nodes\n",
			fleet);
	} else if (unix_ms() - newest <= max_age_ms) {
		fprintf(stderr,
			"orbit: no node of fleet %s is alive: the processes of the nodes that beat "
			"are gone\n",
			fleet);
	} else {
		char age[32];

		tool_format_age((int64_t)(unix_ms() - newest), age, sizeof(age));
		fprintf(stderr,
			"orbit: no node of fleet %s is alive: the newest beat is %s old, more than "
			"--max-age-ms %llu\n",
			fleet, age, (unsigned long long)max_age_ms);
	}
}

int cmd_members(int argc, char **argv)
{
	uint64_t size = 0, max_age = MEMBERS_DEFAULT_MAX_AGE_MS;
	orbit_member_t *members;
	const char *fleet;
	bool json = false;
	size_t count;
	int c, r;

	while ((c = getopt_long(argc, argv, ":h", members_options, NULL)) != -1) {
		switch (c) {
		case 's':
			if (tool_parse_option(argv[0], "--size", optarg, UINT16_MAX, &size) < 0)
				return TOOL_EXIT_USAGE;
			if (size == 0)
				return tool_usage_error(argv[0], "--size is at least 1");
			break;
		case 'a':
			if (tool_parse_option(argv[0], "--max-age-ms", optarg, UINT64_MAX,
					      &max_age) < 0)
				return TOOL_EXIT_USAGE;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			return tool_help(members_help);
		default:
			return tool_bad_option(argv[0], argv, c);
		}
	}
	r = tool_existing_fleet_operand(argv[0], argc, argv, &fleet);
	if (r)
		return r;

	r = tool_heartbeats(fleet, size ? (uint16_t)size : TOOL_FLEET_SIZE, max_age, &members);
	if (r < 0)
		return tool_ring_error(fleet, ORBIT_KIND_HEARTBEAT, r);
	count = size;
	if (!size)
		for (size_t node = 0; node < TOOL_FLEET_SIZE; node++)
			if (members[node].state != ORBIT_MEMBER_MISSING)
				count = node + 1;
	members_print(members, count, json);
	explain_none_alive(fleet, members, size ? size : TOOL_FLEET_SIZE, max_age);
	free(members);
	return TOOL_EXIT_OK;
}
