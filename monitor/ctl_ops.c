#include "ctl_ops.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "config.h"
#include "devmsg.h"
#include "kinds.h"
#include "log.h"
#include "proto_dev.h"
#include "proto_vcpu.h"
#include "resources.h"
#include "vmstate.h"

static void reply_ok(struct mon_vm *vm, struct mon_ctl_who who)
{
	Moat__Ctl__Reply r = MOAT__CTL__REPLY__INIT;

	r.ok = true;
	mon_control_reply(&vm->ctl, who, &r);
}

/* A device that serves: spawned, READY, not detached. */
static bool serving(const struct mon_device *d)
{
	return d->proc.state == MON_PROC_READY && !d->detached;
}

static uint32_t next_seq(struct mon_vm *vm)
{
	if (++vm->cs.next_seq == 0)
		vm->cs.next_seq = 1;
	return vm->cs.next_seq;
}

/* ---- status ---- */

static const char *proc_state(const struct mon_vm *vm, const struct mon_proc *p)
{
	switch (p->state) {
	case MON_PROC_STARTING:
		return "starting";
	case MON_PROC_READY:
		return vm->cs.run == MON_VM_PAUSED ? "paused" : "running";
	case MON_PROC_ENDING:
		return "ending";
	default:
		return "dead";
	}
}

static const char *vm_state(const struct mon_vm *vm)
{
	if (vm->stop_sent)
		return "stopping";
	if (vm->button_sent)
		return "shutting-down";
	switch (vm->cs.run) {
	case MON_VM_PAUSING:
		return "pausing";
	case MON_VM_PAUSED:
		return "paused";
	default:
		return vm->vcpu.state == MON_PROC_READY ? "running" : "starting";
	}
}

/* What a device runs on: a disk's image, a card's backend. */
static void backend_of(const struct mon_vm *vm, const struct mon_device *d, char *buf, size_t len)
{
	const char *kind = d->kind->name;

	buf[0] = 0;
	if (strcmp(kind, "blk") == 0)
		snprintf(buf, len, "%s", d->backend ? d->backend : vm->cfg->disks[d->index].path);
	else if (strcmp(kind, "net") == 0 && vm->cfg->nets[d->index].kind == NETOPT_TAP)
		snprintf(buf, len, "tap:%s", vm->cfg->nets[d->index].ifname);
	else if (strcmp(kind, "net") == 0)
		snprintf(buf, len, "user");
}

/* Storage for one process of the status reply. */
struct proc_buf {
	Moat__Ctl__Process p;
	Moat__Ctl__Counter c[2 + MON_MAX_COUNTERS];
	Moat__Ctl__Counter *cp[2 + MON_MAX_COUNTERS];
	char backend[4096];
};

static void fill_process(const struct mon_vm *vm, const struct mon_proc *proc,
			 const struct mon_device *d, struct proc_buf *b)
{
	moat__ctl__process__init(&b->p);
	b->p.kind = (char *)proc->kind;
	b->p.id = (char *)proc->name;
	b->p.pid = proc->state == MON_PROC_GONE ? 0 : (int32_t)proc->child.pid;
	b->p.state = (char *)proc_state(vm, proc);
	b->p.backend = b->backend;
	b->backend[0] = 0;
	if (!d)
		return;
	backend_of(vm, d, b->backend, sizeof(b->backend));
	if (!d->stats.have)
		return;
	unsigned n = 0;
	moat__ctl__counter__init(&b->c[n]);
	b->c[n].name = "requests";
	b->c[n++].value = d->stats.requests;
	moat__ctl__counter__init(&b->c[n]);
	b->c[n].name = "bad_requests";
	b->c[n++].value = d->stats.bad_requests;
	for (unsigned i = 0; i < d->stats.n; i++, n++) {
		moat__ctl__counter__init(&b->c[n]);
		b->c[n].name = (char *)d->stats.name[i];
		b->c[n].value = d->stats.value[i];
	}
	for (unsigned i = 0; i < n; i++)
		b->cp[i] = &b->c[i];
	b->p.n_counters = n;
	b->p.counters = b->cp;
}

