/* SPDX-License-Identifier: MIT */
/*
 * flock(2) in the executable, in place of libc's for the whole process (liborbit's
 * calls included), by the same rule that lets alloc-fail.c replace malloc.
 */
#include "lock-pause.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Per process: a forked child arms its own copy. */
static int notify = -1;
static int resume = -1;

void lock_pause_arm(int notify_fd, int resume_fd)
{
	notify = notify_fd;
	resume = resume_fd;
}

/* The fleet's lease table is locked before its first ring: only rings stop here. */
static bool is_lease_table(int fd)
{
	char link[64], path[512];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	if (n < 0)
		return false;
	path[n] = '\0';
	return strstr(path, "-leases-") || strstr(path, "-subjects-");
}

int flock(int fd, int operation)
{
	if (notify >= 0 && (operation & LOCK_EX) && !is_lease_table(fd)) {
		char byte = 'L';
		int to = notify;

		notify = -1;
		if (write(to, &byte, 1) != 1 || read(resume, &byte, 1) != 1)
			_exit(LOCK_PAUSE_BROKEN);
	}
	return (int)syscall(SYS_flock, fd, operation);
}
