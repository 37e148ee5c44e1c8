/* Logging for every moat process. Each process sets a prefix naming itself
 * ("moat", "vm/NAME/vcpu"); messages go to stderr, which the monitor hands to
 * each child. When stderr is the journal ($JOURNAL_STREAM names it, as
 * systemd sets it for a service), each line starts with its syslog
 * priority ("<3>" for an error), which journald takes as the entry's
 * priority and strips; anywhere else a line is "PREFIX: LEVEL: message".
 * log_*_errno() return -abs(err) so callers can log and fail in one step:
 *   return log_error_errno(r, "Failed to map guest memory: %m");  */
#pragma once

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>

enum log_level { LOG_LVL_ERROR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

void log_set_prefix(const char *prefix);
void log_set_level(enum log_level lvl);
enum log_level log_get_level(void);

/* errno is set to err while formatting, so %m names it. */
int log_msg_errno(enum log_level lvl, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Write one line made elsewhere (len bytes, its '\n' included), such as a
 * child's line the monitor relays, in one call, with lvl's priority in
 * front when stderr is the journal. Not filtered by the level set. */
void log_write_line(enum log_level lvl, const char *line, size_t len);

#define log_error(...)		  log_msg_errno(LOG_LVL_ERROR, 0, __VA_ARGS__)
#define log_warn(...)		  log_msg_errno(LOG_LVL_WARN, 0, __VA_ARGS__)
#define log_info(...)		  log_msg_errno(LOG_LVL_INFO, 0, __VA_ARGS__)
#define log_debug(...)		  log_msg_errno(LOG_LVL_DEBUG, 0, __VA_ARGS__)
#define log_error_errno(err, ...) log_msg_errno(LOG_LVL_ERROR, (err), __VA_ARGS__)
#define log_warn_errno(err, ...)  log_msg_errno(LOG_LVL_WARN, (err), __VA_ARGS__)
