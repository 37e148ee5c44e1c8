#include "uids.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "moat_limits.h"
#include "spawn.h"

_Static_assert(MON_UID_BLOCK >= 1 + MOAT_MAX_DEVICES, "a uid per child");

/* Blocks in [MOAT_UID_BASE, 2^31): as many as PID_MAX_LIMIT pids gave. */
#define UID_BLOCKS (4194304u / MON_UID_BLOCK)
#define UID_TRIES  4096u /* blocks probed before giving up */

/* Does any process run with a real, effective, saved or filesystem uid in
 * [base, base + MON_UID_BLOCK)? A stale child of a dead moat, or a host
 * user that happens to have such an id, would share our children's id. */
static bool block_in_use(uid_t base)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	bool used = false;

	if (!d)
		return false;
	while (!used && (e = readdir(d))) {
		char path[300], line[256];
		unsigned id[4];
		FILE *f;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/status", e->d_name);
		if (!(f = fopen(path, "re")))
			continue;
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "Uid: %u %u %u %u", &id[0], &id[1], &id[2], &id[3]) == 4) {
				for (int i = 0; i < 4; i++)
					used |= id[i] >= base && id[i] - base < MON_UID_BLOCK;
				break;
			}
		fclose(f);
	}
	closedir(d);
	return used;
}

static int make_dir(void)
{
	if (mkdir("/run/moat", 0700) < 0 && errno != EEXIST)
		return -errno;
	if (mkdir(MON_UID_DIR, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* Lock block k's file; the descriptor, or -1 when another moat holds it. */
static int lock_block(unsigned k)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), MON_UID_DIR "/%u.lock", MOAT_UID_BASE + k * MON_UID_BLOCK);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd);
		return -EBUSY;
	}
	return fd;
}

int mon_uids_reserve(struct mon_uids *u, char *err, size_t errlen)
{
	unsigned start = (unsigned)getpid() % UID_BLOCKS;
	int rc = make_dir();

	*u = (struct mon_uids){.lock_fd = -1};
	if (rc < 0) {
		snprintf(err, errlen, "cannot create %s: %s", MON_UID_DIR, strerror(-rc));
		return rc;
	}
	for (unsigned t = 0; t < UID_TRIES; t++) {
		unsigned k = (start + t) % UID_BLOCKS;
		int fd = lock_block(k);
		if (fd == -EBUSY)
			continue;
		if (fd < 0) {
			snprintf(err, errlen, "cannot lock a uid block in %s: %s", MON_UID_DIR,
				 strerror(-fd));
			return fd;
		}
		if (block_in_use(MOAT_UID_BASE + k * MON_UID_BLOCK)) {
			close(fd);
			continue;
		}
		u->base = MOAT_UID_BASE + k * MON_UID_BLOCK;
		u->lock_fd = fd;
		return 0;
	}
	snprintf(err, errlen, "no free block of %d uids from %u on (%u tried)", MON_UID_BLOCK,
		 MOAT_UID_BASE, UID_TRIES);
	return -EAGAIN;
}

void mon_uids_release(struct mon_uids *u)
{
	if (u->lock_fd >= 0)
		close(u->lock_fd);
	u->lock_fd = -1;
}
