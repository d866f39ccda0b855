/* SPDX-License-Identifier: MIT */
/*
 * bench/contest: the contest under load, through <orbit.h>: how many times a second one
 * subject changes hands between processes that contend for it, and the hammer of
 * common/testing/contest-hammer.c at full length (8 processes, 3 subjects, a contest ring of 64
 * slots, holders renewing within a short TTL), which counts overlaps of valid leases and
 * fencing tokens that repeat or go backwards: both must be 0.
 */
#include <orbit.h>

#include "benchutil.h"
#include "contest-hammer.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define HANDOFF_PROCESSES 4
#define HAMMER_PROCESSES  8
#define HAMMER_SUBJECTS	  3
#define HAMMER_CAPACITY	  64
#define HAMMER_TTL_MS	  50
#define HAMMER_RENEWALS	  3
#define HAMMER_STALL	  500 /* one turn in this many stalls past the TTL */

struct settings {
	const char *name;
	uint64_t handoff_ms;
	uint64_t hammer_ms;
};

static const struct settings full_run = { .name = "full", .handoff_ms = 5000, .hammer_ms = 10000 };
static const struct settings quick_run = { .name = "quick", .handoff_ms = 1000, .hammer_ms = 2000 };

/* Removes the fleet's segments, joined with the geometry the run used. */
static void unlink_fleet(const char *name, uint32_t capacity)
{
	orbit_fleet_options_t opts = ORBIT_FLEET_OPTIONS_INIT;
	orbit_fleet_t *fleet;

	opts.capacity = capacity;
	if (orbit_fleet_join_shm(name, 0, HAMMER_MAX_PROCESSES + 1, &opts, &fleet) == 0) {
		orbit_fleet_unlink(fleet);
		orbit_fleet_leave(fleet);
	}
}

static double per_second(uint64_t count, uint64_t ms)
{
	return ms ? (double)count * 1000.0 / (double)ms : 0;
}

/* Prints what must be 0, and says whether it was. */
static bool print_faults(const struct hammer_result *r)
{
	const struct {
		const char *what;
		uint64_t count;
	} faults[] = {
		{ "overlaps of valid leases", r->overlaps },
		{ "tokens not above earlier", r->regressions },
		{ "tokens handed out twice", r->repeats },
		{ "renewals refused in time", r->lost },
		{ "errors", r->errors },
	};
	bool clean = true;

	for (size_t i = 0; i < sizeof(faults) / sizeof(faults[0]); i++) {
		printf("           %-26s %" PRIu64 "%s\n", faults[i].what, faults[i].count,
		       faults[i].count ? "   WRONG" : "");
		clean = clean && !faults[i].count;
	}
	if (r->errors)
		printf("           first error: %s\n", strerror(-r->first_error));
	return clean;
}

static void print_held(const struct hammer_result *r, unsigned processes)
{
	printf("           turns per process:");
	for (unsigned node = 1; node <= processes; node++)
		printf(" %" PRIu64, r->held[node]);
	printf("\n");
}

static bool run(const char *what, const struct hammer_config *c)
{
	struct hammer_result r;
	int rc;

	fflush(stdout);
	rc = hammer_run(c, &r);
	unlink_fleet(c->fleet, c->capacity);
	if (rc < 0) {
		fprintf(stderr, "contest: %s: %s\n", what, strerror(-rc));
		return false;
	}
	printf("           %.0f leases/s, %.0f hand-offs/s, %.0f busy answers/s over %" PRIu64
	       " ms\n",
	       per_second(r.turns, r.elapsed_ms), per_second(r.handoffs, r.elapsed_ms),
	       per_second(r.busy, r.elapsed_ms), r.elapsed_ms);
	if (c->renewals || c->stall_every)
		printf("           %" PRIu64 " turns, %" PRIu64 " renewals, %" PRIu64
		       " stalled turns told -ESTALE, %" PRIu64 " claims -EAGAIN\n",
		       r.turns, r.renewals, r.stalls, r.again);
	print_held(&r, c->processes);
	return print_faults(&r);
}

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: contest [--quick]\n"
		"Runs the contest under load through <orbit.h>: hand-offs per second between %d\n"
		"processes claiming and releasing one subject, then the hammer: %d processes on "
		"%d\n"
		"subjects, a contest ring of %d slots, holders renewing %d times within a %d ms "
		"TTL,\n"
		"one turn in %d stalled past it. Counts overlaps of valid leases and tokens that\n"
		"repeat or go backwards.\n\n"
		"  -q, --quick   1 s of hand-offs and 2 s of hammer instead of 5 s and 10 s\n"
		"  -h, --help    show this help\n\n"
		"Exit status: 0 when nothing was wrong, 1 when something was (or a run failed),\n"
		"2 on bad usage.\n",
		HANDOFF_PROCESSES, HAMMER_PROCESSES, HAMMER_SUBJECTS, HAMMER_CAPACITY,
		HAMMER_RENEWALS, HAMMER_TTL_MS, HAMMER_STALL);
}

int main(int argc, char **argv)
{
	const struct settings *set;
	char handoff_fleet[64], hammer_fleet[64], load[128];
	bool quick, clean;

	if (bench_parse_quick(argc, argv, usage, &quick) < 0)
		return 2;
	set = quick ? &quick_run : &full_run;
	snprintf(handoff_fleet, sizeof(handoff_fleet), "bench-contest-%ld-handoff", (long)getpid());
	snprintf(hammer_fleet, sizeof(hammer_fleet), "bench-contest-%ld-hammer", (long)getpid());

	printf("liborbit %s contest benchmark, %s run\n", orbit_version(), set->name);
	bench_print_machine(stdout);
	printf("\nhand-offs  %d processes, 1 subject: claim, release, yield, again\n",
	       HANDOFF_PROCESSES);
	clean = run("hand-offs", &(struct hammer_config){
					 .fleet = handoff_fleet,
					 .processes = HANDOFF_PROCESSES,
					 .subjects = 1,
					 .duration_ms = set->handoff_ms,
					 .ttl_ms = 600000,
				 });
	printf("\nhammer     %d processes, %d subjects, contest ring of %d slots, TTL %d ms,\n"
	       "           %d renewals per turn, one turn in %d stalled past the TTL\n",
	       HAMMER_PROCESSES, HAMMER_SUBJECTS, HAMMER_CAPACITY, HAMMER_TTL_MS, HAMMER_RENEWALS,
	       HAMMER_STALL);
	clean = run("hammer",
		    &(struct hammer_config){
			    .fleet = hammer_fleet,
			    .capacity = HAMMER_CAPACITY,
			    .processes = HAMMER_PROCESSES,
			    .subjects = HAMMER_SUBJECTS,
			    .duration_ms = set->hammer_ms,
			    .ttl_ms = HAMMER_TTL_MS,
			    .renewals = HAMMER_RENEWALS,
			    .stall_every = HAMMER_STALL,
		    }) &&
		clean;
	bench_format_load(load, sizeof(load));
	printf("\nload     %s (1, 5, 15 min, at end)\n", load);
	return clean ? 0 : 1;
}
