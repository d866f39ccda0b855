/* SPDX-License-Identifier: MIT */
/*
 * orbit dump and orbit tail: the frames of one ring, the retained ones read by
 * counter, or the new ones followed with a cursor, and the frames that could
 * not be shown counted as lost.
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

static const char dump_help[] =
	"Usage: orbit dump [--from N] [--hex] [--json] FLEET KIND\n"
	"\n"
	"Print the frames of the ring of kind KIND (0..255) of FLEET, from counter N\n"
	"(default: the oldest retained) to the head: id (kind:node:counter), frame kind,\n"
	"ver, length and payload. Frames that cannot be shown are reported as lost:\n"
	"overwritten, uncommitted (being written, or its writer died) or unreadable.\n"
	"\n"
	"  --from N   start at counter N\n"
	"  --hex      payloads in hex instead of escaped text\n"
	"  --json     JSON Lines: an object per frame or run of lost frames\n"
	"  --help     show this help\n";

static const char tail_help[] =
	"Usage: orbit tail [--from N] [--count N] [--timeout-ms MS] [--hex] [--json] FLEET KIND\n"
	"\n"
	"Follow the ring of kind KIND (0..255) of FLEET: print each frame written from\n"
	"now on (or from counter N), and how many were lost when the ring overtook this\n"
	"reader. Stops on SIGINT or SIGTERM.\n"
	"\n"
	"  --from N         start at counter N: older ones the ring no longer holds are\n"
	"                   counted lost, later ones are waited for\n"
	"  --count N        stop after N frames\n"
	"  --timeout-ms MS  stop after MS milliseconds (an error if --count is not reached)\n"
	"  --hex            payloads in hex instead of escaped text\n"
	"  --json           JSON Lines: an object per frame or per loss\n"
	"  --help           show this help\n";

struct frames_args {
	bool json, hex;
	bool have_from;
	uint64_t from;
	uint64_t count;
	int64_t timeout_ms;
	const char *fleet;
	uint8_t kind;
};

/* Parses the options of dump or tail and FLEET KIND; returns -1 to go on, else the exit status. */
static int frames_parse(int argc, char **argv, const struct option *options, const char *help,
			struct frames_args *a)
{
	uint64_t v;
	int c;

	*a = (struct frames_args){ .timeout_ms = -1 };
	while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
		switch (c) {
		case 'j':
			a->json = true;
			break;
		case 'x':
			a->hex = true;
			break;
		case 'f':
			if (tool_parse_option(argv[0], "--from", optarg, UINT64_MAX, &a->from) < 0)
				return TOOL_EXIT_USAGE;
			a->have_from = true;
			break;
		case 'c':
			if (tool_parse_option(argv[0], "--count", optarg, UINT64_MAX, &a->count) <
			    0)
				return TOOL_EXIT_USAGE;
			break;
		case 't':
			if (tool_parse_option(argv[0], "--timeout-ms", optarg, INT64_MAX, &v) < 0)
				return TOOL_EXIT_USAGE;
			a->timeout_ms = (int64_t)v;
			break;
		case 'h':
			return tool_help(help);
		default:
			return tool_bad_option(argv[0], argv, c);
		}
	}
	if (argc - optind != 2)
		return tool_usage_error(argv[0], "wants FLEET and KIND");
	a->fleet = argv[optind];
	if (!tool_fleet_name_ok(argv[0], a->fleet) ||
	    !tool_kind_ok(argv[0], argv[optind + 1], &a->kind))
		return TOOL_EXIT_USAGE;
	return -1;
}

struct printer {
	bool json, hex;
	struct json j;
};

static void print_frame(struct printer *p, const orbit_frame_t *f, const void *payload)
{
	char *text = tool_escape(payload, f->len, p->hex);
	char id[64];

	orbit_id_format(f->id, id, sizeof(id));
	if (!p->json) {
		printf("%s kind=%u ver=%llu len=%u%s%s\n", id, f->kind, (unsigned long long)f->ver,
		       f->len, f->len ? " " : "", text);
		free(text);
		return;
	}
	json_object_begin(&p->j);
	json_field_string(&p->j, "id", id);
	json_field_uint(&p->j, "node", orbit_id_node(f->id));
	json_field_uint(&p->j, "counter", orbit_id_counter(f->id));
	json_field_uint(&p->j, "kind", f->kind);
	json_field_uint(&p->j, "ver", f->ver);
	json_field_uint(&p->j, "len", f->len);
	if (p->hex)
		json_field_string(&p->j, "payload", text);
	else
		json_field_bytes(&p->j, "payload", payload, f->len);
	json_object_end(&p->j);
	json_end_line(&p->j);
	free(text);
}

/* count frames that cannot be shown; reason and the counters when the reader knows them. */
static void print_lost(struct printer *p, uint64_t count, const char *reason, uint64_t first)
{
	const char *frames = count == 1 ? "frame" : "frames";
	unsigned long long last = first + count - 1;

	if (p->json) {
		json_object_begin(&p->j);
		json_field_uint(&p->j, "lost", count);
		if (reason) {
			json_field_uint(&p->j, "first", first);
			json_field_uint(&p->j, "last", last);
			json_field_string(&p->j, "reason", reason);
		}
		json_object_end(&p->j);
		json_end_line(&p->j);
	} else if (!reason) {
		printf("-- %llu %s lost --\n", (unsigned long long)count, frames);
	} else if (count == 1) {
		printf("-- 1 frame lost (counter %llu, %s) --\n", (unsigned long long)first,
		       reason);
	} else {
		printf("-- %llu %s lost (counters %llu..%llu, %s) --\n", (unsigned long long)count,
		       frames, (unsigned long long)first, last, reason);
	}
}

