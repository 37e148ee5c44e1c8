#include "proto_vcpu.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channel.h"
#include "guest_layout.h"
#include "kinds.h"
#include "devmsg.h"
#include "log.h"
#include "proto.h"
#include "vcpu.pb-c.h"

/* ---- requests ---- */

/* The descriptors of one device attachment: ring, doorbell, then (PCI) one
 * notify eventfd per queue and one irq eventfd per vector. */
struct attach_buf {
	Moat__Vcpu__DeviceAttach att;
	Moat__Vcpu__PciAttach pci;
	Moat__Vcpu__DisplayAttach display;
	Moat__Vcpu__PciAttach input[DISPLAY_INPUTS];
	Moat__Vcpu__PciAttach *inputp[DISPLAY_INPUTS];
	uint32_t idx[VPCI_MAX_QUEUES + VPCI_MAX_VECTORS];
};

/* The display: its slot, where its registers reach moat-display, the
 * video memory for the guest (read-write: moat-vcpu maps it as a KVM
 * memory slot at BAR0), and its two virtio-input functions at the next
 * slots with their share of the eventfds (ipc/display_layout.h). */
static void add_display(const struct mon_device *d, const struct mon_resources *r,
			struct attach_buf *b, int *fds, unsigned *n)
{
	for (unsigned i = 0; i < DISPLAY_INPUTS; i++) {
		Moat__Vcpu__PciAttach *p = &b->input[i];
		uint32_t *idx = b->idx + i * (DISPLAY_INPUT_QUEUES + DISPLAY_INPUT_VECTORS);
		moat__vcpu__pci_attach__init(p);
		p->slot = d->slot + 1 + i;
		p->bar0_gpa = VPCI_WINDOW(MOAT_PCI_MMIO_GPA, p->slot);
		p->n_fd_notify = DISPLAY_INPUT_QUEUES;
		p->fd_notify = idx;
		p->n_fd_irq = DISPLAY_INPUT_VECTORS;
		p->fd_irq = idx + DISPLAY_INPUT_QUEUES;
		for (unsigned q = 0; q < DISPLAY_INPUT_QUEUES; q++)
			idx[q] = *n, fds[(*n)++] = d->notify[i * DISPLAY_INPUT_QUEUES + q];
		for (unsigned v = 0; v < DISPLAY_INPUT_VECTORS; v++)
			idx[DISPLAY_INPUT_QUEUES + v] = *n,
						   fds[(*n)++] =
						       d->irq[i * DISPLAY_INPUT_VECTORS + v];
		b->inputp[i] = p;
	}
	moat__vcpu__display_attach__init(&b->display);
	b->display.n_input = DISPLAY_INPUTS;
	b->display.input = b->inputp;
	b->display.slot = d->slot;
	b->display.mmio_gpa = d->bar0;
	b->display.fd_vram = *n, fds[(*n)++] = r->display.vram_fd;
	b->display.fd_keyboard = *n, fds[(*n)++] = r->display.kbd_vcpu_fd;
	b->display.vram_bytes = r->display.vram_bytes;
	b->display.vram_gpa = MOAT_VRAM_GPA;
	b->att.display = &b->display;
}

static int add_attach(const struct mon_device *d, const struct mon_resources *r,
		      struct attach_buf *b, int *fds, unsigned *n)
{
	if (*n + 4 + d->nq + d->nvec > IPC_MAX_FDS)
		return -E2BIG;
	moat__vcpu__device_attach__init(&b->att);
	b->att.name = (char *)d->proc.name;
	b->att.pio_base = d->pio_base;
	b->att.pio_len = d->pio_len;
	b->att.fd_ring = *n, fds[(*n)++] = d->ring_fd;
	b->att.fd_doorbell = *n, fds[(*n)++] = d->doorbell;
	if (d->kind->slots == DISPLAY_FUNCTIONS) {
		add_display(d, r, b, fds, n);
		return 0;
	}
	if (!d->nq)
		return 0;
	moat__vcpu__pci_attach__init(&b->pci);
	b->pci.slot = d->slot;
	b->pci.bar0_gpa = d->bar0;
	b->pci.n_fd_notify = d->nq;
	b->pci.fd_notify = b->idx;
	b->pci.n_fd_irq = d->nvec;
	b->pci.fd_irq = b->idx + d->nq;
	for (unsigned q = 0; q < d->nq; q++)
		b->idx[q] = *n, fds[(*n)++] = d->notify[q];
	for (unsigned v = 0; v < d->nvec; v++)
		b->idx[d->nq + v] = *n, fds[(*n)++] = d->irq[v];
	b->att.pci = &b->pci;
	return 0;
}

