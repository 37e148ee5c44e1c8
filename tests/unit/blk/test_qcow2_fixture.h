/* Shared by the qcow2 unit tests: a temporary directory, qemu-img and
 * qemu-io run on files in it, images opened through blk_image. */
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blk_image.h"
#include "qcow2.h"
#include "tap.h"

static char tdir[64];

/* A fresh directory for this case (each case runs in its own child). */
static inline int tmp_setup(void)
{
	snprintf(tdir, sizeof(tdir), "/tmp/moat-qcow2-XXXXXX");
	return mkdtemp(tdir) ? 0 : -1;
}

static inline void tmp_cleanup(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tdir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", tdir);
}

/* A file name in the directory. */
static inline const char *tpath(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", tdir, name);
	return buf;
}

/* Run a shell command (inside the directory), its output to stderr only
 * when verbose; the exit code, or -1. */
__attribute__((format(printf, 1, 2))) static inline int sh(const char *fmt, ...)
{
	char cmd[1024], full[1200];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	snprintf(full, sizeof(full), "cd '%s' && ( %s ) >>log 2>&1", tdir, cmd);
	st = system(full);
	if (st == -1 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

/* Are the tools there? (scripts/deps installs qemu-utils) */
static inline bool have_qemu_img(void)
{
	return system("qemu-img --version >/dev/null 2>&1 && qemu-io --version >/dev/null 2>&1") ==
	       0;
}

#define NEED_QEMU()                                                                                \
	do {                                                                                       \
		if (!have_qemu_img())                                                              \
			return TEST_SKIP;                                                          \
		if (tmp_setup() < 0)                                                               \
			return 1;                                                                  \
	} while (0)

/* qemu-img check's exit code for the image: 0 clean, 3 leaks only,
 * 2 corruption, 1 could not check. */
static inline int qcheck(const char *name)
{
	return sh("qemu-img check -q %s", name);
}

/* An open qcow2 image with its descriptor. */
struct timg {
	int fd;
	struct blk_image *img;
	char err[256];
};

static inline int topen_q(struct timg *t, const char *name, bool ro, struct blk_image *backing)
{
	char p[128];
	struct qcow2_open_args a;
	int rc;

	t->fd = open(tpath(p, sizeof(p), name), ro ? O_RDONLY : O_RDWR);
	if (t->fd < 0)
		return -errno;
	a = (struct qcow2_open_args){t->fd, ro, backing, t->err, sizeof(t->err)};
	rc = qcow2_open(&a, &t->img);
	if (rc < 0) {
		fprintf(stderr, "open %s: %s\n", name, t->err);
		close(t->fd);
	}
	return rc;
}

static inline int topen_raw(struct timg *t, const char *name, bool ro)
{
	char p[128];
	int rc;

	t->fd = open(tpath(p, sizeof(p), name), ro ? O_RDONLY : O_RDWR);
	if (t->fd < 0)
		return -errno;
	rc = blk_raw_open(t->fd, ro, 0, &t->img);
	if (rc < 0)
		close(t->fd);
	return rc;
}

static inline void tclose(struct timg *t)
{
	blk_image_close(t->img);
	close(t->fd);
}

static inline int img_rd(struct blk_image *img, void *buf, uint64_t len, uint64_t off)
{
	struct iovec v = {buf, len};

	return blk_image_read(img, &v, 1, off);
}

static inline int img_wr(struct blk_image *img, const void *buf, uint64_t len, uint64_t off)
{
	struct iovec v = {(void *)buf, len};

	return blk_image_write(img, &v, 1, off);
}

/* Is every byte of buf c? */
static inline bool all_are(const uint8_t *buf, uint64_t len, uint8_t c)
{
	for (uint64_t i = 0; i < len; i++)
		if (buf[i] != c)
			return false;
	return true;
}
