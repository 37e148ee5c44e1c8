/* The shared skeleton of every device process (moat-<kind>). A device kind
 * is a model plus a policy file: it fills a struct dev_kind and calls
 * dev_main(), which does the rest, top to bottom:
 *   receive the start request and descriptors from the monitor (fd 3),
 *   set the log prefix, enter the sandbox (policy/<kind>.policy), map the
 *   trapped-I/O ring, build the model, report READY with the sandbox state,
 *   then serve ring requests and control messages until told to stop.
 * On a failure before READY it logs one line and exits non-zero. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "device.pb-c.h"

struct dev_kind {
	const char *kind; /* "smc": names the policy, the process and the log */
	/* Build the model from the kind's part of the start request; one line
	 * in err on failure. Secrets in req are wiped by the caller after. */
	int (*init)(void **model, const Moat__Dev__StartRequest *req, char *err, size_t errlen);
	/* One trapped access, on behalf of a vCPU: addr is the port or the
	 * guest-physical address, size 1/2/4/8; for reads, fill *data. */
	void (*io)(void *model, unsigned space, uint64_t addr, unsigned size, bool is_write,
		   uint64_t *data);
	void (*destroy)(void *model);
};

int dev_main(const struct dev_kind *k);
