/* The guest physical memory map of moat (x86_64), in one place.
 *
 *   0x00000000 ┬ RAM ........... boot scratch: GDT, PVH start info, zero page,
 *              │                 page tables, command line (all below 640 KiB;
 *              │                 Linux reserves the whole first MiB for itself)
 *   0x0009FC00 ┼ reserved ...... "EBDA": the last KiB of base memory
 *   0x000A0000 ┼ (no e820 entry) VGA window and option-ROM space
 *   0x000E0000 ┼ ACPI .......... RSDP, then the ACPI tables (direct boot)
 *   0x000F0000 ┼ reserved ...... BIOS area: MP table, then SMBIOS
 *   0x00100000 ┼ RAM ........... kernel, initrd, everything else
 *   min(mem, 0xC0000000)
 *              ┼ (no e820 entry) the PCI hole: BARs and framebuffers, then
 *              │                 IOAPIC 0xFEC00000, LAPIC 0xFEE00000 and
 *              │                 KVM's private pages 0xFEFFC000 (reserved)
 *   0x100000000┼ RAM ........... whatever did not fit below the hole
 *
 * The guest-RAM memfd backs [0, min(mem, hole)) in one KVM slot and the rest
 * at 4 GiB in a second one (mach_ram_regions() in ram.h). The low slot
 * includes the VGA/BIOS window, so the BIOS-area tables are real memory.
 * How many vCPUs and devices a VM may have is in moat_limits.h. */
#pragma once

#include <stdint.h>

/* Guest RAM: the minimum leaves room for the boot scratch, a kernel and a
 * small initramfs; the maximum is only a sanity bound against typos and
 * overflow (the real limit, the CPU's MAXPHYADDR, is checked by the caller). */
#define MOAT_MEM_MIN (32ULL << 20)
#define MOAT_MEM_MAX (1ULL << 40)

/* Boot scratch in base memory (each one page unless said otherwise). */
#define MOAT_GDT_GPA	    0x1000ULL /* boot GDT, empty IDT after it */
#define MOAT_START_INFO_GPA 0x6000ULL /* PVH hvm_start_info + modlist + memmap */
#define MOAT_ZERO_PAGE_GPA  0x7000ULL /* bzImage boot_params */
#define MOAT_PGTABLE_GPA    0x9000ULL /* PML4, PDPT, PDs: identity map */
#define MOAT_PGTABLE_SIZE   0x7000ULL /* up to 0x10000: 7 pages */
#define MOAT_CMDLINE_GPA    0x20000ULL
#define MOAT_CMDLINE_MAX    0x10000ULL /* bytes, including the NUL */

/* Legacy areas, reserved in e820. Linux scans the EBDA's first KiB, the
 * last KiB of base memory and 0xF0000-0xFFFFF for the MP floating pointer,
 * and 0xF0000-0xFFFFF for the SMBIOS entry point. */
#define MOAT_EBDA_GPA	 0x9FC00ULL
#define MOAT_EBDA_END	 0xA0000ULL
#define MOAT_BIOS_GPA	 0xF0000ULL
#define MOAT_BIOS_END	 0x100000ULL
/* A direct kernel boot's ACPI tables (vcpu/boot/acpi.h): the RSDP where
 * Linux's scan of 0xE0000-0xFFFFF finds it, the tables after it. Firmware
 * places its own (fw_cfg's table-loader) and gets this as RAM. */
#define MOAT_ACPI_GPA	 0xE0000ULL
#define MOAT_ACPI_RSDP_MAX 0x40ULL
#define MOAT_ACPI_END	 0xF0000ULL
#define MOAT_MPTABLE_GPA 0xF0000ULL
#define MOAT_MPTABLE_MAX 0x2000ULL  /* room for 254 CPUs (about 5.3 KiB) */
#define MOAT_SMBIOS_GPA	 0xF2000ULL /* to MOAT_BIOS_END */

/* The protected-mode kernel of a bzImage that cannot relocate goes here;
 * relocatable ones are better loaded at their pref_address. */
#define MOAT_HIMEM_GPA 0x100000ULL

/* The PCI hole: not RAM. BARs and framebuffers are placed in
 * [MOAT_PCI_MMIO_GPA, MOAT_PCI_MMIO_END); the chipset pages sit above. */
#define MOAT_PCI_HOLE_START 0xC0000000ULL
#define MOAT_PCI_HOLE_END   0x100000000ULL
#define MOAT_PCI_MMIO_GPA   MOAT_PCI_HOLE_START
#define MOAT_PCI_MMIO_END   0xFEC00000ULL
#define MOAT_IOAPIC_GPA	    0xFEC00000ULL
#define MOAT_LAPIC_GPA	    0xFEE00000ULL
/* Intel VMX needs one page for the real-mode identity map
 * (KVM_SET_IDENTITY_MAP_ADDR) and three for the TSS (KVM_SET_TSS_ADDR) in
 * guest physical space that the guest never uses; reserved in e820. */
#define MOAT_KVM_IDENTITY_MAP_GPA 0xFEFFC000ULL
#define MOAT_KVM_TSS_GPA	  0xFEFFD000ULL
#define MOAT_KVM_PRIVATE_END	  0xFF000000ULL

/* The display's video memory (bochs-display's BAR0) out of reset, where a
 * direct kernel boot's screen_info says the framebuffer is: above the
 * device windows, aligned for the largest video memory moat offers. */
#define MOAT_VRAM_GPA 0xE0000000ULL
#define MOAT_VRAM_MAX (256ULL << 20)

/* RAM that does not fit below the hole continues here. */
#define MOAT_HIGH_RAM_GPA MOAT_PCI_HOLE_END

_Static_assert(MOAT_PGTABLE_GPA + MOAT_PGTABLE_SIZE <= MOAT_CMDLINE_GPA, "page tables overlap");
_Static_assert(MOAT_CMDLINE_GPA + MOAT_CMDLINE_MAX <= MOAT_EBDA_GPA, "command line in EBDA");
_Static_assert(MOAT_MPTABLE_GPA + MOAT_MPTABLE_MAX <= MOAT_SMBIOS_GPA, "MP table overlaps SMBIOS");
_Static_assert(MOAT_ACPI_END <= MOAT_BIOS_GPA, "ACPI tables overlap the BIOS area");
_Static_assert(MOAT_SMBIOS_GPA < MOAT_BIOS_END, "SMBIOS outside the BIOS area");
_Static_assert(MOAT_MEM_MIN > MOAT_HIMEM_GPA, "minimum memory below 1 MiB");
_Static_assert(MOAT_PCI_MMIO_END <= MOAT_IOAPIC_GPA, "BAR window overlaps the IOAPIC");
_Static_assert(MOAT_VRAM_GPA % MOAT_VRAM_MAX == 0 && MOAT_VRAM_GPA + MOAT_VRAM_MAX <= MOAT_PCI_MMIO_END,
	       "the video memory's BAR does not fit its place");
_Static_assert(MOAT_KVM_TSS_GPA + 0x3000 == MOAT_KVM_PRIVATE_END, "KVM TSS is 3 pages");
