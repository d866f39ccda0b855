/* SPDX-License-Identifier: MIT */
/* Self-describing frame payloads derived from (writer, seq), with a checksum. */
#include "frame-pattern.h"

#include <errno.h>
#include <string.h>

static uint64_t splitmix64(uint64_t x)
{
	x += 0x9E3779B97F4A7C15ull;
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
	x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
	return x ^ (x >> 31);
}

/* A rotate-xor checksum over 8-byte words: cheap, so large payloads stay quick to make. */
static uint32_t checksum(const uint8_t *p, size_t n)
{
	uint64_t h = 0x243F6A8885A308D3ull, word;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		memcpy(&word, p + i, 8);
		h = ((h << 5) | (h >> 59)) ^ word;
	}
	for (; i < n; i++)
		h = ((h << 5) | (h >> 59)) ^ p[i];
	return (uint32_t)(splitmix64(h) >> 32);
}

static uint64_t pattern_seed(uint16_t writer, uint64_t seq)
{
	return splitmix64(((uint64_t)writer << 48) ^ seq);
}

/* Lengths vary over the whole slot so short and long writes race on the same slots. */
static size_t pattern_len(uint64_t seed, size_t max)
{
	return PATTERN_MIN_LEN + (size_t)(seed % (max - PATTERN_MIN_LEN + 1));
}

size_t pattern_length(size_t max, uint16_t writer, uint64_t seq)
{
	return pattern_len(pattern_seed(writer, seq), max);
}

/* Every body byte depends on the seed, so bytes of two different frames almost never agree. */
size_t pattern_fill(void *out, size_t max, uint16_t writer, uint64_t seq)
{
	uint64_t seed = pattern_seed(writer, seq);
	size_t len = pattern_len(seed, max);
	uint8_t *buf = out;
	uint32_t sum;

	memcpy(buf, &writer, sizeof(writer));
	memcpy(buf + 2, &seq, sizeof(seq));
	for (size_t i = 10; i < len - 4; i++)
		buf[i] = (uint8_t)((seed >> (8 * (i & 7))) ^ (i >> 3));
	sum = checksum(buf, len - 4);
	memcpy(buf + len - 4, &sum, sizeof(sum));
	return len;
}

static uint8_t pattern_frame_kind(uint16_t writer, uint64_t seq)
{
	return (uint8_t)(writer * 31u + seq);
}

/* Static: payloads reach 1 MiB and every user of these helpers is single-threaded. */
static uint8_t pattern_buf[1u << 20];

int pattern_write_filled(orbit_ring_t *ring, uint16_t writer, uint64_t seq, const void *payload,
			 size_t len, orbit_id_t *id)
{
	return orbit_ring_write(ring, pattern_frame_kind(writer, seq), seq, payload, len, id);
}

orbit_msg_t pattern_msg(void *buf, size_t max, uint16_t writer, uint64_t seq)
{
	size_t len = pattern_fill(buf, max, writer, seq);

	return (orbit_msg_t){
		.payload = buf, .len = len, .ver = seq, .kind = pattern_frame_kind(writer, seq)
	};
}

int pattern_write(orbit_ring_t *ring, uint16_t writer, uint64_t seq, orbit_id_t *id)
{
	size_t len = pattern_fill(pattern_buf, orbit_ring_payload_max(ring), writer, seq);

	return pattern_write_filled(ring, writer, seq, pattern_buf, len, id);
}

int pattern_verify_prefix(orbit_ring_t *ring, const orbit_frame_t *frame, const void *buf,
			  size_t size, uint16_t *writer, uint64_t *seq)
{
	size_t max = orbit_ring_payload_max(ring);
	size_t have = frame->len < size ? frame->len : size;
	uint16_t w;
	uint64_t s;

	if (frame->len < PATTERN_MIN_LEN || frame->len > max || have < 10)
		return -1;
	memcpy(&w, buf, sizeof(w));
	memcpy(&s, (const uint8_t *)buf + 2, sizeof(s));
	if (pattern_fill(pattern_buf, max, w, s) != frame->len || memcmp(pattern_buf, buf, have))
		return -1;
	if (orbit_id_node(frame->id) != w || orbit_id_kind(frame->id) != orbit_ring_kind(ring) ||
	    frame->ver != s || frame->kind != pattern_frame_kind(w, s))
		return -1;
	*writer = w;
	*seq = s;
	return 0;
}

int pattern_verify(orbit_ring_t *ring, const orbit_frame_t *frame, const void *buf,
		   uint16_t *writer, uint64_t *seq)
{
	return pattern_verify_prefix(ring, frame, buf, frame->len, writer, seq);
}

void pattern_check_head(orbit_ring_t *ring, uint32_t writers, uint64_t *reads, uint64_t *torn,
			uint64_t *errors, int *last_error)
{
	uint8_t buf[64];
	orbit_frame_t frame;
	uint16_t writer;
	uint64_t seq;
	int ret = orbit_ring_read_head(ring, &frame, buf, sizeof(buf));

	if (ret == 0 || ret == -EMSGSIZE) {
		(*reads)++;
		if (pattern_verify_prefix(ring, &frame, buf, sizeof(buf), &writer, &seq) < 0 ||
		    writer >= writers)
			(*torn)++;
	} else if (ret != -ENOENT && ret != -EAGAIN) {
		(*errors)++;
		*last_error = ret;
	}
}

int pattern_expect(orbit_ring_t *ring, const orbit_frame_t *frame, const void *buf, uint16_t writer,
		   uint64_t seq)
{
	uint16_t got_writer;
	uint64_t got_seq;

	if (pattern_verify(ring, frame, buf, &got_writer, &got_seq) < 0)
		return -1;
	return got_writer == writer && got_seq == seq ? 0 : -1;
}
