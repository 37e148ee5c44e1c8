#include "resources.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "fdutil.h"
#include "log.h"
#include "slirp_cfg.h"
#include "tap.h"
#include "testhooks.h"
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

void mon_resources_init(struct mon_resources *r)
{
	*r = (struct mon_resources){-1, -1, -1, -1, -1, -1, -1, -1, {0}, {0}, 0};
	for (unsigned i = 0; i < MON_MAX_DISKS; i++)
		r->disk_fd[i] = -1;
	for (unsigned i = 0; i < MON_MAX_NETS; i++)
		r->tap_fd[i] = -1;
}

/* The upstream DNS server for slirp's 10.0.2.3: the first IPv4 nameserver
 * of /etc/resolv.conf as this process sees it, by libslirp's own rule. A
 * test (or a user) names another by running moat in a mount namespace
 * with its own file there. None is not an error: DNS just goes
 * unanswered, as it would under slirp with no resolver. */
static uint32_t read_dns_upstream(void)
{
	char buf[16384];
	uint32_t addr = 0;
	_cleanup_close_ int fd = open("/etc/resolv.conf", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf));

	if (n <= 0 || slirp_cfg_resolv_nameserver(buf, (size_t)n, &addr) < 0) {
		log_debug("no IPv4 nameserver in /etc/resolv.conf: DNS at 10.0.2.3 will not answer");
		return 0;
	}
	return addr;
}

/* A disk image: a regular file (or block device) whose size is a whole
 * number of 512-byte sectors, opened read-write unless ro, and locked
 * (flock: exclusive for read-write, shared for ro) so that two moats, or a
 * moat and a careful tool, never write one image at once. */
static int open_disk(const struct mon_disk *d, int *out, char *err, size_t len)
{
	struct stat st;
	off_t size;
	_cleanup_close_ int fd = open(d->path, (d->ro ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NOCTTY);

	if (fd < 0) {
		snprintf(err, len, "cannot open disk image %s%s: %s", d->path,
			 d->ro ? "" : " for writing", strerror(errno));
		return -EINVAL;
	}
	if (fstat(fd, &st) < 0 || !(S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))) {
		snprintf(err, len, "disk image %s is not a regular file or block device", d->path);
		return -EINVAL;
	}
	size = lseek(fd, 0, SEEK_END);
	if (size <= 0 || size % 512) {
		snprintf(err, len, "disk image %s is %lld bytes, not a whole number of 512-byte "
			 "sectors", d->path, (long long)size);
		return -EINVAL;
	}
	if (flock(fd, (d->ro ? LOCK_SH : LOCK_EX) | LOCK_NB) < 0) {
		snprintf(err, len, "disk image %s is in use by another process (%s)", d->path,
			 errno == EWOULDBLOCK ? "locked" : strerror(errno));
		return -EINVAL;
	}
	*out = TAKE_FD(fd);
	return 0;
}

int mon_open_resources(const struct mon_config *cfg, struct mon_resources *r, char *err,
		       size_t errlen)
{
	int rc;

	r->kvm_fd = open(mon_test_hooks.kvm_path ? mon_test_hooks.kvm_path : "/dev/kvm",
			 O_RDWR | O_CLOEXEC);
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
	for (unsigned i = 0; rc == 0 && i < cfg->ndisks; i++)
		rc = open_disk(&cfg->disks[i], &r->disk_fd[i], err, errlen);
	for (unsigned i = 0; rc == 0 && i < cfg->nnets; i++) {
		if (cfg->nets[i].kind == NETOPT_TAP) {
			r->tap_fd[i] = mon_open_tap(cfg->nets[i].ifname, err, errlen);
			rc = r->tap_fd[i] < 0 ? r->tap_fd[i] : 0;
		} else if (!r->dns_upstream) {
			r->dns_upstream = read_dns_upstream();
		}
	}
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
	for (unsigned i = 0; i < MON_MAX_DISKS; i++)
		close_fd(&r->disk_fd[i]);
	for (unsigned i = 0; i < MON_MAX_NETS; i++)
		close_fd(&r->tap_fd[i]);
	close_fd(&r->console_out);
	close_fd(&r->console_in);
}
