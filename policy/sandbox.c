/* pol_sandbox_enter(): the order of the steps is the point of this file
 * (DESIGN.md, "Sandbox of every child"); each step lives in its own file. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "pol.h"
#include "policy_bpf.h"
#include "sandbox_steps.h"
#include "util.h"

/* Sanitizer builds (-Db_sanitize=address): LeakSanitizer checks at exit
 * from a ptrace()ing helper, which the sandbox rightly forbids, and
 * ASAN_OPTIONS cannot reach a child (its environment is empty). So every
 * child keeps AddressSanitizer but not the leak check. (The runtime's own
 * definition is weak: this one wins.) */
#if defined(__SANITIZE_ADDRESS__)
#define POL_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define POL_ASAN 1
#endif
#endif
#ifdef POL_ASAN
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "detect_leaks=0";
}
#endif

/* The mount steps would change the host if we were not in a user (and so
 * mount) namespace of our own: refuse when uid_map is the identity map of
 * the initial user namespace. */
static int sandbox_check_userns(void)
{
	_cleanup_close_ int fd = open("/proc/self/uid_map", O_RDONLY | O_CLOEXEC);
	unsigned long inside, outside, count;
	char buf[256];
	ssize_t n;

	if (fd < 0)
		return log_error_errno(errno, "sandbox: reading uid_map: %m");
	n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0)
		return log_error_errno(errno, "sandbox: reading uid_map: %m");
	buf[n] = '\0';
	if (sscanf(buf, "%lu %lu %lu", &inside, &outside, &count) == 3 && inside == 0 &&
	    outside == 0 && count == 4294967295ul)
		return log_error_errno(EPERM, "sandbox: in the initial user namespace; "
					      "children must be started by the monitor");
	return 0;
}

/* A namespace is ours when our user namespace owns it (NS_GET_USERNS):
 * it was created with or after that user namespace. One owned by an
 * ancestor (the host's network namespace of the slirp process) gives
 * EPERM, as it is out of our scope. */
static bool sandbox_ns_owned(const char *name, ino_t userns)
{
	char path[64];
	struct stat st;
	int fd, ufd;
	bool owned;

	snprintf(path, sizeof(path), "/proc/self/ns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ufd = ioctl(fd, NS_GET_USERNS);
	close(fd);
	if (ufd < 0)
		return false;
	owned = fstat(ufd, &st) == 0 && st.st_ino == userns;
	close(ufd);
	return owned;
}

static void sandbox_ns_list(struct pol_report *rep)
{
	size_t len = sizeof(rep->namespaces);
	int n = snprintf(rep->namespaces, len, "user");

	for (int i = 0; i < POL_NS_COUNT; i++) {
		if (i == POL_NS_USER ||
		    !sandbox_ns_owned(pol_ns_names[i], rep->ns_ino[POL_NS_USER]))
			continue;
		if (n >= 0 && (size_t)n < len)
			n += snprintf(rep->namespaces + n, len - n, ",%s", pol_ns_names[i]);
	}
}

/* Highest open descriptor, for the default RLIMIT_NOFILE. */
static int sandbox_max_fd(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int max = 2;

	if (!d)
		return log_error_errno(errno, "sandbox: listing descriptors: %m");
	while ((de = readdir(d))) {
		char *end;
		long fd = strtol(de->d_name, &end, 10);
		/* not the descriptor that lists them */
		if (!*end && end != de->d_name && fd > max && fd < 1 << 20 && fd != dirfd(d))
			max = (int)fd;
	}
	closedir(d);
	return max;
}

/* Bytes of address space mapped now: the first field of statm, in pages. */
static int sandbox_vm_bytes(uint64_t *out)
{
	_cleanup_close_ int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
	unsigned long long pages;
	char buf[128];
	ssize_t n;

	if (fd < 0)
		return log_error_errno(errno, "sandbox: reading statm: %m");
	n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0)
		return log_error_errno(errno, "sandbox: reading statm: %m");
	buf[n] = '\0';
	if (sscanf(buf, "%llu", &pages) != 1)
		return log_error_errno(EINVAL, "sandbox: statm says '%s'", buf);
	*out = (uint64_t)pages * (uint64_t)sysconf(_SC_PAGESIZE);
	return 0;
}

/* Everything that needs /proc, which is gone after pivot_root. */
static int sandbox_preflight(struct pol_report *rep, struct pol_entry_state *at)
{
	int r;

	r = sandbox_check_userns();
	if (r < 0)
		return r;
	r = pol_ns_read(0, rep->ns_ino);
	if (r < 0)
		return log_error_errno(r, "sandbox: reading our namespaces: %m");
	sandbox_ns_list(rep);
	rep->pid1 = getpid() == 1;
	at->maxfd = sandbox_max_fd();
	if (at->maxfd < 0)
		return at->maxfd;
	r = sandbox_vm_bytes(&at->vm_bytes);
	if (r < 0)
		return r;
	return pol_privs_prepare();
}

/* Everything after the policy is found, up to loading it. */
static int sandbox_steps(const struct pol_options *o, struct pol_report *rep)
{
	struct pol_entry_state at = {.maxfd = 2};
	int r;

	r = sandbox_preflight(rep, &at);
	if (r < 0)
		return r;
	r = pol_fs_isolate(o->files, o->nfiles);
	if (r < 0)
		return r;
	/* Fails unless the uts namespace is ours; names the sandbox in logs. */
	if (sethostname("moat", 4) < 0)
		return log_error_errno(errno, "sandbox: sethostname: %m");
	r = pol_privs_drop(rep);
	if (r < 0)
		return r;
	return pol_rlimits_apply(o->limits, &at, rep);
}

int pol_sandbox_enter_opts(const char *kind, const struct pol_options *opts, struct pol_report *rep)
{
	static const struct pol_limits defaults;
	struct pol_options o = opts ? *opts : (struct pol_options){0};
	const struct pol_bpf *filter;
	int r;

	if (!o.limits)
		o.limits = &defaults;
	if (o.nfiles > POL_MAX_ROOT_FILES || (o.nfiles && !o.files))
		return log_error_errno(EINVAL, "sandbox: %u root files", o.nfiles);
	memset(rep, 0, sizeof(*rep));
	snprintf(rep->kind, sizeof(rep->kind), "%s", kind);
	/* First, so that a missing policy fails before anything has changed.
	 * The program was made at build time (load.c says why); a policy that
	 * does not compile has failed the build. */
	filter = pol_bpf_find(kind);
	if (!filter)
		return log_error_errno(ENOENT, "policy %s: not built into this binary", kind);
	rep->policy_syscalls = filter->nsyscalls;

	r = sandbox_steps(&o, rep);
	if (r < 0)
		return r;
	r = pol_bpf_install(filter);
	if (r < 0)
		return log_error_errno(r, "sandbox: loading the seccomp filter: %m");
	rep->seccomp_mode = 2; /* SECCOMP_MODE_FILTER; prctl may not be asked now */
	return 0;
}

int pol_sandbox_enter_limits(const char *kind, const struct pol_limits *lim, struct pol_report *rep)
{
	struct pol_options o = {.limits = lim};

	return pol_sandbox_enter_opts(kind, &o, rep);
}

int pol_sandbox_enter(const char *kind, struct pol_report *rep)
{
	return pol_sandbox_enter_opts(kind, NULL, rep);
}
