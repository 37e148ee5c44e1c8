#include "devproc.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "child.h"
#include "devstate.h"
#include "ioring.h"
#include "log.h"
#include "util.h"

#define DEV_SERVE_SPIN_NS 50000

struct dev_state {
	const struct dev_kind *k;
	void *model;
	struct ioring ring;
	int doorbell;
	uint64_t served;
	struct devstate state; /* a restartable kind's state file, base NULL: none */
	uint8_t saved[DEVSTATE_MAX_PAYLOAD];
	size_t nsaved;
	bool paused;	 /* the monitor's PauseRequest, until ResumeRequest */
	bool pause_owed; /* Paused not sent yet: something is in flight */
};

/* While a pause waits for the kind to go idle: look again this often. */
#define DEV_PAUSE_POLL_MS 2

/* Wipe the kind's secret configuration inside a received request before it
 * is freed, so no copy lingers on the heap. */
static void wipe_secrets(Moat__Dev__StartRequest *s)
{
	if (s->config_case == MOAT__DEV__START_REQUEST__CONFIG_SMC && s->smc && s->smc->osk.data)
		explicit_bzero(s->smc->osk.data, s->smc->osk.len);
}

/* The start request, for this kind, with a sane instance name. */
static int receive_start(struct dev_state *st, Moat__Dev__MonitorToDevice **env_out,
			 struct ipc_fds *fds)
{
	ProtobufCMessage *m = NULL;
	int rc = child_recv_start(&moat__dev__monitor_to_device__descriptor,
				  MOAT__DEV__MONITOR_TO_DEVICE__MSG_START, &m, fds);

	if (rc < 0)
		return rc;
	Moat__Dev__MonitorToDevice *env = (Moat__Dev__MonitorToDevice *)m;
	if (!env->start->kind || strcmp(env->start->kind, st->k->kind) != 0 || !env->start->name ||
	    strlen(env->start->name) > 32) {
		protobuf_c_message_free_unpacked(m, NULL);
		ipc_fds_close(fds);
		return log_error_errno(EPROTO, "Bad start request");
	}
	*env_out = env;
	return 0;
}

static int send_ready(const struct dev_state *st, const char *name,
		      Moat__Sandbox__SandboxReport *sr)
{
	Moat__Dev__ReadyEvent ready = MOAT__DEV__READY_EVENT__INIT;
	Moat__Dev__DeviceToMonitor env = MOAT__DEV__DEVICE_TO_MONITOR__INIT;

	ready.kind = (char *)st->k->kind;
	ready.name = (char *)name;
	ready.sandbox = sr;
	env.msg_case = MOAT__DEV__DEVICE_TO_MONITOR__MSG_READY;
	env.ready = &ready;
	return child_send(&env.base);
}

/* Tell the monitor why we could not start, before exiting. */
static void send_start_error(const char *msg, bool user_error)
{
	Moat__Dev__StartError se = MOAT__DEV__START_ERROR__INIT;
	Moat__Dev__DeviceToMonitor env = MOAT__DEV__DEVICE_TO_MONITOR__INIT;

	se.message = (char *)msg;
	se.user_error = user_error;
	env.msg_case = MOAT__DEV__DEVICE_TO_MONITOR__MSG_START_ERROR;
	env.start_error = &se;
	child_send(&env.base);
}

/* The answer to the monitor's StatsRequest. */
static int dev_answer_stats(void *ctx, const ProtobufCMessage *m)
{
	const struct dev_state *st = ctx;
	Moat__Dev__StatsResponse stats = MOAT__DEV__STATS_RESPONSE__INIT;
	Moat__Dev__DeviceToMonitor env = MOAT__DEV__DEVICE_TO_MONITOR__INIT;
	struct dev_counter c[DEV_MAX_COUNTERS];
	Moat__Dev__Counter pc[DEV_MAX_COUNTERS], *pcp[DEV_MAX_COUNTERS];
	unsigned n = st->k->counters ? st->k->counters(st->model, c) : 0;

	if (n > DEV_MAX_COUNTERS)
		n = DEV_MAX_COUNTERS;
	for (unsigned i = 0; i < n; i++) {
		moat__dev__counter__init(&pc[i]);
		pc[i].name = (char *)c[i].name;
		pc[i].value = c[i].value;
		pcp[i] = &pc[i];
	}
	stats.n_counters = n;
	stats.counters = pcp;
	stats.requests = st->served;
	stats.bad_requests = st->ring.malformed;
	env.msg_case = MOAT__DEV__DEVICE_TO_MONITOR__MSG_STATS;
	env.stats = &stats;
	child_send(&env.base);
	return 1;
}