static void answer_status(struct mon_vm *vm, struct mon_ctl_who who)
{
	Moat__Ctl__Reply r = MOAT__CTL__REPLY__INIT;
	Moat__Ctl__Status st = MOAT__CTL__STATUS__INIT;
	struct proc_buf *b = calloc(1 + vm->devs.n, sizeof(*b));
	Moat__Ctl__Process *pp[1 + MON_MAX_DEVICES];

	if (!b) {
		mon_control_error(&vm->ctl, who, "out of memory");
		return;
	}
	st.name = (char *)(vm->cfg->name ? vm->cfg->name : "");
	st.state = (char *)vm_state(vm);
	st.uptime_ms = vm->cs.started_ms ? (uint64_t)(mon_now_ms() - vm->cs.started_ms) : 0;
	st.cpus = vm->cfg->cpus;
	st.mem_bytes = vm->cfg->mem_bytes;
	st.monitor_pid = (int32_t)getpid();
	fill_process(vm, &vm->vcpu, NULL, &b[0]);
	pp[0] = &b[0].p;
	for (unsigned i = 0; i < vm->devs.n; i++) {
		fill_process(vm, &vm->devs.d[i].proc, &vm->devs.d[i], &b[1 + i]);
		pp[1 + i] = &b[1 + i].p;
	}
	st.n_processes = 1 + vm->devs.n;
	st.processes = pp;
	r.ok = true;
	r.result_case = MOAT__CTL__REPLY__RESULT_STATUS;
	r.status = &st;
	mon_control_reply(&vm->ctl, who, &r);
	free(b);
}

/* Status waits (briefly) for fresh counters from every serving device;
 * clients asking meanwhile share the round. */
static void op_status(struct mon_vm *vm, struct mon_ctl_who who)
{
	struct mon_ctl_state *cs = &vm->cs;

	if (cs->nstatus == 0) {
		unsigned asked = 0;
		for (unsigned i = 0; i < vm->devs.n; i++)
			if (serving(&vm->devs.d[i]) && !vm->devs.d[i].stats_wait &&
			    mon_dev_send_stats(&vm->devs.d[i]) == 0)
				asked++;
		if (!asked) {
			answer_status(vm, who);
			return;
		}
		cs->status_deadline = mon_now_ms() + MON_CTL_STATUS_WAIT_MS;
	}
	cs->status_who[cs->nstatus++] = who;
}

static int tick_status(struct mon_vm *vm, int64_t now)
{
	struct mon_ctl_state *cs = &vm->cs;
	bool waiting = false;

	if (!cs->nstatus)
		return -1;
	for (unsigned i = 0; i < vm->devs.n; i++)
		if (serving(&vm->devs.d[i]) && vm->devs.d[i].stats_wait)
			waiting = true;
	if (waiting && now < cs->status_deadline)
		return (int)(cs->status_deadline - now);
	for (unsigned i = 0; i < cs->nstatus; i++)
		answer_status(vm, cs->status_who[i]);
	cs->nstatus = 0;
	return -1;
}

/* ---- pause and resume ---- */

static void say_status(struct mon_vm *vm, const char *state)
{
	mon_notify_send(&vm->notify, "STATUS=%s", state);
}

static void op_pause(struct mon_vm *vm, struct mon_ctl_who who)
{
	struct mon_ctl_state *cs = &vm->cs;

	if (cs->run == MON_VM_PAUSED) {
		reply_ok(vm, who);
		return;
	}
	if (cs->run == MON_VM_PAUSING) {
		mon_control_error(&vm->ctl, who, "a pause is already under way");
		return;
	}
	if (vm->stop_sent || vm->button_sent) {
		mon_control_error(&vm->ctl, who, "the VM is %s", vm_state(vm));
		return;
	}
	if (mon_vcpu_send_pause(vm) < 0) {
		mon_control_error(&vm->ctl, who, "moat-vcpu cannot be reached");
		return;
	}
	cs->run = MON_VM_PAUSING;
	cs->pause_who = who;
	cs->pause_deadline = mon_now_ms() + MON_CTL_PAUSE_TIMEOUT_MS;
}

