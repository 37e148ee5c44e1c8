#include "procstat.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pol.h"
#include "util.h"

/* "Name:\tvalue..." lines of /proc/PID/status, one field at a time. */
static void parse_status_line(const char *line, struct mon_procstat *st)
{
	static const struct {
		const char *key;
		size_t off;
	} caps[] = {
	    {"CapInh:", offsetof(struct mon_procstat, cap_inh)},
	    {"CapPrm:", offsetof(struct mon_procstat, cap_prm)},
	    {"CapEff:", offsetof(struct mon_procstat, cap_eff)},
	    {"CapBnd:", offsetof(struct mon_procstat, cap_bnd)},
	    {"CapAmb:", offsetof(struct mon_procstat, cap_amb)},
	};

	for (size_t i = 0; i < ARRAY_SIZE(caps); i++)
		if (strncmp(line, caps[i].key, strlen(caps[i].key)) == 0) {
			uint64_t *v = (uint64_t *)((char *)st + caps[i].off);
			*v = strtoull(line + strlen(caps[i].key), NULL, 16);
			return;
		}
	if (sscanf(line, "Uid: %" SCNu32 " %" SCNu32 " %" SCNu32 " %" SCNu32, &st->uid[0],
		   &st->uid[1], &st->uid[2], &st->uid[3]) == 4)
		return;
	if (sscanf(line, "Gid: %" SCNu32 " %" SCNu32 " %" SCNu32 " %" SCNu32, &st->gid[0],
		   &st->gid[1], &st->gid[2], &st->gid[3]) == 4)
		return;
	if (sscanf(line, "NoNewPrivs: %d", &st->no_new_privs) == 1)
		return;
	(void)sscanf(line, "Seccomp: %d", &st->seccomp);
}

/* /proc/PID/NAME's text (one read: these files are small) into buf,
 * NUL-terminated. 0, or -errno (-ESRCH when it came back empty). */
static int read_proc(pid_t pid, const char *name, char *buf, size_t len)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return n < 0 ? -errno : -ESRCH;
	buf[n] = 0;
	return 0;
}

static int read_status(pid_t pid, struct mon_procstat *st)
{
	char buf[8192];
	int rc = read_proc(pid, "status", buf, sizeof(buf));

	if (rc < 0)
		return rc;
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
		parse_status_line(line, st);
	return 0;
}

/* Which of the child's namespaces are not the monitor's own. */
int mon_procstat_namespaces(pid_t pid, struct mon_procstat *st)
{
	uint64_t mine[POL_NS_COUNT], its[POL_NS_COUNT];
	size_t len = sizeof(st->namespaces), n = 0;
	int r = pol_ns_read(0, mine);

	if (r == 0)
		r = pol_ns_read(pid, its);
	if (r < 0)
		return r;
	st->namespaces[0] = 0;
	for (int i = 0; i < POL_NS_COUNT; i++) {
		if (its[i] == mine[i])
			continue;
		int w =
		    snprintf(st->namespaces + n, len - n, "%s%s", n ? "," : "", pol_ns_names[i]);
		if (w > 0 && (size_t)w < len - n)
			n += (size_t)w;
	}
	st->shares_net = its[POL_NS_NET] == mine[POL_NS_NET];
	return 0;
}

int mon_procstat_status(pid_t pid, struct mon_procstat *st)
{
	st->cap_inh = st->cap_prm = st->cap_eff = st->cap_bnd = st->cap_amb = ~0ull;
	st->no_new_privs = st->seccomp = -1;
	memset(st->uid, 0xff, sizeof(st->uid));
	memset(st->gid, 0xff, sizeof(st->gid));
	return read_status(pid, st);
}

