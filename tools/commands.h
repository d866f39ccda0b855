/* SPDX-License-Identifier: MIT */
/*
 * The orbit tool's commands, one file each (cmd-*.c; the demo in demo/), dispatched by
 * orbit.c.
 */
#ifndef ORBIT_TOOL_COMMANDS_H
#define ORBIT_TOOL_COMMANDS_H

/* Every command: argv[0] is the command's name; returns the process exit status. */
int cmd_ls(int argc, char **argv);
int cmd_stat(int argc, char **argv);
int cmd_dump(int argc, char **argv);
int cmd_tail(int argc, char **argv);
int cmd_events(int argc, char **argv);
int cmd_cache(int argc, char **argv);
int cmd_members(int argc, char **argv);
int cmd_holder(int argc, char **argv);
int cmd_publish(int argc, char **argv);
int cmd_write(int argc, char **argv);
int cmd_rm(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_bench(int argc, char **argv);

#endif
