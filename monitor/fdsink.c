#include "fdsink.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <stdbool.h>
#include <unistd.h>

#include "log.h"

/* The queue: a pipe of descriptor numbers (64 KiB: 16384 of them). */
static int sink[2] = {-1, -1};

static void *closer(void *arg)
{
	int fd;

	while (read(sink[0], &fd, sizeof(fd)) == sizeof(fd))
		close(fd); /* may block here, and only here */
	return NULL;
}

/* Start the closing thread once, with every signal blocked: signals are the
 * main loop's (signalfd). */
static bool sink_start(void)
{
	static bool tried;
	sigset_t all, old;
	pthread_attr_t a;
	pthread_t t;
	int r;

	if (tried)
		return sink[1] >= 0;
	tried = true;
	if (pipe2(sink, O_CLOEXEC) < 0)
		return log_warn_errno(errno, "fd sink: pipe: %m"), false;
	fcntl(sink[1], F_SETFL, O_NONBLOCK);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	r = pthread_create(&t, &a, closer, NULL);
	pthread_attr_destroy(&a);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0) {
		log_warn_errno(r, "fd sink: no closing thread: %m");
		close(sink[0]);
		close(sink[1]);
		sink[0] = sink[1] = -1;
		return false;
	}
	return true;
}

void mon_fdsink_put(int fd)
{
	/* A socket's close then aborts (RST) rather than lingering, wherever
	 * it happens, even in our own exit if the closing thread has not got
	 * to it yet. On anything but a socket this fails, harmlessly. */
	struct linger abort_on_close = {.l_onoff = 1, .l_linger = 0};

	if (fd < 0)
		return;
	(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof(abort_on_close));
	if (!sink_start() || write(sink[1], &fd, sizeof(fd)) != sizeof(fd))
		log_debug("descriptor %d from a child stays open until moat exits", fd);
}
