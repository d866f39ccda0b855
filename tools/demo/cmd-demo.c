/* SPDX-License-Identifier: MIT */
/*
 * orbit demo: forks worker processes into a fresh shared-memory fleet
 * (worker.c) and shows, live, what this process reads back from that
 * fleet (view.c); then stops the workers and removes the fleet.
 *
 * Workers are forked, not exec'd: there is no hidden command to expose and no
 * binary to find again, and they are forked before this process touches
 * liborbit, so each worker starts with no library state and joins the fleet by
 * name on its own, as independent programs would.
 */
#include <orbit.h>

#include <errno.h>
#include <getopt.h>
#include <langinfo.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "demo.h"
#include "cli.h"
#include "commands.h"
#include "fleets.h"
#include "output.h"
#include "basics.h"

#define DEMO_WORKERS_DEFAULT 4
#define DEMO_SECONDS_DEFAULT 5
#define DEMO_SECONDS_MAX     86400
#define DEMO_FRAME_MS	     200  /* the table is redrawn five times a second */
#define DEMO_LINE_MS	     1000 /* off a terminal: one line a second */
#define DEMO_STOP_MS	     3000 /* workers get this long to leave before SIGKILL */

static const char demo_help[] =
	"Usage: orbit demo [--workers N] [--seconds S] [--fleet NAME] [--json]\n"
	"\n"
	"Start N worker processes that join one new shared-memory fleet and, ten times\n"
	"a second, beat, publish a made-up load as a typed value, and compete for one\n"
	"job (\"nightly-report\") through the contest, publishing events as they go.\n"
	"This process joins the same fleet and shows only what it reads there: on a\n"
	"terminal a table redrawn in place, elsewhere a line a second and the final\n"
	"table. After S seconds or Ctrl-C it stops the workers and removes the fleet's\n"
	"segments.\n"
	"\n"
	"  --workers N   worker processes, 1 to 32 (default 4)\n"
	"  --seconds S   how long to run, 1 to 86400, or 0 for until Ctrl-C (default 5)\n"
	"  --fleet NAME  the fleet's name (default demo-PID); it must not exist yet\n"
	"  --json        no table: one JSON object with the final state\n"
	"  --help        show this help\n";

static const struct option demo_options[] = {
	{ "workers", required_argument, NULL, 'w' }, { "seconds", required_argument, NULL, 's' },
	{ "fleet", required_argument, NULL, 'f' },   { "json", no_argument, NULL, 'j' },
	{ "help", no_argument, NULL, 'h' },	     { 0 },
};

struct demo {
	char fleet[256];
	uint16_t workers;
	uint64_t seconds; /* 0: until a signal */
	bool json;
	bool live; /* redrawing in place on a terminal */
	struct demo_style style;
	pid_t pids[DEMO_WORKERS_MAX + 1]; /* by node; 0 when not running */
	int failed_node;		  /* a worker that exited early or failed, or 0 */
	int failed_status;
	uint64_t started_ms;
	unsigned drawn; /* lines of the live frame on the screen now */
	struct demo_view view;
};

/* In the parent: stop the demo. In a worker (its own copy): leave the fleet. */
static volatile sig_atomic_t demo_stopped;

static void demo_stop(int sig)
{
	(void)sig;
	demo_stopped = 1;
}

