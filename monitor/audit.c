#include "audit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "fdutil.h"
#include "log.h"

static int audit_fd = -1;

int mon_audit_open(const char *path)
{
	if (!path)
		return 0;
	audit_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0600);
	return audit_fd < 0 ? -errno : 0;
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
