/* SPDX-License-Identifier: MIT */
/*
 * The kernel's message channels as benchmark transports: a pipe per direction,
 * one SOCK_SEQPACKET unix socket pair, and a POSIX message queue per direction.
 * Spinning receivers poll a non-blocking descriptor; blocking ones sleep in it.
 */
#include "transport.h"

#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

enum ipc_kind { IPC_PIPE, IPC_SOCKET, IPC_MQUEUE };

struct ipc {
	enum ipc_kind kind;
	size_t bytes;
	bool spin;
	int fds[2][2]; /* per direction: read end, write end (pipes and the socket pair) */
	int owned[4];  /* what close releases */
	unsigned nowned;
	mqd_t queues[2];  /* per direction (message queues) */
	uint64_t seqs[2]; /* both processes count each direction */
	uint8_t buf[BENCH_MESSAGE_MAX];
};

/* One call of the mechanism: bytes moved, or a negative errno. */
static ssize_t ipc_write(struct ipc *c, int dir)
{
	ssize_t n;

	if (c->kind == IPC_MQUEUE)
		n = mq_send(c->queues[dir], (const char *)c->buf, c->bytes, 0) < 0
			    ? -1
			    : (ssize_t)c->bytes;
	else
		n = write(c->fds[dir][1], c->buf, c->bytes);
	return n < 0 ? -errno : n;
}

static ssize_t ipc_read(struct ipc *c, int dir)
{
	ssize_t n;

	if (c->kind == IPC_MQUEUE)
		n = mq_receive(c->queues[dir], (char *)c->buf, sizeof(c->buf), NULL);
	else
		n = read(c->fds[dir][0], c->buf, c->bytes);
	return n < 0 ? -errno : n;
}

/* Repeats op through signals and, when spinning, through an empty (or full) channel. */
static ssize_t ipc_retry(struct ipc *c, int dir, ssize_t (*op)(struct ipc *, int))
{
	ssize_t n;

	while ((n = op(c, dir)) == -EINTR || (n == -EAGAIN && c->spin))
		if (n == -EAGAIN)
			cpu_relax();
	return n;
}

static int ipc_send(void *ctx, int dir)
{
	struct ipc *c = ctx;
	ssize_t n;

	bench_message_fill(c->buf, c->bytes, ++c->seqs[dir]);
	n = ipc_retry(c, dir, ipc_write);
	if (n < 0)
		return (int)n;
	return (size_t)n == c->bytes ? 0 : -EIO;
}

static int ipc_receive(void *ctx, int dir)
{
	struct ipc *c = ctx;
	ssize_t n = ipc_retry(c, dir, ipc_read);

	if (n < 0)
		return (int)n;
	return (size_t)n == c->bytes && bench_message_is(c->buf, c->bytes, ++c->seqs[dir])
		       ? 0
		       : -EPROTO;
}

/* Keeps fd for ipc_close; a spinning receiver needs it non-blocking. */
static int adopt_fd(struct ipc *c, int fd)
{
	c->owned[c->nowned++] = fd;
	if (c->spin && fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

static int open_pipes(struct ipc *c)
{
	int rc = 0;

	for (int dir = 0; dir < 2 && rc == 0; dir++) {
		if (pipe2(c->fds[dir], O_CLOEXEC) < 0)
			return -errno;
		rc = adopt_fd(c, c->fds[dir][0]);
		if (rc == 0)
			rc = adopt_fd(c, c->fds[dir][1]);
	}
	return rc;
}

/* Direction 0 is written at sv[0] and read at sv[1]; direction 1 the other way. */
static int open_socket(struct ipc *c)
{
	int sv[2], rc;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	rc = adopt_fd(c, sv[0]);
	if (rc == 0)
		rc = adopt_fd(c, sv[1]);
	c->fds[0][0] = c->fds[1][1] = sv[1];
	c->fds[0][1] = c->fds[1][0] = sv[0];
	return rc;
}

/* The per-queue message limit unprivileged programs get (fs.mqueue.msg_max), else 10. */
static long mqueue_depth(void)
{
	FILE *f = fopen("/proc/sys/fs/mqueue/msg_max", "re");
	long depth = 10;

	if (f) {
		if (fscanf(f, "%ld", &depth) != 1 || depth < 1)
			depth = 10;
		fclose(f);
	}
	return depth;
}

/* Unlinked at once: the descriptors (inherited by the child) keep the queues alive. */
static int open_queues(struct ipc *c)
{
	static unsigned serial;
	struct mq_attr attr = { .mq_maxmsg = mqueue_depth(), .mq_msgsize = (long)c->bytes };
	int flags =
		O_RDWR | O_CREAT | O_EXCL | (c->spin ? O_NONBLOCK : 0); /* glibc adds O_CLOEXEC */

	for (int dir = 0; dir < 2; dir++) {
		char name[64];

		snprintf(name, sizeof(name), "/orbit-bench-%ld-%u", (long)getpid(), serial++);
		c->queues[dir] = mq_open(name, flags, 0600, &attr);
		if (c->queues[dir] == (mqd_t)-1)
			return -errno;
		mq_unlink(name);
	}
	return 0;
}

static void ipc_close(struct bench_pingpong *pp)
{
	struct ipc *c = pp->ctx;

	if (!c)
		return;
	for (unsigned i = 0; i < c->nowned; i++)
		close(c->owned[i]);
	for (int dir = 0; dir < 2; dir++)
		if (c->queues[dir] != (mqd_t)-1)
			mq_close(c->queues[dir]);
	free(c);
	pp->ctx = NULL;
}

static int ipc_open(enum ipc_kind kind, const struct bench_channel *ch, struct bench_pingpong *pp)
{
	struct ipc *c;
	int rc;

	if (ch->bytes < 1 || ch->bytes > BENCH_MESSAGE_MAX)
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	*c = (struct ipc){ .kind = kind, .bytes = ch->bytes, .spin = ch->spin };
	c->queues[0] = c->queues[1] = (mqd_t)-1;
	*pp = (struct bench_pingpong){ .send = ipc_send, .receive = ipc_receive, .ctx = c };
	rc = kind == IPC_PIPE	  ? open_pipes(c)
	     : kind == IPC_SOCKET ? open_socket(c)
				  : open_queues(c);
	if (rc < 0)
		ipc_close(pp);
	return rc;
}

static int pipe_open(const struct bench_channel *ch, struct bench_pingpong *pp)
{
	return ipc_open(IPC_PIPE, ch, pp);
}

static int socket_open(const struct bench_channel *ch, struct bench_pingpong *pp)
{
	return ipc_open(IPC_SOCKET, ch, pp);
}

static int mqueue_open(const struct bench_channel *ch, struct bench_pingpong *pp)
{
	return ipc_open(IPC_MQUEUE, ch, pp);
}

const struct bench_transport bench_transport_pipe = {
	.name = "pipe",
	.label = "pipe",
	.can_spin = true,
	.open = pipe_open,
	.close = ipc_close,
};

const struct bench_transport bench_transport_socket = {
	.name = "socket",
	.label = "unix socket",
	.can_spin = true,
	.open = socket_open,
	.close = ipc_close,
};

const struct bench_transport bench_transport_mqueue = {
	.name = "mqueue",
	.label = "POSIX mqueue",
	.can_spin = true,
	.open = mqueue_open,
	.close = ipc_close,
};
