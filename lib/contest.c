/* SPDX-License-Identifier: MIT */
/*
 * The claim/yield contest: claim and release frames (orbit-rs 0.1 contest frames) on the
 * ring ORBIT_KIND_CONTEST, and a process-wide view of each such ring that decides who holds.
 *
 * A claim's standing is a function of the frames before it, judged once when the view
 * reads it, so every process that has read those frames judges it alike:
 *   - claims of one node with one claimed_at_ms form a chain; a later frame continues the
 *     chain (a renewal) only if it was dated before the chain expired, came less than a
 *     lap after its previous frame, and no rival claimed after the chain had expired;
 *   - a new chain holds if no holding chain is active (unreleased, unexpired at the new
 *     claim's ver, its newest frame less than a lap back); otherwise it yields;
 *   - a view that missed a frame such a judgement depends on (overwritten before it was
 *     read) marks the chain "unknown": it blocks later claims like a holder, never holds.
 * Yielding chains block nobody: a claimant waits on the holder only, never on claimants
 * that are withdrawing. A claimant that already sees a holder writes nothing at all, so
 * contention does not lap the ring past the holder's claim.
 */
#include <orbit.h>

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "macro.h"
#include "wire.h"

#define CONTEST_CLAIM	1
#define CONTEST_RELEASE 2
#define CLAIM_HEADER	21 /* subject_kind u8, subject_len u16, owner_len u16, 2 x u64 */
#define RELEASE_HEADER	11 /* claim_id u64, subject_kind u8, subject_len u16 */
#define LABEL_MAX	255
#define OWNER_MAX	255

/* Rings one process keeps a view of; past that the least recently used view is dropped. */
#define VIEW_SLOTS 32

/* The ring's stall bound (orbit(7)): how long a reader waits for an uncommitted counter. */
#define CONTEST_STALL_NS (200ull * 1000000ull)
/*
 * A frame of ours whose write took this long may have been given up on by some readers
 * and seen by others: withdraw it rather than hold on it. Half the bound leaves room for
 * a reader preempted between its last look and its deadline.
 */
#define CONTEST_LATE_NS (CONTEST_STALL_NS / 2)

struct subject_key {
	uint8_t kind;
	uint8_t len;
	uint8_t label[LABEL_MAX];
};

enum chain_standing {
	CHAIN_HOLDS,
	CHAIN_YIELDS,
	CHAIN_UNKNOWN, /* judged on incomplete frames: blocks others, never holds */
};

/* One node's run of claim frames on a subject, from the frame that started it. */
struct chain {
	uint64_t claimed_at_ms; /* with node, the chain's key */
	uint64_t first;		/* counter of its first frame: its place in line */
	uint64_t newest;	/* counter of its newest frame */
	uint64_t expires_at_ms; /* of the newest frame */
	uint64_t rival_ver_ms;	/* largest ver of another chain's claim since `newest` */
	uint16_t node;
	uint16_t blocker; /* node it yields to, when `blocked` */
	bool blocked;
	uint8_t standing;
};

struct subject {
	struct subject *next; /* bucket list */
	uint64_t hash;
	struct chain *chains;
	uint32_t count;
	uint32_t room;
	struct subject_key key;
};

/* The frame read last, re-read before the view is trusted again: is this still that ring? */
struct fingerprint {
	bool valid;
	uint64_t counter;
	orbit_frame_t frame;
	uint8_t bytes[CLAIM_HEADER + LABEL_MAX];
};

/* What one process knows of one contest ring: subjects with their chains. */
struct contest_view {
	const orbit_ring_t *ring; /* lookup key only */
	uint32_t capacity;
	uint64_t cursor;     /* next counter to read */
	uint64_t gap_end;    /* every counter in [gap_end, cursor) was read */
	uint64_t next_sweep; /* when to drop chains a lap old */
	uint64_t last_used;
	uint64_t seed; /* keys the subject hash, so nobody can aim subjects at one bucket */
	struct subject **buckets;
	size_t bucket_mask;
	size_t subjects;
	bool short_of_memory; /* a frame read since the call began could not be recorded */
	struct fingerprint last;
	/* Room for a claim or release with any subject we can be asked about; longer owners
	 * arrive truncated (-EMSGSIZE) and are not needed. */
	uint8_t buf[CLAIM_HEADER + LABEL_MAX];
};

