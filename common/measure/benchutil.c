/* SPDX-License-Identifier: MIT */
/* Timing, statistics and process helpers shared by the benchmarks (see benchutil.h). */
#include "benchutil.h"

#include <errno.h>
#include <getopt.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double bench_median(double *v, size_t n)
{
	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), compare_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double bench_best_ns_per_op(bench_loop_fn *fn, void *ctx, size_t ops, unsigned rounds)
{
	uint64_t best = UINT64_MAX;

	for (unsigned r = 0; r < rounds; r++) {
		uint64_t start = mono_ns();

		fn(ctx, ops);
		uint64_t took = mono_ns() - start;
		if (took < best)
			best = took;
	}
	return (double)best / (double)ops;
}

static void timer_loop(void *ctx, size_t ops)
{
	uint64_t *sink = ctx;

	for (size_t i = 0; i < ops; i++)
		*sink += mono_ns();
}

double bench_timer_ns(void)
{
	uint64_t sink = 0;

	return bench_best_ns_per_op(timer_loop, &sink, 100000, 5);
}

unsigned bench_pick_cpus(int cpus[2])
{
	cpu_set_t set;
	unsigned found = 0;

	cpus[0] = cpus[1] = -1;
	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		return 0;
	for (int cpu = 0; cpu < CPU_SETSIZE && found < 2; cpu++)
		if (CPU_ISSET(cpu, &set))
			cpus[found++] = cpu;
	return found;
}

int bench_pin(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return 0;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) < 0 ? -errno : 0;
}

/* The value of the first "key<spaces>: value" line of a /proc file, newline removed. */
static void read_proc_field(const char *path, const char *key, char *out, size_t size)
{
	char line[512];
	size_t key_len = strlen(key);
	FILE *f = fopen(path, "re");

	snprintf(out, size, "unknown");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');

		if (strncmp(line, key, key_len) != 0 || !colon)
			continue;
		colon += strspn(colon + 1, " \t") + 1;
		colon[strcspn(colon, "\n")] = '\0';
		snprintf(out, size, "%s", colon);
		break;
	}
	fclose(f);
}

bool bench_load(double avg[3])
{
	FILE *f = fopen("/proc/loadavg", "re");
	bool ok;

	if (!f)
		return false;
	/* The 1, 5 and 15 minute averages; the rest of the line is not load. */
	ok = fscanf(f, "%lf %lf %lf", &avg[0], &avg[1], &avg[2]) == 3;
	fclose(f);
	return ok;
}

void bench_format_load(char *buf, size_t size)
{
	double avg[3];

	if (bench_load(avg))
		snprintf(buf, size, "%.2f %.2f %.2f", avg[0], avg[1], avg[2]);
	else
		snprintf(buf, size, "unknown");
}

void bench_machine_info(struct bench_machine *m)
{
	struct utsname uts;
	cpu_set_t set;

	read_proc_field("/proc/cpuinfo", "model name", m->cpu, sizeof(m->cpu));
	if (uname(&uts) == 0)
		snprintf(m->kernel, sizeof(m->kernel), "%s %s %s", uts.sysname, uts.release,
			 uts.machine);
	else
		snprintf(m->kernel, sizeof(m->kernel), "unknown");
	m->cpus_online = sysconf(_SC_NPROCESSORS_ONLN);
	m->cpus_usable = sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set) : 0;
	m->have_load = bench_load(m->load);
}

void bench_print_machine(FILE *out)
{
	struct bench_machine m;
	char load[128];

	bench_machine_info(&m);
	bench_format_load(load, sizeof(load));
	fprintf(out, "cpu      %s\n", m.cpu);
	fprintf(out, "cpus     %ld online, %d usable by this process\n", m.cpus_online,
		m.cpus_usable);
	fprintf(out, "kernel   %s\n", m.kernel);
	fprintf(out, "load     %s (1, 5, 15 min, at start)\n", load);
}

