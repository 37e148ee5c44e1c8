/* Guest RAM as every process sees it: the KVM slots moat-vcpu registers
 * and the regions a device process reaches through its own mapping of the
 * guest-RAM memfd are the same list, from mach_ram_regions(), and every
 * guest-physical range either of them touches goes through mach_ram_ptr().
 * Pure functions on caller memory. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "guest_layout.h"

/* Below the PCI hole, and above 4 GiB. */
#define MACH_RAM_MAX_REGIONS 2

/* One guest RAM region, which is one KVM memory slot: the guest range
 * [gpa, gpa + size) is backed by the guest-RAM memfd from offset off. */
struct mach_ram_region {
	uint64_t gpa;
	uint64_t size;
	uint64_t off;
};

/* Whether mem_bytes is a guest RAM size moat accepts: a multiple of 4 KiB
 * in [MOAT_MEM_MIN, MOAT_MEM_MAX]. */
bool mach_ram_size_ok(uint64_t mem_bytes);

/* Where RAM below the PCI hole ends for mem_bytes of RAM; the rest, if
 * any, continues at MOAT_HIGH_RAM_GPA. */
uint64_t mach_ram_low_end(uint64_t mem_bytes);

/* Fill out[] with the regions of a guest with mem_bytes of RAM: the low one
 * at 0 (memfd offset 0) up to the PCI hole, and when RAM does not fit below
 * the hole, the high one at 4 GiB (memfd offset = low size); *n gets 1 or
 * 2. Returns 0, or -EINVAL (NULL, or !mach_ram_size_ok) with out and *n
 * untouched. */
int mach_ram_regions(uint64_t mem_bytes, struct mach_ram_region out[MACH_RAM_MAX_REGIONS],
		     unsigned *n);

/* Host pointer to the guest range [gpa, gpa + len), or NULL unless the
 * whole range lies in one of the n regions r[] (never the PCI hole, never
 * across a region's end, no wrap-around past 2^64). base is the host
 * mapping of the memfd, base_len bytes long; a region whose memfd range is
 * not inside it gives NULL. len 0 is allowed (non-NULL if gpa is inside or
 * at the end of a region). */
void *mach_ram_ptr(uint8_t *base, uint64_t base_len, const struct mach_ram_region *r, unsigned n,
		   uint64_t gpa, uint64_t len);