/* Devices resume before the vCPUs, so the guest finds them serving. */
static void resume_all(struct mon_vm *vm)
{
	for (unsigned i = 0; i < vm->devs.n; i++)
		if (vm->devs.d[i].pause_asked)
			mon_dev_send_resume(&vm->devs.d[i]);
	mon_vcpu_send_resume(vm);
	vm->cs.run = MON_VM_RUNNING;
}

static void op_resume(struct mon_vm *vm, struct mon_ctl_who who)
{
	if (vm->cs.run == MON_VM_PAUSING) {
		mon_control_error(&vm->ctl, who, "a pause is under way; resume after it");
		return;
	}
	if (vm->cs.run == MON_VM_PAUSED) {
		resume_all(vm);
		mon_audit("vm-resume", "by=ctl");
		say_status(vm, "running");
	}
	reply_ok(vm, who);
}

/* The vCPUs first (no new request reaches a device), then every device,
 * each answering once nothing it serves is in flight. */
static int tick_pause(struct mon_vm *vm, int64_t now)
{
	struct mon_ctl_state *cs = &vm->cs;
	const char *late = NULL;

	if (cs->run != MON_VM_PAUSING)
		return -1;
	if (cs->vcpu_paused) {
		for (unsigned i = 0; i < vm->devs.n; i++) {
			struct mon_device *d = &vm->devs.d[i];
			if (serving(d) && !d->pause_asked)
				mon_dev_send_pause(d);
			if (serving(d) && !d->paused && !late)
				late = d->proc.name;
		}
		if (!late) {
			cs->run = MON_VM_PAUSED;
			mon_audit("vm-pause", "by=ctl");
			say_status(vm, "paused");
			reply_ok(vm, cs->pause_who);
			return -1;
		}
	} else if (vm->vcpu.state != MON_PROC_READY) {
		late = "moat-vcpu";
		cs->pause_deadline = now; /* it is gone: no use waiting */
	} else {
		late = "moat-vcpu";
	}
	if (now < cs->pause_deadline)
		return (int)(cs->pause_deadline - now);
	mon_control_error(&vm->ctl, cs->pause_who, "%s did not pause within %d s; the VM runs on",
			  late, MON_CTL_PAUSE_TIMEOUT_MS / 1000);
	resume_all(vm);
	return -1;
}

/* ---- shutdown, stop, reset ---- */

void mon_ctl_stopping(struct mon_vm *vm, unsigned extend_s)
{
	if (!vm->stopping_said) {
		vm->stopping_said = true;
		mon_notify_send(&vm->notify, "STOPPING=1\nSTATUS=%s",
				extend_s ? "shutting down the guest" : "stopping");
	}
	/* systemd's stop timeout must outlast the guest's */
	if (extend_s)
		mon_notify_send(&vm->notify, "EXTEND_TIMEOUT_USEC=%llu",
				(unsigned long long)(extend_s + 5) * 1000000ULL);
}

static void op_shutdown(struct mon_vm *vm, struct mon_ctl_who who, const struct mon_ctl_req *req)
{
	unsigned t = req->has_timeout ? req->timeout_s : vm->cfg->shutdown_timeout_s;

	if (vm->cs.run != MON_VM_RUNNING) {
		mon_control_error(&vm->ctl, who,
				  "the VM is paused: a paused guest cannot hear its power button "
				  "(resume it, or stop it)");
		return;
	}
	if (vm->stop_sent || vm->button_sent) {
		mon_control_error(&vm->ctl, who, "the VM is %s already", vm_state(vm));
		return;
	}
	mon_audit("vm-shutdown", "by=ctl timeout=%u", t);
	if (t == 0) {
		mon_ctl_stopping(vm, 0);
		mon_vcpu_send_stop(vm, "moat ctl shutdown --timeout 0");
	} else {
		mon_ctl_stopping(vm, t);
		mon_vcpu_send_power_button(vm, t);
	}
	reply_ok(vm, who);
}

