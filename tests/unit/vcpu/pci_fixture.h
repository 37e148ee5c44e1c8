/* What the PCI bus tests share (test_pci.c, test_pci_window.c): the VM's
 * two entry points the bus calls (vm_set_irq, vm_end) and its KVM ioctls,
 * recorded (ioeventfds kept as KVM keeps them: a second one at the same
 * address is refused), virtio devices behind real I/O rings served by a
 * thread of this process, and the guest's side: ports, config cycles,
 * MMIO. Each test file uses what it needs of it. */
#pragma once
#pragma GCC diagnostic ignored "-Wunused-function"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "guest_layout.h"
#include "pci.h"
#include "tap.h"
#include "vcpu.pb-c.h"
#include "vm.h"

static struct vm vm;

/* ---- the VM, recorded ---------------------------------------------------- */

static struct {
	int ends, reason;
	char detail[160];
	int sci, sci_calls;
} rec;

int vm_set_irq(struct vm *v, unsigned irq, bool level)
{
	(void)v;
	if (irq == ACPI_PM_SCI_IRQ) {
		rec.sci = level;
		rec.sci_calls++;
	}
	return 0;
}

void vm_end(struct vm *v, int reason, unsigned vcpu, const char *detail, const char *dump)
{
	(void)v, (void)vcpu, (void)dump;
	rec.ends++;
	rec.reason = reason;
	snprintf(rec.detail, sizeof(rec.detail), "%s", detail);
}

/* ---- KVM, recorded --------------------------------------------------------- */

#define MAX_IO 64

static struct {
	uint64_t io_addr[MAX_IO];
	int io_fd[MAX_IO];
	unsigned nio;
	uint64_t refuse_at; /* an ioeventfd KVM will not take */
	unsigned routes, msi_routes;
	uint32_t last_msi_addr;
	int bad; /* a call KVM would have refused as malformed */
	/* the display's video memory slot: where it is (size 0: nowhere), how
	 * often it changed, and an address KVM will not take it at (RAM) */
	uint64_t slot_gpa, slot_size, slot_refuse_at;
	unsigned slot_calls;
} kvm;

static int io_find(uint64_t addr, int fd)
{
	for (unsigned i = 0; i < kvm.nio; i++)
		if (kvm.io_addr[i] == addr && (fd < 0 || kvm.io_fd[i] == fd))
			return (int)i;
	return -1;
}

static int fake_ioeventfd(const struct kvm_ioeventfd *io)
{
	int i;

	if (io->len != 2 || (io->flags & ~KVM_IOEVENTFD_FLAG_DEASSIGN))
		kvm.bad++;
	if (io->flags & KVM_IOEVENTFD_FLAG_DEASSIGN) {
		if ((i = io_find(io->addr, io->fd)) < 0)
			return errno = ENOENT, -1;
		kvm.io_addr[i] = kvm.io_addr[--kvm.nio];
		kvm.io_fd[i] = kvm.io_fd[kvm.nio];
		return 0;
	}
	if (io->addr == kvm.refuse_at)
		return errno = ENOSPC, -1;
	if (io_find(io->addr, -1) >= 0)
		return errno = EEXIST, -1;
	if (kvm.nio == MAX_IO)
		return errno = ENOSPC, -1;
	kvm.io_addr[kvm.nio] = io->addr;
	kvm.io_fd[kvm.nio++] = io->fd;
	return 0;
}

static int fake_ioctl(int fd, unsigned long req, void *arg)
{
	(void)fd;
	if (req == KVM_IOEVENTFD)
		return fake_ioeventfd(arg);
	if (req == KVM_SET_GSI_ROUTING) {
		const struct kvm_irq_routing *r = arg;
		kvm.routes++;
		kvm.msi_routes = 0;
		for (unsigned i = 0; i < r->nr; i++)
			if (r->entries[i].type == KVM_IRQ_ROUTING_MSI) {
				kvm.msi_routes++;
				kvm.last_msi_addr = r->entries[i].u.msi.address_lo;
			}
		return 0;
	}
	if (req == KVM_IRQFD)
		return 0;
	if (req == KVM_SET_USER_MEMORY_REGION) {
		const struct kvm_userspace_memory_region *m = arg;
		kvm.slot_calls++;
		/* KVM: a slot is removed (size 0) before it is placed again */
		if (m->memory_size && kvm.slot_size)
			return kvm.bad++, errno = EEXIST, -1;
		if (m->memory_size && m->guest_phys_addr == kvm.slot_refuse_at)
			return errno = EEXIST, -1;
		kvm.slot_gpa = m->memory_size ? m->guest_phys_addr : 0;
		kvm.slot_size = m->memory_size;
		return 0;
	}
	kvm.bad++;
	return errno = ENOTTY, -1;
}

/* ---- a virtio device behind a real I/O ring -------------------------------- */

#define NQ   3
#define NVEC 4

/* Config space: IDs, a command register whose enables are writable, and
 * BAR words of its own (a 64-bit BAR, as moat's devices report) that the
 * guest must never see. MMIO reads answer a function of the address the
 * device was given; the last access is recorded. */
struct dev {
	struct remote_dev rd;
	struct ioring ring;
	int bell;
	pthread_t thread;
	pthread_mutex_t lock;
	uint8_t cfg[256];
	uint64_t last_addr, last_data;
	unsigned last_size, mmio_count;
	bool last_write;
	int notify[NQ], irq[NVEC];
};

