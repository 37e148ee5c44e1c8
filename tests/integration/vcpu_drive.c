/* vcpu-drive: the monitor's end of moat-vcpu's control channel, for tests
 * of the requests the monitor cannot send yet from a command (pause,
 * resume, reset, ping). It starts the real moat-vcpu as the monitor does,
 * in namespaces of its own (unshare(1): user, mapped to our uid, mount,
 * pid, ipc, uts, net; moat-vcpu then builds its own sandbox), with fd 3
 * its control channel and a start request for the given kernel, its
 * console on pipes (and -i, an initrd; -m, the RAM in MiB, 64 without);
 * -d adds a device on the SMC's ports (0x300-0x31f)
 * whose ring nobody serves, so a vCPU that reads them stays busy with that
 * one exit until moat-vcpu gives up on the device (REMOTE_TIMEOUT_MS).
 *
 * Then it runs the steps, in order, each announced with the time since
 * the start ("step pause @1234": ms), details on their own lines, and
 * shows the console at the end; the first
 * that fails ends the run (exit 1, moat-vcpu killed). Every message from
 * moat-vcpu is queued and must be taken by a step: one nobody expected
 * fails the next "none" step and the end of the run.
 *
 *   wait:TEXT     the console shows TEXT (after the mark) within 30 s (-t)
 *   mark          later waits look only at output from here on
 *   input:TEXT    type TEXT on the console
 *   quiet:MS      the console stays silent for MS ms
 *   sleep:MS      keep serving the console and the channel for MS ms
 *   pause         send PauseRequest and take a Paused within 30 s
 *   pause-send    send PauseRequest only
 *   paused:MS     take a Paused within MS ms
 *   resume        send ResumeRequest
 *   ping:0|1      send PingRequest, take the Pong with its seq within 5 s,
 *                 whose stalled must be 0 or 1
 *   none:MS       no message from moat-vcpu for MS ms
 *   reset, stop   send ResetRequest or StopRequest
 *   exit:REASON   take an ExitEvent with that reason (RESET, STOPPED...)
 *                 within 30 s, then moat-vcpu must end with status 0 within
 *                 5 s; prints the detail
 *
 * Usage: vcpu-drive [-c CPUS] [-m MIB] [-i INITRD] [-t WAIT_S] [-d] [-v]
 *                   MOAT_VCPU KERNEL CMDLINE STEP... */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "channel.h"
#include "ioring.h"
#include "vcpu.pb-c.h"

#define SMC_BASE      0x300
#define SMC_LEN	      0x20
#define CONSOLE_MAX   (1u << 20)
#define QUEUE_MAX     64
#define LONG_WAIT_MS  30000
#define SHORT_WAIT_MS 5000

/* One message from moat-vcpu, as far as the steps look at it. */
struct event {
	int kind; /* Moat__Vcpu__VcpuToMonitor__MsgCase */
	uint64_t seq;
	bool stalled;
	int reason;
	char detail[160];
};

static struct {
	pid_t pid;
	int ctl, con_out, con_in;
	char con[CONSOLE_MAX + 1];
	size_t ncon, mark;
	struct event q[QUEUE_MAX];
	unsigned nq;
	uint64_t ping_seq;
	bool eof;
	bool dead; /* reaped: status says how it ended */
	int status;
	uint64_t t0;
	int wait_ms; /* of a wait step */
} d = {.pid = -1, .ctl = -1, .con_out = -1, .con_in = -1};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void kill_child(void)
{
	if (d.pid > 0 && !d.dead) {
		kill(d.pid, SIGKILL);
		waitpid(d.pid, NULL, 0);
	}
	d.pid = -1;
}

/* How moat-vcpu ended (unshare(1) ends as its child did: the same status,
 * or killed by the same signal). */
static void describe_end(char *buf, size_t len)
{
	if (WIFSIGNALED(d.status))
		snprintf(buf, len, "killed by signal %s%s", sigabbrev_np(WTERMSIG(d.status)) ?: "?",
			 WTERMSIG(d.status) == SIGSYS ? " (its seccomp filter)" : "");
	else
		snprintf(buf, len, "exited with status %d", WEXITSTATUS(d.status));
}

static void __attribute__((noreturn, format(printf, 1, 2))) fail(const char *fmt, ...)
{
	va_list ap;

	printf("FAILED: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	if (d.dead) {
		char how[64];
		describe_end(how, sizeof(how));
		printf(" (moat-vcpu %s)", how);
	}
	printf("\n--- console ---\n%s\n---\n", d.con);
	fflush(stdout);
	kill_child();
	exit(1);
}

