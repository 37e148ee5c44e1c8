/* Unit tests for machine/e820.c and ram.c: the guest's e820 map and its KVM slots for
 * sizes around the PCI hole, checked against invariants rather than a copy of
 * the expected table. */
#include <errno.h>
#include <stdint.h>

#include "e820.h"
#include "tap.h"

#define MiB (1ULL << 20)
#define GiB (1ULL << 30)

static int overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

/* Sorted, disjoint, RAM only where RAM may be, total RAM = mem, and every
 * RAM byte backed by exactly one slot at the right memfd offset. */
static int check_map(uint64_t mem)
{
	struct e820_entry e[E820_MOAT_MAX_ENTRIES];
	struct mach_ram_region rr[2];
	unsigned n = 0, nr = 0;
	uint64_t ram = 0, slots = 0;
	int ebda = 0, bios = 0;

	CHECK(e820_build(mem, e, E820_MOAT_MAX_ENTRIES, &n) == 0);
	CHECK(mach_ram_regions(mem, rr, &nr) == 0);
	CHECK(n >= 4 && n <= E820_MOAT_MAX_ENTRIES);
	for (unsigned i = 0; i < n; i++) {
		CHECK(e[i].size > 0);
		CHECK(e[i].addr + e[i].size > e[i].addr);
		if (i > 0)
			CHECK(e[i - 1].addr + e[i - 1].size <= e[i].addr);
		ebda |= e[i].addr == MOAT_EBDA_GPA && e[i].type == E820_TYPE_RESERVED;
		bios |= e[i].addr == MOAT_BIOS_GPA && e[i].size == 0x10000 &&
			e[i].type == E820_TYPE_RESERVED;
		if (e[i].type != E820_TYPE_RAM)
			continue;
		ram += e[i].size;
		CHECK(
		    !overlaps(e[i].addr, e[i].size, MOAT_EBDA_GPA, MOAT_BIOS_END - MOAT_EBDA_GPA));
		CHECK(!overlaps(e[i].addr, e[i].size, MOAT_PCI_HOLE_START,
				MOAT_PCI_HOLE_END - MOAT_PCI_HOLE_START));
		/* Backed by a slot. */
		int backed = 0;
		for (unsigned j = 0; j < nr; j++)
			backed |= e[i].addr >= rr[j].gpa &&
				  e[i].addr + e[i].size <= rr[j].gpa + rr[j].size;
		CHECK(backed);
	}
	CHECK(ebda && bios);
	/* RAM = mem minus what the legacy holes take from the low slot. */
	CHECK(ram == mem - (MOAT_HIMEM_GPA - MOAT_EBDA_GPA));

	CHECK(nr == (mem > MOAT_PCI_HOLE_START ? 2u : 1u));
	CHECK(rr[0].gpa == 0 && rr[0].off == 0);
	for (unsigned j = 0; j < nr; j++) {
		CHECK(rr[j].size > 0 && rr[j].size % 4096 == 0);
		CHECK(rr[j].off == slots);
		CHECK(!overlaps(rr[j].gpa, rr[j].size, MOAT_PCI_HOLE_START,
				MOAT_PCI_HOLE_END - MOAT_PCI_HOLE_START));
		slots += rr[j].size;
	}
	if (nr == 2)
		CHECK(rr[1].gpa == MOAT_HIGH_RAM_GPA);
	CHECK(slots == mem);
	return 0;
}

static int test_sizes(void)
{
	const uint64_t sizes[] = {
	    MOAT_MEM_MIN,   256 * MiB, 1 * GiB, 3 * GiB - 4096, 3 * GiB,
	    3 * GiB + 4096, 4 * GiB,   5 * GiB, 64 * GiB,	MOAT_MEM_MAX,
	};

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		if (check_map(sizes[i])) {
			fprintf(stderr, "size %llu failed\n", (unsigned long long)sizes[i]);
			return 1;
		}
	}
	return 0;
}