static int dev_answer_stop(void *ctx, const ProtobufCMessage *m)
{
	return 0;
}

int dev_control_reply(const Moat__Dev__ControlResult *res)
{
	Moat__Dev__DeviceToMonitor env = MOAT__DEV__DEVICE_TO_MONITOR__INIT;

	env.msg_case = MOAT__DEV__DEVICE_TO_MONITOR__MSG_CONTROL_RESULT;
	env.control_result = (Moat__Dev__ControlResult *)res;
	return child_send(&env.base);
}

/* CONTROL: the kind's own request (disk swap, forward), answered now or,
 * if the kind defers it, later by the kind itself. */
static int dev_answer_control(void *ctx, const ProtobufCMessage *m, struct ipc_fds *fds)
{
	const struct dev_state *st = ctx;
	const Moat__Dev__ControlRequest *req = ((const Moat__Dev__MonitorToDevice *)m)->control;
	Moat__Dev__ControlResult res = MOAT__DEV__CONTROL_RESULT__INIT;

	if (!st->k->control) {
		res.error = "this device has no such operation";
		res.user_error = true;
	} else if (st->k->control(st->model, req, fds, &res) == DEV_CONTROL_LATER) {
		return 1;
	}
	res.seq = req->seq;
	res.ok = !res.error || !res.error[0];
	if (res.ok)
		res.error = "";
	dev_control_reply(&res);
	return 1;
}

static void send_paused(struct dev_state *st)
{
	Moat__Dev__Paused p = MOAT__DEV__PAUSED__INIT;
	Moat__Dev__DeviceToMonitor env = MOAT__DEV__DEVICE_TO_MONITOR__INIT;

	env.msg_case = MOAT__DEV__DEVICE_TO_MONITOR__MSG_PAUSED;
	env.paused = &p;
	child_send(&env.base);
	st->pause_owed = false;
}

/* PAUSE: stop serving the guest's queues and backends now (the loop no
 * longer polls them); say Paused once nothing is in flight. */
static int dev_answer_pause(void *ctx, const ProtobufCMessage *m)
{
	struct dev_state *st = ctx;

	st->paused = true;
	st->pause_owed = true;
	if (!st->k->idle || st->k->idle(st->model))
		send_paused(st);
	return 1;
}

static int dev_answer_resume(void *ctx, const ProtobufCMessage *m)
{
	struct dev_state *st = ctx;

	st->paused = false;
	st->pause_owed = false;
	return 1;
}

static int dev_answer_ping(void *ctx, const ProtobufCMessage *m)
{
	Moat__Dev__Pong pong = MOAT__DEV__PONG__INIT;
	Moat__Dev__DeviceToMonitor env = MOAT__DEV__DEVICE_TO_MONITOR__INIT;

	pong.seq = ((const Moat__Dev__MonitorToDevice *)m)->ping->seq;
	env.msg_case = MOAT__DEV__DEVICE_TO_MONITOR__MSG_PONG;
	env.pong = &pong;
	child_send(&env.base);
	return 1;
}

/* What the monitor may send once we serve. */
static const struct child_handler dev_handlers[] = {
    {.msg = MOAT__DEV__MONITOR_TO_DEVICE__MSG_STOP, .fn = dev_answer_stop},
    {.msg = MOAT__DEV__MONITOR_TO_DEVICE__MSG_STATS, .fn = dev_answer_stats},
    {.msg = MOAT__DEV__MONITOR_TO_DEVICE__MSG_CONTROL, .fn_fds = dev_answer_control},
    {.msg = MOAT__DEV__MONITOR_TO_DEVICE__MSG_PAUSE, .fn = dev_answer_pause},
    {.msg = MOAT__DEV__MONITOR_TO_DEVICE__MSG_RESUME, .fn = dev_answer_resume},
    {.msg = MOAT__DEV__MONITOR_TO_DEVICE__MSG_PING, .fn = dev_answer_ping},
};

