/* Guest RAM's backing (guest_ram.h). */
#include "guest_ram.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <linux/memfd.h> /* MFD_HUGE_2MB */
#include <sched.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <grp.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fdutil.h"
#include "log.h"
#include "util.h"

#define HUGETLB_SYS "/sys/kernel/mm/hugepages/hugepages-2048kB/"
#define SHMEM_THP   "/sys/kernel/mm/transparent_hugepage/shmem_enabled"
#define NOBODY	    65534u /* the uid and gid of the tmpfs helper */

const char *mon_ram_backing_name(enum mon_ram_backing b)
{
	switch (b) {
	case MON_RAM_HUGETLB:
		return "hugetlb";
	case MON_RAM_THP:
		return "thp";
	case MON_RAM_4K:
		break;
	}
	return "4k";
}

/* A small sysfs file's first line; "" when it cannot be read. */
static void read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");

	buf[0] = '\0';
	if (!f)
		return;
	if (!fgets(buf, (int)len, f))
		buf[0] = '\0';
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
}

static uint64_t read_u64(const char *path)
{
	char buf[32];

	read_line(path, buf, sizeof(buf));
	return strtoull(buf, NULL, 10);
}

/* 2 MiB pages of the pool that nobody has reserved yet. */
static uint64_t hugetlb_available(void)
{
	uint64_t free = read_u64(HUGETLB_SYS "free_hugepages");
	uint64_t resv = read_u64(HUGETLB_SYS "resv_hugepages");

	return free > resv ? free - resv : 0;
}

/* All of it now, or fail now: the guest must never wait for a page the
 * host cannot give (prealloc=on), and a hugetlb file must never be short
 * of pages under moat-vcpu's MAP_NORESERVE mapping (a SIGBUS). fallocate
 * allocates; a shared mapping reserves the pool's pages for the file's
 * lifetime without zeroing them, which is much quicker. */
static int take_pages(int fd, uint64_t bytes, bool prealloc, bool hugetlb)
{
	void *p;

	if (prealloc)
		return fallocate(fd, 0, 0, (off_t)bytes) < 0 ? -errno : 0;
	if (!hugetlb)
		return 0;
	p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	munmap(p, bytes);
	return 0;
}

static int seal(int fd)
{
	return fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0 ? -errno : 0;
}

static int make_memfd(uint64_t bytes, bool hugetlb, bool prealloc, int *out)
{
	unsigned flags = MFD_CLOEXEC | MFD_ALLOW_SEALING | (hugetlb ? MFD_HUGETLB | MFD_HUGE_2MB : 0);
	_cleanup_close_ int fd = memfd_create(hugetlb ? "moat-guest-ram-2M" : "moat-guest-ram",
					      flags);
	int rc;

	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)bytes) < 0)
		return -errno;
	rc = take_pages(fd, bytes, prealloc, hugetlb);
	if (rc == 0)
		rc = seal(fd);
	if (rc == 0)
		*out = TAKE_FD(fd);
	return rc;
}

/* A tmpfs instance of our own, mounted nowhere (the new mount API gives a
 * detached mount: the host's mount table never sees it), with
 * huge=within_size, so its files get transparent huge pages whatever the
 * host's shmem_enabled says for memfds (Debian: never). The file is
 * O_TMPFILE: it has no name, and goes with its last descriptor, as does
 * the instance. tmpfs files cannot be sealed: decision 0018 says what
 * stands in for the seals. */
