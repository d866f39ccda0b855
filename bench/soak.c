/* SPDX-License-Identifier: MIT */
/*
 * bench/soak: a fleet of processes at work for a given time: ring writers and readers of
 * self-checking frames, cache peers, an event publisher and its subscriber, and
 * contenders for one contest subject. At the end it prints what moved and what was lost,
 * what was wrong (torn frames accepted, contest overlaps: both must be 0), and every
 * process's resident memory and open descriptors at the start and at the end.
 * A benchmark mode, not a test: `soak --seconds 60`.
 */
#include <orbit.h>

#include "benchutil.h"
#include "frame-pattern.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define FRAME_KIND   11
#define FLEET_NODES  64
#define PARENT_NODE  63
#define SUBJECT_KIND 1
#define SUBJECT	     "soak-leader"
#define CLAIM_TTL_MS 5000
#define CACHE_KEYS   512
#define TOPICS	     4
#define WAIT_MS	     100
/* Writers work in bursts and nap between them, so the soak leaves room for the rest. */
#define BURST	  64
#define NAP_US	  1000
#define HOLD_US	  200
#define MAX_PROCS 40
/* Resident growth worth a warning line: a leak shows as far more over a long soak. */
#define RSS_WARN_KIB 1024
#define PROGRESS_S   10

enum role { WRITER, READER, CACHE, PUBLISHER, SUBSCRIBER, CONTENDER, ROLES };

static const char *const role_names[ROLES] = { "writer",    "reader",	  "cache",
					       "publisher", "subscriber", "contender" };

/* One process's counters, in memory shared with the parent. */
struct proc {
	enum role role;
	int index; /* within its role */
	uint16_t node;
	pid_t pid;
	int status;
	uint64_t ops;	   /* frames written or delivered, cache calls, events, claims */
	uint64_t lost;	   /* frames a cursor passed unseen; events lagged */
	uint64_t bad;	   /* torn frames, corrupt cache values or events accepted */
	uint64_t disorder; /* one writer's frames delivered out of order */
	uint64_t errors;   /* results outside the documented set */
	int last_error;
	uint64_t cursor; /* where a reader or subscriber stopped */
	uint64_t hits, misses;
	uint64_t holds, busy, undecided;
	long rss_start_kib, rss_end_kib;
	int fds_start, fds_end;
};

struct soak {
	_Atomic int stop;	  /* the time is up */
	_Atomic int writers_done; /* ring writers that finished */
	_Atomic int publisher_done;
	_Atomic uint64_t warm_at_ns;  /* when each process takes its start sample */
	_Atomic int holders;	      /* contenders holding the subject now */
	_Atomic uint64_t last_token;  /* of the newest holder, plus one; 0: none yet */
	_Atomic uint64_t overlaps;    /* holds that began while another was running */
	_Atomic uint64_t regressions; /* fencing tokens not above the previous holder's */
	int nprocs;
	struct proc procs[MAX_PROCS];
};

struct options {
	unsigned seconds;
	unsigned writers, readers, caches, contenders;
};

static char fleet_name[64];
static struct soak *soak;

/* ---- footprint ---- */

static long rss_kib(void)
{
	long pages = -1, resident = -1;
	FILE *f = fopen("/proc/self/statm", "r");

	if (!f)
		return -1;
	if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
		resident = -1;
	fclose(f);
	return resident < 0 ? -1 : resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static int open_fds(void)
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *entry;
	int n = 0;

	if (!dir)
		return -1;
	while ((entry = readdir(dir)))
		n += entry->d_name[0] != '.';
	closedir(dir);
	return n - 1; /* the directory's own */
}

/* The start sample, once the fleet has warmed up; call often. */
static void footprint_tick(struct proc *me, bool *sampled)
{
	if (*sampled || mono_ns() < atomic_load(&soak->warm_at_ns))
		return;
	/* Once unsampled first: the buffers stdio and readdir allocate stay in the heap. */
	rss_kib();
	open_fds();
	me->rss_start_kib = rss_kib();
	me->fds_start = open_fds();
	*sampled = true;
}

static void footprint_end(struct proc *me, bool sampled)
{
	me->rss_end_kib = rss_kib();
	me->fds_end = open_fds();
	if (!sampled) {
		me->rss_start_kib = me->rss_end_kib;
		me->fds_start = me->fds_end;
	}
}

