/* SPDX-License-Identifier: MIT */
/*
 * Doorbells. A poller owns an abstract unix datagram socket named by a random token,
 * a timerfd, and an epoll descriptor holding both, which is what the caller polls. Its
 * slot in the fleet's bell table says which ring kind it follows, from which counter
 * on, and whether it is armed. A writer that finds the ring's armed count non-zero
 * fires every armed slot of its kind by CAS (so one datagram per arming, whoever
 * writes) and sends the datagram itself: the poller wakes after one kernel wake-up,
 * with no thread in between.
 */
#include "bell.h"

#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <unistd.h>

#include "lease.h"
#include "log.h"
#include "region.h"

#define BELL_MAGIC	0x4F52424Cu /* "LBRO" little-endian: orbit bell table */
#define BELL_VERSION	1u
#define BELL_COUNT	128u
#define BELL_SLOT_SIZE	64u
#define BELL_KINDS	256u
#define BELL_MAP_WORDS	(BELL_COUNT / 64)
#define BELL_HEADER	64u
#define BELL_MAPS_AT	BELL_HEADER
#define BELL_SLOTS_AT	(BELL_MAPS_AT + BELL_KINDS * BELL_MAP_WORDS * 8)
#define BELL_TABLE_SIZE (BELL_SLOTS_AT + BELL_COUNT * BELL_SLOT_SIZE)
/* Socket names: a fixed prefix and the token in hex, in the abstract namespace. */
#define BELL_NAME_PREFIX "orbit-bell-"
/* Tokens tried before giving up on a free socket name. */
#define BELL_BIND_TRIES 8

enum bell_state {
	BELL_IDLE = 0,	/* registered, not armed */
	BELL_ARMED = 1, /* the next writer at or past the cursor fires it */
	BELL_FIRED = 2, /* fired: its descriptor is readable until it is armed again */
};

struct bell_header {
	uint32_t magic;
	uint32_t version;
	uint32_t count;
	uint32_t item_size;
	uint8_t reserved[BELL_HEADER - 16];
};

struct bell_slot {
	_Atomic uint64_t owner;	 /* 0: free; else record generation << 32 | (record + 1) */
	_Atomic uint64_t cursor; /* armed for counters from this one on */
	_Atomic uint64_t token;	 /* names the poller's socket */
	_Atomic uint32_t state;	 /* enum bell_state */
	_Atomic uint32_t kind;	 /* the ring kind it follows */
	_Atomic uint32_t pid;	 /* the owner's pid, for people reading the segment */
	uint8_t reserved[BELL_SLOT_SIZE - 36];
};

_Static_assert(sizeof(struct bell_header) == BELL_HEADER, "bell header size");
_Static_assert(sizeof(struct bell_slot) == BELL_SLOT_SIZE, "bell slot size");

struct bell_table {
	char *name; /* NULL for a process-local fleet */
	uint32_t mode;
	struct lease_table *leases;
	pthread_mutex_t lock; /* mapping the segment */
	struct region region;
	_Atomic(uint8_t *) base; /* NULL until first needed */
	_Atomic int sender;	 /* unbound socket writers send from; -1 until first needed */
};

struct bell {
	struct bell_table *table;
	struct bell_slot *slot;
	uint32_t index;
	uint64_t token;
	uint8_t kind;
	pid_t pid;
	int sock, timer, epoll;
};

/* ---- the table ---- */

int bell_table_open(const char *shm_name, uint32_t mode, struct lease_table *leases,
		    struct bell_table **out)
{
	struct bell_table *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	if (shm_name && !(t->name = strdup(shm_name))) {
		free(t);
		return -ENOMEM;
	}
	t->mode = mode;
	t->leases = leases;
	t->region.fd = -1;
	atomic_init(&t->sender, -1);
	pthread_mutex_init(&t->lock, NULL);
	*out = t;
	return 0;
}

void bell_table_close(struct bell_table *t)
{
	int sender;

	if (!t)
		return;
	if (atomic_load_explicit(&t->base, memory_order_relaxed))
		region_close(&t->region);
	sender = atomic_load_explicit(&t->sender, memory_order_relaxed);
	if (sender >= 0)
		close(sender);
	pthread_mutex_destroy(&t->lock);
	free(t->name);
	free(t);
}

static int table_format(void *head, size_t len, void *ctx)
{
	struct bell_header *h = head;

	(void)len;
	(void)ctx;
	h->version = BELL_VERSION;
	h->count = BELL_COUNT;
	h->item_size = BELL_SLOT_SIZE;
	/* Release, last: the magic says the header is complete. */
	atomic_store_explicit((_Atomic uint32_t *)&h->magic, BELL_MAGIC, memory_order_release);
	return 0;
}

