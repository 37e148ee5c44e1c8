/* Unit tests for moat ctl hostfwd add|remove in moat-net (net_control.c,
 * net_slirp_fwd.c): control requests as the monitor sends them, applied to
 * a running slirp card with the real libslirp behind the real virtio-net
 * model (slirp_fixture.h). A forward added at run time takes connections
 * on the host's 127.0.0.1 and slirp opens them to the guest (its SYN to
 * 10.0.2.15:PORT); removed, the port refuses connections. Refused with an
 * error reply, the card serving on: a host port already taken, a rule
 * that is not there, a guest address outside slirp's network, one forward
 * beyond the card's bound, a tap card. Only loopback sockets on free
 * ports. */
#include "net_control.h"
#include "net_slirp_fwd.h"
#include "net_tap.h"
#include "slirp_fixture.h"

#define GUEST_PORT 8022

struct ctl {
	Moat__Dev__ControlRequest req;
	Moat__Dev__HostfwdChange chg;
	Moat__Dev__NetForward fw;
	char err[160];
	bool user_error;
};

/* A hostfwd change of 127.0.0.1:host_port to the guest's guest_port, as
 * the monitor sends it; c->fw may be edited before ctl_send. */
static void ctl_init(struct ctl *c, bool add, bool udp, uint16_t host_port, uint16_t guest_port)
{
	moat__dev__control_request__init(&c->req);
	moat__dev__hostfwd_change__init(&c->chg);
	moat__dev__net_forward__init(&c->fw);
	c->fw.udp = udp;
	c->fw.host_addr = INADDR_LOOPBACK;
	c->fw.host_port = host_port;
	c->fw.guest_addr = GUEST_IP;
	c->fw.guest_port = guest_port;
	c->chg.add = add;
	c->chg.fwd = &c->fw;
	c->req.seq = 7;
	c->req.op_case = MOAT__DEV__CONTROL_REQUEST__OP_HOSTFWD;
	c->req.hostfwd = &c->chg;
	c->user_error = false;
}

/* Send c to the card's backend: net_control's return. The error line is
 * in c->err: "" on success, one printable line otherwise. */
static int ctl_send(struct net_backend *be, struct ctl *c)
{
	int rc;

	memset(c->err, 'x', sizeof(c->err));
	rc = net_control(be, &c->req, c->err, sizeof(c->err), &c->user_error);
	if (rc == 0 && c->err[0])
		return -1000; /* success must say nothing */
	if (rc < 0 && (!c->err[0] || strchr(c->err, '\n')))
		return -1001; /* a failure must say one line */
	return rc;
}

/* Add (or remove) a TCP forward of 127.0.0.1:host_port to GUEST_PORT. */
static int hostfwd(struct sfix *s, bool add, bool udp, uint16_t host_port)
{
	struct ctl c;

	ctl_init(&c, add, udp, host_port, GUEST_PORT);
	return ctl_send(&s->be, &c);
}

/* The card with no forward yet, 8 RX buffers posted, and slirp knowing
 * the guest's MAC (from its ARP request, answered in RX element 0). */
static int card_up(struct sfix *s)
{
	CHECK(slirp_setup(s) == 0);
	post(s, 8);
	send_arp(s, GATEWAY_IP);
	CHECK(used_idx(&s->f, NET_RXQ) == 1);
	return 0;
}

/* A connection to host_port reaches the guest as slirp's SYN to
 * guest_port in RX element i. The host's socket in *fd. */
static int syn_reaches_guest(struct sfix *s, uint16_t host_port, uint16_t guest_port, uint16_t i,
			     int *fd)
{
	const uint8_t *got;
	size_t len;

	*fd = connect_loopback(host_port);
	CHECK(*fd >= 0);
	CHECK(wait_rx(s, (uint16_t)(i + 1)));
	len = rx_frame(s, i, &got);
	CHECK(check_syn(got, len, guest_port) == 0);
	return 0;
}

/* ---- add and remove ---------------------------------------------------- */

static int test_add_tcp(void)
{
	struct sfix s;
	uint16_t port;
	int fd;

	CHECK(card_up(&s) == 0);
	CHECK(free_port(SOCK_STREAM, &port) == 0);
	CHECK(be_counter(&s.be, "hostfwd") == 0);
	CHECK(hostfwd(&s, true, false, port) == 0);
	CHECK(be_counter(&s.be, "hostfwd") == 1);
	CHECK(syn_reaches_guest(&s, port, GUEST_PORT, 1, &fd) == 0);
	close(fd);
	slirp_teardown(&s);
	return 0;
}

/* Removed, the port refuses connections, and is free for anyone to bind;
 * added again, it works again. */
