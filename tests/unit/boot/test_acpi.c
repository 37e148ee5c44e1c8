/* Unit tests for vcpu/boot/acpi.c and aml.c: the tables are built, placed
 * by running their own loader script (acpi_place) into a stand-in for the
 * guest's 0xE0000-0xFFFFF, and read back the way an OS finds them: the
 * RSDP's two checksums, RSDT and XSDT entries, the FADT's pointers and PM
 * blocks, the MADT's entries, every checksum. Hostile loader scripts must
 * fail cleanly without a byte written outside the two buffers. iasl's view
 * of the tables is test_acpi_iasl.c. */
#include "acpi_fixture.h"

static int check_gas(const uint8_t *g, unsigned bits, uint64_t port)
{
	CHECK(g[0] == 1 && g[1] == bits && g[2] == 0);
	CHECK(le64_get(g + 4) == port);
	return 0;
}

static bool zeros(const uint8_t *p, size_t from, size_t to)
{
	while (from < to)
		if (p[from++])
			return false;
	return true;
}

static int check_fadt(const uint8_t *f, size_t tables_len, uint16_t pm)
{
	const uint8_t *facs, *dsdt;

	CHECK(le32_get(f + 4) == 276 && f[8] == 6);
	CHECK((facs = table_at(le32_get(f + 36), tables_len, "FACS")));
	CHECK(le64_get(f + 132) == le32_get(f + 36));
	CHECK((le32_get(f + 36) % 64) == 0);
	CHECK((dsdt = table_at(le32_get(f + 40), tables_len, "DSDT")));
	CHECK(le64_get(f + 140) == le32_get(f + 40) && dsdt[8] == 2);
	CHECK(le16_get(f + 46) == 9 && le32_get(f + 48) == 0);
	CHECK(le32_get(f + 56) == pm && le32_get(f + 64) == pm + 4u && le32_get(f + 76) == pm + 8u);
	CHECK(le32_get(f + 60) == 0 && le32_get(f + 68) == 0 && le32_get(f + 72) == 0);
	CHECK(le32_get(f + 80) == 0 && le32_get(f + 84) == 0);
	CHECK(f[88] == 4 && f[89] == 2 && f[90] == 0 && f[91] == 4 && f[92] == 0 && f[93] == 0);
	CHECK(le16_get(f + 109) == 3);
	/* WBINVD, PROC_C1, SLP_BUTTON, RESET_REG_SUP; PWR_BUTTON and
	 * TMR_VAL_EXT clear. */
	CHECK(le32_get(f + 112) == (1u | 4u | 0x20u | 0x400u));
	CHECK(check_gas(f + 116, 8, 0xCF9) == 0 && f[128] == 6);
	CHECK(check_gas(f + 148, 32, pm) == 0);
	CHECK(check_gas(f + 172, 16, pm + 4u) == 0);
	CHECK(check_gas(f + 208, 32, pm + 8u) == 0);
	/* X_PM1b_EVT; X_PM1b_CNT, X_PM2_CNT; X_GPE0, X_GPE1 */
	CHECK(zeros(f, 160, 172) && zeros(f, 184, 208) && zeros(f, 220, 244));
	return 0;
}

static int check_madt(const uint8_t *m, unsigned ncpus)
{
	uint32_t len = le32_get(m + 4);
	unsigned lapic = 0, ioapic = 0, iso = 0, nmi = 0;

	CHECK(le32_get(m + 36) == 0xFEE00000u && le32_get(m + 40) == 1);
	for (uint32_t off = 44; off < len;) {
		const uint8_t *e = m + off;

		CHECK(off + 2 <= len && e[1] >= 2 && off + e[1] <= len);
		switch (e[0]) {
		case 0:
			CHECK(e[1] == 8 && e[2] == lapic && e[3] == lapic && le32_get(e + 4) == 1);
			lapic++;
			break;
		case 1:
			CHECK(e[1] == 12 && e[2] == ncpus && le32_get(e + 4) == 0xFEC00000u);
			CHECK(le32_get(e + 8) == 0);
			ioapic++;
			break;
		case 2:
			CHECK(e[1] == 10 && e[2] == 0);
			if (e[3] == 0)
				CHECK(le32_get(e + 4) == 0 && le16_get(e + 8) == 0);
			else
				CHECK(e[3] == 9 && le32_get(e + 4) == 9 && le16_get(e + 8) == 0xD);
			iso++;
			break;
		case 4:
			CHECK(e[1] == 6 && e[2] == 0xFF && le16_get(e + 3) == 0 && e[5] == 1);
			nmi++;
			break;
		default:
			CHECK(!"unexpected MADT entry");
		}
		off += e[1];
	}
	CHECK(lapic == ncpus && ioapic == 1 && iso == 2 && nmi == 1);
	return 0;
}

