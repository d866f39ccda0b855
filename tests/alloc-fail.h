/* SPDX-License-Identifier: MIT */
/*
 * The test executable's own malloc family. Linked into a test, it takes the place of
 * libc's for the whole process, liborbit included: every call goes on to the next
 * allocator (libc's, or a sanitizer's), every block handed out is tracked until it is
 * freed, and the Nth allocation can be made to fail.
 */
#ifndef ORBIT_ALLOC_FAIL_H
#define ORBIT_ALLOC_FAIL_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Not with a sanitizer runtime linked into the executable (clang links its ASan and TSan
 * runtimes statically; TSan instruments even what it is told to leave alone): that
 * runtime replaces the malloc family itself. A test then has nothing to check: skip it.
 */
#if defined(__SANITIZE_THREAD__)
#define ALLOC_FAIL_UNAVAILABLE 1
#elif defined(__clang__) && defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
	__has_feature(memory_sanitizer)
#define ALLOC_FAIL_UNAVAILABLE 1
#endif
#endif

/* Fails the nth allocation from now on (1 = the next one) and only that; 0 fails none. */
void alloc_fail_nth(unsigned long nth);

/* Whether the allocation alloc_fail_nth() named has come (and failed). */
bool alloc_failed(void);

/* A live block: its size and the code that asked for it. */
struct alloc_block {
	size_t size;
	const void *caller;
};

/* A point in the sequence of allocations, for alloc_live_since(). */
unsigned long alloc_mark(void);

/*
 * The blocks allocated since `mark` and not freed yet, up to max of them into out (sorted
 * by caller, then size); returns how many there are. -1 if tracking ever ran out of room.
 */
long alloc_live_since(unsigned long mark, struct alloc_block *out, size_t max);

#endif
