/* SPDX-License-Identifier: MIT */
/*
 * Rings: the slot protocol over a region, for both on-memory layouts.
 *
 * A writer claims counter c with a fetch_add on write_pos, takes slot c & mask by
 * CAS of its seq to 2c+1, stores the frame, and commits with seq = 2c+2. Readers
 * use the seqlock pattern that is correct in the C11 model: every shared content
 * access is a relaxed atomic, bracketed by an acquire load of seq and an acquire
 * fence before seq is read again; the writer's release fence after taking the slot
 * is the other half. A frame is accepted only if seq read 2c+2 both times.
 *
 * The layouts' bytes are ring-layout.c's; sleeping and polling are ring-wait.c's.
 */
#include "ring-handle.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "backoff.h"
#include "bell.h"
#include "clock.h"
#include "id.h"
#include "lease.h"
#include "log.h"
#include "macro.h"
#include "region.h"
#include "ring-layout.h"

/* Looks at a claimed slot's seq before asking the kernel whether its writer lives. */
#define RING_SETTLE_SPINS 64
/* Polls in a row at a claim still waiting for its writer before one judges it (judge_due()). */
#define RING_JUDGE_POLLS 64
/* Holders of one slot a writer gives the whole stall bound before it stops waiting. */
#define RING_BOUND_HOLDERS 4
/* Torn reads retried before -EAGAIN: a lapping writer settles within a few tries. */
#define RING_READ_TRIES 4

static _Atomic uint8_t *field8(uint8_t *base, uint32_t offset)
{
	return (_Atomic uint8_t *)(base + offset);
}

/* Payload bytes move as relaxed 8-byte atomics: payloads start 8-aligned and slots end on 64. */
static void copy_out(void *dst, uint8_t *src, size_t n)
{
	_Atomic uint64_t *word = (_Atomic uint64_t *)(void *)src;
	uint8_t *d = dst;
	uint64_t v;

	for (; n >= 8; n -= 8, d += 8, word++) {
		v = atomic_load_explicit(word, memory_order_relaxed);
		memcpy(d, &v, 8);
	}
	if (n) {
		v = atomic_load_explicit(word, memory_order_relaxed);
		memcpy(d, &v, n);
	}
}

static void copy_in(uint8_t *dst, const void *src, size_t n)
{
	_Atomic uint64_t *word = (_Atomic uint64_t *)(void *)dst;
	const uint8_t *s = src;
	uint64_t v;

	for (; n >= 8; n -= 8, s += 8, word++) {
		memcpy(&v, s, 8);
		atomic_store_explicit(word, v, memory_order_relaxed);
	}
	if (n) {
		v = 0;
		memcpy(&v, s, n);
		atomic_store_explicit(word, v, memory_order_relaxed);
	}
}

/* A writer's wait for an older lap's holder of its slot, bounded by the stall bound. */
struct slot_wait {
	struct backoff backoff;
	unsigned holders; /* bounds started: one per holder waited for, a few at most */
	uint64_t watched; /* the seq the bound runs for */
	uint64_t deadline_ns;
};

/*
 * Each new holder of the watched slot gets the whole bound: it may have taken the slot
 * a moment ago. A few holders at most, so a peer rewriting seq cannot extend it forever.
 */
static bool slot_wait_expired(struct slot_wait *b, uint64_t seq, uint64_t bound_ns)
{
	uint64_t now = clock_mono_ns();

	if (!b->deadline_ns || (seq != b->watched && b->holders < RING_BOUND_HOLDERS)) {
		b->watched = seq;
		b->holders++;
		b->deadline_ns = now + bound_ns;
	}
	return now >= b->deadline_ns;
}

/*
 * A live writer finishes a small frame far sooner than a system call returns: look at
 * the seq a little longer before asking the kernel who holds it. Microseconds at most.
 */
static bool seq_settles(_Atomic uint64_t *seq, uint64_t s)
{
	for (int i = 0; i < RING_SETTLE_SPINS; i++) {
		cpu_relax();
		if (atomic_load_explicit(seq, memory_order_relaxed) != s)
			return true;
	}
	return false;
}

/* ---- seq values ---- */

/*
 * 0 never written, 2c+1 being written, 2c+2 committed (the orbit-rs 0.1 protocol), and
 * liborbit's own SEQ_GIVEN_UP | (2c+1): counter c was given up and can never be
 * committed. That value is odd, so orbit-rs 0.1 readers take it for a write in progress.
 */
