/* mon_notify (monitor/sdnotify.c) against a listener of our own, as
 * systemd's would be: a datagram socket at a path in a fresh directory or
 * at an abstract name, named by $NOTIFY_SOCKET. What arrives must be the
 * message exactly, one datagram each, sent by this process; the watchdog
 * variables are parsed strictly and only a watchdog for our pid counts;
 * all three variables leave the environment; and a listener that is gone
 * or never reads does not block or hurt the sender. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "sdnotify.h"
#include "tap.h"
#include "util.h"

/* A listener bound where $NOTIFY_SOCKET will say: at dir/notify, or at an
 * abstract name when dir is NULL. The variable is set; the socket's fd,
 * or -1. SO_PASSCRED so that each datagram says who sent it. */
static int listener(char *dir)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char env[sizeof(sa.sun_path) + 1];
	socklen_t len;
	int one = 1;
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (dir) {
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/notify", dir);
		snprintf(env, sizeof(env), "%s", sa.sun_path);
		len = sizeof(sa);
	} else {
		/* The name is the bytes after the leading NUL, no terminator. */
		int n = snprintf(env, sizeof(env), "@moat-test-sdnotify-%d-%ld", (int)getpid(),
				 (long)time(NULL));
		memcpy(sa.sun_path + 1, env + 1, (size_t)n - 1);
		len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + (size_t)n);
	}
	if (bind(fd, (struct sockaddr *)&sa, len) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) < 0 ||
	    setenv("NOTIFY_SOCKET", env, 1) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* One datagram into buf (NUL-terminated), waiting at most a second; its
 * length, or -1. *pid: the sender's, from its credentials. */
static ssize_t receive(int fd, char *buf, size_t len, pid_t *pid)
{
	char cbuf[CMSG_SPACE(sizeof(struct ucred))];
	struct iovec iov = {.iov_base = buf, .iov_len = len - 1};
	struct msghdr mh = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
	struct timeval tv = {.tv_sec = 1};
	ssize_t n;

	*pid = 0;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
		return -1;
	n = recvmsg(fd, &mh, 0);
	if (n < 0)
		return -1;
	buf[n] = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
			struct ucred cr;
			memcpy(&cr, CMSG_DATA(c), sizeof(cr));
			*pid = cr.pid;
		}
	return n;
}

static bool env_clear(void)
{
	return !getenv("NOTIFY_SOCKET") && !getenv("WATCHDOG_USEC") && !getenv("WATCHDOG_PID");
}

/* READY=1, then a STATUS= with the VM's name, arrive exactly (no NUL, no
 * added newline), each its own datagram, from us. */
static int expect_messages(int lfd)
{
	struct mon_notify n;
	char buf[MON_NOTIFY_MAX + 16];
	pid_t pid;

	CHECK(mon_notify_init(&n) == 0);
	CHECK(n.fd >= 0);
	CHECK(n.watchdog_usec == 0);
	mon_notify_send(&n, "READY=1");
	mon_notify_send(&n, "STATUS=VM %s running, %d vCPUs", "web1", 2);
	mon_notify_send(&n, "STOPPING=1\nSTATUS=guest shutting down");
	CHECK(receive(lfd, buf, sizeof(buf), &pid) == 7);
	CHECK(strcmp(buf, "READY=1") == 0);
	CHECK(pid == getpid());
	CHECK(receive(lfd, buf, sizeof(buf), &pid) > 0);
	CHECK(strcmp(buf, "STATUS=VM web1 running, 2 vCPUs") == 0);
	CHECK(receive(lfd, buf, sizeof(buf), &pid) > 0);
	CHECK(strcmp(buf, "STOPPING=1\nSTATUS=guest shutting down") == 0);
	mon_notify_close(&n);
	CHECK(n.fd == -1);
	mon_notify_send(&n, "READY=1"); /* closed: a no-op */
	return 0;
}

static int t_path_socket(void)
{
	char dir[] = "/tmp/moat-sdnotify.XXXXXX";
	int lfd, r;

	CHECK(mkdtemp(dir));
	lfd = listener(dir);
	CHECK(lfd >= 0);
	r = expect_messages(lfd);
	close(lfd);
	{
		char path[sizeof(dir) + 8];
		snprintf(path, sizeof(path), "%s/notify", dir);
		unlink(path);
		rmdir(dir);
	}
	return r;
}

