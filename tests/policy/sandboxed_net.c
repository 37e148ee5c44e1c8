/* sandboxed-child's modes for test_net_user.c: policy/net-user.policy, as
 * moat-net runs under it (the host's network namespace, loopback only).
 *   net-slirp      every socket call libslirp 4.7 makes, with the arguments
 *                  it passes (a TCP forward's listener and a connection
 *                  accepted on it, an outgoing non-blocking connect, urgent
 *                  data, half-closes, a UDP flow with its TTL and its ICMP
 *                  error read from the error queue); sends "ok"
 *   net-kill-NAME  one call slirp never makes, which the filter must kill:
 *                  SO_LINGER (issue 10's hang of the monitor), SO_SNDBUF,
 *                  SO_KEEPALIVE, bind6 and connect6 (the length of a
 *                  struct sockaddr_in6), shutdown-rdwr, listen-128,
 *                  sendto-fastopen, accept4, recv-peek
 * Each mode's setup (the sockets) happens after the filter is loaded, as
 * in moat-net. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pol.h"
#include "sandboxed.h"

#define POLL_MS 5000

int net_enter(const char *mode, struct pol_report *rep)
{
	if (strcmp(mode, "net-slirp") != 0 && strncmp(mode, "net-kill-", 9) != 0)
		return 1;
	return pol_sandbox_enter("net-user", rep);
}

static int on(int s, int level, int name)
{
	int v = 1;

	return setsockopt(s, level, name, &v, sizeof(v));
}

static struct sockaddr_in loopback(uint16_t port)
{
	return (struct sockaddr_in){
	    .sin_family = AF_INET,
	    .sin_port = port,
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
}

/* A forward's listener as tcpx_listen makes it: the port in *port. */
static int tcp_listener(uint16_t *port)
{
	struct sockaddr_in a = loopback(0);
	socklen_t len = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (s < 0 || on(s, SOL_SOCKET, SO_REUSEADDR) < 0 ||
	    bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s, 1) < 0 ||
	    on(s, SOL_SOCKET, SO_OOBINLINE) < 0 || on(s, IPPROTO_TCP, TCP_NODELAY) < 0 ||
	    getsockname(s, (struct sockaddr *)&a, &len) < 0)
		return -1;
	*port = a.sin_port;
	return s;
}

static bool ready(int s, short events)
{
	struct pollfd p = {.fd = s, .events = events};

	return poll(&p, 1, POLL_MS) == 1 && (p.revents & events);
}

/* The TCP half: tcp_fconnect's socket, connected to a listener as
 * tcpx_listen's, accepted as tcp_connect does; data both ways, urgent data
 * (sosendoob), the half-closes (sofcantsendmore, sofcantrcvmore). */
static const char *tcp_calls(void)
{
	struct sockaddr_in a, peer;
	socklen_t len = sizeof(peer);
	uint16_t port;
	int err = -1, lst, c, s, fl;
	char buf[8];

	lst = tcp_listener(&port);
	if (lst < 0)
		return "listener";
	a = loopback(port);
	c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c < 0 || (fl = fcntl(c, F_GETFL)) < 0 || fcntl(c, F_SETFL, fl | O_NONBLOCK) < 0 ||
	    on(c, SOL_SOCKET, SO_REUSEADDR) < 0 || on(c, SOL_SOCKET, SO_OOBINLINE) < 0 ||
	    on(c, IPPROTO_TCP, TCP_NODELAY) < 0)
		return "outgoing socket";
	if (connect(c, (struct sockaddr *)&a, sizeof(a)) < 0 && errno != EINPROGRESS)
		return "connect";
	len = sizeof(err);
	if (!ready(c, POLLOUT) || getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err)
		return "the connect did not end well";
	len = sizeof(peer);
	s = accept(lst, (struct sockaddr *)&peer, &len);
	if (s < 0 || on(s, SOL_SOCKET, SO_REUSEADDR) < 0 || on(s, SOL_SOCKET, SO_OOBINLINE) < 0 ||
	    on(s, IPPROTO_TCP, TCP_NODELAY) < 0)
		return "accept";
	len = sizeof(peer);
	if (getpeername(c, (struct sockaddr *)&peer, &len) < 0 || peer.sin_port != port)
		return "getpeername";
	/* slirp.c's zero-length send, then data, then urgent data */
	if (send(c, buf, 0, 0) != 0 || send(c, "data", 4, 0) != 4 || send(c, "!", 1, MSG_OOB) != 1)
		return "send";
	memset(buf, 0, sizeof(buf));
	for (size_t got = 0; got < 5;) {
		ssize_t n;
		if (!ready(s, POLLIN) || (n = recv(s, buf + got, sizeof(buf) - 1 - got, 0)) <= 0)
			return "recv";
		got += (size_t)n;
	}
	if (strcmp(buf, "data!") != 0) /* SO_OOBINLINE: the urgent byte in line */
		return "the data received";
	if (shutdown(c, SHUT_WR) < 0 || !ready(s, POLLIN) || recv(s, buf, sizeof(buf), 0) != 0)
		return "shutdown(SHUT_WR)";
	if (shutdown(s, SHUT_RD) < 0)
		return "shutdown(SHUT_RD)";
	close(s);
	close(c);
	close(lst);
	return NULL;
}