static bool seq_given_up(uint64_t s)
{
	return s & SEQ_GIVEN_UP;
}

static bool seq_claimed(uint64_t s)
{
	return (s & 1) && !seq_given_up(s);
}

/* The counter a non-zero seq speaks for. */
static uint64_t seq_counter(uint64_t s)
{
	return ((s & ~SEQ_GIVEN_UP) - 1) / 2;
}

/*
 * The slot has moved past counter c: nothing of c can be committed there any more. An
 * even value with the given-up bit is no writer's: it is past every counter, as any
 * value beyond the seq space was before that bit had a meaning.
 */
static bool seq_past(uint64_t s, uint64_t c)
{
	if (seq_given_up(s) && !(s & 1))
		return true;
	return s && (seq_counter(s) > c || (seq_counter(s) == c && seq_given_up(s)));
}

static enum lease_owner claim_owner(const orbit_ring_t *ring, uint64_t c)
{
	return ring->leases ? lease_owner_of(ring->leases, ring->geo.kind, c) : LEASE_OWNER_NONE;
}

/* ---- opening ---- */

int ring_probe(const char *shm_name, struct ring_config *config)
{
	uint8_t head[REGION_HEAD_MAX];
	struct ring_geometry geo;
	uint64_t object_size;
	size_t got;
	mode_t mode;
	int ret;

	ret = region_probe_shm(shm_name, config->owner, head, ring_header_probe_len(), &got,
			       &object_size, &mode);
	if (ret < 0)
		return ret;
	ret = ring_header_probe(head, got, object_size, config->kind, &geo);
	if (ret == -EPROTO)
		orbit_log_debug("%s: header does not describe a kind %u ring of its size", shm_name,
				config->kind);
	if (ret < 0)
		return ret;
	config->capacity = geo.capacity;
	config->payload_max = geo.payload_max;
	config->mode = mode;
	return 0;
}

int ring_open(const struct ring_config *config, orbit_ring_t **out)
{
	orbit_ring_t *ring = calloc(1, sizeof(*ring));
	struct ring_segment segment;
	struct region_spec spec;
	uint8_t *base;
	int ret;

	if (!ring)
		return -ENOMEM;
	segment = (struct ring_segment){ .geo = &ring->geo, .name = config->shm_name };
	ret = ring_geometry_init(&ring->geo, config->kind, config->capacity, config->payload_max);
	if (ret < 0) {
		free(ring);
		return ret;
	}
	ring->node = config->node;
	ring->mask = config->capacity - 1;
	ring->leases = config->leases;
	ring->bells = config->bells;
	ring->stall_ns = config->stall_ns;
	spec = (struct region_spec){
		.name = config->shm_name,
		.owner = config->owner,
		.size = ring->geo.size,
		.head_len = ring->geo.layout->header_size,
		.mode = config->mode,
		.init = ring_header_init,
		.check = ring_header_check,
		.ctx = &segment,
	};
	ret = config->shm_name ? region_open_shm(&spec, &ring->region)
			       : region_open_local(&spec, &ring->region);
	if (ret < 0) {
		free(ring);
		return ret;
	}
	base = ring->region.base;
	ring->slots = base + ring->geo.layout->header_size;
	ring->write_pos = field64(base, ring->geo.layout->hdr_write_pos);
	ring->futex_word = field32(base, ring->geo.layout->hdr_futex);
	ring->waiters = field32(base, ring->geo.layout->hdr_waiters);
	ring->bells_armed = field32(base, ring->geo.layout->hdr_bells);
	pthread_mutex_init(&ring->watch_lock, NULL);
	ring_poller_init(&ring->poller);
	*out = ring;
	return 0;
}

void ring_close(orbit_ring_t *ring)
{
	if (!ring)
		return;
	ring_poller_close(ring, &ring->poller);
	region_close(&ring->region);
	pthread_mutex_destroy(&ring->watch_lock);
	free(ring);
}

int ring_unlink(const char *shm_name, uid_t owner)
{
	return region_unlink(shm_name, owner);
}

/* ---- writing ---- */

enum take_result {
	TAKE_OK,
	TAKE_OVERWRITTEN, /* a later lap has the slot: this frame is lost to wraparound */
	TAKE_GIVEN_UP,	  /* a reader gave this counter up: this writer was unrecorded and late */
	TAKE_BUSY,	  /* an older lap's live writer keeps the slot past the bound */
};

