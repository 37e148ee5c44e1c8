#include "childlog.h"

#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "children.h"
#include "devmsg.h"
#include "fdutil.h"

int mon_childlog_open(struct mon_childlog *l, int *child_end)
{
	int p[2];

	*l = (struct mon_childlog){.fd = -1};
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	fd_set_nonblock(p[0], true);
	l->fd = p[0];
	*child_end = p[1];
	return 0;
}

/* The journal's priority of a child's line, from the level word log.c
 * writes ("moat-blk/data: error: ..."). The child's text decides only
 * between error and debug: it never reaches the journal above <3>. */
static enum log_level child_level(const char *line)
{
	if (strstr(line, ": error: "))
		return LOG_LVL_ERROR;
	if (strstr(line, ": warning: "))
		return LOG_LVL_WARN;
	if (strstr(line, ": debug: "))
		return LOG_LVL_DEBUG;
	return LOG_LVL_INFO;
}

/* Say how many lines the limit held back, once it lets lines through. */
static void say_dropped(struct mon_childlog *l, const char *name)
{
	char msg[96];
	int n;

	if (!l->dropped)
		return;
	n = snprintf(msg, sizeof(msg), "[%s] (%u lines not shown: more than %d a second)\n", name,
		     l->dropped, MON_LOG_RATE);
	log_write_line(LOG_LVL_WARN, msg, (size_t)n);
	l->dropped = 0;
}

/* One whole line (l->line, l->len bytes) out, if the rate allows. */
static void emit(struct mon_childlog *l, const char *name)
{
	char esc[MON_LOG_LINE * 4 + 64], raw[MON_LOG_LINE + 1];
	int64_t now = mon_now_ms();
	int n;

	memcpy(raw, l->line, l->len);
	raw[l->len] = 0;
	l->len = 0;
	if (now - l->window >= 1000) {
		l->window = now;
		l->lines = 0;
		say_dropped(l, name);
	}
	if (l->lines >= MON_LOG_RATE) {
		l->dropped++;
		return;
	}
	l->lines++;
	n = snprintf(esc, sizeof(esc), "[%s] ", name);
	/* NULs inside the line end it early; what follows is dropped */
	mon_untrusted_line(raw, esc + n, sizeof(esc) - (size_t)n - 1);
	n += (int)strlen(esc + n);
	esc[n++] = '\n';
	log_write_line(child_level(raw), esc, (size_t)n);
}

static void take(struct mon_childlog *l, const char *name, const char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (buf[i] == '\n') {
			emit(l, name);
			continue;
		}
		if (l->len == sizeof(l->line))
			emit(l, name); /* a long line goes out in pieces */
		l->line[l->len++] = buf[i];
	}
}

bool mon_childlog_relay(struct mon_childlog *l, const char *name)
{
	char buf[4096];

	for (int round = 0; l->fd >= 0 && round < 16; round++) {
		ssize_t n = read(l->fd, buf, sizeof(buf));
		if (n > 0) {
			take(l, name, buf, (size_t)n);
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return true;
		return false; /* end of file, or an error: nothing more will come */
	}
	return l->fd >= 0;
}

void mon_childlog_close(struct mon_childlog *l, const char *name)
{
	char buf[4096];
	ssize_t n;

	if (l->fd < 0)
		return;
	/* What is left in the pipe: at most its size, since nobody writes now. */
	for (int round = 0; round < 64 && (n = read(l->fd, buf, sizeof(buf))) > 0; round++)
		take(l, name, buf, (size_t)n);
	if (l->len)
		emit(l, name);
	l->window = 0; /* let the count through */
	say_dropped(l, name);
	close(l->fd);
	l->fd = -1;
}
