#include "devices.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "channel.h"
#include "device.pb-c.h"
#include "devmsg.h"
#include "ioring.h"
#include "log.h"
#include "guest_layout.h"
#include "paths.h"

#define READY_TIMEOUT_MS 60000
#define SMC_PIO_BASE     0x300
#define SMC_PIO_LEN      0x20

static void kill_child(struct mon_child *c)
{
	if (c->pidfd >= 0)
		syscall(SYS_pidfd_send_signal, c->pidfd, SIGKILL, NULL, 0);
}

#define BLK_QUEUES  1
#define BLK_VECTORS 2 /* configuration changes, the request queue */
#define NET_QUEUES  2 /* receiveq, transmitq */
#define NET_VECTORS 3 /* configuration changes, one per queue */

/* The virtio part of a start request: slot, window, RAM, eventfds. */
static void add_virtio(const struct mon_device *d, const struct mon_config *cfg, int mem_fd,
		       Moat__Dev__VirtioConfig *v, uint32_t *idx_notify, uint32_t *idx_irq,
		       int *fds, unsigned *n)
{
	v->slot = d->slot;
	v->bar0_gpa = d->bar0;
	v->mem_bytes = cfg->mem_bytes;
	v->fd_mem = *n, fds[(*n)++] = mem_fd;
	for (unsigned q = 0; q < d->nq; q++)
		idx_notify[q] = *n, fds[(*n)++] = d->notify[q];
	for (unsigned i = 0; i < d->nvec; i++)
		idx_irq[i] = *n, fds[(*n)++] = d->irq[i];
	v->n_fd_notify = d->nq;
	v->fd_notify = idx_notify;
	v->n_fd_irq = d->nvec;
	v->fd_irq = idx_irq;
}

/* The virtio-net part: MAC, and slirp's settings or the tap. */
struct net_start {
	Moat__Dev__NetConfig net;
	Moat__Dev__NetUser user;
	Moat__Dev__NetTap tap;
	Moat__Dev__NetForward fwd[NETOPT_MAX_FWD];
	Moat__Dev__NetForward *fwdp[NETOPT_MAX_FWD];
	uint8_t mac[6];
};

static void add_net(const struct mon_device *d, struct net_start *ns, int *fds, unsigned *n)
{
	const struct netopt *o = d->net;

	moat__dev__net_config__init(&ns->net);
	memcpy(ns->mac, o->mac, 6);
	ns->net.mac.data = ns->mac;
	ns->net.mac.len = 6;
	if (o->kind == NETOPT_TAP) {
		moat__dev__net_tap__init(&ns->tap);
		ns->tap.fd_tap = *n, fds[(*n)++] = d->tap_fd;
		ns->tap.ifname = (char *)o->ifname;
		ns->net.backend_case = MOAT__DEV__NET_CONFIG__BACKEND_TAP;
		ns->net.tap = &ns->tap;
		return;
	}
	moat__dev__net_user__init(&ns->user);
	ns->user.restricted = o->restricted;
	ns->user.dns_upstream = d->dns_upstream;
	for (unsigned i = 0; i < o->nfwd; i++) {
		moat__dev__net_forward__init(&ns->fwd[i]);
		ns->fwd[i].udp = o->fwd[i].proto == NETOPT_UDP;
		ns->fwd[i].host_addr = o->fwd[i].host_addr;
		ns->fwd[i].host_port = o->fwd[i].host_port;
		ns->fwd[i].guest_addr = o->fwd[i].guest_addr;
		ns->fwd[i].guest_port = o->fwd[i].guest_port;
		ns->fwdp[i] = &ns->fwd[i];
	}
	ns->user.n_fwd = o->nfwd;
	ns->user.fwd = ns->fwdp;
	ns->net.backend_case = MOAT__DEV__NET_CONFIG__BACKEND_USER;
	ns->net.user = &ns->user;
}

