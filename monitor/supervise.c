#include "supervise.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "channel.h"
#include "fdutil.h"
#include "audit.h"
#include "log.h"
#include "paths.h"
#include "run.h"
#include "vcpu.pb-c.h"

#define STOP_GRACE_MS 3000

static void on_ready(struct mon_vm *vm, const Moat__Vcpu__ReadyEvent *r)
{
	const Moat__Sandbox__SandboxReport *s = r->sandbox;

	vm->ready = true;
	if (!s) {
		log_warn("moat-vcpu reported no sandbox state");
		return;
	}
	mon_audit("child-ready",
		  "child=vcpu pid=%d kernel=%s uid=%u caps=%s no_new_privs=%d seccomp=%u "
		  "syscalls=%u namespaces=%s",
		  (int)vm->vcpu.pid, r->kernel_format ? r->kernel_format : "?", s->uid,
		  s->caps_all_zero ? "none" : "SOME", s->no_new_privs, s->seccomp_mode,
		  s->policy_syscalls, s->namespaces ? s->namespaces : "?");
	if (!s->caps_all_zero || !s->no_new_privs || s->seccomp_mode != 2)
		log_warn("moat-vcpu is not fully sandboxed");
}

static void on_exit_event(struct mon_vm *vm, const Moat__Vcpu__ExitEvent *e)
{
	vm->got_exit = true;
	vm->exit_reason = e->reason;
	snprintf(vm->exit_detail, sizeof(vm->exit_detail), "%s", e->detail ? e->detail : "");
	free(vm->exit_dump);
	vm->exit_dump = e->register_dump && *e->register_dump ? strdup(e->register_dump) : NULL;
}

/* One message from moat-vcpu. Returns 0, or -errno when the child must be
 * cut off (garbage, descriptors it has no business sending). */
static int mon_dispatch_vcpu(struct mon_vm *vm)
{
	ProtobufCMessage *m = NULL;
	struct ipc_fds fds;
	int rc = ipc_recv(vm->ctl, &moat__vcpu__vcpu_to_monitor__descriptor, &m, &fds);

	if (rc < 0)
		return rc;
	if (fds.n) {
		ipc_fds_close(&fds);
		rc = -EPROTO;
		goto out;
	}
	Moat__Vcpu__VcpuToMonitor *env = (Moat__Vcpu__VcpuToMonitor *)m;
	switch (env->msg_case) {
	case MOAT__VCPU__VCPU_TO_MONITOR__MSG_READY:
		on_ready(vm, env->ready);
		break;
	case MOAT__VCPU__VCPU_TO_MONITOR__MSG_EXIT:
		on_exit_event(vm, env->exit);
		break;
	case MOAT__VCPU__VCPU_TO_MONITOR__MSG_BAD_INPUT:
		free(vm->bad_input);
		vm->bad_input = strdup(env->bad_input->message ? env->bad_input->message : "?");
		break;
	default:
		rc = -EPROTO;
		break;
	}
out:
	protobuf_c_message_free_unpacked(m, NULL);
	return rc;
}

static void drain_control(struct mon_vm *vm)
{
	int rc;

	while ((rc = mon_dispatch_vcpu(vm)) == 0)
		;
	if (rc != -EAGAIN && rc != -EPIPE)
		log_warn_errno(rc, "moat-vcpu sent a bad control message: %m");
}

/* Copy guest output to stdout; returns false at end of output. */
static bool relay_output(struct mon_vm *vm)
{
	uint8_t buf[16384];
	ssize_t n = read(vm->console_out, buf, sizeof(buf));

	if (n < 0)
		return errno == EAGAIN || errno == EINTR;
	if (n == 0)
		return false;
	fd_write_full(STDOUT_FILENO, buf, n);
	return true;
}

