/* SPDX-License-Identifier: MIT */
/*
 * The lease table: records held by open-file-description locks, which tell a live
 * process from a dead one whatever either's timing, and the claims writers publish in
 * them so that readers can judge a stalled ring counter.
 */
#include "lease.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "region.h"

#define LEASE_MAGIC	  0x4F524C54u /* "TLRO" little-endian: orbit lease table */
#define LEASE_VERSION	  1u
#define LEASE_HEADER_SIZE 64u
#define LEASE_RECORDS_AT  LEASE_HEADER_SIZE
#define LEASE_TABLE_SIZE  (LEASE_RECORDS_AT + LEASE_RECORDS * LEASE_RECORD_SIZE)
#define SUBJECTS_MAGIC	  0x4F52534Au /* "JSRO" little-endian: orbit subject slots */
#define SUBJECTS_AT	  64u
#define SUBJECTS_SIZE	  (SUBJECTS_AT + LEASE_SUBJECTS * LEASE_SUBJECT_SIZE)
/* Per-thread writer records a thread keeps at once (one per table it writes to). */
#define LEASE_BINDINGS 4

struct lease_header {
	uint32_t magic;
	uint32_t version;
	uint32_t count;	    /* records, or subject slots */
	uint32_t item_size; /* bytes of each */
	/* Records ever handed out: readers scan no further. */
	_Atomic uint32_t records_used;
	uint8_t reserved[LEASE_HEADER_SIZE - 20];
};

_Static_assert(sizeof(struct lease_header) == LEASE_HEADER_SIZE, "lease header size");

struct lease_table {
	struct region region;
	struct region subjects; /* base NULL until first used */
	char *subjects_name;	/* NULL for a process-local table */
	uid_t owner;
	uint32_t mode;
	struct lease_header *header;
	struct lease_record *records;
	uint64_t serial; /* new for every table and after fork: thread bindings compare it */
	uint16_t node;
	int self;				   /* this process's record, or -1 */
	atomic_bool self_writing;		   /* a thread writes under the process record */
	pthread_mutex_t lock;			   /* record hand-out and the fd after fork */
	_Atomic uint64_t mine[LEASE_RECORDS / 64]; /* records this process holds */
	struct lease_table *next;		   /* in the list of open tables */
};

/* Open tables, for fork and for threads that exit holding records. */
static pthread_mutex_t tables_lock = PTHREAD_MUTEX_INITIALIZER;
static struct lease_table *tables;
static uint64_t tables_serial;
static pthread_once_t lease_once = PTHREAD_ONCE_INIT;
static pthread_key_t bindings_key;

struct lease_binding {
	uint64_t serial;
	struct lease_table *table;
	int index;
};
/* Initial-exec: a write looks its record up without a call into the dynamic linker. */
static _Thread_local struct lease_binding bindings[LEASE_BINDINGS]
	__attribute__((tls_model("initial-exec")));

/* ---- records and their locks ---- */

static off_t record_lock_offset(uint32_t index)
{
	return (off_t)(LEASE_RECORDS_AT + (uint64_t)index * LEASE_RECORD_SIZE);
}

static int record_lock(struct lease_table *t, uint32_t index, short type, int cmd)
{
	struct flock fl = {
		.l_type = type,
		.l_whence = SEEK_SET,
		.l_start = record_lock_offset(index),
		.l_len = 1,
	};

	if (fcntl(t->region.fd, cmd, &fl) < 0)
		return -errno;
	return cmd == F_OFD_GETLK ? fl.l_type != F_UNLCK : 0;
}

static bool is_mine(struct lease_table *t, uint32_t index)
{
	return atomic_load_explicit(&t->mine[index / 64], memory_order_relaxed) &
	       (UINT64_C(1) << (index % 64));
}

/* Marks index ours in this process; false if another thread of ours has it. */
static bool mark_mine(struct lease_table *t, uint32_t index)
{
	uint64_t bit = UINT64_C(1) << (index % 64);

	return !(atomic_fetch_or_explicit(&t->mine[index / 64], bit, memory_order_relaxed) & bit);
}