static int send_start(struct mon_device *d, const struct mon_config *cfg, int mem_fd)
{
	struct net_start ns;
	Moat__Dev__StartRequest s = MOAT__DEV__START_REQUEST__INIT;
	Moat__Dev__SmcConfig smc = MOAT__DEV__SMC_CONFIG__INIT;
	Moat__Dev__BlkConfig blk = MOAT__DEV__BLK_CONFIG__INIT;
	Moat__Dev__VirtioConfig vio = MOAT__DEV__VIRTIO_CONFIG__INIT;
	Moat__Dev__MonitorToDevice env = MOAT__DEV__MONITOR_TO_DEVICE__INIT;
	uint32_t idx_notify[VPCI_MAX_QUEUES], idx_irq[VPCI_MAX_VECTORS];
	int fds[IPC_MAX_FDS] = {d->ring_fd, d->doorbell_dev};
	unsigned n = 2;

	s.kind = (char *)d->kind;
	s.name = d->name;
	s.fd_ring = 0;
	s.fd_doorbell = 1;
	s.log_debug = cfg->verbose;
	if (d->pci) {
		add_virtio(d, cfg, mem_fd, &vio, idx_notify, idx_irq, fds, &n);
		s.virtio = &vio;
	}
	if (d->disk) {
		blk.fd_image = n, fds[n++] = d->disk_fd;
		blk.read_only = d->disk->ro;
		blk.serial = (char *)d->disk->serial;
		s.config_case = MOAT__DEV__START_REQUEST__CONFIG_BLK;
		s.blk = &blk;
	}
	if (d->net) {
		add_net(d, &ns, fds, &n);
		s.config_case = MOAT__DEV__START_REQUEST__CONFIG_NET;
		s.net = &ns.net;
	}
	if (strcmp(d->kind, "smc") == 0) {
		smc.osk.data = (uint8_t *)cfg->smc_osk;
		smc.osk.len = sizeof(cfg->smc_osk);
		s.config_case = MOAT__DEV__START_REQUEST__CONFIG_SMC;
		s.smc = &smc;
	}
	env.msg_case = MOAT__DEV__MONITOR_TO_DEVICE__MSG_START;
	env.start = &s;
	return ipc_send(d->ctl, &env.base, fds, n);
}

static void audit_ready(const struct mon_device *d, const Moat__Dev__ReadyEvent *r)
{
	const Moat__Sandbox__SandboxReport *s = r->sandbox;

	if (!s) {
		mon_audit("child-ready", "child=%s pid=%d sandbox=unreported", d->name,
			  (int)d->child.pid);
		return;
	}
	mon_audit("child-ready",
		  "child=%s kind=%s pid=%d uid=%u caps=%s no_new_privs=%d seccomp=%u "
		  "syscalls=%u namespaces=%s",
		  d->name, d->kind, (int)d->child.pid, s->uid, s->caps_all_zero ? "none" : "SOME",
		  s->no_new_privs, s->seccomp_mode, s->policy_syscalls,
		  s->namespaces ? s->namespaces : "?");
}

/* Wait for READY, watching the child's pidfd so a crash during start-up is
 * seen at once rather than after the timeout. */
