/* A stand-in child that misbehaves on purpose, for the monitor's
 * hostile-child tests (hostile.sh). Copied into a directory as moat-vcpu,
 * moat-smc, moat-net and moat-blk, it is spawned by the real monitor code
 * (hostile_moat.c) exactly as the real children are, and reads what to do
 * from the file <its directory>/<its name>.mode, one word:
 *
 *   good            behave: READY; answer STATS, PAUSE and PING; on STOP
 *                   say EXIT (vcpu) and exit 0; on POWER_BUTTON too, as
 *                   moat-vcpu does when the guest does not listen for the
 *                   button; on RESET say EXIT (reset) and exit 0 (vcpu)
 *   mute-ping       behave, but never answer PING (a wedged child)
 *   tell            behave, and say on stderr "stand-in: ready" once READY
 *                   is sent (then "stand-in: got paused-start" if the
 *                   start request said to start paused) and "stand-in:
 *                   got NAME" for each request but PING (NAME its field in
 *                   the envelope: pause, resume, stats): what the monitor
 *                   asked of this process (device)
 *   pong-wrong      behave, but answer PING with another round's number
 *   paused-unasked  behave, but say PAUSED right after READY
 *   ctl-forged      behave, but send a CONTROL_RESULT nobody asked for
 *                   right after READY (device)
 *   deaf-button     behave, but let POWER_BUTTON go unanswered, as a
 *                   guest that listens and then does not power off (vcpu)
 *   ready-twice     READY, READY
 *   exit-twice      READY, EXIT (reset), EXIT (reset)         (vcpu)
 *   exit-sigsys     READY, EXIT (reset), then a syscall its policy kills
 *   stats-flood     READY, then 100,000 STATS nobody asked for (device)
 *   stats-fds       READY, then answer the STATS request with a descriptor
 *   ready-fds       READY carrying a descriptor
 *   escapes         strings with newlines, forged audit fields and
 *                   terminal escapes in every field the monitor shows
 *   hangup          READY, then close the channel and stay alive
 *   hangup-leader   READY, close the channel, and end the main thread
 *                   while another runs on: the process looks half dead
 *                   (a zombie leader), as if exiting slowly
 *   user-error      a start error that blames the user's configuration
 *                   ("stand-in: port in use"), then exit 1 (device)
 *   die-starting    sandboxed, then die (exit 3) without a word (device)
 *   slow-ready      behave, but wait a second before READY (device: the
 *                   others' failures come while it is still starting)
 *   wait-run        as moat-vcpu does when its StartRequest says hold:
 *                   READY, then take nothing but a RUN as the next
 *                   message (anything else: exit 4), then behave; says on
 *                   stderr that it waits and that it took RUN (vcpu)
 *   late-MODE       wait a second once sandboxed, then do MODE (device: so
 *                   that a held moat-vcpu is READY and waiting for RUN
 *                   when the device fails)
 *   lie             sandboxed, but claim a different policy size
 *   unconfined      no sandbox at all, while claiming a full one
 *   stderr          behave, after writing to stderr a forged "moat: error:"
 *                   line, terminal escapes, a line of 2000 bytes and 5000
 *                   more lines
 *   threads         behave, after starting threads until it cannot, and
 *                   saying how many on stderr ("threads: N")
 *   alloc           behave, after touching memory 16 MiB at a time until
 *                   something stops it, saying how far it got on stderr
 *   create-vm-late  as moat-vcpu does, stack the run phase's filter
 *                   (vcpu-run.policy) after READY, then ask for a new VM
 *                   (KVM_CREATE_VM), which only set-up may do
 *   scribble-state  behave, after writing a state file (ipc/devstate.h)
 *                   with a well-framed record whose SMC payload names the
 *                   read-only key OSK0 (device): what a compromised
 *                   moat-smc could leave for its successor
 *   scribble-inflight
 *                   behave, after writing a state file as a compromised
 *                   moat-blk could (scribble_blk.h): guest RAM filled with
 *                   a pattern, a valid transport image with queue 0 live,
 *                   and queue 0's in-flight record marking a head beyond
 *                   the queue's size (moat-blk)
 *   scribble-counter
 *                   the same, the record marking a head with a counter no
 *                   pop has given yet (>= next) (moat-blk)
 *   scribble-loop   the same, the record valid (head 0 taken), but the
 *                   descriptor chain from head 0 a loop (moat-blk)
 *   save-inflight   the same, with a record a real moat-blk could have
 *                   written (nothing in flight) (moat-blk)
 *   linger PORT     a TCP socket to 127.0.0.1:PORT with its buffers full
 *                   and a linger of an hour (made before the sandbox, so
 *                   whatever the policy), sent to the monitor 200 times
 *                   over in one message after READY: its last close would
 *                   block for the hour
 *
 * After misbehaving it waits to be killed. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "child.h"
#include "devstate.h"
#include "device.pb-c.h"
#include "scribble_blk.h"
#include "vcpu.pb-c.h"

static char mode[32];
static int mode_arg;
static bool is_vcpu;
static bool late; /* late-MODE */
static bool hold; /* the StartRequest said so (vcpu) */

