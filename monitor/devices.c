#include "devices.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "channel.h"
#include "devstate.h"
#include "guest_layout.h"
#include "ioring.h"
#include "kinds.h"
#include "log.h"
#include "paths.h"
#include "proto_dev.h"

#define READY_TIMEOUT_MS 60000
#define STATS_WAIT_MS	 200

/* Where d's start stands: 1 still starting; 0 READY; -EINVAL (the
 * user's configuration: d->start_error says why), -EIO (it could not
 * start), -ECHILD (it died, hung up or was cut off). */
static int start_state(const struct mon_device *d)
{
	if (d->proc.state == MON_PROC_STARTING && !d->proc.hostile)
		return d->proc.ctl < 0 ? -ECHILD : 1; /* hung up before READY */
	if (d->proc.state == MON_PROC_READY)
		return 0;
	if (d->proc.state == MON_PROC_ENDING)
		return d->start_user_error ? -EINVAL : -EIO;
	return -ECHILD;
}

/* Wait until every device of devs is READY, in one poll over each one's
 * control channel, pidfd and log, so that they start side by side and a
 * crash during start-up is seen at once. Returns 0; or, for the first
 * device that fails (*failed), one of start_state()'s errors, -ETIMEDOUT
 * (the first still starting when the time is up), or poll's -errno. */
static int wait_all_ready(struct mon_devices *devs, struct mon_device **failed)
{
	int64_t give_up = mon_now_ms() + READY_TIMEOUT_MS;
	struct pollfd p[3 * MON_MAX_DEVICES];
	struct mon_device *who[MON_MAX_DEVICES];

	for (;;) {
		unsigned n = 0;
		int64_t left;

		for (unsigned i = 0; i < devs->n; i++) {
			struct mon_device *d = &devs->d[i];
			int st = start_state(d);
			if (st < 0) {
				*failed = d;
				return st;
			}
			if (st == 0)
				continue;
			p[3 * n] = (struct pollfd){.fd = d->proc.ctl, .events = POLLIN};
			p[3 * n + 1] = (struct pollfd){.fd = d->proc.child.pidfd, .events = POLLIN};
			p[3 * n + 2] = (struct pollfd){.fd = d->proc.log.fd, .events = POLLIN};
			who[n++] = d;
		}
		if (n == 0)
			return 0;
		left = give_up - mon_now_ms();
		if (left <= 0) {
			*failed = who[0];
			return -ETIMEDOUT;
		}
		if (poll(p, 3 * n, (int)left) < 0 && errno != EINTR) {
			*failed = who[0];
			return -errno;
		}
		for (unsigned i = 0; i < n; i++) {
			struct mon_device *d = who[i];
			if (p[3 * i + 2].revents && !mon_childlog_relay(&d->proc.log, d->proc.name))
				mon_childlog_close(&d->proc.log, d->proc.name);
			/* its last message (an error) before its death */
			if (p[3 * i].revents) {
				mon_dev_dispatch(d);
			} else if (p[3 * i + 1].revents) {
				*failed = d;
				return -ECHILD;
			}
		}
	}
}

/* KVM's side of a virtio-pci device: one eventfd per queue (ioeventfd:
 * KVM signals it on a notify write) and one per vector (irqfd: the device
 * signals it, KVM injects the MSI). Both processes get each. */
