/* Spawning sandboxed children: clone3() into fresh namespaces, write the
 * id maps from the parent, then exec the child binary with only its
 * descriptors. See spawn.h for the contract. */
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdnoreturn.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

/* The kernel's PID_MAX_LIMIT on 64-bit: no pid is larger. */
#define SPAWN_PID_MAX 4194304u

_Static_assert(MOAT_UID_BASE + SPAWN_PID_MAX < 0x7fffffffu, "child uids must stay below 2^31");
_Static_assert(MOAT_UID_BASE > 65534u, "child uids must stay clear of system ids");

/* struct clone_args as far as CLONE_ARGS_SIZE_VER2 (88 bytes, Linux 5.7:
 * the cgroup field). Spelled out here because <linux/sched.h> clashes with
 * glibc's <sched.h>. */
struct spawn_clone_args {
	uint64_t flags;
	uint64_t pidfd;
	uint64_t child_tid;
	uint64_t parent_tid;
	uint64_t exit_signal;
	uint64_t stack;
	uint64_t stack_size;
	uint64_t tls;
	uint64_t set_tid;
	uint64_t set_tid_size;
	uint64_t cgroup;
};
_Static_assert(sizeof(struct spawn_clone_args) == 88, "CLONE_ARGS_SIZE_VER2");
#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

/* What the child was doing when it failed, for the monitor's message. */
enum spawn_step { STEP_PDEATHSIG, STEP_SETSID, STEP_SETGROUPS, STEP_SETID, STEP_FDS, STEP_EXEC };

static const char *const spawn_step_names[] = {
    [STEP_PDEATHSIG] = "PR_SET_PDEATHSIG", [STEP_SETSID] = "setsid",
    [STEP_SETGROUPS] = "setgroups",	   [STEP_SETID] = "setresuid/setresgid",
    [STEP_FDS] = "descriptor set-up",	   [STEP_EXEC] = "exec",
};

/* Sent by the child through the report pipe when it fails before exec. A
 * successful exec closes the pipe (O_CLOEXEC) instead, so the parent reads
 * EOF. */
struct spawn_failure {
	int32_t step;
	int32_t err;
};

/* Everything the child needs, prepared before clone so that the child
 * allocates nothing and takes no lock. */
struct spawn_ctx {
	const struct mon_spawn_args *a;
	const char *base; /* file name of the executable inside dirfd */
	int dirfd;	  /* O_PATH: its directory */
	int nullfd;	  /* /dev/null, the child's stdin */
	int release[2];	  /* parent -> child: id maps written, go on */
	int report[2];	  /* child -> parent: struct spawn_failure, or EOF */
	int pidfd;
};

/* ---- child side: async-signal-safe code only, between clone and exec ---- */

static noreturn void child_fail(const struct spawn_ctx *c, enum spawn_step step, int err)
{
	struct spawn_failure f = {.step = step, .err = err};

	(void)!write(c->report[1], &f, sizeof(f));
	_exit(127);
}

/* The monitor's handlers must never run in the child, and ignored signals
 * would stay ignored across exec. */
