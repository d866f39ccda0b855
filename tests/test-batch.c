/* SPDX-License-Identifier: MIT */
/*
 * Batches: orbit_ring_write_batch() claims consecutive counters at once and
 * orbit_ring_next_batch() takes several frames per call. Each is what the single calls
 * would do, frame by frame: same frames, same losses, same errors; a writer stopped in
 * the middle of a batch holds the rest of it however long it is stopped, and a dead one
 * loses exactly the frames it never committed.
 */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <orbit.h>

#include "copy-trap.h"
#include "fixture.h"
#include "frame-pattern.h"
#include "testutil.h"

#define KIND	 9
#define NODES	 8
#define CAPACITY 64
#define MAX_LEN	 256
/* A stall bound far shorter than the test's waits: only liveness may keep a claim. */
#define STALL_MS 20

/* Pattern frames first.. of writer as messages, their payloads in bufs. */
static void fill_msgs(orbit_ring_t *ring, uint16_t writer, uint64_t first, size_t count,
		      orbit_msg_t *msgs, uint8_t (*bufs)[MAX_LEN])
{
	for (size_t i = 0; i < count; i++)
		msgs[i] = pattern_msg(bufs[i], orbit_ring_payload_max(ring), writer, first + i);
}

START_TEST(test_batch_round_trip)
{
	static uint8_t in[CAPACITY][MAX_LEN], out[CAPACITY][MAX_LEN];
	orbit_frame_t frames[CAPACITY];
	orbit_msg_t msgs[CAPACITY];
	uint64_t cursor = 0, lost = 0;
	orbit_ring_t *ring;
	orbit_id_t first = 0;

	fixture_fleet = fixture_join(_i, 3, NODES, CAPACITY, 0);
	ring = fixture_ring(fixture_fleet, KIND);
	ck_assert_int_eq(pattern_write(ring, 3, 0, NULL), 0);
	fill_msgs(ring, 3, 1, 10, msgs, in);
	ck_assert_int_eq(orbit_ring_write_batch(ring, msgs, 10, &first), 10);
	ck_assert_uint_eq(first, orbit_id_make(KIND, 3, 1));
	ck_assert_uint_eq(orbit_ring_head(ring), 11);

	/* One call takes what is there, up to count; the next one the rest. */
	ck_assert_int_eq(orbit_ring_next_batch(ring, &cursor, frames, out, MAX_LEN, 4, &lost), 4);
	ck_assert_uint_eq(cursor, 4);
	ck_assert_int_eq(
		orbit_ring_next_batch(ring, &cursor, frames + 4, out[4], MAX_LEN, CAPACITY, &lost),
		7);
	ck_assert_uint_eq(cursor, 11);
	ck_assert_uint_eq(lost, 0);
	for (uint64_t seq = 0; seq < 11; seq++) {
		ck_assert_int_eq(pattern_expect(ring, &frames[seq], out[seq], 3, seq), 0);
		ck_assert_uint_eq(frames[seq].id, orbit_id_make(KIND, 3, seq));
	}
	ck_assert_int_eq(orbit_ring_next_batch(ring, &cursor, frames, out, MAX_LEN, 4, &lost),
			 -EAGAIN);
	ck_assert_uint_eq(cursor, 11);
	/* Single reads see the batch's frames as any others. */
	ck_assert_int_eq(orbit_ring_read_head(ring, frames, out[0], MAX_LEN), 0);
	ck_assert_int_eq(pattern_expect(ring, frames, out[0], 3, 10), 0);
}
END_TEST