bool mon_procstat_confined(const struct mon_procstat *st, uid_t uid, gid_t gid, bool host_net,
			   char *why, size_t whylen)
{
	static const char *const own[] = {"user", "mnt", "pid", "ipc", "uts"};
	char list[72];

	for (int i = 0; i < 4; i++)
		if (st->uid[i] != uid || st->gid[i] != gid) {
			snprintf(why, whylen, "runs as uid %u gid %u, not %u", st->uid[i],
				 st->gid[i], (unsigned)uid);
			return false;
		}
	if (st->cap_inh | st->cap_prm | st->cap_eff | st->cap_bnd | st->cap_amb) {
		snprintf(why, whylen,
			 "holds capabilities (effective %#" PRIx64 ", bounding %#" PRIx64 ")",
			 st->cap_eff, st->cap_bnd);
		return false;
	}
	/* 3 is SECCOMP_MODE_DEAD: its filter has just killed it (a child that
	 * said READY and then broke its policy), so it was confined too. */
	if (st->no_new_privs != 1 || (st->seccomp != 2 && st->seccomp != 3)) {
		snprintf(why, whylen, "no_new_privs %d, seccomp mode %d", st->no_new_privs,
			 st->seccomp);
		return false;
	}
	/* Whole names, so that "user" is not found inside another name. */
	snprintf(list, sizeof(list), ",%s,", st->namespaces);
	for (size_t i = 0; i < ARRAY_SIZE(own); i++) {
		char item[16];
		snprintf(item, sizeof(item), ",%s,", own[i]);
		if (!strstr(list, item)) {
			snprintf(why, whylen, "shares the monitor's %s namespace", own[i]);
			return false;
		}
	}
	if (st->shares_net != host_net) {
		snprintf(why, whylen,
			 host_net ? "left the host's network namespace"
				  : "shares the monitor's network namespace");
		return false;
	}
	return true;
}

uint64_t mon_procstat_huge_parse(const char *text)
{
	static const char *const keys[] = {"ShmemPmdMapped:", "FilePmdMapped:",
					   "Shared_Hugetlb:", "Private_Hugetlb:"};
	uint64_t total = 0;

	for (const char *line = text; line; line = strchr(line, '\n')) {
		line += *line == '\n';
		for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
			size_t n = strlen(keys[k]);
			unsigned long long kb;

			/* a value that would overflow the sum is not believed */
			if (strncmp(line, keys[k], n) == 0 && sscanf(line + n, "%llu kB", &kb) == 1 &&
			    kb <= (UINT64_MAX - total) >> 10)
				total += (uint64_t)kb << 10;
		}
	}
	return total;
}

int mon_procstat_huge_bytes(pid_t pid, uint64_t *out)
{
	char text[4096];
	int rc = read_proc(pid, "smaps_rollup", text, sizeof(text));

	if (rc < 0)
		return rc;
	*out = mon_procstat_huge_parse(text);
	return 0;
}

int mon_procstat_stat_flags(const char *text, unsigned long *flags)
{
	const char *p = strrchr(text, ')');
	char *end;

	if (!p)
		return -EINVAL;
	p++;
	/* state, ppid, pgrp, session, tty_nr, tpgid, then flags */
	for (int field = 0; field < 6; field++) {
		while (*p == ' ')
			p++;
		p += strcspn(p, " ");
		if (!*p)
			return -EINVAL;
	}
	while (*p == ' ')
		p++;
	if (*p < '0' || *p > '9')
		return -EINVAL;
	errno = 0;
	*flags = strtoul(p, &end, 10);
	if (errno || (*end != ' ' && *end != '\n' && *end))
		return -EINVAL;
	return 0;
}

#define PF_EXITING_FLAG 0x00000004ul /* include/linux/sched.h */

int mon_procstat_exiting(pid_t pid)
{
	char path[64], stat[1024];
	int exiting = 1, threads = 0;
	struct dirent *e;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return -errno;
	while (exiting == 1 && (e = readdir(d))) {
		unsigned long flags;
		char name[96];
		int rc;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(name, sizeof(name), "task/%.16s/stat", e->d_name);
		rc = read_proc(pid, name, stat, sizeof(stat));
		if (rc == -ENOENT || rc == -ESRCH)
			continue; /* that thread is gone already */
		if (rc == 0)
			rc = mon_procstat_stat_flags(stat, &flags);
		if (rc < 0)
			exiting = rc;
		else if (!(flags & PF_EXITING_FLAG))
			exiting = 0;
		threads++;
	}
	closedir(d);
	return exiting == 1 && threads == 0 ? -ESRCH : exiting;
}
