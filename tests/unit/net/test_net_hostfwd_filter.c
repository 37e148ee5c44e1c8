/* moat ctl hostfwd under moat-net's real seccomp filter
 * (policy/net-user.policy, embedded as moat-net embeds it): a slirp card
 * with a forward of its start request is set up, the filter is loaded as
 * the sandbox's last step loads it, and then, as moat-net does in its
 * loop, forwards are added and removed at run time, TCP and UDP, with
 * traffic through them, a refused add (a port taken) and a refused
 * remove; the card is torn down at the end. A call the filter refuses
 * kills the case with SIGSYS. The test's own calls after the load (poll,
 * eventfd reads and writes, and a TCP connect and a UDP sendto and bind on
 * 127.0.0.1) are among those the policy allows for slirp. Needs no root:
 * no_new_privs is enough to load a filter. */
#include <sys/prctl.h>

#include "net_control.h"
#include "pol.h"
#include "slirp_fixture.h"

#define GUEST_PORT	 8022
#define START_GUEST_PORT 22 /* the start request's forward */

/* A hostfwd change of 127.0.0.1:host_port to the guest's guest_port. */
static int hostfwd_to(struct sfix *s, bool add, bool udp, uint16_t host_port, uint16_t guest_port,
		      char *err, size_t errlen)
{
	Moat__Dev__NetForward fw = MOAT__DEV__NET_FORWARD__INIT;
	Moat__Dev__HostfwdChange chg = MOAT__DEV__HOSTFWD_CHANGE__INIT;
	Moat__Dev__ControlRequest req = MOAT__DEV__CONTROL_REQUEST__INIT;
	bool user_error = false;

	fw.udp = udp;
	fw.host_addr = INADDR_LOOPBACK;
	fw.host_port = host_port;
	fw.guest_addr = GUEST_IP;
	fw.guest_port = guest_port;
	chg.add = add;
	chg.fwd = &fw;
	req.op_case = MOAT__DEV__CONTROL_REQUEST__OP_HOSTFWD;
	req.hostfwd = &chg;
	return net_control(&s->be, &req, err, errlen, &user_error);
}

static int hostfwd(struct sfix *s, bool add, bool udp, uint16_t host_port, char *err, size_t errlen)
{
	return hostfwd_to(s, add, udp, host_port, GUEST_PORT, err, errlen);
}

/* The card, with one forward of its start request on start_port, RX
 * buffers posted, and slirp knowing the guest's MAC. */
static int card_up(struct sfix *s, uint16_t start_port)
{
	Moat__Dev__NetUser u = MOAT__DEV__NET_USER__INIT;
	Moat__Dev__NetForward fw = MOAT__DEV__NET_FORWARD__INIT, *fwds[] = {&fw};

	fw.host_addr = INADDR_LOOPBACK;
	fw.host_port = start_port;
	fw.guest_addr = GUEST_IP;
	fw.guest_port = START_GUEST_PORT;
	u.n_fwd = 1;
	u.fwd = fwds;
	CHECK(slirp_setup_cfg(s, &u) == 0);
	post(s, 16);
	send_arp(s, GATEWAY_IP);
	CHECK(used_idx(&s->f, NET_RXQ) == 1);
	return 0;
}

static int load_filter(void)
{
	unsigned n;

	CHECK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0);
	CHECK(pol_load("net-user", &n) == 0);
	return 0;
}

/* TCP: add, a connection through it reaching the guest as a SYN, a
 * second add on a port the test holds refused with an error, the start
 * request's forward and the added one removed (the ports refuse
 * connections after), a remove of what is gone refused. */
static int test_tcp_under_filter(void)
{
	struct sfix s;
	char err[160];
	const uint8_t *got;
	uint16_t start_port, port, taken;
	int held, fd;
	size_t len;

	CHECK(free_port(SOCK_STREAM, &start_port) == 0);
	CHECK(free_port(SOCK_STREAM, &port) == 0 && port != start_port);
	held = bound_socket(SOCK_STREAM, &taken);
	CHECK(held >= 0);
	CHECK(card_up(&s, start_port) == 0);
	CHECK(load_filter() == 0);

	CHECK(hostfwd(&s, true, false, port, err, sizeof(err)) == 0);
	fd = connect_loopback(port);
	CHECK(fd >= 0);
	CHECK(wait_rx(&s, 2));
	len = rx_frame(&s, 1, &got);
	CHECK(check_syn(got, len, GUEST_PORT) == 0);
	close(fd);

	CHECK(hostfwd(&s, true, false, taken, err, sizeof(err)) == -EADDRINUSE);
	CHECK(strstr(err, "Address already in use") != NULL);
	CHECK(hostfwd(&s, false, false, port, err, sizeof(err)) == 0);
	CHECK(hostfwd_to(&s, false, false, start_port, START_GUEST_PORT, err, sizeof(err)) == 0);
	CHECK(hostfwd(&s, false, false, port, err, sizeof(err)) == -ENOENT);
	CHECK(be_counter(&s.be, "hostfwd") == 0);
	errno = 0;
	CHECK(connect_loopback(port) < 0 && errno == ECONNREFUSED);
	errno = 0;
	CHECK(connect_loopback(start_port) < 0 && errno == ECONNREFUSED);
	for (unsigned i = 0; i < 5; i++)
		loop_once(&s.f, &s.be, NULL);
	slirp_teardown(&s);
	close(held);
	return 0;
}

/* UDP: add, a datagram through it reaching the guest, remove, the port
 * free again. */
static int test_udp_under_filter(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct sfix s;
	char err[160];
	const uint8_t *got;
	uint16_t start_port, port;
	int fd;

	CHECK(free_port(SOCK_STREAM, &start_port) == 0);
	CHECK(free_port(SOCK_DGRAM, &port) == 0);
	CHECK(card_up(&s, start_port) == 0);
	CHECK(load_filter() == 0);

	CHECK(hostfwd(&s, true, true, port, err, sizeof(err)) == 0);
	a.sin_port = htons(port);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	CHECK(fd >= 0);
	CHECK(sendto(fd, "ping", 4, 0, (struct sockaddr *)&a, sizeof(a)) == 4);
	CHECK(wait_rx(&s, 2));
	CHECK(rx_frame(&s, 1, &got) >= 14 + 20 + 8 + 4);
	CHECK(got[14 + 9] == 17 && memcmp(got + 14 + 20 + 8, "ping", 4) == 0);
	close(fd);
	CHECK(hostfwd(&s, false, true, port, err, sizeof(err)) == 0);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	CHECK(fd >= 0);
	CHECK(bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
	close(fd);
	slirp_teardown(&s);
	return 0;
}

TAP_MAIN(TEST(test_tcp_under_filter), TEST(test_udp_under_filter))