static int test_remove_tcp(void)
{
	struct sfix s;
	uint16_t port, again;
	int fd;

	CHECK(card_up(&s) == 0);
	CHECK(free_port(SOCK_STREAM, &port) == 0);
	CHECK(hostfwd(&s, true, false, port) == 0);
	CHECK(hostfwd(&s, false, false, port) == 0);
	CHECK(be_counter(&s.be, "hostfwd") == 0);
	errno = 0;
	CHECK(connect_loopback(port) < 0 && errno == ECONNREFUSED);
	loop_once(&s.f, &s.be, NULL);
	CHECK(used_idx(&s.f, NET_RXQ) == 1); /* nothing reached the guest */

	CHECK(hostfwd(&s, true, false, port) == 0);
	CHECK(syn_reaches_guest(&s, port, GUEST_PORT, 1, &fd) == 0);
	close(fd);
	CHECK(hostfwd(&s, false, false, port) == 0);
	fd = bound_socket(SOCK_STREAM, &again); /* the port is anyone's again */
	CHECK(fd >= 0);
	close(fd);
	slirp_teardown(&s);
	return 0;
}

/* A forward of the start request is in the table too: the monitor may
 * remove it at run time. */
static int test_remove_start_forward(void)
{
	Moat__Dev__NetUser u = MOAT__DEV__NET_USER__INIT;
	Moat__Dev__NetForward fw = MOAT__DEV__NET_FORWARD__INIT, *fwds[] = {&fw};
	struct sfix s;
	uint16_t port;

	CHECK(free_port(SOCK_STREAM, &port) == 0);
	fw.host_addr = INADDR_LOOPBACK;
	fw.host_port = port;
	fw.guest_addr = GUEST_IP;
	fw.guest_port = GUEST_PORT;
	u.n_fwd = 1;
	u.fwd = fwds;
	CHECK(slirp_setup_cfg(&s, &u) == 0);
	CHECK(be_counter(&s.be, "hostfwd") == 1);
	CHECK(hostfwd(&s, false, false, port) == 0);
	CHECK(be_counter(&s.be, "hostfwd") == 0);
	errno = 0;
	CHECK(connect_loopback(port) < 0 && errno == ECONNREFUSED);
	slirp_teardown(&s);
	return 0;
}

/* ---- refusals, the card serving on --------------------------------------- */

/* A host port the test holds: an error reply naming it, the request's
 * fault; the card still answers ARP, and a forward on a free port works. */
static int add_port_taken(bool udp)
{
	struct sfix s;
	struct ctl c;
	char want[64];
	uint16_t taken, port;
	int held = bound_socket(udp ? SOCK_DGRAM : SOCK_STREAM, &taken), fd;

	CHECK(held >= 0);
	CHECK(card_up(&s) == 0);
	ctl_init(&c, true, udp, taken, GUEST_PORT);
	CHECK(ctl_send(&s.be, &c) == -EADDRINUSE);
	CHECK(c.user_error);
	snprintf(want, sizeof(want), "%s host port 127.0.0.1:%u: Address already in use",
		 udp ? "udp" : "tcp", taken);
	CHECK(strcmp(c.err, want) == 0);
	CHECK(be_counter(&s.be, "hostfwd") == 0);

	send_arp(&s, DNS_IP);
	loop_once(&s.f, &s.be, NULL);
	CHECK(used_idx(&s.f, NET_RXQ) == 2);
	CHECK(rx_arp_reply(&s, 1, DNS_IP) == 0);
	CHECK(free_port(SOCK_STREAM, &port) == 0);
	CHECK(hostfwd(&s, true, false, port) == 0);
	CHECK(syn_reaches_guest(&s, port, GUEST_PORT, 2, &fd) == 0);
	close(fd);
	close(held);
	slirp_teardown(&s);
	return 0;
}

static int test_add_port_taken_tcp(void)
{
	return add_port_taken(false);
}

static int test_add_port_taken_udp(void)
{
	return add_port_taken(true);
}

/* The same rule twice: refused as a duplicate, the first one kept. */
static int test_add_twice(void)
{
	struct sfix s;
	struct ctl c;
	uint16_t port;
	int fd;

	CHECK(card_up(&s) == 0);
	CHECK(free_port(SOCK_STREAM, &port) == 0);
	CHECK(hostfwd(&s, true, false, port) == 0);
	ctl_init(&c, true, false, port, GUEST_PORT + 1);
	CHECK(ctl_send(&s.be, &c) == -EEXIST);
	CHECK(c.user_error && strstr(c.err, "forwarded already"));
	CHECK(be_counter(&s.be, "hostfwd") == 1);
	CHECK(syn_reaches_guest(&s, port, GUEST_PORT, 1, &fd) == 0);
	close(fd);
	slirp_teardown(&s);
	return 0;
}

