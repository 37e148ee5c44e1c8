/* moat-vcpu: owns the VM. Receives its configuration and descriptors from
 * the monitor, enters its sandbox, creates the VM, loads the kernel, runs
 * one thread per vCPU and serves the console and the control channel from
 * its main thread. Reads top to bottom, as every moat child does. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "guest_layout.h"
#include "child.h"
#include "loader.h"
#include "loop.h"
#include "log.h"
#include "util.h"
#include "vcpu.pb-c.h"
#include "display_layout.h"
#include "virtio_pci_layout.h"
#include "bzimage.h"
#include "vm.h"

struct remote_config {
	char name[16];
	uint16_t base, len; /* a port range, or (len 0) a PCI function: */
	unsigned slot;
	uint64_t bar0;
	int notify[VPCI_MAX_QUEUES], irq[VPCI_MAX_VECTORS];
	unsigned nq, nvec;
	int ring_fd, doorbell;
	/* the display (len 0): its video memory, and its input functions'
	 * slots and eventfds (ipc/display_layout.h), in the lists above */
	bool display;
	int vram_fd, kbd_fd;
	uint64_t vram_bytes, vram_gpa;
};

/* The display's part of a device attachment: slot, register window, the
 * video memory (its size a power of two, placed aligned in the PCI hole). */
static int take_display(const Moat__Vcpu__DisplayAttach *p, struct ipc_fds *fds,
			struct remote_config *r)
{
	uint64_t sz = p->vram_bytes;

	if (p->slot < VPCI_FIRST_SLOT || p->slot > VPCI_LAST_SLOT ||
	    p->mmio_gpa != VPCI_WINDOW(MOAT_PCI_MMIO_GPA, p->slot) || sz < 0x10000 ||
	    sz > MOAT_VRAM_MAX || (sz & (sz - 1)) || p->vram_gpa % sz ||
	    p->vram_gpa < MOAT_PCI_MMIO_GPA || p->vram_gpa + sz > MOAT_PCI_MMIO_END)
		return log_error_errno(EINVAL, "start: bad display attachment of %s", r->name);
	if (p->n_input != DISPLAY_INPUTS)
		return log_error_errno(EINVAL, "start: %zu display input functions", p->n_input);
	r->display = true;
	r->slot = p->slot;
	r->bar0 = p->mmio_gpa;
	r->vram_bytes = sz;
	r->vram_gpa = p->vram_gpa;
	if ((r->vram_fd = ipc_fds_take(fds, p->fd_vram)) < 0 ||
	    (r->kbd_fd = ipc_fds_take(fds, p->fd_keyboard)) < 0)
		return log_error_errno(EBADF, "start: bad display descriptors");
	/* each input function as a virtio function of its own, its eventfds
	 * appended to the lists in display_layout.h's order */
	for (unsigned i = 0; i < DISPLAY_INPUTS; i++) {
		const Moat__Vcpu__PciAttach *in = p->input[i];
		if (in->slot != p->slot + 1 + i || in->n_fd_notify != DISPLAY_INPUT_QUEUES ||
		    in->n_fd_irq != DISPLAY_INPUT_VECTORS ||
		    in->bar0_gpa != VPCI_WINDOW(MOAT_PCI_MMIO_GPA, in->slot))
			return log_error_errno(EINVAL, "start: bad display input %u", i);
		for (unsigned q = 0; q < DISPLAY_INPUT_QUEUES; q++)
			if ((r->notify[r->nq++] = ipc_fds_take(fds, in->fd_notify[q])) < 0)
				return log_error_errno(EBADF, "start: bad notify descriptor");
		for (unsigned v = 0; v < DISPLAY_INPUT_VECTORS; v++)
			if ((r->irq[r->nvec++] = ipc_fds_take(fds, in->fd_irq[v])) < 0)
				return log_error_errno(EBADF, "start: bad irq descriptor");
	}
	return 0;
}

