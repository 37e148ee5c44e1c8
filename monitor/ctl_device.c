/* The control requests a device carries out (ctl_ops.h): a disk swap
 * (moat-blk) and forwards (moat-net). The monitor opens what they need,
 * keeps what is in force, and applies a change only once the device said
 * it made it; one request per device at a time. And a device's restart
 * (restart.c does it), answered once the new process serves. */
#include "ctl_ops.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "ctl_ops_int.h"
#include "devmsg.h"
#include "kinds.h"
#include "proto_dev.h"
#include "resources.h"
#include "restart.h"
#include "vmstate.h"

/* The device id of kind (NULL: of any kind), or NULL. */
static struct mon_device *find_device(struct mon_vm *vm, const char *kind, const char *id)
{
	for (unsigned i = 0; i < vm->devs.n; i++)
		if ((!kind || strcmp(vm->devs.d[i].kind->name, kind) == 0) &&
		    strcmp(vm->devs.d[i].proc.name, id) == 0)
			return &vm->devs.d[i];
	return NULL;
}

/* A restart of d was asked or its new process is starting. */
static bool restart_under_way(const struct mon_device *d)
{
	return d->restart_asked || d->restarting;
}

/* Can d take a control request now? If not, who hears why. */
static bool device_free(struct mon_vm *vm, struct mon_device *d, struct mon_ctl_who who)
{
	if (restart_under_way(d)) {
		mon_control_error(&vm->ctl, who,
				  "%s is restarting; try again once it serves (moat ctl status)",
				  d->proc.name);
		return false;
	}
	if (!mon_ctl_serving(d)) {
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

	req->seq = mon_ctl_next_seq(vm);
	if (mon_dev_send_control(d, req, fds, nfds) < 0)
		return -EIO;
	p->seq = req->seq;
	p->op = op;
	p->who = who;
	p->deadline = mon_now_ms() + MON_CTL_DEVICE_TIMEOUT_MS;
	p->answered = false;
	return 0;
}

void mon_ctl_op_disk_swap(struct mon_vm *vm, struct mon_ctl_who who, const struct mon_ctl_req *req)
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
	/* the new medium would need its format parsed and a swap of the
	 * image object in moat-blk: not there yet */
	if (orig->format != MON_FORMAT_RAW) {
		mon_control_error(&vm->ctl, who,
				  "disk '%s' is a %s image: only raw disks can be swapped",
				  d->proc.name, orig->format == MON_FORMAT_QCOW2 ? "qcow2" : "vmdk");
		return;
	}
	/* opened, checked and locked as at start; a read-only disk stays one */
	struct mon_disk nd = {.path = (char *)req->path,
			      .ro = req->read_only || orig->ro,
			      .blockdev = orig->blockdev,
			      .cache_none = orig->cache_none};
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
	char path[512];

	free(d->backend);
	d->backend = strdup(p->path ? p->path : "none");
	/* a path may hold a '"': escaped, so it cannot end the audit's field */
	mon_untrusted_line(d->backend ? d->backend : "?", path, sizeof(path));
	mon_proc_audit(&d->proc, "disk-swap", "path=\"%s\" ro=%s sectors=%llu", path,
		       p->ro ? "yes" : "no", (unsigned long long)p->capacity);
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

void mon_ctl_op_hostfwd(struct mon_vm *vm, struct mon_ctl_who who, const struct mon_ctl_req *req)
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
int mon_ctl_tick_pending(struct mon_vm *vm, struct mon_device *d, int64_t now)
{
	struct mon_dev_pending *p = &d->pending;

	if (!p->seq)
		return -1;
	if (p->answered && p->ok) {
		if (p->op == MON_CTL_DISK_SWAP)
			disk_swapped(vm, d);
		else
			hostfwd_changed(d);
		mon_ctl_reply_ok(vm, p->who);
	} else if (p->answered) {
		mon_control_error(&vm->ctl, p->who, "%s: %s", d->proc.name, p->error);
	} else if (!mon_ctl_serving(d)) {
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

/* ---- device restart ---- */

/* Why d's process must not be ended now although restart.c would end
 * it: it would not be restarted (the VM not running, the budget spent),
 * or the VM's state would not carry over to the new process (a pause).
 * Asked only of a serving device of a kind that restarts: for the rest,
 * mon_device_restart_request says why not. NULL: go ahead. */
static const char *restart_refused(const struct mon_vm *vm, const struct mon_device *d, char *buf,
				   size_t len)
{
	int64_t wait = mon_restart_wait_ms(&d->restart_log, mon_now_ms());

	if (vm->stop_sent || vm->button_sent) {
		snprintf(buf, len, "the VM is %s", mon_ctl_vm_state(vm));
		return buf;
	}
	if (vm->vcpu.state != MON_PROC_READY)
		return "the VM is still starting; try again once it runs";
	if (vm->cs.run == MON_VM_PAUSING)
		return "a pause is under way; try again after it";
	if (vm->cs.run == MON_VM_PAUSED)
		return "the VM is paused; resume it first";
	if (d->pending.seq)
		return "another request is in progress";
	if (wait) {
		snprintf(buf, len,
			 "it was restarted " MON_RESTART_MAX_TEXT " times within a minute, the "
			 "most it may be; try again in %d s",
			 (int)((wait + 999) / 1000));
		return buf;
	}
	return NULL;
}

/* moat ctl device restart: restart.c ends d's process and starts a new
 * one; who is answered by mon_ctl_restart_done once that serves, or by
 * mon_ctl_tick_restart when it is overdue. */
void mon_ctl_op_device_restart(struct mon_vm *vm, struct mon_ctl_who who,
			       const struct mon_ctl_req *req)
{
	struct mon_device *d = find_device(vm, NULL, req->id);
	const char *no = NULL;
	char why[160];
	int r;

	if (!d && strcmp(req->id, vm->vcpu.name) == 0) {
		mon_control_error(&vm->ctl, who,
				  "%s: moat-vcpu cannot be restarted: the guest runs in it",
				  req->id);
		return;
	}
	if (!d) {
		mon_control_error(&vm->ctl, who, "no device '%s' (moat ctl status lists them)",
				  req->id);
		return;
	}
	if (d->kind->restartable && mon_ctl_serving(d) && !restart_under_way(d))
		no = restart_refused(vm, d, why, sizeof(why));
	if (no) {
		mon_control_error(&vm->ctl, who, "%s: %s", d->proc.name, no);
		return;
	}
	r = mon_device_restart_request(vm, d);
	if (r == -EOPNOTSUPP)
		mon_control_error(&vm->ctl, who,
				  "%s: moat-%s cannot be restarted (its state lives only in "
				  "its process)",
				  d->proc.name, d->proc.kind);
	else if (r == -EBUSY)
		mon_control_error(&vm->ctl, who, "%s: a restart is already under way",
				  d->proc.name);
	else if (r == -ENODEV)
		mon_control_error(&vm->ctl, who,
				  "%s: its process is gone for good; the VM runs on without it",
				  d->proc.name);
	else if (r < 0)
		mon_control_error(&vm->ctl, who, "%s: cannot be restarted: %s", d->proc.name,
				  strerror(-r));
	if (r < 0 || who.slot < 0 || who.slot >= MON_CTL_MAX_CLIENTS)
		return;
	vm->cs.restart_wait[who.slot] = (struct mon_ctl_restart_wait){
	    .d = d, .who = who, .deadline = mon_now_ms() + MON_CTL_DEVICE_TIMEOUT_MS};
}

static void answer_restarted(struct mon_vm *vm, struct mon_ctl_who who, const struct mon_device *d)
{
	Moat__Ctl__Reply r = MOAT__CTL__REPLY__INIT;
	Moat__Ctl__DeviceRestarted dr = MOAT__CTL__DEVICE_RESTARTED__INIT;

	dr.id = (char *)d->proc.name;
	dr.kind = (char *)d->proc.kind;
	dr.pid = (int32_t)d->proc.child.pid;
	dr.restarts = d->restarts;
	r.ok = true;
	r.result_case = MOAT__CTL__REPLY__RESULT_DEVICE_RESTARTED;
	r.device_restarted = &dr;
	mon_control_reply(&vm->ctl, who, &r);
}

void mon_ctl_restart_done(struct mon_vm *vm, struct mon_device *d, bool ok, const char *why)
{
	for (unsigned i = 0; i < MON_CTL_MAX_CLIENTS; i++) {
		struct mon_ctl_restart_wait *w = &vm->cs.restart_wait[i];

		if (w->d != d)
			continue;
		if (ok)
			answer_restarted(vm, w->who, d);
		else
			mon_control_error(&vm->ctl, w->who,
					  "%s: not restarted: %s; the device stays detached",
					  d->proc.name, why ? why : "(no reason given)");
		*w = (struct mon_ctl_restart_wait){0};
	}
}

int mon_ctl_tick_restart(struct mon_vm *vm, int64_t now)
{
	int t = -1;

	for (unsigned i = 0; i < MON_CTL_MAX_CLIENTS; i++) {
		struct mon_ctl_restart_wait *w = &vm->cs.restart_wait[i];

		if (!w->d)
			continue;
		if (now < w->deadline) {
			if (t < 0 || w->deadline - now < t)
				t = (int)(w->deadline - now);
			continue;
		}
		/* It may still serve (a successor has MON_RESTART_READY_MS to
		 * be READY, and the old process must be reaped first): the
		 * client hears so, and status shows how it ends. */
		mon_control_error(&vm->ctl, w->who,
				  "%s has not served again within %d s; its restart goes on in "
				  "the background (see moat ctl status)",
				  w->d->proc.name, MON_CTL_DEVICE_TIMEOUT_MS / 1000);
		*w = (struct mon_ctl_restart_wait){0};
	}
	return t;
}
