/* `moat ctl --help` and `moat ctl COMMAND --help`: the texts, kept apart
 * from parsing so they read as a page (docs/moat-ctl.md is the same page
 * in markdown). */
#pragma once

#include <stdio.h>

/* The whole page (topic NULL), or the help of one command word ("disk",
 * "status"). */
void ctl_help(FILE *f, const char *topic);
