/* SPDX-License-Identifier: MIT */
/*
 * bench/ring: the ring's hot paths (write, read_head, read_at, next, their batches,
 * spinning and blocking delivery between processes, and a writer streaming to a
 * spinning reader) beside the floor of their protocol (the bare ring of bare.c) and
 * the hardware and kernel primitives they are built on, measured in one run and
 * printed with their ratios and targets.
 */
#include <orbit.h>

#include "bare.h"
#include "benchutil.h"
#include "transport.h"

#include <errno.h>
#include <linux/futex.h>
#include <math.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define FRAME_BYTES 64 /* blocking figures and the system-call check */
#define FRAME_KIND  1
#define KIND_SOLO   1 /* single-thread figures and the system-call check */
#define TIMEOUT_S   30
/* read_at and next cycle over this many retained counters, as a reader behind the head. */
#define READ_SPAN 512

struct settings {
	const char *name;
	unsigned rounds; /* single thread: best of this many rounds */
	size_t ops;	 /* ... of this many operations each */
	struct bench_plan spin, block, stream;
	size_t checked_writes; /* writes run under the system-call trap */
};

static const struct settings full_run = {
	.name = "full",
	.rounds = 7,
	.ops = 1000000,
	.spin = { .warmup = 2000, .samples = 2000, .batch = 10 },
	.block = { .warmup = 1000, .samples = 20000, .batch = 1 },
	.stream = { .warmup = 100000, .samples = 40, .batch = 200000 },
	.checked_writes = 100000,
};

static const struct settings quick_run = {
	.name = "quick",
	.rounds = 3,
	.ops = 100000,
	.spin = { .warmup = 200, .samples = 200, .batch = 10 },
	.block = { .warmup = 200, .samples = 2000, .batch = 1 },
	.stream = { .warmup = 20000, .samples = 10, .batch = 50000 },
	.checked_writes = 100000,
};

/* Single-thread figures come at two frame sizes; SIZES of each. */
enum { SMALL, LARGE, SIZES };
static const size_t frame_sizes[SIZES] = { 64, 256 };

enum figure {
	FETCH_ADD,
	HANDOFF,
	FUTEX,
	PIPE,
	BARE_WRITE,
	BARE_HEAD = BARE_WRITE + SIZES,
	BARE_AT = BARE_HEAD + SIZES,
	BARE_NEXT = BARE_AT + SIZES,
	BARE_SPIN = BARE_NEXT + SIZES,
	BARE_STREAM,
	WRITE = BARE_STREAM + SIZES,
	HEAD = WRITE + SIZES,
	AT = HEAD + SIZES,
	NEXT = AT + SIZES,
	WRITE_BATCH = NEXT + SIZES,
	NEXT_BATCH = WRITE_BATCH + SIZES,
	STREAM = NEXT_BATCH + SIZES,
	BATCH_STREAM = STREAM + SIZES,
	SPIN = BATCH_STREAM + SIZES,
	WAIT,
	FD,
	FIGURE_COUNT
};