static void op_stop(struct mon_vm *vm, struct mon_ctl_who who)
{
	mon_audit("vm-stop", "by=ctl");
	mon_ctl_stopping(vm, 0);
	mon_vcpu_send_stop(vm, "moat ctl stop");
	reply_ok(vm, who);
}

static void op_reset(struct mon_vm *vm, struct mon_ctl_who who)
{
	if (vm->stop_sent) {
		mon_control_error(&vm->ctl, who, "the VM is stopping already");
		return;
	}
	mon_audit("vm-reset", "by=ctl");
	mon_ctl_stopping(vm, 0);
	if (mon_vcpu_send_reset(vm) < 0) {
		mon_control_error(&vm->ctl, who, "moat-vcpu cannot be reached");
		return;
	}
	reply_ok(vm, who);
}

/* ---- requests a device carries out: disk swap, forwards ---- */

static struct mon_device *find_device(struct mon_vm *vm, const char *kind, const char *id)
{
	for (unsigned i = 0; i < vm->devs.n; i++)
		if (strcmp(vm->devs.d[i].kind->name, kind) == 0 &&
		    strcmp(vm->devs.d[i].proc.name, id) == 0)
			return &vm->devs.d[i];
	return NULL;
}

/* Can d take a control request now? If not, who hears why. */
static bool device_free(struct mon_vm *vm, struct mon_device *d, struct mon_ctl_who who)
{
	if (!serving(d)) {
		mon_control_error(&vm->ctl, who, "%s: its process is gone", d->proc.name);
		return false;
	}
	if (d->pending.seq) {
		mon_control_error(&vm->ctl, who, "%s: another request is in progress",
				  d->proc.name);
		return false;
	}
	if (vm->cs.run == MON_VM_PAUSING) {
		mon_control_error(&vm->ctl, who, "a pause is under way; try again after it");
		return false;
	}
	return true;
}

static int send_pending(struct mon_vm *vm, struct mon_device *d, struct mon_ctl_who who,
			enum mon_ctl_op op, Moat__Dev__ControlRequest *req, const int *fds,
			unsigned nfds)
{
	struct mon_dev_pending *p = &d->pending;

	req->seq = next_seq(vm);
	if (mon_dev_send_control(d, req, fds, nfds) < 0)
		return -EIO;
	p->seq = req->seq;
	p->op = op;
	p->who = who;
	p->deadline = mon_now_ms() + MON_CTL_DEVICE_TIMEOUT_MS;
	p->answered = false;
	return 0;
}

static void op_disk_swap(struct mon_vm *vm, struct mon_ctl_who who, const struct mon_ctl_req *req)
{
	struct mon_device *d = find_device(vm, "blk", req->id);
	Moat__Dev__DiskSwap sw = MOAT__DEV__DISK_SWAP__INIT;
	Moat__Dev__ControlRequest cr = MOAT__DEV__CONTROL_REQUEST__INIT;
	char err[512] = "";
	int fd = -1;

	if (!d) {
		mon_control_error(&vm->ctl, who, "no disk '%s'", req->id);
		return;
	}
	if (!device_free(vm, d, who))
		return;
	const struct mon_disk *orig = &vm->cfg->disks[d->index];
	/* opened, checked and locked as at start; a read-only disk stays one */
	struct mon_disk nd = {.path = (char *)req->path,
			      .ro = req->read_only || orig->ro,
			      .blockdev = orig->blockdev};
	if (!req->none && mon_open_disk(&nd, &fd, err, sizeof(err)) < 0) {
		mon_control_error(&vm->ctl, who, "%s", err);
		return;
	}
	sw.none = req->none;
	sw.read_only = nd.ro;
	sw.fd_image = 0;
	cr.op_case = MOAT__DEV__CONTROL_REQUEST__OP_DISK_SWAP;
	cr.disk_swap = &sw;
	if (send_pending(vm, d, who, MON_CTL_DISK_SWAP, &cr, &fd, fd >= 0 ? 1 : 0) < 0) {
		if (fd >= 0)
			close(fd);
		mon_control_error(&vm->ctl, who, "%s: its process cannot be reached",
				  d->proc.name);
		return;
	}
	d->pending.new_fd = fd;
	d->pending.ro = nd.ro;
	d->pending.path = req->none ? NULL : strdup(req->path);
}

