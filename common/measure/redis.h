/* SPDX-License-Identifier: MIT */
/*
 * Redis for the benchmarks: a minimal RESP client over a blocking TCP socket to
 * 127.0.0.1, and a private redis-server started for one run.
 */
#ifndef ORBIT_BENCH_REDIS_H
#define ORBIT_BENCH_REDIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct bench_resp_conn {
	int fd;
	size_t start, end; /* unread bytes of in */
	char in[4096];
};

/*
 * '+' status, ':' integer (n), '$' bulk string (n = its length, -1: nil) or
 * '*' array (n = its element count; the elements are the next n replies).
 */
struct bench_resp_reply {
	char type;
	long long n;
};

/* A request encoded once, so a timed loop only sends and receives. */
struct bench_resp_request {
	char bytes[1024];
	size_t len;
	char reply_type;     /* what bench_resp_call expects back */
	long long reply_len; /* bulk length or integer expected, or -1 for any */
};

/*
 * Encodes argc arguments as a RESP array of bulk strings; lens[i] is the
 * length of argv[i] (binary-safe), or lens is NULL for NUL-terminated text.
 * 0, or -ENOSPC when the request does not fit.
 */
int bench_resp_encode(struct bench_resp_request *req, unsigned argc, const char *const argv[],
		      const size_t lens[]);

/* Connects to 127.0.0.1:port with TCP_NODELAY and 5 s send and receive timeouts. */
int bench_resp_open(struct bench_resp_conn *c, uint16_t port);
void bench_resp_close(struct bench_resp_conn *c);

int bench_resp_send(struct bench_resp_conn *c, const void *p, size_t len);

/*
 * Reads one reply; a bulk string's first `size` bytes land in out (out may be
 * NULL when size is 0). -EPROTO for errors ('-') and anything malformed,
 * -EAGAIN when the server stayed silent past the receive timeout.
 */
int bench_resp_reply(struct bench_resp_conn *c, struct bench_resp_reply *reply, void *out,
		     size_t size);

/* Sends req and checks its reply against req->reply_type and req->reply_len. */
int bench_resp_call(struct bench_resp_conn *c, const struct bench_resp_request *req);

struct bench_redis {
	char path[4096];
	pid_t pid;
	uint16_t port;
	struct bench_resp_conn conn; /* connected once started */
	char version[32];	     /* "7.0.15", or "unknown" */
};

/* Finds redis-server in PATH; false when it is not installed. */
bool bench_redis_find(struct bench_redis *r);

/*
 * Starts a private server from r->path: no persistence, loopback only, silent,
 * dying with us, on a free port; waits until it answers PING. It inherits the
 * caller's CPU affinity. -ECHILD when it exited before answering.
 */
int bench_redis_start(struct bench_redis *r);
void bench_redis_stop(struct bench_redis *r);

#endif