/* Forged audit lines and terminal escapes, for every string field. */
#define EVIL "x\n2026-01-01T00:00:00Z moat[1] vm-end status=0\x1b]0;owned\x07\x1b[2J\"forged=1"

static void read_mode(const char *argv0)
{
	char exe[PATH_MAX], path[PATH_MAX + 64];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	FILE *f;

	if (n <= 0)
		exit(90);
	exe[n] = 0;
	*strrchr(exe, '/') = 0;
	snprintf(path, sizeof(path), "%s/%s.mode", exe, argv0);
	f = fopen(path, "r");
	if (!f || fscanf(f, "%31s %d", mode, &mode_arg) < 1)
		exit(91);
	fclose(f);
	late = strncmp(mode, "late-", 5) == 0;
	if (late)
		memmove(mode, mode + 5, strlen(mode + 5) + 1);
}

static bool is(const char *m)
{
	return strcmp(mode, m) == 0;
}

/* poll, not pause: pause is not in the policies, and a stand-in must
 * die only of what the monitor does to it. */
static void wait_forever(void)
{
	for (;;)
		poll(NULL, 0, -1);
}

/* Send an envelope, with one descriptor (our stdin) when with_fd. */
static void say(const ProtobufCMessage *env, bool with_fd)
{
	int fd = 0;

	ipc_send(CHILD_CONTROL_FD, env, with_fd ? &fd : NULL, with_fd ? 1 : 0);
}

/* READY, in the envelope of our channel (with a descriptor in ready-fds). */
static void send_ready(Moat__Sandbox__SandboxReport *sr)
{
	Moat__Vcpu__ReadyEvent vr = MOAT__VCPU__READY_EVENT__INIT;
	Moat__Vcpu__VcpuToMonitor venv = MOAT__VCPU__VCPU_TO_MONITOR__INIT;
	Moat__Dev__ReadyEvent dr = MOAT__DEV__READY_EVENT__INIT;
	Moat__Dev__DeviceToMonitor denv = MOAT__DEV__DEVICE_TO_MONITOR__INIT;

	vr.sandbox = dr.sandbox = sr;
	vr.kernel_format = is("escapes") ? EVIL : "bzImage";
	dr.kind = "smc";
	dr.name = "smc0";
	venv.msg_case = MOAT__VCPU__VCPU_TO_MONITOR__MSG_READY;
	venv.ready = &vr;
	denv.msg_case = MOAT__DEV__DEVICE_TO_MONITOR__MSG_READY;
	denv.ready = &dr;
	say(is_vcpu ? &venv.base : &denv.base, is("ready-fds"));
}

static void vcpu_exit(int reason)
{
	Moat__Vcpu__ExitEvent e = MOAT__VCPU__EXIT_EVENT__INIT;
	Moat__Vcpu__VcpuToMonitor env = MOAT__VCPU__VCPU_TO_MONITOR__INIT;

	e.reason = reason;
	e.detail = is("escapes") ? EVIL : "stand-in";
	e.register_dump = is("escapes") ? "RIP=0\n" EVIL "\nRSP=0\n" : "";
	env.msg_case = MOAT__VCPU__VCPU_TO_MONITOR__MSG_EXIT;
	env.exit = &e;
	say(&env.base, false);
}

static void dev_stats(bool with_fd)
{
	Moat__Dev__StatsResponse st = MOAT__DEV__STATS_RESPONSE__INIT;
	Moat__Dev__Counter c = MOAT__DEV__COUNTER__INIT;
	Moat__Dev__Counter *cp = &c;
	Moat__Dev__DeviceToMonitor env = MOAT__DEV__DEVICE_TO_MONITOR__INIT;

	c.name = "requests_seen";
	st.n_counters = 1;
	st.counters = &cp;
	env.msg_case = MOAT__DEV__DEVICE_TO_MONITOR__MSG_STATS;
	env.stats = &st;
	say(&env.base, with_fd);
}