static void child_reset_signals(void)
{
	struct sigaction sa = {.sa_handler = SIG_DFL};

	for (int sig = 1; sig < _NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			(void)sigaction(sig, &sa, NULL);
}

static int child_close_from(int first)
{
	struct rlimit rl;

	if (close_range(first, ~0u, 0) == 0)
		return 0;
	if (errno != ENOSYS)
		return -errno;
	/* Kernels before 5.9: close one by one up to the descriptor limit. */
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -errno;
	for (rlim_t fd = first; fd < rl.rlim_cur && fd < (1u << 20); fd++)
		close((int)fd);
	return 0;
}

/* Build the final layout: 0 /dev/null, 1 and 2 the log (or the monitor's
 * stderr), 3..
 * the passed descriptors, then the report pipe and the executable's
 * directory (both close-on-exec), nothing else. Every descriptor kept is
 * first copied above that layout, so no dup2() clobbers a source still
 * needed; c->report[1] always names a live copy for child_fail(). */
static int child_fds(struct spawn_ctx *c)
{
	int n = (int)c->a->nfds;
	int base = n + 5;
	int tmp[MON_SPAWN_MAX_FDS];
	int tnull, terr, tdir, trep;

	trep = fcntl(c->report[1], F_DUPFD_CLOEXEC, base);
	if (trep < 0)
		return -errno;
	c->report[1] = trep;
	for (int i = 0; i < n; i++)
		if ((tmp[i] = fcntl(c->a->fds[i], F_DUPFD_CLOEXEC, base)) < 0)
			return -errno;
	tnull = fcntl(c->nullfd, F_DUPFD_CLOEXEC, base);
	terr = fcntl(c->a->log_fd > 0 ? c->a->log_fd : STDERR_FILENO, F_DUPFD_CLOEXEC, base);
	tdir = fcntl(c->dirfd, F_DUPFD_CLOEXEC, base);
	if (tnull < 0 || terr < 0 || tdir < 0)
		return -errno;

	if (dup2(tnull, 0) < 0 || dup2(terr, 1) < 0 || dup2(terr, 2) < 0)
		return -errno;
	for (int i = 0; i < n; i++)
		if (dup2(tmp[i], 3 + i) < 0) /* dup2 clears O_CLOEXEC: these survive exec */
			return -errno;
	if (dup3(trep, n + 3, O_CLOEXEC) < 0)
		return -errno;
	c->report[1] = n + 3;
	if (dup3(tdir, n + 4, O_CLOEXEC) < 0)
		return -errno;
	c->dirfd = n + 4;
	return child_close_from(base);
}

/* Parent-death signal: SIGKILL when the thread that spawned us ends. Armed
 * before waiting, so a monitor dying from there on takes the child along.
 * The kernel clears it on any change of credentials, so it is armed again
 * after set*id(); a parent that died in between has closed the release
 * pipe, whose EOF we then see. */
static void child_arm_pdeathsig(struct spawn_ctx *c)
{
	struct pollfd p = {.fd = c->release[0], .events = POLLIN};

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		child_fail(c, STEP_PDEATHSIG, errno);
	if (poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR)))
		_exit(127);
}

