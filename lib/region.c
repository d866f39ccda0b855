/* SPDX-License-Identifier: MIT */
/*
 * Region backing: aligned heap memory, or a POSIX shm segment that is created,
 * reserved, formatted and validated without ever exposing a half-made segment.
 */
#include "region.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"

#define REGION_ALIGN 64
/* How long a joiner waits for the holder of the creation lock to show some progress. */
#define REGION_LOCK_TIMEOUT_NS (2ull * 1000000000ull)
#define REGION_LOCK_POLL_NS    (200ull * 1000ull)
/*
 * How long an object without a header may still get one from an orbit-rs 0.1 creator,
 * counted from the object's last change: such creators take no lock, and write the
 * header a little after they size the object.
 */
#define REGION_CREATOR_GRACE_NS (1000ull * 1000000ull)
#define REGION_GRACE_POLL_NS	(1000ull * 1000ull)

int region_open_local(const struct region_spec *spec, struct region *region)
{
	void *base;
	int ret;

	if (posix_memalign(&base, REGION_ALIGN, spec->size))
		return -ENOMEM;
	memset(base, 0, spec->size);
	ret = spec->init(base, spec->head_len, spec->ctx);
	if (ret < 0) {
		free(base);
		return ret;
	}
	*region = (struct region){ .base = base, .size = spec->size, .shared = false, .fd = -1 };
	return 0;
}

/* What a formatter visibly changes as it works: the object's size, then its reserved pages. */
struct progress {
	off_t size;
	blkcnt_t blocks;
};

/* Whether the object changed since the last look, which it records. */
static bool progressed(int fd, struct progress *last)
{
	struct stat st;

	if (fstat(fd, &st) < 0 || (st.st_size == last->size && st.st_blocks == last->blocks))
		return false;
	*last = (struct progress){ .size = st.st_size, .blocks = st.st_blocks };
	return true;
}

/*
 * Creation and validation happen under an exclusive flock(2) on the object. The
 * kernel drops the lock when its holder dies, so a creator killed half-way leaves
 * an unformatted object the next joiner formats, never a wedged one. The wait follows
 * the holder's progress, not a fixed deadline: however big the ring, a joiner waits as
 * long as the holder keeps sizing the object or reserving its pages. A holder that shows
 * none for REGION_LOCK_TIMEOUT_NS (stopped, not dead) makes joiners fail with -ETIMEDOUT
 * instead of hanging.
 */
static int lock_segment(int fd)
{
	struct timespec pause = { .tv_nsec = REGION_LOCK_POLL_NS };
	struct progress last = { .size = -1, .blocks = -1 };
	uint64_t deadline = clock_mono_ns() + REGION_LOCK_TIMEOUT_NS;

	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		uint64_t now;

		if (errno != EWOULDBLOCK && errno != EINTR)
			return -errno;
		/* By the clock, not by naps counted: on a busy machine each nap runs long. */
		now = clock_mono_ns();
		if (progressed(fd, &last))
			deadline = now + REGION_LOCK_TIMEOUT_NS;
		else if (now >= deadline)
			return -ETIMEDOUT;
		nanosleep(&pause, NULL);
	}
	return 0;
}

static bool in_groups(gid_t gid)
{
	gid_t *list;
	bool found = gid == getegid();
	int n = getgroups(0, NULL);

	if (found || n <= 0 || !(list = calloc((size_t)n, sizeof(*list))))
		return found;
	n = getgroups(n, list);
	for (int i = 0; i < n && !found; i++)
		found = list[i] == gid;
	free(list);
	return found;
}

static int check_ours(const char *name, uid_t owner, const struct stat *st)
{
	if (!S_ISREG(st->st_mode)) {
		orbit_log_debug("%s: not a regular shm object", name);
		return -EPROTO;
	}
	if (st->st_uid != owner && owner == geteuid()) {
		orbit_log_debug("%s: owned by uid %u, not by us (uid %u)", name,
				(unsigned)st->st_uid, (unsigned)owner);
		return -EPERM;
	}
	if (st->st_uid != owner) {
		orbit_log_debug("%s: owned by uid %u, not by the fleet's owner (uid %u)", name,
				(unsigned)st->st_uid, (unsigned)owner);
		return -EPERM;
	}
	return 0;
}

/*
 * What the owner's mode grants the caller of another user's segment: the group bits, to
 * a member of its group. liborbit maps every segment to write it (readers give up dead
 * writers' counters, waiters count themselves in the header), so reading is not enough.
 */
