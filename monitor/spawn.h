/* The monitor's half of the sandbox: start a child binary in fresh
 * namespaces with exactly the descriptors it needs. The child's half
 * (pivot_root, capabilities, seccomp) is policy/pol.h.
 *
 * A child starts as uid and gid 0 of its own user namespace, mapped to one
 * unprivileged host uid and gid (see mon_child_uid), with no supplementary
 * groups, and as pid 1 of its own pid namespace, with new mount, ipc, uts,
 * cgroup and (unless keep_net) network namespaces. Its environment is
 * empty, stdin is /dev/null, stdout and stderr are log_fd (the monitor's
 * stderr when log_fd is 0), the passed descriptors are 3, 4, ... and
 * nothing else is open. It is killed if the monitor dies. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Host ids of children lie in [MOAT_UID_BASE, MOAT_UID_BASE + 2^22): the
 * monitor takes a block of them per VM (uids.h), and no child ever runs as
 * host root (0) or as the overflow id (65534). 0x3F000000 (1056964608) is
 * far above login users (1000-60000) and systemd's dynamic users
 * (61184-65519), and the range stays below 2^31, which some tools treat as
 * signed. systemd-nspawn's automatic container ranges (0x00080000 to
 * 0x6FFFFFFF) could overlap on a host that runs both: build with
 * -DMOAT_UID_BASE=... to move the range. */
#ifndef MOAT_UID_BASE
#define MOAT_UID_BASE 0x3F000000u
#endif

#define MON_SPAWN_MAX_FDS 32

struct mon_spawn_args {
	const char *path;  /* absolute path of the executable (see mon_child_path) */
	char *const *argv; /* NULL-terminated; argv[0] names the process ("moat-vcpu") */
	const int *fds;	   /* become 3, 4, ... in the child, in this order */
	size_t nfds;	   /* at most MON_SPAWN_MAX_FDS */
	bool keep_net;	   /* stay in the host network namespace (slirp net only) */
	int log_fd;	   /* the child's stdout and stderr (the write end of a
			    * pipe the monitor relays); 0: the monitor's stderr */
	int cgroup_fd;	   /* a cgroup v2 directory to start the child in
			    * (CLONE_INTO_CGROUP); 0: the monitor's own */
	uid_t uid;	   /* host uid that root of the child's user namespace maps to */
	gid_t gid;	   /* host gid, likewise */
};

struct mon_child {
	pid_t pid; /* in the monitor's pid namespace */
	int pidfd; /* O_CLOEXEC, owned by the caller: supervise and reap through it */
};

/* Start a sandboxed child. Returns 0 once the child has executed its
 * binary, filling *out; or -errno, with no child left behind (not even a
 * zombie), if anything failed before the exec: -ENOENT for a missing
 * executable, -EACCES or -ENOEXEC for one that cannot run, -EINVAL for bad
 * arguments. The caller's descriptors are left open. Call it from a thread
 * that lives as long as the child: the child's parent-death signal follows
 * the thread that created it. */
int mon_spawn(const struct mon_spawn_args *a, struct mon_child *out);

/* An unprivileged host uid in the range, made from a pid (for tests that
 * spawn without a monitor; the monitor reserves its own: uids.h):
 * MOAT_UID_BASE + pid. 0 or -EINVAL. */
int mon_child_uid(pid_t monitor_pid, uid_t *uid);

/* Absolute path of the sibling executable `name` (no '/') in the directory
 * of the running binary, from /proc/self/exe. 0 or -errno. */
int mon_child_path(const char *name, char *buf, size_t len);