static int wait_ready(struct mon_device *d, char *err, size_t errlen)
{
	struct timespec t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd p[2] = {{.fd = d->ctl, .events = POLLIN},
				      {.fd = d->child.pidfd, .events = POLLIN}};
		ProtobufCMessage *m = NULL;
		struct ipc_fds fds;
		struct timespec t;
		int rc;

		clock_gettime(CLOCK_MONOTONIC, &t);
		long spent = (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
		if (spent >= READY_TIMEOUT_MS)
			return -ETIMEDOUT;
		if (poll(p, 2, READY_TIMEOUT_MS - spent) < 0 && errno != EINTR)
			return -errno;
		rc = ipc_recv(d->ctl, &moat__dev__device_to_monitor__descriptor, &m, &fds);
		if (rc == -EAGAIN) {
			if (p[1].revents)
				return -ECHILD;
			continue;
		}
		if (rc < 0)
			return rc;
		ipc_fds_close(&fds);
		Moat__Dev__DeviceToMonitor *env = (Moat__Dev__DeviceToMonitor *)m;
		rc = -EPROTO;
		if (env->msg_case == MOAT__DEV__DEVICE_TO_MONITOR__MSG_READY) {
			audit_ready(d, env->ready);
			rc = 0;
		} else if (env->msg_case == MOAT__DEV__DEVICE_TO_MONITOR__MSG_START_ERROR) {
			/* the device's own words, made safe to print */
			mon_devmsg_line(env->start_error->message, err, errlen);
			rc = env->start_error->user_error ? -EINVAL : -EIO;
		}
		protobuf_c_message_free_unpacked(m, NULL);
		return rc;
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

static int start_one(struct mon_device *d, const struct mon_config *cfg, int mem_fd, char *err,
		     size_t errlen)
{
	char exe[4096], argv0[32], builddir[48];
	int ctl[2];
	int rc;

	snprintf(argv0, sizeof(argv0), "moat-%s", d->kind);
	snprintf(builddir, sizeof(builddir), "devproc/%s", d->kind);
	rc = mon_find_child_exe(argv0, builddir, exe, sizeof(exe));
	if (rc < 0)
		return log_error_errno(rc, "cannot find the %s executable", argv0);
	/* The doorbell is a socketpair, not an eventfd: see ioring.h. */
	int db[2] = {-1, -1};
	d->ring_fd = ioring_create_fd(cfg->cpus);
	if (d->ring_fd < 0 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, db) < 0)
		return log_error_errno(d->ring_fd < 0 ? d->ring_fd : -errno,
				       "Failed to create the I/O ring of %s: %m", d->name);
	d->doorbell = db[0];
	d->doorbell_dev = db[1];
	rc = ipc_channel_pair(ctl);
	if (rc < 0)
		return rc;
	char *argv[] = {argv0, NULL};
	/* slirp makes host sockets for the guest: only it keeps the host's
	 * network namespace (a tap is a descriptor, and needs none) */
	struct mon_spawn_args sa = {.path = exe, .argv = argv, .fds = &ctl[1], .nfds = 1,
				    .keep_net = d->net && d->net->kind == NETOPT_USER};
	mon_child_uid(getpid(), &sa.uid);
	sa.gid = sa.uid;
	rc = mon_spawn(&sa, &d->child);
	close(ctl[1]);
	d->ctl = ctl[0];
	if (rc < 0)
		return log_error_errno(rc, "Failed to start %s: %m", argv0);
	d->alive = true;
	if (d->pci && (rc = make_eventfds(d)) < 0)
		return log_error_errno(rc, "Failed to create the eventfds of %s: %m", d->name);
	rc = send_start(d, cfg, mem_fd);
	close(d->doorbell_dev); /* the device's end is the device's alone */
	d->doorbell_dev = -1;
	if (rc == 0)
		rc = wait_ready(d, err, errlen);
	if (rc == -EINVAL || rc == -EIO) {
		/* It said why and is on its way out: reap it quietly. */
		kill_child(&d->child);
		waitid(P_PIDFD, d->child.pidfd, &(siginfo_t){0}, WEXITED);
		d->alive = false;
		if (rc == -EINVAL)
			return rc; /* the user's configuration: the caller says so */
		return log_error_errno(rc, "%s (%s) did not start: %s", d->name, argv0, err);
	}
	if (rc < 0) {
		siginfo_t si = {0};
		char how[128];
		/* Say how it died when it did: usually the clearest clue. */
		if ((rc == -ECHILD || rc == -EPIPE) &&
		    waitid(P_PIDFD, d->child.pidfd, &si, WEXITED) == 0 && si.si_pid) {
			d->alive = false;
			mon_describe_death(&si, d->child.pid, how, sizeof(how));
			mon_audit("child-died", "child=%s kind=%s pid=%d %s", d->name, d->kind,
				  (int)d->child.pid, how);
			return log_error_errno(rc, "%s (%s) %s while starting", d->name, argv0, how);
		}
		return log_error_errno(rc, "%s (%s) did not start: %s", d->name, argv0,
				       strerror(-rc));
	}
	log_debug("%s (%s) is pid %d", d->name, argv0, (int)d->child.pid);
	return 0;
}

static struct mon_device *new_device(struct mon_devices *devs, const char *kind)
{
	struct mon_device *d = &devs->d[devs->n++];

	*d = (struct mon_device){.kind = kind, .ctl = -1, .ring_fd = -1, .doorbell = -1,
				 .doorbell_dev = -1, .disk_fd = -1, .tap_fd = -1,
				 .child = {.pidfd = -1}};
	for (unsigned i = 0; i < VPCI_MAX_QUEUES; i++)
		d->notify[i] = -1;
	for (unsigned i = 0; i < VPCI_MAX_VECTORS; i++)
		d->irq[i] = -1;
	return d;
}

int mon_devices_start(const struct mon_config *cfg, const struct mon_resources *res,
		      struct mon_devices *devs, char *err, size_t errlen)
{
	unsigned slot = 1;
	int rc = 0;

	devs->n = 0;
	if (cfg->smc) {
		struct mon_device *d = new_device(devs, "smc");
		d->pio_base = SMC_PIO_BASE;
		d->pio_len = SMC_PIO_LEN;
		snprintf(d->name, sizeof(d->name), "smc0");
		rc = start_one(d, cfg, res->mem_fd, err, errlen);
	}
	for (unsigned i = 0; rc == 0 && i < cfg->ndisks; i++) {
		struct mon_device *d = new_device(devs, "blk");
		snprintf(d->name, sizeof(d->name), "%s", cfg->disks[i].id);
		d->pci = true;
		d->slot = slot++;
		d->bar0 = VPCI_WINDOW(MOAT_PCI_MMIO_GPA, d->slot);
		d->nq = BLK_QUEUES;
		d->nvec = BLK_VECTORS;
		d->disk = &cfg->disks[i];
		d->disk_fd = res->disk_fd[i];
		rc = start_one(d, cfg, res->mem_fd, err, errlen);
	}
	for (unsigned i = 0; rc == 0 && i < cfg->nnets; i++) {
		struct mon_device *d = new_device(devs, "net");
		snprintf(d->name, sizeof(d->name), "%s", cfg->nets[i].id);
		d->pci = true;
		d->slot = slot++;
		d->bar0 = VPCI_WINDOW(MOAT_PCI_MMIO_GPA, d->slot);
		d->nq = NET_QUEUES;
		d->nvec = NET_VECTORS;
		d->net = &cfg->nets[i];
		d->tap_fd = res->tap_fd[i];
		d->dns_upstream = res->dns_upstream;
		rc = start_one(d, cfg, res->mem_fd, err, errlen);
	}
	if (rc < 0)
		mon_devices_stop(devs);
	return rc;
}

static void audit_stats(const struct mon_device *d, const Moat__Dev__StatsResponse *st)
{
	char extra[1024];

	mon_counters_format(st, extra, sizeof(extra));
	mon_audit("child-stats", "child=%s requests=%llu bad_requests=%llu%s", d->name,
		  (unsigned long long)st->requests, (unsigned long long)st->bad_requests, extra);
}

void mon_device_dispatch(struct mon_device *d)
{
	ProtobufCMessage *m = NULL;
	struct ipc_fds fds;
	int rc = ipc_recv(d->ctl, &moat__dev__device_to_monitor__descriptor, &m, &fds);

	if (rc == -EAGAIN)
		return;
	if (rc == 0) {
		ipc_fds_close(&fds);
		Moat__Dev__DeviceToMonitor *env = (Moat__Dev__DeviceToMonitor *)m;
		if (env->msg_case == MOAT__DEV__DEVICE_TO_MONITOR__MSG_STATS && !fds.n)
			audit_stats(d, env->stats);
		else
			rc = -EPROTO;
		protobuf_c_message_free_unpacked(m, NULL);
	}
	if (rc < 0) {
		/* A device that sends garbage is not trusted again. */
		if (rc != -EPIPE)
			log_warn_errno(rc, "%s sent a bad control message (%m); ending it", d->name);
		close(d->ctl);
		d->ctl = -1;
		if (rc != -EPIPE)
			kill_child(&d->child);
	}
}

void mon_device_reap(struct mon_device *d)
{
	siginfo_t si = {0};
	char how[128];

	if (!d->alive)
		return;
	if (waitid(P_PIDFD, d->child.pidfd, &si, WEXITED | WNOHANG) < 0 || si.si_pid == 0)
		return;
	d->alive = false;
	mon_describe_death(&si, d->child.pid, how, sizeof(how));
	log_warn("device %s (moat-%s, pid %d) %s; the VM continues without it", d->name, d->kind,
		 (int)d->child.pid, how);
	mon_audit("child-died", "child=%s kind=%s pid=%d %s", d->name, d->kind, (int)d->child.pid,
		  how);
	if (d->ctl >= 0)
		close(d->ctl);
	d->ctl = -1;
	close(d->child.pidfd);
	d->child.pidfd = -1;
}

/* Ask every live device for its counters and record them, waiting a
 * moment for the answers (a device that does not answer is not waited
 * for: it is about to be killed anyway). */
static void collect_stats(struct mon_devices *devs)
{
	Moat__Dev__StatsRequest req = MOAT__DEV__STATS_REQUEST__INIT;
	Moat__Dev__MonitorToDevice env = MOAT__DEV__MONITOR_TO_DEVICE__INIT;
	unsigned asked = 0;

	env.msg_case = MOAT__DEV__MONITOR_TO_DEVICE__MSG_STATS;
	env.stats = &req;
	for (unsigned i = 0; i < devs->n; i++)
		if (devs->d[i].alive && devs->d[i].ctl >= 0 &&
		    ipc_send(devs->d[i].ctl, &env.base, NULL, 0) == 0)
			asked++;
	for (unsigned i = 0; i < devs->n && asked; i++) {
		struct mon_device *d = &devs->d[i];
		struct pollfd p = {.fd = d->ctl, .events = POLLIN};
		if (!d->alive || d->ctl < 0 || poll(&p, 1, 200) <= 0)
			continue;
		mon_device_dispatch(d);
	}
}

void mon_devices_stop(struct mon_devices *devs)
{
	collect_stats(devs);
	for (unsigned i = 0; i < devs->n; i++) {
		struct mon_device *d = &devs->d[i];
		if (d->alive) {
			kill_child(&d->child);
			waitid(P_PIDFD, d->child.pidfd, &(siginfo_t){0}, WEXITED);
			d->alive = false;
		}
		if (d->child.pidfd >= 0)
			close(d->child.pidfd);
		if (d->ctl >= 0)
			close(d->ctl);
		if (d->ring_fd >= 0)
			close(d->ring_fd);
		if (d->doorbell >= 0)
			close(d->doorbell);
		if (d->doorbell_dev >= 0)
			close(d->doorbell_dev);
		for (unsigned q = 0; q < d->nq; q++)
			if (d->notify[q] >= 0)
				close(d->notify[q]);
		for (unsigned v = 0; v < d->nvec; v++)
			if (d->irq[v] >= 0)
				close(d->irq[v]);
		/* disk_fd belongs to the resources: the lock lives as long as moat. */
	}
	devs->n = 0;
}
