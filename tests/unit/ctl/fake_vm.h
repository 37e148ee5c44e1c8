/* A stand-in for a running VM's control socket, for the ctl_call tests:
 * a SOCK_SEQPACKET listener in a fresh directory and a forked process
 * that answers one connection as told, well or with malice. And a runner
 * for the whole `moat ctl` (ctl_main) in a child, its stdout and stderr
 * captured. Header-only, like tap.h. */
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "control.pb-c.h"
#include "ctl.h"

enum fake_mode {
	FAKE_REPLY,	    /* the reply given */
	FAKE_GARBAGE,	    /* bytes that are no Reply */
	FAKE_OTHER_VERSION, /* the reply given, but of version 2 */
	FAKE_BIG,	    /* a 100 KiB datagram */
	FAKE_CLOSE,	    /* hang up without a word */
	FAKE_SILENT,	    /* read the request, then never answer */
	FAKE_REFUSE_FIRST,  /* answer at once, before reading, and hang up with
			     * the request unread (as the monitor does to a
			     * caller of another uid) */
};

struct fake_vm {
	char dir[64];
	char sock[sizeof(((struct sockaddr_un *)0)->sun_path)];
	pid_t pid;
};

/* One answer on connection c, as mode says. */
static inline void fake_vm_answer(int c, const char *dir, enum fake_mode mode,
				  const Moat__Ctl__Reply *reply)
{
	static uint8_t buf[128 * 1024];
	char path[128];
	ssize_t n = 0;
	size_t len;
	int fd;

	if (mode != FAKE_REFUSE_FIRST) {
		n = recv(c, buf, sizeof(buf), 0);
		snprintf(path, sizeof(path), "%s/request.bin", dir);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd >= 0 && n > 0 && write(fd, buf, (size_t)n) != n)
			_exit(3);
		close(fd);
	}
	switch (mode) {
	case FAKE_REPLY:
	case FAKE_REFUSE_FIRST:
	case FAKE_OTHER_VERSION: {
		Moat__Ctl__Reply r = *reply;

		if (mode == FAKE_OTHER_VERSION)
			r.version = 2;
		len = moat__ctl__reply__pack(&r, buf);
		send(c, buf, len, MSG_NOSIGNAL);
		break;
	}
	case FAKE_GARBAGE:
		send(c, "\xff\xff\xff\xff\xff\xff garbage", 14, MSG_NOSIGNAL);
		break;
	case FAKE_BIG:
		memset(buf, 0x08, 100 * 1024);
		if (send(c, buf, 100 * 1024, MSG_NOSIGNAL) < 0)
			_exit(4);
		break;
	case FAKE_CLOSE:
		break;
	case FAKE_SILENT:
		for (;;)
			pause();
	}
}

/* Listen at sock (NULL: DIR/control.sock in a new directory vm->dir) and
 * fork the VM that answers one connection. 0, or -1. */
static inline int fake_vm_start_at(struct fake_vm *vm, const char *sock, enum fake_mode mode,
				   const Moat__Ctl__Reply *reply)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int lfd;

	if (!sock) {
		snprintf(vm->dir, sizeof(vm->dir), "/tmp/moat-ctl-XXXXXX");
		if (!mkdtemp(vm->dir))
			return -1;
		snprintf(vm->sock, sizeof(vm->sock), "%s/control.sock", vm->dir);
	} else {
		snprintf(vm->sock, sizeof(vm->sock), "%s", sock);
	}
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", vm->sock);
	lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || listen(lfd, 4) < 0)
		return -1;
	vm->pid = fork();
	if (vm->pid < 0)
		return -1;
	if (vm->pid == 0) {
		int c = accept(lfd, NULL, NULL);

		if (c < 0)
			_exit(2);
		fake_vm_answer(c, vm->dir, mode, reply);
		close(c);
		_exit(0);
	}
	close(lfd);
	return 0;
}

static inline int fake_vm_start(struct fake_vm *vm, enum fake_mode mode,
				const Moat__Ctl__Reply *reply)
{
	return fake_vm_start_at(vm, NULL, mode, reply);
}

static inline void fake_vm_stop(struct fake_vm *vm)
{
	if (vm->pid > 0) {
		kill(vm->pid, SIGKILL);
		waitpid(vm->pid, NULL, 0);
		vm->pid = 0;
	}
}

static inline int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path) < 0 ? 0 : 0; /* best effort: a leftover is no failure */
}

/* End the fake VM and remove its directory. */
static inline void fake_vm_cleanup(struct fake_vm *vm)
{
	fake_vm_stop(vm);
	if (vm->dir[0])
		nftw(vm->dir, remove_one, 8, FTW_DEPTH | FTW_PHYS);
}

/* The request the fake VM received, unpacked (free with
 * moat__ctl__request__free_unpacked), or NULL. */
static inline Moat__Ctl__Request *fake_vm_request(const struct fake_vm *vm)
{
	static uint8_t buf[16384];
	char path[128];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/request.bin", vm->dir);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return NULL;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	return n > 0 ? moat__ctl__request__unpack(NULL, (size_t)n, buf) : NULL;
}

/* What one `moat ctl` run left: its exit status (128+N when killed by
 * signal N) and its stdout and stderr. */
struct ctl_run {
	int status;
	char out[16384];
	char err[4096];
};

static inline void slurp(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, buf, len - 1) : -1;

	buf[n > 0 ? n : 0] = 0;
	if (fd >= 0)
		close(fd);
}

/* Run ctl_main("ctl", args...) in a child whose stdout and stderr go to
 * files in dir; setup (may be NULL) runs first in the child. A hang is
 * ended by an alarm: a failure, never a stuck test. */
static inline int run_ctl(const char *dir, void (*setup)(void), struct ctl_run *run,
			  const char **args)
{
	char out[128], err[128];
	const char *argv[32] = {"ctl"};
	int argc = 1, st;
	pid_t pid;

	for (; args[argc - 1]; argc++)
		argv[argc] = args[argc - 1];
	snprintf(out, sizeof(out), "%s/stdout", dir);
	snprintf(err, sizeof(err), "%s/stderr", dir);
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0666);
		int e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0666);

		if (o < 0 || e < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0)
			_exit(99);
		if (setup)
			setup();
		alarm(20);
		st = ctl_main(argc, (char **)argv);
		fflush(stdout);
		fflush(stderr);
		_exit(st);
	}
	if (waitpid(pid, &st, 0) < 0)
		return -1;
	run->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	slurp(out, run->out, sizeof(run->out));
	slurp(err, run->err, sizeof(run->err));
	return 0;
}

#define RUN_CTL(dir, setup, run, ...)                                                              \
	run_ctl((dir), (setup), (run), (const char *[]){__VA_ARGS__, NULL})