static void unmark_mine(struct lease_table *t, uint32_t index)
{
	atomic_fetch_and_explicit(&t->mine[index / 64], ~(UINT64_C(1) << (index % 64)),
				  memory_order_relaxed);
}

int lease_record_alive(struct lease_table *t, uint32_t index)
{
	int ret;

	if (index >= LEASE_RECORDS)
		return 0;
	/* Our own locks never conflict with us, so the kernel cannot answer for them. */
	if (is_mine(t, index) || !t->region.shared)
		return 1;
	if (t->region.fd < 0)
		return 1; /* a child that could not reopen the table: assume the worst */
	ret = record_lock(t, index, F_WRLCK, F_OFD_GETLK);
	return ret < 0 ? 1 : ret;
}

int lease_record_node(struct lease_table *t, uint32_t index)
{
	uint32_t node;

	if (index >= LEASE_RECORDS)
		return -ENOENT;
	/* Relaxed: the holder stored it before the release that told the caller its index. */
	node = atomic_load_explicit(&t->records[index].node, memory_order_relaxed);
	return node == 0 || node > UINT16_MAX + 1u ? -ENOENT : (int)(node - 1);
}

uint32_t lease_record_generation(struct lease_table *t, uint32_t index)
{
	if (index >= LEASE_RECORDS)
		return 0;
	/* Relaxed, as the store in record_publish(): a reader that misses a new take by a
	 * moment takes the record's new holder for the old one only that moment longer. */
	return atomic_load_explicit(&t->records[index].generation, memory_order_relaxed);
}

static void record_publish(struct lease_table *t, uint32_t index)
{
	struct lease_record *rec = &t->records[index];
	uint32_t used = atomic_load_explicit(&t->header->records_used, memory_order_relaxed);

	atomic_store_explicit(&rec->claim, 0, memory_order_relaxed);
	atomic_store_explicit(&rec->claim_end, 0, memory_order_relaxed);
	/* Relaxed: pairs with nothing; see lease_record_generation(). */
	atomic_fetch_add_explicit(&rec->generation, 1, memory_order_relaxed);
	atomic_store_explicit(&rec->node, (uint32_t)t->node + 1, memory_order_relaxed);
	atomic_store_explicit(&rec->pid, (uint32_t)getpid(), memory_order_relaxed);
	/* Release: a reader that scans up to records_used sees the record initialised. */
	while (used <= index &&
	       !atomic_compare_exchange_weak_explicit(&t->header->records_used, &used, index + 1,
						      memory_order_release, memory_order_relaxed))
		;
}

/*
 * A free record is one no live process locks. Records are handed out in an order that
 * keeps evidence: this node's own old ones first (a restarted node replaces its dead
 * self), then never used ones, then other nodes' (whose death the heartbeat snapshot
 * would no longer see), and last those left mid-claim by a dead writer, which readers
 * still judge that claim by.
 */
enum take_pass { TAKE_OWN_NODE, TAKE_NEVER_USED, TAKE_IDLE, TAKE_ANY, TAKE_PASSES };

static bool record_takeable(struct lease_table *t, uint32_t index, enum take_pass pass)
{
	const struct lease_record *rec = &t->records[index];
	uint64_t claim = atomic_load_explicit(&rec->claim, memory_order_relaxed);
	uint32_t node = atomic_load_explicit(&rec->node, memory_order_relaxed);
	bool idle = (claim >> CLAIM_STATE_SHIFT) == CLAIM_IDLE;

	switch (pass) {
	case TAKE_NEVER_USED:
		return idle && node == 0;
	case TAKE_OWN_NODE:
		return idle && node == (uint32_t)t->node + 1;
	case TAKE_IDLE:
		return idle;
	default:
		return true;
	}
}