static void queue(const Moat__Vcpu__VcpuToMonitor *m)
{
	struct event *e;

	if (d.nq == QUEUE_MAX)
		fail("more than %u messages nobody took", QUEUE_MAX);
	e = &d.q[d.nq++];
	*e = (struct event){.kind = m->msg_case};
	if (m->msg_case == MOAT__VCPU__VCPU_TO_MONITOR__MSG_PONG) {
		e->seq = m->pong->seq;
		e->stalled = m->pong->stalled;
	} else if (m->msg_case == MOAT__VCPU__VCPU_TO_MONITOR__MSG_EXIT) {
		e->reason = m->exit->reason;
		snprintf(e->detail, sizeof(e->detail), "%s",
			 m->exit->detail ? m->exit->detail : "");
	} else if (m->msg_case == MOAT__VCPU__VCPU_TO_MONITOR__MSG_BAD_INPUT) {
		snprintf(e->detail, sizeof(e->detail), "%s", m->bad_input->message);
	}
}

/* Serve the console and the channel until deadline (absolute, ms). */
static void pump_until(uint64_t deadline)
{
	for (;;) {
		uint64_t now = now_ms();
		struct pollfd p[2] = {
		    {.fd = d.eof ? -1 : d.ctl, .events = POLLIN},
		    {.fd = d.con_out, .events = POLLIN},
		};

		if (now >= deadline)
			return;
		if (poll(p, 2, (int)(deadline - now)) < 0 && errno != EINTR)
			fail("poll: %s", strerror(errno));
		if (p[1].revents) {
			ssize_t n = read(d.con_out, d.con + d.ncon, CONSOLE_MAX - d.ncon);
			if (n > 0)
				d.ncon += (size_t)n, d.con[d.ncon] = 0;
			else if (n == 0 || d.ncon == CONSOLE_MAX)
				d.con_out = -1;
		}
		if (p[0].revents) {
			ProtobufCMessage *m = NULL;
			struct ipc_fds fds;
			int rc =
			    ipc_recv(d.ctl, &moat__vcpu__vcpu_to_monitor__descriptor, &m, &fds);
			if (rc == -EPIPE)
				d.eof = true;
			else if (rc < 0 && rc != -EAGAIN)
				fail("moat-vcpu sent garbage (%s)", strerror(-rc));
			if (rc == 0) {
				if (fds.n)
					fail("moat-vcpu sent %u descriptors", fds.n);
				queue((const Moat__Vcpu__VcpuToMonitor *)m);
				protobuf_c_message_free_unpacked(m, NULL);
			}
		}
	}
}

/* Has moat-vcpu ended? Once it has, what it sent before is read at once
 * (unshare(1) keeps the channel open, so no hang-up would say it). */
static void reap(void)
{
	if (d.pid > 0 && !d.dead && waitpid(d.pid, &d.status, WNOHANG) == d.pid) {
		d.dead = true;
		pump_until(now_ms() + 50);
	}
}

/* Take the first queued message of kind within timeout_ms; NULL if none
 * came, or moat-vcpu ended without sending it. Other messages stay
 * queued. */
static struct event *take(int kind, int timeout_ms, struct event *out)
{
	uint64_t deadline = now_ms() + (uint64_t)timeout_ms;

	for (;;) {
		bool was_dead = d.dead;

		for (unsigned i = 0; i < d.nq; i++) {
			if (d.q[i].kind != kind)
				continue;
			*out = d.q[i];
			memmove(&d.q[i], &d.q[i + 1], (d.nq - i - 1) * sizeof(d.q[0]));
			d.nq--;
			return out;
		}
		if (was_dead || now_ms() >= deadline)
			return NULL;
		pump_until(now_ms() + 10 < deadline ? now_ms() + 10 : deadline);
		reap();
	}
}

static void send_env(Moat__Vcpu__MonitorToVcpu *env, const int *fds, unsigned n)
{
	int rc = ipc_send(d.ctl, &env->base, fds, n);

	if (rc < 0)
		fail("sending to moat-vcpu: %s", strerror(-rc));
}

/* The guest's RAM as the monitor makes it: a memfd sealed at its size. */
static int make_ram(uint64_t bytes)
{
	int fd = memfd_create("vcpu-drive-ram", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd < 0 || ftruncate(fd, (off_t)bytes) < 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0)
		fail("guest RAM memfd: %s", strerror(errno));
	return fd;
}

