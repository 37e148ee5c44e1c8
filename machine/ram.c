/* Guest RAM regions and bounded access to them (see ram.h). */
#include <errno.h>
#include <stddef.h>

#include "bytes.h"
#include "ram.h"

bool mach_ram_size_ok(uint64_t mem_bytes)
{
	return mem_bytes >= MOAT_MEM_MIN && mem_bytes <= MOAT_MEM_MAX && mem_bytes % 4096 == 0;
}

uint64_t mach_ram_low_end(uint64_t mem_bytes)
{
	return mem_bytes < MOAT_PCI_HOLE_START ? mem_bytes : MOAT_PCI_HOLE_START;
}

/* The low region covers [0, low_end) in full, VGA window and BIOS area
 * included: the BIOS-area tables must be backed by memory, and one slot is
 * cheaper than three. */
int mach_ram_regions(uint64_t mem_bytes, struct mach_ram_region out[MACH_RAM_MAX_REGIONS],
		     unsigned *n)
{
	uint64_t low_end;

	if (!out || !n || !mach_ram_size_ok(mem_bytes))
		return -EINVAL;
	low_end = mach_ram_low_end(mem_bytes);
	out[0] = (struct mach_ram_region){.gpa = 0, .size = low_end, .off = 0};
	*n = 1;
	if (mem_bytes > low_end) {
		out[1] = (struct mach_ram_region){
		    .gpa = MOAT_HIGH_RAM_GPA,
		    .size = mem_bytes - low_end,
		    .off = low_end,
		};
		*n = 2;
	}
	return 0;
}

/* Written without ever computing gpa + len or r.gpa + r.size, so that no
 * sum can wrap: a range whose last byte would lie past 2^64 - 1 is refused
 * first; then the offset into the region is gpa - r.gpa (only when gpa is
 * not below the region) and it must fit with len in what is left. Regions
 * are separated by the PCI hole, so a range that fits no single region
 * straddles a region end or the hole, and is refused. The guest chooses
 * gpa and len; base, r and n are the caller's, but are checked too, so a
 * corrupt table gives NULL rather than a pointer outside the mapping. */
void *mach_ram_ptr(uint8_t *base, uint64_t base_len, const struct mach_ram_region *r, unsigned n,
		   uint64_t gpa, uint64_t len)
{
	if (!base || !r || (len && len - 1 > UINT64_MAX - gpa))
		return NULL;
	for (unsigned i = 0; i < n && i < MACH_RAM_MAX_REGIONS; i++) {
		uint64_t off;

		if (gpa < r[i].gpa)
			continue;
		off = gpa - r[i].gpa;
		if (!bytes_fit(off, len, r[i].size))
			continue;
		if (!bytes_fit(r[i].off, r[i].size, base_len))
			return NULL;
		return base + r[i].off + off;
	}
	return NULL;
}
