/* moat-net: one virtio-net device in its own sandboxed process, with one
 * of two backends. User networking (libslirp) stays in the host's network
 * namespace, since slirp turns the guest's connections into host sockets,
 * and runs under policy/net-user.policy. A tap device (opened by the
 * monitor) runs in a new, empty network namespace under
 * policy/net-tap.policy, with no socket calls at all. Either way it holds
 * guest RAM, its queues' notify eventfds and its vectors' irq eventfds. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "channel.h"
#include "devproc.h"
#include "log.h"
#include "net_model.h"
#include "net_slirp.h"
#include "net_tap.h"
#include "pol.h"
#include "slirp_cfg.h"
#include "vdev.h"

/* slirp opens a socket per guest connection, after the sandbox is
 * entered: room for them (the default is the descriptors open at entry
 * plus a few). The loop polls at most DEV_MAX_EXTRA_FDS. */
#define NET_USER_NOFILE 1024

struct net_dev {
	struct vdev_res res;
	struct net_backend be;
	struct net_model *model;
	unsigned nmodel_fds; /* the model's entries lead the polled slice */
};

static bool is_user(const Moat__Dev__StartRequest *req)
{
	return req->net->backend_case == MOAT__DEV__NET_CONFIG__BACKEND_USER && req->net->user;
}

static bool is_tap(const Moat__Dev__StartRequest *req)
{
	return req->net->backend_case == MOAT__DEV__NET_CONFIG__BACKEND_TAP && req->net->tap;
}

/* Is the start request a complete virtio-net configuration? */
static int check_config(const Moat__Dev__StartRequest *req, char *err, size_t errlen)
{
	const Moat__Dev__VirtioConfig *v = req->virtio;

	if (req->config_case != MOAT__DEV__START_REQUEST__CONFIG_NET || !req->net || !v ||
	    (!is_user(req) && !is_tap(req))) {
		snprintf(err, errlen, "start: no virtio-net configuration");
		return -EPROTO;
	}
	if (req->net->mac.len != 6 || (req->net->mac.data[0] & 1)) {
		snprintf(err, errlen, "start: the MAC is not a unicast address");
		return -EPROTO;
	}
	return 0;
}

/* Before the sandbox: the backend's policy, and for slirp the one file
 * it reads, etc/resolv.conf, naming the upstream DNS server we were
 * given (docs/net.md says why it must be a file). */
static int net_dev_sandbox(const Moat__Dev__StartRequest *req, const char **policy,
			   struct pol_options *o, char *err, size_t errlen)
{
	static char resolv[SLIRP_CFG_RESOLV_TEXT];
	static struct pol_root_file file = {"etc/resolv.conf", resolv};
	static struct pol_limits lim = {.nofile = NET_USER_NOFILE};
	int rc = check_config(req, err, errlen);

	if (rc < 0)
		return rc;
	if (is_tap(req)) {
		*policy = "net-tap";
		return 0;
	}
	*policy = "net-user";
	o->limits = &lim;
	if (req->net->user->dns_upstream) {
		slirp_cfg_resolv_text(req->net->user->dns_upstream, resolv);
		o->files = &file;
		o->nfiles = 1;
	}
	return 0;
}

static void net_dev_destroy(void *model)
{
	struct net_dev *d = model;

	if (!d)
		return;
	net_model_destroy(d->model);
	if (d->be.destroy)
		d->be.destroy(d->be.be);
	vdev_res_release(&d->res);
	free(d);
}

static int make_backend(struct net_dev *d, const Moat__Dev__StartRequest *req, int *tap_fd,
			char *err, size_t errlen)
{
	int rc;

	if (is_user(req))
		return net_slirp_create(&d->be, req->net->user, err, errlen);
	rc = net_tap_create(&d->be, *tap_fd, req->net->tap->ifname, err, errlen);
	if (rc == 0)
		*tap_fd = -1; /* the backend's now */
	return rc;
}

