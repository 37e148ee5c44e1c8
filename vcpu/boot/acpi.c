/* The ACPI tables of a moat VM (see acpi.h for what they describe), and
 * the table-loader script that installs them. Layouts from ACPI 6.4
 * chapter 5; the loader's commands from QEMU's hw/acpi/bios-linker-loader.c,
 * which SeaBIOS (src/fw/romfile_loader.c) and OVMF (QemuFwCfgAcpi.c) run.
 *
 *   tables blob   FACS (64 bytes, at 0: 64-aligned), DSDT, FADT, MADT,
 *                 RSDT, XSDT, each from an 8-byte boundary
 *   rsdp blob     the 36-byte RSDP, revision 2
 *   loader        ALLOCATE tables, the FADT's pointers, the checksums of
 *                 the DSDT, FADT and MADT, RSDT and XSDT with their
 *                 entries and checksums, ALLOCATE rsdp, its pointers and
 *                 both its checksums: QEMU's order, so each checksum comes
 *                 after every pointer patched into what it covers.
 *
 * The DSDT's AML comes from a small C writer (aml.c), not from ASL compiled
 * by iasl at build time: three parts of it change with the VM (the CPU
 * count, the 32-bit BAR window, the SMC), which compiled AML could only
 * follow by one variant per configuration or by patching bytes at offsets
 * an extraction script finds (QEMU's old way); the vcpu process and the
 * fuzzers would also need iasl to build. The writer is a few hundred lines
 * and the unit tests decode its output with `iasl -d`, so iasl still
 * checks the result. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acpi.h"
#include "aml.h"
#include "bytes.h"
#include "guest_layout.h"
#include "moat_limits.h"
#include "util.h"

enum {
	HDR_LEN = 36,
	HDR_CHECKSUM = 9,
	FACS_LEN = 64,
	FACS_VERSION = 2,
	FADT_LEN = 276, /* revision 6 */
	FADT_REV = 6,
	FADT_MINOR = 0,
	MADT_REV = 3,
	DSDT_REV = 2, /* 64-bit integers */
	RSDT_REV = 1,
	XSDT_REV = 1,
	RSDP_LEN = 36,
	RSDP_V1_LEN = 20,
	RSDP_REV = 2,
	TABLE_ALIGN = 8,
	RSDT_ENTRIES = 2, /* FADT, MADT */
	/* 2 ALLOCATE; 10 ADD_POINTER (the FADT's 4, RSDT's 2, XSDT's 2,
	 * RSDP's 2); 7 ADD_CHECKSUM (DSDT, FADT, MADT, RSDT, XSDT, RSDP's 2) */
	LOADER_CMDS = 19,
};

/* Table header (ACPI 5.2.6): OEM id 6 bytes, OEM table id 8 ("MOAT" and
 * the signature), OEM revision, creator id and revision. */
#define OEM_ID		 "MOAT  "
#define OEM_REVISION	 1
#define CREATOR_ID	 "MOAT"
#define CREATOR_REVISION 1

/* FADT fields (ACPI 5.2.9): byte offsets. */
enum {
	FADT_FIRMWARE_CTRL = 36,
	FADT_DSDT = 40,
	FADT_SCI_INT = 46,
	FADT_SMI_CMD = 48,
	FADT_PM1A_EVT_BLK = 56,
	FADT_PM1A_CNT_BLK = 64,
	FADT_PM_TMR_BLK = 76,
	FADT_PM1_EVT_LEN = 88,
	FADT_PM1_CNT_LEN = 89,
	FADT_PM_TMR_LEN = 91,
	FADT_P_LVL2_LAT = 96,
	FADT_P_LVL3_LAT = 98,
	FADT_CENTURY = 108,
	FADT_IAPC_BOOT_ARCH = 109,
	FADT_FLAGS = 112,
	FADT_RESET_REG = 116,
	FADT_RESET_VALUE = 128,
	FADT_MINOR_VERSION = 131,
	FADT_X_FIRMWARE_CTRL = 132,
	FADT_X_DSDT = 140,
	FADT_X_PM1A_EVT_BLK = 148,
	FADT_X_PM1A_CNT_BLK = 172,
	FADT_X_PM_TMR_BLK = 208,