static const struct {
	const char *label;
	const char *short_label;
} figures[FIGURE_COUNT] = {
	[FETCH_ADD] = { "atomic fetch_add, 64-bit, uncontended", "fetch_add" },
	[HANDOFF] = { "two-cache-line hand-off, one-way", "two-line hand-off" },
	[FUTEX] = { "futex ping-pong, round trip", "futex ping-pong" },
	[PIPE] = { "pipe ping-pong, round trip", "pipe ping-pong" },
	[BARE_WRITE] = { "bare write, 64 B", "bare write" },
	[BARE_WRITE + LARGE] = { "bare write, 256 B", "bare write" },
	[BARE_HEAD] = { "bare read_head, 64 B", "bare read_head" },
	[BARE_HEAD + LARGE] = { "bare read_head, 256 B", "bare read_head" },
	[BARE_AT] = { "bare read_at, 64 B", "bare read_at" },
	[BARE_AT + LARGE] = { "bare read_at, 256 B", "bare read_at" },
	[BARE_NEXT] = { "bare next, 64 B", "bare next" },
	[BARE_NEXT + LARGE] = { "bare next, 256 B", "bare next" },
	[BARE_SPIN] = { "bare one-way, spinning, 64 B", "bare one-way" },
	[BARE_STREAM] = { "bare stream, per frame, 64 B", "bare stream" },
	[BARE_STREAM + LARGE] = { "bare stream, per frame, 256 B", "bare stream" },
	[WRITE] = { "orbit_ring_write, 64 B", NULL },
	[WRITE + LARGE] = { "orbit_ring_write, 256 B", NULL },
	[HEAD] = { "orbit_ring_read_head, 64 B", NULL },
	[HEAD + LARGE] = { "orbit_ring_read_head, 256 B", NULL },
	[AT] = { "orbit_ring_read_at, 64 B", NULL },
	[AT + LARGE] = { "orbit_ring_read_at, 256 B", NULL },
	[NEXT] = { "orbit_ring_next, 64 B", NULL },
	[NEXT + LARGE] = { "orbit_ring_next, 256 B", NULL },
	[WRITE_BATCH] = { "orbit_ring_write_batch, per frame, 64 B", NULL },
	[WRITE_BATCH + LARGE] = { "orbit_ring_write_batch, per frame, 256 B", NULL },
	[NEXT_BATCH] = { "orbit_ring_next_batch, per frame, 64 B", NULL },
	[NEXT_BATCH + LARGE] = { "orbit_ring_next_batch, per frame, 256 B", NULL },
	[STREAM] = { "stream, write and next, per frame, 64 B", NULL },
	[STREAM + LARGE] = { "stream, write and next, per frame, 256 B", NULL },
	[BATCH_STREAM] = { "stream, batches, per frame, 64 B", NULL },
	[BATCH_STREAM + LARGE] = { "stream, batches, per frame, 256 B", NULL },
	[SPIN] = { "one-way, spinning orbit_ring_next, 64 B", NULL },
	[WAIT] = { "round trip, orbit_ring_wait", "orbit_ring_wait" },
	[FD] = { "round trip, poll(2) on orbit_ring_fd", NULL },
};

/* A target of 0 means the comparison is shown without one. */
static const struct {
	enum figure subject, reference;
	double target;
} comparisons[] = {
	{ .subject = WRITE, .reference = BARE_WRITE, .target = 1.2 },
	{ .subject = WRITE + LARGE, .reference = BARE_WRITE + LARGE, .target = 1.2 },
	{ .subject = HEAD, .reference = BARE_HEAD, .target = 1.3 },
	{ .subject = HEAD + LARGE, .reference = BARE_HEAD + LARGE, .target = 1.3 },
	{ .subject = AT, .reference = BARE_AT, .target = 1.3 },
	{ .subject = AT + LARGE, .reference = BARE_AT + LARGE, .target = 1.3 },
	{ .subject = NEXT, .reference = BARE_NEXT, .target = 1.3 },
	{ .subject = NEXT + LARGE, .reference = BARE_NEXT + LARGE, .target = 1.3 },
	{ .subject = WRITE_BATCH, .reference = BARE_WRITE, .target = 0 },
	{ .subject = WRITE_BATCH + LARGE, .reference = BARE_WRITE + LARGE, .target = 0 },
	{ .subject = NEXT_BATCH, .reference = BARE_NEXT, .target = 0 },
	{ .subject = NEXT_BATCH + LARGE, .reference = BARE_NEXT + LARGE, .target = 0 },
	{ .subject = STREAM, .reference = BARE_STREAM, .target = 0 },
	{ .subject = STREAM + LARGE, .reference = BARE_STREAM + LARGE, .target = 0 },
	{ .subject = BATCH_STREAM, .reference = BARE_STREAM, .target = 0 },
	{ .subject = BATCH_STREAM + LARGE, .reference = BARE_STREAM + LARGE, .target = 0 },
	{ .subject = SPIN, .reference = HANDOFF, .target = 2.5 },
	{ .subject = SPIN, .reference = BARE_SPIN, .target = 0 },
	{ .subject = BARE_SPIN, .reference = HANDOFF, .target = 0 },
	{ .subject = WAIT, .reference = FUTEX, .target = 1.5 },
	{ .subject = WAIT, .reference = PIPE, .target = 0 },
	{ .subject = FD, .reference = WAIT, .target = 1.5 },
	{ .subject = FD, .reference = PIPE, .target = 0 },
};

