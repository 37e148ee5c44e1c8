/* A Reply, shown to the user: text by default, a JSON document with
 * --json. Everything the VM sent is untrusted: text is escaped
 * (ctl_escape.h), JSON is made valid UTF-8 and escaped by json-c. */
#pragma once

#include <stdio.h>

#include "control.pb-c.h"
#include "ctl_args.h"

/* Show reply r to the command cmd on out; a refusal goes to errout as one
 * "moat: ctl: " line in text mode, and to out as {"ok":false,"error":...}
 * with --json. Returns the exit status: 0 done, 1 the VM refused or its
 * reply lacks what was asked. */
int ctl_print_reply(const struct ctl_cmd *cmd, const Moat__Ctl__Reply *r, FILE *out, FILE *errout);

/* The halves of it, one per format; they expect an ok reply that carries
 * the result cmd asked for (ctl_print_reply checks). 0, or 1 with a line
 * on errout (out of memory). */
int ctl_print_text(const struct ctl_cmd *cmd, const Moat__Ctl__Reply *r, FILE *out);
int ctl_print_json(const struct ctl_cmd *cmd, const Moat__Ctl__Reply *r, FILE *out, FILE *errout);
