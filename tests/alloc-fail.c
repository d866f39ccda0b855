/* SPDX-License-Identifier: MIT */
/*
 * The malloc family, forwarded to the next allocator in the lookup order (RTLD_NEXT: the
 * sanitizer's when there is one, else libc's), tracked per block, failed on demand.
 * glibc supports replacing these in the executable: its own calls come here too.
 */
#include "alloc-fail.h"

#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Live blocks, by address: open addressing, linear probing, deletion by backward shift. */
#define TABLE_BITS  16
#define TABLE_SLOTS (1u << TABLE_BITS)
#define TABLE_MASK  (TABLE_SLOTS - 1)

struct entry {
	uintptr_t ptr; /* 0: empty */
	size_t size;
	const void *caller;
	unsigned long seq;
};

static struct entry table[TABLE_SLOTS];
static atomic_flag table_lock = ATOMIC_FLAG_INIT;
static unsigned long next_seq = 1;
static bool overflowed;

/* The failure to inject, under table_lock too. */
static unsigned long fail_at; /* 0: none */
static unsigned long calls;   /* allocation calls since alloc_fail_nth() */
static bool fail_came;

/*
 * The sanitizer runtimes allocate while they start, before their instrumentation can run:
 * nothing in this file is instrumented (helpers too, so they are not kept from inlining).
 */
#define NO_SANITIZE __attribute__((no_sanitize("address", "thread", "undefined")))

NO_SANITIZE
static void lock(void)
{
	while (atomic_flag_test_and_set_explicit(&table_lock, memory_order_acquire))
		;
}

NO_SANITIZE
static void unlock(void)
{
	atomic_flag_clear_explicit(&table_lock, memory_order_release);
}

NO_SANITIZE
void alloc_fail_nth(unsigned long nth)
{
	lock();
	fail_at = nth;
	calls = 0;
	fail_came = false;
	unlock();
}

NO_SANITIZE
bool alloc_failed(void)
{
	bool came;

	lock();
	came = fail_came;
	unlock();
	return came;
}

NO_SANITIZE
unsigned long alloc_mark(void)
{
	unsigned long mark;

	lock();
	mark = next_seq;
	unlock();
	return mark;
}

NO_SANITIZE
static bool block_before(const struct alloc_block *a, const struct alloc_block *b)
{
	return a->caller != b->caller ? (uintptr_t)a->caller < (uintptr_t)b->caller
				      : a->size < b->size;
}

NO_SANITIZE
long alloc_live_since(unsigned long mark, struct alloc_block *out, size_t max)
{
	size_t n = 0;
	bool lost;

	lock();
	for (size_t i = 0; i < TABLE_SLOTS; i++) {
		if (!table[i].ptr || table[i].seq < mark)
			continue;
		if (n < max)
			out[n] = (struct alloc_block){ table[i].size, table[i].caller };
		n++;
	}
	lost = overflowed;
	unlock();
	/* Insertion sort: qsort may allocate, and these lists are short. */
	for (size_t i = 1; i < n && i < max; i++) {
		struct alloc_block b = out[i];
		size_t j = i;

		for (; j > 0 && block_before(&b, &out[j - 1]); j--)
			out[j] = out[j - 1];
		out[j] = b;
	}
	return lost ? -1 : (long)n;
}

#ifndef ALLOC_FAIL_UNAVAILABLE

/* ---- the replacements ---- */

/* What dlsym allocates while the next allocator is being looked up; never freed. */
static alignas(max_align_t) unsigned char bootstrap[64 * 1024];
static size_t bootstrap_used;

static void *(*next_malloc)(size_t);
static void *(*next_calloc)(size_t, size_t);
static void *(*next_realloc)(void *, size_t);
static void (*next_free)(void *);
static int (*next_posix_memalign)(void **, size_t, size_t);
static void *(*next_aligned_alloc)(size_t, size_t);
static void *(*next_memalign)(size_t, size_t);

enum { UNRESOLVED, RESOLVING, RESOLVED };
static _Atomic int resolve_state;

/* True while the lookup runs: its own allocations come from the bootstrap arena. */
NO_SANITIZE
static bool resolving(void)
{
	int expect = UNRESOLVED;

	if (atomic_load(&resolve_state) == RESOLVED)
		return false;
	if (!atomic_compare_exchange_strong(&resolve_state, &expect, RESOLVING))
		return expect == RESOLVING;
	next_malloc = (void *(*)(size_t))dlsym(RTLD_NEXT, "malloc");
	next_calloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "calloc");
	next_realloc = (void *(*)(void *, size_t))dlsym(RTLD_NEXT, "realloc");
	next_free = (void (*)(void *))dlsym(RTLD_NEXT, "free");
	next_posix_memalign = (int (*)(void **, size_t, size_t))dlsym(RTLD_NEXT, "posix_memalign");
	next_aligned_alloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "aligned_alloc");
	next_memalign = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "memalign");
	if (!next_malloc || !next_calloc || !next_realloc || !next_free || !next_posix_memalign ||
	    !next_aligned_alloc || !next_memalign)
		abort();
	atomic_store(&resolve_state, RESOLVED);
	return false;
}

