/* Replies as a VM would send them, built in static storage for the ctl
 * tests (ctl_print and the fake VM of ctl_call). */
#pragma once

#include "control.pb-c.h"

struct status_fixture {
	Moat__Ctl__Reply reply;
	Moat__Ctl__Status status;
	Moat__Ctl__Process vcpu, blk;
	Moat__Ctl__Process *procs[2];
	Moat__Ctl__Counter exits, requests, errors;
	Moat__Ctl__Counter *vcpu_counters[1], *blk_counters[2];
};

/* A running VM "web": 2 vCPUs, 512 MiB, up 1 h 1 min 1 s; moat-vcpu and a
 * disk blk0 on /var/lib/web.raw whose process is gone (pid 0). */
static inline Moat__Ctl__Reply *status_fixture(struct status_fixture *f)
{
	*f = (struct status_fixture){
	    .reply = MOAT__CTL__REPLY__INIT,
	    .status = MOAT__CTL__STATUS__INIT,
	    .vcpu = MOAT__CTL__PROCESS__INIT,
	    .blk = MOAT__CTL__PROCESS__INIT,
	    .exits = MOAT__CTL__COUNTER__INIT,
	    .requests = MOAT__CTL__COUNTER__INIT,
	    .errors = MOAT__CTL__COUNTER__INIT,
	};
	f->exits.name = "exits";
	f->exits.value = 1ull << 40;
	f->requests.name = "requests";
	f->requests.value = 5;
	f->errors.name = "errors";
	f->errors.value = 0;
	f->vcpu_counters[0] = &f->exits;
	f->blk_counters[0] = &f->requests;
	f->blk_counters[1] = &f->errors;

	f->vcpu.kind = "vcpu";
	f->vcpu.id = "vcpu";
	f->vcpu.pid = 4242;
	f->vcpu.state = "running";
	f->vcpu.n_counters = 1;
	f->vcpu.counters = f->vcpu_counters;
	f->blk.kind = "blk";
	f->blk.id = "blk0";
	f->blk.pid = 0;
	f->blk.state = "dead";
	f->blk.backend = "/var/lib/web.raw";
	f->blk.n_counters = 2;
	f->blk.counters = f->blk_counters;
	f->procs[0] = &f->vcpu;
	f->procs[1] = &f->blk;

	f->status.name = "web";
	f->status.state = "running";
	f->status.uptime_ms = 3661000;
	f->status.cpus = 2;
	f->status.mem_bytes = 512ull << 20;
	f->status.monitor_pid = 4241;
	f->status.n_processes = 2;
	f->status.processes = f->procs;

	f->reply.version = MOAT__CTL__VERSION__VERSION_CURRENT;
	f->reply.ok = 1;
	f->reply.result_case = MOAT__CTL__REPLY__RESULT_STATUS;
	f->reply.status = &f->status;
	return &f->reply;
}

/* A refusal with the given line. */
static inline Moat__Ctl__Reply error_reply(const char *line)
{
	Moat__Ctl__Reply r = MOAT__CTL__REPLY__INIT;

	r.version = MOAT__CTL__VERSION__VERSION_CURRENT;
	r.ok = 0;
	r.error = (char *)line;
	return r;
}

/* An ok reply with no result, as for pause. */
static inline Moat__Ctl__Reply ok_reply(void)
{
	Moat__Ctl__Reply r = MOAT__CTL__REPLY__INIT;

	r.version = MOAT__CTL__VERSION__VERSION_CURRENT;
	r.ok = 1;
	return r;
}
