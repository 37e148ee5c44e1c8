/* SMBIOS 2.8 table builder (the --smbios parser is config/smbios_opt.c). Layouts from the DMTF
 * SMBIOS reference specification (DSP0134 2.8); what Linux reads of them
 * from drivers/firmware/dmi_scan.c:
 *   entry point  31 bytes  "_SM_", checksum, length 0x1F, version 2.8,
 *                          max structure size u16, revision, 5 reserved,
 *                          "_DMI_", checksum, table length u16, table
 *                          address u32, structure count u16, BCD rev 0x28
 *   structure    type, length of the formatted part, handle u16, fields;
 *                then its strings, each NUL-terminated, and one more NUL
 *                (two NULs when there is no string at all).
 * String fields hold a string number, 1 for the first; 0 means none. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bytes.h"
#include "smbios.h"

enum {
	EP_SIZE = 0x1F,
	EP_SPACE = 32,	      /* entry point rounded up to 16 bytes */
	FORMATTED_MAX = 0x30, /* largest formatted part below (type 17: 0x28) */
	STRINGS_MAX = 8,      /* strings of one structure */

	T0_LEN = 0x18,
	T1_LEN = 0x1B,
	T2_LEN = 0x0F,
	T3_LEN = 0x16,
	T4_LEN = 0x2A,
	T16_LEN = 0x17,
	T17_LEN = 0x28,
	T32_LEN = 0x0B,
	T127_LEN = 0x04,

	/* Handles: type << 8, plus the CPU index for type 4 (as QEMU does). */
	H_CHASSIS = 0x0300,
	H_CPU = 0x0400,
	H_MEMARRAY = 0x1000,
	H_NONE = 0xFFFE, /* "no error information structure" */
	H_UNKNOWN = 0xFFFF,
};

_Static_assert(H_CPU + SMBIOS_MAX_CPUS < H_MEMARRAY, "CPU handles collide");

/* What a string the user did not set says (smbios_info: NULL). */
#define DEF_VENDOR  "moat"
#define DEF_VERSION "1.0"
#define DEF_DATE    "01/01/2025"
#define DEF_PRODUCT "moat VM"
#define DEF_FAMILY  "Virtual Machine"

static bool info_ok(const struct smbios_info *i)
{
	const char *all[] = {
	    i->bios_vendor,	   i->bios_version,   i->bios_date,
	    i->sys_manufacturer,   i->sys_product,    i->sys_version,
	    i->sys_serial,	   i->sys_sku,	      i->sys_family,
	    i->board_manufacturer, i->board_product,  i->board_version,
	    i->board_serial,	   i->board_asset,    i->chassis_manufacturer,
	    i->chassis_version,	   i->chassis_serial, i->chassis_asset,
	    i->chassis_sku,
	};

	for (size_t k = 0; k < sizeof(all) / sizeof(all[0]); k++)
		if (!smbios_str_ok(all[k]))
			return false;
	/* size in MiB must fit type 17's 31-bit extended size */
	return i->ncpus >= 1 && i->ncpus <= SMBIOS_MAX_CPUS && i->mem_bytes > 0 &&
	       i->mem_bytes <= (0x7FFFFFFFULL << 20);
}

/* ---- structure writer ------------------------------------------------------ */

/* The table being written. Overflow is sticky: err stays -ENOSPC and
 * nothing more is written, so callers check once at the end. */
struct table {
	uint8_t *p;
	size_t cap, len;
	unsigned count;
	size_t max_struct;
	int err;
};

/* One structure being assembled: its formatted part and its strings. */
struct sb {
	uint8_t f[FORMATTED_MAX];
	const char *s[STRINGS_MAX];
	unsigned ns;
};

static void sb_begin(struct sb *b, uint8_t type, uint8_t len, uint16_t handle)
{
	memset(b, 0, sizeof(*b));
	b->f[0] = type;
	b->f[1] = len;
	le16_put(b->f + 2, handle);
}

/* String number for s: 0 for none (NULL or ""), else its place in the set. */
static uint8_t sb_str(struct sb *b, const char *s)
{
	if (!s || !*s || b->ns >= STRINGS_MAX)
		return 0;
	b->s[b->ns++] = s;
	return (uint8_t)b->ns;
}

static void emit(struct table *t, const struct sb *b)
{
	size_t n = b->f[1], start = t->len;

	for (unsigned i = 0; i < b->ns; i++)
		n += strlen(b->s[i]) + 1;
	n += b->ns ? 1 : 2;
	if (t->err || n > t->cap - t->len) {
		t->err = -ENOSPC;
		return;
	}
	memcpy(t->p + t->len, b->f, b->f[1]);
	t->len += b->f[1];
	for (unsigned i = 0; i < b->ns; i++) {
		size_t l = strlen(b->s[i]) + 1;

		memcpy(t->p + t->len, b->s[i], l);
		t->len += l;
	}
	t->p[t->len++] = 0;
	if (!b->ns)
		t->p[t->len++] = 0;
	t->count++;
	if (t->len - start > t->max_struct)
		t->max_struct = t->len - start;
}

