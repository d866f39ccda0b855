/* SPDX-License-Identifier: MIT */
/*
 * orbit bench: liborbit's ring beside a pipe, a unix socket, a POSIX message
 * queue and (where installed) Redis pub/sub, between two pinned processes:
 * one-way latency spinning and blocking, and throughput, at 64 and 256 bytes,
 * with the machine's cache-line limit for scale. The measuring is benchutil's
 * (bench/); this file chooses the figures, runs them and reports them.
 */
#include <orbit.h>

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "output.h"
#include "benchutil.h"
#include "redis.h"
#include "transport.h"

#define TIMEOUT_S 60
/* A ping-pong's timed sample lasts at least this long, so it amortises the timer. */
#define PINGPONG_SAMPLE_NS 2e3
/* A stream's samples last this fraction of the budget: long, as each includes the
 * receiver's lag behind the sender at its end (which the channel's buffer bounds). */
#define STREAM_SAMPLES 30

/* A median of fewer samples is marked as rough: stalls may have made most of them. */
#define ROUGH_PINGPONG_SAMPLES 50
#define ROUGH_STREAM_SAMPLES   5

/* Short first runs whose median sizes the real one's batches (bench_plan_fit). */
static const struct bench_plan pingpong_pilot = { .warmup = 20, .samples = 30, .batch = 1 };
static const struct bench_plan stream_pilot = { .warmup = 100, .samples = 5, .batch = 200 };

struct settings {
	const char *name;
	double budget_ns; /* how long each figure samples */
};

static const struct settings full_run = { .name = "full", .budget_ns = 1.5e9 };
static const struct settings quick_run = { .name = "quick", .budget_ns = 0.2e9 };

static const size_t sizes[] = { 64, 256 };
#define NSIZES (sizeof(sizes) / sizeof(sizes[0]))

/* liborbit first: the ratios are to it. Its batches are a way to use it, not a rival. */
static const struct bench_transport *const transports[] = {
	&bench_transport_orbit,	 &bench_transport_orbit_batched, &bench_transport_pipe,
	&bench_transport_socket, &bench_transport_mqueue,	 &bench_transport_redis,
};
#define NTRANSPORTS (sizeof(transports) / sizeof(transports[0]))

enum measure { HANDOFF, LATENCY, THROUGHPUT };

struct figure {
	enum measure what;
	const struct bench_transport *t; /* NULL for HANDOFF */
	size_t bytes;
	bool spin;
	const char *skip; /* why it is not measured, or NULL */
	int err;	  /* measuring it failed with this */
	unsigned samples; /* in its median */
	bool rough;	  /* too few samples: other processes kept stalling it */
	double ns; /* one-way (HANDOFF, LATENCY) or per message (THROUGHPUT); NaN if not measured */
};

#define FIGURE_MAX (1 + 4 * NSIZES * NTRANSPORTS)

struct run {
	const struct settings *set;
	bool json;
	int cpus[2];
	bool pinned; /* two CPUs: parent and child each on its own */
	struct bench_machine machine;
	struct bench_redis redis;
	const char *redis_skip; /* why Redis is not measured, or NULL once it runs */
	struct figure figures[FIGURE_MAX];
	size_t nfigures;
};

static const char bench_help[] =
	"Usage: orbit bench [--quick] [--json]\n"
	"\n"
	"Measure liborbit's ring beside a pipe, a unix socket pair, a POSIX message\n"
	"queue and, where redis-server is installed, Redis pub/sub on 127.0.0.1:\n"
	"one-way latency (receivers spinning, and blocking) and throughput, with\n"
	"64-byte and 256-byte messages between two processes pinned to two CPUs,\n"
	"and the cache-line limit of this machine. Each figure is a median over many\n"
	"samples; ratios say how many times faster liborbit is. A full run takes\n"
	"about a minute; progress is shown on standard error when it is a terminal.\n"
	"\n"
	"  --quick   a short run (about 10 s) with fewer samples\n"
	"  --json    one JSON object instead of the tables\n"
	"  --help    show this help\n";

