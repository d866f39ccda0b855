/* SPDX-License-Identifier: MIT */
/*
 * The test executable's own flock(2), which liborbit's calls reach too: a process arms
 * it to stop at its next attempt to take an exclusive lock on a ring, which in liborbit
 * is the segment's creation lock, once the object is open (the fleet's lease table,
 * locked before its first ring, is let through). A test then holds joiners at that
 * point with pipes, and lets them go in the order it wants.
 */
#ifndef ORBIT_LOCK_PAUSE_H
#define ORBIT_LOCK_PAUSE_H

/*
 * Makes this process's next flock(LOCK_EX) call on a ring segment write one byte to notify_fd, then read
 * one from resume_fd before it goes on; later calls go straight to the kernel. If either
 * pipe fails, the process exits with status LOCK_PAUSE_BROKEN.
 */
void lock_pause_arm(int notify_fd, int resume_fd);

#define LOCK_PAUSE_BROKEN 99

#endif
