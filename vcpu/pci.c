#include "pci.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "guest_layout.h"
#include "ioring.h"
#include "log.h"
#include "vm.h"

#define CONF1_ADDR   0xcf8
#define CONF1_DATA   0xcfc
#define CONF1_ENABLE 0x80000000u
#define KVM_IRQCHIP_PIC_MASTER 0
#define KVM_IRQCHIP_PIC_SLAVE  1
#define KVM_IRQCHIP_IOAPIC     2
#define GSI_LEGACY   24 /* GSIs 0-23 are the PIC/IOAPIC pins */
#define MSI_ADDR_MASK 0xfff00000u
#define MSI_ADDR_BASE 0xfee00000u

/* 00:00.0: a host bridge, so the guest's probe of mechanism 1 finds a
 * bus (Linux's pci_sanity_check looks for a host bridge class). The IDs
 * are those of a generic PCIe host bridge, which no driver quirks. */
static uint32_t host_bridge_read(unsigned reg)
{
	switch (reg) {
	case 0x00:
		return 0x00081b36; /* vendor 0x1b36, device 0x0008 */
	case 0x08:
		return 0x06000000; /* class: bridge, host; revision 0 */
	default:
		return 0;
	}
}

static struct pci_fn *fn_at(struct pci_bus *b, unsigned slot)
{
	for (unsigned i = 0; i < b->nfn; i++)
		if (b->fn[i].slot == slot)
			return &b->fn[i];
	return NULL;
}

/* One config-space access through the data window 0xCFC-0xCFF. */
static void conf1_data(struct pci_bus *b, uint32_t addr, unsigned byte, uint8_t *data,
		       unsigned len, bool is_write)
{
	unsigned bus = (addr >> 16) & 0xff, slot = (addr >> 11) & 0x1f, func = (addr >> 8) & 7;
	unsigned reg = (addr & 0xfc) + byte;
	struct pci_fn *f;

	if (!is_write)
		memset(data, 0xff, len);
	if (!(addr & CONF1_ENABLE) || bus != 0 || func != 0 || reg + len > 0x100)
		return;
	if (slot == 0) {
		if (!is_write) {
			uint32_t v = host_bridge_read(reg & 0xfc) >> (8 * (reg & 3));
			memcpy(data, &v, len);
		}
		return;
	}
	f = fn_at(b, slot);
	if (f)
		remote_access(f->rd, IORING_SPACE_PCICFG, reg, data, len, is_write);
}

