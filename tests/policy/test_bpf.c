/* The seccomp programs made at build time (policy_bpf.h, policy/polbpf.c):
 * each is the program libseccomp makes of its policy now, byte for byte,
 * with the same syscall count; the load passes the flags libseccomp's
 * seccomp_load() passes; and a loaded program really confines a process
 * (a call its policy lacks kills it with SIGSYS, an errno answer is
 * answered, exit works). Built twice: against the policy suite's tables
 * (moat's policies and test.policy) and against moat's own, the ones its
 * children load. No root needed: a filter needs only no_new_privs. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/seccomp.h>

#include "pol.h"
#include "policy_bpf.h"
#include "rules.h"
#include "tap.h"

static char err[512];

/* Index of the first instruction where a and b differ, or -1 when they
 * are equal (a length difference counts at the shorter one's end). */
static long prog_diff(const struct sock_filter *a, size_t na, const struct sock_filter *b,
		      size_t nb)
{
	size_t n = na < nb ? na : nb;

	for (size_t i = 0; i < n; i++)
		if (memcmp(&a[i], &b[i], sizeof(a[i])) != 0)
			return (long)i;
	return na == nb ? -1 : (long)n;
}

/* One entry per blob, same names, same order: every policy the binary
 * embeds has its program, and no program lacks its text. */
static int test_table_matches_blobs(void)
{
	size_t i = 0;

	for (; pol_blobs[i].name; i++) {
		CHECK(pol_bpfs[i].name);
		CHECK(strcmp(pol_bpfs[i].name, pol_blobs[i].name) == 0);
		CHECK(pol_bpf_find(pol_blobs[i].name) == &pol_bpfs[i]);
	}
	CHECK(pol_bpfs[i].name == NULL);
	CHECK(i > 0);
	CHECK(pol_bpf_find("nothere") == NULL);
	return 0;
}

/* For every kind: what pol_compile() and libseccomp's export make now is
 * what the build embedded. A difference means libseccomp or a policy
 * changed after the build: rebuild. */
static int test_programs_identical(void)
{
	for (const struct pol_bpf *b = pol_bpfs; b->name; b++) {
		struct sock_filter *prog;
		scmp_filter_ctx ctx;
		unsigned nsys = 0, got = 0;
		size_t len;
		long at;

		CHECK(pol_compile(b->name, &ctx, &nsys, err, sizeof(err)) == 0);
		CHECK(pol_export_bpf(ctx, &prog, &len) == 0);
		seccomp_release(ctx);
		at = prog_diff(b->prog, b->len, prog, len);
		free(prog);
		if (at >= 0 || b->nsyscalls != nsys) {
			fprintf(stderr,
				"%s: embedded %u instructions, %u syscalls; libseccomp now %zu, %u;"
				" first difference at %ld (rebuild?)\n",
				b->name, b->len, b->nsyscalls, len, nsys, at);
			return 1;
		}
		CHECK(pol_syscalls(b->name, &got) == 0 && got == nsys);
	}
	return 0;
}

/* The comparison above finds a one-bit difference and a missing last
 * instruction: it cannot pass by comparing nothing. */
static int test_diff_can_fail(void)
{
	const struct pol_bpf *b = pol_bpf_find("vcpu");
	struct sock_filter *copy;

	CHECK(b && b->len > 2);
	copy = malloc(b->len * sizeof(*copy));
	CHECK(copy);
	memcpy(copy, b->prog, b->len * sizeof(*copy));
	CHECK(prog_diff(b->prog, b->len, copy, b->len) == -1);
	CHECK(prog_diff(b->prog, b->len, copy, b->len - 1) == b->len - 1);
	copy[b->len / 2].k ^= 1;
	CHECK(prog_diff(b->prog, b->len, copy, b->len) == b->len / 2);
	free(copy);
	return 0;
}

static int test_unknown_kind(void)
{
	unsigned n = 12345;

	CHECK(pol_syscalls("nothere", &n) == -ENOENT && n == 12345);
	CHECK(pol_load("nothere", &n) == -ENOENT && n == 12345);
	return 0;
}

/* Fork; the child runs fn and exits with its result. Returns the wait
 * status. */
static int in_child(int (*fn)(const void *), const void *arg)
{
	int status;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0)
		_exit(fn(arg));
	if (waitpid(pid, &status, 0) < 0)
		return -1;
	return status;
}

/* An unknown kind fails before any step of the sandbox: still our
 * hostname, no no_new_privs, no filter. (Here, in the initial user
 * namespace, the first step would refuse with EPERM.) */
static int enter_unknown(const void *arg)
{
	char before[64], after[64];
	struct pol_report rep;

	if (gethostname(before, sizeof(before)) < 0)
		return 10;
	if (pol_sandbox_enter("nothere", &rep) != -ENOENT)
		return 11;
	if (gethostname(after, sizeof(after)) < 0 || strcmp(before, after) != 0)
		return 12;
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 0 || prctl(PR_GET_SECCOMP) != 0)
		return 13;
	return 0;
}

static int test_unknown_kind_changes_nothing(void)
{
	int st = in_child(enter_unknown, NULL);

	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "child status 0x%x\n", st);
		return 1;
	}
	return 0;
}

/* In the child: a first filter refuses (EPERM) every seccomp(2) whose
 * flags are not exactly pol_bpf_flags. Then libseccomp's own
 * seccomp_load() of a policy compiled by pol_compile() must get through,
 * and so must pol_load() of the stacked run phase. */
