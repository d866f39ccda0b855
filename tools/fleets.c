/* SPDX-License-Identifier: MIT */
/*
 * Fleets as the orbit tool sees them: whose fleets it looks at (the caller's, or
 * --owner's), segment names found in /dev/shm, rings joined with the options their
 * headers give (orbit_fleet_probe), and what a failure means, in words.
 */
#include "fleets.h"

#include <orbit.h>

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "basics.h"

#define SEGMENT_PREFIX "orbit-"

static bool owner_set;
static uid_t owner_uid;

void tool_set_owner(uid_t uid)
{
	owner_set = true;
	owner_uid = uid;
}

uid_t tool_owner(void)
{
	return owner_set ? owner_uid : geteuid();
}

int tool_parse_user(const char *text, uid_t *uid)
{
	struct passwd pw, *found = NULL;
	char scratch[1024];
	uint64_t v;

	if (getpwnam_r(text, &pw, scratch, sizeof(scratch), &found) == 0 && found) {
		*uid = found->pw_uid;
		return 0;
	}
	/* (uid_t)-1 means "no change" to the calls that take a uid: never a user. */
	if (tool_parse_u64(text, UINT32_MAX - 1, &v) < 0)
		return -EINVAL;
	*uid = (uid_t)v;
	return 0;
}

/* Another user's fleet is joined through its group, read-write: the mode says so. */
static void owner_options(uid_t owner, orbit_fleet_options_t *opts)
{
	if (owner == geteuid())
		return;
	opts->flags |= ORBIT_FLEET_OWNER;
	opts->owner = owner;
	opts->mode = 0660;
}

static bool all_digits(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return len > 0;
}

/* Decimal as liborbit writes it (no leading zero) up to max, into *value. */
static bool decimal(const char *s, size_t len, uint64_t max, uint64_t *value)
{
	uint64_t v = 0;

	if (len == 0 || len > 10 || !all_digits(s, len) || (len > 1 && s[0] == '0'))
		return false;
	for (size_t i = 0; i < len; i++)
		v = v * 10 + (uint64_t)(s[i] - '0');
	*value = v;
	return v <= max;
}

/*
 * Splits "orbit-{fleet}-{kind}-{uid}" from the right (a fleet name may hold '-';
 * kind and uid are decimal, written as liborbit writes them). Returns the fleet
 * name's length, or 0 for any other name. Nothing else about the name is trusted:
 * anyone can create one, holding any byte.
 */
static size_t segment_parse(const char *name, uint8_t *kind, uid_t *uid)
{
	const char *fleet = name + strlen(SEGMENT_PREFIX);
	const char *uid_dash = strrchr(name, '-');
	const char *kind_dash;
	uint64_t k, u;

	if (strncmp(name, SEGMENT_PREFIX, strlen(SEGMENT_PREFIX)) != 0 || !uid_dash ||
	    uid_dash < fleet || !decimal(uid_dash + 1, strlen(uid_dash + 1), UINT32_MAX - 1, &u))
		return 0;
	for (kind_dash = uid_dash - 1; kind_dash >= fleet && *kind_dash != '-'; kind_dash--)
		;
	if (kind_dash <= fleet ||
	    !decimal(kind_dash + 1, (size_t)(uid_dash - kind_dash - 1), UINT8_MAX, &k))
		return 0;
	*kind = (uint8_t)k;
	*uid = (uid_t)u;
	return (size_t)(kind_dash - fleet);
}

static int segment_compare(const void *a, const void *b)
{
	const struct tool_segment *x = a, *y = b;
	int by_fleet = strcmp(x->fleet, y->fleet);

	if (by_fleet)
		return by_fleet;
	if (x->uid != y->uid)
		return x->uid < y->uid ? -1 : 1;
	return (int)x->kind - (int)y->kind;
}

int tool_segments_find(const char *fleet, bool all_users, struct tool_segment **segments,
		       size_t *count)
{
	struct tool_segment *found = NULL;
	size_t n = 0, capacity = 0;
	struct dirent *entry;
	DIR *dir;

	dir = opendir(TOOL_SHM_DIR);
	if (!dir)
		return -errno;
	while ((entry = readdir(dir))) {
		const char *name = entry->d_name;
		size_t fleet_len;
		uint8_t kind;
		uid_t uid;

		fleet_len = segment_parse(name, &kind, &uid);
		if (!fleet_len || (!all_users && uid != tool_owner()))
			continue;
		name += strlen(SEGMENT_PREFIX);
		if (fleet && (strlen(fleet) != fleet_len || strncmp(fleet, name, fleet_len) != 0))
			continue;
		if (n == capacity) {
			capacity = capacity ? capacity * 2 : 16;
			found = realloc(found, capacity * sizeof(*found));
			if (!found)
				tool_oom();
		}
		found[n].fleet = strndup(name, fleet_len);
		if (!found[n].fleet)
			tool_oom();
		found[n].uid = uid;
		found[n++].kind = kind;
	}
	closedir(dir);
	if (n)
		qsort(found, n, sizeof(*found), segment_compare);
	*segments = found;
	*count = n;
	return 0;
}