int mon_vcpu_send_start(struct mon_vm *vm, const struct mon_resources *r)
{
	const struct mon_config *cfg = vm->cfg;
	Moat__Vcpu__StartRequest s = MOAT__VCPU__START_REQUEST__INIT;
	Moat__Vcpu__MonitorToVcpu env = MOAT__VCPU__MONITOR_TO_VCPU__INIT;
	static struct attach_buf att[MON_MAX_DEVICES];
	Moat__Vcpu__DeviceAttach *attp[MON_MAX_DEVICES];
	int fds[IPC_MAX_FDS];
	unsigned n = 0;
	int rc;

	s.mem_bytes = cfg->mem_bytes;
	s.cpus = cfg->cpus;
	s.cmdline = (char *)cfg->cmdline;
	s.log_debug = cfg->verbose;
	s.fd_kvm = n, fds[n++] = r->kvm_fd;
	s.fd_mem = n, fds[n++] = r->mem_fd;
	if (r->firmware_fd >= 0) {
		s.boot = MOAT__VCPU__BOOT_MODE__BOOT_FIRMWARE;
		s.fd_firmware = n, fds[n++] = r->firmware_fd;
		if (r->firmware_vars_fd >= 0) {
			s.has_firmware_vars = true;
			s.fd_firmware_vars = n, fds[n++] = r->firmware_vars_fd;
		}
	} else {
		s.fd_kernel = n, fds[n++] = r->kernel_fd;
	}
	if (r->initrd_fd >= 0) {
		s.has_initrd = true;
		s.fd_initrd = n, fds[n++] = r->initrd_fd;
	}
	if (r->serial_out >= 0) {
		s.serial = MOAT__VCPU__SERIAL_MODE__SERIAL_STREAM;
		s.fd_serial_out = n, fds[n++] = r->serial_out;
		if (r->serial_in >= 0) {
			s.serial_has_input = true;
			s.fd_serial_in = n, fds[n++] = r->serial_in;
		}
	}
	for (unsigned i = 0; i < vm->devs.n; i++) {
		if ((rc = add_attach(&vm->devs.d[i], r, &att[i], fds, &n)) < 0)
			return rc;
		attp[i] = &att[i].att;
	}
	s.n_devices = vm->devs.n;
	s.devices = attp;
	s.n_smbios = cfg->nsmbios;
	s.smbios = (char **)cfg->smbios;
	s.smbios_apple = cfg->smc;
	s.hold = true; /* until mon_vcpu_send_run: the devices start meanwhile */
	env.msg_case = MOAT__VCPU__MONITOR_TO_VCPU__MSG_START;
	env.start = &s;
	return ipc_send(vm->vcpu.ctl, &env.base, fds, n);
}

void mon_vcpu_send_run(struct mon_vm *vm)
{
	Moat__Vcpu__RunRequest run = MOAT__VCPU__RUN_REQUEST__INIT;
	Moat__Vcpu__MonitorToVcpu env = MOAT__VCPU__MONITOR_TO_VCPU__INIT;

	env.msg_case = MOAT__VCPU__MONITOR_TO_VCPU__MSG_RUN;
	env.run = &run;
	/* a moat-vcpu that cannot be told has failed its set-up (its last
	 * words, a bad kernel say, wait on the channel) or is dying:
	 * supervision finds out which */
	if (ipc_send(vm->vcpu.ctl, &env.base, NULL, 0) < 0) {
		log_debug("moat-vcpu cannot be told to run: %m");
		mon_proc_kill(&vm->vcpu);
		return;
	}
	log_debug("the vCPUs may run at %.1f ms", mon_since_start_ms());
}

