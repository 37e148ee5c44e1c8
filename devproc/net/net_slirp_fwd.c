/* The host forwards of a user-networking card (net_slirp_fwd.h). */
#include "net_slirp_fwd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "errline.h"
#include "slirp_cfg.h"

static struct in_addr in4(uint32_t host_order)
{
	return (struct in_addr){.s_addr = htonl(host_order)};
}

static const char *proto_name(const struct netopt_fwd *f)
{
	return f->proto == NETOPT_UDP ? "udp" : "tcp";
}

bool net_fwd_from_proto(const Moat__Dev__NetForward *p, struct netopt_fwd *out)
{
	if (!p || !p->host_port || p->host_port > 65535 || !p->guest_port || p->guest_port > 65535)
		return false;
	*out = (struct netopt_fwd){
	    .proto = p->udp ? NETOPT_UDP : NETOPT_TCP,
	    .host_addr = p->host_addr,
	    .host_port = (uint16_t)p->host_port,
	    .guest_addr = p->guest_addr,
	    .guest_port = (uint16_t)p->guest_port,
	};
	return true;
}

/* The index in t of the forward listening where f does (protocol, host
 * address and port: what slirp tells its listeners apart by), or -1. */
static int find(const struct net_fwds *t, const struct netopt_fwd *f)
{
	for (unsigned i = 0; i < t->n; i++) {
		const struct netopt_fwd *g = &t->fwd[i];
		if (g->proto == f->proto && g->host_addr == f->host_addr &&
		    g->host_port == f->host_port)
			return (int)i;
	}
	return -1;
}

int net_fwd_listen(struct net_fwds *t, Slirp *slirp, const struct netopt_fwd *f)
{
	if (t->n >= NET_FWD_MAX)
		return -ENOSPC;
	if (find(t, f) >= 0)
		return -EADDRINUSE;
	/* libslirp 4.7 (tcpx_listen, udpx_listen) keeps the errno of the
	 * socket() or bind() that failed and frees what it had made. */
	errno = 0;
	if (slirp_add_hostfwd(slirp, f->proto == NETOPT_UDP, in4(f->host_addr), f->host_port,
			      in4(f->guest_addr), f->guest_port) < 0)
		return errno ? -errno : -EADDRINUSE;
	t->fwd[t->n++] = *f;
	return 0;
}

/* "tcp host port 127.0.0.1:8080", the way the messages below name a
 * forward's listener. */
static void host_side(const struct netopt_fwd *f, char *buf, size_t len)
{
	char a[16];

	netopt_format_addr(f->host_addr, a);
	snprintf(buf, len, "%s host port %s:%u", proto_name(f), a, f->host_port);
}

static int fwd_add(struct net_fwds *t, Slirp *slirp, const struct netopt_fwd *f, char *err,
		   size_t errlen)
{
	struct netopt o = {.kind = NETOPT_USER, .nfwd = 1, .fwd = {*f}};
	struct slirp_cfg cfg;
	char where[64];
	int rc;

	/* the same rules as a forward of the start request */
	rc = slirp_cfg_build(&cfg, &o, err, errlen);
	if (rc < 0)
		return rc;
	host_side(f, where, sizeof(where));
	if (find(t, f) >= 0) {
		err_line(err, errlen, "%s is forwarded already", where);
		return -EEXIST;
	}
	if (t->n >= NET_FWD_MAX) {
		err_line(err, errlen, "%s: a card has at most %d forwards", where, NET_FWD_MAX);
		return -ENOSPC;
	}
	rc = net_fwd_listen(t, slirp, f);
	if (rc < 0)
		err_line(err, errlen, "%s: %s", where, strerror(-rc));
	return rc;
}

static int fwd_remove(struct net_fwds *t, Slirp *slirp, const struct netopt_fwd *f, char *err,
		      size_t errlen)
{
	int i = find(t, f), rc;
	struct netopt_fwd *g;
	char where[64], have[16], asked[16];

	host_side(f, where, sizeof(where));
	if (i < 0) {
		err_line(err, errlen, "no forward on %s", where);
		return -ENOENT;
	}
	g = &t->fwd[i];
	/* the rule as it was added, not another one on the same port */
	if (f->guest_addr != g->guest_addr || f->guest_port != g->guest_port) {
		netopt_format_addr(g->guest_addr, have);
		netopt_format_addr(f->guest_addr, asked);
		err_line(err, errlen, "%s forwards to %s:%u, not to %s:%u", where, have,
			 g->guest_port, asked, f->guest_port);
		return -ENOENT;
	}
	/* Out of the table whatever slirp says: a rule slirp has no listener
	 * for is not in effect either. */
	*g = t->fwd[--t->n];
	rc = slirp_remove_hostfwd(slirp, f->proto == NETOPT_UDP, in4(f->host_addr), f->host_port);
	if (rc < 0) {
		err_line(err, errlen, "%s: slirp had no listener there", where);
		return -EIO;
	}
	return 0;
}

int net_fwd_change(struct net_fwds *t, Slirp *slirp, const Moat__Dev__HostfwdChange *c, char *err,
		   size_t errlen)
{
	struct netopt_fwd f;

	if (err && errlen)
		err[0] = 0;
	if (!c || !net_fwd_from_proto(c->fwd, &f))
		return err_line(err, errlen, "hostfwd: no forward, or a port is 0 or beyond 65535");
	return c->add ? fwd_add(t, slirp, &f, err, errlen) : fwd_remove(t, slirp, &f, err, errlen);
}