	FADT_F_WBINVD = 1 << 0,
	FADT_F_PROC_C1 = 1 << 2,
	FADT_F_SLP_BUTTON = 1 << 5, /* set: no sleep button */
	FADT_F_RESET_REG_SUP = 1 << 10,
	BOOT_ARCH_LEGACY_DEVICES = 1 << 0,
	BOOT_ARCH_8042 = 1 << 1,
	C2_C3_NONE = 0x0FFF, /* a latency above 100 (C2), 1000 (C3): no such state */
	CMOS_CENTURY = 0x32, /* vcpu/cmos.c */

	/* Generic address structure (ACPI 5.2.3.2). */
	GAS_SYSTEM_IO = 1,
	GAS_ACCESS_BYTE = 1,
	GAS_ACCESS_WORD = 2,
	GAS_ACCESS_DWORD = 3,

	PM1_EVT_LEN = 4, /* status and enable, 16 bits each */
	PM1_CNT_LEN = 2,
	PM_TMR_LEN = 4, /* 24-bit timer: TMR_VAL_EXT stays clear */
	PM1_CNT_OFF = 4,
	PM_TMR_OFF = 8,
	SCI_IRQ = 9,
	RESET_PORT = 0xCF9,
	RESET_VALUE = 6, /* a hard reset through the PIIX reset control */
};

/* MADT (ACPI 5.2.12). */
enum {
	MADT_PCAT_COMPAT = 1,
	MADT_LAPIC = 0,
	MADT_IOAPIC = 1,
	MADT_ISO = 2,
	MADT_LAPIC_NMI = 4,
	MADT_LAPIC_LEN = 8,
	MADT_IOAPIC_LEN = 12,
	MADT_ISO_LEN = 10,
	MADT_LAPIC_NMI_LEN = 6,
	MADT_LAPIC_ENABLED = 1,
	MADT_ALL_CPUS = 0xFF,
	/* MPS INTI flags: active high (01), level (11 << 2). */
	MADT_ISO_LEVEL_HIGH = 0x000D,
	/* ISA IRQ 0 goes to GSI 0, not QEMU's 2: moat keeps KVM's default
	 * routing, in which the PIT raises GSI 0 and GSI n drives IOAPIC pin
	 * n (docs/decisions/0004-mp-table-irq0.md; the MP table says the
	 * same). The override is still there, with that identity, so the
	 * choice is written in the table for every OS to see. */
	ISA_IRQ0_GSI = 0,
	LINT1 = 1,
};

/* Loader command fields (after the u32 command): byte offsets. */
enum {
	CMD_FILE = 4, /* ALLOCATE's file, ADD_POINTER's dest, ADD_CHECKSUM's */
	CMD_ALLOC_ALIGN = 60,
	CMD_ALLOC_ZONE = 64,
	CMD_PTR_SRC = 60,
	CMD_PTR_OFFSET = 116,
	CMD_PTR_SIZE = 120,
	CMD_CK_RESULT = 60,
	CMD_CK_START = 64,
	CMD_CK_LENGTH = 68,
};

/* The DSDT's fixed facts. */
#define PCI_WINDOW_MIN_START 0x80000000u /* SeaBIOS's i440FX pcimem_start */
#define PCI_WINDOW_END	     ((uint32_t)MOAT_PCI_MMIO_END - 1)
#define ISA_BRIDGE_ADR	     0x00010000u /* 00:01.0 */
#define PRT_FIRST_SLOT	     1
#define PRT_SLOTS	     31
#define PRT_PINS	     4
#define PRT_GSI_BASE	     16 /* the IOAPIC's pins 16-23 */
#define PRT_GSIS	     8
#define SMC_STA		     0x0B /* present, enabled, functioning; not shown */

_Static_assert(FACS_LEN % 64 == 0, "FACS keeps the next table 64-aligned");
_Static_assert(sizeof(ACPI_FILE_TABLES) <= ACPI_LOADER_FILE_MAX &&
		   sizeof(ACPI_FILE_RSDP) <= ACPI_LOADER_FILE_MAX,
	       "a file name fits a command");
_Static_assert((PRT_SLOTS * PRT_PINS) <= 255, "_PRT is one package");
_Static_assert(MOAT_MAX_CPUS < MADT_ALL_CPUS, "a processor id is the NMI entry's 'all'");
_Static_assert(MOAT_PCI_MMIO_END == MOAT_IOAPIC_GPA, "the BAR window ends at the IOAPIC");

struct layout {
	size_t facs, dsdt, fadt, madt, rsdt, xsdt, end;
	size_t dsdt_len, madt_len;
};