static struct dev devs[2];

static uint32_t mmio_answer(uint64_t addr)
{
	return (uint32_t)addr ^ 0x5a5a5a5au;
}

static void dev_handler(void *opaque, unsigned space, uint64_t addr, unsigned size, bool is_write,
			uint64_t *data)
{
	struct dev *d = opaque;

	pthread_mutex_lock(&d->lock);
	if (space == IORING_SPACE_PCICFG && addr + size <= 256) {
		for (unsigned i = 0; i < size; i++) {
			uint8_t m = addr + i == 0x04 ? 0x07 : 0;
			if (is_write)
				d->cfg[addr + i] =
				    (uint8_t)((d->cfg[addr + i] & ~m) | ((*data >> 8 * i) & m));
		}
		if (!is_write) {
			*data = 0;
			memcpy(data, &d->cfg[addr], size);
		}
	} else if (space == IORING_SPACE_MMIO) {
		d->last_addr = addr;
		d->last_size = size;
		d->last_write = is_write;
		d->last_data = is_write ? *data : 0;
		d->mmio_count++;
		if (!is_write)
			*data =
			    mmio_answer(addr) & (size == 4 ? 0xffffffffu : (1u << 8 * size) - 1);
	}
	pthread_mutex_unlock(&d->lock);
}

static void *dev_thread(void *arg)
{
	struct dev *d = arg;
	struct pollfd p = {.fd = d->bell, .events = POLLIN};

	for (;;) {
		if (ioring_serve(&d->ring, dev_handler, d) == -EPIPE)
			return NULL;
		poll(&p, 1, 100);
	}
}

static int dev_start(struct dev *d, const char *name)
{
	int fd = ioring_create_fd(1), sv[2];

	memset(d, 0, sizeof(*d));
	pthread_mutex_init(&d->lock, NULL);
	snprintf(d->rd.name, sizeof(d->rd.name), "%s", name);
	d->cfg[0] = 0xf4, d->cfg[1] = 0x1a, d->cfg[2] = 0x42, d->cfg[3] = 0x10;
	d->cfg[0x10] = 0x0c, d->cfg[0x13] = 0xc0; /* its own idea of BAR0 */
	d->cfg[0x30] = 0x01;
	for (unsigned q = 0; q < NQ; q++)
		d->notify[q] = 100 + q + 10 * (int)(d - devs);
	for (unsigned v = 0; v < NVEC; v++)
		d->irq[v] = 200 + v;
	if (fd < 0 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0 ||
	    ioring_map(fd, &d->rd.ring) < 0 || ioring_map(fd, &d->ring) < 0 ||
	    ioring_set_doorbell(&d->rd.ring, sv[0]) < 0 || ioring_set_doorbell(&d->ring, sv[1]) < 0)
		return -1;
	d->rd.doorbell = sv[0];
	d->bell = sv[1];
	close(fd);
	return pthread_create(&d->thread, NULL, dev_thread, d) == 0 ? 0 : -1;
}

/* ---- the guest's side ---------------------------------------------------- */

#define ADDR(bus, slot, fn, reg) (0x80000000u | (bus) << 16 | (slot) << 11 | (fn) << 8 | (reg))
#define SLOT_A			 VPCI_FIRST_SLOT
#define SLOT_B			 (VPCI_FIRST_SLOT + 1)
#define NOMINAL(slot)		 VPCI_WINDOW(MOAT_PCI_MMIO_GPA, slot)

static uint32_t port_read(uint16_t port, unsigned len)
{
	uint32_t v = 0;

	iobus_access(&vm.pio, port, (uint8_t *)&v, len, false);
	return v;
}

static void port_write(uint16_t port, unsigned len, uint32_t v)
{
	iobus_access(&vm.pio, port, (uint8_t *)&v, len, true);
}

static uint32_t cfg_read(uint32_t addr, uint16_t port, unsigned len)
{
	port_write(0xcf8, 4, addr);
	return port_read(port, len);
}

/* A config write of len bytes at reg (port 0xCFC + reg % 4). */
static void cfg_write(unsigned slot, unsigned fn, unsigned reg, unsigned len, uint32_t v)
{
	port_write(0xcf8, 4, ADDR(0, slot, fn, reg & 0xfc));
	port_write((uint16_t)(0xcfc + (reg & 3)), len, v);
}

static uint32_t cfg32(unsigned slot, unsigned fn, unsigned reg)
{
	return cfg_read(ADDR(0, slot, fn, reg), 0xcfc, 4);
}

static int bus_up(unsigned nfn)
{
	memset(&rec, 0, sizeof(rec));
	memset(&kvm, 0, sizeof(kvm));
	if (pci_bus_init(&vm.pci, &vm) < 0)
		return -1;
	vm.pci.kvm_ioctl = fake_ioctl;
	for (unsigned i = 0; i < nfn; i++) {
		struct dev *d = &devs[i];
		unsigned slot = SLOT_A + i;
		if (dev_start(d, i ? "b" : "a") < 0 ||
		    pci_add_fn(&vm.pci, &d->rd, slot, NOMINAL(slot), d->notify, NQ, d->irq, NVEC) <
			0)
			return -1;
	}
	return 0;
}

static uint32_t mmio_read(uint64_t gpa, unsigned len, bool *claimed)
{
	uint32_t v = 0;

	*claimed = pci_mmio(&vm.pci, gpa, (uint8_t *)&v, len, false);
	return v;
}
