/* mon_spawn() on its own (monitor/spawn.c): bad input fails promptly with a
 * clear errno and leaves no child behind, not even a zombie; a good spawn
 * gives exactly the promised process: pid 1 of its own namespaces, the
 * chosen uid, an empty environment, only the passed descriptors; and a
 * child dies with its parent. Runs as root (as in CI); skips otherwise. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "spawn.h"
#include "tap.h"

static bool no_children(void)
{
	siginfo_t si;

	return waitid(P_ALL, 0, &si, WEXITED | WNOHANG) < 0 && errno == ECHILD;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Spawn path with argv {name, NULL} and no descriptors. */
static int spawn_path(const char *path, struct mon_child *c)
{
	char *argv[] = {"moat-test", NULL};
	struct mon_spawn_args a = {.path = path, .argv = argv, .uid = MOAT_UID_BASE + 1,
				   .gid = MOAT_UID_BASE + 1};

	return mon_spawn(&a, c);
}

static int test_missing_executable(void)
{
	struct mon_child c = {-1, -1};
	double t0 = now();

	if (geteuid() != 0)
		return TEST_SKIP;
	CHECK(spawn_path("/nonexistent-dir/moat-vcpu", &c) == -ENOENT);
	CHECK(spawn_path("/usr/bin/moat-no-such-binary", &c) == -ENOENT);
	CHECK(now() - t0 < 1.0);
	CHECK(c.pid == -1 && c.pidfd == -1); /* output untouched on failure */
	CHECK(no_children());
	return 0;
}

static int test_bad_arguments(void)
{
	char *argv[] = {"x", NULL};
	struct mon_spawn_args a = {.path = "/bin/true", .argv = argv, .uid = MOAT_UID_BASE + 1,
				   .gid = MOAT_UID_BASE + 1};
	struct mon_spawn_args b;
	struct mon_child c;
	int fds[MON_SPAWN_MAX_FDS + 1] = {0};
	int bad = -1, closed = 1000;

	b = a, b.path = "bin/true";
	CHECK(mon_spawn(&b, &c) == -EINVAL);
	b = a, b.path = "/bin/";
	CHECK(mon_spawn(&b, &c) == -EINVAL);
	b = a, b.argv = NULL;
	CHECK(mon_spawn(&b, &c) == -EINVAL);
	b = a, b.uid = 0;
	CHECK(mon_spawn(&b, &c) == -EINVAL);
	b = a, b.gid = 65534;
	CHECK(mon_spawn(&b, &c) == -EINVAL);
	b = a, b.uid = (uid_t)-1;
	CHECK(mon_spawn(&b, &c) == -EINVAL);
	b = a, b.fds = fds, b.nfds = MON_SPAWN_MAX_FDS + 1;
	CHECK(mon_spawn(&b, &c) == -EINVAL);
	b = a, b.fds = &bad, b.nfds = 1;
	CHECK(mon_spawn(&b, &c) == -EBADF);
	close(closed);
	b = a, b.fds = &closed, b.nfds = 1;
	CHECK(mon_spawn(&b, &c) == -EBADF);
	CHECK(no_children());
	return 0;
}

/* Failures only the child can see come back through the report pipe. */
static int test_exec_failures(void)
{
	char dir[] = "/tmp/moat-spawn-XXXXXX", path[PATH_MAX];
	struct mon_child c;
	int fd;

	if (geteuid() != 0)
		return TEST_SKIP;
	CHECK(mkdtemp(dir));
	CHECK(chmod(dir, 0755) == 0); /* the child's uid must be able to look in */

	snprintf(path, sizeof(path), "%s/not-executable", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	CHECK(fd >= 0 && write(fd, "\x7f" "ELF", 4) == 4);
	close(fd);
	CHECK(spawn_path(path, &c) == -EACCES);
	CHECK(no_children());
	unlink(path);

	snprintf(path, sizeof(path), "%s/garbage", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0755);
	CHECK(fd >= 0 && write(fd, "garbage, not a program\n", 23) == 23);
	close(fd);
	CHECK(spawn_path(path, &c) == -ENOEXEC);
	CHECK(no_children());
	unlink(path);

	CHECK(spawn_path(dir, &c) == -EACCES); /* a directory */
	CHECK(no_children());
	rmdir(dir);
	return 0;
}

static int read_line(int fd, char *buf, size_t len)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	size_t n = 0;

	while (n + 1 < len) {
		if (poll(&p, 1, 10000) != 1 || read(fd, buf + n, 1) != 1)
			return -1;
		if (buf[n] == '\n')
			break;
		n++;
	}
	buf[n] = '\0';
	return 0;
}