static int flags_check(const void *arg)
{
	scmp_filter_ctx guard, ctx;
	unsigned n;

	/* libseccomp probes the kernel's flags once a process, with seccomp(2)
	 * calls the guard would refuse: compile first, which probes them all
	 * (seccomp_init, and the TSYNC attribute). */
	if (pol_compile("vcpu", &ctx, &n, err, sizeof(err)) < 0 ||
	    seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0) < 0)
		return 20;
	guard = seccomp_init(SCMP_ACT_ALLOW);
	if (!guard ||
	    seccomp_rule_add(guard, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(seccomp), 1,
			     SCMP_A1(SCMP_CMP_NE, pol_bpf_flags)) < 0 ||
	    seccomp_load(guard) < 0)
		return 21;
	seccomp_release(guard);
	/* The guard tells the flags apart: a NULL program fails with EFAULT
	 * once past it, and loads nothing. */
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, pol_bpf_flags, NULL) != -1 ||
	    errno != EFAULT)
		return 22;
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC ^ pol_bpf_flags,
		    NULL) != -1 ||
	    errno != EPERM)
		return 23;
	if (seccomp_load(ctx) < 0)
		return 25; /* libseccomp passed other flags */
	seccomp_release(ctx);
	if (pol_load("vcpu-run", &n) < 0)
		return 26;
	return 0;
}

static int test_flags_are_libseccomps(void)
{
	int st = in_child(flags_check, NULL);

	CHECK(pol_bpf_flags & SECCOMP_FILTER_FLAG_TSYNC);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "flags 0x%x: child status 0x%x\n", pol_bpf_flags, st);
		return 1;
	}
	return 0;
}

/* How a loaded program must treat one process. */
struct confine_case {
	const struct pol_bpf *b;
	enum { CONFINE_EXIT, CONFINE_FORBIDDEN, CONFINE_ERRNO } what;
	int forbidden_nr; /* CONFINE_FORBIDDEN: a call the policy lacks */
};

/* In the child: no core file for the kill, no_new_privs, the embedded
 * program, then the case's call. */
static int confine_child(const void *arg)
{
	const struct confine_case *c = arg;
	struct rlimit no_core = {0, 0};

	if (setrlimit(RLIMIT_CORE, &no_core) < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return 30;
	if (pol_bpf_install(c->b) < 0)
		return 31;
	switch (c->what) {
	case CONFINE_EXIT:
		break;
	case CONFINE_FORBIDDEN:
		syscall(c->forbidden_nr, 0, 0, 0);
		return 32; /* survived; exit_group works, as CONFINE_EXIT shows */
	case CONFINE_ERRNO:
		if (syscall(SYS_openat, AT_FDCWD, "/", O_RDONLY) != -1 || errno != ENOENT)
			return 33;
		break;
	}
	return 0;
}

static const struct pol_rule *find_rule(const struct pol_ruleset *rs, const char *name)
{
	for (size_t i = 0; i < rs->n; i++)
		if (strcmp(rs->rule[i].name, name) == 0)
			return &rs->rule[i];
	return NULL;
}

/* One kind: exit works, a call outside the policy kills with SIGSYS, and
 * a soft-denied openat answers ENOENT. *tested says whether the kind could
 * be tried (a fragment such as nofiles.policy allows no exit_group). */
static int confine_kind(const struct pol_bpf *b, bool *tested)
{
	/* Harmless calls, should the filter let one through. */
	static const char *const candidates[] = {"getcwd", "getppid", "sysinfo", "umask"};
	struct pol_ruleset rs = {0};
	struct confine_case c = {.b = b};
	const struct pol_rule *r;
	int st;

	*tested = false;
	CHECK(pol_parse(pol_blobs, b->name, &rs, err, sizeof(err)) == 0);
	r = find_rule(&rs, "exit_group");
	if (!r || r->f.kind != POL_FILTER_ALLOW) {
		pol_ruleset_free(&rs);
		return 0;
	}
	*tested = true;
	c.forbidden_nr = -1;
	for (size_t i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++)
		if (!find_rule(&rs, candidates[i])) {
			c.forbidden_nr = seccomp_syscall_resolve_name(candidates[i]);
			break;
		}
	r = find_rule(&rs, "openat");
	c.what =
	    r && r->f.kind == POL_FILTER_ERRNO && r->f.err == ENOENT ? CONFINE_ERRNO : CONFINE_EXIT;
	pol_ruleset_free(&rs);
	CHECK(c.forbidden_nr >= 0);

	st = in_child(confine_child, &c);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "%s: exit or errno case: status 0x%x\n", b->name, st);
		return 1;
	}
	c.what = CONFINE_FORBIDDEN;
	st = in_child(confine_child, &c);
	if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGSYS) {
		fprintf(stderr, "%s: syscall %d: status 0x%x, want SIGSYS\n", b->name,
			c.forbidden_nr, st);
		return 1;
	}
	return 0;
}

/* Every kind that can exit, and at least the devices and the vCPU
 * process among them. */
static int test_embedded_confines(void)
{
	static const char *const must[] = {"blk", "net-user", "smc", "vcpu", "vcpu-run"};
	size_t found = 0;

	for (const struct pol_bpf *b = pol_bpfs; b->name; b++) {
		bool tested;

		CHECK(confine_kind(b, &tested) == 0);
		for (size_t i = 0; i < sizeof(must) / sizeof(must[0]); i++)
			if (tested && strcmp(b->name, must[i]) == 0)
				found++;
	}
	CHECK(found == sizeof(must) / sizeof(must[0]));
	return 0;
}

TAP_MAIN(TEST(test_table_matches_blobs), TEST(test_programs_identical), TEST(test_diff_can_fail),
	 TEST(test_unknown_kind), TEST(test_unknown_kind_changes_nothing),
	 TEST(test_flags_are_libseccomps), TEST(test_embedded_confines))
