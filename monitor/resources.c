#include "resources.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "fdutil.h"
#include "util.h"

uint64_t mon_host_mem_bytes(void)
{
	struct sysinfo si;

	if (sysinfo(&si) < 0)
		return 0;
	return ((uint64_t)si.totalram + si.totalswap) * si.mem_unit;
}

static int open_file(const char *what, const char *path, int *out, char *err, size_t len)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0) {
		snprintf(err, len, "cannot open %s %s: %s", what, path, strerror(errno));
		return -errno;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		snprintf(err, len, "%s %s is not a regular file", what, path);
		return -EINVAL;
	}
	if (st.st_size == 0) {
		close(fd);
		snprintf(err, len, "%s %s is empty", what, path);
		return -EINVAL;
	}
	*out = fd;
	return 0;
}

/* Guest RAM: one memfd, sized once and sealed so no process holding it can
 * shrink it under another's mapping (SIGBUS) or grow it. */
static int create_guest_ram(uint64_t bytes, int *out, char *err, size_t len)
{
	_cleanup_close_ int fd = memfd_create("moat-guest-ram", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd < 0 || ftruncate(fd, bytes) < 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0) {
		snprintf(err, len, "cannot create %llu MiB of guest RAM: %s",
			 (unsigned long long)(bytes >> 20), strerror(errno));
		return -errno;
	}
	*out = TAKE_FD(fd);
	return 0;
}

static int open_serial(const struct mon_config *cfg, struct mon_resources *r, char *err,
		       size_t len)
{
	int p[2];

	switch (cfg->serial) {
	case MON_SERIAL_NONE:
		return 0;
	case MON_SERIAL_FILE:
		r->serial_out = open(cfg->serial_path,
				     O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0600);
		if (r->serial_out < 0) {
			snprintf(err, len, "cannot open serial file %s: %s", cfg->serial_path,
				 strerror(errno));
			return -errno;
		}
		return 0;
	case MON_SERIAL_STDIO:
		/* Pipes, not the terminal itself: a sandboxed child must never
		 * hold the user's tty (TIOCSTI could type into the shell). */
		if (pipe2(p, O_CLOEXEC) < 0)
			return -errno;
		r->console_out = p[0];
		r->serial_out = p[1];
		if (pipe2(p, O_CLOEXEC) < 0)
			return -errno;
		r->serial_in = p[0];
		r->console_in = p[1];
		fd_set_nonblock(r->console_out, true);
		fd_set_nonblock(r->serial_in, true);
		return 0;
	}
	return -EINVAL;
}

int mon_open_resources(const struct mon_config *cfg, struct mon_resources *r, char *err,
		       size_t errlen)
{
	int rc;

	r->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (r->kvm_fd < 0) {
		snprintf(err, errlen, "cannot open /dev/kvm: %s%s", strerror(errno),
			 errno == EACCES ? " (are you in the kvm group?)"
			 : errno == ENOENT ? " (is the kvm module loaded?)" : "");
		return -errno;
	}
	rc = open_file("kernel", cfg->kernel, &r->kernel_fd, err, errlen);
	if (rc == 0 && cfg->initrd)
		rc = open_file("initrd", cfg->initrd, &r->initrd_fd, err, errlen);
	if (rc == 0)
		rc = create_guest_ram(cfg->mem_bytes, &r->mem_fd, err, errlen);
	if (rc == 0)
		rc = open_serial(cfg, r, err, errlen);
	return rc;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void mon_close_child_ends(struct mon_resources *r)
{
	close_fd(&r->kvm_fd);
	close_fd(&r->mem_fd);
	close_fd(&r->kernel_fd);
	close_fd(&r->initrd_fd);
	close_fd(&r->serial_out);
	close_fd(&r->serial_in);
}

void mon_close_resources(struct mon_resources *r)
{
	mon_close_child_ends(r);
	close_fd(&r->console_out);
	close_fd(&r->console_in);
}