/* What /proc says about a spawned `sleep`: it is what mon_spawn promised. */
static int check_spawned(pid_t pid, uid_t uid)
{
	char path[64], buf[256], want_uid[64], want_nspid[64];
	int fd, n, count = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0);
	n = read(fd, buf, sizeof(buf));
	close(fd);
	CHECK(n == 0); /* empty environment */

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	f = fopen(path, "re");
	CHECK(f && fgets(buf, sizeof(buf), f));
	fclose(f);
	CHECK(strcmp(buf, "sleep\n") == 0); /* the binary's name, not a descriptor number */

	snprintf(path, sizeof(path), "/proc/%d/fd/0", (int)pid);
	n = readlink(path, buf, sizeof(buf) - 1);
	CHECK(n > 0);
	buf[n] = '\0';
	CHECK(strcmp(buf, "/dev/null") == 0);
	/* the exec is done when mon_spawn returns, but the dynamic loader may
	 * still hold a library open for a moment (a loaded machine widens
	 * that): counted again for up to a second until it is 5 */
	for (int tries = 0; tries < 100 && count != 5; tries++) {
		if (tries)
			usleep(10 * 1000);
		count = 0;
		for (int i = 0; i < 256; i++) {
			snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)pid, i);
			if (access(path, F_OK) == 0)
				count++;
		}
	}
	CHECK(count == 5); /* 0-2 and the two passed */
	snprintf(path, sizeof(path), "/proc/%d/fd/4", (int)pid);
	CHECK(access(path, F_OK) == 0);

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	snprintf(want_uid, sizeof(want_uid), "Uid:\t%u\t%u\t%u\t%u\n", uid, uid, uid, uid);
	snprintf(want_nspid, sizeof(want_nspid), "NSpid:\t%d\t1\n", (int)pid);
	f = fopen(path, "re");
	CHECK(f);
	n = 0;
	while (fgets(buf, sizeof(buf), f))
		if (strcmp(buf, want_uid) == 0 || strcmp(buf, want_nspid) == 0 ||
		    (strncmp(buf, "Groups:", 7) == 0 && !buf[7 + strspn(buf + 7, " \t\n")]))
			n++;
	fclose(f);
	CHECK(n == 3);
	return 0;
}

static int test_runs_child(void)
{
	char *argv[] = {"sleep", "30", NULL};
	gid_t groups[] = {0, 4};
	int p[2];
	struct mon_child c;
	uid_t uid;
	siginfo_t si;

	if (geteuid() != 0)
		return TEST_SKIP;
	/* supplementary groups (root's among them) that the child must not keep */
	CHECK(setgroups(2, groups) == 0);
	CHECK(pipe2(p, O_CLOEXEC) == 0);
	CHECK(mon_child_uid(getpid(), &uid) == 0);
	struct mon_spawn_args a = {.path = "/bin/sleep", .argv = argv, .fds = p, .nfds = 2,
				   .uid = uid, .gid = uid};
	CHECK(mon_spawn(&a, &c) == 0);
	/* mon_spawn returned: the exec is done, /proc shows sleep itself */
	CHECK(check_spawned(c.pid, uid) == 0);
	/* pid 1 of its namespace ignores signals it has no handler for,
	 * except SIGKILL */
	CHECK(pidfd_send_signal(c.pidfd, SIGKILL, NULL, 0) == 0);
	CHECK(waitid(P_PIDFD, c.pidfd, &si, WEXITED) == 0);
	CHECK(si.si_code == CLD_KILLED && si.si_status == SIGKILL);
	close(c.pidfd);
	CHECK(no_children());
	return 0;
}

