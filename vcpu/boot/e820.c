/* Guest e820 map and RAM slots, from guest_layout.h. */
#include <errno.h>

#include "e820.h"

static int check_mem_size(uint64_t mem_bytes)
{
	if (mem_bytes < MOAT_MEM_MIN || mem_bytes > MOAT_MEM_MAX || mem_bytes % 4096)
		return -EINVAL;
	return 0;
}

/* RAM below the PCI hole: the rest goes above 4 GiB. */
static uint64_t low_ram_end(uint64_t mem_bytes)
{
	return mem_bytes < MOAT_PCI_HOLE_START ? mem_bytes : MOAT_PCI_HOLE_START;
}

static void add(struct e820_entry *t, unsigned *n, uint64_t start, uint64_t end, uint32_t type)
{
	t[(*n)++] = (struct e820_entry){.addr = start, .size = end - start, .type = type};
}

/* Neither the PCI hole nor the VGA window gets an entry: "no entry" is how
 * e820 says "not RAM, not yours", and Linux places PCI resources in the
 * largest gap below 4 GiB. The IOAPIC and LAPIC pages are left out on
 * purpose: Linux inserts their resources into /proc/iomem itself from the MP
 * table, and an entry would only split the gap (QEMU and Firecracker do not
 * list them either). KVM's private pages are listed as reserved so that the
 * guest never places anything over them. The map is built aside and copied
 * out only when it fits. */
int e820_build(uint64_t mem_bytes, struct e820_entry *out, unsigned max, unsigned *n)
{
	struct e820_entry t[E820_MOAT_MAX_ENTRIES];
	unsigned cnt = 0;
	uint64_t low_end;
	int r;

	if (!out || !n)
		return -EINVAL;
	r = check_mem_size(mem_bytes);
	if (r < 0)
		return r;
	low_end = low_ram_end(mem_bytes);

	add(t, &cnt, 0, MOAT_EBDA_GPA, E820_TYPE_RAM);
	add(t, &cnt, MOAT_EBDA_GPA, MOAT_EBDA_END, E820_TYPE_RESERVED);
	add(t, &cnt, MOAT_BIOS_GPA, MOAT_BIOS_END, E820_TYPE_RESERVED);
	add(t, &cnt, MOAT_HIMEM_GPA, low_end, E820_TYPE_RAM);
	add(t, &cnt, MOAT_KVM_IDENTITY_MAP_GPA, MOAT_KVM_PRIVATE_END, E820_TYPE_RESERVED);
	if (mem_bytes > low_end)
		add(t, &cnt, MOAT_HIGH_RAM_GPA, MOAT_HIGH_RAM_GPA + (mem_bytes - low_end),
		    E820_TYPE_RAM);

	if (cnt > max)
		return -ENOSPC;
	for (unsigned i = 0; i < cnt; i++)
		out[i] = t[i];
	*n = cnt;
	return 0;
}

/* The low slot covers [0, low_end) in full, VGA window and BIOS area
 * included: the BIOS-area tables must be backed by memory, and one slot is
 * cheaper than three. */
int guest_ram_regions(uint64_t mem_bytes, struct ram_region out[2], unsigned *n)
{
	uint64_t low_end;
	int r;

	if (!out || !n)
		return -EINVAL;
	r = check_mem_size(mem_bytes);
	if (r < 0)
		return r;
	low_end = low_ram_end(mem_bytes);

	out[0] = (struct ram_region){.gpa = 0, .size = low_end, .memfd_off = 0};
	*n = 1;
	if (mem_bytes > low_end) {
		out[1] = (struct ram_region){
		    .gpa = MOAT_HIGH_RAM_GPA,
		    .size = mem_bytes - low_end,
		    .memfd_off = low_end,
		};
		*n = 2;
	}
	return 0;
}
