/* SPDX-License-Identifier: MIT */
/*
 * orbit publish and orbit write: one event on a fleet's bus, or one raw frame into
 * one of its rings, from a shell script. Both write into a fleet that exists (or,
 * with --create, make it) and give a new ring the options the fleet's rings share.
 */
#include <orbit.h>

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "fleets.h"

/* A frame's payload is at most this large in any ring liborbit makes. */
#define WRITE_PAYLOAD_MAX (1u << 20)

static const char publish_help[] =
	"Usage: orbit publish [--node N] [--create] FLEET TOPIC [PAYLOAD | -]\n"
	"\n"
	"Publish one event on the event bus of FLEET (ring kind 220), as node N, with\n"
	"the bytes of PAYLOAD, of standard input for '-', or none. Creates the events\n"
	"ring, if there is none, with the options the fleet's other rings share.\n"
	"\n"
	"  --node N   publish as node N (default 0)\n"
	"  --create   make the fleet, with default options, if it does not exist\n"
	"  --help     show this help\n";

static const char write_help[] =
	"Usage: orbit write [--frame-kind K] [--ver V] [--node N] [--create] FLEET KIND\n"
	"                   [PAYLOAD | -]\n"
	"\n"
	"Write one frame into the ring of kind KIND (0..255) of FLEET, as node N, with\n"
	"the bytes of PAYLOAD, of standard input for '-', or none, and print its id.\n"
	"Creates the ring, if there is none, with the options the fleet's other rings\n"
	"share.\n"
	"\n"
	"  --frame-kind K  the frame's kind, 0..255 (default 0)\n"
	"  --ver V         the frame's version (default 0)\n"
	"  --node N        write as node N (default 0)\n"
	"  --create        make the fleet, with default options, if it does not exist\n"
	"  --help          show this help\n";

static const struct option publish_options[] = {
	{ "node", required_argument, NULL, 'n' },
	{ "create", no_argument, NULL, 'c' },
	{ "help", no_argument, NULL, 'h' },
	{ 0 },
};

static const struct option write_options[] = {
	{ "frame-kind", required_argument, NULL, 'k' },
	{ "ver", required_argument, NULL, 'v' },
	{ "node", required_argument, NULL, 'n' },
	{ "create", no_argument, NULL, 'c' },
	{ "help", no_argument, NULL, 'h' },
	{ 0 },
};

struct write_args {
	const char *fleet, *payload_arg;
	uint8_t kind;
	uint64_t frame_kind, ver, node;
	bool create;
	const char *topic; /* publish */
};

/* The options of either command; returns -1 to go on, else the exit status. */
static int write_parse_options(int argc, char **argv, const struct option *options,
			       const char *help, struct write_args *a)
{
	int c;

	while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
		switch (c) {
		case 'k':
			if (tool_parse_option(argv[0], "--frame-kind", optarg, UINT8_MAX,
					      &a->frame_kind) < 0)
				return TOOL_EXIT_USAGE;
			break;
		case 'v':
			if (tool_parse_option(argv[0], "--ver", optarg, UINT64_MAX, &a->ver) < 0)
				return TOOL_EXIT_USAGE;
			break;
		case 'n':
			if (tool_parse_option(argv[0], "--node", optarg, TOOL_FLEET_SIZE - 1,
					      &a->node) < 0)
				return TOOL_EXIT_USAGE;
			break;
		case 'c':
			a->create = true;
			break;
		case 'h':
			return tool_help(help);
		default:
			return tool_bad_option(argv[0], argv, c);
		}
	}
	return -1;
}

/* The payload: the argument's bytes, standard input's for "-", or none. */
static int payload_read(const struct write_args *a, void **data, size_t *len)
{
	size_t size = 0, used = 0;
	char *buf = NULL;

	*len = 0;
	*data = NULL;
	if (!a->payload_arg)
		return 0;
	if (strcmp(a->payload_arg, "-") != 0) {
		*len = strlen(a->payload_arg);
		*data = tool_calloc(*len + 1, 1);
		memcpy(*data, a->payload_arg, *len);
		return 0;
	}
	for (;;) {
		ssize_t n;

		if (used == size) {
			size = size ? size * 2 : 4096;
			buf = realloc(buf, size);
			if (!buf)
				tool_oom();
		}
		n = read(STDIN_FILENO, buf + used, size - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(buf);
			return tool_error("reading standard input: %s", strerror(errno));
		}
		if (n == 0)
			break;
		used += (size_t)n;
		if (used > WRITE_PAYLOAD_MAX) {
			free(buf);
			return tool_error("standard input holds more than any frame's %u bytes",
					  WRITE_PAYLOAD_MAX);
		}
	}
	*data = buf;
	*len = used;
	return 0;
}

