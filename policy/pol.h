/* The child's half of the sandbox (DESIGN.md, "Sandbox of every child"):
 * enter it, and load the seccomp policies embedded in the binary (compiled
 * at build time: policy_bpf.h).
 * The monitor's half, which creates the namespaces, is monitor/spawn.h.
 *
 * Policy files (policy/NAME.policy) are crosvm-style, one syscall a line:
 *     # why the calls below are needed
 *     @include common.policy
 *     read: 1                                      allow
 *     openat: return ENOENT                        fail with this errno
 *     ioctl: arg1 == KVM_RUN || arg1 == KVM_IRQ_LINE
 *     mmap: arg2 in ~PROT_EXEC                     no bit outside the mask
 *     clone: arg0 & CLONE_THREAD|CLONE_VM          all these bits set
 *     futex: arg1 >= 1 && arg2 != 0x10             AND binds tighter than OR
 * Comparisons: == != < <= > >= (unsigned, 64-bit), "&", "in". Values are
 * numbers (decimal, 0x hex, 0 octal) or names from policy/constants.c,
 * OR-ed with "|", each optionally inverted with "~". Each argument may be
 * compared once per "&&" group (a libseccomp limit). A syscall may appear on
 * several lines only if each line filters arguments: the lines are OR-ed, so
 * each group of ioctls can carry its own reason. Anything unknown or
 * malformed is an error naming file:line, and the build fails (moat-polbpf).
 * Everything not allowed kills the process (logged by the kernel). */
#pragma once

#include <seccomp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

enum pol_ns {
	POL_NS_USER,
	POL_NS_MNT,
	POL_NS_PID,
	POL_NS_NET,
	POL_NS_IPC,
	POL_NS_UTS,
	POL_NS_CGROUP,
	POL_NS_COUNT
};

/* Names as in /proc/PID/ns/: "user", "mnt", ... */
extern const char *const pol_ns_names[POL_NS_COUNT];

/* Resource limits, per child kind (each kind's main passes its own; see
 * docs in devproc/common/devproc.h and vcpu/main.c). 0 in a field picks
 * the default given there. Soft and hard limits are set alike, and only
 * ever lowered.
 *
 * Why per kind: a compromised child should fail with EAGAIN, EMFILE or
 * ENOMEM inside a limit sized for its own work, not consume the host's
 * threads, descriptors or memory. The VM's cgroup (pids.max, memory.max)
 * bounds the children together where there is one; these hold per process
 * and without it. */
struct pol_limits {
	/* RLIMIT_NOFILE. Default: highest descriptor open at entry + 1 +
	 * nofile_extra. */
	rlim_t nofile;
	/* Descriptors the process opens after entry (the default limit's
	 * room). Default: POL_NOFILE_SLACK. */
	rlim_t nofile_extra;
	/* RLIMIT_NPROC: how many tasks (threads, the main one included) the
	 * process may have. The kernel counts the tasks of our uid in our own
	 * user namespace, which holds only this process (monitor/spawn.h
	 * makes one per child), so this is the process's thread count; a
	 * pthread_create past it fails with EAGAIN. New processes are
	 * impossible anyway: no policy allows clone without CLONE_THREAD,
	 * fork or execve. Default: leave it (inherited from the monitor). */
	rlim_t nproc;
	/* RLIMIT_AS: the address space mapped at entry (/proc/self/statm,
	 * which already holds the program, its libraries and a sanitizer's
	 * shadow) plus this much. Only for a process that maps no guest RAM
	 * (moat-smc): the others map a memfd of any size, and their
	 * reservations (8 MiB of stack and a 64 MiB malloc arena per thread,
	 * twice that while an arena is made) would make "guest RAM plus a
	 * margin" either too loose to bound anything or a limit that breaks
	 * on a host with more CPUs; their memory is bounded by the VM's
	 * cgroup (memory.max) instead. Default: leave it. */
	rlim_t as_extra;
	/* RLIMIT_FSIZE. Default: leave it. stderr may be a regular file (the
	 * monitor's log redirected), which a limit of 0 would turn into
	 * SIGXFSZ at the first log line; and the disk process writes images. */
	rlim_t fsize;
};
#define POL_NOFILE_SLACK 64

/* What the process ended up with, for the monitor's audit trail. Plain
 * fixed-size fields: the caller translates it into its message. */
