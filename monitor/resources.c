#include "resources.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fs.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "fdutil.h"
#include "firmware.h"
#include "guest_ram.h"
#include "image_probe.h"
#include "log.h"
#include "slirp_cfg.h"
#include "tap.h"
#include "testhooks.h"
#include "userfile.h"
#include "util.h"

uint64_t mon_host_mem_bytes(void)
{
	struct sysinfo si;

	if (sysinfo(&si) < 0)
		return 0;
	return ((uint64_t)si.totalram + si.totalswap) * si.mem_unit;
}

/* -v: name the file actually used when the path was a symlink (or had
 * one on the way), since moat follows them (docs/decisions/0012). */
static void log_resolved(const char *what, const char *path, int fd)
{
	char proc[32], real[4096];
	ssize_t n;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	n = readlink(proc, real, sizeof(real) - 1);
	if (n <= 0)
		return;
	real[n] = 0;
	if (strcmp(real, path) != 0)
		log_debug("%s %s is %s", what, path, real);
}

/* The kernel or the initrd: a regular file, not empty, read-only. */
static int open_file(const char *what, const char *path, int *out, char *err, size_t len)
{
	struct stat st;
	int fd = mon_open_regular(what, path, err, len);

	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0 || st.st_size == 0) {
		close(fd);
		return err_line(err, len, "%s %s is empty", what, path);
	}
	log_resolved(what, path, fd);
	*out = fd;
	return 0;
}

static int open_guest_ram(const struct mon_config *cfg, struct mon_resources *r, char *err,
			  size_t len)
{
	struct mon_guest_ram ram;
	int rc =
	    mon_guest_ram_create(cfg->mem_bytes, cfg->mem_huge, cfg->mem_prealloc, &ram, err, len);

	if (rc < 0)
		return rc;
	r->mem_fd = ram.fd;
	r->ram_backing = ram.backing;
	log_debug("guest RAM: %llu MiB, %s pages%s (%s)",
		  (unsigned long long)(cfg->mem_bytes >> 20), mon_ram_backing_name(ram.backing),
		  ram.prealloc ? ", all allocated" : "", ram.why);
	return 0;
}

static int open_serial(const struct mon_config *cfg, struct mon_resources *r, char *err, size_t len)
{
	int p[2];

	switch (cfg->serial) {
	case MON_SERIAL_NONE:
		return 0;
	case MON_SERIAL_FILE:
		/* O_NONBLOCK only so that a FIFO without a reader is refused
		 * (ENXIO) rather than hanging the monitor in open(). */
		r->serial_out =
		    open(cfg->serial_path,
			 O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0600);
		if (r->serial_out < 0) {
			int e = errno;
			snprintf(err, len, "cannot open serial file %s: %s%s", cfg->serial_path,
				 strerror(e), e == ENXIO ? " (a FIFO that nobody reads)" : "");
			return -e;
		}
		fd_set_nonblock(r->serial_out, false);
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
	*r = (struct mon_resources){
	    .kvm_fd = -1,
	    .mem_fd = -1,
	    .kernel_fd = -1,
	    .initrd_fd = -1,
	    .firmware_fd = -1,
	    .firmware_vars_fd = -1,
	    .serial_out = -1,
	    .serial_in = -1,
	    .console_out = -1,
	    .console_in = -1,
	};
	for (unsigned i = 0; i < MON_MAX_DISKS; i++) {
		r->disk_fd[i] = -1;
		for (unsigned k = 0; k < MON_CHAIN_MAX; k++)
			r->backing_fd[i][k] = -1;
		for (unsigned k = 0; k < MON_PROBE_MAX_EXTENTS; k++)
			r->extent_fd[i][k] = -1;
	}
	for (unsigned i = 0; i < MON_MAX_NETS; i++)
		r->tap_fd[i] = -1;
	mon_display_res_init(&r->display);
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
		log_debug(
		    "no IPv4 nameserver in /etc/resolv.conf: DNS at 10.0.2.3 will not answer");
		return 0;
	}
	return addr;
}