static void error(struct proc *me, int ret)
{
	me->errors++;
	me->last_error = ret;
}

static bool stopping(void)
{
	return atomic_load_explicit(&soak->stop, memory_order_relaxed);
}

/* ---- self-checking payloads for the cache and events ---- */

static uint64_t mix(uint64_t x)
{
	x += 0x9E3779B97F4A7C15ull;
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
	x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
	return x ^ (x >> 31);
}

/* key u32, writer u16, pad u16, version u64, check u64. */
struct record {
	uint32_t key;
	uint16_t writer;
	uint16_t pad;
	uint64_t version;
	uint64_t check;
};

static struct record record_make(uint32_t key, uint16_t writer, uint64_t version)
{
	struct record r = { .key = key, .writer = writer, .version = version };

	r.check = mix(((uint64_t)key << 32) ^ ((uint64_t)writer << 16) ^ mix(version));
	return r;
}

static bool record_valid(const struct record *r, size_t len, uint32_t key)
{
	struct record want;

	if (len != sizeof(*r) || r->key != key)
		return false;
	want = record_make(r->key, r->writer, r->version);
	return r->check == want.check && r->pad == 0;
}

/* ---- the roles ---- */

static void run_writer(struct proc *me, orbit_fleet_t *fleet)
{
	orbit_ring_t *ring;
	bool sampled = false;
	uint64_t seq = 0;
	int ret = orbit_fleet_ring(fleet, FRAME_KIND, &ring);

	if (ret < 0)
		error(me, ret);
	while (ret == 0 && !stopping()) {
		for (int i = 0; i < BURST; i++) {
			ret = pattern_write(ring, me->node, seq++, NULL);
			if (ret < 0) {
				error(me, ret);
				break;
			}
			me->ops++;
		}
		footprint_tick(me, &sampled);
		usleep(NAP_US);
	}
	footprint_end(me, sampled);
	atomic_fetch_add(&soak->writers_done, 1);
}

static void reader_check(orbit_ring_t *ring, struct proc *me, const orbit_frame_t *frame,
			 const void *buf, uint64_t *next_seq)
{
	uint16_t writer;
	uint64_t seq;

	if (pattern_verify(ring, frame, buf, &writer, &seq) < 0 || writer >= FLEET_NODES) {
		me->bad++;
		return;
	}
	/* next_seq holds seq + 1 of each writer's newest frame delivered. */
	if (seq < next_seq[writer])
		me->disorder++;
	next_seq[writer] = seq + 1;
	me->ops++;
}

static void run_reader(struct proc *me, orbit_fleet_t *fleet, unsigned writers)
{
	static uint8_t buf[1u << 16];
	uint64_t next_seq[FLEET_NODES] = { 0 };
	orbit_frame_t frame;
	orbit_ring_t *ring;
	bool sampled = false;
	int ret = orbit_fleet_ring(fleet, FRAME_KIND, &ring);

	if (ret < 0) {
		error(me, ret);
		footprint_end(me, sampled);
		return;
	}
	/* Until the writers are done and every counter they took is accounted for. */
	for (;;) {
		ret = orbit_ring_next(ring, &me->cursor, &frame, buf, sizeof(buf), &me->lost);
		if (ret == 0) {
			reader_check(ring, me, &frame, buf, next_seq);
		} else if (ret == -EAGAIN) {
			uint64_t head = orbit_ring_head(ring);

			if (atomic_load(&soak->writers_done) == (int)writers && me->cursor == head)
				break;
			if (me->cursor >= head)
				orbit_ring_wait(ring, me->cursor, WAIT_MS);
			else
				sched_yield();
		} else {
			error(me, ret);
		}
		footprint_tick(me, &sampled);
	}
	footprint_end(me, sampled);
}

static void cache_step(orbit_cache_t *cache, struct proc *me, uint64_t n)
{
	uint32_t key = (uint32_t)(mix(n ^ ((uint64_t)me->node << 40)) % CACHE_KEYS);
	char name[16];
	struct record r;
	size_t len = 0;
	int ret;

	snprintf(name, sizeof(name), "key-%u", key);
	if (n % 2 == 0) {
		r = record_make(key, me->node, n);
		ret = orbit_cache_put(cache, name, strlen(name), &r, sizeof(r), 0);
	} else {
		ret = orbit_cache_get(cache, name, strlen(name), &r, sizeof(r), &len);
		if (ret == 0) {
			me->hits++;
			if (!record_valid(&r, len, key))
				me->bad++;
		} else if (ret == -ENOENT) {
			me->misses++;
			ret = 0;
		}
	}
	if (ret < 0)
		error(me, ret);
	me->ops++;
}

