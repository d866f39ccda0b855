/* SPDX-License-Identifier: MIT */
/*
 * Processes killed at random points: writers in the middle of their frames, creators in
 * the middle of formatting a segment, waiters asleep in orbit_ring_wait and contest
 * holders while they hold. The survivors accept no torn frame, account for every counter,
 * find a dead holder's subject free at once, and the fleet keeps working.
 */
#include <orbit.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "copy-trap.h"
#include "frame-pattern.h"
#include "segment-layout.h"
#include "testutil.h"

#define KIND		 31
#define FLEET_SIZE	 64
#define STABLE_WRITERS	 2
#define READERS		 2
#define VICTIM_NODE_BASE 8
#define VICTIM_NODES	 32
#define READER_NODE_BASE 48
#define TEST_NODE	 63
/* A stalled process must fail the test, not hang it; far beyond any healthy run. */
#define CRASH_DEADLINE_MS 240000
#define WAIT_DEADLINE_MS  30000

static char run_tag[32];
static char fleet_name[256];
static orbit_fleet_t *fleet;

static void setup(void)
{
	test_fleet_name(fleet_name, sizeof(fleet_name), run_tag);
	fleet = NULL;
}

static void teardown(void)
{
	orbit_fleet_leave(fleet);
	test_unlink_fleet(fleet_name);
}

static void sleep_us(uint64_t us)
{
	struct timespec ts = { .tv_sec = (time_t)(us / 1000000),
			       .tv_nsec = (long)(us % 1000000) * 1000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void *shared_alloc(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	ck_assert_ptr_ne(p, MAP_FAILED);
	return p;
}

static orbit_fleet_options_t options(uint32_t capacity, uint32_t payload_max)
{
	orbit_fleet_options_t opts = ORBIT_FLEET_OPTIONS_INIT;

	opts.capacity = capacity;
	opts.payload_max = payload_max;
	return opts;
}

/* Joins as node and opens the test ring; the handle goes to *out. */
static int join_ring(uint16_t node, const orbit_fleet_options_t *opts, orbit_fleet_t **out,
		     orbit_ring_t **ring)
{
	int ret = orbit_fleet_join_shm(fleet_name, node, FLEET_SIZE, opts, out);

	if (ret < 0)
		return ret;
	ret = orbit_fleet_ring(*out, KIND, ring);
	if (ret < 0) {
		orbit_fleet_leave(*out);
		*out = NULL;
	}
	return ret;
}

/* Forks a child that dies with the test process; the child runs body and exits. */
static pid_t spawn(void (*body)(void *), void *arg)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid)
		return pid;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	body(arg);
	_exit(0);
}

static void kill_and_reap(pid_t pid)
{
	int status;

	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
		      "child %ld ended on its own before the kill (status 0x%x)", (long)pid,
		      status);
}

/* Waits (bounded) until *flag reaches value: a child got where the test needs it. */
static void await_flag(_Atomic uint64_t *flag, uint64_t value)
{
	uint64_t deadline = mono_ms() + WAIT_DEADLINE_MS;

	while (atomic_load(flag) < value) {
		ck_assert_msg(mono_ms() < deadline, "a child never got ready");
		sched_yield();
	}
}

/* A write then a read of it, by id and by cursor: the fleet still works. */
static void assert_round_trip(orbit_ring_t *ring, uint16_t node, uint64_t seq)
{
	static uint8_t buf[1u << 20];
	uint64_t cursor = orbit_ring_head(ring), lost = 0, got_seq;
	orbit_frame_t frame;
	uint16_t writer;
	orbit_id_t id;

	ck_assert_int_eq(pattern_write(ring, node, seq, &id), 0);
	ck_assert_int_eq(orbit_ring_read(ring, id, &frame, buf, sizeof(buf)), 0);
	ck_assert_int_eq(pattern_verify(ring, &frame, buf, &writer, &got_seq), 0);
	ck_assert_uint_eq(got_seq, seq);
	ck_assert_int_eq(orbit_ring_next(ring, &cursor, &frame, buf, sizeof(buf), &lost), 0);
	ck_assert_uint_eq(frame.id, id);
	ck_assert_uint_eq(lost, 0);
}

/* ---- writers killed mid-frame while readers and other writers run ---- */

static const struct kill_config {
	uint32_t capacity;
	uint32_t payload_max; /* 256: layout 1; others: layout 2 */
	uint32_t rounds;
} kill_configs[] = {
	{ .capacity = 1024, .payload_max = 256, .rounds = 150 },
	{ .capacity = 256, .payload_max = 4000, .rounds = 150 },
};

struct reader_report {
	uint64_t delivered;
	uint64_t lost;
	uint64_t cursor;
	uint64_t torn;	       /* accepted frames that differ from what their writer wrote */
	uint64_t out_of_order; /* a writer's seq not above the last one delivered from it */
	uint64_t head_reads;
	uint64_t head_torn;
	uint64_t errors; /* returns outside the documented set */
	int last_error;
	int timed_out;
};

