/* Unit tests for moat-net's user networking (devproc/net/net_slirp.c)
 * with the real libslirp, behind the real virtio-net model
 * (net_fixture.h), driven as main.c drives it (net_be_loop.h). The guest
 * asks slirp's gateway for its MAC (ARP) and for an address (DHCP); the
 * answers wait in the backlog while it has no receive buffers, and beyond
 * NET_BE_RX_BACKLOG are dropped and counted. Forwards: a bad guest
 * address, a host port already taken (TCP and UDP), and a connection
 * through a forward reaching the guest as a SYN. Only loopback sockets. */
#include "slirp_fixture.h"

#define BOOTP_LEN (236 + 312) /* libslirp reads a whole struct bootp_t */
#define DHCP_LEN  (14 + 20 + 8 + BOOTP_LEN)
#define DHCP_XID  0x6d6f6174u /* "moat" */

/* A DHCPDISCOVER: UDP 0.0.0.0:68 -> 255.255.255.255:67, no UDP checksum. */
static void dhcp_discover(uint8_t *p)
{
	uint8_t *ip = p + 14, *udp = ip + 20, *b = udp + 8;

	memset(p, 0, DHCP_LEN);
	memset(p, 0xff, 6);
	memcpy(p + 6, test_mac, 6);
	put_be16(p + 12, 0x0800);
	ip[0] = 0x45;
	put_be16(ip + 2, 20 + 8 + BOOTP_LEN);
	ip[8] = 64;
	ip[9] = 17; /* UDP */
	put_be32(ip + 16, 0xffffffffu);
	put_be16(ip + 10, ip_checksum(ip, 20));
	put_be16(udp, 68);
	put_be16(udp + 2, 67);
	put_be16(udp + 4, 8 + BOOTP_LEN);
	b[0] = 1; /* BOOTREQUEST */
	b[1] = 1; /* Ethernet */
	b[2] = 6;
	put_be32(b + 4, DHCP_XID);
	put_be16(b + 10, 0x8000); /* broadcast the answer */
	memcpy(b + 28, test_mac, 6);
	put_be32(b + 236, 0x63825363); /* magic cookie */
	b[240] = 53;		       /* DHCP message type */
	b[241] = 1;
	b[242] = 1; /* DHCPDISCOVER */
	b[243] = 255;
}

/* Is p[0..len) a DHCPOFFER of 10.0.2.15 answering dhcp_discover? */
static int check_dhcp_offer(const uint8_t *p, size_t len)
{
	const uint8_t *ip = p + 14, *udp, *b, *opt, *end;
	bool offer = false;

	CHECK(len > 14 + 20 + 8 + 240);
	CHECK(get_be16(p + 12) == 0x0800);
	CHECK((ip[0] >> 4) == 4 && ip[9] == 17);
	CHECK(ip_checksum(ip, (size_t)(ip[0] & 15) * 4) == 0);
	CHECK(get_be32(ip + 12) == GATEWAY_IP);
	udp = ip + (ip[0] & 15) * 4;
	CHECK(get_be16(udp) == 67 && get_be16(udp + 2) == 68);
	b = udp + 8;
	CHECK(b[0] == 2); /* BOOTREPLY */
	CHECK(get_be32(b + 4) == DHCP_XID);
	CHECK(get_be32(b + 16) == GUEST_IP); /* yiaddr */
	CHECK(memcmp(b + 28, test_mac, 6) == 0);
	CHECK(get_be32(b + 236) == 0x63825363);
	end = p + len;
	for (opt = b + 240; opt < end && *opt != 255;) {
		if (*opt == 0) {
			opt++;
			continue;
		}
		CHECK(opt + 2 <= end && opt + 2 + opt[1] <= end);
		if (opt[0] == 53 && opt[1] == 1 && opt[2] == 2)
			offer = true;
		opt += 2 + opt[1];
	}
	CHECK(offer);
	return 0;
}

/* ---- ARP and DHCP --------------------------------------------------------- */

