/* moat-polcheck: compile every policy embedded in this binary, as each
 * child would at start-up, and print what each allows:
 *     vcpu: 57 syscalls (3 answered with an errno)
 * Run by the test suite so that a policy typo fails the build's tests, not
 * a VM start. "moat-polcheck --pfc KIND" prints libseccomp's readable form
 * of one filter. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "pol.h"
#include "rules.h"

static int polcheck_one(const char *kind, bool pfc)
{
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
		printf("%s: %u syscalls (%u answered with an errno)\n", kind, nallow, nerrno);
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