void tool_segments_free(struct tool_segment *segments, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(segments[i].fleet);
	free(segments);
}

bool tool_fleet_exists(const char *fleet)
{
	struct tool_segment *segments;
	size_t count;

	if (tool_segments_find(fleet, false, &segments, &count) < 0)
		return false;
	tool_segments_free(segments, count);
	return count > 0;
}

static void user_text(uid_t uid, char *buf, size_t size)
{
	char name[64];

	tool_user_name(uid, name, sizeof(name));
	snprintf(buf, size, "%s (uid %lu)", name, (unsigned long)uid);
}

/* Names the other users who have a fleet of that name, and how to look at theirs. */
static void hint_other_owners(const char *fleet)
{
	struct tool_segment *segments;
	char who[128], path[512];
	size_t count;
	struct stat st;

	if (tool_segments_find(fleet, true, &segments, &count) < 0)
		return;
	for (size_t i = 0; i < count; i++) {
		if (segments[i].uid == tool_owner() ||
		    (i > 0 && segments[i].uid == segments[i - 1].uid))
			continue;
		tool_segment_path(fleet, segments[i].kind, segments[i].uid, path, sizeof(path));
		user_text(segments[i].uid, who, sizeof(who));
		if (lstat(path, &st) == 0)
			fprintf(stderr,
				"  %s has one: %s, owner %lu, mode %04o; 'orbit --owner %lu ...' "
				"looks at it\n",
				who, path, (unsigned long)st.st_uid, (unsigned)(st.st_mode & 07777),
				(unsigned long)segments[i].uid);
	}
	tool_segments_free(segments, count);
}

int tool_no_fleet(const char *fleet)
{
	char who[128];

	if (owner_set && owner_uid != geteuid()) {
		user_text(owner_uid, who, sizeof(who));
		tool_error("no fleet %s of %s", fleet, who);
	} else {
		tool_error("no fleet %s", fleet);
	}
	hint_other_owners(fleet);
	return TOOL_EXIT_ERROR;
}

int tool_existing_fleet_operand(const char *command, int argc, char **argv, const char **fleet)
{
	if (argc - optind != 1)
		return tool_usage_error(command, "wants FLEET");
	*fleet = argv[optind];
	if (!tool_fleet_name_ok(command, *fleet))
		return TOOL_EXIT_USAGE;
	if (!tool_fleet_exists(*fleet))
		return tool_no_fleet(*fleet);
	return 0;
}

void tool_segment_path(const char *fleet, uint8_t kind, uid_t uid, char *buf, size_t size)
{
	snprintf(buf, size, TOOL_SHM_DIR "/" SEGMENT_PREFIX "%s-%u-%lu", fleet, kind,
		 (unsigned long)uid);
}

/* A segment whose header is not written yet may be being created: give its creator a
 * moment (liborbit's own creation lock gives up after 2 s without progress). */
#define PROBE_RETRIES  20
#define PROBE_RETRY_NS (50 * 1000 * 1000L)

static int probe_settled(const char *fleet, uint8_t kind, orbit_fleet_options_t *opts)
{
	const struct timespec pause = { .tv_nsec = PROBE_RETRY_NS };
	int r = orbit_fleet_probe(fleet, kind, opts);

	for (int i = 0; r == -EAGAIN && i < PROBE_RETRIES; i++) {
		nanosleep(&pause, NULL);
		r = orbit_fleet_probe(fleet, kind, opts);
	}
	return r;
}

/* The options of one ring of uid's fleet, as its header gives them. */
static int probe_of(const char *fleet, uint8_t kind, uid_t uid, orbit_fleet_options_t *opts)
{
	*opts = (orbit_fleet_options_t)ORBIT_FLEET_OPTIONS_INIT;
	owner_options(uid, opts);
	return orbit_fleet_probe(fleet, kind, opts);
}

static bool same_geometry(const orbit_fleet_options_t *a, const orbit_fleet_options_t *b)
{
	return a->capacity == b->capacity && a->payload_max == b->payload_max;
}

