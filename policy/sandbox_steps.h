/* Internal to the policy library: the steps of pol_sandbox_enter(), one
 * file each. Each returns 0 or -errno and logs its own failure. */
#pragma once

#include "pol.h"

/* fsroot.c: private mounts, pivot_root into an empty read-only tmpfs
 * holding only files[0..nfiles). */
int pol_fs_isolate(const struct pol_root_file *files, unsigned nfiles);

/* privs.c: securebits, capabilities (checked), no_new_privs, dumpable. */
int pol_privs_drop(struct pol_report *rep);
/* Called before pivot_root: libcap-ng reads the kernel's last capability
 * from /proc, which is gone afterwards. */
int pol_privs_prepare(void);

/* What sandbox.c reads before pivot_root, for the default limits. */
struct pol_entry_state {
	int maxfd;	   /* highest descriptor open at entry */
	uint64_t vm_bytes; /* address space mapped at entry */
};

/* rlimits.c: core, descriptors, and the optional ones (struct
 * pol_limits). */
int pol_rlimits_apply(const struct pol_limits *lim, const struct pol_entry_state *at,
		      struct pol_report *rep);
