/* moat run's option parser: good forms, and every bad form gets -EINVAL
 * with a message naming the problem. */
#include <errno.h>
#include <string.h>

#include "options.h"
#include "tap.h"

#define HOST (8ULL << 30)

static int parse(struct mon_config *c, char *err, int argc, char **argv)
{
	return mon_parse_run(argc, argv, HOST, c, err, 256);
}

#define ARGV(...) ((char *[]){"run", __VA_ARGS__, NULL})
#define ARGC(...) ((int)(sizeof((char *[]){"run", __VA_ARGS__}) / sizeof(char *)))
#define PARSE(c, err, ...) parse(c, err, ARGC(__VA_ARGS__), ARGV(__VA_ARGS__))

static int t_defaults(void)
{
	struct mon_config c;
	char err[256];

	CHECK(PARSE(&c, err, "--kernel", "/k") == 0);
	CHECK(strcmp(c.kernel, "/k") == 0);
	CHECK(c.initrd == NULL);
	CHECK(c.mem_bytes == MON_DEFAULT_MEM);
	CHECK(c.cpus == 1);
	CHECK(c.serial == MON_SERIAL_STDIO);
	CHECK(strcmp(c.cmdline, MON_DEFAULT_CMDLINE) == 0);
	return 0;
}

static int t_full(void)
{
	struct mon_config c;
	char err[256];

	CHECK(PARSE(&c, err, "--kernel", "/k", "--initrd", "/i", "--cmdline", "a b", "--mem",
		    "5G", "--cpus", "4", "--serial", "file:/tmp/x", "-v") == 0);
	CHECK(c.mem_bytes == 5ULL << 30);
	CHECK(c.cpus == 4);
	CHECK(c.serial == MON_SERIAL_FILE && strcmp(c.serial_path, "/tmp/x") == 0);
	CHECK(strcmp(c.cmdline, "a b") == 0 && c.verbose);
	CHECK(PARSE(&c, err, "--kernel=/k", "--mem=256M", "--serial=none") == 0);
	CHECK(c.mem_bytes == 256ULL << 20 && c.serial == MON_SERIAL_NONE);
	return 0;
}

static int t_sizes(void)
{
	uint64_t v;

	CHECK(mon_parse_size("512M", &v) == 0 && v == 512ULL << 20);
	CHECK(mon_parse_size("1024", &v) == 0 && v == 1024ULL << 20);
	CHECK(mon_parse_size("2GiB", &v) == 0 && v == 2ULL << 30);
	CHECK(mon_parse_size("65536K", &v) == 0 && v == 64ULL << 20);
	CHECK(mon_parse_size("", &v) == -EINVAL);
	CHECK(mon_parse_size("-1G", &v) == -EINVAL);
	CHECK(mon_parse_size("1X", &v) == -EINVAL);
	CHECK(mon_parse_size("1GG", &v) == -EINVAL);
	CHECK(mon_parse_size("99999999999999999999", &v) == -EINVAL);
	CHECK(mon_parse_size("17179869184T", &v) == -EINVAL); /* overflows 64 bits */
	return 0;
}

static int expect_error(const char *needle, int argc, char **argv)
{
	struct mon_config c;
	char err[256] = "";

	if (parse(&c, err, argc, argv) != -EINVAL)
		return 1;
	if (!strstr(err, needle)) {
		fprintf(stderr, "message '%s' lacks '%s'\n", err, needle);
		return 1;
	}
	return 0;
}
#define EXPECT_ERROR(needle, ...) CHECK(expect_error(needle, ARGC(__VA_ARGS__), ARGV(__VA_ARGS__)) == 0)

static int t_bad(void)
{
	EXPECT_ERROR("--kernel is required", "--mem", "1G");
	EXPECT_ERROR("--cpus", "--kernel", "/k", "--cpus", "0");
	EXPECT_ERROR("--cpus", "--kernel", "/k", "--cpus", "9");
	EXPECT_ERROR("--cpus", "--kernel", "/k", "--cpus", "2x");
	EXPECT_ERROR("too small", "--kernel", "/k", "--mem", "1M");
	EXPECT_ERROR("more than this host", "--kernel", "/k", "--mem", "64G");
	EXPECT_ERROR("4 KiB", "--kernel", "/k", "--mem", "32769K");
	EXPECT_ERROR("--mem takes", "--kernel", "/k", "--mem", "lots");
	EXPECT_ERROR("--serial", "--kernel", "/k", "--serial", "tcp:1");
	EXPECT_ERROR("--serial", "--kernel", "/k", "--serial", "file:");
	EXPECT_ERROR("unknown option", "--kernel", "/k", "--bogus");
	EXPECT_ERROR("needs a value", "--kernel");
	EXPECT_ERROR("unexpected argument", "--kernel", "/k", "extra");
	return 0;
}

static int t_help(void)
{
	struct mon_config c;
	char err[256];

	CHECK(PARSE(&c, err, "--help") == 0 && c.help);
	return 0;
}

int main(void)
{
	static const struct test_case tests[] = {
		TEST(t_defaults), TEST(t_full), TEST(t_sizes), TEST(t_bad), TEST(t_help),
	};
	return RUN_TESTS(tests);
}
