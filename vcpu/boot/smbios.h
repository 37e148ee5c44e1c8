/* SMBIOS 2.8 tables: the guest's DMI data (system, board and BIOS names,
 * memory, CPUs), which Linux reads from the BIOS area without EFI and which
 * the Apple SMC driver matches on. Pure builder on a caller buffer, plus the
 * parser of the user's QEMU-style -smbios options. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SMBIOS_STR_MAX	 64  /* bytes of one user string, NUL excluded */
#define SMBIOS_MAX_CPUS	 255 /* type 4 structures, one per vCPU */
#define SMBIOS_NFIELDS	 20  /* settable fields (smbios_parse_option) */
#define SMBIOS_UUID_SIZE 16

/* What the tables say. Strings: NULL means moat's default, "" means none
 * (the structure refers to no string). A string is at most SMBIOS_STR_MAX
 * bytes with no control characters; smbios_write() checks.
 *
 * smbios_parse_option() copies values into store[] and points the fields
 * there, so once it has been used, do not copy the struct by value (the
 * copy would point into the original). */
struct smbios_info {
	uint64_t mem_bytes; /* guest RAM, for types 16 and 17 */
	unsigned ncpus;	    /* 1..SMBIOS_MAX_CPUS, one type 4 each */

	/* type 0, BIOS */
	const char *bios_vendor, *bios_version, *bios_date; /* date: MM/DD/YYYY */
	/* type 1, system */
	const char *sys_manufacturer, *sys_product, *sys_version, *sys_serial;
	const char *sys_sku, *sys_family;
	bool has_uuid;			/* else the UUID is all zeros: "not present" */
	uint8_t uuid[SMBIOS_UUID_SIZE]; /* in the order it is written as text */
	/* type 2, baseboard */
	const char *board_manufacturer, *board_product, *board_version, *board_serial;
	const char *board_asset;
	/* type 3, chassis */
	const char *chassis_manufacturer, *chassis_version, *chassis_serial;
	const char *chassis_asset, *chassis_sku;
	uint8_t chassis_type; /* SMBIOS chassis type; 0: 0x01 "other" */

	char store[SMBIOS_NFIELDS][SMBIOS_STR_MAX + 1];
};

/* Zero info and set its memory size and CPU count: every string default. */
void smbios_info_init(struct smbios_info *info, uint64_t mem_bytes, unsigned ncpus);

/* Overwrite the identity with an Apple one (manufacturer "Apple Inc.",
 * product "MacBookPro11,1", its board id, a notebook chassis), which is what
 * Linux's applesmc driver looks for (board vendor containing "Apple",
 * product name containing a Mac model) and what Mac OS X expects. Call it
 * before smbios_parse_option(), so that user options win. */
void smbios_apple_defaults(struct smbios_info *info);

/* Parse one QEMU-style option and set the fields it names:
 *   type=0,vendor=S,version=S,date=S
 *   type=1,manufacturer=S,product=S,version=S,serial=S,uuid=U,sku=S,family=S
 *   type=2,manufacturer=S,product=S,version=S,serial=S,asset=S
 *   type=3,manufacturer=S,version=S,serial=S,asset=S,sku=S
 * in any order; ",," in a value stands for a comma; U is
 * xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx. Either every field is set or, on
 * error, none: returns 0, or -EINVAL with one line (no newline) in err,
 * which is always NUL-terminated when errlen > 0. */
int smbios_parse_option(struct smbios_info *info, const char *arg, char *err, size_t errlen);

/* Build at buf, which the guest sees at buf_gpa (16-byte aligned, inside
 * 0xF0000-0xFFFFF for Linux to find it), the SMBIOS 2.8 entry point "_SM_"
 * (with its "_DMI_" part and both checksums) followed by the structure
 * table: types 0, 1, 2, 3, 4 (one per vCPU), 16, 17, 32 and 127. *used
 * gets the bytes written. Returns 0, -EINVAL (NULL argument, misaligned
 * buf_gpa, ncpus or mem_bytes out of range, a bad string), -ENOSPC (buflen
 * too small) or -ERANGE (the table would cross 4 GiB). */
int smbios_write(uint8_t *buf, size_t buflen, uint32_t buf_gpa, const struct smbios_info *info,
		 size_t *used);
