/* sandboxed-child MODE: the child half of test_sandbox.c. Started through
 * mon_spawn() with a SOCK_SEQPACKET socket as fd 3, it enters the sandbox
 * with tests/policy/test.policy, sends its struct pol_report, waits for the
 * parent to finish inspecting it from outside, then runs MODE:
 *   work        harmless work that must survive the filter; sends "ok"
 *   kill-*      one forbidden call; the filter must kill us (SIGSYS)
 *   no-policy   asks for a policy that is not embedded: must refuse to start
 *   root-file   enters net-user.policy with etc/resolv.conf written into its
 *               root (as moat-net does); reads it back, and finds the root
 *               read-only and nothing else there; sends "ok"
 *   root-file-bad  asks for a file outside the root: must refuse to start
 * and the modes of sandboxed_limits.c (the run phase, resource limits) and
 * sandboxed_net.c (net-user.policy).
 * Any other outcome is sent as "fail: why". */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "pol.h"
#include "sandboxed.h"

#define PARENT_FD SANDBOXED_PARENT_FD

static void say(const char *msg)
{
	(void)!write(PARENT_FD, msg, strlen(msg));
}

static void *thread_work(void *arg)
{
	/* A first malloc in a new thread creates an arena (sched_getaffinity,
	 * mmap, mprotect, munmap). */
	char *p = malloc(100000);

	if (p)
		memset(p, 1, 100000);
	free(p);
	return arg;
}

static void *thread_kill(void *arg)
{
	socket(AF_INET, SOCK_STREAM, 0);
	return arg;
}

/* Returns NULL when all went well, else what failed. */
static const char *do_work(void)
{
	struct timespec ts = {0, 1000000};
	struct pollfd pfd;
	pthread_t t;
	char host[64];
	void *ret;
	char *p, *q, *m;
	int efd;

	p = malloc(64);
	q = malloc(8 << 20); /* mmap'd */
	if (!p || !q)
		return "malloc";
	q = realloc(q, 16 << 20); /* mremap */
	if (!q)
		return "realloc";
	memset(q, 2, 16 << 20);
	free(q);
	free(p);
	printf("sandboxed-child: stdout works\n");
	fflush(stdout);
	fprintf(stderr, "sandboxed-child: stderr works\n");

	if (pthread_create(&t, NULL, thread_work, (void *)1) != 0 || pthread_join(t, &ret) != 0 ||
	    ret != (void *)1)
		return "thread";
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (efd < 0 || eventfd_write(efd, 1) < 0)
		return "eventfd";
	pfd = (struct pollfd){.fd = efd, .events = POLLIN};
	if (poll(&pfd, 1, 1000) != 1 || !(pfd.revents & POLLIN))
		return "poll";
	close(efd);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts = (struct timespec){0, 1000000};
	if (nanosleep(&ts, NULL) < 0)
		return "nanosleep";
	m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED || mprotect(m, 4096, PROT_READ) < 0 || munmap(m, 4096) < 0)
		return "mmap";

	/* Paths: soft-denied, and nothing to find anyway. */
	if (open("/etc/passwd", O_RDONLY) >= 0 || errno != ENOENT)
		return "open(/etc/passwd) did not fail with ENOENT";
	if (opendir("/") != NULL || errno != ENOENT)
		return "opendir(/) did not fail with ENOENT";
	if (getpid() != 1)
		return "not pid 1";
	if (gethostname(host, sizeof(host)) < 0 || strcmp(host, "moat") != 0)
		return "hostname is not moat";
	return NULL;
}