/* A shell sees itself as pid 1 and its exit status comes back. */
static int test_shell_exit_status(void)
{
	char *argv[] = {"sh", "-c", "echo $$ >&3; exit 7", NULL};
	struct mon_child c;
	char line[64];
	int out[2];
	siginfo_t si;

	if (geteuid() != 0)
		return TEST_SKIP;
	CHECK(pipe2(out, O_CLOEXEC) == 0);
	struct mon_spawn_args a = {.path = "/bin/sh", .argv = argv, .fds = &out[1], .nfds = 1,
				   .uid = MOAT_UID_BASE + 3, .gid = MOAT_UID_BASE + 3};
	CHECK(mon_spawn(&a, &c) == 0);
	close(out[1]);
	CHECK(read_line(out[0], line, sizeof(line)) == 0 && strcmp(line, "1") == 0);
	CHECK(waitid(P_PIDFD, c.pidfd, &si, WEXITED) == 0);
	CHECK(si.si_code == CLD_EXITED && si.si_status == 7);
	close(c.pidfd);
	return 0;
}

/* The child dies with the thread that spawned it (PR_SET_PDEATHSIG), even
 * as pid 1 of its namespace. We become the subreaper to see its end. */
static int test_dies_with_parent(void)
{
	int p[2], status;
	pid_t mid, child;

	if (geteuid() != 0)
		return TEST_SKIP;
	CHECK(prctl(PR_SET_CHILD_SUBREAPER, 1) == 0);
	CHECK(pipe(p) == 0);
	mid = fork();
	CHECK(mid >= 0);
	if (mid == 0) {
		char *argv[] = {"sleep", "5", NULL};
		struct mon_spawn_args a = {.path = "/bin/sleep", .argv = argv,
					   .uid = MOAT_UID_BASE + 2, .gid = MOAT_UID_BASE + 2};
		struct mon_child c;
		if (mon_spawn(&a, &c) < 0)
			_exit(1);
		(void)!write(p[1], &c.pid, sizeof(c.pid));
		_exit(0);
	}
	close(p[1]);
	CHECK(read(p[0], &child, sizeof(child)) == sizeof(child));
	CHECK(waitpid(mid, &status, 0) == mid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK(waitpid(child, &status, 0) == child); /* reparented to us */
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	return 0;
}

static int test_child_path_and_uid(void)
{
	char buf[PATH_MAX], self[PATH_MAX];
	uid_t a, b;
	ssize_t n;

	CHECK(mon_child_path("moat-vcpu", buf, sizeof(buf)) == 0);
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	CHECK(n > 0);
	self[n] = '\0';
	*strrchr(self, '/') = '\0';
	CHECK(strncmp(buf, self, strlen(self)) == 0 && strcmp(buf + strlen(self), "/moat-vcpu") == 0);
	CHECK(mon_child_path("a/b", buf, sizeof(buf)) == -EINVAL);
	CHECK(mon_child_path("", buf, sizeof(buf)) == -EINVAL);
	CHECK(mon_child_path("moat-vcpu", buf, 8) == -ENAMETOOLONG);

	CHECK(mon_child_uid(1234, &a) == 0 && a == MOAT_UID_BASE + 1234);
	CHECK(mon_child_uid(1235, &b) == 0 && b != a);
	CHECK(mon_child_uid(4194304, &a) == 0 && a != 0 && a != 65534 && a < 0x7fffffffu);
	CHECK(mon_child_uid(0, &a) == -EINVAL);
	CHECK(mon_child_uid(-5, &a) == -EINVAL);
	CHECK(mon_child_uid(4194305, &a) == -EINVAL);
	return 0;
}

int main(void)
{
	static const struct test_case tests[] = {
		TEST(test_missing_executable),
		TEST(test_bad_arguments),
		TEST(test_exec_failures),
		TEST(test_runs_child),
		TEST(test_shell_exit_status),
		TEST(test_dies_with_parent),
		TEST(test_child_path_and_uid),
	};
	return RUN_TESTS(tests);
}