struct build {
	const struct acpi_config *c;
	struct layout l;
	uint8_t *tables, *rsdp, *loader;
	unsigned ncmds;			     /* commands written, or wanted */
	uint8_t spill[ACPI_LOADER_CMD_SIZE]; /* past LOADER_CMDS: a bug */
};

static bool config_ok(const struct acpi_config *c)
{
	if (c->ncpus < 1 || c->ncpus > MOAT_MAX_CPUS)
		return false;
	if (c->pm_base == 0 || c->pm_base % 64)
		return false;
	if (c->low_ram_end < MOAT_HIMEM_GPA || c->low_ram_end > MOAT_PCI_HOLE_START)
		return false;
	if (c->high_ram_end && (c->high_ram_end <= MOAT_HIGH_RAM_GPA ||
				c->high_ram_end > MOAT_HIGH_RAM_GPA + MOAT_MEM_MAX))
		return false;
	return true;
}

/* ---- the DSDT ---- */

/* IO and IRQ of one legacy device in a ResourceTemplate. */
static void crs_io_irq(struct aml *a, uint16_t port, uint16_t len, unsigned irq)
{
	aml_name(a, "_CRS");
	aml_rt_begin(a);
	aml_rt_io(a, port, len);
	aml_rt_irq_noflags(a, irq);
	aml_end(a);
}

static void isa_devices(struct aml *a, bool smc)
{
	aml_device_begin(a, "RTC");
	aml_name(a, "_HID");
	aml_eisaid(a, "PNP0B00");
	crs_io_irq(a, 0x70, 2, 8);
	aml_end(a);

	aml_device_begin(a, "KBD");
	aml_name(a, "_HID");
	aml_eisaid(a, "PNP0303");
	aml_name(a, "_CRS");
	aml_rt_begin(a);
	aml_rt_io(a, 0x60, 1);
	aml_rt_io(a, 0x64, 1);
	aml_rt_irq_noflags(a, 1);
	aml_end(a);
	aml_end(a);

	aml_device_begin(a, "MOU");
	aml_name(a, "_HID");
	aml_eisaid(a, "PNP0F13");
	aml_name(a, "_CRS");
	aml_rt_begin(a);
	aml_rt_irq_noflags(a, 12);
	aml_end(a);
	aml_end(a);

	aml_device_begin(a, "COM1");
	aml_name(a, "_HID");
	aml_eisaid(a, "PNP0501");
	aml_name(a, "_UID");
	aml_integer(a, 1);
	crs_io_irq(a, 0x3F8, 8, 4);
	aml_end(a);

	/* QEMU's applesmc: the name, _HID, _STA and resources Mac OS X and
	 * OpenCore look for. */
	if (smc) {
		aml_device_begin(a, "SMC");
		aml_name(a, "_HID");
		aml_eisaid(a, "APP0001");
		aml_name(a, "_STA");
		aml_integer(a, SMC_STA);
		crs_io_irq(a, MOAT_SMC_PIO_BASE, MOAT_SMC_PIO_LEN, 6);
		aml_end(a);
	}
}

/* The host bridge's resources: every bus, the config ports (consumed),
 * the I/O space around them, the VGA window and the 32-bit BAR window
 * from the end of low RAM (no lower than SeaBIOS's start) to the IOAPIC.
 * Every number has a fixed-size encoding, so the size does not depend on
 * the window. */
static void pci_crs(struct aml *a, uint64_t low_ram_end)
{
	uint32_t start =
	    low_ram_end > PCI_WINDOW_MIN_START ? (uint32_t)low_ram_end : PCI_WINDOW_MIN_START;

	aml_name(a, "_CRS");
	aml_rt_begin(a);
	aml_rt_word_bus(a, 0x00, 0xFF);
	aml_rt_io(a, 0xCF8, 8);
	aml_rt_word_io(a, 0x0000, 0x0CF7);
	aml_rt_word_io(a, 0x0D00, 0xFFFF);
	aml_rt_dword_mem(a, 0x000A0000, 0x000BFFFF, 1);
	aml_rt_dword_mem(a, start, PCI_WINDOW_END, 0);
	aml_end(a);
}

/* INTA-INTD of slots 1-31 to GSIs 16-23, swizzled as a PCI bridge would.
 * moat's functions interrupt by MSI-X only; this is for OSes that want a
 * _PRT to exist. */
