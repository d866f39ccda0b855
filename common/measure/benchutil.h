/* SPDX-License-Identifier: MIT */
/*
 * Timing, statistics and process helpers shared by the benchmarks: single-thread
 * loops timed as the best of several rounds, ping-pongs and streams between two
 * pinned processes timed as a median, the cache-line hand-off they are measured
 * against, and a child that may make no system call.
 */
#ifndef ORBIT_BENCHUTIL_H
#define ORBIT_BENCHUTIL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "basics.h"

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

/* The 1, 5 and 15 minute load averages; false when /proc/loadavg cannot be read. */
bool bench_load(double avg[3]);

/* The 1, 5 and 15 minute load averages as "1.00 0.50 0.25", or "unknown". */
void bench_format_load(char *buf, size_t size);

/*
 * The options every benchmark takes: -q/--quick sets *quick, -h/--help prints usage to
 * stdout and exits 0. Anything else prints usage to stderr and returns -EINVAL.
 */
int bench_parse_quick(int argc, char **argv, void (*usage)(FILE *out), bool *quick);

struct bench_machine {
	char cpu[256];	  /* model name, or "unknown" */
	char kernel[256]; /* "Linux 6.1.0 x86_64", or "unknown" */
	long cpus_online;
	int cpus_usable; /* by this process (its affinity) */
	bool have_load;
	double load[3]; /* 1, 5 and 15 minute load averages */
};

void bench_machine_info(struct bench_machine *m);

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
	/* Streams, optional: sends what send() held back to send together; the child calls
	 * it after the warm-up and after each sample. */
	int (*flush)(void *ctx, int dir);
	int (*child_setup)(void *ctx);
	void (*child_teardown)(void *ctx);
	void *ctx;
};

struct bench_plan {
	unsigned warmup;  /* untimed round trips first */
	unsigned samples; /* timed samples */
	unsigned batch;	  /* round trips per sample: amortises the timer on fast paths */
	uint64_t max_ns;  /* 0, or no sample after this long (nor ping-pong warm-up past 1/10) */
};

struct bench_result {
	double median_ns; /* per round trip or message */
	unsigned samples; /* taken: fewer than planned when max_ns ran out */
};

/*
 * A plan that samples for budget_ns (max_ns), given op_ns per operation (a
 * pilot run's median): samples of at least sample_ns each, so the timer's cost
 * and the scheduler's bursts are amortised, and room for four times as many
 * as op_ns predicts, as a loaded machine's stalls make the mean much larger
 * than the median.
 */
struct bench_plan bench_plan_fit(double op_ns, double sample_ns, double budget_ns);

/*
 * Runs the ping-pong with the parent on cpus[0] and the child on cpus[1]
 * (negative: unpinned) and stores the median ns per round trip and the number
 * of samples taken (a child cut short by max_ns is killed). Returns 0, a
 * negative errno from either side (the child's own, if it reported one),
 * -ECHILD if the child died, or -ETIME after timeout_s seconds. Handles
 * SIGALRM and SIGCHLD while it runs and ignores SIGPIPE (a write to a peer
 * that is gone fails with -EPIPE); the child is always reaped.
 */
int bench_pingpong_run(const struct bench_pingpong *pp, const struct bench_plan *plan,
		       const int cpus[2], unsigned timeout_s, struct bench_result *result);

/*
 * A stream over the same callbacks: the child sends direction 1 as fast as it
 * can, warm-up and samples alike, while the parent receives them; stores the
 * median ns per message of the samples, each timed from the child's first send
 * of it to the parent's last receive. Placement and results as for
 * bench_pingpong_run.
 */
int bench_stream_run(const struct bench_pingpong *pp, const struct bench_plan *plan,
		     const int cpus[2], unsigned timeout_s, struct bench_result *result);

/*
 * One 32-bit word per direction in memory shared with the child, each alone on
 * its pair of cache lines; ping-pongs over them pass sequence numbers, which
 * both processes count in seqs.
 */
struct bench_mailbox {
	_Alignas(128) _Atomic uint32_t word; /* 128: the adjacent-line prefetcher pairs lines */
};

struct bench_words {
	struct bench_mailbox *boxes; /* two, one per direction */
	uint32_t seqs[2];
};

/* bench_pingpong_run of send and receive over fresh bench_words, their ctx. */
int bench_words_run(int (*send)(void *ctx, int dir), int (*receive)(void *ctx, int dir),
		    const struct bench_plan *plan, const int cpus[2], unsigned timeout_s,
		    struct bench_result *result);

/*
 * The cache-line limit of the machine: median ns per round trip of a release
 * store answered by a spinning acquire load, each way. Halve it for one way.
 */
int bench_handoff_run(const struct bench_plan *plan, const int cpus[2], unsigned timeout_s,
		      struct bench_result *result);

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