static void run_cache(struct proc *me, orbit_fleet_t *fleet)
{
	orbit_cache_t *cache;
	bool sampled = false;
	int ret = orbit_cache_open(fleet, ORBIT_KIND_CACHE, &cache);

	if (ret < 0)
		error(me, ret);
	for (uint64_t n = 0; ret == 0 && !stopping(); n++) {
		cache_step(cache, me, n);
		if (n % BURST == BURST - 1) {
			footprint_tick(me, &sampled);
			usleep(NAP_US);
		}
	}
	footprint_end(me, sampled);
	if (ret == 0)
		orbit_cache_close(cache);
}

static void topic_name(char *buf, size_t size, uint32_t topic)
{
	snprintf(buf, size, "soak.topic-%u", topic);
}

static void run_publisher(struct proc *me, orbit_fleet_t *fleet)
{
	orbit_events_t *events;
	bool sampled = false;
	char topic[32];
	int ret = orbit_events_open(fleet, ORBIT_KIND_EVENTS, &events);

	if (ret < 0)
		error(me, ret);
	for (uint64_t seq = 0; ret == 0 && !stopping();) {
		for (int i = 0; i < BURST / 2; i++, seq++) {
			uint32_t t = (uint32_t)(seq % TOPICS);
			struct record r = record_make(t, me->node, seq);

			topic_name(topic, sizeof(topic), t);
			ret = orbit_events_publish(events, topic, &r, sizeof(r));
			if (ret < 0) {
				error(me, ret);
				break;
			}
			me->ops++;
		}
		footprint_tick(me, &sampled);
		usleep(NAP_US);
	}
	footprint_end(me, sampled);
	atomic_store(&soak->publisher_done, 1);
	if (ret == 0)
		orbit_events_close(events);
}

static void subscriber_check(struct proc *me, const orbit_event_t *ev, const struct record *r,
			     uint64_t *next_seq)
{
	char topic[32];

	if (ev->len != sizeof(*r) || r->key >= TOPICS || !record_valid(r, ev->len, r->key)) {
		me->bad++;
		return;
	}
	topic_name(topic, sizeof(topic), r->key);
	if (strcmp(topic, ev->topic) != 0) {
		me->bad++;
		return;
	}
	if (r->version < next_seq[r->key])
		me->disorder++;
	next_seq[r->key] = r->version + 1;
	me->ops++;
}

static void run_subscriber(struct proc *me, orbit_fleet_t *fleet)
{
	uint64_t next_seq[TOPICS] = { 0 };
	orbit_events_t *events;
	orbit_event_t ev;
	struct record r;
	bool sampled = false;
	int ret = orbit_events_open(fleet, ORBIT_KIND_EVENTS, &events);

	if (ret < 0) {
		error(me, ret);
		footprint_end(me, sampled);
		return;
	}
	me->cursor = orbit_events_oldest(events);
	for (;;) {
		ret = orbit_events_poll(events, &me->cursor, NULL, &ev, &r, sizeof(r), &me->lost);
		if (ret == 0) {
			subscriber_check(me, &ev, &r, next_seq);
		} else if (ret == -EAGAIN) {
			if (atomic_load(&soak->publisher_done) &&
			    me->cursor == orbit_events_head(events))
				break;
			orbit_events_wait(events, me->cursor, WAIT_MS);
		} else {
			error(me, ret);
		}
		footprint_tick(me, &sampled);
	}
	footprint_end(me, sampled);
	orbit_events_close(events);
}

/* Holds the subject briefly: nobody else may hold it meanwhile, and tokens only grow. */
static void hold(struct proc *me, orbit_guard_t *guard)
{
	uint64_t token = orbit_guard_token(guard), previous;
	int ret;

	if (atomic_fetch_add(&soak->holders, 1) != 0)
		atomic_fetch_add(&soak->overlaps, 1);
	/* Stored plus one: the first holder's token may be 0. */
	previous = atomic_exchange(&soak->last_token, token + 1);
	if (token + 1 <= previous)
		atomic_fetch_add(&soak->regressions, 1);
	me->holds++;
	usleep(HOLD_US);
	if (me->holds % 4 == 0) {
		ret = orbit_guard_renew(guard, CLAIM_TTL_MS);
		if (ret < 0)
			error(me, ret);
	}
	/* Off the count before the release lets the next holder in. */
	atomic_fetch_sub(&soak->holders, 1);
	ret = orbit_guard_release(guard);
	if (ret < 0)
		error(me, ret);
}