static bool failed;

static double fail(const char *what, int rc)
{
	fprintf(stderr, "ring: %s: %s\n", what, strerror(-rc));
	failed = true;
	return NAN;
}

/* Single-thread loops: each calls one operation directly, as a program would. */

struct solo {
	orbit_ring_t *ring;
	struct bare_ring *bare;
	_Atomic uint64_t counter;
	size_t bytes;
	uint64_t base; /* read_at and next: the first of READ_SPAN retained counters */
	int err;
	uint8_t payload[BARE_PAYLOAD_MAX];
	uint8_t buf[BARE_PAYLOAD_MAX];
	orbit_msg_t msgs[BENCH_BATCH];
	orbit_frame_t frames[BENCH_BATCH];
	uint8_t bufs[BENCH_BATCH][BARE_PAYLOAD_MAX];
};

static void fetch_add_loop(void *ctx, size_t ops)
{
	struct solo *s = ctx;

	for (size_t i = 0; i < ops; i++)
		atomic_fetch_add(&s->counter, 1);
}

static void write_loop(void *ctx, size_t ops)
{
	struct solo *s = ctx;

	for (size_t i = 0; i < ops; i++) {
		int rc = orbit_ring_write(s->ring, FRAME_KIND, i, s->payload, s->bytes, NULL);

		if (rc < 0)
			s->err = rc;
	}
}

static void read_head_loop(void *ctx, size_t ops)
{
	struct solo *s = ctx;
	orbit_frame_t frame;

	for (size_t i = 0; i < ops; i++) {
		int rc = orbit_ring_read_head(s->ring, &frame, s->buf, sizeof(s->buf));

		if (rc < 0)
			s->err = rc;
	}
}

static void read_at_loop(void *ctx, size_t ops)
{
	struct solo *s = ctx;
	orbit_frame_t frame;

	for (size_t i = 0; i < ops; i++) {
		int rc = orbit_ring_read_at(s->ring, s->base + i % READ_SPAN, &frame, s->buf,
					    sizeof(s->buf));

		if (rc < 0)
			s->err = rc;
	}
}

static void next_loop(void *ctx, size_t ops)
{
	struct solo *s = ctx;
	uint64_t cursor = s->base, lost = 0;
	orbit_frame_t frame;

	for (size_t i = 0; i < ops; i++) {
		int rc = orbit_ring_next(s->ring, &cursor, &frame, s->buf, sizeof(s->buf), &lost);

		if (rc < 0 || lost)
			s->err = rc < 0 ? rc : -EPROTO;
		if (cursor == s->base + READ_SPAN)
			cursor = s->base;
	}
}

static void write_batch_loop(void *ctx, size_t ops)
{
	struct solo *s = ctx;

	for (size_t i = 0; i < BENCH_BATCH; i++)
		s->msgs[i] =
			(orbit_msg_t){ .payload = s->payload, .len = s->bytes, .kind = FRAME_KIND };
	for (size_t i = 0; i < ops; i += BENCH_BATCH) {
		size_t n = ops - i < BENCH_BATCH ? ops - i : BENCH_BATCH;
		int rc = orbit_ring_write_batch(s->ring, s->msgs, n, NULL);

		if (rc != (int)n)
			s->err = rc < 0 ? rc : -EPROTO;
	}
}

static void next_batch_loop(void *ctx, size_t ops)
{
	struct solo *s = ctx;
	uint64_t cursor = s->base, lost = 0;

	for (size_t i = 0; i < ops;) {
		int rc = orbit_ring_next_batch(s->ring, &cursor, s->frames, s->bufs,
					       sizeof(s->bufs[0]), BENCH_BATCH, &lost);

		if (rc <= 0 || lost) {
			s->err = rc < 0 ? rc : -EPROTO;
			return;
		}
		i += (size_t)rc;
		if (cursor == s->base + READ_SPAN)
			cursor = s->base;
	}
}

static void bare_write_loop(void *ctx, size_t ops)
{
	struct solo *s = ctx;

	for (size_t i = 0; i < ops; i++) {
		int rc = bare_write(s->bare, FRAME_KIND, i, s->payload, s->bytes);

		if (rc < 0)
			s->err = rc;
	}
}