static void pci_prt(struct aml *a)
{
	aml_name(a, "_PRT");
	aml_package_begin(a, PRT_SLOTS * PRT_PINS);
	for (unsigned slot = PRT_FIRST_SLOT; slot < PRT_FIRST_SLOT + PRT_SLOTS; slot++)
		for (unsigned pin = 0; pin < PRT_PINS; pin++) {
			aml_package_begin(a, 4);
			aml_dword(a, (slot << 16) | 0xFFFF); /* any function */
			aml_integer(a, pin);
			aml_integer(a, 0); /* no link device: a GSI */
			aml_integer(a, PRT_GSI_BASE + (slot + pin) % PRT_GSIS);
			aml_end(a);
		}
	aml_end(a);
}

static void dsdt_body(struct aml *a, const struct acpi_config *c)
{
	/* Soft-off: SLP_TYP 0 (vcpu/acpi_pm.c), as on QEMU's PIIX4. */
	aml_name(a, "_S5");
	aml_package_begin(a, 4);
	for (int i = 0; i < 4; i++)
		aml_integer(a, 0);
	aml_end(a);

	aml_scope_begin(a, "_SB");
	aml_device_begin(a, "PCI0");
	aml_name(a, "_HID");
	aml_eisaid(a, "PNP0A03");
	aml_name(a, "_ADR");
	aml_integer(a, 0);
	aml_name(a, "_UID");
	aml_integer(a, 0);
	aml_name(a, "_BBN");
	aml_integer(a, 0);
	pci_crs(a, c->low_ram_end);
	pci_prt(a);
	aml_device_begin(a, "ISA");
	aml_name(a, "_ADR");
	aml_dword(a, ISA_BRIDGE_ADR);
	isa_devices(a, c->smc);
	aml_end(a); /* ISA */
	aml_end(a); /* PCI0 */

	/* One Processor per vCPU, its id the MADT's ACPI processor id. */
	for (unsigned i = 0; i < c->ncpus; i++) {
		char name[8];

		snprintf(name, sizeof(name), "C%03X", i & 0xFFF); /* QEMU's names */
		aml_processor_begin(a, name, (uint8_t)i);
		aml_end(a);
	}
	aml_end(a); /* \_SB */
}

/* ---- the fixed tables ---- */

static void put_header(uint8_t *p, const char sig[4], size_t len, uint8_t rev)
{
	memcpy(p, sig, 4);
	le32_put(p + 4, (uint32_t)len);
	p[8] = rev;
	p[HDR_CHECKSUM] = 0; /* the loader's ADD_CHECKSUM */
	memcpy(p + 10, OEM_ID, 6);
	memcpy(p + 16, "MOAT", 4);
	memcpy(p + 20, sig, 4);
	le32_put(p + 24, OEM_REVISION);
	memcpy(p + 28, CREATOR_ID, 4);
	le32_put(p + 32, CREATOR_REVISION);
}

/* The next loader command, zeroed but for its type. A builder that
 * wants more than LOADER_CMDS writes into spill and acpi_build fails. */
static uint8_t *cmd(struct build *b, uint32_t type)
{
	uint8_t *c =
	    b->ncmds < LOADER_CMDS ? b->loader + (size_t)b->ncmds * ACPI_LOADER_CMD_SIZE : b->spill;

	b->ncmds++;
	memset(c, 0, ACPI_LOADER_CMD_SIZE);
	le32_put(c, type);
	return c;
}

static void cmd_allocate(struct build *b, const char *file, uint32_t align, uint8_t zone)
{
	uint8_t *c = cmd(b, ACPI_LOADER_ALLOCATE);

	strcpy((char *)c + CMD_FILE, file);
	le32_put(c + CMD_ALLOC_ALIGN, align);
	c[CMD_ALLOC_ZONE] = zone;
}

static void cmd_checksum(struct build *b, const char *file, size_t result, size_t start, size_t len)
{
	uint8_t *c = cmd(b, ACPI_LOADER_ADD_CHECKSUM);

	strcpy((char *)c + CMD_FILE, file);
	le32_put(c + CMD_CK_RESULT, (uint32_t)result);
	le32_put(c + CMD_CK_START, (uint32_t)start);
	le32_put(c + CMD_CK_LENGTH, (uint32_t)len);
}

/* A pointer of size bytes at dest[off] to offset target of the tables
 * blob: the offset goes into the blob, the loader adds the address. */
