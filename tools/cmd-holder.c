/* SPDX-License-Identifier: MIT */
/*
 * orbit holder: which node holds a contest subject of a fleet now, as
 * orbit_contest_holder sees it. Reads only: it never claims.
 */
#include <orbit.h>

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "fleets.h"
#include "output.h"

static const char holder_help[] =
	"Usage: orbit holder [--json] FLEET SUBJECT_KIND LABEL\n"
	"\n"
	"Print the node that holds the subject (SUBJECT_KIND 0..255, LABEL 1 to 255\n"
	"bytes) in the contest of FLEET, or \"nobody\".\n"
	"\n"
	"  --json   one JSON object; holder is null for nobody\n"
	"  --help   show this help\n";

static const struct option holder_options[] = {
	{ "json", no_argument, NULL, 'j' },
	{ "help", no_argument, NULL, 'h' },
	{ 0 },
};

static void holder_print(const char *fleet, uint8_t kind, const char *label, bool held,
			 uint16_t node, bool json)
{
	struct json j;

	if (!json) {
		if (held)
			printf("%u\n", node);
		else
			puts("nobody");
		return;
	}
	json_init(&j, stdout);
	json_object_begin(&j);
	json_field_string(&j, "fleet", fleet);
	json_field_uint(&j, "subject_kind", kind);
	json_field_string(&j, "label", label);
	if (held)
		json_field_uint(&j, "holder", node);
	else
		json_field_null(&j, "holder");
	json_object_end(&j);
	json_end_line(&j);
}

int cmd_holder(int argc, char **argv)
{
	const char *fleet, *label;
	struct tool_ring r;
	uint16_t node = 0;
	bool json = false;
	uint8_t kind;
	int c, ret;

	while ((c = getopt_long(argc, argv, ":h", holder_options, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'h':
			return tool_help(holder_help);
		default:
			return tool_bad_option(argv[0], argv, c);
		}
	}
	if (argc - optind != 3)
		return tool_usage_error(argv[0], "wants FLEET, SUBJECT_KIND and LABEL");
	fleet = argv[optind];
	label = argv[optind + 2];
	if (!tool_fleet_name_ok(argv[0], fleet) || !tool_kind_ok(argv[0], argv[optind + 1], &kind))
		return TOOL_EXIT_USAGE;
	if (!*label || strlen(label) > 255)
		return tool_usage_error(argv[0], "a label is 1 to 255 bytes");

	ret = tool_ring_open(fleet, ORBIT_KIND_CONTEST, 0, TOOL_FLEET_SIZE, false, &r);
	/* A fleet without a contest ring has never had a claim: nobody holds anything. */
	if (ret == -ENOENT && tool_fleet_exists(fleet)) {
		holder_print(fleet, kind, label, false, 0, json);
		return TOOL_EXIT_OK;
	}
	if (ret < 0)
		return tool_ring_error(fleet, ORBIT_KIND_CONTEST, ret);
	ret = orbit_contest_holder(r.fleet, kind, label, &node);
	tool_ring_close(&r);
	if (ret < 0 && ret != -ENOENT)
		return tool_error("holder of %u:%s: %s", kind, label, strerror(-ret));
	holder_print(fleet, kind, label, ret == 0, node, json);
	return TOOL_EXIT_OK;
}