struct orbit_guard {
	orbit_ring_t *ring;
	struct subject_key key;
	uint16_t node;
	uint8_t owner_len;
	bool lost; /* a renewal found the subject gone: only release remains */
	uint64_t claimed_at_ms;
	uint64_t token;	 /* counter of the first claim frame */
	uint64_t newest; /* counter of the newest claim frame */
	uint64_t expires_at_ms;
	char owner[OWNER_MAX];
};

struct claim_record {
	struct subject_key key;
	uint64_t claimed_at_ms;
	uint64_t expires_at_ms;
};

struct release_record {
	struct subject_key key;
	orbit_id_t claim_id;
};

/*
 * One lock for every view: a claim holds it from its first read to its verdict, so the
 * claims of one process are judged one at a time (at most the ring's 200 ms stall bound
 * each, behind a writer that died mid-frame).
 */
static pthread_mutex_t views_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t views_once = PTHREAD_ONCE_INIT;
static struct contest_view *views[VIEW_SLOTS];
static uint64_t views_clock;

/* ---- codec ---- */

static int key_init(struct subject_key *key, uint8_t kind, const char *label)
{
	size_t len = label ? strnlen(label, LABEL_MAX + 1) : 0;

	if (len == 0 || len > LABEL_MAX)
		return -EINVAL;
	key->kind = kind;
	key->len = (uint8_t)len;
	memcpy(key->label, label, len);
	return 0;
}

static bool key_equal(const struct subject_key *a, const struct subject_key *b)
{
	return a->kind == b->kind && a->len == b->len && !memcmp(a->label, b->label, a->len);
}

/* Takes the subject as a key we can be asked about: 1..LABEL_MAX bytes, else false. */
static bool key_take(struct wire_reader *r, uint8_t kind, uint16_t len, struct subject_key *key)
{
	const uint8_t *label = len <= LABEL_MAX ? wire_take(r, len) : NULL;

	if (!label || !len)
		return false;
	key->kind = kind;
	key->len = (uint8_t)len;
	memcpy(key->label, label, len);
	return true;
}

/* `avail` bytes of the payload are in raw; the frame may be longer (a long owner). */
static bool claim_decode(const orbit_frame_t *frame, const uint8_t *raw, size_t avail,
			 struct claim_record *rec)
{
	struct wire_reader r = wire_reader_init(raw, avail);
	uint8_t kind = wire_u8(&r);
	uint16_t subject_len = wire_u16(&r);
	uint16_t owner_len = wire_u16(&r);

	rec->claimed_at_ms = wire_u64(&r);
	rec->expires_at_ms = wire_u64(&r);
	return key_take(&r, kind, subject_len, &rec->key) &&
	       frame->len == (uint32_t)CLAIM_HEADER + subject_len + owner_len;
}

static bool release_decode(const orbit_frame_t *frame, const uint8_t *raw, size_t avail,
			   struct release_record *rec)
{
	struct wire_reader r = wire_reader_init(raw, avail);
	uint8_t kind;
	uint16_t subject_len;

	rec->claim_id = wire_u64(&r);
	kind = wire_u8(&r);
	subject_len = wire_u16(&r);
	return key_take(&r, kind, subject_len, &rec->key) && wire_done(&r) && frame->len == avail;
}

/* The largest counter below `limit` whose low 40 bits are `low`, as ids carry counters. */
static bool counter_below(uint64_t limit, uint64_t low, uint64_t *counter)
{
	uint64_t mask = orbit_id_counter(~(orbit_id_t)0);

	if (!limit || low > mask || (limit - 1 < low && limit - 1 <= mask))
		return false;
	*counter = limit - 1 - ((limit - 1 - low) & mask);
	return true;
}

static size_t claim_size(const orbit_guard_t *g)
{
	return CLAIM_HEADER + g->key.len + g->owner_len;
}

/*
 * Publishes a claim frame of the guard's chain, dated now; the guard then names it.
 * Returns 1 when the write took so long that the frame must be withdrawn.
 */
