/* SPDX-License-Identifier: MIT */
/*
 * Fleets shared between users: processes that drop root for numeric uids sharing one
 * group join the owner's fleet with ORBIT_FLEET_OWNER, are refused a separate fleet under
 * a shared name, a squatter's segment, a read-only join and creating the owner's segments.
 * The suite exits 77 (skipped), saying why, where it cannot run processes as other users.
 */
#include <orbit.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixture.h"
#include "testutil.h"

#define SKIP_EXIT 77
/* Numeric ids with no passwd or group entry: nothing on the machine uses them. */
#define SHARED_GID   64000
#define OUTSIDER_GID 64009
#define OWNER_UID    64001
#define MEMBER_UID   64002
#define STRANGER_UID 64003 /* in the shared group too, and plants segments */
#define KIND	     1
#define SUBJECT	     "group-lock"
#define TTL_MS	     60000

/* In a child that runs a step: reports a failed expectation and ends the step. */
#define EXPECT(cond)                                                               \
	do {                                                                       \
		if (!(cond)) {                                                     \
			fprintf(stderr, "%s:%d: uid %u: %s\n", __FILE__, __LINE__, \
				(unsigned)geteuid(), #cond);                       \
			return 1;                                                  \
		}                                                                  \
	} while (0)

/* Drops root for good, as a user's login would have it: one uid, one group. */
static int become(uid_t uid, gid_t gid)
{
	gid_t groups[] = { gid };

	if (setgroups(1, groups) < 0 || setgid(gid) < 0 || setuid(uid) < 0)
		return -errno;
	/* A changed uid leaves the process undumpable, which a user's process is not. */
	prctl(PR_SET_DUMPABLE, 1);
	return 0;
}

static pid_t fork_as(uid_t uid, gid_t gid)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (become(uid, gid) < 0)
			_exit(90);
	}
	return pid;
}

/* Runs step(arg) as uid in group gid, in a child; asserts it returned 0. */
static void run_as(uid_t uid, gid_t gid, int (*step)(void *arg), void *arg)
{
	pid_t pid = fork_as(uid, gid);

	if (pid == 0)
		_exit(step(arg));
	test_reap(pid);
}

static orbit_fleet_options_t group_options(uint32_t mode, uint32_t owner)
{
	orbit_fleet_options_t opts = ORBIT_FLEET_OPTIONS_INIT;

	opts.capacity = 16;
	opts.mode = mode;
	if (owner) {
		opts.flags = ORBIT_FLEET_OWNER;
		opts.owner = owner;
	}
	return opts;
}

static void shm_path(char *buf, size_t size, const char *word, uid_t uid)
{
	snprintf(buf, size, "/dev/shm/orbit-%s-%s-%u", fixture_fleet_name, word, (unsigned)uid);
}

static int exists(const char *word, uid_t uid)
{
	char path[512];
	struct stat st;

	shm_path(path, sizeof(path), word, uid);
	return stat(path, &st) == 0;
}

static int write_text(orbit_ring_t *ring, const char *text)
{
	return orbit_ring_write(ring, 1, 0, text, strlen(text) + 1, NULL);
}

static int read_text(orbit_ring_t *ring, uint64_t counter, const char *want)
{
	orbit_frame_t frame;
	char buf[64];
	int ret = orbit_ring_read_at(ring, counter, &frame, buf, sizeof(buf));

	return ret < 0 ? ret : strcmp(buf, want) == 0 ? 0 : -EBADMSG;
}

/* ---- steps, each run in a child as one of the users ---- */

/* The owner makes a fleet of `mode` with ring KIND and its first frame, and leaves it. */
static int owner_creates(void *arg)
{
	orbit_fleet_options_t opts = group_options(*(const uint32_t *)arg, 0);
	orbit_fleet_t *fleet;
	orbit_ring_t *ring;

	EXPECT(orbit_fleet_join_shm(fixture_fleet_name, 0, 2, &opts, &fleet) == 0);
	EXPECT(orbit_fleet_ring(fleet, KIND, &ring) == 0);
	EXPECT(write_text(ring, "owner") == 0);
	orbit_fleet_leave(fleet);
	return 0;
}