int tool_fleet_options(const char *fleet, orbit_fleet_options_t *opts)
{
	struct tool_segment *segments;
	size_t count, agreed = 0;
	int r = tool_segments_find(fleet, false, &segments, &count);

	if (r < 0)
		return r;
	for (size_t i = 0; i < count && r == 0; i++) {
		orbit_fleet_options_t ring;

		/* A ring that cannot be read (being created, damaged) says nothing. */
		if (probe_of(fleet, segments[i].kind, tool_owner(), &ring) < 0)
			continue;
		if (agreed++ == 0)
			*opts = ring;
		else if (!same_geometry(opts, &ring))
			r = TOOL_ERR_MIXED;
	}
	tool_segments_free(segments, count);
	return r < 0 ? r : agreed ? 0 : -ENOENT;
}

/*
 * The options a ring joins with: its own header's, or for a ring to create, those of
 * the fleet's other rings (a fleet's rings must agree), or for a new fleet, defaults.
 */
static int ring_options(const char *fleet, uint8_t kind, bool create, orbit_fleet_options_t *opts)
{
	int r;

	*opts = (orbit_fleet_options_t)ORBIT_FLEET_OPTIONS_INIT;
	owner_options(tool_owner(), opts);
	r = probe_settled(fleet, kind, opts);
	/* Without create, a ring that is not there is an answer, not a ring to make. */
	if (r != -ENOENT || !create)
		return r;
	r = tool_fleet_options(fleet, opts);
	if (r != -ENOENT)
		return r;
	*opts = (orbit_fleet_options_t)ORBIT_FLEET_OPTIONS_INIT;
	owner_options(tool_owner(), opts);
	return 0;
}

/* Joins the fleet with opts, as node of size, and opens ring kind of it. */
static int ring_join(const char *fleet, uint8_t kind, uint16_t node, uint16_t size,
		     const orbit_fleet_options_t *opts, struct tool_ring *out)
{
	int r;

	*out = (struct tool_ring){ 0 };
	r = orbit_fleet_join_shm(fleet, node, size, opts, &out->fleet);
	if (r < 0)
		return r;
	r = orbit_fleet_ring(out->fleet, kind, &out->ring);
	if (r < 0) {
		orbit_fleet_leave(out->fleet);
		out->fleet = NULL;
	}
	return r;
}

int tool_ring_open(const char *fleet, uint8_t kind, uint16_t node, uint16_t size, bool create,
		   struct tool_ring *out)
{
	orbit_fleet_options_t opts;
	int r = ring_options(fleet, kind, create, &opts);

	return r < 0 ? r : ring_join(fleet, kind, node, size, &opts, out);
}

void tool_ring_close(struct tool_ring *r)
{
	orbit_fleet_leave(r->fleet);
	*r = (struct tool_ring){ 0 };
}

const char *tool_ring_strerror(int err)
{
	switch (-err) {
	case ENOENT:
		return "no such ring";
	case EAGAIN:
		return "being created: its header is not written yet";
	case EPROTO:
		return "not a liborbit ring of this kind, or its header and size disagree "
		       "(ORBIT_DEBUG=1 says which)";
	case EPERM:
		return "owned by another user";
	case EACCES:
		return "its mode grants more than 0660, or it cannot be opened";
	case ELOOP:
		return "a symbolic link";
	case ETIMEDOUT:
		return "held locked by its creator";
	case EINVAL:
		return "not a name liborbit makes";
	case -TOOL_ERR_NO_ACCESS:
		return "another user's ring, which its mode or group does not let us join";
	case -TOOL_ERR_MIXED:
		return "the fleet's rings disagree on capacity or payload size, so a new ring's "
		       "options would be a guess";
	default:
		return strerror(-err);
	}
}

const char *tool_ring_status(int err)
{
	switch (-err) {
	case 0:
		return "ok";
	case ENOENT:
		return "gone";
	case EAGAIN:
		return "creating";
	case EPROTO:
		return "bad-header";
	case EPERM:
		return "foreign";
	case EACCES:
		return "bad-mode";
	case ELOOP:
		return "symlink";
	case ETIMEDOUT:
		return "locked";
	case EINVAL:
		return "bad-name";
	case -TOOL_ERR_MIXED:
		return "mixed";
	case -TOOL_ERR_NO_ACCESS:
		return "no-access";
	default:
		return "error";
	}
}

/* " (events)" after a substrate's kind, to say which ring a message is about. */
static const char *kind_suffix(uint8_t kind)
{
	switch (kind) {
	case ORBIT_KIND_CACHE:
		return " (cache)";
	case ORBIT_KIND_EVENTS:
		return " (events)";
	case ORBIT_KIND_HEARTBEAT:
		return " (heartbeat)";
	case ORBIT_KIND_CONTEST:
		return " (contest)";
	default:
		return "";
	}
}

