/* The monitor's side of the channel to moat-vcpu (ipc/proto/vcpu.proto):
 * the requests it sends, beside the handlers of what moat-vcpu may send
 * back and the table of when it may. */
#pragma once

#include "resources.h"
#include "vmstate.h"

/* START, once, with every descriptor moat-vcpu needs. 0 or -errno. */
int mon_vcpu_send_start(struct mon_vm *vm, const struct mon_resources *r);
/* RUN, once, after START (which holds the vCPUs) when every device is
 * READY. A moat-vcpu that cannot be told is killed (supervision says
 * why it ended). */
void mon_vcpu_send_run(struct mon_vm *vm);
/* STOP (once): end the VM now. Kills moat-vcpu if it cannot be told. */
void mon_vcpu_send_stop(struct mon_vm *vm, const char *why);
/* SIGTERM or moat ctl shutdown: press the guest's power button (once)
 * and give it timeout_s to power off (supervise.c then stops it). */
void mon_vcpu_send_power_button(struct mon_vm *vm, unsigned timeout_s);
/* moat ctl: PAUSE (answered by PAUSED), RESUME, RESET (ends the VM, as a
 * guest reset does), PING (the watchdog; answered by PONG). 0 or -errno. */
int mon_vcpu_send_pause(struct mon_vm *vm);
int mon_vcpu_send_resume(struct mon_vm *vm);
int mon_vcpu_send_reset(struct mon_vm *vm);
int mon_vcpu_send_ping(struct mon_vm *vm, uint64_t seq);
/* DETACH: a device process is gone; moat-vcpu stops forwarding to it. */
void mon_vcpu_send_detach(struct mon_vm *vm, const char *name);
/* The successor of a device that died is serving the same (reset) ring:
 * forward to it again, through doorbell (its end for moat-vcpu, sent and
 * kept by the caller). 0 or -errno. */
int mon_vcpu_send_reattach(struct mon_vm *vm, const char *name, int doorbell);

/* Serve what moat-vcpu sent, every pending message. */
void mon_vcpu_dispatch(struct mon_vm *vm);
