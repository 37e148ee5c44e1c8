#include "fdutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

int fd_pread_full(int fd, void *buf, size_t len, off_t off)
{
	char *p = buf;

	while (len > 0) {
		ssize_t n = pread(fd, p, len, off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		p += n;
		len -= n;
		off += n;
	}
	return 0;
}

int fd_write_full(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= n;
	}
	return 0;
}

static bool fd_is_kept(int fd, const int *keep, size_t nkeep)
{
	for (size_t i = 0; i < nkeep; i++)
		if (keep[i] == fd)
			return true;
	return false;
}

/* Walks /proc/self/fd rather than closing up to RLIMIT_NOFILE, which may be
 * huge. Must run before any sandboxing hides /proc. */
int fd_close_all_except(const int *keep, size_t nkeep)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int dfd;

	if (!d)
		return -errno;
	dfd = dirfd(d);
	while ((de = readdir(d))) {
		char *end;
		long fd = strtol(de->d_name, &end, 10);
		if (*end || end == de->d_name || fd == dfd)
			continue;
		if (!fd_is_kept((int)fd, keep, nkeep))
			close((int)fd);
	}
	closedir(d);
	return 0;
}

/* Turn flag on or off among the flags fcntl reads with get and writes with
 * set (F_GETFL/F_SETFL or F_GETFD/F_SETFD). 0 or -errno. */
static int fd_set_flag(int fd, int get, int set, int flag, bool on)
{
	int fl = fcntl(fd, get);
	if (fl < 0)
		return -errno;
	fl = on ? (fl | flag) : (fl & ~flag);
	return fcntl(fd, set, fl) < 0 ? -errno : 0;
}

int fd_set_nonblock(int fd, bool on)
{
	return fd_set_flag(fd, F_GETFL, F_SETFL, O_NONBLOCK, on);
}

int fd_set_cloexec(int fd, bool on)
{
	return fd_set_flag(fd, F_GETFD, F_SETFD, FD_CLOEXEC, on);
}