static int check_granted(const char *name, const struct stat *st)
{
	if (st->st_uid == geteuid())
		return 0;
	if (!in_groups(st->st_gid)) {
		orbit_log_debug("%s: group %u, which we (uid %u) are not in, and owner uid %u",
				name, (unsigned)st->st_gid, (unsigned)geteuid(),
				(unsigned)st->st_uid);
		return -EACCES;
	}
	if ((st->st_mode & 0060) != 0060) {
		orbit_log_debug("%s: mode %04o lets group %u read only, and liborbit cannot join"
				" a fleet read-only",
				name, (unsigned)(st->st_mode & 07777), (unsigned)st->st_gid);
		return -EACCES;
	}
	return 0;
}

static int check_owner(const char *name, uid_t owner, const struct stat *st, mode_t mode)
{
	int ret = check_ours(name, owner, st);

	if (ret < 0)
		return ret;
	if (st->st_mode & 07777 & ~mode) {
		orbit_log_debug("%s: mode %04o grants more than the fleet's %04o", name,
				(unsigned)(st->st_mode & 07777), (unsigned)mode);
		return -EACCES;
	}
	return check_granted(name, st);
}

/* Says, under ORBIT_DEBUG, why an object that exists could not be opened to write it. */
static void explain_denied(const char *name, uid_t owner, mode_t mode)
{
	struct stat st;
	int fd = shm_open(name, O_RDONLY | O_NONBLOCK | O_CLOEXEC, 0);

	if (fd < 0 || fstat(fd, &st) < 0 || check_owner(name, owner, &st, mode) == 0)
		orbit_log_debug("%s: exists, but does not let us (uid %u) write it", name,
				(unsigned)geteuid());
	if (fd >= 0)
		close(fd);
}

/*
 * Opens the name, creating it if absent. Opening an existing object first (without
 * O_CREAT) lets a segment planted by another user fail on ownership, which fstat
 * reports, rather than on the sticky-directory rules that O_CREAT would trip.
 * glibc's shm_open adds O_NOFOLLOW, so a symlink planted under the name gives ELOOP.
 * A name of another user's is never created: the object would be ours, not theirs.
 */
static int shm_open_or_create(const char *name, uid_t owner, mode_t mode, bool *created)
{
	bool may_create = owner == geteuid();

	for (;;) {
		int fd = shm_open(name, O_RDWR | O_CLOEXEC, 0), error = fd < 0 ? errno : 0;

		*created = false;
		if (error == EACCES)
			explain_denied(name, owner, mode);
		if (error == ENOENT && !may_create) {
			orbit_log_debug("%s: does not exist, and only uid %u creates it", name,
					(unsigned)owner);
			return -ENOENT;
		}
		if (error != ENOENT)
			return fd >= 0 ? fd : -error;
		fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode);
		if (fd >= 0 || errno != EEXIST) {
			*created = true;
			return fd >= 0 ? fd : -errno;
		}
	}
}

static int map_segment(int fd, size_t size, void **base)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	if (p == MAP_FAILED)
		return -errno;
	*base = p;
	return 0;
}

/*
 * Reserves every page before anything touches them: on a full /dev/shm ftruncate
 * alone succeeds and the first store raises SIGBUS; posix_fallocate says ENOSPC.
 * Pages are not reserved twice: on tmpfs a second posix_fallocate clears every page
 * the first one reserved, seconds for a big ring left by a formatter that died.
 */
static int reserve_pages(int fd, const struct region_spec *spec, const struct stat *st)
{
	int ret;

	if ((uint64_t)st->st_blocks * 512 >= spec->size)
		return 0;
	/* tmpfs gives up on any signal, even a stop, and undoes it: it is safe to repeat. */
	do
		ret = posix_fallocate(fd, 0, (off_t)spec->size);
	while (ret == EINTR);
	if (ret) {
		orbit_log_debug("%s: cannot reserve %zu bytes: %s", spec->name, spec->size,
				ORBIT_ERRNAME(ret));
		return -ret;
	}
	return 0;
}

/*
 * Publishes the header in one write to the first page: the kernel acts on a fatal
 * signal only between pages, so a formatter that dies leaves all of it or none.
 */
static int write_header(int fd, const struct region_spec *spec)
{
	uint8_t head[REGION_HEAD_MAX] = { 0 };
	ssize_t n;
	int ret;

	ret = spec->init(head, spec->head_len, spec->ctx);
	if (ret < 0)
		return ret;
	n = pwrite(fd, head, spec->head_len, 0);
	if (n < 0)
		return -errno;
	return (size_t)n == spec->head_len ? 0 : -EIO;
}