/*
 * An older lap's writer still holds the slot. Gone: take the slot over at once.
 * Alive: never take it, however long it is stopped; wait up to the bound, then give
 * this frame up. Unrecorded (orbit-rs 0.1): wait up to the bound, then take over.
 * A seq that keeps moving has someone alive behind it, so it counts as alive, and the
 * bound is checked on every look: a peer rewriting seq cannot keep the writer here.
 */
static int older_claim(const orbit_ring_t *ring, struct slot_wait *wait, _Atomic uint64_t *seq,
		       uint64_t s)
{
	enum lease_owner owner = LEASE_OWNER_ALIVE;

	if (!seq_settles(seq, s)) {
		owner = claim_owner(ring, seq_counter(s));
		if (owner == LEASE_OWNER_DEAD || owner == LEASE_OWNER_DROPPED)
			return 0;
	}
	if (!slot_wait_expired(wait, s, ring->stall_ns)) {
		backoff_pause(&wait->backoff);
		return -EAGAIN;
	}
	return owner == LEASE_OWNER_NONE ? 0 : -EBUSY;
}

/*
 * Takes slot ownership for counter c by CAS of seq from an older lap's value to 2c+1,
 * so two writers a lap apart can never fill one slot at once.
 */
static enum take_result slot_take(const orbit_ring_t *ring, uint8_t *slot, uint64_t c)
{
	_Atomic uint64_t *seq = field64(slot, ring->geo.layout->slot_seq);
	const uint64_t mine = 2 * c + 1;
	uint64_t s = atomic_load_explicit(seq, memory_order_relaxed);
	struct slot_wait wait = { 0 };

	/* A head someone set past the end of the seq space: no slot can be taken. */
	if (c > RING_COUNTER_MAX)
		return TAKE_OVERWRITTEN;
	for (;;) {
		if (s == (SEQ_GIVEN_UP | mine))
			return TAKE_GIVEN_UP;
		if (seq_past(s, c) || s == mine + 1)
			return TAKE_OVERWRITTEN;
		if (seq_claimed(s)) {
			int ret = older_claim(ring, &wait, seq, s);

			if (ret == -EBUSY)
				return TAKE_BUSY;
			if (ret == -EAGAIN) {
				s = atomic_load_explicit(seq, memory_order_relaxed);
				continue;
			}
			orbit_log_debug("ring %u: taking over the slot of counter %llu, whose "
					"writer is gone",
					ring->geo.kind, (unsigned long long)seq_counter(s));
		}
		/* Acquire: pairs with the older lap's release commit, ordering its content stores before ours. */
		if (atomic_compare_exchange_weak_explicit(seq, &s, mine, memory_order_acquire,
							  memory_order_relaxed))
			break;
		/* Lost a race for the slot: bounded too, whoever keeps changing it. */
		if (slot_wait_expired(&wait, s, ring->stall_ns))
			return TAKE_BUSY;
	}
	/* Release fence: the odd seq is ordered before the content stores; pairs with the reader's acquire fence. */
	atomic_thread_fence(memory_order_release);
	return TAKE_OK;
}

static void slot_fill(const orbit_ring_t *ring, uint8_t *slot, orbit_id_t id, uint8_t frame_kind,
		      uint64_t ver, const void *payload, size_t len)
{
	const struct ring_layout *layout = ring->geo.layout;

	atomic_store_explicit(field64(slot, layout->slot_id), id, memory_order_relaxed);
	atomic_store_explicit(field8(slot, layout->slot_kind), frame_kind, memory_order_relaxed);
	atomic_store_explicit(field64(slot, layout->slot_ver), ver, memory_order_relaxed);
	atomic_store_explicit(field32(slot, layout->slot_len), (uint32_t)len, memory_order_relaxed);
	copy_in(slot + layout->slot_payload, payload, len);
}

/*
 * A writer whose record names its claim is never given up while it lives (orbit(7),
 * Liveness): nobody else writes its seq, and a release store is the whole commit. An
 * unrecorded writer may have been given up, so it commits by CAS: a given-up counter
 * stays given up, and seq never goes back. Release: pairs with the reader's acquire
 * load of seq.
 */