/* RSDT or XSDT: FADT and MADT, each found by its pointer. */
static int check_sdt(const uint8_t *s, unsigned width, size_t tables_len, const uint8_t **fadt,
		     const uint8_t **madt)
{
	uint32_t len = le32_get(s + 4);

	CHECK(len == 36 + 2 * width);
	for (uint32_t off = 36; off < len; off += width) {
		uint64_t gpa = width == 4 ? le32_get(s + off) : le64_get(s + off);
		const uint8_t *f = table_at(gpa, tables_len, "FACP");
		const uint8_t *m = table_at(gpa, tables_len, "APIC");

		CHECK(f || m);
		if (f)
			*fadt = f;
		else
			*madt = m;
	}
	return 0;
}

/* Place the tables of a build and read them back as an OS would. */
static int check_placed(const struct acpi_tables *t, const struct acpi_config *c)
{
	const uint8_t *rsdt, *xsdt, *fadt = NULL, *madt = NULL, *fadt2 = NULL, *madt2 = NULL;

	CHECK(t->rsdp_len == 36 && t->loader_len % ACPI_LOADER_CMD_SIZE == 0);
	CHECK(t->tables_len <= TAB_MAX);
	CHECK(place(t) == 0);
	CHECK(guards_ok(t->rsdp_len, t->tables_len));

	CHECK(!memcmp(RSDP, "RSD PTR ", 8) && RSDP[15] == 2 && le32_get(RSDP + 20) == 36);
	CHECK(!memcmp(RSDP + 9, "MOAT  ", 6));
	CHECK(sum(RSDP, 20) == 0 && sum(RSDP, 36) == 0);
	CHECK((rsdt = table_at(le32_get(RSDP + 16), t->tables_len, "RSDT")));
	CHECK((xsdt = table_at(le64_get(RSDP + 24), t->tables_len, "XSDT")));
	CHECK(check_sdt(rsdt, 4, t->tables_len, &fadt, &madt) == 0);
	CHECK(check_sdt(xsdt, 8, t->tables_len, &fadt2, &madt2) == 0);
	CHECK(fadt && madt && fadt == fadt2 && madt == madt2);
	CHECK(check_fadt(fadt, t->tables_len, c->pm_base) == 0);
	CHECK(check_madt(madt, c->ncpus) == 0);
	return 0;
}

static int t_tables(void)
{
	const unsigned counts[] = {1, 2, MOAT_MAX_CPUS};

	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
		for (int smc = 0; smc <= 1; smc++) {
			struct acpi_config c = config(counts[i], smc);
			struct acpi_tables t;

			CHECK(acpi_build(&c, &t) == 0);
			CHECK(check_placed(&t, &c) == 0);
			/* the blobs keep checksums for the loader */
			CHECK(t.rsdp[8] == 0 && t.rsdp[32] == 0);
			acpi_tables_free(&t);
			CHECK(t.tables == NULL && t.rsdp == NULL && t.loader == NULL);
		}
	acpi_tables_free(NULL);
	return 0;
}

/* fw_cfg_update_file: a rebuild with the PM base the firmware chose (or
 * another window) must keep every file's size. */
static int t_sizes(void)
{
	for (unsigned n = 1; n <= MOAT_MAX_CPUS; n++)
		for (int smc = 0; smc <= 1; smc++) {
			struct acpi_config c = config(n, smc), c2 = c;
			struct acpi_tables a, b;

			c2.pm_base = 0xB000;
			c2.low_ram_end = 0xC0000000;
			c2.high_ram_end = 6ULL << 30;
			CHECK(acpi_build(&c, &a) == 0 && acpi_build(&c2, &b) == 0);
			CHECK(a.tables_len == b.tables_len && a.rsdp_len == b.rsdp_len);
			CHECK(a.loader_len == b.loader_len);
			CHECK(!memcmp(a.loader, b.loader, a.loader_len));
			CHECK(memcmp(a.tables, b.tables, a.tables_len) != 0);
			CHECK(check_placed(&b, &c2) == 0);
			printf("# ncpus %u smc %d: tables %zu, rsdp %zu, loader %zu\n", n, smc,
			       a.tables_len, a.rsdp_len, a.loader_len);
			acpi_tables_free(&a);
			acpi_tables_free(&b);
		}
	return 0;
}