/* The PCI part of a device attachment: slot, window, eventfds. */
static int take_pci(const Moat__Vcpu__PciAttach *p, struct ipc_fds *fds, struct remote_config *r)
{
	if (p->slot < VPCI_FIRST_SLOT || p->slot > VPCI_LAST_SLOT ||
	    p->n_fd_notify > VPCI_MAX_QUEUES || p->n_fd_irq > VPCI_MAX_VECTORS ||
	    p->bar0_gpa != VPCI_WINDOW(MOAT_PCI_MMIO_GPA, p->slot))
		return log_error_errno(EINVAL, "start: bad PCI attachment of %s", r->name);
	r->slot = p->slot;
	r->bar0 = p->bar0_gpa;
	r->nq = p->n_fd_notify;
	r->nvec = p->n_fd_irq;
	for (unsigned q = 0; q < r->nq; q++)
		if ((r->notify[q] = ipc_fds_take(fds, p->fd_notify[q])) < 0)
			return log_error_errno(EBADF, "start: bad notify descriptor");
	for (unsigned v = 0; v < r->nvec; v++)
		if ((r->irq[v] = ipc_fds_take(fds, p->fd_irq[v])) < 0)
			return log_error_errno(EBADF, "start: bad irq descriptor");
	return 0;
}

struct vcpu_config {
	uint64_t mem_bytes;
	unsigned cpus;
	char *cmdline;
	bool debug;
	bool firmware;
	int kvm_fd, mem_fd, kernel_fd, initrd_fd, serial_out, serial_in;
	int firmware_fd, firmware_vars_fd;
	struct remote_config remotes[REMOTE_MAX_DEVICES];
	unsigned nremotes;
	char **smbios;
	size_t nsmbios;
	bool smbios_apple;
	bool hold; /* the vCPUs wait for RunRequest after READY */
};

static int take_devices(const Moat__Vcpu__StartRequest *s, struct ipc_fds *fds,
			struct vcpu_config *c)
{
	if (s->n_devices > REMOTE_MAX_DEVICES)
		return log_error_errno(E2BIG, "start: too many devices");
	for (size_t i = 0; i < s->n_devices; i++) {
		const Moat__Vcpu__DeviceAttach *d = s->devices[i];
		struct remote_config *r = &c->remotes[i];
		if (!d->name || strlen(d->name) >= sizeof(r->name) ||
		    (d->pio_len == 0) == !(d->pci || d->display) || (d->pci && d->display) ||
		    d->pio_base > 0xffff || d->pio_len > 0x10000 - d->pio_base)
			return log_error_errno(EINVAL, "start: bad device %zu", i);
		snprintf(r->name, sizeof(r->name), "%s", d->name);
		if (d->pci && take_pci(d->pci, fds, r) < 0)
			return -EINVAL;
		if (d->display && take_display(d->display, fds, r) < 0)
			return -EINVAL;
		r->base = d->pio_base;
		r->len = d->pio_len;
		r->ring_fd = ipc_fds_take(fds, d->fd_ring);
		r->doorbell = ipc_fds_take(fds, d->fd_doorbell);
		if (r->ring_fd < 0 || r->doorbell < 0)
			return log_error_errno(EBADF, "start: bad device descriptors");
		c->nremotes++;
	}
	c->smbios = calloc(s->n_smbios + 1, sizeof(char *));
	if (!c->smbios)
		return -ENOMEM;
	for (size_t i = 0; i < s->n_smbios; i++)
		if (!(c->smbios[i] = strdup(s->smbios[i])))
			return -ENOMEM;
	c->nsmbios = s->n_smbios;
	c->smbios_apple = s->smbios_apple;
	return 0;
}

static struct vm the_vm;

/* Apple's SMC, a device process on these ports (devproc/smc). */
#define SMC_PORT_BASE 0x300

static void close_fds(const int *fd, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (fd[i] >= 0)
			close(fd[i]);
}