static bool slot_commit(const orbit_ring_t *ring, uint8_t *slot, uint64_t c, bool recorded)
{
	_Atomic uint64_t *seq = field64(slot, ring->geo.layout->slot_seq);
	uint64_t mine = 2 * c + 1;

	if (recorded) {
		atomic_store_explicit(seq, mine + 1, memory_order_release);
		return true;
	}
	return atomic_compare_exchange_strong_explicit(seq, &mine, mine + 1, memory_order_release,
						       memory_order_relaxed);
}

static void wake_waiters(const orbit_ring_t *ring, uint64_t c)
{
	/*
	 * seq_cst: with the seq_cst fetch_add on write_pos this is one side of a Dekker pair;
	 * a sleeper increments the count, fences, then reads write_pos. Either the sleeper
	 * sees the new head or this load sees the sleeper. No waiter, no syscall. (A sleeper
	 * for a frame's commit is not paired so: see cursor_settled().) Armed pollers pair
	 * the same way through their count.
	 */
	if (atomic_load_explicit(ring->waiters, memory_order_seq_cst) != 0) {
		ring_wake_sleepers(ring);
	}
	if (atomic_load_explicit(ring->bells_armed, memory_order_seq_cst) != 0 && ring->bells)
		bells_ring(ring->bells, ring->bells_armed, ring->geo.kind, c);
}

/*
 * A batch's writer asks for the lines of the slots a few frames ahead while it writes
 * this one: each slot it takes was last read on the reader's CPU, and the CAS that
 * takes it would otherwise wait for that line alone, frame after frame.
 */
#define WRITE_AHEAD 4

/* gcc 12 drops __builtin_prefetch(p, 1) here unless built for PREFETCHW; older x86-64
 * CPUs decode the instruction as a no-op. */
static void prefetch_write(const void *p)
{
#if defined(__x86_64__)
	__asm__ volatile("prefetchw %0" : : "m"(*(const char *)p));
#else
	__builtin_prefetch(p, 1, 3);
#endif
}

/* The lines of counter c's slot that a frame of len bytes fills. */
static void slot_prefetch(const orbit_ring_t *ring, uint64_t c, size_t len)
{
	uint8_t *slot = slot_of(ring, c);
	size_t end = ring->geo.layout->slot_payload + len;

	for (size_t off = 0; off < end; off += 64)
		prefetch_write(slot + off);
}

static int frame_write(orbit_ring_t *ring, uint64_t c, bool recorded, const orbit_msg_t *msg)
{
	uint8_t *slot = slot_of(ring, c);

	switch (slot_take(ring, slot, c)) {
	case TAKE_OK:
		slot_fill(ring, slot, id_make(ring->geo.kind, ring->node, c), msg->kind, msg->ver,
			  msg->payload, msg->len);
		return slot_commit(ring, slot, c, recorded) ? 0 : -ESTALE;
	case TAKE_OVERWRITTEN:
		return 0;
	case TAKE_GIVEN_UP:
		return -ESTALE;
	case TAKE_BUSY:
		break;
	}
	return -EBUSY;
}

/*
 * Claims n counters with one fetch_add, from *first on, and writes msgs into them in
 * order. Returns how many were written; *err says why the next one was not (0 if all
 * were). A frame that cannot be written gives up the rest of the claim with it.
 */
static size_t frames_write(orbit_ring_t *ring, const orbit_msg_t *msgs, size_t n, uint64_t *first,
			   int *err)
{
	struct lease_record *rec = ring->leases ? lease_writer(ring->leases) : NULL;
	uint64_t c;
	size_t i;
	int ret = 0;

	/* The record says "about to take a counter" before the counter exists, so no
	 * counter is ever claimed by nobody (orbit(7), Liveness). */
	if (rec)
		lease_pending(rec, ring->geo.kind);
	/* seq_cst: the other half of the Dekker pair in wake_waiters(). */
	c = atomic_fetch_add_explicit(ring->write_pos, n, memory_order_seq_cst);
	if (rec)
		lease_claim(rec, ring->geo.kind, c, c + n);
	for (i = 0; n > 1 && i < n && i < WRITE_AHEAD; i++)
		slot_prefetch(ring, c + i, msgs[i].len);
	for (i = 0; i < n; i++) {
		if (i + WRITE_AHEAD < n)
			slot_prefetch(ring, c + i + WRITE_AHEAD, msgs[i + WRITE_AHEAD].len);
		if (rec && i)
			lease_advance(rec, ring->geo.kind, c + i);
		ret = frame_write(ring, c + i, rec != NULL, &msgs[i]);
		if (ret < 0)
			break;
	}
	if (rec && ret < 0)
		lease_drop(rec, ring->geo.kind, c + i);
	else if (rec)
		lease_idle(rec);
	wake_waiters(ring, c + n - 1);
	*first = c;
	*err = ret;
	return i;
}