void mon_vcpu_send_stop(struct mon_vm *vm, const char *why)
{
	Moat__Vcpu__StopRequest stop = MOAT__VCPU__STOP_REQUEST__INIT;
	Moat__Vcpu__MonitorToVcpu env = MOAT__VCPU__MONITOR_TO_VCPU__INIT;

	if (vm->stop_sent)
		return;
	log_debug("stopping the VM: %s", why);
	vm->stop_sent = true;
	vm->kill_at = mon_now_ms() + MON_STOP_GRACE_MS;
	vm->vcpu.expected_end = true;
	env.msg_case = MOAT__VCPU__MONITOR_TO_VCPU__MSG_STOP;
	env.stop = &stop;
	if (vm->vcpu.ctl < 0 || ipc_send(vm->vcpu.ctl, &env.base, NULL, 0) < 0)
		mon_proc_kill(&vm->vcpu);
}

void mon_vcpu_send_power_button(struct mon_vm *vm, unsigned timeout_s)
{
	Moat__Vcpu__PowerButtonRequest button = MOAT__VCPU__POWER_BUTTON_REQUEST__INIT;
	Moat__Vcpu__MonitorToVcpu env = MOAT__VCPU__MONITOR_TO_VCPU__INIT;

	if (vm->button_sent || vm->stop_sent)
		return;
	log_debug("pressing the guest's power button; it has %u s to power off", timeout_s);
	vm->button_sent = true;
	vm->shutdown_timeout_s = timeout_s;
	vm->shutdown_at = mon_now_ms() + 1000LL * timeout_s;
	env.msg_case = MOAT__VCPU__MONITOR_TO_VCPU__MSG_POWER_BUTTON;
	env.power_button = &button;
	if (vm->vcpu.ctl < 0 || ipc_send(vm->vcpu.ctl, &env.base, NULL, 0) < 0)
		mon_vcpu_send_stop(vm, "the power button could not be pressed");
}

void mon_vcpu_send_detach(struct mon_vm *vm, const char *name)
{
	Moat__Vcpu__DeviceDetachRequest det = MOAT__VCPU__DEVICE_DETACH_REQUEST__INIT;
	Moat__Vcpu__MonitorToVcpu env = MOAT__VCPU__MONITOR_TO_VCPU__INIT;

	det.name = (char *)name;
	env.msg_case = MOAT__VCPU__MONITOR_TO_VCPU__MSG_DETACH;
	env.detach = &det;
	if (vm->vcpu.ctl < 0 || ipc_send(vm->vcpu.ctl, &env.base, NULL, 0) < 0)
		log_warn("could not tell moat-vcpu that %s is gone", name);
}

int mon_vcpu_send_reattach(struct mon_vm *vm, const char *name, int doorbell)
{
	Moat__Vcpu__DeviceReattachRequest re = MOAT__VCPU__DEVICE_REATTACH_REQUEST__INIT;
	Moat__Vcpu__MonitorToVcpu env = MOAT__VCPU__MONITOR_TO_VCPU__INIT;

	re.name = (char *)name;
	re.fd_doorbell = 0;
	env.msg_case = MOAT__VCPU__MONITOR_TO_VCPU__MSG_REATTACH;
	env.reattach = &re;
	if (vm->vcpu.ctl < 0)
		return -EPIPE;
	return ipc_send(vm->vcpu.ctl, &env.base, &doorbell, 1);
}

/* A request to moat-vcpu; answer: whether it must answer. */
static int vcpu_send(struct mon_vm *vm, Moat__Vcpu__MonitorToVcpu *env, bool answer)
{
	int rc;

	if (vm->vcpu.ctl < 0 || vm->vcpu.state != MON_PROC_READY)
		return -ENOTCONN;
	rc = ipc_send(vm->vcpu.ctl, &env->base, NULL, 0);
	if (rc == 0 && answer)
		mon_proto_asked(&vm->vcpu);
	return rc;
}

