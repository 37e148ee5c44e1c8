/* Unit tests of the --vnc grammar (config/vncopt.c): QEMU's forms, the
 * loopback default, unix sockets, vram=, and hostile values. */
#include <errno.h>
#include <string.h>

#include "tap.h"
#include "vncopt.h"

static int parse(const char *arg, struct vncopt *o)
{
	char err[256] = "";
	int rc = vncopt_parse(arg, o, err, sizeof(err));

	if (rc == 0 && err[0])
		return -1;
	if (rc < 0 && (!err[0] || strchr(err, '\n')))
		return -2; /* an error must be one line */
	return rc;
}

static int t_tcp_forms(void)
{
	struct vncopt o;
	char s[VNCOPT_ADDR_STRLEN];

	CHECK(parse("127.0.0.1:1", &o) == 0);
	CHECK(!o.is_unix && o.addr == 0x7F000001u && o.port == 5901 && o.vram == 16u << 20);
	/* an empty host is loopback, where QEMU would take every address */
	CHECK(parse(":0", &o) == 0 && o.addr == 0x7F000001u && o.port == 5900);
	CHECK(parse("localhost:7", &o) == 0 && o.addr == 0x7F000001u && o.port == 5907);
	CHECK(parse("10.1.2.3:99", &o) == 0 && o.addr == 0x0A010203u && o.port == 5999);
	CHECK(parse("0.0.0.0:59635", &o) == 0 && o.addr == 0 && o.port == 65535);
	vncopt_format(&o, s, sizeof(s));
	CHECK(strcmp(s, "0.0.0.0:65535") == 0);
	return 0;
}

static int t_unix(void)
{
	struct vncopt o;
	char s[VNCOPT_ADDR_STRLEN];

	CHECK(parse("unix:/run/vm/vnc.sock", &o) == 0);
	CHECK(o.is_unix && strcmp(o.path, "/run/vm/vnc.sock") == 0);
	vncopt_format(&o, s, sizeof(s));
	CHECK(strcmp(s, "unix:/run/vm/vnc.sock") == 0);
	CHECK(parse("unix:rel/path,vram=32M", &o) == 0 && o.vram == 32u << 20);
	return 0;
}

static int t_vram(void)
{
	struct vncopt o;

	CHECK(parse("127.0.0.1:1,vram=4M", &o) == 0 && o.vram == 4u << 20);
	CHECK(parse("127.0.0.1:1,vram=256M", &o) == 0 && o.vram == 256u << 20);
	CHECK(parse("127.0.0.1:1,vram=65536K", &o) == 0 && o.vram == 64u << 20);
	CHECK(parse("127.0.0.1:1,vram=33554432", &o) == 0 && o.vram == 32u << 20);
	CHECK(parse("127.0.0.1:1,vram=2M", &o) == -EINVAL);
	CHECK(parse("127.0.0.1:1,vram=512M", &o) == -EINVAL);
	CHECK(parse("127.0.0.1:1,vram=24M", &o) == -EINVAL); /* not a power of two */
	CHECK(parse("127.0.0.1:1,vram=", &o) == -EINVAL);
	CHECK(parse("127.0.0.1:1,vram=-16M", &o) == -EINVAL);
	CHECK(parse("127.0.0.1:1,vram=16MB", &o) == -EINVAL);
	CHECK(parse("127.0.0.1:1,vram=99999999999999999999999", &o) == -EINVAL);
	CHECK(parse("127.0.0.1:1,password=on", &o) == -EINVAL);
	CHECK(parse("127.0.0.1:1,", &o) == -EINVAL);
	return 0;
}

static int t_bad(void)
{
	static const char *bad[] = {
	    "",
	    "1",
	    "127.0.0.1",
	    "127.0.0.1:",
	    "127.0.0.1:x",
	    ":-1",
	    ":59636",
	    ":99999999999",
	    "256.0.0.1:1",
	    "1.2.3:1",
	    "1.2.3.4.5:1",
	    "[::1]:1",
	    "example.com:1",
	    "1.2.3.04444:1",
	    "unix:",
	    ",vram=16M",
	    "127.0.0.1:1 ",
	    " 127.0.0.1:1",
	    "01.2.3.4.:1",
	};
	struct vncopt o = {.port = 42};

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse(bad[i], &o) != -EINVAL) {
			fprintf(stderr, "accepted '%s'\n", bad[i]);
			return 1;
		}
		CHECK(o.port == 42); /* written only on success */
	}
	return 0;
}

static int t_long_path(void)
{
	char arg[300] = "unix:";
	struct vncopt o;

	memset(arg + 5, 'a', VNCOPT_PATH_MAX);
	CHECK(parse(arg, &o) == 0 && strlen(o.path) == VNCOPT_PATH_MAX);
	arg[5 + VNCOPT_PATH_MAX] = 'a';
	CHECK(parse(arg, &o) == -EINVAL);
	return 0;
}

TAP_MAIN(TEST(t_tcp_forms), TEST(t_unix), TEST(t_vram), TEST(t_bad), TEST(t_long_path))