/* Checks every field of the StartRequest before anything uses it; the
 * monitor is trusted more than the guest, but a malformed message still
 * gets a clean refusal rather than undefined behaviour. */
static int take_start(const Moat__Vcpu__StartRequest *s, struct ipc_fds *fds, struct vcpu_config *c)
{
	if (s->cpus < 1 || s->cpus > VCPU_MAX_CPUS)
		return log_error_errno(EINVAL, "start: bad vCPU count %u", s->cpus);
	if (s->mem_bytes < MOAT_MEM_MIN || s->mem_bytes > MOAT_MEM_MAX || s->mem_bytes % 4096)
		return log_error_errno(EINVAL, "start: bad memory size");
	if (!s->cmdline || strlen(s->cmdline) >= MOAT_CMDLINE_MAX)
		return log_error_errno(EINVAL, "start: bad command line");
	c->mem_bytes = s->mem_bytes;
	c->cpus = s->cpus;
	c->debug = s->log_debug;
	c->hold = s->hold;
	c->cmdline = strdup(s->cmdline);
	c->kvm_fd = ipc_fds_take(fds, s->fd_kvm);
	c->mem_fd = ipc_fds_take(fds, s->fd_mem);
	c->firmware = s->boot == MOAT__VCPU__BOOT_MODE__BOOT_FIRMWARE;
	c->kernel_fd = c->firmware ? -1 : ipc_fds_take(fds, s->fd_kernel);
	c->firmware_fd = c->firmware ? ipc_fds_take(fds, s->fd_firmware) : -1;
	c->firmware_vars_fd =
	    c->firmware && s->has_firmware_vars ? ipc_fds_take(fds, s->fd_firmware_vars) : -1;
	c->initrd_fd = s->has_initrd ? ipc_fds_take(fds, s->fd_initrd) : -1;
	c->serial_out = s->serial == MOAT__VCPU__SERIAL_MODE__SERIAL_STREAM
			    ? ipc_fds_take(fds, s->fd_serial_out)
			    : -1;
	c->serial_in = s->serial == MOAT__VCPU__SERIAL_MODE__SERIAL_STREAM && s->serial_has_input
			   ? ipc_fds_take(fds, s->fd_serial_in)
			   : -1;
	if (s->boot != MOAT__VCPU__BOOT_MODE__BOOT_KERNEL && !c->firmware)
		return log_error_errno(EINVAL, "start: unknown boot mode %d", s->boot);
	if (c->firmware && s->has_initrd)
		return log_error_errno(EINVAL, "start: an initrd with firmware");
	if (!c->cmdline || c->kvm_fd < 0 || c->mem_fd < 0 ||
	    (c->firmware ? c->firmware_fd < 0 : c->kernel_fd < 0) ||
	    (s->has_firmware_vars && c->firmware && c->firmware_vars_fd < 0) ||
	    (s->has_initrd && c->initrd_fd < 0) ||
	    (s->serial == MOAT__VCPU__SERIAL_MODE__SERIAL_STREAM && c->serial_out < 0) ||
	    (s->serial_has_input && c->serial_in < 0))
		return log_error_errno(EBADF, "start: descriptor indices do not match");
	return take_devices(s, fds, c);
}

static int receive_start(struct vcpu_config *c)
{
	ProtobufCMessage *m = NULL;
	struct ipc_fds fds;
	int rc = child_recv_start(&moat__vcpu__monitor_to_vcpu__descriptor,
				  MOAT__VCPU__MONITOR_TO_VCPU__MSG_START, &m, &fds);

	if (rc < 0)
		return rc;
	rc = take_start(((Moat__Vcpu__MonitorToVcpu *)m)->start, &fds, c);
	ipc_fds_close(&fds);
	protobuf_c_message_free_unpacked(m, NULL);
	return rc;
}

static int send_to_monitor(Moat__Vcpu__VcpuToMonitor *env)
{
	return child_send(&env->base);
}

