/* SPDX-License-Identifier: MIT */
/*
 * orbit: look into, clean up, demonstrate and measure liborbit fleets. This file
 * is the command table and the dispatch; each command lives in its cmd-*.c.
 */
#include <orbit.h>

#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "fleets.h"

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{ "ls", cmd_ls, "list the fleets and rings of this user (or of all)" },
	{ "stat", cmd_stat, "show the header of one ring" },
	{ "dump", cmd_dump, "print the retained frames of one ring" },
	{ "tail", cmd_tail, "follow the new frames of one ring" },
	{ "events", cmd_events, "print and follow a fleet's events" },
	{ "cache", cmd_cache, "get, put or delete a key in a fleet's cache" },
	{ "members", cmd_members, "show which nodes of a fleet are alive" },
	{ "holder", cmd_holder, "show which node holds a contest subject" },
	{ "publish", cmd_publish, "publish one event on a fleet's event bus" },
	{ "write", cmd_write, "write one frame into a ring" },
	{ "rm", cmd_rm, "remove a fleet's segments" },
	{ "demo", cmd_demo, "run a live demonstration fleet" },
	{ "bench", cmd_bench, "compare liborbit with pipes, sockets and queues" },
};

static void usage(FILE *out)
{
	fputs("Usage: orbit [--help | -V | --version]\n"
	      "       orbit help [COMMAND]\n"
	      "       orbit [--owner USER] COMMAND [OPTION...] [ARG...]\n"
	      "\n"
	      "  --owner USER  look at USER's fleets instead of your own\n"
	      "\n"
	      "Commands:\n",
	      out);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-8s  %s\n", commands[i].name, commands[i].summary);
	fputs("\n'orbit COMMAND --help' describes a command; orbit(1) describes them all.\n", out);
}

/* Takes "--owner USER" or "--owner=USER" off the front of argv. -1 to go on, else the exit status. */
static int parse_owner(int *argc, char ***argv)
{
	const char *arg = *argc > 1 ? (*argv)[1] : "", *user;
	int used = 2;
	uid_t uid;

	if (strncmp(arg, "--owner=", 8) == 0) {
		user = arg + 8;
		used = 1;
	} else if (strcmp(arg, "--owner") == 0) {
		if (*argc < 3) {
			tool_error("--owner wants a USER");
			return TOOL_EXIT_USAGE;
		}
		user = (*argv)[2];
	} else {
		return -1;
	}
	if (tool_parse_user(user, &uid) < 0) {
		tool_error("--owner: no user '%s'", user);
		return TOOL_EXIT_USAGE;
	}
	tool_set_owner(uid);
	*argc -= used;
	*argv += used;
	return -1;
}

static const struct command *command_find(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(name, commands[i].name) == 0)
			return &commands[i];
	return NULL;
}

static int unknown_command(const char *name)
{
	tool_error("unknown command '%s'", name);
	fputs("Try 'orbit --help'.\n", stderr);
	return TOOL_EXIT_USAGE;
}

/* "orbit help" lists the commands; "orbit help COMMAND" is "orbit COMMAND --help". */
static int help(int argc, char **argv)
{
	char option[] = "--help";
	const struct command *command;

	if (argc == 1) {
		usage(stdout);
		return TOOL_EXIT_OK;
	}
	if (argc > 2)
		return tool_usage_error("help", "wants at most one COMMAND");
	command = command_find(argv[1]);
	if (!command)
		return unknown_command(argv[1]);
	return command->run(2, (char *[]){ argv[1], option, NULL });
}

int main(int argc, char **argv)
{
	int r = parse_owner(&argc, &argv);
	const char *name = argc > 1 ? argv[1] : NULL;
	const struct command *command;

	if (r >= 0)
		return r;
	if (!name) {
		usage(stderr);
		return TOOL_EXIT_USAGE;
	}
	if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
		usage(stdout);
		return TOOL_EXIT_OK;
	}
	if (strcmp(name, "help") == 0)
		return help(argc - 1, argv + 1);
	if (strcmp(name, "--version") == 0 || strcmp(name, "-V") == 0) {
		printf("orbit %d.%d.%d (liborbit %s)\n", ORBIT_VERSION_MAJOR, ORBIT_VERSION_MINOR,
		       ORBIT_VERSION_PATCH, orbit_version());
		return TOOL_EXIT_OK;
	}
	command = command_find(name);
	return command ? command->run(argc - 1, argv + 1) : unknown_command(name);
}