/* The file behind a ring that could not be used: where it is, whose, what mode. */
static void explain_segment(const char *fleet, uint8_t kind)
{
	char path[512], owner[128];
	struct stat st;

	tool_segment_path(fleet, kind, tool_owner(), path, sizeof(path));
	if (lstat(path, &st) < 0)
		return;
	user_text(st.st_uid, owner, sizeof(owner));
	fprintf(stderr, "  %s: owner %s, mode %04o, %lld bytes\n", path, owner,
		(unsigned)(st.st_mode & 07777), (long long)st.st_size);
}

int tool_ring_error(const char *fleet, uint8_t kind, int err)
{
	if (err == -ENOENT && !tool_fleet_exists(fleet))
		return tool_no_fleet(fleet);
	if (err == -ENOENT)
		return tool_error("fleet %s has no ring of kind %u%s", fleet, kind,
				  kind_suffix(kind));
	tool_error("fleet %s, ring of kind %u%s: %s", fleet, kind, kind_suffix(kind),
		   tool_ring_strerror(err));
	explain_segment(fleet, kind);
	return TOOL_EXIT_ERROR;
}

/* Whether frames of this ring kind carry their write time (Unix ms) in ver. */
static bool kind_has_time(uint8_t kind)
{
	return kind == ORBIT_KIND_EVENTS || kind == ORBIT_KIND_HEARTBEAT ||
	       kind == ORBIT_KIND_CONTEST;
}

static void ring_info_age(orbit_ring_t *ring, uint8_t kind, struct tool_ring_info *info)
{
	orbit_frame_t frame;
	int r;

	if (!kind_has_time(kind))
		return;
	/* Only the frame header is wanted: a payload that does not fit is fine. */
	r = orbit_ring_read_head(ring, &frame, NULL, 0);
	if (r < 0 && r != -EMSGSIZE)
		return;
	info->have_age = true;
	info->age_ms = (int64_t)(unix_ms() - frame.ver);
}

void tool_ring_info(const char *fleet, uint8_t kind, uid_t uid, struct tool_ring_info *info)
{
	orbit_fleet_options_t opts;
	char path[512];
	struct tool_ring r;
	struct stat st;

	*info = (struct tool_ring_info){ .name_uid = uid };
	tool_segment_path(fleet, kind, uid, path, sizeof(path));
	if (lstat(path, &st) == 0) {
		info->have_file = true;
		info->bytes = (uint64_t)st.st_size;
		info->uid = st.st_uid;
		info->mode = st.st_mode & 07777;
	}
	/* A listing is a snapshot: a segment being created is shown so, not waited for. */
	info->status = probe_of(fleet, kind, uid, &opts);
	if (info->status < 0)
		return;
	info->have_header = true;
	info->capacity = opts.capacity;
	info->payload_max = opts.payload_max;
	info->layout = info->payload_max == ORBIT_LAYOUT1_PAYLOAD ? 1 : 2;
	/* Another user's fleet that is not shared with our group shows its header only. */
	info->status = ring_join(fleet, kind, 0, TOOL_FLEET_SIZE, &opts, &r);
	if (info->status == -EACCES && uid != geteuid())
		info->status = TOOL_ERR_NO_ACCESS;
	if (info->status < 0)
		return;
	info->have_head = true;
	info->head = orbit_ring_head(r.ring);
	ring_info_age(r.ring, kind, info);
	tool_ring_close(&r);
}

void tool_user_name(uid_t uid, char *buf, size_t size)
{
	struct passwd pw, *found = NULL;
	char scratch[1024];

	if (getpwuid_r(uid, &pw, scratch, sizeof(scratch), &found) == 0 && found)
		snprintf(buf, size, "%s", found->pw_name);
	else
		snprintf(buf, size, "%lu", (unsigned long)uid);
}

int tool_heartbeats(const char *fleet, uint16_t size, uint64_t max_age_ms, orbit_member_t **members)
{
	orbit_member_t *m = tool_calloc(size, sizeof(*m));
	struct tool_ring r;
	int ret;

	for (uint16_t node = 0; node < size; node++)
		m[node] = (orbit_member_t){ .node = node, .state = ORBIT_MEMBER_MISSING };
	ret = tool_ring_open(fleet, ORBIT_KIND_HEARTBEAT, 0, size, false, &r);
	if (ret == 0) {
		ret = orbit_heartbeat_snapshot(r.fleet, max_age_ms, m, size);
		tool_ring_close(&r);
	} else if (ret == -ENOENT) {
		ret = 0; /* no heartbeat ring: no node has ever beaten */
	}
	if (ret < 0) {
		free(m);
		return ret;
	}
	*members = m;
	return 0;
}
