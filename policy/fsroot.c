/* Leave the host's file system behind: after pol_fs_isolate() the root is
 * a read-only tmpfs, empty but for the files the caller asked for, and no
 * other path resolves to anything. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
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
			  "size=16k,nr_inodes=8,mode=0555") == 0) {
			*where = fs_mountpoints[i];
			return 0;
		}
		err = errno;
	}
	return log_error_errno(err, "sandbox: no directory to mount the new root on: %m");
}

/* Make the directories of path (relative) and write text into it. We are
 * still root of our user namespace with every capability, so the 0555
 * root does not stop us; the remount read-only afterwards does. */
static int fs_write_file(const struct pol_root_file *f)
{
	char dir[PATH_MAX];
	size_t len = strlen(f->text), off = 0;
	int fd;

	if (!f->path[0] || f->path[0] == '/' || strstr(f->path, "..") ||
	    strlen(f->path) >= sizeof(dir))
		return log_error_errno(EINVAL, "sandbox: bad root file path '%s'", f->path);
	for (const char *s = strchr(f->path, '/'); s; s = strchr(s + 1, '/')) {
		memcpy(dir, f->path, (size_t)(s - f->path));
		dir[s - f->path] = '\0';
		if (mkdir(dir, 0555) < 0 && errno != EEXIST)
			return log_error_errno(errno, "sandbox: mkdir %s: %m", dir);
	}
	fd = open(f->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0444);
	if (fd < 0)
		return log_error_errno(errno, "sandbox: creating %s: %m", f->path);
	while (off < len) {
		ssize_t n = write(fd, f->text + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = n < 0 ? errno : ENOSPC;
			close(fd);
			return log_error_errno(e, "sandbox: writing %s: %m", f->path);
		}
		off += (size_t)n;
	}
	close(fd);
	return 0;
}

int pol_fs_isolate(const struct pol_root_file *files, unsigned nfiles)
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
	for (unsigned i = 0; i < nfiles; i++)
		if ((r = fs_write_file(&files[i])) < 0)
			return r;
	if (mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | FS_FLAGS, NULL) < 0)
		return log_error_errno(errno, "sandbox: remounting the root read-only: %m");
	return 0;
}