static const struct option bench_options[] = {
	{ "quick", no_argument, NULL, 'q' },
	{ "json", no_argument, NULL, 'j' },
	{ "help", no_argument, NULL, 'h' },
	{ 0 },
};

static volatile sig_atomic_t bench_stopped;

static void bench_stop(int sig)
{
	(void)sig;
	bench_stopped = 1;
}

/* ---- choosing and measuring the figures ---- */

static void add_figure(struct run *r, enum measure what, const struct bench_transport *t,
		       size_t bytes, bool spin)
{
	struct figure *f = &r->figures[r->nfigures++];

	*f = (struct figure){ .what = what, .t = t, .bytes = bytes, .spin = spin, .ns = NAN };
	if (spin && !r->pinned)
		f->skip = "one usable CPU: nothing to spin against";
	else if (spin && !t->can_spin)
		f->skip = "does not spin";
	else if (t == &bench_transport_redis)
		f->skip = r->redis_skip;
}

static void plan_figures(struct run *r)
{
	r->nfigures = 0;
	r->figures[r->nfigures++] = (struct figure){ .what = HANDOFF, .spin = true, .ns = NAN };
	if (!r->pinned)
		r->figures[0].skip = "one usable CPU";
	for (size_t s = 0; s < NSIZES; s++)
		for (int spin = 1; spin >= 0; spin--)
			for (size_t t = 0; t < NTRANSPORTS; t++)
				if (!transports[t]->stream_only)
					add_figure(r, LATENCY, transports[t], sizes[s], spin);
	for (int spin = 1; spin >= 0; spin--)
		for (size_t s = 0; s < NSIZES; s++)
			for (size_t t = 0; t < NTRANSPORTS; t++)
				add_figure(r, THROUGHPUT, transports[t], sizes[s], spin);
}

static int run_once(const struct run *r, const struct figure *f, const struct bench_plan *plan,
		    struct bench_result *res)
{
	struct bench_channel ch = {
		.bytes = f->bytes,
		.spin = f->spin,
		.stream = f->what == THROUGHPUT,
		.redis = &r->redis,
	};

	if (f->what == HANDOFF)
		return bench_handoff_run(plan, r->cpus, TIMEOUT_S, res);
	return bench_transport_run(f->t, &ch, plan, r->cpus, TIMEOUT_S, res);
}

/* A pilot run sizes the batches; then samples for the run's budget. */
static void measure(const struct run *r, struct figure *f)
{
	bool stream = f->what == THROUGHPUT;
	double sample_ns = stream ? r->set->budget_ns / STREAM_SAMPLES : PINGPONG_SAMPLE_NS;
	struct bench_result res;
	struct bench_plan plan;
	int rc = run_once(r, f, stream ? &stream_pilot : &pingpong_pilot, &res);

	if (rc == 0) {
		plan = bench_plan_fit(res.median_ns, sample_ns, r->set->budget_ns);
		rc = run_once(r, f, &plan, &res);
	}
	f->err = rc;
	if (rc < 0)
		return;
	f->ns = stream ? res.median_ns : res.median_ns / 2;
	f->samples = res.samples;
	f->rough = res.samples < (stream ? ROUGH_STREAM_SAMPLES : ROUGH_PINGPONG_SAMPLES);
}

static bool any_rough(const struct run *r)
{
	for (size_t i = 0; i < r->nfigures; i++)
		if (r->figures[i].rough)
			return true;
	return false;
}

static void describe(const struct figure *f, char *buf, size_t size)
{
	if (f->what == HANDOFF)
		snprintf(buf, size, "cache-line hand-off");
	else if (f->what == LATENCY)
		snprintf(buf, size, "latency, %s, %s, %zu B", f->t->label,
			 f->spin ? "spinning" : "blocking", f->bytes);
	else
		snprintf(buf, size, "throughput, %s, %s, %zu B", f->t->label,
			 f->spin ? "spinning" : "blocking", f->bytes);
}

