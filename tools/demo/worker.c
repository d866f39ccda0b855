/* SPDX-License-Identifier: MIT */
/*
 * An orbit demo worker: one process, one node of the demo fleet. Every tick it
 * beats, publishes its load as a typed value and plays for the job: claims it
 * when free, works on it (renewing its claim) for a while, releases it and
 * rests so the others get a turn. What it does is also published as events.
 */
#include <orbit.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "demo.h"
#include "cli.h"

struct worker {
	orbit_fleet_t *fleet;
	orbit_events_t *events;
	orbit_guard_t *guard; /* while holding the job */
	uint16_t node;
	uint64_t rng;
	uint64_t done_at;    /* tick the current run of the job ends */
	uint64_t rest_until; /* no claim before this tick */
	struct demo_load load;
	char owner[32];
};

/* xorshift64: a different, repeatable-enough sequence per worker. */
static uint64_t next_random(struct worker *w)
{
	w->rng ^= w->rng << 13;
	w->rng ^= w->rng >> 7;
	w->rng ^= w->rng << 17;
	return w->rng;
}

static unsigned random_between(struct worker *w, unsigned lo, unsigned hi)
{
	return lo + (unsigned)(next_random(w) % (hi - lo + 1));
}

static int fail(const struct worker *w, const char *what, int err)
{
	tool_error("demo: worker %u: %s: %s", w->node, what, strerror(-err));
	return err;
}

static int publish(struct worker *w, const char *topic, const char *payload)
{
	int r = orbit_events_publish(w->events, topic, payload, strlen(payload));

	return r < 0 ? fail(w, "orbit_events_publish", r) : 0;
}

static int publish_token(struct worker *w, const char *topic, uint64_t token)
{
	char payload[32];

	snprintf(payload, sizeof(payload), "token=%llu", (unsigned long long)token);
	return publish(w, topic, payload);
}

static int job_claim(struct worker *w)
{
	uint16_t holder = 0;
	int r = orbit_contest_claim(w->fleet, DEMO_JOB_KIND, DEMO_JOB_LABEL, w->owner,
				    DEMO_JOB_TTL_MS, &w->guard, &holder);

	if (r == -EBUSY) {
		w->load.state = DEMO_JOB_BUSY;
		w->load.busy_holder = holder;
		return 0;
	}
	/* -EAGAIN: the claim was written too late to count; it was withdrawn, try again. */
	if (r == -EAGAIN)
		return 0;
	if (r < 0)
		return fail(w, "orbit_contest_claim", r);
	w->load.state = DEMO_JOB_HOLDING;
	w->load.token = orbit_guard_token(w->guard);
	w->done_at = w->load.ticks + random_between(w, 4, 12);
	return publish_token(w, DEMO_TOPIC_CLAIMED, w->load.token);
}

static int job_release(struct worker *w, const char *topic)
{
	uint64_t token = w->load.token;
	int r = orbit_guard_release(w->guard);

	w->guard = NULL;
	w->load.token = 0;
	w->load.state = DEMO_JOB_RESTING;
	w->rest_until = w->load.ticks + random_between(w, 2, 6);
	if (r < 0)
		return fail(w, "orbit_guard_release", r);
	return publish_token(w, topic, token);
}

static int job_work(struct worker *w)
{
	int r;

	if (w->load.ticks >= w->done_at) {
		w->load.jobs_done++;
		return job_release(w, DEMO_TOPIC_DONE);
	}
	r = orbit_guard_renew(w->guard, DEMO_JOB_TTL_MS);
	/* -ESTALE: stalled past the TTL (a loaded machine); someone else may hold it now. */
	if (r == -ESTALE)
		return job_release(w, DEMO_TOPIC_LOST);
	return r < 0 ? fail(w, "orbit_guard_renew", r) : 0;
}

static int job_step(struct worker *w)
{
	if (w->guard)
		return job_work(w);
	if (w->load.ticks < w->rest_until)
		return 0;
	return job_claim(w);
}

/* A slow wave per worker, some noise, and more while working on the job. */
static int load_step(struct worker *w)
{
	double period = 30 + 10 * (w->node % 3); /* ticks */
	double wave = 45 + 35 * sin(2 * M_PI * (double)w->load.ticks / period + w->node * 1.7);
	double load = wave + (int)random_between(w, 0, 12) - 6 + (w->guard ? 20 : 0);
	uint32_t before = w->load.load_pct;
	char payload[32];

	w->load.load_pct = load < 0 ? 0 : load > 100 ? 100 : (uint32_t)load;
	if (before >= DEMO_LOAD_HIGH || w->load.load_pct < DEMO_LOAD_HIGH)
		return 0;
	snprintf(payload, sizeof(payload), "load=%u%%", w->load.load_pct);
	return publish(w, DEMO_TOPIC_HIGH, payload);
}

static int tick(struct worker *w)
{
	int r = orbit_heartbeat(w->fleet);

	if (r < 0)
		return fail(w, "orbit_heartbeat", r);
	w->load.ticks++;
	r = job_step(w);
	if (r == 0)
		r = load_step(w);
	if (r < 0)
		return r;
	r = orbit_value_store(w->fleet, DEMO_LOAD_KIND0 + w->node, &w->load, sizeof(w->load));
	return r < 0 ? fail(w, "orbit_value_store", r) : 0;
}

static void sleep_until(struct timespec *next)
{
	next->tv_nsec += DEMO_TICK_MS * 1000000L;
	if (next->tv_nsec >= 1000000000L) {
		next->tv_nsec -= 1000000000L;
		next->tv_sec++;
	}
	/* A signal ends the sleep early: the caller checks whether to stop. */
	clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, next, NULL);
}

int demo_worker_run(const char *fleet, uint16_t node, uint16_t size, volatile sig_atomic_t *stop)
{
	struct worker w = { .node = node, .load.pid = (uint32_t)getpid() };
	struct timespec next;
	int r;

	w.rng = ((uint64_t)getpid() << 16 | node) * 0x9E3779B97F4A7C15ull | 1;
	snprintf(w.owner, sizeof(w.owner), "worker-%u", node);
	r = orbit_fleet_join_shm(fleet, node, size, NULL, &w.fleet);
	if (r < 0) {
		fail(&w, "orbit_fleet_join_shm", r);
		return TOOL_EXIT_ERROR;
	}
	r = orbit_events_open(w.fleet, ORBIT_KIND_EVENTS, &w.events);
	if (r < 0)
		fail(&w, "orbit_events_open", r);
	clock_gettime(CLOCK_MONOTONIC, &next);
	while (r == 0 && !*stop) {
		r = tick(&w);
		sleep_until(&next);
	}
	/* Let the others have the job at once rather than after its TTL. */
	orbit_guard_release(w.guard);
	orbit_events_close(w.events);
	orbit_fleet_leave(w.fleet);
	return r < 0 ? TOOL_EXIT_ERROR : TOOL_EXIT_OK;
}
