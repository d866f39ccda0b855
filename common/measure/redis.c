/* SPDX-License-Identifier: MIT */
/* Redis for the benchmarks: a RESP client and a private server (see redis.h). */
#include "redis.h"

#include "benchutil.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

/* Appends a RESP header, the type byte then the count and CRLF; false once the request is full. */
static bool append(struct bench_resp_request *req, size_t *n, char type, size_t value)
{
	int len = snprintf(req->bytes + *n, sizeof(req->bytes) - *n, "%c%zu\r\n", type, value);

	if (len < 0 || (size_t)len >= sizeof(req->bytes) - *n)
		return false;
	*n += (size_t)len;
	return true;
}

int bench_resp_encode(struct bench_resp_request *req, unsigned argc, const char *const argv[],
		      const size_t lens[])
{
	size_t n = 0;

	if (!append(req, &n, '*', argc))
		return -ENOSPC;
	for (unsigned i = 0; i < argc; i++) {
		size_t len = lens ? lens[i] : strlen(argv[i]);

		if (!append(req, &n, '$', len) || sizeof(req->bytes) - n < len + 2)
			return -ENOSPC;
		memcpy(req->bytes + n, argv[i], len);
		memcpy(req->bytes + n + len, "\r\n", 2);
		n += len + 2;
	}
	req->len = n;
	return 0;
}

int bench_resp_send(struct bench_resp_conn *c, const void *p, size_t len)
{
	const char *bytes = p;

	while (len > 0) {
		ssize_t n = send(c->fd, bytes, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		bytes += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads more of the reply; -EAGAIN when the server stayed silent past the socket timeout. */
static int conn_fill(struct bench_resp_conn *c)
{
	ssize_t n;

	if (c->start > 0) {
		memmove(c->in, c->in + c->start, c->end - c->start);
		c->end -= c->start;
		c->start = 0;
	}
	if (c->end == sizeof(c->in))
		return -EPROTO; /* a header line longer than any reply we ask for */
	while ((n = recv(c->fd, c->in + c->end, sizeof(c->in) - c->end, 0)) < 0 && errno == EINTR)
		;
	if (n < 0)
		return -errno;
	if (n == 0)
		return -ECONNRESET;
	c->end += (size_t)n;
	return 0;
}

/* One CRLF-terminated line, stored without its CRLF. */
static int conn_line(struct bench_resp_conn *c, char *line, size_t size)
{
	for (;;) {
		char *lf = memchr(c->in + c->start, '\n', c->end - c->start);
		int rc;

		if (lf) {
			size_t len = (size_t)(lf - (c->in + c->start)); /* up to the \n */

			if (len == 0 || lf[-1] != '\r' || len > size)
				return -EPROTO;
			memcpy(line, c->in + c->start, len - 1);
			line[len - 1] = '\0';
			c->start += len + 1;
			return 0;
		}
		rc = conn_fill(c);
		if (rc < 0)
			return rc;
	}
}

/* Consumes n bytes, keeping the first `size` of them in out (out may be NULL). */
static int conn_take(struct bench_resp_conn *c, char *out, size_t size, size_t n)
{
	while (n > 0) {
		size_t step = c->end - c->start;
		int rc;

		if (step == 0) {
			rc = conn_fill(c);
			if (rc < 0)
				return rc;
			continue;
		}
		if (step > n)
			step = n;
		if (out && size > 0) {
			size_t keep = step < size ? step : size;

			memcpy(out, c->in + c->start, keep);
			out += keep;
			size -= keep;
		}
		c->start += step;
		n -= step;
	}
	return 0;
}

int bench_resp_reply(struct bench_resp_conn *c, struct bench_resp_reply *reply, void *out,
		     size_t size)
{
	char line[128], *end;
	int rc = conn_line(c, line, sizeof(line));

	if (rc < 0)
		return rc;
	reply->type = line[0];
	reply->n = 0;
	if (line[0] == '+')
		return 0;
	if (line[0] != ':' && line[0] != '$' && line[0] != '*')
		return -EPROTO;
	errno = 0;
	reply->n = strtoll(line + 1, &end, 10);
	if (end == line + 1 || *end || errno)
		return -EPROTO;
	if (line[0] != '$' || reply->n < 0)
		return 0;
	rc = conn_take(c, out, size, (size_t)reply->n);
	return rc < 0 ? rc : conn_take(c, NULL, 0, 2); /* the bulk's CRLF */
}

int bench_resp_call(struct bench_resp_conn *c, const struct bench_resp_request *req)
{
	struct bench_resp_reply reply;
	int rc = bench_resp_send(c, req->bytes, req->len);

	if (rc == 0)
		rc = bench_resp_reply(c, &reply, NULL, 0);
	if (rc < 0)
		return rc;
	if (reply.type != req->reply_type || (req->reply_len >= 0 && reply.n != req->reply_len))
		return -EPROTO;
	return 0;
}

static struct sockaddr_in loopback(uint16_t port)
{
	return (struct sockaddr_in){
		.sin_family = AF_INET,
		.sin_port = htons(port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
}

/* A port nobody listens on now; the server started on it may still lose a race for it. */
static int free_port(void)
{
	struct sockaddr_in addr = loopback(0);
	socklen_t len = sizeof(addr);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int rc;

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&addr, &len) < 0)
		rc = -errno;
	else
		rc = ntohs(addr.sin_port);
	close(fd);
	return rc;
}

int bench_resp_open(struct bench_resp_conn *c, uint16_t port)
{
	struct sockaddr_in addr = loopback(port);
	struct timeval timeout = { .tv_sec = 5 };
	int one = 1, rc;

	c->start = c->end = 0;
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -errno;
	/* One small request in flight: Nagle would hold it back waiting for more. */
	if (setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0 ||
	    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout)) < 0 ||
	    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout)) < 0 ||
	    connect(c->fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		rc = -errno;
		close(c->fd);
		c->fd = -1;
		return rc;
	}
	return 0;
}