/* Returns false when interrupted. */
static bool measure_all(struct run *r, bool progress)
{
	size_t total = 0, done = 0;
	char what[96];

	for (size_t i = 0; i < r->nfigures; i++)
		total += !r->figures[i].skip;
	for (size_t i = 0; i < r->nfigures && !bench_stopped; i++) {
		struct figure *f = &r->figures[i];

		if (f->skip)
			continue;
		describe(f, what, sizeof(what));
		if (progress)
			fprintf(stderr, "\r\033[K[%2zu/%zu] %s", ++done, total, what);
		measure(r, f);
		if (f->err < 0 && !bench_stopped) {
			if (progress)
				fputs("\r\033[K", stderr);
			tool_error("bench: %s: %s", what, strerror(-f->err));
		}
	}
	if (progress)
		fputs("\r\033[K", stderr);
	return !bench_stopped;
}

/* ---- reporting ---- */

static const struct figure *find(const struct run *r, enum measure what,
				 const struct bench_transport *t, size_t bytes, bool spin)
{
	for (size_t i = 0; i < r->nfigures; i++) {
		const struct figure *f = &r->figures[i];

		if (f->what == what && f->t == t && f->bytes == bytes && f->spin == spin)
			return f;
	}
	return NULL;
}

/* How many times faster liborbit is: ns over liborbit's ns, for latency and per message alike. */
static double speedup(const struct run *r, const struct figure *f)
{
	const struct figure *orbit = find(r, f->what, &bench_transport_orbit, f->bytes, f->spin);

	return orbit ? f->ns / orbit->ns : NAN;
}

static double per_second(const struct figure *f)
{
	return 1e9 / f->ns;
}

static void cell_value(const struct figure *f, char *buf, size_t size)
{
	if (f->skip)
		snprintf(buf, size, "-");
	else if (f->err < 0 || isnan(f->ns))
		snprintf(buf, size, "failed");
	else
		snprintf(buf, size, "%.0f%s", f->ns, f->rough ? "*" : "");
}

static void cell_ratio(const struct run *r, const struct figure *f, char *buf, size_t size)
{
	double x = speedup(r, f);

	if (f->t == &bench_transport_orbit || f->t->stream_only || isnan(x))
		buf[0] = '\0';
	else
		snprintf(buf, size, "%.1fx", x);
}

static void cell_rate(const struct figure *f, char *buf, size_t size)
{
	double rate = per_second(f);

	if (f->skip)
		snprintf(buf, size, "-");
	else if (f->err < 0 || isnan(f->ns))
		snprintf(buf, size, "failed");
	else if (rate >= 1e6)
		snprintf(buf, size, "%.2f M%s", rate / 1e6, f->rough ? "*" : "");
	else if (rate >= 1e3)
		snprintf(buf, size, "%.1f k%s", rate / 1e3, f->rough ? "*" : "");
	else
		snprintf(buf, size, "%.0f%s", rate, f->rough ? "*" : "");
}

static void cell_mbps(const struct figure *f, char *buf, size_t size)
{
	if (f->skip || f->err < 0 || isnan(f->ns))
		buf[0] = '\0';
	else
		snprintf(buf, size, "%.1f", per_second(f) * (double)f->bytes / 1e6);
}

/* A line of a table, built cell by cell so that empty cells never leave trailing blanks. */
struct line {
	char text[256];
	size_t len;
};

/* The cell padded to width columns; a negative width pads it on the right. */
static void line_add(struct line *l, int width, const char *cell)
{
	/* A cell as wide as its column, or wider, is still set apart from the one before. */
	const char *gap = l->len > 0 && strlen(cell) >= (size_t)abs(width) ? " " : "";
	size_t room = sizeof(l->text) - l->len;
	int n = snprintf(l->text + l->len, room, "%s%*s", gap, width, cell);

	if (n > 0)
		l->len += (size_t)n < room ? (size_t)n : room - 1;
}

