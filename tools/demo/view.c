/* SPDX-License-Identifier: MIT */
/*
 * The orbit demo's parent: what it reads from the fleet's shared memory (the
 * workers' loads, their heartbeats, the events, the job's holder) and the
 * table it draws from that alone.
 */
#include <orbit.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "demo.h"
#include "cli.h"
#include "output.h"
#include "basics.h"

#define BAR_CELLS 12

int demo_view_open(struct demo_view *v, const char *fleet, uint16_t workers)
{
	int r;

	*v = (struct demo_view){ .workers = workers, .tokens_rising = true };
	r = orbit_fleet_join_shm(fleet, 0, workers + 1, NULL, &v->fleet);
	if (r < 0)
		return r;
	r = orbit_events_open(v->fleet, ORBIT_KIND_EVENTS, &v->events);
	if (r < 0) {
		orbit_fleet_leave(v->fleet);
		return r;
	}
	/* The fleet is new: from its oldest event, so the first claims count too. */
	v->cursor = orbit_events_oldest(v->events);
	return 0;
}

int demo_view_close(struct demo_view *v)
{
	int removed = orbit_fleet_unlink(v->fleet);

	orbit_events_close(v->events);
	orbit_fleet_leave(v->fleet);
	v->events = NULL;
	v->fleet = NULL;
	return removed;
}

static bool is_topic(const orbit_event_t *ev, const char *topic)
{
	return strcmp(ev->topic, topic) == 0;
}

/* The N of a "token=N" payload. */
static bool payload_token(const char *payload, uint64_t *token)
{
	return strncmp(payload, "token=", 6) == 0 &&
	       tool_parse_u64(payload + 6, UINT64_MAX, token) == 0;
}

static void count_event(struct demo_view *v, const orbit_event_t *ev, const char *payload)
{
	uint16_t node = orbit_id_node(ev->id);
	uint64_t token;

	v->events_total++;
	if (node >= 1 && node <= v->workers)
		v->rows[node].events++;
	if (is_topic(ev, DEMO_TOPIC_DONE))
		v->done++;
	else if (is_topic(ev, DEMO_TOPIC_LOST))
		v->lost++;
	else if (is_topic(ev, DEMO_TOPIC_HIGH))
		v->high++;
	if (!is_topic(ev, DEMO_TOPIC_CLAIMED))
		return;
	if (v->claimed > 0 && node != v->last_claimer)
		v->handoffs++;
	v->claimed++;
	v->last_claimer = node;
	if (!payload_token(payload, &token))
		return;
	if (v->have_token && token <= v->last_token)
		v->tokens_rising = false;
	v->have_token = true;
	v->last_token = token;
}

static int poll_events(struct demo_view *v)
{
	char payload[256];
	orbit_event_t ev;
	int r;

	/* Every payload fits: a ring slot holds 256 bytes, the event header included. */
	while ((r = orbit_events_poll(v->events, &v->cursor, NULL, &ev, payload,
				      sizeof(payload) - 1, &v->lagged)) == 0) {
		payload[ev.len] = '\0';
		count_event(v, &ev, payload);
	}
	return r == -EAGAIN ? 0 : r;
}

static int read_loads(struct demo_view *v)
{
	for (uint16_t node = 1; node <= v->workers; node++) {
		struct demo_row *row = &v->rows[node];
		int r = orbit_value_load(v->fleet, DEMO_LOAD_KIND0 + node, &row->load,
					 sizeof(row->load));

		/* -ENOENT: that worker has not published yet. */
		if (r < 0 && r != -ENOENT)
			return r;
		row->have_load = r == 0;
	}
	return 0;
}

int demo_view_update(struct demo_view *v)
{
	int r = poll_events(v);

	if (r == 0)
		r = read_loads(v);
	if (r == 0)
		r = orbit_heartbeat_snapshot(v->fleet, DEMO_BEAT_MAX_MS, v->members,
					     v->workers + 1u);
	if (r < 0)
		return r;
	for (uint16_t node = 1; node <= v->workers; node++)
		v->rows[node].beat = v->members[node];
	r = orbit_contest_holder(v->fleet, DEMO_JOB_KIND, DEMO_JOB_LABEL, &v->holder);
	if (r < 0 && r != -ENOENT)
		return r;
	v->held = r == 0;
	return 0;
}

/* ---- drawing ---- */

