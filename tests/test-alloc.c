/* SPDX-License-Identifier: MIT */
/*
 * Allocation failures: every call that allocates runs with its 1st, 2nd, ... allocation
 * failing (alloc-fail.c replaces the malloc family), until a run needs none. Each run
 * returns 0 or -ENOMEM, leaves the caller's out-pointer or buffer alone when it fails,
 * and leaves no block behind once its handles are closed.
 */
#include <orbit.h>

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "alloc-fail.h"
#include "testutil.h"

#define KIND	   41
#define FLEET_SIZE 4
#define BIG_SLOTS  4096 /* payload_max of the rings that take frames too big for the stack */
#define BIG_VALUE  1000
/* Far more allocations than any call makes: a run that never stops failing is a bug. */
#define MAX_RUNS   200
#define BLOCKS_MAX 64

/* What an out-pointer holds until a call stores a handle in it. */
#define UNTOUCHED ((void *)(uintptr_t)0x5a5a5a5a)
#define FILL	  0xA5

static char run_tag[32];

/* One call under test, and what it needs around it. */
struct op_state {
	char name[256];
	orbit_fleet_t *fleet; /* the setup's, if the op has one */
	orbit_fleet_t *peer;  /* another node of it, in this process */
	orbit_guard_t *guard; /* the peer's */
	uint16_t holder;
	orbit_cache_t *cache;
	void *out; /* the call's out-pointer target */
	uint8_t value[BIG_VALUE];
};

struct op {
	const char *what;
	bool shared;	      /* a POSIX shm fleet, else process-local */
	uint32_t payload_max; /* of the fleet */
	bool process_state;   /* keeps process-wide state: judged against a clean run */
	int (*setup)(struct op_state *st);
	int (*call)(struct op_state *st);
	/* Whether the state after the call is right for what it returned. */
	bool (*verify)(struct op_state *st, int ret);
	void (*cleanup)(struct op_state *st);
};

static orbit_fleet_options_t options(uint32_t payload_max)
{
	orbit_fleet_options_t opts = ORBIT_FLEET_OPTIONS_INIT;

	opts.capacity = 16;
	opts.payload_max = payload_max;
	return opts;
}

static int join(const struct op *op, struct op_state *st, uint16_t node, orbit_fleet_t **out)
{
	orbit_fleet_options_t opts = options(op->payload_max);

	return op->shared ? orbit_fleet_join_shm(st->name, node, FLEET_SIZE, &opts, out)
			  : orbit_fleet_join(st->name, node, FLEET_SIZE, &opts, out);
}

/* The op being run: setup and call reach its options through it. */
static const struct op *current;

static int setup_fleet(struct op_state *st)
{
	return join(current, st, 0, &st->fleet);
}

static void leave_fleet(struct op_state *st)
{
	if (st->fleet && current->shared)
		orbit_fleet_unlink(st->fleet);
	orbit_fleet_leave(st->fleet);
}

/* A failed call stores nothing; a successful one, a handle. */
static bool out_verify(struct op_state *st, int ret)
{
	return ret < 0 ? st->out == UNTOUCHED : st->out != UNTOUCHED && st->out != NULL;
}

static bool out_made(const struct op_state *st)
{
	return st->out != UNTOUCHED && st->out != NULL;
}

/* ---- the calls ---- */

static int call_join(struct op_state *st)
{
	return join(current, st, 0, (orbit_fleet_t **)&st->out);
}

static void cleanup_join(struct op_state *st)
{
	if (out_made(st))
		orbit_fleet_leave(st->out);
}

static int call_ring(struct op_state *st)
{
	return orbit_fleet_ring(st->fleet, KIND, (orbit_ring_t **)&st->out);
}

static int call_cache_open(struct op_state *st)
{
	return orbit_cache_open(st->fleet, ORBIT_KIND_CACHE, (orbit_cache_t **)&st->out);
}

static void cleanup_cache(struct op_state *st)
{
	if (out_made(st))
		orbit_cache_close(st->out);
	orbit_cache_close(st->cache);
	leave_fleet(st);
}

static int call_events_open(struct op_state *st)
{
	return orbit_events_open(st->fleet, ORBIT_KIND_EVENTS, (orbit_events_t **)&st->out);
}

static void cleanup_events(struct op_state *st)
{
	if (out_made(st))
		orbit_events_close(st->out);
	leave_fleet(st);
}

static void value_expected(uint8_t *value)
{
	for (size_t i = 0; i < BIG_VALUE; i++)
		value[i] = (uint8_t)(i * 7 + 3);
}

static int setup_value(struct op_state *st)
{
	uint8_t value[BIG_VALUE];
	int ret = setup_fleet(st);

	value_expected(value);
	return ret ? ret : orbit_value_store(st->fleet, KIND, value, sizeof(value));
}

static int call_value_load(struct op_state *st)
{
	memset(st->value, FILL, sizeof(st->value));
	return orbit_value_load(st->fleet, KIND, st->value, sizeof(st->value));
}

