/* Unit tests for vcpu/boot/smbios.c: the tables are found and walked the way
 * Linux's drivers/firmware/dmi_scan.c does (anchor scan on 16-byte
 * boundaries, both checksums, structure count and table length, strings by
 * number), and the -smbios option parser is fed good and hostile input. */
#include <errno.h>
#include <stdint.h>

#include "guest_layout.h"
#include "moat_limits.h"
#include "bytes.h"
#include "smbios.h"
#include "tap.h"

#define GPA	  ((uint32_t)MOAT_SMBIOS_GPA)
#define AREA	  ((size_t)(MOAT_BIOS_END - MOAT_SMBIOS_GPA))
#define MAX_STRUC 300

static uint8_t area[AREA + 64];

struct dmi {
	const uint8_t *table;
	size_t len;
	unsigned count;
	const uint8_t *st[MAX_STRUC]; /* each structure, in table order */
	unsigned n;
};

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s += *p++;
	return s;
}

/* String number k of structure dm, as dmi_string() finds it; NULL for 0 or
 * a number past the end of the set. */
static const char *dmi_str(const uint8_t *dm, uint8_t k)
{
	const char *p = (const char *)dm + dm[1];

	if (k == 0)
		return NULL;
	while (--k > 0 && *p)
		p += strlen(p) + 1;
	return *p ? p : NULL;
}

/* Find the entry point by scanning for "_SM_" on 16-byte boundaries (as
 * Linux scans 0xF0000-0xFFFFF), check it, and walk the structures. */
static int scan(const uint8_t *buf, size_t used, struct dmi *d)
{
	const uint8_t *ep = NULL, *p, *end;

	for (size_t off = 0; off + 32 <= used; off += 16)
		if (!memcmp(buf + off, "_SM_", 4)) {
			ep = buf + off;
			break;
		}
	CHECK(ep == buf);
	CHECK(ep[5] == 0x1F && ep[5] < 32 && sum(ep, ep[5]) == 0);
	CHECK(ep[6] == 2 && ep[7] == 8 && ep[0x0A] == 0);
	CHECK(!memcmp(ep + 16, "_DMI_", 5) && sum(ep + 16, 15) == 0 && ep[0x1E] == 0x28);
	CHECK(le32_get(ep + 0x18) >= GPA && le32_get(ep + 0x18) % 16 == 0);
	d->table = buf + (le32_get(ep + 0x18) - GPA);
	d->len = le16_get(ep + 0x16);
	d->count = le16_get(ep + 0x1C);
	CHECK((size_t)(d->table - buf) + d->len == used);

	/* dmi_decode_table(): formatted part, then up to the double NUL */
	p = d->table;
	end = d->table + d->len;
	d->n = 0;
	while (d->n < d->count && p + 4 <= end) {
		const uint8_t *dm = p, *s;
		size_t size;

		CHECK(dm[1] >= 4 && p + dm[1] <= end);
		s = p + dm[1];
		while (s + 1 < end && (s[0] || s[1]))
			s++;
		CHECK(s + 1 < end);
		p = s + 2;
		size = (size_t)(p - dm);
		CHECK(size <= le16_get(ep + 8));
		CHECK(d->n < MAX_STRUC);
		d->st[d->n++] = dm;
	}
	CHECK(d->n == d->count && p == end);
	return 0;
}

static const uint8_t *find(const struct dmi *d, uint8_t type, unsigned nth)
{
	for (unsigned k = 0; k < d->n; k++)
		if (d->st[k][0] == type && nth-- == 0)
			return d->st[k];
	return NULL;
}

/* Every string number points at a string, no string in a set is empty, and
 * every string in a set is used exactly once. */
static int check_strings(const struct dmi *d)
{
	static const struct {
		uint8_t type;
		uint8_t off[8];
	} refs[] = {
	    {0, {4, 5, 8}},
	    {1, {4, 5, 6, 7, 0x19, 0x1A}},
	    {2, {4, 5, 6, 7, 8, 0x0A}},
	    {3, {4, 6, 7, 8, 0x15}},
	    {4, {4, 7, 0x10, 0x20, 0x21, 0x22}},
	    {17, {0x10, 0x11, 0x17, 0x18, 0x19, 0x1A}},
	};

	for (unsigned k = 0; k < d->n; k++) {
		const uint8_t *dm = d->st[k];
		const char *p = (const char *)dm + dm[1];
		unsigned nstr = 0, used = 0;

		for (; *p; p += strlen(p) + 1)
			nstr++;
		for (size_t r = 0; r < sizeof(refs) / sizeof(refs[0]); r++) {
			if (refs[r].type != dm[0])
				continue;
			for (int j = 0; j < 8 && refs[r].off[j]; j++) {
				uint8_t num = dm[refs[r].off[j]];

				CHECK(num <= nstr);
				if (num) {
					CHECK(dmi_str(dm, num) != NULL);
					used++;
				}
			}
		}
		CHECK(used == nstr);
	}
	return 0;
}

