#pragma once
#include <stddef.h>

/* Format one screen of the vCPU's registers (general, segment, control)
 * into buf; never fails (a register read error is printed instead). */
void vcpu_dump_regs(int vcpu_fd, unsigned id, char *buf, size_t len);

/* Format one line of where a stopped vCPU was and what it waited for: RIP
 * and RFLAGS, KVM's run state (halted or runnable), the event KVM was
 * about to inject, and its local APIC's interrupts (TPR, ISR, IRR) and
 * timer. A guest that went silent shows here whether it halted with
 * nothing left to wake it (issue 17). Never fails; a read error is said
 * in the line. */
void vcpu_dump_wait_state(int vcpu_fd, unsigned id, char *buf, size_t len);
