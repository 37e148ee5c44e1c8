/* `moat ctl`: the client of a running VM's control socket (the monitor's
 * monitor/control.c; ipc/proto/control.proto). It runs as a process of its
 * own, the user's, and shares no code with the monitor but the protocol
 * and the socket path rule (config/ctlpath.h). */
#pragma once

/* argv[0] is "ctl". The exit status: 0 done, 1 the VM answered with an
 * error or could not be reached, 2 bad usage. */
int ctl_main(int argc, char **argv);
