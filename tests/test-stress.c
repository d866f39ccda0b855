/* SPDX-License-Identifier: MIT */
/*
 * Many writer processes lapping each other on tiny rings while reader processes check
 * every frame they accept and a thread watches every slot's seq; writers that died
 * mid-write (claims planted by hand); a live writer stopped mid-frame past every bound.
 */
#include <orbit.h>

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "copy-trap.h"
#include "fixture.h"
#include "frame-pattern.h"
#include "segment-layout.h"
#include "testutil.h"

#define KIND		 11
#define FLEET_SIZE	 64
#define WRITERS		 4 /* more than the capacity: counters a lap apart are in flight at once */
#define READERS		 2
#define READER_NODE_BASE 32
/* A stalled process must fail the test, not hang it; far beyond any healthy run. */
#define STRESS_DEADLINE_MS 240000
#define DEAD_DEADLINE_MS   10000

/*
 * Loop tests run once per configuration: _i indexes this table. Writer 0 stalls in the
 * middle of every stall_every-th write (see STALL_US); large payloads keep the
 * copy after the stall long enough for readers to catch a slot written by two laps.
 */
static const struct config {
	uint32_t capacity;
	uint32_t payload_max; /* 256: layout 1, the seed's; others: layout 2 */
	uint32_t frames;      /* per writer */
	uint32_t stall_every;
} configs[] = {
	{ .capacity = 2, .payload_max = 256, .frames = 50000, .stall_every = 100 },
	{ .capacity = 4, .payload_max = 256, .frames = 50000, .stall_every = 100 },
	{ .capacity = 2, .payload_max = 100, .frames = 50000, .stall_every = 100 },
	{ .capacity = 4, .payload_max = 100, .frames = 50000, .stall_every = 100 },
	{ .capacity = 2, .payload_max = 65536, .frames = 2000, .stall_every = 4 },
	{ .capacity = 2, .payload_max = 1u << 20, .frames = 600, .stall_every = 1 },
	{ .capacity = 4, .payload_max = 1u << 20, .frames = 400, .stall_every = 1 },
};

/* The dead-writer tests use one ring per layout: _i indexes this table. */
static const uint32_t layouts[] = { 256, 100 };

struct writer_report {
	uint64_t written;
	uint64_t failed_writes;
	int last_error;
};

struct reader_report {
	uint64_t delivered;
	uint64_t lost;
	uint64_t cursor;
	uint64_t last_counter; /* counter of the newest delivered frame */
	uint64_t torn;	       /* accepted frames that differ from what their writer wrote */
	uint64_t out_of_order; /* a writer's seq not above the last one seen from it */
	uint64_t bad_cursor;   /* cursor not one past the delivered counter, or moved back */
	uint64_t head_reads;   /* read_head calls that returned a frame */
	uint64_t head_torn;
	uint64_t errors; /* returns outside the documented set */
	int last_error;
	int timed_out;
};

/* Shared (MAP_SHARED | MAP_ANONYMOUS) between the test and its children. */
struct stress {
	_Atomic int writers_done;
	struct writer_report writers[WRITERS];
	struct reader_report readers[READERS];
};

/* Joins as node; the handle goes to *out (fixture_fleet, in the test process). */
static int join_ring(uint16_t node, uint32_t capacity, uint32_t payload_max, orbit_fleet_t **out,
		     orbit_ring_t **ring)
{
	orbit_fleet_options_t opts = fixture_options(capacity, payload_max);
	int ret;

	ret = orbit_fleet_join_shm(fixture_fleet_name, node, FLEET_SIZE, &opts, out);
	if (ret < 0)
		return ret;
	ret = orbit_fleet_ring(*out, KIND, ring);
	if (ret < 0) {
		orbit_fleet_leave(*out);
		*out = NULL;
	}
	return ret;
}

/*
 * A writer that loses the CPU in the middle of copying its payload, deterministically
 * (copy-trap.h): the copy naps after the payload's first word. A correct ring keeps the
 * next lap off the slot meanwhile; blind slot stores let it write and commit there, and
 * the resumed copy then scribbles over that committed frame. The stall is far below the
 * ring's stall bound: no writer may be taken for dead.
 */
#define STALL_US 1000

static void run_writer(const struct config *cfg, int index, struct stress *shared)
{
	struct writer_report *report = &shared->writers[index];
	uint16_t node = (uint16_t)index;
	orbit_fleet_t *f = NULL;
	orbit_ring_t *ring;
	int ret = join_ring(node, cfg->capacity, cfg->payload_max, &f, &ring);

	if (ret == 0 && index == 0)
		ret = trap_setup(cfg->payload_max, STALL_US);
	for (uint64_t seq = 0; ret == 0 && seq < cfg->frames; seq++) {
		int w = index == 0 && seq % cfg->stall_every == 0
				? trapped_write(ring, node, seq, 8)
				: pattern_write(ring, node, seq, NULL);

		if (w == 0) {
			report->written++;
		} else {
			report->failed_writes++;
			report->last_error = w;
		}
	}
	if (ret < 0)
		report->last_error = ret;
	if (f)
		orbit_fleet_leave(f);
	atomic_fetch_add(&shared->writers_done, 1);
}

static void check_delivered(orbit_ring_t *ring, const orbit_frame_t *frame, const void *buf,
			    uint64_t before, uint64_t cursor, uint64_t *last_seq,
			    struct reader_report *report)
{
	uint64_t counter = orbit_id_counter(frame->id), seq;
	uint16_t writer;

