/* Unit tests for devproc/net/netopt.c: the --net forms QEMU users write,
 * the defaults, and a long list of hostile values, each of which must give
 * -EINVAL, one printable line naming the problem, and no change to the
 * output. */
#include <errno.h>
#include <stdint.h>

#include "netopt.h"
#include "tap.h"

#define IP(a, b, c, d)                                                                             \
	((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

static int parse(struct netopt *o, const char *arg, unsigned index)
{
	char err[128] = "x";
	int r = netopt_parse(o, arg, index, err, sizeof(err));

	if (r)
		fprintf(stderr, "'%s': %s\n", arg, err);
	else if (err[0])
		return -1; /* success must leave err empty */
	return r;
}

static int t_user_plain(void)
{
	struct netopt o;
	char mac[NETOPT_MAC_STRLEN];

	CHECK(parse(&o, "user", 0) == 0);
	CHECK(o.kind == NETOPT_USER && o.nfwd == 0 && !o.restricted && !o.hostloop);
	CHECK(!strcmp(o.id, "net0") && o.ifname[0] == 0);
	CHECK(parse(&o, "user,hostloop=on", 0) == 0 && o.hostloop);
	CHECK(parse(&o, "user,hostloop=on,hostloop=off", 0) == -EINVAL);
	CHECK(parse(&o, "user,hostloop=yes", 0) == -EINVAL);
	CHECK(parse(&o, "tap=t0,hostloop=on", 0) == -EINVAL);
	netopt_format_mac(o.mac, mac);
	CHECK(!strcmp(mac, "52:54:00:12:34:56"));
	return 0;
}

/* QEMU's rule: the index-th NIC ends in 0x56 + index. */
static int t_default_mac_and_id(void)
{
	struct netopt o;
	char mac[NETOPT_MAC_STRLEN];

	CHECK(parse(&o, "user", 3) == 0);
	netopt_format_mac(o.mac, mac);
	CHECK(!strcmp(mac, "52:54:00:12:34:59") && !strcmp(o.id, "net3"));
	CHECK(parse(&o, "tap=tap0", NETOPT_MAX_INDEX) == 0);
	CHECK(o.mac[5] == 0xFF && !strcmp(o.id, "net169"));
	CHECK(!(o.mac[0] & 1) && (o.mac[0] & 2)); /* unicast, locally administered */
	CHECK(netopt_parse(&o, "user", NETOPT_MAX_INDEX + 1, NULL, 0) == -EINVAL);
	return 0;
}

static int t_hostfwd_qemu_short(void)
{
	struct netopt o;

	CHECK(parse(&o, "user,hostfwd=tcp::2222-:22", 0) == 0);
	CHECK(o.nfwd == 1);
	CHECK(o.fwd[0].proto == NETOPT_TCP && o.fwd[0].host_addr == IP(127, 0, 0, 1));
	CHECK(o.fwd[0].host_port == 2222 && o.fwd[0].guest_addr == IP(10, 0, 2, 15));
	CHECK(o.fwd[0].guest_port == 22);
	return 0;
}

static int t_hostfwd_full(void)
{
	struct netopt o;

	CHECK(parse(&o,
		    "user,hostfwd=tcp:127.0.0.1:8080-10.0.2.15:80,hostfwd=udp::5353-:53,"
		    "restrict=on",
		    0) == 0);
	CHECK(o.kind == NETOPT_USER && o.restricted && o.nfwd == 2);
	CHECK(o.fwd[0].proto == NETOPT_TCP && o.fwd[0].host_addr == IP(127, 0, 0, 1) &&
	      o.fwd[0].host_port == 8080 && o.fwd[0].guest_addr == IP(10, 0, 2, 15) &&
	      o.fwd[0].guest_port == 80);
	CHECK(o.fwd[1].proto == NETOPT_UDP && o.fwd[1].host_port == 5353 &&
	      o.fwd[1].guest_port == 53 && o.fwd[1].guest_addr == IP(10, 0, 2, 15));
	return 0;
}

static int t_user_all_fields(void)
{
	struct netopt o;

	CHECK(parse(&o,
		    "user,id=lan_0-a,mac=02:AB:cd:00:00:01,restrict=off,"
		    "hostfwd=tcp:0.0.0.0:1-10.0.2.100:65535,hostfwd=tcp::65535-:1",
		    2) == 0);
	CHECK(!strcmp(o.id, "lan_0-a") && !o.restricted && o.nfwd == 2);
	CHECK(o.mac[0] == 0x02 && o.mac[1] == 0xAB && o.mac[2] == 0xCD && o.mac[5] == 1);
	CHECK(o.fwd[0].host_addr == 0 && o.fwd[0].host_port == 1);
	CHECK(o.fwd[0].guest_addr == IP(10, 0, 2, 100) && o.fwd[0].guest_port == 65535);
	CHECK(o.fwd[1].host_port == 65535 && o.fwd[1].guest_port == 1);
	/* fields after the kind come in any order */
	CHECK(parse(&o, "user,restrict=on,mac=52:54:00:00:00:01,id=a", 0) == 0);
	CHECK(o.restricted && !strcmp(o.id, "a") && o.mac[5] == 1);
	return 0;
}

/* the same port on tcp and on udp are two different sockets */
static int t_same_port_two_protocols(void)
{
	struct netopt o;

	CHECK(parse(&o, "user,hostfwd=tcp::53-:53,hostfwd=udp::53-:53", 0) == 0);
	CHECK(o.nfwd == 2);
	return 0;
}

static int t_sixteen_forwards(void)
{
	char arg[1024] = "user";
	struct netopt o;

	for (int i = 0; i < NETOPT_MAX_FWD; i++)
		snprintf(arg + strlen(arg), sizeof(arg) - strlen(arg), ",hostfwd=tcp::%d-:%d",
			 10000 + i, 20 + i);
	CHECK(parse(&o, arg, 0) == 0);
	CHECK(o.nfwd == NETOPT_MAX_FWD && o.fwd[15].host_port == 10015);
	return 0;
}

static int t_tap(void)
{
	struct netopt o;
	char mac[NETOPT_MAC_STRLEN];

	CHECK(parse(&o, "tap=tap0,mac=52:54:00:ab:cd:ef", 0) == 0);
	CHECK(o.kind == NETOPT_TAP && !strcmp(o.ifname, "tap0") && o.nfwd == 0);
	netopt_format_mac(o.mac, mac);
	CHECK(!strcmp(mac, "52:54:00:ab:cd:ef"));
	CHECK(parse(&o, "tap=Br-0.vlan_7abcd,id=t1", 1) == 0); /* 15 bytes: the limit */
	CHECK(!strcmp(o.ifname, "Br-0.vlan_7abcd"));
	CHECK(!strcmp(o.id, "t1"));
	return 0;
}

static int t_format(void)
{
	uint8_t mac[6] = {0, 0x0a, 0xff, 0x10, 0x01, 0xfe};
	char b[NETOPT_MAC_STRLEN], a[16];
	uint32_t addr;

	netopt_format_mac(mac, b);
	CHECK(!strcmp(b, "00:0a:ff:10:01:fe"));
	netopt_format_addr(IP(255, 255, 255, 255), a);
	CHECK(!strcmp(a, "255.255.255.255"));
	netopt_format_addr(0, a);
	CHECK(!strcmp(a, "0.0.0.0"));
	CHECK(netopt_parse_addr("10.0.2.15", 9, &addr) && addr == IP(10, 0, 2, 15));
	CHECK(netopt_parse_addr("10.0.2.15", 8, &addr) && addr == IP(10, 0, 2, 1));
	CHECK(!netopt_parse_addr("", 0, &addr) && !netopt_parse_addr("1.2.3.4 ", 8, &addr));
	return 0;
}

/* A rule alone (the control socket's hostfwd add): the grammar of --net,
 * an error without the "net: " prefix, and the canonical form read back. */
static int t_fwd_alone(void)
{
	static const char *const rules[] = {
	    "tcp::2222-:22",
	    "udp:0.0.0.0:1-10.0.2.100:65535",
	    "tcp:192.168.1.7:65535-10.0.2.15:1",
	    "udp:223.255.255.255:53-:53",
	};
	struct netopt_fwd f, again, before;
	char text[NETOPT_FWD_STRLEN], err[128];

	CHECK(netopt_parse_fwd(&f, "tcp::8080-:80", 13, err, sizeof(err)) == 0 && !err[0]);
	netopt_format_fwd(&f, text, sizeof(text));
	CHECK(!strcmp(text, "tcp:127.0.0.1:8080-10.0.2.15:80"));
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		CHECK(netopt_parse_fwd(&f, rules[i], strlen(rules[i]), err, sizeof(err)) == 0);
		netopt_format_fwd(&f, text, sizeof(text));
		CHECK(netopt_parse_fwd(&again, text, strlen(text), err, sizeof(err)) == 0);
		CHECK(!memcmp(&f, &again, sizeof(f)));
	}
	/* the longest rule fits the buffer exactly; a short one is cut, ended */
	f = (struct netopt_fwd){NETOPT_UDP, 0xFFFFFFFFu, 65535, 0xFFFFFFFFu, 65535};
	netopt_format_fwd(&f, text, sizeof(text));
	CHECK(strlen(text) == NETOPT_FWD_STRLEN - 1);
	netopt_format_fwd(&f, text, 5);
	CHECK(!strcmp(text, "udp:"));
	/* n bounds the rule: no NUL needed, nothing past n read */
	CHECK(netopt_parse_fwd(&f, "tcp::22-:2299", 11, err, sizeof(err)) == 0);
	CHECK(f.guest_port == 22);
	memset(&f, 0x5A, sizeof(f));
	before = f;
	CHECK(netopt_parse_fwd(&f, "tcp::0-:22", 10, err, sizeof(err)) == -EINVAL);
	CHECK(!strcmp(err, "hostfwd host port 0 is out of range (1-65535)"));
	CHECK(!memcmp(&f, &before, sizeof(f)));
	CHECK(netopt_parse_fwd(&f, "", 0, err, sizeof(err)) == -EINVAL && strstr(err, "wants"));
	CHECK(netopt_parse_fwd(&f, NULL, 0, err, sizeof(err)) == -EINVAL);
	CHECK(netopt_parse_fwd(NULL, "tcp::1-:1", 9, NULL, 0) == -EINVAL);
	CHECK(netopt_parse_fwd(&f, "tcp:224.0.0.1:1-:1", 18, err, sizeof(err)) == -EINVAL);
	CHECK(!memcmp(&f, &before, sizeof(f)));
	return 0;
}

struct bad {
	const char *arg;
	const char *want; /* a piece of the error line */
};

static const struct bad bad[] = {
    {"", "empty option"},
    {"usr", "unknown network kind"},
    {"User", "unknown network kind"},
    {"user=1", "unknown network kind"},
    {"bridge=br0", "unknown network kind"},
    {",user", "empty option"},
    {"user,", "empty field"},
    {"user,,id=a", "empty field"},
    {"user,id=a,", "empty field"},
    {"user, id=a", "unknown field ' id'"},
    {"user,foo=bar", "unknown field 'foo'"},
    {"user,=x", "unknown field ''"},
    {"user,ID=a", "unknown field"},
    {"user,net=10.0.3.0/24", "unknown field 'net'"},
    {"user,id", "needs a value"},
    {"user,restrict", "needs a value"},
    {"user,id=", "id must be 1-15"},
    {"user,id=abcdefghijklmnop", "id must be 1-15"},
    {"user,id=Net0", "outside a-z"},
    {"user,id=a b", "outside a-z"},
    {"user,id=a.b", "outside a-z"},
    {"user,id=a,id=b", "given twice"},
    {"user,mac=", "bad MAC"},
    {"user,mac=52:54:00:12:34", "bad MAC"},
    {"user,mac=52:54:00:12:34:5", "bad MAC"},
    {"user,mac=52:54:00:12:34:567", "bad MAC"},
    {"user,mac=52-54-00-12-34-56", "bad MAC"},
    {"user,mac=52:54:00:12:34:5g", "bad MAC"},
    {"user,mac=525400123456", "bad MAC"},
    {"user,mac=52:54:00:12:34:56:", "bad MAC"},
    {"user,mac= 2:54:00:12:34:56", "bad MAC"},
    {"user,mac=01:00:5e:00:00:01", "multicast"},
    {"user,mac=ff:ff:ff:ff:ff:ff", "multicast"},
    {"user,mac=33:33:00:00:00:01", "multicast"},
    {"user,mac=00:00:00:00:00:00", "not a valid address"},
    {"user,mac=52:54:00:12:34:56,mac=52:54:00:12:34:57", "given twice"},
    {"user,restrict=yes", "restrict wants on or off"},
    {"user,restrict=", "restrict wants on or off"},
    {"user,restrict=ON", "restrict wants on or off"},
    {"user,restrict=on,restrict=off", "given twice"},
    {"user,hostfwd=", "wants PROTO"},
    {"user,hostfwd=tcp", "wants PROTO"},
    {"user,hostfwd=sctp::22-:22", "unknown hostfwd protocol 'sctp'"},
    {"user,hostfwd=::2222-:22", "unknown hostfwd protocol ''"},
    {"user,hostfwd=TCP::2222-:22", "unknown hostfwd protocol"},
    {"user,hostfwd=tcp::2222", "no '-'"},
    {"user,hostfwd=tcp:2222-:22", "host side"},
    {"user,hostfwd=tcp::2222-22", "guest side"},
    {"user,hostfwd=tcp::0-:22", "host port 0 is out of range"},
    {"user,hostfwd=tcp::2222-:0", "guest port 0 is out of range"},
    {"user,hostfwd=tcp::65536-:22", "out of range"},
    {"user,hostfwd=tcp::2222-:65536", "out of range"},
    {"user,hostfwd=tcp::99999999999999999999-:22", "out of range"},
    {"user,hostfwd=tcp::4294967297-:22", "out of range"},
    {"user,hostfwd=tcp::-:22", "host port is missing"},
    {"user,hostfwd=tcp::22-:", "guest port is missing"},
    {"user,hostfwd=tcp::+22-:22", "not a number"},
    {"user,hostfwd=tcp::-22-:22", "host port is missing"},
    {"user,hostfwd=tcp:: 22-:22", "not a number"},
    {"user,hostfwd=tcp::22 -:22", "not a number"},
    {"user,hostfwd=tcp::0x16-:22", "not a number"},
    {"user,hostfwd=tcp::22-:22-", "not a number"},
    {"user,hostfwd=tcp::22-:22:", "not a number"},
    {"user,hostfwd=tcp::22-::22", "guest port ':22' is not a number"},
    {"user,hostfwd=tcp:localhost:22-:22", "host address 'localhost'"},
    {"user,hostfwd=tcp:127.0.0:22-:22", "not an IPv4"},
    {"user,hostfwd=tcp:127.0.0.1.1:22-:22", "not an IPv4"},
    {"user,hostfwd=tcp:127.0.0.256:22-:22", "not an IPv4"},
    {"user,hostfwd=tcp:127.0.0.01:22-:22", "not an IPv4"},
    {"user,hostfwd=tcp:127..0.1:22-:22", "not an IPv4"},
    {"user,hostfwd=tcp:127.0.0.1.:22-:22", "not an IPv4"},
    {"user,hostfwd=tcp:::1:22-:22", "host port ':1:22' is not"},
    {"user,hostfwd=tcp:[::1]:22-:22", "not an IPv4"},
    {"user,hostfwd=tcp:99999999999.0.0.1:22-:22", "not an IPv4"},
    {"user,hostfwd=tcp:224.0.0.1:22-:22", "not a unicast"},
    {"user,hostfwd=tcp:255.255.255.255:22-:22", "not a unicast"},
    {"user,hostfwd=tcp::22-10.0.2:22", "guest address"},
    {"user,hostfwd=tcp::22-10.0.2.1000:22", "guest address"},
    {"user,hostfwd=tcp::2222-:22,hostfwd=tcp::2222-:23",
     "two hostfwd rules for tcp host port 2222"},
    {"user,hostfwd=udp::53-:53,hostfwd=udp:127.0.0.2:53-:54", "udp host port 53"},
    {"tap", "tap needs an interface name"},
    {"tap=", "tap needs an interface name"},
    {"tapx=tap0", "unknown network kind"},
    {"tap=tap0123456789abc", "longer than 15"},
    {"tap=tap 0", "outside A-Z"},
    {"tap=tap/0", "outside A-Z"},
    {"tap=tap:0", "outside A-Z"},
    {"tap=.", "not valid"},
    {"tap=..", "not valid"},
    {"tap=tap0,hostfwd=tcp::22-:22", "only to user"},
    {"tap=tap0,restrict=on", "only to user"},
    {"tap=tap0,ifname=x", "unknown field"},
    {"tap=tap0,mac=01:00:00:00:00:00", "multicast"},
    {"user,hostfwd=tcp::22-:22\n", "not a number"},
    {"user,id=a\tb", "outside a-z"},
    {"user,\x01\x7f\xff=1", "unknown field '?"
			    "?"
			    "?'"},
};

static bool printable_line(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7F)
			return false;
	return true;
}

