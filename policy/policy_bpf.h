/* The seccomp programs of the embedded policies, made at build time
 * (policy/polbpf.c writes the table) so that a child loads its filter
 * without parsing its policy or running libseccomp: that work was part of
 * every child's start-up and of every device restart under a running
 * guest (issue 15). Each program is the one libseccomp would have loaded
 * for the same policy text on the build machine (its kernel, its
 * libseccomp); tests/policy/test_bpf.c checks that they are identical. */
#pragma once

#include <linux/filter.h>

struct pol_bpf {
	const char *name; /* as in policy_blob.h: "vcpu" */
	const struct sock_filter *prog;
	unsigned short len; /* instructions, as struct sock_fprog counts them */
	unsigned nsyscalls; /* what pol_compile() counts: the allowed syscalls */
};

/* Defined by the generated policy_bpf.c linked into each binary beside its
 * pol_blobs, one entry per blob and in the same order; ends with an entry
 * whose name is NULL. */
extern const struct pol_bpf pol_bpfs[];

/* The flags of seccomp(SECCOMP_SET_MODE_FILTER) that libseccomp's
 * seccomp_load() passes for these filters (TSYNC, with TSYNC_ESRCH where
 * the build machine's kernel has it), also from the generated file. */
extern const unsigned pol_bpf_flags;

/* The entry of `kind` in pol_bpfs, or NULL (load.c). */
const struct pol_bpf *pol_bpf_find(const char *kind);

/* Load b on every thread of the process with pol_bpf_flags. no_new_privs
 * must be set. 0 or -errno, not logged (load.c). */
int pol_bpf_install(const struct pol_bpf *b);
