/* The whole sandbox, end to end, with the real filters: spawn
 * sandboxed-child through mon_spawn(), let it enter the sandbox with
 * test.policy, check from outside (/proc/PID) what it ended up with, then
 * check that harmless work survives and each forbidden call kills it with
 * SIGSYS. Runs as root (as in CI); skips otherwise. */
#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pol.h"
#include "spawn_child.h"
#include "tap.h"


struct run {
	struct mon_child c;
	int sock;
	uid_t uid;
	struct pol_report rep;
};

/* Wait for the child's end (or kill it after the timeout). */
static int wait_child(struct run *r, siginfo_t *si)
{
	struct pollfd p = {.fd = r->c.pidfd, .events = POLLIN};
	int timed_out = poll(&p, 1, CHILD_TIMEOUT_MS) != 1;

	if (timed_out)
		pidfd_send_signal(r->c.pidfd, SIGKILL, NULL, 0);
	memset(si, 0, sizeof(*si));
	if (waitid(P_PIDFD, r->c.pidfd, si, WEXITED) < 0)
		return -errno;
	close(r->c.pidfd);
	return timed_out ? -ETIMEDOUT : 0;
}

static int start(const char *mode, bool keep_net, struct run *r)
{
	gid_t groups[] = {0, 4};
	int n;

	/* supplementary groups (root's among them) that the child must not keep */
	CHECK(setgroups(2, groups) == 0);
	CHECK(child_spawn(mode, keep_net, &r->c, &r->sock, &r->uid) == 0);
	n = child_recv(r->sock, &r->rep, sizeof(r->rep));
	if (n != sizeof(r->rep)) {
		fprintf(stderr, "%s: no report from the child (%d): %.*s\n", mode, n,
			n > 0 ? n : 0, (char *)&r->rep);
		return 1;
	}
	return 0;
}

/* "Name:\tvalue" from /proc/PID/status. */
static int status_field(pid_t pid, const char *name, char *val, size_t len)
{
	char path[64], line[512];
	size_t nl = strlen(name);
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, name, nl) == 0 && line[nl] == ':') {
			char *v = line + nl + 1;
			v += strspn(v, " \t");
			v[strcspn(v, "\n")] = '\0';
			snprintf(val, len, "%s", v);
			fclose(f);
			return 0;
		}
	}
	fclose(f);
	return -ENOENT;
}

#define CHECK_FIELD(pid, name, want)                                                               \
	do {                                                                                       \
		char v_[256];                                                                      \
		CHECK(status_field((pid), (name), v_, sizeof(v_)) == 0);                           \
		if (strcmp(v_, (want)) != 0) {                                                     \
			fprintf(stderr, "%s: '%s', want '%s'\n", (name), v_, (want));              \
			return 1;                                                                  \
		}                                                                                  \
	} while (0)

static int check_status(const struct run *r)
{
	char ids[64], nspid[64];
	pid_t pid = r->c.pid;

	snprintf(ids, sizeof(ids), "%u\t%u\t%u\t%u", r->uid, r->uid, r->uid, r->uid);
	CHECK(r->uid != 0 && r->uid != 65534);
	CHECK_FIELD(pid, "Uid", ids);
	CHECK_FIELD(pid, "Gid", ids);
	CHECK_FIELD(pid, "Groups", "");
	CHECK_FIELD(pid, "CapInh", "0000000000000000");
	CHECK_FIELD(pid, "CapPrm", "0000000000000000");
	CHECK_FIELD(pid, "CapEff", "0000000000000000");
	CHECK_FIELD(pid, "CapBnd", "0000000000000000");
	CHECK_FIELD(pid, "CapAmb", "0000000000000000");
	CHECK_FIELD(pid, "NoNewPrivs", "1");
	CHECK_FIELD(pid, "Seccomp", "2");
	snprintf(nspid, sizeof(nspid), "%d\t1", (int)pid); /* pid 1 of its own namespace */
	CHECK_FIELD(pid, "NSpid", nspid);
	return 0;
}

static int check_namespaces(const struct run *r, bool keep_net)
{
	uint64_t self[POL_NS_COUNT], child[POL_NS_COUNT];

	CHECK(pol_ns_read(0, self) == 0);
	CHECK(pol_ns_read(r->c.pid, child) == 0);
	for (int i = 0; i < POL_NS_COUNT; i++) {
		bool shared = keep_net && i == POL_NS_NET;
		if ((self[i] == child[i]) != shared) {
			fprintf(stderr, "namespace %s: ours %llu, child's %llu\n", pol_ns_names[i],
				(unsigned long long)self[i], (unsigned long long)child[i]);
			return 1;
		}
		CHECK(r->rep.ns_ino[i] == child[i]); /* the child reported what we see */
	}
	CHECK(strcmp(r->rep.namespaces, keep_net ? "user,mnt,pid,ipc,uts,cgroup"
						 : "user,mnt,pid,net,ipc,uts,cgroup") == 0);
	return 0;
}