/* After the child is gone: copy what is left, stop at end or EAGAIN. */
static void drain_output(struct mon_vm *vm)
{
	uint8_t buf[16384];
	ssize_t n;

	if (vm->console_out < 0)
		return;
	while ((n = read(vm->console_out, buf, sizeof(buf))) > 0)
		fd_write_full(STDOUT_FILENO, buf, n);
}

static void request_stop(struct mon_vm *vm, const char *why)
{
	Moat__Vcpu__StopRequest stop = MOAT__VCPU__STOP_REQUEST__INIT;
	Moat__Vcpu__MonitorToVcpu env = MOAT__VCPU__MONITOR_TO_VCPU__INIT;

	if (vm->stop_sent)
		return;
	log_debug("stopping the VM: %s", why);
	vm->stop_sent = true;
	env.msg_case = MOAT__VCPU__MONITOR_TO_VCPU__MSG_STOP;
	env.stop = &stop;
	if (ipc_send(vm->ctl, &env.base, NULL, 0) < 0)
		syscall(SYS_pidfd_send_signal, vm->vcpu.pidfd, SIGKILL, NULL, 0);
}

/* Typed input to the guest, through the Ctrl-A escape on a terminal.
 * Input the guest is not reading is dropped, never allowed to block us. */
static bool relay_input(struct mon_vm *vm)
{
	uint8_t in[4096], out[4096];
	ssize_t n = read(STDIN_FILENO, in, sizeof(in));
	size_t m = (size_t)n;
	bool quit = false;

	if (n < 0)
		return errno == EAGAIN || errno == EINTR;
	if (n == 0)
		return false;
	if (vm->con.raw) {
		m = mon_console_filter(&vm->con, in, n, out, &quit);
		if (quit)
			request_stop(vm, "Ctrl-A x");
	} else {
		memcpy(out, in, n);
	}
	if (m && write(vm->console_in, out, m) < 0 && errno != EAGAIN)
		return false;
	return true;
}