void bench_resp_close(struct bench_resp_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

/* The first executable `name` in PATH; empty entries (the current directory) are skipped. */
static bool find_in_path(const char *name, char *path, size_t size)
{
	const char *dirs = getenv("PATH");

	for (const char *p = dirs ? dirs : ""; *p;) {
		size_t len = strcspn(p, ":");
		int n = snprintf(path, size, "%.*s/%s", (int)len, p, name);

		if (len > 0 && n > 0 && (size_t)n < size && access(path, X_OK) == 0)
			return true;
		p += len + (p[len] == ':');
	}
	return false;
}

bool bench_redis_find(struct bench_redis *r)
{
	*r = (struct bench_redis){ .conn.fd = -1 };
	snprintf(r->version, sizeof(r->version), "unknown");
	return find_in_path("redis-server", r->path, sizeof(r->path));
}

static int redis_spawn(struct bench_redis *r)
{
	char port[16];
	char *const argv[] = { "redis-server", "--port",      port, "--bind",
			       "127.0.0.1",    "--save",      "",   "--appendonly",
			       "no",	       "--daemonize", "no", NULL };
	pid_t parent = getpid();
	int null;

	snprintf(port, sizeof(port), "%u", r->port);
	fflush(NULL);
	r->pid = fork();
	if (r->pid < 0)
		return -errno;
	if (r->pid > 0)
		return 0;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127);
	null = open("/dev/null", O_RDWR | O_CLOEXEC); /* dup2 clears O_CLOEXEC on the copies */
	if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(null, STDOUT_FILENO) < 0 ||
	    dup2(null, STDERR_FILENO) < 0)
		_exit(127);
	execv(r->path, argv);
	_exit(127);
}

/* True once the child has exited and been reaped, checking every 10 ms for up to ms. */
static bool reaped_within(pid_t pid, long ms)
{
	for (long waited = 0; waited <= ms; waited += 10) {
		if (waitpid(pid, NULL, WNOHANG) != 0)
			return true;
		sleep_ms(10);
	}
	return false;
}

void bench_redis_stop(struct bench_redis *r)
{
	bench_resp_close(&r->conn);
	if (r->pid <= 0)
		return;
	kill(r->pid, SIGTERM);
	if (!reaped_within(r->pid, 2000)) {
		kill(r->pid, SIGKILL);
		while (waitpid(r->pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	r->pid = 0;
}

/* Waits until the server answers PING; -ECHILD if it exited (e.g. it lost the port). */
static int redis_await(struct bench_redis *r)
{
	static const char *const ping[] = { "PING" };
	struct bench_resp_request req = { .reply_type = '+', .reply_len = -1 };
	uint64_t deadline = mono_ns() + 10 * 1000000000ull;

	bench_resp_encode(&req, 1, ping, NULL);
	while (mono_ns() < deadline) {
		if (waitpid(r->pid, NULL, WNOHANG) == r->pid) {
			r->pid = 0;
			return -ECHILD;
		}
		if (bench_resp_open(&r->conn, r->port) == 0) {
			if (bench_resp_call(&r->conn, &req) == 0)
				return 0;
			bench_resp_close(&r->conn);
		}
		sleep_ms(20);
	}
	return -ETIMEDOUT;
}

/* "7.0.15" from INFO server; stays "unknown" otherwise. */
static void redis_version(struct bench_redis *r)
{
	static const char *const info[] = { "INFO", "server" };
	struct bench_resp_request req;
	struct bench_resp_reply reply;
	char text[2048] = "";
	const char *v;

	if (bench_resp_encode(&req, 2, info, NULL) < 0 ||
	    bench_resp_send(&r->conn, req.bytes, req.len) < 0 ||
	    bench_resp_reply(&r->conn, &reply, text, sizeof(text) - 1) < 0 || reply.type != '$')
		return;
	v = strstr(text, "redis_version:");
	if (v) {
		v += strlen("redis_version:");
		snprintf(r->version, sizeof(r->version), "%.*s", (int)strcspn(v, "\r\n"), v);
	}
}

int bench_redis_start(struct bench_redis *r)
{
	int rc = -ECHILD;

	/* A server that exits before answering most likely lost the port: try another. */
	for (int attempt = 0; attempt < 3 && rc == -ECHILD; attempt++) {
		rc = free_port();
		if (rc < 0)
			return rc;
		r->port = (uint16_t)rc;
		rc = redis_spawn(r);
		if (rc == 0)
			rc = redis_await(r);
		if (rc < 0)
			bench_redis_stop(r);
	}
	if (rc == 0)
		redis_version(r);
	return rc;
}
