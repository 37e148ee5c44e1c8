/* libslirp settings for moat-net, as plain data (see slirp_cfg.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "slirp_cfg.h"
#include "errline.h"

/* Why addr cannot receive a forward, or NULL when it can. */
static const char *guest_addr_problem(uint32_t addr)
{
	if ((addr & SLIRP_CFG_NETMASK) != SLIRP_CFG_NETWORK)
		return "is outside the guest network 10.0.2.0/24";
	if (addr == SLIRP_CFG_NETWORK || addr == (SLIRP_CFG_NETWORK | ~SLIRP_CFG_NETMASK))
		return "is the network's own or broadcast address";
	if (addr == SLIRP_CFG_HOST)
		return "is slirp's gateway 10.0.2.2, not the guest";
	if (addr == SLIRP_CFG_NAMESERVER)
		return "is slirp's DNS proxy 10.0.2.3, not the guest";
	return NULL;
}

int slirp_cfg_build(struct slirp_cfg *cfg, const struct netopt *opt, char *err, size_t errlen)
{
	struct slirp_cfg c;

	if (err && errlen)
		err[0] = 0;
	if (!cfg || !opt || opt->kind != NETOPT_USER || opt->nfwd > NETOPT_MAX_FWD)
		return err_line(err, errlen, "net: slirp settings need a user network option");
	memset(&c, 0, sizeof(c));
	c.version = SLIRP_CFG_VERSION;
	c.restricted = opt->restricted;
	/* Unlike QEMU, the guest does not reach every local-only service of the
	 * host as 10.0.2.2 unless the user says so (hostloop=on). */
	c.disable_host_loopback = !opt->hostloop;
	c.in_enabled = true;
	c.vnetwork = SLIRP_CFG_NETWORK;
	c.vnetmask = SLIRP_CFG_NETMASK;
	c.vhost = SLIRP_CFG_HOST;
	c.vdhcp_start = SLIRP_CFG_DHCP_START;
	c.vnameserver = SLIRP_CFG_NAMESERVER;
	c.vhostname = SLIRP_CFG_VHOSTNAME;
	for (unsigned i = 0; i < opt->nfwd; i++) {
		const struct netopt_fwd *f = &opt->fwd[i];
		const char *why = guest_addr_problem(f->guest_addr);
		char a[16];

		if (why) {
			netopt_format_addr(f->guest_addr, a);
			return err_line(err, errlen, "net: hostfwd guest address %s %s", a, why);
		}
		c.fwd[i] = (struct slirp_cfg_fwd){
		    .is_udp = f->proto == NETOPT_UDP,
		    .host_addr = f->host_addr,
		    .host_port = f->host_port,
		    .guest_addr = f->guest_addr,
		    .guest_port = f->guest_port,
		};
	}
	c.nfwd = opt->nfwd;
	*cfg = c;
	return 0;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* sscanf's %s: skips any white space, then reads up to the next. */
static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* The IPv4 nameserver on line s[0..n), if it names one. */
static bool line_nameserver(const char *s, size_t n, uint32_t *addr)
{
	const char *nul = memchr(s, 0, n);
	size_t i = 10, start;

	if (nul)
		n = (size_t)(nul - s);
	if (n < 11 || memcmp(s, "nameserver", 10) || !is_blank(s[10]))
		return false;
	while (i < n && is_space(s[i]))
		i++;
	start = i;
	while (i < n && !is_space(s[i]) && s[i] != '%')
		i++;
	return i > start && netopt_parse_addr(s + start, i - start, addr);
}

int slirp_cfg_resolv_nameserver(const char *buf, size_t len, uint32_t *addr)
{
	size_t pos = 0;

	if ((!buf && len) || !addr)
		return -EINVAL;
	while (pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (buf + pos)) : len - pos;

		if (line_nameserver(buf + pos, n, addr))
			return 0;
		pos += n + 1;
	}
	return -ENOENT;
}

void slirp_cfg_resolv_text(uint32_t addr, char buf[SLIRP_CFG_RESOLV_TEXT])
{
	char a[16];

	netopt_format_addr(addr, a);
	snprintf(buf, SLIRP_CFG_RESOLV_TEXT, "nameserver %s\n", a);
}