/*
 * Formats, under the lock, an object nobody wrote a header into: grows it if it is
 * empty, reserves its pages, sets its mode and writes the header. It never shrinks or
 * clears it: another process may have it mapped, and tmpfs pages read zero until
 * written. A failure leaves it as it is, for the next joiner to format.
 */
static int format_segment(int fd, const struct region_spec *spec, const struct stat *st)
{
	int ret;

	if (st->st_size == 0 && ftruncate(fd, (off_t)spec->size) < 0)
		return -errno;
	ret = reserve_pages(fd, spec, st);
	if (ret < 0)
		return ret;
	/* Only when needed: a member of the owner's group formats, but may not chmod. */
	if ((st->st_mode & 07777) != spec->mode && fchmod(fd, spec->mode) < 0)
		return -errno;
	return write_header(fd, spec);
}

/* What the object under the lock is: REGION_UNFORMATTED, 0 (valid) or a negative errno. */
static int examine(int fd, const struct region_spec *spec, struct stat *st)
{
	uint8_t head[REGION_HEAD_MAX];
	ssize_t got;
	int ret;

	if (fstat(fd, st) < 0)
		return -errno;
	ret = check_owner(spec->name, spec->owner, st, spec->mode);
	if (ret < 0)
		return ret;
	if (st->st_size == 0)
		return REGION_UNFORMATTED;
	got = pread(fd, head, spec->head_len, 0);
	if (got < 0)
		return -errno;
	ret = spec->check(head, (size_t)got, (uint64_t)st->st_size, spec->ctx);
	/* Whoever sized it meant that size: resizing it is not ours to do. */
	if (ret == REGION_UNFORMATTED && (uint64_t)st->st_size != spec->size) {
		orbit_log_debug("%s: %lld bytes and no header, the fleet expects %zu bytes",
				spec->name, (long long)st->st_size, spec->size);
		return -EPROTO;
	}
	return ret;
}

static uint64_t timespec_ns(const struct timespec *t)
{
	return (uint64_t)t->tv_sec * 1000000000u + (uint64_t)t->tv_nsec;
}

/*
 * Whether a creator that takes no lock may still write the header: until the object has
 * been left alone for the grace period by its change times, and, as the wall clock can
 * be set back, for no longer than that since this joiner began to watch it.
 */
static bool creator_may_come(const struct stat *st, uint64_t *watched_since)
{
	uint64_t changed = timespec_ns(&st->st_ctim), now = clock_mono_ns();

	if (timespec_ns(&st->st_mtim) > changed)
		changed = timespec_ns(&st->st_mtim);
	if (!*watched_since)
		*watched_since = now;
	return clock_unix_ms() * 1000000u < changed + REGION_CREATOR_GRACE_NS &&
	       now - *watched_since < REGION_CREATOR_GRACE_NS;
}

/*
 * Locks the object and maps it if valid, or formats it if nobody wrote its header. An
 * object this process did not create may be an orbit-rs 0.1 creator's, which takes no
 * lock: while it may still write the header, the joiner looks again, letting go of the
 * lock in between. Once it saw none, a header that is not valid may be one being stored
 * field by field: that too is looked at again until the grace period is over.
 */
static int attach_segment(int fd, const struct region_spec *spec, bool created, void **base)
{
	struct timespec pause = { .tv_nsec = REGION_GRACE_POLL_NS };
	uint64_t watched_since = 0;
	struct stat st;
	int ret;

	for (;;) {
		bool missing;

		ret = lock_segment(fd);
		if (ret < 0)
			return ret;
		ret = examine(fd, spec, &st);
		missing = ret == REGION_UNFORMATTED || (ret == -EPROTO && watched_since);
		if (created || !missing || !creator_may_come(&st, &watched_since))
			break;
		flock(fd, LOCK_UN);
		nanosleep(&pause, NULL);
	}
	if (ret == REGION_UNFORMATTED)
		ret = format_segment(fd, spec, &st);
	return ret < 0 ? ret : map_segment(fd, spec->size, base);
}

/*
 * A second open file description of the mapped object, for byte-range locks. Not the
 * mapping's own: a mapping holds its file open, and a forked child inherits the mapping,
 * so locks taken through that file would outlive the process that took them.
 */
