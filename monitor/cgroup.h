/* One cgroup v2 per VM (issue 10): under the cgroup moat runs in (a
 * systemd service with Delegate=yes gives it one), a directory moat.PID
 * with pids.max and memory.max for the whole VM, and a leaf per child,
 * each child born in its leaf (CLONE_INTO_CGROUP). Where there is no
 * cgroup v2 with the pids and memory controllers that moat may write,
 * the VM runs without one (the children's rlimits still hold) and -v says
 * why, once. */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

struct mon_cgroup {
	int dirfd;	     /* the VM's cgroup; -1: none */
	char path[PATH_MAX]; /* and its path */
	bool moved_self;     /* the monitor moved into path/monitor to allow it */
	char why_none[160];  /* when dirfd is -1 */
};

/* Make the VM's cgroup with these limits (pids: tasks of all children;
 * mem_bytes: their memory, guest RAM included). Never fails the VM: on any
 * trouble cg->dirfd is -1 and cg->why_none says why. */
void mon_cgroup_create(struct mon_cgroup *cg, uint64_t pids, uint64_t mem_bytes);

/* A leaf for the child NAME, as a descriptor for the spawn (close it after),
 * or 0 when the VM has no cgroup. */
int mon_cgroup_leaf(struct mon_cgroup *cg, const char *name);

/* Remove the leaves and the VM's cgroup once every child is reaped. */
void mon_cgroup_remove(struct mon_cgroup *cg);
