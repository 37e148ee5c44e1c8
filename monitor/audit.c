#include "audit.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fdutil.h"
#include "log.h"

static int audit_fd = -1;

/* The last MON_AUDIT_KEEP lines, a ring: keep[next] is the oldest once it
 * is full. */
static char *keep[MON_AUDIT_KEEP];
static unsigned keep_next, keep_n;

static void remember(const char *line, int n)
{
	char *copy = strndup(line, (size_t)n);

	if (!copy)
		return;
	free(keep[keep_next]);
	keep[keep_next] = copy;
	keep_next = (keep_next + 1) % MON_AUDIT_KEEP;
	if (keep_n < MON_AUDIT_KEEP)
		keep_n++;
}

unsigned mon_audit_tail(unsigned max, const char **out)
{
	unsigned n = max < keep_n ? max : keep_n;
	unsigned first = (keep_next + MON_AUDIT_KEEP - n) % MON_AUDIT_KEEP;

	for (unsigned i = 0; i < n; i++)
		out[i] = keep[(first + i) % MON_AUDIT_KEEP];
	return n;
}

/* Root appends here: the last component is never a symlink (a link in a
 * shared directory could aim root's appends at any file), the open never
 * blocks (a FIFO) and what is opened must be a regular file (not a device). */
int mon_audit_open(const char *path)
{
	struct stat st;

	if (!path)
		return 0;
	audit_fd = open(
	    path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK,
	    0600);
	if (audit_fd < 0)
		return errno == ELOOP ? -EMLINK : -errno;
	if (fstat(audit_fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(audit_fd);
		audit_fd = -1;
		return -EINVAL;
	}
	return 0;
}

void mon_audit(const char *event, const char *fmt, ...)
{
	char line[1024], when[32];
	time_t t = time(NULL);
	struct tm tm;
	va_list ap;
	int n;

	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	n = snprintf(line, sizeof(line), "%s moat[%d] %s ", when, (int)getpid(), event);
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	va_start(ap, fmt);
	int m = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		return;
	n += m;
	if ((size_t)n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	log_debug("audit: %.*s", n, line);
	remember(line, n);
	line[n++] = '\n';
	/* One write per record, so concurrent moats can share a file. */
	if (audit_fd >= 0)
		fd_write_full(audit_fd, line, n);
}

void mon_audit_close(void)
{
	if (audit_fd >= 0)
		close(audit_fd);
	audit_fd = -1;
}
