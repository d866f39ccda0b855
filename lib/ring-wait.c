/* SPDX-License-Identifier: MIT */
/*
 * Sleeping on a ring and polling it: orbit_ring_wait() and orbit_ring_follow() on the
 * ring's futex word, the frame-settled wait the substrates use, interrupts, and the
 * pollable descriptors (orbit_ring_fd) built on the fleet's doorbells.
 */
#include "ring-handle.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "bell.h"
#include "clock.h"
#include "log.h"
#include "macro.h"

static long futex_op(const orbit_ring_t *ring, int op, uint32_t val, const struct timespec *at)
{
	/* Process-local rings need no cross-process futex hashing. */
	if (!ring->region.shared)
		op |= FUTEX_PRIVATE_FLAG;
	return syscall(SYS_futex, ring->futex_word, op, val, at, NULL, FUTEX_BITSET_MATCH_ANY);
}

void ring_wake_sleepers(const orbit_ring_t *ring)
{
	/* Release: pairs with the waiter's acquire load of the futex word. */
	atomic_fetch_add_explicit(ring->futex_word, 1, memory_order_release);
	futex_op(ring, FUTEX_WAKE, INT_MAX, NULL);
}

/*
 * What a sleeper waits for at cursor: true once it has come. It may set *until_ns
 * (monotonic ns) to a time at which to look again although nobody wakes the sleeper.
 */
typedef bool wait_done_fn(orbit_ring_t *ring, uint64_t cursor, uint64_t *until_ns);

static bool head_passed(orbit_ring_t *ring, uint64_t cursor, uint64_t *until_ns)
{
	(void)until_ns;
	/* seq_cst: the sleeper's side of the Dekker pair with the writer's fetch_add. */
	return atomic_load_explicit(ring->write_pos, memory_order_seq_cst) > cursor;
}

/* Whether the frame at cursor is settled, as ring_wait_settled() says (ring.h). */
/*
 * A live writer's commit wakes sleepers, but its release store may pass the wake check:
 * a sleeper behind a live claim looks again every RING_SETTLE_RECHECK_NS, which keeps
 * a fence off every write.
 */
static bool cursor_settled(orbit_ring_t *ring, uint64_t cursor, uint64_t *until_ns)
{
	_Atomic uint64_t *seq = field64(slot_of(ring, cursor), ring->geo.layout->slot_seq);

	if (!head_passed(ring, cursor, until_ns))
		return false;
	if (cursor > RING_COUNTER_MAX)
		return true;
	/* As orbit_ring_next() sees it: a lap behind, only the cursor's own claim holds it. */
	if (load_head(ring) - cursor > ring->geo.capacity &&
	    atomic_load_explicit(seq, memory_order_relaxed) != 2 * cursor + 1)
		return true;
	if (claim_judge(ring, cursor, until_ns) != CLAIM_WAIT)
		return true;
	if (!*until_ns)
		*until_ns = clock_mono_ns() + RING_SETTLE_RECHECK_NS;
	return false;
}

static long futex_sleep(const orbit_ring_t *ring, uint32_t word, uint64_t until_ns)
{
	struct timespec at = { .tv_sec = (time_t)(until_ns / 1000000000u),
			       .tv_nsec = (long)(until_ns % 1000000000u) };

	/* FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC time, as clock_mono_ns() reads. */
	return futex_op(ring, FUTEX_WAIT_BITSET, word, until_ns ? &at : NULL);
}

/* The earlier of two times, where 0 is never. */
static uint64_t earlier(uint64_t a, uint64_t b)
{
	return a && (!b || a < b) ? a : b;
}

/* The monotonic time timeout_ms from now; 0 (never) for -1. */
static uint64_t deadline_after(int timeout_ms)
{
	return timeout_ms < 0 ? 0 : clock_mono_ns() + (uint64_t)timeout_ms * 1000000u;
}

/*
 * Sleeps until done() says so (0), the deadline passes (-ETIMEDOUT; 0 = never), a signal
 * comes (-EINTR) or *interrupted is set (-ECANCELED).
 */
static int ring_sleep(orbit_ring_t *ring, uint64_t cursor, uint64_t deadline, wait_done_fn *done,
		      const atomic_bool *interrupted)
{
	uint64_t until = 0;
	int ret;

	if (atomic_load_explicit(interrupted, memory_order_acquire))
		return -ECANCELED;
	if (done(ring, cursor, &until))
		return 0;
	if (deadline && clock_mono_ns() >= deadline)
		return -ETIMEDOUT;
	/*
	 * The sleeper's half of the Dekker pairs with wake_waiters(): count ourselves in, then
	 * a seq_cst fence before every look below. A writer whose head move, commit or drop
	 * precedes the fence is seen by the look; one that comes after it sees the count.
	 */
	atomic_fetch_add_explicit(ring->waiters, 1, memory_order_seq_cst);
	atomic_thread_fence(memory_order_seq_cst);
	for (;;) {
		/* Acquire: pairs with the writer's release bump; read before the look, so a write
		 * after the look changes the word and the futex returns at once. */
		uint32_t word = atomic_load_explicit(ring->futex_word, memory_order_acquire);

		until = 0;
		/* Acquire: pairs with ring_interrupt(), which sets the flag before the bump. */
		if (atomic_load_explicit(interrupted, memory_order_acquire)) {
			ret = -ECANCELED;
			break;
		}
		if (done(ring, cursor, &until)) {
			ret = 0;
			break;
		}
		if (deadline && clock_mono_ns() >= deadline) {
			ret = -ETIMEDOUT;
			break;
		}
		if (futex_sleep(ring, word, earlier(deadline, until)) == 0 || errno == EAGAIN ||
		    errno == ETIMEDOUT)
			continue;
		ret = -errno;
		if (ret == -EINTR && done(ring, cursor, &until))
			ret = 0;
		break;
	}
	atomic_fetch_sub_explicit(ring->waiters, 1, memory_order_relaxed);
	return ret;
}

