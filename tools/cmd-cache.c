/* SPDX-License-Identifier: MIT */
/*
 * orbit cache: get, put or delete one key of a fleet's cache (the ring
 * ORBIT_KIND_CACHE), as any process of the fleet would.
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
#include "output.h"

static const char cache_help[] =
	"Usage: orbit cache [--json] [--hex] FLEET get KEY\n"
	"       orbit cache [--ttl-ms MS] [--node N] [--create] FLEET put KEY VALUE\n"
	"       orbit cache [--node N] FLEET del KEY\n"
	"\n"
	"Read or change one key of the cache of FLEET (ring kind 200). get prints the\n"
	"value, or fails when the key is missing, expired or deleted. put creates the\n"
	"cache ring, if the fleet has none yet, with the options its other rings share\n"
	"(and refuses when they disagree); it makes a new fleet only with --create.\n"
	"\n"
	"  --ttl-ms MS  put: the entry expires after MS milliseconds (default: never)\n"
	"  --node N     put, del: write as node N (default 0)\n"
	"  --create     put: make the fleet, with default options, if it does not exist\n"
	"  --hex        get: the value in hex instead of escaped text\n"
	"  --json       get: one JSON object\n"
	"  --help       show this help\n";

static const struct option cache_options[] = {
	{ "ttl-ms", required_argument, NULL, 't' },
	{ "node", required_argument, NULL, 'n' },
	{ "hex", no_argument, NULL, 'x' },
	{ "json", no_argument, NULL, 'j' },
	{ "create", no_argument, NULL, 'c' },
	{ "help", no_argument, NULL, 'h' },
	{ 0 },
};

enum cache_op { CACHE_GET, CACHE_PUT, CACHE_DEL };

struct cache_args {
	const char *fleet, *key, *value;
	enum cache_op op;
	uint64_t ttl_ms, node;
	bool have_ttl, have_node, json, hex, create;
};

static int cache_parse_op(const char *command, const char *word, enum cache_op *op)
{
	static const char *const words[] = { "get", "put", "del" };

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		if (strcmp(word, words[i]) == 0) {
			*op = (enum cache_op)i;
			return 0;
		}
	}
	tool_usage_error(command, "'%s' is not get, put or del", word);
	return -EINVAL;
}

/* Returns -1 to go on, else the exit status. */
static int cache_parse(int argc, char **argv, struct cache_args *a)
{
	const char *command = argv[0];
	int c, want;

	while ((c = getopt_long(argc, argv, ":h", cache_options, NULL)) != -1) {
		switch (c) {
		case 't':
			if (tool_parse_option(command, "--ttl-ms", optarg, UINT64_MAX, &a->ttl_ms) <
			    0)
				return TOOL_EXIT_USAGE;
			a->have_ttl = true;
			break;
		case 'n':
			if (tool_parse_option(command, "--node", optarg, TOOL_FLEET_SIZE - 1,
					      &a->node) < 0)
				return TOOL_EXIT_USAGE;
			a->have_node = true;
			break;
		case 'x':
			a->hex = true;
			break;
		case 'j':
			a->json = true;
			break;
		case 'c':
			a->create = true;
			break;
		case 'h':
			return tool_help(cache_help);
		default:
			return tool_bad_option(command, argv, c);
		}
	}
	if (argc - optind < 3)
		return tool_usage_error(command, "wants FLEET, get|put|del and KEY");
	a->fleet = argv[optind];
	if (!tool_fleet_name_ok(command, a->fleet) ||
	    cache_parse_op(command, argv[optind + 1], &a->op) < 0)
		return TOOL_EXIT_USAGE;
	a->key = argv[optind + 2];
	want = a->op == CACHE_PUT ? 4 : 3;
	if (argc - optind != want)
		return tool_usage_error(command, a->op == CACHE_PUT
							 ? "put wants KEY and VALUE"
							 : "wants only KEY after get or del");
	if (a->op == CACHE_PUT)
		a->value = argv[optind + 3];
	if (!*a->key)
		return tool_usage_error(command, "a key is at least 1 byte");
	if (a->have_ttl && a->op != CACHE_PUT)
		return tool_usage_error(command, "--ttl-ms is for put");
	if (a->have_node && a->op == CACHE_GET)
		return tool_usage_error(command, "--node is for put and del");
	if (a->create && a->op != CACHE_PUT)
		return tool_usage_error(command, "--create is for put");
	if ((a->json || a->hex) && a->op != CACHE_GET)
		return tool_usage_error(command, "--json and --hex are for get");
	return -1;
}

