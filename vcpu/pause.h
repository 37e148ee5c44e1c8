/* Pause and resume of the vCPU threads (the monitor's PAUSE and RESUME),
 * and how long each has been busy outside KVM_RUN (PING).
 *
 * The kick: a vCPU thread of a halted guest sleeps inside KVM_RUN, so the
 * main thread sends it SIGUSR1 (pthread_kill). The handler, installed in
 * the set-up phase, only sets the thread's kvm_run->immediate_exit: a
 * signal taken inside KVM_RUN makes it return EINTR, and one taken just
 * before makes the next KVM_RUN return EINTR at once (Documentation/
 * virt/kvm/api.rst, immediate_exit), so no kick is ever lost. The thread
 * clears the flag, sees pause_wanted and parks until RESUME or the end of
 * the VM. While paused the guest's kvmclock is held: KVM_GET_CLOCK once
 * every thread is parked, KVM_SET_CLOCK with that value on RESUME. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "vm.h"

/* A vCPU busy this long with one exit counts as stalled (PING). */
#define VM_STALL_NS 1000000000ull

/* Set-up phase, before the vCPU threads exist: the kick's handler, the
 * pause lock and the parked eventfd. 0 or -errno (logged). */
int vm_pause_init(struct vm *vm);

/* vCPU thread, once before its first KVM_RUN: where the kick's handler
 * finds its kvm_run. */
void vcpu_kick_attach(struct vcpu *v);

/* vCPU thread, before each KVM_RUN: take back a kick, and park while a
 * pause is asked for (returns when resumed or the VM ended). */
void vcpu_pause_point(struct vcpu *v);

/* vCPU thread: KVM_RUN is about to be entered (busy = false) or just
 * returned (busy = true). */
void vcpu_mark_busy(struct vcpu *v, bool busy);

/* The protocol these keep: each PAUSE is answered by one Paused, sent
 * once every vCPU thread is parked (at once if they are); RESUME while
 * running does nothing; a RESUME before the pause completed calls it off:
 * the threads go on and no Paused is sent for it. That is what the
 * monitor's timeout wants (docs/decisions/0016: a pause not done in 10 s
 * is resumed), since a vCPU can be busy with one exit for that long (a
 * device that does not answer, REMOTE_TIMEOUT_MS). */

/* Main thread, on PAUSE: true when the VM is paused already (answer
 * Paused now); otherwise the threads are asked to park and kicked, and
 * vm_pause_settle() says when they all are. */
bool vm_pause(struct vm *vm);

/* Main thread, when parked_event_fd is readable: how many Paused to send
 * now (the PAUSEs that waited for this pause to complete: every thread
 * parked, the clock saved); 0 while it is still in progress. */
unsigned vm_pause_settle(struct vm *vm);

/* Main thread, on RESUME: the clock set back to its value at the pause,
 * the threads let go. Running already: nothing. A pause still in
 * progress is called off. */
void vm_resume(struct vm *vm);

/* Main thread, on PING: has some vCPU thread been busy with one exit for
 * longer than VM_STALL_NS? */
bool vm_stalled(struct vm *vm);
