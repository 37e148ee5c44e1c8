#include "proto_dev.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "channel.h"
#include "devmsg.h"
#include "kinds.h"
#include "log.h"
#include "proto.h"

/* ---- requests ---- */

/* The virtio part: slot, window, RAM, eventfds. */
struct virtio_buf {
	Moat__Dev__VirtioConfig vio;
	uint32_t notify[VPCI_MAX_QUEUES], irq[VPCI_MAX_VECTORS];
};

static void add_virtio(const struct mon_device *d, const struct mon_config *cfg, int mem_fd,
		       struct virtio_buf *b, int *fds, unsigned *n)
{
	moat__dev__virtio_config__init(&b->vio);
	b->vio.slot = d->slot;
	b->vio.bar0_gpa = d->bar0;
	b->vio.mem_bytes = cfg->mem_bytes;
	b->vio.fd_mem = *n, fds[(*n)++] = mem_fd;
	for (unsigned q = 0; q < d->nq; q++)
		b->notify[q] = *n, fds[(*n)++] = d->notify[q];
	for (unsigned i = 0; i < d->nvec; i++)
		b->irq[i] = *n, fds[(*n)++] = d->irq[i];
	b->vio.n_fd_notify = d->nq;
	b->vio.fd_notify = b->notify;
	b->vio.n_fd_irq = d->nvec;
	b->vio.fd_irq = b->irq;
}

int mon_dev_send_start(struct mon_device *d, const struct mon_config *cfg,
		       const struct mon_resources *r)
{
	Moat__Dev__StartRequest s = MOAT__DEV__START_REQUEST__INIT;
	Moat__Dev__MonitorToDevice env = MOAT__DEV__MONITOR_TO_DEVICE__INIT;
	struct mon_dev_start kind_buf;
	struct virtio_buf vio;
	int fds[IPC_MAX_FDS] = {d->ring_fd, d->doorbell_dev};
	unsigned n = 2;
	int rc;

	s.kind = (char *)d->proc.kind;
	s.name = d->proc.name;
	s.fd_ring = 0;
	s.fd_doorbell = 1;
	s.log_debug = cfg->verbose;
	s.restarts = d->restarts;
	s.paused = d->start_paused;
	if (d->state_fd >= 0) {
		s.has_state = true;
		s.fd_state = n;
		fds[n++] = d->state_fd;
	}
	if (d->nq) {
		add_virtio(d, cfg, r->mem_fd, &vio, fds, &n);
		s.virtio = &vio.vio;
	}
	rc = d->kind->build(d, cfg, r, &s, &kind_buf, fds, &n);
	env.msg_case = MOAT__DEV__MONITOR_TO_DEVICE__MSG_START;
	env.start = &s;
	if (rc == 0)
		rc = ipc_send(d->proc.ctl, &env.base, fds, n);
	explicit_bzero(&kind_buf, sizeof(kind_buf));
	return rc;
}

int mon_dev_send_stats(struct mon_device *d)
{
	Moat__Dev__StatsRequest req = MOAT__DEV__STATS_REQUEST__INIT;
	Moat__Dev__MonitorToDevice env = MOAT__DEV__MONITOR_TO_DEVICE__INIT;
	int rc;

	if (d->proc.ctl < 0 || d->proc.state != MON_PROC_READY)
		return -ENOTCONN;
	env.msg_case = MOAT__DEV__MONITOR_TO_DEVICE__MSG_STATS;
	env.stats = &req;
	rc = ipc_send(d->proc.ctl, &env.base, NULL, 0);
	if (rc == 0) {
		mon_proto_asked(&d->proc);
		d->stats_wait = true;
	}
	return rc;
}

/* Send env (with fds) as a request the device must answer. */
static int ask(struct mon_device *d, Moat__Dev__MonitorToDevice *env, const int *fds, unsigned n)
{
	int rc;

	if (d->proc.ctl < 0 || d->proc.state != MON_PROC_READY)
		return -ENOTCONN;
	rc = ipc_send(d->proc.ctl, &env->base, fds, n);
	if (rc == 0)
		mon_proto_asked(&d->proc);
	return rc;
}