static void add_pointer(struct build *b, const char *dest_file, uint8_t *dest, size_t off,
			uint8_t size, size_t target)
{
	uint8_t *c = cmd(b, ACPI_LOADER_ADD_POINTER);

	if (size == 4)
		le32_put(dest + off, (uint32_t)target);
	else
		le64_put(dest + off, target);
	strcpy((char *)c + CMD_FILE, dest_file);
	strcpy((char *)c + CMD_PTR_SRC, ACPI_FILE_TABLES);
	le32_put(c + CMD_PTR_OFFSET, (uint32_t)off);
	c[CMD_PTR_SIZE] = size;
}

static void table_checksum(struct build *b, size_t off, size_t len)
{
	cmd_checksum(b, ACPI_FILE_TABLES, off + HDR_CHECKSUM, off, len);
}

static void put_facs(struct build *b)
{
	uint8_t *p = b->tables + b->l.facs;

	memcpy(p, "FACS", 4);
	le32_put(p + 4, FACS_LEN);
	p[32] = FACS_VERSION;
	/* no checksum: the FACS has none */
}

static void put_gas(uint8_t *p, uint8_t bits, uint8_t access, uint64_t port)
{
	p[0] = GAS_SYSTEM_IO;
	p[1] = bits;
	p[2] = 0; /* bit offset */
	p[3] = access;
	le64_put(p + 4, port);
}

static void put_fadt(struct build *b)
{
	uint8_t *p = b->tables + b->l.fadt;
	uint16_t pm = b->c->pm_base;
	size_t off = b->l.fadt;

	put_header(p, "FACP", FADT_LEN, FADT_REV);
	le16_put(p + FADT_SCI_INT, SCI_IRQ);
	le32_put(p + FADT_SMI_CMD, 0); /* no SMM: already in ACPI mode */
	le32_put(p + FADT_PM1A_EVT_BLK, pm);
	le32_put(p + FADT_PM1A_CNT_BLK, pm + PM1_CNT_OFF);
	le32_put(p + FADT_PM_TMR_BLK, pm + PM_TMR_OFF);
	p[FADT_PM1_EVT_LEN] = PM1_EVT_LEN;
	p[FADT_PM1_CNT_LEN] = PM1_CNT_LEN;
	p[FADT_PM_TMR_LEN] = PM_TMR_LEN;
	le16_put(p + FADT_P_LVL2_LAT, C2_C3_NONE);
	le16_put(p + FADT_P_LVL3_LAT, C2_C3_NONE);
	p[FADT_CENTURY] = CMOS_CENTURY;
	le16_put(p + FADT_IAPC_BOOT_ARCH, BOOT_ARCH_LEGACY_DEVICES | BOOT_ARCH_8042);
	/* PWR_BUTTON clear: the power button is the fixed-feature one. */
	le32_put(p + FADT_FLAGS,
		 FADT_F_WBINVD | FADT_F_PROC_C1 | FADT_F_SLP_BUTTON | FADT_F_RESET_REG_SUP);
	put_gas(p + FADT_RESET_REG, 8, GAS_ACCESS_BYTE, RESET_PORT);
	p[FADT_RESET_VALUE] = RESET_VALUE;
	p[FADT_MINOR_VERSION] = FADT_MINOR;
	put_gas(p + FADT_X_PM1A_EVT_BLK, PM1_EVT_LEN * 8, GAS_ACCESS_WORD, pm);
	put_gas(p + FADT_X_PM1A_CNT_BLK, PM1_CNT_LEN * 8, GAS_ACCESS_WORD, pm + PM1_CNT_OFF);
	put_gas(p + FADT_X_PM_TMR_BLK, PM_TMR_LEN * 8, GAS_ACCESS_DWORD, pm + PM_TMR_OFF);

	/* Both widths of each pointer, equal (ACPICA takes equal ones
	 * silently); OVMF's table protocol rewrites them anyway. */
	add_pointer(b, ACPI_FILE_TABLES, b->tables, off + FADT_FIRMWARE_CTRL, 4, b->l.facs);
	add_pointer(b, ACPI_FILE_TABLES, b->tables, off + FADT_DSDT, 4, b->l.dsdt);
	add_pointer(b, ACPI_FILE_TABLES, b->tables, off + FADT_X_FIRMWARE_CTRL, 8, b->l.facs);
	add_pointer(b, ACPI_FILE_TABLES, b->tables, off + FADT_X_DSDT, 8, b->l.dsdt);
}

static size_t madt_len(unsigned ncpus)
{
	return HDR_LEN + 8 + (size_t)ncpus * MADT_LAPIC_LEN + MADT_IOAPIC_LEN + 2 * MADT_ISO_LEN +
	       MADT_LAPIC_NMI_LEN;
}

