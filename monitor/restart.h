/* Restarting a device process under a running guest (issue 15, decision
 * 0023). A device process that dies, or that moat ctl device restart
 * ends, is replaced by a fresh one of the same kind, uid, policy and
 * cgroup leaf, given the same resources, the same ring (reset by the
 * monitor: the dead process may have scribbled on it) and the device's
 * state file (ipc/devstate.h); once it is READY, moat-vcpu forwards to it
 * again. Until then the device is detached as before: its registers float.
 *
 * Only kinds that keep their guest-visible state in the state file can be
 * restarted (struct mon_kind's restartable); the others stay detached.
 * Automatic restarts follow --device-restart (on by default) and a budget
 * of MON_RESTART_MAX in MON_RESTART_WINDOW_MS per device: a guest that
 * kills its device on every start is hostile, and its device then stays
 * detached. A successor that does not become READY in time is cut off. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "devices.h"

#define MON_RESTART_WINDOW_MS 60000
#define MON_RESTART_READY_MS  10000

struct mon_vm;

/* Whether one more restart fits the budget at now (ms), given the times
 * of the last restarts (ring of MON_RESTART_MAX); records it if so. */
bool mon_restart_budget(struct mon_restart_log *log, int64_t now);
/* How long until the budget has room again (ms; 0: it has room now). */
int64_t mon_restart_wait_ms(const struct mon_restart_log *log, int64_t now);

/* d's process is gone (reaped): detach it from moat-vcpu if it was not
 * already, then restart it if its kind allows, the policy (or a pending
 * moat ctl request) wants it and the budget has room. */
void mon_device_gone(struct mon_vm *vm, struct mon_device *d);

/* After each message from d: a successor that became READY is attached to
 * moat-vcpu again. */
void mon_device_restart_check(struct mon_vm *vm, struct mon_device *d);

/* moat ctl device restart: end d's process so that it is restarted, even
 * with --device-restart off (the budget still applies). cause is for the
 * audit trail. 0, -EOPNOTSUPP for a kind that cannot be restarted,
 * -EBUSY while a restart is under way, -ENODEV once it is detached for
 * good. */
int mon_device_restart_request(struct mon_vm *vm, struct mon_device *d);

/* The deadline of successors still starting: cuts off those overdue;
 * returns ms until the next deadline, or -1. */
int mon_restart_tick(struct mon_vm *vm, int64_t now);
