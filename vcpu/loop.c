#include "loop.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "child.h"
#include "log.h"
#include "pause.h"
#include "util.h"
#include "vcpu.pb-c.h"

/* DETACH: a device process died; its accesses now read all ones. */
static int vcpu_answer_detach(void *ctx, const ProtobufCMessage *m)
{
	struct vm *vm = ctx;
	const char *name = ((const Moat__Vcpu__MonitorToVcpu *)m)->detach->name;

	for (unsigned i = 0; i < vm->nremotes && name; i++)
		if (strcmp(vm->remotes[i].name, name) == 0)
			remote_detach(&vm->remotes[i], "its process died");
	return 1;
}

/* REATTACH: the monitor restarted a device that died; its successor
 * serves the same ring, which the monitor reset, and has a new doorbell. */
static int vcpu_answer_reattach(void *ctx, const ProtobufCMessage *m, struct ipc_fds *fds)
{
	struct vm *vm = ctx;
	const Moat__Vcpu__DeviceReattachRequest *re =
	    ((const Moat__Vcpu__MonitorToVcpu *)m)->reattach;
	int fd = ipc_fds_take(fds, re->fd_doorbell);

	for (unsigned i = 0; i < vm->nremotes && re->name && fd >= 0; i++)
		if (strcmp(vm->remotes[i].name, re->name) == 0) {
			int rc = remote_reattach(&vm->remotes[i], fd);
			if (rc < 0)
				log_warn_errno(rc, "device %s could not be attached again: %m",
					       re->name);
			break;
		}
	if (fd >= 0)
		close(fd);
	return 1;
}

/* STOP: end the VM now (the user quit, or a signal). */
static int vcpu_answer_stop(void *ctx, const ProtobufCMessage *m)
{
	vm_end(ctx, MOAT__VCPU__EXIT_EVENT__REASON__STOPPED, 0, "stopped by the monitor", NULL);
	return 1;
}

/* POWER_BUTTON: SIGTERM reached the monitor. A guest whose OS never
 * enabled the power-button event would not act on the press: stop it now
 * rather than make the monitor wait out its timeout. */
static int vcpu_answer_power_button(void *ctx, const ProtobufCMessage *m)
{
	struct vm *vm = ctx;

	(void)m;
	if (!pci_power_button(&vm->pci))
		vm_end(vm, MOAT__VCPU__EXIT_EVENT__REASON__STOPPED, 0,
		       "stopped by the monitor (the guest does not listen for the power button)",
		       NULL);
	return 1;
}

/* Paused: every vCPU thread is parked and the guest's clock held. A
 * failed send means the monitor is gone, which the next poll sees. */
static void vcpu_send_paused(void)
{
	Moat__Vcpu__Paused paused = MOAT__VCPU__PAUSED__INIT;
	Moat__Vcpu__VcpuToMonitor env = MOAT__VCPU__VCPU_TO_MONITOR__INIT;

	env.msg_case = MOAT__VCPU__VCPU_TO_MONITOR__MSG_PAUSED;
	env.paused = &paused;
	if (child_send(&env.base) < 0)
		log_warn("could not tell the monitor that the VM is paused");
}

/* PAUSE: the threads are asked to park; Paused follows once they all
 * are (vcpu_main_loop), or now if they already were: one per PAUSE. */
static int vcpu_answer_pause(void *ctx, const ProtobufCMessage *m)
{
	(void)m;
	if (vm_pause(ctx))
		vcpu_send_paused();
	return 1;
}

/* RESUME: harmless while running; calls off a pause in progress
 * (pause.h). */
static int vcpu_answer_resume(void *ctx, const ProtobufCMessage *m)
{
	(void)m;
	vm_resume(ctx);
	return 1;
}

/* RESET (moat ctl reset): as a reset from inside the guest, the VM ends
 * with reason RESET, and a supervisor starts it again. */
static int vcpu_answer_reset(void *ctx, const ProtobufCMessage *m)
{
	(void)m;
	vm_end(ctx, MOAT__VCPU__EXIT_EVENT__REASON__RESET, 0, "reset by the monitor", NULL);
	return 1;
}

/* PING: answered at once, paused or not, with whether a vCPU is wedged in
 * one exit. */