struct kill_shared {
	const struct kill_config *cfg;
	_Atomic int stop_writers;
	_Atomic int last_written;      /* every writer is done: the head is final */
	_Atomic uint64_t victim_ready; /* round + 1 once that round's victim is writing */
	_Atomic int victim_error;
	uint64_t stable_written[STABLE_WRITERS];
	int stable_error[STABLE_WRITERS];
	struct reader_report readers[READERS];
};

/* What one child is, in the parent's private memory: fork gives the child its own copy. */
struct kill_child {
	struct kill_shared *shared;
	uint32_t round;
	int index;
	bool slow_copy; /* the victim naps inside every copy: kills land mid-frame */
};

/* How long a slow-copy victim naps inside each frame. */
#define SLOW_COPY_NAP_US 300

/* A victim's frames carry (round << 32 | n), so each node's seqs grow across rounds. */
static void run_victim(void *arg)
{
	const struct kill_child *child = arg;
	struct kill_shared *shared = child->shared;
	orbit_fleet_options_t opts = options(shared->cfg->capacity, shared->cfg->payload_max);
	uint16_t node = (uint16_t)(VICTIM_NODE_BASE + child->round % VICTIM_NODES);
	orbit_fleet_t *f;
	orbit_ring_t *ring;
	size_t words = shared->cfg->payload_max / 8;
	int ret = join_ring(node, &opts, &f, &ring);

	if (ret == 0 && child->slow_copy)
		ret = trap_setup(shared->cfg->payload_max, SLOW_COPY_NAP_US);
	if (ret < 0) {
		atomic_store(&shared->victim_error, ret);
		_exit(1);
	}
	atomic_store(&shared->victim_ready, (uint64_t)child->round + 1);
	for (uint64_t n = 0;; n++) {
		uint64_t seq = (uint64_t)child->round << 32 | n;

		if (child->slow_copy)
			ret = trapped_write(ring, node, seq, 8 * (1 + test_rng_below(words - 1)));
		else
			ret = pattern_write(ring, node, seq, NULL);
		if (ret < 0) {
			atomic_store(&shared->victim_error, ret);
			_exit(1);
		}
	}
}

/* Writes until told to stop, pausing now and then so the box stays usable. */
static void run_stable_writer(void *arg)
{
	const struct kill_child *child = arg;
	struct kill_shared *shared = child->shared;
	int index = child->index;
	orbit_fleet_options_t opts = options(shared->cfg->capacity, shared->cfg->payload_max);
	uint16_t node = (uint16_t)index;
	orbit_fleet_t *f;
	orbit_ring_t *ring;
	int ret = join_ring(node, &opts, &f, &ring);

	for (uint64_t seq = 0; ret == 0 && !atomic_load(&shared->stop_writers); seq++) {
		ret = pattern_write(ring, node, seq, NULL);
		if (ret == 0)
			shared->stable_written[index]++;
		if (seq % 8 == 7)
			sleep_us(100);
	}
	shared->stable_error[index] = ret;
	if (ret == 0)
		orbit_fleet_leave(f);
}

static void check_delivered(orbit_ring_t *ring, const orbit_frame_t *frame, const void *buf,
			    uint64_t *last_seq, struct reader_report *report)
{
	uint16_t writer;
	uint64_t seq;

	report->delivered++;
	if (pattern_verify(ring, frame, buf, &writer, &seq) < 0 || writer >= FLEET_SIZE) {
		report->torn++;
		return;
	}
	/* last_seq holds seq + 1 of the newest frame delivered per writer; 0 = none yet. */
	if (seq + 1 <= last_seq[writer])
		report->out_of_order++;
	last_seq[writer] = seq + 1;
}

/* Reads with a cursor until the writers are done and every counter is accounted for. */
static void run_reader(void *arg)
{
	static uint8_t buf[1u << 20];
	static uint64_t last_seq[FLEET_SIZE];
	const struct kill_child *child = arg;
	struct kill_shared *shared = child->shared;
	struct reader_report *report = &shared->readers[child->index];
	orbit_fleet_options_t opts = options(shared->cfg->capacity, shared->cfg->payload_max);
	uint64_t deadline = mono_ms() + CRASH_DEADLINE_MS;
	orbit_frame_t frame;
	orbit_fleet_t *f;
	orbit_ring_t *ring;
	int ret = join_ring((uint16_t)(READER_NODE_BASE + child->index), &opts, &f, &ring);

	if (ret < 0) {
		report->errors++;
		report->last_error = ret;
		return;
	}
	for (;;) {
		ret = orbit_ring_next(ring, &report->cursor, &frame, buf, sizeof(buf),
				      &report->lost);
		if (ret == 0) {
			check_delivered(ring, &frame, buf, last_seq, report);
		} else if (ret == -EAGAIN) {
			if (atomic_load(&shared->last_written) &&
			    report->cursor == orbit_ring_head(ring))
				break;
			if (report->cursor >= orbit_ring_head(ring))
				orbit_ring_wait(ring, report->cursor, 20);
			else
				sched_yield();
		} else {
			report->errors++;
			report->last_error = ret;
		}
		pattern_check_head(ring, PATTERN_ANY_WRITER, &report->head_reads,
				   &report->head_torn, &report->errors, &report->last_error);
		if (mono_ms() > deadline) {
			report->timed_out = 1;
			break;
		}
	}
	orbit_fleet_leave(f);
}