static int t_bad_forms(void)
{
	int failed = 0;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct netopt o, before;
		char err[128];
		int r;

		memset(&o, 0xA5, sizeof(o));
		memcpy(&before, &o, sizeof(o));
		r = netopt_parse(&o, bad[i].arg, 0, err, sizeof(err));
		if (r != -EINVAL || !printable_line(err) || !strstr(err, bad[i].want) ||
		    memcmp(&o, &before, sizeof(o))) {
			fprintf(stderr, "bad[%zu] '%s': r=%d err='%s' (want '%s')\n", i, bad[i].arg,
				r, err, bad[i].want);
			failed = 1;
		}
	}
	return failed;
}

static int t_seventeen_forwards(void)
{
	char arg[1024] = "user", err[128];
	struct netopt o;

	for (int i = 0; i <= NETOPT_MAX_FWD; i++)
		snprintf(arg + strlen(arg), sizeof(arg) - strlen(arg), ",hostfwd=udp::%d-:%d",
			 30000 + i, 1 + i);
	CHECK(netopt_parse(&o, arg, 0, err, sizeof(err)) == -EINVAL);
	CHECK(strstr(err, "more than 16 hostfwd rules") != NULL);
	return 0;
}

/* Long user text is clipped in the message, which stays one short line. */
static int t_long_strings(void)
{
	static char arg[1 << 16];
	char err[128];
	struct netopt o;

	strcpy(arg, "user,id=");
	memset(arg + 8, 'a', sizeof(arg) - 9);
	CHECK(netopt_parse(&o, arg, 0, err, sizeof(err)) == -EINVAL && printable_line(err));
	strcpy(arg, "user,");
	memset(arg + 5, 'k', sizeof(arg) - 6);
	CHECK(netopt_parse(&o, arg, 0, err, sizeof(err)) == -EINVAL && printable_line(err));
	CHECK(strstr(err, "...") && strlen(err) < 80);
	strcpy(arg, "tap=");
	memset(arg + 4, 't', sizeof(arg) - 5);
	CHECK(netopt_parse(&o, arg, 0, err, sizeof(err)) == -EINVAL && printable_line(err));
	strcpy(arg, "user,hostfwd=tcp::");
	memset(arg + 18, '9', sizeof(arg) - 23);
	strcpy(arg + sizeof(arg) - 5, "-:22");
	CHECK(netopt_parse(&o, arg, 0, err, sizeof(err)) == -EINVAL && strstr(err, "range"));
	/* many good fields are fine: only forwards are limited */
	strcpy(arg, "user");
	for (int i = 0; i < 1000; i++)
		strcat(arg, i % 2 ? ",id=x" : ",mac=52:54:00:12:34:57");
	CHECK(netopt_parse(&o, arg, 0, err, sizeof(err)) == -EINVAL && strstr(err, "twice"));
	return 0;
}