/* Invalid messages are refused before anything is claimed: the head does not move. */
START_TEST(test_batch_refuses_before_writing)
{
	static uint8_t in[4][MAX_LEN];
	uint8_t big[MAX_LEN + 1] = { 0 };
	orbit_msg_t msgs[4];
	orbit_ring_t *ring;
	orbit_id_t first = 77;

	fixture_fleet = fixture_join(_i, 0, NODES, CAPACITY, 0);
	ring = fixture_ring(fixture_fleet, KIND);
	fill_msgs(ring, 0, 0, 4, msgs, in);
	ck_assert_int_eq(orbit_ring_write_batch(NULL, msgs, 4, &first), -EINVAL);
	ck_assert_int_eq(orbit_ring_write_batch(ring, NULL, 4, &first), -EINVAL);
	ck_assert_int_eq(orbit_ring_write_batch(ring, NULL, 0, &first), 0);
	ck_assert_int_eq(orbit_ring_write_batch(ring, msgs, 0, &first), 0);
	msgs[2].payload = NULL;
	ck_assert_int_eq(orbit_ring_write_batch(ring, msgs, 4, &first), -EINVAL);
	msgs[2] = (orbit_msg_t){ .payload = big, .len = sizeof(big) };
	ck_assert_int_eq(orbit_ring_write_batch(ring, msgs, 4, &first), -EMSGSIZE);
	ck_assert_uint_eq(orbit_ring_head(ring), 0);
	ck_assert_uint_eq(first, 77);
	/* An empty payload may be NULL, as in orbit_ring_write(). */
	msgs[2] = (orbit_msg_t){ .payload = NULL, .len = 0, .kind = 5 };
	ck_assert_int_eq(orbit_ring_write_batch(ring, msgs, 4, NULL), 4);
	ck_assert_uint_eq(orbit_ring_head(ring), 4);
}
END_TEST

/* A batch longer than the ring is cut to one lap: it never overwrites itself. */
START_TEST(test_batch_cut_to_capacity)
{
	static uint8_t in[CAPACITY + 8][MAX_LEN], out[CAPACITY][MAX_LEN];
	orbit_frame_t frames[CAPACITY];
	orbit_msg_t msgs[CAPACITY + 8];
	uint64_t cursor = 0, lost = 0;
	orbit_ring_t *ring;

	fixture_fleet = fixture_join(_i, 1, NODES, CAPACITY, 0);
	ring = fixture_ring(fixture_fleet, KIND);
	fill_msgs(ring, 1, 0, CAPACITY + 8, msgs, in);
	ck_assert_int_eq(orbit_ring_write_batch(ring, msgs, CAPACITY + 8, NULL), CAPACITY);
	ck_assert_int_eq(
		orbit_ring_next_batch(ring, &cursor, frames, out, MAX_LEN, CAPACITY, &lost),
		CAPACITY);
	ck_assert_uint_eq(lost, 0);
	for (uint64_t seq = 0; seq < CAPACITY; seq++)
		ck_assert_int_eq(pattern_expect(ring, &frames[seq], out[seq], 1, seq), 0);
}
END_TEST

START_TEST(test_next_batch_arguments)
{
	uint8_t out[2][MAX_LEN];
	orbit_frame_t frames[2];
	uint64_t cursor = 0, lost = 0;
	orbit_ring_t *ring;

	fixture_fleet = fixture_join(_i, 0, NODES, CAPACITY, 0);
	ring = fixture_ring(fixture_fleet, KIND);
	ck_assert_int_eq(pattern_write(ring, 0, 0, NULL), 0);
	ck_assert_int_eq(orbit_ring_next_batch(NULL, &cursor, frames, out, MAX_LEN, 2, &lost),
			 -EINVAL);
	ck_assert_int_eq(orbit_ring_next_batch(ring, NULL, frames, out, MAX_LEN, 2, &lost),
			 -EINVAL);
	ck_assert_int_eq(orbit_ring_next_batch(ring, &cursor, NULL, out, MAX_LEN, 2, &lost),
			 -EINVAL);
	ck_assert_int_eq(orbit_ring_next_batch(ring, &cursor, frames, NULL, MAX_LEN, 2, &lost),
			 -EINVAL);
	ck_assert_int_eq(orbit_ring_next_batch(ring, &cursor, NULL, NULL, 0, 0, &lost), 0);
	ck_assert_uint_eq(cursor, 0);
	/* No buffer: only frames whose payload is empty fit. */
	ck_assert_int_eq(orbit_ring_next_batch(ring, &cursor, frames, NULL, 0, 2, NULL), -EMSGSIZE);
	ck_assert_uint_eq(cursor, 0);
	ck_assert_uint_eq(frames[0].id, orbit_id_make(KIND, 0, 0));
	ck_assert_int_eq(orbit_ring_next_batch(ring, &cursor, frames, out, MAX_LEN, 2, &lost), 1);
	ck_assert_uint_eq(cursor, 1);
	ck_assert_uint_eq(lost, 0);
}
END_TEST