static int t_bad_config(void)
{
	struct acpi_config good = config(1, false), c;
	struct acpi_tables t = {0};

	CHECK(acpi_build(NULL, &t) == -EINVAL && acpi_build(&good, NULL) == -EINVAL);
#define REFUSED(field, value)                                                                      \
	do {                                                                                       \
		c = good;                                                                          \
		c.field = value;                                                                   \
		CHECK(acpi_build(&c, &t) == -EINVAL && t.tables == NULL);                          \
	} while (0)
	REFUSED(ncpus, 0);
	REFUSED(ncpus, MOAT_MAX_CPUS + 1);
	REFUSED(ncpus, 255);
	REFUSED(pm_base, 0);
	REFUSED(pm_base, 0x601);
	REFUSED(pm_base, 0x620);
	REFUSED(low_ram_end, 0);
	REFUSED(low_ram_end, 0xFFFFF);
	REFUSED(low_ram_end, 0xC0000001);
	REFUSED(low_ram_end, 1ULL << 32);
	REFUSED(high_ram_end, 1ULL << 32);
	REFUSED(high_ram_end, 3ULL << 30);
	REFUSED(high_ram_end, UINT64_MAX);
#undef REFUSED
	c = good;
	c.pm_base = 0xFFC0;
	CHECK(acpi_build(&c, &t) == 0);
	acpi_tables_free(&t);
	return 0;
}

/* acpi_place's own arguments: room, alignment, overlap, addresses the
 * pointers cannot hold. */
static int t_place_args(void)
{
	struct acpi_config c = config(2, true);
	struct acpi_tables t;

	CHECK(acpi_build(&c, &t) == 0);
	memset(mem, GUARD_BYTE, sizeof(mem));
#define PLACE(rsdp, rsdp_room, rsdp_gpa, tables, tables_room, tables_gpa)                          \
	acpi_place(&t, rsdp, rsdp_room, rsdp_gpa, tables, tables_room, tables_gpa)
	CHECK(acpi_place(NULL, RSDP, RSDP_ROOM, RSDP_GPA, TABLES, TAB_MAX, TABLES_GPA) == -EINVAL);
	CHECK(PLACE(NULL, RSDP_ROOM, RSDP_GPA, TABLES, TAB_MAX, TABLES_GPA) == -EINVAL);
	CHECK(PLACE(RSDP, 35, RSDP_GPA, TABLES, TAB_MAX, TABLES_GPA) == -ENOSPC);
	CHECK(PLACE(RSDP, 64, RSDP_GPA, TABLES, t.tables_len - 1, TABLES_GPA) == -ENOSPC);
	CHECK(guards_ok(0, 0));
	/* the tables want 64-byte alignment, the RSDP 16 */
	CHECK(PLACE(RSDP, 64, RSDP_GPA, TABLES, TAB_MAX, TABLES_GPA + 16) == -EINVAL);
	CHECK(PLACE(RSDP, 64, RSDP_GPA + 8, TABLES, TAB_MAX, TABLES_GPA) == -EINVAL);
	/* overlapping files, in the guest or in memory */
	CHECK(PLACE(RSDP, 64, TABLES_GPA + 64, TABLES, TAB_MAX, TABLES_GPA) == -EINVAL);
	CHECK(PLACE(TABLES + 64, 64, RSDP_GPA, TABLES, TAB_MAX, TABLES_GPA) == -EINVAL);
	/* the RSDT's 4-byte pointers cannot reach tables above 4 GiB */
	CHECK(PLACE(RSDP, 64, RSDP_GPA, TABLES, TAB_MAX, 1ULL << 32) == -EINVAL);
	CHECK(PLACE(RSDP, 64, RSDP_GPA, TABLES, TAB_MAX, UINT64_MAX & ~63ULL) == -EINVAL);
	CHECK(guards_ok(t.rsdp_len, t.tables_len));
	/* the tables just below 4 GiB: fine */
	CHECK(PLACE(RSDP, 64, RSDP_GPA, TABLES, TAB_MAX, (1ULL << 32) - ALIGN64(t.tables_len)) ==
	      0);
#undef PLACE
	acpi_tables_free(&t);
	return 0;
}

