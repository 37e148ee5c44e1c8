#pragma once
#include <stddef.h>

/* Format one screen of the vCPU's registers (general, segment, control)
 * into buf; never fails (a register read error is printed instead). */
void vcpu_dump_regs(int vcpu_fd, unsigned id, char *buf, size_t len);
