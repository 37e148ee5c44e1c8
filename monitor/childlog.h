/* A child's stdout and stderr: a pipe the monitor relays to its own
 * stderr, so that no child ever holds the user's terminal (it could read
 * keystrokes, set O_NONBLOCK on it, or write escape sequences and lines
 * that look like moat's own). Each line is escaped (devmsg.h), cut at
 * MON_LOG_LINE bytes, prefixed with "[NAME] ", and at most
 * MON_LOG_RATE lines a second are relayed; the rest are counted and the
 * count is said once. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MON_LOG_LINE 512 /* bytes of one relayed line */
#define MON_LOG_RATE 50	 /* lines a second, per child */

struct mon_childlog {
	int fd;			 /* the pipe's read end; -1 once at its end */
	char line[MON_LOG_LINE]; /* the partial line so far */
	size_t len;
	int64_t window;	  /* ms: start of the current second */
	unsigned lines;	  /* relayed in it */
	unsigned dropped; /* not relayed since the last count said */
};

/* A pipe for a new child: *child_end for the spawn (close it after), the
 * read end kept in l. 0 or -errno. */
int mon_childlog_open(struct mon_childlog *l, int *child_end);

/* Relay what the pipe holds now (up to 64 KiB a call, so one child cannot
 * hold up the loop). false once the pipe reached its end (closed). */
bool mon_childlog_relay(struct mon_childlog *l, const char *name);

/* The child is gone: relay what is left, the partial line and the drop
 * count, and close the pipe. */
void mon_childlog_close(struct mon_childlog *l, const char *name);