/* Without SA_RESTART, so a sleep ends at once. */
static void catch_signal(int sig)
{
	struct sigaction sa = { .sa_handler = demo_stop };

	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

/* Returns -1 to go on, or the exit status to leave with at once. */
static int parse_options(struct demo *d, int argc, char **argv)
{
	uint64_t v;
	int c;

	while ((c = getopt_long(argc, argv, ":h", demo_options, NULL)) != -1) {
		switch (c) {
		case 'w':
			if (tool_parse_u64(optarg, DEMO_WORKERS_MAX, &v) < 0 || v == 0)
				return tool_usage_error(argv[0],
							"--workers wants a number from 1 to %d, "
							"not '%s'",
							DEMO_WORKERS_MAX, optarg);
			d->workers = (uint16_t)v;
			break;
		case 's':
			if (tool_parse_option(argv[0], "--seconds", optarg, DEMO_SECONDS_MAX,
					      &d->seconds))
				return TOOL_EXIT_USAGE;
			break;
		case 'f':
			if (!tool_fleet_name_ok(argv[0], optarg))
				return TOOL_EXIT_USAGE;
			snprintf(d->fleet, sizeof(d->fleet), "%s", optarg);
			break;
		case 'j':
			d->json = true;
			break;
		case 'h':
			return tool_help(demo_help);
		default:
			return tool_bad_option(argv[0], argv, c);
		}
	}
	if (optind < argc)
		return tool_usage_error(argv[0], "takes no arguments");
	return -1;
}

/* ---- the workers ---- */

static void worker_main(const struct demo *d, uint16_t node, pid_t parent)
{
	signal(SIGINT, SIG_IGN); /* Ctrl-C is the parent's: it stops us once it has drawn */
	signal(SIGHUP, SIG_IGN);
	catch_signal(SIGTERM);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent) /* the parent died before the line above */
		_exit(TOOL_EXIT_ERROR);
	_exit(demo_worker_run(d->fleet, node, d->workers + 1, &demo_stopped));
}

static int spawn_workers(struct demo *d)
{
	pid_t parent = getpid();

	fflush(NULL);
	for (uint16_t node = 1; node <= d->workers; node++) {
		pid_t pid = fork();

		if (pid < 0)
			return -errno;
		if (pid == 0)
			worker_main(d, node, parent);
		d->pids[node] = pid;
	}
	return 0;
}

/* The first worker that failed, or exited before it was asked to, is reported. */
static void note_exit(struct demo *d, uint16_t node, int status, bool early)
{
	d->pids[node] = 0;
	if (!d->failed_node && (early || !WIFEXITED(status) || WEXITSTATUS(status) != 0)) {
		d->failed_node = node;
		d->failed_status = status;
	}
}

static bool workers_running(struct demo *d)
{
	for (uint16_t node = 1; node <= d->workers; node++) {
		int status;

		if (d->pids[node] && waitpid(d->pids[node], &status, WNOHANG) == d->pids[node])
			note_exit(d, node, status, true);
	}
	return !d->failed_node;
}