static void bare_read_head_loop(void *ctx, size_t ops)
{
	struct solo *s = ctx;
	struct bare_frame frame;

	for (size_t i = 0; i < ops; i++) {
		int rc = bare_read_head(s->bare, &frame, s->buf);

		if (rc < 0)
			s->err = rc;
	}
}

static void bare_read_at_loop(void *ctx, size_t ops)
{
	struct solo *s = ctx;
	struct bare_frame frame;

	for (size_t i = 0; i < ops; i++) {
		int rc = bare_read_at(s->bare, s->base + i % READ_SPAN, &frame, s->buf);

		if (rc < 0)
			s->err = rc;
	}
}

static void bare_next_loop(void *ctx, size_t ops)
{
	struct solo *s = ctx;
	uint64_t cursor = s->base;
	struct bare_frame frame;

	for (size_t i = 0; i < ops; i++) {
		int rc = bare_next(s->bare, &cursor, &frame, s->buf);

		if (rc < 0)
			s->err = rc;
		if (cursor == s->base + READ_SPAN)
			cursor = s->base;
	}
}

static double measure_solo(bench_loop_fn *fn, struct solo *s, const struct settings *set,
			   const char *what)
{
	double ns;

	s->err = 0;
	ns = bench_best_ns_per_op(fn, s, set->ops, set->rounds);
	return s->err < 0 ? fail(what, s->err) : ns;
}

/* Ping-pongs between two processes, over the shared transports and words (benchutil). */

static double measured(int rc, const struct bench_result *res, double scale, const char *what)
{
	return rc < 0 ? fail(what, rc) : res->median_ns * scale;
}

static double measure_transport(const struct bench_transport *t, size_t bytes, bool spin,
				const struct bench_plan *plan, const int cpus[2], double scale,
				const char *what)
{
	struct bench_channel ch = { .bytes = bytes, .spin = spin };
	struct bench_result res;
	int rc = bench_transport_run(t, &ch, plan, cpus, TIMEOUT_S, &res);

	return measured(rc, &res, scale, what);
}

static long futex(_Atomic uint32_t *word, int op, uint32_t value)
{
	return syscall(SYS_futex, word, op, value, NULL, NULL, 0);
}

/* Shared (not _PRIVATE) futex operations: the word is in memory of two processes. */
static int futex_send(void *ctx, int dir)
{
	struct bench_words *w = ctx;

	atomic_store(&w->boxes[dir].word, ++w->seqs[dir]);
	return futex(&w->boxes[dir].word, FUTEX_WAKE, 1) < 0 ? -errno : 0;
}

static int futex_receive(void *ctx, int dir)
{
	struct bench_words *w = ctx;
	uint32_t expected = ++w->seqs[dir], seen;

	while ((seen = atomic_load(&w->boxes[dir].word)) != expected)
		if (futex(&w->boxes[dir].word, FUTEX_WAIT, seen) < 0 && errno != EAGAIN &&
		    errno != EINTR)
			return -errno;
	return 0;
}

/* "No system call in a write nobody waits for", checked by a seccomp trap. */

static void getppid_loop(void *ctx, size_t ops)
{
	(void)ctx;
	for (size_t i = 0; i < ops; i++)
		syscall(SYS_getppid);
}