static void line_print(struct line *l)
{
	while (l->len > 0 && l->text[l->len - 1] == ' ')
		l->len--;
	printf("%.*s\n", (int)l->len, l->text);
	l->len = 0;
}

static void print_latency(const struct run *r)
{
	struct line l = { .len = 0 };
	char v[32], x[32];

	printf("\n%-16s%-30s%s\n", "one-way latency", "ns, spinning", "ns, blocking");
	line_add(&l, 16, "");
	for (int spin = 1; spin >= 0; spin--)
		for (size_t s = 0; s < NSIZES; s++) {
			snprintf(v, sizeof(v), "%zu B", sizes[s]);
			line_add(&l, 8, v);
			line_add(&l, 7, "");
		}
	line_print(&l);
	for (size_t t = 0; t < NTRANSPORTS; t++) {
		if (transports[t]->stream_only)
			continue;
		snprintf(v, sizeof(v), "  %s", transports[t]->label);
		line_add(&l, -16, v);
		for (int spin = 1; spin >= 0; spin--)
			for (size_t s = 0; s < NSIZES; s++) {
				const struct figure *f =
					find(r, LATENCY, transports[t], sizes[s], spin);

				cell_value(f, v, sizeof(v));
				cell_ratio(r, f, x, sizeof(x));
				line_add(&l, 8, v);
				line_add(&l, 7, x);
			}
		line_print(&l);
	}
}

static void print_throughput(const struct run *r, bool spin)
{
	struct line l = { .len = 0 };
	char rate[32], mb[32], x[32];

	line_add(&l, -16, "throughput,");
	for (size_t s = 0; s < NSIZES; s++) {
		snprintf(rate, sizeof(rate), "%zu B messages", sizes[s]);
		line_add(&l, -25, rate);
	}
	printf("\n");
	line_print(&l);
	line_add(&l, -16, spin ? "spinning" : "blocking");
	for (size_t s = 0; s < NSIZES; s++) {
		line_add(&l, 9, "msg/s");
		line_add(&l, 9, "MB/s");
		line_add(&l, 7, "");
	}
	line_print(&l);
	for (size_t t = 0; t < NTRANSPORTS; t++) {
		if (spin && !transports[t]->can_spin)
			continue;
		snprintf(rate, sizeof(rate), "  %s", transports[t]->label);
		line_add(&l, -16, rate);
		for (size_t s = 0; s < NSIZES; s++) {
			const struct figure *f = find(r, THROUGHPUT, transports[t], sizes[s], spin);

			cell_rate(f, rate, sizeof(rate));
			cell_mbps(f, mb, sizeof(mb));
			cell_ratio(r, f, x, sizeof(x));
			line_add(&l, 9, rate);
			line_add(&l, 9, mb);
			line_add(&l, 7, x);
		}
		line_print(&l);
	}
}