static int cache_get(orbit_cache_t *cache, orbit_ring_t *ring, const struct cache_args *a)
{
	size_t size = orbit_ring_payload_max(ring), len = 0;
	void *buf = tool_calloc(size, 1);
	char *value;
	struct json j;
	int r = orbit_cache_get(cache, a->key, strlen(a->key), buf, size, &len);

	if (r < 0) {
		free(buf);
		if (r == -ENOENT)
			return tool_error("no key %s in the cache of fleet %s", a->key, a->fleet);
		return tool_error("get %s: %s", a->key, strerror(-r));
	}
	value = tool_escape(buf, len, a->hex);
	if (a->json) {
		json_init(&j, stdout);
		json_object_begin(&j);
		json_field_string(&j, "fleet", a->fleet);
		json_field_string(&j, "key", a->key);
		json_field_uint(&j, "len", len);
		if (a->hex)
			json_field_string(&j, "value", value);
		else
			json_field_bytes(&j, "value", buf, len);
		json_object_end(&j);
		json_end_line(&j);
	} else {
		printf("%s\n", value);
	}
	free(value);
	free(buf);
	return TOOL_EXIT_OK;
}

static int cache_change(orbit_cache_t *cache, const struct cache_args *a)
{
	size_t key_len = strlen(a->key);
	int r;

	if (a->op == CACHE_PUT)
		r = orbit_cache_put(cache, a->key, key_len, a->value, strlen(a->value), a->ttl_ms);
	else
		r = orbit_cache_delete(cache, a->key, key_len);
	if (r == -EMSGSIZE)
		return tool_error("%s: the key and value do not fit a frame of the cache ring",
				  a->key);
	if (r < 0)
		return tool_error("%s %s: %s", a->op == CACHE_PUT ? "put" : "del", a->key,
				  strerror(-r));
	return TOOL_EXIT_OK;
}

int cmd_cache(int argc, char **argv)
{
	struct cache_args a = { 0 };
	orbit_cache_t *cache;
	struct tool_ring r;
	int ret;

	ret = cache_parse(argc, argv, &a);
	if (ret >= 0)
		return ret;
	if (!a.create && !tool_fleet_exists(a.fleet))
		return tool_no_fleet(a.fleet);
	ret = tool_ring_open(a.fleet, ORBIT_KIND_CACHE, (uint16_t)a.node, TOOL_FLEET_SIZE,
			     a.op == CACHE_PUT, &r);
	/* A fleet without a cache ring holds no key: get misses, del has nothing to do. */
	if (ret == -ENOENT && tool_fleet_exists(a.fleet)) {
		if (a.op == CACHE_GET)
			return tool_error("no key %s in the cache of fleet %s", a.key, a.fleet);
		return TOOL_EXIT_OK;
	}
	if (ret < 0)
		return tool_ring_error(a.fleet, ORBIT_KIND_CACHE, ret);
	ret = orbit_cache_open(r.fleet, ORBIT_KIND_CACHE, &cache);
	if (ret < 0) {
		tool_ring_close(&r);
		return tool_error("opening the cache of fleet %s: %s", a.fleet, strerror(-ret));
	}
	if (a.op == CACHE_GET)
		ret = cache_get(cache, r.ring, &a);
	else
		ret = cache_change(cache, &a);
	orbit_cache_close(cache);
	tool_ring_close(&r);
	return ret;
}
