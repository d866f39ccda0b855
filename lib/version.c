/* SPDX-License-Identifier: MIT */
/* The library's version string. */
#include <orbit.h>

#include "macro.h"

ORBIT_EXPORT const char *orbit_version(void)
{
	return ORBIT_VERSION_STRING;
}