static int net_dev_init(void **model, const Moat__Dev__StartRequest *req, struct ipc_fds *fds,
			char *err, size_t errlen)
{
	struct net_dev *d;
	int tap_fd = -1, rc;

	rc = check_config(req, err, errlen);
	if (rc < 0)
		return rc;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	if (is_tap(req) && (tap_fd = ipc_fds_take(fds, req->net->tap->fd_tap)) < 0) {
		snprintf(err, errlen, "start: no tap descriptor");
		rc = -EBADF;
		goto fail;
	}
	rc = vdev_res_take(&d->res, req->virtio, NET_NUM_QUEUES, fds, err, errlen);
	if (rc < 0)
		goto fail;
	rc = make_backend(d, req, &tap_fd, err, errlen);
	if (rc < 0)
		goto fail;
	struct net_params p = {
	    .mem = &d->res.mem,
	    .bar0_gpa = req->virtio->bar0_gpa,
	    .notify_fds = d->res.notify_fd,
	    .nqueues = NET_NUM_QUEUES,
	    .irq_fds = d->res.irq_fd,
	    .nvectors = d->res.nirq,
	    .be_ops = d->be.ops,
	    .be = d->be.be,
	    /* slirp parses every frame itself and wants them whole */
	    .offloads = is_tap(req) ? NET_OFFLOADS_TAP : 0,
	};
	memcpy(p.mac, req->net->mac.data, 6);
	rc = net_model_create(&d->model, &p, err, errlen);
	if (rc < 0)
		goto fail;
	d->be.attach(d->be.be, d->model);
	log_debug("%s backend, %u vectors", is_user(req) ? "user" : "tap", d->res.nirq);
	*model = d;
	return 0;
fail:
	if (tap_fd >= 0)
		close(tap_fd);
	net_dev_destroy(d);
	return rc;
}

static void net_dev_io(void *model, unsigned space, uint64_t addr, unsigned size, bool is_write,
		       uint64_t *data)
{
	struct net_dev *d = model;

	net_model_io(d->model, space, addr, size, is_write, data);
}

static int net_dev_fds(void *model, struct pollfd *out, unsigned max, int *timeout_ms)
{
	struct net_dev *d = model;
	int n = net_model_fds(d->model, out, max), m;

	if (n < 0)
		return n;
	d->nmodel_fds = (unsigned)n;
	m = d->be.fds(d->be.be, out + n, max - (unsigned)n, timeout_ms);
	return m < 0 ? m : n + m;
}

static void net_dev_polled(void *model, struct pollfd *p, unsigned n)
{
	struct net_dev *d = model;
	unsigned k = d->nmodel_fds < n ? d->nmodel_fds : n;

	/* the guest's kicks first: TX frames reach the backend before it is
	 * polled, and RX buffers are there for what it delivers */
	for (unsigned i = 0; i < k; i++)
		if (p[i].revents)
			net_model_ready(d->model, p[i].fd);
	d->be.polled(d->be.be, p + k, n - k);
}

static unsigned net_dev_counters(void *model, struct dev_counter *out)
{
	struct net_dev *d = model;
	struct net_stats s;
	unsigned n = 0;

	if (!d)
		return 0;
	net_model_stats(d->model, &s);
	struct dev_counter c[] = {
	    {"tx_frames", s.tx_frames},
	    {"tx_bytes", s.tx_bytes},
	    {"tx_dropped_malformed", s.tx_dropped_malformed},
	    {"tx_dropped_backend", s.tx_dropped_backend},
	    {"rx_frames", s.rx_frames},
	    {"rx_bytes", s.rx_bytes},
	    {"rx_dropped_no_buffers", s.rx_dropped_no_buffers},
	    {"rx_dropped_too_big", s.rx_dropped_too_big},
	    {"rx_dropped_offload", s.rx_dropped_offload},
	};
	for (; n < sizeof(c) / sizeof(c[0]); n++)
		out[n] = c[n];
	return n + d->be.counters(d->be.be, out + n, DEV_MAX_COUNTERS - n);
}

static const struct dev_kind net_kind = {
    .kind = "net",
    .sandbox = net_dev_sandbox,
    .init_fds = net_dev_init,
    .io = net_dev_io,
    .destroy = net_dev_destroy,
    .fds = net_dev_fds,
    .polled = net_dev_polled,
    .counters = net_dev_counters,
};

int main(void)
{
	return dev_main(&net_kind);
}
