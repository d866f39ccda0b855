/* SPDX-License-Identifier: MIT */
/*
 * orbit demo: what its worker processes publish (worker.c) and what the
 * parent reads back from shared memory and draws (view.c, cmd-demo.c).
 */
#ifndef ORBIT_TOOL_DEMO_H
#define ORBIT_TOOL_DEMO_H

#include <orbit.h>

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define DEMO_WORKERS_MAX 32
#define DEMO_TICK_MS	 100 /* a worker beats, publishes its load and plays for the job */
#define DEMO_LOAD_KIND0	 10  /* worker n publishes its load on ring kind 10 + n */
#define DEMO_JOB_KIND	 1   /* the contested job: subject kind and label */
#define DEMO_JOB_LABEL	 "nightly-report"
#define DEMO_JOB_TTL_MS	 1000 /* the holder renews every tick, well within it */
#define DEMO_BEAT_MAX_MS 1000 /* a worker whose newest beat is older is stale */
#define DEMO_LOAD_HIGH	 90   /* crossing it upwards publishes "load.high" */

/* What a worker last did about the job. */
enum demo_job_state {
	DEMO_JOB_IDLE,	  /* not tried yet */
	DEMO_JOB_HOLDING, /* its claim holds: working, renewing every tick */
	DEMO_JOB_BUSY,	  /* its last claim got -EBUSY: busy_holder holds it */
	DEMO_JOB_RESTING, /* finished a run and lets the others have a turn */
};

/* The typed value a worker stores with orbit_value_store on ring kind 10 + node. */
struct demo_load {
	uint32_t pid;
	uint32_t load_pct;  /* a made-up load, 0..100, higher while holding the job */
	uint64_t jobs_done; /* runs of the job this worker finished */
	uint64_t token;	    /* the fencing token of its claim, while state is HOLDING */
	uint64_t ticks;
	uint16_t busy_holder; /* the holder orbit_contest_claim named, when state is BUSY */
	uint8_t state;	      /* enum demo_job_state */
	uint8_t reserved[5];
};

/* Event topics the workers publish; the payload of the job events is "token=N". */
#define DEMO_TOPIC_CLAIMED "job.claimed"
#define DEMO_TOPIC_DONE	   "job.done"
#define DEMO_TOPIC_LOST	   "job.lost"
#define DEMO_TOPIC_HIGH	   "load.high"

/* Joins the fleet as node and plays until *stop; returns the process exit status. */
int demo_worker_run(const char *fleet, uint16_t node, uint16_t size, volatile sig_atomic_t *stop);

/* ---- the parent's view of the fleet (view.c) ---- */

struct demo_row {
	bool have_load;
	struct demo_load load;
	orbit_member_t beat;
	uint64_t events; /* events from this node the parent polled */
};

struct demo_view {
	orbit_fleet_t *fleet; /* joined as node 0 */
	orbit_events_t *events;
	uint16_t workers; /* nodes 1..workers */
	uint64_t cursor;
	uint64_t lagged; /* events the parent fell too far behind to see */
	uint64_t events_total;
	/* Events per topic, and claims by another node than the previous claim's. */
	uint64_t claimed, done, lost, high;
	uint64_t handoffs;
	uint16_t last_claimer;
	bool have_token;
	uint64_t last_token; /* of the newest claim polled */
	bool tokens_rising;  /* every claim's token was larger than the one before */
	bool held;
	uint16_t holder; /* orbit_contest_holder, when held */
	orbit_member_t members[DEMO_WORKERS_MAX + 1];
	struct demo_row rows[DEMO_WORKERS_MAX + 1]; /* by node; 0 unused */
};

/* Joins the fleet as node 0 of workers + 1 and subscribes to its events from the start. */
int demo_view_open(struct demo_view *v, const char *fleet, uint16_t workers);

/* Reads everything anew from shared memory: events, beats, loads, the holder. */
int demo_view_update(struct demo_view *v);

/* Removes the fleet's segments (their count, or a negative errno) and leaves it. */
int demo_view_close(struct demo_view *v);

struct demo_style {
	bool ansi; /* colours and bold */
	bool utf8; /* block characters for the load bars */
};

/* The table: a title, the rows and two summary lines; each line ends in "\n". */
void demo_view_draw(const struct demo_view *v, FILE *out, const struct demo_style *style,
		    const char *title);

struct json;

/* The fields "nodes", "job" and "events", inside an object being written. */
void demo_view_json(const struct demo_view *v, struct json *j);

#endif
