/* The monitor's loop while the VM runs: the console both ways, signals,
 * and every child in the table (its channel, its pidfd, its deadlines),
 * until moat-vcpu is gone; then the verdict, from how moat-vcpu really
 * ended, checked against what it said. */
#include "supervise.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fdutil.h"
#include "log.h"
#include "paths.h"
#include "proto_dev.h"
#include "proto_vcpu.h"
#include "restart.h"
#include "run.h"
#include "vcpu.pb-c.h"

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

/* After moat-vcpu is gone: copy what is left, stop at end or EAGAIN. */
static void drain_output(struct mon_vm *vm)
{
	uint8_t buf[16384];
	ssize_t n;

	if (vm->console_out < 0)
		return;
	while ((n = read(vm->console_out, buf, sizeof(buf))) > 0)
		fd_write_full(STDOUT_FILENO, buf, n);
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
			mon_vcpu_send_stop(vm, "Ctrl-A x");
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
		if (si.ssi_signo == SIGCHLD)
			continue;
		/* SIGTERM asks for an orderly shutdown, once; anything more
		 * (SIGINT, a second SIGTERM) for an end now. */
		if (si.ssi_signo == SIGTERM && !vm->button_sent && vm->cfg->shutdown_timeout_s &&
		    vm->cs.run == MON_VM_RUNNING) {
			mon_ctl_stopping(vm, vm->cfg->shutdown_timeout_s);
			mon_vcpu_send_power_button(vm, vm->cfg->shutdown_timeout_s);
		} else {
			/* a paused guest cannot hear the button: it stops */
			mon_ctl_stopping(vm, 0);
			mon_vcpu_send_stop(vm, strsignal(si.ssi_signo));
		}
	}
}

/* How moat-vcpu said the VM ended, checked against how it did. */
static int verdict_claimed(struct mon_vm *vm, const char *how)
{
	if (vm->bad_input) {
		if (mon_proc_exited_with(&vm->vcpu, MON_EXIT_BAD_INPUT)) {
			log_error("%s", vm->bad_input);
			return MON_EXIT_BAD_INPUT;
		}
		log_error("moat-vcpu reported bad input (%s) but %s", vm->bad_input, how);
		return MON_EXIT_FAILURE;
	}
	switch (vm->exit_reason) {
	case MOAT__VCPU__EXIT_EVENT__REASON__RESET:
	case MOAT__VCPU__EXIT_EVENT__REASON__POWEROFF:
	case MOAT__VCPU__EXIT_EVENT__REASON__STOPPED:
		if (!mon_proc_exited_with(&vm->vcpu, 0)) {
			log_error("moat-vcpu reported a clean end (%s) but %s", vm->exit_detail,
				  how);
			return MON_EXIT_FAILURE;
		}
		log_debug("VM ended: %s", vm->exit_detail);
		return MON_EXIT_OK;
	default:
		log_error("VM failed: %s", vm->exit_detail);
		if (vm->exit_dump)
			fputs(vm->exit_dump, stderr);
		return MON_EXIT_FAILURE;
	}
}

/* The exit status of `moat run`, once moat-vcpu is reaped. */
static int verdict(struct mon_vm *vm)
{
	char how[128];

	mon_describe_death(&vm->vcpu.death, vm->vcpu.child.pid, how, sizeof(how));
	if (vm->vcpu.hostile) {
		log_error("moat-vcpu was cut off; the VM is over");
		return MON_EXIT_FAILURE;
	}
	if (vm->got_exit || vm->bad_input)
		return verdict_claimed(vm, how);
	log_error("moat-vcpu %s before the VM ended", how);
	return MON_EXIT_FAILURE;
}

/* Relay a child's log when its pipe is readable. */
static void relay_log(struct mon_proc *p, const struct pollfd *log)
{
	if (log->revents && !mon_childlog_relay(&p->log, p->name))
		mon_childlog_close(&p->log, p->name);
}

/* A device's channel, pidfd or log fired. */
static void serve_device(struct mon_vm *vm, struct mon_device *d, const struct pollfd *ctl,
			 const struct pollfd *pid, const struct pollfd *log)
{
	relay_log(&d->proc, log);
	if (ctl->revents)
		mon_dev_dispatch(d);
	if (pid->revents)
		mon_proc_reap(&d->proc, false);
	/* a death not yet dealt with: a process that served, or a successor
	 * that died starting */
	if (d->proc.state == MON_PROC_GONE && (!d->detached || d->restarting))
		mon_device_gone(vm, d);
	mon_device_restart_check(vm, d);
}

/* The earliest deadline of every child, as a poll timeout (-1: none); cuts
 * off what is overdue. */
