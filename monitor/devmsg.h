/* What the monitor takes from a child's messages, made safe, in this one
 * place: any child may have been taken over by the guest, so its words
 * reach the user's terminal and the audit trail only as printable, bounded
 * text that cannot end a line, start a terminal escape or close a quoted
 * audit field. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "device.pb-c.h"

#define MON_MAX_COUNTERS 16 /* counters taken from one stats message */

/* Copy msg (NULL: empty) into out as one line: every byte outside
 * printable ASCII becomes \xNN, a backslash \\ and a double quote \",
 * and it is cut to outlen - 1 bytes, never inside an escape. */
void mon_untrusted_line(const char *msg, char *out, size_t outlen);

/* The same for multi-line text (a register dump): each line escaped as
 * above and indented by two spaces, so that none looks like a line of
 * moat's own; newlines kept; at most max_lines lines. */
void mon_untrusted_text(const char *msg, unsigned max_lines, char *out, size_t outlen);

/* A counter name: 1..32 of [a-z0-9_]. */
bool mon_counter_name_ok(const char *name);

/* " name=value" for each well-named counter of st (at most
 * MON_MAX_COUNTERS, whole entries only) into out, always NUL-terminated. */
void mon_counters_format(const Moat__Dev__StatsResponse *st, char *out, size_t outlen);
