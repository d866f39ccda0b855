/* SPDX-License-Identifier: MIT */
/*
 * epoll-follower: the follower inside an event loop. The ring's descriptor sits in an
 * epoll set beside a signalfd, as it would beside sockets and timers in a real program;
 * SIGINT or SIGTERM ends the loop cleanly, and so does reading COUNT frames.
 *
 *   cc -std=c11 epoll-follower.c $(pkg-config --cflags --libs liborbit) -o epoll-follower
 *   ./epoll-follower FLEET COUNT       (COUNT 0: until a signal)
 *
 * The pattern, for any loop (poll, epoll, GLib, libuv, asyncio):
 *   orbit_ring_arm(ring, cursor);
 *   when orbit_ring_fd(ring) is readable:
 *       call orbit_ring_next until it returns -EAGAIN, then orbit_ring_arm(ring, cursor).
 * The descriptor stays readable until armed again (level-triggered), and readiness is a
 * hint to look: orbit_ring_next may find nothing (-EAGAIN), and then we simply arm again.
 */
#define _POSIX_C_SOURCE 200809L /* sigprocmask */

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <orbit.h>

#define RING_KIND  7
#define NODE	   1
#define FLEET_SIZE 2

struct follower {
	orbit_ring_t *ring;
	uint64_t cursor; /* the next counter to read */
	uint64_t lost;	 /* frames overwritten before we read them */
	long seen, count;
};

/* Reads all there is, then arms at the cursor it stopped on. 1: done, 0: more, <0: error. */
static int drain(struct follower *f)
{
	orbit_frame_t frame;
	char payload[256], id[ORBIT_ID_STRLEN];
	int r;

	while ((r = orbit_ring_next(f->ring, &f->cursor, &frame, payload, sizeof(payload),
				    &f->lost)) == 0 ||
	       r == -EMSGSIZE) {
		if (r == -EMSGSIZE) {
			fprintf(stderr, "epoll-follower: skipping a %u-byte frame\n", frame.len);
			f->cursor++;
			continue;
		}
		orbit_id_format(frame.id, id, sizeof(id));
		printf("%s ver=%llu %.*s\n", id, (unsigned long long)frame.ver, (int)frame.len,
		       payload);
		fflush(stdout);
		if (f->count && ++f->seen == f->count)
			return 1;
	}
	if (r != -EAGAIN)
		return r;
	/* Nothing more at the cursor yet: readable again once there is. */
	return orbit_ring_arm(f->ring, f->cursor);
}

/* The loop: the ring's descriptor and a signalfd for SIGINT and SIGTERM. */
static int run(struct follower *f, int sig_fd)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int ep = epoll_create1(EPOLL_CLOEXEC), ring_fd = orbit_ring_fd(f->ring), r = 0;

	if (ep < 0 || ring_fd < 0)
		return ep < 0 ? -errno : ring_fd;
	ev.data.fd = ring_fd; /* the ring's descriptor: watch it, never close it */
	if (epoll_ctl(ep, EPOLL_CTL_ADD, ring_fd, &ev) < 0)
		r = -errno;
	ev.data.fd = sig_fd;
	if (r == 0 && epoll_ctl(ep, EPOLL_CTL_ADD, sig_fd, &ev) < 0)
		r = -errno;
	/* Arm first: the descriptor is not readable until armed. */
	if (r == 0)
		r = orbit_ring_arm(f->ring, f->cursor);

	while (r == 0) {
		struct epoll_event ready[2];
		int n = epoll_wait(ep, ready, 2, -1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			break;
		}
		for (int i = 0; i < n && r == 0; i++) {
			if (ready[i].data.fd == sig_fd) {
				struct signalfd_siginfo si;

				if (read(sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
					fprintf(stderr, "epoll-follower: signal %u, stopping\n",
						si.ssi_signo);
				r = 1;
			} else {
				r = drain(f);
			}
		}
	}
	close(ep);
	return r < 0 ? r : 0;
}

int main(int argc, char **argv)
{
	struct follower f = { .cursor = 0 }; /* cursor 0: from the oldest frame still held */
	orbit_fleet_t *fleet;
	sigset_t stop;
	int sig_fd, r;

	if (argc != 3 || (f.count = strtol(argv[2], NULL, 10)) < 0) {
		fprintf(stderr, "usage: epoll-follower FLEET COUNT\n");
		return 2;
	}
	/* Signals arrive as reads on sig_fd, not as handlers: block them first. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &stop, NULL) < 0 ||
	    (sig_fd = signalfd(-1, &stop, SFD_CLOEXEC)) < 0) {
		perror("epoll-follower: signalfd");
		return 1;
	}

	r = orbit_fleet_join_shm(argv[1], NODE, FLEET_SIZE, NULL, &fleet);
	if (r == 0) {
		r = orbit_fleet_ring(fleet, RING_KIND, &f.ring);
		if (r == 0)
			r = run(&f, sig_fd);
		if (f.lost)
			printf("lost %llu frames to wraparound\n", (unsigned long long)f.lost);
		orbit_fleet_leave(fleet); /* closes the ring's descriptor too */
	}
	close(sig_fd);
	if (r < 0) {
		fprintf(stderr, "epoll-follower: %s\n", strerror(-r));
		return 1;
	}
	return 0;
}