struct options {
	unsigned cpus;
	uint64_t mem_bytes;
	bool deaf_smc, verbose;
	const char *vcpu, *kernel, *initrd, *cmdline;
};

/* The start request: [0] /dev/kvm, [1] RAM, [2] kernel, [3] console out,
 * [4] console in, then the initrd (-i) and the deaf device's ring and
 * doorbell (-d). */
static void send_start(const struct options *o)
{
	Moat__Vcpu__StartRequest s = MOAT__VCPU__START_REQUEST__INIT;
	Moat__Vcpu__MonitorToVcpu env = MOAT__VCPU__MONITOR_TO_VCPU__INIT;
	Moat__Vcpu__DeviceAttach att = MOAT__VCPU__DEVICE_ATTACH__INIT;
	Moat__Vcpu__DeviceAttach *attp[1] = {&att};
	int out[2], in[2], bell[2], fds[8];
	unsigned n = 0;

	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(in, O_CLOEXEC | O_NONBLOCK) < 0)
		fail("pipe: %s", strerror(errno));
	d.con_out = out[0];
	d.con_in = in[1];
	s.mem_bytes = o->mem_bytes;
	s.cpus = o->cpus;
	s.cmdline = (char *)o->cmdline;
	s.log_debug = o->verbose;
	s.serial = MOAT__VCPU__SERIAL_MODE__SERIAL_STREAM;
	s.serial_has_input = true;
	s.fd_kvm = n, fds[n++] = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	s.fd_mem = n, fds[n++] = make_ram(o->mem_bytes);
	s.fd_kernel = n, fds[n++] = open(o->kernel, O_RDONLY | O_CLOEXEC);
	s.fd_serial_out = n, fds[n++] = out[1];
	s.fd_serial_in = n, fds[n++] = in[0];
	if (fds[0] < 0 || fds[2] < 0)
		fail("cannot open /dev/kvm or %s: %s", o->kernel, strerror(errno));
	if (o->initrd) {
		s.has_initrd = true;
		s.fd_initrd = n, fds[n++] = open(o->initrd, O_RDONLY | O_CLOEXEC);
		if (fds[s.fd_initrd] < 0)
			fail("cannot open %s: %s", o->initrd, strerror(errno));
	}
	if (o->deaf_smc) {
		att.name = "deaf";
		att.pio_base = SMC_BASE;
		att.pio_len = SMC_LEN;
		att.fd_ring = n, fds[n++] = ioring_create_fd(o->cpus);
		if (fds[att.fd_ring] < 0 ||
		    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, bell) < 0)
			fail("the deaf device's ring: %s", strerror(errno));
		att.fd_doorbell = n, fds[n++] = bell[0];
		/* bell[1] stays open and unread: the device lives, and says nothing */
		s.n_devices = 1;
		s.devices = attp;
	}
	env.msg_case = MOAT__VCPU__MONITOR_TO_VCPU__MSG_START;
	env.start = &s;
	send_env(&env, fds, n);
	for (unsigned i = 0; i < n; i++)
		close(fds[i]);
}

/* moat-vcpu under unshare(1), which forks it as pid 1 of the new pid
 * namespace and ends with its status (or its signal). */
static void spawn(const struct options *o)
{
	int sv[2];

	if (ipc_channel_pair(sv) < 0)
		fail("socketpair: %s", strerror(errno));
	fflush(stdout);
	d.pid = fork();
	if (d.pid < 0)
		fail("fork: %s", strerror(errno));
	if (d.pid == 0) {
		int null = open("/dev/null", O_RDONLY);
		/* dup2 clears close-on-exec: the channel is the only descriptor
		 * moat-vcpu inherits (with stdout and stderr, its log) */
		if (null < 0 || dup2(null, 0) < 0 || dup2(sv[1], 3) < 0 ||
		    prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
			_exit(127);
		execlp("unshare", "unshare", "--user", "--map-root-user", "--mount", "--pid",
		       "--fork", "--kill-child", "--ipc", "--uts", "--net", "--", o->vcpu,
		       (char *)NULL);
		_exit(127);
	}
	close(sv[1]);
	d.ctl = sv[0];
}

static void send_simple(int msg_case)
{
	Moat__Vcpu__MonitorToVcpu env = MOAT__VCPU__MONITOR_TO_VCPU__INIT;
	Moat__Vcpu__PauseRequest pause = MOAT__VCPU__PAUSE_REQUEST__INIT;
	Moat__Vcpu__ResumeRequest resume = MOAT__VCPU__RESUME_REQUEST__INIT;
	Moat__Vcpu__ResetRequest reset = MOAT__VCPU__RESET_REQUEST__INIT;
	Moat__Vcpu__StopRequest stop = MOAT__VCPU__STOP_REQUEST__INIT;

	env.msg_case = msg_case;
	switch (msg_case) {
	case MOAT__VCPU__MONITOR_TO_VCPU__MSG_PAUSE:
		env.pause = &pause;
		break;
	case MOAT__VCPU__MONITOR_TO_VCPU__MSG_RESUME:
		env.resume = &resume;
		break;
	case MOAT__VCPU__MONITOR_TO_VCPU__MSG_RESET:
		env.reset = &reset;
		break;
	default:
		env.stop = &stop;
		break;
	}
	send_env(&env, NULL, 0);
}

static const char *reason_name(int reason)
{
	const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
	    &moat__vcpu__exit_event__reason__descriptor, reason);

	return v ? v->name : "?";
}