int mon_vcpu_send_pause(struct mon_vm *vm)
{
	Moat__Vcpu__PauseRequest req = MOAT__VCPU__PAUSE_REQUEST__INIT;
	Moat__Vcpu__MonitorToVcpu env = MOAT__VCPU__MONITOR_TO_VCPU__INIT;
	int rc;

	env.msg_case = MOAT__VCPU__MONITOR_TO_VCPU__MSG_PAUSE;
	env.pause = &req;
	rc = vcpu_send(vm, &env, true);
	if (rc == 0) {
		vm->cs.vcpu_pause_asked = true;
		vm->cs.vcpu_paused = false;
	}
	return rc;
}

int mon_vcpu_send_resume(struct mon_vm *vm)
{
	Moat__Vcpu__ResumeRequest req = MOAT__VCPU__RESUME_REQUEST__INIT;
	Moat__Vcpu__MonitorToVcpu env = MOAT__VCPU__MONITOR_TO_VCPU__INIT;

	/* a pause called off may still be answered: its PAUSED may be on
	 * the way already */
	vm->cs.vcpu_pause_late = vm->cs.vcpu_pause_asked && !vm->cs.vcpu_paused;
	vm->cs.vcpu_pause_asked = vm->cs.vcpu_paused = false;
	env.msg_case = MOAT__VCPU__MONITOR_TO_VCPU__MSG_RESUME;
	env.resume = &req;
	return vcpu_send(vm, &env, false);
}

int mon_vcpu_send_reset(struct mon_vm *vm)
{
	Moat__Vcpu__ResetRequest req = MOAT__VCPU__RESET_REQUEST__INIT;
	Moat__Vcpu__MonitorToVcpu env = MOAT__VCPU__MONITOR_TO_VCPU__INIT;
	int rc;

	env.msg_case = MOAT__VCPU__MONITOR_TO_VCPU__MSG_RESET;
	env.reset = &req;
	rc = vcpu_send(vm, &env, false);
	if (rc == 0) {
		/* it ends the VM, as STOP does: the same grace */
		vm->stop_sent = true;
		vm->kill_at = mon_now_ms() + MON_STOP_GRACE_MS;
		vm->vcpu.expected_end = true;
	}
	return rc;
}

int mon_vcpu_send_ping(struct mon_vm *vm, uint64_t seq)
{
	Moat__Vcpu__PingRequest req = MOAT__VCPU__PING_REQUEST__INIT;
	Moat__Vcpu__MonitorToVcpu env = MOAT__VCPU__MONITOR_TO_VCPU__INIT;
	int rc;

	req.seq = seq;
	env.msg_case = MOAT__VCPU__MONITOR_TO_VCPU__MSG_PING;
	env.ping = &req;
	rc = vcpu_send(vm, &env, true);
	if (rc == 0)
		vm->cs.vcpu_ping_sent = seq;
	return rc;
}

/* ---- what moat-vcpu may send, and when ---- */

/* READY: sandboxed, the guest loaded. Checked against /proc. */
static void mon_answer_ready(void *ctx, const ProtobufCMessage *m)
{
	struct mon_vm *vm = ctx;
	const Moat__Vcpu__ReadyEvent *r = ((const Moat__Vcpu__VcpuToMonitor *)m)->ready;
	char fmt[40], extra[64];
	struct mon_claim claim;

	mon_claim_from(r->sandbox, &claim);
	mon_untrusted_line(r->kernel_format, fmt, sizeof(fmt));
	snprintf(extra, sizeof(extra), "kernel=\"%s\"", fmt);
	mon_proc_check_ready(&vm->vcpu, &claim, extra);
}

