/* The guest's DMI identity and the --smbios option parser (see
 * smbios_opt.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "errline.h"
#include "hex.h"
#include "smbios_opt.h"

/* ---- identity --------------------------------------------------------------- */

void smbios_info_init(struct smbios_info *info, uint64_t mem_bytes, unsigned ncpus)
{
	memset(info, 0, sizeof(*info));
	info->mem_bytes = mem_bytes;
	info->ncpus = ncpus;
}

/* MacBookPro11,1 and its board id, as on the real machine: Linux's applesmc
 * matches the board vendor "Apple" and the product "MacBookPro". */
void smbios_apple_defaults(struct smbios_info *info)
{
	info->bios_vendor = "Apple Inc.";
	info->sys_manufacturer = "Apple Inc.";
	info->sys_product = "MacBookPro11,1";
	info->sys_version = "1.0";
	info->sys_family = "MacBook Pro";
	info->board_manufacturer = "Apple Inc.";
	info->board_product = "Mac-189A3D4F975D5FFC";
	info->board_version = "MacBookPro11,1";
	info->chassis_manufacturer = "Apple Inc.";
	info->chassis_version = "Mac-189A3D4F975D5FFC";
	info->chassis_type = 0x0A; /* notebook */
}

/* ---- strings ---------------------------------------------------------------- */

bool smbios_str_ok(const char *s)
{
	size_t n = 0;

	if (!s)
		return true;
	for (; s[n]; n++) {
		unsigned char c = (unsigned char)s[n];

		if (n >= SMBIOS_STR_MAX || c < 0x20 || c == 0x7F)
			return false;
	}
	return true;
}

/* ---- -smbios option parser ------------------------------------------------- */

#define OFF(member) offsetof(struct smbios_info, member)
#define UUID_FIELD  ((size_t)-1)

struct field {
	uint8_t type;
	const char *key;
	size_t off; /* of the const char * member, or UUID_FIELD */
};

static const struct field fields[] = {
    {0, "vendor", OFF(bios_vendor)},
    {0, "version", OFF(bios_version)},
    {0, "date", OFF(bios_date)},
    {1, "manufacturer", OFF(sys_manufacturer)},
    {1, "product", OFF(sys_product)},
    {1, "version", OFF(sys_version)},
    {1, "serial", OFF(sys_serial)},
    {1, "uuid", UUID_FIELD},
    {1, "sku", OFF(sys_sku)},
    {1, "family", OFF(sys_family)},
    {2, "manufacturer", OFF(board_manufacturer)},
    {2, "product", OFF(board_product)},
    {2, "version", OFF(board_version)},
    {2, "serial", OFF(board_serial)},
    {2, "asset", OFF(board_asset)},
    {3, "manufacturer", OFF(chassis_manufacturer)},
    {3, "version", OFF(chassis_version)},
    {3, "serial", OFF(chassis_serial)},
    {3, "asset", OFF(chassis_asset)},
    {3, "sku", OFF(chassis_sku)},
};

_Static_assert(sizeof(fields) / sizeof(fields[0]) == SMBIOS_NFIELDS, "store[] size");

enum { KEY_MAX = 16, ITEMS_MAX = 8 };

/* One key=value item of the option, unescaped. */
struct item {
	char key[KEY_MAX + 1];
	char val[SMBIOS_STR_MAX + 1];
};

/* Read the item starting at *pp into it; *pp moves past it and its comma.
 * Keys are [a-z0-9_-]; in values ",," is a comma. Returns 0 or -EINVAL. */