/* A message a write call may take; anything else is refused before a counter is claimed. */
static int msg_check(const char *call, const orbit_ring_t *ring, const orbit_msg_t *msg)
{
	if (!msg->payload && msg->len)
		return ORBIT_INVALID("%s: payload is NULL, len %zu", call, msg->len);
	return msg->len > ring->geo.payload_max ? -EMSGSIZE : 0;
}

ORBIT_EXPORT int orbit_ring_write(orbit_ring_t *ring, uint8_t frame_kind, uint64_t ver,
				  const void *payload, size_t len, orbit_id_t *id)
{
	const orbit_msg_t msg = { .payload = payload, .len = len, .ver = ver, .kind = frame_kind };
	uint64_t c;
	int ret;

	if (!ring)
		return ORBIT_INVALID("%s: ring is NULL", __func__);
	ret = msg_check(__func__, ring, &msg);
	if (ret < 0)
		return ret;
	if (frames_write(ring, &msg, 1, &c, &ret) && id)
		*id = id_make(ring->geo.kind, ring->node, c);
	return ret;
}

ORBIT_EXPORT int orbit_ring_write_batch(orbit_ring_t *ring, const orbit_msg_t *msgs, size_t count,
					orbit_id_t *first)
{
	size_t n, written;
	uint64_t c;
	int ret;

	if (!ring)
		return ORBIT_INVALID("%s: ring is NULL", __func__);
	if (!msgs && count)
		return ORBIT_INVALID("%s: msgs is NULL, count %zu", __func__, count);
	/* A batch longer than a lap would overwrite itself. */
	n = count < ring->geo.capacity ? count : ring->geo.capacity;
	for (size_t i = 0; i < n; i++) {
		ret = msg_check(__func__, ring, &msgs[i]);
		if (ret < 0)
			return ret;
	}
	if (!n)
		return 0;
	written = frames_write(ring, msgs, n, &c, &ret);
	if (written && first)
		*first = id_make(ring->geo.kind, ring->node, c);
	return written ? (int)written : ret;
}

/* ---- reading ---- */

/*
 * slot_read() result when the slot still holds an older lap: c was never written,
 * or is claimed and its writer has not taken the slot yet. Only the head can tell,
 * and the caller decides when to read it.
 */
#define SLOT_UNREACHED (-EINPROGRESS)

/* Why counter c cannot be read, from the seq its slot holds. */
static int unread_reason(uint64_t c, uint64_t seq)
{
	if (seq_past(seq, c))
		return -ENOENT; /* a later lap took the slot, or c was given up */
	if (seq == 2 * c + 1)
		return -EAGAIN; /* being written */
	return SLOT_UNREACHED;
}

/* A consistent snapshot may still be impossible: the segment is writable by anyone. */
static int frame_verify(const orbit_ring_t *ring, uint64_t c, const orbit_frame_t *snap,
			orbit_frame_t *frame, size_t size)
{
	if (snap->len > ring->geo.payload_max || id_kind(snap->id) != ring->geo.kind ||
	    id_counter(snap->id) != (c & ID_COUNTER_MASK))
		return -EPROTO;
	*frame = *snap;
	return snap->len > size ? -EMSGSIZE : 0;
}

static int slot_read(const orbit_ring_t *ring, uint64_t c, orbit_frame_t *frame, void *buf,
		     size_t size)
{
	const struct ring_layout *layout = ring->geo.layout;
	uint8_t *slot = slot_of(ring, c);
	_Atomic uint64_t *seq = field64(slot, layout->slot_seq);
	const uint64_t committed = 2 * c + 2;
	orbit_frame_t snap;

	if (c > RING_COUNTER_MAX)
		return -ENOENT;
	for (int tries = 0; tries < RING_READ_TRIES; tries++) {
		/* Acquire: pairs with the writer's release commit, making its content visible. */
		uint64_t before = atomic_load_explicit(seq, memory_order_acquire);

		if (before != committed)
			return unread_reason(c, before);
		snap.id =
			atomic_load_explicit(field64(slot, layout->slot_id), memory_order_relaxed);
		snap.kind =
			atomic_load_explicit(field8(slot, layout->slot_kind), memory_order_relaxed);
		snap.ver =
			atomic_load_explicit(field64(slot, layout->slot_ver), memory_order_relaxed);
		snap.len =
			atomic_load_explicit(field32(slot, layout->slot_len), memory_order_relaxed);
		if (snap.len <= ring->geo.payload_max)
			copy_out(buf, slot + layout->slot_payload,
				 snap.len < size ? snap.len : size);
		/* Acquire fence: pairs with the writer's release fence in slot_take(), so content
		 * from any later writer shows up as a changed seq below. */
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load_explicit(seq, memory_order_relaxed) == before)
			return frame_verify(ring, c, &snap, frame, size);
	}
	return -EAGAIN;
}