static void run_contender(struct proc *me, orbit_fleet_t *fleet)
{
	bool sampled = false;

	while (!stopping()) {
		orbit_guard_t *guard;
		uint16_t holder;
		int ret = orbit_contest_claim(fleet, SUBJECT_KIND, SUBJECT, role_names[me->role],
					      CLAIM_TTL_MS, &guard, &holder);

		me->ops++;
		if (ret == 0)
			hold(me, guard);
		else if (ret == -EBUSY)
			me->busy++;
		else if (ret == -EAGAIN)
			me->undecided++;
		else
			error(me, ret);
		footprint_tick(me, &sampled);
		usleep(ret == 0 ? NAP_US : NAP_US / 2);
	}
	footprint_end(me, sampled);
}

static void proc_main(struct proc *me, const struct options *o)
{
	orbit_fleet_t *fleet;
	int ret = orbit_fleet_join_shm(fleet_name, me->node, FLEET_NODES, NULL, &fleet);

	if (ret < 0) {
		error(me, ret);
		_exit(1);
	}
	switch (me->role) {
	case WRITER:
		run_writer(me, fleet);
		break;
	case READER:
		run_reader(me, fleet, o->writers);
		break;
	case CACHE:
		run_cache(me, fleet);
		break;
	case PUBLISHER:
		run_publisher(me, fleet);
		break;
	case SUBSCRIBER:
		run_subscriber(me, fleet);
		break;
	case CONTENDER:
		run_contender(me, fleet);
		break;
	default:
		break;
	}
	orbit_fleet_leave(fleet);
	_exit(0);
}

/* ---- the parent ---- */

static void add_procs(enum role role, unsigned count)
{
	for (unsigned i = 0; i < count && soak->nprocs < MAX_PROCS; i++) {
		struct proc *p = &soak->procs[soak->nprocs];

		p->role = role;
		p->index = (int)i;
		p->node = (uint16_t)soak->nprocs;
		soak->nprocs++;
	}
}

static int spawn_all(const struct options *o)
{
	for (int i = 0; i < soak->nprocs; i++) {
		pid_t pid = fork();

		if (pid < 0)
			return -errno;
		if (pid == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			proc_main(&soak->procs[i], o);
		}
		soak->procs[i].pid = pid;
	}
	return 0;
}

static uint64_t role_sum(enum role role, size_t offset)
{
	uint64_t sum = 0;

	for (int i = 0; i < soak->nprocs; i++)
		if (soak->procs[i].role == role)
			sum += *(const uint64_t *)((const char *)&soak->procs[i] + offset);
	return sum;
}

#define SUM(role, field) role_sum(role, offsetof(struct proc, field))

static uint64_t all_sum(size_t offset)
{
	uint64_t sum = 0;

	for (int r = 0; r < ROLES; r++)
		sum += role_sum((enum role)r, offset);
	return sum;
}

#define ALL(field) all_sum(offsetof(struct proc, field))

static void print_progress(unsigned elapsed)
{
	printf("  %4u s: frames written %" PRIu64 ", read %" PRIu64 ", cache calls %" PRIu64
	       ", events %" PRIu64 ", contest holds %" PRIu64 "\n",
	       elapsed, SUM(WRITER, ops), SUM(READER, ops), SUM(CACHE, ops), SUM(PUBLISHER, ops),
	       SUM(CONTENDER, holds));
	fflush(stdout);
}

static void print_footprint(void)
{
	printf("\nper process             rss start   rss end    growth   fds start  fds end\n");
	for (int i = 0; i < soak->nprocs; i++) {
		const struct proc *p = &soak->procs[i];
		char who[32];

		snprintf(who, sizeof(who), "%s %d", role_names[p->role], p->index);
		printf("  %-20s %8ld KiB %8ld KiB %+6ld KiB %9d %8d%s\n", who, p->rss_start_kib,
		       p->rss_end_kib, p->rss_end_kib - p->rss_start_kib, p->fds_start, p->fds_end,
		       p->rss_end_kib - p->rss_start_kib > RSS_WARN_KIB ? "  (grew)" : "");
	}
}