int mon_dev_send_control(struct mon_device *d, Moat__Dev__ControlRequest *req, const int *fds,
			 unsigned nfds)
{
	Moat__Dev__MonitorToDevice env = MOAT__DEV__MONITOR_TO_DEVICE__INIT;

	env.msg_case = MOAT__DEV__MONITOR_TO_DEVICE__MSG_CONTROL;
	env.control = req;
	return ask(d, &env, fds, nfds);
}

int mon_dev_send_pause(struct mon_device *d)
{
	Moat__Dev__PauseRequest req = MOAT__DEV__PAUSE_REQUEST__INIT;
	Moat__Dev__MonitorToDevice env = MOAT__DEV__MONITOR_TO_DEVICE__INIT;
	int rc;

	env.msg_case = MOAT__DEV__MONITOR_TO_DEVICE__MSG_PAUSE;
	env.pause = &req;
	rc = ask(d, &env, NULL, 0);
	if (rc == 0) {
		d->pause_asked = true;
		d->paused = false;
	}
	return rc;
}

int mon_dev_send_resume(struct mon_device *d)
{
	Moat__Dev__ResumeRequest req = MOAT__DEV__RESUME_REQUEST__INIT;
	Moat__Dev__MonitorToDevice env = MOAT__DEV__MONITOR_TO_DEVICE__INIT;

	d->pause_late = d->pause_asked && !d->paused; /* its PAUSED may be on the way */
	d->pause_asked = d->paused = false;
	if (d->proc.ctl < 0 || d->proc.state != MON_PROC_READY)
		return -ENOTCONN;
	env.msg_case = MOAT__DEV__MONITOR_TO_DEVICE__MSG_RESUME;
	env.resume = &req;
	return ipc_send(d->proc.ctl, &env.base, NULL, 0);
}

int mon_dev_send_ping(struct mon_device *d, uint64_t seq)
{
	Moat__Dev__PingRequest req = MOAT__DEV__PING_REQUEST__INIT;
	Moat__Dev__MonitorToDevice env = MOAT__DEV__MONITOR_TO_DEVICE__INIT;
	int rc;

	req.seq = seq;
	env.msg_case = MOAT__DEV__MONITOR_TO_DEVICE__MSG_PING;
	env.ping = &req;
	rc = ask(d, &env, NULL, 0);
	if (rc == 0)
		d->ping_sent = seq;
	return rc;
}

/* ---- what a device may send, and when ---- */

/* READY: sandboxed and serving. Checked against /proc. */
static void mon_answer_ready(void *ctx, const ProtobufCMessage *m)
{
	struct mon_device *d = ctx;
	struct mon_claim claim;

	mon_claim_from(((const Moat__Dev__DeviceToMonitor *)m)->ready->sandbox, &claim);
	mon_proc_check_ready(&d->proc, &claim, NULL);
}

/* START_ERROR: it could not start; kept, made safe, for the caller. */
static void mon_answer_start_error(void *ctx, const ProtobufCMessage *m)
{
	struct mon_device *d = ctx;
	const Moat__Dev__StartError *e = ((const Moat__Dev__DeviceToMonitor *)m)->start_error;

	mon_proc_ending(&d->proc);
	mon_untrusted_line(e->message, d->start_error, sizeof(d->start_error));
	if (!d->start_error[0])
		snprintf(d->start_error, sizeof(d->start_error), "(no reason given)");
	d->start_user_error = e->user_error;
}

/* STATS: its counters, the names checked, kept for moat ctl status and,
 * at the end of the VM, written to the audit trail. */
