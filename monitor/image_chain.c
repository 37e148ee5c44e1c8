#include "image_chain.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "errline.h"
#include "log.h"
#include "resources.h"
#include "userfile.h"

/* The kernel's own file systems: their regular files are the host's
 * state, never a disk. */
static bool kernel_fs(int fd)
{
	static const long magic[] = {PROC_SUPER_MAGIC, SYSFS_MAGIC,	   DEBUGFS_MAGIC,
				     SECURITYFS_MAGIC, CGROUP_SUPER_MAGIC, CGROUP2_SUPER_MAGIC,
				     TRACEFS_MAGIC,    BPF_FS_MAGIC,	   EFIVARFS_MAGIC};
	struct statfs sf;

	if (fstatfs(fd, &sf) < 0)
		return true;
	for (size_t i = 0; i < sizeof(magic) / sizeof(magic[0]); i++)
		if ((long)sf.f_type == magic[i])
			return true;
	return false;
}

/* The real path of an open descriptor. */
static int real_path(int fd, char *out, size_t len)
{
	char proc[32];
	ssize_t n;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	n = readlink(proc, out, len - 1);
	if (n <= 0 || (size_t)n >= len - 1)
		return -ENAMETOOLONG;
	out[n] = 0;
	return 0;
}

/* Is real (a real path) dir or below it? */
static bool inside(const char *real, const char *dir)
{
	size_t n = strlen(dir);

	if (strcmp(dir, "/") == 0)
		return true;
	return strncmp(real, dir, n) == 0 && real[n] == '/';
}

/* name, as the image at `from` names it: relative to from's directory. */
static int join(const char *from, const char *name, char *out, size_t len)
{
	char dir[4096], base[MON_PROBE_NAME_MAX];

	/* copies: from and name may lie beside out (one chain's links) */
	snprintf(dir, sizeof(dir), "%s", from);
	snprintf(base, sizeof(base), "%s", name);
	if (base[0] == '/' || !strchr(dir, '/'))
		return snprintf(out, len, "%s", base) < (int)len ? 0 : -ENAMETOOLONG;
	return snprintf(out, len, "%s/%s", dirname(dir), base) < (int)len ? 0 : -ENAMETOOLONG;
}

/* Open the file that the image at `over` names as name (its backing file,
 * or an extent file: what), with every check of the header's comment but
 * the format; loop: refuse a file already in the chain. The path as
 * resolved into path (4096 bytes), the descriptor into *out. */
static int open_named(struct mon_chain *c, const char *over, const char *name, const char *what,
		      bool loop, const char *top_dir, char *path, int *out, char *err,
		      size_t errlen)
{
	struct mon_disk d = {.ro = true};
	char real[4096];
	struct stat st;
	int pfd, fd;

	if (join(over, name, path, 4096) < 0)
		return err_line(err, errlen, "disk image %s: its %s's name is too long", over,
				what);
	pfd = mon_user_path(what, path, &st, err, errlen);
	if (pfd < 0)
		return pfd;
	if (!S_ISREG(st.st_mode) || kernel_fs(pfd) || real_path(pfd, real, sizeof(real)) < 0) {
		close(pfd);
		return err_line(err, errlen, "disk image %s: its %s %s is %s, not a disk image",
				over, what, path,
				S_ISREG(st.st_mode) ? "a kernel file" : mon_file_kind(st.st_mode));
	}
	if (!inside(real, top_dir)) {
		close(pfd);
		return err_line(err, errlen,
				"disk image %s: its %s %s (%s) is outside %s, the directory of "
				"the disk image moat was given: moat follows %ss only there",
				over, what, path, real, top_dir, what);
	}
	for (unsigned i = 0; loop && i < c->n; i++) {
		struct stat o;
		if (fstat(c->link[i].fd, &o) == 0 && o.st_dev == st.st_dev &&
		    o.st_ino == st.st_ino) {
			close(pfd);
			return err_line(err, errlen, "disk image %s: its %s %s is %s again: a loop",
					over, what, path, c->link[i].path);
		}
	}
	fd = mon_user_reopen(pfd, &st, O_RDONLY, what, path, err, errlen);
	close(pfd);
	if (fd < 0)
		return fd;
	d.path = path;
	if (mon_lock_disk(&d, fd, err, errlen) < 0) {
		close(fd);
		return -EINVAL;
	}
	*out = fd;
	return 0;
}

