/* SPDX-License-Identifier: MIT */
/*
 * orbit rm: unlink every segment of a fleet (orbit_fleet_unlink), but not while
 * its heartbeats say someone is still there, and never a segment that another user
 * owns under the fleet's names unless told whose it is. Says exactly what went.
 */
#include <orbit.h>

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "fleets.h"
#include "output.h"
#include "basics.h"

#define RM_DEFAULT_WINDOW_MS 5000
/* Nodes named in the refusal; the rest are counted. */
#define RM_NAMED_MAX 8

static const char rm_help[] =
	"Usage: orbit rm [--force] [--window-ms MS] [--squatted-by USER] FLEET\n"
	"\n"
	"Remove every segment of FLEET from /dev/shm: its rings and its lease table.\n"
	"Processes that have them mapped keep using them; new joins create fresh rings.\n"
	"Refused while a node of the fleet has beaten within the window, unless --force.\n"
	"A segment under the fleet's names that another user owns is left in place and\n"
	"reported, unless --squatted-by names that user.\n"
	"\n"
	"  --force             remove even when nodes are alive\n"
	"  --window-ms MS      a beat this recent makes the fleet live (default 5000)\n"
	"  --squatted-by USER  also remove the segments USER owns under the fleet's names\n"
	"  --help              show this help\n";

static const struct option rm_options[] = {
	{ "force", no_argument, NULL, 'f' },
	{ "window-ms", required_argument, NULL, 'w' },
	{ "squatted-by", required_argument, NULL, 's' },
	{ "help", no_argument, NULL, 'h' },
	{ 0 },
};