static int guard_publish(orbit_guard_t *g, uint64_t now_ms, uint64_t ttl_ms)
{
	uint8_t buf[CLAIM_HEADER + LABEL_MAX + OWNER_MAX], *p;
	uint64_t expires = ttl_ms > UINT64_MAX - now_ms ? UINT64_MAX : now_ms + ttl_ms;
	uint64_t start_ns;
	orbit_id_t id;
	int r;

	p = wire_put_u8(buf, g->key.kind);
	p = wire_put_u16(p, g->key.len);
	p = wire_put_u16(p, g->owner_len);
	p = wire_put_u64(p, g->claimed_at_ms);
	p = wire_put_u64(p, expires);
	p = wire_put_bytes(p, g->key.label, g->key.len);
	wire_put_bytes(p, g->owner, g->owner_len);
	start_ns = clock_mono_ns();
	r = orbit_ring_write(g->ring, CONTEST_CLAIM, now_ms, buf, claim_size(g), &id);
	if (r < 0)
		return r;
	/* Ids carry 40 counter bits; the frame is below the head, which gives the rest. */
	counter_below(orbit_ring_head(g->ring), orbit_id_counter(id), &g->newest);
	g->expires_at_ms = expires;
	return clock_mono_ns() - start_ns >= CONTEST_LATE_NS;
}

/* Names the guard's newest claim frame: it and its chain's earlier frames stop counting. */
static int guard_publish_release(const orbit_guard_t *g)
{
	uint8_t buf[RELEASE_HEADER + LABEL_MAX], *p;

	p = wire_put_u64(buf, orbit_id_make(ORBIT_KIND_CONTEST, g->node, g->newest));
	p = wire_put_u8(p, g->key.kind);
	p = wire_put_u16(p, g->key.len);
	wire_put_bytes(p, g->key.label, g->key.len);
	return orbit_ring_write(g->ring, CONTEST_RELEASE, clock_unix_ms(), buf,
				RELEASE_HEADER + g->key.len, NULL);
}

/* ---- subjects and chains ---- */

static uint64_t key_hash(uint64_t seed, const struct subject_key *key)
{
	uint64_t h = seed ^ 0xcbf29ce484222325u;

	h = (h ^ key->kind) * 0x100000001b3u;
	for (size_t i = 0; i < key->len; i++)
		h = (h ^ key->label[i]) * 0x100000001b3u;
	return h ^ (h >> 32);
}

static struct subject **subject_link(struct contest_view *v, const struct subject_key *key,
				     uint64_t hash)
{
	struct subject **link = &v->buckets[hash & v->bucket_mask];

	while (*link && ((*link)->hash != hash || !key_equal(&(*link)->key, key)))
		link = &(*link)->next;
	return link;
}

static struct subject *subject_find(struct contest_view *v, const struct subject_key *key)
{
	return *subject_link(v, key, key_hash(v->seed, key));
}

/* Doubles the buckets when subjects outnumber them; on no memory the lists grow longer. */
static void buckets_grow(struct contest_view *v)
{
	size_t count = (v->bucket_mask + 1) * 2;
	struct subject **buckets = calloc(count, sizeof(*buckets));

	if (!buckets)
		return;
	for (size_t i = 0; i <= v->bucket_mask; i++) {
		while (v->buckets[i]) {
			struct subject *s = v->buckets[i];

			v->buckets[i] = s->next;
			s->next = buckets[s->hash & (count - 1)];
			buckets[s->hash & (count - 1)] = s;
		}
	}
	free(v->buckets);
	v->buckets = buckets;
	v->bucket_mask = count - 1;
}

static struct subject *subject_get(struct contest_view *v, const struct subject_key *key)
{
	uint64_t hash = key_hash(v->seed, key);
	struct subject **link = subject_link(v, key, hash);
	struct subject *s = *link;

	if (s)
		return s;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->hash = hash;
	s->key = *key;
	*link = s;
	if (++v->subjects > v->bucket_mask)
		buckets_grow(v);
	return s;
}

static void subject_free(struct subject *s)
{
	free(s->chains);
	free(s);
}

static struct chain *chain_find(const struct subject *s, uint16_t node, uint64_t claimed_at_ms)
{
	for (uint32_t i = 0; i < s->count; i++)
		if (s->chains[i].node == node && s->chains[i].claimed_at_ms == claimed_at_ms)
			return &s->chains[i];
	return NULL;
}