static int record_take(struct lease_table *t)
{
	for (enum take_pass pass = 0; pass < TAKE_PASSES; pass++) {
		for (uint32_t i = 0; i < LEASE_RECORDS; i++) {
			int ret;

			if (!record_takeable(t, i, pass) || !mark_mine(t, i))
				continue;
			ret = t->region.shared ? record_lock(t, i, F_WRLCK, F_OFD_SETLK) : 0;
			if (ret == 0) {
				record_publish(t, i);
				return (int)i;
			}
			unmark_mine(t, i);
			if (ret != -EAGAIN && ret != -EACCES)
				return ret;
		}
	}
	return -EUSERS;
}

static void record_give_back(struct lease_table *t, uint32_t index)
{
	/* Release: whoever sees the record idle sees every commit made under it. */
	atomic_store_explicit(&t->records[index].claim, 0, memory_order_release);
	if (t->region.shared && t->region.fd >= 0)
		record_lock(t, index, F_UNLCK, F_OFD_SETLK);
	unmark_mine(t, index);
}

/* ---- fork and thread exit ---- */

/*
 * The child shares the parent's open file description, and with it the parent's
 * locks: keeping it would keep a dead parent's records alive. The child reopens the
 * object (a new description, no locks) and holds nothing until it asks again.
 */
static void child_after_fork(void)
{
	char path[64];

	for (struct lease_table *t = tables; t; t = t->next) {
		t->serial = ++tables_serial;
		t->self = -1;
		atomic_store_explicit(&t->self_writing, false, memory_order_relaxed);
		memset(t->mine, 0, sizeof(t->mine));
		if (t->region.fd < 0)
			continue;
		snprintf(path, sizeof(path), "/proc/self/fd/%d", t->region.fd);
		int fd = open(path, O_RDWR | O_CLOEXEC);

		close(t->region.fd);
		t->region.fd = fd;
		pthread_mutex_init(&t->lock, NULL);
		/* Now, not on the first write: a write makes no system call. */
		if (fd >= 0)
			t->self = record_take(t);
	}
	pthread_mutex_unlock(&tables_lock);
}

static void prepare_fork(void)
{
	pthread_mutex_lock(&tables_lock);
}

static void parent_after_fork(void)
{
	pthread_mutex_unlock(&tables_lock);
}

static bool table_registered(const struct lease_table *table, uint64_t serial)
{
	for (struct lease_table *t = tables; t; t = t->next)
		if (t == table && t->serial == serial)
			return true;
	return false;
}

/* The process record stays the process's; only the right to write under it is given back. */
static void binding_give_back(const struct lease_binding *b)
{
	struct lease_table *t = b->table;

	if (b->index != t->self) {
		record_give_back(t, (uint32_t)b->index);
		return;
	}
	atomic_store_explicit(&t->records[b->index].claim, 0, memory_order_release);
	atomic_store_explicit(&t->self_writing, false, memory_order_relaxed);
}

/* A thread that ends gives its writer records back; its process may live on. */
static void thread_exit(void *unused)
{
	(void)unused;
	pthread_mutex_lock(&tables_lock);
	for (int i = 0; i < LEASE_BINDINGS; i++) {
		struct lease_binding *b = &bindings[i];

		if (b->table && table_registered(b->table, b->serial))
			binding_give_back(b);
		*b = (struct lease_binding){ 0 };
	}
	pthread_mutex_unlock(&tables_lock);
}

static void lease_init_once(void)
{
	pthread_atfork(prepare_fork, parent_after_fork, child_after_fork);
	pthread_key_create(&bindings_key, thread_exit);
}

/* ---- the table segment ---- */

/* The geometry a segment of the table carries in its header. */
struct table_kind {
	const char *name;
	uint32_t magic;
	uint32_t count;
	uint32_t item_size;
	uint64_t size;
};

static const struct table_kind records_kind = {
	.magic = LEASE_MAGIC,
	.count = LEASE_RECORDS,
	.item_size = LEASE_RECORD_SIZE,
	.size = LEASE_TABLE_SIZE,
};

