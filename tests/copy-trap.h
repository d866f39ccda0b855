/* SPDX-License-Identifier: MIT */
/*
 * Writers that pause part-way through a frame, deterministically: the copy runs into a
 * page this process may not touch, and the SIGSEGV handler pauses (a nap, or a SIGSTOP)
 * before it opens the page and lets the copy resume. All that while the writer holds its
 * slot with the frame half-written.
 */
#ifndef ORBIT_COPY_TRAP_H
#define ORBIT_COPY_TRAP_H

#include <stddef.h>
#include <stdint.h>

#include <orbit.h>

/*
 * Installs the handler and makes room for payloads of up to payload_max bytes on both
 * sides of a guard page range. nap_us > 0: the trap naps that long; 0: it stops the
 * process with SIGSTOP, and the copy resumes on SIGCONT. 0 or a negative errno.
 */
int trap_setup(size_t payload_max, long nap_us);

/*
 * Room for a payload whose first `before` bytes (a multiple of 8) lie ahead of the
 * guard: fill it, close the trap, write it however the test likes (the copy pauses at
 * the guard), and open the trap again. 0 or a negative errno.
 */
uint8_t *trap_payload(size_t before);
int trap_close(void);
int trap_open(void);

/*
 * Writes frame `seq` (frame-pattern.h) as node, its payload's first `before` bytes (a
 * multiple of 8) ahead of the guard: the ring's copy pauses there. Returns the write's
 * result; the trap is disarmed when it returns.
 */
int trapped_write(orbit_ring_t *ring, uint16_t node, uint64_t seq, size_t before);

/*
 * For the next trapped_write: the copy does not pause at the guard, which instead arms
 * the page holding addr read-only, so the write pauses at its next store to that page
 * (a slot's seq: its commit). addr must lie in a page the copy no longer writes.
 */
void trap_then_page(const void *addr);

/*
 * Arms the page holding addr (say a page inside a ring slot) with no access: whatever
 * first touches it pauses. Stays armed until it fires. 0 or a negative errno.
 */
int trap_arm_page(const void *addr);

#endif