static void conf1_io(void *opaque, uint16_t port, uint8_t *data, unsigned len, bool is_write)
{
	struct pci_bus *b = opaque;
	uint32_t addr;
	unsigned byte = port - CONF1_DATA;

	if (port == CONF1_ADDR && len == 4) {
		pthread_mutex_lock(&b->lock);
		if (is_write)
			memcpy(&b->addr, data, 4);
		else
			memcpy(data, &b->addr, 4);
		pthread_mutex_unlock(&b->lock);
		return;
	}
	if (port < CONF1_DATA) {
		/* Byte probes of 0xCF9-0xCFB (reset control, type probes). */
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	pthread_mutex_lock(&b->lock);
	addr = b->addr;
	pthread_mutex_unlock(&b->lock);
	/* An access running past 0xCFF is cut at the window's end; the
	 * device answers without the bus lock held, as it may be slow. */
	if (len > 4 - byte) {
		if (!is_write)
			memset(data, 0xff, len);
		len = 4 - byte;
	}
	conf1_data(b, addr, byte, data, len, is_write);
}

int pci_bus_init(struct pci_bus *b, struct vm *vm)
{
	memset(b, 0, sizeof(*b));
	b->vm = vm;
	pthread_mutex_init(&b->lock, NULL);
	return iobus_register(&vm->pio, CONF1_ADDR, 8, conf1_io, b, "pci-conf1");
}

/* KVM_SET_GSI_ROUTING replaces the whole table: resubmit KVM's defaults
 * for the legacy pins (GSI n to PIC pin n and IOAPIC pin n, as the MP
 * table describes) with one MSI route per programmed vector. Called with
 * the bus lock held. */
static int update_routes(struct pci_bus *b)
{
	unsigned max = 16 * 2 + 8 + VPCI_MAX_SLOTS * VPCI_MAX_VECTORS, n = 0;
	struct kvm_irq_routing *r = calloc(1, sizeof(*r) + max * sizeof(r->entries[0]));
	int rc = 0;

	if (!r)
		return -ENOMEM;
	for (unsigned gsi = 0; gsi < GSI_LEGACY; gsi++) {
		if (gsi < 16) {
			r->entries[n].gsi = gsi;
			r->entries[n].type = KVM_IRQ_ROUTING_IRQCHIP;
			r->entries[n].u.irqchip.irqchip = gsi < 8 ? KVM_IRQCHIP_PIC_MASTER
								  : KVM_IRQCHIP_PIC_SLAVE;
			r->entries[n++].u.irqchip.pin = gsi % 8;
		}
		r->entries[n].gsi = gsi;
		r->entries[n].type = KVM_IRQ_ROUTING_IRQCHIP;
		r->entries[n].u.irqchip.irqchip = KVM_IRQCHIP_IOAPIC;
		r->entries[n++].u.irqchip.pin = gsi;
	}
	for (unsigned i = 0; i < b->nfn; i++) {
		const struct pci_fn *f = &b->fn[i];
		for (unsigned v = 0; v < f->nvec; v++) {
			const struct msix_shadow *m = &f->msix[v];
			/* Only messages to the local APICs: anything else the
			 * guest wrote is not an interrupt and gets no route. */
			if ((m->addr_lo & MSI_ADDR_MASK) != MSI_ADDR_BASE || m->addr_hi)
				continue;
			r->entries[n].gsi = f->gsi_base + v;
			r->entries[n].type = KVM_IRQ_ROUTING_MSI;
			r->entries[n].u.msi.address_lo = m->addr_lo;
			r->entries[n].u.msi.address_hi = 0;
			r->entries[n++].u.msi.data = m->data;
		}
	}
	r->nr = n;
	if (ioctl(b->vm->vm_fd, KVM_SET_GSI_ROUTING, r) < 0)
		rc = log_error_errno(errno, "KVM_SET_GSI_ROUTING: %m");
	free(r);
	return rc;
}

/* The guest wrote into a function's MSI-X table: keep a shadow of the
 * address and data words and re-route when they change. The write still
 * goes to the device, which owns the table (masks, pending bits). */
static void snoop_msix(struct pci_bus *b, struct pci_fn *f, uint64_t off, const uint8_t *data,
		       unsigned len)
{
	bool changed = false;

	pthread_mutex_lock(&b->lock);
	for (unsigned i = 0; i + 4 <= len; i += 4) {
		uint64_t o = off + i;
		unsigned v = o / VPCI_MSIX_ENTRY, field = o % VPCI_MSIX_ENTRY;
		uint32_t val;
		if (v >= f->nvec || field == 12) /* vector control: the device's */
			continue;
		memcpy(&val, data + i, 4);
		uint32_t *w = field == 0 ? &f->msix[v].addr_lo
			      : field == 4 ? &f->msix[v].addr_hi : &f->msix[v].data;
		if (*w != val) {
			*w = val;
			changed = true;
		}
	}
	if (changed)
		update_routes(b);
	pthread_mutex_unlock(&b->lock);
}

bool pci_mmio(struct pci_bus *b, uint64_t gpa, uint8_t *data, unsigned len, bool is_write)
{
	for (unsigned i = 0; i < b->nfn; i++) {
		struct pci_fn *f = &b->fn[i];
		if (gpa < f->bar0 || gpa - f->bar0 >= VPCI_BAR0_SIZE ||
		    len > VPCI_BAR0_SIZE - (gpa - f->bar0))
			continue;
		uint64_t off = gpa - f->bar0;
		if (is_write && off >= VPCI_MSIX_TABLE_OFF &&
		    off < VPCI_MSIX_TABLE_OFF + (uint64_t)f->nvec * VPCI_MSIX_ENTRY)
			snoop_msix(b, f, off - VPCI_MSIX_TABLE_OFF, data, len);
		/* A function whose process is gone reads as a device held in
		 * reset (zeros), not as absent (all ones): Linux's virtio
		 * driver, resetting it at shutdown, polls device_status until
		 * it reads 0 and would otherwise spin forever. */
		if (remote_access(f->rd, IORING_SPACE_MMIO, gpa, data, len, is_write) < 0 &&
		    !is_write)
			memset(data, 0, len);
		return true;
	}
	return false;
}

static int register_eventfds(struct pci_bus *b, struct pci_fn *f, const int *notify_fd,
			     const int *irq_fd)
{
	for (unsigned q = 0; q < f->nq; q++) {
		struct kvm_ioeventfd io = {
			.addr = f->bar0 + VPCI_NOTIFY_OFF + q * VPCI_NOTIFY_MULT,
			.len = 2, /* the driver writes the 16-bit queue index */
			.fd = notify_fd[q],
		};
		if (ioctl(b->vm->vm_fd, KVM_IOEVENTFD, &io) < 0)
			return log_error_errno(errno, "KVM_IOEVENTFD for %s queue %u: %m",
					       f->rd->name, q);
	}
	for (unsigned v = 0; v < f->nvec; v++) {
		struct kvm_irqfd irq = {.fd = irq_fd[v], .gsi = f->gsi_base + v};
		if (ioctl(b->vm->vm_fd, KVM_IRQFD, &irq) < 0)
			return log_error_errno(errno, "KVM_IRQFD for %s vector %u: %m",
					       f->rd->name, v);
	}
	return 0;
}

int pci_add_fn(struct pci_bus *b, struct remote_dev *rd, unsigned slot, uint64_t bar0,
	       const int *notify_fd, unsigned nq, const int *irq_fd, unsigned nvec)
{
	struct pci_fn *f;

	if (b->nfn >= VPCI_MAX_SLOTS || slot == 0 || slot > VPCI_MAX_SLOTS || fn_at(b, slot) ||
	    nq > VPCI_MAX_QUEUES || nvec > VPCI_MAX_VECTORS ||
	    bar0 != VPCI_WINDOW(MOAT_PCI_MMIO_GPA, slot))
		return -EINVAL;
	f = &b->fn[b->nfn];
	*f = (struct pci_fn){.rd = rd, .slot = slot, .bar0 = bar0, .nq = nq, .nvec = nvec,
			     .gsi_base = GSI_LEGACY + (slot - 1) * VPCI_MAX_VECTORS};
	int rc = register_eventfds(b, f, notify_fd, irq_fd);
	if (rc < 0)
		return rc;
	b->nfn++;
	pthread_mutex_lock(&b->lock);
	rc = update_routes(b);
	pthread_mutex_unlock(&b->lock);
	return rc;
}
