#include "paths.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "testhooks.h"
#include "kmsg.h"

/* Is dir/name an executable? The path is left in out. */
static bool exe_at(char *out, size_t len, const char *dir, const char *name)
{
	int n = snprintf(out, len, "%s/%s", dir, name);

	return n > 0 && (size_t)n < len && access(out, X_OK) == 0;
}

struct mon_test_hooks mon_test_hooks;

int mon_find_child_exe(const char *name, const char *builddir, char *out, size_t len)
{
	char self[PATH_MAX], dir[PATH_MAX + 64];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (mon_test_hooks.child_dir)
		return exe_at(out, len, mon_test_hooks.child_dir, name) ? 0 : -ENOENT;
	if (n > 0) {
		self[n] = 0;
		char *slash = strrchr(self, '/');
		if (slash) {
			*slash = 0;
			if (exe_at(out, len, self, name))
				return 0;
			snprintf(dir, sizeof(dir), "%s/../%s", self, builddir);
			if (exe_at(out, len, dir, name))
				return 0;
		}
	}
	return exe_at(out, len, MOAT_LIBEXECDIR, name) ? 0 : -ENOENT;
}

void mon_describe_death(const siginfo_t *si, pid_t pid, char *buf, size_t len)
{
	char sys[64];

	if (si->si_code == CLD_EXITED) {
		snprintf(buf, len, "exited with status %d", si->si_status);
		return;
	}
	if (si->si_status == SIGSYS && mon_kmsg_seccomp_syscall(pid, sys, sizeof(sys)) == 0) {
		snprintf(buf, len, "was killed by its seccomp policy (syscall %s)", sys);
		return;
	}
	snprintf(buf, len, "was killed by signal %s%s", sigabbrev_np(si->si_status) ?: "?",
		 si->si_status == SIGSYS ? " (its seccomp policy)" : "");
}
