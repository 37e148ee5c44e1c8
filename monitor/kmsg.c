#include "kmsg.h"

#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Pull "key=NUMBER" out of one audit record; -1 if absent. */
static long field(const char *rec, const char *key)
{
	const char *p = rec;
	size_t kl = strlen(key);

	while ((p = strstr(p, key))) {
		if ((p == rec || p[-1] == ' ') && p[kl] == '=')
			return strtol(p + kl + 1, NULL, 10);
		p += kl;
	}
	return -1;
}

int mon_kmsg_seccomp_syscall(pid_t pid, char *out, size_t len)
{
	char rec[2048];
	long nr = -1;
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	/* Each read returns one record; read them all, keep the last match.
	 * The record was written before the kill, so it is already there. */
	while ((n = read(fd, rec, sizeof(rec) - 1)) != 0) {
		if (n < 0) {
			if (errno == EPIPE) /* overwritten while reading: go on */
				continue;
			break;
		}
		rec[n] = 0;
		if (!strstr(rec, "type=1326") || field(rec, "pid") != pid)
			continue;
		nr = field(rec, "syscall");
	}
	close(fd);
	if (nr < 0)
		return -ENOENT;
	char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, (int)nr);
	snprintf(out, len, "%s, %ld", name ? name : "?", nr);
	free(name);
	return 0;
}
