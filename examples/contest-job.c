/* SPDX-License-Identifier: MIT */
/*
 * contest-job: run a job on at most one node of a fleet at a time. Claim the job, renew
 * the claim while working, release it at the end; another node that asks meanwhile is
 * told who holds it.
 *
 *   cc -std=c11 contest-job.c $(pkg-config --cflags --libs liborbit) -o contest-job
 *   ./contest-job FLEET NODE JOB STEPS
 *
 * Run two at once with different NODEs (0 to 3) and the same JOB: one works, the other
 * says who holds it and exits with status 3.
 *
 * The fencing token: a holder that was stopped past its ttl may wake up and keep writing
 * although another node now holds the job. Give the token to whatever the job writes to
 * (a database row, a file) and have it refuse a token smaller than the largest it has
 * seen: every later holder's token is larger.
 */
#define _POSIX_C_SOURCE 200809L /* nanosleep */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <orbit.h>

#define FLEET_SIZE 4
#define JOB_KIND   1	/* the kind of subject: jobs, here; labels name them within it */
#define TTL_MS	   1000 /* the claim lapses this long after the last renewal */

/* One step of the job, done under the token: here it only says so. */
static void work_step(long step, uint64_t token)
{
	const struct timespec pause = { .tv_nsec = 100 * 1000 * 1000 }; /* 100 ms */

	printf("step %ld with token %llu\n", step, (unsigned long long)token);
	fflush(stdout);
	nanosleep(&pause, NULL);
}

int main(int argc, char **argv)
{
	orbit_fleet_t *fleet;
	orbit_guard_t *guard;
	uint16_t holder = 0;
	long node, steps;
	int r, status = 0;

	if (argc != 5 || (node = strtol(argv[2], NULL, 10)) < 0 || node >= FLEET_SIZE ||
	    (steps = strtol(argv[4], NULL, 10)) < 0) {
		fprintf(stderr, "usage: contest-job FLEET NODE(0-%d) JOB STEPS\n", FLEET_SIZE - 1);
		return 2;
	}
	r = orbit_fleet_join_shm(argv[1], (uint16_t)node, FLEET_SIZE, NULL, &fleet);
	if (r < 0) {
		fprintf(stderr, "contest-job: join %s: %s\n", argv[1], strerror(-r));
		return 1;
	}

	/* The owner text ("contest-job") is for observers; the node is what holds. */
	r = orbit_contest_claim(fleet, JOB_KIND, argv[3], "contest-job", TTL_MS, &guard, &holder);
	if (r == -EBUSY) {
		printf("job %s is held by node %u\n", argv[3], holder);
		orbit_fleet_leave(fleet);
		return 3;
	}
	if (r < 0) {
		fprintf(stderr, "contest-job: claim %s: %s\n", argv[3], strerror(-r));
		orbit_fleet_leave(fleet);
		return 1;
	}
	printf("node %ld claimed job %s, token %llu\n", node, argv[3],
	       (unsigned long long)orbit_guard_token(guard));

	for (long step = 0; step < steps; step++) {
		work_step(step, orbit_guard_token(guard));
		/*
		 * Renew well within the ttl. A renewal that fails means the claim lapsed and
		 * someone else may hold the job now: stop acting on it at once.
		 */
		r = orbit_guard_renew(guard, TTL_MS);
		if (r < 0) {
			fprintf(stderr, "contest-job: lost job %s: %s\n", argv[3], strerror(-r));
			status = 1;
			break;
		}
	}

	/* Releasing lets the next claimant in at once instead of after the ttl; frees guard. */
	orbit_guard_release(guard);
	printf("node %ld released job %s\n", node, argv[3]);
	orbit_fleet_leave(fleet);
	return status;
}