static int table_check(const void *head, size_t len, uint64_t object_size, void *ctx)
{
	struct bell_header h;

	if (len < sizeof(h))
		return REGION_UNFORMATTED;
	memcpy(&h, head, sizeof(h));
	if (h.magic == 0 && h.version == 0)
		return REGION_UNFORMATTED;
	if (h.magic != BELL_MAGIC || h.version != BELL_VERSION || h.count != BELL_COUNT ||
	    h.item_size != BELL_SLOT_SIZE || object_size != BELL_TABLE_SIZE) {
		orbit_log_debug("%s: not a version %u bell table of %u slots", (const char *)ctx,
				BELL_VERSION, BELL_COUNT);
		return -EPROTO;
	}
	return 0;
}

/* The mapped segment, opened (created) on first use; NULL and *error if it cannot be. */
static uint8_t *table_base(struct bell_table *t, int *error)
{
	/* Acquire: pairs with the release store below, so the region is seen whole. */
	uint8_t *base = atomic_load_explicit(&t->base, memory_order_acquire);
	struct region_spec spec = {
		.name = t->name,
		.size = BELL_TABLE_SIZE,
		.head_len = BELL_HEADER,
		.mode = t->mode,
		.init = table_format,
		.check = table_check,
		.ctx = t->name ? t->name : "process-local bell table",
	};
	int ret = 0;

	if (base)
		return base;
	pthread_mutex_lock(&t->lock);
	base = atomic_load_explicit(&t->base, memory_order_relaxed);
	if (!base) {
		ret = t->name ? region_open_shm(&spec, &t->region)
			      : region_open_local(&spec, &t->region);
		if (ret == 0) {
			base = t->region.base;
			atomic_store_explicit(&t->base, base, memory_order_release);
		}
	}
	pthread_mutex_unlock(&t->lock);
	*error = ret;
	return base;
}

int bell_table_map(struct bell_table *t)
{
	int ret;

	return table_base(t, &ret) ? 0 : ret;
}

static _Atomic uint64_t *kind_map(uint8_t *base, uint8_t kind)
{
	return (_Atomic uint64_t *)(base + BELL_MAPS_AT + (size_t)kind * BELL_MAP_WORDS * 8);
}

static struct bell_slot *slot_at(uint8_t *base, uint32_t index)
{
	return (struct bell_slot *)(base + BELL_SLOTS_AT + (size_t)index * BELL_SLOT_SIZE);
}

/* ---- datagrams ---- */

static socklen_t bell_address(uint64_t token, struct sockaddr_un *addr)
{
	int len;

	memset(addr, 0, sizeof(*addr));
	addr->sun_family = AF_UNIX;
	/* sun_path[0] stays 0: the abstract namespace, gone with the last descriptor. */
	len = snprintf(addr->sun_path + 1, sizeof(addr->sun_path) - 1, BELL_NAME_PREFIX "%016llx",
		       (unsigned long long)token);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)len);
}

static int table_sender(struct bell_table *t)
{
	/* Acquire: pairs with the CAS below that publishes the socket. */
	int fd = atomic_load_explicit(&t->sender, memory_order_acquire);
	int none = -1;

	if (fd >= 0)
		return fd;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (!atomic_compare_exchange_strong_explicit(&t->sender, &none, fd, memory_order_acq_rel,
						     memory_order_acquire)) {
		close(fd);
		return none;
	}
	return fd;
}

/*
 * One datagram to the socket token names. A poller that is gone refuses it, and a full
 * queue means it is readable already: either way nothing is lost, so errors are dropped.
 */
static void bell_send(struct bell_table *t, uint64_t token)
{
	struct sockaddr_un addr;
	socklen_t len = bell_address(token, &addr);
	int fd = table_sender(t);

	if (fd >= 0)
		(void)sendto(fd, "", 1, MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr *)&addr, len);
}

/* One fewer armed bell on a ring; a count a peer zeroed stays zero rather than wrap. */
static void armed_drop(_Atomic uint32_t *armed)
{
	uint32_t n = atomic_load_explicit(armed, memory_order_relaxed);

	while (n && !atomic_compare_exchange_weak_explicit(armed, &n, n - 1, memory_order_relaxed,
							   memory_order_relaxed))
		;
}

