#pragma once
#include "vm.h"

/* The vcpu process's main thread once the vCPUs run: console input into
 * the UART, requests from the monitor (stop, power button, detach, pause,
 * resume, reset, ping), the completion of a pause, and the end of the VM.
 * Returns 0 when the VM ended (vm->exit says how), -errno when the monitor
 * vanished or the channel broke. */
int vcpu_main_loop(struct vm *vm, int serial_in);