/* Loaded exactly, or, on failure, the caller's buffer untouched. */
static bool value_verify(struct op_state *st, int ret)
{
	uint8_t want[BIG_VALUE];

	if (ret == 0)
		value_expected(want);
	else
		memset(want, FILL, sizeof(want));
	return memcmp(st->value, want, sizeof(want)) == 0;
}

static int setup_cache(struct op_state *st)
{
	int ret = setup_fleet(st);

	return ret ? ret : orbit_cache_open(st->fleet, ORBIT_KIND_CACHE, &st->cache);
}

static int call_cache_put(struct op_state *st)
{
	value_expected(st->value);
	return orbit_cache_put(st->cache, "key", 3, st->value, sizeof(st->value), 0);
}

/* Put whole, or, on failure, nothing at all. */
static bool cache_put_verify(struct op_state *st, int ret)
{
	uint8_t got[BIG_VALUE];
	size_t len = 0;
	int r = orbit_cache_get(st->cache, "key", 3, got, sizeof(got), &len);

	if (ret < 0)
		return r == -ENOENT;
	value_expected(st->value);
	return r == 0 && len == sizeof(got) && memcmp(got, st->value, len) == 0;
}

static int call_contest_claim(struct op_state *st)
{
	return orbit_contest_claim(st->fleet, 1, "job", "owner", 60000, (orbit_guard_t **)&st->out,
				   NULL);
}

static void cleanup_contest(struct op_state *st)
{
	if (out_made(st))
		orbit_guard_release(st->out);
	leave_fleet(st);
}

/* Another node holds the subject: finding out maps the subject slots, the first time. */
static int setup_held(struct op_state *st)
{
	int ret = setup_fleet(st);

	if (ret == 0)
		ret = join(current, st, 1, &st->peer);
	return ret ? ret : orbit_contest_claim(st->peer, 1, "job", NULL, 60000, &st->guard, NULL);
}

static int call_contest_holder(struct op_state *st)
{
	st->holder = UINT16_MAX;
	return orbit_contest_holder(st->fleet, 1, "job", &st->holder);
}

/* The peer named, or, on failure, the caller's holder left alone. */
static bool holder_verify(struct op_state *st, int ret)
{
	return st->holder == (ret == 0 ? orbit_fleet_node(st->peer) : UINT16_MAX);
}

static void cleanup_held(struct op_state *st)
{
	orbit_guard_release(st->guard);
	orbit_fleet_leave(st->peer);
	leave_fleet(st);
}

static const struct op ops[] = {
	{ "orbit_fleet_join", false, 256, false, NULL, call_join, out_verify, cleanup_join },
	{ "orbit_fleet_join_shm", true, 256, false, NULL, call_join, out_verify, cleanup_join },
	{ "orbit_fleet_ring (local)", false, 256, false, setup_fleet, call_ring, out_verify,
	  leave_fleet },
	{ "orbit_fleet_ring (shm)", true, 256, false, setup_fleet, call_ring, out_verify,
	  leave_fleet },
	{ "orbit_cache_open", true, 256, false, setup_fleet, call_cache_open, out_verify,
	  cleanup_cache },
	{ "orbit_cache_open (large slots)", false, BIG_SLOTS, false, setup_fleet, call_cache_open,
	  out_verify, cleanup_cache },
	{ "orbit_events_open", true, 256, false, setup_fleet, call_events_open, out_verify,
	  cleanup_events },
	{ "orbit_events_open (large slots)", false, BIG_SLOTS, false, setup_fleet, call_events_open,
	  out_verify, cleanup_events },
	{ "orbit_value_load (large value)", false, BIG_SLOTS, false, setup_value, call_value_load,
	  value_verify, leave_fleet },
	{ "orbit_cache_put (large frame)", false, BIG_SLOTS, false, setup_cache, call_cache_put,
	  cache_put_verify, cleanup_cache },
	/* The lease table the contest decides in keeps process-wide state (open tables). */
	{ "orbit_contest_claim (local)", false, 256, true, setup_fleet, call_contest_claim,
	  out_verify, cleanup_contest },
	{ "orbit_contest_claim (shm)", true, 256, true, setup_fleet, call_contest_claim, out_verify,
	  cleanup_contest },
	{ "orbit_contest_holder", true, 256, true, setup_held, call_contest_holder, holder_verify,
	  cleanup_held },
};

/* ---- the runner ---- */

/* One run, with allocation `nth` failing (0: none); forked runs share it with the parent. */
struct run {
	int setup;
	int ret;
	bool failed; /* allocation nth came */
	bool verified;
	long live; /* blocks the run left behind, -1: tracking overflowed */
	struct alloc_block blocks[BLOCKS_MAX];
};

