/* SPDX-License-Identifier: MIT */
/*
 * liborbit as a benchmark transport: one ring per direction in a fleet of its
 * own, which the child joins by name. Receivers spin on orbit_ring_next, or
 * sleep in orbit_ring_wait or in poll(2) on the ring's descriptor. A ring never blocks its writer (it overwrites the
 * oldest frame), so a stream adds flow control the way a program would: the
 * receiver reports its count on an ack ring and the sender stays within a
 * window of it, waiting on that ring when it is ahead. The batched variant sends
 * BENCH_BATCH messages per orbit_ring_write_batch and receives with
 * orbit_ring_next_batch, handing the frames out one per receive.
 */
#include <orbit.h>

#include "transport.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define FRAME_KIND 1
#define ACK_KIND   2
#define KIND_DATA  1 /* + direction */
#define KIND_ACK   3 /* + direction */
/* BENCH_BATCH as text, for the label. */
#define BATCH_TEXT(n)	BATCH_DIGITS(n)
#define BATCH_DIGITS(n) #n

struct ring_pair {
	char fleet_name[64];
	orbit_fleet_t *fleet; /* the parent's; the child joins its own */
	orbit_ring_t *rings[2];
	orbit_ring_t *acks[2];
	uint64_t cursors[2];
	uint64_t seqs[2];  /* both processes count each direction */
	uint64_t acked[2]; /* the receiver's count, as the sender last read it */
	uint64_t window;   /* frames a sender may be ahead: half the ring */
	uint64_t ack_every;
	size_t bytes;
	bool spin, fd, stream;
	size_t batch; /* messages per batch call; 1: single calls */
	size_t held;  /* sender: messages held back in msgs */
	size_t ready; /* receiver: frames in frames and bufs ... */
	size_t taken; /* ... of which receive() handed out this many */
	uint8_t payload[BENCH_MESSAGE_MAX];
	orbit_msg_t msgs[BENCH_BATCH];
	orbit_frame_t frames[BENCH_BATCH];
	uint8_t bufs[BENCH_BATCH][BENCH_MESSAGE_MAX];
};

/* The way an event loop waits: arm at the cursor, then sleep in poll(2). */
static int ring_poll_fd(orbit_ring_t *ring, uint64_t cursor)
{
	struct pollfd pfd = { .fd = orbit_ring_fd(ring), .events = POLLIN };
	int rc = pfd.fd < 0 ? pfd.fd : orbit_ring_arm(ring, cursor);

	if (rc == 0 && poll(&pfd, 1, -1) < 0 && errno != EINTR)
		rc = -errno;
	return rc;
}

static int ring_wait_or_spin(struct ring_pair *p, orbit_ring_t *ring, uint64_t cursor)
{
	int rc;

	if (p->spin) {
		cpu_relax();
		return 0;
	}
	if (p->fd)
		return ring_poll_fd(ring, cursor);
	rc = orbit_ring_wait(ring, cursor, -1);
	return rc == -EINTR ? 0 : rc;
}

