#pragma once
#include "vmstate.h"

/* Relay the console and serve every child's channel until moat-vcpu is
 * gone; returns the exit status of `moat run`. */
int mon_supervise(struct mon_vm *vm);