static struct chain *chain_add(struct subject *s, uint16_t node, uint64_t claimed_at_ms)
{
	if (s->count == s->room) {
		uint32_t room = s->room ? s->room * 2 : 2;
		struct chain *chains = realloc(s->chains, room * sizeof(*chains));

		if (!chains)
			return NULL;
		s->chains = chains;
		s->room = room;
	}
	s->chains[s->count] = (struct chain){ .node = node, .claimed_at_ms = claimed_at_ms };
	return &s->chains[s->count++];
}

static void chain_remove(struct subject *s, struct chain *ch)
{
	*ch = s->chains[--s->count];
}

/* Active for a claim at `counter` dated `ver_ms`: unexpired then, its newest frame retained. */
static bool chain_active(const struct contest_view *v, const struct chain *ch, uint64_t counter,
			 uint64_t ver_ms)
{
	return ch->newest + v->capacity > counter && ch->expires_at_ms > ver_ms;
}

/*
 * A frame of the chain's key at `counter` renews it if written while the chain was live
 * (before it expired, within a lap of its previous frame) and no rival had claimed the
 * subject believing it expired. Otherwise the frame starts the chain afresh.
 */
static bool chain_continues(const struct contest_view *v, const struct chain *ch, uint64_t counter,
			    uint64_t ver_ms)
{
	return counter - ch->newest < v->capacity && ver_ms < ch->expires_at_ms &&
	       ch->rival_ver_ms < ch->expires_at_ms;
}

/*
 * What stands in the way of a claim at `counter` dated `ver_ms`: the active holding chain,
 * else the earliest active chain of unknown standing, else NULL. Yielding chains never do.
 */
static const struct chain *subject_blocker(const struct contest_view *v, const struct subject *s,
					   const struct chain *skip, uint64_t counter,
					   uint64_t ver_ms)
{
	const struct chain *holder = NULL, *unknown = NULL;

	for (uint32_t i = 0; i < s->count; i++) {
		const struct chain *o = &s->chains[i];

		if (o == skip || o->standing == CHAIN_YIELDS ||
		    !chain_active(v, o, counter, ver_ms))
			continue;
		if (o->standing == CHAIN_HOLDS && (!holder || o->first < holder->first))
			holder = o;
		if (o->standing == CHAIN_UNKNOWN && (!unknown || o->first < unknown->first))
			unknown = o;
	}
	return holder ? holder : unknown;
}

/* Judges a chain that starts at `counter`, from the chains before it. */
static void chain_judge(const struct contest_view *v, const struct subject *s, struct chain *ch,
			uint64_t counter, uint64_t ver_ms)
{
	const struct chain *blocker = subject_blocker(v, s, ch, counter, ver_ms);
	uint64_t window = counter + 1 > v->capacity ? counter + 1 - v->capacity : 0;

	ch->blocked = blocker != NULL;
	ch->blocker = blocker ? blocker->node : 0;
	if (blocker && blocker->standing == CHAIN_HOLDS)
		ch->standing = CHAIN_YIELDS;
	else if (blocker || v->gap_end > window) /* a live claim may be in what we missed */
		ch->standing = CHAIN_UNKNOWN;
	else
		ch->standing = CHAIN_HOLDS;
}

/* ---- the view: reading the ring in order ---- */

static void view_mark_gap(struct contest_view *v, uint64_t end)
{
	if (end > v->gap_end)
		v->gap_end = end;
}

static void view_claim(struct contest_view *v, const struct claim_record *rec, uint16_t node,
		       uint64_t ver_ms, uint64_t counter)
{
	struct subject *s = subject_get(v, &rec->key);
	struct chain *ch;

	if (!s) {
		v->short_of_memory = true;
		view_mark_gap(v, counter + 1);
		return;
	}
	for (uint32_t i = 0; i < s->count; i++) {
		struct chain *o = &s->chains[i];

		if ((o->node != node || o->claimed_at_ms != rec->claimed_at_ms) &&
		    ver_ms > o->rival_ver_ms)
			o->rival_ver_ms = ver_ms;
	}
	ch = chain_find(s, node, rec->claimed_at_ms);
	if (ch && chain_continues(v, ch, counter, ver_ms)) {
		/* A frame we missed since its last one may have been a rival that broke it. */
		if (v->gap_end > ch->newest + 1 && ch->standing == CHAIN_HOLDS)
			ch->standing = CHAIN_UNKNOWN;
	} else {
		if (!ch)
			ch = chain_add(s, node, rec->claimed_at_ms);
		if (!ch) {
			v->short_of_memory = true;
			view_mark_gap(v, counter + 1);
			return;
		}
		ch->first = counter;
		chain_judge(v, s, ch, counter, ver_ms);
	}
	ch->newest = counter;
	ch->expires_at_ms = rec->expires_at_ms;
	ch->rival_ver_ms = 0;
}

