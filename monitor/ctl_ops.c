/* The control requests the monitor carries out itself (pause and resume,
 * shutdown, stop, reset, the audit tail, the version), the dispatch of
 * every request, and the loop's tick with systemd's notifications and
 * watchdog (ctl_ops.h). Status is ctl_status.c's; disk swap, forwards and
 * device restart, which concern one device, ctl_device.c's. */
#include "ctl_ops.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "config.h"
#include "ctl_ops_int.h"
#include "log.h"
#include "proto_dev.h"
#include "proto_vcpu.h"
#include "vmstate.h"

void mon_ctl_reply_ok(struct mon_vm *vm, struct mon_ctl_who who)
{
	Moat__Ctl__Reply r = MOAT__CTL__REPLY__INIT;

	r.ok = true;
	mon_control_reply(&vm->ctl, who, &r);
}

bool mon_ctl_serving(const struct mon_device *d)
{
	return d->proc.state == MON_PROC_READY && !d->detached;
}

uint32_t mon_ctl_next_seq(struct mon_vm *vm)
{
	if (++vm->cs.next_seq == 0)
		vm->cs.next_seq = 1;
	return vm->cs.next_seq;
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
		mon_ctl_reply_ok(vm, who);
		return;
	}
	if (cs->run == MON_VM_PAUSING) {
		mon_control_error(&vm->ctl, who, "a pause is already under way");
		return;
	}
	if (vm->stop_sent || vm->button_sent) {
		mon_control_error(&vm->ctl, who, "the VM is %s", mon_ctl_vm_state(vm));
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
	mon_ctl_reply_ok(vm, who);
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
			if (mon_ctl_serving(d) && !d->pause_asked)
				mon_dev_send_pause(d);
			if (mon_ctl_serving(d) && !d->paused && !late)
				late = d->proc.name;
		}
		if (!late) {
			cs->run = MON_VM_PAUSED;
			mon_audit("vm-pause", "by=ctl");
			say_status(vm, "paused");
			mon_ctl_reply_ok(vm, cs->pause_who);
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
		mon_control_error(&vm->ctl, who, "the VM is %s already", mon_ctl_vm_state(vm));
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
	mon_ctl_reply_ok(vm, who);
}

static void op_stop(struct mon_vm *vm, struct mon_ctl_who who)
{
	mon_audit("vm-stop", "by=ctl");
	mon_ctl_stopping(vm, 0);
	mon_vcpu_send_stop(vm, "moat ctl stop");
	mon_ctl_reply_ok(vm, who);
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
	mon_ctl_reply_ok(vm, who);
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
    [MON_CTL_DEVICE_RESTART] = "device-restart",
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
		mon_ctl_op_status(vm, who);
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
		mon_ctl_op_disk_swap(vm, who, req);
		break;
	case MON_CTL_HOSTFWD_LIST:
	case MON_CTL_HOSTFWD_ADD:
	case MON_CTL_HOSTFWD_REMOVE:
		mon_ctl_op_hostfwd(vm, who, req);
		break;
	case MON_CTL_AUDIT_TAIL:
		op_audit_tail(vm, who, req->lines);
		break;
	case MON_CTL_VERSION:
		op_version(vm, who);
		break;
	case MON_CTL_DEVICE_RESTART:
		mon_ctl_op_device_restart(vm, who, req);
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
		if (mon_ctl_serving(&vm->devs.d[i]) && vm->devs.d[i].pong != cs->ping_seq)
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
		if (mon_ctl_serving(d) && d->pong == d->ping_sent)
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
	t = earliest(t, mon_ctl_tick_status(vm, now));
	t = earliest(t, tick_pause(vm, now));
	for (unsigned i = 0; i < vm->devs.n; i++)
		t = earliest(t, mon_ctl_tick_pending(vm, &vm->devs.d[i], now));
	t = earliest(t, mon_ctl_tick_restart(vm, now));
	t = earliest(t, tick_watchdog(vm, now));
	return t;
}