static int send_ready(Moat__Sandbox__SandboxReport *sr, const char *format)
{
	Moat__Vcpu__ReadyEvent ready = MOAT__VCPU__READY_EVENT__INIT;
	Moat__Vcpu__VcpuToMonitor env = MOAT__VCPU__VCPU_TO_MONITOR__INIT;

	ready.sandbox = sr;
	ready.kernel_format = (char *)format;
	env.msg_case = MOAT__VCPU__VCPU_TO_MONITOR__MSG_READY;
	env.ready = &ready;
	return send_to_monitor(&env);
}

/* Held (StartRequest.hold): moat-vcpu was started beside the devices, and
 * the guest may run once they are all READY, which the monitor says with
 * RunRequest. A StopRequest instead (the VM ends before it ran) ends
 * moat-vcpu quietly; anything else is a protocol error. 1: run; 0: stop;
 * -errno. */
static int wait_for_run(void)
{
	ProtobufCMessage *m = NULL;
	struct ipc_fds fds;
	int rc =
	    ipc_recv_wait(CHILD_CONTROL_FD, &moat__vcpu__monitor_to_vcpu__descriptor, &m, &fds, -1);

	if (rc < 0)
		return log_error_errno(rc, "No run request from the monitor: %m");
	switch (fds.n ? -1 : (int)ipc_envelope_case(m)) {
	case MOAT__VCPU__MONITOR_TO_VCPU__MSG_RUN:
		rc = 1;
		break;
	case MOAT__VCPU__MONITOR_TO_VCPU__MSG_STOP:
		log_debug("stopped before the guest ran");
		rc = 0;
		break;
	default:
		rc = log_error_errno(EPROTO,
				     "Expected a run request, got message %d (%u descriptors)",
				     ipc_envelope_case(m), fds.n);
	}
	ipc_fds_close(&fds);
	protobuf_c_message_free_unpacked(m, NULL);
	return rc;
}

static void send_bad_input(const char *why)
{
	Moat__Vcpu__BadInputEvent bad = MOAT__VCPU__BAD_INPUT_EVENT__INIT;
	Moat__Vcpu__VcpuToMonitor env = MOAT__VCPU__VCPU_TO_MONITOR__INIT;

	bad.message = (char *)why;
	env.msg_case = MOAT__VCPU__VCPU_TO_MONITOR__MSG_BAD_INPUT;
	env.bad_input = &bad;
	send_to_monitor(&env);
}

static void send_exit(const struct vm_exit *e)
{
	Moat__Vcpu__ExitEvent ex = MOAT__VCPU__EXIT_EVENT__INIT;
	Moat__Vcpu__VcpuToMonitor env = MOAT__VCPU__VCPU_TO_MONITOR__INIT;

	ex.reason = e->reason;
	ex.vcpu = e->vcpu;
	ex.detail = (char *)e->detail;
	ex.register_dump = (char *)e->dump;
	env.msg_case = MOAT__VCPU__VCPU_TO_MONITOR__MSG_EXIT;
	env.exit = &ex;
	send_to_monitor(&env);
}

static void com1_irq(void *opaque, bool level)
{
	vm_set_irq(opaque, UART_COM1_IRQ, level);
}

static void kbc_irq(void *opaque, unsigned irq, bool level)
{
	vm_set_irq(opaque, irq, level);
}

static void kbc_reset(void *opaque)
{
	vm_end(opaque, MOAT__VCPU__EXIT_EVENT__REASON__RESET, 0, "guest reset (i8042)", NULL);
}

/* Map each device's ring and claim its ports for it. */
/* The display's three functions, all served by moat-display's ring:
 * bochs-display, its video memory mapped shared for KVM (the guest writes
 * it; moat-display reads it through its own read-only mapping), then the
 * keyboard and the tablet as virtio functions 1 and 2 of the process. */