/* The swap is done: the new image is ours to keep open (its lock lives as
 * long as moat, as at start), the old one is released. */
static void disk_swapped(struct mon_vm *vm, struct mon_device *d)
{
	struct mon_dev_pending *p = &d->pending;
	int *fd = &vm->res->disk_fd[d->index];

	if (*fd >= 0)
		close(*fd);
	*fd = p->new_fd;
	p->new_fd = -1;
	free(d->backend);
	d->backend = strdup(p->path ? p->path : "none");
	mon_proc_audit(&d->proc, "disk-swap", "path=\"%s\" ro=%s sectors=%llu",
		       d->backend ? d->backend : "?", p->ro ? "yes" : "no",
		       (unsigned long long)p->capacity);
}

/* The card to change: named, or the only user card. */
static struct mon_device *find_user_card(struct mon_vm *vm, struct mon_ctl_who who, const char *id)
{
	struct mon_device *d = NULL;
	unsigned users = 0;

	if (id[0]) {
		d = find_device(vm, "net", id);
		if (!d) {
			mon_control_error(&vm->ctl, who, "no network card '%s'", id);
			return NULL;
		}
	} else {
		for (unsigned i = 0; i < vm->devs.n; i++)
			if (strcmp(vm->devs.d[i].kind->name, "net") == 0 &&
			    vm->cfg->nets[vm->devs.d[i].index].kind == NETOPT_USER && users++ == 0)
				d = &vm->devs.d[i];
		if (users != 1) {
			mon_control_error(&vm->ctl, who,
					  users ? "there are %u user-networking cards: name one "
						  "with --net ID"
						: "the VM has no user-networking card (--net user)",
					  users);
			return NULL;
		}
	}
	if (vm->cfg->nets[d->index].kind != NETOPT_USER) {
		mon_control_error(&vm->ctl, who, "%s is a tap card: it has no forwards",
				  d->proc.name);
		return NULL;
	}
	if (!d->fwd) { /* the list starts as --net gave it */
		d->fwd = calloc(MON_MAX_RUNTIME_FWD, sizeof(*d->fwd));
		if (!d->fwd) {
			mon_control_error(&vm->ctl, who, "out of memory");
			return NULL;
		}
		d->nfwd = vm->cfg->nets[d->index].nfwd;
		memcpy(d->fwd, vm->cfg->nets[d->index].fwd, d->nfwd * sizeof(*d->fwd));
	}
	return d;
}

/* The entry of d's list with f's protocol and host side, or -1. */
static int find_fwd(const struct mon_device *d, const struct netopt_fwd *f)
{
	for (unsigned i = 0; i < d->nfwd; i++)
		if (d->fwd[i].proto == f->proto && d->fwd[i].host_port == f->host_port &&
		    d->fwd[i].host_addr == f->host_addr)
			return (int)i;
	return -1;
}