static int test_arp(void)
{
	struct sfix s;
	const uint8_t *got;

	CHECK(slirp_setup(&s) == 0);
	post(&s, 4);
	kick(&s.f, NET_RXQ);
	send_arp(&s, GATEWAY_IP);
	loop_once(&s.f, &s.be, NULL); /* slirp may answer inside send, or here */
	CHECK(used_idx(&s.f, NET_TXQ) == 1);
	CHECK(used_idx(&s.f, NET_RXQ) == 1);
	CHECK(rx_arp_reply(&s, 0, GATEWAY_IP) == 0);
	rx_frame(&s, 0, &got);
	CHECK(get16(got - 2) == 1); /* num_buffers */
	CHECK(irqs(&s.f, 1) >= 1);

	/* the DNS proxy answers too */
	send_arp(&s, DNS_IP);
	loop_once(&s.f, &s.be, NULL);
	CHECK(used_idx(&s.f, NET_RXQ) == 2);
	CHECK(rx_arp_reply(&s, 1, DNS_IP) == 0);
	CHECK(be_counter(&s.be, "rx_backlog_dropped") == 0);
	slirp_teardown(&s);
	return 0;
}

static int test_dhcp(void)
{
	struct sfix s;
	static uint8_t disc[DHCP_LEN];
	const uint8_t *got;
	size_t len;

	CHECK(slirp_setup(&s) == 0);
	post(&s, 4);
	dhcp_discover(disc);
	guest_send(&s.f, disc, sizeof(disc));
	for (unsigned i = 0; i < 3 && used_idx(&s.f, NET_RXQ) == 0; i++)
		loop_once(&s.f, &s.be, NULL);
	CHECK(used_idx(&s.f, NET_RXQ) == 1);
	len = rx_frame(&s, 0, &got);
	CHECK(check_dhcp_offer(got, len) == 0);
	CHECK(be_counter(&s.be, "slirp_guest_errors") == 0);
	slirp_teardown(&s);
	return 0;
}

/* ---- the backlog ---------------------------------------------------------- */

/* Reply i (of the requests the backlog test sends) came from this one. */
static uint32_t nth_target(unsigned i)
{
	return i % 2 ? DNS_IP : GATEWAY_IP;
}

/* No RX buffers: replies wait in the backlog, in order, up to
 * NET_BE_RX_BACKLOG; the rest are dropped and counted. They go when the
 * guest posts buffers, as many as fit; a reply slirp makes meanwhile goes
 * behind them. */
static int test_backlog(void)
{
	struct sfix s;
	struct net_stats st;
	const unsigned nreq = NET_BE_RX_BACKLOG + 44;

	CHECK(slirp_setup(&s) == 0);
	loop_once(&s.f, &s.be, NULL); /* the kicks DRIVER_OK left */
	for (unsigned i = 0; i < nreq; i++) {
		send_arp(&s, nth_target(i));
		loop_once(&s.f, &s.be, NULL);
	}
	CHECK(used_idx(&s.f, NET_TXQ) == (uint16_t)nreq);
	CHECK(used_idx(&s.f, NET_RXQ) == 0);
	CHECK(be_counter(&s.be, "rx_backlog_dropped") == nreq - NET_BE_RX_BACKLOG);
	net_model_stats(s.f.m, &st);
	CHECK(st.rx_dropped_no_buffers == 1); /* tried once, then queued behind */

	/* 100 buffers: the 100 oldest replies */
	post(&s, 100);
	kick(&s.f, NET_RXQ);
	CHECK(used_idx(&s.f, NET_RXQ) == 100);
	for (uint16_t i = 0; i < 100; i++)
		CHECK(rx_arp_reply(&s, i, nth_target(i)) == 0);
	/* a new reply queues behind the 156 still waiting */
	send_arp(&s, DNS_IP);
	loop_once(&s.f, &s.be, NULL);
	CHECK(used_idx(&s.f, NET_RXQ) == 100);
	CHECK(be_counter(&s.be, "rx_backlog_dropped") == nreq - NET_BE_RX_BACKLOG);

	post(&s, 200);
	kick(&s.f, NET_RXQ);
	CHECK(used_idx(&s.f, NET_RXQ) == NET_BE_RX_BACKLOG + 1);
	for (uint16_t i = 100; i < NET_BE_RX_BACKLOG; i++)
		CHECK(rx_arp_reply(&s, i, nth_target(i)) == 0);
	CHECK(rx_arp_reply(&s, NET_BE_RX_BACKLOG, DNS_IP) == 0);

	/* the backlog is empty: replies go straight through again */
	send_arp(&s, GATEWAY_IP);
	CHECK(used_idx(&s.f, NET_RXQ) == NET_BE_RX_BACKLOG + 2);
	CHECK(rx_arp_reply(&s, NET_BE_RX_BACKLOG + 1, GATEWAY_IP) == 0);
	net_model_stats(s.f.m, &st);
	CHECK(st.rx_frames == NET_BE_RX_BACKLOG + 2);
	slirp_teardown(&s);
	return 0;
}