/*
 * A release ends the chain its named claim frame belongs to: the chain that began with it
 * or whose newest frame it is, else, if this view missed that frame, the latest chain of
 * that node begun before it. A release naming a frame the view read that no chain owns
 * any more (a second release) ends nothing. Only the node that claimed may release.
 */
static void view_release(struct contest_view *v, const struct release_record *rec, uint16_t node,
			 uint64_t counter)
{
	struct subject *s = subject_find(v, &rec->key);
	struct chain *ended = NULL;
	uint64_t named;

	if (!s || orbit_id_kind(rec->claim_id) != ORBIT_KIND_CONTEST ||
	    orbit_id_node(rec->claim_id) != node ||
	    !counter_below(counter, orbit_id_counter(rec->claim_id), &named))
		return;
	for (uint32_t i = 0; i < s->count; i++) {
		struct chain *ch = &s->chains[i];

		if (ch->node != node || ch->first > named)
			continue;
		if (ch->first == named || ch->newest == named) {
			ended = ch;
			break;
		}
		if (named < v->gap_end && (!ended || ch->first > ended->first))
			ended = ch;
	}
	if (ended)
		chain_remove(s, ended);
}

static void view_apply(struct contest_view *v, const orbit_frame_t *frame, uint64_t counter)
{
	size_t avail = frame->len < sizeof(v->buf) ? frame->len : sizeof(v->buf);
	uint16_t node = orbit_id_node(frame->id);
	struct claim_record claim;
	struct release_record release;

	v->last.valid = true;
	v->last.counter = counter;
	v->last.frame = *frame;
	memcpy(v->last.bytes, v->buf, avail);
	if (frame->kind == CONTEST_CLAIM && claim_decode(frame, v->buf, avail, &claim))
		view_claim(v, &claim, node, frame->ver, counter);
	else if (frame->kind == CONTEST_RELEASE && release_decode(frame, v->buf, avail, &release))
		view_release(v, &release, node, counter);
}

/* Drops chains whose newest frame is a lap old (nothing can renew them) and empty subjects. */
static void view_sweep(struct contest_view *v)
{
	for (size_t i = 0; i <= v->bucket_mask; i++) {
		struct subject **link = &v->buckets[i];

		while (*link) {
			struct subject *s = *link;

			for (uint32_t j = s->count; j-- > 0;)
				if (s->chains[j].newest + v->capacity <= v->cursor)
					chain_remove(s, &s->chains[j]);
			if (s->count) {
				link = &s->next;
				continue;
			}
			*link = s->next;
			subject_free(s);
			v->subjects--;
		}
	}
	v->next_sweep = v->cursor + v->capacity;
}

/*
 * Counter c is claimed but not committed and later counters follow: wait for it up to the
 * ring's stall bound, as orbit_ring_next() does. A writer still not done by then is taken
 * for dead and its frame for no claim.
 */
static int read_settled(orbit_ring_t *ring, uint64_t c, orbit_frame_t *frame, uint8_t *buf,
			size_t size)
{
	static const struct timespec nap = { .tv_nsec = 50000 };
	uint64_t deadline = clock_mono_ns() + CONTEST_STALL_NS;
	int r;

	for (unsigned round = 0;; round++) {
		r = orbit_ring_read_at(ring, c, frame, buf, size);
		if (r != -EAGAIN || clock_mono_ns() >= deadline)
			return r;
		if (round < 64)
			sched_yield();
		else
			nanosleep(&nap, NULL);
	}
}

/*
 * Reads the ring up to `target` (exclusive), stopping short only at a counter still being
 * written with nothing after it. Frames overwritten before they were read are a gap;
 * impossible frames (the same for every reader) and dead writers' claims are not.
 */
