/* SPDX-License-Identifier: MIT */
/*
 * Redis pub/sub as a benchmark transport: a channel per direction on a private
 * server; each process publishes on a connection of its own and receives on
 * another, subscribed to its incoming channel. A PUBLISH is answered with the
 * number of subscribers reached, read before the next message (one in flight),
 * so a message published before the peer subscribed is noticed and sent again.
 * The server sleeps in epoll between messages whatever the clients do, so this
 * transport does not spin.
 */
#include "transport.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const channels[2] = { "orbit-bench-0", "orbit-bench-1" };

struct redis_pair {
	uint16_t port;
	size_t bytes;
	struct bench_resp_conn pub, sub; /* this process's own */
	struct bench_resp_request publish[2];
	size_t payload_at[2]; /* offset of the message in publish[dir].bytes */
	uint64_t seqs[2];     /* both processes count each direction */
	uint8_t buf[BENCH_MESSAGE_MAX];
};

static int redis_send(void *ctx, int dir)
{
	struct redis_pair *p = ctx;
	struct bench_resp_request *req = &p->publish[dir];
	struct bench_resp_reply reply;
	int rc;

	bench_message_fill((uint8_t *)req->bytes + p->payload_at[dir], p->bytes, ++p->seqs[dir]);
	for (;;) {
		rc = bench_resp_send(&p->pub, req->bytes, req->len);
		if (rc == 0)
			rc = bench_resp_reply(&p->pub, &reply, NULL, 0);
		if (rc < 0)
			return rc;
		if (reply.type != ':')
			return -EPROTO;
		if (reply.n > 0)
			return 0;
		sleep_ms(1); /* nobody subscribed yet: the peer is still starting */
	}
}

/* The head of a push [kind, channel, x] up to x, which is left for the caller to read. */
static int read_push(struct bench_resp_conn *c, const char *kind)
{
	struct bench_resp_reply reply;
	size_t len = strlen(kind);
	char text[16];
	int rc = bench_resp_reply(c, &reply, NULL, 0);

	if (rc == 0 && (reply.type != '*' || reply.n != 3))
		rc = -EPROTO;
	if (rc == 0)
		rc = bench_resp_reply(c, &reply, text, sizeof(text));
	if (rc == 0 && (reply.type != '$' || reply.n != (long long)len || memcmp(text, kind, len)))
		rc = -EPROTO;
	return rc < 0 ? rc : bench_resp_reply(c, &reply, NULL, 0); /* the channel */
}

/* A pushed ["message", channel, payload]; the payload must be the expected message. */
static int redis_receive(void *ctx, int dir)
{
	struct redis_pair *p = ctx;
	struct bench_resp_reply reply;
	int rc = read_push(&p->sub, "message");

	if (rc == 0)
		rc = bench_resp_reply(&p->sub, &reply, p->buf, sizeof(p->buf));
	if (rc < 0)
		return rc;
	if (reply.type != '$' || reply.n != (long long)p->bytes ||
	    !bench_message_is(p->buf, p->bytes, ++p->seqs[dir]))
		return -EPROTO;
	return 0;
}

/* Connects both of this process's connections; sub listens on channels[dir]. */
static int redis_connect(struct redis_pair *p, int dir)
{
	const char *const argv[] = { "SUBSCRIBE", channels[dir] };
	struct bench_resp_request req;
	struct bench_resp_reply reply;
	int rc = bench_resp_open(&p->pub, p->port);

	if (rc == 0)
		rc = bench_resp_open(&p->sub, p->port);
	if (rc == 0)
		rc = bench_resp_encode(&req, 2, argv, NULL);
	if (rc == 0)
		rc = bench_resp_send(&p->sub, req.bytes, req.len);
	/* The confirmation: ["subscribe", channel, count]. */
	if (rc == 0)
		rc = read_push(&p->sub, "subscribe");
	if (rc == 0)
		rc = bench_resp_reply(&p->sub, &reply, NULL, 0);
	return rc == 0 && reply.type != ':' ? -EPROTO : rc;
}

static void redis_disconnect(struct redis_pair *p)
{
	bench_resp_close(&p->pub);
	bench_resp_close(&p->sub);
}

/* The child drops its copies of the parent's connections (the parent keeps them) first. */
static int redis_child_setup(void *ctx)
{
	struct redis_pair *p = ctx;

	redis_disconnect(p);
	return redis_connect(p, 0);
}

static void redis_child_teardown(void *ctx)
{
	redis_disconnect(ctx);
}

static void redis_close(struct bench_pingpong *pp)
{
	struct redis_pair *p = pp->ctx;

	if (!p)
		return;
	redis_disconnect(p);
	free(p);
	pp->ctx = NULL;
}

static int redis_open(const struct bench_channel *ch, struct bench_pingpong *pp)
{
	struct redis_pair *p;
	int rc = 0;

	if (!ch->redis || ch->bytes < 1 || ch->bytes > BENCH_MESSAGE_MAX || ch->spin)
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	*p = (struct redis_pair){ .port = ch->redis->port, .bytes = ch->bytes };
	p->pub.fd = p->sub.fd = -1;
	*pp = (struct bench_pingpong){
		.send = redis_send,
		.receive = redis_receive,
		.child_setup = redis_child_setup,
		.child_teardown = redis_child_teardown,
		.ctx = p,
	};
	for (int dir = 0; dir < 2 && rc == 0; dir++) {
		const char *const argv[] = { "PUBLISH", channels[dir], (const char *)p->buf };
		const size_t lens[] = { strlen(argv[0]), strlen(argv[1]), p->bytes };

		rc = bench_resp_encode(&p->publish[dir], 3, argv, lens);
		/* The message is last, before its CRLF. */
		if (rc == 0)
			p->payload_at[dir] = p->publish[dir].len - 2 - p->bytes;
	}
	/* Subscribed before the fork: none of the child's messages can be missed. */
	if (rc == 0)
		rc = redis_connect(p, 1);
	if (rc < 0)
		redis_close(pp);
	return rc;
}

const struct bench_transport bench_transport_redis = {
	.name = "redis",
	.label = "Redis pub/sub",
	.can_spin = false,
	.open = redis_open,
	.close = redis_close,
};