void *bench_shared_map(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

void bench_shared_unmap(void *p, size_t size)
{
	if (p)
		munmap(p, size);
}

/* Forks a child that dies with its parent; the child never returns from fn. */
static pid_t fork_child(void (*fn)(void *arg), void *arg)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid != 0)
		return pid < 0 ? -errno : pid;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	fn(arg);
	_exit(0);
}

static int wait_child(pid_t pid, int *status)
{
	while (waitpid(pid, status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

/* 0 when the child exited with status 0, else -ECHILD. */
static int reap_child(pid_t pid)
{
	int status;

	if (wait_child(pid, &status) < 0)
		return -ECHILD;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -ECHILD;
}

/* Set by the echo child as it ends; the parent reads it, also from a signal handler. */
struct echo_status {
	volatile sig_atomic_t done;
	volatile sig_atomic_t rc;
};

/* One step of each side: a round trip of a ping-pong, or one message of a stream. */
typedef int pair_step_fn(const struct bench_pingpong *pp);

struct pair_roles {
	pair_step_fn *lead;
	pair_step_fn *child;
	bool stream;
};

static int lead_round_trip(const struct bench_pingpong *pp)
{
	int rc = pp->send(pp->ctx, 0);

	return rc < 0 ? rc : pp->receive(pp->ctx, 1);
}

static int echo_round_trip(const struct bench_pingpong *pp)
{
	int rc = pp->receive(pp->ctx, 0);

	return rc < 0 ? rc : pp->send(pp->ctx, 1);
}

static int stream_receive(const struct bench_pingpong *pp)
{
	return pp->receive(pp->ctx, 1);
}

static int stream_send(const struct bench_pingpong *pp)
{
	return pp->send(pp->ctx, 1);
}

static const struct pair_roles pingpong_roles = { .lead = lead_round_trip,
						  .child = echo_round_trip };
static const struct pair_roles stream_roles = { .lead = stream_receive,
						.child = stream_send,
						.stream = true };

/*
 * In memory shared by the parent and the child. A stream's sample runs from
 * the child's first send of it (starts, written before that send) to the
 * parent's last receive: a parent catching up on a backlog cannot make a
 * sample look faster than the child produced it.
 */
struct pair_shared {
	struct echo_status status;
	_Atomic uint64_t starts[]; /* per sample, streams only */
};

struct echo_run {
	const struct bench_pingpong *pp;
	const struct bench_plan *plan;
	pair_step_fn *child_step;
	struct pair_shared *shared;
	bool stream;
	int cpu;
};

/* The messages a stream's sender holds back go out before a sample ends. */
static int stream_flush(const struct echo_run *run)
{
	const struct bench_pingpong *pp = run->pp;

	return run->stream && pp->flush ? pp->flush(pp->ctx, 1) : 0;
}

static void echo_main(void *arg)
{
	const struct echo_run *run = arg;
	const struct bench_pingpong *pp = run->pp;
	struct echo_status *status = &run->shared->status;
	int rc;

	/* A parent that catches Ctrl-C to clean up learns of it from our exit (SIGCHLD). */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	rc = bench_pin(run->cpu);
	if (rc == 0 && pp->child_setup)
		rc = pp->child_setup(pp->ctx);
	for (unsigned i = 0; rc == 0 && i < run->plan->warmup; i++)
		rc = run->child_step(pp);
	rc = rc == 0 ? stream_flush(run) : rc;
	for (unsigned s = 0; rc == 0 && s < run->plan->samples; s++) {
		if (run->stream)
			atomic_store(&run->shared->starts[s], mono_ns());
		for (unsigned b = 0; rc == 0 && b < run->plan->batch; b++)
			rc = run->child_step(pp);
		rc = rc == 0 ? stream_flush(run) : rc;
	}
	if (pp->child_teardown)
		pp->child_teardown(pp->ctx);
	status->rc = rc < 0 ? rc : 0;
	status->done = 1;
	_exit(rc < 0 ? 1 : 0);
}

/* How far the lead got: samples[0..taken) are filled. */
struct lead_outcome {
	unsigned taken;
	bool partial; /* max_ns ran out: the child has steps left that nobody will answer */
};

static int lead_samples(const struct echo_run *run, pair_step_fn *step, double *samples,
			struct lead_outcome *out)
{
	const struct bench_plan *plan = run->plan;
	uint64_t begin = mono_ns();
	int rc = 0;

	*out = (struct lead_outcome){ .taken = 0 };
	for (unsigned i = 0; rc == 0 && i < plan->warmup; i++) {
		rc = step(run->pp);
		/* Not a stream's: its samples must start where the child's do. */
		if (!run->stream && plan->max_ns && mono_ns() - begin > plan->max_ns / 10) {
			out->partial = i + 1 < plan->warmup;
			break;
		}
	}
	for (unsigned s = 0; rc == 0 && s < plan->samples; s++) {
		uint64_t start = mono_ns(), end;

		for (unsigned b = 0; rc == 0 && b < plan->batch; b++)
			rc = step(run->pp);
		end = mono_ns();
		/* The child stored it before sending the messages just received. */
		if (run->stream)
			start = atomic_load(&run->shared->starts[s]);
		samples[s] = (double)(end - start) / plan->batch;
		out->taken = s + 1;
		if (plan->max_ns && end - begin > plan->max_ns) {
			out->partial = out->partial || out->taken < plan->samples;
			break;
		}
	}
	return rc;
}

static sigjmp_buf lead_abort;
static volatile sig_atomic_t lead_abort_reason;
static struct echo_status *lead_peer;

static void on_alarm(int sig)
{
	(void)sig;
	lead_abort_reason = -ETIME;
	siglongjmp(lead_abort, 1);
}

/* A child gone before its last round trip leaves the lead waiting for ever. */
static void on_child_exit(int sig)
{
	(void)sig;
	if (lead_peer->done && lead_peer->rc == 0)
		return;
	lead_abort_reason = -ECHILD;
	siglongjmp(lead_abort, 1);
}

/*
 * A lead whose peer died (or whose wake-up was lost) may spin or block for
 * ever: SIGCHLD or the alarm jumps out of it. The leads hold no locks and
 * allocate nothing, so abandoning one mid-call leaves nothing inconsistent here.
 * SIGCHLD is blocked on entry (since before the fork) and on return.
 */
static int lead_guarded(const struct echo_run *run, pair_step_fn *step, double *samples,
			struct lead_outcome *out, unsigned timeout_s)
{
	struct sigaction alarm_action = { .sa_handler = on_alarm };
	struct sigaction child_action = { .sa_handler = on_child_exit, .sa_flags = SA_RESTART };
	struct sigaction saved_alarm, saved_child;
	sigset_t sigchld;
	int rc;

	sigemptyset(&sigchld);
	sigaddset(&sigchld, SIGCHLD);
	/* Neither handler may interrupt the other's jump. */
	sigaddset(&alarm_action.sa_mask, SIGCHLD);
	sigaddset(&child_action.sa_mask, SIGALRM);
	if (sigaction(SIGALRM, &alarm_action, &saved_alarm) < 0)
		return -errno;
	if (sigaction(SIGCHLD, &child_action, &saved_child) < 0) {
		rc = -errno;
		sigaction(SIGALRM, &saved_alarm, NULL);
		return rc;
	}
	lead_abort_reason = 0;
	if (sigsetjmp(lead_abort, 1) == 0) {
		/* Delivers at once a SIGCHLD from a child that failed already. */
		sigprocmask(SIG_UNBLOCK, &sigchld, NULL);
		alarm(timeout_s);
		rc = lead_samples(run, step, samples, out);
		sigprocmask(SIG_BLOCK, &sigchld, NULL);
		alarm(0);
	} else {
		alarm(0);
		rc = lead_abort_reason;
	}
	sigaction(SIGCHLD, &saved_child, NULL);
	sigaction(SIGALRM, &saved_alarm, NULL);
	return rc;
}

static double clamp(double v, double lo, double hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

struct bench_plan bench_plan_fit(double op_ns, double sample_ns, double budget_ns)
{
	struct bench_plan plan;
	double expected;

	if (!(op_ns > 0)) /* also NaN: an unmeasured pilot */
		op_ns = 1;
	plan.batch = (unsigned)clamp(sample_ns / op_ns + 1, 1, 1e6);
	expected = budget_ns / (plan.batch * op_ns);
	plan.samples = (unsigned)clamp(4 * expected, 15, 100000);
	/* Enough to fill caches and pipelines and wake the CPUs up; no more. */
	plan.warmup = (unsigned)clamp(expected * plan.batch / 10 + 1, 1, 20000);
	plan.max_ns = (uint64_t)budget_ns;
	return plan;
}

/* The parent runs roles->lead and the child roles->child, as bench_pingpong_run describes. */
static int pair_run(const struct bench_pingpong *pp, const struct pair_roles *roles,
		    const struct bench_plan *plan, const int cpus[2], unsigned timeout_s,
		    struct bench_result *result)
{
	struct echo_run run = {
		.pp = pp,
		.plan = plan,
		.child_step = roles->child,
		.stream = roles->stream,
		.cpu = cpus[1],
	};
	size_t shared_size = sizeof(*run.shared) +
			     (roles->stream ? plan->samples * sizeof(run.shared->starts[0]) : 0);
	double *samples = calloc(plan->samples ? plan->samples : 1, sizeof(*samples));
	struct sigaction ignore = { .sa_handler = SIG_IGN }, saved_pipe;
	struct lead_outcome outcome = { .taken = 0 };
	sigset_t sigchld, saved_mask;
	pid_t pid;
	int rc;

	run.shared = bench_shared_map(shared_size);
	rc = !samples || !run.shared ? -ENOMEM : bench_pin(cpus[0]);
	if (rc < 0)
		goto out;
	sigemptyset(&sigchld);
	sigaddset(&sigchld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &sigchld, &saved_mask);
	sigaction(SIGPIPE, &ignore, &saved_pipe);
	pid = fork_child(echo_main, &run);
	if (pid < 0) {
		rc = pid;
	} else {
		lead_peer = &run.shared->status;
		rc = lead_guarded(&run, roles->lead, samples, &outcome, timeout_s);
		if (rc < 0 || outcome.partial)
			kill(pid, SIGKILL);
		if (reap_child(pid) < 0 && rc == 0 && !outcome.partial)
			rc = -ECHILD;
		/* The child's own error says more than "the child failed". */
		if (rc == -ECHILD && run.shared->status.rc < 0)
			rc = run.shared->status.rc;
		lead_peer = NULL;
	}
	sigaction(SIGPIPE, &saved_pipe, NULL);
	sigprocmask(SIG_SETMASK, &saved_mask, NULL);
	if (rc == 0)
		*result = (struct bench_result){ .median_ns = bench_median(samples, outcome.taken),
						 .samples = outcome.taken };
out:
	bench_shared_unmap(run.shared, shared_size);
	free(samples);
	return rc;
}

int bench_pingpong_run(const struct bench_pingpong *pp, const struct bench_plan *plan,
		       const int cpus[2], unsigned timeout_s, struct bench_result *result)
{
	return pair_run(pp, &pingpong_roles, plan, cpus, timeout_s, result);
}

int bench_stream_run(const struct bench_pingpong *pp, const struct bench_plan *plan,
		     const int cpus[2], unsigned timeout_s, struct bench_result *result)
{
	return pair_run(pp, &stream_roles, plan, cpus, timeout_s, result);
}

int bench_words_run(int (*send)(void *ctx, int dir), int (*receive)(void *ctx, int dir),
		    const struct bench_plan *plan, const int cpus[2], unsigned timeout_s,
		    struct bench_result *result)
{
	struct bench_words w = { .boxes = bench_shared_map(2 * sizeof(struct bench_mailbox)) };
	struct bench_pingpong pp = { .send = send, .receive = receive, .ctx = &w };
	int rc;

	if (!w.boxes)
		return -ENOMEM;
	rc = bench_pingpong_run(&pp, plan, cpus, timeout_s, result);
	bench_shared_unmap(w.boxes, 2 * sizeof(struct bench_mailbox));
	return rc;
}

static int handoff_send(void *ctx, int dir)
{
	struct bench_words *w = ctx;

	/* Pairs with the acquire load in handoff_receive. */
	atomic_store_explicit(&w->boxes[dir].word, ++w->seqs[dir], memory_order_release);
	return 0;
}

static int handoff_receive(void *ctx, int dir)
{
	struct bench_words *w = ctx;
	uint32_t expected = ++w->seqs[dir];

	/* Pairs with the release store in handoff_send. */
	while (atomic_load_explicit(&w->boxes[dir].word, memory_order_acquire) != expected)
		cpu_relax();
	return 0;
}

int bench_handoff_run(const struct bench_plan *plan, const int cpus[2], unsigned timeout_s,
		      struct bench_result *result)
{
	return bench_words_run(handoff_send, handoff_receive, plan, cpus, timeout_s, result);
}

/* Written by the filtered child, read by the parent once the child is gone. */
struct syscall_trap {
	volatile sig_atomic_t trapped;
	volatile long syscall_nr;
	volatile int setup_errno;
};

static struct syscall_trap *child_trap;

/* SECCOMP_RET_TRAP raises SIGSYS naming the call; exit_group is still allowed. */
static void on_sigsys(int sig, siginfo_t *info, void *uctx)
{
	(void)sig;
	(void)uctx;
	child_trap->syscall_nr = info->si_syscall;
	child_trap->trapped = 1;
	_exit(3);
}

static int forbid_syscalls(void)
{
	struct sock_filter filter[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_exit_group, 2, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_exit, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {
		.len = sizeof(filter) / sizeof(filter[0]),
		.filter = filter,
	};
	struct sigaction sys_action = { .sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO };

	sigemptyset(&sys_action.sa_mask);
	if (sigaction(SIGSYS, &sys_action, NULL) < 0 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
		return -errno;
	return 0;
}

struct filtered_run {
	bench_loop_fn *fn;
	void *ctx;
	size_t ops;
};

static void filtered_main(void *arg)
{
	const struct filtered_run *run = arg;
	int rc = forbid_syscalls();

	if (rc < 0) {
		child_trap->setup_errno = -rc;
		_exit(4);
	}
	run->fn(run->ctx, run->ops);
	_exit(0);
}

int bench_run_without_syscalls(bench_loop_fn *fn, void *ctx, size_t ops,
			       struct bench_syscall_check *check)
{
	struct filtered_run run = { .fn = fn, .ctx = ctx, .ops = ops };
	int status, rc = 0;
	pid_t pid;

	child_trap = bench_shared_map(sizeof(*child_trap));
	if (!child_trap)
		return -ENOMEM;
	pid = fork_child(filtered_main, &run);
	if (pid < 0) {
		rc = pid;
		goto out;
	}
	rc = wait_child(pid, &status);
	if (rc < 0)
		goto out;
	if (child_trap->setup_errno) {
		rc = -child_trap->setup_errno;
		goto out;
	}
	*check = (struct bench_syscall_check){
		.ran_clean = WIFEXITED(status) && WEXITSTATUS(status) == 0 && !child_trap->trapped,
		.syscall_nr = child_trap->trapped ? child_trap->syscall_nr : -1,
		.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0,
	};
out:
	bench_shared_unmap(child_trap, sizeof(*child_trap));
	child_trap = NULL;
	return rc;
}

int bench_parse_quick(int argc, char **argv, void (*usage)(FILE *out), bool *quick)
{
	static const struct option options[] = {
		{ "quick", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	*quick = false;
	while ((opt = getopt_long(argc, argv, "qh", options, NULL)) != -1) {
		switch (opt) {
		case 'q':
			*quick = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return -EINVAL;
	}
	return 0;
}
