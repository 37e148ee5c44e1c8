/* What moat-net gives libslirp, as plain data: the SlirpConfig values
 * (libslirp 4.7, SlirpConfig version 4) and the hostfwd rules to add with
 * slirp_add_hostfwd(), built from a parsed --net user option. No libslirp
 * call here, so this is tested without the library; moat-net copies the
 * fields one by one into its SlirpConfig (devproc/net/net_slirp.c). The
 * monitor builds it too, only to refuse a bad forward at parse time, and
 * reads the host's resolver with slirp_cfg_resolv_nameserver(). Addresses
 * are IPv4 in host byte order (htonl() them into struct in_addr). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netopt.h"

#define SLIRP_CFG_VERSION     4		  /* SlirpConfig version we fill (libslirp 4.7) */
#define SLIRP_CFG_NETWORK     0x0A000200u /* 10.0.2.0 */
#define SLIRP_CFG_NETMASK     0xFFFFFF00u /* 255.255.255.0 */
#define SLIRP_CFG_HOST	      0x0A000202u /* 10.0.2.2: gateway, and the host's loopback */
#define SLIRP_CFG_NAMESERVER  0x0A000203u /* 10.0.2.3: slirp's DNS proxy */
#define SLIRP_CFG_DHCP_START  0x0A00020Fu /* 10.0.2.15: first DHCP lease */
#define SLIRP_CFG_VHOSTNAME   "moat"
#define SLIRP_CFG_RESOLV_TEXT 32 /* "nameserver 255.255.255.255\n" and NUL */

/* One forward, in slirp_add_hostfwd()'s argument order. */
struct slirp_cfg_fwd {
	bool is_udp;
	uint32_t host_addr;
	uint16_t host_port;
	uint32_t guest_addr;
	uint16_t guest_port;
};

struct slirp_cfg {
	uint32_t version; /* SLIRP_CFG_VERSION */
	bool restricted;  /* restrict=on: only forwards, DHCP and TFTP; no DNS either */
	bool in_enabled;  /* IPv4: on */
	bool in6_enabled; /* IPv6: off (nothing in moat routes or tests it yet) */
	uint32_t vnetwork, vnetmask, vhost, vdhcp_start, vnameserver;
	const char *vhostname;	    /* static string: SLIRP_CFG_VHOSTNAME */
	bool disable_host_loopback; /* off: the guest reaches host 127.0.0.1 as 10.0.2.2 */
	bool enable_emu;	    /* off: libslirp calls its emulation code unsafe */
	bool disable_dns;	    /* off: 10.0.2.3 proxies to the first resolv.conf server */
	bool disable_dhcp;	    /* off */
	unsigned nfwd;
	struct slirp_cfg_fwd fwd[NETOPT_MAX_FWD];
};

/* Fill *cfg from opt, which must be a user option. Each forward's guest
 * address must be a host address inside 10.0.2.0/24 other than the network
 * and broadcast addresses, the gateway 10.0.2.2 and the DNS proxy 10.0.2.3
 * (those are slirp itself: a forward there would loop back into slirp).
 * Returns 0, or -EINVAL with one line in err and *cfg untouched. */
int slirp_cfg_build(struct slirp_cfg *cfg, const struct netopt *opt, char *err, size_t errlen);

/* Find the first IPv4 nameserver in buf[0..len), a resolv.conf, by
 * libslirp 4.7's own rule (get_dns_addr_resolv_conf): a line that starts
 * with "nameserver", then blanks, then a token cut at '%' that inet_pton()
 * reads as IPv4; lines that do not qualify are skipped. Bytes after a NUL
 * in a line are ignored, as sscanf() ignores them. (libslirp reads lines in
 * 511-byte pieces; we take whole lines: it differs only for longer lines.)
 * Returns 0 with *addr set, -ENOENT when there is none, -EINVAL on NULL. */
int slirp_cfg_resolv_nameserver(const char *buf, size_t len, uint32_t *addr);

/* Write the one-line resolv.conf "nameserver A.B.C.D\n" naming addr into
 * buf, which moat-net puts at /etc/resolv.conf of its own empty root: the
 * only path libslirp 4.7 reads its upstream DNS server from. */
void slirp_cfg_resolv_text(uint32_t addr, char buf[SLIRP_CFG_RESOLV_TEXT]);
