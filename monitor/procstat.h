/* What the monitor sees of a child for itself, from /proc: its host ids,
 * capability sets, no_new_privs, seccomp mode and namespaces. The child's
 * own sandbox report is only ever compared with this (DESIGN.md: the
 * monitor checks, it does not believe). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct mon_procstat {
	uint32_t uid[4], gid[4]; /* real, effective, saved, filesystem (host ids) */
	uint64_t cap_inh, cap_prm, cap_eff, cap_bnd, cap_amb;
	int no_new_privs;    /* -1: line missing */
	int seccomp;	     /* 2: filter, 3: just killed by it; -1: line missing */
	char namespaces[64]; /* "user,mnt,pid,..." that differ from ours */
	bool shares_net;     /* in the monitor's network namespace */
};

/* Read /proc/PID/status of a child into the ids, capabilities,
 * no_new_privs and seccomp fields of st. A zombie still shows them, so
 * this works until the child is reaped. 0 or -errno. */
int mon_procstat_status(pid_t pid, struct mon_procstat *st);

/* Read /proc/PID/ns/ of a child into the namespace fields of st. A zombie
 * has none left (-ENOENT). 0 or -errno. */
int mon_procstat_namespaces(pid_t pid, struct mon_procstat *st);

/* Does st show a confined child: every id the expected host uid and gid,
 * no capability in any set, no_new_privs, seccomp filter, its own user,
 * mount, pid, ipc and uts namespaces, and its own network namespace unless
 * host_net? true, or false with the first failure in why. */
bool mon_procstat_confined(const struct mon_procstat *st, uid_t uid, gid_t gid, bool host_net,
			   char *why, size_t whylen);

/* Bytes of a child's mappings backed by 2 MiB pages, from
 * /proc/PID/smaps_rollup: transparent huge pages of shmem and files
 * (ShmemPmdMapped, FilePmdMapped) and hugetlb pages (Shared_Hugetlb,
 * Private_Hugetlb). For moat-vcpu this is how much of guest RAM KVM
 * reaches through huge pages. 0 or -errno. */
int mon_procstat_huge_bytes(pid_t pid, uint64_t *out);

/* The same from the text of an smaps_rollup (pure; for the unit test). */
uint64_t mon_procstat_huge_parse(const char *text);

/* Is every thread of the child on its way out inside the kernel (PF_EXITING
 * in each /proc/PID/task/TID/stat), so that no code of it runs any more?
 * The child cannot fake that flag: the kernel sets it in do_exit. A child
 * that has closed its channel may take seconds more to be reapable while
 * the kernel tears down its guest RAM and its KVM VM (in a nested or
 * emulated host above all); this tells that from a child that lingers.
 * 1 yes, 0 no (a thread still runs), or -errno (-ESRCH: gone). */
int mon_procstat_exiting(pid_t pid);

/* The flags field of a /proc/.../stat line (pure; for the unit test): 0,
 * or -EINVAL for a line that is not one. The command name is the child's
 * own choice and may hold ')' or spaces: it ends at the last ')'. */
int mon_procstat_stat_flags(const char *text, unsigned long *flags);