static void hostfwd_list(struct mon_vm *vm, struct mon_ctl_who who, struct mon_device *d)
{
	Moat__Ctl__Reply r = MOAT__CTL__REPLY__INIT;
	Moat__Ctl__HostfwdList l = MOAT__CTL__HOSTFWD_LIST__INIT;
	char text[MON_MAX_RUNTIME_FWD][64];
	char *rules[MON_MAX_RUNTIME_FWD];

	for (unsigned i = 0; i < d->nfwd; i++) {
		netopt_format_fwd(&d->fwd[i], text[i], sizeof(text[i]));
		rules[i] = text[i];
	}
	l.net_id = d->proc.name;
	l.n_rules = d->nfwd;
	l.rules = rules;
	r.ok = true;
	r.result_case = MOAT__CTL__REPLY__RESULT_HOSTFWD;
	r.hostfwd = &l;
	mon_control_reply(&vm->ctl, who, &r);
}

static void op_hostfwd(struct mon_vm *vm, struct mon_ctl_who who, const struct mon_ctl_req *req)
{
	struct mon_device *d = find_user_card(vm, who, req->id);
	Moat__Dev__NetForward nf = MOAT__DEV__NET_FORWARD__INIT;
	Moat__Dev__HostfwdChange ch = MOAT__DEV__HOSTFWD_CHANGE__INIT;
	Moat__Dev__ControlRequest cr = MOAT__DEV__CONTROL_REQUEST__INIT;
	const struct netopt_fwd *f = &req->fwd;
	bool add = req->op == MON_CTL_HOSTFWD_ADD;
	char rule[64];

	if (!d)
		return;
	if (req->op == MON_CTL_HOSTFWD_LIST) {
		hostfwd_list(vm, who, d);
		return;
	}
	netopt_format_fwd(f, rule, sizeof(rule));
	if (add && find_fwd(d, f) >= 0) {
		mon_control_error(&vm->ctl, who, "%s forwards %s host port %u already",
				  d->proc.name, f->proto == NETOPT_UDP ? "udp" : "tcp",
				  f->host_port);
		return;
	}
	if (add && d->nfwd == MON_MAX_RUNTIME_FWD) {
		mon_control_error(&vm->ctl, who, "%s has %d forwards, the most it may have",
				  d->proc.name, MON_MAX_RUNTIME_FWD);
		return;
	}
	if (!add && find_fwd(d, f) < 0) {
		mon_control_error(&vm->ctl, who, "%s has no forward %s", d->proc.name, rule);
		return;
	}
	/* a forward is named by its host side, as QEMU's hostfwd_remove does:
	 * moat-net is asked to remove the rule as it is in force */
	if (!add)
		f = &d->fwd[find_fwd(d, f)];
	if (!device_free(vm, d, who))
		return;
	nf.udp = f->proto == NETOPT_UDP;
	nf.host_addr = f->host_addr;
	nf.host_port = f->host_port;
	nf.guest_addr = f->guest_addr;
	nf.guest_port = f->guest_port;
	ch.add = add;
	ch.fwd = &nf;
	cr.op_case = MOAT__DEV__CONTROL_REQUEST__OP_HOSTFWD;
	cr.hostfwd = &ch;
	if (send_pending(vm, d, who, req->op, &cr, NULL, 0) < 0) {
		mon_control_error(&vm->ctl, who, "%s: its process cannot be reached",
				  d->proc.name);
		return;
	}
	d->pending.fwd = *f;
}

static void hostfwd_changed(struct mon_device *d)
{
	const struct netopt_fwd *f = &d->pending.fwd;
	int i = find_fwd(d, f);
	char rule[64];

	netopt_format_fwd(f, rule, sizeof(rule));
	if (d->pending.op == MON_CTL_HOSTFWD_ADD && i < 0 && d->nfwd < MON_MAX_RUNTIME_FWD)
		d->fwd[d->nfwd++] = *f;
	else if (d->pending.op == MON_CTL_HOSTFWD_REMOVE && i >= 0)
		d->fwd[i] = d->fwd[--d->nfwd];
	mon_proc_audit(&d->proc, d->pending.op == MON_CTL_HOSTFWD_ADD ? "hostfwd-add"
								       : "hostfwd-remove",
		       "rule=%s", rule);
}

