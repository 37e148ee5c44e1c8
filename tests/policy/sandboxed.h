/* Inside sandboxed-child: the modes of sandboxed_limits.c and
 * sandboxed_net.c, called by sandboxed_child.c's main. */
#pragma once

#include <stdbool.h>

#include "pol.h"

#define SANDBOXED_PARENT_FD 3

/* Enter the sandbox as mode says: 0 entered, -1 refused, 1 not a mode of
 * sandboxed_limits.c. */
int limits_enter(const char *mode, struct pol_report *rep);

/* After the parent's go: run mode's check. NULL when all went well, else
 * why not; *handled is false if mode is not one of sandboxed_limits.c. A
 * kill-run-* mode returns only if it survived. */
const char *limits_run(const char *mode, bool *handled);

/* The modes of sandboxed_net.c (net-user.policy), likewise. */
int net_enter(const char *mode, struct pol_report *rep);
const char *net_run(const char *mode, bool *handled);