/* The UDP half: a forward's listener (udpx_listen), a guest flow's socket
 * (udp_attach: IP_RECVERR, unbound), IP_TTL and sendto (udp_input,
 * sosendto), FIONREAD and recvfrom (sorecvfrom), and an ICMP port
 * unreachable read from the error queue (sorecvfrom's MSG_ERRQUEUE). */
static const char *udp_calls(void)
{
	struct sockaddr_in a = loopback(0), from;
	socklen_t len = sizeof(a);
	char buf[64], ctl[256];
	struct iovec iov = {buf, sizeof(buf)};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
	int lst, u, gone, ttl = 63, n = 0;

	lst = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (lst < 0 || on(lst, SOL_SOCKET, SO_REUSEADDR) < 0 ||
	    bind(lst, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    getsockname(lst, (struct sockaddr *)&a, &len) < 0)
		return "UDP listener";
	u = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (u < 0 || on(u, IPPROTO_IP, IP_RECVERR) < 0 ||
	    setsockopt(u, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl)) < 0)
		return "UDP socket";
	if (sendto(u, "dns?", 4, 0, (struct sockaddr *)&a, sizeof(a)) != 4)
		return "sendto";
	len = sizeof(from);
	if (!ready(lst, POLLIN) || ioctl(lst, FIONREAD, &n) < 0 || n != 4 ||
	    recvfrom(lst, buf, sizeof(buf), 0, (struct sockaddr *)&from, &len) != 4)
		return "FIONREAD, recvfrom";
	/* A port nobody listens on any more: the kernel's ICMP error comes back
	 * on u's error queue. */
	gone = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	a = loopback(0);
	len = sizeof(a);
	if (gone < 0 || bind(gone, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    getsockname(gone, (struct sockaddr *)&a, &len) < 0)
		return "a UDP port to close";
	close(gone);
	if (sendto(u, "x", 1, 0, (struct sockaddr *)&a, sizeof(a)) != 1 || !ready(u, POLLERR))
		return "no ICMP error";
	msg.msg_control = ctl;
	msg.msg_controllen = sizeof(ctl);
	if (recvmsg(u, &msg, MSG_ERRQUEUE) < 0)
		return "recvmsg(MSG_ERRQUEUE)";
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		struct sock_extended_err ee;
		if (c->cmsg_level != IPPROTO_IP || c->cmsg_type != IP_RECVERR)
			continue;
		memcpy(&ee, CMSG_DATA(c), sizeof(ee));
		if (ee.ee_origin == SO_EE_ORIGIN_ICMP && ee.ee_errno == ECONNREFUSED) {
			close(u);
			close(lst);
			return NULL;
		}
	}
	return "the ICMP error was not port unreachable";
}

/* slirp's fallback for a guest's ping when ICMP datagram sockets are
 * refused: a raw ICMP socket, which the filter lets through and the kernel
 * refuses (no CAP_NET_RAW in the host's network namespace). */
static const char *raw_icmp(void)
{
	int s = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);

	if (s >= 0)
		return "a raw socket was made";
	return errno == EPERM ? NULL : "a raw socket failed, but not with EPERM";
}

/* One call slirp never makes, on a socket made as slirp makes them. */
static void net_kill(const char *what)
{
	struct linger l = {.l_onoff = 1, .l_linger = 3600};
	struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
	struct sockaddr_in a = loopback(htons(9));
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int v = 1 << 20;
	char c = 0;

	if (strcmp(what, "SO_LINGER") == 0)
		setsockopt(s, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	else if (strcmp(what, "SO_SNDBUF") == 0)
		setsockopt(s, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
	else if (strcmp(what, "SO_KEEPALIVE") == 0)
		on(s, SOL_SOCKET, SO_KEEPALIVE);
	else if (strcmp(what, "bind6") == 0)
		bind(s, (struct sockaddr *)&a6, sizeof(a6));
	else if (strcmp(what, "connect6") == 0)
		connect(s, (struct sockaddr *)&a6, sizeof(a6));
	else if (strcmp(what, "shutdown-rdwr") == 0)
		shutdown(s, SHUT_RDWR);
	else if (strcmp(what, "listen-128") == 0)
		listen(s, 128);
	else if (strcmp(what, "sendto-fastopen") == 0)
		sendto(s, &c, 1, MSG_FASTOPEN, (struct sockaddr *)&a, sizeof(a));
	else if (strcmp(what, "accept4") == 0)
		accept4(s, NULL, NULL, SOCK_CLOEXEC);
	else if (strcmp(what, "recv-peek") == 0)
		recv(s, &c, 1, MSG_PEEK | MSG_DONTWAIT);
}

const char *net_run(const char *mode, bool *handled)
{
	const char *why;

	*handled = true;
	if (strcmp(mode, "net-slirp") == 0) {
		if (!(why = tcp_calls()) && !(why = udp_calls()))
			why = raw_icmp();
		return why;
	}
	if (strncmp(mode, "net-kill-", 9) == 0) {
		net_kill(mode + 9);
		return "survived a forbidden call";
	}
	*handled = false;
	return NULL;
}