/* Finish d's outstanding request: answered, its process gone, or late. */
static int tick_pending(struct mon_vm *vm, struct mon_device *d, int64_t now)
{
	struct mon_dev_pending *p = &d->pending;

	if (!p->seq)
		return -1;
	if (p->answered && p->ok) {
		if (p->op == MON_CTL_DISK_SWAP)
			disk_swapped(vm, d);
		else
			hostfwd_changed(d);
		reply_ok(vm, p->who);
	} else if (p->answered) {
		mon_control_error(&vm->ctl, p->who, "%s: %s", d->proc.name, p->error);
	} else if (!serving(d)) {
		mon_control_error(&vm->ctl, p->who, "%s: its process ended before it answered",
				  d->proc.name);
	} else {
		if (now < p->deadline)
			return (int)(p->deadline - now);
		if (p->who.slot >= 0) {
			/* It may still finish (a request on a slow disk): the
			 * client hears so, and the answer is applied when it
			 * comes. */
			mon_control_error(&vm->ctl, p->who,
					  "%s has not finished within %d s; it completes in the "
					  "background (see moat ctl status)",
					  d->proc.name, MON_CTL_DEVICE_TIMEOUT_MS / 1000);
			p->who.slot = -1;
		}
		return -1;
	}
	if (p->new_fd >= 0)
		close(p->new_fd);
	free(p->path);
	*p = (struct mon_dev_pending){.new_fd = -1};
	return -1;
}

/* ---- audit tail, version ---- */

static void op_audit_tail(struct mon_vm *vm, struct mon_ctl_who who, unsigned lines)
{
	Moat__Ctl__Reply r = MOAT__CTL__REPLY__INIT;
	Moat__Ctl__AuditLines a = MOAT__CTL__AUDIT_LINES__INIT;
	const char **out = calloc(lines, sizeof(*out));
	size_t total = 0;
	unsigned n;

	if (!out) {
		mon_control_error(&vm->ctl, who, "out of memory");
		return;
	}
	n = mon_audit_tail(lines, out);
	/* the reply must fit one datagram: the newest lines win */
	unsigned first = n;
	while (first > 0 && total + strlen(out[first - 1]) + 8 < 60000)
		total += strlen(out[--first]) + 8;
	a.n_lines = n - first;
	a.lines = (char **)out + first;
	r.ok = true;
	r.result_case = MOAT__CTL__REPLY__RESULT_AUDIT;
	r.audit = &a;
	mon_control_reply(&vm->ctl, who, &r);
	free(out);
}

static void op_version(struct mon_vm *vm, struct mon_ctl_who who)
{
	Moat__Ctl__Reply r = MOAT__CTL__REPLY__INIT;

	r.ok = true;
	r.result_case = MOAT__CTL__REPLY__RESULT_MOAT_VERSION;
	r.moat_version = MOAT_VERSION;
	mon_control_reply(&vm->ctl, who, &r);
}

static const char *const op_names[] = {
    [MON_CTL_STATUS] = "status",	 [MON_CTL_PAUSE] = "pause",
    [MON_CTL_RESUME] = "resume",	 [MON_CTL_SHUTDOWN] = "shutdown",
    [MON_CTL_STOP] = "stop",		 [MON_CTL_RESET] = "reset",
    [MON_CTL_DISK_SWAP] = "disk-swap",	 [MON_CTL_HOSTFWD_LIST] = "hostfwd-list",
    [MON_CTL_HOSTFWD_ADD] = "hostfwd-add", [MON_CTL_HOSTFWD_REMOVE] = "hostfwd-remove",
    [MON_CTL_AUDIT_TAIL] = "audit-tail", [MON_CTL_VERSION] = "version",
};

