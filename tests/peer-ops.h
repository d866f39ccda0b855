/* SPDX-License-Identifier: MIT */
/*
 * What a peer process does on a shared fleet, reported by exit status. The same code
 * runs in a forked child and in the exec'd tests/peer program, so both paths are
 * tested with one definition of each operation.
 */
#ifndef ORBIT_PEER_OPS_H
#define ORBIT_PEER_OPS_H

#include <stdint.h>

#define PEER_FLEET_SIZE 64

enum peer_status {
	PEER_OK = 0,
	PEER_USAGE = 2,
	PEER_JOIN = 3,	  /* orbit_fleet_join_shm failed */
	PEER_RING = 4,	  /* orbit_fleet_ring failed */
	PEER_CALL = 5,	  /* a ring call returned an unexpected error */
	PEER_VERIFY = 6,  /* a frame read back differs from what was written */
	PEER_TIMEOUT = 7, /* the expected frames or waiter never came */
};

enum peer_op {
	PEER_WRITE, /* write frames 0..count-1 as node */
	PEER_READ,  /* read frames 0..count-1 of writer, in order, none lost */
	PEER_WAIT,  /* orbit_ring_wait(cursor, timeout_ms) must return 0 with head > cursor */
	PEER_RACE,  /* at EOF of release_fd: join, write one frame, see all count members' frames */
};

struct peer_args {
	enum peer_op op;
	const char *fleet;
	uint8_t kind;
	uint32_t capacity;
	uint32_t payload_max;
	uint16_t node;	  /* the node this process joins as */
	uint16_t writer;  /* PEER_READ: whose frames to expect */
	uint32_t count;	  /* frames to write or read; PEER_RACE: members (nodes 0..count-1) */
	uint64_t cursor;  /* PEER_WAIT */
	int timeout_ms;	  /* PEER_WAIT */
	int await_waiter; /* PEER_WRITE: write only once a waiter sleeps on the ring */
	int ready_fd;	  /* PEER_RACE: one byte written here once blocked on release_fd */
	int release_fd;	  /* PEER_RACE */
};

/* Runs the operation in this process; returns an enum peer_status. */
int peer_run(const struct peer_args *args);

#define PEER_ARGC 14

/* Renders args as an argv for tests/peer into store; argv gets PEER_ARGC + 1 entries. */
void peer_args_to_argv(const struct peer_args *args, const char *program, char store[][256],
		       char *argv[]);
/* Parses such an argv (fleet points into argv): 0, or -1 when malformed. */
int peer_args_from_argv(int argc, char **argv, struct peer_args *args);

#endif
