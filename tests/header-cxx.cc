// SPDX-License-Identifier: MIT
// <orbit.h> from C++17: the same checks and calls as header-c.c, which is written in the
// common subset; linking proves the declarations have C linkage.
#include "header-c.c"