/* EXIT: the VM ended; the verdict checks it against the real end. */
static void mon_answer_exit(void *ctx, const ProtobufCMessage *m)
{
	struct mon_vm *vm = ctx;
	const Moat__Vcpu__ExitEvent *e = ((const Moat__Vcpu__VcpuToMonitor *)m)->exit;
	char dump[4096];

	mon_proc_ending(&vm->vcpu);
	vm->got_exit = true;
	vm->exit_reason = e->reason;
	mon_untrusted_line(e->detail, vm->exit_detail, sizeof(vm->exit_detail));
	mon_untrusted_text(e->register_dump, 40, dump, sizeof(dump));
	free(vm->exit_dump);
	vm->exit_dump = dump[0] ? strdup(dump) : NULL;
	mon_proc_audit(&vm->vcpu, "vm-exit", "reason=%d detail=\"%s\"", vm->exit_reason,
		       vm->exit_detail);
}

/* BAD_INPUT: the kernel or initrd cannot boot; moat run exits 2. */
static void mon_answer_bad_input(void *ctx, const ProtobufCMessage *m)
{
	struct mon_vm *vm = ctx;
	const Moat__Vcpu__BadInputEvent *b = ((const Moat__Vcpu__VcpuToMonitor *)m)->bad_input;
	char line[256];

	mon_proc_ending(&vm->vcpu);
	mon_untrusted_line(b->message ? b->message : "?", line, sizeof(line));
	free(vm->bad_input);
	vm->bad_input = strdup(line);
}

/* PAUSED: only after our PauseRequest. */
static void mon_answer_paused(void *ctx, const ProtobufCMessage *m)
{
	struct mon_vm *vm = ctx;

	if (vm->cs.vcpu_pause_late && !vm->cs.vcpu_pause_asked) {
		vm->cs.vcpu_pause_late = false; /* the answer to a pause called off */
		return;
	}
	if (!vm->cs.vcpu_pause_asked || vm->cs.vcpu_paused) {
		mon_proc_hostile(&vm->vcpu, "said it paused unasked");
		return;
	}
	vm->cs.vcpu_paused = true;
}

/* PONG: the watchdog's round, by its number; stalled is believed only as
 * bad news (a vCPU that claims progress still has to answer in time). */
static void mon_answer_pong(void *ctx, const ProtobufCMessage *m)
{
	struct mon_vm *vm = ctx;
	const Moat__Vcpu__Pong *p = ((const Moat__Vcpu__VcpuToMonitor *)m)->pong;

	if (p->seq != vm->cs.vcpu_ping_sent || vm->cs.vcpu_pong == p->seq) {
		mon_proc_hostile(&vm->vcpu, "answered a ping it was not sent");
		return;
	}
	vm->cs.vcpu_pong = p->seq;
	vm->cs.vcpu_stalled = p->stalled;
}

static const struct mon_msg_rule vcpu_rules[] = {
    /* once, before anything else */
    [MOAT__VCPU__VCPU_TO_MONITOR__MSG_READY] = {"READY", MON_STARTING, 1, false, mon_answer_ready},
    /* once, while the VM ran */
    [MOAT__VCPU__VCPU_TO_MONITOR__MSG_EXIT] = {"EXIT", MON_READY, 1, false, mon_answer_exit},
    /* once, instead of READY */
    [MOAT__VCPU__VCPU_TO_MONITOR__MSG_BAD_INPUT] = {"BAD_INPUT", MON_STARTING, 1, false,
						    mon_answer_bad_input},
    /* only as answers, each checked against what we asked */
    [MOAT__VCPU__VCPU_TO_MONITOR__MSG_PAUSED] = {"PAUSED", MON_READY, 0, true, mon_answer_paused},
    [MOAT__VCPU__VCPU_TO_MONITOR__MSG_PONG] = {"PONG", MON_READY, 0, true, mon_answer_pong},
};

void mon_vcpu_dispatch(struct mon_vm *vm)
{
	MON_PROTO_SERVE(&vm->vcpu, &moat__vcpu__vcpu_to_monitor__descriptor, vcpu_rules, vm);
}