/* Waits until the receiver's ack leaves room in the window. */
static int ring_window_wait(struct ring_pair *p, int dir)
{
	while (p->seqs[dir] - p->acked[dir] >= p->window) {
		/* Taken first: an ack committed after it ends the wait at once. */
		uint64_t head = orbit_ring_head(p->acks[dir]);
		orbit_frame_t frame;
		int rc = orbit_ring_read_head(p->acks[dir], &frame, NULL, 0);

		if (rc == 0 && frame.ver > p->acked[dir]) {
			p->acked[dir] = frame.ver;
			continue;
		}
		/* -EAGAIN: an ack is being written right now; it may be the last for a while. */
		if (rc == -EAGAIN) {
			cpu_relax();
			continue;
		}
		if (rc < 0 && rc != -ENOENT)
			return rc;
		rc = ring_wait_or_spin(p, p->acks[dir], head);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Sends the messages held back, in as many batch calls as the ring takes them. */
static int ring_flush(void *ctx, int dir)
{
	struct ring_pair *p = ctx;
	size_t sent = 0;
	int rc = p->held ? ring_window_wait(p, dir) : 0;

	while (rc == 0 && sent < p->held) {
		rc = orbit_ring_write_batch(p->rings[dir], p->msgs + sent, p->held - sent, NULL);
		sent += rc > 0 ? (size_t)rc : 0;
		rc = rc > 0 ? 0 : rc;
	}
	p->held = 0;
	return rc;
}

static int ring_send(void *ctx, int dir)
{
	struct ring_pair *p = ctx;
	int rc;

	if (p->batch > 1) {
		p->msgs[p->held++] = (orbit_msg_t){ .payload = p->payload,
						    .len = p->bytes,
						    .ver = ++p->seqs[dir],
						    .kind = FRAME_KIND };
		return p->held == p->batch ? ring_flush(p, dir) : 0;
	}
	rc = p->stream ? ring_window_wait(p, dir) : 0;
	if (rc == 0)
		rc = orbit_ring_write(p->rings[dir], FRAME_KIND, ++p->seqs[dir], p->payload,
				      p->bytes, NULL);
	return rc < 0 ? rc : 0;
}

/*
 * The next frames at the receiver's cursor into frames and bufs: up to batch of them,
 * and at least one. -EPROTO: a frame went missing (counted lost).
 */
static int ring_take(struct ring_pair *p, int dir)
{
	uint64_t lost = 0;
	int rc;

	for (;;) {
		rc = p->batch > 1
			     ? orbit_ring_next_batch(p->rings[dir], &p->cursors[dir], p->frames,
						     p->bufs, sizeof(p->bufs[0]), p->batch, &lost)
			     : orbit_ring_next(p->rings[dir], &p->cursors[dir], p->frames,
					       p->bufs[0], sizeof(p->bufs[0]), &lost);
		/* Checked on every call: a skipped frame would otherwise be awaited for ever. */
		if (lost)
			return -EPROTO;
		if (rc != -EAGAIN)
			break;
		rc = ring_wait_or_spin(p, p->rings[dir], p->cursors[dir]);
		if (rc < 0)
			return rc;
	}
	if (rc < 0)
		return rc;
	p->ready = p->batch > 1 ? (size_t)rc : 1;
	p->taken = 0;
	return 0;
}

/* -EPROTO: a frame went missing or is not the one expected. */
static int ring_receive(void *ctx, int dir)
{
	struct ring_pair *p = ctx;
	uint64_t expected = ++p->seqs[dir];
	const orbit_frame_t *frame;
	int rc = p->taken < p->ready ? 0 : ring_take(p, dir);

	if (rc < 0)
		return rc;
	frame = &p->frames[p->taken++];
	if (frame->ver != expected || frame->len != p->bytes)
		return -EPROTO;
	if (p->stream && expected % p->ack_every == 0)
		rc = orbit_ring_write(p->acks[dir], ACK_KIND, expected, NULL, 0, NULL);
	return rc < 0 ? rc : 0;
}

static int ring_attach(struct ring_pair *p, orbit_fleet_t *fleet)
{
	int rc = 0;

	for (int dir = 0; dir < 2 && rc == 0; dir++) {
		rc = orbit_fleet_ring(fleet, KIND_DATA + dir, &p->rings[dir]);
		if (rc == 0)
			rc = orbit_fleet_ring(fleet, KIND_ACK + dir, &p->acks[dir]);
	}
	return rc;
}

/* The child's copy of the pair: the same rings, mapped by its own join. */
static int ring_child_setup(void *ctx)
{
	struct ring_pair *p = ctx;
	int rc;

	p->fleet = NULL; /* the parent's handle, which the teardown must not leave */
	rc = orbit_fleet_join_shm(p->fleet_name, 1, 2, NULL, &p->fleet);
	return rc < 0 ? rc : ring_attach(p, p->fleet);
}

static void ring_child_teardown(void *ctx)
{
	struct ring_pair *p = ctx;

	orbit_fleet_leave(p->fleet);
}

static void ring_close(struct bench_pingpong *pp)
{
	struct ring_pair *p = pp->ctx;

	if (!p)
		return;
	if (p->fleet)
		orbit_fleet_unlink(p->fleet);
	orbit_fleet_leave(p->fleet);
	free(p);
	pp->ctx = NULL;
}

static int ring_pair_open(const struct bench_channel *ch, size_t batch, struct bench_pingpong *pp)
{
	static unsigned serial;
	struct ring_pair *p;
	int rc;

	if (ch->bytes < 1 || ch->bytes > BENCH_MESSAGE_MAX || (batch > 1 && !ch->stream))
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->bytes = ch->bytes;
	p->spin = ch->spin;
	p->fd = ch->fd;
	p->stream = ch->stream;
	p->batch = batch;
	*pp = (struct bench_pingpong){
		.send = ring_send,
		.receive = ring_receive,
		.flush = ring_flush,
		.child_setup = ring_child_setup,
		.child_teardown = ring_child_teardown,
		.ctx = p,
	};
	snprintf(p->fleet_name, sizeof(p->fleet_name), "bench-%ld-%u", (long)getpid(), serial++);
	rc = orbit_fleet_join_shm(p->fleet_name, 0, 2, NULL, &p->fleet);
	if (rc == 0)
		rc = ring_attach(p, p->fleet);
	if (rc < 0) {
		ring_close(pp);
		return rc;
	}
	p->window = orbit_ring_capacity(p->rings[0]) / 2;
	p->ack_every = p->window / 4;
	/* Taken before the fork, so neither side can miss the other's first frame. */
	for (int dir = 0; dir < 2; dir++)
		p->cursors[dir] = orbit_ring_head(p->rings[dir]);
	return 0;
}

static int ring_open(const struct bench_channel *ch, struct bench_pingpong *pp)
{
	return ring_pair_open(ch, 1, pp);
}

static int ring_open_batched(const struct bench_channel *ch, struct bench_pingpong *pp)
{
	return ring_pair_open(ch, BENCH_BATCH, pp);
}

const struct bench_transport bench_transport_orbit = {
	.name = "orbit",
	.label = "liborbit ring",
	.can_spin = true,
	.open = ring_open,
	.close = ring_close,
};

const struct bench_transport bench_transport_orbit_batched = {
	.name = "orbit-batched",
	.label = "batches of " BATCH_TEXT(BENCH_BATCH),
	.can_spin = true,
	.stream_only = true,
	.open = ring_open_batched,
	.close = ring_close,
};
