/* SPDX-License-Identifier: MIT */
/*
 * A writer throttled by a CPU quota (CFS bandwidth control: 4 ms of CPU every 400 ms,
 * set on a cgroup of its own) writes 1 MiB frames while unthrottled writers lap it and
 * readers check every frame. The quota stops the writer for most of each period, often
 * with a slot held in the middle of its copy. It is alive, so its slot is never taken
 * from it: the lapping writers give their frames up (-EBUSY) instead, and no reader
 * accepts a torn frame. The suite exits 77 (skipped), saying why, where no cgroup with
 * the cpu controller can be made: not root, or neither a cgroup v2 hierarchy offering
 * the cpu controller nor a cgroup v1 cpu hierarchy is mounted.
 */
#include <orbit.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixture.h"
#include "frame-pattern.h"
#include "testutil.h"

#define KIND	    12
#define FLEET_SIZE  64
#define CAPACITY    4
#define PAYLOAD	    (1u << 20)
#define QUOTA_US    4000
#define PERIOD_US   400000
#define THROTTLED   0 /* node of the throttled writer; the lapping writers follow it */
#define LAPPERS	    2
#define WRITERS	    (1 + LAPPERS)
#define READERS	    2
#define READER_NODE 32
#define TEST_NODE   60
#define SKIP_EXIT   77
/* The throttled writer cycles through frames it made before the quota applied, so the
 * CPU time it is given goes into writing: a throttle then mostly lands inside a write. */
#define PREFILLED 8
/* Enough to show the pattern; each throttle inside a write gives about one per lapper. */
#define BUSY_WANTED   8
#define WRITES_WANTED 64
#define RUN_MAX_MS    10000
#define DEADLINE_MS   120000

/* ---- a cgroup with a CPU quota, in whichever hierarchy offers the cpu controller ---- */

/* Mount points longer than this are not looked at; messages cut paths shorter still. */
#define MOUNT_MAX 256

struct cpu_cgroup {
	char dir[MOUNT_MAX + 32];
	bool v2;
};

static int write_file(const char *dir, const char *name, const char *text)
{
	char path[MOUNT_MAX + 64];
	ssize_t len = (ssize_t)strlen(text), done;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	done = write(fd, text, (size_t)len);
	if (done != len) {
		int err = done < 0 ? -errno : -EIO;

		close(fd);
		return err;
	}
	return close(fd) < 0 ? -errno : 0;
}

static int read_file(const char *dir, const char *name, char *buf, size_t size)
{
	char path[MOUNT_MAX + 64];
	ssize_t got;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	got = read(fd, buf, size - 1);
	close(fd);
	if (got < 0)
		return -errno;
	buf[got] = '\0';
	return 0;
}

/* Whether a list separated by any of seps (a controllers file, mount options) names word. */
static bool has_word(const char *list, const char *word, const char *seps)
{
	size_t len = strlen(word);

	for (const char *p = list; *p; p += strcspn(p, seps), p += strspn(p, seps))
		if (strncmp(p, word, len) == 0 && (p[len] == '\0' || strchr(seps, p[len])))
			return true;
	return false;
}

/* Where a hierarchy of fstype ("cgroup2", or "cgroup" with the cpu controller) is mounted. */
static bool find_hierarchy(bool v2, char *mnt, size_t size)
{
	char line[1024], point[MOUNT_MAX], type[64], opts[512];
	bool found = false;
	FILE *info = fopen("/proc/self/mountinfo", "re");

	if (!info)
		return false;
	while (!found && fgets(line, sizeof(line), info)) {
		const char *tail = strstr(line, " - ");

		if (!tail || sscanf(line, "%*s %*s %*s %*s %255s", point) != 1 ||
		    sscanf(tail, " - %63s %*s %511s", type, opts) != 2)
			continue;
		if (v2 ? strcmp(type, "cgroup2") == 0
		       : strcmp(type, "cgroup") == 0 && has_word(opts, "cpu", ","))
			found = snprintf(mnt, size, "%s", point) < (int)size;
	}
	fclose(info);
	return found;
}