static int build(const struct smbios_info *info, struct dmi *d, size_t *used)
{
	memset(area, 0xCC, sizeof(area));
	CHECK(smbios_write(area, AREA, GPA, info, used) == 0);
	CHECK(*used <= AREA && area[*used] == 0xCC);
	CHECK(scan(area, *used, d) == 0);
	CHECK(check_strings(d) == 0);
	return 0;
}

static int str_is(const uint8_t *dm, int off, const char *want)
{
	const char *s = dmi_str(dm, dm[off]);

	if (!want)
		return s == NULL;
	return s && !strcmp(s, want);
}

static int t_defaults(void)
{
	struct smbios_info info;
	struct dmi d;
	size_t used;
	const uint8_t *t;
	static const uint8_t order[] = {0, 1, 2, 3, 4, 4, 16, 17, 32, 127};

	smbios_info_init(&info, 256ULL << 20, 2);
	CHECK(build(&info, &d, &used) == 0);
	CHECK(d.n == sizeof(order));
	for (unsigned k = 0; k < d.n; k++)
		CHECK(d.st[k][0] == order[k]);
	/* handles are unique */
	for (unsigned k = 0; k < d.n; k++)
		for (unsigned j = 0; j < k; j++)
			CHECK(le16_get(d.st[k] + 2) != le16_get(d.st[j] + 2));

	CHECK((t = find(&d, 0, 0)) && t[1] == 0x18);
	CHECK(str_is(t, 4, "moat") && str_is(t, 5, "1.0") && str_is(t, 8, "01/01/2025"));
	CHECK((t = find(&d, 1, 0)) && t[1] == 0x1B);
	CHECK(str_is(t, 4, "moat") && str_is(t, 5, "moat VM") && str_is(t, 7, NULL));
	for (int k = 0; k < 16; k++)
		CHECK(t[8 + k] == 0); /* no UUID: all zeros, "not present" */
	CHECK((t = find(&d, 2, 0)) && t[1] == 0x0F && str_is(t, 4, "moat"));
	CHECK(le16_get(t + 0x0B) == le16_get(find(&d, 3, 0) + 2));
	CHECK((t = find(&d, 3, 0)) && t[5] == 0x01 && str_is(t, 4, "moat"));
	CHECK((t = find(&d, 4, 1)) && t[1] == 0x2A && str_is(t, 4, "CPU 1"));
	CHECK(t[0x18] == 0x41 && t[0x23] == 1 && t[0x25] == 1);
	CHECK((t = find(&d, 32, 0)) && t[1] == 0x0B && t[0x0A] == 0);
	CHECK((t = find(&d, 127, 0)) && t[1] == 4);
	return 0;
}

/* Linux's save_mem_devices(): the size of a type 17 in bytes. */
static uint64_t memdev_bytes(const uint8_t *t)
{
	uint16_t size = le16_get(t + 0x0C);

	if (size == 0x7FFF && t[1] >= 0x20)
		return (uint64_t)le32_get(t + 0x1C) << 20;
	if (size & 0x8000)
		return (uint64_t)(size & 0x7FFF) << 10;
	return (uint64_t)size << 20;
}