static void view_catch_up(struct contest_view *v, orbit_ring_t *ring, uint64_t target)
{
	while (v->cursor < target) {
		uint64_t c = v->cursor, head = orbit_ring_head(ring);
		orbit_frame_t frame;
		int r;

		if (head <= c)
			break;
		if (head - c > v->capacity) {
			v->cursor = head - v->capacity;
			view_mark_gap(v, v->cursor);
			continue;
		}
		/* The header and any subject we can be asked about fit; the owner is not needed. */
		r = orbit_ring_read_at(ring, c, &frame, v->buf, sizeof(v->buf));
		if (r == -EAGAIN && head == c + 1)
			break;
		if (r == -EAGAIN)
			r = read_settled(ring, c, &frame, v->buf, sizeof(v->buf));
		if (r == 0 || r == -EMSGSIZE)
			view_apply(v, &frame, c);
		else if (r == -ENOENT)
			view_mark_gap(v, c + 1);
		v->cursor = c + 1;
	}
	if (v->cursor >= v->next_sweep)
		view_sweep(v);
}

static void view_forget(struct contest_view *v)
{
	for (size_t i = 0; i <= v->bucket_mask; i++) {
		while (v->buckets[i]) {
			struct subject *s = v->buckets[i];

			v->buckets[i] = s->next;
			subject_free(s);
		}
	}
	v->subjects = 0;
}

/* Forgets everything: the ring is read again from its oldest retained frame. */
static void view_restart(struct contest_view *v, const orbit_ring_t *ring)
{
	view_forget(v);
	v->ring = ring;
	v->capacity = orbit_ring_capacity(ring);
	v->cursor = 0;
	v->gap_end = 0;
	v->next_sweep = v->capacity;
	v->last.valid = false;
}

/*
 * A view is keyed by the ring's address, which a freed ring's successor may reuse, and a
 * ring may be reset: trust it only if the frame it read last reads back the same.
 */
static bool view_matches(struct contest_view *v, orbit_ring_t *ring)
{
	orbit_frame_t frame;
	size_t avail;
	int r;

	if (v->capacity != orbit_ring_capacity(ring) || orbit_ring_head(ring) < v->cursor)
		return false;
	if (!v->cursor)
		return true;
	if (!v->last.valid)
		return false;
	r = orbit_ring_read_at(ring, v->last.counter, &frame, v->buf, sizeof(v->buf));
	if (r < 0 && r != -EMSGSIZE)
		return false;
	avail = frame.len < sizeof(v->buf) ? frame.len : sizeof(v->buf);
	return frame.id == v->last.frame.id && frame.ver == v->last.frame.ver &&
	       frame.kind == v->last.frame.kind && frame.len == v->last.frame.len &&
	       !memcmp(v->buf, v->last.bytes, avail);
}

static void view_free(struct contest_view *v)
{
	if (!v)
		return;
	view_forget(v);
	free(v->buckets);
	free(v);
}

static struct contest_view *view_new(const orbit_ring_t *ring)
{
	struct contest_view *v = calloc(1, sizeof(*v));

	if (!v)
		return NULL;
	v->bucket_mask = 15;
	v->buckets = calloc(v->bucket_mask + 1, sizeof(*v->buckets));
	if (!v->buckets) {
		free(v);
		return NULL;
	}
	arc4random_buf(&v->seed, sizeof(v->seed));
	view_restart(v, ring);
	return v;
}

/* True when a is the better view to drop: an empty slot, or one used less recently. */
static bool view_staler(const struct contest_view *a, const struct contest_view *b)
{
	return !a || (b && a->last_used < b->last_used);
}

/* The ring's view, made or checked; with views_lock held. NULL: no memory. */
static struct contest_view *view_of(orbit_ring_t *ring)
{
	struct contest_view **slot = &views[0];

	for (size_t i = 0; i < VIEW_SLOTS; i++) {
		if (views[i] && views[i]->ring == ring) {
			slot = &views[i];
			break;
		}
		if (view_staler(views[i], *slot))
			slot = &views[i];
	}
	if (*slot && (*slot)->ring == ring) {
		if (!view_matches(*slot, ring))
			view_restart(*slot, ring);
	} else {
		view_free(*slot);
		*slot = view_new(ring);
	}
	if (*slot)
		(*slot)->last_used = ++views_clock;
	return *slot;
}

