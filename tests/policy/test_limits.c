/* What a confined child can no longer do, end to end with the real
 * filters (sandboxed-child's modes in sandboxed_limits.c):
 *   - moat-vcpu's run phase: policy/vcpu-run.policy stacked on vcpu.policy
 *     over every thread; KVM_CREATE_VM and the rest of set-up kill, the
 *     run phase's ioctls pass, and the policy itself stays small and takes
 *     only away;
 *   - the per-kind resource limits (struct pol_limits): threads, then
 *     descriptors, then address space run out inside the limit.
 * KVM is not needed: a seccomp filter judges an ioctl by its number before
 * any driver sees the descriptor. Runs as root (as in CI); the tests that
 * spawn skip otherwise. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pol.h"
#include "rules.h"
#include "spawn_child.h"
#include "tap.h"

/* The target: the run phase has at most 30 calls beyond the ioctl
 * KVM_RUN needs. */
#define RUN_PHASE_MAX (1 + 30)

struct run {
	struct mon_child c;
	int sock;
	struct pol_report rep;
};

/* Spawn sandboxed-child in mode and read its report. */
static int start(const char *mode, struct run *r)
{
	uid_t uid;
	int n;

	CHECK(child_spawn(mode, false, &r->c, &r->sock, &uid) == 0);
	n = child_recv(r->sock, &r->rep, sizeof(r->rep));
	if (n != sizeof(r->rep)) {
		fprintf(stderr, "%s: no report from the child (%d): %.*s\n", mode, n, n > 0 ? n : 0,
			(char *)&r->rep);
		return 1;
	}
	return 0;
}

/* Say go, then reap the child (killing it after the timeout); *msg is what
 * it said, if anything. */
static int go_and_reap(struct run *r, siginfo_t *si, char *msg, size_t len)
{
	struct pollfd p = {.fd = r->c.pidfd, .events = POLLIN};
	int n;

	CHECK(send(r->sock, "g", 1, 0) == 1);
	if (poll(&p, 1, CHILD_TIMEOUT_MS) != 1)
		pidfd_send_signal(r->c.pidfd, SIGKILL, NULL, 0);
	memset(si, 0, sizeof(*si));
	CHECK(waitid(P_PIDFD, r->c.pidfd, si, WEXITED) == 0);
	close(r->c.pidfd);
	n = recv(r->sock, msg, len - 1, MSG_DONTWAIT);
	msg[n > 0 ? n : 0] = '\0';
	close(r->sock);
	return 0;
}

static int expect_ok(struct run *r, const char *mode)
{
	char msg[256];
	siginfo_t si;

	CHECK(go_and_reap(r, &si, msg, sizeof(msg)) == 0);
	if (strcmp(msg, "ok") != 0 || si.si_code != CLD_EXITED || si.si_status != 0) {
		fprintf(stderr, "%s: '%s', code %d status %d\n", mode, msg, si.si_code,
			si.si_status);
		return 1;
	}
	return 0;
}

static int run_ok(const char *mode)
{
	struct run r;

	if (geteuid() != 0)
		return TEST_SKIP;
	CHECK(start(mode, &r) == 0);
	return expect_ok(&r, mode);
}

static int run_kill(const char *mode)
{
	struct run r;
	char msg[256];
	siginfo_t si;

	if (geteuid() != 0)
		return TEST_SKIP;
	CHECK(start(mode, &r) == 0);
	CHECK(go_and_reap(&r, &si, msg, sizeof(msg)) == 0);
	if ((si.si_code != CLD_KILLED && si.si_code != CLD_DUMPED) || si.si_status != SIGSYS) {
		fprintf(stderr, "%s: code %d status %d, said '%s'\n", mode, si.si_code,
			si.si_status, msg);
		return 1;
	}
	return 0;
}

/* "Seccomp_filters:" of /proc/PID/status (Linux 5.9 and later), or -1. */
static int seccomp_filters(pid_t pid)
{
	char path[64], line[256];
	int n = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Seccomp_filters: %d", &n) == 1)
			break;
	fclose(f);
	return n;
}

static unsigned policy_size(const char *kind)
{
	scmp_filter_ctx ctx;
	unsigned n = 0;
	char err[256];

	if (pol_compile(kind, &ctx, &n, err, sizeof(err)) < 0)
		return 0;
	seccomp_release(ctx);
	return n;
}

/* The run phase: both filters on the process, the report still the first
 * one's (the size the monitor checks moat-vcpu's READY against), and what
 * the run phase needs works, a thread made before it included. */
static int test_run_phase(void)
{
	struct run r;
	int nf;

	if (geteuid() != 0)
		return TEST_SKIP;
	CHECK(start("run-phase", &r) == 0);
	nf = seccomp_filters(r.c.pid);
	if (nf != -1 && nf != 2) {
		fprintf(stderr, "Seccomp_filters: %d, want 2\n", nf);
		return 1;
	}
	CHECK(r.rep.policy_syscalls == policy_size("vcpu"));
	return expect_ok(&r, "run-phase");
}

/* The control: under vcpu.policy alone, KVM_CREATE_VM passes. */
static int test_setup_create_vm(void)
{
	return run_ok("setup-create-vm");
}