static uint8_t *put_iso(uint8_t *e, uint8_t irq, uint32_t gsi, uint16_t flags)
{
	e[0] = MADT_ISO;
	e[1] = MADT_ISO_LEN;
	e[2] = 0; /* ISA */
	e[3] = irq;
	le32_put(e + 4, gsi);
	le16_put(e + 8, flags);
	return e + MADT_ISO_LEN;
}

/* One LAPIC per vCPU (processor id = APIC id = index), the IOAPIC with the
 * id the MP table gives it (ncpus), IRQ 0 and the SCI's overrides, and
 * NMI on every LAPIC's LINT1. */
static void put_madt(struct build *b)
{
	uint8_t *p = b->tables + b->l.madt, *e;
	unsigned n = b->c->ncpus;

	put_header(p, "APIC", b->l.madt_len, MADT_REV);
	le32_put(p + 36, (uint32_t)MOAT_LAPIC_GPA);
	le32_put(p + 40, MADT_PCAT_COMPAT);
	e = p + 44;
	for (unsigned i = 0; i < n; i++, e += MADT_LAPIC_LEN) {
		e[0] = MADT_LAPIC;
		e[1] = MADT_LAPIC_LEN;
		e[2] = (uint8_t)i;
		e[3] = (uint8_t)i;
		le32_put(e + 4, MADT_LAPIC_ENABLED);
	}
	e[0] = MADT_IOAPIC;
	e[1] = MADT_IOAPIC_LEN;
	e[2] = (uint8_t)n;
	le32_put(e + 4, (uint32_t)MOAT_IOAPIC_GPA);
	le32_put(e + 8, 0); /* GSI base */
	e += MADT_IOAPIC_LEN;
	e = put_iso(e, 0, ISA_IRQ0_GSI, 0);
	e = put_iso(e, SCI_IRQ, SCI_IRQ, MADT_ISO_LEVEL_HIGH);
	e[0] = MADT_LAPIC_NMI;
	e[1] = MADT_LAPIC_NMI_LEN;
	e[2] = MADT_ALL_CPUS;
	le16_put(e + 3, 0); /* flags: as the bus says */
	e[5] = LINT1;
}

/* RSDT (4-byte entries) or XSDT (8-byte ones): FADT and MADT. */
static void put_sdt(struct build *b, size_t off, const char sig[4], uint8_t width)
{
	const size_t entries[RSDT_ENTRIES] = {b->l.fadt, b->l.madt};
	size_t len = HDR_LEN + RSDT_ENTRIES * (size_t)width;

	put_header(b->tables + off, sig, len, width == 4 ? RSDT_REV : XSDT_REV);
	for (unsigned i = 0; i < RSDT_ENTRIES; i++)
		add_pointer(b, ACPI_FILE_TABLES, b->tables, off + HDR_LEN + i * width, width,
			    entries[i]);
	table_checksum(b, off, len);
}

/* "RSD PTR ", checksum of the first 20 bytes, OEM id, revision, RSDT
 * address, length, XSDT address, extended checksum of all 36. */
static void put_rsdp(struct build *b)
{
	uint8_t *p = b->rsdp;

	memcpy(p, "RSD PTR ", 8);
	memcpy(p + 9, OEM_ID, 6);
	p[15] = RSDP_REV;
	le32_put(p + 20, RSDP_LEN);
	cmd_allocate(b, ACPI_FILE_RSDP, 16, ACPI_LOADER_ZONE_FSEG);
	add_pointer(b, ACPI_FILE_RSDP, p, 16, 4, b->l.rsdt);
	add_pointer(b, ACPI_FILE_RSDP, p, 24, 8, b->l.xsdt);
	cmd_checksum(b, ACPI_FILE_RSDP, 8, 0, RSDP_V1_LEN);
	cmd_checksum(b, ACPI_FILE_RSDP, 32, 0, RSDP_LEN);
}

static void plan(struct layout *l, size_t dsdt_len, unsigned ncpus)
{
	l->facs = 0;
	l->dsdt = l->facs + FACS_LEN;
	l->dsdt_len = dsdt_len;
	l->fadt = ALIGN_UP(l->dsdt + dsdt_len, TABLE_ALIGN);
	l->madt = ALIGN_UP(l->fadt + FADT_LEN, TABLE_ALIGN);
	l->madt_len = madt_len(ncpus);
	l->rsdt = ALIGN_UP(l->madt + l->madt_len, TABLE_ALIGN);
	l->xsdt = ALIGN_UP(l->rsdt + HDR_LEN + RSDT_ENTRIES * 4, TABLE_ALIGN);
	l->end = l->xsdt + HDR_LEN + RSDT_ENTRIES * 8;
}

