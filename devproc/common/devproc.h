/* The shared skeleton of every device process (moat-<kind>). A device kind
 * is a model plus a policy file: it fills a struct dev_kind and calls
 * dev_main(), which does the rest, top to bottom:
 *   receive the start request and descriptors from the monitor (fd 3),
 *   set the log prefix, enter the sandbox (policy/<kind>.policy), map the
 *   trapped-I/O ring, build the model, report READY with the sandbox state,
 *   then serve ring requests and control messages until told to stop.
 * On a failure before READY it logs one line and exits non-zero.
 *
 * A device with descriptors of its own (a virtio device: guest RAM, its
 * queues' notify eventfds, its vectors' irq eventfds, a disk image) builds
 * its model with init_fds instead of init, and has the loop watch some of
 * them through fds and ready. A kind that sets neither (smc) is served as
 * before.
 *
 * Paused (the monitor's PauseRequest, moat ctl pause): the loop stops
 * polling the kind's descriptors (its queues and backends), so the guest's
 * memory is not touched, answers Paused once idle() holds, and keeps
 * serving the ring and the control channel until ResumeRequest. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "device.pb-c.h"

struct ipc_fds;
struct pollfd;

#define DEV_MAX_EXTRA_FDS 1024 /* descriptors a model may have polled */
#define DEV_MAX_COUNTERS  16   /* counters a model reports in its stats */
/* Descriptors a device process may open after entering its sandbox (the
 * default RLIMIT_NOFILE's room): none of the kinds opens any, but a
 * control message may carry some, which the runtime refuses and closes. */
#define DEV_NOFILE_EXTRA 4

struct pol_options;

struct dev_counter {
	const char *name; /* static: "tx_dropped_malformed" */
	uint64_t value;
};

struct dev_kind {
	const char *kind; /* "smc": names the policy, the process and the log */
	/* Optional, before the sandbox is entered: a policy other than kind's
	 * (*policy), and files for the sandbox's root or the kind's resource
	 * limits (*o; without o->limits, one thread and DEV_NOFILE_EXTRA
	 * descriptors beyond those received). Strings it points to must
	 * outlive the call (static storage). 0, or -errno with one line in
	 * err. */
	int (*sandbox)(const Moat__Dev__StartRequest *req, const char **policy,
		       struct pol_options *o, char *err, size_t errlen);
	/* Build the model from the kind's part of the start request; one line
	 * in err on failure. Secrets in req are wiped by the caller after.
	 * -EINVAL, -EADDRINUSE and -EADDRNOTAVAIL say the user's configuration
	 * is at fault (a forward's port is taken): the monitor then reports
	 * err as bad input and exits 2. */
	int (*init)(void **model, const Moat__Dev__StartRequest *req, char *err, size_t errlen);
	/* Instead of init, if set: the same, plus the start request's other
	 * descriptors (all but the ring and its doorbell). The model takes
	 * those it keeps with ipc_fds_take(); the rest are closed after. */
	int (*init_fds)(void **model, const Moat__Dev__StartRequest *req, struct ipc_fds *fds,
			char *err, size_t errlen);
	/* One trapped access, on behalf of a vCPU: addr is the port or the
	 * guest-physical address, size 1/2/4/8; for reads, fill *data. */
	void (*io)(void *model, unsigned space, uint64_t addr, unsigned size, bool is_write,
		   uint64_t *data);
	void (*destroy)(void *model);
	/* Optional: descriptors the loop should poll besides the doorbell and
	 * the control socket (fd and events set). Called before every poll;
	 * returns how many it wrote to out (at most max), or -errno to stop.
	 * *timeout_ms starts at -1 (none); lower it to be called back. */
	int (*fds)(void *model, struct pollfd *out, unsigned max, int *timeout_ms);
	/* With fds: after every poll, whether or not anything happened, the
	 * same n entries with revents filled in. Runs on the loop's thread,
	 * between ring requests. */
	void (*polled)(void *model, struct pollfd *p, unsigned n);
	/* Optional: the model's counters for the monitor's stats request;
	 * returns how many it wrote (at most DEV_MAX_COUNTERS). */
	unsigned (*counters)(void *model, struct dev_counter *out);
	/* Optional: a request of the control plane for this kind (a disk
	 * swap, a forward; device.proto's ControlRequest), on the loop's
	 * thread, with the descriptors that came with it (take those kept
	 * with ipc_fds_take(); the rest are closed after). Either fill *res
	 * (error and user_error when it failed; res->error must stay valid
	 * until the next call) and return DEV_CONTROL_DONE, or return
	 * DEV_CONTROL_LATER and answer later from the loop's thread (the fds
	 * or polled callback) with dev_control_reply(), carrying req->seq.
	 * Without it every request is answered with an error. Also called
	 * while paused (when fds and polled are not). */
	int (*control)(void *model, const Moat__Dev__ControlRequest *req, struct ipc_fds *fds,
		       Moat__Dev__ControlResult *res);
	/* Optional, a kind that can be restarted under a running guest
	 * (issue 15): write the state a successor process must get back
	 * (what the guest wrote into the device) into buf, at most cap
	 * bytes; returns the bytes written (0: cap too small). Called after
	 * every write access the guest makes, before its answer is posted,
	 * so that a kill at any moment loses no write the guest saw done. */
	size_t (*save)(void *model, uint8_t *buf, size_t cap);
	/* With save: once the state file is mapped, after init, on every
	 * start: take back what the previous process saved (buf, len; len 0
	 * on a first start or before the first save) and the file's live
	 * area (live, live_len; NULL, 0 when it has none), which the kind
	 * keeps using. Both come from a process that may have been
	 * compromised: 0, or -errno with one line in err (the device then
	 * does not start). */
	int (*restore)(void *model, const uint8_t *buf, size_t len, void *live, size_t live_len,
		       char *err, size_t errlen);
	/* Optional: is nothing the guest asked for in flight (no request
	 * running on a worker)? A pause is acknowledged once it is. NULL:
	 * always idle once the loop stops serving. */
	bool (*idle)(void *model);
};

#define DEV_CONTROL_DONE  0
#define DEV_CONTROL_LATER 1

/* Answer a ControlRequest that control() deferred (loop thread); res->ok
 * is the caller's to set. 0 or -errno. */
int dev_control_reply(const Moat__Dev__ControlResult *res);

int dev_main(const struct dev_kind *k);