static int t_abstract_socket(void)
{
	int lfd = listener(NULL);
	int r;

	CHECK(lfd >= 0);
	CHECK(getenv("NOTIFY_SOCKET")[0] == '@');
	r = expect_messages(lfd);
	close(lfd);
	return r;
}

/* No $NOTIFY_SOCKET: not an error, and every send is a no-op. */
static int t_unset(void)
{
	struct mon_notify n;

	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	CHECK(mon_notify_init(&n) == 0);
	CHECK(n.fd == -1);
	CHECK(n.watchdog_usec == 0);
	mon_notify_send(&n, "READY=1");
	mon_notify_close(&n);
	return 0;
}

/* The watchdog's interval for a pid: ours, none named, or another's. */
static int t_watchdog(void)
{
	struct mon_notify n;
	char pid[24];

	setenv("WATCHDOG_USEC", "30000000", 1);
	unsetenv("WATCHDOG_PID");
	CHECK(mon_notify_init(&n) == 0);
	CHECK(n.watchdog_usec == 30000000);
	CHECK(env_clear());

	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	setenv("WATCHDOG_USEC", "18446744073709551615", 1); /* UINT64_MAX */
	setenv("WATCHDOG_PID", pid, 1);
	CHECK(mon_notify_init(&n) == 0);
	CHECK(n.watchdog_usec == UINT64_MAX);
	CHECK(env_clear());

	/* The process that started us: its watchdog, not ours. */
	snprintf(pid, sizeof(pid), "%d", (int)getppid());
	setenv("WATCHDOG_USEC", "30000000", 1);
	setenv("WATCHDOG_PID", pid, 1);
	CHECK(mon_notify_init(&n) == 0);
	CHECK(n.watchdog_usec == 0);
	CHECK(env_clear());
	return 0;
}

/* Each malformed value: -EINVAL, that part off, the variables gone. */
static int t_malformed(void)
{
	static const char *const sockets[] = {
	    "",
	    "run/notify",
	    "./notify",
	    "@",
	    "/",
	    "vsock:2:1234",
	    " /run/notify",
	    /* 108 bytes: a path leaves no room for its NUL */
	    "/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaa",
	    /* 109 bytes: an abstract name one byte longer than sun_path */
	    "@aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaa",
	};
	static const char *const usecs[] = {
	    "", "0", "-5", "+5", " 5", "5 ", "12x", "0x10", "1e6", "18446744073709551616",
	};
	static const char *const pids[] = {"", "0", "-1", "abc", "12 ", "99999999999999999999999"};
	struct mon_notify n;

	_Static_assert(sizeof(((struct sockaddr_un *)0)->sun_path) == 108, "the lengths above");
	CHECK(strlen(sockets[7]) == 108 && strlen(sockets[8]) == 109);
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	for (size_t i = 0; i < ARRAY_SIZE(sockets); i++) {
		setenv("NOTIFY_SOCKET", sockets[i], 1);
		if (mon_notify_init(&n) != -EINVAL || n.fd != -1 || !env_clear()) {
			fprintf(stderr, "NOTIFY_SOCKET='%s' accepted\n", sockets[i]);
			return 1;
		}
		mon_notify_send(&n, "READY=1");
	}
	for (size_t i = 0; i < ARRAY_SIZE(usecs); i++) {
		setenv("WATCHDOG_USEC", usecs[i], 1);
		if (mon_notify_init(&n) != -EINVAL || n.watchdog_usec != 0 || !env_clear()) {
			fprintf(stderr, "WATCHDOG_USEC='%s' accepted\n", usecs[i]);
			return 1;
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(pids); i++) {
		setenv("WATCHDOG_USEC", "1000000", 1);
		setenv("WATCHDOG_PID", pids[i], 1);
		if (mon_notify_init(&n) != -EINVAL || n.watchdog_usec != 0 || !env_clear()) {
			fprintf(stderr, "WATCHDOG_PID='%s' accepted\n", pids[i]);
			return 1;
		}
	}
	/* A pid without an interval says nothing sensible either. */
	setenv("WATCHDOG_PID", "1", 1);
	CHECK(mon_notify_init(&n) == -EINVAL && n.watchdog_usec == 0 && env_clear());
	return 0;
}

/* A malformed watchdog does not cost the notifications, nor a malformed
 * socket the watchdog: each variable counts on its own. */
static int t_malformed_alone(void)
{
	struct mon_notify n;
	char buf[64];
	pid_t pid;
	int lfd = listener(NULL);

	CHECK(lfd >= 0);
	setenv("WATCHDOG_USEC", "soon", 1);
	CHECK(mon_notify_init(&n) == -EINVAL);
	CHECK(n.fd >= 0 && n.watchdog_usec == 0);
	mon_notify_send(&n, "READY=1");
	CHECK(receive(lfd, buf, sizeof(buf), &pid) == 7 && strcmp(buf, "READY=1") == 0);
	mon_notify_close(&n);
	close(lfd);

	setenv("NOTIFY_SOCKET", "notify", 1);
	setenv("WATCHDOG_USEC", "5000000", 1);
	CHECK(mon_notify_init(&n) == -EINVAL);
	CHECK(n.fd == -1 && n.watchdog_usec == 5000000);
	return 0;
}

/* stderr into a pipe at debug level: what a failed send logs. The pipe's
 * read end, or -1. */
static int capture_stderr(void)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0 || dup2(p[1], STDERR_FILENO) < 0)
		return -1;
	close(p[1]);
	return p[0];
}

