#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char log_prefix[64] = "moat";
static enum log_level log_level = LOG_LVL_INFO;

void log_set_prefix(const char *prefix)
{
	snprintf(log_prefix, sizeof(log_prefix), "%s", prefix);
}

void log_set_level(enum log_level lvl)
{
	log_level = lvl;
}

enum log_level log_get_level(void)
{
	return log_level;
}

/* One write(2) per message so that lines from several processes sharing
 * stderr do not interleave mid-line. */
int log_msg_errno(enum log_level lvl, int err, const char *fmt, ...)
{
	static const char *const names[] = {"error", "warning", "info", "debug"};
	char buf[1024];
	int saved = errno;
	int n;
	va_list ap;

	if (err < 0)
		err = -err;
	if (lvl > log_level)
		goto out;

	n = snprintf(buf, sizeof(buf), "%s: %s: ", log_prefix, names[lvl]);
	if (n < 0 || (size_t)n >= sizeof(buf))
		n = 0;
	errno = err;
	va_start(ap, fmt);
	int m = vsnprintf(buf + n, sizeof(buf) - n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	n += m;
	if ((size_t)n > sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	(void)!write(STDERR_FILENO, buf, n);
out:
	errno = saved;
	return err ? -err : -EIO;
}
