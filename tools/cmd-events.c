/* SPDX-License-Identifier: MIT */
/*
 * orbit events: a fleet's events, decoded, from the oldest retained one, then
 * followed as they are published.
 */
#include <orbit.h>

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "fleets.h"
#include "follow.h"
#include "output.h"

static const char events_help[] =
	"Usage: orbit events [--count N] [--timeout-ms MS] [--no-follow] [--hex] [--json]\n"
	"                    FLEET [TOPIC]\n"
	"\n"
	"Print the events of FLEET (of TOPIC only, if given) from the oldest retained\n"
	"one, then follow new ones until SIGINT or SIGTERM: id, publish time (UTC),\n"
	"topic and payload, and how many were lost when the ring overtook this reader.\n"
	"\n"
	"  --count N        stop after N events\n"
	"  --timeout-ms MS  stop after MS milliseconds (an error if --count is not reached)\n"
	"  --no-follow      stop after the retained events\n"
	"  --hex            payloads in hex instead of escaped text\n"
	"  --json           JSON Lines: an object per event or per loss\n"
	"  --help           show this help\n";

static const struct option events_options[] = {
	{ "count", required_argument, NULL, 'c' },
	{ "timeout-ms", required_argument, NULL, 't' },
	{ "no-follow", no_argument, NULL, 'n' },
	{ "hex", no_argument, NULL, 'x' },
	{ "json", no_argument, NULL, 'j' },
	{ "help", no_argument, NULL, 'h' },
	{ 0 },
};

struct events_reader {
	orbit_events_t *events;
	orbit_ring_t *ring; /* the events ring, for waiting */
	const char *topic;
	uint64_t cursor;
	void *buf;
	size_t size;
	bool json, hex;
	struct json j;
};

static void print_event(struct events_reader *e, const orbit_event_t *ev)
{
	char *topic = tool_escape(ev->topic, ev->topic_len, false);
	char *payload = tool_escape(e->buf, ev->len, e->hex);
	char id[64], when[64];

	orbit_id_format(ev->id, id, sizeof(id));
	if (e->json) {
		json_object_begin(&e->j);
		json_field_string(&e->j, "id", id);
		json_field_uint(&e->j, "node", orbit_id_node(ev->id));
		json_field_uint(&e->j, "counter", orbit_id_counter(ev->id));
		json_field_uint(&e->j, "timestamp_ms", ev->timestamp_ms);
		json_field_bytes(&e->j, "topic", ev->topic, ev->topic_len);
		json_field_uint(&e->j, "len", ev->len);
		if (e->hex)
			json_field_string(&e->j, "payload", payload);
		else
			json_field_bytes(&e->j, "payload", e->buf, ev->len);
		json_object_end(&e->j);
		json_end_line(&e->j);
	} else {
		tool_format_time(ev->timestamp_ms, when, sizeof(when));
		printf("%s %s %s: %s\n", id, when, topic, payload);
	}
	free(payload);
	free(topic);
}

static void print_lagged(struct events_reader *e, uint64_t lagged)
{
	if (e->json) {
		json_object_begin(&e->j);
		json_field_uint(&e->j, "lost", lagged);
		json_object_end(&e->j);
		json_end_line(&e->j);
	} else {
		printf("-- %llu %s lost --\n", (unsigned long long)lagged,
		       lagged == 1 ? "event" : "events");
	}
}

static int events_step(void *ctx)
{
	struct events_reader *e = ctx;
	uint64_t lagged = 0;
	orbit_event_t ev;
	int r = orbit_events_poll(e->events, &e->cursor, e->topic, &ev, e->buf, e->size, &lagged);

	if (lagged)
		print_lagged(e, lagged);
	if (r == 0) {
		print_event(e, &ev);
		return 1;
	}
	return r == -EAGAIN ? 0 : r;
}

static int events_wait(void *ctx, int timeout_ms)
{
	struct events_reader *e = ctx;

	return tool_wait_past(e->ring, e->cursor, timeout_ms);
}

int cmd_events(int argc, char **argv)
{
	struct tool_follow f = { .follow = true, .timeout_ms = -1, .what = "events" };
	struct events_reader e = { 0 };
	const char *fleet;
	struct tool_ring r;
	uint64_t v;
	int c, ret;

	while ((c = getopt_long(argc, argv, ":h", events_options, NULL)) != -1) {
		switch (c) {
		case 'c':
			if (tool_parse_option(argv[0], "--count", optarg, UINT64_MAX, &f.count) < 0)
				return TOOL_EXIT_USAGE;
			break;
		case 't':
			if (tool_parse_option(argv[0], "--timeout-ms", optarg, INT64_MAX, &v) < 0)
				return TOOL_EXIT_USAGE;
			f.timeout_ms = (int64_t)v;
			break;
		case 'n':
			f.follow = false;
			break;
		case 'x':
			e.hex = true;
			break;
		case 'j':
			e.json = true;
			break;
		case 'h':
			return tool_help(events_help);
		default:
			return tool_bad_option(argv[0], argv, c);
		}
	}
	if (argc - optind < 1 || argc - optind > 2)
		return tool_usage_error(argv[0], "wants FLEET and an optional TOPIC");
	fleet = argv[optind];
	if (!tool_fleet_name_ok(argv[0], fleet))
		return TOOL_EXIT_USAGE;
	e.topic = argc - optind == 2 ? argv[optind + 1] : NULL;
	if (e.topic && (!*e.topic || strlen(e.topic) > 255))
		return tool_usage_error(argv[0], "a topic is 1 to 255 bytes");

	ret = tool_ring_open(fleet, ORBIT_KIND_EVENTS, 0, TOOL_FLEET_SIZE, false, &r);
	if (ret < 0)
		return tool_ring_error(fleet, ORBIT_KIND_EVENTS, ret);
	ret = orbit_events_open(r.fleet, ORBIT_KIND_EVENTS, &e.events);
	if (ret < 0) {
		tool_ring_close(&r);
		return tool_ring_error(fleet, ORBIT_KIND_EVENTS, ret);
	}
	e.ring = r.ring;
	e.cursor = orbit_events_oldest(e.events);
	e.size = orbit_ring_payload_max(r.ring);
	e.buf = tool_calloc(e.size, 1);
	json_init(&e.j, stdout);
	f.step = events_step;
	f.wait = events_wait;
	f.ctx = &e;
	ret = tool_follow_run(&f);
	free(e.buf);
	orbit_events_close(e.events);
	tool_ring_close(&r);
	return ret;
}
