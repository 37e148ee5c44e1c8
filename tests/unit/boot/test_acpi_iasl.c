/* The ACPI tables as iasl (acpica-tools) sees them: every table placed by
 * the loader script is disassembled, the DSDT's names (PCI0 and its
 * windows, the ISA devices, the SMC, \\_S5, the processors) are looked for
 * in the output, and the DSDT's disassembly compiles back to the very AML
 * moat wrote. */
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "acpi_fixture.h"

static int write_file(const char *dir, const char *name, const uint8_t *p, size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	CHECK((f = fopen(path, "wb")) != NULL);
	CHECK(fwrite(p, 1, len, f) == len);
	CHECK(fclose(f) == 0);
	return 0;
}

/* iasl with one option and one file, in dir, its output appended to
 * dir/iasl.log; its exit status, -1 if it did not exit. */
static int iasl(const char *dir, const char *opt, const char *arg, const char *file)
{
	char log[512];
	int status, fd;
	pid_t pid;

	snprintf(log, sizeof(log), "%s/iasl.log", dir);
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (fd < 0 || chdir(dir) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(127);
		if (arg)
			execlp("iasl", "iasl", opt, arg, file, (char *)NULL);
		else
			execlp("iasl", "iasl", opt, file, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* The whole of dir/name (up to 1 MiB), NUL-terminated, its length in
 * *n; the buffer is reused by the next call. NULL if it cannot be read. */
static char *slurp(const char *dir, const char *name, size_t *n)
{
	static char buf[1 << 20];
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (!(f = fopen(path, "rb")))
		return NULL;
	*n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[*n] = 0;
	fclose(f);
	return *n < sizeof(buf) - 1 ? buf : NULL;
}

static void rm_dir(const char *dir)
{
	static const char *const names[] = {"dsdt", "facp", "apic", "rsdt", "xsdt", "facs", "re"};
	static const char *const exts[] = {"dat", "dsl", "aml"};
	char path[512];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]) * 3; i++) {
		snprintf(path, sizeof(path), "%s/%s.%s", dir, names[i / 3], exts[i % 3]);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/iasl.log", dir);
	unlink(path);
	rmdir(dir);
}

static int has(const char *text, const char *what)
{
	if (strstr(text, what))
		return 1;
	fprintf(stderr, "not in the disassembly: %s\n", what);
	return 0;
}

/* What the disassembled DSDT must say, with smc or not. */
static int check_dsdt_text(const char *d, unsigned ncpus, bool smc)
{
	static const char *const want[] = {
	    "Scope (_SB)",
	    "Device (PCI0)",
	    "EisaId (\"PNP0A03\")",
	    "Name (_BBN, Zero)",
	    "Name (_PRT, Package (0x7C)",
	    "Device (ISA)",
	    "Name (_ADR, 0x00010000)",
	    "Device (RTC)",
	    "EisaId (\"PNP0B00\")",
	    "Device (KBD)",
	    "EisaId (\"PNP0303\")",
	    "Device (MOU)",
	    "EisaId (\"PNP0F13\")",
	    "Device (COM1)",
	    "EisaId (\"PNP0501\")",
	    "IRQNoFlags () {4}",
	    "0x03F8, // Range Minimum",
	    "Name (_S5, Package (0x04)",
	    "WordBusNumber (ResourceProducer, MinFixed, MaxFixed, PosDecode,",
	    "0x0CF7, // Range Maximum",
	    "0x80000000, // Range Minimum", /* low RAM ends below it */
	    "0x7EC00000, // Length",	    /* to 0xFEBFFFFF */
	};
	char proc[64];

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		CHECK(has(d, want[i]));
	CHECK(smc == (strstr(d, "EisaId (\"APP0001\")") != NULL));
	CHECK(smc == (strstr(d, "Device (SMC)") != NULL));
	if (smc) {
		CHECK(has(d, "Name (_STA, 0x0B)"));
		CHECK(has(d, "0x0300, // Range Minimum"));
		CHECK(has(d, "IRQNoFlags () {6}"));
	}
	for (unsigned i = 0; i < ncpus; i++) {
		snprintf(proc, sizeof(proc), "Processor (C%03X, 0x%02X, 0x00000000, 0x00)", i, i);
		CHECK(has(d, proc));
	}
	snprintf(proc, sizeof(proc), "Processor (C%03X", ncpus);
	CHECK(!strstr(d, proc));
	return 0;
}

/* Every run of white space made one space, in place: the checks do not
 * depend on iasl's indentation. */
static char *squeeze(char *s)
{
	char *w = s;

	for (const char *r = s; *r; r++) {
		bool ws = *r == ' ' || *r == '\t' || *r == '\n' || *r == '\r';

		if (!ws)
			*w++ = *r;
		else if (w == s || w[-1] != ' ')
			*w++ = ' ';
	}
	*w = 0;
	return s;
}

/* iasl compiles its own disassembly back to the very AML moat wrote (the
 * header aside: iasl puts its own compiler id there). */
static int recompiled_same(const char *dir, const uint8_t *dsdt)
{
	size_t n;
	char *aml;
	int same;

	CHECK(iasl(dir, "-p", "re", "dsdt.dsl") == 0);
	CHECK((aml = slurp(dir, "re.aml", &n)) != NULL);
	same = n == le32_get(dsdt + 4) && !memcmp(aml + 36, dsdt + 36, n - 36);
	if (!same)
		fprintf(stderr, "%s/re.aml: not the AML of dsdt.dat\n", dir);
	return !same;
}

/* Disassemble each placed table; iasl must succeed, find no bad checksum
 * and print what the DSDT should hold. */
static int iasl_case(unsigned ncpus, bool smc)
{
	static const struct {
		const char *sig, *name;
	} files[] = {{"DSDT", "dsdt"}, {"FACP", "facp"}, {"APIC", "apic"},
		     {"RSDT", "rsdt"}, {"XSDT", "xsdt"}, {"FACS", "facs"}};
	struct acpi_config c = config(ncpus, smc);
	struct acpi_tables t;
	const char *tmp = getenv("TMPDIR");
	char *text, tdir[256], name[16];
	size_t len;
	int rc = 1;

	snprintf(tdir, sizeof(tdir), "%s/moat-acpi-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(tdir))
		return 1;
	CHECK(acpi_build(&c, &t) == 0 && place(&t) == 0);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		const uint8_t *p = NULL;

		for (size_t off = 0; off + 36 <= t.tables_len && !p; off += 8)
			if (!memcmp(TABLES + off, files[i].sig, 4))
				p = TABLES + off;
		snprintf(name, sizeof(name), "%s.dat", files[i].name);
		if (!p || write_file(tdir, name, p, le32_get(p + 4)) ||
		    iasl(tdir, "-d", NULL, name) != 0) {
			fprintf(stderr, "iasl -d %s failed, see %s/iasl.log\n", name, tdir);
			goto out;
		}
		snprintf(name, sizeof(name), "%s.dsl", files[i].name);
		text = slurp(tdir, name, &len);
		if (!text || strstr(text, "Incorrect checksum") || strstr(text, "Error") ||
		    (i == 0 && check_dsdt_text(squeeze(text), ncpus, smc))) {
			fprintf(stderr, "%s/%s: not as expected\n", tdir, name);
			goto out;
		}
		if (i == 0 && recompiled_same(tdir, p))
			goto out;
	}
	rc = 0;
out:
	if (rc == 0)
		rm_dir(tdir);
	acpi_tables_free(&t);
	return rc;
}

static int t_iasl(void)
{
	if (system("command -v iasl >/dev/null 2>&1") != 0) {
		fprintf(stderr, "# iasl is not on PATH (apt-get install acpica-tools)\n");
		return TEST_SKIP;
	}
	for (int smc = 0; smc <= 1; smc++) {
		CHECK(iasl_case(1, smc) == 0);
		CHECK(iasl_case(MOAT_MAX_CPUS, smc) == 0);
	}
	return 0;
}

TAP_MAIN(TEST(t_iasl))
