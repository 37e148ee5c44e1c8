/* moat-net: one virtio-net device in its own sandboxed process, with one
 * of two backends. User networking (libslirp) stays in the host's network
 * namespace, since slirp turns the guest's connections into host sockets,
 * and runs under policy/net-user.policy. A tap device (opened by the
 * monitor) runs in a new, empty network namespace under
 * policy/net-tap.policy, with no socket calls at all. Either way it holds
 * guest RAM, its queues' notify eventfds and its vectors' irq eventfds.
 * The process around the device is the virtio core's (vdev_proc.h); the
 * backend's descriptors are polled after the queues'. The control plane's
 * moat ctl hostfwd add|remove reaches a user backend (net_control.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "channel.h"
#include "devproc.h"
#include "log.h"
#include "net_control.h"
#include "net_model.h"
#include "net_slirp.h"
#include "net_tap.h"
#include "pol.h"
#include "slirp_cfg.h"
#include "vdev_proc.h"

/* slirp opens a socket per guest connection, after the sandbox is
 * entered: room for them (the default is the descriptors open at entry
 * plus a few). The loop polls at most DEV_MAX_EXTRA_FDS. */
#define NET_USER_NOFILE 1024

struct net_dev {
	struct net_backend be;
	struct net_model *model;
	char ctl_err[160]; /* the last control request's error line: the reply's */
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
	/* One thread either way (neither policy allows clone); the tap
	 * backend opens no descriptor, slirp one per guest connection. Both
	 * map guest RAM: no RLIMIT_AS (struct pol_limits says why). */
	static const struct pol_limits tap_lim = {.nofile_extra = DEV_NOFILE_EXTRA, .nproc = 1};
	static const struct pol_limits user_lim = {.nofile = NET_USER_NOFILE, .nproc = 1};
	int rc = check_config(req, err, errlen);

	if (rc < 0)
		return rc;
	if (is_tap(req)) {
		*policy = "net-tap";
		o->limits = &tap_lim;
		return 0;
	}
	*policy = "net-user";
	o->limits = &user_lim;
	if (req->net->user->dns_upstream) {
		slirp_cfg_resolv_text(req->net->user->dns_upstream, resolv);
		o->files = &file;
		o->nfiles = 1;
	}
	return 0;
}

static void net_dev_destroy(void *dev)
{
	struct net_dev *d = dev;

	if (!d)
		return;
	net_model_destroy(d->model);
	if (d->be.destroy)
		d->be.destroy(d->be.be);
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

static int net_dev_create(void **dev, struct vdev **vd, const Moat__Dev__StartRequest *req,
			  struct ipc_fds *fds, const struct vdev_params *vp, char *err,
			  size_t errlen)
{
	struct net_dev *d;
	int tap_fd = -1, rc;

	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	if (is_tap(req) && (tap_fd = ipc_fds_take(fds, req->net->tap->fd_tap)) < 0) {
		snprintf(err, errlen, "start: no tap descriptor");
		rc = -EBADF;
		goto fail;
	}
	rc = make_backend(d, req, &tap_fd, err, errlen);
	if (rc < 0)
		goto fail;
	struct net_params p = {
	    .vdev = *vp,
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
	log_debug("%s backend, %u vectors", is_user(req) ? "user" : "tap", vp->nvectors);
	*dev = d;
	*vd = net_model_vdev(d->model);
	return 0;
fail:
	if (tap_fd >= 0)
		close(tap_fd);
	net_dev_destroy(d);
	return rc;
}

static int net_dev_fds(void *dev, struct pollfd *out, unsigned max, int *timeout_ms)
{
	struct net_dev *d = dev;

	return d->be.fds(d->be.be, out, max, timeout_ms);
}

static void net_dev_polled(void *dev, struct pollfd *p, unsigned n)
{
	struct net_dev *d = dev;

	d->be.polled(d->be.be, p, n);
}

static unsigned net_dev_counters(void *dev, struct dev_counter *out, unsigned max)
{
	struct net_dev *d = dev;
	struct net_stats s;
	unsigned n;

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
	n = net_be_put_counters(out, max, c, sizeof(c) / sizeof(c[0]));
	return n + d->be.counters(d->be.be, out + n, max - n);
}

/* A control request (moat ctl hostfwd add|remove), answered at once
 * (net_control.h). No descriptor is ever kept. */
static int net_dev_control(void *dev, const Moat__Dev__ControlRequest *req, struct ipc_fds *fds,
			   Moat__Dev__ControlResult *res)
{
	struct net_dev *d = dev;
	bool user_error = false;

	(void)fds;
	if (net_control(&d->be, req, d->ctl_err, sizeof(d->ctl_err), &user_error) < 0) {
		res->user_error = user_error;
		if (!user_error)
			log_warn("control %u: %s", req->seq, d->ctl_err);
	}
	res->error = d->ctl_err; /* "" when it worked: dev_answer_control's ok */
	return DEV_CONTROL_DONE;
}

static const struct vdev_kind net_vkind = {
    .name = "net",
    .sandbox = net_dev_sandbox,
    .num_queues = NET_NUM_QUEUES,
    .check = check_config,
    .create = net_dev_create,
    .destroy = net_dev_destroy,
    .fds = net_dev_fds,
    .polled = net_dev_polled,
    .counters = net_dev_counters,
    .control = net_dev_control,
    .restartable = true,
};

int main(void)
{
	return vdev_proc_main(&net_vkind);
}
