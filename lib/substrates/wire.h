/* SPDX-License-Identifier: MIT */
/*
 * Little-endian field codec for the substrate frames (orbit-rs 0.1 wire format).
 * A reader walks a payload with a cursor that refuses to step past the end, so a
 * frame written by another process can never make a decoder read out of bounds.
 */
#ifndef ORBIT_WIRE_H
#define ORBIT_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct wire_reader {
	const uint8_t *pos;
	size_t left;
	bool bad; /* set once a read ran past the end; all later reads fail too */
};

static inline struct wire_reader wire_reader_init(const void *data, size_t len)
{
	return (struct wire_reader){ .pos = data, .left = len };
}

static inline const uint8_t *wire_take(struct wire_reader *r, size_t n)
{
	const uint8_t *p = r->pos;

	if (r->bad || n > r->left) {
		r->bad = true;
		return NULL;
	}
	r->pos += n;
	r->left -= n;
	return p;
}

static inline uint8_t wire_u8(struct wire_reader *r)
{
	const uint8_t *p = wire_take(r, 1);

	return p ? p[0] : 0;
}

static inline uint16_t wire_u16(struct wire_reader *r)
{
	const uint8_t *p = wire_take(r, 2);

	return p ? (uint16_t)(p[0] | p[1] << 8) : 0;
}

static inline uint64_t wire_u64(struct wire_reader *r)
{
	const uint8_t *p = wire_take(r, 8);
	uint64_t v = 0;

	for (int i = 7; p && i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* True when the whole payload was consumed without running past its end. */
static inline bool wire_done(const struct wire_reader *r)
{
	return !r->bad && r->left == 0;
}

static inline uint8_t *wire_put_u8(uint8_t *p, uint8_t v)
{
	*p = v;
	return p + 1;
}

static inline uint8_t *wire_put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	return p + 2;
}

static inline uint8_t *wire_put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
	return p + 8;
}

static inline uint8_t *wire_put_bytes(uint8_t *p, const void *src, size_t n)
{
	if (n)
		memcpy(p, src, n);
	return p + n;
}

#endif