/* PAUSED, in the envelope of our channel. */
static void say_paused(void)
{
	Moat__Vcpu__Paused vp = MOAT__VCPU__PAUSED__INIT;
	Moat__Vcpu__VcpuToMonitor venv = MOAT__VCPU__VCPU_TO_MONITOR__INIT;
	Moat__Dev__Paused dp = MOAT__DEV__PAUSED__INIT;
	Moat__Dev__DeviceToMonitor denv = MOAT__DEV__DEVICE_TO_MONITOR__INIT;

	venv.msg_case = MOAT__VCPU__VCPU_TO_MONITOR__MSG_PAUSED;
	venv.paused = &vp;
	denv.msg_case = MOAT__DEV__DEVICE_TO_MONITOR__MSG_PAUSED;
	denv.paused = &dp;
	say(is_vcpu ? &venv.base : &denv.base, false);
}

/* PONG for round seq (another round's in pong-wrong). */
static void say_pong(uint64_t seq)
{
	Moat__Vcpu__Pong vp = MOAT__VCPU__PONG__INIT;
	Moat__Vcpu__VcpuToMonitor venv = MOAT__VCPU__VCPU_TO_MONITOR__INIT;
	Moat__Dev__Pong dp = MOAT__DEV__PONG__INIT;
	Moat__Dev__DeviceToMonitor denv = MOAT__DEV__DEVICE_TO_MONITOR__INIT;

	vp.seq = dp.seq = is("pong-wrong") ? seq + 1000 : seq;
	venv.msg_case = MOAT__VCPU__VCPU_TO_MONITOR__MSG_PONG;
	venv.pong = &vp;
	denv.msg_case = MOAT__DEV__DEVICE_TO_MONITOR__MSG_PONG;
	denv.pong = &dp;
	say(is_vcpu ? &venv.base : &denv.base, false);
}

/* The round number of a PING, or 0 for any other message. */
static uint64_t ping_seq(const ProtobufCMessage *m)
{
	if (is_vcpu && ipc_envelope_case(m) == MOAT__VCPU__MONITOR_TO_VCPU__MSG_PING)
		return ((const Moat__Vcpu__MonitorToVcpu *)m)->ping->seq;
	if (!is_vcpu && ipc_envelope_case(m) == MOAT__DEV__MONITOR_TO_DEVICE__MSG_PING)
		return ((const Moat__Dev__MonitorToDevice *)m)->ping->seq;
	return 0;
}

/* The start request said to start paused (a successor under a paused VM). */
static bool started_paused;

/* A line on stderr in tell (write, not dprintf: one call, and nothing
 * more than the policies allow). */
static void tell(const char *what)
{
	char line[96];
	int n;

	if (!is("tell"))
		return;
	n = snprintf(line, sizeof(line), "stand-in: %s\n", what);
	(void)!write(2, line, (size_t)n);
}

/* tell: the request's name, its field in our envelope (none for PING). */
static void tell_request(int msg)
{
	const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field(
	    is_vcpu ? &moat__vcpu__monitor_to_vcpu__descriptor
		    : &moat__dev__monitor_to_device__descriptor,
	    (unsigned)msg);
	char what[64];

	if (f && strcmp(f->name, "ping") == 0)
		return;
	snprintf(what, sizeof(what), "got %s", f ? f->name : "?");
	tell(what);
}

/* Requests from the monitor while "serving": STOP ends us, STATS is
 * answered (with a descriptor in stats-fds), PAUSE and PING too. */
