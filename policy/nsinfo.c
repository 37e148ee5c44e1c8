/* Namespace identities and the one-line form of a sandbox report. Kept apart
 * from the rest of the library so the monitor can use it without the
 * embedded policies. */
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>

#include "pol.h"

const char *const pol_ns_names[POL_NS_COUNT] = {
    [POL_NS_USER] = "user", [POL_NS_MNT] = "mnt", [POL_NS_PID] = "pid",	      [POL_NS_NET] = "net",
    [POL_NS_IPC] = "ipc",   [POL_NS_UTS] = "uts", [POL_NS_CGROUP] = "cgroup",
};

/* Two processes share a namespace exactly when the nsfs inodes behind
 * /proc/PID/ns/NAME are the same (one nsfs instance, so the device is). */
int pol_ns_read(pid_t pid, uint64_t ino[POL_NS_COUNT])
{
	char path[64];
	struct stat st;

	for (int i = 0; i < POL_NS_COUNT; i++) {
		if (pid)
			snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, pol_ns_names[i]);
		else
			snprintf(path, sizeof(path), "/proc/self/ns/%s", pol_ns_names[i]);
		if (stat(path, &st) < 0)
			return -errno;
		ino[i] = st.st_ino;
	}
	return 0;
}

void pol_report_format(const struct pol_report *rep, char *buf, size_t len)
{
	snprintf(buf, len,
		 "kind=%s uid=%u gid=%u groups=%u caps=%s securebits=%#x no_new_privs=%d "
		 "dumpable=%d seccomp=%d syscalls=%u pid1=%d ns=%s nofile=%llu nproc=%llu as=%llu",
		 rep->kind, rep->uid, rep->gid, rep->ngroups, rep->caps_all_zero ? "none" : "SOME",
		 rep->securebits, rep->no_new_privs, rep->dumpable, rep->seccomp_mode,
		 rep->policy_syscalls, rep->pid1, rep->namespaces,
		 (unsigned long long)rep->rlim_nofile, (unsigned long long)rep->rlim_nproc,
		 (unsigned long long)rep->rlim_as);
}
