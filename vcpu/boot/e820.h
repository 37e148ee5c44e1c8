/* The guest's e820 memory map and its RAM slots, both derived from the
 * layout in guest_layout.h, so the map the guest is told and the memory KVM
 * backs can never disagree. Pure functions on caller buffers. */
#pragma once

#include <stdint.h>

#include "guest_layout.h"

/* e820 types, as in the zero page and in the PVH memory map. */
#define E820_TYPE_RAM	   1
#define E820_TYPE_RESERVED 2
#define E820_TYPE_ACPI	   3
#define E820_TYPE_NVS	   4

/* e820_build() never produces more entries than this. */
#define E820_MOAT_MAX_ENTRIES 8

struct e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
};

/* One KVM memory slot: guest range [gpa, gpa + size) backed by the guest-RAM
 * memfd from memfd_off. */
struct ram_region {
	uint64_t gpa;
	uint64_t size;
	uint64_t memfd_off;
};

/* Fill out[0..max) with the e820 map of a guest with mem_bytes of RAM,
 * sorted by address, without overlaps; *n gets the count.
 * mem_bytes must be a multiple of 4 KiB in [MOAT_MEM_MIN, MOAT_MEM_MAX].
 * Returns 0, -EINVAL for a bad size, -ENOSPC when max is too small
 * (E820_MOAT_MAX_ENTRIES always suffices). */
int e820_build(uint64_t mem_bytes, struct e820_entry *out, unsigned max, unsigned *n);

/* Fill out[0..2) with the KVM slots of a guest with mem_bytes of RAM: the
 * low one at 0 (memfd offset 0) up to the PCI hole, and when RAM does not fit
 * below the hole, the high one at 4 GiB (memfd offset = low size); *n gets
 * 1 or 2. Same size rules and errors as e820_build(). */
int guest_ram_regions(uint64_t mem_bytes, struct ram_region out[2], unsigned *n);
