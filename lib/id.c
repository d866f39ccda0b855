/* SPDX-License-Identifier: MIT */
/* NetId64: [KIND:8][NODE:16][COUNTER:40], and its text form "kind:node:counter". */
#include <orbit.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "id.h"
#include "log.h"
#include "macro.h"

ORBIT_EXPORT orbit_id_t orbit_id_make(uint8_t kind, uint16_t node, uint64_t counter)
{
	return id_make(kind, node, counter);
}

ORBIT_EXPORT uint8_t orbit_id_kind(orbit_id_t id)
{
	return id_kind(id);
}

ORBIT_EXPORT uint16_t orbit_id_node(orbit_id_t id)
{
	return (uint16_t)(id >> 40);
}

ORBIT_EXPORT uint64_t orbit_id_counter(orbit_id_t id)
{
	return id_counter(id);
}

ORBIT_EXPORT int orbit_id_format(orbit_id_t id, char *buf, size_t size)
{
	char text[ID_TEXT_MAX];
	int len;

	if (!buf && size)
		return ORBIT_INVALID("%s: buf is NULL, size %zu", __func__, size);
	len = snprintf(text, sizeof(text), "%u:%u:%llu", orbit_id_kind(id), orbit_id_node(id),
		       (unsigned long long)orbit_id_counter(id));
	if ((size_t)len >= size)
		return -ENOSPC;
	memcpy(buf, text, (size_t)len + 1);
	return len;
}

/*
 * One canonical decimal field: digits only, no sign, no leading zero (so every id
 * has exactly one text form), at most max. Returns the end of the field or NULL.
 */
static const char *parse_field(const char *p, uint64_t max, uint64_t *value)
{
	uint64_t v = 0;
	const char *start = p;

	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned digit = (unsigned)(*p - '0');

		if (v > (max - digit) / 10)
			return NULL;
		v = v * 10 + digit;
	}
	if (p == start || (*start == '0' && p - start > 1))
		return NULL;
	*value = v;
	return p;
}

ORBIT_EXPORT int orbit_id_parse(const char *text, orbit_id_t *id)
{
	uint64_t kind, node, counter;
	const char *p = text;

	if (!text || !id)
		return ORBIT_INVALID("%s: %s is NULL", __func__, text ? "id" : "text");
	p = parse_field(p, UINT8_MAX, &kind);
	if (!p || *p++ != ':')
		return ORBIT_INVALID("%s: \"%.32s\": no kind 0-255 and ':'", __func__, text);
	p = parse_field(p, UINT16_MAX, &node);
	if (!p || *p++ != ':')
		return ORBIT_INVALID("%s: \"%.32s\": no node 0-65535 and ':'", __func__, text);
	p = parse_field(p, ID_COUNTER_MASK, &counter);
	if (!p)
		return ORBIT_INVALID("%s: \"%.32s\": no counter below 2^40", __func__, text);
	if (*p)
		return ORBIT_INVALID("%s: \"%.32s\": bytes after the counter", __func__, text);
	*id = orbit_id_make((uint8_t)kind, (uint16_t)node, counter);
	return 0;
}