/* ARMED -> FIRED: whoever wins sends the one datagram of this arming. */
static bool slot_fire(struct bell_slot *slot, _Atomic uint32_t *armed)
{
	uint32_t state = BELL_ARMED;

	if (!atomic_compare_exchange_strong_explicit(&slot->state, &state, BELL_FIRED,
						     memory_order_seq_cst, memory_order_relaxed))
		return false;
	armed_drop(armed);
	return true;
}

void bells_ring(struct bell_table *t, _Atomic uint32_t *armed, uint8_t kind, uint64_t counter)
{
	int error;
	uint8_t *base = table_base(t, &error);
	_Atomic uint64_t *map;

	if (!base)
		return;
	map = kind_map(base, kind);
	for (uint32_t w = 0; w < BELL_MAP_WORDS; w++) {
		/* seq_cst: read after the caller's seq_cst load of the armed count. */
		uint64_t bits = atomic_load_explicit(&map[w], memory_order_seq_cst);

		for (; bits; bits &= bits - 1) {
			struct bell_slot *slot =
				slot_at(base, w * 64 + (uint32_t)__builtin_ctzll(bits));

			/* seq_cst: the poller stores the cursor, then ARMED, then counts itself in. */
			if (atomic_load_explicit(&slot->state, memory_order_seq_cst) !=
				    BELL_ARMED ||
			    atomic_load_explicit(&slot->kind, memory_order_relaxed) != kind ||
			    counter < atomic_load_explicit(&slot->cursor, memory_order_relaxed))
				continue;
			if (slot_fire(slot, armed))
				bell_send(t,
					  atomic_load_explicit(&slot->token, memory_order_relaxed));
		}
	}
}

/* ---- pollers ---- */

/* Binds a fresh socket to a random name nobody else holds. */
static int bell_bind(struct bell *b)
{
	struct sockaddr_un addr;

	b->sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (b->sock < 0)
		return -errno;
	for (int i = 0; i < BELL_BIND_TRIES; i++) {
		socklen_t len;

		if (getrandom(&b->token, sizeof(b->token), 0) != sizeof(b->token))
			return -EIO;
		len = bell_address(b->token, &addr);
		if (bind(b->sock, (struct sockaddr *)&addr, len) == 0)
			return 0;
		if (errno != EADDRINUSE)
			return -errno;
	}
	return -EADDRINUSE;
}

/* The descriptor the caller polls: readable when the socket or the timer is. */
static int bell_watch(struct bell *b)
{
	struct epoll_event ev = { .events = EPOLLIN };

	b->timer = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	b->epoll = epoll_create1(EPOLL_CLOEXEC);
	if (b->timer < 0 || b->epoll < 0)
		return -errno;
	if (epoll_ctl(b->epoll, EPOLL_CTL_ADD, b->sock, &ev) < 0 ||
	    epoll_ctl(b->epoll, EPOLL_CTL_ADD, b->timer, &ev) < 0)
		return -errno;
	return 0;
}

/* Whether the process that took a slot is gone (so the slot may be taken again). */
static bool owner_gone(struct lease_table *leases, uint64_t owner)
{
	uint32_t record = (uint32_t)(owner & UINT32_MAX) - 1;

	return lease_record_generation(leases, record) != (uint32_t)(owner >> 32) ||
	       !lease_record_alive(leases, record);
}

/*
 * Takes a free slot, or one a dead process left idle or fired (an armed one is left to
 * the next writer of its ring, which fires it and keeps that ring's count right).
 */
static int slot_take(struct bell *b, uint8_t *base)
{
	struct lease_table *leases = b->table->leases;
	int self = lease_table_self(leases);
	uint64_t mine;

	if (self < 0)
		return self;
	mine = (uint64_t)lease_record_generation(leases, (uint32_t)self) << 32 |
	       ((uint32_t)self + 1);
	for (uint32_t i = 0; i < BELL_COUNT; i++) {
		struct bell_slot *slot = slot_at(base, i);
		/* Acquire: pairs with the release that freed it, so its old fields are settled. */
		uint64_t owner = atomic_load_explicit(&slot->owner, memory_order_acquire);
		uint32_t old_kind = atomic_load_explicit(&slot->kind, memory_order_relaxed) & 0xff;

		if (owner &&
		    (atomic_load_explicit(&slot->state, memory_order_relaxed) == BELL_ARMED ||
		     !owner_gone(leases, owner)))
			continue;
		if (!atomic_compare_exchange_strong_explicit(
			    &slot->owner, &owner, mine, memory_order_acq_rel, memory_order_relaxed))
			continue;
		if (owner)
			atomic_fetch_and_explicit(&kind_map(base, (uint8_t)old_kind)[i / 64],
						  ~(UINT64_C(1) << (i % 64)), memory_order_relaxed);
		atomic_store_explicit(&slot->state, BELL_IDLE, memory_order_relaxed);
		atomic_store_explicit(&slot->kind, b->kind, memory_order_relaxed);
		atomic_store_explicit(&slot->token, b->token, memory_order_relaxed);
		atomic_store_explicit(&slot->pid, (uint32_t)b->pid, memory_order_relaxed);
		/* seq_cst: the slot's fields are set before writers find it in the map. */
		atomic_fetch_or_explicit(&kind_map(base, b->kind)[i / 64], UINT64_C(1) << (i % 64),
					 memory_order_seq_cst);
		b->slot = slot;
		b->index = i;
		return 0;
	}
	orbit_log_debug("bell table: all %u slots are taken", BELL_COUNT);
	return -EUSERS;
}