/* A cgroup v2 hierarchy whose root offers the cpu controller to its children. */
static int v2_parent(char *mnt, size_t size, char *why, size_t why_size)
{
	char controllers[512];

	if (!find_hierarchy(true, mnt, size)) {
		snprintf(why, why_size, "no cgroup v2 hierarchy mounted");
		return -ENOENT;
	}
	if (read_file(mnt, "cgroup.controllers", controllers, sizeof(controllers)) < 0 ||
	    !has_word(controllers, "cpu", " \n")) {
		snprintf(why, why_size, "cgroup v2 at %.200s offers no cpu controller", mnt);
		return -ENOENT;
	}
	if (read_file(mnt, "cgroup.subtree_control", controllers, sizeof(controllers)) == 0 &&
	    has_word(controllers, "cpu", " \n"))
		return 0;
	if (write_file(mnt, "cgroup.subtree_control", "+cpu") < 0) {
		snprintf(why, why_size, "cannot enable the cpu controller under %.200s", mnt);
		return -EPERM;
	}
	return 0;
}

static int cgroup_set_quota(const struct cpu_cgroup *cg)
{
	char text[64];
	int ret;

	if (cg->v2) {
		snprintf(text, sizeof(text), "%d %d", QUOTA_US, PERIOD_US);
		return write_file(cg->dir, "cpu.max", text);
	}
	snprintf(text, sizeof(text), "%d", PERIOD_US);
	ret = write_file(cg->dir, "cpu.cfs_period_us", text);
	snprintf(text, sizeof(text), "%d", QUOTA_US);
	return ret < 0 ? ret : write_file(cg->dir, "cpu.cfs_quota_us", text);
}

/*
 * Makes a child cgroup with the quota: under cgroup v2 where it offers the cpu controller,
 * else under the cgroup v1 cpu hierarchy (a host that still mounts one keeps the cpu
 * controller there, out of v2's reach). The same CFS bandwidth control either way.
 */
static int cpu_cgroup_create(struct cpu_cgroup *cg, char *why, size_t why_size)
{
	char mnt[MOUNT_MAX], v2_why[256];
	int ret;

	if (geteuid() != 0) {
		snprintf(why, why_size, "not root: cannot make a cgroup");
		return -EPERM;
	}
	cg->v2 = v2_parent(mnt, sizeof(mnt), v2_why, sizeof(v2_why)) == 0;
	if (!cg->v2 && !find_hierarchy(false, mnt, sizeof(mnt))) {
		snprintf(why, why_size, "%s, and no cgroup v1 cpu hierarchy", v2_why);
		return -ENOENT;
	}
	snprintf(cg->dir, sizeof(cg->dir), "%s/orbit-throttle-%ld", mnt, (long)getpid());
	if (mkdir(cg->dir, 0755) < 0 && errno != EEXIST) {
		ret = -errno;
		snprintf(why, why_size, "mkdir %.200s: errno %d", cg->dir, -ret);
		return ret;
	}
	ret = cgroup_set_quota(cg);
	if (ret < 0) {
		snprintf(why, why_size, "cannot set a CPU quota on %.200s: errno %d", cg->dir,
			 -ret);
		rmdir(cg->dir);
	}
	return ret;
}

static int cpu_cgroup_enter(const struct cpu_cgroup *cg, pid_t pid)
{
	char text[32];

	snprintf(text, sizeof(text), "%ld", (long)pid);
	return write_file(cg->dir, "cgroup.procs", text);
}

/* Periods in which the quota stopped the cgroup's processes (cpu.stat, v1 and v2 alike). */
static uint64_t cpu_cgroup_throttled(const struct cpu_cgroup *cg)
{
	char stat[1024];
	const char *p;

	if (read_file(cg->dir, "cpu.stat", stat, sizeof(stat)) < 0)
		return 0;
	p = strstr(stat, "nr_throttled ");
	return p ? strtoull(p + strlen("nr_throttled "), NULL, 10) : 0;
}

/* Empty once its members were reaped. */
static void cpu_cgroup_remove(const struct cpu_cgroup *cg)
{
	rmdir(cg->dir);
}

/* ---- the writers and readers ---- */

