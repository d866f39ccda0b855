/* SPDX-License-Identifier: MIT */
/*
 * A payload whose copy into a ring pauses part-way, deterministically: it runs into a
 * PROT_NONE region, and the SIGSEGV handler pauses (a nap, or a SIGSTOP of the whole
 * process) before it opens the region and lets the copy resume. All that while the
 * writer holds its slot with the frame half-written. One trap per process.
 */
#ifndef ORBIT_COPY_TRAP_H
#define ORBIT_COPY_TRAP_H

#include <stddef.h>
#include <stdint.h>

#include <orbit.h>

/*
 * Room for payloads of up to payload_max bytes on both sides of the guard, and the
 * SIGSEGV handler: it naps pause_us, or stops the process when pause_us is 0 (it goes on
 * after SIGCONT). 0 or a negative errno.
 */
int copy_trap_setup(size_t payload_max, long pause_us);

/* Where a payload must start for its copy to reach the guard `before` bytes in (a multiple of 8). */
uint8_t *copy_trap_payload(size_t before);

/* Closes the guard: the next copy that reaches it pauses. 0 or a negative errno. */
int copy_trap_close(void);

/* Opens it again: a write that copied nothing past the guard never ran the handler. */
int copy_trap_open(void);

/* Frame `seq` of frame-pattern.h by node, its copy trapped `before` bytes in. */
int copy_trap_pattern_write(orbit_ring_t *ring, uint16_t node, uint64_t seq, size_t before);

#endif
