/* SPDX-License-Identifier: MIT */
/*
 * The contest hammer (see contest-hammer.h). Each turn is checked under a process-shared
 * mutex per subject: a holder entering its turn finds the previous holder's entry, with
 * the deadline until which that holder could believe its lease valid (the time before
 * its claim or last renewal, plus the TTL: never later than the lease's real expiry).
 */
#include "contest-hammer.h"

#include <orbit.h>

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "basics.h"

#define HAMMER_SUBJECT_KIND 1
/* Tokens whose repetition is checked, per subject: more than ten seconds hand out. */
#define TOKEN_BITS (UINT64_C(1) << 25)

struct occupant {
	int who; /* node, or 0 when nobody is in */
	uint64_t token;
	uint64_t deadline_ms;
};

struct subject_log {
	pthread_mutex_t lock;
	struct occupant in;
	int last_who;
	bool any; /* a turn was taken: last_token is a token */
	uint64_t last_token;
	_Atomic uint64_t seen[TOKEN_BITS / 64];
};

/* Shared by the claimants: MAP_SHARED memory made before they fork. */
struct arena {
	struct hammer_config config;
	_Atomic uint64_t turns, handoffs, busy, again, renewals, stalls, lost, overlaps,
		regressions, repeats, errors;
	_Atomic int first_error;
	_Atomic uint64_t held[HAMMER_MAX_PROCESSES + 1];
	struct subject_log subjects[HAMMER_MAX_SUBJECTS];
};

static void error(struct arena *a, int err)
{
	int none = 0;

	atomic_compare_exchange_strong(&a->first_error, &none, err ? err : -EPROTO);
	atomic_fetch_add(&a->errors, 1);
}

/* A turn begins: the previous one must be over, and the token above every earlier one. */
static void turn_enter(struct arena *a, unsigned s, int who, uint64_t token, uint64_t deadline)
{
	struct subject_log *log = &a->subjects[s];
	uint64_t bit = UINT64_C(1) << (token % 64);
	uint64_t now;
	bool valid;

	if (token < TOKEN_BITS && atomic_fetch_or(&log->seen[token / 64], bit) & bit)
		atomic_fetch_add(&a->repeats, 1);
	pthread_mutex_lock(&log->lock);
	now = mono_ms();
	/* A holder stopped past its TTL between its claim and here holds nothing now. */
	valid = deadline > now;
	if (valid && log->in.who && log->in.deadline_ms > now)
		atomic_fetch_add(&a->overlaps, 1);
	if (valid && log->any && token <= log->last_token)
		atomic_fetch_add(&a->regressions, 1);
	if (!log->any || token > log->last_token)
		log->last_token = token;
	log->any = true;
	if (log->last_who != who)
		atomic_fetch_add(&a->handoffs, 1);
	log->last_who = who;
	log->in = (struct occupant){ .who = who, .token = token, .deadline_ms = deadline };
	pthread_mutex_unlock(&log->lock);
	atomic_fetch_add(&a->turns, 1);
	atomic_fetch_add(&a->held[who], 1);
}

/* deadline 0: the turn ends. */
static void turn_update(struct arena *a, unsigned s, int who, uint64_t token, uint64_t deadline)
{
	struct subject_log *log = &a->subjects[s];

	pthread_mutex_lock(&log->lock);
	if (log->in.who == who && log->in.token == token) {
		log->in.deadline_ms = deadline;
		if (!deadline)
			log->in.who = 0;
	}
	pthread_mutex_unlock(&log->lock);
}

/* The rest of a turn: renewals, or a stall past the TTL that renewal must report. */
static void turn_hold(struct arena *a, unsigned s, int who, orbit_guard_t *guard, bool stall)
{
	const struct hammer_config *c = &a->config;
	uint64_t token = orbit_guard_token(guard);
	int r;

	if (stall) {
		sleep_ms(c->ttl_ms + 2);
		r = orbit_guard_renew(guard, c->ttl_ms);
		if (r == -ESTALE)
			atomic_fetch_add(&a->stalls, 1);
		else
			error(a, r);
		return;
	}
	for (unsigned i = 0; i < c->renewals; i++) {
		uint64_t before, deadline;

		sched_yield();
		before = mono_ms();
		r = orbit_guard_renew(guard, c->ttl_ms);
		if (r == 0) {
			atomic_fetch_add(&a->renewals, 1);
			turn_update(a, s, who, token, before + c->ttl_ms);
			continue;
		}
		if (r != -ESTALE) {
			error(a, r);
			return;
		}
		/* Refused although the whole call ran before the lease could expire. */
		pthread_mutex_lock(&a->subjects[s].lock);
		deadline = a->subjects[s].in.who == who && a->subjects[s].in.token == token
				   ? a->subjects[s].in.deadline_ms
				   : 0;
		pthread_mutex_unlock(&a->subjects[s].lock);
		if (mono_ms() < deadline)
			atomic_fetch_add(&a->lost, 1);
		return;
	}
}

