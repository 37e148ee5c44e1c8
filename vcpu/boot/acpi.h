/* The ACPI tables of a moat VM: RSDP, RSDT and XSDT, FADT, FACS, MADT and a
 * DSDT (with an SSDT where that reads better), built by moat for the
 * firmware to install through fw_cfg's table-loader (QEMU's
 * etc/table-loader with etc/acpi/tables and etc/acpi/rsdp), and placed by
 * moat itself for a direct kernel boot by running the same loader script.
 *
 * The machine they describe: an i440FX host bridge at 00:00.0, a PIIX3
 * ISA bridge at 00:01.0 (COM1 0x3F8 IRQ 4, i8042 0x60/0x64 IRQ 1, RTC
 * 0x70), a PIIX4 power-management function at 00:01.3 whose PM1a event
 * block, PM1a control block and PM timer are at pm_base + 0, + 4 and + 8,
 * SCI on IRQ 9 (level, active high), ISA IRQ 0 on GSI 0 (KVM's default
 * routing, docs/decisions/0004), the reset register 0xCF9 (value 6),
 * the IOAPIC at 0xFEC00000 and one LAPIC per vCPU, and, with smc, Apple's
 * SMC (APP0001, ports 0x300-0x31F, IRQ 6) where Mac OS X looks for it.
 *
 * Pure builder: no I/O, no globals. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct acpi_config {
	unsigned ncpus;	       /* 1 .. MOAT_MAX_CPUS */
	uint64_t low_ram_end;  /* end of guest RAM below 4 GiB */
	uint64_t high_ram_end; /* end of guest RAM above 4 GiB, 0 if none */
	uint16_t pm_base;      /* PIIX4 PMBA (64 ports, 64-aligned) */
	bool smc;	       /* describe the Apple SMC */
};

/* QEMU's table-loader command (128 bytes each, little endian). */
#define ACPI_LOADER_CMD_SIZE	 128
#define ACPI_LOADER_ALLOCATE	 1
#define ACPI_LOADER_ADD_POINTER	 2
#define ACPI_LOADER_ADD_CHECKSUM 3
#define ACPI_LOADER_FILE_MAX	 56 /* fw_cfg file names, with the NUL */
#define ACPI_LOADER_ZONE_HIGH	 1
#define ACPI_LOADER_ZONE_FSEG	 2

#define ACPI_FILE_TABLES "etc/acpi/tables"
#define ACPI_FILE_RSDP	 "etc/acpi/rsdp"
#define ACPI_FILE_LOADER "etc/table-loader"

/* The three fw_cfg files. Pointers inside tables hold offsets into
 * ACPI_FILE_TABLES (the loader's ADD_POINTER adds the allocation address);
 * checksums are left for the loader's ADD_CHECKSUM. */
struct acpi_tables {
	uint8_t *tables;
	size_t tables_len;
	uint8_t *rsdp;
	size_t rsdp_len; /* 36: revision 2 */
	uint8_t *loader;
	size_t loader_len;
};

/* Build all three (the caller frees them with acpi_tables_free; *out is
 * written only on success). 0, -EINVAL (a bad config: ncpus outside
 * 1 .. MOAT_MAX_CPUS, pm_base 0 or not 64-aligned, low_ram_end below
 * 1 MiB or above the PCI hole's start, high_ram_end neither 0 nor in
 * (4 GiB, 4 GiB + MOAT_MEM_MAX]), -ENOMEM. The sizes depend only on ncpus
 * and smc, so a rebuild with another pm_base or RAM size gives files of
 * the same sizes (fw_cfg_update_file). */
int acpi_build(const struct acpi_config *c, struct acpi_tables *out);
void acpi_tables_free(struct acpi_tables *t);

/* Run a loader script as firmware would, on memory the caller gives:
 * the RSDP at rsdp_buf (guest address rsdp_gpa, 16-aligned, for Linux's
 * scan of 0xE0000-0xFFFFF) and the tables at tables_buf (guest address
 * tables_gpa, 64-aligned, below 4 GiB: the RSDT's and the FADT's 32-bit
 * pointers must reach them). The two must not overlap, in the guest or in
 * the caller's memory. Each file is copied in by its ALLOCATE, then
 * pointers and checksums are patched: what is left is final. For a direct
 * kernel boot; also what the unit tests check the loader script with.
 * Writes nothing outside [rsdp_buf, + rsdp_len) and [tables_buf, +
 * tables_len), whatever the script says. 0, -EINVAL (a NULL argument, a
 * misaligned or overlapping place, a command that is unknown, names an
 * unknown or not yet allocated file, points or sums outside its file, has
 * a pointer size other than 1, 2, 4 or 8 or a pointer that does not fit
 * it, or a script that leaves a file unallocated), -ENOSPC (a buffer too
 * small). On an error the two buffers hold whatever was written so far. */
int acpi_place(const struct acpi_tables *t, uint8_t *rsdp_buf, size_t rsdp_room, uint64_t rsdp_gpa,
	       uint8_t *tables_buf, size_t tables_room, uint64_t tables_gpa);
