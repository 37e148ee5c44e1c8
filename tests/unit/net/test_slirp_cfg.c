/* Unit tests for devproc/net/slirp_cfg.c: QEMU's addressing, the forwards
 * handed to slirp_add_hostfwd(), the guest addresses a forward may not
 * name, and resolv.conf read by libslirp 4.7's rule. */
#include <errno.h>
#include <stdint.h>

#include "slirp_cfg.h"
#include "tap.h"

#define IP(a, b, c, d)                                                                             \
	((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

static int build(struct slirp_cfg *c, const char *arg, char *err, size_t errlen)
{
	struct netopt o;
	int r = netopt_parse(&o, arg, 0, err, errlen);

	return r ? -1000 : slirp_cfg_build(c, &o, err, errlen);
}

static int t_defaults(void)
{
	struct slirp_cfg c;
	char err[128];

	CHECK(build(&c, "user", err, sizeof(err)) == 0 && err[0] == 0);
	CHECK(c.version == 4 && c.in_enabled && !c.in6_enabled && !c.restricted);
	CHECK(c.vnetwork == IP(10, 0, 2, 0) && c.vnetmask == IP(255, 255, 255, 0));
	CHECK(c.vhost == IP(10, 0, 2, 2) && c.vdhcp_start == IP(10, 0, 2, 15));
	CHECK(c.vnameserver == IP(10, 0, 2, 3) && !strcmp(c.vhostname, "moat"));
	/* the host's loopback is closed to the guest unless asked for */
	CHECK(c.disable_host_loopback && !c.enable_emu && !c.disable_dns && !c.disable_dhcp);
	CHECK(c.nfwd == 0);
	CHECK(build(&c, "user,hostloop=on", err, sizeof(err)) == 0 && !c.disable_host_loopback);
	CHECK(build(&c, "user,hostloop=off", err, sizeof(err)) == 0 && c.disable_host_loopback);
	return 0;
}

static int t_forwards(void)
{
	struct slirp_cfg c;
	char err[128];

	CHECK(build(&c,
		    "user,hostfwd=tcp:127.0.0.1:8080-10.0.2.15:80,hostfwd=udp::5353-:53,"
		    "hostfwd=tcp:0.0.0.0:2222-10.0.2.254:22,restrict=on",
		    err, sizeof(err)) == 0);
	CHECK(c.restricted && c.nfwd == 3);
	CHECK(!c.fwd[0].is_udp && c.fwd[0].host_addr == IP(127, 0, 0, 1) &&
	      c.fwd[0].host_port == 8080 && c.fwd[0].guest_addr == IP(10, 0, 2, 15) &&
	      c.fwd[0].guest_port == 80);
	CHECK(c.fwd[1].is_udp && c.fwd[1].host_addr == IP(127, 0, 0, 1) &&
	      c.fwd[1].host_port == 5353 && c.fwd[1].guest_port == 53);
	CHECK(c.fwd[2].host_addr == 0 && c.fwd[2].guest_addr == IP(10, 0, 2, 254));
	CHECK(build(&c, "user,hostfwd=tcp::1-10.0.2.1:1", err, sizeof(err)) == 0);
	CHECK(build(&c, "user,hostfwd=tcp::1-10.0.2.4:1", err, sizeof(err)) == 0);
	return 0;
}

static int t_bad_guest_addr(void)
{
	static const struct {
		const char *arg, *want;
	} bad[] = {
	    {"user,hostfwd=tcp::22-10.0.3.15:22", "10.0.3.15 is outside"},
	    {"user,hostfwd=tcp::22-192.168.0.1:22", "outside the guest network"},
	    {"user,hostfwd=tcp::22-0.0.0.0:22", "outside"},
	    {"user,hostfwd=tcp::22-10.0.2.0:22", "network's own or broadcast"},
	    {"user,hostfwd=tcp::22-10.0.2.255:22", "network's own or broadcast"},
	    {"user,hostfwd=tcp::22-10.0.2.2:22", "gateway 10.0.2.2"},
	    {"user,hostfwd=udp::53-10.0.2.3:53", "DNS proxy 10.0.2.3"},
	    {"user,hostfwd=tcp::1-:1,hostfwd=tcp::2-127.0.0.1:2", "127.0.0.1 is outside"},
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct slirp_cfg c, before;
		char err[128];

		memset(&c, 0x5A, sizeof(c));
		memcpy(&before, &c, sizeof(c));
		CHECK(build(&c, bad[i].arg, err, sizeof(err)) == -EINVAL);
		if (!strstr(err, bad[i].want) || strchr(err, '\n')) {
			fprintf(stderr, "'%s': '%s' (want '%s')\n", bad[i].arg, err, bad[i].want);
			return 1;
		}
		CHECK(!memcmp(&c, &before, sizeof(c)));
	}
	return 0;
}

static int t_not_user(void)
{
	struct slirp_cfg c;
	struct netopt o;
	char err[128];

	CHECK(netopt_parse(&o, "tap=tap0", 0, err, sizeof(err)) == 0);
	CHECK(slirp_cfg_build(&c, &o, err, sizeof(err)) == -EINVAL && err[0]);
	CHECK(slirp_cfg_build(NULL, &o, NULL, 0) == -EINVAL);
	CHECK(slirp_cfg_build(&c, NULL, err, sizeof(err)) == -EINVAL);
	memset(&o, 0, sizeof(o));
	o.kind = NETOPT_USER;
	o.nfwd = NETOPT_MAX_FWD + 1; /* a corrupt struct is refused, not overrun */
	CHECK(slirp_cfg_build(&c, &o, err, sizeof(err)) == -EINVAL);
	return 0;
}

static int ns(const char *text, uint32_t *addr)
{
	return slirp_cfg_resolv_nameserver(text, strlen(text), addr);
}

static int t_resolv_good(void)
{
	uint32_t a = 0;

	CHECK(ns("nameserver 127.0.0.53\noptions edns0 trust-ad\n", &a) == 0 &&
	      a == IP(127, 0, 0, 53));
	CHECK(ns("# generated\nsearch example.org\nnameserver\t\t192.0.2.1  # main\n"
		 "nameserver 192.0.2.2\n",
		 &a) == 0 &&
	      a == IP(192, 0, 2, 1));
	/* IPv6 servers are skipped: slirp's IPv4 lookup takes the first IPv4 one */
	CHECK(ns("nameserver ::1\nnameserver fe80::1%eth0\nnameserver 10.1.2.3\n", &a) == 0 &&
	      a == IP(10, 1, 2, 3));
	/* "%iface" is cut off, as libslirp does */
	CHECK(ns("nameserver 10.9.8.7%lo", &a) == 0 && a == IP(10, 9, 8, 7));
	CHECK(ns("nameserver 1.1.1.1\r\n", &a) == 0 && a == IP(1, 1, 1, 1));
	CHECK(ns("\n\n\nnameserver 8.8.4.4", &a) == 0 && a == IP(8, 8, 4, 4));
	/* a line after a NUL-cut line still counts */
	CHECK(slirp_cfg_resolv_nameserver("nameserver \0 1.2.3.4\nnameserver 5.6.7.8\n", 40, &a) ==
		  0 &&
	      a == IP(5, 6, 7, 8));
	return 0;
}

static int t_resolv_none(void)
{
	static const char *none[] = {
	    "",
	    "\n",
	    "search lan\n",
	    "#nameserver 1.2.3.4\n",
	    " nameserver 1.2.3.4\n", /* sscanf's literal must match at the start */
	    "nameserver1.2.3.4\n",   /* blanks are required */
	    "Nameserver 1.2.3.4\n",
	    "nameserver\n1.2.3.4\n",
	    "nameserver \n",
	    "nameserver 1.2.3\n",
	    "nameserver 1.2.3.04\n",
	    "nameserver 1.2.3.4;\n",
	    "nameserver 256.1.1.1\n",
	    "nameserver localhost\n",
	    "nameserver ::1\n",
	};
	uint32_t a = 0xDEADBEEF;

	for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
		if (ns(none[i], &a) != -ENOENT) {
			fprintf(stderr, "resolv '%s' gave a server\n", none[i]);
			return 1;
		}
	}
	CHECK(a == 0xDEADBEEF); /* untouched */
	CHECK(slirp_cfg_resolv_nameserver("nameserver 1.2.3.4", 17, &a) == -ENOENT);
	CHECK(slirp_cfg_resolv_nameserver("nameserver \0 1.2.3.4", 20, &a) == -ENOENT);
	CHECK(slirp_cfg_resolv_nameserver(NULL, 0, &a) == -ENOENT);
	CHECK(slirp_cfg_resolv_nameserver(NULL, 1, &a) == -EINVAL);
	CHECK(slirp_cfg_resolv_nameserver("", 0, NULL) == -EINVAL);
	return 0;
}

/* A big file with the server on its last line, without a final newline. */
static int t_resolv_long(void)
{
	static char buf[1 << 16];
	const char *tail = "\nnameserver 203.0.113.9";
	uint32_t a = 0;

	memset(buf, 'x', sizeof(buf));
	memcpy(buf + sizeof(buf) - strlen(tail), tail, strlen(tail));
	CHECK(slirp_cfg_resolv_nameserver(buf, sizeof(buf), &a) == 0 && a == IP(203, 0, 113, 9));
	/* cut by one byte: "203.0.113." is no address */
	CHECK(slirp_cfg_resolv_nameserver(buf, sizeof(buf) - 1, &a) == -ENOENT);
	return 0;
}

/* What moat-net writes is read back the same, by our rule and slirp's. */
static int t_resolv_text(void)
{
	char text[SLIRP_CFG_RESOLV_TEXT];
	uint32_t a = 0;

	slirp_cfg_resolv_text(IP(127, 0, 0, 1), text);
	CHECK(!strcmp(text, "nameserver 127.0.0.1\n"));
	slirp_cfg_resolv_text(IP(255, 255, 255, 255), text);
	CHECK(!strcmp(text, "nameserver 255.255.255.255\n"));
	CHECK(ns(text, &a) == 0 && a == 0xFFFFFFFFu);
	return 0;
}

TAP_MAIN(TEST(t_defaults), TEST(t_forwards), TEST(t_bad_guest_addr), TEST(t_not_user),
	 TEST(t_resolv_good), TEST(t_resolv_none), TEST(t_resolv_long), TEST(t_resolv_text))
