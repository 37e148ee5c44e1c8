#pragma once
#include "options.h"

/* Exit statuses of `moat run` (documented in --help). */
#define MON_EXIT_OK        0
#define MON_EXIT_FAILURE   1
#define MON_EXIT_BAD_INPUT 2

/* Boot and supervise one VM; returns the process exit status. */
int mon_run(struct mon_config *cfg);
