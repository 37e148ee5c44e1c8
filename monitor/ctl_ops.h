/* What the control socket's requests do to the VM (control.h hands them
 * over, checked): status, pause and resume, shutdown, stop and reset, disk
 * swap, forwards, the audit tail, the version, a device's restart. A
 * request the monitor can answer alone is answered at once; one that
 * needs a child's answer (a device's counters, a pause, a swap, a forward)
 * or a child's successor (a restart) waits for it, bounded by a deadline,
 * and whatever a child answers is checked against what it was asked
 * (proto_dev.c, proto_vcpu.c). Under systemd it also keeps the
 * service informed and feeds the watchdog only while every child answers
 * its ping (sdnotify.h). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "control.h"
#include "ctl_request.h"

/* How long a child has to answer a control-plane request. */
#define MON_CTL_DEVICE_TIMEOUT_MS 30000
/* Longer than moat-vcpu's wait for a device (REMOTE_TIMEOUT_MS, 10 s): a
 * vCPU held up by a dead device parks once it gives up on it. */
#define MON_CTL_PAUSE_TIMEOUT_MS  15000
#define MON_CTL_STATUS_WAIT_MS	  500

enum mon_run_state { MON_VM_RUNNING, MON_VM_PAUSING, MON_VM_PAUSED };

struct mon_device;

/* A client of moat ctl device restart, waiting until the device's new
 * process serves (ctl_device.c). */
struct mon_ctl_restart_wait {
	const struct mon_device *d; /* NULL: this entry is free */
	struct mon_ctl_who who;
	int64_t deadline; /* ms: told it goes on in the background then */
};

/* The VM-wide part (in struct mon_vm). */
struct mon_ctl_state {
	int64_t started_ms;
	enum mon_run_state run;
	struct mon_ctl_who pause_who; /* answered once every process paused */
	int64_t pause_deadline;
	bool vcpu_pause_asked, vcpu_paused;
	bool vcpu_pause_late; /* a pause was called off unanswered: one PAUSED may come */
	/* status: the clients waiting for the devices' counters */
	struct mon_ctl_who status_who[MON_CTL_MAX_CLIENTS];
	unsigned nstatus;
	int64_t status_deadline;
	/* device restart: by the client's slot (a client has one request
	 * outstanding at most) */
	struct mon_ctl_restart_wait restart_wait[MON_CTL_MAX_CLIENTS];
	uint32_t next_seq;
	/* systemd */
	bool ready_said;
	uint64_t ping_seq;	 /* the watchdog's current round */
	int64_t next_ping;	 /* ms */
	uint64_t vcpu_ping_sent; /* moat-vcpu's answer to it: */
	uint64_t vcpu_pong;
	bool vcpu_stalled;
};

struct mon_vm;

/* Carry out req for who: answer now, or later from mon_ctl_tick(). */
void mon_ctl_execute(struct mon_vm *vm, struct mon_ctl_who who, const struct mon_ctl_req *req);
/* Every turn of the loop, after the children were served: finish what
 * waited for them or timed out, tell systemd what changed, feed its
 * watchdog. Returns the ms until it wants to run again, or -1. */
int mon_ctl_tick(struct mon_vm *vm, int64_t now);
/* The VM is ending (a signal, the guest, moat ctl stop): tell systemd. */
void mon_ctl_stopping(struct mon_vm *vm, unsigned extend_s);
/* A restart of d ended (restart.c): its new process serves again (ok), or
 * it was not restarted or its new process could not be started or
 * attached (why says so; d stays detached). A client of moat ctl device
 * restart waiting for d hears it; without one, nothing happens. */
void mon_ctl_restart_done(struct mon_vm *vm, struct mon_device *d, bool ok, const char *why);