/* A single read: a counter the slot has not reached is claimed (-EAGAIN) if the head passed it. */
static int read_counter(const orbit_ring_t *ring, uint64_t c, orbit_frame_t *frame, void *buf,
			size_t size)
{
	int ret = slot_read(ring, c, frame, buf, size);

	if (ret == SLOT_UNREACHED)
		ret = c < load_head(ring) ? -EAGAIN : -ENOENT;
	return ret;
}

/* The checks every read call shares; call names the caller in the log line. */
static int check_read_args(const char *call, const orbit_ring_t *ring, const orbit_frame_t *frame,
			   const void *buf, size_t size)
{
	if (!ring || !frame)
		return ORBIT_INVALID("%s: %s is NULL", call, ring ? "frame" : "ring");
	if (!buf && size)
		return ORBIT_INVALID("%s: buf is NULL, size %zu", call, size);
	return 0;
}

/* The newest counter at or below the head whose low 40 bits are the id's counter. */
static uint64_t counter_of_id(uint64_t head, orbit_id_t id)
{
	uint64_t c = (head & ~ID_COUNTER_MASK) | id_counter(id);

	if (c >= head && c > ID_COUNTER_MASK)
		c -= ID_COUNTER_MASK + 1;
	return c;
}

ORBIT_EXPORT int orbit_ring_read(orbit_ring_t *ring, orbit_id_t id, orbit_frame_t *frame, void *buf,
				 size_t size)
{
	int ret = check_read_args(__func__, ring, frame, buf, size);

	if (ret < 0)
		return ret;
	if (id_kind(id) != ring->geo.kind)
		return -ENOENT;
	return read_counter(ring, counter_of_id(load_head(ring), id), frame, buf, size);
}

ORBIT_EXPORT int orbit_ring_read_at(orbit_ring_t *ring, uint64_t counter, orbit_frame_t *frame,
				    void *buf, size_t size)
{
	int ret = check_read_args(__func__, ring, frame, buf, size);

	return ret < 0 ? ret : read_counter(ring, counter, frame, buf, size);
}

ORBIT_EXPORT int orbit_ring_read_head(orbit_ring_t *ring, orbit_frame_t *frame, void *buf,
				      size_t size)
{
	int ret = check_read_args(__func__, ring, frame, buf, size);
	uint64_t head;

	if (ret < 0)
		return ret;
	head = load_head(ring);
	return head ? read_counter(ring, head - 1, frame, buf, size) : -ENOENT;
}

/*
 * When (monotonic ns) a claim no record names will have held this handle's readers up
 * for the stall bound, counted from the first time the handle saw it stuck.
 * Remembered in the handle across calls, so no poll ever sleeps.
 */
static uint64_t stall_deadline(orbit_ring_t *ring, uint64_t c, uint64_t now)
{
	struct stall_watch *oldest = &ring->watch[0];
	uint64_t since = now;

	pthread_mutex_lock(&ring->watch_lock);
	for (size_t i = 0; i < ORBIT_ARRAY_SIZE(ring->watch); i++) {
		struct stall_watch *w = &ring->watch[i];

		if (w->since_ns && w->counter == c) {
			since = w->since_ns;
			oldest = NULL;
			break;
		}
		if (w->since_ns < oldest->since_ns)
			oldest = w;
	}
	if (oldest)
		*oldest = (struct stall_watch){ .counter = c, .since_ns = now };
	pthread_mutex_unlock(&ring->watch_lock);
	return since + ring->stall_ns;
}

/*
 * Gives counter c up in its slot, so that its writer's late commit fails and every
 * reader counts it lost. Not over an older lap's live claim: the slot is that writer's,
 * and c, never taken, cannot appear there anyway.
 */
