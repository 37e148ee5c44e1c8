/* Loading the seccomp programs made at build time (policy_bpf.h), and the
 * counts that go with them.
 *
 * Why not compile at start-up: parsing a policy and having libseccomp
 * build its program took each child about a millisecond of CPU, at every
 * start and at every device restart under a running guest (issue 15), and
 * the result never changes: the policies are fixed text built into the
 * binary, with no run-time values. The program loaded here is the one
 * libseccomp would have loaded (policy/polbpf.c makes it with pol_compile
 * and libseccomp's own export; tests/policy/test_bpf.c checks it against a
 * fresh compile), made for the build machine's kernel and libseccomp,
 * which is also where moat runs. */
#include <errno.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/seccomp.h>

#include "log.h"
#include "pol.h"
#include "policy_bpf.h"

const struct pol_bpf *pol_bpf_find(const char *kind)
{
	for (const struct pol_bpf *b = pol_bpfs; b->name; b++)
		if (strcmp(b->name, kind) == 0)
			return b;
	return NULL;
}

/* What libseccomp's seccomp_load() does once it has its program, with
 * the attributes of pol_compile(): no prctl(PR_SET_NO_NEW_PRIVS) (the
 * sandbox has set it, and a first filter need not allow the prctl), then
 * seccomp(SECCOMP_SET_MODE_FILTER) with its flags. With TSYNC the kernel
 * answers a thread it could not synchronise with that thread's id (a
 * positive return) or, with TSYNC_ESRCH, with ESRCH; either way the
 * filter is not loaded, and libseccomp says -ESRCH, as we do. */
int pol_bpf_install(const struct pol_bpf *b)
{
	/* not const in struct sock_fprog; the kernel only copies it */
	struct sock_fprog prog = {.len = b->len, .filter = (struct sock_filter *)b->prog};
	long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, pol_bpf_flags, &prog);

	if (r < 0)
		return -errno;
	return r > 0 ? -ESRCH : 0;
}

int pol_syscalls(const char *kind, unsigned *nsyscalls)
{
	const struct pol_bpf *b = pol_bpf_find(kind);

	if (!b)
		return -ENOENT;
	*nsyscalls = b->nsyscalls;
	return 0;
}

int pol_load(const char *kind, unsigned *nsyscalls)
{
	const struct pol_bpf *b = pol_bpf_find(kind);
	int r;

	if (!b)
		return log_error_errno(ENOENT, "policy %s: not built into this binary", kind);
	r = pol_bpf_install(b);
	if (r < 0)
		return log_error_errno(r, "policy %s: loading the seccomp filter: %m", kind);
	if (nsyscalls)
		*nsyscalls = b->nsyscalls;
	return 0;
}
