/* SPDX-License-Identifier: MIT */
/* NetId64: bit layout, 40-bit truncation, the text form and its strict parser; the version. */
#include <orbit.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "testutil.h"

#define COUNTER_LIMIT (UINT64_C(1) << 40)
#define MAX_TEXT      "255:65535:1099511627775"

/* Any id a call must leave alone on error. */
#define SENTINEL_ID UINT64_C(0x0123456789abcdef)

START_TEST(test_version)
{
	char want[32];

	snprintf(want, sizeof(want), "%d.%d.%d", ORBIT_VERSION_MAJOR, ORBIT_VERSION_MINOR,
		 ORBIT_VERSION_PATCH);
	ck_assert_str_eq(orbit_version(), want);
}
END_TEST

START_TEST(test_version_number)
{
	ck_assert_int_eq(ORBIT_VERSION_NUMBER, ORBIT_VERSION_MAJOR * 65536 +
						       ORBIT_VERSION_MINOR * 256 +
						       ORBIT_VERSION_PATCH);
	ck_assert(
		ORBIT_CHECK_VERSION(ORBIT_VERSION_MAJOR, ORBIT_VERSION_MINOR, ORBIT_VERSION_PATCH));
	ck_assert(ORBIT_CHECK_VERSION(1, 0, 0));
	ck_assert(ORBIT_CHECK_VERSION(1, 3, 0));
	ck_assert(!ORBIT_CHECK_VERSION(ORBIT_VERSION_MAJOR, ORBIT_VERSION_MINOR,
				       ORBIT_VERSION_PATCH + 1));
	ck_assert(!ORBIT_CHECK_VERSION(ORBIT_VERSION_MAJOR, ORBIT_VERSION_MINOR + 1, 0));
	ck_assert(!ORBIT_CHECK_VERSION(ORBIT_VERSION_MAJOR + 1, 0, 0));
	/* A later minor version is newer than any patch of this one. */
	ck_assert(ORBIT_CHECK_VERSION(1, 2, 255));
}
END_TEST

START_TEST(test_make_packs_kind_node_counter)
{
	orbit_id_t id = orbit_id_make(7, 513, 42);

	ck_assert_uint_eq(id, UINT64_C(7) << 56 | UINT64_C(513) << 40 | 42);
	ck_assert_uint_eq(orbit_id_kind(id), 7);
	ck_assert_uint_eq(orbit_id_node(id), 513);
	ck_assert_uint_eq(orbit_id_counter(id), 42);
	ck_assert_uint_eq(orbit_id_make(0, 0, 0), 0);
}
END_TEST

START_TEST(test_make_max_values)
{
	orbit_id_t id = orbit_id_make(UINT8_MAX, UINT16_MAX, COUNTER_LIMIT - 1);

	ck_assert_uint_eq(id, UINT64_MAX);
	ck_assert_uint_eq(orbit_id_kind(id), UINT8_MAX);
	ck_assert_uint_eq(orbit_id_node(id), UINT16_MAX);
	ck_assert_uint_eq(orbit_id_counter(id), COUNTER_LIMIT - 1);
}
END_TEST

START_TEST(test_make_truncates_counter_to_40_bits)
{
	orbit_id_t id = orbit_id_make(3, 4, COUNTER_LIMIT + 5);

	ck_assert_uint_eq(orbit_id_counter(id), 5);
	ck_assert_uint_eq(orbit_id_kind(id), 3);
	ck_assert_uint_eq(orbit_id_node(id), 4);

	id = orbit_id_make(3, 4, UINT64_MAX);
	ck_assert_uint_eq(orbit_id_counter(id), COUNTER_LIMIT - 1);
	ck_assert_uint_eq(orbit_id_kind(id), 3);
	ck_assert_uint_eq(orbit_id_node(id), 4);

	ck_assert_uint_eq(orbit_id_counter(orbit_id_make(0, 0, COUNTER_LIMIT)), 0);
}
END_TEST

START_TEST(test_format_exact_strings)
{
	char buf[64];

	ck_assert_int_eq(orbit_id_format(orbit_id_make(1, 2, 3), buf, sizeof(buf)), 5);
	ck_assert_str_eq(buf, "1:2:3");
	ck_assert_int_eq(orbit_id_format(0, buf, sizeof(buf)), 5);
	ck_assert_str_eq(buf, "0:0:0");
	ck_assert_int_eq(orbit_id_format(orbit_id_make(200, 1000, 1234567), buf, sizeof(buf)), 16);
	ck_assert_str_eq(buf, "200:1000:1234567");
	ck_assert_int_eq(orbit_id_format(UINT64_MAX, buf, sizeof(buf)), (int)strlen(MAX_TEXT));
	ck_assert_str_eq(buf, MAX_TEXT);
}
END_TEST

START_TEST(test_format_size_boundary)
{
	const orbit_id_t id = UINT64_MAX;
	const size_t len = strlen(MAX_TEXT);
	char buf[64], untouched[64];

	memset(buf, 'x', sizeof(buf));
	memcpy(untouched, buf, sizeof(buf));
	ck_assert_int_eq(orbit_id_format(id, buf, len), -ENOSPC);
	ck_assert_mem_eq(buf, untouched, sizeof(buf));
	ck_assert_int_eq(orbit_id_format(id, buf, 1), -ENOSPC);
	ck_assert_mem_eq(buf, untouched, sizeof(buf));
	ck_assert_int_eq(orbit_id_format(id, buf, 0), -ENOSPC);
	ck_assert_mem_eq(buf, untouched, sizeof(buf));

	ck_assert_int_eq(orbit_id_format(id, buf, len + 1), (int)len);
	ck_assert_str_eq(buf, MAX_TEXT);
	ck_assert_int_eq(buf[len + 1], 'x');
}
END_TEST