static int attach_display(struct vm *vm, struct remote_dev *d, const struct remote_config *rc)
{
	void *vram = mmap(NULL, rc->vram_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, rc->vram_fd, 0);
	int r;

	close(rc->vram_fd);
	if (vram == MAP_FAILED)
		return -errno;
	r = pci_display_add(&vm->pci, d, rc->slot, rc->bar0, vram, rc->vram_bytes, rc->vram_gpa);
	/* a keyboard behind the i8042 too, for firmware and early boot */
	vm->kbd_fd = rc->kbd_fd;
	i8042_attach_keyboard(&vm->kbc);
	for (unsigned i = 0; r == 0 && i < DISPLAY_INPUTS; i++) {
		unsigned slot = rc->slot + 1 + i;
		r = pci_add_fn(&vm->pci, d, slot, VPCI_WINDOW(MOAT_PCI_MMIO_GPA, slot),
			       rc->notify + i * DISPLAY_INPUT_QUEUES, DISPLAY_INPUT_QUEUES,
			       rc->irq + i * DISPLAY_INPUT_VECTORS, DISPLAY_INPUT_VECTORS);
		if (r == 0)
			pci_fn_set_index(&vm->pci, slot, 1 + i);
	}
	return r;
}

static int setup_remotes(struct vm *vm, const struct vcpu_config *c)
{
	for (unsigned i = 0; i < c->nremotes; i++) {
		const struct remote_config *rc = &c->remotes[i];
		struct remote_dev *d = &vm->remotes[i];
		int r = ioring_map(rc->ring_fd, &d->ring);

		pthread_mutex_init(&d->lock, NULL);
		close(rc->ring_fd);
		if (r == 0)
			r = ioring_set_doorbell(&d->ring, rc->doorbell);
		if (r < 0)
			return log_error_errno(r, "Failed to map the ring of %s: %m", rc->name);
		snprintf(d->name, sizeof(d->name), "%s", rc->name);
		d->doorbell = rc->doorbell;
		vm->nremotes++;
		if (rc->len) {
			r = iobus_register(&vm->pio, rc->base, rc->len, remote_io, d, d->name);
			vm->smc |= rc->base == SMC_PORT_BASE;
		} else if (rc->display) {
			r = attach_display(vm, d, rc);
		} else {
			r = pci_add_fn(&vm->pci, d, rc->slot, rc->bar0, rc->notify, rc->nq, rc->irq,
				       rc->nvec);
		}
		if (r < 0)
			return log_error_errno(r, "Failed to attach %s: %m", rc->name);
	}
	return 0;
}

static int setup_devices(struct vm *vm, int serial_out, bool debug)
{
	int rc;

	uart_init(&vm->com1, serial_out, com1_irq, vm);
	debugcon_init(&vm->dbg, debug);
	i8042_init(&vm->kbc, kbc_reset, kbc_irq, vm);
	cmos_init(&vm->rtc, NULL);
	rc = pci_bus_init(&vm->pci, vm);
	if (rc == 0)
		rc = iobus_register(&vm->pio, UART_COM1_BASE, 8, uart_io, &vm->com1, "com1");
	if (rc == 0)
		rc = iobus_register(&vm->pio, 0x60, 1, i8042_io, &vm->kbc, "i8042-data");
	if (rc == 0)
		rc = iobus_register(&vm->pio, 0x64, 1, i8042_io, &vm->kbc, "i8042-cmd");
	if (rc == 0)
		rc = iobus_register(&vm->pio, 0x70, 2, cmos_io, &vm->rtc, "cmos");
	if (rc == 0)
		rc = iobus_register(&vm->pio, DEBUGCON_PORT, 1, debugcon_io, &vm->dbg, "debugcon");
	return rc;
}

/* Our resource limits. Threads: one per vCPU and the main one, all made
 * in the set-up phase; one more fails with EAGAIN (and the run phase's
 * filter has no clone at all). Descriptors, beyond those received: the
 * exit and parked eventfds, the VM and one per vCPU, and a spare two.
 * Guest RAM is in our address space: no RLIMIT_AS (struct pol_limits says
 * why). */
