/* SPDX-License-Identifier: MIT */
/*
 * <orbit.h> compiles cleanly on its own (pedantic, warnings as errors, no _GNU_SOURCE)
 * and its calls link. Written in the common subset of C11 and C++17: header-cxx.cc
 * compiles this same file as C++.
 */
#include <orbit.h>

#include <assert.h>
#include <string.h>

#if ORBIT_VERSION_MAJOR != 1 || ORBIT_VERSION_MINOR < 0 || ORBIT_VERSION_PATCH < 0
#error "unexpected ORBIT_VERSION_*"
#endif

/* The version macros work in #if, where programs use them. */
#if !ORBIT_CHECK_VERSION(1, 3, 0) || ORBIT_CHECK_VERSION(2, 0, 0) || ORBIT_VERSION_NUMBER < 0x010300
#error "ORBIT_CHECK_VERSION or ORBIT_VERSION_NUMBER"
#endif
static_assert(ORBIT_ID_STRLEN == sizeof("255:65535:1099511627775"), "ORBIT_ID_STRLEN");

/* Public structs are ABI: FFI callers hard-code these offsets, in C and C++ alike. */
static_assert(sizeof(orbit_id_t) == 8, "orbit_id_t is NetId64");
static_assert(offsetof(orbit_frame_t, id) == 0, "orbit_frame_t.id");
static_assert(offsetof(orbit_frame_t, ver) == 8, "orbit_frame_t.ver");
static_assert(offsetof(orbit_frame_t, len) == 16, "orbit_frame_t.len");
static_assert(offsetof(orbit_frame_t, kind) == 20, "orbit_frame_t.kind");
static_assert(sizeof(orbit_frame_t) == 24, "orbit_frame_t size");
static_assert(offsetof(orbit_fleet_options_t, size) == 0, "options.size comes first");
static_assert(offsetof(orbit_fleet_options_t, capacity) == sizeof(size_t), "options.capacity");
static_assert(offsetof(orbit_fleet_options_t, payload_max) == sizeof(size_t) + 4,
	      "options.payload_max");
static_assert(offsetof(orbit_fleet_options_t, mode) == sizeof(size_t) + 8, "options.mode");
static_assert(offsetof(orbit_fleet_options_t, flags) == sizeof(size_t) + 12, "options.flags");
static_assert(offsetof(orbit_event_t, topic) == 24, "orbit_event_t.topic");
static_assert(sizeof(((orbit_event_t *)0)->topic) == 256, "orbit_event_t.topic size");
static_assert(offsetof(orbit_member_t, state) == 2, "orbit_member_t.state");

int main(void)
{
	orbit_fleet_options_t opts = ORBIT_FLEET_OPTIONS_INIT;
	orbit_fleet_t *fleet = NULL;
	orbit_id_t id = 0;
	char text[32];

	if (opts.size != sizeof(opts) || opts.capacity || opts.payload_max || opts.mode ||
	    opts.flags)
		return 1;
	if (orbit_id_format(orbit_id_make(1, 2, 3), text, sizeof(text)) != 5 ||
	    orbit_id_parse(text, &id) != 0 || orbit_id_counter(id) != 3)
		return 1;
	opts.capacity = 2;
	if (orbit_fleet_join("header-test", 0, 1, &opts, &fleet) != 0)
		return 1;
	orbit_fleet_leave(fleet);
	return strcmp(orbit_version(), "1.0.0") == 0 ? 0 : 1;
}