/* Keep the state file up to date: written only when the state changed
 * (most writes are protocol steps that change no saved value). */
static void save_state(struct dev_state *st)
{
	uint8_t now[DEVSTATE_MAX_PAYLOAD];
	size_t n = st->k->save(st->model, now, sizeof(now));

	if (n == 0 || (n == st->nsaved && memcmp(now, st->saved, n) == 0))
		return;
	if (devstate_write(&st->state, now, n) == 0) {
		memcpy(st->saved, now, n);
		st->nsaved = n;
	}
}

/* A restartable kind: map its state file and, on a restart, give the
 * model what the previous process left (hostile input: the kind's
 * restore checks it). 0, or -errno with one line in err. */
static int restore_state(struct dev_state *st, const Moat__Dev__StartRequest *s,
			 struct ipc_fds *fds, char *err, size_t errlen)
{
	int fd, rc, n;

	if (!s->has_state || !st->k->save || !st->k->restore)
		return 0;
	fd = ipc_fds_take(fds, s->fd_state);
	if (fd < 0) {
		snprintf(err, errlen, "start: bad state descriptor");
		return -EBADF;
	}
	rc = devstate_map(fd, &st->state);
	close(fd);
	if (rc < 0) {
		snprintf(err, errlen, "cannot map the state file: %s", strerror(-rc));
		return rc;
	}
	n = devstate_read(&st->state, st->saved, sizeof(st->saved));
	if (n < 0) {
		snprintf(err, errlen, "the state the previous process left is malformed");
		return n;
	}
	st->nsaved = (size_t)n;
	rc = st->k->restore(st->model, st->saved, (size_t)n, st->state.live, st->state.live_len,
			    err, errlen);
	if (rc < 0)
		return rc;
	if (s->restarts)
		log_info("restarted (process %u of this device), %s", s->restarts + 1,
			 n > 0 ? "its state taken back" : "no state to take back");
	return 0;
}

static void serve_one(void *opaque, unsigned space, uint64_t addr, unsigned size, bool is_write,
		      uint64_t *data)
{
	struct dev_state *st = opaque;

	st->served++;
	st->k->io(st->model, space, addr, size, is_write, data);
	if (is_write && st->state.base)
		save_state(st);
}

static int dev_loop(struct dev_state *st)
{
	static struct pollfd p[2 + DEV_MAX_EXTRA_FDS];
	bool hot = false; /* the last spin served: requests may still stream */

	for (;;) {
		int n = 0, timeout = -1;

		p[0] = (struct pollfd){.fd = st->doorbell, .events = POLLIN};
		p[1] = (struct pollfd){.fd = CHILD_CONTROL_FD, .events = POLLIN};
		if (st->pause_owed) {
			if (!st->k->idle || st->k->idle(st->model))
				send_paused(st);
			else
				timeout = DEV_PAUSE_POLL_MS;
		}
		if (st->k->fds && !st->paused) {
			n = st->k->fds(st->model, p + 2, DEV_MAX_EXTRA_FDS, &timeout);
			if (n < 0)
				return log_error_errno(n, "Device descriptors: %m");
			if (n > DEV_MAX_EXTRA_FDS)
				n = DEV_MAX_EXTRA_FDS;
		}
		if (hot)
			timeout = 0;
		if (poll(p, 2 + (nfds_t)n, timeout) < 0) {
			if (errno != EINTR)
				return log_error_errno(errno, "poll: %m");
			for (int i = 0; i < 2 + n; i++)
				p[i].revents = 0;
		}
		/* Spin a little after each burst: an SMC key read is a few dozen
		 * accesses one KVM exit apart, and an awake server answers them
		 * for about the cost of handling them in moat-vcpu. The spin
		 * returns every millisecond even while requests stream (so this
		 * loop keeps its turn); if it served any, spin again at once
		 * rather than sleep until a requester rings and waits for the
		 * wake-up. A spin that served nothing ends the burst. */
		if (p[0].revents || hot) {
			int k = ioring_serve_spin(&st->ring, serve_one, st, DEV_SERVE_SPIN_NS);

			if (k == -EPIPE) {
				log_debug("moat-vcpu is gone; stopping");
				return 0;
			}
			hot = k > 0;
		}
		if (st->k->polled && !st->paused)
			st->k->polled(st->model, p + 2, (unsigned)n);
		if (p[1].revents) {
			int rc = child_dispatch(&moat__dev__monitor_to_device__descriptor,
						dev_handlers, ARRAY_SIZE(dev_handlers), st);
			if (rc <= 0)
				return rc;
		}
	}
}