static void run_once(const struct op *op, unsigned long nth, struct run *run)
{
	struct op_state st = { .out = UNTOUCHED };
	unsigned long mark = alloc_mark();

	current = op;
	test_fleet_name(st.name, sizeof(st.name), run_tag);
	run->setup = op->setup ? op->setup(&st) : 0;
	if (run->setup == 0) {
		alloc_fail_nth(nth);
		run->ret = op->call(&st);
		run->failed = alloc_failed();
		alloc_fail_nth(0);
		run->verified = op->verify(&st, run->ret);
	}
	op->cleanup(&st);
	run->live = alloc_live_since(mark, run->blocks, BLOCKS_MAX);
}

/* The run in a child, for ops whose process-wide state must start clean every time. */
static void run_forked(const struct op *op, unsigned long nth, struct run *run)
{
	struct run *shared = mmap(NULL, sizeof(*shared), PROT_READ | PROT_WRITE,
				  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int status;
	pid_t pid;

	ck_assert_ptr_ne(shared, MAP_FAILED);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		run_once(op, nth, shared);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "%s with allocation %lu failing: child died (status 0x%x)", op->what, nth,
		      status);
	*run = *shared;
	munmap(shared, sizeof(*shared));
}

/* Every block of `left` is one `clean` left too (both sorted by caller, then size). */
static bool blocks_within(const struct run *left, const struct run *clean)
{
	long j = 0;

	for (long i = 0; i < left->live; i++) {
		const struct alloc_block *b = &left->blocks[i];

		while (j < clean->live &&
		       (clean->blocks[j].caller != b->caller || clean->blocks[j].size != b->size))
			j++;
		if (j == clean->live)
			return false;
		j++;
	}
	return true;
}

static void assert_no_leak(const struct op *op, unsigned long nth, const struct run *run,
			   const struct run *clean)
{
	ck_assert_msg(run->live >= 0 && run->live <= BLOCKS_MAX, "%s: %ld blocks, cannot tell",
		      op->what, run->live);
	if (op->process_state) {
		ck_assert_msg(blocks_within(run, clean),
			      "%s with allocation %lu failing: %ld blocks left, not all kept by a "
			      "clean run",
			      op->what, nth, run->live);
		return;
	}
	ck_assert_msg(run->live == 0,
		      "%s with allocation %lu failing: %ld blocks left, the first %zu bytes "
		      "from %p",
		      op->what, nth, run->live, run->live ? run->blocks[0].size : 0,
		      run->live ? run->blocks[0].caller : NULL);
}

START_TEST(test_allocation_failures)
{
	const struct op *op = &ops[_i];
	struct run clean = { 0 }, run;
	unsigned long nth;

	if (op->process_state) {
		run_forked(op, 0, &clean);
		ck_assert_int_eq(clean.ret, 0);
	}
	for (nth = 1;; nth++) {
		ck_assert_msg(nth < MAX_RUNS, "%s: still failing after %d allocations", op->what,
			      MAX_RUNS);
		memset(&run, 0, sizeof(run));
		if (op->process_state)
			run_forked(op, nth, &run);
		else
			run_once(op, nth, &run);
		ck_assert_msg(run.setup == 0, "%s: setup failed: %d", op->what, run.setup);
		if (!run.failed) {
			/* The call made fewer than nth allocations: it ran whole. */
			ck_assert_int_eq(run.ret, 0);
			ck_assert(run.verified);
			assert_no_leak(op, nth, &run, &clean);
			break;
		}
		ck_assert_msg(run.ret == 0 || run.ret == -ENOMEM,
			      "%s with allocation %lu failing: %d", op->what, nth, run.ret);
		ck_assert_msg(run.verified, "%s with allocation %lu failing: returned %d, %s",
			      op->what, nth, run.ret,
			      run.ret < 0 ? "but made something" : "but did not do its work");
		assert_no_leak(op, nth, &run, &clean);
	}
	/* Every op here allocates: none failing means the failures never reached it. */
	ck_assert_msg(nth > 1, "%s: no allocation failed", op->what);
	fprintf(stderr, "%s: %lu allocations, each made to fail once\n", op->what, nth - 1);
}
END_TEST

static Suite *alloc_suite(void)
{
	Suite *suite = suite_create("alloc");
	TCase *tc = tcase_create("failures");

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_allocation_failures, 0, ARRAY_SIZE(ops));
	suite_add_tcase(suite, tc);
	return suite;
}

/* Whether this process's malloc is alloc-fail.c's: not under valgrind, which takes it over. */
static bool injection_works(void)
{
	void *(*volatile allocate)(size_t) = malloc;
	void *p;
	bool failed;

	alloc_fail_nth(1);
	p = allocate(1);
	failed = alloc_failed();
	alloc_fail_nth(0);
	free(p);
	return failed && !p;
}

int main(void)
{
#ifdef ALLOC_FAIL_UNAVAILABLE
	fprintf(stderr, "skipped: a sanitizer runtime in the executable owns the malloc family\n");
	return 77;
#endif
	if (!injection_works()) {
		fprintf(stderr, "skipped: something else (valgrind?) replaced the malloc family\n");
		return 77;
	}
	snprintf(run_tag, sizeof(run_tag), "alloc%ld", (long)getpid());
	return test_run_suite(alloc_suite(), run_tag);
}