/* A frame that does not fit the stride ends the batch before it, and then is -EMSGSIZE. */
START_TEST(test_next_batch_stops_at_oversize)
{
	uint8_t out[4][64];
	orbit_frame_t frames[4];
	uint64_t cursor = 0, lost = 0;
	uint8_t big[200];
	orbit_ring_t *ring;

	memset(big, 0xab, sizeof(big));
	fixture_fleet = fixture_join(_i, 0, NODES, CAPACITY, 0);
	ring = fixture_ring(fixture_fleet, KIND);
	ck_assert_int_eq(orbit_ring_write(ring, 1, 0, "small", 5, NULL), 0);
	ck_assert_int_eq(orbit_ring_write(ring, 1, 1, big, sizeof(big), NULL), 0);
	ck_assert_int_eq(orbit_ring_write(ring, 1, 2, "after", 5, NULL), 0);
	ck_assert_int_eq(orbit_ring_next_batch(ring, &cursor, frames, out, 64, 4, &lost), 1);
	ck_assert_uint_eq(cursor, 1);
	ck_assert_int_eq(memcmp(out[0], "small", 5), 0);
	ck_assert_int_eq(orbit_ring_next_batch(ring, &cursor, frames, out, 64, 4, &lost),
			 -EMSGSIZE);
	ck_assert_uint_eq(cursor, 1);
	ck_assert_uint_eq(frames[0].len, sizeof(big));
	ck_assert_uint_eq(lost, 0);
}
END_TEST

/* A reader a few laps behind loses exactly what was overwritten, and gets the rest. */
START_TEST(test_next_batch_lapped)
{
	static uint8_t in[CAPACITY][MAX_LEN], out[CAPACITY][MAX_LEN];
	orbit_frame_t frames[CAPACITY];
	orbit_msg_t msgs[CAPACITY];
	uint64_t cursor = 0, lost = 0, seq = 0;
	orbit_ring_t *ring;

	fixture_fleet = fixture_join(_i, 2, NODES, CAPACITY, 0);
	ring = fixture_ring(fixture_fleet, KIND);
	for (int lap = 0; lap < 3; lap++) {
		fill_msgs(ring, 2, seq, CAPACITY, msgs, in);
		ck_assert_int_eq(orbit_ring_write_batch(ring, msgs, CAPACITY, NULL), CAPACITY);
		seq += CAPACITY;
	}
	ck_assert_int_eq(
		orbit_ring_next_batch(ring, &cursor, frames, out, MAX_LEN, CAPACITY, &lost),
		CAPACITY);
	ck_assert_uint_eq(lost, 2 * CAPACITY);
	for (uint64_t i = 0; i < CAPACITY; i++)
		ck_assert_int_eq(pattern_expect(ring, &frames[i], out[i], 2, 2 * CAPACITY + i), 0);
	ck_assert_uint_eq(cursor, 3 * CAPACITY);
}
END_TEST

/* ---- a writer paused or killed in the middle of a batch ---- */

#define BATCH	  8
#define PAUSED_AT 3 /* the frame of the batch whose copy stops */

