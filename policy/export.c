/* A libseccomp filter as the BPF program seccomp_load() would hand to the
 * kernel, for the build-time table (polbpf.c) and the test that checks it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rules.h"
#include "util.h"

/* Read all of fd from its start into a new buffer of st_size bytes. */
static int export_read_all(int fd, void **out, size_t *len)
{
	_cleanup_free_ char *buf = NULL;
	struct stat st;
	size_t got = 0;

	if (fstat(fd, &st) < 0)
		return -errno;
	buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!buf)
		return -ENOMEM;
	while (got < (size_t)st.st_size) {
		ssize_t n = pread(fd, buf + got, (size_t)st.st_size - got, (off_t)got);
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		got += (size_t)n;
	}
	*out = TAKE_PTR(buf);
	*len = got;
	return 0;
}

/* libseccomp 2.5 exports only to a descriptor (seccomp_export_bpf_mem is
 * 2.6): a memfd holds the program, which needs no file system and leaves
 * nothing behind. What libseccomp writes is the output of the same
 * internal step seccomp_load() runs before its seccomp(2) (in 2.5.4 both
 * call gen_bpf_generate). */
int pol_export_bpf(scmp_filter_ctx ctx, struct sock_filter **prog, size_t *len)
{
	_cleanup_close_ int fd = memfd_create("moat-polbpf", MFD_CLOEXEC);
	_cleanup_free_ void *buf = NULL;
	size_t n = 0;
	int r;

	if (fd < 0)
		return -errno;
	r = seccomp_export_bpf(ctx, fd);
	if (r < 0)
		return r;
	r = export_read_all(fd, &buf, &n);
	if (r < 0)
		return r;
	if (n == 0 || n % sizeof(struct sock_filter) != 0)
		return -EPROTO; /* not a whole number of instructions */
	*prog = TAKE_PTR(buf);
	*len = n / sizeof(struct sock_filter);
	return 0;
}