/* QEMU's image locks, so that QEMU and moat refuse each other's images.
 * flock() keeps two moats apart, but QEMU never looks at flock: its
 * file-posix driver keeps "permission locks" as open-file-description
 * byte-range locks (fcntl F_OFD_SETLK; plain POSIX locks where OFD locks
 * are missing, which conflict with OFD ones all the same), one byte per
 * block-layer permission, numbered as QEMU's BlockPermission bits:
 * 0 consistent read, 1 write, 2 write unchanged, 3 resize.
 *   byte 100 + P, read-locked: "I hold permission P";
 *   byte 200 + P, read-locked: "I let nobody else have P".
 * (Byte 0 is left to libvirt.) Every lock is a shared one, so holders never
 * block each other; a conflict is found by asking whether a write lock on
 * a byte would be refused (F_OFD_GETLK), which answers for every other
 * open file description but not our own. Wanting P, no one else may hold
 * byte 200 + P; not sharing P, no one else may hold byte 100 + P. The
 * bytes are taken before they are checked, as QEMU does, so two starting
 * at once cannot both miss each other.
 * A read-write moat disk is what QEMU makes of a read-write drive: it
 * holds read and write, and shares neither write nor resize; a ro disk
 * holds read only and shares no write or resize either (the guest's view
 * must not change under it), so QEMU may read it alongside but not write.
 * See QEMU's docs/system/qemu-block-drivers.rst.inc ("Disk image file
 * locking") and block/file-posix.c (RAW_LOCK_PERM_BASE and
 * RAW_LOCK_SHARED_BASE). The locks belong to the open file description,
 * so moat-blk's copy of the descriptor keeps them for the VM's life. */
enum { QPERM_READ, QPERM_WRITE, QPERM_WRITE_UNCHANGED, QPERM_RESIZE, QPERM_COUNT };
#define QLOCK_HOLD_BASE	   100
#define QLOCK_UNSHARE_BASE 200

static const char *const qperm_doing[QPERM_COUNT] = {"reading", "writing", "unchanged writes",
						     "resizing"};

static int ofd_read_lock(int fd, int byte)
{
	struct flock fl = {.l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = byte, .l_len = 1};

	return fcntl(fd, F_OFD_SETLK, &fl) < 0 ? -errno : 0;
}

/* 1 if another open file description holds a lock on byte, 0 if none. */
static int ofd_lock_held(int fd, int byte)
{
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = byte, .l_len = 1};

	if (fcntl(fd, F_OFD_GETLK, &fl) < 0)
		return -errno;
	return fl.l_type != F_UNLCK;
}

static int qemu_lock(const struct mon_disk *d, int fd, char *err, size_t len)
{
	unsigned hold = 1u << QPERM_READ | (d->ro ? 0 : 1u << QPERM_WRITE);
	unsigned unshare = 1u << QPERM_WRITE | 1u << QPERM_RESIZE;
	int byte = 0, r = 0;

	for (unsigned p = 0; p < QPERM_COUNT; p++) {
		if (r == 0 && (hold & 1u << p))
			r = ofd_read_lock(fd, byte = QLOCK_HOLD_BASE + p);
		if (r == 0 && (unshare & 1u << p))
			r = ofd_read_lock(fd, byte = QLOCK_UNSHARE_BASE + p);
	}
	if (r == -EAGAIN || r == -EACCES)
		return err_line(err, len,
				"disk image %s is in use by another process (byte %d "
				"is write-locked)",
				d->path, byte);
	if (r < 0)
		return err_line(err, len, "cannot lock disk image %s: %s", d->path, strerror(-r));
	for (unsigned p = 0; p < QPERM_COUNT; p++) {
		bool want = hold & 1u << p, keep = unshare & 1u << p;
		int other_keeps = want ? ofd_lock_held(fd, QLOCK_UNSHARE_BASE + p) : 0;
		int other_holds = keep && !other_keeps ? ofd_lock_held(fd, QLOCK_HOLD_BASE + p) : 0;

		if (other_keeps < 0 || other_holds < 0)
			return err_line(err, len, "cannot lock disk image %s: %s", d->path,
					strerror(-(other_keeps < 0 ? other_keeps : other_holds)));
		if (other_keeps)
			return err_line(err, len,
					"disk image %s is in use by another process, which "
					"does not share %s (QEMU's lock byte %d)",
					d->path, qperm_doing[p], QLOCK_UNSHARE_BASE + p);
		if (other_holds)
			return err_line(err, len,
					"disk image %s is in use by another process, which "
					"holds it for %s (QEMU's lock byte %d)",
					d->path, qperm_doing[p], QLOCK_HOLD_BASE + p);
	}
	return 0;
}