static const struct table_kind subjects_kind = {
	.magic = SUBJECTS_MAGIC,
	.count = LEASE_SUBJECTS,
	.item_size = LEASE_SUBJECT_SIZE,
	.size = SUBJECTS_SIZE,
};

static int table_format(void *base, size_t size, void *ctx)
{
	const struct table_kind *kind = ctx;
	struct lease_header *h = base;

	(void)size;
	h->version = LEASE_VERSION;
	h->count = kind->count;
	h->item_size = kind->item_size;
	/* Release, last: the magic says the header is complete. */
	atomic_store_explicit((_Atomic uint32_t *)&h->magic, kind->magic, memory_order_release);
	return 0;
}

static int table_check(const void *head, size_t len, uint64_t object_size, void *ctx)
{
	const struct table_kind *kind = ctx;
	struct lease_header h;

	if (len < sizeof(h))
		return REGION_UNFORMATTED;
	memcpy(&h, head, sizeof(h));
	if (h.magic == 0 && h.version == 0)
		return REGION_UNFORMATTED;
	if (h.magic != kind->magic || h.version != LEASE_VERSION || h.count != kind->count ||
	    h.item_size != kind->item_size || object_size != kind->size) {
		orbit_log_debug("%s: not a version %u table of %u items of %u bytes", kind->name,
				LEASE_VERSION, kind->count, kind->item_size);
		return -EPROTO;
	}
	return 0;
}

static int table_region_open(const char *shm_name, uid_t owner, uint32_t mode,
			     const struct table_kind *kind, bool keep_fd, struct region *region)
{
	struct table_kind named = *kind;
	struct region_spec spec = {
		.name = shm_name,
		.owner = owner,
		.size = kind->size,
		.head_len = LEASE_HEADER_SIZE,
		.mode = mode,
		.init = table_format,
		.check = table_check,
		.ctx = &named,
		.keep_fd = keep_fd,
	};

	named.name = shm_name ? shm_name : "process-local table";
	return shm_name ? region_open_shm(&spec, region) : region_open_local(&spec, region);
}

static void table_free(struct lease_table *t)
{
	if (t->region.base)
		region_close(&t->region);
	if (t->subjects.base)
		region_close(&t->subjects);
	pthread_mutex_destroy(&t->lock);
	free(t->subjects_name);
	free(t);
}

int lease_table_open(const char *shm_name, const char *subjects_name, uid_t owner, uint32_t mode,
		     uint16_t node, struct lease_table **out)
{
	struct lease_table *t = calloc(1, sizeof(*t));
	int ret;

	if (!t)
		return -ENOMEM;
	pthread_once(&lease_once, lease_init_once);
	pthread_mutex_init(&t->lock, NULL);
	t->node = node;
	t->owner = owner;
	t->mode = mode;
	t->subjects.fd = -1;
	if (subjects_name && !(t->subjects_name = strdup(subjects_name))) {
		table_free(t);
		return -ENOMEM;
	}
	ret = table_region_open(shm_name, owner, mode, &records_kind, true, &t->region);
	if (ret < 0) {
		table_free(t);
		return ret;
	}
	t->header = t->region.base;
	t->records = (struct lease_record *)((uint8_t *)t->region.base + LEASE_RECORDS_AT);
	t->self = record_take(t);
	if (t->self < 0) {
		ret = t->self;
		table_free(t);
		return ret;
	}
	pthread_mutex_lock(&tables_lock);
	t->serial = ++tables_serial;
	t->next = tables;
	tables = t;
	pthread_mutex_unlock(&tables_lock);
	*out = t;
	return 0;
}

void lease_table_close(struct lease_table *t)
{
	if (!t)
		return;
	pthread_mutex_lock(&tables_lock);
	for (struct lease_table **p = &tables; *p; p = &(*p)->next) {
		if (*p == t) {
			*p = t->next;
			break;
		}
	}
	pthread_mutex_unlock(&tables_lock);
	/* Our records read idle to those who look before the locks go with the fd. */
	for (uint32_t i = 0; i < LEASE_RECORDS; i++)
		if (is_mine(t, i))
			atomic_store_explicit(&t->records[i].claim, 0, memory_order_release);
	table_free(t);
}