#define ANSI_RESET  "\033[0m"
#define ANSI_BOLD   "\033[1m"
#define ANSI_DIM    "\033[2m"
#define ANSI_RED    "\033[31m"
#define ANSI_GREEN  "\033[32m"
#define ANSI_YELLOW "\033[33m"

static const char *ansi(const struct demo_style *style, const char *code)
{
	return style->ansi ? code : "";
}

static void draw_bar(FILE *out, const struct demo_style *style, uint32_t pct)
{
	unsigned filled = (pct * BAR_CELLS + 50) / 100;
	const char *colour = pct >= 85 ? ANSI_RED : pct >= 60 ? ANSI_YELLOW : ANSI_GREEN;

	fputs(ansi(style, colour), out);
	for (unsigned i = 0; i < BAR_CELLS; i++) {
		if (i == filled)
			fputs(ansi(style, ANSI_DIM), out);
		if (style->utf8)
			fputs(i < filled ? "\u2588" : "\u2591", out);
		else
			fputc(i < filled ? '#' : '.', out);
	}
	fputs(ansi(style, ANSI_RESET), out);
}

static void job_text(const struct demo_row *row, char *buf, size_t size)
{
	switch (row->have_load ? row->load.state : DEMO_JOB_IDLE) {
	case DEMO_JOB_HOLDING:
		snprintf(buf, size, "holds, token %" PRIu64, row->load.token);
		break;
	case DEMO_JOB_BUSY:
		snprintf(buf, size, "busy, node %u holds", row->load.busy_holder);
		break;
	case DEMO_JOB_RESTING:
		snprintf(buf, size, "resting");
		break;
	default:
		buf[0] = '\0';
	}
}

static void draw_row(const struct demo_view *v, uint16_t node, FILE *out,
		     const struct demo_style *style)
{
	const struct demo_row *row = &v->rows[node];
	bool holder = v->held && v->holder == node;
	bool beat = row->beat.state != ORBIT_MEMBER_MISSING;
	bool stale = row->beat.state == ORBIT_MEMBER_STALE;
	char pid[16] = "-", load[8] = "-", age[32] = "-", job[48];

	if (row->have_load) {
		snprintf(pid, sizeof(pid), "%u", row->load.pid);
		snprintf(load, sizeof(load), "%u%%", row->load.load_pct);
	}
	if (beat) {
		tool_format_age((int64_t)(unix_ms() - row->beat.last_beat_ms), age, sizeof(age));
		if (stale)
			strcat(age, " stale");
	}
	job_text(row, job, sizeof(job));
	fprintf(out, "%s %4u %7s  %4s ", ansi(style, holder ? ANSI_BOLD : ""), node, pid, load);
	if (row->have_load)
		draw_bar(out, style, row->load.load_pct);
	else
		fprintf(out, "%*s", BAR_CELLS, "");
	fprintf(out, "%s %5" PRIu64 " %s%11s", ansi(style, holder ? ANSI_BOLD : ""),
		row->have_load ? row->load.jobs_done : 0, ansi(style, stale ? ANSI_RED : ""), age);
	if (stale) /* the reset ends the holder's bold too */
		fprintf(out, "%s%s", ansi(style, ANSI_RESET), ansi(style, holder ? ANSI_BOLD : ""));
	fprintf(out, " %7" PRIu64, row->events);
	if (*job)
		fprintf(out, "  %s", job);
	fprintf(out, "%s\n", ansi(style, holder ? ANSI_RESET : ""));
}

static void draw_job(const struct demo_view *v, FILE *out)
{
	/* The token as the holder published it: liborbit tells only the holder. */
	const struct demo_row *row =
		v->held && v->holder >= 1 && v->holder <= v->workers ? &v->rows[v->holder] : NULL;

	fprintf(out, " job     \"%s\" ", DEMO_JOB_LABEL);
	if (!v->held)
		fputs("free", out);
	else if (row && row->have_load && row->load.state == DEMO_JOB_HOLDING)
		fprintf(out, "held by node %u, token %" PRIu64, v->holder, row->load.token);
	else
		fprintf(out, "held by node %u", v->holder);
	fprintf(out, "; %" PRIu64 " claims, %" PRIu64 " hand-offs\n", v->claimed, v->handoffs);
}