static int test_256m(void)
{
	struct e820_entry e[E820_MOAT_MAX_ENTRIES];
	unsigned n = 0;

	CHECK(e820_build(256 * MiB, e, E820_MOAT_MAX_ENTRIES, &n) == 0);
	CHECK(n == 6);
	CHECK(e[0].addr == 0 && e[0].size == 0x9FC00 && e[0].type == E820_TYPE_RAM);
	CHECK(e[2].addr == MOAT_ACPI_GPA && e[2].size == 0x10000 && e[2].type == E820_TYPE_ACPI);
	CHECK(e[4].addr == 0x100000 && e[4].size == 256 * MiB - 0x100000);
	CHECK(e[5].addr == MOAT_KVM_IDENTITY_MAP_GPA && e[5].size == 0x4000);
	CHECK(e[5].type == E820_TYPE_RESERVED);
	return 0;
}

/* Exactly the hole boundary: all RAM below, no high slot. */
static int test_hole_boundary(void)
{
	struct e820_entry e[E820_MOAT_MAX_ENTRIES];
	struct mach_ram_region rr[2];
	unsigned n = 0, nr = 0;

	CHECK(e820_build(MOAT_PCI_HOLE_START, e, E820_MOAT_MAX_ENTRIES, &n) == 0);
	CHECK(n == 6 && e[4].addr + e[4].size == MOAT_PCI_HOLE_START);
	CHECK(mach_ram_regions(MOAT_PCI_HOLE_START, rr, &nr) == 0);
	CHECK(nr == 1 && rr[0].size == MOAT_PCI_HOLE_START);
	return 0;
}

static int test_5g(void)
{
	struct e820_entry e[E820_MOAT_MAX_ENTRIES];
	struct mach_ram_region rr[2];
	unsigned n = 0, nr = 0;

	CHECK(e820_build(5 * GiB, e, E820_MOAT_MAX_ENTRIES, &n) == 0);
	CHECK(n == 7);
	CHECK(e[4].addr + e[4].size == 3 * GiB);
	CHECK(e[6].addr == 4 * GiB && e[6].size == 2 * GiB && e[6].type == E820_TYPE_RAM);
	CHECK(mach_ram_regions(5 * GiB, rr, &nr) == 0);
	CHECK(nr == 2 && rr[0].size == 3 * GiB);
	CHECK(rr[1].gpa == 4 * GiB && rr[1].size == 2 * GiB && rr[1].off == 3 * GiB);
	return 0;
}

static int test_rejects(void)
{
	struct e820_entry e[E820_MOAT_MAX_ENTRIES] = {{1, 2, 3}};
	struct mach_ram_region rr[2];
	unsigned n = 42, nr = 42;

	CHECK(e820_build(0, e, E820_MOAT_MAX_ENTRIES, &n) == -EINVAL);
	CHECK(e820_build(MOAT_MEM_MIN - 4096, e, E820_MOAT_MAX_ENTRIES, &n) == -EINVAL);
	CHECK(e820_build(MOAT_MEM_MIN + 1, e, E820_MOAT_MAX_ENTRIES, &n) == -EINVAL);
	CHECK(e820_build(MOAT_MEM_MAX + 4096, e, E820_MOAT_MAX_ENTRIES, &n) == -EINVAL);
	CHECK(e820_build(UINT64_MAX & ~4095ULL, e, E820_MOAT_MAX_ENTRIES, &n) == -EINVAL);
	CHECK(e820_build(5 * GiB, e, 6, &n) == -ENOSPC);
	CHECK(e820_build(256 * MiB, e, 5, &n) == -ENOSPC);
	CHECK(n == 42 && e[0].addr == 1);
	CHECK(e820_build(256 * MiB, e, 6, &n) == 0 && n == 6);
	CHECK(mach_ram_regions(MOAT_MEM_MIN - 4096, rr, &nr) == -EINVAL && nr == 42);
	return 0;
}

TAP_MAIN(TEST(test_sizes), TEST(test_256m), TEST(test_hole_boundary), TEST(test_5g),
	 TEST(test_rejects))
