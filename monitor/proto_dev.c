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
	if (rc == 0)
		mon_proto_asked(&d->proc);
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

/* STATS: its counters, the names checked, into the audit trail. */
static void mon_answer_stats(void *ctx, const ProtobufCMessage *m)
{
	struct mon_device *d = ctx;
	const Moat__Dev__StatsResponse *st = ((const Moat__Dev__DeviceToMonitor *)m)->stats;
	char extra[1024];

	mon_counters_format(st, extra, sizeof(extra));
	mon_proc_audit(&d->proc, "child-stats", "requests=%llu bad_requests=%llu%s",
		       (unsigned long long)st->requests, (unsigned long long)st->bad_requests,
		       extra);
}

static const struct mon_msg_rule dev_rules[] = {
    /* once, before anything else */
    [MOAT__DEV__DEVICE_TO_MONITOR__MSG_READY] = {"READY", MON_STARTING, 1, false, mon_answer_ready},
    /* only as the answer to our StatsRequest */
    [MOAT__DEV__DEVICE_TO_MONITOR__MSG_STATS] = {"STATS", MON_READY, 0, true, mon_answer_stats},
    /* once, instead of READY */
    [MOAT__DEV__DEVICE_TO_MONITOR__MSG_START_ERROR] = {"START_ERROR", MON_STARTING, 1, false,
						       mon_answer_start_error},
};

void mon_dev_dispatch(struct mon_device *d)
{
	MON_PROTO_SERVE(&d->proc, &moat__dev__device_to_monitor__descriptor, dev_rules, d);
}