/* Returns early on a signal, so that Ctrl-C is seen at once. */
static void nap_ms(uint64_t ms)
{
	struct timespec ts = { .tv_sec = (time_t)(ms / 1000),
			       .tv_nsec = (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* SIGTERM to all, then up to DEMO_STOP_MS for them to leave, then SIGKILL. */
static void stop_workers(struct demo *d)
{
	uint64_t deadline = mono_ms() + DEMO_STOP_MS;
	bool left;

	for (uint16_t node = 1; node <= d->workers; node++)
		if (d->pids[node])
			kill(d->pids[node], SIGTERM);
	do {
		left = false;
		for (uint16_t node = 1; node <= d->workers; node++) {
			int status;

			if (!d->pids[node])
				continue;
			if (waitpid(d->pids[node], &status, WNOHANG) == d->pids[node])
				note_exit(d, node, status, false);
			else
				left = true;
		}
		if (left)
			nap_ms(10);
	} while (left && mono_ms() < deadline);
	for (uint16_t node = 1; node <= d->workers; node++) {
		int status;

		if (!d->pids[node])
			continue;
		kill(d->pids[node], SIGKILL);
		while (waitpid(d->pids[node], &status, 0) < 0 && errno == EINTR)
			;
		note_exit(d, node, status, false);
	}
}

/* ---- showing it ---- */

static uint64_t elapsed_ms(const struct demo *d)
{
	return mono_ms() - d->started_ms;
}

/* The hint is for live frames only: the last one stays on the screen. */
static void title(const struct demo *d, bool hint, char *buf, size_t size)
{
	const char *tail = hint ? "  (Ctrl-C stops)" : "";
	double elapsed = (double)elapsed_ms(d) / 1000;

	if (d->seconds)
		snprintf(buf, size, " liborbit demo: fleet %s, %u workers, %.1f s of %llu s%s",
			 d->fleet, d->workers, elapsed, (unsigned long long)d->seconds, tail);
	else
		snprintf(buf, size, " liborbit demo: fleet %s, %u workers, %.1f s%s", d->fleet,
			 d->workers, elapsed, tail);
}

/* The terminal's height; 0 when unknown. */
static unsigned terminal_rows(void)
{
	struct winsize ws;

	return ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 ? ws.ws_row : 0;
}

/*
 * One frame, drawn over the previous one: the cursor goes back up the lines
 * drawn last time, each line clears what is left of the old one, and the
 * screen below is cleared. Autowrap is off while the demo runs (see
 * terminal_enter), so a line wider than the terminal cannot take two rows,
 * and a frame taller than the terminal loses its bottom lines: the cursor
 * cannot go back up past the top of the screen.
 */
static void draw_live(struct demo *d, bool last)
{
	unsigned rows = terminal_rows(), drawn = 0;
	char head[512], *frame = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&frame, &len);

	if (!mem)
		tool_oom();
	title(d, !last, head, sizeof(head));
	demo_view_draw(&d->view, mem, &d->style, head);
	fclose(mem);
	if (d->drawn)
		printf("\033[%uA\r", d->drawn);
	for (char *line = frame, *nl; (nl = strchr(line, '\n')); line = nl + 1) {
		if (rows && drawn + 1 >= rows)
			break;
		printf("%.*s\033[K\n", (int)(nl - line), line);
		drawn++;
	}
	fputs("\033[J", stdout);
	fflush(stdout);
	free(frame);
	d->drawn = drawn;
}

static void draw_plain(const struct demo *d)
{
	char head[512];

	title(d, false, head, sizeof(head));
	demo_view_draw(&d->view, stdout, &d->style, head);
}

/* Off a terminal: "  2.0 s  4 of 4 alive, job held by node 3, 17 events". */
static void print_line(const struct demo *d)
{
	const struct demo_view *v = &d->view;
	unsigned alive = 0;

	for (uint16_t node = 1; node <= v->workers; node++)
		alive += v->rows[node].beat.state == ORBIT_MEMBER_ALIVE;
	printf("%5.1f s  %u of %u alive, job ", (double)elapsed_ms(d) / 1000, alive, v->workers);
	if (v->held)
		printf("held by node %u", v->holder);
	else
		printf("free");
	printf(", %llu events\n", (unsigned long long)v->events_total);
	fflush(stdout);
}

static void terminal_enter(const struct demo *d)
{
	if (d->live)
		fputs("\033[?25l\033[?7l", stdout); /* hide the cursor, no autowrap */
}

static void terminal_leave(const struct demo *d)
{
	if (d->live)
		fputs("\033[?7h\033[?25h", stdout);
	fflush(stdout);
}

static bool time_is_up(const struct demo *d)
{
	return d->seconds && elapsed_ms(d) >= d->seconds * 1000;
}

/* Runs until time is up, a signal or a failure; returns 0 or a negative errno. */
static int show(struct demo *d)
{
	uint64_t next_line = DEMO_LINE_MS;
	int r;

	while (!demo_stopped && !time_is_up(d) && workers_running(d)) {
		r = demo_view_update(&d->view);
		if (r < 0)
			return r;
		if (d->live) {
			draw_live(d, false);
		} else if (!d->json && elapsed_ms(d) >= next_line) {
			print_line(d);
			next_line += DEMO_LINE_MS;
		}
		nap_ms(DEMO_FRAME_MS);
	}
	/* The final state, read while the workers still run. */
	r = demo_view_update(&d->view);
	if (r < 0)
		return r;
	if (d->live)
		draw_live(d, true);
	else if (!d->json)
		draw_plain(d);
	return 0;
}

static void print_json(const struct demo *d, int removed)
{
	struct json j;

	json_init(&j, stdout);
	json_object_begin(&j);
	json_field_string(&j, "fleet", d->fleet);
	json_field_uint(&j, "workers", d->workers);
	json_field_uint(&j, "elapsed_ms", elapsed_ms(d));
	demo_view_json(&d->view, &j);
	json_field_int(&j, "segments_removed", removed);
	json_object_end(&j);
	json_end_line(&j);
}

static void print_summary(const struct demo *d, int removed)
{
	const struct demo_view *v = &d->view;

	printf("\n stopped %u workers; orbit_fleet_unlink removed the fleet's %d segments\n",
	       d->workers, removed);
	if (v->claimed > 1)
		printf(" fencing tokens grew with every one of the %llu claims: %s\n",
		       (unsigned long long)v->claimed, v->tokens_rising ? "yes" : "NO");
}

static int report_failure(const struct demo *d)
{
	int s = d->failed_status;

	if (WIFSIGNALED(s))
		return tool_error("demo: worker %d was killed by signal %d", d->failed_node,
				  WTERMSIG(s));
	return tool_error("demo: worker %d exited with status %d", d->failed_node,
			  WIFEXITED(s) ? WEXITSTATUS(s) : -1);
}

static void choose_style(struct demo *d)
{
	d->live = !d->json && isatty(STDOUT_FILENO);
	d->style.ansi = d->live;
	/* Block characters only where the terminal's locale can show them. */
	setlocale(LC_CTYPE, "");
	d->style.utf8 = d->live && strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
}

/* After a failed start: the workers that did start may have made segments. */
static int abandon(struct demo *d, int err)
{
	stop_workers(d);
	if (demo_view_open(&d->view, d->fleet, d->workers) == 0)
		demo_view_close(&d->view);
	return tool_error("demo: starting fleet %s: %s", d->fleet, strerror(-err));
}

static int run(struct demo *d)
{
	int r = spawn_workers(d), removed;

	if (r == 0)
		r = demo_view_open(&d->view, d->fleet, d->workers);
	if (r < 0)
		return abandon(d, r);
	d->started_ms = mono_ms();
	terminal_enter(d);
	r = show(d);
	terminal_leave(d);
	stop_workers(d);
	removed = demo_view_close(&d->view);
	if (r < 0)
		return tool_error("demo: reading fleet %s: %s", d->fleet, strerror(-r));
	if (d->json)
		print_json(d, removed);
	else
		print_summary(d, removed);
	if (d->failed_node)
		return report_failure(d);
	return removed < 0 ? tool_error("demo: removing fleet %s: %s", d->fleet, strerror(-removed))
			   : TOOL_EXIT_OK;
}

int cmd_demo(int argc, char **argv)
{
	struct demo *d = tool_calloc(1, sizeof(*d));
	int status;

	d->workers = DEMO_WORKERS_DEFAULT;
	d->seconds = DEMO_SECONDS_DEFAULT;
	snprintf(d->fleet, sizeof(d->fleet), "demo-%ld", (long)getpid());
	status = parse_options(d, argc, argv);
	if (status < 0 && tool_fleet_exists(d->fleet))
		status = tool_error("demo: fleet %s exists already: choose another --fleet, or "
				    "remove it with 'orbit rm %s'",
				    d->fleet, d->fleet);
	else if (status < 0) {
		choose_style(d);
		catch_signal(SIGINT);
		catch_signal(SIGTERM);
		catch_signal(SIGHUP);
		status = run(d);
	}
	free(d);
	return status;
}
