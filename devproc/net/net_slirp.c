/* libslirp in moat-net: slirp's sockets and timers are polled by the
 * device loop (slirp_pollfds_fill before each poll, slirp_pollfds_poll
 * after), frames from the guest go to slirp_input, and slirp's frames for
 * the guest go to the virtio-net model, or wait in a short backlog while
 * the guest has no receive buffers posted. All on the loop's thread. */
#include "net_slirp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <slirp/libslirp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "net_slirp_fwd.h"
#include "netopt.h"
#include "slirp_cfg.h"
#include "util.h"

#define NS_MAX_TIMERS 8 /* libslirp 4.7 makes one (IPv6 router adverts) */

struct ns_timer {
	bool used, armed;
	SlirpTimerId id;
	void *cb_opaque;
	int64_t expire_ms;
};

struct ns_frame {
	struct ns_frame *next;
	size_t len;
	uint8_t data[];
};

struct net_slirp {
	Slirp *slirp;
	struct slirp_cfg cfg;
	struct net_fwds fwds; /* the forwards in effect */
	struct net_model *model;
	/* the descriptors of the poll in progress: slirp's indices are into
	 * pfd[0..npfd), a slice of the loop's array */
	struct pollfd *pfd;
	unsigned npfd, maxpfd;
	struct ns_timer timers[NS_MAX_TIMERS];
	/* frames for a guest without receive buffers, oldest first */
	struct ns_frame *backlog, **backlog_tail;
	unsigned nbacklog;
	uint64_t rx_backlog_dropped, guest_errors, poll_overflow;
};

static int64_t ns_now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* ---- frames for the guest ---------------------------------------------- */

static void backlog_push(struct net_slirp *s, const void *buf, size_t len)
{
	struct ns_frame *f;

	if (s->nbacklog >= NET_BE_RX_BACKLOG || !(f = malloc(sizeof(*f) + len))) {
		s->rx_backlog_dropped++;
		return;
	}
	f->next = NULL;
	f->len = len;
	memcpy(f->data, buf, len);
	*s->backlog_tail = f;
	s->backlog_tail = &f->next;
	s->nbacklog++;
}

/* Deliver what waits, oldest first, until the guest runs out of buffers
 * again. Frames the guest can never take (too big, link down) go. */
static void backlog_flush(struct net_slirp *s)
{
	while (s->backlog) {
		struct ns_frame *f = s->backlog;
		int rc = net_model_receive(s->model, f->data, f->len);

		if (rc == -ENOBUFS)
			return;
		s->backlog = f->next;
		if (!s->backlog)
			s->backlog_tail = &s->backlog;
		s->nbacklog--;
		free(f);
	}
}

static ssize_t ns_send_packet(const void *buf, size_t len, void *opaque)
{
	struct net_slirp *s = opaque;
	int rc;

	if (!s->model)
		return (ssize_t)len;
	if (s->backlog) { /* keep the order */
		backlog_push(s, buf, len);
		return (ssize_t)len;
	}
	rc = net_model_receive(s->model, buf, len);
	if (rc == -ENOBUFS)
		backlog_push(s, buf, len);
	/* Anything else (link down, too big) is a frame lost on the wire:
	 * slirp's TCP retransmits, and an error here would only be logged. */
	return (ssize_t)len;
}

/* ---- slirp's callbacks ------------------------------------------------- */

static void ns_guest_error(const char *msg, void *opaque)
{
	struct net_slirp *s = opaque;

	/* The guest chooses how often this happens: count it, log at debug. */
	s->guest_errors++;
	log_debug("slirp: guest error: %s", msg);
}

static int64_t ns_clock_get_ns(void *opaque)
{
	(void)opaque;
	return ns_now_ns();
}

static void *ns_timer_new_opaque(SlirpTimerId id, void *cb_opaque, void *opaque)
{
	struct net_slirp *s = opaque;

	for (unsigned i = 0; i < NS_MAX_TIMERS; i++)
		if (!s->timers[i].used) {
			s->timers[i] =
			    (struct ns_timer){.used = true, .id = id, .cb_opaque = cb_opaque};
			return &s->timers[i];
		}
	log_warn("slirp: out of timers");
	return NULL;
}

static void ns_timer_free(void *timer, void *opaque)
{
	struct ns_timer *t = timer;

	(void)opaque;
	if (t)
		*t = (struct ns_timer){0};
}

static void ns_timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
	struct ns_timer *t = timer;

	(void)opaque;
	if (t) {
		t->armed = true;
		t->expire_ms = expire_ms;
	}
}

static void ns_poll_fd_noop(int fd, void *opaque)
{
	(void)fd;
	(void)opaque;
}

/* slirp's socket buffers have room again: the loop fills the poll set
 * afresh after every wake-up, and this runs on the loop's thread, so there
 * is nothing to kick. */
static void ns_notify(void *opaque)
{
	(void)opaque;
}

