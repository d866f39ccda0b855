/* SPDX-License-Identifier: MIT */
/*
 * orbit: look into, clean up, demonstrate and measure liborbit fleets. This file
 * is the command table and the dispatch; each command lives in its cmd-*.c.
 */
#include "tool.h"

#include <string.h>

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{ "ls", cmd_ls, "list the fleets and rings of this user" },
	{ "stat", cmd_stat, "show the header of one ring" },
	{ "dump", cmd_dump, "print the retained frames of one ring" },
	{ "tail", cmd_tail, "follow the new frames of one ring" },
	{ "events", cmd_events, "print and follow a fleet's events" },
	{ "cache", cmd_cache, "get, put or delete a key in a fleet's cache" },
	{ "members", cmd_members, "show which nodes of a fleet are alive" },
	{ "holder", cmd_holder, "show which node holds a contest subject" },
	{ "rm", cmd_rm, "remove a fleet's segments" },
	{ "demo", cmd_demo, "run a live demonstration fleet" },
	{ "bench", cmd_bench, "compare liborbit with pipes, sockets and queues" },
};

static void usage(FILE *out)
{
	fputs("Usage: orbit [--help | --version]\n"
	      "       orbit COMMAND [OPTION...] [ARG...]\n"
	      "\n"
	      "Commands:\n",
	      out);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-8s  %s\n", commands[i].name, commands[i].summary);
	fputs("\n'orbit COMMAND --help' describes a command; orbit(1) describes them all.\n", out);
}

int main(int argc, char **argv)
{
	const char *name = argc > 1 ? argv[1] : NULL;

	if (!name) {
		usage(stderr);
		return TOOL_EXIT_USAGE;
	}
	if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
		usage(stdout);
		return TOOL_EXIT_OK;
	}
	if (strcmp(name, "--version") == 0) {
		printf("orbit %d.%d.%d (liborbit %s)\n", ORBIT_VERSION_MAJOR, ORBIT_VERSION_MINOR,
		       ORBIT_VERSION_PATCH, orbit_version());
		return TOOL_EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(name, commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	tool_error("unknown command '%s'", name);
	fputs("Try 'orbit --help'.\n", stderr);
	return TOOL_EXIT_USAGE;
}