static int deadlines(struct mon_vm *vm)
{
	int64_t now = mon_now_ms();
	int timeout = mon_proc_tick(&vm->vcpu, now);

	for (unsigned i = 0; i < vm->devs.n; i++) {
		int t = mon_proc_tick(&vm->devs.d[i].proc, now);
		if (t >= 0 && (timeout < 0 || t < timeout))
			timeout = t;
	}
	{
		int t = mon_restart_tick(vm, now);
		if (t >= 0 && (timeout < 0 || t < timeout))
			timeout = t;
	}
	if (vm->shutdown_at && !vm->stop_sent && vm->vcpu.state != MON_PROC_GONE) {
		if (now >= vm->shutdown_at) {
			log_warn("the guest did not power off within %u s of the power button; "
				 "stopping it",
				 vm->shutdown_timeout_s);
			mon_vcpu_send_stop(vm, "shutdown timeout");
		} else if (timeout < 0 || vm->shutdown_at - now < timeout) {
			timeout = (int)(vm->shutdown_at - now);
		}
	}
	{
		int t = mon_ctl_tick(vm, now);
		if (t >= 0 && (timeout < 0 || t < timeout))
			timeout = t;
	}
	if (vm->kill_at && vm->vcpu.state != MON_PROC_GONE) {
		if (now >= vm->kill_at) {
			log_warn("moat-vcpu did not stop in time; killing it");
			mon_proc_kill(&vm->vcpu);
			vm->kill_at = 0;
		} else if (timeout < 0 || vm->kill_at - now < timeout) {
			timeout = (int)(vm->kill_at - now);
		}
	}
	return timeout;
}

enum { P_VCPU, P_SIG, P_CTL, P_LOG, P_OUT, P_IN, P_FIXED };
#define P_PER_DEVICE 3			       /* channel, pidfd, log */
#define P_CONTROL    (1 + MON_CTL_MAX_CLIENTS) /* the control socket and its clients */

int mon_supervise(struct mon_vm *vm)
{
	bool stdin_open = vm->console_in >= 0;

	if (vm->console_out >= 0 && vm->console_in >= 0)
		mon_console_raw(&vm->con);
	if (vm->console_in >= 0)
		fd_set_nonblock(vm->console_in, true);
	while (vm->vcpu.state != MON_PROC_GONE) {
		struct pollfd p[P_FIXED + P_PER_DEVICE * MON_MAX_DEVICES + P_CONTROL] = {
		    [P_VCPU] = {.fd = vm->vcpu.child.pidfd, .events = POLLIN},
		    [P_SIG] = {.fd = vm->sigfd, .events = POLLIN},
		    [P_CTL] = {.fd = vm->vcpu.ctl, .events = POLLIN},
		    [P_LOG] = {.fd = vm->vcpu.log.fd, .events = POLLIN},
		    [P_OUT] = {.fd = vm->console_out, .events = POLLIN},
		    [P_IN] = {.fd = stdin_open ? STDIN_FILENO : -1, .events = POLLIN},
		};
		struct pollfd *dp = p + P_FIXED;
		int timeout = deadlines(vm);

		for (unsigned i = 0; i < vm->devs.n; i++) {
			const struct mon_proc *d = &vm->devs.d[i].proc;
			dp[P_PER_DEVICE * i] = (struct pollfd){d->ctl, POLLIN, 0};
			dp[P_PER_DEVICE * i + 1] = (struct pollfd){d->child.pidfd, POLLIN, 0};
			dp[P_PER_DEVICE * i + 2] = (struct pollfd){d->log.fd, POLLIN, 0};
		}
		struct pollfd *cp = dp + P_PER_DEVICE * vm->devs.n;
		unsigned nctl = mon_control_fds(&vm->ctl, cp, P_CONTROL);
		if (poll(p, P_FIXED + P_PER_DEVICE * vm->devs.n + nctl, timeout) < 0 &&
		    errno != EINTR)
			return log_error_errno(errno, "poll: %m"), MON_EXIT_FAILURE;
		if (p[P_SIG].revents)
			handle_signals(vm);
		relay_log(&vm->vcpu, &p[P_LOG]);
		if (p[P_CTL].revents)
			mon_vcpu_dispatch(vm);
		if (p[P_OUT].revents && !relay_output(vm)) {
			close(vm->console_out);
			vm->console_out = -1;
		}
		if (p[P_IN].revents && !relay_input(vm)) {
			stdin_open = false;
			close(vm->console_in);
			vm->console_in = -1;
		}
		for (unsigned i = 0; i < vm->devs.n; i++)
			serve_device(vm, &vm->devs.d[i], &dp[P_PER_DEVICE * i],
				     &dp[P_PER_DEVICE * i + 1], &dp[P_PER_DEVICE * i + 2]);
		if (p[P_VCPU].revents) {
			mon_vcpu_dispatch(vm); /* what it said before it went */
			mon_proc_reap(&vm->vcpu, true);
		}
		/* requests last: they see what the children just said */
		mon_control_polled(&vm->ctl, vm, cp, nctl);
	}
	mon_ctl_stopping(vm, 0);
	drain_output(vm);
	mon_console_restore();
	return verdict(vm);
}