static void child_wait_release(struct spawn_ctx *c)
{
	ssize_t n;
	char go;

	do
		n = read(c->release[0], &go, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		_exit(127); /* the parent gave up (and reports why), or died */
}

static noreturn void child_main(struct spawn_ctx *c)
{
	char *const envp[] = {NULL};
	sigset_t none;
	int r;

	/* All signals are still blocked (see spawn_clone). */
	child_reset_signals();
	/* The parent's ends: only the parent may hold them, so that its death
	 * shows as EOF. */
	close(c->release[1]);
	close(c->report[0]);
	child_arm_pdeathsig(c);
	child_wait_release(c);

	/* No controlling terminal: a terminal on stderr must not become a way
	 * to inject input (TIOCSTI) or signal the monitor's job. */
	if (setsid() < 0)
		child_fail(c, STEP_SETSID, errno);
	/* Raw syscalls below: glibc's set*id() would try to signal the
	 * monitor's other threads, which do not exist here. We still hold
	 * every capability in the new user namespace, until the exec.
	 * Drop the monitor's supplementary groups (host gid 0 among them): they
	 * would still count for file access on the host. */
	if (syscall(SYS_setgroups, 0, NULL) < 0)
		child_fail(c, STEP_SETGROUPS, errno);
	/* Become root of the namespace, i.e. the mapped host ids. We were
	 * cloned with the monitor's ids (host root), unmapped in here: an exec
	 * with those would leave us without any capability in our own
	 * namespace, unable to build the sandbox. */
	if (syscall(SYS_setresgid, 0, 0, 0) < 0 || syscall(SYS_setresuid, 0, 0, 0) < 0)
		child_fail(c, STEP_SETID, errno);
	child_arm_pdeathsig(c);

	r = child_fds(c);
	if (r < 0)
		child_fail(c, STEP_FDS, -r);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* By directory and name rather than by path: the unprivileged child
	 * need not be able to walk the path (a build tree under /root), and
	 * its comm becomes the binary's name. */
	execveat(c->dirfd, c->base, c->a->argv, envp, 0);
	child_fail(c, STEP_EXEC, errno);
}

/* ---- parent side ---- */

static bool spawn_id_ok(unsigned id)
{
	return id != 0 && id != 65534 && id != (unsigned)-1;
}

static int spawn_check_args(const struct mon_spawn_args *a)
{
	if (!a->path || a->path[0] != '/' || !a->argv || !a->argv[0])
		return -EINVAL;
	if (a->nfds > MON_SPAWN_MAX_FDS || (a->nfds && !a->fds))
		return -EINVAL;
	if (!spawn_id_ok(a->uid) || !spawn_id_ok(a->gid))
		return -EINVAL;
	for (size_t i = 0; i < a->nfds; i++)
		if (a->fds[i] < 0 || fcntl(a->fds[i], F_GETFD) < 0)
			return -EBADF;
	if (a->log_fd < 0 || (a->log_fd > 0 && fcntl(a->log_fd, F_GETFD) < 0))
		return -EBADF;
	return 0;
}

static void spawn_ctx_close(struct spawn_ctx *c)
{
	int *fds[] = {&c->dirfd,      &c->nullfd,    &c->release[0],
		      &c->release[1], &c->report[0], &c->report[1]};

	for (size_t i = 0; i < ARRAY_SIZE(fds); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

/* Open the executable's directory and check the file is there, so a wrong
 * path fails here, before any child exists. */
static int spawn_prepare(struct spawn_ctx *c, char *dir, size_t dirlen)
{
	const char *slash = strrchr(c->a->path, '/');
	size_t len = slash == c->a->path ? 1 : (size_t)(slash - c->a->path);
	struct stat st;

	c->base = slash + 1;
	if (!*c->base || strcmp(c->base, ".") == 0 || strcmp(c->base, "..") == 0)
		return -EINVAL;
	if (len >= dirlen)
		return -ENAMETOOLONG;
	memcpy(dir, c->a->path, len);
	dir[len] = '\0';

	c->dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (c->dirfd < 0)
		return -errno;
	if (fstatat(c->dirfd, c->base, &st, 0) < 0)
		return -errno;
	c->nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (c->nullfd < 0)
		return -errno;
	if (pipe2(c->release, O_CLOEXEC) < 0 || pipe2(c->report, O_CLOEXEC) < 0)
		return -errno;
	return 0;
}

/* Fork-like clone3 (no CLONE_VM, no new stack). Signals stay blocked across
 * it so that no handler of the monitor runs in the child before
 * child_reset_signals(). Returns the pid, or -errno. */
static pid_t spawn_clone(struct spawn_ctx *c)
{
	int pidfd = -1;
	struct spawn_clone_args ca = {
	    .flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS |
		     CLONE_NEWCGROUP | CLONE_PIDFD | (c->a->keep_net ? 0 : CLONE_NEWNET),
	    .pidfd = (uint64_t)(uintptr_t)&pidfd,
	    .exit_signal = SIGCHLD,
	};

	/* Born in its cgroup: no moment outside the VM's limits. */
	if (c->a->cgroup_fd > 0) {
		ca.flags |= CLONE_INTO_CGROUP;
		ca.cgroup = (uint64_t)c->a->cgroup_fd;
	}
	sigset_t all, old;
	long pid;
	int err;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pid = syscall(SYS_clone3, &ca, sizeof(ca));
	if (pid == 0)
		child_main(c);
	err = errno;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (pid < 0)
		return -err;
	c->pidfd = pidfd;
	return (pid_t)pid;
}

static int spawn_write_file(pid_t pid, const char *file, const char *text)
{
	_cleanup_close_ int fd = -1;
	size_t len = strlen(text);
	char path[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, text, len); /* the kernel wants the whole map in one write */
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

/* Map root of the child's user namespace to the chosen host ids (one id
 * each: nothing else exists in there), then let the child go on. The
 * setgroups file stays at "allow" (rather than "deny") so that the child
 * can drop the monitor's supplementary groups: with "deny" it would carry
 * host gid 0 for file access forever. All it can ever add back is the one
 * gid mapped in its namespace, and pol_sandbox_enter() drops CAP_SETGID. */
static int spawn_release(struct spawn_ctx *c, pid_t pid)
{
	char map[64];
	int r;

	snprintf(map, sizeof(map), "0 %u 1\n", (unsigned)c->a->uid);
	r = spawn_write_file(pid, "uid_map", map);
	if (r < 0)
		return log_error_errno(r, "spawn %s: writing uid_map: %m", c->a->argv[0]);
	snprintf(map, sizeof(map), "0 %u 1\n", (unsigned)c->a->gid);
	r = spawn_write_file(pid, "gid_map", map);
	if (r < 0)
		return log_error_errno(r, "spawn %s: writing gid_map: %m", c->a->argv[0]);
	if (write(c->release[1], "g", 1) != 1)
		return log_error_errno(errno, "spawn %s: releasing the child: %m", c->a->argv[0]);
	return 0;
}

/* EOF on the report pipe: the exec succeeded. */
static int spawn_wait_exec(struct spawn_ctx *c)
{
	struct spawn_failure f;
	ssize_t n;

	do
		n = read(c->report[0], &f, sizeof(f));
	while (n < 0 && errno == EINTR);
	if (n == 0)
		return 0;
	if (n != sizeof(f) || f.err <= 0 || f.step < 0 || f.step > STEP_EXEC)
		return log_error_errno(EIO, "spawn %s: child failed without a report",
				       c->a->argv[0]);
	return log_error_errno(f.err, "spawn %s: %s failed in the child: %m", c->a->argv[0],
			       spawn_step_names[f.step]);
}

/* Kill (if still running) and reap a child that never made it to exec. */
static void spawn_abort(struct spawn_ctx *c)
{
	siginfo_t si;

	if (c->pidfd < 0)
		return;
	(void)pidfd_send_signal(c->pidfd, SIGKILL, NULL, 0);
	while (waitid(P_PIDFD, c->pidfd, &si, WEXITED) < 0 && errno == EINTR)
		;
	close(c->pidfd);
	c->pidfd = -1;
}

int mon_spawn(const struct mon_spawn_args *a, struct mon_child *out)
{
	struct spawn_ctx c = {
	    .a = a,
	    .dirfd = -1,
	    .nullfd = -1,
	    .pidfd = -1,
	    .release = {-1, -1},
	    .report = {-1, -1},
	};
	char dir[PATH_MAX];
	pid_t pid;
	int r;

	r = spawn_check_args(a);
	if (r < 0)
		return r;
	r = spawn_prepare(&c, dir, sizeof(dir));
	if (r < 0)
		goto out;
	pid = spawn_clone(&c);
	if (pid < 0) {
		r = log_error_errno(pid, "spawn %s: clone3: %m", a->argv[0]);
		goto out;
	}
	/* Close the child's ends, so that our reads see EOF when it is gone. */
	close(c.release[0]);
	close(c.report[1]);
	c.release[0] = c.report[1] = -1;

	r = spawn_release(&c, pid);
	if (r == 0)
		r = spawn_wait_exec(&c);
	if (r < 0) {
		spawn_abort(&c);
		goto out;
	}
	out->pid = pid;
	out->pidfd = c.pidfd;
out:
	spawn_ctx_close(&c);
	return r;
}

int mon_child_uid(pid_t monitor_pid, uid_t *uid)
{
	if (monitor_pid <= 0 || (unsigned)monitor_pid > SPAWN_PID_MAX)
		return -EINVAL;
	*uid = MOAT_UID_BASE + (uid_t)monitor_pid;
	return 0;
}

int mon_child_path(const char *name, char *buf, size_t len)
{
	char *slash;
	ssize_t n;

	if (!name || !*name || strchr(name, '/') || len < 2)
		return -EINVAL;
	n = readlink("/proc/self/exe", buf, len);
	if (n < 0)
		return -errno;
	if ((size_t)n >= len)
		return -ENAMETOOLONG;
	buf[n] = '\0';
	slash = strrchr(buf, '/');
	if (!slash)
		return -EINVAL;
	if ((size_t)(slash + 1 - buf) + strlen(name) >= len)
		return -ENAMETOOLONG;
	strcpy(slash + 1, name);
	return 0;
}