/* The child's root, seen through /proc/PID/root: empty, read-only, and the
 * only mount it has. */
static int check_root(const struct run *r)
{
	char path[64], line[512];
	struct dirent *de;
	struct stat st;
	int entries = 0, mounts = 0;
	DIR *d;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/root", (int)r->c.pid);
	d = opendir(path);
	CHECK(d);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			entries++;
	closedir(d);
	CHECK(entries == 0);
	snprintf(path, sizeof(path), "/proc/%d/root/etc", (int)r->c.pid);
	CHECK(stat(path, &st) < 0 && errno == ENOENT);

	snprintf(path, sizeof(path), "/proc/%d/mountinfo", (int)r->c.pid);
	f = fopen(path, "re");
	CHECK(f);
	while (fgets(line, sizeof(line), f)) {
		mounts++;
		if (!strstr(line, " / / ro,")) {
			fprintf(stderr, "mount: %s", line);
			mounts += 100;
		}
	}
	fclose(f);
	CHECK(mounts == 1);
	return 0;
}

static int check_report(const struct run *r)
{
	char line[512];

	pol_report_format(&r->rep, line, sizeof(line));
	fprintf(stderr, "report: %s\n", line);
	CHECK(strcmp(r->rep.kind, "test") == 0);
	CHECK(r->rep.uid == 0 && r->rep.gid == 0 && r->rep.ngroups == 0);
	CHECK(r->rep.caps_all_zero && r->rep.no_new_privs && !r->rep.dumpable && r->rep.pid1);
	CHECK(r->rep.seccomp_mode == 2 && r->rep.policy_syscalls > 20);
	CHECK(r->rep.rlim_core == 0);
	CHECK(r->rep.rlim_nofile > 3 && r->rep.rlim_nofile <= 16 + POL_NOFILE_SLACK);
	return 0;
}

static int check_confined(const struct run *r, bool keep_net)
{
	CHECK(check_status(r) == 0);
	CHECK(check_namespaces(r, keep_net) == 0);
	CHECK(check_root(r) == 0);
	CHECK(check_report(r) == 0);
	return 0;
}

/* Tell the child to go on, then expect it to say "ok" and exit 0; closes
 * r->sock and reaps the child either way. */
static int go_expect_ok(struct run *r, const char *mode)
{
	char msg[256] = "";
	siginfo_t si;
	int n;

	CHECK(send(r->sock, "g", 1, 0) == 1);
	n = child_recv(r->sock, msg, sizeof(msg) - 1);
	msg[n > 0 ? n : 0] = '\0';
	CHECK(wait_child(r, &si) == 0);
	close(r->sock);
	if (strcmp(msg, "ok") != 0 || si.si_code != CLD_EXITED || si.si_status != 0) {
		fprintf(stderr, "%s: '%s', code %d status %d\n", mode, msg, si.si_code,
			si.si_status);
		return 1;
	}
	return 0;
}

static int run_work(bool keep_net)
{
	struct run r;

	if (geteuid() != 0)
		return TEST_SKIP;
	CHECK(start("work", keep_net, &r) == 0);
	CHECK(check_confined(&r, keep_net) == 0);
	return go_expect_ok(&r, "work");
}

static int run_kill(const char *mode)
{
	struct run r;
	char msg[256] = "";
	siginfo_t si;

	if (geteuid() != 0)
		return TEST_SKIP;
	CHECK(start(mode, false, &r) == 0);
	CHECK(check_confined(&r, false) == 0);
	CHECK(send(r.sock, "g", 1, 0) == 1);
	CHECK(wait_child(&r, &si) == 0);
	if ((si.si_code != CLD_KILLED && si.si_code != CLD_DUMPED) || si.si_status != SIGSYS) {
		recv(r.sock, msg, sizeof(msg) - 1, MSG_DONTWAIT);
		fprintf(stderr, "%s: code %d status %d, said '%s'\n", mode, si.si_code,
			si.si_status, msg);
		return 1;
	}
	close(r.sock);
	return 0;
}

/* Start sandboxed-child in mode through mon_spawn and expect it to refuse
 * to enter the sandbox: it says so and exits 2. */