int lease_table_unlink(const char *shm_name, uid_t owner)
{
	return region_unlink(shm_name, owner);
}

bool lease_table_exists(const char *shm_name)
{
	return region_shm_exists(shm_name);
}

int lease_tables_shared(const char *prefix,
			int (*found)(const char *name, const struct stat *st, void *ctx), void *ctx)
{
	return region_shm_shared(prefix, found, ctx);
}

/* Reacquires what a forked child gave up, the first time it asks. */
int lease_table_self(struct lease_table *t)
{
	int self;

	pthread_mutex_lock(&t->lock);
	if (t->self < 0 && (t->region.fd >= 0 || !t->region.shared))
		t->self = record_take(t);
	self = t->self;
	pthread_mutex_unlock(&t->lock);
	return self;
}

int lease_subjects(struct lease_table *t, void **slots)
{
	int ret = 0;

	pthread_mutex_lock(&t->lock);
	if (!t->subjects.base)
		ret = table_region_open(t->region.shared ? t->subjects_name : NULL, t->owner,
					t->mode, &subjects_kind, false, &t->subjects);
	pthread_mutex_unlock(&t->lock);
	if (ret < 0)
		return ret;
	*slots = (uint8_t *)t->subjects.base + SUBJECTS_AT;
	return 0;
}

int lease_node_alive(struct lease_table *t, uint16_t node)
{
	uint32_t used = atomic_load_explicit(&t->header->records_used, memory_order_acquire);
	int found = -ENOENT;

	if (used > LEASE_RECORDS)
		used = LEASE_RECORDS;
	for (uint32_t i = 0; i < used; i++) {
		if (atomic_load_explicit(&t->records[i].node, memory_order_relaxed) !=
		    (uint32_t)node + 1)
			continue;
		if (lease_record_alive(t, i))
			return 1;
		found = 0;
	}
	return found;
}

/* ---- writers ---- */

static struct lease_binding *binding_find(const struct lease_table *t)
{
	for (int i = 0; i < LEASE_BINDINGS; i++)
		if (bindings[i].serial == t->serial && bindings[i].table == t)
			return &bindings[i];
	return NULL;
}

/* A free binding, or the one of a table closed since (its record went with the table). */
static struct lease_binding *binding_slot(void)
{
	for (int i = 0; i < LEASE_BINDINGS; i++)
		if (!bindings[i].table || !table_registered(bindings[i].table, bindings[i].serial))
			return &bindings[i];
	return NULL;
}

/*
 * The first thread to write writes under the process record, so a single-threaded
 * process never makes a system call to write; other threads take records of their own.
 */
static int writer_record_take(struct lease_table *t)
{
	bool idle = false;
	int index;

	pthread_mutex_lock(&t->lock);
	if (t->self < 0 && (t->region.fd >= 0 || !t->region.shared))
		t->self = record_take(t);
	if (t->self >= 0 &&
	    atomic_compare_exchange_strong_explicit(&t->self_writing, &idle, true,
						    memory_order_relaxed, memory_order_relaxed))
		index = t->self;
	else if (t->region.fd >= 0 || !t->region.shared)
		index = record_take(t);
	else
		index = -EBADF;
	pthread_mutex_unlock(&t->lock);
	return index;
}

/* Out of line: lease_writer() stays a short lookup on every write. */
__attribute__((noinline)) static struct lease_record *writer_bind(struct lease_table *t)
{
	struct lease_binding *b;
	int index = -ENOBUFS;

	pthread_mutex_lock(&tables_lock);
	b = binding_slot();
	if (b)
		index = writer_record_take(t);
	if (index >= 0) {
		*b = (struct lease_binding){ .serial = t->serial, .table = t, .index = index };
		pthread_setspecific(bindings_key, bindings);
	}
	pthread_mutex_unlock(&tables_lock);
	if (index < 0) {
		orbit_log_debug("no writer record for this thread: %s", ORBIT_ERRNAME(index));
		return NULL;
	}
	return &t->records[index];
}