/* A reply waiting in the backlog when the driver resets (a reboot with
 * the receive ring empty): once the driver is back and posts buffers the
 * backlog must drain, or every later reply queues behind it for good. */
static int test_backlog_across_reset(void)
{
	struct sfix s;

	CHECK(slirp_setup(&s) == 0);
	send_arp(&s, DNS_IP);
	CHECK(used_idx(&s.f, NET_RXQ) == 0);
	drv_common_write(&s.f.drv, C_STATUS, 1, 0);
	vfix_fresh_rings(&s.f);
	CHECK(driver_up(&s.f, F_BASE | F_MRG) == 0);
	post(&s, 4);
	kick(&s.f, NET_RXQ);
	loop_once(&s.f, &s.be, NULL);
	send_arp(&s, GATEWAY_IP);
	loop_once(&s.f, &s.be, NULL);
	/* the reply kept from before the reset, then the new one */
	CHECK(used_idx(&s.f, NET_RXQ) == 2);
	CHECK(rx_arp_reply(&s, 0, DNS_IP) == 0);
	CHECK(rx_arp_reply(&s, 1, GATEWAY_IP) == 0);
	CHECK(be_counter(&s.be, "rx_backlog_dropped") == 0);
	slirp_teardown(&s);
	return 0;
}

/* ---- forwards ------------------------------------------------------------------ */

/* A user config with one forward: 127.0.0.1:host_port (TCP) to the
 * guest's port 22. Not to be moved: u points at fw. */
struct one_fwd {
	Moat__Dev__NetUser u;
	Moat__Dev__NetForward fw, *fwds[1];
};

static void one_fwd_init(struct one_fwd *c, uint32_t host_port)
{
	moat__dev__net_user__init(&c->u);
	moat__dev__net_forward__init(&c->fw);
	c->fw.host_addr = INADDR_LOOPBACK;
	c->fw.host_port = host_port;
	c->fw.guest_addr = GUEST_IP;
	c->fw.guest_port = 22;
	c->fwds[0] = &c->fw;
	c->u.n_fwd = 1;
	c->u.fwd = c->fwds;
}

static int test_fwd_bad_guest_addr(void)
{
	struct one_fwd c;
	struct net_backend be;
	char err[256] = "";

	one_fwd_init(&c, 1); /* never bound: the address is refused first */
	c.fw.guest_addr = GATEWAY_IP;
	CHECK(net_slirp_create(&be, &c.u, err, sizeof(err)) == -EINVAL);
	CHECK(strstr(err, "10.0.2.2") != NULL);
	CHECK(!strchr(err, '\n'));

	/* a port of 0 or beyond 65535 */
	c.fw.guest_addr = GUEST_IP;
	c.fw.host_port = 70000;
	err[0] = 0;
	CHECK(net_slirp_create(&be, &c.u, err, sizeof(err)) == -EINVAL);
	CHECK(err[0] != 0);
	return 0;
}

/* A host port already taken: -EADDRINUSE, and the error names it. */
static int fwd_taken(bool udp)
{
	struct one_fwd c;
	struct net_backend be;
	char err[256] = "", port_text[16];
	uint16_t port;
	int fd = bound_socket(udp ? SOCK_DGRAM : SOCK_STREAM, &port);

	CHECK(fd >= 0);
	one_fwd_init(&c, port);
	c.fw.udp = udp;
	CHECK(net_slirp_create(&be, &c.u, err, sizeof(err)) == -EADDRINUSE);
	snprintf(port_text, sizeof(port_text), ":%u", port);
	CHECK(strstr(err, port_text) != NULL);
	CHECK(strstr(err, udp ? "udp" : "tcp") != NULL);
	CHECK(strstr(err, "127.0.0.1") != NULL);
	CHECK(!strchr(err, '\n'));
	close(fd);
	return 0;
}