int mon_lock_disk(const struct mon_disk *d, int fd, char *err, size_t len)
{
	if (flock(fd, (d->ro ? LOCK_SH : LOCK_EX) | LOCK_NB) < 0)
		return err_line(err, len, "disk image %s is in use by another process (%s)",
				d->path, errno == EWOULDBLOCK ? "locked" : strerror(errno));
	return qemu_lock(d, fd, err, len);
}

/* The checks that need no open file: a block device only with
 * blockdev=on, and then only a block device; otherwise a regular file. */
static int check_disk_type(const struct mon_disk *d, const struct stat *st, char *err, size_t len)
{
	if (S_ISBLK(st->st_mode) && !d->blockdev)
		return err_line(err, len,
				"disk image %s is a block device: moat gives the guest a "
				"whole host device only with --disk path=%s,blockdev=on",
				d->path, d->path);
	if (d->blockdev && !S_ISBLK(st->st_mode))
		return err_line(err, len,
				"--disk path=%s,blockdev=on: it is %s, not a block device", d->path,
				mon_file_kind(st->st_mode));
	if (!S_ISREG(st->st_mode) && !S_ISBLK(st->st_mode))
		return err_line(err, len, "disk image %s is %s, not a regular file", d->path,
				mon_file_kind(st->st_mode));
	return 0;
}

/* A disk image: a regular file, or a block device with blockdev=on, whose
 * size is a whole number of 512-byte sectors; its type is checked before
 * it is opened (userfile.h). Opened read-write unless ro; a writable block
 * device exclusively (O_EXCL: refused while the host has it mounted or
 * another exclusive user holds it). Locked for moats (flock: exclusive
 * for read-write, shared for ro) and for QEMU (qemu_lock()). */
/* cache=none: O_DIRECT on the descriptor opened (F_SETFL sets it as
 * open would, and fails the same way where the file system has no direct
 * I/O: tmpfs before Linux 6.6, some FUSE and network file systems). */
static int open_direct(const struct mon_disk *d, int fd, char *err, size_t len)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl >= 0 && fcntl(fd, F_SETFL, fl | O_DIRECT) == 0)
		return 0;
	return err_line(err, len,
			"disk image %s: cache=none needs O_DIRECT, which its file system refuses "
			"(%s): use cache=writeback",
			d->path, strerror(errno));
}

static int check_raw_size(const struct mon_disk *d, int fd, char *err, size_t len)
{
	off_t size = lseek(fd, 0, SEEK_END);

	if (size <= 0 || size % 512)
		return err_line(err, len,
				"disk image %s is %lld bytes, not a whole number of "
				"512-byte sectors",
				d->path, (long long)size);
	return 0;
}