/* Everything but the DSDT's AML, in loader order. */
static void put_tables(struct build *b, const uint8_t *aml, size_t aml_len)
{
	const struct layout *l = &b->l;

	cmd_allocate(b, ACPI_FILE_TABLES, 64, ACPI_LOADER_ZONE_HIGH);
	put_facs(b);
	put_header(b->tables + l->dsdt, "DSDT", l->dsdt_len, DSDT_REV);
	memcpy(b->tables + l->dsdt + HDR_LEN, aml, aml_len);
	put_fadt(b);
	table_checksum(b, l->dsdt, l->dsdt_len);
	table_checksum(b, l->fadt, FADT_LEN);
	put_madt(b);
	table_checksum(b, l->madt, l->madt_len);
	put_sdt(b, l->rsdt, "RSDT", 4);
	put_sdt(b, l->xsdt, "XSDT", 8);
	put_rsdp(b);
}

int acpi_build(const struct acpi_config *c, struct acpi_tables *out)
{
	struct build b = {.c = c};
	struct aml a;
	uint8_t *aml = NULL;
	size_t aml_len;
	int r;

	if (!c || !out || !config_ok(c))
		return -EINVAL;
	aml_init(&a);
	dsdt_body(&a, c);
	r = aml_finish(&a, &aml, &aml_len);
	if (r)
		return r;
	plan(&b.l, HDR_LEN + aml_len, c->ncpus);
	b.tables = calloc(1, b.l.end);
	b.rsdp = calloc(1, RSDP_LEN);
	b.loader = calloc(LOADER_CMDS, ACPI_LOADER_CMD_SIZE);
	if (!b.tables || !b.rsdp || !b.loader) {
		r = -ENOMEM;
		goto out;
	}
	put_tables(&b, aml, aml_len);
	if (b.ncmds != LOADER_CMDS) { /* a builder bug; never a config */
		r = -EINVAL;
		goto out;
	}
	*out = (struct acpi_tables){
	    .tables = TAKE_PTR(b.tables),
	    .tables_len = b.l.end,
	    .rsdp = TAKE_PTR(b.rsdp),
	    .rsdp_len = RSDP_LEN,
	    .loader = TAKE_PTR(b.loader),
	    .loader_len = (size_t)LOADER_CMDS * ACPI_LOADER_CMD_SIZE,
	};
out:
	free(aml);
	free(b.tables);
	free(b.rsdp);
	free(b.loader);
	return r;
}

void acpi_tables_free(struct acpi_tables *t)
{
	if (!t)
		return;
	free(t->tables);
	free(t->rsdp);
	free(t->loader);
	memset(t, 0, sizeof(*t));
}

/* ---- the loader, run on the caller's memory ---- */

/* One fw_cfg file while the script runs: its contents, where they go and
 * whether an ALLOCATE has put them there. */
struct lfile {
	const char *name;
	const uint8_t *src;
	size_t len;
	uint8_t *buf;
	uint64_t gpa;
	bool allocated;
};

/* The file a command's 56-byte name field names: it must hold a NUL, and
 * the file must be allocated unless this is its ALLOCATE. NULL if not. */
static struct lfile *lookup(struct lfile f[2], const uint8_t *field, bool allocate)
{
	const char *name = (const char *)field;

	if (!memchr(field, 0, ACPI_LOADER_FILE_MAX))
		return NULL;
	for (int i = 0; i < 2; i++)
		if (!strcmp(f[i].name, name))
			return f[i].allocated != allocate ? &f[i] : NULL;
	return NULL;
}

/* ALLOCATE: the guest address must meet the alignment (a power of two)
 * and the zone must be one the firmware knows; then the file is copied
 * into place, once. */
static int run_allocate(struct lfile f[2], const uint8_t *c)
{
	struct lfile *file = lookup(f, c + CMD_FILE, true);
	uint32_t align = le32_get(c + CMD_ALLOC_ALIGN);
	uint8_t zone = c[CMD_ALLOC_ZONE];

	if (!file || align == 0 || (align & (align - 1)) || file->gpa % align)
		return -EINVAL;
	if (zone != ACPI_LOADER_ZONE_HIGH && zone != ACPI_LOADER_ZONE_FSEG)
		return -EINVAL;
	memcpy(file->buf, file->src, file->len);
	file->allocated = true;
	return 0;
}