struct lease_record *lease_writer(struct lease_table *t)
{
	struct lease_binding *b = binding_find(t);

	return b ? &t->records[b->index] : writer_bind(t);
}

/*
 * Whether held or dropped claim word w of rec covers counter: the counter it names, or
 * one after it up to the claim's end. The end is read between two loads of the word, as
 * a seqlock: a word that changed meanwhile may belong to another claim, and -EAGAIN says
 * to look again. An end no batch-aware writer wrote (zero, another kind, or a span no
 * batch has) leaves the claim covering its one counter.
 */
static int claim_covers(struct lease_record *rec, uint64_t w, uint64_t counter)
{
	uint64_t named = w & LEASE_COUNTER_MASK;
	uint64_t end = atomic_load_explicit(&rec->claim_end, memory_order_relaxed);
	uint64_t span = ((end & LEASE_COUNTER_MASK) - named) & LEASE_COUNTER_MASK;

	if ((counter & LEASE_COUNTER_MASK) == named)
		return 1;
	/* Acquire fence: pairs with the release fence in lease_claim(). */
	atomic_thread_fence(memory_order_acquire);
	if (atomic_load_explicit(&rec->claim, memory_order_relaxed) != w)
		return -EAGAIN;
	if (!(end & CLAIM_END_SET) ||
	    ((end >> CLAIM_KIND_SHIFT) & 0xff) != ((w >> CLAIM_KIND_SHIFT) & 0xff) ||
	    span > CLAIM_SPAN_MAX)
		return 0;
	return ((counter - named) & LEASE_COUNTER_MASK) < span;
}

/* Looks at a record whose claim keeps changing this many times before calling it pending. */
#define CLAIM_LOOKS 4

/*
 * What rec's claim says of counter of ring kind: CLAIM_IDLE when it does not cover it,
 * held or dropped when it does, pending when it may be about to take it, or when it
 * keeps changing while it is read (a writer at work: its liveness speaks for it).
 */
static enum claim_state record_claim(struct lease_record *rec, uint8_t kind, uint64_t counter)
{
	for (int looks = 0; looks < CLAIM_LOOKS; looks++) {
		uint64_t w = atomic_load_explicit(&rec->claim, memory_order_acquire);
		enum claim_state state = (enum claim_state)(w >> CLAIM_STATE_SHIFT);
		int covers;

		if (state == CLAIM_IDLE || (uint8_t)(w >> CLAIM_KIND_SHIFT) != kind)
			return CLAIM_IDLE;
		if (state == CLAIM_PENDING)
			return CLAIM_PENDING;
		covers = claim_covers(rec, w, counter);
		if (covers != -EAGAIN)
			return covers ? state : CLAIM_IDLE;
	}
	return CLAIM_PENDING;
}

/*
 * A pending record may be about to take any counter of the ring, so only its liveness
 * can speak for it: alive, it may hold this one; dead, it says nothing (its counter, if
 * it got one, is judged as unrecorded).
 */
enum lease_owner lease_owner_of(struct lease_table *t, uint8_t kind, uint64_t counter)
{
	uint32_t used = atomic_load_explicit(&t->header->records_used, memory_order_acquire);
	enum lease_owner verdict = LEASE_OWNER_NONE;

	if (used > LEASE_RECORDS)
		used = LEASE_RECORDS;
	for (uint32_t i = 0; i < used; i++) {
		enum claim_state state = record_claim(&t->records[i], kind, counter);

		if (state == CLAIM_IDLE)
			continue;
		if (state == CLAIM_DROPPED)
			return LEASE_OWNER_DROPPED;
		if (lease_record_alive(t, i))
			return LEASE_OWNER_ALIVE;
		if (state == CLAIM_HELD)
			verdict = LEASE_OWNER_DEAD;
	}
	return verdict;
}