static void check_write_syscalls(orbit_ring_t *ring, size_t writes)
{
	struct solo *s = bench_shared_map(sizeof(*s)); /* the child reports s->err */
	struct bench_syscall_check run, control;
	int rc;

	printf("\nsystem calls in orbit_ring_write and _write_batch while nobody waits\n"
	       "  method: a child process under a seccomp filter that traps every call but exit\n");
	if (!s) {
		fail("system-call check", -ENOMEM);
		return;
	}
	s->ring = ring;
	s->bytes = FRAME_BYTES;
	rc = bench_run_without_syscalls(getppid_loop, NULL, 1, &control);
	if (rc == 0)
		rc = bench_run_without_syscalls(write_loop, s, writes, &run);
	/* Batches too: the run fails on the first call made by either loop. */
	if (rc == 0 && run.ran_clean && s->err == 0)
		rc = bench_run_without_syscalls(write_batch_loop, s, writes, &run);
	if (rc < 0) {
		printf("  not checked: seccomp filter unavailable (%s)\n", strerror(-rc));
	} else if (control.ran_clean || control.syscall_nr != SYS_getppid) {
		printf("  not checked: the control getppid() was not trapped\n");
		failed = true;
	} else if (run.syscall_nr >= 0) {
		printf("  control: getppid() under the same filter was trapped (system call %ld)\n",
		       control.syscall_nr);
		printf("  result: system call %ld made during the writes              target 0  "
		       "MISSED\n",
		       run.syscall_nr);
	} else if (run.ran_clean && s->err == 0) {
		printf("  control: getppid() under the same filter was trapped (system call %ld)\n",
		       control.syscall_nr);
		printf("  result: %zu writes of 64 B, then as many in batches of %d, none failed,\n"
		       "          0 system calls                                   target 0  met\n",
		       writes, BENCH_BATCH);
	} else {
		printf("  writes failed: %s\n", s->err < 0 ? strerror(-s->err) : "the child died");
		failed = true;
	}
	bench_shared_unmap(s, sizeof(*s));
}

static void print_ns(double ns)
{
	if (isnan(ns))
		printf("%10s", "n/a");
	else
		printf("%10.1f", ns);
}

static void print_table(const double ns[FIGURE_COUNT])
{
	printf("\n%-44s%10s\n", "reference", "ns");
	for (int f = FETCH_ADD; f < WRITE; f++) {
		printf("  %-42s", figures[f].label);
		print_ns(ns[f]);
		printf("\n");
	}
	printf("\n%-44s%10s  %-18s%8s  %s\n", "liborbit", "ns", "vs", "ratio", "target");
	for (size_t i = 0; i < sizeof(comparisons) / sizeof(comparisons[0]); i++) {
		enum figure s = comparisons[i].subject, r = comparisons[i].reference;
		double ratio = ns[s] / ns[r], target = comparisons[i].target;

		printf("  %-42s", figures[s].label);
		print_ns(ns[s]);
		printf("  %-18s", figures[r].short_label);
		if (isnan(ratio))
			printf("%8s", "n/a");
		else
			printf("%8.2f", ratio);
		if (target == 0)
			printf("  -\n");
		else if (isnan(ratio))
			printf("  <= %-4.1f n/a\n", target);
		else
			printf("  <= %-4.1f %s\n", target, ratio <= target ? "met" : "MISSED");
	}
}

/* Frames per second a batched stream must sustain, by frame size (the targets). */
static const double stream_targets[SIZES] = { 30e6, 10e6 };

static void print_rate(double ns)
{
	if (isnan(ns))
		printf("%10s", "n/a");
	else
		printf("%10.2f", 1e3 / ns);
}

static void print_throughput(const double ns[FIGURE_COUNT])
{
	printf("\n%-44s%10s  %s\n", "throughput, spinning reader, lossless", "M frames/s",
	       "target");
	for (int size = 0; size < SIZES; size++) {
		double target = stream_targets[size], rate = 1e9 / ns[BATCH_STREAM + size];

		printf("  %-42s", figures[BARE_STREAM + size].label);
		print_rate(ns[BARE_STREAM + size]);
		printf("\n  %-42s", figures[STREAM + size].label);
		print_rate(ns[STREAM + size]);
		printf("\n  %-42s", figures[BATCH_STREAM + size].label);
		print_rate(ns[BATCH_STREAM + size]);
		if (isnan(rate))
			printf("  >= %.0f n/a\n", target / 1e6);
		else
			printf("  >= %.0f %s\n", target / 1e6, rate >= target ? "met" : "MISSED");
	}
}