static int t_memory(void)
{
	static const uint64_t sizes[] = {
	    32ULL << 20, 1ULL << 30,   (0x7FFEULL << 20), (0x7FFFULL << 20),	 32ULL << 30,
	    1ULL << 40,	 (3ULL << 40), (1ULL << 30) + 1,  (0x7FFFFFFFULL << 20),
	};

	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		struct smbios_info info;
		struct dmi d;
		size_t used;
		const uint8_t *a, *m;
		uint64_t mib = (sizes[k] + (1ULL << 20) - 1) >> 20;

		smbios_info_init(&info, sizes[k], 1);
		CHECK(build(&info, &d, &used) == 0);
		CHECK((a = find(&d, 16, 0)) && (m = find(&d, 17, 0)));
		CHECK(a[1] == 0x17 && m[1] == 0x28);
		CHECK(le16_get(m + 4) == le16_get(a + 2) && le16_get(a + 0x0D) == 1);
		CHECK(memdev_bytes(m) == mib << 20);
		CHECK((le16_get(m + 0x0C) == 0x7FFF) == (mib >= 0x7FFF));
		if (le32_get(a + 7) == 0x80000000u)
			CHECK(le64_get(a + 0x0F) == sizes[k] && sizes[k] >= (2ULL << 40));
		else
			CHECK(le32_get(a + 7) == (sizes[k] + 1023) >> 10);
		CHECK(str_is(m, 0x10, "DIMM 0"));
	}
	return 0;
}

static int t_cpus(void)
{
	const unsigned counts[] = {1, 3, MOAT_MAX_CPUS, SMBIOS_MAX_CPUS};

	for (size_t k = 0; k < sizeof(counts) / sizeof(counts[0]); k++) {
		struct smbios_info info;
		struct dmi d;
		size_t used;
		char want[16];

		smbios_info_init(&info, 1ULL << 30, counts[k]);
		CHECK(build(&info, &d, &used) == 0);
		CHECK(d.n == 8 + counts[k]);
		for (unsigned c = 0; c < counts[k]; c++) {
			const uint8_t *t = find(&d, 4, c);

			snprintf(want, sizeof(want), "CPU %u", c);
			CHECK(t && le16_get(t + 2) == 0x400 + c && str_is(t, 4, want));
		}
		CHECK(find(&d, 4, counts[k]) == NULL);
	}
	return 0;
}

/* What applesmc's DMI whitelist checks: substrings of two fields. */
static int t_apple(void)
{
	struct smbios_info info;
	struct dmi d;
	size_t used;
	const uint8_t *sys, *board;

	smbios_info_init(&info, 1ULL << 30, 1);
	smbios_apple_defaults(&info);
	CHECK(build(&info, &d, &used) == 0);
	CHECK((sys = find(&d, 1, 0)) && (board = find(&d, 2, 0)));
	CHECK(strstr(dmi_str(board, board[4]), "Apple"));
	CHECK(strstr(dmi_str(sys, sys[5]), "MacBookPro"));
	CHECK(str_is(sys, 4, "Apple Inc.") && find(&d, 3, 0)[5] == 0x0A);
	return 0;
}

static int t_options(void)
{
	struct smbios_info info;
	struct dmi d;
	size_t used;
	const uint8_t *t;
	char err[128];

	smbios_info_init(&info, 1ULL << 30, 1);
	smbios_apple_defaults(&info);
	CHECK(smbios_parse_option(&info,
				  "type=1,manufacturer=ACME,,Inc.,product=Road,,Runner,,,"
				  "serial=SN-1,uuid=00112233-4455-6677-8899-AaBbCcDdEeFf,"
				  "sku=,family=Toons,version=2",
				  err, sizeof(err)) == 0);
	CHECK(err[0] == 0);
	CHECK(smbios_parse_option(&info, "version=7,type=0,vendor=V,date=12/31/2099", err,
				  sizeof(err)) == 0);
	CHECK(smbios_parse_option(&info, "type=2,manufacturer=Apple Inc.,product=B,asset=A1", err,
				  sizeof(err)) == 0);
	CHECK(smbios_parse_option(&info, "type=3,manufacturer=C,serial=S3,sku=K", err,
				  sizeof(err)) == 0);
	/* a later option overrides */
	CHECK(smbios_parse_option(&info, "type=2,product=MacBookPro board", err, sizeof(err)) == 0);
	CHECK(build(&info, &d, &used) == 0);

	t = find(&d, 0, 0);
	CHECK(str_is(t, 4, "V") && str_is(t, 5, "7") && str_is(t, 8, "12/31/2099"));
	t = find(&d, 1, 0);
	CHECK(str_is(t, 4, "ACME,Inc.") && str_is(t, 5, "Road,Runner,") && str_is(t, 6, "2"));
	CHECK(str_is(t, 7, "SN-1") && str_is(t, 0x1A, "Toons"));
	CHECK(t[0x19] == 0); /* sku= : empty, so no string */
	{
		static const uint8_t want[16] = {0x33, 0x22, 0x11, 0x00, 0x55, 0x44, 0x77, 0x66,
						 0x88, 0x99, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF};

		CHECK(!memcmp(t + 8, want, 16));
	}
	t = find(&d, 2, 0);
	CHECK(str_is(t, 4, "Apple Inc.") && str_is(t, 5, "MacBookPro board"));
	CHECK(str_is(t, 8, "A1") && str_is(t, 6, "MacBookPro11,1"));
	t = find(&d, 3, 0);
	CHECK(str_is(t, 4, "C") && str_is(t, 7, "S3") && str_is(t, 0x15, "K"));
	return 0;
}