	report->delivered++;
	report->last_counter = counter;
	if (counter < before || cursor != counter + 1)
		report->bad_cursor++;
	if (pattern_verify(ring, frame, buf, &writer, &seq) < 0 || writer >= WRITERS) {
		report->torn++;
		return;
	}
	/* last_seq holds seq + 1 of the newest frame seen per writer; 0 = none yet. */
	if (seq + 1 <= last_seq[writer])
		report->out_of_order++;
	last_seq[writer] = seq + 1;
}

static void run_reader(const struct config *cfg, int index, struct stress *shared)
{
	static uint8_t buf[1u << 20];
	struct reader_report *report = &shared->readers[index];
	uint64_t deadline = mono_ms() + STRESS_DEADLINE_MS, last_seq[WRITERS] = { 0 };
	orbit_frame_t frame;
	orbit_fleet_t *f;
	orbit_ring_t *ring;
	int ret = join_ring((uint16_t)(READER_NODE_BASE + index), cfg->capacity, cfg->payload_max,
			    &f, &ring);

	if (ret < 0) {
		report->errors++;
		report->last_error = ret;
		return;
	}
	for (;;) {
		uint64_t before = report->cursor;

		ret = orbit_ring_next(ring, &report->cursor, &frame, buf, sizeof(buf),
				      &report->lost);
		if (ret == 0) {
			check_delivered(ring, &frame, buf, before, report->cursor, last_seq,
					report);
		} else if (ret == -EAGAIN) {
			if (report->cursor < before)
				report->bad_cursor++;
			if (atomic_load(&shared->writers_done) == WRITERS &&
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
		pattern_check_head(ring, WRITERS, &report->head_reads, &report->head_torn,
				   &report->errors, &report->last_error);
		if (mono_ms() > deadline) {
			report->timed_out = 1;
			break;
		}
	}
	orbit_fleet_leave(f);
}

static pid_t spawn(void (*body)(const struct config *, int, struct stress *),
		   const struct config *cfg, int index, struct stress *shared, int release[2])
{
	pid_t pid = fork();
	char byte;

	ck_assert_int_ge(pid, 0);
	if (pid)
		return pid;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	close(release[1]);
	while (read(release[0], &byte, 1) < 0 && errno == EINTR)
		;
	body(cfg, index, shared);
	_exit(0);
}

static void print_report(const struct config *cfg, const struct stress *shared, uint64_t ms)
{
	fprintf(stderr,
		"stress capacity %" PRIu32 " payload_max %" PRIu32 ": %d writers x %" PRIu32
		" frames, %" PRIu64 " ms\n",
		cfg->capacity, cfg->payload_max, WRITERS, cfg->frames, ms);
	for (int r = 0; r < READERS; r++) {
		const struct reader_report *rep = &shared->readers[r];

		fprintf(stderr,
			"  reader %d: delivered %" PRIu64 " lost %" PRIu64 " cursor %" PRIu64
			" torn %" PRIu64 " out-of-order %" PRIu64 " bad-cursor %" PRIu64
			" head-reads %" PRIu64 " head-torn %" PRIu64 " errors %" PRIu64
			" (last %d)%s\n",
			r, rep->delivered, rep->lost, rep->cursor, rep->torn, rep->out_of_order,
			rep->bad_cursor, rep->head_reads, rep->head_torn, rep->errors,
			rep->last_error, rep->timed_out ? " TIMED OUT" : "");
	}
}

/*
 * A thread of the test process that reads every slot's seq over and over, as a peer
 * would, while other processes write. No slot's seq may ever go back: a commit that
 * stored 2c+2 over a later lap's claim, or over a given-up counter, would.
 */
#define SAMPLED_SLOTS_MAX 4

struct seq_sampler {
	const struct seg_map *map;
	pthread_t thread;
	_Atomic int stop;
	struct seg_seq_watch slots[SAMPLED_SLOTS_MAX];
};

static void *sample_seqs(void *arg)
{
	struct seq_sampler *s = arg;
	const struct seg_map *map = s->map;

	while (!atomic_load_explicit(&s->stop, memory_order_relaxed)) {
		for (uint32_t i = 0; i < map->capacity; i++)
			seg_seq_watch_add(&s->slots[i],
					  seg_load64(seg_slot(map, i), map->layout->slot_seq));
		sched_yield();
	}
	return NULL;
}

static void sampler_start(struct seq_sampler *s, const struct seg_map *map)
{
	ck_assert_uint_le(map->capacity, SAMPLED_SLOTS_MAX);
	memset(s, 0, sizeof(*s));
	s->map = map;
	ck_assert_int_eq(pthread_create(&s->thread, NULL, sample_seqs, s), 0);
}

/* Stops the sampler and prints what it saw; the number of regressions. */
static uint64_t sampler_stop(struct seq_sampler *s)
{
	uint64_t samples = 0, regressions = 0;

	atomic_store(&s->stop, 1);
	ck_assert_int_eq(pthread_join(s->thread, NULL), 0);
	for (uint32_t i = 0; i < s->map->capacity; i++) {
		const struct seg_seq_watch *w = &s->slots[i];

		samples += w->samples;
		regressions += w->regressions;
		if (w->regressions)
			fprintf(stderr,
				"  slot %" PRIu32 ": seq went back %" PRIu64
				" times, first from 0x%" PRIx64 " to 0x%" PRIx64 "\n",
				i, w->regressions, w->from, w->to);
	}
	fprintf(stderr,
		"  seq sampler: %" PRIu64 " samples of %" PRIu32 " slots, %" PRIu64
		" regressions\n",
		samples, s->map->capacity, regressions);
	return regressions;
}

START_TEST(test_lapping_writers)
{
	const struct config *cfg = &configs[_i];
	const uint64_t total = (uint64_t)WRITERS * cfg->frames;
	struct stress *shared = mmap(NULL, sizeof(*shared), PROT_READ | PROT_WRITE,
				     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid_t writers[WRITERS], readers[READERS];
	struct seq_sampler sampler;
	uint64_t start, regressions;
	struct seg_map map;
	orbit_ring_t *ring;
	int release[2];

	ck_assert_ptr_ne(shared, MAP_FAILED);
	ck_assert_int_eq(join_ring(60, cfg->capacity, cfg->payload_max, &fixture_fleet, &ring), 0);
	ck_assert_int_eq(
		seg_map_open(&map, fixture_fleet_name, KIND, cfg->capacity, cfg->payload_max), 0);
	sampler_start(&sampler, &map);
	ck_assert_int_eq(pipe(release), 0);
	for (int r = 0; r < READERS; r++)
		readers[r] = spawn(run_reader, cfg, r, shared, release);
	for (int w = 0; w < WRITERS; w++)
		writers[w] = spawn(run_writer, cfg, w, shared, release);
	close(release[0]);
	start = mono_ms();
	close(release[1]);
	for (int w = 0; w < WRITERS; w++)
		test_reap_as(writers[w], "writer");
	for (int r = 0; r < READERS; r++)
		test_reap_as(readers[r], "reader");
	print_report(cfg, shared, mono_ms() - start);
	regressions = sampler_stop(&sampler);
	seg_map_close(&map);

	ck_assert_uint_eq(orbit_ring_head(ring), total);
	ck_assert_msg(regressions == 0, "a slot's seq went back %" PRIu64 " times", regressions);
	for (int w = 0; w < WRITERS; w++) {
		const struct writer_report *rep = &shared->writers[w];

		ck_assert_msg(rep->failed_writes == 0 && rep->written == cfg->frames,
			      "writer %d: %" PRIu64 " written, %" PRIu64 " failed (last %d)", w,
			      rep->written, rep->failed_writes, rep->last_error);
	}
	for (int r = 0; r < READERS; r++) {
		const struct reader_report *rep = &shared->readers[r];

		ck_assert_msg(!rep->timed_out, "reader %d stalled at cursor %" PRIu64, r,
			      rep->cursor);
		ck_assert_msg(rep->torn == 0, "reader %d accepted %" PRIu64 " torn frames", r,
			      rep->torn);
		ck_assert_msg(rep->head_torn == 0, "reader %d: read_head gave %" PRIu64 " torn", r,
			      rep->head_torn);
		ck_assert_uint_eq(rep->out_of_order, 0);
		ck_assert_uint_eq(rep->bad_cursor, 0);
		ck_assert_msg(rep->errors == 0, "reader %d: %" PRIu64 " errors (last %d)", r,
			      rep->errors, rep->last_error);
		/* Every counter the cursor passed is delivered or counted lost, exactly once. */
		ck_assert_uint_eq(rep->cursor, total);
		ck_assert_uint_eq(rep->delivered + rep->lost, rep->cursor);
		/* Nothing laps the last frame: it must reach every reader. */
		ck_assert_uint_eq(rep->last_counter, total - 1);
	}
	munmap(shared, sizeof(*shared));
}
END_TEST

/* Frame `counter` written with seq = counter, so reads can name what they expect. */
static void write_counter(orbit_ring_t *ring, uint64_t counter)
{
	orbit_id_t id;

	ck_assert_int_eq(pattern_write(ring, 0, counter, &id), 0);
	ck_assert_uint_eq(orbit_id_counter(id), counter);
}

/* Drains the cursor until it reaches `until`, recording the counters delivered. */
static int drain(orbit_ring_t *ring, uint64_t *cursor, uint64_t until, uint64_t *lost,
		 uint64_t *delivered, int max)
{
	static uint8_t buf[1u << 20];
	uint64_t deadline = mono_ms() + DEAD_DEADLINE_MS, seq;
	orbit_frame_t frame;
	uint16_t writer;
	int n = 0, ret;

	while (*cursor < until) {
		ck_assert_msg(mono_ms() < deadline, "cursor stalled at %" PRIu64, *cursor);
		ret = orbit_ring_next(ring, cursor, &frame, buf, sizeof(buf), lost);
		if (ret == -EAGAIN) {
			usleep(1000);
			continue;
		}
		ck_assert_int_eq(ret, 0);
		ck_assert_int_eq(pattern_verify(ring, &frame, buf, &writer, &seq), 0);
		ck_assert_uint_eq(seq, orbit_id_counter(frame.id));
		ck_assert_int_lt(n, max);
		delivered[n++] = seq;
	}
	return n;
}

static orbit_ring_t *dead_ring(uint32_t capacity, uint32_t payload_max, struct seg_map *map)
{
	orbit_ring_t *ring;

	ck_assert_int_eq(join_ring(0, capacity, payload_max, &fixture_fleet, &ring), 0);
	ck_assert_int_eq(seg_map_open(map, fixture_fleet_name, KIND, capacity, payload_max), 0);
	return ring;
}

START_TEST(test_dead_writer_counted_lost)
{
	uint8_t buf[256];
	uint64_t cursor = 0, lost = 0, delivered[8], start;
	orbit_frame_t frame;
	struct seg_map map;
	orbit_ring_t *ring = dead_ring(8, layouts[_i], &map);
	uint64_t dead;

	write_counter(ring, 0);
	write_counter(ring, 1);
	dead = seg_claim_and_abandon(&map);
	ck_assert_uint_eq(dead, 2);
	ck_assert_int_eq(orbit_ring_read_at(ring, dead, &frame, buf, sizeof(buf)), -EAGAIN);

	/*
	 * No record names the claim (an orbit-rs 0.1 writer's): it may be alive, so it holds
	 * the cursor for the stall bound, counted from when this handle first saw it, and is
	 * then given up in its slot, even with nothing claimed after it.
	 */
	ck_assert_int_eq(drain(ring, &cursor, dead, &lost, delivered, 8), 2);
	start = mono_ms();
	while (cursor == dead) {
		ck_assert_msg(mono_ms() - start < DEAD_DEADLINE_MS, "claim never given up");
		ck_assert_int_eq(orbit_ring_next(ring, &cursor, &frame, buf, sizeof(buf), &lost),
				 -EAGAIN);
		ck_assert_uint_eq(lost, cursor - dead);
		usleep(10000);
	}
	ck_assert_uint_ge(mono_ms() - start, 200);
	ck_assert_uint_eq(seg_load64(seg_slot(&map, dead), map.layout->slot_seq),
			  seg_seq_given_up(dead));
	ck_assert_int_eq(orbit_ring_read_at(ring, dead, &frame, buf, sizeof(buf)), -ENOENT);
	lost = 0;

	/* Later frames are delivered; nothing else is lost. */
	for (uint64_t c = dead + 1; c <= dead + 3; c++)
		write_counter(ring, c);
	ck_assert_int_eq(drain(ring, &cursor, dead + 4, &lost, delivered, 8), 3);
	ck_assert_uint_eq(lost, 0);
	ck_assert_uint_eq(cursor, dead + 4);
	for (int i = 0; i < 3; i++)
		ck_assert_uint_eq(delivered[i], dead + 1 + (uint64_t)i);
	seg_map_close(&map);
}
END_TEST

START_TEST(test_writer_takes_over_dead_lap)
{
	const uint32_t capacity = 4;
	uint8_t buf[256];
	uint64_t cursor = 0, lost = 0, delivered[8], start, took;
	orbit_frame_t frame;
	struct seg_map map;
	orbit_ring_t *ring = dead_ring(capacity, layouts[_i], &map);
	uint16_t writer;
	uint64_t dead, seq;
	orbit_id_t id;

	write_counter(ring, 0);
	dead = seg_claim_and_abandon(&map);
	for (uint64_t c = dead + 1; c < dead + capacity; c++)
		write_counter(ring, c);

	/* Counter dead + capacity lands on the abandoned slot. */
	start = mono_ms();
	ck_assert_int_eq(pattern_write(ring, 0, dead + capacity, &id), 0);
	took = mono_ms() - start;
	fprintf(stderr, "lap takeover (payload_max %" PRIu32 "): write took %" PRIu64 " ms\n",
		layouts[_i], took);
	/* Taken only after the stall bound, never from a writer that may still be alive. */
	ck_assert_uint_ge(took, 100);
	ck_assert_uint_eq(orbit_id_counter(id), dead + capacity);
	ck_assert_uint_eq(seg_load64(seg_slot(&map, dead), map.layout->slot_seq),
			  2 * (dead + capacity) + 2);

	ck_assert_int_eq(orbit_ring_read(ring, id, &frame, buf, sizeof(buf)), 0);
	ck_assert_int_eq(pattern_verify(ring, &frame, buf, &writer, &seq), 0);
	ck_assert_uint_eq(seq, dead + capacity);
	ck_assert_int_eq(orbit_ring_read_at(ring, dead, &frame, buf, sizeof(buf)), -ENOENT);

	/* A cursor from 0 sees the last lap whole, the rest lost. */
	ck_assert_int_eq(drain(ring, &cursor, dead + capacity + 1, &lost, delivered, 8),
			 (int)capacity);
	ck_assert_uint_eq(lost, dead + 1);
	for (uint32_t i = 0; i < capacity; i++)
		ck_assert_uint_eq(delivered[i], dead + 1 + i);
	seg_map_close(&map);
}
END_TEST

/*
 * Two writers of later laps wait on one abandoned slot. The first takes it over at the
 * bound and then stalls in its copy; the second must give that live holder the bound
 * afresh, not take the slot from it at once because it already waited for the dead one.
 */
START_TEST(test_takeover_waits_for_each_holder)
{
	const uint32_t capacity = 4;
	uint8_t buf[256];
	struct seg_map map;
	orbit_ring_t *ring = dead_ring(capacity, layouts[_i], &map);
	uint64_t dead, deadline, seq;
	orbit_frame_t frame;
	uint16_t writer;
	orbit_id_t id;
	pid_t pid;

	dead = seg_claim_and_abandon(&map);
	for (uint64_t c = dead + 1; c < dead + capacity; c++)
		write_counter(ring, c);

	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (trap_setup(layouts[_i], 50000) < 0)
			_exit(2);
		_exit(trapped_write(ring, 0, dead + capacity, 8) == 0 ? 0 : 1);
	}
	/* Once that writer holds counter dead + capacity, claim the next lap of the slot. */
	deadline = mono_ms() + DEAD_DEADLINE_MS;
	while (seg_load64(map.base, map.layout->hdr_write_pos) <= dead + capacity) {
		ck_assert_msg(mono_ms() < deadline, "the stalling writer never claimed");
		usleep(1000);
	}
	for (uint64_t c = dead + capacity + 1; c < dead + 2 * capacity; c++)
		write_counter(ring, c);
	ck_assert_int_eq(pattern_write(ring, 0, dead + 2 * capacity, &id), 0);
	test_reap_as(pid, "the stalling writer");

	/* The slot holds the last lap's frame, whole. */
	ck_assert_uint_eq(seg_load64(seg_slot(&map, dead), map.layout->slot_seq),
			  2 * (dead + 2 * capacity) + 2);
	ck_assert_int_eq(orbit_ring_read(ring, id, &frame, buf, sizeof(buf)), 0);
	ck_assert_msg(pattern_verify(ring, &frame, buf, &writer, &seq) == 0,
		      "the frame of counter %llu was written over by the lap it displaced",
		      (unsigned long long)(dead + 2 * capacity));
	seg_map_close(&map);
}
END_TEST

/*
 * ---- a live writer stopped past every bound ----
 *
 * Writer A (another process) is stopped with SIGSTOP while it holds its slot: in the
 * middle of copying a 1 MiB payload, or at its commit. It stays stopped five times the
 * 200 ms stall bound while the test laps it. A lives, so its claim is never taken over:
 * the lapping write gives its own frame up (-EBUSY) and leaves the slot alone, readers
 * wait at A's counter (-EAGAIN) without counting it lost and without sleeping in the
 * poll, and after SIGCONT A's frame commits whole and reaches every reader. Throughout,
 * a sampler reads the slots' seq: it never goes back, as it would if A's commit stored
 * 2c+2 over the lap that had taken its slot (a commit that is not a CAS).
 */
#define STOP_CAPACITY 4
#define STOP_PAYLOAD  (1u << 20)
#define STOP_LAPPER   0 /* the test process, which writes with seq = counter */
#define STOP_WRITER   1
#define STOP_READERS  2
#define STOP_BEFORE   2	   /* frames written before A's */
#define STOPPED_MS    1000 /* five times the stall bound */
#define POLL_EVERY_MS 20
/* A poll never sleeps: one that waited for the 200 ms stall bound would exceed this, and a
 * loaded machine preempting the poller for a while does not. */
#define POLL_MAX_MS 150
#define LAP_MAX_MS  2000

enum stop_point { STOP_MID_COPY, STOP_AT_COMMIT };

static const char *const stop_points[] = {
	[STOP_MID_COPY] = "in the middle of its copy",
	[STOP_AT_COMMIT] = "at its commit",
};

/* A's frame: long, so half its copy is far past the slot's first page (where seq is). */
static uint64_t long_frame_seq(void)
{
	uint64_t seq = 0;

	while (pattern_length(STOP_PAYLOAD, STOP_WRITER, seq) < STOP_PAYLOAD / 4 * 3)
		seq++;
	return seq;
}

/* Writer A: joins before the test maps anything, so its own mapping is its only one. */
static void run_stopped_writer(void *arg, int ready_fd, int go_fd)
{
	enum stop_point where = *(const enum stop_point *)arg;
	uint64_t seq = long_frame_seq(), c;
	size_t half = pattern_length(STOP_PAYLOAD, STOP_WRITER, seq) / 2 & ~(size_t)7;
	struct seg_map map;
	orbit_fleet_t *f;
	orbit_ring_t *ring;
	char byte = 0;

	if (join_ring(STOP_WRITER, STOP_CAPACITY, STOP_PAYLOAD, &f, &ring) < 0 ||
	    trap_setup(STOP_PAYLOAD, 0) < 0)
		_exit(1);
	if (write(ready_fd, &byte, 1) != 1 || read(go_fd, &byte, 1) != 1)
		_exit(2);
	/* Nobody writes while the test waits for A to stop: the next counter is A's. */
	c = orbit_ring_head(ring);
	if (where == STOP_AT_COMMIT) {
		if (seg_map_find(&map, fixture_fleet_name, KIND, STOP_CAPACITY, STOP_PAYLOAD) < 0)
			_exit(3);
		trap_then_page(seg_slot(&map, c) + map.layout->slot_seq);
	}
	_exit(trapped_write(ring, STOP_WRITER, seq, half) == 0 ? 0 : 4);
}

struct stop_reader {
	orbit_ring_t *ring;
	uint64_t cursor;
	uint64_t lost;
	uint64_t delivered;
	uint64_t torn;
	uint64_t stopped_frame; /* A's frame, delivered whole */
	int error;
};

/* What the test saw, gathered first and asserted last, so a failing run shows it all. */
struct stop_report {
	uint64_t c; /* A's counter */
	int lap_ret;
	uint64_t lap_ms;
	uint64_t seq_after_lap;
	uint64_t seq_at_resume;
	uint64_t polls;
	uint64_t poll_max_ms;
	bool poll_wrong; /* a poll at c that did not answer -EAGAIN, or moved or lost */
	int poll_ret;
	uint64_t poll_from;
	uint64_t poll_cursor;
	uint64_t poll_lost;
	int a_status;
	int a_read; /* A's frame read after SIGCONT: 0 whole, -EBADMSG torn, or the error */
	uint64_t regressions;
};

/* Accounts for a frame a reader's poll delivered: checked whole, and A's recognised. */
static void stop_reader_got(struct stop_reader *r, uint64_t c, const orbit_frame_t *frame,
			    const void *buf)
{
	uint16_t writer;
	uint64_t seq;

	r->delivered++;
	if (pattern_verify(r->ring, frame, buf, &writer, &seq) < 0)
		r->torn++;
	else if (writer == STOP_WRITER && orbit_id_counter(frame->id) == c)
		r->stopped_frame++;
}

/* A poll at A's counter: at once, -EAGAIN, the cursor left on c and nothing lost. */
static void poll_stopped(struct stop_reader *r, struct stop_report *rep)
{
	static uint8_t buf[STOP_PAYLOAD];
	uint64_t start = mono_ms(), lost = r->lost, cursor = r->cursor, ms;
	orbit_frame_t frame;
	int ret = orbit_ring_next(r->ring, &r->cursor, &frame, buf, sizeof(buf), &r->lost);

	ms = mono_ms() - start;
	rep->polls++;
	if (ms > rep->poll_max_ms)
		rep->poll_max_ms = ms;
	if (ret == 0)
		stop_reader_got(r, rep->c, &frame, buf);
	if (!rep->poll_wrong && (ret != -EAGAIN || r->cursor != rep->c || r->lost != lost)) {
		rep->poll_wrong = true;
		rep->poll_ret = ret;
		rep->poll_from = cursor;
		rep->poll_cursor = r->cursor;
		rep->poll_lost = r->lost - lost;
	}
}

/* After A resumed: every counter up to `until`, delivered (checked) or counted lost. */
static void drain_stopped(struct stop_reader *r, uint64_t c, uint64_t until)
{
	static uint8_t buf[STOP_PAYLOAD];
	uint64_t deadline = mono_ms() + DEAD_DEADLINE_MS;
	orbit_frame_t frame;

	while (r->cursor < until && mono_ms() < deadline) {
		int ret = orbit_ring_next(r->ring, &r->cursor, &frame, buf, sizeof(buf), &r->lost);

		if (ret == -EAGAIN) {
			usleep(1000);
			continue;
		}
		if (ret < 0) {
			r->error = ret;
			return;
		}
		stop_reader_got(r, c, &frame, buf);
	}
}

static int read_stopped_frame(orbit_ring_t *ring, uint64_t c)
{
	static uint8_t buf[STOP_PAYLOAD];
	orbit_frame_t frame;
	uint16_t writer;
	uint64_t seq;
	int ret = orbit_ring_read_at(ring, c, &frame, buf, sizeof(buf));

	if (ret == 0 &&
	    (pattern_verify(ring, &frame, buf, &writer, &seq) < 0 || writer != STOP_WRITER))
		ret = -EBADMSG;
	return ret;
}

static void print_stop_report(enum stop_point where, const struct stop_report *rep,
			      const struct stop_reader *readers)
{
	fprintf(stderr,
		"writer stopped %s for %d ms: lapping write %d after %" PRIu64
		" ms; A's slot seq 0x%" PRIx64 " after the lap, 0x%" PRIx64
		" at SIGCONT (A's claim 0x%" PRIx64 "); %" PRIu64
		" polls at A's counter, slowest %" PRIu64 " ms",
		stop_points[where], STOPPED_MS, rep->lap_ret, rep->lap_ms, rep->seq_after_lap,
		rep->seq_at_resume, 2 * rep->c + 1, rep->polls, rep->poll_max_ms);
	if (rep->poll_wrong)
		fprintf(stderr,
			", one from cursor %" PRIu64 " returned %d, cursor %" PRIu64 ", %" PRIu64
			" lost",
			rep->poll_from, rep->poll_ret, rep->poll_cursor, rep->poll_lost);
	fprintf(stderr, "; A's status 0x%x, its frame reads %d\n", rep->a_status, rep->a_read);
	for (int r = 0; r < STOP_READERS; r++)
		fprintf(stderr,
			"  reader %d: delivered %" PRIu64 " (A's frame whole: %" PRIu64
			") lost %" PRIu64 " torn %" PRIu64 " cursor %" PRIu64 " error %d\n",
			r, readers[r].delivered, readers[r].stopped_frame, readers[r].lost,
			readers[r].torn, readers[r].cursor, readers[r].error);
}

static void assert_stop_report(const struct stop_report *rep, const struct stop_reader *readers)
{
	const uint64_t claim = 2 * rep->c + 1;

	ck_assert_msg(
		rep->regressions == 0,
		"a slot's seq went back: a late commit stored over the lap that had the slot");
	ck_assert_msg(rep->lap_ret == -EBUSY,
		      "the lapping write returned %d: it must give its frame up (-EBUSY), not "
		      "take a live writer's slot",
		      rep->lap_ret);
	ck_assert_uint_lt(rep->lap_ms, LAP_MAX_MS);
	ck_assert_msg(rep->seq_after_lap == claim && rep->seq_at_resume == claim,
		      "A's slot changed hands while A was stopped");
	ck_assert_msg(WIFEXITED(rep->a_status) && WEXITSTATUS(rep->a_status) == 0,
		      "writer A failed after SIGCONT (status 0x%x)", rep->a_status);
	ck_assert_msg(rep->a_read == 0, "A's frame did not commit whole: read %d", rep->a_read);
	ck_assert_msg(!rep->poll_wrong,
		      "a poll at A's counter %" PRIu64 " (cursor %" PRIu64
		      ") returned %d, cursor %" PRIu64 ", %" PRIu64
		      " lost: a live writer's claim must read -EAGAIN",
		      rep->c, rep->poll_from, rep->poll_ret, rep->poll_cursor, rep->poll_lost);
	ck_assert_uint_lt(rep->poll_max_ms, POLL_MAX_MS);
	for (int r = 0; r < STOP_READERS; r++) {
		const struct stop_reader *rd = &readers[r];

		ck_assert_int_eq(rd->error, 0);
		ck_assert_uint_eq(rd->torn, 0);
		ck_assert_msg(rd->stopped_frame == 1, "reader %d did not deliver A's frame", r);
		/* A's frame and the lap's first three; the fourth gave its frame up. */
		ck_assert_uint_eq(rd->delivered, STOP_BEFORE + STOP_CAPACITY);
		ck_assert_uint_eq(rd->lost, 1);
		ck_assert_uint_eq(rd->cursor, rep->c + STOP_CAPACITY + 1);
	}
}

START_TEST(test_stopped_writer_keeps_its_slot)
{
	enum stop_point where = (enum stop_point)_i;
	struct stop_reader readers[STOP_READERS] = { 0 };
	orbit_fleet_t *reader_fleets[STOP_READERS];
	struct stop_report rep = { .c = STOP_BEFORE };
	uint64_t delivered[STOP_BEFORE], stopped_at, start;
	struct seq_sampler sampler;
	struct seg_map map;
	orbit_ring_t *ring;
	uint8_t *slot;
	int go, status;
	char byte = 0;
	pid_t a;

	/* Writer A joins, then claims and stops once go is written to. */
	a = test_spawn_ready(run_stopped_writer, &where, "writer A", &go);
	ck_assert_int_eq(join_ring(STOP_LAPPER, STOP_CAPACITY, STOP_PAYLOAD, &fixture_fleet, &ring),
			 0);
	for (int r = 0; r < STOP_READERS; r++)
		ck_assert_int_eq(join_ring((uint16_t)(READER_NODE_BASE + r), STOP_CAPACITY,
					   STOP_PAYLOAD, &reader_fleets[r], &readers[r].ring),
				 0);
	ck_assert_int_eq(seg_map_open(&map, fixture_fleet_name, KIND, STOP_CAPACITY, STOP_PAYLOAD),
			 0);
	slot = seg_slot(&map, rep.c);
	sampler_start(&sampler, &map);
	for (uint64_t c = 0; c < STOP_BEFORE; c++)
		write_counter(ring, c);
	for (int r = 0; r < STOP_READERS; r++) {
		ck_assert_int_eq(drain(readers[r].ring, &readers[r].cursor, STOP_BEFORE,
				       &readers[r].lost, delivered, STOP_BEFORE),
				 STOP_BEFORE);
		readers[r].delivered = STOP_BEFORE;
	}

	/* A claims the next counter and stops holding its slot. */
	ck_assert_int_eq(write(go, &byte, 1), 1);
	close(go);
	ck_assert_int_eq(waitpid(a, &status, WUNTRACED), a);
	ck_assert_msg(WIFSTOPPED(status), "writer A did not stop (status 0x%x)", status);
	stopped_at = mono_ms();
	ck_assert_uint_eq(orbit_ring_head(ring), rep.c + 1);
	ck_assert_uint_eq(seg_load64(slot, map.layout->slot_seq), 2 * rep.c + 1);

	/* The test laps A: a lap on, its counter lands on A's slot. */
	for (uint64_t c = rep.c + 1; c < rep.c + STOP_CAPACITY; c++)
		write_counter(ring, c);
	start = mono_ms();
	rep.lap_ret = pattern_write(ring, STOP_LAPPER, rep.c + STOP_CAPACITY, NULL);
	rep.lap_ms = mono_ms() - start;
	rep.seq_after_lap = seg_load64(slot, map.layout->slot_seq);
	while (mono_ms() - stopped_at < STOPPED_MS) {
		for (int r = 0; r < STOP_READERS; r++)
			poll_stopped(&readers[r], &rep);
		sleep_ms(POLL_EVERY_MS);
	}
	rep.seq_at_resume = seg_load64(slot, map.layout->slot_seq);

	ck_assert_int_eq(kill(a, SIGCONT), 0);
	ck_assert_int_eq(waitpid(a, &rep.a_status, 0), a);
	rep.a_read = read_stopped_frame(ring, rep.c);
	for (int r = 0; r < STOP_READERS; r++)
		drain_stopped(&readers[r], rep.c, rep.c + STOP_CAPACITY + 1);
	rep.regressions = sampler_stop(&sampler);
	print_stop_report(where, &rep, readers);
	assert_stop_report(&rep, readers);
	seg_map_close(&map);
	for (int r = 0; r < STOP_READERS; r++)
		orbit_fleet_leave(reader_fleets[r]);
}
END_TEST

/*
 * One writer and a reader in another process that keeps up with it, on a ring that never
 * laps: the writer waits for the reader at every batch. The reader spins at the head, so
 * it often reads a slot just before the writer claims its counter and then sees the head
 * past it: that frame is not yet written, never overwritten. Every frame must arrive,
 * once and in order, and none may be counted lost.
 */
#define KEEPUP_CAPACITY 1024
#define KEEPUP_FRAMES	200000
#define KEEPUP_BATCH	512 /* below the capacity: the writer never gets a lap ahead */

struct keepup_report {
	_Atomic uint64_t cursor; /* the reader's, published for the writer */
	uint64_t delivered;
	uint64_t lost;
	uint64_t bad; /* frames that are not the cursor's next counter, or not as written */
	uint64_t errors;
	int last_error;
	int timed_out;
};

static void run_keepup_reader(uint32_t payload_max, struct keepup_report *report)
{
	uint64_t deadline = mono_ms() + STRESS_DEADLINE_MS, cursor = 0, seq;
	uint8_t buf[SEG_V1_PAYLOAD];
	orbit_frame_t frame;
	orbit_fleet_t *f;
	orbit_ring_t *ring;
	uint16_t writer;
	int ret = join_ring(READER_NODE_BASE, KEEPUP_CAPACITY, payload_max, &f, &ring);

	if (ret < 0) {
		report->errors++;
		report->last_error = ret;
		return;
	}
	while (cursor < KEEPUP_FRAMES) {
		uint64_t expected = cursor;

		/* No wait on -EAGAIN: spinning at the head is what opens the window. */
		ret = orbit_ring_next(ring, &cursor, &frame, buf, sizeof(buf), &report->lost);
		if (ret == 0) {
			report->delivered++;
			if (orbit_id_counter(frame.id) != expected ||
			    pattern_verify(ring, &frame, buf, &writer, &seq) < 0 || seq != expected)
				report->bad++;
		} else if (ret != -EAGAIN) {
			report->errors++;
			report->last_error = ret;
		}
		atomic_store(&report->cursor, cursor);
		if (mono_ms() > deadline) {
			report->timed_out = 1;
			break;
		}
	}
	orbit_fleet_leave(f);
}

START_TEST(test_reader_keeping_up)
{
	const uint32_t payload_max = layouts[_i];
	struct keepup_report *report = mmap(NULL, sizeof(*report), PROT_READ | PROT_WRITE,
					    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	uint64_t deadline = mono_ms() + STRESS_DEADLINE_MS;
	orbit_ring_t *ring;
	pid_t reader;

	ck_assert_ptr_ne(report, MAP_FAILED);
	ck_assert_int_eq(join_ring(0, KEEPUP_CAPACITY, payload_max, &fixture_fleet, &ring), 0);
	reader = fork();
	ck_assert_int_ge(reader, 0);
	if (reader == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		run_keepup_reader(payload_max, report);
		_exit(0);
	}
	for (uint64_t c = 0; c < KEEPUP_FRAMES; c++) {
		while (c % KEEPUP_BATCH == 0 && atomic_load(&report->cursor) < c) {
			ck_assert_msg(mono_ms() < deadline, "reader stalled at %" PRIu64,
				      atomic_load(&report->cursor));
			sched_yield();
		}
		ck_assert_int_eq(pattern_write(ring, 0, c, NULL), 0);
	}
	test_reap_as(reader, "reader");
	fprintf(stderr,
		"keeping up (payload_max %" PRIu32 "): delivered %" PRIu64 " lost %" PRIu64
		" bad %" PRIu64 " errors %" PRIu64 " (last %d)%s\n",
		payload_max, report->delivered, report->lost, report->bad, report->errors,
		report->last_error, report->timed_out ? " TIMED OUT" : "");

	ck_assert(!report->timed_out);
	ck_assert_uint_eq(report->errors, 0);
	ck_assert_uint_eq(report->lost, 0);
	ck_assert_uint_eq(report->bad, 0);
	ck_assert_uint_eq(report->delivered, KEEPUP_FRAMES);
	ck_assert_uint_eq(atomic_load(&report->cursor), KEEPUP_FRAMES);
	munmap(report, sizeof(*report));
}
END_TEST

static Suite *stress_suite(void)
{
	Suite *suite = suite_create("stress");
	TCase *lapping = fixture_tcase(suite, "lapping", 300);
	TCase *dead = fixture_tcase(suite, "dead", 60);
	TCase *keepup = fixture_tcase(suite, "keepup", 300);
	TCase *stopped = fixture_tcase(suite, "stopped", 60);

	tcase_add_loop_test(lapping, test_lapping_writers, 0, ARRAY_SIZE(configs));

	tcase_add_loop_test(dead, test_dead_writer_counted_lost, 0, ARRAY_SIZE(layouts));
	tcase_add_loop_test(dead, test_writer_takes_over_dead_lap, 0, ARRAY_SIZE(layouts));
	tcase_add_loop_test(dead, test_takeover_waits_for_each_holder, 0, ARRAY_SIZE(layouts));

	tcase_add_loop_test(keepup, test_reader_keeping_up, 0, ARRAY_SIZE(layouts));

	tcase_add_loop_test(stopped, test_stopped_writer_keeps_its_slot, 0,
			    ARRAY_SIZE(stop_points));
	return suite;
}

int main(void)
{
	return test_run("stress", stress_suite);
}