static int vcpu_answer_ping(void *ctx, const ProtobufCMessage *m)
{
	Moat__Vcpu__Pong pong = MOAT__VCPU__PONG__INIT;
	Moat__Vcpu__VcpuToMonitor env = MOAT__VCPU__VCPU_TO_MONITOR__INIT;

	pong.seq = ((const Moat__Vcpu__MonitorToVcpu *)m)->ping->seq;
	pong.stalled = vm_stalled(ctx);
	env.msg_case = MOAT__VCPU__VCPU_TO_MONITOR__MSG_PONG;
	env.pong = &pong;
	if (child_send(&env.base) < 0)
		log_warn("could not answer the monitor's ping");
	return 1;
}

/* What the monitor may send while the VM runs; anything else, or garbage,
 * means the channel cannot be trusted. */
static const struct child_handler vcpu_handlers[] = {
    {.msg = MOAT__VCPU__MONITOR_TO_VCPU__MSG_STOP, .fn = vcpu_answer_stop},
    {.msg = MOAT__VCPU__MONITOR_TO_VCPU__MSG_DETACH, .fn = vcpu_answer_detach},
    {.msg = MOAT__VCPU__MONITOR_TO_VCPU__MSG_REATTACH, .fn_fds = vcpu_answer_reattach},
    {.msg = MOAT__VCPU__MONITOR_TO_VCPU__MSG_POWER_BUTTON, .fn = vcpu_answer_power_button},
    {.msg = MOAT__VCPU__MONITOR_TO_VCPU__MSG_PAUSE, .fn = vcpu_answer_pause},
    {.msg = MOAT__VCPU__MONITOR_TO_VCPU__MSG_RESUME, .fn = vcpu_answer_resume},
    {.msg = MOAT__VCPU__MONITOR_TO_VCPU__MSG_RESET, .fn = vcpu_answer_reset},
    {.msg = MOAT__VCPU__MONITOR_TO_VCPU__MSG_PING, .fn = vcpu_answer_ping},
};

/* Move what fits of the console input into the UART's receive FIFO. */
static int pump_console(struct vm *vm, int fd)
{
	uint8_t buf[UART_RX_FIFO];
	size_t room = uart_rx_space(&vm->com1);
	ssize_t n;

	if (room == 0)
		return 0;
	n = read(fd, buf, room);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	if (n == 0)
		return -EPIPE;
	uart_receive(&vm->com1, buf, n);
	return 0;
}

/* One key's scan codes from moat-display (a datagram; any bytes are only
 * data for the guest, and the i8042's queue bounds them). 0, or -EPIPE
 * when moat-display is gone. */
static int pump_keyboard(struct vm *vm)
{
	uint8_t buf[64];
	ssize_t n = read(vm->kbd_fd, buf, sizeof(buf));

	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	if (n == 0)
		return -EPIPE;
	i8042_kbd_input(&vm->kbc, buf, (size_t)n);
	return 0;
}

int vcpu_main_loop(struct vm *vm, int serial_in)
{
	for (;;) {
		/* While the guest has not drained its FIFO, leave input queued
		 * in the pipe and look again shortly. */
		bool want_input = serial_in >= 0 && uart_rx_space(&vm->com1) > 0;
		struct pollfd p[5] = {
		    {.fd = vm->exit_event_fd, .events = POLLIN},
		    {.fd = CHILD_CONTROL_FD, .events = POLLIN},
		    {.fd = want_input ? serial_in : -1, .events = POLLIN},
		    {.fd = vm->parked_event_fd, .events = POLLIN},
		    {.fd = vm->kbd_fd, .events = POLLIN},
		};
		int timeout = serial_in >= 0 && !want_input ? 10 : -1;

		if (poll(p, 5, timeout) < 0 && errno != EINTR)
			return log_error_errno(errno, "poll: %m");
		if (atomic_load(&vm->ended))
			return 0;
		/* Before the monitor's messages, so that a PAUSE after the
		 * threads parked finds the pause complete. */
		for (unsigned n = p[3].revents ? vm_pause_settle(vm) : 0; n > 0; n--)
			vcpu_send_paused();
		if (p[1].revents) {
			int rc = child_dispatch(&moat__vcpu__monitor_to_vcpu__descriptor,
						vcpu_handlers, ARRAY_SIZE(vcpu_handlers), vm);
			if (rc < 0)
				return log_error_errno(rc, "Control channel closed: %m");
		}
		if (p[2].revents && pump_console(vm, serial_in) < 0)
			serial_in = -1; /* input ended; the guest keeps running */
		if (p[4].revents && pump_keyboard(vm) < 0) {
			close(vm->kbd_fd); /* moat-display is gone; the guest goes on */
			vm->kbd_fd = -1;
		}
	}
}
