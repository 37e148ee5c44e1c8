/* The guest's DMI identity as data (struct smbios_info), and the parser of
 * the user's QEMU-style --smbios options that fills it. Pure: the monitor
 * validates --smbios with it, and moat-vcpu parses the same options again
 * into the info its table writer (vcpu/boot/smbios.h) turns into tables. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SMBIOS_STR_MAX	 64 /* bytes of one user string, NUL excluded */
#define SMBIOS_NFIELDS	 20 /* settable fields (smbios_parse_option) */
#define SMBIOS_UUID_SIZE 16

/* What the tables say. Strings: NULL means moat's default, "" means none
 * (the structure refers to no string). A string is at most SMBIOS_STR_MAX
 * bytes with no control characters (smbios_str_ok); smbios_write() checks.
 *
 * smbios_parse_option() copies values into store[] and points the fields
 * there, so once it has been used, do not copy the struct by value (the
 * copy would point into the original). */
struct smbios_info {
	uint64_t mem_bytes; /* guest RAM, for types 16 and 17 */
	unsigned ncpus;	    /* one type 4 each (smbios_write checks the range) */

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

/* A string the tables may carry: at most SMBIOS_STR_MAX bytes, and nothing
 * a terminal or a parser of the table would trip on (no control
 * characters, no DEL). NULL is fine (it means the default). */
bool smbios_str_ok(const char *s);
