/* Guest RAM's backing: one file that every process maps, sized once. Where
 * the host has them it is backed by 2 MiB pages, because every guest TLB
 * miss also walks the host's page table for guest RAM and a 4 KiB host page
 * makes that walk (and boot, which touches all of RAM) slower; see
 * docs/decisions/0018-huge-pages.md. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "options.h"

enum mon_ram_backing {
	MON_RAM_4K,	 /* a sealed memfd of 4 KiB pages */
	MON_RAM_HUGETLB, /* a sealed memfd from the host's 2 MiB hugetlb pool */
	MON_RAM_THP,	 /* a file on a private tmpfs instance, huge=within_size */
};

struct mon_guest_ram {
	int fd;
	enum mon_ram_backing backing;
	bool sealed;   /* F_SEAL_SHRINK|GROW|SEAL: every backing but THP */
	bool prealloc; /* every page allocated before the guest runs */
	char why[200]; /* -v: why auto took what it took */
};

/* Make guest RAM of bytes (a multiple of 4 KiB) as huge and prealloc ask.
 * 0 and *out, or -errno and one line in err (hugepages=on without a pool
 * with room for it: -ENOMEM). */
int mon_guest_ram_create(uint64_t bytes, enum mon_huge huge, bool prealloc,
			 struct mon_guest_ram *out, char *err, size_t len);

/* "4k", "hugetlb" or "thp": for -v, the audit trail and moat ctl status. */
const char *mon_ram_backing_name(enum mon_ram_backing b);
