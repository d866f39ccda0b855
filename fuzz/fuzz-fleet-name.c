/* SPDX-License-Identifier: MIT */
/*
 * Fleet names: the input as a string is joined (process-local and shm; a shm join makes
 * no segment) and probed. The library must accept exactly the names orbit(7) (SHARED MEMORY, Names)
 * allows and refuse every other with -EINVAL. Nothing here creates or removes a segment:
 * a fuzzed name may be a real fleet's.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-util.h"

#define NAME_MAX_BYTES 200

/* 1..200 bytes of [A-Za-z0-9_.-], not starting with '.'. */
static bool name_allowed(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > NAME_MAX_BYTES || name[0] == '.')
		return false;
	for (const char *p = name; *p; p++) {
		if (!(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') &&
		    !(*p >= '0' && *p <= '9') && !strchr("_.-", *p))
			return false;
	}
	return true;
}

static void join(const char *name, bool allowed, bool shared)
{
	orbit_fleet_t *fleet = NULL;
	int r = shared ? orbit_fleet_join_shm(name, 0, 1, NULL, &fleet)
		       : orbit_fleet_join(name, 0, 1, NULL, &fleet);

	FUZZ_CHECK(allowed ? r == 0 : r == -EINVAL && !fleet, "join \"%s\" = %d", name, r);
	if (r < 0)
		return;
	FUZZ_CHECK(!strcmp(orbit_fleet_name(fleet), name));
	FUZZ_CHECK(orbit_fleet_is_shared(fleet) == shared);
	orbit_fleet_leave(fleet);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	orbit_fleet_options_t opts = ORBIT_FLEET_OPTIONS_INIT;
	char *name = malloc(size + 1);
	bool allowed;
	int r;

	if (!name)
		abort();
	memcpy(name, data, size);
	name[size] = '\0';
	allowed = name_allowed(name);
	join(name, allowed, false);
	join(name, allowed, true);
	r = orbit_fleet_probe(name, size ? data[0] : 0, &opts);
	FUZZ_CHECK(allowed ? r != -EINVAL : r == -EINVAL, "probe \"%s\" = %d", name, r);
	free(name);
	return 0;
}