static int next_item(const char **pp, struct item *it, char *err, size_t errlen)
{
	const char *p = *pp;
	size_t n = 0;

	while (*p && *p != '=' && *p != ',') {
		char c = *p++;

		if (n == KEY_MAX ||
		    !((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return err_line(err, errlen, "smbios: bad field name (want key=value,...)");
		it->key[n++] = c;
	}
	it->key[n] = 0;
	if (n == 0 || *p != '=')
		return err_line(err, errlen, "smbios: expected key=value, got '%s'",
				n ? it->key : "");
	p++;
	for (n = 0; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == ',' && p[1] != ',')
			break;
		if (c == ',')
			p++; /* ",," */
		if (c < 0x20 || c == 0x7F)
			return err_line(err, errlen, "smbios: control character in '%s'", it->key);
		if (n == SMBIOS_STR_MAX)
			return err_line(err, errlen,
					"smbios: value of '%s' is longer than %d bytes", it->key,
					SMBIOS_STR_MAX);
		it->val[n++] = (char)c;
	}
	it->val[n] = 0;
	if (*p == ',') {
		p++;
		if (!*p)
			return err_line(err, errlen, "smbios: trailing comma");
	}
	*pp = p;
	return 0;
}

/* xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx into 16 bytes, in text order. The
 * groups have even lengths, so hex pairs never straddle a dash. */
static int parse_uuid(const char *s, uint8_t out[SMBIOS_UUID_SIZE])
{
	unsigned k = 0, pos = 0;

	if (strlen(s) != 36)
		return -1;
	while (pos < 36) {
		int v;

		if (pos == 8 || pos == 13 || pos == 18 || pos == 23) {
			if (s[pos++] != '-')
				return -1;
			continue;
		}
		v = hex_byte(s + pos);
		if (v < 0)
			return -1;
		out[k++] = (uint8_t)v;
		pos += 2;
	}
	return 0;
}

/* The option's type=N, which may come anywhere. Returns 0..3 or -EINVAL. */
static int find_type(const struct item *items, unsigned n, char *err, size_t errlen)
{
	int type = -1;

	for (unsigned k = 0; k < n; k++) {
		const char *v = items[k].val;

		if (strcmp(items[k].key, "type"))
			continue;
		if (type >= 0)
			return err_line(err, errlen, "smbios: type given twice");
		if (strlen(v) != 1 || v[0] < '0' || v[0] > '3')
			return err_line(err, errlen, "smbios: unsupported type (have 0, 1, 2, 3)");
		type = v[0] - '0';
	}
	if (type < 0)
		return err_line(err, errlen, "smbios: missing type=N");
	return type;
}

static int find_field(int type, const char *key)
{
	for (unsigned k = 0; k < SMBIOS_NFIELDS; k++)
		if (fields[k].type == type && !strcmp(fields[k].key, key))
			return (int)k;
	return -1;
}

static void set_field(struct smbios_info *info, unsigned f, const char *val, const uint8_t *uuid)
{
	if (fields[f].off == UUID_FIELD) {
		memcpy(info->uuid, uuid, SMBIOS_UUID_SIZE);
		info->has_uuid = true;
		return;
	}
	memcpy(info->store[f], val, strlen(val) + 1);
	*(const char **)((char *)info + fields[f].off) = info->store[f];
}

int smbios_parse_option(struct smbios_info *info, const char *arg, char *err, size_t errlen)
{
	struct item items[ITEMS_MAX];
	int idx[ITEMS_MAX], type;
	uint8_t uuid[SMBIOS_UUID_SIZE] = {0};
	unsigned n = 0;

	if (err && errlen)
		err[0] = 0;
	if (!info || !arg || !*arg)
		return err_line(err, errlen, "smbios: empty option");
	while (*arg) {
		if (n == ITEMS_MAX)
			return err_line(err, errlen, "smbios: too many fields");
		if (next_item(&arg, &items[n], err, errlen))
			return -EINVAL;
		n++;
	}
	type = find_type(items, n, err, errlen);
	if (type < 0)
		return -EINVAL;
	/* check everything before changing anything */
	for (unsigned k = 0; k < n; k++) {
		idx[k] = -1;
		if (!strcmp(items[k].key, "type"))
			continue;
		idx[k] = find_field(type, items[k].key);
		if (idx[k] < 0)
			return err_line(err, errlen, "smbios: unknown field '%s' for type=%d",
					items[k].key, type);
		for (unsigned j = 0; j < k; j++)
			if (idx[j] == idx[k])
				return err_line(err, errlen, "smbios: '%s' given twice",
						items[k].key);
		if (fields[idx[k]].off == UUID_FIELD && parse_uuid(items[k].val, uuid))
			return err_line(
			    err, errlen,
			    "smbios: bad uuid (want xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)");
	}
	for (unsigned k = 0; k < n; k++)
		if (idx[k] >= 0)
			set_field(info, (unsigned)idx[k], items[k].val, uuid);
	return 0;
}