static int reopen_same(const char *name, int mapped)
{
	struct stat a, b;
	int fd = shm_open(name, O_RDWR | O_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &a) < 0 || fstat(mapped, &b) < 0 || a.st_ino != b.st_ino ||
	    a.st_dev != b.st_dev) {
		/* Unlinked and made again meanwhile: the name is no longer this object. */
		close(fd);
		return -ESTALE;
	}
	return fd;
}

int region_open_shm(const struct region_spec *spec, struct region *region)
{
	bool created;
	void *base = NULL;
	int fd, lock_fd = -1, ret;

	fd = shm_open_or_create(spec->name, spec->owner, spec->mode, &created);
	if (fd < 0) {
		orbit_log_debug("%s: shm_open: %s", spec->name, ORBIT_ERRNAME(fd));
		return fd;
	}
	ret = attach_segment(fd, spec, created, &base);
	/* Explicitly: the mapping keeps the open file alive, and with it a lock close() would leave. */
	flock(fd, LOCK_UN);
	if (ret == 0 && spec->keep_fd) {
		lock_fd = reopen_same(spec->name, fd);
		if (lock_fd < 0) {
			ret = lock_fd;
			munmap(base, spec->size);
		}
	}
	/*
	 * A failure leaves the name: another process may have the object open already, and
	 * removing the name would split the fleet between it and everyone who joins later.
	 */
	close(fd);
	if (ret < 0)
		return ret;
	*region =
		(struct region){ .base = base, .size = spec->size, .shared = true, .fd = lock_fd };
	return 0;
}

int region_probe_shm(const char *name, uid_t owner, void *head, size_t head_len, size_t *got,
		     uint64_t *object_size, mode_t *mode)
{
	struct stat st;
	ssize_t n;
	int fd, ret;

	/* Non-blocking: a FIFO planted under the name must not hang the probe. */
	fd = shm_open(name, O_RDONLY | O_NONBLOCK | O_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	ret = fstat(fd, &st) < 0 ? -errno : check_ours(name, owner, &st);
	n = ret == 0 ? pread(fd, head, head_len, 0) : 0;
	if (n < 0)
		ret = -errno;
	close(fd);
	if (ret < 0)
		return ret;
	*got = (size_t)n;
	*object_size = (uint64_t)st.st_size;
	*mode = st.st_mode & 07777;
	return 0;
}

void region_close(struct region *region)
{
	if (region->shared)
		munmap(region->base, region->size);
	else
		free(region->base);
	if (region->fd >= 0)
		close(region->fd);
	region->base = NULL;
}

bool region_shm_exists(const char *name)
{
	int fd = shm_open(name, O_RDONLY | O_NONBLOCK | O_CLOEXEC, 0);

	if (fd < 0)
		return errno != ENOENT;
	close(fd);
	return true;
}

/* Where glibc's shm_open(3) keeps the objects it names. */
#define REGION_SHM_DIR "/dev/shm"

int region_shm_shared(const char *prefix,
		      int (*found)(const char *name, const struct stat *st, void *ctx), void *ctx)
{
	char name[NAME_MAX + 2];
	struct dirent *entry;
	struct stat st;
	size_t len = strlen(prefix);
	int ret = 0;
	DIR *dir;

	if (prefix[0] != '/' || !(dir = opendir(REGION_SHM_DIR)))
		return 0;
	while (ret == 0 && (entry = readdir(dir))) {
		if (strncmp(entry->d_name, prefix + 1, len - 1) != 0 ||
		    fstatat(dirfd(dir), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode) || st.st_uid == geteuid() || !(st.st_mode & 0070) ||
		    !in_groups(st.st_gid))
			continue;
		snprintf(name, sizeof(name), "/%s", entry->d_name);
		ret = found(name, &st, ctx);
	}
	closedir(dir);
	return ret;
}

/*
 * Only the owner's objects go: a name holding another user's object (planted there, or
 * left by a squatter) is reported and left alone, even to root. In the sticky /dev/shm
 * no one but that other user and root can swap the object between lstat and unlink.
 */
int region_unlink(const char *name, uid_t owner)
{
	char path[PATH_MAX];
	struct stat st;
	int ret;

	snprintf(path, sizeof(path), REGION_SHM_DIR "%s", name);
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	ret = check_ours(name, owner, &st);
	if (ret < 0)
		return ret;
	if (shm_unlink(name) == 0)
		return 1;
	return errno == ENOENT ? 0 : -errno;
}