/* Refuses (returns TOOL_EXIT_ERROR, saying who beat when) if any node beat within the window. */
static int rm_check_live(const char *fleet, uint64_t window_ms)
{
	uint64_t now = unix_ms();
	orbit_member_t *m;
	size_t alive = 0;
	int r;

	r = tool_heartbeats(fleet, TOOL_FLEET_SIZE, window_ms, &m);
	if (r < 0)
		return tool_error("cannot tell whether fleet %s is live: its heartbeat ring is %s; "
				  "--force removes what is the owner's anyway",
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

/* One name of the fleet found in /dev/shm, and what became of it. */
struct rm_name {
	char path[512];
	uid_t uid;
	bool owners; /* the fleet owner's object: orbit_fleet_unlink's to remove */
	int error;   /* why it is still there: -EPERM for another user's, or unlink's */
};

struct rm_plan {
	const char *fleet;
	uid_t owner;
	bool squatter_given;
	uid_t squatter;
	struct rm_name names[256 + 3];
	size_t count;
};

static void plan_add(struct rm_plan *p, const char *path)
{
	struct rm_name *n = &p->names[p->count];
	struct stat st;

	if (lstat(path, &st) < 0)
		return;
	snprintf(n->path, sizeof(n->path), "%s", path);
	n->uid = st.st_uid;
	n->owners = S_ISREG(st.st_mode) && st.st_uid == p->owner;
	p->count++;
}

/* Every name liborbit gives the fleet: a ring of each kind and its lease table's three. */
static void plan_find(struct rm_plan *p)
{
	static const char *const tables[] = { "leases", "subjects", "bells" };
	char path[512];

	for (unsigned kind = 0; kind <= UINT8_MAX; kind++) {
		tool_segment_path(p->fleet, (uint8_t)kind, p->owner, path, sizeof(path));
		plan_add(p, path);
	}
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		snprintf(path, sizeof(path), TOOL_SHM_DIR "/orbit-%s-%s-%lu", p->fleet, tables[i],
			 (unsigned long)p->owner);
		plan_add(p, path);
	}
}

/* The owner's names go through liborbit, which checks each object's owner again. */
static int remove_owners(const struct rm_plan *p)
{
	orbit_fleet_options_t opts = ORBIT_FLEET_OPTIONS_INIT;
	orbit_fleet_t *handle;
	int r;

	if (p->owner != geteuid()) {
		opts.flags = ORBIT_FLEET_OWNER;
		opts.owner = p->owner;
		opts.mode = 0660;
	}
	/* Unlinking needs a handle of the fleet, not its rings: the defaults will do. */
	r = orbit_fleet_join_shm(p->fleet, 0, 1, &opts, &handle);
	if (r < 0)
		return r;
	r = orbit_fleet_unlink(handle);
	orbit_fleet_leave(handle);
	return r;
}

/* A squatter's object is no fleet's: it goes by name, only when its owner was named. */
static void remove_squatted(struct rm_plan *p)
{
	for (size_t i = 0; i < p->count; i++) {
		struct rm_name *n = &p->names[i];

		if (n->owners || !p->squatter_given || n->uid != p->squatter)
			continue;
		if (shm_unlink(n->path + strlen(TOOL_SHM_DIR)) < 0 && errno != ENOENT)
			n->error = -errno;
	}
}

static void explain_left(const struct rm_plan *p, const struct rm_name *n)
{
	char who[64], owner[64];

	tool_user_name(n->uid, who, sizeof(who));
	tool_user_name(p->owner, owner, sizeof(owner));
	if (n->owners || n->error != -EPERM)
		fprintf(stderr, "  %s: %s\n", n->path, strerror(-n->error));
	else
		fprintf(stderr,
			"  %s: owned by %s (uid %lu), not by the fleet's owner %s (uid %lu); "
			"--squatted-by %s removes it\n",
			n->path, who, (unsigned long)n->uid, owner, (unsigned long)p->owner, who);
}

/* Compares /dev/shm with the plan: prints what went, says what stayed and why. */
static int rm_report(struct rm_plan *p, int unlink_error)
{
	size_t removed = 0, left = 0;

	for (size_t i = 0; i < p->count; i++) {
		struct rm_name *n = &p->names[i];

		if (access(n->path, F_OK) < 0) {
			removed++;
			continue;
		}
		left++;
		if (!n->error)
			n->error = n->owners ? (unlink_error < 0 ? unlink_error : -EIO) : -EPERM;
	}
	printf("removed %zu %s of fleet %s\n", removed, removed == 1 ? "segment" : "segments",
	       p->fleet);
	if (!left)
		return TOOL_EXIT_OK;
	for (size_t i = 0; removed && i < p->count; i++)
		if (access(p->names[i].path, F_OK) < 0)
			printf("  %s\n", p->names[i].path);
	tool_error("left %zu %s of fleet %s in place:", left, left == 1 ? "segment" : "segments",
		   p->fleet);
	for (size_t i = 0; i < p->count; i++)
		if (p->names[i].error)
			explain_left(p, &p->names[i]);
	return TOOL_EXIT_ERROR;
}

/* Parses the options and FLEET into plan; returns -1 to go on, else the exit status. */
static int rm_parse(int argc, char **argv, struct rm_plan *p, bool *force, uint64_t *window_ms)
{
	int c;

	while ((c = getopt_long(argc, argv, ":h", rm_options, NULL)) != -1) {
		switch (c) {
		case 'f':
			*force = true;
			break;
		case 'w':
			if (tool_parse_option(argv[0], "--window-ms", optarg, UINT64_MAX,
					      window_ms) < 0)
				return TOOL_EXIT_USAGE;
			break;
		case 's':
			p->squatter_given = true;
			if (tool_parse_user(optarg, &p->squatter) < 0)
				return tool_usage_error(argv[0], "no user '%s'", optarg);
			break;
		case 'h':
			return tool_help(rm_help);
		default:
			return tool_bad_option(argv[0], argv, c);
		}
	}
	if (argc - optind != 1)
		return tool_usage_error(argv[0], "wants FLEET");
	p->fleet = argv[optind];
	p->owner = tool_owner();
	return tool_fleet_name_ok(argv[0], p->fleet) ? -1 : TOOL_EXIT_USAGE;
}

int cmd_rm(int argc, char **argv)
{
	struct rm_plan *plan = tool_calloc(1, sizeof(*plan));
	uint64_t window_ms = RM_DEFAULT_WINDOW_MS;
	bool force = false;
	int r;

	r = rm_parse(argc, argv, plan, &force, &window_ms);
	if (r >= 0)
		goto out;
	plan_find(plan);
	if (!plan->count) {
		r = tool_no_fleet(plan->fleet);
		goto out;
	}
	if (!force) {
		r = rm_check_live(plan->fleet, window_ms);
		if (r != TOOL_EXIT_OK)
			goto out;
	}
	r = remove_owners(plan);
	remove_squatted(plan);
	r = rm_report(plan, r);
out:
	free(plan);
	return r;
}
