/* SPDX-License-Identifier: MIT */
/*
 * What the transports share: running one channel, and what every message
 * carries so a receiver notices one lost, repeated or cut.
 */
#include "transport.h"

#include <string.h>

/* The count in the first (up to) 8 bytes, its complement's low byte in the last. */
void bench_message_fill(uint8_t *buf, size_t bytes, uint64_t seq)
{
	memcpy(buf, &seq, bytes < sizeof(seq) ? bytes : sizeof(seq));
	if (bytes > sizeof(seq))
		buf[bytes - 1] = (uint8_t)~seq;
}

bool bench_message_is(const uint8_t *buf, size_t bytes, uint64_t seq)
{
	if (memcmp(buf, &seq, bytes < sizeof(seq) ? bytes : sizeof(seq)) != 0)
		return false;
	return bytes <= sizeof(seq) || buf[bytes - 1] == (uint8_t)~seq;
}

int bench_transport_run(const struct bench_transport *t, const struct bench_channel *ch,
			const struct bench_plan *plan, const int cpus[2], unsigned timeout_s,
			struct bench_result *result)
{
	struct bench_pingpong pp;
	int rc = t->open(ch, &pp);

	if (rc < 0)
		return rc;
	if (ch->stream)
		rc = bench_stream_run(&pp, plan, cpus, timeout_s, result);
	else
		rc = bench_pingpong_run(&pp, plan, cpus, timeout_s, result);
	t->close(&pp);
	return rc;
}