static const SlirpCb ns_callbacks = {
    .send_packet = ns_send_packet,
    .guest_error = ns_guest_error,
    .clock_get_ns = ns_clock_get_ns,
    .timer_free = ns_timer_free,
    .timer_mod = ns_timer_mod,
    .register_poll_fd = ns_poll_fd_noop,
    .unregister_poll_fd = ns_poll_fd_noop,
    .notify = ns_notify,
    .timer_new_opaque = ns_timer_new_opaque,
};

/* ---- the poll loop ------------------------------------------------------ */

/* libslirp's poll bits and poll(2)'s. ERR and HUP matter only coming
 * back: poll(2) reports them whether asked for or not. */
static const struct {
	int slirp;
	short poll;
} poll_bits[] = {
    {SLIRP_POLL_IN, POLLIN},   {SLIRP_POLL_OUT, POLLOUT}, {SLIRP_POLL_PRI, POLLPRI},
    {SLIRP_POLL_ERR, POLLERR}, {SLIRP_POLL_HUP, POLLHUP},
};

static int ns_add_poll(int fd, int events, void *opaque)
{
	struct net_slirp *s = opaque;
	short ev = 0;

	if (s->npfd >= s->maxpfd) {
		s->poll_overflow++; /* not polled this round; the next may fit */
		return -1;
	}
	for (unsigned i = 0; i < ARRAY_SIZE(poll_bits); i++)
		if (events & poll_bits[i].slirp)
			ev |= poll_bits[i].poll;
	s->pfd[s->npfd] = (struct pollfd){.fd = fd, .events = ev};
	return (int)s->npfd++;
}

static int ns_get_revents(int idx, void *opaque)
{
	struct net_slirp *s = opaque;
	int ev = 0;

	if (idx < 0 || (unsigned)idx >= s->npfd)
		return 0;
	for (unsigned i = 0; i < ARRAY_SIZE(poll_bits); i++)
		if (s->pfd[idx].revents & poll_bits[i].poll)
			ev |= poll_bits[i].slirp;
	return ev;
}

static int ns_fds(void *be, struct pollfd *out, unsigned max, int *timeout_ms)
{
	struct net_slirp *s = be;
	uint32_t timeout = *timeout_ms < 0 ? UINT32_MAX : (uint32_t)*timeout_ms;
	int64_t now_ms = ns_now_ns() / 1000000;

	s->pfd = out;
	s->npfd = 0;
	s->maxpfd = max;
	slirp_pollfds_fill(s->slirp, &timeout, ns_add_poll, s);
	for (unsigned i = 0; i < NS_MAX_TIMERS; i++) {
		const struct ns_timer *t = &s->timers[i];
		if (t->used && t->armed) {
			int64_t left = t->expire_ms - now_ms;
			uint32_t ms = left <= 0 ? 0 : left > INT32_MAX ? INT32_MAX : (uint32_t)left;
			if (ms < timeout)
				timeout = ms;
		}
	}
	*timeout_ms = timeout > INT32_MAX ? -1 : (int)timeout;
	return (int)s->npfd;
}

static void ns_polled(void *be, struct pollfd *p, unsigned n)
{
	struct net_slirp *s = be;
	int64_t now_ms;

	s->pfd = p;
	s->npfd = n;
	slirp_pollfds_poll(s->slirp, 0, ns_get_revents, s);
	now_ms = ns_now_ns() / 1000000;
	for (unsigned i = 0; i < NS_MAX_TIMERS; i++) {
		struct ns_timer *t = &s->timers[i];
		if (t->used && t->armed && t->expire_ms <= now_ms) {
			t->armed = false;
			slirp_handle_timer(s->slirp, t->id, t->cb_opaque);
		}
	}
}

/* ---- the backend --------------------------------------------------------- */

static int ns_send(void *be, const struct iovec *iov, int iovcnt, size_t len)
{
	struct net_slirp *s = be;
	static uint8_t frame[NET_FRAME_MAX];
	size_t off = 0;

	/* slirp parses in place: give it a private copy, never guest RAM */
	for (int i = 0; i < iovcnt && off < len; i++) {
		size_t n = iov[i].iov_len < len - off ? iov[i].iov_len : len - off;
		memcpy(frame + off, iov[i].iov_base, n);
		off += n;
	}
	if (off != len || len > NET_FRAME_MAX)
		return -EINVAL;
	slirp_input(s->slirp, frame, (int)len);
	return 0;
}

static void ns_rx_ready(void *be)
{
	backlog_flush(be);
}

static const struct net_backend_ops ns_ops = {
    .send = ns_send,
    .rx_ready = ns_rx_ready,
};

static void ns_attach(void *be, struct net_model *m)
{
	struct net_slirp *s = be;

	s->model = m;
}

/* moat ctl hostfwd add|remove (net_fwd_change). */
static int ns_hostfwd(void *be, const Moat__Dev__HostfwdChange *c, char *err, size_t errlen)
{
	struct net_slirp *s = be;

	return net_fwd_change(&s->fwds, s->slirp, c, err, errlen);
}