/*
 * Slots the victim of `round` died holding: taken (seq odd) and its frame begun (id and
 * ver stored, which come before the payload). Its dead claim, mid-frame.
 */
static uint32_t held_by_victim(const struct seg_map *map, uint32_t round)
{
	uint16_t node = (uint16_t)(VICTIM_NODE_BASE + round % VICTIM_NODES);
	uint32_t held = 0;

	for (uint64_t i = 0; i < map->capacity; i++) {
		const uint8_t *slot = seg_slot(map, i);
		uint64_t seq = seg_load64(slot, map->layout->slot_seq);

		if ((seq & 1) && orbit_id_node(seg_load64(slot, map->layout->slot_id)) == node &&
		    seg_load64(slot, map->layout->slot_ver) >> 32 == round)
			held++;
	}
	return held;
}

/* Every frame the ring still holds is whole: a dead writer's claim reads as not committed. */
static void assert_ring_intact(orbit_ring_t *ring)
{
	static uint8_t buf[1u << 20];
	uint64_t head = orbit_ring_head(ring), capacity = orbit_ring_capacity(ring), seq;
	uint64_t from = head > capacity ? head - capacity : 0;
	orbit_frame_t frame;
	uint16_t writer;

	for (uint64_t c = from; c < head; c++) {
		int ret = orbit_ring_read_at(ring, c, &frame, buf, sizeof(buf));

		ck_assert_msg(ret == 0 || ret == -EAGAIN || ret == -ENOENT,
			      "counter %" PRIu64 ": %d", c, ret);
		if (ret == 0)
			ck_assert_int_eq(pattern_verify(ring, &frame, buf, &writer, &seq), 0);
	}
}

static void assert_reader(const struct kill_shared *shared, int r, uint64_t head)
{
	const struct reader_report *rep = &shared->readers[r];

	ck_assert_msg(!rep->timed_out, "reader %d stalled at cursor %" PRIu64, r, rep->cursor);
	ck_assert_msg(rep->torn == 0, "reader %d accepted %" PRIu64 " torn frames", r, rep->torn);
	ck_assert_msg(rep->head_torn == 0, "reader %d: read_head gave %" PRIu64 " torn frames", r,
		      rep->head_torn);
	ck_assert_msg(rep->errors == 0, "reader %d: %" PRIu64 " errors (last %d)", r, rep->errors,
		      rep->last_error);
	ck_assert_uint_eq(rep->out_of_order, 0);
	/* Every counter is delivered or counted lost, exactly once, dead writers' claims too. */
	ck_assert_uint_eq(rep->cursor, head);
	ck_assert_uint_eq(rep->delivered + rep->lost, head);
}

START_TEST(test_writers_killed_mid_frame)
{
	const struct kill_config *cfg = &kill_configs[_i];
	orbit_fleet_options_t opts = options(cfg->capacity, cfg->payload_max);
	struct kill_shared *shared = shared_alloc(sizeof(*shared));
	struct kill_child child = { .shared = shared };
	pid_t stable[STABLE_WRITERS], readers[READERS];
	uint32_t mid_frame = 0, before_ready = 0;
	uint64_t start = mono_ms(), head;
	struct seg_map map;
	orbit_ring_t *ring;

	test_rng_seed("writers killed mid-frame");
	shared->cfg = cfg;
	ck_assert_int_eq(join_ring(TEST_NODE, &opts, &fleet, &ring), 0);
	ck_assert_int_eq(seg_map_open(&map, fleet_name, KIND, cfg->capacity, cfg->payload_max), 0);
	for (int r = 0; r < READERS; r++) {
		child.index = r;
		readers[r] = spawn(run_reader, &child);
	}
	for (int w = 0; w < STABLE_WRITERS; w++) {
		child.index = w;
		stable[w] = spawn(run_stable_writer, &child);
	}

	for (uint32_t round = 0; round < cfg->rounds; round++) {
		/* One round in four kills the victim wherever it is, joining included. */
		bool anywhere = test_rng_below(4) == 0;
		pid_t victim;

		child.round = round;
		child.slow_copy = test_rng_below(2) == 0;
		victim = spawn(run_victim, &child);
		if (!anywhere)
			await_flag(&shared->victim_ready, (uint64_t)round + 1);
		sleep_us(test_rng_below(anywhere ? 2000 : 1000));
		kill_and_reap(victim);
		ck_assert_msg(atomic_load(&shared->victim_error) == 0, "victim %u failed: %d",
			      round, atomic_load(&shared->victim_error));
		mid_frame += held_by_victim(&map, round);
		if (atomic_load(&shared->victim_ready) <= round)
			before_ready++;
	}

	atomic_store(&shared->stop_writers, 1);
	for (int w = 0; w < STABLE_WRITERS; w++) {
		test_reap(stable[w]);
		ck_assert_msg(shared->stable_error[w] == 0, "writer %d: %d", w,
			      shared->stable_error[w]);
	}
	/*
	 * A frame after every dead claim: a cursor passes a claim only once later counters
	 * are claimed (the writers may all have stopped inside writes claimed before the kills).
	 */
	ck_assert_int_eq(pattern_write(ring, TEST_NODE, 0, NULL), 0);
	atomic_store(&shared->last_written, 1);
	for (int r = 0; r < READERS; r++)
		test_reap(readers[r]);
	head = orbit_ring_head(ring);
	fprintf(stderr,
		"writers killed (capacity %" PRIu32 ", payload_max %" PRIu32 "): %" PRIu32
		" kills, %" PRIu32 " holding a half-written slot, %" PRIu32
		" before their first write; head %" PRIu64 "; %" PRIu64 " ms\n",
		cfg->capacity, cfg->payload_max, cfg->rounds, mid_frame, before_ready, head,
		mono_ms() - start);
	for (int r = 0; r < READERS; r++) {
		const struct reader_report *rep = &shared->readers[r];

		fprintf(stderr,
			"  reader %d: delivered %" PRIu64 " lost %" PRIu64 " torn %" PRIu64
			" head-reads %" PRIu64 " head-torn %" PRIu64 "\n",
			r, rep->delivered, rep->lost, rep->torn, rep->head_reads, rep->head_torn);
		assert_reader(shared, r, head);
	}
	assert_ring_intact(ring);
	assert_round_trip(ring, TEST_NODE, 1);
	seg_map_close(&map);
	munmap(shared, sizeof(*shared));
}
END_TEST

