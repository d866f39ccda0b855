/* SPDX-License-Identifier: MIT */
/*
 * A block of memory and how it is backed: process-local (aligned heap) or a POSIX
 * shared-memory segment. The layer above formats and validates the contents through
 * the two callbacks; it never learns which backing it got.
 */
#ifndef ORBIT_REGION_H
#define ORBIT_REGION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

struct region {
	void *base;
	size_t size;
	bool shared; /* a POSIX shm mapping (other processes may map it too) */
	int fd;	     /* the object, opened again apart from the mapping when asked; else -1 */
};

/*
 * Writes the header of a new region into head (head_len bytes, zero on entry); the rest
 * of the region is zero. The region publishes it whole: for a segment, in one write.
 */
typedef int (*region_init_fn)(void *head, size_t head_len, void *ctx);

/*
 * Validates an existing segment from a private copy of its first head_len bytes
 * (fewer if the object is shorter) and its real size, before anything is mapped.
 * Returns 0, a negative errno, or REGION_UNFORMATTED when the header is all zero:
 * nobody ever wrote it, and the region formats the segment if its size is right.
 */
typedef int (*region_check_fn)(const void *head, size_t head_len, uint64_t object_size, void *ctx);

#define REGION_UNFORMATTED 1

struct region_spec {
	const char *name; /* shm name ("/orbit-..."); unused for local regions */
	/*
	 * Who must own the object; only a process of that uid creates it, and an object of
	 * another uid's must grant the caller's group read and write.
	 */
	uid_t owner;
	size_t size;
	size_t head_len; /* bytes copied for check(); at most REGION_HEAD_MAX */
	mode_t mode;	 /* permissions of a new segment; an existing one may grant no more */
	region_init_fn init;
	region_check_fn check;
	void *ctx;
	bool keep_fd; /* keep the object open (not through the mapping's file): for byte-range locks */
};

#define REGION_HEAD_MAX 256

int region_open_local(const struct region_spec *spec, struct region *region);
int region_open_shm(const struct region_spec *spec, struct region *region);
void region_close(struct region *region);

/*
 * Copies an existing segment's first head_len bytes (*got: fewer if it is shorter)
 * with its size and permission bits, without mapping or locking it; the owner is
 * checked as for a join.
 */
int region_probe_shm(const char *name, uid_t owner, void *head, size_t head_len, size_t *got,
		     uint64_t *object_size, mode_t *mode);

/*
 * Calls found() with the name (its leading '/' included) and lstat of every regular shm
 * object whose name starts with prefix and that another user shares with the caller's
 * group (its group is one of the caller's and its group bits grant something), until
 * found() returns non-zero, and returns that; 0 when no call did, or when the objects
 * cannot be listed.
 */
int region_shm_shared(const char *prefix,
		      int (*found)(const char *name, const struct stat *st, void *ctx), void *ctx);

/* Whether an object of that name exists, whether or not the caller may open it. */
bool region_shm_exists(const char *name);

/*
 * 1 if the name was removed, 0 if there was none, -EPERM (or -EPROTO: not a regular
 * object) if it holds an object that is not owner's, left in place; or a negative errno.
 */
int region_unlink(const char *name, uid_t owner);

#endif
