/* SPDX-License-Identifier: MIT */
/*
 * Timing, statistics and process helpers shared by the benchmarks: single-thread
 * loops timed as the best of several rounds, ping-pongs between two pinned
 * processes timed as a median, and a child that may make no system call.
 */
#ifndef ORBIT_BENCHUTIL_H
#define ORBIT_BENCHUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Spin-loop hint: lets the sibling hyperthread run and the cache line settle. */
static inline void bench_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

uint64_t bench_now_ns(void);

/* Sorts v in place and returns its median (0 when n is 0). */
double bench_median(double *v, size_t n);

/* Performs `ops` operations; reports failures through its own context. */
typedef void bench_loop_fn(void *ctx, size_t ops);

/* ns per operation of the least-disturbed of `rounds` calls of fn(ctx, ops). */
double bench_best_ns_per_op(bench_loop_fn *fn, void *ctx, size_t ops, unsigned rounds);

/* Cost of one clock_gettime(CLOCK_MONOTONIC), the floor of every timed sample. */
double bench_timer_ns(void);

/* The first two CPUs this process may run on; returns how many exist (0..2). */
unsigned bench_pick_cpus(int cpus[2]);

/* Pins the calling process to cpu; a negative cpu leaves it unpinned. */
int bench_pin(int cpu);

/* The 1, 5 and 15 minute load averages as "1.00 0.50 0.25", or "unknown". */
void bench_format_load(char *buf, size_t size);

/* CPU model, CPU counts, kernel and load average, one "key  value" line each. */
void bench_print_machine(FILE *out);

/* Zeroed memory shared with children forked later; NULL on failure. */
void *bench_shared_map(size_t size);
void bench_shared_unmap(void *p, size_t size);

/*
 * A message passed each way between a parent and a forked child: direction 0
 * is parent to child, 1 is child to parent. One round trip is send(0) and
 * receive(1) in the parent, receive(0) and send(1) in the child. The child
 * calls child_setup first and child_teardown last, even after a failed setup
 * (both may be NULL). Negative returns abort the run.
 */
struct bench_pingpong {
	int (*send)(void *ctx, int dir);
	int (*receive)(void *ctx, int dir);
	int (*child_setup)(void *ctx);
	void (*child_teardown)(void *ctx);
	void *ctx;
};

struct bench_plan {
	unsigned warmup;  /* untimed round trips first */
	unsigned samples; /* timed samples */
	unsigned batch;	  /* round trips per sample: amortises the timer on fast paths */
};

/*
 * Runs the ping-pong with the parent on cpus[0] and the child on cpus[1]
 * (negative: unpinned) and stores the median ns per round trip. Returns 0, a
 * negative errno from either side (the child's own, if it reported one),
 * -ECHILD if the child died, or -ETIME after timeout_s seconds. Handles
 * SIGALRM and SIGCHLD while it runs; the child is always reaped.
 */
int bench_pingpong_run(const struct bench_pingpong *pp, const struct bench_plan *plan,
		       const int cpus[2], unsigned timeout_s, double *median_ns);

/* What happened to a function run under bench_run_without_syscalls. */
struct bench_syscall_check {
	bool ran_clean;	 /* fn returned and the child exited without any system call */
	long syscall_nr; /* the forbidden call that was made, or -1 */
	int signal;	 /* the signal that ended the child otherwise (0 if none) */
};

/*
 * Runs fn(ctx, ops) in a forked child whose every system call but exit is
 * trapped by a seccomp filter; ctx should live in bench_shared_map memory if fn
 * reports results. Returns 0 and fills *check, or a negative errno when the
 * filter cannot be set up (e.g. -EINVAL without seccomp support).
 */
int bench_run_without_syscalls(bench_loop_fn *fn, void *ctx, size_t ops,
			       struct bench_syscall_check *check);

#endif
