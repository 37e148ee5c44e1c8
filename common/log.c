#include "log.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
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

/* $JOURNAL_STREAM, read once: systemd sets it to "DEV:INODE" of the stream
 * it connected a service's stdout or stderr to. A process started with an
 * empty environment (every moat child) never has it. */
static struct {
	int state; /* 0 not read yet, 1 none or malformed, 2 dev and ino hold it */
	uint64_t dev, ino;
} journal;

static bool parse_u64(const char *s, char **end, uint64_t *out)
{
	if (*s < '0' || *s > '9')
		return false; /* strtoull would take a sign or spaces */
	errno = 0;
	*out = strtoull(s, end, 10);
	return errno == 0;
}

static void journal_read_env(void)
{
	const char *s = getenv("JOURNAL_STREAM");
	uint64_t dev, ino;
	char *end;
	int state = 1;

	if (s && parse_u64(s, &end, &dev) && *end == ':' && parse_u64(end + 1, &end, &ino) &&
	    !*end) {
		journal.dev = dev;
		journal.ino = ino;
		state = 2;
	}
	/* Release: a thread that sees the state sees dev and ino too. Two
	 * threads racing here both store the same values. */
	__atomic_store_n(&journal.state, state, __ATOMIC_RELEASE);
}

/* Is stderr the journal? It is when $JOURNAL_STREAM names the file that
 * stderr is now (checked each time: stderr may have been replaced since,
 * by a redirection that $JOURNAL_STREAM knows nothing of). */
static bool log_to_journal(void)
{
	int state = __atomic_load_n(&journal.state, __ATOMIC_ACQUIRE);
	struct stat st;

	if (state == 0) {
		journal_read_env();
		state = __atomic_load_n(&journal.state, __ATOMIC_ACQUIRE);
	}
	return state == 2 && fstat(STDERR_FILENO, &st) == 0 && (uint64_t)st.st_dev == journal.dev &&
	       (uint64_t)st.st_ino == journal.ino;
}

/* The syslog priority journald reads from the start of a line ("<3>") and
 * strips, when stderr is the journal; "" otherwise. */
static const char *level_tag(enum log_level lvl)
{
	static const char *const tags[] = {
	    [LOG_LVL_ERROR] = "<3>", /* LOG_ERR */
	    [LOG_LVL_WARN] = "<4>",  /* LOG_WARNING */
	    [LOG_LVL_INFO] = "<6>",  /* LOG_INFO */
	    [LOG_LVL_DEBUG] = "<7>", /* LOG_DEBUG */
	};

	if ((unsigned)lvl > LOG_LVL_DEBUG || !log_to_journal())
		return "";
	return tags[lvl];
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

	n = snprintf(buf, sizeof(buf), "%s%s: %s: ", level_tag(lvl), log_prefix, names[lvl]);
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

void log_write_line(enum log_level lvl, const char *line, size_t len)
{
	int saved = errno;
	const char *tag = level_tag(lvl);
	struct iovec iov[] = {
	    {.iov_base = (void *)tag, .iov_len = strlen(tag)},
	    {.iov_base = (void *)line, .iov_len = len},
	};

	/* One call, as log_msg_errno() makes one write. */
	(void)!writev(STDERR_FILENO, iov, 2);
	errno = saved;
}
