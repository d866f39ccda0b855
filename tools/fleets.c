/* SPDX-License-Identifier: MIT */
/*
 * The fleets of this user as the orbit tool sees them: segment names found in
 * /dev/shm, rings joined with the options their headers give (orbit_fleet_probe),
 * and what a failure to probe or join means, in words.
 */
#include "tool.h"

#include <dirent.h>
#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <getopt.h>
#include <unistd.h>

/* Where glibc's shm_open keeps POSIX shared-memory objects on Linux. */
#define SHM_DIR	       "/dev/shm"
#define SEGMENT_PREFIX "orbit-"

static bool all_digits(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return len > 0;
}

/*
 * Splits "orbit-{fleet}-{kind}-{uid}" from the right (a fleet name may hold '-';
 * kind and uid are decimal, written as liborbit writes them) and keeps names of
 * this user. Returns the fleet name's length, or 0 for any other name.
 */
static size_t segment_parse(const char *name, const char *uid, uint8_t *kind)
{
	const char *fleet = name + strlen(SEGMENT_PREFIX);
	const char *uid_dash = strrchr(name, '-');
	const char *kind_dash;
	unsigned v = 0;
	size_t kind_len;

	if (strncmp(name, SEGMENT_PREFIX, strlen(SEGMENT_PREFIX)) != 0 || !uid_dash ||
	    uid_dash < fleet || strcmp(uid_dash + 1, uid) != 0)
		return 0;
	for (kind_dash = uid_dash - 1; kind_dash >= fleet && *kind_dash != '-'; kind_dash--)
		;
	if (kind_dash <= fleet)
		return 0;
	kind_len = (size_t)(uid_dash - kind_dash - 1);
	if (kind_len > 3 || !all_digits(kind_dash + 1, kind_len) ||
	    (kind_len > 1 && kind_dash[1] == '0'))
		return 0;
	for (size_t i = 0; i < kind_len; i++)
		v = v * 10 + (unsigned)(kind_dash[1 + i] - '0');
	if (v > UINT8_MAX)
		return 0;
	*kind = (uint8_t)v;
	return (size_t)(kind_dash - fleet);
}

static int segment_compare(const void *a, const void *b)
{
	const struct tool_segment *x = a, *y = b;
	int by_fleet = strcmp(x->fleet, y->fleet);

	return by_fleet ? by_fleet : (int)x->kind - (int)y->kind;
}

int tool_segments_find(const char *fleet, struct tool_segment **segments, size_t *count)
{
	struct tool_segment *found = NULL;
	size_t n = 0, capacity = 0;
	struct dirent *entry;
	char uid[24];
	DIR *dir;

	snprintf(uid, sizeof(uid), "%lu", (unsigned long)geteuid());
	dir = opendir(SHM_DIR);
	if (!dir)
		return -errno;
	while ((entry = readdir(dir))) {
		const char *name = entry->d_name;
		size_t fleet_len;
		uint8_t kind;

		fleet_len = segment_parse(name, uid, &kind);
		if (!fleet_len)
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

	if (tool_segments_find(fleet, &segments, &count) < 0)
		return false;
	tool_segments_free(segments, count);
	return count > 0;
}

int tool_existing_fleet_operand(const char *command, int argc, char **argv, const char **fleet)
{
	if (argc - optind != 1)
		return tool_usage_error(command, "wants FLEET");
	*fleet = argv[optind];
	if (!tool_fleet_name_ok(command, *fleet))
		return TOOL_EXIT_USAGE;
	if (!tool_fleet_exists(*fleet))
		return tool_error("no fleet %s", *fleet);
	return 0;
}

static void segment_path(const char *fleet, uint8_t kind, char *buf, size_t size)
{
	snprintf(buf, size, SHM_DIR "/" SEGMENT_PREFIX "%s-%u-%lu", fleet, kind,
		 (unsigned long)geteuid());
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

int tool_ring_open(const char *fleet, uint8_t kind, uint16_t node, uint16_t size, bool create,
		   struct tool_ring *out)
{
	orbit_fleet_options_t opts = ORBIT_FLEET_OPTIONS_INIT;
	int r = probe_settled(fleet, kind, &opts);

	/* Without create, a ring that is not there is an answer, not a ring to make. */
	if (r < 0 && !(r == -ENOENT && create))
		return r;
	if (r < 0)
		opts = (orbit_fleet_options_t)ORBIT_FLEET_OPTIONS_INIT;
	*out = (struct tool_ring){ 0 };
	r = orbit_fleet_join_shm(fleet, node, size, &opts, &out->fleet);
	if (r < 0)
		return r;
	r = orbit_fleet_ring(out->fleet, kind, &out->ring);
	if (r < 0) {
		orbit_fleet_leave(out->fleet);
		out->fleet = NULL;
	}
	return r;
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

int tool_ring_error(const char *fleet, uint8_t kind, int err)
{
	if (err == -ENOENT && !tool_fleet_exists(fleet))
		return tool_error("no fleet %s", fleet);
	if (err == -ENOENT)
		return tool_error("fleet %s has no ring of kind %u%s", fleet, kind,
				  kind_suffix(kind));
	return tool_error("fleet %s, ring of kind %u%s: %s", fleet, kind, kind_suffix(kind),
			  tool_ring_strerror(err));
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
	info->age_ms = (int64_t)(tool_unix_ms() - frame.ver);
}

void tool_ring_info(const char *fleet, uint8_t kind, struct tool_ring_info *info)
{
	orbit_fleet_options_t opts = ORBIT_FLEET_OPTIONS_INIT;
	char path[512];
	struct tool_ring r;
	struct stat st;

	*info = (struct tool_ring_info){ 0 };
	segment_path(fleet, kind, path, sizeof(path));
	if (lstat(path, &st) == 0) {
		info->have_file = true;
		info->bytes = (uint64_t)st.st_size;
		info->uid = st.st_uid;
		info->mode = st.st_mode & 07777;
	}
	/* A listing is a snapshot: a segment being created is shown so, not waited for. */
	info->status = orbit_fleet_probe(fleet, kind, &opts);
	if (info->status == 0)
		info->status = tool_ring_open(fleet, kind, 0, TOOL_FLEET_SIZE, false, &r);
	if (info->status < 0)
		return;
	info->capacity = orbit_ring_capacity(r.ring);
	info->payload_max = orbit_ring_payload_max(r.ring);
	info->layout = info->payload_max == 256 ? 1 : 2;
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