static int make_eventfds(struct mon_device *d)
{
	for (unsigned q = 0; q < d->nq; q++)
		if ((d->notify[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0)
			return -errno;
	for (unsigned v = 0; v < d->nvec; v++)
		if ((d->irq[v] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0)
			return -errno;
	return 0;
}

/* The doorbell of d's ring: a socketpair, not an eventfd (see ioring.h);
 * a new one for every process of the device. */
static int make_doorbell(struct mon_device *d)
{
	int db[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, db) < 0)
		return -errno;
	d->doorbell = db[0];
	d->doorbell_dev = db[1];
	return 0;
}

/* The ring, its doorbell and, for a kind that can be restarted, the
 * state file its processes share (restart.h). */
static int make_ring(struct mon_device *d, unsigned cpus)
{
	d->ring_fd = ioring_create_fd(cpus);
	if (d->ring_fd < 0)
		return d->ring_fd;
	/* a virtio device's queues keep their in-flight records there too */
	if (d->kind->restartable &&
	    (d->state_fd = devstate_create_fd(d->nq * DEVSTATE_LIVE_PER_QUEUE)) < 0)
		return d->state_fd;
	return make_doorbell(d);
}

/* Say why d did not start, in the user's terms. */
static int start_failed(struct mon_device *d, int rc, char *err, size_t errlen)
{
	const char *exe = d->kind->name;
	char how[128] = "";

	if (rc == -EINVAL) {
		snprintf(err, errlen, "%s", d->start_error);
		mon_proc_release(&d->proc);
		return rc; /* the user's configuration: the caller says so */
	}
	if (rc == -EIO) {
		log_error("%s (moat-%s) did not start: %s", d->proc.name, exe, d->start_error);
		mon_proc_release(&d->proc);
		return rc;
	}
	if (mon_proc_reap(&d->proc, rc == -ECHILD)) {
		mon_describe_death(&d->proc.death, d->proc.child.pid, how, sizeof(how));
		return log_error_errno(rc, "%s (moat-%s) %s while starting", d->proc.name, exe,
				       how);
	}
	return log_error_errno(rc, "%s (moat-%s) did not start: %m", d->proc.name, exe);
}

/* Spawn d's process and send it its StartRequest (its ring, doorbell and
 * eventfds made). 0 or -errno (logged). */
static int launch(struct mon_device *d, const struct mon_config *cfg,
		  const struct mon_resources *res)
{
	int ctl[2] = {-1, -1};
	int rc = ipc_channel_pair(ctl);

	if (rc < 0)
		return log_error_errno(rc, "Failed to set up %s: %m", d->proc.name);
	rc = mon_proc_spawn(&d->proc, ctl[1]);
	close(ctl[1]);
	if (rc < 0) {
		close(ctl[0]);
		return rc;
	}
	d->proc.ctl = ctl[0];
	rc = mon_dev_send_start(d, cfg, res);
	close(d->doorbell_dev); /* the device's end is the device's alone */
	d->doorbell_dev = -1;
	if (rc < 0)
		return log_error_errno(rc, "Failed to send %s its start request: %m", d->proc.name);
	return 0;
}

/* d's ring, doorbell and eventfds: what moat-vcpu's StartRequest hands
 * over of it, made before either process exists. 0 or -errno (logged). */
static int prepare_one(struct mon_device *d, const struct mon_config *cfg)
{
	int rc = make_ring(d, cfg->cpus);

	if (rc == 0 && d->nq)
		rc = make_eventfds(d);
	if (rc < 0)
		return log_error_errno(rc, "Failed to set up %s: %m", d->proc.name);
	return 0;
}

int mon_device_respawn(struct mon_device *d, const struct mon_config *cfg,
		       const struct mon_resources *res, struct mon_cgroup *cg)
{
	struct mon_proc *p = &d->proc;
	char name[sizeof(p->name)];
	int rc;

	/* the dead process may have left anything in the ring */
	rc = ioring_reset_fd(d->ring_fd);
	if (rc < 0)
		return log_error_errno(rc, "Failed to reset the ring of %s: %m", p->name);
	if (d->doorbell >= 0)
		close(d->doorbell);
	d->doorbell = -1;
	rc = make_doorbell(d);
	if (rc < 0)
		return log_error_errno(rc, "Failed to make a doorbell for %s: %m", p->name);
	/* a new child in the same entry: the same name, kind, policy, uid */
	mon_proc_release(p);
	snprintf(name, sizeof(name), "%s", p->name);
	mon_proc_init(p, name, p->kind, p->policy);
	p->uid = d->uid;
	p->host_net = d->host_net;
	p->cgroup_fd = mon_cgroup_leaf(cg, p->name);
	/* the new process was asked nothing: no pause, and no late PAUSED */
	d->pause_asked = d->paused = d->pause_late = false;
	d->restarts++;
	return launch(d, cfg, res);
}

static struct mon_device *new_device(struct mon_devices *devs, const struct mon_kind *k,
				     const struct mon_config *cfg, unsigned index)
{
	struct mon_device *d = &devs->d[devs->n++];
	unsigned nq = k->queues ? k->queues(cfg, index) : k->nq;

	*d = (struct mon_device){.kind = k,
				 .index = index,
				 .ring_fd = -1,
				 .doorbell = -1,
				 .doorbell_dev = -1,
				 .state_fd = -1,
				 .pio_base = k->pio_base,
				 .pio_len = k->pio_len,
				 .nq = nq,
				 .nvec = k->queues ? 1 + nq : k->nvec,
				 .pending = {.new_fd = -1}};
	for (unsigned i = 0; i < VPCI_MAX_QUEUES; i++)
		d->notify[i] = -1;
	for (unsigned i = 0; i < VPCI_MAX_VECTORS; i++)
		d->irq[i] = -1;
	return d;
}

int mon_devices_prepare(const struct mon_config *cfg, uid_t uid_base, struct mon_cgroup *cg,
			struct mon_devices *devs)
{
	unsigned slot = VPCI_FIRST_SLOT; /* after the chipset's 00:00.0 and 00:01.x */
	int rc = 0;

	devs->n = 0;
	for (unsigned k = 0; k < mon_nkinds && rc == 0; k++) {
		const struct mon_kind *kind = &mon_kinds[k];
		unsigned n = kind->count(cfg);
		for (unsigned i = 0; i < n && rc == 0; i++) {
			if (devs->n == MON_MAX_DEVICES || n > kind->max)
				return -E2BIG; /* options.c refuses this first */
			struct mon_device *d = new_device(devs, kind, cfg, i);
			kind->bind(d, cfg, i);
			d->proc.uid = uid_base + devs->n; /* moat-vcpu has uid_base */
			d->uid = d->proc.uid;
			d->host_net = d->proc.host_net;
			d->proc.cgroup_fd = mon_cgroup_leaf(cg, d->proc.name);
			if (kind->slots) {
				d->slot = slot;
				slot += kind->slots;
				d->bar0 = VPCI_WINDOW(MOAT_PCI_MMIO_GPA, d->slot);
			}
			rc = prepare_one(d, cfg);
		}
	}
	if (rc < 0)
		mon_devices_stop(devs);
	return rc;
}

int mon_devices_launch(const struct mon_config *cfg, const struct mon_resources *res,
		       struct mon_devices *devs)
{
	int rc = 0;

	for (unsigned i = 0; i < devs->n && rc == 0; i++)
		rc = launch(&devs->d[i], cfg, res);
	if (rc < 0)
		mon_devices_stop(devs);
	return rc;
}

int mon_devices_wait_ready(struct mon_devices *devs, char *err, size_t errlen)
{
	struct mon_device *failed = NULL;
	int rc = wait_all_ready(devs, &failed);

	if (rc < 0) {
		rc = start_failed(failed, rc, err, errlen);
		mon_devices_stop(devs);
	}
	return rc;
}

/* Ask every serving device for its counters and record the answers,
 * waiting a moment for each (one that does not answer is not waited for:
 * it is about to be killed anyway). */
static void collect_stats(struct mon_devices *devs)
{
	for (unsigned i = 0; i < devs->n; i++) {
		devs->d[i].audit_stats = true;
		mon_dev_send_stats(&devs->d[i]);
	}
	for (unsigned i = 0; i < devs->n; i++) {
		struct mon_device *d = &devs->d[i];
		struct pollfd p = {.fd = d->proc.ctl, .events = POLLIN};
		if (d->proc.requests && d->proc.ctl >= 0 && poll(&p, 1, STATS_WAIT_MS) > 0)
			mon_dev_dispatch(d);
	}
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void mon_devices_stop(struct mon_devices *devs)
{
	collect_stats(devs);
	for (unsigned i = 0; i < devs->n; i++) {
		struct mon_device *d = &devs->d[i];
		mon_proc_release(&d->proc);
		close_fd(&d->ring_fd);
		close_fd(&d->doorbell);
		close_fd(&d->doorbell_dev);
		close_fd(&d->state_fd);
		for (unsigned q = 0; q < d->nq; q++)
			close_fd(&d->notify[q]);
		for (unsigned v = 0; v < d->nvec; v++)
			close_fd(&d->irq[v]);
		close_fd(&d->pending.new_fd);
		free(d->pending.path);
		free(d->backend);
		free(d->fwd);
		/* the image and tap belong to the resources: the lock lives as
		 * long as moat */
	}
	devs->n = 0;
}