static const char *pick(const char *v, const char *def)
{
	return v ? v : def;
}

static void put_bios(struct table *t, const struct smbios_info *i)
{
	struct sb b;

	sb_begin(&b, 0, T0_LEN, 0x0000);
	b.f[4] = sb_str(&b, pick(i->bios_vendor, DEF_VENDOR));
	b.f[5] = sb_str(&b, pick(i->bios_version, DEF_VERSION));
	le16_put(b.f + 6, 0xE800); /* start segment: a 96 KiB "BIOS" */
	b.f[8] = sb_str(&b, pick(i->bios_date, DEF_DATE));
	b.f[9] = 0;		       /* ROM size: 64 KiB */
	le64_put(b.f + 0x0A, 1u << 3); /* characteristics not supported */
	b.f[0x13] = 1u << 4;	       /* extension byte 2: virtual machine */
	/* BIOS and EC firmware release: 0xFF 0xFF, "not supported" */
	memset(b.f + 0x14, 0xFF, 4);
	emit(t, &b);
}

/* SMBIOS 2.6+ stores the first three UUID fields little-endian. */
static void put_uuid(uint8_t *d, const uint8_t u[SMBIOS_UUID_SIZE])
{
	static const uint8_t order[SMBIOS_UUID_SIZE] = {3, 2, 1,  0,  5,  4,  7,  6,
							8, 9, 10, 11, 12, 13, 14, 15};

	for (unsigned k = 0; k < SMBIOS_UUID_SIZE; k++)
		d[k] = u[order[k]];
}

static void put_system(struct table *t, const struct smbios_info *i)
{
	struct sb b;

	sb_begin(&b, 1, T1_LEN, 0x0100);
	b.f[4] = sb_str(&b, pick(i->sys_manufacturer, DEF_VENDOR));
	b.f[5] = sb_str(&b, pick(i->sys_product, DEF_PRODUCT));
	b.f[6] = sb_str(&b, pick(i->sys_version, DEF_VERSION));
	b.f[7] = sb_str(&b, i->sys_serial);
	if (i->has_uuid)
		put_uuid(b.f + 8, i->uuid);
	b.f[0x18] = 0x06; /* wake-up type: power switch */
	b.f[0x19] = sb_str(&b, i->sys_sku);
	b.f[0x1A] = sb_str(&b, pick(i->sys_family, DEF_FAMILY));
	emit(t, &b);
}

static void put_board(struct table *t, const struct smbios_info *i)
{
	struct sb b;

	sb_begin(&b, 2, T2_LEN, 0x0200);
	b.f[4] = sb_str(&b, pick(i->board_manufacturer, DEF_VENDOR));
	b.f[5] = sb_str(&b, pick(i->board_product, DEF_PRODUCT));
	b.f[6] = sb_str(&b, pick(i->board_version, DEF_VERSION));
	b.f[7] = sb_str(&b, i->board_serial);
	b.f[8] = sb_str(&b, i->board_asset);
	b.f[9] = 0x01; /* feature flags: hosting board */
	le16_put(b.f + 0x0B, H_CHASSIS);
	b.f[0x0D] = 0x0A; /* board type: motherboard */
	emit(t, &b);
}

static void put_chassis(struct table *t, const struct smbios_info *i)
{
	struct sb b;

	sb_begin(&b, 3, T3_LEN, H_CHASSIS);
	b.f[4] = sb_str(&b, pick(i->chassis_manufacturer, DEF_VENDOR));
	b.f[5] = i->chassis_type ? i->chassis_type : 0x01;
	b.f[6] = sb_str(&b, i->chassis_version);
	b.f[7] = sb_str(&b, i->chassis_serial);
	b.f[8] = sb_str(&b, i->chassis_asset);
	b.f[9] = 0x03;	  /* boot-up state: safe */
	b.f[0x0A] = 0x03; /* power supply state: safe */
	b.f[0x0B] = 0x03; /* thermal state: safe */
	b.f[0x0C] = 0x02; /* security status: unknown */
	b.f[0x14] = 0x03; /* contained element record length (none follow) */
	b.f[0x15] = sb_str(&b, i->chassis_sku);
	emit(t, &b);
}

/* One socket per vCPU, one core and thread each: what the MP table says.
 * Speeds and processor ID are 0, "unknown": the tables are built before
 * anyone asks the vCPUs. */
