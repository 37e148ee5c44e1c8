#pragma once
#include <signal.h>
#include <stddef.h>
#include <sys/types.h>

/* Find a child executable: beside this binary when installed side by side,
 * in the build tree (../BUILDDIR/NAME relative to monitor/) when run from a
 * build, else in libexecdir. Never through $PATH. 0 or -ENOENT. */
int mon_find_child_exe(const char *name, const char *builddir, char *out, size_t len);

/* Say how a child ended, from its waitid() siginfo: "exited with status
 * N", "was killed by signal KILL", or for a seccomp kill "was killed by
 * its seccomp policy (syscall socket, 41)", the syscall read back from the
 * kernel's audit record in /dev/kmsg. */
void mon_describe_death(const siginfo_t *si, pid_t pid, char *buf, size_t len);