struct pol_report {
	char kind[16];	    /* policy kind: "vcpu" */
	uint32_t uid, gid;  /* real = effective = saved, inside the user
			     * namespace (0); the host view is /proc/PID/status */
	uint32_t ngroups;   /* supplementary groups left: 0 */
	bool caps_all_zero; /* effective, permitted, inheritable, bounding and
			     * ambient sets all empty, checked with capget/prctl */
	bool no_new_privs;
	bool dumpable;
	bool pid1;		  /* pid 1 of its own pid namespace */
	uint32_t securebits;	  /* PR_GET_SECUREBITS after locking */
	int32_t seccomp_mode;	  /* 2 (SECCOMP_MODE_FILTER) once loaded */
	uint32_t policy_syscalls; /* syscalls the filter allows (some only with
				   * certain arguments) */
	/* Namespaces of our own: "user" (not the initial one) and each of
	 * mnt,pid,net,ipc,uts,cgroup owned by our user namespace, which is to
	 * say created with it. "user,mnt,pid,net,ipc,uts,cgroup" in full. */
	char namespaces[64];
	uint64_t ns_ino[POL_NS_COUNT]; /* namespace inode numbers: compare them
					* with the monitor's own (pol_ns_read) */
	uint64_t rlim_nofile, rlim_nproc, rlim_fsize, rlim_core; /* hard limits */
	uint64_t rlim_as; /* hard limit; RLIM_INFINITY when left */
};

/* Enter the sandbox; called early in a child's main, after it has received
 * its configuration and before it touches any guest-controlled byte. The
 * child must be in fresh namespaces as made by mon_spawn(); it refuses (-EPERM)
 * to run in the initial user namespace, where the mount steps would change
 * the host. In order: find the program of the policy `kind` (compiled at
 * build time, policy_bpf.h; a kind not built in fails here), make mounts
 * private, pivot_root into an empty read-only tmpfs, set hostname "moat",
 * lock securebits, drop every capability, no_new_privs, not dumpable,
 * rlimits, load the filter. On any failure it logs and returns -errno, and
 * the caller must exit: a child never runs half-confined. */
int pol_sandbox_enter(const char *kind, struct pol_report *rep);

/* The same with explicit resource limits (NULL: the defaults). */
int pol_sandbox_enter_limits(const char *kind, const struct pol_limits *lim,
			     struct pol_report *rep);

/* A file written into the new, empty root before it is made read-only:
 * moat-net's etc/resolv.conf, the one path libslirp reads its DNS server
 * from. path is relative ("etc/resolv.conf"); missing directories are
 * made. The file is read-only and holds text and nothing else. */
struct pol_root_file {
	const char *path;
	const char *text;
};
#define POL_MAX_ROOT_FILES 2

struct pol_options {
	const struct pol_limits *limits; /* NULL: the defaults */
	const struct pol_root_file *files;
	unsigned nfiles; /* at most POL_MAX_ROOT_FILES */
};

/* The same with every option (NULL: none). */
int pol_sandbox_enter_opts(const char *kind, const struct pol_options *opts,
			   struct pol_report *rep);

/* Build the filter of the embedded policy `kind` with libseccomp, without
 * loading it: for the build step that makes the children's programs
 * (polbpf.c), moat-polcheck and the tests. On success *out owns a context
 * (seccomp_release() it) and *nsyscalls counts the allowed syscalls; on
 * failure err holds "file:line: why". */
int pol_compile(const char *kind, scmp_filter_ctx *out, unsigned *nsyscalls, char *err,
		size_t errlen);

/* How many syscalls the built-in policy `kind` allows, as pol_compile()
 * counts them (from the table made at build time). 0, or -ENOENT for a
 * kind not built in; not logged. */
int pol_syscalls(const char *kind, unsigned *nsyscalls);

/* Load the policy `kind`, compiled at build time, on every thread of the
 * process (TSYNC), on top of any filter already there: filters stack, and
 * a call must pass all of them. no_new_privs must be set already (it is
 * inside the sandbox), and the filter in place must allow seccomp(2) with
 * SECCOMP_SET_MODE_FILTER and the flags SECCOMP_FILTER_FLAG_TSYNC and
 * SECCOMP_FILTER_FLAG_TSYNC_ESRCH (libseccomp's choice, which the load
 * keeps). *nsyscalls (may be NULL) as pol_syscalls(). 0 or -errno,
 * logged. */
int pol_load(const char *kind, unsigned *nsyscalls);

/* Inode numbers of the namespaces of process pid (0: ourselves), from
 * /proc/PID/ns/. 0 or -errno. */
int pol_ns_read(pid_t pid, uint64_t ino[POL_NS_COUNT]);

/* One line for logs and the audit trail. */
void pol_report_format(const struct pol_report *rep, char *buf, size_t len);
