/* moat-polcheck: compile every policy embedded in this binary, as the
 * build does for the children's programs (polbpf.c), and print what each
 * allows:
 *     vcpu: 57 syscalls (3 answered with an errno)
 * A policy that is a second phase, stacked on another (moat-vcpu's run
 * phase), says so:
 *     vcpu-run: 23 syscalls (0 answered with an errno), stacked on vcpu
 * Run by the test suite so that a policy typo fails the build's tests, not
 * a VM start. "moat-polcheck --pfc KIND" prints libseccomp's readable form
 * of one filter. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "pol.h"
#include "rules.h"

/* Second filters, loaded on top of the first once set-up is over: the
 * process then has only what both allow. */
static const struct {
	const char *kind, *on;
} stacked[] = {
    {"vcpu-run", "vcpu"},	  /* moat-vcpu once its vCPUs run (vcpu/vm.c) */
    {"vcpu-run-disp", "vcpu"}, /* the same, with a display */
};

static const char *stacked_on(const char *kind)
{
	for (size_t i = 0; i < sizeof(stacked) / sizeof(stacked[0]); i++)
		if (strcmp(stacked[i].kind, kind) == 0)
			return stacked[i].on;
	return NULL;
}

static int polcheck_one(const char *kind, bool pfc)
{
	const char *on = stacked_on(kind);
	scmp_filter_ctx ctx;
	unsigned nallow, nerrno;
	char err[256];
	int r;

	r = pol_compile_table(pol_blobs, kind, &ctx, &nallow, &nerrno, err, sizeof(err));
	if (r < 0) {
		log_error("%s", err);
		return r;
	}
	if (pfc) {
		fflush(stdout);
		r = seccomp_export_pfc(ctx, STDOUT_FILENO);
	} else {
		printf("%s: %u syscalls (%u answered with an errno)%s%s\n", kind, nallow, nerrno,
		       on ? ", stacked on " : "", on ? on : "");
	}
	seccomp_release(ctx);
	return r;
}

int main(int argc, char **argv)
{
	int failed = 0;

	log_set_prefix("moat-polcheck");
	if (argc == 3 && strcmp(argv[1], "--pfc") == 0)
		return polcheck_one(argv[2], true) < 0;
	if (argc != 1) {
		fprintf(stderr, "usage: moat-polcheck [--pfc KIND]\n");
		return 2;
	}
	for (const struct pol_blob *b = pol_blobs; b->name; b++)
		if (polcheck_one(b->name, false) < 0)
			failed++;
	return failed ? 1 : 0;
}