static int make_thp_file(uint64_t bytes, bool prealloc, int *out, const char **step)
{
	_cleanup_close_ int fs = -1, mnt = -1, fd = -1;
	char size[32];

	snprintf(size, sizeof(size), "%llu",
		 (unsigned long long)((bytes + MON_HUGE_PAGE - 1) & ~(MON_HUGE_PAGE - 1)));
	*step = "fsopen(tmpfs)";
	fs = fsopen("tmpfs", FSOPEN_CLOEXEC);
	if (fs < 0)
		return -errno;
	*step = "fsconfig";
	if (fsconfig(fs, FSCONFIG_SET_STRING, "huge", "within_size", 0) < 0 ||
	    fsconfig(fs, FSCONFIG_SET_STRING, "size", size, 0) < 0 ||
	    fsconfig(fs, FSCONFIG_SET_STRING, "nr_inodes", "8", 0) < 0 ||
	    fsconfig(fs, FSCONFIG_SET_STRING, "mode", "0700", 0) < 0 ||
	    fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return -errno;
	*step = "fsmount";
	mnt = fsmount(fs, FSMOUNT_CLOEXEC,
		      MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
	if (mnt < 0)
		return -errno;
	*step = "open(O_TMPFILE)";
	fd = openat(mnt, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	*step = "ftruncate";
	if (ftruncate(fd, (off_t)bytes) < 0)
		return -errno;
	*step = "fallocate";
	if (take_pages(fd, bytes, prealloc, false) < 0)
		return -errno;
	*out = TAKE_FD(fd);
	return 0;
}

/* What the helper below sends back with the file, or without it. */
struct thp_answer {
	int err;       /* 0, or the errno of step */
	char step[24]; /* where it failed */
};

static int write_proc(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	int rc = fd < 0 ? -errno : fd_write_full(fd, text, strlen(text));

	if (fd >= 0)
		close(fd);
	return rc;
}

/* The helper's side: a user namespace and mount namespace of its own, in
 * which it may mount a tmpfs whatever capabilities the monitor lacks (a
 * systemd unit's CapabilityBoundingSet keeps CAP_SYS_ADMIN from it). The
 * monitor maps root inside to nobody outside (mapping root itself would
 * take CAP_SETFCAP, which such a monitor lacks too); the helper then
 * becomes that root, so the file it makes belongs to nobody, which does
 * not matter: it is only ever reached through the descriptor. Changing
 * its ids leaves it undumpable, so no other nobody can ptrace it for the
 * descriptor meanwhile. */
static void thp_helper(int sock, uint64_t bytes, bool prealloc)
{
	struct thp_answer a = {0};
	const char *step = "unshare";
	char go;
	int fd = -1;
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} c = {0};
	struct iovec iov = {.iov_base = &a, .iov_len = sizeof(a)};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};

	if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0) {
		a.err = errno;
	} else if (step = "the monitor's id maps",
		   send(sock, "u", 1, MSG_NOSIGNAL) != 1 || recv(sock, &go, 1, 0) != 1 || go != 'm') {
		a.err = EPROTO;
	} else if (step = "setresuid", setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0) {
		a.err = errno;
	} else {
		a.err = -make_thp_file(bytes, prealloc, &fd, &step);
	}
	snprintf(a.step, sizeof(a.step), "%s", step);
	if (fd >= 0) {
		mh.msg_control = c.buf;
		mh.msg_controllen = sizeof(c.buf);
		CMSG_FIRSTHDR(&mh)->cmsg_level = SOL_SOCKET;
		CMSG_FIRSTHDR(&mh)->cmsg_type = SCM_RIGHTS;
		CMSG_FIRSTHDR(&mh)->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(CMSG_FIRSTHDR(&mh)), &fd, sizeof(int));
	}
	_exit(sendmsg(sock, &mh, MSG_NOSIGNAL) == (ssize_t)sizeof(a) ? 0 : 1);
}

/* The monitor's side of the id maps: root in the helper's namespace is
 * nobody here. */
static void map_helper(int sock, pid_t pid)
{
	char path[64], map[32], u[sizeof(struct thp_answer)];

	/* its 'u', or its answer if it failed before (left for the caller) */
	if (recv(sock, u, sizeof(u), MSG_PEEK) != 1 || u[0] != 'u')
		return;
	(void)recv(sock, u, 1, 0);
	snprintf(map, sizeof(map), "0 %u 1\n", NOBODY);
	snprintf(path, sizeof(path), "/proc/%d/uid_map", (int)pid);
	if (write_proc(path, map) < 0)
		return;
	snprintf(path, sizeof(path), "/proc/%d/gid_map", (int)pid);
	if (write_proc(path, map) < 0)
		return;
	(void)send(sock, "m", 1, MSG_NOSIGNAL);
}

/* make_thp_file in a short-lived child of its own namespaces, the file
 * sent back over a socketpair. The monitor is single-threaded here, before
 * any child exists. */