static const struct pol_limits *vcpu_limits(const struct vcpu_config *c)
{
	static struct pol_limits lim;

	lim = (struct pol_limits){.nofile_extra = 3 + c->cpus + 2, .nproc = 1 + c->cpus};
	return &lim;
}

int main(int argc, char **argv)
{
	struct vcpu_config c = {0};
	struct pol_report rep = {0};
	Moat__Sandbox__SandboxReport sr;
	struct boot_input in;
	char why[256] = "";
	const char *format = NULL;
	unsigned nrun = 0;
	int rc;

	log_set_prefix("moat-vcpu");
	if (receive_start(&c) < 0)
		return 1;
	if (c.debug)
		log_set_level(LOG_LVL_DEBUG);
	if (child_enter_sandbox("vcpu", &(struct pol_options){.limits = vcpu_limits(&c)}, &rep,
				&sr) < 0)
		return 1;

	struct vm *vm = &the_vm;
	vm->kbd_fd = -1;
	if (vm_create(vm, c.kvm_fd, c.mem_fd, c.mem_bytes, c.cpus) < 0 || vm_create_vcpus(vm) < 0 ||
	    setup_devices(vm, c.serial_out, c.debug) < 0 || setup_remotes(vm, &c) < 0)
		return 1;
	in = (struct boot_input){
	    .kernel_fd = c.kernel_fd,
	    .initrd_fd = c.initrd_fd,
	    .firmware_fd = c.firmware_fd,
	    .firmware_vars_fd = c.firmware_vars_fd,
	    .cmdline = c.cmdline,
	    .smbios = (const char *const *)c.smbios,
	    .nsmbios = c.nsmbios,
	    .smbios_apple = c.smbios_apple,
	};
	/* A direct kernel boot finds the display on at 1024x768x32, where
	 * its boot parameters say (moat-display presets the same mode). */
	struct boot_lfb lfb = {.width = 1024, .height = 768, .stride = 4096};
	if (!c.firmware && vm->pci.has_disp) {
		lfb.base = (uint32_t)vm->pci.disp.bar0;
		lfb.size = (uint32_t)vm->pci.disp.vram_bytes;
		if (pci_display_preset(&vm->pci) < 0)
			return log_error("the display's video memory cannot be mapped"), 1;
		in.lfb = &lfb;
	}
	if (c.firmware)
		rc = loader_firmware(vm, &in, why, sizeof(why), &format);
	else
		rc = loader_load(vm, &in, why, sizeof(why), &format);
	if (rc == -ENOEXEC || rc == -EINVAL) {
		send_bad_input(why);
		return 2;
	}
	if (rc < 0)
		return log_error_errno(rc, "Failed to load the guest: %m"), 1;
	close_fds((int[]){c.kernel_fd, c.initrd_fd, c.firmware_fd, c.firmware_vars_fd}, 4);
	/* The second phase (vm_enter_run_phase): threads first, since the
	 * run phase may not make any. READY follows it, so READY means "set
	 * up and confined for running"; the sandbox it reports is the first
	 * filter's (vcpu.policy), whose count the monitor checks the claim
	 * against, and vcpu-run.policy is stacked on it (moat-polcheck shows
	 * both counts). */
	if (vm_start(vm) < 0 || vm_enter_run_phase(vm, &nrun) < 0)
		return 1;
	log_debug("run phase: %u syscalls on top of vcpu.policy's %u", nrun, rep.policy_syscalls);
	if (send_ready(&sr, format) < 0)
		return 1;
	if (c.hold && (rc = wait_for_run()) <= 0)
		return rc < 0 ? 1 : 0;
	vm_run(vm);
	rc = vcpu_main_loop(vm, c.serial_in);
	if (atomic_load(&vm->ended))
		send_exit(&vm->exit);
	/* exit_group ends the vCPU threads wherever they are. */
	_exit(rc < 0 ? 1 : 0);
}