/* ADD_POINTER: the size-byte little-endian value at dest[offset] is an
 * offset into src (OVMF refuses one past its end); it becomes src's guest
 * address plus that offset, which must fit in size bytes. */
static int run_pointer(struct lfile f[2], const uint8_t *c)
{
	struct lfile *dest = lookup(f, c + CMD_FILE, false),
		     *src = lookup(f, c + CMD_PTR_SRC, false);
	uint32_t off = le32_get(c + CMD_PTR_OFFSET);
	uint8_t size = c[CMD_PTR_SIZE];
	uint8_t raw[8] = {0};
	uint64_t v;

	if (!dest || !src || (size != 1 && size != 2 && size != 4 && size != 8))
		return -EINVAL;
	if (!bytes_fit(off, size, dest->len))
		return -EINVAL;
	memcpy(raw, dest->buf + off, size);
	v = le64_get(raw);
	if (v >= src->len)
		return -EINVAL;
	v += src->gpa; /* no wrap: gpa + len was checked */
	if (size < 8 && (v >> (size * 8)))
		return -EINVAL;
	le64_put(raw, v);
	memcpy(dest->buf + off, raw, size);
	return 0;
}

/* ADD_CHECKSUM: the byte at offset is made to bring file[start, start +
 * length) to zero, as SeaBIOS does (subtracting the sum, that byte's
 * current value included). */
static int run_checksum(struct lfile f[2], const uint8_t *c)
{
	struct lfile *file = lookup(f, c + CMD_FILE, false);
	uint32_t off = le32_get(c + CMD_CK_RESULT), start = le32_get(c + CMD_CK_START);
	uint32_t len = le32_get(c + CMD_CK_LENGTH);
	uint8_t sum = 0;

	if (!file || off >= file->len || !bytes_fit(start, len, file->len))
		return -EINVAL;
	for (uint32_t i = 0; i < len; i++)
		sum += file->buf[start + i];
	file->buf[off] -= sum;
	return 0;
}

static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

int acpi_place(const struct acpi_tables *t, uint8_t *rsdp_buf, size_t rsdp_room, uint64_t rsdp_gpa,
	       uint8_t *tables_buf, size_t tables_room, uint64_t tables_gpa)
{
	struct lfile f[2] = {
	    {ACPI_FILE_RSDP, NULL, 0, rsdp_buf, rsdp_gpa, false},
	    {ACPI_FILE_TABLES, NULL, 0, tables_buf, tables_gpa, false},
	};

	if (!t || !t->rsdp || !t->tables || !t->loader || !rsdp_buf || !tables_buf)
		return -EINVAL;
	if (t->loader_len % ACPI_LOADER_CMD_SIZE || !t->rsdp_len || !t->tables_len)
		return -EINVAL;
	if (rsdp_room < t->rsdp_len || tables_room < t->tables_len)
		return -ENOSPC;
	f[0].src = t->rsdp;
	f[0].len = t->rsdp_len;
	f[1].src = t->tables;
	f[1].len = t->tables_len;
	/* Neither file may wrap the guest's address space or overlap the
	 * other, in the guest or in the caller's memory. */
	if (rsdp_gpa > UINT64_MAX - t->rsdp_len || tables_gpa > UINT64_MAX - t->tables_len)
		return -EINVAL;
	if (ranges_overlap(rsdp_gpa, t->rsdp_len, tables_gpa, t->tables_len) ||
	    ranges_overlap((uintptr_t)rsdp_buf, t->rsdp_len, (uintptr_t)tables_buf, t->tables_len))
		return -EINVAL;

	for (size_t off = 0; off < t->loader_len; off += ACPI_LOADER_CMD_SIZE) {
		const uint8_t *c = t->loader + off;
		int r;

		switch (le32_get(c)) {
		case ACPI_LOADER_ALLOCATE:
			r = run_allocate(f, c);
			break;
		case ACPI_LOADER_ADD_POINTER:
			r = run_pointer(f, c);
			break;
		case ACPI_LOADER_ADD_CHECKSUM:
			r = run_checksum(f, c);
			break;
		default: /* moat writes no other command */
			r = -EINVAL;
		}
		if (r)
			return r;
	}
	return f[0].allocated && f[1].allocated ? 0 : -EINVAL;
}