/* aml.c: a Package(1) holding a string of n bytes takes the shortest
 * PkgLength that holds its length (1 to 3 bytes here); misuse is refused. */
static int t_aml(void)
{
	static const size_t sizes[] = {0, 58, 59, 60, 200, 4089, 4090, 4091, 70000};
	static const unsigned limit[] = {0x3F, 0xFFF, 0xFFFFF};
	static char str[70001];
	struct aml a;
	uint8_t *b;
	size_t len;

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		unsigned k, v;

		memset(str, 'x', sizes[i]);
		str[sizes[i]] = 0;
		aml_init(&a);
		aml_package_begin(&a, 1);
		aml_string(&a, str);
		aml_end(&a);
		CHECK(aml_finish(&a, &b, &len) == 0 && b[0] == 0x12);
		k = b[1] >> 6;
		v = k ? b[1] & 0x0F : b[1] & 0x3F;
		for (unsigned j = 0; j < k; j++)
			v |= (unsigned)b[2 + j] << (4 + 8 * j);
		CHECK(1 + v == len && b[2 + k] == 1 && b[3 + k] == 0x0D);
		CHECK(k < 3 && v <= limit[k] && (k == 0 || v - 1 > limit[k - 1]));
		free(b);
	}
	aml_init(&a);
	aml_end(&a); /* nothing open */
	CHECK(aml_finish(&a, &b, &len) == -EINVAL);
	aml_package_begin(&a, 2);
	aml_integer(&a, 1);
	aml_end(&a); /* one element short */
	CHECK(aml_finish(&a, &b, &len) == -EINVAL);
	aml_scope_begin(&a, "_sb"); /* lower case */
	CHECK(aml_finish(&a, &b, &len) == -EINVAL);
	aml_eisaid(&a, "PNP0A0");
	CHECK(aml_finish(&a, &b, &len) == -EINVAL);
	aml_scope_begin(&a, "\\_SB.PCI0.ISA_.TOOLONG");
	CHECK(aml_finish(&a, &b, &len) == -EINVAL);
	return 0;
}

/* ---- hostile loader scripts ---- */

static uint8_t *cmd_of(struct acpi_tables *t, unsigned type, unsigned nth)
{
	for (size_t off = 0; off < t->loader_len; off += ACPI_LOADER_CMD_SIZE)
		if (le32_get(t->loader + off) == type && nth-- == 0)
			return t->loader + off;
	return NULL;
}

/* Run a mutated script: it must fail with -EINVAL (when want_fail) and in
 * any case write nothing outside the two files' places. */
static int run_mutated(struct acpi_tables *t, bool want_fail)
{
	int r = place(t);

	CHECK(guards_ok(t->rsdp_len, t->tables_len));
	if (want_fail)
		CHECK(r == -EINVAL);
	else
		CHECK(r == 0 || r == -EINVAL);
	return 0;
}

/* One field of one command set to a hostile value; the script is restored
 * after. */
struct mutation {
	unsigned type, nth; /* which command */
	unsigned off, width;
	uint64_t value;
};