/* Removing a rule that is not in effect: never added, or not with that
 * protocol, or to another guest port. Each refused; the one in effect
 * stays. */
static int test_remove_unknown(void)
{
	struct sfix s;
	struct ctl c;
	char want[64];
	uint16_t port, other;
	int fd;

	CHECK(card_up(&s) == 0);
	CHECK(free_port(SOCK_STREAM, &port) == 0);
	CHECK(free_port(SOCK_STREAM, &other) == 0 && other != port);
	ctl_init(&c, false, false, other, GUEST_PORT);
	CHECK(ctl_send(&s.be, &c) == -ENOENT);
	snprintf(want, sizeof(want), "no forward on tcp host port 127.0.0.1:%u", other);
	CHECK(c.user_error && strcmp(c.err, want) == 0);

	CHECK(hostfwd(&s, true, false, port) == 0);
	CHECK(hostfwd(&s, false, true, port) == -ENOENT); /* UDP, not TCP */
	ctl_init(&c, false, false, port, GUEST_PORT + 1);
	CHECK(ctl_send(&s.be, &c) == -ENOENT);
	CHECK(c.user_error && strstr(c.err, "forwards to 10.0.2.15:8022, not to 10.0.2.15:8023"));
	CHECK(be_counter(&s.be, "hostfwd") == 1);
	CHECK(syn_reaches_guest(&s, port, GUEST_PORT, 1, &fd) == 0);
	close(fd);
	CHECK(hostfwd(&s, false, false, port) == 0);
	CHECK(hostfwd(&s, false, false, port) == -ENOENT); /* gone already */
	slirp_teardown(&s);
	return 0;
}

/* A guest address slirp cannot serve, by slirp_cfg_build's rules for the
 * start request's forwards, and ports out of range: refused before any
 * socket is made. */
static int test_bad_forward(void)
{
	static const struct {
		uint32_t guest_addr;
		const char *says;
	} bad[] = {
	    {0x0A00030Fu, "outside the guest network"}, /* 10.0.3.15 */
	    {GATEWAY_IP, "10.0.2.2"},
	    {DNS_IP, "10.0.2.3"},
	    {0x0A0002FFu, "broadcast"},
	    {0, "outside the guest network"},
	};
	struct sfix s;
	struct ctl c;
	uint16_t port;

	CHECK(card_up(&s) == 0);
	CHECK(free_port(SOCK_STREAM, &port) == 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ctl_init(&c, true, false, port, GUEST_PORT);
		c.fw.guest_addr = bad[i].guest_addr;
		CHECK(ctl_send(&s.be, &c) == -EINVAL);
		CHECK(c.user_error && strstr(c.err, bad[i].says));
	}
	ctl_init(&c, true, false, 0, GUEST_PORT);
	CHECK(ctl_send(&s.be, &c) == -EINVAL && c.user_error);
	ctl_init(&c, true, false, port, 0);
	CHECK(ctl_send(&s.be, &c) == -EINVAL && c.user_error);
	ctl_init(&c, true, false, port, GUEST_PORT);
	c.fw.host_port = 65536;
	CHECK(ctl_send(&s.be, &c) == -EINVAL && c.user_error);
	ctl_init(&c, true, false, port, GUEST_PORT);
	c.chg.fwd = NULL;
	CHECK(ctl_send(&s.be, &c) == -EINVAL && c.user_error);
	CHECK(be_counter(&s.be, "hostfwd") == 0);
	/* nothing listens: none of them got as far as a socket */
	errno = 0;
	CHECK(connect_loopback(port) < 0 && errno == ECONNREFUSED);
	slirp_teardown(&s);
	return 0;
}

/* NET_FWD_MAX forwards at once, and no more; one removed makes room. */
static int test_bound(void)
{
	static uint16_t port[NET_FWD_MAX + 1];
	int held[NET_FWD_MAX + 1];
	struct sfix s;
	struct ctl c;

	CHECK(card_up(&s) == 0);
	/* distinct free ports: all held at once, then let go */
	for (unsigned i = 0; i <= NET_FWD_MAX; i++)
		CHECK((held[i] = bound_socket(SOCK_STREAM, &port[i])) >= 0);
	for (unsigned i = 0; i <= NET_FWD_MAX; i++)
		close(held[i]);
	for (unsigned i = 0; i < NET_FWD_MAX; i++)
		CHECK(hostfwd(&s, true, false, port[i]) == 0);
	CHECK(be_counter(&s.be, "hostfwd") == NET_FWD_MAX);
	ctl_init(&c, true, false, port[NET_FWD_MAX], GUEST_PORT);
	CHECK(ctl_send(&s.be, &c) == -ENOSPC);
	CHECK(c.user_error && strstr(c.err, "at most 64 forwards"));
	errno = 0;
	CHECK(connect_loopback(port[NET_FWD_MAX]) < 0 && errno == ECONNREFUSED);
	CHECK(hostfwd(&s, false, false, port[3]) == 0);
	CHECK(hostfwd(&s, true, false, port[NET_FWD_MAX]) == 0);
	CHECK(be_counter(&s.be, "hostfwd") == NET_FWD_MAX);
	slirp_teardown(&s);
	return 0;
}