static const struct option dump_options[] = {
	{ "from", required_argument, NULL, 'f' },
	{ "hex", no_argument, NULL, 'x' },
	{ "json", no_argument, NULL, 'j' },
	{ "help", no_argument, NULL, 'h' },
	{ 0 },
};

/* Why read_at could not show a counter, or NULL for an error that ends the dump. */
static const char *unshown_reason(int r)
{
	switch (-r) {
	case ENOENT:
		return "overwritten";
	case EAGAIN:
		return "uncommitted";
	case EPROTO:
	case EMSGSIZE:
		return "unreadable";
	default:
		return NULL;
	}
}

/* A run of consecutive counters that could not be shown for one reason. */
struct gap {
	const char *reason;
	uint64_t first, count;
};

static void gap_flush(struct printer *p, struct gap *g)
{
	if (g->count)
		print_lost(p, g->count, g->reason, g->first);
	g->count = 0;
}

static void gap_add(struct printer *p, struct gap *g, const char *reason, uint64_t first,
		    uint64_t count)
{
	if (g->count && (strcmp(g->reason, reason) != 0 || g->first + g->count != first))
		gap_flush(p, g);
	if (!g->count) {
		g->reason = reason;
		g->first = first;
	}
	g->count += count;
}

static int dump_ring(orbit_ring_t *ring, const struct frames_args *a)
{
	uint32_t payload_max = orbit_ring_payload_max(ring);
	uint64_t head = orbit_ring_head(ring);
	uint64_t capacity = orbit_ring_capacity(ring);
	uint64_t oldest = head > capacity ? head - capacity : 0;
	uint64_t c = a->have_from ? a->from : oldest;
	void *buf = tool_calloc(payload_max, 1);
	struct printer p = { .json = a->json, .hex = a->hex };
	struct gap g = { 0 };
	int status = TOOL_EXIT_OK;

	json_init(&p.j, stdout);
	/* Counters a lap behind the head are gone without reading them. */
	if (c < oldest) {
		gap_add(&p, &g, "overwritten", c, oldest - c);
		c = oldest;
	}
	for (; c < head; c++) {
		orbit_frame_t frame;
		int r = orbit_ring_read_at(ring, c, &frame, buf, payload_max);
		const char *reason;

		if (r == 0) {
			gap_flush(&p, &g);
			print_frame(&p, &frame, buf);
			continue;
		}
		reason = unshown_reason(r);
		if (!reason) {
			gap_flush(&p, &g);
			status = tool_error("reading counter %llu: %s", (unsigned long long)c,
					    strerror(-r));
			break;
		}
		gap_add(&p, &g, reason, c, 1);
	}
	gap_flush(&p, &g);
	free(buf);
	return status;
}

int cmd_dump(int argc, char **argv)
{
	struct frames_args a;
	struct tool_ring r;
	int ret;

	ret = frames_parse(argc, argv, dump_options, dump_help, &a);
	if (ret >= 0)
		return ret;
	ret = tool_ring_open(a.fleet, a.kind, 0, TOOL_FLEET_SIZE, false, &r);
	if (ret < 0)
		return tool_ring_error(a.fleet, a.kind, ret);
	ret = dump_ring(r.ring, &a);
	tool_ring_close(&r);
	return ret;
}

static const struct option tail_options[] = {
	{ "from", required_argument, NULL, 'f' },
	{ "count", required_argument, NULL, 'c' },
	{ "timeout-ms", required_argument, NULL, 't' },
	{ "hex", no_argument, NULL, 'x' },
	{ "json", no_argument, NULL, 'j' },
	{ "help", no_argument, NULL, 'h' },
	{ 0 },
};

struct tail {
	orbit_ring_t *ring;
	uint64_t cursor;
	void *buf;
	uint32_t size;
	struct printer p;
};

static int tail_step(void *ctx)
{
	struct tail *t = ctx;
	orbit_frame_t frame;
	uint64_t lost = 0;
	int r = orbit_ring_next(t->ring, &t->cursor, &frame, t->buf, t->size, &lost);

	if (lost)
		print_lost(&t->p, lost, NULL, 0);
	if (r == 0) {
		print_frame(&t->p, &frame, t->buf);
		return 1;
	}
	return r == -EAGAIN ? 0 : r;
}

static int tail_wait(void *ctx, int timeout_ms)
{
	struct tail *t = ctx;

	return tool_wait_past(t->ring, t->cursor, timeout_ms);
}

int cmd_tail(int argc, char **argv)
{
	struct frames_args a;
	struct tool_ring r;
	struct tail t;
	int ret;

	ret = frames_parse(argc, argv, tail_options, tail_help, &a);
	if (ret >= 0)
		return ret;
	ret = tool_ring_open(a.fleet, a.kind, 0, TOOL_FLEET_SIZE, false, &r);
	if (ret < 0)
		return tool_ring_error(a.fleet, a.kind, ret);
	t = (struct tail){
		.ring = r.ring,
		.cursor = a.have_from ? a.from : orbit_ring_head(r.ring),
		.size = orbit_ring_payload_max(r.ring),
		.p = { .json = a.json, .hex = a.hex },
	};
	t.buf = tool_calloc(t.size, 1);
	json_init(&t.p.j, stdout);
	ret = tool_follow_run(&(struct tool_follow){
		.step = tail_step,
		.wait = tail_wait,
		.ctx = &t,
		.follow = true,
		.count = a.count,
		.timeout_ms = a.timeout_ms,
		.what = "frames",
	});
	free(t.buf);
	tool_ring_close(&r);
	return ret;
}