struct writer_report {
	_Atomic uint64_t written;
	_Atomic uint64_t busy;	 /* gave the frame up: an older lap's live writer had the slot */
	_Atomic uint64_t failed; /* anything but 0 and -EBUSY */
	_Atomic int last_error;
};

struct reader_report {
	uint64_t delivered;
	uint64_t throttled_frames; /* delivered frames of the throttled writer */
	uint64_t lost;
	uint64_t cursor;
	uint64_t torn;
	uint64_t head_reads;
	uint64_t head_torn;
	uint64_t errors; /* returns outside the documented set */
	int last_error;
	bool timed_out;
};

/* Shared (MAP_SHARED | MAP_ANONYMOUS) between the test and its children. */
struct throttle {
	_Atomic int stop;
	_Atomic int writers_done;
	struct writer_report writers[WRITERS];
	struct reader_report readers[READERS];
};

static int join_ring(uint16_t node, orbit_fleet_t **fleet, orbit_ring_t **ring)
{
	orbit_fleet_options_t opts = fixture_options(CAPACITY, PAYLOAD);
	int ret = orbit_fleet_join_shm(fixture_fleet_name, node, FLEET_SIZE, &opts, fleet);

	if (ret == 0 && (ret = orbit_fleet_ring(*fleet, KIND, ring)) < 0)
		orbit_fleet_leave(*fleet);
	return ret;
}

static void account_write(struct writer_report *rep, int ret)
{
	if (ret == 0) {
		atomic_fetch_add_explicit(&rep->written, 1, memory_order_relaxed);
	} else if (ret == -EBUSY) {
		atomic_fetch_add_explicit(&rep->busy, 1, memory_order_relaxed);
	} else {
		atomic_fetch_add_explicit(&rep->failed, 1, memory_order_relaxed);
		atomic_store(&rep->last_error, ret);
	}
}

/* Waits for the test's byte, or EOF, on fd: it has set everything up. */
static void await_release(int fd)
{
	char byte;

	while (read(fd, &byte, 1) < 0 && errno == EINTR)
		;
	close(fd);
}

static void run_throttled(void *arg, int ready_fd, int go_fd)
{
	struct throttle *shared = arg;
	struct writer_report *rep = &shared->writers[THROTTLED];
	static uint8_t payloads[PREFILLED][PAYLOAD];
	size_t lens[PREFILLED];
	orbit_fleet_t *f;
	orbit_ring_t *ring;
	char byte = 0;

	if (join_ring(THROTTLED, &f, &ring) < 0)
		_exit(1);
	for (uint64_t k = 0; k < PREFILLED; k++)
		lens[k] = pattern_fill(payloads[k], PAYLOAD, THROTTLED, k);
	if (write(ready_fd, &byte, 1) != 1)
		_exit(2);
	close(ready_fd);
	/* The test moves this process into the cgroup, then lets it go. */
	await_release(go_fd);
	for (uint64_t n = 0; !atomic_load(&shared->stop); n++) {
		uint64_t k = n % PREFILLED;

		account_write(rep,
			      pattern_write_filled(ring, THROTTLED, k, payloads[k], lens[k], NULL));
	}
	orbit_fleet_leave(f);
	atomic_fetch_add(&shared->writers_done, 1);
}

static void run_lapper(struct throttle *shared, int index)
{
	struct writer_report *rep = &shared->writers[index];
	uint16_t node = (uint16_t)(THROTTLED + index);
	orbit_fleet_t *f;
	orbit_ring_t *ring;

	if (join_ring(node, &f, &ring) < 0)
		_exit(1);
	for (uint64_t seq = 0; !atomic_load(&shared->stop); seq++)
		account_write(rep, pattern_write(ring, node, seq, NULL));
	orbit_fleet_leave(f);
	atomic_fetch_add(&shared->writers_done, 1);
}

static void check_delivered(orbit_ring_t *ring, const orbit_frame_t *frame, const void *buf,
			    struct reader_report *rep)
{
	uint16_t writer;
	uint64_t seq;