static int expect_refusal(const char *mode, bool keep_net)
{
	struct run r;
	siginfo_t si;
	int sp[2];
	char path[4096], msg[128] = "";
	char *argv[] = {"sandboxed-child", (char *)mode, NULL};
	int n;

	CHECK(mon_child_path("sandboxed-child", path, sizeof(path)) == 0);
	CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) == 0);
	CHECK(mon_child_uid(getpid(), &r.uid) == 0);
	struct mon_spawn_args a = {
		.path = path, .argv = argv, .fds = &sp[1], .nfds = 1,
		.keep_net = keep_net, .uid = r.uid, .gid = r.uid,
	};
	CHECK(mon_spawn(&a, &r.c) == 0);
	close(sp[1]);
	r.sock = sp[0];
	n = child_recv(r.sock, msg, sizeof(msg) - 1);
	msg[n > 0 ? n : 0] = '\0';
	CHECK(wait_child(&r, &si) == 0);
	close(r.sock);
	CHECK(strcmp(msg, "fail: sandbox refused") == 0);
	CHECK(si.si_code == CLD_EXITED && si.si_status == 2);
	return 0;
}

/* A file for the root (moat-net's etc/resolv.conf): there, with its text,
 * read-only, and alone; a path out of the root refuses to start. */
static int test_root_file(void)
{
	struct run r;
	char path[128];
	struct stat st;
	int fd;

	if (geteuid() != 0)
		return TEST_SKIP;
	CHECK(start("root-file", true, &r) == 0);
	snprintf(path, sizeof(path), "/proc/%d/root/etc/resolv.conf", (int)r.c.pid);
	CHECK(stat(path, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0777) == 0444);
	/* even root cannot add to it: the mount is read-only */
	snprintf(path, sizeof(path), "/proc/%d/root/etc/new", (int)r.c.pid);
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	CHECK(fd < 0 && errno == EROFS);
	return go_expect_ok(&r, "root-file");
}

static int test_root_file_outside_refuses(void)
{
	if (geteuid() != 0)
		return TEST_SKIP;
	return expect_refusal("root-file-bad", true);
}

static int test_work(void) { return run_work(false); }
static int test_work_keep_net(void) { return run_work(true); }
static int test_kill_socket(void) { return run_kill("kill-socket"); }
static int test_kill_execve(void) { return run_kill("kill-execve"); }
static int test_kill_mmap_exec(void) { return run_kill("kill-mmap-exec"); }
static int test_kill_mprotect_exec(void) { return run_kill("kill-mprotect-exec"); }
static int test_kill_fork(void) { return run_kill("kill-fork"); }
static int test_kill_ioctl(void) { return run_kill("kill-ioctl"); }
static int test_kill_x32(void) { return run_kill("kill-x32"); }
static int test_kill_thread(void) { return run_kill("kill-thread"); }

/* A policy that is not there: the child must refuse to start at all. */
static int test_missing_policy_refuses(void)
{
	if (geteuid() != 0)
		return TEST_SKIP;
	return expect_refusal("no-policy", false);
}

/* Started without mon_spawn, in the initial user namespace, the child must
 * refuse before touching any mount. A throwaway mount namespace limits the
 * damage if that check ever breaks. */
static int test_refuses_outside_userns(void)
{
	char path[4096], msg[128] = "";
	int sp[2], status, n;
	pid_t pid;

	if (geteuid() != 0)
		return TEST_SKIP;
	CHECK(mon_child_path("sandboxed-child", path, sizeof(path)) == 0);
	CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp) == 0);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		char *argv[] = {"sandboxed-child", "work", NULL};
		if (unshare(CLONE_NEWNS) < 0 || dup2(sp[1], 3) < 0)
			_exit(100);
		execv(path, argv);
		_exit(101);
	}
	close(sp[1]);
	n = child_recv(sp[0], msg, sizeof(msg) - 1);
	msg[n > 0 ? n : 0] = '\0';
	CHECK(waitpid(pid, &status, 0) == pid);
	close(sp[0]);
	CHECK(strcmp(msg, "fail: sandbox refused") == 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 2);
	return 0;
}

int main(void)
{
	static const struct test_case tests[] = {
		TEST(test_work),
		TEST(test_work_keep_net),
		TEST(test_kill_socket),
		TEST(test_kill_execve),
		TEST(test_kill_mmap_exec),
		TEST(test_kill_mprotect_exec),
		TEST(test_kill_fork),
		TEST(test_kill_ioctl),
		TEST(test_kill_x32),
		TEST(test_kill_thread),
		TEST(test_missing_policy_refuses),
		TEST(test_root_file),
		TEST(test_root_file_outside_refuses),
		TEST(test_refuses_outside_userns),
	};
	return RUN_TESTS(tests);
}