/* ---- UDP ------------------------------------------------------------------- */

/* Is used RX element i a UDP datagram to 10.0.2.15:port carrying want? */
static int rx_udp_to_guest(struct sfix *s, uint16_t i, uint16_t port, const char *want)
{
	const uint8_t *got, *ip, *udp;
	size_t len = rx_frame(s, i, &got), n = strlen(want);

	CHECK(len >= 14 + 20 + 8 + n);
	CHECK(get_be16(got + 12) == 0x0800);
	ip = got + 14;
	udp = ip + (ip[0] & 15) * 4;
	CHECK(ip[9] == 17);
	CHECK(get_be32(ip + 16) == GUEST_IP);
	CHECK(get_be16(udp + 2) == port);
	CHECK(get_be16(udp + 4) == 8 + n);
	CHECK(memcmp(udp + 8, want, n) == 0);
	return 0;
}

/* A datagram to a UDP forward reaches the guest; removed, the port is
 * free again (slirp's socket is closed). */
static int test_udp(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct sfix s;
	uint16_t port;
	int fd;

	CHECK(card_up(&s) == 0);
	CHECK(free_port(SOCK_DGRAM, &port) == 0);
	CHECK(hostfwd(&s, true, true, port) == 0);
	CHECK(be_counter(&s.be, "hostfwd") == 1);
	a.sin_port = htons(port);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	CHECK(fd >= 0);
	CHECK(sendto(fd, "ping", 4, 0, (struct sockaddr *)&a, sizeof(a)) == 4);
	CHECK(wait_rx(&s, 2));
	CHECK(rx_udp_to_guest(&s, 1, GUEST_PORT, "ping") == 0);
	close(fd);

	/* a TCP remove does not take the UDP forward */
	CHECK(hostfwd(&s, false, false, port) == -ENOENT);
	CHECK(hostfwd(&s, false, true, port) == 0);
	CHECK(be_counter(&s.be, "hostfwd") == 0);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	CHECK(fd >= 0);
	CHECK(bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
	close(fd);
	slirp_teardown(&s);
	return 0;
}

/* ---- what is not a hostfwd change on a user card ---------------------------- */

static int test_tap_card_refuses(void)
{
	struct net_backend be;
	struct ctl c;
	char err[128] = "";
	int sv[2];

	CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) == 0);
	CHECK(net_tap_create(&be, sv[0], "tap-test", err, sizeof(err)) == 0);
	ctl_init(&c, true, false, 8080, GUEST_PORT);
	CHECK(ctl_send(&be, &c) < 0);
	CHECK(c.user_error && strcmp(c.err, "not a user-networking card") == 0);
	c.chg.add = false;
	CHECK(ctl_send(&be, &c) < 0 && strcmp(c.err, "not a user-networking card") == 0);
	be.destroy(be.be);
	close(sv[1]);
	return 0;
}

/* A disk swap sent to a net card, or a request without its operation. */
static int test_other_operation(void)
{
	Moat__Dev__DiskSwap swap = MOAT__DEV__DISK_SWAP__INIT;
	struct sfix s;
	struct ctl c;

	CHECK(card_up(&s) == 0);
	ctl_init(&c, true, false, 8080, GUEST_PORT);
	c.req.op_case = MOAT__DEV__CONTROL_REQUEST__OP_DISK_SWAP;
	c.req.disk_swap = &swap;
	CHECK(ctl_send(&s.be, &c) < 0);
	CHECK(c.user_error && strcmp(c.err, "this device has no such operation") == 0);
	ctl_init(&c, true, false, 8080, GUEST_PORT);
	c.req.hostfwd = NULL;
	CHECK(ctl_send(&s.be, &c) < 0 && c.user_error);
	CHECK(be_counter(&s.be, "hostfwd") == 0);
	slirp_teardown(&s);
	return 0;
}

TAP_MAIN(TEST(test_add_tcp), TEST(test_remove_tcp), TEST(test_remove_start_forward),
	 TEST(test_add_port_taken_tcp), TEST(test_add_port_taken_udp), TEST(test_add_twice),
	 TEST(test_remove_unknown), TEST(test_bad_forward), TEST(test_bound), TEST(test_udp),
	 TEST(test_tap_card_refuses), TEST(test_other_operation))