NO_SANITIZE
static void *bootstrap_alloc(size_t size)
{
	size_t at = (bootstrap_used + alignof(max_align_t) - 1) & ~(alignof(max_align_t) - 1);

	if (size > sizeof(bootstrap) - at)
		return NULL;
	bootstrap_used = at + size;
	return bootstrap + at;
}

NO_SANITIZE
static bool in_bootstrap(const void *p)
{
	return (const unsigned char *)p >= bootstrap &&
	       (const unsigned char *)p < bootstrap + sizeof(bootstrap);
}

/* A bootstrap block moved: it is copied as far as the arena goes, its size unknown. */
NO_SANITIZE
static void *bootstrap_realloc(void *p, size_t size)
{
	size_t room = p ? (size_t)(bootstrap + sizeof(bootstrap) - (unsigned char *)p) : 0;
	void *q = resolving() ? bootstrap_alloc(size) : malloc(size);

	if (q && p)
		memcpy(q, p, size < room ? size : room);
	return q;
}

NO_SANITIZE
static size_t slot_of(uintptr_t ptr)
{
	return (size_t)(((uint64_t)ptr >> 4) * 0x9E3779B97F4A7C15ull >> (64 - TABLE_BITS));
}

/* One allocation call: false when it is the one to fail. */
NO_SANITIZE
static bool call_allowed(void)
{
	bool fail;

	lock();
	fail = fail_at && ++calls == fail_at;
	if (fail)
		fail_came = true;
	unlock();
	if (fail)
		errno = ENOMEM;
	return !fail;
}

NO_SANITIZE
static void track(void *p, size_t size, const void *caller)
{
	size_t i;

	if (!p)
		return;
	lock();
	i = slot_of((uintptr_t)p);
	for (size_t n = 0; n < TABLE_SLOTS && table[i].ptr; n++)
		i = (i + 1) & TABLE_MASK;
	if (table[i].ptr)
		overflowed = true;
	else
		table[i] = (struct entry){ (uintptr_t)p, size, caller, next_seq++ };
	unlock();
}

/* Whether slot `home` lies cyclically within (gap, at]: an entry there may not move to gap. */
NO_SANITIZE
static bool stays(size_t gap, size_t at, size_t home)
{
	return gap < at ? home > gap && home <= at : home > gap || home <= at;
}

NO_SANITIZE
static void untrack(const void *p)
{
	size_t i, j;

	lock();
	i = slot_of((uintptr_t)p);
	while (table[i].ptr && table[i].ptr != (uintptr_t)p)
		i = (i + 1) & TABLE_MASK;
	/* Not ours (made before tracking, or by a function we do not replace): nothing to do. */
	if (table[i].ptr) {
		for (j = (i + 1) & TABLE_MASK; table[j].ptr; j = (j + 1) & TABLE_MASK) {
			if (stays(i, j, slot_of(table[j].ptr)))
				continue;
			table[i] = table[j];
			i = j;
		}
		table[i].ptr = 0;
	}
	unlock();
}

NO_SANITIZE
void *malloc(size_t size)
{
	void *p;

	if (resolving())
		return bootstrap_alloc(size);
	if (!call_allowed())
		return NULL;
	p = next_malloc(size);
	track(p, size, __builtin_return_address(0));
	return p;
}

NO_SANITIZE
void *calloc(size_t count, size_t size)
{
	void *p;

	/* The arena is static, so zeroed, and never reused. */
	if (resolving())
		return size && count > SIZE_MAX / size ? NULL : bootstrap_alloc(count * size);
	if (!call_allowed())
		return NULL;
	p = next_calloc(count, size);
	track(p, count * size, __builtin_return_address(0));
	return p;
}

NO_SANITIZE
void free(void *p)
{
	if (!p || in_bootstrap(p))
		return;
	untrack(p);
	next_free(p);
}

NO_SANITIZE
void *realloc(void *p, size_t size)
{
	void *q;

	if (resolving() || in_bootstrap(p))
		return bootstrap_realloc(p, size);
	/* As glibc does: a size of 0 frees the block. */
	if (p && size == 0) {
		free(p);
		return NULL;
	}
	if (!call_allowed())
		return NULL;
	q = next_realloc(p, size);
	if (q) {
		if (p)
			untrack(p);
		track(q, size, __builtin_return_address(0));
	}
	return q;
}

NO_SANITIZE
int posix_memalign(void **out, size_t alignment, size_t size)
{
	int ret;

	if (resolving())
		return ENOMEM;
	if (!call_allowed())
		return ENOMEM;
	ret = next_posix_memalign(out, alignment, size);
	if (ret == 0)
		track(*out, size, __builtin_return_address(0));
	return ret;
}

NO_SANITIZE
void *aligned_alloc(size_t alignment, size_t size)
{
	void *p;

	if (resolving() || !call_allowed())
		return NULL;
	p = next_aligned_alloc(alignment, size);
	track(p, size, __builtin_return_address(0));
	return p;
}

NO_SANITIZE
void *memalign(size_t alignment, size_t size)
{
	void *p;

	if (resolving() || !call_allowed())
		return NULL;
	p = next_memalign(alignment, size);
	track(p, size, __builtin_return_address(0));
	return p;
}

#endif