/*
 * ---- a live writer keeps its slot for the whole stall bound ----
 *
 * Writer A takes over a slot a dead writer left, and is stopped in the middle of its copy
 * (its payload runs into a PROT_NONE page, and the fault handler stops the process).
 * Writer B, a lap later, began waiting on the dead writer's claim before A took the slot.
 * A has held the slot for less than the stall bound: B must keep waiting for A, not take
 * the slot from it. A writer that did would let A's resumed copy land in B's committed frame.
 */
#define TAKEOVER_CAPACITY 2
/* Well below the 200 ms stall bound: A is alive by the ring's own rule. */
#define A_STOPPED_MS 100
/* B starts waiting this long after A, so A's bound on the dead writer runs out first. */
#define B_LATER_MS     60
#define TAKEOVER_TRIES 5

/* Writer A: its write stops itself once it copies past the payload's first word. */
static void run_stopping_writer(void *arg)
{
	orbit_fleet_options_t opts = options(TAKEOVER_CAPACITY, 256);
	uint64_t seq = *(const uint64_t *)arg;
	orbit_fleet_t *f;
	orbit_ring_t *ring;

	if (trap_setup(256, 0) < 0 || join_ring(1, &opts, &f, &ring) < 0)
		_exit(1);
	_exit(trapped_write(ring, 1, seq, 8) == 0 ? 0 : 2);
}

static void run_plain_writer(void *arg)
{
	orbit_fleet_options_t opts = options(TAKEOVER_CAPACITY, 256);
	uint64_t seq = *(const uint64_t *)arg;
	orbit_fleet_t *f;
	orbit_ring_t *ring;

	if (join_ring(2, &opts, &f, &ring) < 0)
		_exit(1);
	_exit(pattern_write(ring, 2, seq, NULL) == 0 ? 0 : 2);
}

static void await_head(orbit_ring_t *ring, uint64_t head)
{
	uint64_t deadline = mono_ms() + WAIT_DEADLINE_MS;

	while (orbit_ring_head(ring) < head) {
		ck_assert_msg(mono_ms() < deadline, "nobody claimed counter %" PRIu64, head - 1);
		sched_yield();
	}
}

/*
 * One try; false when it proved nothing: A lost the race to the dead writer's slot (B's
 * bound ran out first, as it may on a loaded machine) and never wrote.
 */
