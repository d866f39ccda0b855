/* SPDX-License-Identifier: MIT */
/* NetId64 constants shared by the ring, which mints ids. */
#ifndef ORBIT_ID_H
#define ORBIT_ID_H

#include <stdint.h>

#define ID_COUNTER_BITS 40
#define ID_COUNTER_MASK ((UINT64_C(1) << ID_COUNTER_BITS) - 1)

/* "255:65535:1099511627775" and its NUL. */
#define ID_TEXT_MAX 24

#endif