	rep->delivered++;
	if (pattern_verify(ring, frame, buf, &writer, &seq) < 0 || writer >= WRITERS)
		rep->torn++;
	else if (writer == THROTTLED)
		rep->throttled_frames++;
}

static void run_reader(struct throttle *shared, int index)
{
	static uint8_t buf[PAYLOAD];
	struct reader_report *rep = &shared->readers[index];
	uint64_t deadline = mono_ms() + DEADLINE_MS;
	orbit_frame_t frame;
	orbit_fleet_t *f;
	orbit_ring_t *ring;

	if (join_ring((uint16_t)(READER_NODE + index), &f, &ring) < 0)
		_exit(1);
	while (mono_ms() < deadline) {
		int ret = orbit_ring_next(ring, &rep->cursor, &frame, buf, sizeof(buf), &rep->lost);

		if (ret == 0) {
			check_delivered(ring, &frame, buf, rep);
		} else if (ret == -EAGAIN) {
			if (atomic_load(&shared->writers_done) == WRITERS &&
			    rep->cursor == orbit_ring_head(ring))
				break;
			/* At the head, or at a throttled writer's claim: let the writers run. */
			if (rep->cursor >= orbit_ring_head(ring))
				orbit_ring_wait(ring, rep->cursor, 20);
			else
				usleep(1000);
		} else {
			rep->errors++;
			rep->last_error = ret;
		}
		pattern_check_head(ring, WRITERS, &rep->head_reads, &rep->head_torn, &rep->errors,
				   &rep->last_error);
	}
	rep->timed_out = mono_ms() >= deadline;
	orbit_fleet_leave(f);
}

/* Forks a child that dies with the test process and runs body once released. */
static pid_t spawn(void (*body)(struct throttle *, int), struct throttle *shared, int index,
		   int release[2])
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid)
		return pid;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	close(release[1]);
	await_release(release[0]);
	body(shared, index);
	_exit(0);
}

static uint64_t lappers_busy(const struct throttle *shared)
{
	uint64_t busy = 0;

	for (int w = THROTTLED + 1; w < WRITERS; w++)
		busy += atomic_load(&shared->writers[w].busy);
	return busy;
}

static void print_report(const struct cpu_cgroup *cg, const struct throttle *shared,
			 uint64_t throttled, uint64_t ms, uint64_t head)
{
	fprintf(stderr,
		"throttled writer (cgroup %s, quota %d us per %d us): %" PRIu64
		" periods throttled, %" PRIu64 " ms, head %" PRIu64 "\n",
		cg->v2 ? "v2" : "v1", QUOTA_US, PERIOD_US, throttled, ms, head);
	for (int w = 0; w < WRITERS; w++) {
		const struct writer_report *rep = &shared->writers[w];

		fprintf(stderr,
			"  %s %d: written %" PRIu64 " gave up (-EBUSY) %" PRIu64 " failed %" PRIu64
			" (last %d)\n",
			w == THROTTLED ? "throttled writer" : "lapping writer", w,
			atomic_load(&rep->written), atomic_load(&rep->busy),
			atomic_load(&rep->failed), atomic_load(&rep->last_error));
	}
	for (int r = 0; r < READERS; r++) {
		const struct reader_report *rep = &shared->readers[r];

		fprintf(stderr,
			"  reader %d: delivered %" PRIu64 " (%" PRIu64
			" of the throttled writer) lost %" PRIu64 " torn %" PRIu64
			" head-reads %" PRIu64 " head-torn %" PRIu64 " errors %" PRIu64
			" (last %d)%s\n",
			r, rep->delivered, rep->throttled_frames, rep->lost, rep->torn,
			rep->head_reads, rep->head_torn, rep->errors, rep->last_error,
			rep->timed_out ? " TIMED OUT" : "");
	}
}