static const char *kind_name(int kind)
{
	const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field(
	    &moat__vcpu__vcpu_to_monitor__descriptor, (unsigned)kind);

	return f ? f->name : "?";
}

static void step_paused(int timeout_ms, uint64_t t0)
{
	struct event e;

	if (!take(MOAT__VCPU__VCPU_TO_MONITOR__MSG_PAUSED, timeout_ms, &e))
		fail("no Paused%s within %d ms", d.dead ? " before its end" : "", timeout_ms);
	printf("paused after %llu ms\n", (unsigned long long)(now_ms() - t0));
}

static void step_ping(const char *arg)
{
	Moat__Vcpu__MonitorToVcpu env = MOAT__VCPU__MONITOR_TO_VCPU__INIT;
	Moat__Vcpu__PingRequest ping = MOAT__VCPU__PING_REQUEST__INIT;
	uint64_t t0 = now_ms();
	struct event e;

	ping.seq = ++d.ping_seq;
	env.msg_case = MOAT__VCPU__MONITOR_TO_VCPU__MSG_PING;
	env.ping = &ping;
	send_env(&env, NULL, 0);
	if (!take(MOAT__VCPU__VCPU_TO_MONITOR__MSG_PONG, SHORT_WAIT_MS, &e))
		fail("no Pong%s within %d ms", d.dead ? " before its end" : "", SHORT_WAIT_MS);
	if (e.seq != ping.seq)
		fail("Pong seq %llu to ping %llu", (unsigned long long)e.seq,
		     (unsigned long long)ping.seq);
	printf("pong seq=%llu stalled=%d after %llu ms\n", (unsigned long long)e.seq, e.stalled,
	       (unsigned long long)(now_ms() - t0));
	if (e.stalled != (strcmp(arg, "1") == 0))
		fail("stalled is %d, expected %s", e.stalled, arg);
}

/* The ExitEvent, then the end of the process with status 0. */
static void step_exit(const char *reason)
{
	uint64_t deadline;
	struct event e;
	char how[64];

	if (!take(MOAT__VCPU__VCPU_TO_MONITOR__MSG_EXIT, LONG_WAIT_MS, &e))
		fail("no ExitEvent within %d ms", LONG_WAIT_MS);
	printf("exit reason=%s detail=\"%s\"\n", reason_name(e.reason), e.detail);
	if (strcmp(reason_name(e.reason), reason) != 0)
		fail("exit reason %s, expected %s", reason_name(e.reason), reason);
	deadline = now_ms() + SHORT_WAIT_MS;
	while (!d.dead) {
		if (now_ms() >= deadline)
			fail("moat-vcpu still runs %d ms after its ExitEvent", SHORT_WAIT_MS);
		pump_until(now_ms() + 10);
		reap();
	}
	describe_end(how, sizeof(how));
	printf("moat-vcpu %s\n", how);
	if (!WIFEXITED(d.status) || WEXITSTATUS(d.status) != 0)
		fail("moat-vcpu did not end with status 0");
	d.pid = -1; /* ended as asked */
}

static void step_wait(const char *text)
{
	uint64_t deadline = now_ms() + (uint64_t)d.wait_ms;

	while (!strstr(d.con + d.mark, text)) {
		if (d.dead || now_ms() >= deadline)
			fail("\"%s\" not on the console within %d ms", text, d.wait_ms);
		pump_until(now_ms() + 10);
		reap();
	}
}

static void step_quiet(int ms)
{
	size_t before = d.ncon;

	pump_until(now_ms() + (uint64_t)ms);
	reap();
	if (d.ncon != before)
		fail("the console went on while it should be quiet: \"%s\"", d.con + before);
}

