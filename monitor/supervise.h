#pragma once
#include <stdbool.h>

#include "console.h"
#include "devices.h"
#include "options.h"
#include "spawn.h"

/* One running VM as the monitor sees it. */
struct mon_vm {
	const struct mon_config *cfg;
	struct mon_child vcpu;
	int ctl;         /* control channel to moat-vcpu */
	int sigfd;
	int console_out; /* guest output pipe, -1 when not relaying */
	int console_in;  /* guest input pipe, -1 when not relaying */
	struct mon_console con;
	struct mon_devices devs;

	bool ready;
	bool stop_sent;
	bool got_exit;
	int exit_reason;
	char exit_detail[160];
	char *exit_dump;
	char *bad_input;
};

/* Relay the console and serve the control channel until moat-vcpu is gone;
 * returns the exit status of `moat run`. */
int mon_supervise(struct mon_vm *vm);