static void serve(void)
{
	for (;;) {
		struct pollfd p = {.fd = CHILD_CONTROL_FD, .events = POLLIN};
		ProtobufCMessage *m = NULL;
		struct ipc_fds fds;

		if (poll(&p, 1, -1) < 0)
			continue;
		if (ipc_recv(CHILD_CONTROL_FD,
			     is_vcpu ? &moat__vcpu__monitor_to_vcpu__descriptor
				     : &moat__dev__monitor_to_device__descriptor,
			     &m, &fds) < 0)
			_exit(0); /* the monitor is gone */
		ipc_fds_close(&fds);
		int msg = ipc_envelope_case(m);
		uint64_t seq = ping_seq(m);
		protobuf_c_message_free_unpacked(m, NULL);
		tell_request(msg);
		if (seq && !is("mute-ping"))
			say_pong(seq);
		if ((is_vcpu && msg == MOAT__VCPU__MONITOR_TO_VCPU__MSG_PAUSE) ||
		    (!is_vcpu && msg == MOAT__DEV__MONITOR_TO_DEVICE__MSG_PAUSE))
			say_paused();
		if (is_vcpu && msg == MOAT__VCPU__MONITOR_TO_VCPU__MSG_RESET) {
			vcpu_exit(MOAT__VCPU__EXIT_EVENT__REASON__RESET);
			_exit(0);
		}
		if (is_vcpu && msg == MOAT__VCPU__MONITOR_TO_VCPU__MSG_POWER_BUTTON &&
		    is("deaf-button"))
			continue;
		if (is_vcpu && (msg == MOAT__VCPU__MONITOR_TO_VCPU__MSG_STOP ||
				msg == MOAT__VCPU__MONITOR_TO_VCPU__MSG_POWER_BUTTON)) {
			vcpu_exit(MOAT__VCPU__EXIT_EVENT__REASON__STOPPED);
			_exit(0);
		}
		if (!is_vcpu && msg == MOAT__DEV__MONITOR_TO_DEVICE__MSG_STOP)
			_exit(0);
		if (!is_vcpu && msg == MOAT__DEV__MONITOR_TO_DEVICE__MSG_STATS)
			dev_stats(is("stats-fds"));
	}
}

static void *idle_thread(void *arg)
{
	for (;;)
		poll(NULL, 0, -1);
	return arg;
}

/* As many threads as the limits allow (a fork bomb, in threads: the only
 * kind the vcpu policy lets it start). */
static void start_threads(void)
{
	unsigned n = 0;
	pthread_t t;

	while (n < 100000 && pthread_create(&t, NULL, idle_thread, NULL) == 0)
		n++;
	dprintf(2, "threads: %u\n", n);
}

/* Touch memory until something stops it: a cgroup's memory.max kills it. */
static void touch_memory(void)
{
	for (unsigned mib = 16;; mib += 16) {
		char *p = mmap(NULL, 16 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			       -1, 0);
		if (p == MAP_FAILED) {
			dprintf(2, "alloc: mmap failed at %u MiB\n", mib);
			return;
		}
		memset(p, 1, 16 << 20);
		if (mib % 256 == 0)
			dprintf(2, "alloc: %u MiB\n", mib);
		if (mib >= 8192)
			return;
	}
}

/* Lines a compromised child would write to a terminal it held. */
static void scribble(void)
{
	static char longline[2001];

	dprintf(2, "moat: error: forged by the child\n");
	dprintf(2, "\x1b]0;owned\x07\x1b[2J\x1b[31mred\r\n");
	memset(longline, 'L', sizeof(longline) - 1);
	dprintf(2, "%s\n", longline);
	for (int i = 0; i < 5000; i++)
		dprintf(2, "flood %d\n", i);
}

/* wait-run: the next message must be RUN, as moat-vcpu's wait_for_run()
 * takes it; no timeout, as there: the monitor sends it or kills us. */
static void wait_run(void)
{
	ProtobufCMessage *m = NULL;
	struct ipc_fds fds;
	int msg;

	dprintf(2, "stand-in: READY, waiting for RUN (hold=%d)\n", hold);
	if (ipc_recv_wait(CHILD_CONTROL_FD, &moat__vcpu__monitor_to_vcpu__descriptor, &m, &fds,
			  -1) < 0)
		_exit(0); /* the monitor is gone */
	msg = ipc_envelope_case(m);
	ipc_fds_close(&fds);
	protobuf_c_message_free_unpacked(m, NULL);
	if (msg != MOAT__VCPU__MONITOR_TO_VCPU__MSG_RUN) {
		dprintf(2, "stand-in: expected RUN, got message %d\n", msg);
		_exit(4);
	}
	dprintf(2, "stand-in: RUN taken\n");
}