static void views_acquire(void)
{
	pthread_mutex_lock(&views_lock);
}

static void views_release(void)
{
	pthread_mutex_unlock(&views_lock);
}

/* A child forked while another thread held the lock would find it held for ever. */
static void views_init(void)
{
	pthread_atfork(views_acquire, views_release, views_release);
}

static void views_lock_take(void)
{
	pthread_once(&views_once, views_init);
	views_acquire();
}

/* ---- decisions ---- */

/* The chain of the guard's key, if the view still has it continuing from frame `since`. */
static const struct chain *guard_chain(struct contest_view *v, const orbit_guard_t *g,
				       uint64_t since)
{
	const struct subject *s = subject_find(v, &g->key);
	const struct chain *ch = s ? chain_find(s, g->node, g->claimed_at_ms) : NULL;

	if (!ch || ch->first > since || ch->newest < since || v->gap_end > since + 1)
		return NULL;
	return ch;
}

/* Who holds the subject now, as far as the view has read. */
static const struct chain *view_blocker(struct contest_view *v, orbit_ring_t *ring,
					const struct subject_key *key, uint64_t now_ms)
{
	const struct subject *s = subject_find(v, key);

	return s ? subject_blocker(v, s, NULL, orbit_ring_head(ring), now_ms) : NULL;
}

/* claimed_at_ms unique among this node's chains on the subject, so ours starts a chain. */
static uint64_t fresh_claimed_at(struct contest_view *v, const orbit_guard_t *g, uint64_t now_ms)
{
	const struct subject *s = subject_find(v, &g->key);
	uint64_t t = now_ms;

	while (s && chain_find(s, g->node, t))
		t++;
	return t;
}

static int claim_verdict(struct contest_view *v, const orbit_guard_t *g, uint16_t *holder)
{
	const struct subject *s = subject_find(v, &g->key);
	const struct chain *ch = s ? chain_find(s, g->node, g->claimed_at_ms) : NULL;

	/* Not starting a chain at our frame: overwritten before this view could read it, or
	 * no memory to record it. */
	if (!ch || ch->first != g->token)
		return v->short_of_memory ? -ENOMEM : -EAGAIN;
	if (ch->standing == CHAIN_HOLDS)
		return clock_unix_ms() < g->expires_at_ms ? 0 : -EAGAIN;
	if (!ch->blocked)
		return -EAGAIN;
	if (holder)
		*holder = ch->blocker;
	return -EBUSY;
}

static int claim_decide(struct contest_view *v, orbit_guard_t *g, uint64_t ttl_ms, uint16_t *holder)
{
	const struct chain *blocker;
	uint64_t now_ms;
	int late, r;

	v->short_of_memory = false;
	view_catch_up(v, g->ring, orbit_ring_head(g->ring));
	now_ms = clock_unix_ms();
	/*
	 * Visibly held: answer without a frame. Claimants that wrote a claim and its
	 * withdrawal on every try would lap the ring past the holder's claim.
	 */
	blocker = view_blocker(v, g->ring, &g->key, now_ms);
	if (blocker) {
		if (holder)
			*holder = blocker->node;
		return -EBUSY;
	}
	g->claimed_at_ms = fresh_claimed_at(v, g, now_ms);
	late = guard_publish(g, now_ms, ttl_ms);
	if (late < 0)
		return late;
	g->token = g->newest;
	view_catch_up(v, g->ring, g->token + 1);
	r = late ? -EAGAIN : claim_verdict(v, g, holder);
	/* Withdraw at once. Should this write fail, the claim yields anyway and
	 * blocks nobody; it lapses at its expiry. */
	if (r < 0)
		guard_publish_release(g);
	return r;
}