START_TEST(test_throttled_writer_keeps_its_slot)
{
	struct throttle *shared = mmap(NULL, sizeof(*shared), PROT_READ | PROT_WRITE,
				       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid_t throttled, lappers[LAPPERS], readers[READERS];
	uint64_t start, ms, periods, head;
	struct cpu_cgroup cg;
	int go, release[2];
	char why[512];
	orbit_ring_t *ring;

	ck_assert_ptr_ne(shared, MAP_FAILED);
	ck_assert_msg(cpu_cgroup_create(&cg, why, sizeof(why)) == 0, "%s", why);
	ck_assert_int_eq(join_ring(TEST_NODE, &fixture_fleet, &ring), 0);
	/* The throttled writer, joined and its frames made, outside the cgroup still. */
	throttled = test_spawn_ready(run_throttled, shared, "the throttled writer", &go);
	ck_assert_int_eq(cpu_cgroup_enter(&cg, throttled), 0);
	ck_assert_int_eq(pipe(release), 0);
	for (int r = 0; r < READERS; r++)
		readers[r] = spawn(run_reader, shared, r, release);
	for (int l = 0; l < LAPPERS; l++)
		lappers[l] = spawn(run_lapper, shared, THROTTLED + 1 + l, release);
	close(release[0]);
	start = mono_ms();
	close(release[1]);
	/* A byte, not EOF: the other children hold this pipe's write end too. */
	ck_assert_int_eq(write(go, "", 1), 1);
	close(go);

	/* Until the quota has stopped the writer inside writes a few times over. */
	while ((lappers_busy(shared) < BUSY_WANTED ||
		atomic_load(&shared->writers[THROTTLED].written) < WRITES_WANTED) &&
	       mono_ms() - start < RUN_MAX_MS)
		sleep_ms(50);
	atomic_store(&shared->stop, 1);
	test_reap_as(throttled, "throttled writer");
	for (int l = 0; l < LAPPERS; l++)
		test_reap_as(lappers[l], "lapping writer");
	for (int r = 0; r < READERS; r++)
		test_reap_as(readers[r], "reader");
	ms = mono_ms() - start;
	periods = cpu_cgroup_throttled(&cg);
	cpu_cgroup_remove(&cg);
	head = orbit_ring_head(ring);
	print_report(&cg, shared, periods, ms, head);

	for (int r = 0; r < READERS; r++) {
		const struct reader_report *rep = &shared->readers[r];

		ck_assert_msg(!rep->timed_out, "reader %d stalled at cursor %" PRIu64, r,
			      rep->cursor);
		ck_assert_msg(rep->torn == 0, "reader %d accepted %" PRIu64 " torn frames", r,
			      rep->torn);
		ck_assert_msg(rep->head_torn == 0, "reader %d: read_head gave %" PRIu64 " torn", r,
			      rep->head_torn);
		ck_assert_msg(rep->errors == 0, "reader %d: %" PRIu64 " errors (last %d)", r,
			      rep->errors, rep->last_error);
		ck_assert_uint_eq(rep->cursor, head);
		ck_assert_uint_eq(rep->delivered + rep->lost, head);
	}
	for (int w = 0; w < WRITERS; w++)
		ck_assert_msg(atomic_load(&shared->writers[w].failed) == 0,
			      "writer %d: %" PRIu64 " writes failed (last %d)", w,
			      atomic_load(&shared->writers[w].failed),
			      atomic_load(&shared->writers[w].last_error));
	ck_assert_uint_ge(atomic_load(&shared->writers[THROTTLED].written), WRITES_WANTED);
	ck_assert_msg(lappers_busy(shared) > 0,
		      "no lapping write gave its frame up in %" PRIu64 " ms (%" PRIu64
		      " periods throttled): lapping writers took the throttled writer's slot",
		      ms, periods);
	munmap(shared, sizeof(*shared));
}
END_TEST

static Suite *throttle_suite(void)
{
	Suite *suite = suite_create("throttle");
	TCase *quota = fixture_tcase(suite, "quota", 180);

	tcase_add_test(quota, test_throttled_writer_keeps_its_slot);
	return suite;
}

int main(void)
{
	struct cpu_cgroup cg;
	char why[512];

	/* Find out once, in the runner, whether the test can run here at all. */
	if (cpu_cgroup_create(&cg, why, sizeof(why)) < 0) {
		fprintf(stderr, "throttle: skipped: %s\n", why);
		return SKIP_EXIT;
	}
	cpu_cgroup_remove(&cg);
	return test_run("throttle", throttle_suite);
}