static bool takeover_try(void)
{
	orbit_fleet_options_t opts = options(TAKEOVER_CAPACITY, 256);
	uint64_t dead, a_seq, b_seq, seq;
	uint8_t buf[256], *slot;
	orbit_frame_t frame;
	struct seg_map map;
	orbit_ring_t *ring;
	uint16_t writer;
	pid_t a, b;
	int status;

	ck_assert_int_eq(join_ring(TEST_NODE, &opts, &fleet, &ring), 0);
	ck_assert_int_eq(seg_map_open(&map, fleet_name, KIND, TAKEOVER_CAPACITY, 256), 0);
	dead = seg_claim_and_abandon(&map);
	ck_assert_int_eq(pattern_write(ring, TEST_NODE, dead + 1, NULL), 0);
	slot = seg_slot(&map, dead);

	/* A claims the dead writer's slot a lap on and waits out the stall bound there. */
	a_seq = dead + TAKEOVER_CAPACITY;
	a = spawn(run_stopping_writer, &a_seq);
	await_head(ring, a_seq + 1);
	ck_assert_int_eq(pattern_write(ring, TEST_NODE, a_seq + 1, NULL), 0);
	/* B claims the same slot a lap later, well after A, while A still waits. */
	sleep_us(B_LATER_MS * 1000);
	b_seq = a_seq + TAKEOVER_CAPACITY;
	b = spawn(run_plain_writer, &b_seq);
	await_head(ring, b_seq + 1);

	ck_assert_int_eq(waitpid(a, &status, WUNTRACED), a);
	if (!WIFSTOPPED(status)) {
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
			      "writer A failed (status 0x%x)", status);
		test_reap(b);
		seg_map_close(&map);
		return false;
	}
	/* A took the slot over and stopped in the middle of its copy. */
	ck_assert_uint_eq(seg_load64(slot, map.layout->slot_seq), 2 * a_seq + 1);
	sleep_us(A_STOPPED_MS * 1000);
	ck_assert_msg(seg_load64(slot, map.layout->slot_seq) == 2 * a_seq + 1,
		      "writer B took the slot from live writer A %d ms into A's frame, below the "
		      "200 ms stall bound (seq %" PRIu64 ")",
		      A_STOPPED_MS, seg_load64(slot, map.layout->slot_seq));

	/* A goes on within the bound: it commits, then B writes its own frame after it. */
	ck_assert_int_eq(kill(a, SIGCONT), 0);
	test_reap(a);
	test_reap(b);
	ck_assert_int_eq(orbit_ring_read_at(ring, b_seq, &frame, buf, sizeof(buf)), 0);
	ck_assert_int_eq(pattern_verify(ring, &frame, buf, &writer, &seq), 0);
	ck_assert_uint_eq(seq, b_seq);
	ck_assert_int_eq(orbit_ring_read_at(ring, a_seq, &frame, buf, sizeof(buf)), -ENOENT);
	seg_map_close(&map);
	return true;
}

START_TEST(test_live_writer_keeps_its_slot)
{
	int tries = 1;

	while (!takeover_try()) {
		ck_assert_msg(tries < TAKEOVER_TRIES, "writer A never won the slot in %d tries",
			      tries);
		/* Afresh, on a new fleet. */
		orbit_fleet_leave(fleet);
		fleet = NULL;
		test_unlink_fleet(fleet_name);
		test_fleet_name(fleet_name, sizeof(fleet_name), run_tag);
		tries++;
	}
	fprintf(stderr, "live writer kept its slot (%d tries)\n", tries);
}
END_TEST

/* ---- creators killed or stopped while they format a new segment ---- */

/* 16 slots of 1 MiB: formatting reserves and zeroes 16 MiB, long enough to die inside. */
#define INIT_CAPACITY	  16
#define INIT_PAYLOAD	  (1u << 20)
#define INIT_KILLS_WANTED 40
#define INIT_ROUNDS_MAX	  400
#define STOPS_WANTED	  3
#define STOP_ROUNDS_MAX	  100
/* The joiner's wait for the creation lock is bounded at 2 s (orbit(7), Start-up): it
 * returns after that, and not much later; the slack is for a loaded machine. */
#define LOCK_WAIT_FLOOR_MS   2000
#define LOCK_WAIT_CEILING_MS 3000

struct init_shared {
	_Atomic uint64_t opening; /* round + 1 once that round's creator calls orbit_fleet_ring */
	_Atomic int error;
};

struct init_child {
	struct init_shared *shared;
	uint32_t round;
};

/* Creates the segment, then idles until it is killed. */
static void run_creator(void *arg)
{
	const struct init_child *child = arg;
	orbit_fleet_options_t opts = options(INIT_CAPACITY, INIT_PAYLOAD);
	orbit_fleet_t *f;
	orbit_ring_t *ring;
	int ret = orbit_fleet_join_shm(fleet_name, 1, FLEET_SIZE, &opts, &f);

	if (ret == 0) {
		atomic_store(&child->shared->opening, (uint64_t)child->round + 1);
		ret = orbit_fleet_ring(f, KIND, &ring);
	}
	if (ret < 0) {
		atomic_store(&child->shared->error, ret);
		_exit(1);
	}
	for (;;)
		pause();
}

static pid_t start_creator(struct init_shared *shared, uint32_t round)
{
	struct init_child child = { .shared = shared, .round = round };
	pid_t pid = spawn(run_creator, &child);

	await_flag(&shared->opening, (uint64_t)round + 1);
	return pid;
}

/* Where the creator was in making the segment, as a probe sees it. */
enum init_stage { STAGE_ABSENT, STAGE_UNFORMATTED, STAGE_DONE };

static enum init_stage init_stage(void)
{
	orbit_fleet_options_t found = ORBIT_FLEET_OPTIONS_INIT;
	int ret = orbit_fleet_probe(fleet_name, KIND, &found);

	if (ret == -ENOENT)
		return STAGE_ABSENT;
	if (ret == -EAGAIN)
		return STAGE_UNFORMATTED;
	ck_assert_int_eq(ret, 0);
	ck_assert_uint_eq(found.capacity, INIT_CAPACITY);
	ck_assert_uint_eq(found.payload_max, INIT_PAYLOAD);
	return STAGE_DONE;
}