static int renew_decide(struct contest_view *v, orbit_guard_t *g, uint64_t ttl_ms)
{
	uint64_t previous = g->newest;
	const struct chain *ch;
	uint64_t now_ms;
	int late;

	view_catch_up(v, g->ring, orbit_ring_head(g->ring));
	now_ms = clock_unix_ms();
	if (!guard_chain(v, g, previous) || now_ms >= g->expires_at_ms)
		return -ESTALE;
	late = guard_publish(g, now_ms, ttl_ms);
	if (late < 0)
		return late;
	view_catch_up(v, g->ring, g->newest + 1);
	ch = guard_chain(v, g, previous);
	if (!late && ch && ch->newest == g->newest && clock_unix_ms() < g->expires_at_ms)
		return 0;
	/* Lost, or a renewal that others may not have seen: end the chain for everyone. */
	guard_publish_release(g);
	return -ESTALE;
}

static int guard_new(orbit_fleet_t *fleet, uint8_t subject_kind, const char *label,
		     const char *owner, orbit_guard_t **out)
{
	size_t owner_len = owner ? strnlen(owner, OWNER_MAX + 1) : 0;
	orbit_guard_t *g;
	int r;

	if (owner_len > OWNER_MAX)
		return -EINVAL;
	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	r = key_init(&g->key, subject_kind, label);
	if (r == 0)
		r = orbit_fleet_ring(fleet, ORBIT_KIND_CONTEST, &g->ring);
	g->owner_len = (uint8_t)owner_len;
	memcpy(g->owner, owner ? owner : "", owner_len);
	if (r == 0 && claim_size(g) > orbit_ring_payload_max(g->ring))
		r = -EMSGSIZE;
	if (r < 0) {
		free(g);
		return r;
	}
	g->node = orbit_fleet_node(fleet);
	*out = g;
	return 0;
}

/* ---- public calls ---- */

ORBIT_EXPORT int orbit_contest_claim(orbit_fleet_t *fleet, uint8_t subject_kind, const char *label,
				     const char *owner, uint64_t ttl_ms, orbit_guard_t **guard,
				     uint16_t *holder)
{
	struct contest_view *v;
	orbit_guard_t *g;
	int r;

	if (!fleet || !guard || !ttl_ms)
		return -EINVAL;
	r = guard_new(fleet, subject_kind, label, owner, &g);
	if (r < 0)
		return r;
	views_lock_take();
	v = view_of(g->ring);
	r = v ? claim_decide(v, g, ttl_ms, holder) : -ENOMEM;
	views_release();
	if (r < 0) {
		free(g);
		return r;
	}
	*guard = g;
	return 0;
}

ORBIT_EXPORT int orbit_contest_holder(orbit_fleet_t *fleet, uint8_t subject_kind, const char *label,
				      uint16_t *holder)
{
	const struct chain *blocker = NULL;
	struct subject_key key;
	struct contest_view *v;
	orbit_ring_t *ring;
	int r;

	if (!fleet)
		return -EINVAL;
	r = key_init(&key, subject_kind, label);
	if (r == 0)
		r = orbit_fleet_ring(fleet, ORBIT_KIND_CONTEST, &ring);
	if (r < 0)
		return r;
	views_lock_take();
	v = view_of(ring);
	if (v) {
		v->short_of_memory = false;
		view_catch_up(v, ring, orbit_ring_head(ring));
		blocker = view_blocker(v, ring, &key, clock_unix_ms());
		if (blocker && holder)
			*holder = blocker->node;
	}
	/* A holder may be among the frames there was no memory to record. */
	r = !v || (!blocker && v->short_of_memory) ? -ENOMEM : blocker ? 0 : -ENOENT;
	views_release();
	return r;
}

ORBIT_EXPORT int orbit_guard_renew(orbit_guard_t *guard, uint64_t ttl_ms)
{
	struct contest_view *v;
	int r;

	if (!guard || !ttl_ms)
		return -EINVAL;
	if (guard->lost)
		return -ESTALE;
	views_lock_take();
	v = view_of(guard->ring);
	r = v ? renew_decide(v, guard, ttl_ms) : -ENOMEM;
	views_release();
	if (r == -ESTALE)
		guard->lost = true;
	return r;
}

ORBIT_EXPORT uint64_t orbit_guard_token(const orbit_guard_t *guard)
{
	return guard ? guard->token : 0;
}

ORBIT_EXPORT int orbit_guard_release(orbit_guard_t *guard)
{
	int r;

	if (!guard)
		return 0;
	r = guard_publish_release(guard);
	free(guard);
	return r;
}