static void print_header(const struct run *r)
{
	const struct bench_machine *m = &r->machine;

	printf("liborbit %s beside pipes, unix sockets, message queues and Redis, %s run\n",
	       orbit_version(), r->set->name);
	printf("cpu      %s\n", m->cpu);
	printf("cpus     %ld online, %d usable by this process\n", m->cpus_online, m->cpus_usable);
	printf("kernel   %s\n", m->kernel);
	if (m->have_load)
		printf("load     %.2f %.2f %.2f (1, 5, 15 min, at start)\n", m->load[0], m->load[1],
		       m->load[2]);
	if (r->pinned)
		printf("pinning  parent on CPU %d, child on CPU %d (sched_setaffinity)\n",
		       r->cpus[0], r->cpus[1]);
	else
		printf("pinning  none: one usable CPU, spinning figures skipped\n");
	if (r->redis_skip)
		printf("redis    %s\n", r->redis_skip);
	else
		printf("redis    %s %s, a private server on 127.0.0.1:%u, unpinned\n",
		       r->redis.path, r->redis.version, r->redis.port);
	printf("method   latency: a ping-pong, one channel each way; one-way = median round\n"
	       "         trip / 2. Spinning receivers poll (orbit_ring_next, or read and\n"
	       "         mq_receive on non-blocking descriptors); blocking ones sleep in\n"
	       "         orbit_ring_wait, read, mq_receive or Redis's socket.\n"
	       "         throughput: the child sends as fast as the channel takes, the parent\n"
	       "         receives, spinning or blocking as above; the median of samples each\n"
	       "         1/%u of the time,\n"
	       "         from the child's first send to the parent's last receive. A ring\n"
	       "         overwrites rather than block its writer, so the ring's sender stays\n"
	       "         within half a ring of the count its receiver publishes on a 2nd ring.\n"
	       "         batches of %d: liborbit, orbit_ring_write_batch, and up to %d per\n"
	       "         orbit_ring_next_batch; the same flow control.\n"
	       "         unix socket: a SOCK_SEQPACKET socketpair; mqueue: fs.mqueue.msg_max\n"
	       "         deep; Redis: PUBLISH (reading its reply) to a SUBSCRIBEd connection.\n"
	       "         Each figure: a pilot run, then samples for %.1f s.\n",
	       STREAM_SAMPLES, BENCH_BATCH, BENCH_BATCH, r->set->budget_ns / 1e9);
	fflush(stdout);
}

static void print_tables(const struct run *r)
{
	const struct figure *h = &r->figures[0];
	char v[32];
	double load[3];

	cell_value(h, v, sizeof(v));
	printf("\ncache-line limit  %s ns one-way: a cache line handed from CPU to CPU, the floor\n"
	       "                  of any shared-memory channel\n",
	       v);
	print_latency(r);
	print_throughput(r, true);
	print_throughput(r, false);
	printf("\nx: how many times faster liborbit is (their ns / liborbit's ns; for throughput,\n"
	       "liborbit's messages/s / theirs); -: not measured (see above)\n");
	if (any_rough(r))
		printf("*: fewer than %d samples (%d for throughput) in its time: other processes\n"
		       "   kept stalling it, so it is a rough figure (see the load below)\n",
		       ROUGH_PINGPONG_SAMPLES, ROUGH_STREAM_SAMPLES);
	if (bench_load(load))
		printf("load     %.2f %.2f %.2f (1, 5, 15 min, at end)\n", load[0], load[1],
		       load[2]);
}

static void json_load(struct json *j, const char *key, bool have, const double load[3])
{
	json_key(j, key);
	if (!have) {
		json_null(j);
		return;
	}
	json_array_begin(j);
	for (int i = 0; i < 3; i++)
		json_double(j, load[i]);
	json_array_end(j);
}

static void json_figure(struct json *j, const struct run *r, const struct figure *f)
{
	json_object_begin(j);
	json_field_string(j, "transport", f->t->name);
	json_field_uint(j, "bytes", f->bytes);
	json_field_string(j, "mode", f->spin ? "spin" : "block");
	if (f->what == LATENCY) {
		json_field_double(j, "one_way_ns", f->ns);
	} else {
		json_field_double(j, "messages_per_s", per_second(f));
		json_field_double(j, "mb_per_s", per_second(f) * (double)f->bytes / 1e6);
	}
	json_field_double(j, "orbit_speedup", speedup(r, f));
	json_field_uint(j, "samples", f->samples);
	json_key(j, "rough");
	json_bool(j, f->rough);
	if (f->skip)
		json_field_string(j, "skipped", f->skip);
	else if (f->err < 0)
		json_field_string(j, "error", strerror(-f->err));
	json_object_end(j);
}