/* Small or absent error buffers are never overrun, and NULLs are refused. */
static int t_err_buffer(void)
{
	char err[8];
	struct netopt o;

	memset(err, 'z', sizeof(err));
	CHECK(netopt_parse(&o, "user,bogus=1", 0, err, 4) == -EINVAL);
	CHECK(err[3] == 0 && err[4] == 'z');
	CHECK(netopt_parse(&o, "user,bogus=1", 0, NULL, 0) == -EINVAL);
	CHECK(netopt_parse(&o, "user,bogus=1", 0, err, 0) == -EINVAL && err[0] != 0);
	CHECK(netopt_parse(NULL, "user", 0, err, sizeof(err)) == -EINVAL);
	CHECK(netopt_parse(&o, NULL, 0, err, sizeof(err)) == -EINVAL);
	return 0;
}

TAP_MAIN(TEST(t_user_plain), TEST(t_default_mac_and_id), TEST(t_hostfwd_qemu_short),
	 TEST(t_hostfwd_full), TEST(t_user_all_fields), TEST(t_same_port_two_protocols),
	 TEST(t_sixteen_forwards), TEST(t_tap), TEST(t_format), TEST(t_fwd_alone),
	 TEST(t_bad_forms), TEST(t_seventeen_forwards), TEST(t_long_strings), TEST(t_err_buffer))
