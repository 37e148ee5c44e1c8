/* Guest RAM as a device process sees it: the guest-RAM memfd mapped shared,
 * and a bounds-checked translation from guest-physical addresses. Every
 * address a guest hands a device goes through gmem_ptr(), which refuses any
 * range not entirely inside one RAM slot (never the PCI hole, never past
 * the end, no wrap-around). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "ram.h"

struct gmem {
	uint8_t *base; /* the whole memfd, MAP_SHARED */
	uint64_t size;
	struct mach_ram_region r[MACH_RAM_MAX_REGIONS];
	unsigned n;
	bool mapped; /* base is our own mmap (gmem_map), not a caller buffer */
};

/* Map a guest-RAM memfd of mem_bytes with moat's layout (machine/ram.h
 * mach_ram_regions). 0 or -errno (-EINVAL if the file is smaller than
 * mem_bytes or the size is not a valid guest size). */
int gmem_map(struct gmem *m, int memfd, uint64_t mem_bytes);
/* For tests and fuzzers: a fake guest memory over a caller buffer, one
 * region [gpa, gpa+len). */
void gmem_fake(struct gmem *m, uint8_t *buf, uint64_t gpa, uint64_t len);
/* Undo gmem_map and zero *m. Accepts NULL, a zeroed gmem and a fake one
 * (whose buffer stays the caller's). */
void gmem_unmap(struct gmem *m);
/* Host pointer to [gpa, gpa+len) or NULL (mach_ram_ptr: inside one region
 * or nothing). len 0 is allowed (non-NULL if gpa is inside or at the end
 * of a region). */
void *gmem_ptr(const struct gmem *m, uint64_t gpa, uint64_t len);
