/* The audit trail: one line per event in the monitor's life and its
 * children's (start, sandbox state, death, end), appended to the file given
 * with --audit, and logged at debug level. A line reads
 *   2026-11-22T01:40:00Z moat[PID] EVENT key=value ...
 * Never contains secrets (the OSK is never formatted anywhere). */
#pragma once

/* Open (append, create 0600) the audit file; NULL: no file. 0, -EMLINK
 * for a symbolic link, -EINVAL for anything but a regular file, or
 * -errno. */
int mon_audit_open(const char *path);
void mon_audit(const char *event, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void mon_audit_close(void);

/* The last lines of the trail, kept in memory whether or not there is a
 * file (moat ctl audit tail). */
#define MON_AUDIT_KEEP 1000
/* Point out[0..n) at the last n (at most max) lines, oldest first; valid
 * until the next mon_audit(). Returns n. */
unsigned mon_audit_tail(unsigned max, const char **out);
