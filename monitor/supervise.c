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
#include "log.h"
#include "run.h"
#include "vcpu.pb-c.h"

#define STOP_GRACE_MS 3000

static void on_ready(struct mon_vm *vm, const Moat__Vcpu__ReadyEvent *r)
{
	const Moat__Vcpu__SandboxReport *s = r->sandbox;

	vm->ready = true;
	if (!s) {
		log_warn("moat-vcpu reported no sandbox state");
		return;
	}
	log_debug("moat-vcpu ready: kernel %s; sandbox: uid %u in its user namespace, "
		  "capabilities %s, no_new_privs %d, seccomp mode %u (%u syscalls allowed), "
		  "namespaces %s",
		  r->kernel_format ? r->kernel_format : "?", s->uid,
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
	if (si->si_code == CLD_EXITED)
		log_error("moat-vcpu exited with status %d before the VM ended", si->si_status);
	else
		log_error("moat-vcpu was killed by signal %s%s", sigabbrev_np(si->si_status) ?: "?",
			  si->si_status == SIGSYS ? " (a system call its policy forbids)" : "");
	return MON_EXIT_FAILURE;
}

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
		struct pollfd p[5] = {
			{.fd = vm->vcpu.pidfd, .events = POLLIN},
			{.fd = vm->sigfd, .events = POLLIN},
			{.fd = vm->ctl, .events = POLLIN},
			{.fd = vm->console_out, .events = POLLIN},
			{.fd = stdin_open ? STDIN_FILENO : -1, .events = POLLIN},
		};
		int timeout = -1;

		if (vm->stop_sent && !kill_at)
			kill_at = now_ms() + STOP_GRACE_MS;
		if (kill_at)
			timeout = (int)(kill_at > now_ms() ? kill_at - now_ms() : 0);
		if (poll(p, 5, timeout) < 0 && errno != EINTR)
			break;
		if (kill_at && now_ms() >= kill_at) {
			log_warn("moat-vcpu did not stop in time; killing it");
			syscall(SYS_pidfd_send_signal, vm->vcpu.pidfd, SIGKILL, NULL, 0);
			kill_at = INT64_MAX;
		}
		if (p[1].revents)
			handle_signals(vm);
		if (p[2].revents & POLLIN) {
			int rc = mon_dispatch_vcpu(vm);
			if (rc < 0 && rc != -EAGAIN && rc != -EPIPE) {
				log_error_errno(rc, "moat-vcpu sent a bad control message (%m); "
						    "ending it");
				syscall(SYS_pidfd_send_signal, vm->vcpu.pidfd, SIGKILL, NULL, 0);
			}
		}
		if (p[3].revents && !relay_output(vm)) {
			close(vm->console_out);
			vm->console_out = -1;
		}
		if (p[4].revents && !relay_input(vm)) {
			stdin_open = false;
			close(vm->console_in);
			vm->console_in = -1;
		}
		if (p[0].revents)
			break;
	}
	if (waitid(P_PIDFD, vm->vcpu.pidfd, &si, WEXITED) < 0)
		log_warn_errno(errno, "waitid: %m");
	drain_control(vm);
	drain_output(vm);
	mon_console_restore();
	return verdict(vm, &si);
}
