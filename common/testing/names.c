/* SPDX-License-Identifier: MIT */
#include "names.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "basics.h"

void test_fleet_name(char *buf, size_t size, const char *tag)
{
	static unsigned serial;

	snprintf(buf, size, "t-%s-%ld-%u", tag, (long)getpid(), serial++);
}

void test_segment_path(char *buf, size_t size, const char *fleet, uint8_t kind)
{
	snprintf(buf, size, "/dev/shm/orbit-%s-%u-%lu", fleet, kind, (unsigned long)geteuid());
}

void test_unlink_fleet(const char *fleet)
{
	static const char *const tables[] = { "leases", "subjects", "bells" };
	char name[256];

	for (unsigned kind = 0; kind < 256; kind++) {
		snprintf(name, sizeof(name), "/orbit-%s-%u-%lu", fleet, kind,
			 (unsigned long)geteuid());
		shm_unlink(name);
	}
	for (size_t i = 0; i < ARRAY_SIZE(tables); i++) {
		snprintf(name, sizeof(name), "/orbit-%s-%s-%lu", fleet, tables[i],
			 (unsigned long)geteuid());
		shm_unlink(name);
	}
}

void test_unlink_tag(const char *tag)
{
	char prefix[128], name[512];
	struct dirent *entry;
	DIR *dir;

	snprintf(prefix, sizeof(prefix), "orbit-t-%s-", tag);
	dir = opendir("/dev/shm");
	if (!dir)
		return;
	while ((entry = readdir(dir))) {
		if (strncmp(entry->d_name, prefix, strlen(prefix)) != 0)
			continue;
		snprintf(name, sizeof(name), "/%s", entry->d_name);
		shm_unlink(name);
	}
	closedir(dir);
}