/* Every invariant that must hold; prints each one that does not. */
static int verdict(uint64_t head, uint64_t events_head)
{
	int failures = 0;

	for (int i = 0; i < soak->nprocs; i++) {
		const struct proc *p = &soak->procs[i];
		uint64_t expected = p->role == READER ? head : events_head;
		bool accounts = p->role != READER && p->role != SUBSCRIBER;

		if (!WIFEXITED(p->status) || WEXITSTATUS(p->status) != 0) {
			printf("FAIL: %s %d ended with status 0x%x\n", role_names[p->role],
			       p->index, p->status);
			failures++;
		}
		if (p->errors) {
			printf("FAIL: %s %d: %" PRIu64 " errors, the last %d\n",
			       role_names[p->role], p->index, p->errors, p->last_error);
			failures++;
		}
		if (p->fds_end != p->fds_start) {
			printf("FAIL: %s %d: %d descriptors at the start, %d at the end\n",
			       role_names[p->role], p->index, p->fds_start, p->fds_end);
			failures++;
		}
		/* A cursor accounts for every counter: delivered (or torn) or lost. */
		if (!accounts && (p->cursor != expected || p->ops + p->bad + p->lost != expected)) {
			printf("FAIL: %s %d: cursor %" PRIu64 ", %" PRIu64 " delivered + %" PRIu64
			       " lost of %" PRIu64 "\n",
			       role_names[p->role], p->index, p->cursor, p->ops, p->lost, expected);
			failures++;
		}
	}
	if (ALL(bad) || ALL(disorder) || atomic_load(&soak->overlaps) ||
	    atomic_load(&soak->regressions) || SUM(WRITER, ops) != head ||
	    SUM(PUBLISHER, ops) != events_head) {
		printf("FAIL: an invariant above is broken\n");
		failures++;
	}
	return failures;
}

static int report(const struct options *o, uint64_t head, uint64_t events_head, double secs)
{
	int failures;

	printf("\nran %.1f s: %u writers, %u readers, %u cache peers, 1 publisher, 1 subscriber, "
	       "%u contenders\n",
	       secs, o->writers, o->readers, o->caches, o->contenders);
	printf("frames written          %" PRIu64 " (ring head %" PRIu64 ")\n", SUM(WRITER, ops),
	       head);
	for (int i = 0; i < soak->nprocs; i++) {
		const struct proc *p = &soak->procs[i];

		if (p->role == READER)
			printf("frames read, reader %d   %" PRIu64 ", lost %" PRIu64 "\n", p->index,
			       p->ops, p->lost);
	}
	printf("torn frames accepted    %" PRIu64 "\n", SUM(READER, bad));
	printf("frames out of order     %" PRIu64 "\n", SUM(READER, disorder));
	printf("cache calls             %" PRIu64 " (gets: %" PRIu64 " hits, %" PRIu64
	       " misses), corrupt values %" PRIu64 "\n",
	       SUM(CACHE, ops), SUM(CACHE, hits), SUM(CACHE, misses), SUM(CACHE, bad));
	printf("events published        %" PRIu64 ", delivered %" PRIu64 ", lagged %" PRIu64
	       ", corrupt %" PRIu64 ", out of order %" PRIu64 "\n",
	       SUM(PUBLISHER, ops), SUM(SUBSCRIBER, ops), SUM(SUBSCRIBER, lost),
	       SUM(SUBSCRIBER, bad), SUM(SUBSCRIBER, disorder));
	printf("contest claims          %" PRIu64 ": %" PRIu64 " held, %" PRIu64 " busy, %" PRIu64
	       " undecided\n",
	       SUM(CONTENDER, ops), SUM(CONTENDER, holds), SUM(CONTENDER, busy),
	       SUM(CONTENDER, undecided));
	printf("contest overlaps        %" PRIu64 "\n", atomic_load(&soak->overlaps));
	printf("token regressions       %" PRIu64 "\n", atomic_load(&soak->regressions));
	printf("errors                  %" PRIu64 "\n", ALL(errors));
	print_footprint();
	failures = verdict(head, events_head);
	printf("\nresult: %s\n", failures ? "FAIL" : "PASS");
	return failures ? 1 : 0;
}

