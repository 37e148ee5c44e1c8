/* What the firmware reads through fw_cfg: the machine (RAM, vCPUs, the
 * e820 map), the SMBIOS moat builds, the ACPI tables with their loader
 * script (rebuilt when the firmware selects them, so the FADT names the PM
 * base the firmware programmed by then, as QEMU does), where COM1 is, and
 * no bootorder: both firmwares then boot the disks in PCI slot order,
 * which is --disk order. CMOS gets the memory sizes too, for firmware
 * that looks there first. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot/acpi.h"
#include "bytes.h"
#include "e820.h"
#include "guest_layout.h"
#include "loader.h"
#include "log.h"

#define SERCON_PORT	   0x3f8
#define SMBIOS_BUF	   0x10000
#define SMBIOS_ANCHOR_LEN  0x1f	 /* the 2.x "_SM_" entry point */
#define SMBIOS_TABLE_ADDR  0x18	 /* its structure table address (u32) */
#define ACPI_PM_BASE_FIRST 0x600 /* until the firmware programs PMBA */

static void *fw_ram(void *opaque, uint64_t gpa, uint64_t len)
{
	return vm_gpa_ptr(opaque, gpa, len);
}

/* QEMU's etc/e820: RAM below and above the hole, and KVM's private pages
 * reserved; the firmware adds its own areas to the map it gives the OS. */
static int add_e820(struct vm *vm)
{
	uint8_t buf[(MACH_RAM_MAX_REGIONS + 1) * 20], *p = buf;

	for (unsigned i = 0; i < vm->nslots; i++, p += 20) {
		le64_put(p, vm->slots[i].gpa);
		le64_put(p + 8, vm->slots[i].size);
		le32_put(p + 16, E820_TYPE_RAM);
	}
	le64_put(p, MOAT_KVM_IDENTITY_MAP_GPA);
	le64_put(p + 8, MOAT_KVM_PRIVATE_END - MOAT_KVM_IDENTITY_MAP_GPA);
	le32_put(p + 16, E820_TYPE_RESERVED);
	p += 20;
	return fw_cfg_add_file(&vm->fwcfg, "etc/e820", buf, p - buf);
}

/* SMBIOS as two files, the entry point and the structures; the firmware
 * places them and fills in the table address. */
static int add_smbios(struct vm *vm, const struct boot_input *in, char *why, size_t whylen)
{
	uint8_t *buf = calloc(1, SMBIOS_BUF);
	size_t used;
	uint32_t table;
	int rc = buf ? 0 : -ENOMEM;

	if (rc == 0)
		rc = loader_smbios_write(vm, in, buf, SMBIOS_BUF, MOAT_SMBIOS_GPA, &used, why,
					 whylen);
	if (rc == 0) {
		table = le32_get(buf + SMBIOS_TABLE_ADDR) - MOAT_SMBIOS_GPA;
		if (table < SMBIOS_ANCHOR_LEN || table > used)
			rc = -EINVAL;
	}
	if (rc == 0)
		rc =
		    fw_cfg_add_file(&vm->fwcfg, "etc/smbios/smbios-anchor", buf, SMBIOS_ANCHOR_LEN);
	if (rc == 0)
		rc = fw_cfg_add_file(&vm->fwcfg, "etc/smbios/smbios-tables", buf + table,
				     used - table);
	free(buf);
	return rc;
}

static int build_acpi(struct vm *vm, uint16_t pm_base, struct acpi_tables *t)
{
	struct acpi_config c = {
	    .ncpus = vm->ncpus,
	    .low_ram_end = vm->slots[0].gpa + vm->slots[0].size,
	    .high_ram_end = vm->nslots > 1 ? vm->slots[1].gpa + vm->slots[1].size : 0,
	    .pm_base = pm_base,
	    .smc = vm->smc,
	};

	return acpi_build(&c, t);
}

/* The firmware is about to read an ACPI file: rebuild all three with the
 * PM base it has programmed (the sizes do not change with it). */
static void acpi_on_select(void *opaque, struct fw_cfg *fc, const char *name)
{
	struct vm *vm = opaque;
	struct acpi_tables t = {0};
	uint16_t base = pci_pm_base(&vm->pci);

	if (strncmp(name, "etc/acpi/", 9) != 0 && strcmp(name, ACPI_FILE_LOADER) != 0)
		return;
	if (base == 0 || base == vm->acpi_pm_base || build_acpi(vm, base, &t) < 0)
		return;
	if (fw_cfg_update_file(fc, ACPI_FILE_TABLES, t.tables, t.tables_len) < 0 ||
	    fw_cfg_update_file(fc, ACPI_FILE_RSDP, t.rsdp, t.rsdp_len) < 0 ||
	    fw_cfg_update_file(fc, ACPI_FILE_LOADER, t.loader, t.loader_len) < 0)
		log_warn("ACPI tables could not be rebuilt for PM base %#x", base);
	else
		vm->acpi_pm_base = base;
	acpi_tables_free(&t);
}