static void create_as_owner(uint32_t mode, gid_t gid)
{
	run_as(OWNER_UID, gid, owner_creates, &mode);
}

/* The member, in the owner's fleet: reads the owner's frame, writes, and a forked child too. */
static int member_writes(void *arg)
{
	orbit_fleet_options_t opts = group_options(0660, OWNER_UID);
	orbit_fleet_t *fleet;
	orbit_ring_t *ring;
	uint16_t holder = UINT16_MAX;
	orbit_guard_t *guard;
	pid_t pid;
	int status;

	(void)arg;
	EXPECT(orbit_fleet_join_shm(fixture_fleet_name, 1, 2, &opts, &fleet) == 0);
	EXPECT(orbit_fleet_ring(fleet, KIND, &ring) == 0);
	EXPECT(read_text(ring, 0, "owner") == 0);
	EXPECT(write_text(ring, "member") == 0);
	/* The owner, alive, holds the subject: the member's lease record says it cannot. */
	EXPECT(orbit_contest_claim(fleet, 1, SUBJECT, "member", TTL_MS, &guard, &holder) == -EBUSY);
	EXPECT(holder == 0);
	EXPECT(orbit_heartbeat(fleet) == 0);
	/* A forked child takes lease records of its own, through its own open of the table. */
	pid = fork();
	EXPECT(pid >= 0);
	if (pid == 0)
		_exit(write_text(ring, "member's child") == 0 ? 0 : 1);
	EXPECT(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && !WEXITSTATUS(status));
	EXPECT(read_text(ring, 2, "member's child") == 0);
	orbit_fleet_leave(fleet);
	return 0;
}

/* Once the owner let go of the subject, the member holds it. */
static int member_claims(void *arg)
{
	orbit_fleet_options_t opts = group_options(0660, OWNER_UID);
	uint64_t owner_token = *(const uint64_t *)arg;
	orbit_member_t members[2];
	orbit_fleet_t *fleet;
	orbit_guard_t *guard;
	uint16_t holder = UINT16_MAX;

	EXPECT(orbit_fleet_join_shm(fixture_fleet_name, 1, 2, &opts, &fleet) == 0);
	EXPECT(orbit_contest_claim(fleet, 1, SUBJECT, "member", TTL_MS, &guard, &holder) == 0);
	EXPECT(orbit_guard_token(guard) > owner_token);
	EXPECT(orbit_contest_holder(fleet, 1, SUBJECT, &holder) == 0 && holder == 1);
	EXPECT(orbit_guard_release(guard) == 0);
	EXPECT(orbit_heartbeat_snapshot(fleet, TTL_MS, members, 2) == 2);
	EXPECT(members[1].state == ORBIT_MEMBER_ALIVE);
	orbit_fleet_leave(fleet);
	return 0;
}

struct owner_pipes {
	int to_owner, from_owner;
};

static void signal_byte(int fd)
{
	char byte = 1;

	ck_assert_int_eq(write(fd, &byte, 1), 1);
}

static int wait_byte(int fd)
{
	char byte;

	return read(fd, &byte, 1) == 1 ? 0 : -EPIPE;
}

/* The owner, alive throughout: holds the subject, then reads the member's frame. */
static int owner_holds(int in, int out)
{
	orbit_fleet_options_t opts = group_options(0660, 0);
	uint16_t holder;
	orbit_fleet_t *fleet;
	orbit_guard_t *guard;
	orbit_ring_t *ring;
	uint64_t token;

	EXPECT(orbit_fleet_join_shm(fixture_fleet_name, 0, 2, &opts, &fleet) == 0);
	EXPECT(orbit_fleet_ring(fleet, KIND, &ring) == 0);
	EXPECT(write_text(ring, "owner") == 0);
	EXPECT(orbit_contest_claim(fleet, 1, SUBJECT, "owner", TTL_MS, &guard, &holder) == 0);
	EXPECT(orbit_heartbeat(fleet) == 0);
	token = orbit_guard_token(guard);
	EXPECT(write(out, &token, sizeof(token)) == sizeof(token));
	EXPECT(wait_byte(in) == 0);
	EXPECT(read_text(ring, 1, "member") == 0);
	EXPECT(orbit_guard_release(guard) == 0);
	signal_byte(out);
	EXPECT(wait_byte(in) == 0);
	orbit_fleet_leave(fleet);
	return 0;
}