static unsigned ns_counters(void *be, struct dev_counter *out, unsigned max)
{
	struct net_slirp *s = be;
	struct dev_counter c[] = {
	    {"rx_backlog_dropped", s->rx_backlog_dropped},
	    {"slirp_guest_errors", s->guest_errors},
	    {"slirp_poll_overflow", s->poll_overflow},
	    {"hostfwd", s->fwds.n}, /* forwards in effect, not a total */
	};

	return net_be_put_counters(out, max, c, ARRAY_SIZE(c));
}

static void ns_destroy(void *be)
{
	struct net_slirp *s = be;

	if (!s)
		return;
	if (s->slirp)
		slirp_cleanup(s->slirp);
	while (s->backlog) {
		struct ns_frame *f = s->backlog;
		s->backlog = f->next;
		free(f);
	}
	free(s);
}

static struct in_addr in4(uint32_t host_order)
{
	return (struct in_addr){.s_addr = htonl(host_order)};
}

/* The request's user settings back into a netopt, so that the device
 * checks them with the same code as the monitor (slirp_cfg_build). */
static int user_to_netopt(const Moat__Dev__NetUser *u, struct netopt *o, char *err, size_t errlen)
{
	memset(o, 0, sizeof(*o));
	o->kind = NETOPT_USER;
	o->restricted = u->restricted;
	o->hostloop = u->hostloop;
	if (u->n_fwd > NETOPT_MAX_FWD) {
		snprintf(err, errlen, "start: %zu forwards (at most %d)", u->n_fwd, NETOPT_MAX_FWD);
		return -EINVAL;
	}
	for (size_t i = 0; i < u->n_fwd; i++)
		if (!net_fwd_from_proto(u->fwd[i], &o->fwd[i])) {
			snprintf(err, errlen, "start: forward %zu has a bad port", i);
			return -EINVAL;
		}
	o->nfwd = (unsigned)u->n_fwd;
	return 0;
}

static int ns_slirp_new(struct net_slirp *s)
{
	const struct slirp_cfg *c = &s->cfg;
	SlirpConfig sc = {
	    .version = SLIRP_CFG_VERSION,
	    .restricted = c->restricted,
	    .in_enabled = c->in_enabled,
	    .vnetwork = in4(c->vnetwork),
	    .vnetmask = in4(c->vnetmask),
	    .vhost = in4(c->vhost),
	    .in6_enabled = c->in6_enabled,
	    .vhostname = c->vhostname,
	    .vdhcp_start = in4(c->vdhcp_start),
	    .vnameserver = in4(c->vnameserver),
	    .disable_host_loopback = c->disable_host_loopback,
	    .enable_emu = c->enable_emu,
	    .disable_dns = c->disable_dns,
	    .disable_dhcp = c->disable_dhcp,
	};

	s->slirp = slirp_new(&sc, &ns_callbacks, s);
	return s->slirp ? 0 : -ENOMEM;
}

/* The start request's forwards, o's (which slirp_cfg_build accepted).
 * These run inside the sandbox too: a device's model is built after it
 * is entered (dev_main), so start-time and run-time listeners make the
 * same calls under the same filter. */
static int ns_add_forwards(struct net_slirp *s, const struct netopt *o, char *err, size_t errlen)
{
	for (unsigned i = 0; i < o->nfwd; i++) {
		const struct netopt_fwd *f = &o->fwd[i];
		char rule[NETOPT_FWD_STRLEN], ha[16];
		int rc = net_fwd_listen(&s->fwds, s->slirp, f);

		if (rc == 0)
			continue;
		int e = -rc;
		netopt_format_fwd(f, rule, sizeof(rule));
		netopt_format_addr(f->host_addr, ha);
		snprintf(err, errlen, "--net hostfwd=%s: cannot listen on %s:%u: %s", rule, ha,
			 f->host_port, strerror(e));
		/* a port taken or an address not ours: the user's to fix */
		return e == EADDRINUSE || e == EADDRNOTAVAIL || e == EACCES ? -EADDRINUSE : -e;
	}
	return 0;
}

int net_slirp_create(struct net_backend *out, const Moat__Dev__NetUser *cfg, char *err,
		     size_t errlen)
{
	struct net_slirp *s = calloc(1, sizeof(*s));
	struct netopt o;
	int rc;

	if (!s) {
		snprintf(err, errlen, "slirp: out of memory");
		return -ENOMEM;
	}
	s->backlog_tail = &s->backlog;
	rc = user_to_netopt(cfg, &o, err, errlen);
	if (rc == 0)
		rc = slirp_cfg_build(&s->cfg, &o, err, errlen);
	if (rc == 0 && (rc = ns_slirp_new(s)) < 0)
		snprintf(err, errlen, "slirp: cannot create the user network");
	if (rc == 0)
		rc = ns_add_forwards(s, &o, err, errlen);
	if (rc < 0) {
		ns_destroy(s);
		return rc;
	}
	*out = (struct net_backend){
	    .ops = &ns_ops,
	    .be = s,
	    .attach = ns_attach,
	    .fds = ns_fds,
	    .polled = ns_polled,
	    .counters = ns_counters,
	    .hostfwd = ns_hostfwd,
	    .destroy = ns_destroy,
	};
	return 0;
}