START_TEST(test_format_id_strlen)
{
	char buf[ORBIT_ID_STRLEN];

	/* Exactly the longest text and its NUL: one byte less does not fit. */
	ck_assert_uint_eq(ORBIT_ID_STRLEN, strlen(MAX_TEXT) + 1);
	ck_assert_int_eq(orbit_id_format(UINT64_MAX, buf, sizeof(buf)), (int)strlen(MAX_TEXT));
	ck_assert_int_eq(orbit_id_format(UINT64_MAX, buf, sizeof(buf) - 1), -ENOSPC);
}
END_TEST

START_TEST(test_format_null_buffer)
{
	ck_assert_int_eq(orbit_id_format(orbit_id_make(1, 2, 3), NULL, 16), -EINVAL);
	ck_assert_int_eq(orbit_id_format(orbit_id_make(1, 2, 3), NULL, 0), -ENOSPC);
}
END_TEST

static void assert_parses(const char *text, uint8_t kind, uint16_t node, uint64_t counter)
{
	orbit_id_t id = SENTINEL_ID;

	ck_assert_msg(orbit_id_parse(text, &id) == 0, "\"%s\" did not parse", text);
	ck_assert_uint_eq(id, orbit_id_make(kind, node, counter));
}

START_TEST(test_parse_valid)
{
	assert_parses("1:2:3", 1, 2, 3);
	assert_parses("0:0:0", 0, 0, 0);
	assert_parses("10:100:1000", 10, 100, 1000);
	assert_parses("255:0:0", UINT8_MAX, 0, 0);
	assert_parses("0:65535:0", 0, UINT16_MAX, 0);
	assert_parses("0:0:1099511627775", 0, 0, COUNTER_LIMIT - 1);
	assert_parses(MAX_TEXT, UINT8_MAX, UINT16_MAX, COUNTER_LIMIT - 1);
}
END_TEST

static const char *const malformed[] = {
	"",
	":",
	"::",
	"1",
	"1:2",
	"1:2:",
	":2:3",
	"1::3",
	"1:2:3:",
	"1:2:3:4",
	"+1:2:3",
	"-1:2:3",
	"1:+2:3",
	"1:2:-3",
	" 1:2:3",
	"1 :2:3",
	"1: 2:3",
	"1:2:3 ",
	"1:2:3\n",
	"1\t:2:3",
	"01:2:3",
	"1:02:3",
	"1:2:03",
	"00:0:0",
	"0:00:0",
	"0:0:00",
	"0x1:2:3",
	"1:0x2:3",
	"1:2:0x3",
	"a:2:3",
	"1:2:3a",
	"1:2:3x",
	"1.0:2:3",
	"1;2;3",
	"256:0:0",
	"0:65536:0",
	"0:0:1099511627776",
	"1000:0:0",
	"0:1000000:0",
	"0:0:18446744073709551615",
	"0:0:18446744073709551616",
	"0:0:99999999999999999999999999",
	"18446744073709551617:0:0",
};

START_TEST(test_parse_rejects_malformed)
{
	orbit_id_t id = SENTINEL_ID;

	ck_assert_msg(orbit_id_parse(malformed[_i], &id) == -EINVAL, "\"%s\" was accepted",
		      malformed[_i]);
	ck_assert_uint_eq(id, SENTINEL_ID);
}
END_TEST

START_TEST(test_parse_null_arguments)
{
	orbit_id_t id = SENTINEL_ID;

	ck_assert_int_eq(orbit_id_parse(NULL, &id), -EINVAL);
	ck_assert_uint_eq(id, SENTINEL_ID);
	ck_assert_int_eq(orbit_id_parse("1:2:3", NULL), -EINVAL);
}
END_TEST

static const orbit_id_t round_trip_ids[] = {
	0,
	UINT64_C(1) << 40,
	UINT64_C(1) << 56,
	(UINT64_C(1) << 40) - 1,
	UINT64_C(0x0123456789abcdef),
	UINT64_C(0xfedcba9876543210),
	UINT64_MAX,
};

START_TEST(test_round_trip)
{
	orbit_id_t id = round_trip_ids[_i], parsed = SENTINEL_ID;
	char buf[32];

	ck_assert_int_gt(orbit_id_format(id, buf, sizeof(buf)), 0);
	ck_assert_int_eq(orbit_id_parse(buf, &parsed), 0);
	ck_assert_uint_eq(parsed, id);
}
END_TEST

static Suite *id_suite(void)
{
	Suite *suite = suite_create("id");
	TCase *version = tcase_create("version");
	TCase *make = tcase_create("make");
	TCase *format = tcase_create("format");
	TCase *parse = tcase_create("parse");

	tcase_add_test(version, test_version);
	tcase_add_test(version, test_version_number);
	suite_add_tcase(suite, version);

	tcase_add_test(make, test_make_packs_kind_node_counter);
	tcase_add_test(make, test_make_max_values);
	tcase_add_test(make, test_make_truncates_counter_to_40_bits);
	suite_add_tcase(suite, make);

	tcase_add_test(format, test_format_exact_strings);
	tcase_add_test(format, test_format_size_boundary);
	tcase_add_test(format, test_format_id_strlen);
	tcase_add_test(format, test_format_null_buffer);
	suite_add_tcase(suite, format);

	tcase_add_test(parse, test_parse_valid);
	tcase_add_loop_test(parse, test_parse_rejects_malformed, 0, ARRAY_SIZE(malformed));
	tcase_add_test(parse, test_parse_null_arguments);
	tcase_add_loop_test(parse, test_round_trip, 0, ARRAY_SIZE(round_trip_ids));
	suite_add_tcase(suite, parse);
	return suite;
}

int main(void)
{
	return test_run_suite(id_suite(), NULL);
}
