/* SPDX-License-Identifier: MIT */
/*
 * Message channels between a parent and the child it forks, one per direction,
 * measured alike by bench_pingpong_run and bench_stream_run: a liborbit ring
 * pair (transport-ring.c), pipes, a unix socket pair and POSIX message queues
 * (transport-ipc.c), and Redis pub/sub (transport-redis.c).
 */
#ifndef ORBIT_BENCH_TRANSPORT_H
#define ORBIT_BENCH_TRANSPORT_H

#include "benchutil.h"
#include "redis.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Every message carries the sender's count of its direction, checked on receipt. */
#define BENCH_MESSAGE_MAX 256

struct bench_channel {
	size_t bytes; /* per message, 1..BENCH_MESSAGE_MAX */
	bool spin;    /* receivers poll without sleeping (transports that can_spin) */
	bool fd;      /* receivers sleep in poll(2) on the ring's descriptor (liborbit only) */
	bool stream;  /* for bench_stream_run: add flow control where the mechanism has none */
	const struct bench_redis *redis; /* a started server, for the redis transport */
};

struct bench_transport {
	const char *name;  /* short and stable: "orbit", "pipe", "socket", "mqueue", "redis" */
	const char *label; /* for people: "liborbit ring" */
	bool can_spin;
	bool stream_only; /* measures throughput only: it sends in batches */
	/* Fills pp (callbacks and an allocated ctx) for one channel; 0 or a negative errno. */
	int (*open)(const struct bench_channel *ch, struct bench_pingpong *pp);
	/* Releases what open made, in the parent, after the run. */
	void (*close)(struct bench_pingpong *pp);
};

extern const struct bench_transport bench_transport_orbit;
/* liborbit sending BENCH_BATCH messages per orbit_ring_write_batch, receiving up to as
 * many per orbit_ring_next_batch. */
#define BENCH_BATCH 32
extern const struct bench_transport bench_transport_orbit_batched;
extern const struct bench_transport bench_transport_pipe;
extern const struct bench_transport bench_transport_socket;
extern const struct bench_transport bench_transport_mqueue;
extern const struct bench_transport bench_transport_redis;

/*
 * Opens a channel of t, runs bench_pingpong_run over it (bench_stream_run when
 * ch->stream) and closes it: 0 and the result, or a negative errno.
 */
int bench_transport_run(const struct bench_transport *t, const struct bench_channel *ch,
			const struct bench_plan *plan, const int cpus[2], unsigned timeout_s,
			struct bench_result *result);

/* The message number `seq` of `bytes` bytes, and whether buf is exactly that message. */
void bench_message_fill(uint8_t *buf, size_t bytes, uint64_t seq);
bool bench_message_is(const uint8_t *buf, size_t bytes, uint64_t seq);

#endif