static void print_method(const struct settings *set, orbit_ring_t *ring, const int cpus[2],
			 unsigned ncpus)
{
	if (ncpus >= 2)
		printf("pinning  parent on CPU %d, child on CPU %d (sched_setaffinity)\n", cpus[0],
		       cpus[1]);
	else
		printf("pinning  none: one usable CPU, spinning figures skipped\n");
	printf("timer    clock_gettime(CLOCK_MONOTONIC) costs %.1f ns\n", bench_timer_ns());
	printf("ring     shm fleet, capacity %u, payload_max %u; 64- and 256-byte frames\n"
	       "bare     the slot protocol alone (common/measure/bare.c): same slots,\n"
	       "         same guarantees, no checks, in anonymous shared memory\n",
	       orbit_ring_capacity(ring), orbit_ring_payload_max(ring));
	printf("method   single thread: best of %u rounds of %zu operations, ns per operation;\n"
	       "         read_at and next cycle over the %d counters behind the head\n",
	       set->rounds, set->ops, READ_SPAN);
	printf("         spinning: median of %u samples of %u round trips (after %u warm-up)\n",
	       set->spin.samples, set->spin.batch, set->spin.warmup);
	printf("         blocking: median of %u samples of %u round trip (after %u warm-up)\n",
	       set->block.samples, set->block.batch, set->block.warmup);
	printf("         one-way = round trip / 2; one ring, line, futex or pipe each way\n");
	printf("         stream: a child writes, the parent spins reading, the writer within\n"
	       "         half a ring of the count the reader publishes; median of %u samples of\n"
	       "         %u frames; batches: %d frames per orbit_ring_write_batch, up to %d\n"
	       "         per orbit_ring_next_batch (single thread: per frame of such calls)\n",
	       set->stream.samples, set->stream.batch, BENCH_BATCH, BENCH_BATCH);
}

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: ring [--quick]\n"
		"Measures liborbit's ring against the bare slot protocol, an atomic fetch_add,\n"
		"a cache-line hand-off, a futex and a pipe ping-pong, and prints the ratios\n"
		"with their targets.\n\n"
		"  -q, --quick   a short run with fewer rounds and samples\n"
		"  -h, --help    show this help\n\n"
		"Exit status: 0 when every figure was measured (targets may be missed),\n"
		"1 on an error, 2 on bad usage.\n");
}

static int parse_options(int argc, char **argv, const struct settings **set)
{
	bool quick;
	int ret = bench_parse_quick(argc, argv, usage, &quick);

	*set = quick ? &quick_run : &full_run;
	return ret;
}

static double measure_fd(const struct settings *set, const int cpus[2])
{
	struct bench_channel ch = { .bytes = FRAME_BYTES, .fd = true };
	struct bench_result res;
	int rc = bench_transport_run(&bench_transport_orbit, &ch, &set->block, cpus, TIMEOUT_S,
				     &res);

	return measured(rc, &res, 1, "orbit_ring_fd");
}

/* The single-thread figures at one frame size: each ring written full, then read. */
static void measure_size(struct solo *s, int size, const struct settings *set,
			 double ns[FIGURE_COUNT])
{
	s->bytes = frame_sizes[size];
	ns[BARE_WRITE + size] = measure_solo(bare_write_loop, s, set, "bare write");
	s->base = bare_head(s->bare) - READ_SPAN;
	ns[BARE_HEAD + size] = measure_solo(bare_read_head_loop, s, set, "bare read_head");
	ns[BARE_AT + size] = measure_solo(bare_read_at_loop, s, set, "bare read_at");
	ns[BARE_NEXT + size] = measure_solo(bare_next_loop, s, set, "bare next");
	ns[WRITE + size] = measure_solo(write_loop, s, set, "orbit_ring_write");
	s->base = orbit_ring_head(s->ring) - READ_SPAN;
	ns[HEAD + size] = measure_solo(read_head_loop, s, set, "orbit_ring_read_head");
	ns[AT + size] = measure_solo(read_at_loop, s, set, "orbit_ring_read_at");
	ns[NEXT + size] = measure_solo(next_loop, s, set, "orbit_ring_next");
	ns[NEXT_BATCH + size] = measure_solo(next_batch_loop, s, set, "orbit_ring_next_batch");
	ns[WRITE_BATCH + size] = measure_solo(write_batch_loop, s, set, "orbit_ring_write_batch");
}

