/* Strings from the VM are untrusted: a hostile or broken monitor must not
 * be able to move the cursor, retitle the terminal or hide text by sending
 * escape sequences in a disk path or an audit line. Pure. */
#pragma once

#include <stddef.h>
#include <stdio.h>

/* Write s to f fit for a terminal: printable UTF-8 passes; C0 controls,
 * DEL, C1 controls, bidirectional overrides and bytes that are not UTF-8
 * become \n \t \r \xHH or \uHHHH, and a backslash is doubled so the text
 * reads back unambiguously. Returns the bytes written (f NULL: only
 * counted, for column widths). */
size_t ctl_put_escaped(FILE *f, const char *s);

/* A copy of s that is valid UTF-8: every byte that does not start a valid
 * sequence becomes U+FFFD. For JSON, where json-c escapes the controls
 * itself but would pass broken bytes on. malloc'd; NULL when out of
 * memory. */
char *ctl_utf8_clean(const char *s);
