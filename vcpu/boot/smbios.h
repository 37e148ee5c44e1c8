/* SMBIOS 2.8 tables: the guest's DMI data (system, board and BIOS names,
 * memory, CPUs), which Linux reads from the BIOS area without EFI and which
 * the Apple SMC driver matches on. Pure builder on a caller buffer; what
 * the tables say, and the --smbios parser, are config/smbios_opt.h. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smbios_opt.h"

#define SMBIOS_MAX_CPUS 255 /* type 4 structures, one per vCPU */

/* Build at buf, which the guest sees at buf_gpa (16-byte aligned, inside
 * 0xF0000-0xFFFFF for Linux to find it), the SMBIOS 2.8 entry point "_SM_"
 * (with its "_DMI_" part and both checksums) followed by the structure
 * table: types 0, 1, 2, 3, 4 (one per vCPU), 16, 17, 32 and 127. *used
 * gets the bytes written. Returns 0, -EINVAL (NULL argument, misaligned
 * buf_gpa, ncpus or mem_bytes out of range, a bad string), -ENOSPC (buflen
 * too small) or -ERANGE (the table would cross 4 GiB). */
int smbios_write(uint8_t *buf, size_t buflen, uint32_t buf_gpa, const struct smbios_info *info,
		 size_t *used);