START_TEST(test_member_shares_the_owners_fleet)
{
	int to_owner[2], from_owner[2];
	uint64_t token;
	pid_t owner;

	ck_assert_int_eq(pipe(to_owner), 0);
	ck_assert_int_eq(pipe(from_owner), 0);
	owner = fork_as(OWNER_UID, SHARED_GID);
	if (owner == 0) {
		close(to_owner[1]);
		close(from_owner[0]);
		_exit(owner_holds(to_owner[0], from_owner[1]));
	}
	close(to_owner[0]);
	close(from_owner[1]);
	ck_assert_int_eq(read(from_owner[0], &token, sizeof(token)), sizeof(token));
	run_as(MEMBER_UID, SHARED_GID, member_writes, NULL);
	signal_byte(to_owner[1]);
	ck_assert_int_eq(wait_byte(from_owner[0]), 0);
	run_as(MEMBER_UID, SHARED_GID, member_claims, &token);
	signal_byte(to_owner[1]);
	test_reap(owner);
	close(to_owner[1]);
	close(from_owner[0]);
	/* Every segment is the owner's, made with the fleet's mode. */
	ck_assert(exists("leases", OWNER_UID) && exists("subjects", OWNER_UID));
	ck_assert(!exists("leases", MEMBER_UID) && !exists("1", MEMBER_UID));
}
END_TEST

/* ---- a join without ORBIT_FLEET_OWNER ---- */

struct split_case {
	uint32_t mode;
	gid_t owner_gid;
	int want; /* from the member's first ring */
};

static const struct split_case split_cases[] = {
	{ 0660, SHARED_GID, -EEXIST }, /* shared with the member's group: refused */
	{ 0640, SHARED_GID, -EEXIST }, /* readable by it: refused too */
	{ 0600, SHARED_GID, 0 },       /* the owner's private fleet: the member gets its own */
	{ 0660, OUTSIDER_GID, 0 },     /* shared with a group the member is not in */
};

static int member_joins_own(void *arg)
{
	const struct split_case *c = arg;
	orbit_fleet_options_t opts = group_options(0660, 0);
	orbit_fleet_t *fleet;
	orbit_ring_t *ring;

	EXPECT(orbit_fleet_join_shm(fixture_fleet_name, 1, 2, &opts, &fleet) == 0);
	EXPECT(orbit_fleet_ring(fleet, KIND, &ring) == c->want);
	/* The flag naming ourselves is no flag: the same refusal, or the same own fleet. */
	orbit_fleet_leave(fleet);
	opts = group_options(0660, MEMBER_UID);
	EXPECT(orbit_fleet_join_shm(fixture_fleet_name, 1, 2, &opts, &fleet) == 0);
	EXPECT(orbit_fleet_ring(fleet, KIND, &ring) == c->want);
	if (c->want == 0)
		EXPECT(read_text(ring, 0, "owner") == -ENOENT);
	orbit_fleet_leave(fleet);
	return 0;
}

START_TEST(test_join_without_owner_flag)
{
	const struct split_case *c = &split_cases[_i];

	create_as_owner(c->mode, c->owner_gid);
	run_as(MEMBER_UID, SHARED_GID, member_joins_own, (void *)c);
	ck_assert_int_eq(exists("leases", MEMBER_UID), c->want == 0);
	ck_assert_int_eq(exists("1", MEMBER_UID), c->want == 0);
}
END_TEST

/* ---- squatters ---- */

struct squat_case {
	const char *word; /* the planted name's kind, or "leases" */
	mode_t mode;
	int want;
};

