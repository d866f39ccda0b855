/* SPDX-License-Identifier: MIT */
/*
 * The contest hammer: processes that claim, renew and release a few subjects of one
 * shared fleet as fast as they can, and record in shared memory every turn a holder
 * takes, so that overlaps between holders whose leases were valid, and fencing tokens
 * that repeat or go backwards, are counted. <orbit.h> and libc only: the contest suite
 * runs it briefly, bench/contest at full length.
 */
#ifndef ORBIT_TEST_CONTEST_HAMMER_H
#define ORBIT_TEST_CONTEST_HAMMER_H

#include <stdint.h>

#define HAMMER_MAX_PROCESSES 16
#define HAMMER_MAX_SUBJECTS  8

struct hammer_config {
	const char *fleet;    /* a shared fleet's name: joined with capacity, never unlinked */
	uint32_t capacity;    /* slots of its rings, the contest ring's included */
	unsigned processes;   /* claimants, one process each, nodes 1..processes */
	unsigned subjects;    /* "hammer-0".. of subject kind 1 */
	uint64_t duration_ms; /* how long each process claims */
	uint64_t ttl_ms;      /* of every claim and renewal */
	unsigned renewals;    /* a holder renews this many times per turn, then releases */
	unsigned stall_every; /* every Nth turn of a process stalls past its TTL; 0 = none */
};

struct hammer_result {
	uint64_t turns;	      /* leases taken */
	uint64_t handoffs;    /* turns whose subject's previous turn was another process's */
	uint64_t busy;	      /* claims answered -EBUSY */
	uint64_t again;	      /* claims answered -EAGAIN */
	uint64_t renewals;    /* renewals that succeeded */
	uint64_t stalls;      /* turns that stalled past the TTL and then learnt -ESTALE */
	uint64_t lost;	      /* renewals refused while the lease was valid throughout */
	uint64_t overlaps;    /* a turn began while another holder's lease was valid */
	uint64_t regressions; /* a valid turn's token not above every earlier one */
	uint64_t repeats;     /* a token handed out twice for one subject */
	uint64_t errors;      /* any other failure (first in first_error) */
	int first_error;
	uint64_t held[HAMMER_MAX_PROCESSES + 1]; /* turns per node */
	uint64_t elapsed_ms;
};

/* Runs the hammer and fills *result; 0, or a negative errno when it could not run. */
int hammer_run(const struct hammer_config *config, struct hammer_result *result);

#endif
