#include "cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fdutil.h"
#include "log.h"

#define CONTROLLERS "+pids +memory"

/* Where cgroup v2 is mounted (the first cgroup2 line of mountinfo). */
static int cgroup2_mount(char *out, size_t len)
{
	char line[1024], mnt[512], type[64];
	FILE *f = fopen("/proc/self/mountinfo", "re");
	int rc = -ENOENT;

	if (!f)
		return -errno;
	while (rc && fgets(line, sizeof(line), f)) {
		const char *dash = strstr(line, " - ");
		if (dash && sscanf(dash, " - %63s", type) == 1 && strcmp(type, "cgroup2") == 0 &&
		    sscanf(line, "%*s %*s %*s %*s %511s", mnt) == 1) {
			snprintf(out, len, "%s", mnt);
			rc = 0;
		}
	}
	fclose(f);
	return rc;
}

/* Our cgroup v2 path ("0::/a/b"), relative to the mount. */
static int own_cgroup(char *out, size_t len)
{
	char line[PATH_MAX];
	FILE *f = fopen("/proc/self/cgroup", "re");
	int rc = -ENOENT;

	if (!f)
		return -errno;
	while (rc && fgets(line, sizeof(line), f))
		if (strncmp(line, "0::", 3) == 0) {
			line[strcspn(line, "\n")] = 0;
			snprintf(out, len, "%.*s", (int)(len - 1), line + 3);
			rc = 0;
		}
	fclose(f);
	return rc;
}

static int write_file(const char *dir, const char *file, const char *text)
{
	char path[PATH_MAX + 640];
	int fd, rc = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, text, strlen(text)) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

static bool has_controllers(const char *dir)
{
	char path[PATH_MAX + 640], buf[256] = "";
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/cgroup.controllers", dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	return strstr(buf, "pids") && strstr(buf, "memory");
}

/* Let the VM's cgroup use pids and memory. A non-root cgroup with
 * processes of its own may not hand controllers down ("no internal
 * processes"); when the monitor is the one in the way, as in a systemd
 * service's delegated cgroup, it moves itself into a leaf of the VM's. */
static int enable_below(struct mon_cgroup *cg, const char *base, bool root)
{
	char self[PATH_MAX + 16], pid[16];
	int rc = write_file(base, "cgroup.subtree_control", CONTROLLERS);

	if (rc == -EBUSY && !root) {
		snprintf(self, sizeof(self), "%s/monitor", cg->path);
		snprintf(pid, sizeof(pid), "%d", (int)getpid());
		if (mkdir(self, 0755) < 0 || write_file(self, "cgroup.procs", pid) < 0)
			return -errno;
		cg->moved_self = true;
		rc = write_file(base, "cgroup.subtree_control", CONTROLLERS);
	}
	return rc < 0 ? rc : write_file(cg->path, "cgroup.subtree_control", CONTROLLERS);
}

static void none(struct mon_cgroup *cg, const char *why, int err)
{
	snprintf(cg->why_none, sizeof(cg->why_none), "%s%s%s", why, err ? ": " : "",
		 err ? strerror(-err) : "");
	log_debug("no cgroup for this VM (%s); the children's rlimits still hold", cg->why_none);
}

void mon_cgroup_create(struct mon_cgroup *cg, uint64_t pids, uint64_t mem_bytes)
{
	char mnt[512], own[PATH_MAX], base[PATH_MAX + 512], num[32];
	int rc;

	*cg = (struct mon_cgroup){.dirfd = -1};
	if ((rc = cgroup2_mount(mnt, sizeof(mnt))) < 0)
		return none(cg, "cgroup v2 is not mounted", 0);
	if ((rc = own_cgroup(own, sizeof(own))) < 0)
		return none(cg, "no cgroup v2 line in /proc/self/cgroup", 0);
	snprintf(base, sizeof(base), "%s%s", mnt, strcmp(own, "/") ? own : "");
	if (!has_controllers(base))
		return none(cg, "the pids and memory controllers are not available in cgroup v2",
			    0);
	if ((size_t)snprintf(cg->path, sizeof(cg->path), "%s/moat.%d", base, (int)getpid()) >=
	    sizeof(cg->path))
		return none(cg, "the cgroup path is too long", 0);
	if (mkdir(cg->path, 0755) < 0)
		return none(cg, "cannot create the VM's cgroup", -errno);
	rc = enable_below(cg, base, strcmp(own, "/") == 0);
	if (rc == 0) {
		snprintf(num, sizeof(num), "%llu", (unsigned long long)pids);
		rc = write_file(cg->path, "pids.max", num);
	}
	if (rc == 0) {
		snprintf(num, sizeof(num), "%llu", (unsigned long long)mem_bytes);
		rc = write_file(cg->path, "memory.max", num);
	}
	if (rc == 0)
		cg->dirfd = open(cg->path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (cg->dirfd < 0) {
		mon_cgroup_remove(cg);
		return none(cg, "cannot set up the VM's cgroup", rc ? rc : -errno);
	}
	log_debug("cgroup %s: pids.max %llu, memory.max %llu", cg->path, (unsigned long long)pids,
		  (unsigned long long)mem_bytes);
}

int mon_cgroup_leaf(struct mon_cgroup *cg, const char *name)
{
	char path[PATH_MAX + 32];
	int fd;

	if (cg->dirfd < 0)
		return 0;
	snprintf(path, sizeof(path), "%s/%s", cg->path, name);
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return log_warn_errno(errno, "cgroup leaf %s: %m", path), 0;
	fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? 0 : fd;
}

/* rmdir every leaf (the monitor's own only if it could leave it), then the
 * VM's cgroup. Best effort: what is left is empty and harmless. */
void mon_cgroup_remove(struct mon_cgroup *cg)
{
	DIR *d;
	struct dirent *e;

	if (!cg->path[0])
		return;
	if ((d = opendir(cg->path))) {
		while ((e = readdir(d)))
			if (e->d_type == DT_DIR && e->d_name[0] != '.' &&
			    !(cg->moved_self && strcmp(e->d_name, "monitor") == 0)) {
				char leaf[PATH_MAX + 300];
				snprintf(leaf, sizeof(leaf), "%s/%s", cg->path, e->d_name);
				(void)rmdir(leaf);
			}
		closedir(d);
	}
	if (!cg->moved_self)
		(void)rmdir(cg->path);
	if (cg->dirfd >= 0)
		close(cg->dirfd);
	cg->dirfd = -1;
}