static int t_hostile_fields(void)
{
	const struct mutation m[] = {
	    /* ALLOCATE: align 0, not a power of two, not met; unknown zone
	     * and name */
	    {ACPI_LOADER_ALLOCATE, 0, 60, 4, 0},
	    {ACPI_LOADER_ALLOCATE, 0, 60, 4, 48},
	    {ACPI_LOADER_ALLOCATE, 0, 60, 4, 1u << 31},
	    {ACPI_LOADER_ALLOCATE, 1, 64, 1, 7},
	    {ACPI_LOADER_ALLOCATE, 1, 4, 8, 0x7365746973736f70ULL}, /* "possites/rsdp" */
	    /* ADD_POINTER: offsets past the file, wrapping, bad sizes */
	    {ACPI_LOADER_ADD_POINTER, 0, 116, 4, 0xFFFFFFFF},
	    {ACPI_LOADER_ADD_POINTER, 0, 116, 4, 0xFFFFFFFD},
	    {ACPI_LOADER_ADD_POINTER, 1, 120, 1, 0},
	    {ACPI_LOADER_ADD_POINTER, 1, 120, 1, 3},
	    {ACPI_LOADER_ADD_POINTER, 1, 120, 1, 16},
	    {ACPI_LOADER_ADD_POINTER, 2, 120, 1, 255},
	    {ACPI_LOADER_ADD_POINTER, 3, 4, 8, 0x0000656c6966},	 /* "file" */
	    {ACPI_LOADER_ADD_POINTER, 3, 60, 8, 0x0000656c6966}, /* "file" */
	    {ACPI_LOADER_ADD_POINTER, 9, 116, 4, 33},		 /* rsdp: 8 bytes at 33 */
	    /* ADD_CHECKSUM: result, start and length outside, wrapping */
	    {ACPI_LOADER_ADD_CHECKSUM, 0, 60, 4, 0xFFFFFFFF},
	    {ACPI_LOADER_ADD_CHECKSUM, 0, 64, 4, 0xFFFFFFF0},
	    {ACPI_LOADER_ADD_CHECKSUM, 0, 68, 4, 0xFFFFFFFF},
	    {ACPI_LOADER_ADD_CHECKSUM, 6, 68, 4, 37},
	    {ACPI_LOADER_ADD_CHECKSUM, 6, 60, 4, 36},
	    {ACPI_LOADER_ADD_CHECKSUM, 5, 4, 8, 0},
	    /* a command moat never writes */
	    {ACPI_LOADER_ADD_CHECKSUM, 1, 0, 4, 4},
	    {ACPI_LOADER_ADD_CHECKSUM, 1, 0, 4, 0xFFFFFFFF},
	};
	struct acpi_config c = config(MOAT_MAX_CPUS, true);
	struct acpi_tables t;

	CHECK(acpi_build(&c, &t) == 0);
	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		uint8_t *cmd = cmd_of(&t, m[i].type, m[i].nth), saved[8], v[8];

		CHECK(cmd != NULL);
		memcpy(saved, cmd + m[i].off, m[i].width);
		le64_put(v, m[i].value);
		memcpy(cmd + m[i].off, v, m[i].width);
		if (run_mutated(&t, true)) {
			fprintf(stderr, "mutation %zu\n", i);
			return 1;
		}
		memcpy(cmd + m[i].off, saved, m[i].width);
	}
	CHECK(place(&t) == 0);
	acpi_tables_free(&t);
	return 0;
}

/* Names without their NUL, the same file allocated twice, a file used
 * before its ALLOCATE, a script with no ALLOCATE at all, a truncated one,
 * and pointer values in the blobs that point past their file. */
