/* The host uids of one VM's children: a block of MON_UID_BLOCK ids, one per
 * child (moat-vcpu the first, each device the next), so that a compromised
 * device cannot signal or ptrace another child, and a block no other moat
 * holds: a lock file per block under MON_UID_DIR, held (flock) for the
 * monitor's life, and no process running with an id of the block. Unlike a
 * uid made from the monitor's pid, this holds across PID namespaces
 * (containers), wherever /run is shared.
 *
 * Blocks start at MOAT_UID_BASE (spawn.h explains the range) and stay below
 * 2^31. */
#pragma once

#include <stddef.h>
#include <sys/types.h>

#define MON_UID_BLOCK 16 /* ids per VM: 1 + MOAT_MAX_DEVICES fit */
#define MON_UID_DIR   "/run/moat/uids"

struct mon_uids {
	uid_t base; /* moat-vcpu's; device i gets base + 1 + i */
	int lock_fd;
};

/* Reserve a free block. 0, or -errno with one line in err. */
int mon_uids_reserve(struct mon_uids *u, char *err, size_t errlen);
void mon_uids_release(struct mon_uids *u);
