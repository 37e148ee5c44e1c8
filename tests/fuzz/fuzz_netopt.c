/* libFuzzer target: netopt_parse() and slirp_cfg_build() on arbitrary text,
 * and slirp_cfg_resolv_nameserver() against libslirp 4.7's own rule.
 * Checked: the error line is set exactly on failure and is one printable
 * line; a failure changes nothing; what is accepted keeps every invariant
 * of netopt.h (id and ifname charsets and lengths, unicast MAC, ports
 * 1..65535, no two forwards on one protocol and host port), and formats
 * back to text that parses to the same thing; slirp_cfg_build() accepts
 * exactly the guest addresses in 10.0.2.4..254 and 10.0.2.1; and the
 * resolv.conf reader finds the same server as fgets + sscanf + inet_pton
 * do in libslirp, for lines shorter than its 512-byte buffer. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_opt.h"
#include "netopt.h"
#include "slirp_cfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_charset(const char *s, size_t max, const char *extra, int upper)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		abort();
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		      (upper && *s >= 'A' && *s <= 'Z') || strchr(extra, *s)))
			abort();
}

/* Write o back as a --net value. */
static void unparse(const struct netopt *o, char *buf, size_t len)
{
	char mac[NETOPT_MAC_STRLEN], h[16], g[16];
	size_t n;

	netopt_format_mac(o->mac, mac);
	if (o->kind == NETOPT_TAP)
		n = (size_t)snprintf(buf, len, "tap=%s,id=%s,mac=%s", o->ifname, o->id, mac);
	else
		n = (size_t)snprintf(buf, len, "user,id=%s,mac=%s,restrict=%s,hostloop=%s", o->id,
				     mac, o->restricted ? "on" : "off", o->hostloop ? "on" : "off");
	for (unsigned i = 0; i < o->nfwd && n < len; i++) {
		netopt_format_addr(o->fwd[i].host_addr, h);
		netopt_format_addr(o->fwd[i].guest_addr, g);
		n += (size_t)snprintf(buf + n, len - n, ",hostfwd=%s:%s:%u-%s:%u",
				      o->fwd[i].proto == NETOPT_UDP ? "udp" : "tcp", h,
				      o->fwd[i].host_port, g, o->fwd[i].guest_port);
	}
}

static void check_opt(const struct netopt *o, unsigned index)
{
	char text[2048], err[128];
	struct netopt again;
	struct slirp_cfg c;
	int r;

	if (o->kind != NETOPT_USER && o->kind != NETOPT_TAP)
		abort();
	check_charset(o->id, NETOPT_ID_MAX, "_-", 0);
	if (o->mac[0] & 1 ||
	    !(o->mac[0] | o->mac[1] | o->mac[2] | o->mac[3] | o->mac[4] | o->mac[5]))
		abort();
	if (o->kind == NETOPT_TAP) {
		check_charset(o->ifname, NETOPT_IFNAME_MAX, "_.-", 1);
		if (o->nfwd || o->restricted)
			abort();
	} else if (o->ifname[0] || o->nfwd > NETOPT_MAX_FWD) {
		abort();
	}
	for (unsigned i = 0; i < o->nfwd; i++) {
		if (!o->fwd[i].host_port || !o->fwd[i].guest_port ||
		    o->fwd[i].host_addr >= 0xE0000000u)
			abort();
		for (unsigned j = 0; j < i; j++)
			if (o->fwd[i].proto == o->fwd[j].proto &&
			    o->fwd[i].host_port == o->fwd[j].host_port)
				abort();
	}
	unparse(o, text, sizeof(text));
	if (netopt_parse(&again, text, index, err, sizeof(err)) || memcmp(o, &again, sizeof(*o)))
		abort();

	if (o->kind != NETOPT_USER)
		return;
	r = slirp_cfg_build(&c, o, err, sizeof(err));
	fuzz_check_err(r, err);
	for (unsigned i = 0; i < o->nfwd; i++) {
		uint32_t g = o->fwd[i].guest_addr, low = g & 0xFF;
		int ok = (g & 0xFFFFFF00u) == 0x0A000200u && low != 0 && low != 255 && low != 2 &&
			 low != 3;

		if (!ok) {
			if (r == 0)
				abort();
			return;
		}
	}
	if (r != 0 || c.nfwd != o->nfwd || c.restricted != o->restricted)
		abort();
}

/* libslirp 4.7 get_dns_addr_resolv_conf(), minus the file. */
static int reference_ns(const uint8_t *data, size_t size, uint32_t *addr)
{
	size_t pos = 0;

	while (pos < size) {
		char line[512], tok[257];
		size_t n = 0;
		struct in_addr a;

		while (pos < size && data[pos] != '\n')
			line[n++] = (char)data[pos++];
		pos++;
		line[n] = 0;
		if (sscanf(line, "nameserver%*[ \t]%256s", tok) == 1) {
			char *c = strchr(tok, '%');

			if (c)
				*c = 0;
			if (inet_pton(AF_INET, tok, &a) == 1) {
				*addr = ntohl(a.s_addr);
				return 0;
			}
		}
	}
	return -ENOENT;
}

static void check_resolv(const uint8_t *data, size_t size)
{
	uint32_t mine = 0, ref = 0;
	size_t run = 0;
	int r;

	/* the reference reads whole lines only up to its buffer */
	for (size_t i = 0; i < size; i++) {
		run = data[i] == '\n' ? 0 : run + 1;
		if (run > 500)
			return;
	}
	r = slirp_cfg_resolv_nameserver((const char *)data, size, &mine);
	if (r != reference_ns(data, size, &ref) || (r == 0 && mine != ref))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char opt[4096], err[128];
	size_t pos = 0;
	unsigned index = 0;

	check_resolv(data, size);
	while (pos < size) {
		struct netopt o, before;
		int r;

		fuzz_next_opt(data, size, &pos, opt, sizeof(opt));
		memset(&o, 0xA5, sizeof(o));
		memcpy(&before, &o, sizeof(o));
		r = netopt_parse(&o, opt, index % (NETOPT_MAX_INDEX + 2), err, sizeof(err));
		fuzz_check_err(r, err);
		if (r && memcmp(&before, &o, sizeof(o)))
			abort();
		if (r == 0)
			check_opt(&o, index % (NETOPT_MAX_INDEX + 2));
		index++;
	}
	return 0;
}
