/* SPDX-License-Identifier: MIT */
/* Small macros shared by the implementation files. */
#ifndef ORBIT_MACRO_H
#define ORBIT_MACRO_H

/* The library builds with -fvisibility=hidden; only these reach symbols.map. */
#define ORBIT_EXPORT __attribute__((visibility("default")))

#define ORBIT_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
