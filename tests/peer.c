/* SPDX-License-Identifier: MIT */
/*
 * An exec'd peer for the cross-process suites: joins a shm fleet named on argv, does
 * one operation of peer-ops.h and reports by exit status (0 = as expected).
 */
#include <stdio.h>

#include "peer-ops.h"

int main(int argc, char **argv)
{
	struct peer_args args;

	if (peer_args_from_argv(argc, argv, &args) < 0) {
		fprintf(stderr,
			"usage: %s write|read|wait|race FLEET KIND CAPACITY PAYLOAD_MAX "
			"NODE WRITER COUNT CURSOR TIMEOUT_MS AWAIT_WAITER READY_FD RELEASE_FD\n",
			argv[0]);
		return PEER_USAGE;
	}
	return peer_run(&args);
}