static enum claim_verdict claim_give_up(const orbit_ring_t *ring, _Atomic uint64_t *seq, uint64_t s,
					uint64_t c)
{
	if (seq_claimed(s) && seq_counter(s) < c &&
	    claim_owner(ring, seq_counter(s)) == LEASE_OWNER_ALIVE)
		return CLAIM_LOST;
	if (!atomic_compare_exchange_strong_explicit(seq, &s, SEQ_GIVEN_UP | (2 * c + 1),
						     memory_order_relaxed, memory_order_relaxed))
		return CLAIM_SETTLED;
	orbit_log_debug("ring %u: gave up counter %llu, whose writer is gone", ring->geo.kind,
			(unsigned long long)c);
	return CLAIM_LOST;
}

/*
 * Counter c is claimed but not committed. Its writer's record decides: alive, wait for
 * it however long it takes; gone, give c up now. Only a claim no record names (an
 * orbit-rs 0.1 writer) is given up by the clock, after the stall bound; when the verdict
 * is to wait for such a claim, *until_ns (if not NULL) says when the bound runs out.
 */
enum claim_verdict claim_judge(orbit_ring_t *ring, uint64_t c, uint64_t *until_ns)
{
	_Atomic uint64_t *seq = field64(slot_of(ring, c), ring->geo.layout->slot_seq);
	uint64_t s = atomic_load_explicit(seq, memory_order_relaxed);
	uint64_t now, until;

	if (s == 2 * c + 2 || seq_past(s, c) || seq_settles(seq, s))
		return CLAIM_SETTLED;
	switch (claim_owner(ring, c)) {
	case LEASE_OWNER_ALIVE:
		return CLAIM_WAIT;
	case LEASE_OWNER_DROPPED:
		return CLAIM_LOST;
	case LEASE_OWNER_NONE:
		now = clock_mono_ns();
		until = stall_deadline(ring, c, now);
		if (now < until) {
			if (until_ns)
				*until_ns = until;
			return CLAIM_WAIT;
		}
		break;
	case LEASE_OWNER_DEAD:
		break;
	}
	return claim_give_up(ring, seq, s, c);
}

/*
 * A poll found the slot of counter c, its cursor, not reached (no writer has taken it)
 * or being written. Almost always a writer is about to commit there, or nobody claimed
 * c yet; judging the claim would read the head, which is the writers' own line, and
 * watch the slot's seq, which the writer is filling: a reader spinning at the head
 * would take both lines from the writers on every frame. So the claim is judged on
 * every RING_JUDGE_POLLS-th poll in a row at c only: a writer that died there, before
 * or after it took its slot, is then given up and counted lost. (A poll that has just
 * passed lost frames judges at once: see cursor_next().)
 */
static bool judge_due(orbit_ring_t *ring, uint64_t c)
{
	/* Relaxed, and racy between threads that share the handle: a count only decides
	 * how soon a claim is judged, never what a poll returns. */
	uint32_t polls = atomic_load_explicit(&ring->waiting_polls, memory_order_relaxed);

	if (atomic_load_explicit(&ring->waiting_counter, memory_order_relaxed) != c) {
		atomic_store_explicit(&ring->waiting_counter, c, memory_order_relaxed);
		polls = 0;
	}
	polls = polls + 1 < RING_JUDGE_POLLS ? polls + 1 : 0;
	atomic_store_explicit(&ring->waiting_polls, polls, memory_order_relaxed);
	return polls == 0;
}

/*
 * The frame at counter *c, or the first one after it that can be delivered: 0 and *c
 * moved past it, or -EAGAIN / -EMSGSIZE with *c on the frame to wait for. Frames lost
 * on the way are added to *skipped.
 */