static int test_run_kills_create_vm(void)
{
	return run_kill("kill-run-KVM_CREATE_VM");
}
static int test_run_kills_create_vcpu(void)
{
	return run_kill("kill-run-KVM_CREATE_VCPU");
}
static int test_run_kills_memory_region(void)
{
	return run_kill("kill-run-KVM_SET_USER_MEMORY_REGION");
}
static int test_run_kills_tss(void)
{
	return run_kill("kill-run-KVM_SET_TSS_ADDR");
}
static int test_run_kills_cpuid(void)
{
	return run_kill("kill-run-KVM_GET_SUPPORTED_CPUID");
}
static int test_run_kills_ioeventfd(void)
{
	return run_kill("kill-run-KVM_IRQFD");
}
static int test_run_kills_set_regs(void)
{
	return run_kill("kill-run-KVM_SET_REGS");
}
static int test_run_kills_clone(void)
{
	return run_kill("kill-run-clone");
}
static int test_run_kills_pread(void)
{
	return run_kill("kill-run-pread");
}
/* A thread made under the first filter has the second one too. */
static int test_run_kills_early_thread(void)
{
	return run_kill("kill-run-thread");
}

/* vcpu-run.policy as a text: small, and only taking away (a call vcpu.policy
 * does not allow would be a dead line, since both filters apply). */
static int test_run_policy_shape(void)
{
	static const char *const never[] = {"clone",   "clone3", "execve",   "fork",   "lseek",
					    "pread64", "prctl",	 "eventfd2", "openat", "socket"};
	struct pol_ruleset run = {0}, setup = {0};
	char err[256];

	CHECK(pol_parse(pol_blobs, "vcpu-run", &run, err, sizeof(err)) == 0);
	CHECK(pol_parse(pol_blobs, "vcpu", &setup, err, sizeof(err)) == 0);
	fprintf(stderr, "vcpu-run: %zu syscalls, vcpu: %zu\n", run.n, setup.n);
	CHECK(run.n <= RUN_PHASE_MAX && run.n < setup.n);
	for (size_t i = 0; i < run.n; i++) {
		/* an errno answer (the soft deny of opens) only where set-up had the
		 * same; anything allowed only where set-up allowed it too */
		bool denied = run.rule[i].f.kind == POL_FILTER_ERRNO, found = false;
		for (size_t j = 0; j < setup.n; j++)
			found |= setup.rule[j].nr == run.rule[i].nr &&
				 (setup.rule[j].f.kind == POL_FILTER_ERRNO) == denied;
		if (!found) {
			fprintf(stderr, "vcpu-run %s %s, which vcpu does not\n",
				denied ? "answers" : "allows", run.rule[i].name);
			return 1;
		}
		for (size_t k = 0; k < sizeof(never) / sizeof(never[0]) && !denied; k++)
			CHECK(strcmp(run.rule[i].name, never[k]) != 0);
	}
	pol_ruleset_free(&run);
	pol_ruleset_free(&setup);
	return 0;
}

/* Threads: the issue saw 300 of 300 start under the vcpu and blk filters.
 * With the kinds' RLIMIT_NPROC, the first past the limit fails (EAGAIN). */
static int run_nproc(const char *mode, uint64_t want)
{
	struct run r;

	if (geteuid() != 0)
		return TEST_SKIP;
	CHECK(start(mode, &r) == 0);
	CHECK(r.rep.rlim_nproc == want);
	return expect_ok(&r, mode);
}

static int test_nproc_vcpu(void)
{
	return run_nproc("nproc-vcpu", 3);
}
static int test_nproc_blk(void)
{
	return run_nproc("nproc-blk", 5);
}

static int test_nofile(void)
{
	struct run r;

	if (geteuid() != 0)
		return TEST_SKIP;
	CHECK(start("nofile", &r) == 0);
	CHECK(r.rep.rlim_nofile == 4 + 4); /* fds 0-3 at entry, room for 4 */
	return expect_ok(&r, "nofile");
}

static int test_address_space(void)
{
	struct run r;

	if (geteuid() != 0)
		return TEST_SKIP;
	CHECK(start("as", &r) == 0);
	CHECK(r.rep.rlim_as != RLIM_INFINITY && r.rep.rlim_as > (64u << 20));
	return expect_ok(&r, "as");
}

int main(void)
{
	static const struct test_case tests[] = {
	    TEST(test_run_policy_shape),
	    TEST(test_run_phase),
	    TEST(test_setup_create_vm),
	    TEST(test_run_kills_create_vm),
	    TEST(test_run_kills_create_vcpu),
	    TEST(test_run_kills_memory_region),
	    TEST(test_run_kills_tss),
	    TEST(test_run_kills_cpuid),
	    TEST(test_run_kills_ioeventfd),
	    TEST(test_run_kills_set_regs),
	    TEST(test_run_kills_clone),
	    TEST(test_run_kills_pread),
	    TEST(test_run_kills_early_thread),
	    TEST(test_nproc_vcpu),
	    TEST(test_nproc_blk),
	    TEST(test_nofile),
	    TEST(test_address_space),
	};
	return RUN_TESTS(tests);
}