/* Aims the next kill at the creator's format: later if it had not begun, sooner if done. */
static uint64_t aim(uint64_t delay_us, enum init_stage stage)
{
	if (stage == STAGE_ABSENT)
		return delay_us + delay_us / 4 + 20;
	if (stage == STAGE_DONE)
		return delay_us * 3 / 4;
	return delay_us;
}

static void unlink_segment(void)
{
	char name[512];

	seg_shm_name(name, sizeof(name), fleet_name, KIND);
	shm_unlink(name);
}

/* Joins the ring the creator left: it must work, formatted afresh if the creator died in it. */
static void assert_joinable(uint64_t seq)
{
	orbit_fleet_options_t opts = options(INIT_CAPACITY, INIT_PAYLOAD);
	orbit_fleet_t *f;
	orbit_ring_t *ring;

	ck_assert_int_eq(join_ring(0, &opts, &f, &ring), 0);
	assert_round_trip(ring, 0, seq);
	ck_assert_int_eq(init_stage(), STAGE_DONE);
	orbit_fleet_leave(f);
}

/* How long one creation takes here: the first guess at where to kill. */
static uint64_t format_time_us(void)
{
	orbit_fleet_options_t opts = options(INIT_CAPACITY, INIT_PAYLOAD);
	uint64_t start = mono_ms();
	orbit_fleet_t *f;
	orbit_ring_t *ring;

	ck_assert_int_eq(join_ring(0, &opts, &f, &ring), 0);
	orbit_fleet_leave(f);
	unlink_segment();
	return (mono_ms() - start + 1) * 1000;
}

START_TEST(test_creator_killed_during_init)
{
	struct init_shared *shared = shared_alloc(sizeof(*shared));
	uint32_t stages[3] = { 0 }, round;
	uint64_t delay_us = format_time_us() / 2;

	test_rng_seed("creators killed");
	for (round = 0; round < INIT_ROUNDS_MAX && stages[STAGE_UNFORMATTED] < INIT_KILLS_WANTED;
	     round++) {
		pid_t pid = start_creator(shared, round);
		enum init_stage stage;

		/* Anywhere in [delay/2, 3 delay/2]: the format's start, middle and end. */
		sleep_us(delay_us / 2 + test_rng_below(delay_us + 1));
		kill_and_reap(pid);
		stage = init_stage();
		stages[stage]++;
		delay_us = aim(delay_us, stage);
		assert_joinable(round);
		unlink_segment();
	}
	fprintf(stderr,
		"creators killed: %u rounds: %u before creating, %u inside initialisation, %u "
		"after it\n",
		round, stages[STAGE_ABSENT], stages[STAGE_UNFORMATTED], stages[STAGE_DONE]);
	ck_assert_int_eq(atomic_load(&shared->error), 0);
	ck_assert_msg(stages[STAGE_UNFORMATTED] > 0, "no kill landed inside initialisation");
	munmap(shared, sizeof(*shared));
}
END_TEST

