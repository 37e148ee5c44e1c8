/* Leave the host's file system behind: after pol_fs_isolate() the root is
 * an empty, read-only tmpfs and no path resolves to anything. */
#include <errno.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "sandbox_steps.h"
#include "util.h"

/* Any existing directory will do as a mount point for the new root: it is
 * only used until pivot_root. */
static const char *const fs_mountpoints[] = {"/tmp", "/mnt", "/run"};

#define FS_FLAGS (MS_NOSUID | MS_NODEV | MS_NOEXEC)

static int fs_mount_tmpfs(const char **where)
{
	int err = ENOENT;

	for (size_t i = 0; i < ARRAY_SIZE(fs_mountpoints); i++) {
		/* 16k and a few inodes: enough for the empty root, too small
		 * to be a scratch space even if it were writable. */
		if (mount("moat", fs_mountpoints[i], "tmpfs", FS_FLAGS,
			  "size=16k,nr_inodes=4,mode=0555") == 0) {
			*where = fs_mountpoints[i];
			return 0;
		}
		err = errno;
	}
	return log_error_errno(err, "sandbox: no directory to mount the new root on: %m");
}

int pol_fs_isolate(void)
{
	const char *dir = NULL;
	int r;

	/* Nothing we do below may propagate back to the monitor's mounts. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return log_error_errno(errno, "sandbox: making mounts private: %m");
	r = fs_mount_tmpfs(&dir);
	if (r < 0)
		return r;
	if (chdir(dir) < 0)
		return log_error_errno(errno, "sandbox: chdir %s: %m", dir);
	/* pivot_root(".", ".") stacks the old root on top of the new one;
	 * detaching "." then drops the old root and every mount below it. */
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return log_error_errno(errno, "sandbox: pivot_root: %m");
	if (umount2(".", MNT_DETACH) < 0)
		return log_error_errno(errno, "sandbox: detaching the old root: %m");
	if (chdir("/") < 0)
		return log_error_errno(errno, "sandbox: chdir /: %m");
	if (mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | FS_FLAGS, NULL) < 0)
		return log_error_errno(errno, "sandbox: remounting the root read-only: %m");
	return 0;
}