int mon_open_disk(const struct mon_disk *d, int *out, char *err, size_t len)
{
	struct stat st;
	int flags = d->ro ? O_RDONLY : O_RDWR, rdonly = 0;
	_cleanup_close_ int pfd = mon_user_path("disk image", d->path, &st, err, len);
	_cleanup_close_ int fd = -1;

	if (pfd < 0)
		return pfd;
	if (check_disk_type(d, &st, err, len) < 0)
		return -EINVAL;
	if (S_ISBLK(st.st_mode) && !d->ro)
		flags |= O_EXCL;
	fd = mon_user_reopen(pfd, &st, flags, "disk image", d->path, err, len);
	if (fd < 0)
		return fd;
	if (S_ISBLK(st.st_mode) && !d->ro && ioctl(fd, BLKROGET, &rdonly) == 0 && rdonly)
		return err_line(err, len, "block device %s is read-only (blockdev --setro): add ro",
				d->path);
	/* a qcow2 disk's size is its header's, which moat-blk reads; a disk
	 * to be probed is checked once the probe said raw */
	if (d->format == MON_FORMAT_RAW && !d->probe_format && check_raw_size(d, fd, err, len) < 0)
		return -EINVAL;
	/* the probe reads the header unaligned: O_DIRECT after it */
	if (d->cache_none && !d->probe_format && open_direct(d, fd, err, len) < 0)
		return -EINVAL;
	if (mon_lock_disk(d, fd, err, len) < 0)
		return -EINVAL;
	log_resolved("disk image", d->path, fd);
	if (d->cache_none && !d->probe_format) /* else once the probe said raw */
		log_debug("disk image %s: cache=none (O_DIRECT)", d->path);
	if (d->format == MON_FORMAT_VMDK)
		log_info("disk image %s: vmdk, which moat reads only: the guest cannot write it",
			 d->path);
	*out = TAKE_FD(fd);
	return 0;
}

/* What the probe found is held to the options that depend on the
 * format, as options.c holds a format= given. */
static int check_found_format(const struct mon_disk *d, enum mon_disk_format f, char *err,
			      size_t len)
{
	if (f != MON_FORMAT_RAW && d->cache_none)
		return err_line(err, len, "disk image %s is %s: cache=none is for raw images only",
				d->path, mon_format_name(f));
	if (f != MON_FORMAT_RAW && d->aio == MON_AIO_IO_URING)
		return err_line(err, len,
				"disk image %s is %s: aio=io_uring is for raw images only", d->path,
				mon_format_name(f));
	if (f == MON_FORMAT_VMDK && !d->ro)
		return err_line(err, len,
				"disk image %s is vmdk, which moat reads only: add ro (or "
				"format=vmdk, which implies it)",
				d->path);
	return 0;
}

/* A disk's format (probed unless given as raw) and its backing chain,
 * resolved and opened by image_chain.c. */
static int open_disk_chain(const struct mon_disk *d, unsigned i, struct mon_resources *r, char *err,
			   size_t len)
{
	struct mon_chain *c;
	enum mon_disk_format f;
	int rc;

	r->disk_format[i] = d->format;
	if (!d->probe_format && d->format == MON_FORMAT_RAW)
		return 0; /* raw, as the user says: nothing in it is read */
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	rc = mon_chain_resolve(d->path, r->disk_fd[i], !d->probe_format, d->format, r->probe_uid, c,
			       err, len);
	if (rc < 0)
		goto out;
	f = c->link[0].format;
	if (d->probe_format)
		log_debug("disk image %s: %s, found from its header (format= not given)", d->path,
			  mon_format_name(f));
	rc = check_found_format(d, f, err, len);
	if (rc == 0 && f == MON_FORMAT_RAW && d->probe_format) {
		rc = check_raw_size(d, r->disk_fd[i], err, len);
		if (rc == 0 && d->cache_none) {
			rc = open_direct(d, r->disk_fd[i], err, len);
			if (rc == 0)
				log_debug("disk image %s: cache=none (O_DIRECT)", d->path);
		}
	}
	if (rc < 0) {
		mon_chain_close(c);
		goto out;
	}
	r->disk_format[i] = f;
	r->disk_probed_raw[i] = d->probe_format && f == MON_FORMAT_RAW;
	/* the descriptors move to r; the chain keeps none */
	r->nbacking[i] = c->n - 1;
	for (unsigned k = 1; k < c->n; k++) {
		r->backing_fd[i][k - 1] = c->link[k].fd;
		c->link[k].fd = -1;
		r->backing_format[i][k - 1] = c->link[k].format;
		log_info("disk image %s: backing file %u is %s (%s, read-only)", d->path, k,
			 c->link[k].path, mon_format_name(c->link[k].format));
	}
	r->nextents[i] = c->nextents;
	for (unsigned k = 0; k < c->nextents; k++)
		r->extent_fd[i][k] = c->extent_fd[k];
	if (c->nextents)
		log_debug("disk image %s: a vmdk descriptor file over %u extent files", d->path,
			  c->nextents);
	c->nextents = 0;
	mon_chain_close(c);
out:
	free(c);
	return rc;
}