/* True when some process holds the segment's creation lock (flock(2) on the object). */
static bool creation_lock_held(void)
{
	char path[512];
	bool held;
	int fd;

	test_segment_path(path, sizeof(path), fleet_name, KIND);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return false;
	held = flock(fd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK;
	if (!held)
		flock(fd, LOCK_UN);
	close(fd);
	return held;
}

/* With the creator stopped inside its format, a joiner gives up after the bounded wait. */
static void assert_lock_wait_bounded(pid_t creator, uint32_t round)
{
	orbit_fleet_options_t opts = options(INIT_CAPACITY, INIT_PAYLOAD);
	orbit_fleet_t *f;
	orbit_ring_t *ring;
	uint64_t start, waited;
	int ret;

	ck_assert_int_eq(orbit_fleet_join_shm(fleet_name, 0, FLEET_SIZE, &opts, &f), 0);
	start = mono_ms();
	ret = orbit_fleet_ring(f, KIND, &ring);
	waited = mono_ms() - start;
	fprintf(stderr, "creator stopped holding the lock: joiner %d after %" PRIu64 " ms\n", ret,
		waited);
	ck_assert_int_eq(ret, -ETIMEDOUT);
	ck_assert_uint_ge(waited, LOCK_WAIT_FLOOR_MS);
	ck_assert_uint_lt(waited, LOCK_WAIT_CEILING_MS);
	/* Dead, it lets go: the same handle now joins, formatting what the creator left. */
	kill_and_reap(creator);
	ck_assert_int_eq(orbit_fleet_ring(f, KIND, &ring), 0);
	assert_round_trip(ring, 0, round);
	orbit_fleet_leave(f);
}

START_TEST(test_creator_stopped_holding_lock)
{
	struct init_shared *shared = shared_alloc(sizeof(*shared));
	uint64_t delay_us = format_time_us() / 2;
	uint32_t stopped = 0, round;

	test_rng_seed("creators stopped");
	for (round = 0; round < STOP_ROUNDS_MAX && stopped < STOPS_WANTED; round++) {
		pid_t pid = start_creator(shared, round);
		int status;

		sleep_us(delay_us / 2 + test_rng_below(delay_us + 1));
		ck_assert_int_eq(kill(pid, SIGSTOP), 0);
		ck_assert_int_eq(waitpid(pid, &status, WUNTRACED), pid);
		ck_assert(WIFSTOPPED(status));
		if (creation_lock_held()) {
			stopped++;
			assert_lock_wait_bounded(pid, round);
		} else {
			enum init_stage stage = init_stage();

			kill_and_reap(pid);
			/* Stopped outside the lock: nothing to wait for. */
			assert_joinable(round);
			delay_us = aim(delay_us, stage == STAGE_UNFORMATTED ? STAGE_DONE : stage);
		}
		unlink_segment();
	}
	fprintf(stderr, "creators stopped: %u rounds, %u inside the creation lock\n", round,
		stopped);
	ck_assert_int_eq(atomic_load(&shared->error), 0);
	ck_assert_msg(stopped > 0, "no stop landed inside the creation lock");
	munmap(shared, sizeof(*shared));
}
END_TEST

/* ---- waiters killed in orbit_ring_wait ---- */

#define WAITER_KILLS 40

struct waiter_shared {
	_Atomic uint64_t ready;
	_Atomic int result;
};

struct waiter_child {
	struct waiter_shared *shared;
	uint64_t round;
	int timeout_ms;
};

/* Waits (bounded) until the ring's waiter count differs from `count`: a waiter is asleep. */
static void await_waiter_count_change(const struct seg_map *map, uint32_t count)
{
	uint64_t deadline = mono_ms() + WAIT_DEADLINE_MS;

	while (seg_load32(map->base, map->layout->hdr_waiters) == count) {
		ck_assert_msg(mono_ms() < deadline, "the waiter never slept");
		sched_yield();
	}
}

static void run_waiter(void *arg)
{
	const struct waiter_child *child = arg;
	orbit_fleet_options_t opts = options(8, 256);
	orbit_fleet_t *f;
	orbit_ring_t *ring;
	uint64_t cursor;
	int ret = join_ring(40, &opts, &f, &ring);

	if (ret < 0)
		_exit(1);
	cursor = orbit_ring_head(ring);
	atomic_store(&child->shared->ready, child->round + 1);
	ret = orbit_ring_wait(ring, cursor, child->timeout_ms);
	atomic_store(&child->shared->result, ret);
	_exit(ret == 0 && orbit_ring_head(ring) > cursor ? 0 : 2);
}

START_TEST(test_waiters_killed)
{
	orbit_fleet_options_t opts = options(8, 256);
	struct waiter_shared *shared = shared_alloc(sizeof(*shared));
	struct waiter_child child = { .shared = shared, .timeout_ms = -1 };
	uint32_t asleep = 0, raised;
	struct seg_map map;
	orbit_ring_t *ring;
	pid_t pid;

	test_rng_seed("waiters killed");
	ck_assert_int_eq(join_ring(TEST_NODE, &opts, &fleet, &ring), 0);
	ck_assert_int_eq(seg_map_open(&map, fleet_name, KIND, 8, 256), 0);
	for (uint32_t round = 0; round < WAITER_KILLS; round++) {
		uint32_t before = seg_load32(map.base, map.layout->hdr_waiters);

		child.round = round;
		pid = spawn(run_waiter, &child);
		await_flag(&shared->ready, (uint64_t)round + 1);
		if (round % 2 == 0) {
			/* Asleep for sure: the count went up. */
			await_waiter_count_change(&map, before);
			asleep++;
		} else {
			sleep_us(test_rng_below(300));
		}
		kill_and_reap(pid);
	}
	/* A dead waiter never takes itself off the count (orbit(7), FAILURE BEHAVIOUR). */
	raised = seg_load32(map.base, map.layout->hdr_waiters);
	fprintf(stderr, "waiters killed: %u, %u surely asleep; waiter count left at %u\n",
		WAITER_KILLS, asleep, raised);
	ck_assert_uint_ge(raised, asleep);
	ck_assert_uint_le(raised, WAITER_KILLS);

	/* A live waiter still wakes on the next write, and waits still time out. */
	child.round = WAITER_KILLS;
	child.timeout_ms = WAIT_DEADLINE_MS;
	pid = spawn(run_waiter, &child);
	await_flag(&shared->ready, (uint64_t)WAITER_KILLS + 1);
	await_waiter_count_change(&map, raised);
	assert_round_trip(ring, TEST_NODE, 0);
	test_reap(pid);
	ck_assert_int_eq(orbit_ring_wait(ring, orbit_ring_head(ring), 20), -ETIMEDOUT);
	ck_assert_uint_eq(seg_load32(map.base, map.layout->hdr_waiters), raised);
	seg_map_close(&map);
	munmap(shared, sizeof(*shared));
}
END_TEST

/* ---- contest holders killed while they hold ---- */

#define SUBJECT		 7
#define CONTEST_TTL_MS	 600000 /* never runs out: only the holder's death frees the subject */
#define CONTEST_ROUNDS	 6
#define HOLDER_NODE_BASE 16

struct holder_shared {
	_Atomic uint64_t ready;
	_Atomic uint64_t token;
	_Atomic int error;
};

struct holder_child {
	struct holder_shared *shared;
	uint32_t round;
	bool renewing; /* renews every millisecond until killed, so kills land inside renewals */
};

static const char contest_label[] = "crash-job";

static void run_holder(void *arg)
{
	const struct holder_child *child = arg;
	struct holder_shared *shared = child->shared;
	uint16_t node = (uint16_t)(HOLDER_NODE_BASE + child->round);
	orbit_guard_t *guard = NULL;
	orbit_fleet_t *f;
	int ret = orbit_fleet_join_shm(fleet_name, node, FLEET_SIZE, NULL, &f);

	if (ret == 0)
		ret = orbit_contest_claim(f, SUBJECT, contest_label, "victim", CONTEST_TTL_MS,
					  &guard, NULL);
	if (ret < 0) {
		atomic_store(&shared->error, ret);
		_exit(1);
	}
	atomic_store(&shared->token, orbit_guard_token(guard));
	atomic_store(&shared->ready, (uint64_t)child->round + 1);
	for (;;) {
		if (!child->renewing) {
			pause();
			continue;
		}
		ret = orbit_guard_renew(guard, CONTEST_TTL_MS);
		if (ret < 0) {
			atomic_store(&shared->error, ret);
			_exit(1);
		}
		sleep_us(1000);
	}
}

/* While the holder lives, every other node is told it is held, and by whom. */
static void assert_held_by(orbit_fleet_t *f, uint16_t victim)
{
	orbit_guard_t *guard = NULL;
	uint16_t holder = UINT16_MAX;

	ck_assert_int_eq(orbit_contest_claim(f, SUBJECT, contest_label, "other", CONTEST_TTL_MS,
					     &guard, &holder),
			 -EBUSY);
	ck_assert_uint_eq(holder, victim);
}

/* Once it is reaped, the subject is free: the very next claim gets it, with a larger token. */
static void assert_free_at_once(orbit_fleet_t *const others[2], uint32_t round,
				uint64_t victim_token)
{
	orbit_guard_t *guard = NULL;

	ck_assert_int_eq(
		orbit_contest_holder(others[(round + 1) % 2], SUBJECT, contest_label, NULL),
		-ENOENT);
	ck_assert_int_eq(orbit_contest_claim(others[round % 2], SUBJECT, contest_label, "next",
					     CONTEST_TTL_MS, &guard, NULL),
			 0);
	ck_assert_uint_gt(orbit_guard_token(guard), victim_token);
	ck_assert_int_eq(orbit_guard_release(guard), 0);
}

START_TEST(test_contest_holder_killed)
{
	struct holder_shared *shared = shared_alloc(sizeof(*shared));
	orbit_fleet_t *others[2];

	test_rng_seed("contest holders killed");
	ck_assert_int_eq(orbit_fleet_join_shm(fleet_name, 1, FLEET_SIZE, NULL, &others[0]), 0);
	ck_assert_int_eq(orbit_fleet_join_shm(fleet_name, 2, FLEET_SIZE, NULL, &others[1]), 0);
	for (uint32_t round = 0; round < CONTEST_ROUNDS; round++) {
		struct holder_child child = { .shared = shared,
					      .round = round,
					      .renewing = round % 2 == 1 };
		pid_t pid = spawn(run_holder, &child);

		await_flag(&shared->ready, (uint64_t)round + 1);
		assert_held_by(others[round % 2], (uint16_t)(HOLDER_NODE_BASE + round));
		sleep_us(test_rng_below(child.renewing ? 100000 : 20000));
		kill_and_reap(pid);
		ck_assert_int_eq(atomic_load(&shared->error), 0);
		assert_free_at_once(others, round, atomic_load(&shared->token));
	}
	fprintf(stderr, "contest holders killed: %d, each subject free at once\n", CONTEST_ROUNDS);
	orbit_fleet_leave(others[0]);
	orbit_fleet_leave(others[1]);
	munmap(shared, sizeof(*shared));
}
END_TEST

static Suite *crash_suite(void)
{
	Suite *suite = suite_create("crash");
	TCase *writers = tcase_create("writers");
	TCase *creators = tcase_create("creators");
	TCase *waiters = tcase_create("waiters");
	TCase *contest = tcase_create("contest");
	TCase *all[] = { writers, creators, waiters, contest };

	for (size_t i = 0; i < ARRAY_SIZE(all); i++) {
		tcase_add_checked_fixture(all[i], setup, teardown);
		tcase_set_timeout(all[i], 300);
		suite_add_tcase(suite, all[i]);
	}
	tcase_add_loop_test(writers, test_writers_killed_mid_frame, 0, ARRAY_SIZE(kill_configs));
	tcase_add_test(writers, test_live_writer_keeps_its_slot);
	tcase_add_test(creators, test_creator_killed_during_init);
	tcase_add_test(creators, test_creator_stopped_holding_lock);
	tcase_add_test(waiters, test_waiters_killed);
	tcase_add_test(contest, test_contest_holder_killed);
	return suite;
}

int main(void)
{
	snprintf(run_tag, sizeof(run_tag), "crash%ld", (long)getpid());
	return test_run_suite(crash_suite(), run_tag);
}