/*
 * Child: joins as node 1 and writes frames 0..BATCH as one batch; frame PAUSED_AT's copy
 * stops the process (SIGSTOP) with frames before it committed and the rest claimed.
 */
static void write_batch_and_stop(void)
{
	static uint8_t in[BATCH][MAX_LEN];
	orbit_fleet_options_t opts = fixture_options(CAPACITY, 0);
	orbit_msg_t msgs[BATCH];
	orbit_fleet_t *fleet;
	orbit_ring_t *ring;
	uint8_t *trapped;

	opts.stall_ms = STALL_MS;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (orbit_fleet_join_shm(fixture_fleet_name, 1, NODES, &opts, &fleet) < 0 ||
	    orbit_fleet_ring(fleet, KIND, &ring) < 0 || trap_setup(MAX_LEN, 0) < 0)
		_exit(1);
	fill_msgs(ring, 1, 0, BATCH, msgs, in);
	trapped = trap_payload(8);
	memcpy(trapped, in[PAUSED_AT], msgs[PAUSED_AT].len);
	msgs[PAUSED_AT].payload = trapped;
	if (trap_close() < 0)
		_exit(1);
	_exit(orbit_ring_write_batch(ring, msgs, BATCH, NULL) == BATCH ? 0 : 2);
}

static pid_t spawn_stopped_batch(void)
{
	int status;
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		write_batch_and_stop();
	ck_assert_int_eq(waitpid(pid, &status, WUNTRACED), pid);
	ck_assert_msg(WIFSTOPPED(status), "the batch writer did not stop (status 0x%x)", status);
	return pid;
}

static orbit_ring_t *join_with_stall_bound(void)
{
	orbit_fleet_options_t opts = fixture_options(CAPACITY, 0);
	orbit_ring_t *ring;

	opts.stall_ms = STALL_MS;
	ck_assert_int_eq(orbit_fleet_join_shm(fixture_fleet_name, 0, NODES, &opts, &fixture_fleet),
			 0);
	ck_assert_int_eq(orbit_fleet_ring(fixture_fleet, KIND, &ring), 0);
	return ring;
}

/* Delivers frames 0..PAUSED_AT of writer 1, then -EAGAIN, from cursor 0. */
static void assert_batch_front(orbit_ring_t *ring, uint64_t *cursor, uint64_t *lost)
{
	static uint8_t out[BATCH][MAX_LEN];
	orbit_frame_t frames[BATCH];

	ck_assert_int_eq(orbit_ring_next_batch(ring, cursor, frames, out, MAX_LEN, BATCH, lost),
			 PAUSED_AT);
	for (uint64_t i = 0; i < PAUSED_AT; i++)
		ck_assert_int_eq(pattern_expect(ring, &frames[i], out[i], 1, i), 0);
	ck_assert_int_eq(orbit_ring_next_batch(ring, cursor, frames, out, MAX_LEN, BATCH, lost),
			 -EAGAIN);
	ck_assert_uint_eq(*cursor, PAUSED_AT);
}

/*
 * Stopped far past the stall bound, the writer still holds every counter of its batch
 * it has not committed: the reader waits at the paused frame and loses nothing, and a
 * later writer's frame behind the batch waits too. Resumed, the batch completes.
 */
