#include "restart.h"

#include <errno.h>
#include <stdio.h>

#include "kinds.h"
#include "log.h"
#include "paths.h"
#include "proto_dev.h"
#include "proto_vcpu.h"
#include "vmstate.h"

int64_t mon_restart_wait_ms(const struct mon_restart_log *log, int64_t now)
{
	/* the oldest of the last MON_RESTART_MAX restarts is the slot next
	 * overwritten: room when it is empty or older than the window */
	int64_t oldest = log->at[log->next % MON_RESTART_MAX];

	return oldest && now - oldest < MON_RESTART_WINDOW_MS
		   ? MON_RESTART_WINDOW_MS - (now - oldest)
		   : 0;
}

bool mon_restart_budget(struct mon_restart_log *log, int64_t now)
{
	if (mon_restart_wait_ms(log, now))
		return false;
	log->at[log->next % MON_RESTART_MAX] = now;
	log->next = (log->next + 1) % MON_RESTART_MAX;
	return true;
}

/* The one refusal worth an audit line: the others are the configuration
 * or the VM's end, which the audit trail shows already. */
static const char budget_spent[] = "it was restarted " MON_RESTART_MAX_TEXT " times within a minute";

/* Why d is not restarted now (NULL: it is). */
static const char *why_not(const struct mon_vm *vm, struct mon_device *d)
{
	if (!d->kind->restartable)
		return "its kind cannot be restarted";
	if (vm->stop_sent || vm->button_sent || vm->vcpu.state != MON_PROC_READY)
		return "the VM is ending";
	if (!vm->cfg->device_restart && !d->restart_asked)
		return "--device-restart is off";
	if (!mon_restart_budget(&d->restart_log, mon_now_ms()))
		return budget_spent;
	return NULL;
}

static void restart(struct mon_vm *vm, struct mon_device *d, const char *how)
{
	struct mon_proc *p = &d->proc;

	mon_proc_audit(p, "child-restart", "cause=\"%s\" process=%u",
		       d->restart_asked ? "moat ctl device restart" : how, d->restarts + 2);
	d->restart_asked = false;
	/* a VM paused meanwhile: the successor starts paused, so that it
	 * leaves guest memory alone until the VM resumes (resume_all then
	 * resumes it); a pause under way asks it itself (ctl_ops.c's tick) */
	d->start_paused = vm->cs.run == MON_VM_PAUSED;
	/* with mon_proc_spawn's "spawned at" and the READY's, the phases of
	 * a restart (bench/restart) */
	log_debug("%s: a new process at %.1f ms", p->name, mon_since_start_ms());
	if (mon_device_respawn(d, vm->cfg, vm->res, &vm->cg) < 0) {
		log_warn("device %s could not be restarted; the VM continues without it", p->name);
		mon_ctl_restart_done(vm, d, false, "its new process could not be started");
		return;
	}
	d->restarting = true;
	d->restart_began = mon_now_ms();
	d->restart_deadline = d->restart_began + MON_RESTART_READY_MS;
}

void mon_device_gone(struct mon_vm *vm, struct mon_device *d)
{
	struct mon_proc *p = &d->proc;
	const char *no;
	char how[128];

	mon_describe_death(&p->death, p->child.pid, how, sizeof(how));
	if (!d->detached) {
		d->detached = true;
		mon_vcpu_send_detach(vm, p->name);
	}
	no = why_not(vm, d);
	if (d->restarting)
		log_warn("device %s's new process (moat-%s, pid %d) %s before it was ready%s%s",
			 p->name, p->kind, (int)p->child.pid, how, no ? "; " : "; once more",
			 no ? "the VM continues without it" : "");
	else
		log_warn("device %s (moat-%s, pid %d) %s; %s", p->name, p->kind, (int)p->child.pid,
			 how, no ? "the VM continues without it" : "restarting it");
	d->restarting = false;
	if (no) {
		if (no == budget_spent)
			mon_proc_audit(p, "child-restart-refused", "reason=\"%s\"", no);
		d->restart_asked = false;
		mon_ctl_restart_done(vm, d, false, no);
		return;
	}
	restart(vm, d, how);
}

void mon_device_restart_check(struct mon_vm *vm, struct mon_device *d)
{
	struct mon_proc *p = &d->proc;

	if (!d->restarting || p->state != MON_PROC_READY)
		return;
	d->restarting = false;
	if (mon_vcpu_send_reattach(vm, p->name, d->doorbell) < 0) {
		log_warn("could not tell moat-vcpu that %s is back", p->name);
		mon_ctl_restart_done(vm, d, false, "moat-vcpu could not be told it is back");
		return;
	}
	d->detached = false;
	/* the successor owes no ping: the dead process may have died owing
	 * one, and a child owing a ping is never sent another (ctl_ops.c), so
	 * the watchdog would starve; it is asked the current round now */
	d->ping_sent = d->pong = 0;
	if (vm->cs.ping_seq)
		mon_dev_send_ping(d, vm->cs.ping_seq);
	/* started paused: as if asked and answered, so resume_all resumes it;
	 * a VM resumed before it was ready resumes it now */
	if (d->start_paused && vm->cs.run == MON_VM_PAUSED)
		d->pause_asked = d->paused = true;
	else if (d->start_paused)
		mon_dev_send_resume(d);
	d->start_paused = false;
	int64_t ms = mon_now_ms() - d->restart_began;
	log_info("device %s is back: moat-%s pid %d serves it (restart %u, %lld ms)", p->name,
		 p->kind, (int)p->child.pid, d->restarts, (long long)ms);
	mon_proc_audit(p, "child-reattached", "restarts=%u ms=%lld", d->restarts, (long long)ms);
	mon_ctl_restart_done(vm, d, true, NULL);
}

int mon_device_restart_request(struct mon_vm *vm, struct mon_device *d)
{
	if (!d->kind->restartable)
		return -EOPNOTSUPP;
	if (d->restarting || d->restart_asked)
		return -EBUSY;
	if (d->proc.state != MON_PROC_READY || d->detached)
		return -ENODEV;
	d->restart_asked = true;
	mon_proc_kill(&d->proc);
	return 0;
}

int mon_restart_tick(struct mon_vm *vm, int64_t now)
{
	int timeout = -1;

	for (unsigned i = 0; i < vm->devs.n; i++) {
		struct mon_device *d = &vm->devs.d[i];
		if (!d->restarting || d->proc.state != MON_PROC_STARTING || d->proc.hostile)
			continue;
		if (now >= d->restart_deadline) {
			mon_proc_hostile(&d->proc, "did not become ready after a restart");
			continue;
		}
		if (timeout < 0 || d->restart_deadline - now < timeout)
			timeout = (int)(d->restart_deadline - now);
	}
	return timeout;
}