static void usage(FILE *out, const char *argv0)
{
	fprintf(out,
		"usage: %s [--seconds N] [--writers N] [--readers N] [--caches N] "
		"[--contenders N]\n"
		"Runs a fleet of processes against one shm fleet for N seconds (default 10) and\n"
		"prints frames written/read/lost, torn frames accepted, contest overlaps, and\n"
		"each process's resident memory and descriptors at the start and the end.\n"
		"Exits 1 if any invariant broke.\n",
		argv0);
}

static unsigned parse_count(const char *arg, const char *argv0)
{
	char *end;
	unsigned long v = strtoul(arg, &end, 10);

	if (*arg == '\0' || *end != '\0' || v > 100000) {
		usage(stderr, argv0);
		exit(2);
	}
	return (unsigned)v;
}

static void parse(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "seconds", required_argument, NULL, 's' },
		{ "writers", required_argument, NULL, 'w' },
		{ "readers", required_argument, NULL, 'r' },
		{ "caches", required_argument, NULL, 'c' },
		{ "contenders", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "s:w:r:c:n:h", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			o->seconds = parse_count(optarg, argv[0]);
			break;
		case 'w':
			o->writers = parse_count(optarg, argv[0]);
			break;
		case 'r':
			o->readers = parse_count(optarg, argv[0]);
			break;
		case 'c':
			o->caches = parse_count(optarg, argv[0]);
			break;
		case 'n':
			o->contenders = parse_count(optarg, argv[0]);
			break;
		case 'h':
			usage(stdout, argv[0]);
			exit(0);
		default:
			usage(stderr, argv[0]);
			exit(2);
		}
	}
	if (optind != argc || o->seconds == 0 ||
	    o->writers + o->readers + o->caches + o->contenders + 2 > MAX_PROCS) {
		usage(stderr, argv[0]);
		exit(2);
	}
}

int main(int argc, char **argv)
{
	struct options o = {
		.seconds = 10, .writers = 2, .readers = 2, .caches = 2, .contenders = 3
	};
	uint64_t start, head, events_head;
	orbit_fleet_t *fleet;
	orbit_ring_t *ring;
	orbit_events_t *events;
	int ret;

	parse(argc, argv, &o);
	soak = bench_shared_map(sizeof(*soak));
	if (!soak)
		return 1;
	snprintf(fleet_name, sizeof(fleet_name), "soak-%ld", (long)getpid());
	ret = orbit_fleet_join_shm(fleet_name, PARENT_NODE, FLEET_NODES, NULL, &fleet);
	if (ret == 0)
		ret = orbit_fleet_ring(fleet, FRAME_KIND, &ring);
	if (ret == 0)
		ret = orbit_events_open(fleet, ORBIT_KIND_EVENTS, &events);
	if (ret < 0) {
		fprintf(stderr, "soak: cannot set up fleet %s: %s\n", fleet_name, strerror(-ret));
		return 1;
	}
	add_procs(WRITER, o.writers);
	add_procs(READER, o.readers);
	add_procs(CACHE, o.caches);
	add_procs(PUBLISHER, 1);
	add_procs(SUBSCRIBER, 1);
	add_procs(CONTENDER, o.contenders);

	printf("soak: fleet %s, %u s\n", fleet_name, o.seconds);
	bench_print_machine(stdout);
	fflush(stdout);
	start = mono_ns();
	/* Start samples once the rings and the processes' own buffers have settled. */
	atomic_store(&soak->warm_at_ns,
		     start + (o.seconds >= 20 ? 2000000000ull : o.seconds * 100000000ull));
	ret = spawn_all(&o);
	for (unsigned s = 1; ret == 0 && s <= o.seconds; s++) {
		sleep(1);
		if (s % PROGRESS_S == 0)
			print_progress(s);
	}
	atomic_store(&soak->stop, 1);
	for (int i = 0; i < soak->nprocs; i++)
		if (soak->procs[i].pid > 0)
			waitpid(soak->procs[i].pid, &soak->procs[i].status, 0);
	head = orbit_ring_head(ring);
	events_head = orbit_events_head(events);
	ret = ret < 0 ? 1 : report(&o, head, events_head, (mono_ns() - start) / 1e9);
	orbit_events_close(events);
	orbit_fleet_unlink(fleet);
	orbit_fleet_leave(fleet);
	bench_shared_unmap(soak, sizeof(*soak));
	return ret;
}