START_TEST(test_stopped_batch_writer_keeps_its_claim)
{
	static uint8_t out[BATCH + 1][MAX_LEN];
	orbit_frame_t frames[BATCH + 1];
	uint64_t cursor = 0, lost = 0, behind = PAUSED_AT + 1, behind_lost = 0;
	orbit_ring_t *ring = join_with_stall_bound();
	pid_t pid = spawn_stopped_batch();

	ck_assert_uint_eq(orbit_ring_head(ring), BATCH);
	ck_assert_int_eq(pattern_write(ring, 0, 100, NULL), 0);
	assert_batch_front(ring, &cursor, &lost);
	/* Every counter of the batch, not just the paused one, is the live writer's: a
	 * cursor past the paused frame waits too, and gives none of them up. */
	for (int i = 0; i < 5; i++) {
		sleep_ms(4 * STALL_MS);
		ck_assert_int_eq(orbit_ring_next_batch(ring, &cursor, frames, out, MAX_LEN,
						       BATCH + 1, &lost),
				 -EAGAIN);
		ck_assert_int_eq(orbit_ring_next_batch(ring, &behind, frames, out, MAX_LEN,
						       BATCH + 1, &behind_lost),
				 -EAGAIN);
		ck_assert_uint_eq(behind, PAUSED_AT + 1);
		ck_assert_uint_eq(behind_lost, 0);
		for (uint64_t c = PAUSED_AT + 1; c < BATCH; c++)
			ck_assert_int_eq(orbit_ring_read_at(ring, c, frames, out[0], MAX_LEN),
					 -EAGAIN);
	}
	ck_assert_uint_eq(lost, 0);
	ck_assert_int_eq(kill(pid, SIGCONT), 0);
	test_reap_as(pid, "the resumed batch writer");
	ck_assert_int_eq(
		orbit_ring_next_batch(ring, &cursor, frames, out, MAX_LEN, BATCH + 1, &lost),
		BATCH + 1 - PAUSED_AT);
	for (uint64_t i = 0; i < BATCH - PAUSED_AT; i++)
		ck_assert_int_eq(pattern_expect(ring, &frames[i], out[i], 1, PAUSED_AT + i), 0);
	ck_assert_int_eq(
		pattern_expect(ring, &frames[BATCH - PAUSED_AT], out[BATCH - PAUSED_AT], 0, 100),
		0);
	ck_assert_uint_eq(lost, 0);
}
END_TEST

/*
 * Killed in the middle of its batch, the writer loses just the frames it never committed,
 * within TEST_JUDGE_POLLS polls of a cursor at the frame it was writing or at one whose
 * slot it never took, and the rest of the batch with the same poll.
 */
START_TEST(test_dead_batch_writer_loses_the_rest)
{
	static uint8_t out[BATCH][MAX_LEN];
	orbit_frame_t frames[BATCH];
	uint64_t cursor = 0, lost = 0, behind = PAUSED_AT + 1, behind_lost = 0;
	orbit_ring_t *ring = join_with_stall_bound();
	pid_t pid = spawn_stopped_batch();
	int status, polls = 0, ret;

	ck_assert_int_eq(pattern_write(ring, 0, 100, NULL), 0);
	assert_batch_front(ring, &cursor, &lost);
	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	do {
		ret = orbit_ring_next_batch(ring, &behind, frames, out, MAX_LEN, BATCH,
					    &behind_lost);
		polls++;
	} while (ret == -EAGAIN && polls <= TEST_JUDGE_POLLS);
	ck_assert_int_eq(ret, 1);
	ck_assert_int_eq(pattern_expect(ring, &frames[0], out[0], 0, 100), 0);
	ck_assert_uint_eq(behind_lost, BATCH - PAUSED_AT - 1);
	ck_assert_int_le(polls, TEST_JUDGE_POLLS);
	/* The cursor at the frame it was writing judges it, then passes the rest at once. */
	for (polls = 1; (ret = orbit_ring_next_batch(ring, &cursor, frames, out, MAX_LEN, BATCH,
						     &lost)) == -EAGAIN &&
			polls < TEST_JUDGE_POLLS;
	     polls++)
		;
	ck_assert_int_eq(ret, 1);
	ck_assert_int_eq(pattern_expect(ring, &frames[0], out[0], 0, 100), 0);
	ck_assert_uint_eq(lost, BATCH - PAUSED_AT);
	ck_assert_uint_eq(cursor, BATCH + 1);
}
END_TEST