/* One writer streaming to a spinning reader, lossless: ns per frame. */
static double measure_stream(const struct bench_transport *t, size_t bytes,
			     const struct settings *set, const int cpus[2], const char *what)
{
	struct bench_channel ch = { .bytes = bytes, .spin = true, .stream = true };
	struct bench_result res;
	int rc = bench_transport_run(t, &ch, &set->stream, cpus, TIMEOUT_S, &res);

	return measured(rc, &res, 1, what);
}

static void measure_all(orbit_ring_t *solo_ring, const struct settings *set, const int cpus[2],
			bool spin, double ns[FIGURE_COUNT])
{
	struct solo s = { .ring = solo_ring,
			  .bare = bare_ring_new(orbit_ring_capacity(solo_ring)) };
	struct bench_result res;
	int rc;

	ns[FETCH_ADD] = measure_solo(fetch_add_loop, &s, set, "fetch_add");
	for (int size = 0; size < SIZES; size++) {
		if (s.bare)
			measure_size(&s, size, set, ns);
		else
			ns[BARE_WRITE + size] = fail("bare ring", -ENOMEM);
	}
	bare_ring_free(s.bare);
	ns[HANDOFF] = ns[SPIN] = ns[BARE_SPIN] = NAN;
	if (spin) {
		rc = bench_handoff_run(&set->spin, cpus, TIMEOUT_S, &res);
		ns[HANDOFF] = measured(rc, &res, 0.5, "cache-line hand-off");
		ns[BARE_SPIN] = measure_transport(&bench_transport_bare, FRAME_BYTES, true,
						  &set->spin, cpus, 0.5, "spinning bare ring");
		ns[SPIN] = measure_transport(&bench_transport_orbit, FRAME_BYTES, true, &set->spin,
					     cpus, 0.5, "spinning ring");
	}
	for (int size = 0; size < SIZES; size++) {
		ns[BARE_STREAM + size] = ns[STREAM + size] = ns[BATCH_STREAM + size] = NAN;
		if (!spin)
			continue;
		ns[BARE_STREAM + size] = measure_stream(&bench_transport_bare, frame_sizes[size],
							set, cpus, "bare stream");
		ns[STREAM + size] = measure_stream(&bench_transport_orbit, frame_sizes[size], set,
						   cpus, "stream");
		ns[BATCH_STREAM + size] =
			measure_stream(&bench_transport_orbit_batched, frame_sizes[size], set, cpus,
				       "batched stream");
	}
	rc = bench_words_run(futex_send, futex_receive, &set->block, cpus, TIMEOUT_S, &res);
	ns[FUTEX] = measured(rc, &res, 1, "futex");
	ns[WAIT] = measure_transport(&bench_transport_orbit, FRAME_BYTES, false, &set->block, cpus,
				     1, "orbit_ring_wait");
	ns[FD] = measure_fd(set, cpus);
	ns[PIPE] = measure_transport(&bench_transport_pipe, 1, false, &set->block, cpus, 1, "pipe");
}

int main(int argc, char **argv)
{
	const struct settings *set;
	double ns[FIGURE_COUNT];
	orbit_fleet_t *fleet;
	orbit_ring_t *ring;
	char name[64];
	int cpus[2];
	unsigned ncpus;
	int rc;

	if (parse_options(argc, argv, &set) < 0)
		return 2;
	ncpus = bench_pick_cpus(cpus);
	if (ncpus < 2)
		cpus[0] = cpus[1] = -1;
	snprintf(name, sizeof(name), "bench-ring-%ld", (long)getpid());
	rc = orbit_fleet_join_shm(name, 0, 2, NULL, &fleet);
	if (rc < 0) {
		fail("orbit_fleet_join_shm", rc);
		return 1;
	}
	rc = orbit_fleet_ring(fleet, KIND_SOLO, &ring);
	if (rc < 0) {
		fail("orbit_fleet_ring", rc);
	} else {
		printf("liborbit %s ring benchmark, %s run\n", orbit_version(), set->name);
		bench_print_machine(stdout);
		print_method(set, ring, cpus, ncpus);
		fflush(stdout);
		measure_all(ring, set, cpus, ncpus >= 2, ns);
		print_table(ns);
		print_throughput(ns);
		check_write_syscalls(ring, set->checked_writes);
	}
	orbit_fleet_unlink(fleet);
	orbit_fleet_leave(fleet);
	return failed ? 1 : 0;
}
