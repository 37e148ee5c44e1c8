/* The fixture of the tests of moat-net's user networking with the real
 * libslirp (test_net_slirp.c, test_net_hostfwd.c): the backend behind the
 * real virtio-net model (net_be_loop.h), RX buffers posted in order, the
 * frames a guest sends (ARP), the checks of what slirp answers, and
 * loopback sockets on free ports. */
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "net_be_loop.h"
#include "net_slirp.h"
#include "slirp_cfg.h"

#define GUEST_IP   SLIRP_CFG_DHCP_START /* 10.0.2.15 */
#define GATEWAY_IP SLIRP_CFG_HOST	/* 10.0.2.2 */
#define DNS_IP	   SLIRP_CFG_NAMESERVER /* 10.0.2.3 */
#define RX_BUF	   2048

struct sfix {
	struct vfix f;
	struct net_backend be;
	uint64_t gpa[NET_QUEUE_MAX * 2]; /* RX buffers, in the order posted */
	unsigned nposted;
};

static inline int slirp_setup_cfg(struct sfix *s, const Moat__Dev__NetUser *u)
{
	char err[256] = "";

	if (net_slirp_create(&s->be, u, err, sizeof(err)) < 0) {
		fprintf(stderr, "net_slirp_create: %s\n", err);
		return -1;
	}
	s->nposted = 0;
	return setup_be(&s->f, &s->be, F_BASE | F_MRG);
}

static inline int slirp_setup(struct sfix *s)
{
	Moat__Dev__NetUser u = MOAT__DEV__NET_USER__INIT;

	return slirp_setup_cfg(s, &u);
}

static inline void slirp_teardown(struct sfix *s)
{
	teardown(&s->f);
	s->be.destroy(s->be.be);
}

/* Post n RX buffers (one frame each) without kicking. */
static inline void post(struct sfix *s, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		s->gpa[s->nposted++] = post_rx(&s->f, RX_BUF, NULL);
}

/* The frame in used RX element i. */
static inline size_t rx_frame(struct sfix *s, uint16_t i, const uint8_t **frame)
{
	return guest_rx(&s->f, s->gpa, i, frame);
}

static inline void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void put_be32(uint8_t *p, uint32_t v)
{
	put_be16(p, (uint16_t)(v >> 16));
	put_be16(p + 2, (uint16_t)v);
}

static inline uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)get_be16(p) << 16 | get_be16(p + 2);
}

/* ---- frames the guest sends -------------------------------------------- */

#define ARP_LEN 60 /* 42, padded to the Ethernet minimum */

/* An ARP request from the guest (test_mac, 10.0.2.15) for target. */
static inline void arp_request(uint8_t *p, uint32_t target)
{
	memset(p, 0, ARP_LEN);
	memset(p, 0xff, 6);
	memcpy(p + 6, test_mac, 6);
	put_be16(p + 12, 0x0806);
	put_be16(p + 14, 1);	  /* Ethernet */
	put_be16(p + 16, 0x0800); /* IPv4 */
	p[18] = 6;
	p[19] = 4;
	put_be16(p + 20, 1); /* request */
	memcpy(p + 22, test_mac, 6);
	put_be32(p + 28, GUEST_IP);
	put_be32(p + 38, target);
}

/* Is p[0..len) slirp's ARP reply to the guest, from sender? */
static inline int check_arp_reply(const uint8_t *p, size_t len, uint32_t sender)
{
	CHECK(len >= 42);
	CHECK(memcmp(p, test_mac, 6) == 0);
	CHECK(get_be16(p + 12) == 0x0806);
	CHECK(get_be16(p + 20) == 2); /* reply */
	CHECK(get_be32(p + 28) == sender);
	CHECK(memcmp(p + 32, test_mac, 6) == 0);
	CHECK(get_be32(p + 38) == GUEST_IP);
	return 0;
}

/* The guest asks, by ARP, for target's MAC (sent and kicked). */
static inline void send_arp(struct sfix *s, uint32_t target)
{
	uint8_t req[ARP_LEN];

	arp_request(req, target);
	guest_send(&s->f, req, sizeof(req));
}

/* Is used RX element i slirp's ARP reply from sender? */
static inline int rx_arp_reply(struct sfix *s, uint16_t i, uint32_t sender)
{
	const uint8_t *got;
	size_t len = rx_frame(s, i, &got);

	return check_arp_reply(got, len, sender);
}

static inline uint16_t ip_checksum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += get_be16(p + i);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* A loopback socket of type bound to a free port (listening, for TCP);
 * the port in *port. */
static inline int bound_socket(int type, uint16_t *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    (type == SOCK_STREAM && listen(fd, 4) < 0) ||
	    getsockname(fd, (struct sockaddr *)&a, &alen) < 0) {
		close(fd);
		return -1;
	}
	*port = ntohs(a.sin_port);
	return fd;
}

/* Turn the loop until the guest has received n frames in all, up to
 * about 200 ms. Returns whether it has. */
static inline bool wait_rx(struct sfix *s, uint16_t n)
{
	for (unsigned i = 0; i < 100 && used_idx(&s->f, NET_RXQ) < n; i++) {
		struct pollfd p = {.fd = -1};
		loop_once(&s->f, &s->be, NULL);
		poll(&p, 0, 2);
	}
	return used_idx(&s->f, NET_RXQ) >= n;
}

/* Is p[0..len) slirp opening a TCP connection to the guest's port: a SYN
 * from the gateway 10.0.2.2 to 10.0.2.15:port? */
static inline int check_syn(const uint8_t *p, size_t len, uint16_t port)
{
	const uint8_t *ip = p + 14, *tcp;

	CHECK(len >= 14 + 20 + 20);
	CHECK(memcmp(p, test_mac, 6) == 0);
	CHECK(get_be16(p + 12) == 0x0800);
	tcp = ip + (ip[0] & 15) * 4;
	CHECK(ip[9] == 6); /* TCP */
	CHECK(ip_checksum(ip, (size_t)(ip[0] & 15) * 4) == 0);
	CHECK(get_be32(ip + 12) == GATEWAY_IP);
	CHECK(get_be32(ip + 16) == GUEST_IP);
	CHECK(get_be16(tcp + 2) == port);
	CHECK((tcp[13] & 0x12) == 0x02); /* SYN, no ACK */
	return 0;
}

/* A TCP connection to 127.0.0.1:port, blocking: the socket, or -1 with
 * errno (ECONNREFUSED: nobody listens). */
static inline int connect_loopback(uint16_t port)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				.sin_port = htons(port)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), e;

	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0)
		return fd;
	e = errno;
	close(fd);
	errno = e;
	return -1;
}

/* A free loopback port for type (bound once, then let go). */
static inline int free_port(int type, uint16_t *port)
{
	int fd = bound_socket(type, port);

	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}
