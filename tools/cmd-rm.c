/* SPDX-License-Identifier: MIT */
/*
 * orbit rm: unlink every segment of a fleet (orbit_fleet_unlink), but not while
 * its heartbeats say someone is still there.
 */
#include "tool.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#define RM_DEFAULT_WINDOW_MS 5000
/* Nodes named in the refusal; the rest are counted. */
#define RM_NAMED_MAX 8

static const char rm_help[] =
	"Usage: orbit rm [--force] [--window-ms MS] FLEET\n"
	"\n"
	"Remove every ring segment of FLEET from /dev/shm. Processes that have them\n"
	"mapped keep using them; new joins create fresh rings. Refused while a node\n"
	"of the fleet has beaten within the window, unless --force.\n"
	"\n"
	"  --force         remove even when nodes are alive\n"
	"  --window-ms MS  a beat this recent makes the fleet live (default 5000)\n"
	"  --help          show this help\n";

static const struct option rm_options[] = {
	{ "force", no_argument, NULL, 'f' },
	{ "window-ms", required_argument, NULL, 'w' },
	{ "help", no_argument, NULL, 'h' },
	{ 0 },
};

/* Refuses (returns TOOL_EXIT_ERROR, saying who beat when) if any node beat within the window. */
static int rm_check_live(const char *fleet, uint64_t window_ms)
{
	uint64_t now = tool_unix_ms();
	orbit_member_t *m;
	size_t alive = 0;
	int r;

	r = tool_heartbeats(fleet, TOOL_FLEET_SIZE, window_ms, &m);
	if (r < 0)
		return tool_error("cannot read the heartbeats of fleet %s: %s; --force removes it "
				  "anyway",
				  fleet, tool_ring_strerror(r));
	for (size_t node = 0; node < TOOL_FLEET_SIZE; node++) {
		char age[32];

		if (m[node].state != ORBIT_MEMBER_ALIVE)
			continue;
		if (alive++ == 0)
			tool_error("fleet %s is live: nodes beat within the last %llums:", fleet,
				   (unsigned long long)window_ms);
		if (alive > RM_NAMED_MAX)
			continue;
		tool_format_age((int64_t)(now - m[node].last_beat_ms), age, sizeof(age));
		fprintf(stderr, "  node %zu beat %s ago\n", node, age);
	}
	free(m);
	if (!alive)
		return TOOL_EXIT_OK;
	if (alive > RM_NAMED_MAX)
		fprintf(stderr, "  and %zu more\n", alive - RM_NAMED_MAX);
	fputs("Stop its processes first, or use --force.\n", stderr);
	return TOOL_EXIT_ERROR;
}

int cmd_rm(int argc, char **argv)
{
	uint64_t window_ms = RM_DEFAULT_WINDOW_MS;
	orbit_fleet_t *handle;
	const char *fleet;
	bool force = false;
	int c, r;

	while ((c = getopt_long(argc, argv, ":h", rm_options, NULL)) != -1) {
		switch (c) {
		case 'f':
			force = true;
			break;
		case 'w':
			if (tool_parse_option(argv[0], "--window-ms", optarg, UINT64_MAX,
					      &window_ms) < 0)
				return TOOL_EXIT_USAGE;
			break;
		case 'h':
			return tool_help(rm_help);
		default:
			return tool_bad_option(argv[0], argv, c);
		}
	}
	r = tool_existing_fleet_operand(argv[0], argc, argv, &fleet);
	if (r)
		return r;
	if (!force) {
		r = rm_check_live(fleet, window_ms);
		if (r != TOOL_EXIT_OK)
			return r;
	}

	/* Unlinking needs a handle of the fleet, not its rings: the defaults will do. */
	r = orbit_fleet_join_shm(fleet, 0, 1, NULL, &handle);
	if (r < 0)
		return tool_error("fleet %s: %s", fleet, strerror(-r));
	r = orbit_fleet_unlink(handle);
	orbit_fleet_leave(handle);
	if (r < 0)
		return tool_error("removing fleet %s: %s", fleet, strerror(-r));
	printf("removed %d %s of fleet %s\n", r, r == 1 ? "segment" : "segments", fleet);
	return TOOL_EXIT_OK;
}
