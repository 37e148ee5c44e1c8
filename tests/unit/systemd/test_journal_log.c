/* common/log.c's journal priority: each case (a child process of its own)
 * makes a pipe its stderr, sets $JOURNAL_STREAM as systemd would for a
 * service whose stderr is the journal, logs, and reads back exactly what
 * was written. With the variable naming that pipe, each line starts with
 * its syslog priority; naming another file, malformed or absent, the line
 * is as it always was. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "tap.h"
#include "util.h"

/* A pipe as stderr; its read end, or -1. */
static int pipe_as_stderr(void)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0 || dup2(p[1], STDERR_FILENO) < 0)
		return -1;
	close(p[1]);
	return p[0];
}

/* $JOURNAL_STREAM for the file open as fd, as systemd writes it: st_dev
 * and st_ino in decimal, with ino_delta added to the inode. */
static int set_journal_stream(int fd, long ino_delta)
{
	struct stat st;
	char v[64];

	if (fstat(fd, &st) < 0)
		return -1;
	snprintf(v, sizeof(v), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino + (unsigned long long)ino_delta);
	return setenv("JOURNAL_STREAM", v, 1);
}

/* What the pipe holds, NUL-terminated, in buf. */
static const char *drain(int fd, char *buf, size_t len)
{
	ssize_t n = read(fd, buf, len - 1);

	buf[n > 0 ? n : 0] = 0;
	return buf;
}

/* One line at each level, the level set to show them all. */
static void log_each_level(void)
{
	log_set_prefix("vm/web1");
	log_set_level(LOG_LVL_DEBUG);
	log_error("disk gone");
	log_warn_errno(ENOENT, "no such thing: %m");
	log_info("running");
	log_debug("tick");
}

static int t_journal_prefixes(void)
{
	char buf[1024];
	int fd = pipe_as_stderr();

	CHECK(fd >= 0);
	CHECK(set_journal_stream(STDERR_FILENO, 0) == 0);
	log_each_level();
	CHECK(strcmp(drain(fd, buf, sizeof(buf)), "<3>vm/web1: error: disk gone\n"
						  "<4>vm/web1: warning: no such thing: No such "
						  "file or directory\n"
						  "<6>vm/web1: info: running\n"
						  "<7>vm/web1: debug: tick\n") == 0);
	/* The level set still filters; a line is still one line. */
	log_set_level(LOG_LVL_WARN);
	log_info("hidden");
	log_error("shown");
	CHECK(strcmp(drain(fd, buf, sizeof(buf)), "<3>vm/web1: error: shown\n") == 0);
	return 0;
}

static const char plain[] = "vm/web1: error: disk gone\n"
			    "vm/web1: warning: no such thing: No such file or directory\n"
			    "vm/web1: info: running\n"
			    "vm/web1: debug: tick\n";

/* $JOURNAL_STREAM names another file: stderr was redirected (moat run
 * 2>file inside a service, or a child handed another stderr). */
static int t_other_file(void)
{
	char buf[1024];
	int fd = pipe_as_stderr();

	CHECK(fd >= 0);
	CHECK(set_journal_stream(STDERR_FILENO, 1) == 0);
	log_each_level();
	CHECK(strcmp(drain(fd, buf, sizeof(buf)), plain) == 0);
	return 0;
}

static int t_absent(void)
{
	char buf[1024];
	int fd = pipe_as_stderr();

	CHECK(fd >= 0);
	unsetenv("JOURNAL_STREAM");
	log_each_level();
	CHECK(strcmp(drain(fd, buf, sizeof(buf)), plain) == 0);
	return 0;
}

/* value with D and I replaced by the device and inode numbers. */
static void expand(char *out, size_t len, const char *value, const struct stat *st)
{
	size_t n = 0;

	for (; *value && n + 24 < len; value++) {
		if (*value == 'D')
			n += (size_t)snprintf(out + n, len - n, "%llu",
					      (unsigned long long)st->st_dev);
		else if (*value == 'I')
			n += (size_t)snprintf(out + n, len - n, "%llu",
					      (unsigned long long)st->st_ino);
		else
			out[n++] = *value;
	}
	out[n] = 0;
}

/* Each malformed value, in a process of its own (the variable is read
 * once per process), with the pipe's own numbers: plain lines. */
static int t_malformed(void)
{
	static const char *const bad[] = {"",	  "D",	  "D:",	  ":I",	  "D:I:", "D:Ix",
					  "xD:I", "-D:I", "D: I", " D:I", "D;I",  "D:I 1"};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		int status;
		pid_t pid;

		fflush(stderr);
		pid = fork();
		CHECK(pid >= 0);
		if (pid == 0) {
			char v[96], buf[1024];
			int fd = pipe_as_stderr();
			struct stat st;

			if (fd < 0 || fstat(STDERR_FILENO, &st) < 0)
				_exit(2);
			expand(v, sizeof(v), bad[i], &st);
			setenv("JOURNAL_STREAM", v, 1);
			log_each_level();
			_exit(strcmp(drain(fd, buf, sizeof(buf)), plain) == 0 ? 0 : 1);
		}
		CHECK(waitpid(pid, &status, 0) == pid);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			fprintf(stderr, "JOURNAL_STREAM '%s' was taken\n", bad[i]);
			return 1;
		}
	}
	/* The same numbers well formed do count: the cases above fail for
	 * their form alone. */
	{
		char v[96], buf[1024];
		int fd = pipe_as_stderr();
		struct stat st;

		CHECK(fd >= 0 && fstat(STDERR_FILENO, &st) == 0);
		expand(v, sizeof(v), "D:I", &st);
		setenv("JOURNAL_STREAM", v, 1);
		log_error("x");
		CHECK(strcmp(drain(fd, buf, sizeof(buf)), "<3>moat: error: x\n") == 0);
	}
	return 0;
}

/* A line made elsewhere (a child's, relayed): priority added in the
 * journal, nothing added elsewhere, and never held back by the level. */
static int t_write_line(void)
{
	static const char line[] = "[blk0] vm/web1/blk0: error: image read failed\n";
	char buf[1024];
	int fd = pipe_as_stderr();

	CHECK(fd >= 0);
	log_set_level(LOG_LVL_ERROR);
	CHECK(set_journal_stream(STDERR_FILENO, 0) == 0);
	log_write_line(LOG_LVL_INFO, line, sizeof(line) - 1);
	CHECK(strcmp(drain(fd, buf, sizeof(buf)),
		     "<6>[blk0] vm/web1/blk0: error: image read failed\n") == 0);
	/* stderr replaced after the first line: checked each time. */
	CHECK(dup2(open("/dev/null", O_WRONLY | O_CLOEXEC), STDERR_FILENO) == STDERR_FILENO);
	fd = pipe_as_stderr();
	CHECK(fd >= 0);
	log_write_line(LOG_LVL_WARN, line, sizeof(line) - 1);
	CHECK(strcmp(drain(fd, buf, sizeof(buf)), line) == 0);
	return 0;
}

TAP_MAIN(TEST(t_journal_prefixes), TEST(t_other_file), TEST(t_absent), TEST(t_malformed),
	 TEST(t_write_line))
