/* The guest's e820 memory map, derived from the layout in guest_layout.h
 * with the RAM sizes of ram.h, so the map the guest is told and the memory
 * KVM backs (mach_ram_regions) can never disagree. Pure function on a
 * caller buffer. */
#pragma once

#include <stdint.h>

#include "guest_layout.h"
#include "ram.h"

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

/* Fill out[0..max) with the e820 map of a guest with mem_bytes of RAM,
 * sorted by address, without overlaps; *n gets the count.
 * mem_bytes must be a multiple of 4 KiB in [MOAT_MEM_MIN, MOAT_MEM_MAX].
 * Returns 0, -EINVAL for a bad size, -ENOSPC when max is too small
 * (E820_MOAT_MAX_ENTRIES always suffices). */
int e820_build(uint64_t mem_bytes, struct e820_entry *out, unsigned max, unsigned *n);