void mon_ctl_execute(struct mon_vm *vm, struct mon_ctl_who who, const struct mon_ctl_req *req)
{
	log_debug("control: %s", op_names[req->op]);
	if (vm->vcpu.state == MON_PROC_GONE || vm->vcpu.state == MON_PROC_ENDING) {
		mon_control_error(&vm->ctl, who, "the VM is ending");
		return;
	}
	switch (req->op) {
	case MON_CTL_STATUS:
		op_status(vm, who);
		break;
	case MON_CTL_PAUSE:
		op_pause(vm, who);
		break;
	case MON_CTL_RESUME:
		op_resume(vm, who);
		break;
	case MON_CTL_SHUTDOWN:
		op_shutdown(vm, who, req);
		break;
	case MON_CTL_STOP:
		op_stop(vm, who);
		break;
	case MON_CTL_RESET:
		op_reset(vm, who);
		break;
	case MON_CTL_DISK_SWAP:
		op_disk_swap(vm, who, req);
		break;
	case MON_CTL_HOSTFWD_LIST:
	case MON_CTL_HOSTFWD_ADD:
	case MON_CTL_HOSTFWD_REMOVE:
		op_hostfwd(vm, who, req);
		break;
	case MON_CTL_AUDIT_TAIL:
		op_audit_tail(vm, who, req->lines);
		break;
	case MON_CTL_VERSION:
		op_version(vm, who);
		break;
	default:
		mon_control_error(&vm->ctl, who, "unknown request");
		break;
	}
}

/* ---- systemd ---- */

/* Every serving child answered the last round, and no vCPU is stuck in
 * one exit: the watchdog may be fed. */
static bool all_answered(const struct mon_vm *vm)
{
	const struct mon_ctl_state *cs = &vm->cs;

	if (cs->vcpu_pong != cs->ping_seq || cs->vcpu_stalled)
		return false;
	for (unsigned i = 0; i < vm->devs.n; i++)
		if (serving(&vm->devs.d[i]) && vm->devs.d[i].pong != cs->ping_seq)
			return false;
	return true;
}

static int tick_watchdog(struct mon_vm *vm, int64_t now)
{
	struct mon_ctl_state *cs = &vm->cs;
	int64_t every = (int64_t)(vm->notify.watchdog_usec / 2000);

	if (!vm->notify.watchdog_usec || vm->vcpu.state != MON_PROC_READY)
		return -1;
	if (every < 10)
		every = 10;
	if (now < cs->next_ping)
		return (int)(cs->next_ping - now);
	if (cs->ping_seq && all_answered(vm))
		mon_notify_send(&vm->notify, "WATCHDOG=1");
	cs->ping_seq++;
	/* A child still owing the last ping is not sent another: a stopped
	 * one owes one ping, not a queue of them, and its late answer is
	 * still the one it was asked for. */
	if (cs->vcpu_pong == cs->vcpu_ping_sent)
		mon_vcpu_send_ping(vm, cs->ping_seq);
	for (unsigned i = 0; i < vm->devs.n; i++) {
		struct mon_device *d = &vm->devs.d[i];
		if (serving(d) && d->pong == d->ping_sent)
			mon_dev_send_ping(d, cs->ping_seq);
	}
	cs->next_ping = now + every;
	return (int)every;
}

static int earliest(int a, int b)
{
	return a < 0 ? b : b < 0 ? a : a < b ? a : b;
}

int mon_ctl_tick(struct mon_vm *vm, int64_t now)
{
	int t = -1;

	if (!vm->cs.ready_said && vm->vcpu.state == MON_PROC_READY) {
		vm->cs.ready_said = true;
		vm->cs.started_ms = now;
		mon_notify_send(&vm->notify, "READY=1\nSTATUS=running");
	}
	t = earliest(t, tick_status(vm, now));
	t = earliest(t, tick_pause(vm, now));
	for (unsigned i = 0; i < vm->devs.n; i++)
		t = earliest(t, tick_pending(vm, &vm->devs.d[i], now));
	t = earliest(t, tick_watchdog(vm, now));
	return t;
}