static bool user_at_fault(int rc)
{
	return rc == -EINVAL || rc == -EADDRINUSE || rc == -EADDRNOTAVAIL;
}

/* The limits of a kind that names none (struct dev_kind's sandbox): one
 * thread, and no descriptor of its own beyond those it was given but a
 * few (a control message's, refused and closed). */
static const struct pol_limits dev_default_limits = {
    .nofile_extra = DEV_NOFILE_EXTRA,
    .nproc = 1,
};

static int dev_setup(struct dev_state *st, Moat__Dev__StartRequest *s, struct ipc_fds *fds)
{
	struct pol_report rep = {0};
	Moat__Sandbox__SandboxReport sr;
	struct pol_options opts = {0};
	const char *policy = st->k->kind;
	char err[256] = "";
	int ring_fd, rc;

	ring_fd = ipc_fds_take(fds, s->fd_ring);
	st->doorbell = ipc_fds_take(fds, s->fd_doorbell);
	if (ring_fd < 0 || st->doorbell < 0)
		return log_error_errno(EBADF, "start: descriptor indices do not match");
	if (st->k->sandbox && (rc = st->k->sandbox(s, &policy, &opts, err, sizeof(err))) < 0) {
		close(ring_fd);
		goto fail;
	}
	if (!opts.limits)
		opts.limits = &dev_default_limits;
	rc = child_enter_sandbox(policy, &opts, &rep, &sr);
	if (rc < 0)
		return rc;
	rc = ioring_map(ring_fd, &st->ring);
	close(ring_fd);
	if (rc == 0)
		rc = ioring_set_doorbell(&st->ring, st->doorbell);
	if (rc < 0)
		return log_error_errno(rc, "Failed to map the I/O ring: %m");
	if (st->k->init_fds)
		rc = st->k->init_fds(&st->model, s, fds, err, sizeof(err));
	else
		rc = st->k->init(&st->model, s, err, sizeof(err));
	if (rc == 0)
		rc = restore_state(st, s, fds, err, sizeof(err));
	if (rc < 0)
		goto fail;
	st->paused = s->paused; /* a successor under a paused VM (restart.c) */
	return send_ready(st, s->name, &sr);
fail:
	if (!err[0])
		snprintf(err, sizeof(err), "device set-up failed: %s", strerror(-rc));
	send_start_error(err, user_at_fault(rc));
	/* The monitor prints a user's error itself; log the rest. */
	if (!user_at_fault(rc))
		log_error("%s", err);
	return rc;
}

int dev_main(const struct dev_kind *k)
{
	struct dev_state st = {.k = k, .doorbell = -1};
	Moat__Dev__MonitorToDevice *env = NULL;
	struct ipc_fds fds = {0};
	char prefix[64];
	int rc;

	snprintf(prefix, sizeof(prefix), "moat-%s", k->kind);
	log_set_prefix(prefix);
	if (receive_start(&st, &env, &fds) < 0)
		return 1;
	snprintf(prefix, sizeof(prefix), "moat-%s/%s", k->kind, env->start->name);
	log_set_prefix(prefix);
	if (env->start->log_debug)
		log_set_level(LOG_LVL_DEBUG);
	rc = dev_setup(&st, env->start, &fds);
	wipe_secrets(env->start);
	protobuf_c_message_free_unpacked(&env->base, NULL);
	ipc_fds_close(&fds);
	if (rc < 0)
		return 1;
	rc = dev_loop(&st);
	if (k->destroy)
		k->destroy(st.model);
	return rc < 0 ? 1 : 0;
}
