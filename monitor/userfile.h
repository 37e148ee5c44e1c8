/* Opening a file the user named (kernel, initrd, OSK file, disk image) in
 * the privileged monitor, in two steps so that nothing of the file is
 * used before its type is known (docs/decisions/0012):
 *
 *   1. mon_user_path(): an O_PATH descriptor. It follows symlinks, but
 *      opens nothing: no device driver's open() runs (a watchdog is not
 *      armed, a tape not rewound), a FIFO does not block, a terminal does
 *      not become ours. The caller checks the type in the stat it fills.
 *   2. mon_user_reopen(): the file itself, through /proc/self/fd/N, so it
 *      is the very inode that was checked, whatever happened to the path
 *      in between; O_NONBLOCK | O_NOCTTY | O_CLOEXEC, and O_NONBLOCK
 *      cleared again once open (the children do plain blocking I/O).
 *
 * Header-only, like errline.h: the option parser, which reads the OSK
 * file, is linked alone into its unit test. */
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errline.h"

/* What a non-regular file is, for the user's line. */
static inline const char *mon_file_kind(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG:
		return "a regular file";
	case S_IFDIR:
		return "a directory";
	case S_IFIFO:
		return "a FIFO";
	case S_IFSOCK:
		return "a socket";
	case S_IFCHR:
		return "a character device";
	case S_IFBLK:
		return "a block device";
	}
	return "not a file";
}

/* Step 1: an O_PATH descriptor for path (what names it for the user:
 * "kernel", "disk image") and its stat. Returns the descriptor, or
 * -EINVAL with one line in err. */
static inline int mon_user_path(const char *what, const char *path, struct stat *st, char *err,
				size_t errlen)
{
	int fd = open(path, O_PATH | O_CLOEXEC);

	if (fd < 0)
		return err_line(err, errlen, "cannot open %s %s: %s", what, path, strerror(errno));
	if (fstat(fd, st) < 0) {
		int e = errno;
		close(fd);
		return err_line(err, errlen, "cannot open %s %s: %s", what, path, strerror(e));
	}
	return fd;
}

/* Step 2: open the inode behind the O_PATH descriptor pathfd with flags
 * (O_RDONLY, O_RDWR, perhaps O_EXCL), and check that it is still the
 * inode of st. Returns the descriptor (blocking, close-on-exec), or
 * -EINVAL with one line in err. pathfd stays the caller's. */
static inline int mon_user_reopen(int pathfd, const struct stat *st, int flags, const char *what,
				  const char *path, char *err, size_t errlen)
{
	char proc[32];
	struct stat now;
	int fd, fl, e;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", pathfd);
	fd = open(proc, flags | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		e = errno;
		return err_line(err, errlen, "cannot open %s %s%s: %s%s", what, path,
				(flags & O_ACCMODE) == O_RDWR ? " for writing" : "", strerror(e),
				e == ENOENT && access("/proc/self/fd", F_OK) != 0
				    ? " (moat needs /proc mounted)"
				    : "");
	}
	if (fstat(fd, &now) < 0 || now.st_dev != st->st_dev || now.st_ino != st->st_ino ||
	    (now.st_mode & S_IFMT) != (st->st_mode & S_IFMT)) {
		close(fd);
		return err_line(err, errlen, "%s %s changed while moat opened it", what, path);
	}
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
		e = errno;
		close(fd);
		return err_line(err, errlen, "cannot open %s %s: %s", what, path, strerror(e));
	}
	return fd;
}

/* Both steps for a file that must be regular (kernel, initrd, OSK file),
 * opened read-only. Returns the descriptor or -EINVAL with a line in err. */
static inline int mon_open_regular(const char *what, const char *path, char *err, size_t errlen)
{
	struct stat st;
	int pfd = mon_user_path(what, path, &st, err, errlen), fd;

	if (pfd < 0)
		return pfd;
	if (!S_ISREG(st.st_mode)) {
		close(pfd);
		return err_line(err, errlen, "%s %s is %s, not a regular file", what, path,
				mon_file_kind(st.st_mode));
	}
	fd = mon_user_reopen(pfd, &st, O_RDONLY, what, path, err, errlen);
	close(pfd);
	return fd;
}