ORBIT_EXPORT int orbit_ring_wait(orbit_ring_t *ring, uint64_t cursor, int timeout_ms)
{
	if (!ring)
		return ORBIT_INVALID("%s: ring is NULL", __func__);
	if (timeout_ms < -1)
		return ORBIT_INVALID("%s: timeout_ms %d is below -1", __func__, timeout_ms);
	return ring_sleep(ring, cursor, deadline_after(timeout_ms), head_passed,
			  &ring->interrupted);
}

int ring_wait_settled(orbit_ring_t *ring, uint64_t cursor, uint64_t deadline_ns,
		      const atomic_bool *interrupted)
{
	return ring_sleep(ring, cursor, deadline_ns, cursor_settled, interrupted);
}

uint64_t ring_deadline(int timeout_ms)
{
	return deadline_after(timeout_ms);
}

ORBIT_EXPORT int orbit_ring_follow(orbit_ring_t *ring, uint64_t *cursor, orbit_frame_t *frame,
				   void *buf, size_t size, uint64_t *lost, int timeout_ms)
{
	uint64_t deadline;
	int ret;

	if (!ring || !cursor)
		return ORBIT_INVALID("%s: %s is NULL", __func__, ring ? "cursor" : "ring");
	if (timeout_ms < -1)
		return ORBIT_INVALID("%s: timeout_ms %d is below -1", __func__, timeout_ms);
	deadline = deadline_after(timeout_ms);
	for (;;) {
		if (atomic_load_explicit(&ring->interrupted, memory_order_acquire))
			return -ECANCELED;
		ret = orbit_ring_next(ring, cursor, frame, buf, size, lost);
		if (ret != -EAGAIN)
			return ret;
		/* Settled, not just "head past": a live writer's frame at the cursor is slept on. */
		ret = ring_sleep(ring, *cursor, deadline, cursor_settled, &ring->interrupted);
		if (ret < 0)
			return ret;
	}
}

void ring_interrupt(orbit_ring_t *ring, atomic_bool *flag, bool on)
{
	/* Release: the sleeper that sees the bumped word sees the flag. */
	atomic_store_explicit(flag, on, memory_order_release);
	if (on)
		ring_wake_sleepers(ring);
}

ORBIT_EXPORT int orbit_ring_interrupt(orbit_ring_t *ring, int on)
{
	if (!ring)
		return ORBIT_INVALID("%s: ring is NULL", __func__);
	ring_interrupt(ring, &ring->interrupted, on != 0);
	return 0;
}

/* ---- pollable descriptors ---- */

void ring_poller_init(struct ring_poller *poller)
{
	pthread_mutex_init(&poller->lock, NULL);
	poller->bell = NULL;
}

void ring_poller_close(orbit_ring_t *ring, struct ring_poller *poller)
{
	bell_close(poller->bell, ring->bells_armed);
	pthread_mutex_destroy(&poller->lock);
}

/* The poller's bell, made on first use, and made anew in a forked child. Locked. */
static int poller_bell(orbit_ring_t *ring, struct ring_poller *poller)
{
	if (poller->bell && bell_inherited(poller->bell)) {
		bell_forget(poller->bell);
		poller->bell = NULL;
	}
	if (poller->bell)
		return 0;
	if (!ring->bells)
		return -ENOTSUP;
	return bell_open(ring->bells, ring->geo.kind, &poller->bell);
}

int ring_poller_fd(orbit_ring_t *ring, struct ring_poller *poller)
{
	int ret;

	pthread_mutex_lock(&poller->lock);
	ret = poller_bell(ring, poller);
	if (ret == 0)
		ret = bell_fd(poller->bell);
	pthread_mutex_unlock(&poller->lock);
	return ret;
}

/*
 * Clears the poller's readiness and makes it readable once the frame at cursor settles,
 * as ring_wait_settled() sees it. Armed before the look, so a writer that takes a
 * counter after the look rings it; a commit that passes both (see cursor_settled()) or
 * a stalled claim is looked at again by the bell's timer, which makes the descriptor
 * readable for the caller's next look.
 */
int ring_poller_arm(orbit_ring_t *ring, struct ring_poller *poller, uint64_t cursor)
{
	uint64_t until = 0;
	int ret;

	pthread_mutex_lock(&poller->lock);
	ret = poller_bell(ring, poller);
	if (ret == 0) {
		bell_arm(poller->bell, ring->bells_armed, cursor);
		atomic_thread_fence(memory_order_seq_cst);
		if (cursor_settled(ring, cursor, &until))
			bell_fire(poller->bell, ring->bells_armed);
		else if (until)
			bell_fire_at(poller->bell, until);
	}
	pthread_mutex_unlock(&poller->lock);
	return ret;
}

ORBIT_EXPORT int orbit_ring_fd(orbit_ring_t *ring)
{
	return ring ? ring_poller_fd(ring, &ring->poller)
		    : ORBIT_INVALID("%s: ring is NULL", __func__);
}

ORBIT_EXPORT int orbit_ring_arm(orbit_ring_t *ring, uint64_t cursor)
{
	return ring ? ring_poller_arm(ring, &ring->poller, cursor)
		    : ORBIT_INVALID("%s: ring is NULL", __func__);
}