static const struct squat_case squat_cases[] = {
	{ "2", 0660, -EPERM },	/* the member may open it: the owner is wrong */
	{ "2", 0600, -EACCES }, /* the member may not even open it */
	{ "leases", 0660, -EPERM },
};

static int stranger_plants(void *arg)
{
	const struct squat_case *c = arg;
	char name[512];
	int fd;

	snprintf(name, sizeof(name), "/orbit-%s-%s-%u", fixture_fleet_name, c->word,
		 (unsigned)OWNER_UID);
	fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, c->mode);
	EXPECT(fd >= 0);
	EXPECT(fchmod(fd, c->mode) == 0);
	EXPECT(ftruncate(fd, 4096) == 0);
	EXPECT(write(fd, "squat", 5) == 5);
	close(fd);
	return 0;
}

static int member_meets_squatter(void *arg)
{
	const struct squat_case *c = arg;
	orbit_fleet_options_t opts = group_options(0660, OWNER_UID);
	orbit_fleet_t *fleet;
	orbit_ring_t *ring;
	uint8_t kind = strcmp(c->word, "leases") == 0 ? KIND : (uint8_t)atoi(c->word);

	EXPECT(orbit_fleet_join_shm(fixture_fleet_name, 1, 2, &opts, &fleet) == 0);
	EXPECT(orbit_fleet_ring(fleet, kind, &ring) == c->want);
	orbit_fleet_leave(fleet);
	return 0;
}