static int lines_in(int fd)
{
	char buf[4096];
	ssize_t n = read(fd, buf, sizeof(buf));
	int lines = 0;

	for (ssize_t i = 0; i < n; i++)
		lines += buf[i] == '\n';
	return lines;
}

/* The listener closed and its path removed (systemd gone or restarting):
 * each send returns at once and logs one debug line, or none at the
 * default level. */
static int t_listener_gone(void)
{
	char dir[] = "/tmp/moat-sdnotify.XXXXXX", path[64];
	struct mon_notify n;
	int lfd, errfd;

	CHECK(mkdtemp(dir));
	lfd = listener(dir);
	CHECK(lfd >= 0);
	CHECK(mon_notify_init(&n) == 0);
	close(lfd);
	snprintf(path, sizeof(path), "%s/notify", dir);
	CHECK(unlink(path) == 0);
	CHECK(rmdir(dir) == 0);

	errfd = capture_stderr();
	CHECK(errfd >= 0);
	alarm(5); /* a blocked send ends the case with SIGALRM: a failure */
	log_set_level(LOG_LVL_INFO);
	mon_notify_send(&n, "READY=1");
	CHECK(lines_in(errfd) == 0);
	log_set_level(LOG_LVL_DEBUG);
	mon_notify_send(&n, "WATCHDOG=1");
	CHECK(lines_in(errfd) == 1);
	mon_notify_close(&n);
	return 0;
}

/* A listener that never reads: its queue fills and the sends go on,
 * without blocking, dropping what does not fit. */
static int t_listener_full(void)
{
	struct mon_notify n;
	char buf[64];
	pid_t pid;
	int lfd = listener(NULL);

	CHECK(lfd >= 0);
	CHECK(mon_notify_init(&n) == 0);
	alarm(10);
	for (int i = 0; i < 5000; i++)
		mon_notify_send(&n, "WATCHDOG=1");
	CHECK(receive(lfd, buf, sizeof(buf), &pid) > 0 && strcmp(buf, "WATCHDOG=1") == 0);
	mon_notify_close(&n);
	close(lfd);
	return 0;
}

/* A message longer than a datagram systemd reads is not sent at all, not
 * cut short; the next one goes out as usual. */
static int t_too_long(void)
{
	static char big[MON_NOTIFY_MAX + 1];
	struct mon_notify n;
	char buf[MON_NOTIFY_MAX + 16];
	pid_t pid;
	int lfd = listener(NULL);

	CHECK(lfd >= 0);
	CHECK(mon_notify_init(&n) == 0);
	memset(big, 'x', sizeof(big) - 1);
	mon_notify_send(&n, "STATUS=%s", big);
	mon_notify_send(&n, "READY=1");
	CHECK(receive(lfd, buf, sizeof(buf), &pid) == 7 && strcmp(buf, "READY=1") == 0);
	mon_notify_close(&n);
	close(lfd);
	return 0;
}

TAP_MAIN(TEST(t_path_socket), TEST(t_abstract_socket), TEST(t_unset), TEST(t_watchdog),
	 TEST(t_malformed), TEST(t_malformed_alone), TEST(t_listener_gone), TEST(t_listener_full),
	 TEST(t_too_long))