/* Joins the fleet as the writing node and opens the ring, creating what --create allows. */
static int write_open(const struct write_args *a, uint8_t kind, struct tool_ring *r)
{
	int ret;

	if (!a->create && !tool_fleet_exists(a->fleet))
		return tool_no_fleet(a->fleet);
	ret = tool_ring_open(a->fleet, kind, (uint16_t)a->node, TOOL_FLEET_SIZE, true, r);
	if (ret < 0)
		return tool_ring_error(a->fleet, kind, ret);
	return 0;
}

static int too_large(const struct write_args *a, size_t len, orbit_ring_t *ring)
{
	return tool_error("%zu bytes do not fit a frame of ring %u of fleet %s (%u bytes%s)", len,
			  a->kind, a->fleet, orbit_ring_payload_max(ring),
			  a->topic ? ", the topic and a 12-byte header included" : "");
}

int cmd_publish(int argc, char **argv)
{
	struct write_args a = { .kind = ORBIT_KIND_EVENTS };
	orbit_events_t *events;
	struct tool_ring r;
	size_t len;
	void *data;
	int ret;

	ret = write_parse_options(argc, argv, publish_options, publish_help, &a);
	if (ret >= 0)
		return ret;
	if (argc - optind < 2 || argc - optind > 3)
		return tool_usage_error(argv[0], "wants FLEET, TOPIC and an optional PAYLOAD");
	a.fleet = argv[optind];
	a.topic = argv[optind + 1];
	a.payload_arg = argc - optind == 3 ? argv[optind + 2] : NULL;
	if (!tool_fleet_name_ok(argv[0], a.fleet))
		return TOOL_EXIT_USAGE;
	if (!*a.topic || strlen(a.topic) > 255)
		return tool_usage_error(argv[0], "a topic is 1 to 255 bytes");
	if (payload_read(&a, &data, &len) < 0)
		return TOOL_EXIT_ERROR;
	ret = write_open(&a, ORBIT_KIND_EVENTS, &r);
	if (ret) {
		free(data);
		return ret;
	}
	ret = orbit_events_open(r.fleet, ORBIT_KIND_EVENTS, &events);
	if (ret == 0) {
		ret = orbit_events_publish(events, a.topic, data, len);
		orbit_events_close(events);
	}
	if (ret == -EMSGSIZE)
		ret = too_large(&a, len, r.ring);
	else if (ret < 0)
		ret = tool_error("publish on fleet %s: %s", a.fleet, strerror(-ret));
	tool_ring_close(&r);
	free(data);
	return ret;
}

int cmd_write(int argc, char **argv)
{
	struct write_args a = { 0 };
	struct tool_ring r;
	char text[ORBIT_ID_STRLEN];
	orbit_id_t id;
	size_t len;
	void *data;
	int ret;

	ret = write_parse_options(argc, argv, write_options, write_help, &a);
	if (ret >= 0)
		return ret;
	if (argc - optind < 2 || argc - optind > 3)
		return tool_usage_error(argv[0], "wants FLEET, KIND and an optional PAYLOAD");
	a.fleet = argv[optind];
	a.payload_arg = argc - optind == 3 ? argv[optind + 2] : NULL;
	if (!tool_fleet_name_ok(argv[0], a.fleet) ||
	    !tool_kind_ok(argv[0], argv[optind + 1], &a.kind))
		return TOOL_EXIT_USAGE;
	if (payload_read(&a, &data, &len) < 0)
		return TOOL_EXIT_ERROR;
	ret = write_open(&a, a.kind, &r);
	if (ret) {
		free(data);
		return ret;
	}
	ret = orbit_ring_write(r.ring, (uint8_t)a.frame_kind, a.ver, data, len, &id);
	if (ret == -EMSGSIZE) {
		ret = too_large(&a, len, r.ring);
	} else if (ret < 0) {
		ret = tool_error("write into ring %u of fleet %s: %s", a.kind, a.fleet,
				 strerror(-ret));
	} else {
		orbit_id_format(id, text, sizeof(text));
		printf("%s\n", text);
	}
	tool_ring_close(&r);
	free(data);
	return ret;
}