static int add_acpi(struct vm *vm)
{
	struct acpi_tables t = {0};
	int rc = build_acpi(vm, ACPI_PM_BASE_FIRST, &t);

	if (rc < 0)
		return log_error_errno(rc, "Failed to build the ACPI tables: %m");
	vm->acpi_pm_base = ACPI_PM_BASE_FIRST;
	rc = fw_cfg_add_file(&vm->fwcfg, ACPI_FILE_TABLES, t.tables, t.tables_len);
	if (rc == 0)
		rc = fw_cfg_add_file(&vm->fwcfg, ACPI_FILE_RSDP, t.rsdp, t.rsdp_len);
	if (rc == 0)
		rc = fw_cfg_add_file(&vm->fwcfg, ACPI_FILE_LOADER, t.loader, t.loader_len);
	acpi_tables_free(&t);
	fw_cfg_set_select_hook(&vm->fwcfg, acpi_on_select, vm);
	return rc;
}

/* CMOS memory sizes, as QEMU's pc sets them. */
static void cmos_memory(struct vm *vm)
{
	uint64_t low = vm->slots[0].size, high = vm->nslots > 1 ? vm->slots[1].size : 0;
	uint64_t ext = low > (1 << 20) ? (low - (1 << 20)) >> 10 : 0;	    /* KiB above 1 MiB */
	uint64_t above16 = low > (16 << 20) ? (low - (16 << 20)) >> 16 : 0; /* 64 KiB units */
	uint8_t *ram = vm->rtc.ram;

	ext = ext > 0xfc00 ? 0xfc00 : ext;
	above16 = above16 > 0xffff ? 0xffff : above16;
	high >>= 16;
	ram[0x15] = 640 & 0xff, ram[0x16] = 640 >> 8;
	ram[0x17] = ram[0x30] = ext & 0xff, ram[0x18] = ram[0x31] = ext >> 8;
	ram[0x34] = above16 & 0xff, ram[0x35] = above16 >> 8;
	ram[0x5b] = high & 0xff, ram[0x5c] = (high >> 8) & 0xff, ram[0x5d] = (high >> 16) & 0xff;
	ram[0x5f] = vm->ncpus - 1;
}

int fw_files_setup(struct vm *vm, const struct boot_input *in, char *why, size_t whylen)
{
	struct fw_cfg *fc = &vm->fwcfg;
	uint8_t b[8];
	int rc;

	cmos_memory(vm);
	rc = fw_cfg_init(fc, fw_ram, vm);
	le64_put(b, vm->mem_bytes);
	if (rc == 0)
		rc = fw_cfg_add_item(fc, FW_CFG_RAM_SIZE, b, 8);
	le16_put(b, vm->ncpus);
	if (rc == 0)
		rc = fw_cfg_add_item(fc, FW_CFG_NB_CPUS, b, 2);
	if (rc == 0)
		rc = fw_cfg_add_item(fc, FW_CFG_MAX_CPUS, b, 2);
	le16_put(b, 1); /* no display: text on the serial port */
	if (rc == 0)
		rc = fw_cfg_add_item(fc, FW_CFG_NOGRAPHIC, b, 2);
	le32_put(b, 0); /* ISA IRQ 0 is IOAPIC pin 0: moat's routing (decision 0004) */
	if (rc == 0)
		rc = fw_cfg_add_item(fc, FW_CFG_IRQ0_OVERRIDE, b, 4);
	le16_put(b, SERCON_PORT);
	if (rc == 0)
		rc = fw_cfg_add_file(fc, "etc/sercon-port", b, 2);
	if (rc == 0)
		rc = add_e820(vm);
	if (rc == 0)
		rc = add_smbios(vm, in, why, whylen);
	if (rc == 0)
		rc = add_acpi(vm);
	if (rc == -EINVAL && why[0])
		return rc; /* the user's --smbios */
	if (rc < 0)
		return log_error_errno(rc, "Failed to set up fw_cfg: %m");
	return iobus_register(&vm->pio, FW_CFG_PORT_SEL, FW_CFG_PORTS, fw_cfg_io, fc, "fw_cfg");
}
