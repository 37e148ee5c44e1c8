/* Guest e820 map, from guest_layout.h. */
#include <errno.h>

#include "e820.h"
#include "ram.h"

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
 * guest never places anything over them. The ACPI tables of a direct
 * boot are ACPI reclaimable memory, as firmware would say. The map is built aside and copied
 * out only when it fits. */
int e820_build(uint64_t mem_bytes, struct e820_entry *out, unsigned max, unsigned *n)
{
	struct e820_entry t[E820_MOAT_MAX_ENTRIES];
	unsigned cnt = 0;
	uint64_t low_end;

	if (!out || !n || !mach_ram_size_ok(mem_bytes))
		return -EINVAL;
	low_end = mach_ram_low_end(mem_bytes);

	add(t, &cnt, 0, MOAT_EBDA_GPA, E820_TYPE_RAM);
	add(t, &cnt, MOAT_EBDA_GPA, MOAT_EBDA_END, E820_TYPE_RESERVED);
	add(t, &cnt, MOAT_ACPI_GPA, MOAT_ACPI_END, E820_TYPE_ACPI);
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