static void print_json(const struct run *r)
{
	const struct bench_machine *m = &r->machine;
	double load[3];
	bool have_load = bench_load(load);
	struct json j;

	json_init(&j, stdout);
	json_object_begin(&j);
	json_field_string(&j, "liborbit", orbit_version());
	json_field_string(&j, "run", r->set->name);
	json_key(&j, "machine");
	json_object_begin(&j);
	json_field_string(&j, "cpu", m->cpu);
	json_field_string(&j, "kernel", m->kernel);
	json_field_int(&j, "cpus_online", m->cpus_online);
	json_field_int(&j, "cpus_usable", m->cpus_usable);
	json_load(&j, "load_start", m->have_load, m->load);
	json_load(&j, "load_end", have_load, load);
	json_object_end(&j);
	json_key(&j, "cpus");
	json_array_begin(&j);
	for (int i = 0; i < 2 && r->pinned; i++)
		json_int(&j, r->cpus[i]);
	json_array_end(&j);
	if (r->redis_skip)
		json_field_null(&j, "redis");
	else
		json_field_string(&j, "redis", r->redis.version);
	json_field_double(&j, "cacheline_ns", r->figures[0].ns);
	for (enum measure what = LATENCY; what <= THROUGHPUT; what++) {
		json_key(&j, what == LATENCY ? "latency" : "throughput");
		json_array_begin(&j);
		for (size_t i = 0; i < r->nfigures; i++)
			if (r->figures[i].what == what)
				json_figure(&j, r, &r->figures[i]);
		json_array_end(&j);
	}
	json_object_end(&j);
	json_end_line(&j);
}

/* ---- the command ---- */

/* Before any pinning, so the server may run on any CPU. */
static void start_redis(struct run *r)
{
	int rc;

	if (!bench_redis_find(&r->redis)) {
		r->redis_skip = "redis-server not installed: skipped";
		return;
	}
	rc = bench_redis_start(&r->redis);
	if (rc < 0) {
		r->redis_skip = "redis-server did not start: skipped";
		tool_error("bench: %s did not start: %s", r->redis.path,
			   rc == -ECHILD ? "it exited before answering PING" : strerror(-rc));
	}
}

static void catch_signals(void)
{
	struct sigaction sa = { .sa_handler = bench_stop, .sa_flags = SA_RESTART };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static bool any_failed(const struct run *r)
{
	for (size_t i = 0; i < r->nfigures; i++)
		if (r->figures[i].err < 0)
			return true;
	return false;
}

int cmd_bench(int argc, char **argv)
{
	struct run *r = tool_calloc(1, sizeof(*r));
	bool completed;
	int c, status;

	r->set = &full_run;
	while ((c = getopt_long(argc, argv, ":h", bench_options, NULL)) != -1) {
		switch (c) {
		case 'q':
			r->set = &quick_run;
			break;
		case 'j':
			r->json = true;
			break;
		case 'h':
			free(r);
			return tool_help(bench_help);
		default:
			free(r);
			return tool_bad_option(argv[0], argv, c);
		}
	}
	if (optind < argc) {
		free(r);
		return tool_usage_error(argv[0], "takes no arguments");
	}
	catch_signals();
	bench_machine_info(&r->machine);
	r->pinned = bench_pick_cpus(r->cpus) >= 2;
	if (!r->pinned)
		r->cpus[0] = r->cpus[1] = -1;
	start_redis(r);
	plan_figures(r);
	if (!r->json)
		print_header(r);
	completed = measure_all(r, isatty(STDERR_FILENO));
	bench_redis_stop(&r->redis);
	if (!completed) {
		status = tool_error("bench: interrupted");
	} else {
		if (r->json)
			print_json(r);
		else
			print_tables(r);
		status = any_failed(r) ? TOOL_EXIT_ERROR : TOOL_EXIT_OK;
	}
	free(r);
	return status;
}