static void put_cpus(struct table *t, const struct smbios_info *i)
{
	for (unsigned n = 0; n < i->ncpus; n++) {
		char socket[16];
		struct sb b;

		snprintf(socket, sizeof(socket), "CPU %u", n);
		sb_begin(&b, 4, T4_LEN, (uint16_t)(H_CPU + n));
		b.f[4] = sb_str(&b, socket);
		b.f[5] = 0x03;			 /* central processor */
		b.f[6] = 0x01;			 /* family: other */
		b.f[0x18] = 0x41;		 /* socket populated, CPU enabled */
		b.f[0x19] = 0x01;		 /* upgrade: other */
		le16_put(b.f + 0x1A, H_UNKNOWN); /* no cache structures */
		le16_put(b.f + 0x1C, H_UNKNOWN);
		le16_put(b.f + 0x1E, H_UNKNOWN);
		b.f[0x23] = 1;		       /* cores */
		b.f[0x24] = 1;		       /* cores enabled */
		b.f[0x25] = 1;		       /* threads */
		le16_put(b.f + 0x26, 1u << 2); /* 64-bit capable */
		le16_put(b.f + 0x28, 0x01);    /* family 2: other */
		emit(t, &b);
	}
}

/* The memory: one array (type 16) holding one device (type 17) of all of
 * it. Sizes that do not fit the short fields go to the extended ones. */
static void put_memory(struct table *t, const struct smbios_info *i)
{
	uint64_t kib = (i->mem_bytes + 1023) >> 10, mib = (i->mem_bytes + (1ULL << 20) - 1) >> 20;
	struct sb b;

	sb_begin(&b, 16, T16_LEN, H_MEMARRAY);
	b.f[4] = 0x03; /* location: system board */
	b.f[5] = 0x03; /* use: system memory */
	b.f[6] = 0x03; /* error correction: none */
	if (kib < 0x80000000ULL) {
		le32_put(b.f + 7, (uint32_t)kib);
	} else {
		le32_put(b.f + 7, 0x80000000u);
		le64_put(b.f + 0x0F, i->mem_bytes);
	}
	le16_put(b.f + 0x0B, H_NONE);
	le16_put(b.f + 0x0D, 1);
	emit(t, &b);

	sb_begin(&b, 17, T17_LEN, 0x1100);
	le16_put(b.f + 4, H_MEMARRAY);
	le16_put(b.f + 6, H_NONE);
	le16_put(b.f + 8, 64);	  /* total width, bits */
	le16_put(b.f + 0x0A, 64); /* data width */
	if (mib < 0x7FFF) {
		le16_put(b.f + 0x0C, (uint16_t)mib);
	} else {
		le16_put(b.f + 0x0C, 0x7FFF);
		le32_put(b.f + 0x1C, (uint32_t)mib);
	}
	b.f[0x0E] = 0x09; /* form factor: DIMM */
	b.f[0x10] = sb_str(&b, "DIMM 0");
	b.f[0x12] = 0x07;	       /* memory type: RAM */
	le16_put(b.f + 0x13, 1u << 1); /* type detail: other */
	emit(t, &b);
}

static void put_tail(struct table *t)
{
	struct sb b;

	sb_begin(&b, 32, T32_LEN, 0x2000); /* boot status 0: no errors */
	emit(t, &b);
	sb_begin(&b, 127, T127_LEN, 0x7F00);
	emit(t, &b);
}

static uint8_t checksum(const uint8_t *p, size_t n)
{
	uint8_t sum = 0;

	for (size_t k = 0; k < n; k++)
		sum += p[k];
	return (uint8_t)-sum;
}

static void put_entry_point(uint8_t *ep, const struct table *t, uint32_t table_gpa)
{
	memset(ep, 0, EP_SPACE);
	memcpy(ep, "_SM_", 4);
	ep[5] = EP_SIZE;
	ep[6] = 2;
	ep[7] = 8;
	le16_put(ep + 8, (uint16_t)t->max_struct);
	memcpy(ep + 0x10, "_DMI_", 5);
	le16_put(ep + 0x16, (uint16_t)t->len);
	le32_put(ep + 0x18, table_gpa);
	le16_put(ep + 0x1C, (uint16_t)t->count);
	ep[0x1E] = 0x28;
	ep[0x15] = checksum(ep + 0x10, 0x0F);
	ep[4] = checksum(ep, EP_SIZE);
}

int smbios_write(uint8_t *buf, size_t buflen, uint32_t buf_gpa, const struct smbios_info *info,
		 size_t *used)
{
	struct table t = {0};

	if (!buf || !info || !used || buf_gpa % 16 || !info_ok(info))
		return -EINVAL;
	if (buflen < EP_SPACE)
		return -ENOSPC;
	t.p = buf + EP_SPACE;
	/* the table length is a 16-bit field */
	t.cap = buflen - EP_SPACE < 0xFFFF ? buflen - EP_SPACE : 0xFFFF;

	put_bios(&t, info);
	put_system(&t, info);
	put_board(&t, info);
	put_chassis(&t, info);
	put_cpus(&t, info);
	put_memory(&t, info);
	put_tail(&t);
	if (t.err)
		return t.err;
	if ((uint64_t)buf_gpa + EP_SPACE + t.len > (1ULL << 32))
		return -ERANGE;
	put_entry_point(buf, &t, buf_gpa + EP_SPACE);
	*used = EP_SPACE + t.len;
	return 0;
}