static void bell_free(struct bell *b)
{
	if (b->epoll >= 0)
		close(b->epoll);
	if (b->timer >= 0)
		close(b->timer);
	if (b->sock >= 0)
		close(b->sock);
	free(b);
}

int bell_open(struct bell_table *t, uint8_t kind, struct bell **out)
{
	struct bell *b = calloc(1, sizeof(*b));
	uint8_t *base;
	int ret;

	if (!b)
		return -ENOMEM;
	*b = (struct bell){
		.table = t, .kind = kind, .pid = getpid(), .sock = -1, .timer = -1, .epoll = -1
	};
	base = table_base(t, &ret);
	if (base) {
		ret = bell_bind(b);
		if (ret == 0)
			ret = bell_watch(b);
		if (ret == 0)
			ret = slot_take(b, base);
	}
	if (ret < 0) {
		bell_free(b);
		return ret;
	}
	*out = b;
	return 0;
}

static void slot_disarm(struct bell *b, _Atomic uint32_t *armed)
{
	/* seq_cst: against a writer's ARMED -> FIRED CAS; only one of us counts it out. */
	if (atomic_exchange_explicit(&b->slot->state, BELL_IDLE, memory_order_seq_cst) ==
	    BELL_ARMED)
		armed_drop(armed);
}

void bell_close(struct bell *b, _Atomic uint32_t *armed)
{
	uint8_t *base;

	if (!b)
		return;
	if (bell_inherited(b)) {
		bell_forget(b);
		return;
	}
	base = atomic_load_explicit(&b->table->base, memory_order_relaxed);
	slot_disarm(b, armed);
	atomic_fetch_and_explicit(&kind_map(base, b->kind)[b->index / 64],
				  ~(UINT64_C(1) << (b->index % 64)), memory_order_relaxed);
	/* Release: whoever takes the slot next sees it out of the map. */
	atomic_store_explicit(&b->slot->owner, 0, memory_order_release);
	bell_free(b);
}

int bell_fd(const struct bell *b)
{
	return b->epoll;
}

bool bell_inherited(const struct bell *b)
{
	return b->pid != getpid();
}

void bell_forget(struct bell *b)
{
	bell_free(b);
}

/* Empties the socket and stops the timer: the descriptor polls readable no more. */
static void bell_drain(struct bell *b)
{
	struct itimerspec off = { 0 };
	uint64_t ticks;
	char byte;

	while (recv(b->sock, &byte, sizeof(byte), MSG_DONTWAIT) >= 0)
		;
	timerfd_settime(b->timer, 0, &off, NULL);
	(void)!read(b->timer, &ticks, sizeof(ticks));
}

void bell_arm(struct bell *b, _Atomic uint32_t *armed, uint64_t cursor)
{
	slot_disarm(b, armed);
	bell_drain(b);
	atomic_store_explicit(&b->slot->cursor, cursor, memory_order_relaxed);
	/* seq_cst, then the count: a writer that sees the count sees the slot armed. */
	atomic_store_explicit(&b->slot->state, BELL_ARMED, memory_order_seq_cst);
	atomic_fetch_add_explicit(armed, 1, memory_order_seq_cst);
}

void bell_fire(struct bell *b, _Atomic uint32_t *armed)
{
	if (slot_fire(b->slot, armed))
		bell_send(b->table, b->token);
}

void bell_fire_at(struct bell *b, uint64_t until_ns)
{
	struct itimerspec at = {
		.it_value = { .tv_sec = (time_t)(until_ns / 1000000000u),
			      .tv_nsec = (long)(until_ns % 1000000000u) },
	};

	timerfd_settime(b->timer, TFD_TIMER_ABSTIME, &at, NULL);
}