static int test_fwd_taken_tcp(void)
{
	return fwd_taken(false);
}

static int test_fwd_taken_udp(void)
{
	return fwd_taken(true);
}

/* A connection to a TCP forward: slirp accepts it from the loop and
 * opens one to the guest, whose SYN (to 10.0.2.15:22, from 10.0.2.2)
 * reaches the guest's buffers. */
static int test_fwd_connect(void)
{
	struct one_fwd c;
	struct sfix s;
	const uint8_t *got;
	uint16_t port;
	size_t len;
	int fd, timeout = -1;

	CHECK(free_port(SOCK_STREAM, &port) == 0); /* for slirp to take */
	one_fwd_init(&c, port);
	CHECK(slirp_setup_cfg(&s, &c.u) == 0);
	post(&s, 8);
	/* slirp learns the guest's MAC from its request */
	send_arp(&s, GATEWAY_IP);
	CHECK(used_idx(&s.f, NET_RXQ) == 1);
	CHECK(loop_once(&s.f, &s.be, &timeout) >= 1); /* the listener is polled */
	CHECK(timeout >= 0 && timeout <= 1000);	      /* slirp's TCP timers run */

	fd = connect_loopback(port);
	CHECK(fd >= 0);
	CHECK(wait_rx(&s, 2));
	len = rx_frame(&s, 1, &got);
	CHECK(check_syn(got, len, 22) == 0);
	close(fd);
	slirp_teardown(&s);
	return 0;
}

/* No room in the loop's poll set: slirp's sockets wait for the next
 * round, counted; the round after that polls them. */
static int test_poll_overflow(void)
{
	Moat__Dev__NetUser u = MOAT__DEV__NET_USER__INIT;
	Moat__Dev__NetForward fw[2] = {MOAT__DEV__NET_FORWARD__INIT, MOAT__DEV__NET_FORWARD__INIT};
	Moat__Dev__NetForward *fwds[] = {&fw[0], &fw[1]};
	struct sfix s;
	struct pollfd p[4];
	uint16_t port;
	int timeout = -1;

	for (unsigned i = 0; i < 2; i++) {
		CHECK(free_port(SOCK_STREAM, &port) == 0);
		fw[i].host_addr = INADDR_LOOPBACK;
		fw[i].host_port = port;
		fw[i].guest_addr = GUEST_IP;
		fw[i].guest_port = 22 + i;
	}
	u.n_fwd = 2;
	u.fwd = fwds;
	CHECK(slirp_setup_cfg(&s, &u) == 0);
	CHECK(be_counter(&s.be, "hostfwd") == 2);
	CHECK(s.be.fds(s.be.be, p, 1, &timeout) == 1);
	CHECK(be_counter(&s.be, "slirp_poll_overflow") == 1);
	p[0].revents = 0;
	s.be.polled(s.be.be, p, 1);
	CHECK(s.be.fds(s.be.be, p, 0, &timeout) == 0);
	CHECK(be_counter(&s.be, "slirp_poll_overflow") == 3);
	s.be.polled(s.be.be, p, 0);
	CHECK(s.be.fds(s.be.be, p, 4, &timeout) == 2);
	CHECK(p[0].fd != p[1].fd && (p[0].events & POLLIN) && (p[1].events & POLLIN));
	CHECK(be_counter(&s.be, "slirp_poll_overflow") == 3);
	slirp_teardown(&s);
	return 0;
}

/* The backend's counters, by name, and max respected. */
static int test_counters(void)
{
	static const char *const names[] = {"rx_backlog_dropped", "slirp_guest_errors",
					    "slirp_poll_overflow", "hostfwd"};
	struct sfix s;

	CHECK(slirp_setup(&s) == 0);
	CHECK(check_be_counters(&s.be, names, 4) == 0);
	slirp_teardown(&s);
	return 0;
}

TAP_MAIN(TEST(test_arp), TEST(test_dhcp), TEST(test_backlog), TEST(test_backlog_across_reset),
	 TEST(test_fwd_bad_guest_addr), TEST(test_fwd_taken_tcp), TEST(test_fwd_taken_udp),
	 TEST(test_fwd_connect), TEST(test_poll_overflow), TEST(test_counters))