START_TEST(test_squatter_refused)
{
	const struct squat_case *c = &squat_cases[_i];
	struct stat before, after;
	char path[512], head[5];
	int fd;

	if (strcmp(c->word, "leases") != 0)
		create_as_owner(0660, SHARED_GID);
	run_as(STRANGER_UID, SHARED_GID, stranger_plants, (void *)c);
	shm_path(path, sizeof(path), c->word, OWNER_UID);
	ck_assert_int_eq(stat(path, &before), 0);
	run_as(MEMBER_UID, SHARED_GID, member_meets_squatter, (void *)c);
	ck_assert_int_eq(stat(path, &after), 0);
	ck_assert_uint_eq(after.st_uid, STRANGER_UID);
	ck_assert_uint_eq(after.st_mode, before.st_mode);
	ck_assert_int_eq(after.st_size, 4096);
	ck_assert_int_eq(after.st_mtim.tv_sec, before.st_mtim.tv_sec);
	ck_assert_int_eq(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(read(fd, head, sizeof(head)), sizeof(head));
	close(fd);
	ck_assert_mem_eq(head, "squat", sizeof(head));
}
END_TEST

/* ---- mode 0640: the group may read, and liborbit does not join read-only ---- */

static int member_reads_0640(void *arg)
{
	orbit_fleet_options_t opts = group_options(0640, OWNER_UID);
	orbit_fleet_t *fleet = NULL;
	orbit_ring_t *ring;

	(void)arg;
	EXPECT(orbit_fleet_join_shm(fixture_fleet_name, 1, 2, &opts, &fleet) == -EACCES);
	EXPECT(fleet == NULL);
	opts.mode = 0;
	EXPECT(orbit_fleet_join_shm(fixture_fleet_name, 1, 2, &opts, &fleet) == -EACCES);
	/* Probing reads, which the group may: it reports the fleet's mode. */
	opts.mode = 0;
	EXPECT(orbit_fleet_probe(fixture_fleet_name, KIND, &opts) == 0);
	EXPECT(opts.mode == 0640 && opts.capacity == 16);
	/* Asked with 0660, the join works, and the ring is refused: nothing is mapped. */
	opts.mode = 0660;
	EXPECT(orbit_fleet_join_shm(fixture_fleet_name, 1, 2, &opts, &fleet) == 0);
	EXPECT(orbit_fleet_ring(fleet, KIND, &ring) == -EACCES);
	orbit_fleet_leave(fleet);
	return 0;
}

START_TEST(test_read_only_join_refused)
{
	struct stat before, after;
	char path[512];

	create_as_owner(0640, SHARED_GID);
	shm_path(path, sizeof(path), "1", OWNER_UID);
	ck_assert_int_eq(stat(path, &before), 0);
	run_as(MEMBER_UID, SHARED_GID, member_reads_0640, NULL);
	ck_assert_int_eq(stat(path, &after), 0);
	ck_assert_int_eq(after.st_mtim.tv_sec, before.st_mtim.tv_sec);
	ck_assert_int_eq(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
	ck_assert_uint_eq(after.st_mode & 07777, 0640);
}
END_TEST

/* ---- what only the owner does ---- */

static int member_creates_nothing(void *arg)
{
	orbit_fleet_options_t opts = group_options(0660, OWNER_UID);
	orbit_fleet_t *fleet;
	orbit_ring_t *ring;

	(void)arg;
	EXPECT(orbit_fleet_join_shm(fixture_fleet_name, 1, 2, &opts, &fleet) == 0);
	EXPECT(orbit_fleet_ring(fleet, 2, &ring) == -ENOENT);
	EXPECT(orbit_fleet_ring(fleet, KIND, &ring) == 0);
	EXPECT(orbit_fleet_unlink(fleet) == -EACCES); /* the sticky /dev/shm refuses */
	orbit_fleet_leave(fleet);
	return 0;
}

static int member_finds_no_fleet(void *arg)
{
	orbit_fleet_options_t opts = group_options(0660, OWNER_UID);
	orbit_fleet_t *fleet;
	orbit_ring_t *ring;

	(void)arg;
	EXPECT(orbit_fleet_join_shm(fixture_fleet_name, 1, 2, &opts, &fleet) == 0);
	EXPECT(orbit_fleet_ring(fleet, KIND, &ring) == -ENOENT);
	orbit_fleet_leave(fleet);
	return 0;
}

START_TEST(test_member_creates_and_removes_nothing)
{
	/* No fleet yet: not even the lease table is the member's to make. */
	run_as(MEMBER_UID, SHARED_GID, member_finds_no_fleet, NULL);
	ck_assert(!exists("leases", OWNER_UID) && !exists("1", OWNER_UID));
	ck_assert(!exists("leases", MEMBER_UID) && !exists("1", MEMBER_UID));

	create_as_owner(0660, SHARED_GID);
	run_as(MEMBER_UID, SHARED_GID, member_creates_nothing, NULL);
	ck_assert(!exists("2", OWNER_UID) && !exists("2", MEMBER_UID));
	ck_assert(exists("1", OWNER_UID) && exists("leases", OWNER_UID));
}
END_TEST

static Suite *group_suite(void)
{
	Suite *suite = suite_create("group");
	TCase *share = fixture_tcase(suite, "share", 0);
	TCase *refuse = fixture_tcase(suite, "refuse", 0);

	tcase_add_test(share, test_member_shares_the_owners_fleet);
	tcase_add_loop_test(refuse, test_join_without_owner_flag, 0, ARRAY_SIZE(split_cases));
	tcase_add_loop_test(refuse, test_squatter_refused, 0, ARRAY_SIZE(squat_cases));
	tcase_add_test(refuse, test_read_only_join_refused);
	tcase_add_test(refuse, test_member_creates_and_removes_nothing);
	return suite;
}

/* Whether this process may run children as other users at all. */
static const char *cannot_switch_users(void)
{
	int status;
	pid_t pid;

	if (geteuid() != 0)
		return "only root can run processes as the test's users";
	pid = fork();
	if (pid < 0)
		return "cannot fork";
	if (pid == 0)
		_exit(become(OWNER_UID, SHARED_GID) < 0);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
		return "setgroups/setgid/setuid to the test's ids failed";
	return NULL;
}

int main(void)
{
	const char *why = cannot_switch_users();

	if (why) {
		fprintf(stderr, "group: skipped: %s\n", why);
		return SKIP_EXIT;
	}
	return test_run("group", group_suite);
}