static void claimant(struct arena *a, int who)
{
	const struct hammer_config *c = &a->config;
	orbit_fleet_options_t opts = ORBIT_FLEET_OPTIONS_INIT;
	uint64_t end, turns = 0;
	orbit_fleet_t *fleet;
	char labels[HAMMER_MAX_SUBJECTS][24];
	int r;

	opts.capacity = c->capacity;
	r = orbit_fleet_join_shm(c->fleet, (uint16_t)who, (uint16_t)(c->processes + 1), &opts,
				 &fleet);
	if (r < 0) {
		error(a, r);
		return;
	}
	for (unsigned s = 0; s < c->subjects; s++)
		snprintf(labels[s], sizeof(labels[s]), "hammer-%u", s);
	srand((unsigned)getpid());
	for (end = mono_ms() + c->duration_ms; mono_ms() < end;) {
		unsigned s = (unsigned)rand() % c->subjects;
		uint64_t before = mono_ms();
		orbit_guard_t *guard;

		r = orbit_contest_claim(fleet, HAMMER_SUBJECT_KIND, labels[s], "hammer", c->ttl_ms,
					&guard, NULL);
		if (r == -EBUSY || r == -EAGAIN) {
			atomic_fetch_add(r == -EBUSY ? &a->busy : &a->again, 1);
			sched_yield();
			continue;
		}
		if (r < 0) {
			error(a, r);
			continue;
		}
		turn_enter(a, s, who, orbit_guard_token(guard), before + c->ttl_ms);
		turn_hold(a, s, who, guard, c->stall_every && ++turns % c->stall_every == 0);
		turn_update(a, s, who, orbit_guard_token(guard), 0);
		r = orbit_guard_release(guard);
		if (r < 0)
			error(a, r);
		/* A worker does something between turns; one that claimed again at once would
		 * mostly win again. */
		sched_yield();
	}
	orbit_fleet_leave(fleet);
}

static int arena_init(struct arena *a, const struct hammer_config *config)
{
	pthread_mutexattr_t attr;
	int r = pthread_mutexattr_init(&attr);

	if (r == 0)
		r = pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
	for (unsigned s = 0; r == 0 && s < HAMMER_MAX_SUBJECTS; s++)
		r = pthread_mutex_init(&a->subjects[s].lock, &attr);
	pthread_mutexattr_destroy(&attr);
	a->config = *config;
	return -r;
}

static void arena_result(struct arena *a, struct hammer_result *out)
{
	*out = (struct hammer_result){
		.turns = a->turns,
		.handoffs = a->handoffs,
		.busy = a->busy,
		.again = a->again,
		.renewals = a->renewals,
		.stalls = a->stalls,
		.lost = a->lost,
		.overlaps = a->overlaps,
		.regressions = a->regressions,
		.repeats = a->repeats,
		.errors = a->errors,
		.first_error = a->first_error,
	};
	for (int i = 0; i <= HAMMER_MAX_PROCESSES; i++)
		out->held[i] = a->held[i];
}

int hammer_run(const struct hammer_config *config, struct hammer_result *result)
{
	pid_t pids[HAMMER_MAX_PROCESSES];
	uint64_t start = mono_ms();
	unsigned started = 0;
	struct arena *a;
	int r;

	if (config->processes == 0 || config->processes > HAMMER_MAX_PROCESSES ||
	    config->subjects == 0 || config->subjects > HAMMER_MAX_SUBJECTS)
		return -EINVAL;
	a = mmap(NULL, sizeof(*a), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (a == MAP_FAILED)
		return -errno;
	r = arena_init(a, config);
	fflush(NULL);
	for (; r == 0 && started < config->processes; started++) {
		pid_t pid = fork();

		if (pid < 0) {
			r = -errno;
			break;
		}
		if (pid == 0) {
			claimant(a, (int)started + 1);
			_exit(0);
		}
		pids[started] = pid;
	}
	for (unsigned i = 0; i < started; i++) {
		int status;

		if (r < 0)
			kill(pids[i], SIGKILL);
		while (waitpid(pids[i], &status, 0) < 0 && errno == EINTR)
			;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			error(a, -ECHILD);
	}
	arena_result(a, result);
	result->elapsed_ms = mono_ms() - start;
	munmap(a, sizeof(*a));
	return r;
}