static void handle_signals(struct mon_vm *vm)
{
	struct signalfd_siginfo si;

	while (read(vm->sigfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo != SIGCHLD)
			request_stop(vm, strsignal(si.ssi_signo));
	}
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The exit status, from what moat-vcpu told us and how it ended. */
static int verdict(struct mon_vm *vm, const siginfo_t *si)
{
	if (vm->bad_input) {
		log_error("%s", vm->bad_input);
		return MON_EXIT_BAD_INPUT;
	}
	if (vm->got_exit) {
		switch (vm->exit_reason) {
		case MOAT__VCPU__EXIT_EVENT__REASON__RESET:
		case MOAT__VCPU__EXIT_EVENT__REASON__POWEROFF:
		case MOAT__VCPU__EXIT_EVENT__REASON__STOPPED:
			log_debug("VM ended: %s", vm->exit_detail);
			return MON_EXIT_OK;
		default:
			log_error("VM failed: %s", vm->exit_detail);
			if (vm->exit_dump)
				fputs(vm->exit_dump, stderr);
			return MON_EXIT_FAILURE;
		}
	}
	char how[128];
	mon_describe_death(si, vm->vcpu.pid, how, sizeof(how));
	log_error("moat-vcpu %s before the VM ended", how);
	mon_audit("child-died", "child=vcpu pid=%d %s", (int)vm->vcpu.pid, how);
	return MON_EXIT_FAILURE;
}

/* Tell moat-vcpu to stop forwarding to a device that is gone. */
static void detach_device(struct mon_vm *vm, const struct mon_device *d)
{
	Moat__Vcpu__DeviceDetachRequest det = MOAT__VCPU__DEVICE_DETACH_REQUEST__INIT;
	Moat__Vcpu__MonitorToVcpu env = MOAT__VCPU__MONITOR_TO_VCPU__INIT;

	det.name = (char *)d->name;
	env.msg_case = MOAT__VCPU__MONITOR_TO_VCPU__MSG_DETACH;
	env.detach = &det;
	if (ipc_send(vm->ctl, &env.base, NULL, 0) < 0)
		log_warn("could not tell moat-vcpu that %s is gone", d->name);
}

/* Device pidfds and channels: slots 0..2n-1 of the poll set after the
 * fixed ones. */
static void handle_devices(struct mon_vm *vm, const struct pollfd *p)
{
	for (unsigned i = 0; i < vm->devs.n; i++) {
		struct mon_device *d = &vm->devs.d[i];
		if (p[2 * i + 1].revents && d->ctl >= 0)
			mon_device_dispatch(d);
		if (p[2 * i].revents && d->alive) {
			mon_device_reap(d);
			if (!d->alive)
				detach_device(vm, d);
		}
	}
}

enum { P_VCPU, P_SIG, P_CTL, P_OUT, P_IN, P_FIXED };

int mon_supervise(struct mon_vm *vm)
{
	int64_t kill_at = 0;
	siginfo_t si = {0};
	bool stdin_open = vm->console_in >= 0;

	if (vm->console_out >= 0 && vm->console_in >= 0)
		mon_console_raw(&vm->con);
	if (vm->console_in >= 0)
		fd_set_nonblock(vm->console_in, true);
	for (;;) {
		struct pollfd p[P_FIXED + 2 * MON_MAX_DEVICES] = {
			[P_VCPU] = {.fd = vm->vcpu.pidfd, .events = POLLIN},
			[P_SIG] = {.fd = vm->sigfd, .events = POLLIN},
			[P_CTL] = {.fd = vm->ctl, .events = POLLIN},
			[P_OUT] = {.fd = vm->console_out, .events = POLLIN},
			[P_IN] = {.fd = stdin_open ? STDIN_FILENO : -1, .events = POLLIN},
		};
		int timeout = -1;

		for (unsigned i = 0; i < vm->devs.n; i++) {
			const struct mon_device *d = &vm->devs.d[i];
			p[P_FIXED + 2 * i] = (struct pollfd){d->alive ? d->child.pidfd : -1, POLLIN, 0};
			p[P_FIXED + 2 * i + 1] = (struct pollfd){d->ctl, POLLIN, 0};
		}
		if (vm->stop_sent && !kill_at)
			kill_at = now_ms() + STOP_GRACE_MS;
		if (kill_at)
			timeout = (int)(kill_at > now_ms() ? kill_at - now_ms() : 0);
		if (poll(p, P_FIXED + 2 * vm->devs.n, timeout) < 0 && errno != EINTR)
			break;
		if (kill_at && now_ms() >= kill_at) {
			log_warn("moat-vcpu did not stop in time; killing it");
			syscall(SYS_pidfd_send_signal, vm->vcpu.pidfd, SIGKILL, NULL, 0);
			kill_at = INT64_MAX;
		}
		if (p[P_SIG].revents)
			handle_signals(vm);
		if (p[P_CTL].revents & POLLIN) {
			int rc = mon_dispatch_vcpu(vm);
			if (rc < 0 && rc != -EAGAIN && rc != -EPIPE) {
				log_error_errno(rc, "moat-vcpu sent a bad control message (%m); "
						    "ending it");
				syscall(SYS_pidfd_send_signal, vm->vcpu.pidfd, SIGKILL, NULL, 0);
			}
		}
		if (p[P_OUT].revents && !relay_output(vm)) {
			close(vm->console_out);
			vm->console_out = -1;
		}
		if (p[P_IN].revents && !relay_input(vm)) {
			stdin_open = false;
			close(vm->console_in);
			vm->console_in = -1;
		}
		handle_devices(vm, p + P_FIXED);
		if (p[P_VCPU].revents)
			break;
	}
	if (waitid(P_PIDFD, vm->vcpu.pidfd, &si, WEXITED) < 0)
		log_warn_errno(errno, "waitid: %m");
	drain_control(vm);
	drain_output(vm);
	mon_console_restore();
	return verdict(vm, &si);
}