static void step_none(int ms)
{
	pump_until(now_ms() + (uint64_t)ms);
	reap();
	if (d.dead)
		fail("moat-vcpu ended");
	if (d.nq)
		fail("an unexpected message from moat-vcpu: %s", kind_name(d.q[0].kind));
}

static void step_input(const char *text)
{
	if (write(d.con_in, text, strlen(text)) != (ssize_t)strlen(text))
		fail("typing on the console: %s", strerror(errno));
}

static void run_step(const char *step)
{
	const char *colon = strchr(step, ':');
	const char *arg = colon ? colon + 1 : "";
	size_t len = colon ? (size_t)(colon - step) : strlen(step);
	uint64_t t0 = now_ms();

#define IS(name) (len == strlen(name) && strncmp(step, name, len) == 0)
	printf("step %s @%llu\n", step, (unsigned long long)(now_ms() - d.t0));
	if (IS("wait"))
		step_wait(arg);
	else if (IS("mark"))
		d.mark = d.ncon;
	else if (IS("input"))
		step_input(arg);
	else if (IS("quiet"))
		step_quiet(atoi(arg));
	else if (IS("sleep"))
		pump_until(now_ms() + (uint64_t)atoi(arg)), reap();
	else if (IS("pause"))
		send_simple(MOAT__VCPU__MONITOR_TO_VCPU__MSG_PAUSE), step_paused(LONG_WAIT_MS, t0);
	else if (IS("pause-send"))
		send_simple(MOAT__VCPU__MONITOR_TO_VCPU__MSG_PAUSE);
	else if (IS("paused"))
		step_paused(atoi(arg), t0);
	else if (IS("resume"))
		send_simple(MOAT__VCPU__MONITOR_TO_VCPU__MSG_RESUME);
	else if (IS("ping"))
		step_ping(arg);
	else if (IS("none"))
		step_none(atoi(arg));
	else if (IS("reset"))
		send_simple(MOAT__VCPU__MONITOR_TO_VCPU__MSG_RESET);
	else if (IS("stop"))
		send_simple(MOAT__VCPU__MONITOR_TO_VCPU__MSG_STOP);
	else if (IS("exit"))
		step_exit(arg);
	else
		fail("unknown step %s", step);
#undef IS
	fflush(stdout);
}

int main(int argc, char **argv)
{
	struct options o = {.cpus = 1, .mem_bytes = 64u << 20};
	struct event e;
	int c;

	d.t0 = now_ms();
	d.wait_ms = LONG_WAIT_MS;
	while ((c = getopt(argc, argv, "+c:m:i:t:dv")) != -1) {
		if (c == 'c')
			o.cpus = (unsigned)atoi(optarg);
		else if (c == 'm')
			o.mem_bytes = (uint64_t)atoi(optarg) << 20;
		else if (c == 'i')
			o.initrd = optarg;
		else if (c == 't')
			d.wait_ms = atoi(optarg) * 1000;
		else if (c == 'd')
			o.deaf_smc = true;
		else if (c == 'v')
			o.verbose = true;
		else
			return 2;
	}
	if (argc - optind < 3) {
		fprintf(stderr,
			"usage: vcpu-drive [-c CPUS] [-m MIB] [-i INITRD] [-t WAIT_S] [-d] [-v] "
			"MOAT_VCPU KERNEL CMDLINE STEP...\n");
		return 2;
	}
	o.vcpu = argv[optind];
	o.kernel = argv[optind + 1];
	o.cmdline = argv[optind + 2];
	signal(SIGPIPE, SIG_IGN);
	spawn(&o);
	send_start(&o);
	if (!take(MOAT__VCPU__VCPU_TO_MONITOR__MSG_READY, LONG_WAIT_MS, &e))
		fail("no READY from moat-vcpu (%s)",
		     take(MOAT__VCPU__VCPU_TO_MONITOR__MSG_BAD_INPUT, 0, &e) ? e.detail : "");
	printf("ready\n");
	for (int i = optind + 3; i < argc; i++)
		run_step(argv[i]);
	reap();
	if (d.dead && d.pid > 0) /* step_exit clears pid once it saw the end */
		fail("moat-vcpu ended before its exit step");
	if (d.nq)
		fail("an unexpected message from moat-vcpu: %s", kind_name(d.q[0].kind));
	kill_child();
	printf("done\n--- console ---\n%s\n---\n", d.con);
	return 0;
}