void demo_view_draw(const struct demo_view *v, FILE *out, const struct demo_style *style,
		    const char *title)
{
	const char *dim = ansi(style, ANSI_DIM), *reset = ansi(style, ANSI_RESET);

	fprintf(out, "%s%s%s\n\n", ansi(style, ANSI_BOLD), title, reset);
	fprintf(out, " %4s %7s  %-17s %5s %11s %7s  %s\n", "NODE", "PID", "LOAD", "JOBS",
		"LAST BEAT", "EVENTS", "JOB");
	for (uint16_t node = 1; node <= v->workers; node++)
		draw_row(v, node, out, style);
	fputc('\n', out);
	draw_job(v, out);
	fprintf(out,
		" events  %" PRIu64 ": %s %" PRIu64 ", %s %" PRIu64 ", %s %" PRIu64 ", %s %" PRIu64
		"; missed %" PRIu64 "\n\n",
		v->events_total, DEMO_TOPIC_CLAIMED, v->claimed, DEMO_TOPIC_DONE, v->done,
		DEMO_TOPIC_LOST, v->lost, DEMO_TOPIC_HIGH, v->high, v->lagged);
	fprintf(out,
		"%s load    each worker's orbit_value_store (ring kind 10+node), read here\n"
		" beat    orbit_heartbeat_snapshot, here    events  orbit_events_poll, here\n"
		" job     orbit_contest_claim in the workers, orbit_contest_holder here%s\n",
		dim, reset);
}

static const char *state_name(const struct demo_row *row)
{
	static const char *const names[] = {
		[DEMO_JOB_IDLE] = "idle",
		[DEMO_JOB_HOLDING] = "holding",
		[DEMO_JOB_BUSY] = "busy",
		[DEMO_JOB_RESTING] = "resting",
	};

	if (!row->have_load || row->load.state >= sizeof(names) / sizeof(names[0]))
		return "unknown";
	return names[row->load.state];
}

static void json_row(const struct demo_view *v, uint16_t node, struct json *j)
{
	const struct demo_row *row = &v->rows[node];

	json_object_begin(j);
	json_field_uint(j, "node", node);
	json_key(j, "state");
	json_string(j, row->beat.state == ORBIT_MEMBER_ALIVE   ? "alive"
		       : row->beat.state == ORBIT_MEMBER_STALE ? "stale"
							       : "missing");
	if (row->beat.state != ORBIT_MEMBER_MISSING)
		json_field_int(j, "beat_age_ms", (int64_t)(unix_ms() - row->beat.last_beat_ms));
	else
		json_field_null(j, "beat_age_ms");
	json_field_uint(j, "events", row->events);
	if (row->have_load) {
		json_field_uint(j, "pid", row->load.pid);
		json_field_uint(j, "load_pct", row->load.load_pct);
		json_field_uint(j, "jobs_done", row->load.jobs_done);
	} else {
		json_field_null(j, "pid");
		json_field_null(j, "load_pct");
		json_field_null(j, "jobs_done");
	}
	json_field_string(j, "job", state_name(row));
	if (row->have_load && row->load.state == DEMO_JOB_HOLDING)
		json_field_uint(j, "token", row->load.token);
	else
		json_field_null(j, "token");
	json_object_end(j);
}

void demo_view_json(const struct demo_view *v, struct json *j)
{
	json_key(j, "nodes");
	json_array_begin(j);
	for (uint16_t node = 1; node <= v->workers; node++)
		json_row(v, node, j);
	json_array_end(j);
	json_key(j, "job");
	json_object_begin(j);
	json_field_string(j, "label", DEMO_JOB_LABEL);
	if (v->held)
		json_field_uint(j, "holder", v->holder);
	else
		json_field_null(j, "holder");
	json_field_uint(j, "claims", v->claimed);
	json_field_uint(j, "handoffs", v->handoffs);
	json_key(j, "tokens_rising");
	json_bool(j, v->tokens_rising);
	json_object_end(j);
	json_key(j, "events");
	json_object_begin(j);
	json_field_uint(j, "total", v->events_total);
	json_field_uint(j, DEMO_TOPIC_CLAIMED, v->claimed);
	json_field_uint(j, DEMO_TOPIC_DONE, v->done);
	json_field_uint(j, DEMO_TOPIC_LOST, v->lost);
	json_field_uint(j, DEMO_TOPIC_HIGH, v->high);
	json_field_uint(j, "missed", v->lagged);
	json_object_end(j);
}