static void misbehave_vcpu(Moat__Sandbox__SandboxReport *sr)
{
	if (is("stderr"))
		scribble();
	if (is("threads"))
		start_threads();
	if (is("alloc"))
		touch_memory();
	send_ready(sr);
	if (is("wait-run"))
		wait_run();
	if (is("ready-twice"))
		send_ready(sr);
	if (is("paused-unasked"))
		say_paused();
	if (is("exit-twice") || is("exit-sigsys") || is("escapes"))
		vcpu_exit(is("escapes") ? MOAT__VCPU__EXIT_EVENT__REASON__TRIPLE_FAULT
					: MOAT__VCPU__EXIT_EVENT__REASON__RESET);
	if (is("exit-twice"))
		vcpu_exit(MOAT__VCPU__EXIT_EVENT__REASON__RESET);
	if (is("exit-sigsys"))
		syscall(SYS_socket, AF_INET, SOCK_STREAM, 0); /* not in vcpu.policy */
	if (is("create-vm-late")) {
		unsigned n;
		if (pol_load("vcpu-run", &n) < 0)
			_exit(94);
		ioctl(0, KVM_CREATE_VM, 0); /* the filter acts before any driver */
	}
	if (is("escapes"))
		_exit(1);
}

/* A socket whose last close waits: connected to a peer that never reads,
 * both buffers full, SO_LINGER an hour. */
static int lingering_socket(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons(port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct linger l = {.l_onoff = 1, .l_linger = 3600};
	static char junk[65536];
	int s = socket(AF_INET, SOCK_STREAM, 0);

	if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof(a)) < 0) {
		perror("stand-in: lingering socket");
		exit(92);
	}
	fcntl(s, F_SETFL, O_NONBLOCK);
	while (write(s, junk, sizeof(junk)) > 0)
		;
	setsockopt(s, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	return s;
}

static int lingering = -1;

/* By hand: more descriptors than ipc_send() would ever carry. */
static void send_lingering(void)
{
	Moat__Dev__StatsResponse st = MOAT__DEV__STATS_RESPONSE__INIT;
	Moat__Dev__DeviceToMonitor env = MOAT__DEV__DEVICE_TO_MONITOR__INIT;
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(200 * sizeof(int))];
	} ctl = {0};
	uint8_t msg[64];
	struct iovec iov = {.iov_base = msg};
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = ctl.buf,
			    .msg_controllen = sizeof(ctl.buf)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);

	env.msg_case = MOAT__DEV__DEVICE_TO_MONITOR__MSG_STATS;
	env.stats = &st;
	iov.iov_len = protobuf_c_message_pack(&env.base, msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(200 * sizeof(int));
	for (unsigned i = 0; i < 200; i++)
		memcpy(CMSG_DATA(c) + i * sizeof(int), &lingering, sizeof(int));
	if (sendmsg(CHILD_CONTROL_FD, &mh, MSG_NOSIGNAL) < 0)
		exit(93);
	close(lingering); /* the monitor's copies are the last */
}

/* A record in the state file that is well framed (devstate accepts it)
 * but whose SMC payload (smc_state_load's version 1) names OSK0, a key
 * the guest cannot write: the successor must refuse it. */
static void scribble_state(const Moat__Dev__MonitorToDevice *env, struct ipc_fds *fds)
{
	static const uint8_t bad[] = {1, 'O', 'S', 'K', '0', 32};
	struct devstate st;
	int fd;

	if (!env->start->has_state || (fd = ipc_fds_take(fds, env->start->fd_state)) < 0 ||
	    devstate_map(fd, &st) < 0 || devstate_write(&st, bad, sizeof(bad)) < 0)
		exit(94);
	close(fd);
}

/* The disk's state-file modes (scribble_blk.h): what each leaves, or -1
 * for another mode. */
