/* The value of the monitor's --net option, parsed into plain data. Pure: no
 * I/O, no allocation, so the monitor, the unit tests and the fuzzer run the
 * same code. Addresses are IPv4 in host byte order (10.0.2.15 is
 * 0x0A00020F). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NETOPT_ID_MAX	  15	      /* id: 1..15 of [a-z0-9_-] */
#define NETOPT_IFNAME_MAX 15	      /* IFNAMSIZ - 1: the kernel's limit for a tap name */
#define NETOPT_MAX_FWD	  16	      /* hostfwd rules per device */
#define NETOPT_MAC_STRLEN 18	      /* "52:54:00:12:34:56" and its NUL */
#define NETOPT_FWD_STRLEN 48	      /* "udp:255.255.255.255:65535-255.255.255.255:65535" */
#define NETOPT_MAX_INDEX  169	      /* 0x56 + 169 = 0xFF: last default MAC */
#define NETOPT_ADDR_LOOP  0x7F000001u /* 127.0.0.1: default host address of a forward */
#define NETOPT_ADDR_GUEST 0x0A00020Fu /* 10.0.2.15: default guest address of a forward */

enum netopt_kind {
	NETOPT_USER = 1, /* libslirp user networking, in moat-net */
	NETOPT_TAP,	 /* a tap device the monitor opens and hands over */
};

enum netopt_proto {
	NETOPT_TCP,
	NETOPT_UDP,
};

/* One hostfwd rule: the host listens on host_addr:host_port and every
 * connection (or datagram) goes to guest_addr:guest_port in the guest. */
struct netopt_fwd {
	enum netopt_proto proto;
	uint32_t host_addr;
	uint16_t host_port; /* 1..65535 */
	uint32_t guest_addr;
	uint16_t guest_port; /* 1..65535 */
};

struct netopt {
	enum netopt_kind kind;
	char id[NETOPT_ID_MAX + 1]; /* given, or "net<index>" */
	uint8_t mac[6];		    /* unicast; given or the default for index */
	bool restricted;	    /* user: restrict=on */
	bool hostloop;		    /* user: hostloop=on: 10.0.2.2 reaches the host's
				     * loopback (off by default: see netopt_parse) */
	unsigned nfwd;		    /* user: fwd[0..nfwd) */
	struct netopt_fwd fwd[NETOPT_MAX_FWD];
	char ifname[NETOPT_IFNAME_MAX + 1]; /* tap: the interface name */
};

/* Parse one --net value into *out:
 *   user[,id=NAME][,mac=MAC][,hostfwd=PROTO:[HADDR]:HPORT-[GADDR]:GPORT]...[,restrict=on|off]
 *       [,hostloop=on|off]
 *   tap=IFNAME[,id=NAME][,mac=MAC]
 * PROTO is tcp or udp; an empty HADDR is 127.0.0.1 (not QEMU's 0.0.0.0: a
 * sandbox opens a port to other machines only when asked), an empty GADDR
 * is 10.0.2.15. MAC is six two-digit hex bytes separated by ':'; without
 * it the device gets 52:54:00:12:34:(0x56 + index), QEMU's rule for its
 * index-th NIC, so guests that pinned QEMU's first MAC keep their eth0.
 * index (0..NETOPT_MAX_INDEX) counts the --net options before this one.
 * Whether a forward's guest address fits slirp's network is checked later,
 * by slirp_cfg_build().
 * Returns 0, or -EINVAL with one line (no newline, printable) in err and
 * *out untouched; err is always NUL-terminated when errlen > 0. */
int netopt_parse(struct netopt *out, const char *arg, unsigned index, char *err, size_t errlen);

/* Parse s[0..n) (no NUL needed) as one hostfwd rule,
 * PROTO:[HADDR]:HPORT-[GADDR]:GPORT, with --net's defaults for an empty
 * address; a group host address is refused. The limits of a device (how
 * many rules, one per protocol and host port) are the caller's. Returns 0
 * with err empty, or -EINVAL with one printable line in err (no "net: "
 * prefix) and *out untouched. */
int netopt_parse_fwd(struct netopt_fwd *out, const char *s, size_t n, char *err, size_t errlen);

/* Write f in its canonical form, tcp:127.0.0.1:8080-10.0.2.15:80, which
 * netopt_parse_fwd reads back to f; NETOPT_FWD_STRLEN bytes always fit. */
void netopt_format_fwd(const struct netopt_fwd *f, char *buf, size_t len);

/* Write mac as "xx:xx:xx:xx:xx:xx" (lower case) into buf. */
void netopt_format_mac(const uint8_t mac[6], char buf[NETOPT_MAC_STRLEN]);

/* Read s[0..n) as a dotted quad (four decimal parts 0..255, no leading
 * zeros, nothing else) into *addr. Returns whether it is one. */
bool netopt_parse_addr(const char *s, size_t n, uint32_t *addr);

/* Write addr (host byte order) as a dotted quad into buf (16 bytes). */
void netopt_format_addr(uint32_t addr, char buf[16]);