static void do_kill(const char *mode)
{
	char *const argv[] = {"true", NULL};
	pthread_t t;
	char c;

	if (strcmp(mode, "kill-socket") == 0) {
		socket(AF_INET, SOCK_STREAM, 0);
	} else if (strcmp(mode, "kill-execve") == 0) {
		execve("/bin/true", argv, argv + 1);
	} else if (strcmp(mode, "kill-mmap-exec") == 0) {
		mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	} else if (strcmp(mode, "kill-mprotect-exec") == 0) {
		void *m =
		    mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		mprotect(m, 4096, PROT_READ | PROT_EXEC);
	} else if (strcmp(mode, "kill-fork") == 0) {
		if (fork() == 0)
			_exit(0);
	} else if (strcmp(mode, "kill-ioctl") == 0) {
		c = 'x';
		ioctl(STDERR_FILENO, TIOCSTI, &c); /* would type into a terminal */
	} else if (strcmp(mode, "kill-x32") == 0) {
		syscall(0x40000000 | SYS_getpid); /* x32 ABI: same arch, other table */
	} else if (strcmp(mode, "kill-thread") == 0) {
		/* KILL_PROCESS: a violation in any thread ends the whole process */
		if (pthread_create(&t, NULL, thread_kill, NULL) == 0)
			(void)!read(PARENT_FD, &c, 1);
	} else {
		say("fail: unknown mode");
		_exit(1);
	}
	say("fail: survived a forbidden call");
	_exit(1);
}

#define ROOT_FILE_TEXT "nameserver 127.0.0.1\n"

/* Returns NULL when the root holds exactly the file written, else why not. */
static const char *check_root_file(void)
{
	char buf[64] = "";
	int fd = open("/etc/resolv.conf", O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return "cannot open /etc/resolv.conf";
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n != (ssize_t)strlen(ROOT_FILE_TEXT) || memcmp(buf, ROOT_FILE_TEXT, (size_t)n) != 0)
		return "/etc/resolv.conf does not hold what was written";
	if (open("/etc/passwd", O_RDONLY) >= 0 || errno != ENOENT)
		return "/etc/passwd is there";
	/* net-user.policy allows read-only opens only: the mount must refuse
	 * new files anyway, which mkdir (allowed by no policy) cannot show */
	return NULL;
}

static int enter(const char *mode, struct pol_report *rep)
{
	static const struct pol_root_file ok = {"etc/resolv.conf", ROOT_FILE_TEXT};
	static const struct pol_root_file bad = {"../etc/evil", "x"};
	struct pol_options o = {.nfiles = 1};
	int r = limits_enter(mode, rep);

	if (r <= 0 || (r = net_enter(mode, rep)) <= 0)
		return r;
	if (strcmp(mode, "no-policy") == 0)
		return pol_sandbox_enter("nothere", rep);
	if (strncmp(mode, "root-file", 9) != 0)
		return pol_sandbox_enter("test", rep);
	o.files = strcmp(mode, "root-file") == 0 ? &ok : &bad;
	return pol_sandbox_enter_opts("net-user", &o, rep);
}

/* The check of mode, after the parent's go: NULL when all went well. */
static const char *run_mode(const char *mode)
{
	bool handled;
	const char *why = limits_run(mode, &handled);

	if (handled)
		return why;
	why = net_run(mode, &handled);
	if (handled)
		return why;
	if (strncmp(mode, "kill-", 5) == 0)
		do_kill(mode); /* returns only by _exit */
	if (strcmp(mode, "root-file") == 0)
		return check_root_file();
	if (strcmp(mode, "work") == 0)
		return do_work();
	say("fail: unknown mode");
	_exit(1);
}

int main(int argc, char **argv)
{
	struct pol_report rep;
	const char *why;
	char go;

	log_set_prefix("sandboxed-child");
	if (argc != 2) {
		say("fail: usage");
		return 1;
	}
	if (enter(argv[1], &rep) < 0) {
		say("fail: sandbox refused");
		return 2;
	}
	if (write(PARENT_FD, &rep, sizeof(rep)) != sizeof(rep))
		return 1;
	if (read(PARENT_FD, &go, 1) != 1) /* the parent looks at us meanwhile */
		return 1;
	why = run_mode(argv[1]);
	if (why) {
		char msg[128];
		snprintf(msg, sizeof(msg), "fail: %s (%s)", why, strerror(errno));
		say(msg);
		return 1;
	}
	say("ok");
	return 0;
}