static int t_options_hostile(void)
{
	static const char *bad[] = {
	    "",
	    "type",
	    "type=",
	    "type=4",
	    "type=11",
	    "type=1x",
	    "type=-1",
	    "type=1,type=1",
	    "type=1,type=2",
	    "manufacturer=x",
	    "type=1,foo=bar",
	    "type=0,product=x",
	    "type=3,product=x",
	    "type=2,uuid=00112233-4455-6677-8899-aabbccddeeff",
	    "type=1,uuid=",
	    "type=1,uuid=zz",
	    "type=1,uuid=00112233-4455-6677-8899-aabbccddeefg",
	    "type=1,uuid=0011223344556677-8899-aabbccddeeff0",
	    "type=1,uuid=00112233-4455-6677-8899-aabbccddeeff0",
	    "type=1,uuid=00112233+4455-6677-8899-aabbccddeeff",
	    "type=1,serial=a\x01z",
	    "type=1,serial=tab\there",
	    "type=1,serial=new\nline",
	    "type=1,serial=del\x7f",
	    "type=1,serial=\x1b[31mred",
	    "type=1,",
	    "type=1,,",
	    "=x",
	    ",type=1",
	    "type=1,manufacturer",
	    "type=1,serial=a,serial=b",
	    "TYPE=1",
	    "type=1,Manufacturer=x",
	    "type=1,averyveryverylongkeyname=x",
	    "type=1,a=1,b=2,c=3,d=4,e=5,f=6,g=7,h=8,i=9",
	    "type=1,manu facturer=x",
	};
	struct smbios_info info, before;
	char err[128], longv[300];

	smbios_info_init(&info, 1ULL << 30, 1);
	CHECK(smbios_parse_option(&info, "type=1,product=keep", err, sizeof(err)) == 0);
	memcpy(&before, &info, sizeof(info));
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		memset(err, 0, sizeof(err));
		if (smbios_parse_option(&info, bad[k], err, sizeof(err)) != -EINVAL) {
			fprintf(stderr, "accepted: '%s'\n", bad[k]);
			return 1;
		}
		CHECK(err[0] && !strchr(err, '\n') && strlen(err) < sizeof(err));
		for (const char *p = err; *p; p++)
			CHECK((unsigned char)*p >= 0x20 && *p != 0x7F);
		CHECK(!memcmp(&info, &before, sizeof(info)));
	}
	/* 64 bytes is the limit, 65 is too long */
	memset(longv, 'x', sizeof(longv));
	memcpy(longv, "type=1,serial=", 14);
	longv[14 + 64] = 0;
	CHECK(smbios_parse_option(&info, longv, err, sizeof(err)) == 0);
	CHECK(strlen(info.sys_serial) == 64);
	longv[14 + 64] = 'x';
	longv[14 + 65] = 0;
	CHECK(smbios_parse_option(&info, longv, err, sizeof(err)) == -EINVAL);
	CHECK(strstr(err, "longer"));
	/* escaped commas count once */
	memset(longv + 14, ',', 128);
	longv[14 + 128] = 0;
	CHECK(smbios_parse_option(&info, longv, err, sizeof(err)) == 0);
	CHECK(strlen(info.sys_serial) == 64 && info.sys_serial[63] == ',');
	/* NULLs and tiny error buffers */
	CHECK(smbios_parse_option(NULL, "type=1", err, sizeof(err)) == -EINVAL);
	CHECK(smbios_parse_option(&info, NULL, err, sizeof(err)) == -EINVAL);
	CHECK(smbios_parse_option(&info, "type=9", NULL, 0) == -EINVAL);
	err[0] = 'Q';
	err[1] = 'Q';
	CHECK(smbios_parse_option(&info, "type=9", err, 1) == -EINVAL);
	CHECK(err[0] == 0 && err[1] == 'Q');
	return 0;
}

