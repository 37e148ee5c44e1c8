#include "loop.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "channel.h"
#include "log.h"
#include "vcpu.pb-c.h"

static void detach(struct vm *vm, const char *name)
{
	for (unsigned i = 0; i < vm->nremotes && name; i++)
		if (strcmp(vm->remotes[i].name, name) == 0)
			remote_detach(&vm->remotes[i], "its process died");
}

/* A message from the monitor while running: only stop is meaningful; any
 * other message, or garbage, means the channel cannot be trusted. */
static int vcpu_dispatch_monitor(struct vm *vm, int ctl_fd)
{
	ProtobufCMessage *m = NULL;
	struct ipc_fds fds;
	int rc = ipc_recv(ctl_fd, &moat__vcpu__monitor_to_vcpu__descriptor, &m, &fds);

	if (rc == -EAGAIN)
		return 0;
	if (rc < 0)
		return rc;
	ipc_fds_close(&fds);
	Moat__Vcpu__MonitorToVcpu *env = (Moat__Vcpu__MonitorToVcpu *)m;
	if (env->msg_case == MOAT__VCPU__MONITOR_TO_VCPU__MSG_STOP)
		vm_end(vm, MOAT__VCPU__EXIT_EVENT__REASON__STOPPED, 0, "stopped by the monitor",
		       NULL);
	else if (env->msg_case == MOAT__VCPU__MONITOR_TO_VCPU__MSG_DETACH)
		detach(vm, env->detach->name);
	else
		rc = log_error_errno(EPROTO, "Unexpected message %d from the monitor",
				     env->msg_case);
	protobuf_c_message_free_unpacked(m, NULL);
	return rc;
}

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

int vcpu_main_loop(struct vm *vm, int ctl_fd, int serial_in)
{
	for (;;) {
		/* While the guest has not drained its FIFO, leave input queued
		 * in the pipe and look again shortly. */
		bool want_input = serial_in >= 0 && uart_rx_space(&vm->com1) > 0;
		struct pollfd p[3] = {
			{.fd = vm->exit_event_fd, .events = POLLIN},
			{.fd = ctl_fd, .events = POLLIN},
			{.fd = want_input ? serial_in : -1, .events = POLLIN},
		};
		int timeout = serial_in >= 0 && !want_input ? 10 : -1;

		if (poll(p, 3, timeout) < 0 && errno != EINTR)
			return log_error_errno(errno, "poll: %m");
		if (atomic_load(&vm->ended))
			return 0;
		if (p[1].revents) {
			int rc = vcpu_dispatch_monitor(vm, ctl_fd);
			if (rc < 0)
				return log_error_errno(rc, "Control channel closed: %m");
		}
		if (p[2].revents && pump_console(vm, serial_in) < 0)
			serial_in = -1; /* input ended; the guest keeps running */
	}
}