/*
 * A batch a lap ahead of a stopped batch writer: it writes every frame up to the slot
 * the stopped writer holds, never takes that slot, gives up the rest of its batch
 * there, and leaves the slots of the stopped writer's unwritten counters alone; the
 * resumed writer then completes its whole batch.
 */
START_TEST(test_batch_laps_a_stopped_batch)
{
	static uint8_t in[CAPACITY][MAX_LEN], out[CAPACITY][MAX_LEN];
	const uint64_t held = CAPACITY + PAUSED_AT; /* a lap after the paused frame: its slot */
	orbit_frame_t frames[CAPACITY];
	orbit_msg_t msgs[CAPACITY];
	uint64_t cursor = BATCH, lost = 0;
	orbit_ring_t *ring = join_with_stall_bound();
	pid_t pid = spawn_stopped_batch();

	fill_msgs(ring, 0, BATCH, CAPACITY, msgs, in);
	ck_assert_int_eq(orbit_ring_write_batch(ring, msgs, CAPACITY, NULL), held - BATCH);
	ck_assert_uint_eq(orbit_ring_head(ring), BATCH + CAPACITY);
	/* The live writer's frame is still its own, and still being written. */
	ck_assert_int_eq(orbit_ring_read_at(ring, PAUSED_AT, frames, out[0], MAX_LEN), -EAGAIN);
	ck_assert_int_eq(kill(pid, SIGCONT), 0);
	test_reap_as(pid, "the resumed batch writer");
	ck_assert_int_eq(orbit_ring_read_at(ring, PAUSED_AT, frames, out[0], MAX_LEN), 0);
	ck_assert_int_eq(pattern_expect(ring, frames, out[0], 1, PAUSED_AT), 0);
	for (uint64_t c = PAUSED_AT + 1; c < BATCH; c++) {
		ck_assert_int_eq(orbit_ring_read_at(ring, c, frames, out[0], MAX_LEN), 0);
		ck_assert_int_eq(pattern_expect(ring, frames, out[0], 1, c), 0);
	}
	/* The lapping batch: delivered up to the held slot, the rest given up. */
	ck_assert_int_eq(
		orbit_ring_next_batch(ring, &cursor, frames, out, MAX_LEN, CAPACITY, &lost),
		held - BATCH);
	for (uint64_t i = 0; i < held - BATCH; i++)
		ck_assert_int_eq(pattern_expect(ring, &frames[i], out[i], 0, BATCH + i), 0);
	/* Given up in the lapping writer's record: counted lost once a poll reads the head. */
	for (int polls = 0; polls < TEST_JUDGE_POLLS && !lost; polls++)
		ck_assert_int_eq(
			orbit_ring_next_batch(ring, &cursor, frames, out, MAX_LEN, CAPACITY, &lost),
			-EAGAIN);
	ck_assert_uint_eq(lost, BATCH + CAPACITY - held);
	ck_assert_uint_eq(cursor, BATCH + CAPACITY);
}
END_TEST

/* ---- across processes ---- */

#define WRITERS	   2
#define PER_WRITER 20000
#define STRESS_CAP 4096

/* Child: writes PER_WRITER pattern frames as node `writer`, in batches of 1..16. */
static void stress_writer(uint16_t writer)
{
	static uint8_t in[16][MAX_LEN];
	orbit_msg_t msgs[16];
	orbit_fleet_t *fleet;
	orbit_ring_t *ring;
	uint64_t seq = 0;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	test_rng_seed("batch-writer");
	if (orbit_fleet_join_shm(fixture_fleet_name, writer, NODES,
				 &(orbit_fleet_options_t){ .size = sizeof(orbit_fleet_options_t),
							   .capacity = STRESS_CAP },
				 &fleet) < 0 ||
	    orbit_fleet_ring(fleet, KIND, &ring) < 0)
		_exit(1);
	while (seq < PER_WRITER) {
		size_t n = 1 + test_rng_below(16);
		int ret;

		if (n > PER_WRITER - seq)
			n = PER_WRITER - seq;
		fill_msgs(ring, writer, seq, n, msgs, in);
		ret = orbit_ring_write_batch(ring, msgs, n, NULL);
		if (ret != (int)n)
			_exit(2);
		seq += n;
	}
	_exit(0);
}