static int t_hostile_scripts(void)
{
	struct acpi_config c = config(2, false);
	struct acpi_tables t;
	uint8_t *alloc0, *alloc1, saved[ACPI_LOADER_CMD_SIZE], *loader;
	size_t len;
	uint32_t rsdt;

	CHECK(acpi_build(&c, &t) == 0);
	alloc0 = cmd_of(&t, ACPI_LOADER_ALLOCATE, 0);
	alloc1 = cmd_of(&t, ACPI_LOADER_ALLOCATE, 1);
	CHECK(alloc0 && alloc1);

	memcpy(saved, alloc0, sizeof(saved));
	memset(alloc0 + 4, 'A', ACPI_LOADER_FILE_MAX);
	CHECK(run_mutated(&t, true) == 0);
	memcpy(alloc0 + 4, ACPI_FILE_TABLES, sizeof(ACPI_FILE_TABLES));
	memset(alloc0 + 4 + sizeof(ACPI_FILE_TABLES), 'A',
	       ACPI_LOADER_FILE_MAX - sizeof(ACPI_FILE_TABLES)); /* NUL still there */
	CHECK(run_mutated(&t, false) == 0);
	memcpy(alloc0, saved, sizeof(saved));

	/* the RSDP's ALLOCATE replaced by the tables': those twice */
	memcpy(saved, alloc1, sizeof(saved));
	memcpy(alloc1, alloc0, sizeof(saved));
	CHECK(run_mutated(&t, true) == 0);
	memcpy(alloc1, saved, sizeof(saved));

	/* the RSDP allocated first, the tables never: the FADT's pointer
	 * names a file not in place */
	memcpy(saved, alloc0, sizeof(saved));
	memcpy(alloc0, alloc1, sizeof(saved));
	CHECK(run_mutated(&t, true) == 0);
	memcpy(alloc0, saved, sizeof(saved));

	/* the script cut short: the RSDP is never allocated */
	len = t.loader_len;
	t.loader_len = ACPI_LOADER_CMD_SIZE * 3;
	CHECK(run_mutated(&t, true) == 0);
	t.loader_len = len - 1;
	CHECK(run_mutated(&t, true) == 0);
	t.loader_len = 0;
	CHECK(run_mutated(&t, true) == 0);
	t.loader_len = len;

	/* pointer values (offsets into the tables) past the end */
	rsdt = le32_get(t.rsdp + 16);
	le32_put(t.rsdp + 16, (uint32_t)t.tables_len);
	CHECK(run_mutated(&t, true) == 0);
	le32_put(t.rsdp + 16, 0xFFFFFFFF);
	CHECK(run_mutated(&t, true) == 0);
	le32_put(t.rsdp + 16, rsdt);
	CHECK(run_mutated(&t, false) == 0 && place(&t) == 0);
	le64_put(t.rsdp + 24, UINT64_MAX - TABLES_GPA + 1);
	CHECK(run_mutated(&t, true) == 0);
	acpi_tables_free(&t);

	/* a script longer than its commands: still walked to the end */
	CHECK(acpi_build(&c, &t) == 0);
	loader = calloc(1, t.loader_len + ACPI_LOADER_CMD_SIZE);
	CHECK(loader);
	memcpy(loader, t.loader, t.loader_len);
	free(t.loader);
	t.loader = loader;
	t.loader_len += ACPI_LOADER_CMD_SIZE; /* type 0: unknown */
	CHECK(run_mutated(&t, true) == 0);
	acpi_tables_free(&t);
	return 0;
}

/* xorshift64: the same hostile sequence every run. */
static uint64_t next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Random bytes of the script and the blobs changed, many times over:
 * never a byte outside the buffers, never a crash (the sanitizers, when
 * on, say so). */
static int t_hostile_random(void)
{
	struct acpi_config c = config(MOAT_MAX_CPUS, true);
	struct acpi_tables t, orig;
	uint64_t s = 0x9E3779B97F4A7C15ULL;

	CHECK(acpi_build(&c, &orig) == 0);
	CHECK(acpi_build(&c, &t) == 0);
	for (int round = 0; round < 20000; round++) {
		unsigned flips = 1 + next(&s) % 4;

		memcpy(t.loader, orig.loader, t.loader_len);
		memcpy(t.rsdp, orig.rsdp, t.rsdp_len);
		memcpy(t.tables, orig.tables, t.tables_len);
		for (unsigned k = 0; k < flips; k++) {
			uint64_t r = next(&s);
			uint8_t val = (uint8_t)(r >> 56);

			switch (r % 8) {
			case 0:
				t.rsdp[(r >> 8) % t.rsdp_len] = val;
				break;
			case 1:
				t.tables[(r >> 8) % t.tables_len] = val;
				break;
			default: { /* most of them into the script's fields */
				uint8_t *cmd = t.loader + (r >> 8) % (t.loader_len / 128) * 128;
				static const uint8_t hot[] = {0,  1,   3,   4,	 16,  60,
							      61, 63,  64,  65,	 67,  68,
							      71, 116, 117, 119, 120, 121};

				cmd[hot[(r >> 24) % sizeof(hot)]] = val;
			}
			}
		}
		if (run_mutated(&t, false)) {
			fprintf(stderr, "round %d\n", round);
			return 1;
		}
	}
	acpi_tables_free(&t);
	acpi_tables_free(&orig);
	return 0;
}
TAP_MAIN(TEST(t_tables), TEST(t_sizes), TEST(t_bad_config), TEST(t_place_args), TEST(t_aml),
	 TEST(t_hostile_fields), TEST(t_hostile_scripts), TEST(t_hostile_random))