static int cursor_next(orbit_ring_t *ring, uint64_t *cursor, orbit_frame_t *frame, void *buf,
		       size_t size, uint64_t *skipped)
{
	uint64_t c = *cursor, head;
	int settled = 0, ret;
	bool lapped;

	for (;;) {
		/* The slot first: a delivered frame never touches the writers' header line. */
		ret = slot_read(ring, c, frame, buf, size);
		if (ret == 0 || ret == -EMSGSIZE)
			break;
		/* Past lost frames, the next claim is likely dead too: judge it now. */
		if ((ret == SLOT_UNREACHED || ret == -EAGAIN) && c == *cursor &&
		    !judge_due(ring, c)) {
			ret = -EAGAIN;
			break;
		}
		head = load_head(ring);
		if (c >= head) {
			ret = -EAGAIN;
			break;
		}
		lapped = head - c > ring->geo.capacity;
		/* A writer's claim of this very counter survives the laps that gave up on it:
		 * judged before any jump. Anything else a lap behind is lost. */
		if (lapped && ret != -EAGAIN) {
			*skipped += head - ring->geo.capacity - c;
			c = head - ring->geo.capacity;
			continue;
		}
		if (ret == -EAGAIN || ret == SLOT_UNREACHED) {
			enum claim_verdict verdict = claim_judge(ring, c, NULL);

			if (verdict == CLAIM_WAIT) {
				ret = -EAGAIN;
				break;
			}
			/* Bounded, so a slot someone keeps rewriting cannot hold the cursor. */
			if (verdict == CLAIM_SETTLED && settled++ < RING_READ_TRIES)
				continue;
		}
		if (lapped) {
			*skipped += head - ring->geo.capacity - c;
			c = head - ring->geo.capacity;
			continue;
		}
		/* Overwritten, impossible, or given up: lost, and the cursor moves on. */
		(*skipped)++;
		c++;
	}
	*cursor = ret == 0 ? c + 1 : c;
	return ret;
}

ORBIT_EXPORT int orbit_ring_next(orbit_ring_t *ring, uint64_t *cursor, orbit_frame_t *frame,
				 void *buf, size_t size, uint64_t *lost)
{
	uint64_t skipped = 0;
	int ret = check_read_args(__func__, ring, frame, buf, size);

	if (ret < 0)
		return ret;
	if (!cursor)
		return ORBIT_INVALID("%s: cursor is NULL", __func__);
	ret = cursor_next(ring, cursor, frame, buf, size, &skipped);
	if (lost)
		*lost += skipped;
	return ret;
}

ORBIT_EXPORT int orbit_ring_next_batch(orbit_ring_t *ring, uint64_t *cursor, orbit_frame_t *frames,
				       void *bufs, size_t stride, size_t count, uint64_t *lost)
{
	uint64_t skipped = 0;
	size_t i, n = count < INT_MAX ? count : INT_MAX;
	int ret = 0;

	if (!ring || !cursor)
		return ORBIT_INVALID("%s: %s is NULL", __func__, ring ? "cursor" : "ring");
	if (!frames && count)
		return ORBIT_INVALID("%s: frames is NULL, count %zu", __func__, count);
	if (!bufs && stride)
		return ORBIT_INVALID("%s: bufs is NULL, stride %zu", __func__, stride);
	for (i = 0; i < n; i++) {
		void *buf = bufs ? (uint8_t *)bufs + i * stride : NULL;

		ret = cursor_next(ring, cursor, &frames[i], buf, stride, &skipped);
		if (ret < 0)
			break;
	}
	if (lost)
		*lost += skipped;
	return i ? (int)i : ret;
}

/* ---- reset and getters ---- */

ORBIT_EXPORT int orbit_ring_reset(orbit_ring_t *ring)
{
	if (!ring)
		return ORBIT_INVALID("%s: ring is NULL", __func__);
	for (uint32_t i = 0; i < ring->geo.capacity; i++) {
		_Atomic uint64_t *word = field64(slot_of(ring, i), 0);

		for (size_t w = 0; w < ring->geo.stride / 8; w++)
			atomic_store_explicit(&word[w], 0, memory_order_relaxed);
	}
	/* Release: cleared slots are visible before the head reads 0 (pairs with readers' seq loads). */
	atomic_store_explicit(ring->write_pos, 0, memory_order_release);
	return 0;
}

ORBIT_EXPORT uint64_t orbit_ring_head(const orbit_ring_t *ring)
{
	return ring ? load_head(ring) : 0;
}

ORBIT_EXPORT uint8_t orbit_ring_kind(const orbit_ring_t *ring)
{
	return ring ? ring->geo.kind : 0;
}

ORBIT_EXPORT uint32_t orbit_ring_capacity(const orbit_ring_t *ring)
{
	return ring ? ring->geo.capacity : 0;
}

ORBIT_EXPORT uint32_t orbit_ring_payload_max(const orbit_ring_t *ring)
{
	return ring ? ring->geo.payload_max : 0;
}
