/* SPDX-License-Identifier: MIT */
/*
 * Finding, probing and joining fleets in /dev/shm, as whichever user --owner names.
 */
#ifndef ORBIT_TOOL_FLEETS_H
#define ORBIT_TOOL_FLEETS_H

#include <orbit.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

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
