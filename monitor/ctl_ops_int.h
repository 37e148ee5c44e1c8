/* What the control plane's modules share (ctl_ops.c, the requests and
 * the loop's tick; ctl_status.c, status; ctl_device.c, disk swap,
 * forwards and device restart). Not for the rest of the monitor: ctl_ops.h is. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "control.h"
#include "ctl_request.h"

struct mon_vm;
struct mon_device;

void mon_ctl_reply_ok(struct mon_vm *vm, struct mon_ctl_who who);
/* A device that serves: spawned, READY, not detached. */
bool mon_ctl_serving(const struct mon_device *d);
/* A control request's sequence number: never 0. */
uint32_t mon_ctl_next_seq(struct mon_vm *vm);
/* "running", "paused", "shutting-down"...: the VM as status says it. */
const char *mon_ctl_vm_state(const struct mon_vm *vm);

void mon_ctl_op_status(struct mon_vm *vm, struct mon_ctl_who who);
/* Answer the status round once every device answered or its time is up;
 * ms until then, or -1. */
int mon_ctl_tick_status(struct mon_vm *vm, int64_t now);

void mon_ctl_op_disk_swap(struct mon_vm *vm, struct mon_ctl_who who, const struct mon_ctl_req *req);
void mon_ctl_op_hostfwd(struct mon_vm *vm, struct mon_ctl_who who, const struct mon_ctl_req *req);
/* Finish d's outstanding request (answered, its process gone, or late);
 * ms until its deadline, or -1. */
int mon_ctl_tick_pending(struct mon_vm *vm, struct mon_device *d, int64_t now);

void mon_ctl_op_device_restart(struct mon_vm *vm, struct mon_ctl_who who,
			       const struct mon_ctl_req *req);
/* Tell the clients of restarts whose new process is overdue that it goes
 * on in the background; ms until the next deadline, or -1. */
int mon_ctl_tick_restart(struct mon_vm *vm, int64_t now);