/*
 * Writers race batches into one ring while the test reads it in batches: every frame
 * delivered is exact (checksummed), each writer's in order, and every frame is either
 * delivered or counted lost, never both and never neither.
 */
START_TEST(test_batches_across_processes)
{
	static uint8_t out[32][MAX_LEN];
	orbit_frame_t frames[32];
	uint64_t cursor = 0, lost = 0, delivered = 0, next_seq[WRITERS + 1] = { 0 };
	pid_t pids[WRITERS];
	orbit_ring_t *ring;

	fixture_fleet = fixture_join(FIXTURE_SHM, 0, NODES, STRESS_CAP, 0);
	ring = fixture_ring(fixture_fleet, KIND);
	for (int w = 0; w < WRITERS; w++) {
		pids[w] = fork();
		ck_assert_int_ge(pids[w], 0);
		if (pids[w] == 0)
			stress_writer((uint16_t)(1 + w));
	}
	while (delivered + lost < (uint64_t)WRITERS * PER_WRITER) {
		int n = orbit_ring_next_batch(ring, &cursor, frames, out, MAX_LEN, 32, &lost);

		if (n == -EAGAIN)
			continue;
		ck_assert_int_gt(n, 0);
		for (int i = 0; i < n; i++) {
			uint16_t writer;
			uint64_t seq;

			ck_assert_int_eq(pattern_verify(ring, &frames[i], out[i], &writer, &seq),
					 0);
			ck_assert(writer >= 1 && writer <= WRITERS);
			ck_assert_uint_ge(seq, next_seq[writer]);
			next_seq[writer] = seq + 1;
		}
		delivered += (uint64_t)n;
	}
	for (int w = 0; w < WRITERS; w++)
		test_reap(pids[w]);
	fprintf(stderr, "%d writers x %d frames in batches: %llu delivered, %llu lost\n", WRITERS,
		PER_WRITER, (unsigned long long)delivered, (unsigned long long)lost);
	ck_assert_uint_eq(orbit_ring_head(ring), (uint64_t)WRITERS * PER_WRITER);
	ck_assert_uint_eq(cursor, (uint64_t)WRITERS * PER_WRITER);
	ck_assert_uint_gt(delivered, 0);
}
END_TEST

static Suite *batch_suite(void)
{
	Suite *suite = suite_create("batch");
	TCase *calls = fixture_tcase(suite, "calls", 0);
	TCase *paused = fixture_tcase(suite, "paused", 0);
	TCase *xproc = fixture_tcase(suite, "xproc", 0);

	tcase_add_loop_test(calls, test_batch_round_trip, 0, FIXTURE_BACKINGS);
	tcase_add_loop_test(calls, test_batch_refuses_before_writing, 0, FIXTURE_BACKINGS);
	tcase_add_loop_test(calls, test_batch_cut_to_capacity, 0, FIXTURE_BACKINGS);
	tcase_add_loop_test(calls, test_next_batch_arguments, 0, FIXTURE_BACKINGS);
	tcase_add_loop_test(calls, test_next_batch_stops_at_oversize, 0, FIXTURE_BACKINGS);
	tcase_add_loop_test(calls, test_next_batch_lapped, 0, FIXTURE_BACKINGS);
	tcase_add_test(paused, test_stopped_batch_writer_keeps_its_claim);
	tcase_add_test(paused, test_dead_batch_writer_loses_the_rest);
	tcase_add_test(paused, test_batch_laps_a_stopped_batch);
	tcase_add_test(xproc, test_batches_across_processes);
	return suite;
}

int main(void)
{
	return test_run("batch", batch_suite);
}
