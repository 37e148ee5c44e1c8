/* Puts a guest kernel into guest RAM and the boot vCPU at its entry: a
 * bzImage through the Linux boot protocol's 64-bit entry, or an
 * uncompressed vmlinux through its PVH entry. The format is detected. */
#pragma once

#include <stddef.h>

#include "vm.h"

/* Where a directly booted kernel finds the PIIX4 PM block (SeaBIOS's
 * choice; firmware programs its own). */
#define LOADER_ACPI_PM_BASE 0x600

struct boot_lfb;

struct boot_input {
	int kernel_fd;	      /* -1 with firmware */
	int initrd_fd;	      /* -1: none */
	int firmware_fd;      /* --firmware, or -1 */
	int firmware_vars_fd; /* UEFI's variable store, or -1 */
	const char *cmdline;
	const char *const *smbios; /* --smbios options, validated by the monitor */
	size_t nsmbios;
	bool smbios_apple;         /* Apple DMI identity by default (with an SMC) */
	const struct boot_lfb *lfb; /* the display's framebuffer, already on; or NULL */
};

/* Returns 0; -ENOEXEC or -EINVAL when the user's input is at fault, with
 * one line in why; other -errno for failures of moat itself (logged).
 * *format names the kernel format on success. */
int loader_load(struct vm *vm, const struct boot_input *in, char *why, size_t whylen,
		const char **format);

/* Internal to the loader: shared steps and per-format entry set-up. */
struct kernel_image {
	const uint8_t *data;
	size_t size;
};
struct initrd_place {
	uint64_t gpa;
	uint64_t size;
};
int loader_bzimage(struct vm *vm, const struct kernel_image *k, const struct boot_input *in,
		   char *why, size_t whylen);
int loader_pvh(struct vm *vm, const struct kernel_image *k, const struct boot_input *in,
	       char *why, size_t whylen);
int loader_initrd(struct vm *vm, int fd, uint64_t lowest, uint64_t highest,
		  struct initrd_place *out, char *why, size_t whylen);
int loader_cmdline(struct vm *vm, const char *cmdline, uint32_t max_len, char *why,
		   size_t whylen);
int loader_tables(struct vm *vm, const struct boot_input *in, char *why, size_t whylen);
/* SMBIOS (entry point, then the structures) at p, seen by the guest at
 * gpa: moat's identity (or an Apple one), then the user's --smbios. */
int loader_smbios_write(struct vm *vm, const struct boot_input *in, uint8_t *p, size_t len,
			uint32_t gpa, size_t *used, char *why, size_t whylen);
/* Firmware instead of a kernel (loader_fw.c): the image mapped read-only
 * below 4 GiB, its last 128 KiB copied to 0xE0000, the vCPUs left at the
 * reset vector, and what the firmware reads through fw_cfg (fw_files.c). */
int loader_firmware(struct vm *vm, const struct boot_input *in, char *why, size_t whylen,
		    const char **format);
int fw_files_setup(struct vm *vm, const struct boot_input *in, char *why, size_t whylen);
/* Identity-mapped page tables for the first 4 GiB and a flat GDT. */
int loader_long_mode_regs(struct vm *vm, uint64_t rip, uint64_t rsi);
int loader_protected_mode_regs(struct vm *vm, uint64_t eip, uint64_t ebx);
/* Low end of guest RAM below the PCI hole. */
uint64_t loader_low_ram_end(const struct vm *vm);