static int t_huge_option(void)
{
	static char big[100000];
	struct smbios_info info;
	char err[128];

	smbios_info_init(&info, 1ULL << 30, 1);
	memset(big, ',', sizeof(big) - 1);
	memcpy(big, "type=1,serial=", 14);
	CHECK(smbios_parse_option(&info, big, err, sizeof(err)) == -EINVAL);
	memset(big, 'a', sizeof(big) - 1);
	CHECK(smbios_parse_option(&info, big, err, sizeof(err)) == -EINVAL);
	for (size_t k = 0; k + 4 < sizeof(big) - 1; k += 4)
		memcpy(big + k, "a=b,", 4);
	CHECK(smbios_parse_option(&info, big, err, sizeof(err)) == -EINVAL);
	return 0;
}

static int t_write_rejects(void)
{
	struct smbios_info info;
	size_t used = 7, need;
	char s65[66];

	smbios_info_init(&info, 1ULL << 30, 4);
	CHECK(smbios_write(NULL, AREA, GPA, &info, &used) == -EINVAL);
	CHECK(smbios_write(area, AREA, GPA, NULL, &used) == -EINVAL);
	CHECK(smbios_write(area, AREA, GPA, &info, NULL) == -EINVAL);
	CHECK(smbios_write(area, AREA, GPA + 8, &info, &used) == -EINVAL);
	info.ncpus = 0;
	CHECK(smbios_write(area, AREA, GPA, &info, &used) == -EINVAL);
	info.ncpus = SMBIOS_MAX_CPUS + 1;
	CHECK(smbios_write(area, AREA, GPA, &info, &used) == -EINVAL);
	info.ncpus = 4;
	info.mem_bytes = 0;
	CHECK(smbios_write(area, AREA, GPA, &info, &used) == -EINVAL);
	info.mem_bytes = (0x7FFFFFFFULL << 20) + 1;
	CHECK(smbios_write(area, AREA, GPA, &info, &used) == -EINVAL);
	info.mem_bytes = 1ULL << 30;
	info.board_serial = "bad\x02";
	CHECK(smbios_write(area, AREA, GPA, &info, &used) == -EINVAL);
	memset(s65, 'y', 65);
	s65[65] = 0;
	info.board_serial = s65;
	CHECK(smbios_write(area, AREA, GPA, &info, &used) == -EINVAL);
	info.board_serial = s65 + 1; /* 64 bytes */
	CHECK(smbios_write(area, AREA, GPA, &info, &used) == 0);
	need = used;
	/* every shorter buffer is refused, and nothing is written past it */
	for (size_t len = 0; len < need; len++) {
		memset(area, 0xCC, sizeof(area));
		CHECK(smbios_write(area, len, GPA, &info, &used) == -ENOSPC);
		CHECK(area[len] == 0xCC);
	}
	CHECK(smbios_write(area, need, GPA, &info, &used) == 0 && used == need);
	CHECK(smbios_write(area, AREA, 0xFFFFFF00u, &info, &used) == -ERANGE);
	return 0;
}

/* The biggest table moat can ask for still fits its place in the BIOS area. */
static int t_fits(void)
{
	struct smbios_info info;
	struct dmi d;
	size_t used;
	char s[SMBIOS_STR_MAX + 1];
	const char **all[] = {
	    &info.bios_vendor,	      &info.bios_version,   &info.bios_date,
	    &info.sys_manufacturer,   &info.sys_product,    &info.sys_version,
	    &info.sys_serial,	      &info.sys_sku,	    &info.sys_family,
	    &info.board_manufacturer, &info.board_product,  &info.board_version,
	    &info.board_serial,	      &info.board_asset,    &info.chassis_manufacturer,
	    &info.chassis_version,    &info.chassis_serial, &info.chassis_asset,
	    &info.chassis_sku,
	};

	memset(s, 'z', SMBIOS_STR_MAX);
	s[SMBIOS_STR_MAX] = 0;
	smbios_info_init(&info, 1ULL << 40, SMBIOS_MAX_CPUS);
	for (size_t k = 0; k < sizeof(all) / sizeof(all[0]); k++)
		*all[k] = s;
	CHECK(build(&info, &d, &used) == 0);
	CHECK(used <= AREA);
	return 0;
}

TAP_MAIN(TEST(t_defaults), TEST(t_memory), TEST(t_cpus), TEST(t_apple), TEST(t_options),
	 TEST(t_options_hostile), TEST(t_huge_option), TEST(t_write_rejects), TEST(t_fits))