/* The extent files of a vmdk descriptor file at the top. */
static int open_extents(struct mon_chain *c, const char *top_dir, char *err, size_t errlen)
{
	const struct mon_chain_link *top = &c->link[0];
	char path[4096];

	for (unsigned i = 0; i < top->info.nextents; i++) {
		int rc = open_named(c, top->path, top->info.extents[i], "extent file", false,
				    top_dir, path, &c->extent_fd[i], err, errlen);
		if (rc < 0)
			return rc;
		c->nextents++;
		log_debug("disk image %s: extent file %u is %s", top->path, i + 1, path);
	}
	return 0;
}

int mon_chain_resolve(const char *path, int fd, bool given, enum mon_disk_format format, uid_t uid,
		      struct mon_chain *c, char *err, size_t errlen)
{
	char top_dir[4096];
	int rc;

	c->n = 0;
	c->probed = !given;
	if (real_path(fd, top_dir, sizeof(top_dir)) < 0)
		return err_line(err, errlen, "disk image %s: cannot find its directory", path);
	*strrchr(top_dir, '/') = '\0';
	if (!top_dir[0])
		strcpy(top_dir, "/");
	struct mon_chain_link *top = &c->link[0];
	top->fd = fd;
	snprintf(top->path, sizeof(top->path), "%s", path);
	rc = mon_probe_image(fd, path, given, format, uid, &top->info, err, errlen);
	if (rc < 0)
		return rc;
	top->format = top->info.format;
	c->n = 1;
	c->nextents = 0;
	rc = open_extents(c, top_dir, err, errlen);
	if (rc < 0)
		goto fail;
	while (c->link[c->n - 1].info.has_backing) {
		struct mon_chain_link *over = &c->link[c->n - 1], *l;
		enum mon_disk_format f = MON_FORMAT_RAW;
		bool recorded = over->info.backing_format[0];

		if (c->n > MON_CHAIN_MAX) {
			rc = err_line(err, errlen,
				      "disk image %s: its backing chain is deeper than %d images",
				      path, MON_CHAIN_MAX);
			goto fail;
		}
		l = &c->link[c->n];
		rc = open_named(c, over->path, over->info.backing_name, "backing file", true,
				top_dir, l->path, &l->fd, err, errlen);
		if (rc < 0)
			goto fail;
		c->n++;
		if (recorded)
			mon_format_parse(over->info.backing_format,
					 &f); /* checked by the probe's reader */
		rc = mon_probe_image(l->fd, l->path, recorded, f, uid, &l->info, err, errlen);
		if (rc < 0)
			goto fail;
		l->format = l->info.format;
		if (l->info.nextents) {
			rc = err_line(
			    err, errlen,
			    "disk image %s: its backing file %s is a vmdk descriptor file, "
			    "which moat reads only as the disk itself",
			    over->path, l->path);
			goto fail;
		}
		if (!recorded && l->format != MON_FORMAT_RAW) {
			rc = err_line(
			    err, errlen,
			    "disk image %s: the format of its backing file %s is not "
			    "recorded, and it reads as %s: moat follows only raw backing "
			    "files without one (record it: qemu-img rebase -u -b %s -F %s %s)",
			    over->path, l->path, mon_format_name(l->format),
			    over->info.backing_name, mon_format_name(l->format), over->path);
			goto fail;
		}
		log_debug("disk image %s: backing %u is %s (%s)", path, c->n - 1, l->path,
			  mon_format_name(l->format));
	}
	return 0;
fail:
	mon_chain_close(c);
	return rc;
}

void mon_chain_close(struct mon_chain *c)
{
	for (unsigned i = 1; i < c->n; i++)
		if (c->link[i].fd >= 0)
			close(c->link[i].fd);
	for (unsigned i = 0; i < c->n; i++)
		mon_probe_free(&c->link[i].info);
	for (unsigned i = 0; i < c->nextents; i++)
		close(c->extent_fd[i]);
	c->n = 0;
	c->nextents = 0;
}
