/* moat ctl status: the VM and every process of it, with the devices'
 * counters asked for afresh (ctl_ops.h). */
#include "ctl_ops.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl_ops_int.h"
#include "kinds.h"
#include "procstat.h"
#include "proto_dev.h"
#include "vmstate.h"

/* A process's state; d is its device (NULL: moat-vcpu). A device being
 * restarted is "restarting" from the request until its new process
 * serves, whichever process the table holds meanwhile. */
static const char *proc_state(const struct mon_vm *vm, const struct mon_proc *p,
			      const struct mon_device *d)
{
	if (d && (d->restart_asked || d->restarting))
		return "restarting";
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

const char *mon_ctl_vm_state(const struct mon_vm *vm)
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
	b->p.state = (char *)proc_state(vm, proc, d);
	b->p.backend = b->backend;
	b->backend[0] = 0;
	if (!d)
		return;
	b->p.restarts = d->restarts;
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
	st.state = (char *)mon_ctl_vm_state(vm);
	st.uptime_ms = vm->cs.started_ms ? (uint64_t)(mon_now_ms() - vm->cs.started_ms) : 0;
	st.cpus = vm->cfg->cpus;
	st.mem_bytes = vm->cfg->mem_bytes;
	st.mem_backing = (char *)mon_ram_backing_name(vm->res->ram_backing);
	st.mem_prealloc = vm->cfg->mem_prealloc;
	if (vm->vcpu.child.pid > 0)
		(void)mon_procstat_huge_bytes(vm->vcpu.child.pid, &st.mem_huge_bytes);
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
void mon_ctl_op_status(struct mon_vm *vm, struct mon_ctl_who who)
{
	struct mon_ctl_state *cs = &vm->cs;

	if (cs->nstatus == 0) {
		unsigned asked = 0;
		for (unsigned i = 0; i < vm->devs.n; i++)
			if (mon_ctl_serving(&vm->devs.d[i]) && !vm->devs.d[i].stats_wait &&
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

int mon_ctl_tick_status(struct mon_vm *vm, int64_t now)
{
	struct mon_ctl_state *cs = &vm->cs;
	bool waiting = false;

	if (!cs->nstatus)
		return -1;
	for (unsigned i = 0; i < vm->devs.n; i++)
		if (mon_ctl_serving(&vm->devs.d[i]) && vm->devs.d[i].stats_wait)
			waiting = true;
	if (waiting && now < cs->status_deadline)
		return (int)(cs->status_deadline - now);
	for (unsigned i = 0; i < cs->nstatus; i++)
		answer_status(vm, cs->status_who[i]);
	cs->nstatus = 0;
	return -1;
}