static void mon_answer_stats(void *ctx, const ProtobufCMessage *m)
{
	struct mon_device *d = ctx;
	const Moat__Dev__StatsResponse *st = ((const Moat__Dev__DeviceToMonitor *)m)->stats;
	struct mon_dev_stats *k = &d->stats;
	char extra[1024];

	d->stats_wait = false;
	k->have = true;
	k->requests = st->requests;
	k->bad_requests = st->bad_requests;
	k->n = 0;
	for (size_t i = 0; i < st->n_counters && k->n < MON_MAX_COUNTERS; i++) {
		const Moat__Dev__Counter *c = st->counters[i];
		if (!c || !mon_counter_name_ok(c->name))
			continue;
		snprintf(k->name[k->n], sizeof(k->name[0]), "%s", c->name);
		k->value[k->n++] = c->value;
	}
	if (!d->audit_stats)
		return;
	mon_counters_format(st, extra, sizeof(extra));
	mon_proc_audit(&d->proc, "child-stats", "requests=%llu bad_requests=%llu%s",
		       (unsigned long long)st->requests, (unsigned long long)st->bad_requests,
		       extra);
}

/* CONTROL_RESULT: the answer to our one outstanding control request, with
 * its seq; kept, made safe, for ctl_ops.c. */
static void mon_answer_control_result(void *ctx, const ProtobufCMessage *m)
{
	struct mon_device *d = ctx;
	const Moat__Dev__ControlResult *r = ((const Moat__Dev__DeviceToMonitor *)m)->control_result;
	struct mon_dev_pending *p = &d->pending;

	if (!p->seq || p->answered || r->seq != p->seq) {
		mon_proc_hostile(&d->proc, "answered a control request it was not asked");
		return;
	}
	p->answered = true;
	p->ok = r->ok;
	p->user_error = r->user_error;
	p->capacity = r->capacity_sectors;
	mon_untrusted_line(r->error, p->error, sizeof(p->error));
	if (!p->ok && !p->error[0])
		snprintf(p->error, sizeof(p->error), "(no reason given)");
}

/* PAUSED: only after our PauseRequest. */
static void mon_answer_paused(void *ctx, const ProtobufCMessage *m)
{
	struct mon_device *d = ctx;

	if (d->pause_late && !d->pause_asked) {
		d->pause_late = false; /* the answer to a pause called off */
		return;
	}
	if (!d->pause_asked || d->paused) {
		mon_proc_hostile(&d->proc, "said it paused unasked");
		return;
	}
	d->paused = true;
}

/* PONG: the watchdog's round, by its number. */
static void mon_answer_pong(void *ctx, const ProtobufCMessage *m)
{
	struct mon_device *d = ctx;
	uint64_t seq = ((const Moat__Dev__DeviceToMonitor *)m)->pong->seq;

	if (seq != d->ping_sent || d->pong == seq) {
		mon_proc_hostile(&d->proc, "answered a ping it was not sent");
		return;
	}
	d->pong = seq;
}

static const struct mon_msg_rule dev_rules[] = {
    /* once, before anything else */
    [MOAT__DEV__DEVICE_TO_MONITOR__MSG_READY] = {"READY", MON_STARTING, 1, false, mon_answer_ready},
    /* only as the answer to our StatsRequest */
    [MOAT__DEV__DEVICE_TO_MONITOR__MSG_STATS] = {"STATS", MON_READY, 0, true, mon_answer_stats},
    /* once, instead of READY */
    [MOAT__DEV__DEVICE_TO_MONITOR__MSG_START_ERROR] = {"START_ERROR", MON_STARTING, 1, false,
						       mon_answer_start_error},
    /* only as answers, each checked against what we asked */
    [MOAT__DEV__DEVICE_TO_MONITOR__MSG_CONTROL_RESULT] = {"CONTROL_RESULT", MON_READY, 0, true,
							  mon_answer_control_result},
    [MOAT__DEV__DEVICE_TO_MONITOR__MSG_PAUSED] = {"PAUSED", MON_READY, 0, true, mon_answer_paused},
    [MOAT__DEV__DEVICE_TO_MONITOR__MSG_PONG] = {"PONG", MON_READY, 0, true, mon_answer_pong},
};

void mon_dev_dispatch(struct mon_device *d)
{
	MON_PROTO_SERVE(&d->proc, &moat__dev__device_to_monitor__descriptor, dev_rules, d);
}