/* The user's files first (the OSK file is read before, by
 * mon_read_osk()): a bad one is named before anything else is opened or
 * created, and without /dev/kvm. */
int mon_open_resources(const struct mon_config *cfg, struct mon_resources *r, char *err,
		       size_t errlen)
{
	int rc;

	if (cfg->firmware)
		rc = mon_open_firmware(cfg, r, err, errlen);
	else
		rc = open_file("kernel", cfg->kernel, &r->kernel_fd, err, errlen);
	if (rc == 0 && cfg->initrd)
		rc = open_file("initrd", cfg->initrd, &r->initrd_fd, err, errlen);
	for (unsigned i = 0; rc == 0 && i < cfg->ndisks; i++) {
		rc = mon_open_disk(&cfg->disks[i], &r->disk_fd[i], err, errlen);
		if (rc == 0)
			rc = open_disk_chain(&cfg->disks[i], i, r, err, errlen);
	}
	if (rc < 0)
		return rc;
	r->kvm_fd = open(mon_test_hooks.kvm_path ? mon_test_hooks.kvm_path : "/dev/kvm",
			 O_RDWR | O_CLOEXEC);
	if (r->kvm_fd < 0) {
		int e = errno;
		snprintf(err, errlen, "cannot open /dev/kvm: %s%s", strerror(e),
			 e == EACCES   ? " (are you in the kvm group?)"
			 : e == ENOENT ? " (is the kvm module loaded?)"
				       : "");
		return -e;
	}
	rc = open_guest_ram(cfg, r, err, errlen);
	if (rc == 0)
		rc = open_serial(cfg, r, err, errlen);
	if (rc == 0 && cfg->vnc)
		rc = mon_display_open(&cfg->vnc_opt, &r->display, err, errlen);
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
	close_fd(&r->kernel_fd);
	close_fd(&r->initrd_fd);
	close_fd(&r->firmware_fd);
	close_fd(&r->firmware_vars_fd);
	close_fd(&r->serial_out);
	close_fd(&r->serial_in);
	mon_display_close_child_ends(&r->display);
}

void mon_close_resources(struct mon_resources *r)
{
	mon_close_child_ends(r);
	close_fd(&r->mem_fd);
	for (unsigned i = 0; i < MON_MAX_DISKS; i++) {
		close_fd(&r->disk_fd[i]);
		for (unsigned k = 0; k < MON_CHAIN_MAX; k++)
			close_fd(&r->backing_fd[i][k]);
		for (unsigned k = 0; k < MON_PROBE_MAX_EXTENTS; k++)
			close_fd(&r->extent_fd[i][k]);
	}
	for (unsigned i = 0; i < MON_MAX_NETS; i++)
		close_fd(&r->tap_fd[i]);
	close_fd(&r->console_out);
	close_fd(&r->console_in);
	mon_display_close(&r->display);
}
