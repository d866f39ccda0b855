/* SPDX-License-Identifier: MIT */
/*
 * Id text, both ways. The input as a string parses to an id that formats back to exactly
 * that string (every id has one text form), or fails with -EINVAL leaving the id alone.
 * Its first 8 bytes as an id format to text that parses back to the id; a buffer too
 * small for the text gets -ENOSPC and keeps every byte it had.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-util.h"

#define ID_UNTOUCHED 0x0123456789abcdefull
/* "255:65535:1099511627775" and its NUL. */
#define ID_TEXT_MAX 24

static void text_to_id(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), back[ID_TEXT_MAX];
	orbit_id_t id = ID_UNTOUCHED;
	int r;

	if (!text)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	r = orbit_id_parse(text, &id);
	FUZZ_CHECK(r == 0 || (r == -EINVAL && id == ID_UNTOUCHED), "parse = %d", r);
	if (r == 0) {
		r = orbit_id_format(id, back, sizeof(back));
		FUZZ_CHECK(r >= 0 && (size_t)r == strlen(text) && !strcmp(back, text),
			   "\"%s\" parses, but formats back as \"%s\"", text, back);
	}
	free(text);
}

static void id_to_text(orbit_id_t id, size_t small)
{
	char text[ID_TEXT_MAX], *buf;
	orbit_id_t back = ID_UNTOUCHED;
	int len = orbit_id_format(id, text, sizeof(text));

	FUZZ_CHECK(len > 0 && (size_t)len == strlen(text), "format = %d", len);
	FUZZ_CHECK(orbit_id_parse(text, &back) == 0 && back == id, "\"%s\" parses as %#llx", text,
		   (unsigned long long)back);
	FUZZ_CHECK(orbit_id_make(orbit_id_kind(id), orbit_id_node(id), orbit_id_counter(id)) == id);
	FUZZ_CHECK(orbit_id_format(id, NULL, 0) == -ENOSPC);

	small %= (size_t)len + 2;
	buf = (char *)fuzz_buffer(small);
	if (small > (size_t)len)
		FUZZ_CHECK(orbit_id_format(id, buf, small) == len && !strcmp(buf, text));
	else
		FUZZ_CHECK(orbit_id_format(id, buf, small) == -ENOSPC && fuzz_untouched(buf, small),
			   "format into %zu of %d bytes", small, len);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	orbit_id_t id = 0;

	text_to_id(data, size);
	memcpy(&id, data, size < sizeof(id) ? size : sizeof(id));
	id_to_text(id, size > sizeof(id) ? data[sizeof(id)] : 0);
	return 0;
}