static int make_thp_file_userns(uint64_t bytes, bool prealloc, int *out, const char **step)
{
	static char failed_step[24];
	struct thp_answer a = {0};
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} c;
	struct iovec iov = {.iov_base = &a, .iov_len = sizeof(a)};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.buf,
			    .msg_controllen = sizeof(c.buf)};
	struct cmsghdr *h;
	int sv[2], status, fd = -1;
	ssize_t n;
	pid_t pid;

	*step = "socketpair";
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	*step = "fork";
	pid = fork();
	if (pid < 0) {
		close(sv[0]);
		close(sv[1]);
		return -errno;
	}
	if (pid == 0) {
		close(sv[0]);
		thp_helper(sv[1], bytes, prealloc);
	}
	close(sv[1]);
	map_helper(sv[0], pid);
	/* a helper whose maps failed waits for 'm' in vain: the shutdown
	 * wakes it with 0 bytes and it answers EPROTO */
	shutdown(sv[0], SHUT_WR);
	n = recvmsg(sv[0], &mh, MSG_CMSG_CLOEXEC);
	close(sv[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	h = n == (ssize_t)sizeof(a) ? CMSG_FIRSTHDR(&mh) : NULL;
	if (h && h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_RIGHTS &&
	    h->cmsg_len == CMSG_LEN(sizeof(int)))
		memcpy(&fd, CMSG_DATA(h), sizeof(int));
	if (n != (ssize_t)sizeof(a)) {
		*step = "the helper";
		return -EPROTO;
	}
	a.step[sizeof(a.step) - 1] = '\0';
	memcpy(failed_step, a.step, sizeof(failed_step));
	*step = failed_step;
	if (a.err || fd < 0) {
		if (fd >= 0)
			close(fd);
		return a.err ? -a.err : -EPROTO;
	}
	*out = fd;
	return 0;
}

static int ram_error(int rc, uint64_t bytes, const char *how, char *err, size_t len)
{
	snprintf(err, len, "cannot create %llu MiB of guest RAM%s: %s",
		 (unsigned long long)(bytes >> 20), how, strerror(-rc));
	return rc;
}

int mon_guest_ram_create(uint64_t bytes, enum mon_huge huge, bool prealloc,
			 struct mon_guest_ram *out, char *err, size_t len)
{
	uint64_t need = bytes / MON_HUGE_PAGE, have;
	const char *step = "";
	bool userns = false; /* the tmpfs needed a user namespace of its own */
	char thp[128];
	int rc;

	*out = (struct mon_guest_ram){.fd = -1, .prealloc = prealloc};
	if (huge != MON_HUGE_OFF) {
		have = hugetlb_available();
		if (bytes % MON_HUGE_PAGE == 0 && have >= need) {
			rc = make_memfd(bytes, true, prealloc, &out->fd);
			if (rc == 0) {
				out->backing = MON_RAM_HUGETLB;
				out->sealed = true;
				snprintf(out->why, sizeof(out->why),
					 "%llu of the pool's %llu free 2 MiB pages",
					 (unsigned long long)need, (unsigned long long)have);
				return 0;
			}
			if (huge == MON_HUGE_ON)
				return ram_error(rc, bytes, " from the hugetlb pool", err, len);
			snprintf(out->why, sizeof(out->why), "the hugetlb pool refused: %s; ",
				 strerror(-rc));
		} else if (huge == MON_HUGE_ON) {
			snprintf(err, len,
				 "--mem hugepages=on: the host's 2 MiB hugetlb pool has %llu free "
				 "pages, %llu needed (add them with: sysctl vm.nr_hugepages=N)",
				 (unsigned long long)have, (unsigned long long)need);
			return -ENOMEM;
		} else {
			snprintf(out->why, sizeof(out->why), "no hugetlb pool with room (%llu of "
				 "%llu pages free); ", (unsigned long long)have,
				 (unsigned long long)need);
		}
		read_line(SHMEM_THP, thp, sizeof(thp));
		if (strstr(thp, "[deny]")) {
			snprintf(out->why + strlen(out->why), sizeof(out->why) - strlen(out->why),
				 "transparent huge pages denied for shmem");
		} else if ((rc = make_thp_file(bytes, prealloc, &out->fd, &step)) == 0 ||
			   ((rc == -EPERM || rc == -EACCES) &&
			    (userns = true,
			     rc = make_thp_file_userns(bytes, prealloc, &out->fd, &step)) == 0)) {
			out->backing = MON_RAM_THP;
			snprintf(out->why + strlen(out->why), sizeof(out->why) - strlen(out->why),
				 "transparent huge pages on a private tmpfs%s",
				 userns ? " made in a user namespace" : "");
			return 0;
		} else {
			snprintf(out->why + strlen(out->why), sizeof(out->why) - strlen(out->why),
				 "no private tmpfs (%s: %s)", step, strerror(-rc));
			if (rc == -ENOMEM || rc == -ENOSPC)
				return ram_error(rc, bytes, "", err, len);
		}
	} else {
		snprintf(out->why, sizeof(out->why), "hugepages=off");
	}
	rc = make_memfd(bytes, false, prealloc, &out->fd);
	if (rc < 0)
		return ram_error(rc, bytes, "", err, len);
	out->backing = MON_RAM_4K;
	out->sealed = true;
	return 0;
}