static int scribble_how(void)
{
	static const struct {
		const char *mode;
		enum scribble_blk how;
	} modes[] = {
	    {"save-inflight", SCRIBBLE_BLK_GOOD},
	    {"scribble-inflight", SCRIBBLE_BLK_HEAD},
	    {"scribble-counter", SCRIBBLE_BLK_COUNTER},
	    {"scribble-loop", SCRIBBLE_BLK_LOOP},
	};

	for (unsigned i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (is(modes[i].mode))
			return (int)modes[i].how;
	return -1;
}

static void misbehave_device(Moat__Sandbox__SandboxReport *sr)
{
	if (late)
		usleep(1000 * 1000);
	if (is("die-starting"))
		_exit(3);
	if (is("slow-ready"))
		usleep(1000 * 1000);
	if (is("escapes") || is("user-error")) {
		Moat__Dev__StartError e = MOAT__DEV__START_ERROR__INIT;
		Moat__Dev__DeviceToMonitor env = MOAT__DEV__DEVICE_TO_MONITOR__INIT;
		e.message = is("user-error") ? "stand-in: port in use" : EVIL;
		e.user_error = is("user-error");
		env.msg_case = MOAT__DEV__DEVICE_TO_MONITOR__MSG_START_ERROR;
		env.start_error = &e;
		say(&env.base, false);
		_exit(1);
	}
	send_ready(sr);
	tell("ready");
	if (started_paused)
		tell("got paused-start");
	if (is("ready-twice"))
		send_ready(sr);
	if (is("paused-unasked"))
		say_paused();
	if (is("ctl-forged")) {
		Moat__Dev__ControlResult r = MOAT__DEV__CONTROL_RESULT__INIT;
		Moat__Dev__DeviceToMonitor env = MOAT__DEV__DEVICE_TO_MONITOR__INIT;
		r.seq = 1;
		r.ok = true;
		env.msg_case = MOAT__DEV__DEVICE_TO_MONITOR__MSG_CONTROL_RESULT;
		env.control_result = &r;
		say(&env.base, false);
	}
	for (int i = 0; is("stats-flood") && i < 100000; i++)
		dev_stats(false);
	if (is("linger"))
		send_lingering();
}

int main(int argc, char **argv)
{
	ProtobufCMessage *start = NULL;
	struct ipc_fds fds;
	struct pol_report rep = {0};
	Moat__Sandbox__SandboxReport sr = MOAT__SANDBOX__SANDBOX_REPORT__INIT;

	const char *policy = strcmp(argv[0], "moat-net") == 0	? "net-user"
			     : strcmp(argv[0], "moat-blk") == 0 ? "blk"
								: "smc";

	is_vcpu = strcmp(argv[0], "moat-vcpu") == 0;
	read_mode(argv[0]);
	if (child_recv_start(is_vcpu ? &moat__vcpu__monitor_to_vcpu__descriptor
				     : &moat__dev__monitor_to_device__descriptor,
			     is_vcpu ? MOAT__VCPU__MONITOR_TO_VCPU__MSG_START
				     : MOAT__DEV__MONITOR_TO_DEVICE__MSG_START,
			     &start, &fds) < 0)
		return 1;
	if (is("scribble-state"))
		scribble_state((const Moat__Dev__MonitorToDevice *)start, &fds);
	if (scribble_how() >= 0 &&
	    scribble_blk(((Moat__Dev__MonitorToDevice *)start)->start, &fds, scribble_how()) < 0)
		exit(94);
	if (!is_vcpu)
		started_paused = ((Moat__Dev__MonitorToDevice *)start)->start->paused;
	else
		hold = ((Moat__Vcpu__MonitorToVcpu *)start)->start->hold;
	ipc_fds_close(&fds);
	protobuf_c_message_free_unpacked(start, NULL);
	if (is("linger"))
		lingering = lingering_socket(mode_arg);
	if (is("unconfined")) {
		/* claim what a confined child would */
		sr.caps_all_zero = sr.no_new_privs = true;
		sr.seccomp_mode = 2;
		sr.policy_syscalls = 51;
		sr.namespaces = "user,mnt,pid,net,ipc,uts,cgroup";
	} else if (child_enter_sandbox(is_vcpu ? "vcpu" : policy, NULL, &rep, &sr) < 0) {
		return 1;
	}
	if (is("lie"))
		sr.policy_syscalls += 7;
	if (is_vcpu)
		misbehave_vcpu(&sr);
	else
		misbehave_device(&sr);
	if (is("hangup") || is("hangup-leader"))
		close(CHILD_CONTROL_FD);
	if (is("hangup-leader")) {
		pthread_t t;
		/* the raw exit of this thread alone: pthread_exit would load
		 * the unwinder, which the policy does not allow */
		if (pthread_create(&t, NULL, idle_thread, NULL) == 0)
			syscall(SYS_exit, 0);
	}
	if (is("good") || is("stats-fds") || is("stderr") || is("threads") || is("alloc") ||
	    is("deaf-button") || is("mute-ping") || is("pong-wrong") || is("paused-unasked") ||
	    is("ctl-forged") || is("slow-ready") || is("tell") || is("scribble-state") ||
	    is("wait-run") || scribble_how() >= 0)
		serve();
	wait_forever();
}
