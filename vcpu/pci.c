#include "pci.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "guest_layout.h"
#include "ioring.h"
#include "log.h"
#include "vcpu.pb-c.h"
#include "vm.h"

#define CONF1_ADDR	       0xcf8
#define CONF1_DATA	       0xcfc
#define CONF1_ENABLE	       0x80000000u
#define KVM_IRQCHIP_PIC_MASTER 0
#define KVM_IRQCHIP_PIC_SLAVE  1
#define KVM_IRQCHIP_IOAPIC     2
#define GSI_LEGACY	       24 /* GSIs 0-23 are the PIC/IOAPIC pins */
#define MSI_ADDR_MASK	       0xfff00000u
#define MSI_ADDR_BASE	       0xfee00000u

/* Config space. */
#define CFG_COMMAND  0x04
#define CMD_IO	     0x0001
#define CMD_MEMORY   0x0002
#define CMD_MASTER   0x0004
#define CFG_BAR0     0x10
#define CFG_BARS_END 0x28 /* BAR5 ends here */
#define CFG_ROM	     0x30
#define BAR0_ADDR    (~(uint32_t)(VPCI_BAR0_SIZE - 1))

/* The chipset (Intel's datasheets; QEMU's values where they say nothing). */
#define INTEL		 0x8086
#define CHIPSET_SLOT	 1
#define PM_FUNC		 3
#define I440FX_PAM0	 0x59
#define I440FX_SMRAM	 0x72
#define PIIX3_PIRQRC	 0x60 /* PIRQ A-D routing, 0x60-0x63 */
#define PIIX4_PMBA	 0x40
#define PIIX4_PMBA_MASK	 0xffc0
#define PIIX4_DEVACTB_HI 0x5b /* DEVACTB bits 31:24 */
#define PIIX4_APMC_EN_HI 0x02 /* DEVACTB bit 25 */
#define PIIX4_PMREGMISC	 0x80
#define PIIX4_PMIOSE	 0x01
#define RCR_PORT	 0xcf9
#define RCR_RST_CPU	 0x04
#define RCR_KEPT	 0x0e /* SYS_RST, RST_CPU, FULL_RST */

#define R(x) MOAT__VCPU__EXIT_EVENT__REASON__##x

_Static_assert(VPCI_WINDOW(MOAT_PCI_MMIO_GPA, VPCI_LAST_SLOT) + VPCI_BAR0_SIZE <= MOAT_PCI_MMIO_END,
	       "a nominal window does not fit a 32-bit BAR below the IOAPIC");
_Static_assert(VPCI_MAX_QUEUES <= 32, "io_mask has a bit per queue");

/* ---- the BAR registers of a virtio function ---------------------------- */

bool vpci_bar_owns(unsigned reg)
{
	return (reg >= CFG_BAR0 && reg < CFG_BARS_END) || (reg >= CFG_ROM && reg < CFG_ROM + 4);
}

void vpci_bar_reset(struct vpci_bar *s, uint32_t nominal)
{
	s->bar0 = nominal & BAR0_ADDR;
	s->mem = false;
}

/* BAR0: memory space (bit 0 clear), 32-bit (bits 2:1 00), not
 * prefetchable (bit 3 clear): the register is its address bits. */
uint32_t vpci_bar_read(const struct vpci_bar *s, unsigned reg)
{
	return (reg & ~3u) == CFG_BAR0 ? s->bar0 : 0;
}

void vpci_bar_write(struct vpci_bar *s, unsigned reg, const uint8_t *data, unsigned len)
{
	uint32_t v = s->bar0;

	if ((reg & ~3u) != CFG_BAR0)
		return;
	for (unsigned i = 0; i < len && (reg & 3) + i < 4; i++) {
		unsigned shift = 8 * ((reg & 3) + i);
		v = (v & ~(0xffu << shift)) | (uint32_t)data[i] << shift;
	}
	s->bar0 = v & BAR0_ADDR;
}

void vpci_bar_snoop_cmd(struct vpci_bar *s, unsigned reg, const uint8_t *data, unsigned len)
{
	if (reg <= CFG_COMMAND && reg + len > CFG_COMMAND)
		s->mem = data[CFG_COMMAND - reg] & CMD_MEMORY;
}

uint32_t vpci_bar_decode(const struct vpci_bar *s)
{
	bool placed = s->bar0 != 0 && s->bar0 != BAR0_ADDR;

	return s->mem && placed ? s->bar0 : 0;
}

/* ---- the chipset ------------------------------------------------------- */

static void put(struct pci_cfg *c, unsigned off, unsigned size, uint32_t v)
{
	for (unsigned i = 0; i < size; i++)
		c->cfg[off + i] = (uint8_t)(v >> 8 * i);
}

static void writable(struct pci_cfg *c, unsigned off, unsigned size, uint32_t mask)
{
	for (unsigned i = 0; i < size; i++)
		c->wmask[off + i] = (uint8_t)(mask >> 8 * i);
}

/* A type 0 header with no BARs, no capabilities, and the registers an OS
 * or firmware uses as scratch (command's enables, cache line size,
 * interrupt line) writable. class: base, sub, prog-if as 0xBBSSPP. */
static void chipset_header(struct pci_cfg *c, uint16_t device, uint8_t rev, uint32_t class,
			   uint8_t header, uint16_t cmd, uint16_t status)
{
	memset(c, 0, sizeof(*c));
	put(c, 0x00, 2, INTEL);
	put(c, 0x02, 2, device);
	put(c, CFG_COMMAND, 2, cmd);
	put(c, 0x06, 2, status);
	put(c, 0x08, 1, rev);
	put(c, 0x09, 3, class);
	put(c, 0x0e, 1, header);
	writable(c, CFG_COMMAND, 1, CMD_IO | CMD_MEMORY | CMD_MASTER);
	writable(c, 0x0c, 1, 0xff);
	writable(c, 0x3c, 1, 0xff);
}

/* OVMF picks its platform from 00:00.0's device id (0x1237: i440FX);
 * SeaBIOS finds the PAM registers there and the PIIX4 by its id. */
static void chipset_init(struct pci_bus *b)
{
	/* 82441FX host bridge. PAM0-6: scratch (moat's BIOS area is RAM,
	 * whatever they say); SMRAM: QEMU's reset value, no SMM. */
	chipset_header(&b->host, 0x1237, 0x02, 0x060000, 0x00, 0, 0);
	writable(&b->host, I440FX_PAM0, 1, 0x30);
	for (unsigned i = 1; i <= 6; i++)
		writable(&b->host, I440FX_PAM0 + i, 1, 0x33);
	put(&b->host, I440FX_SMRAM, 1, 0x02);
	/* 82371SB PIIX3 ISA bridge, function 0 of a multi-function device;
	 * PIRQ routing registers out of reset: routing disabled (0x80). */
	chipset_header(&b->isa, 0x7000, 0x00, 0x060100, 0x80, CMD_IO | CMD_MEMORY | CMD_MASTER,
		       0x0200);
	put(&b->isa, PIIX3_PIRQRC, 4, 0x80808080u);
	writable(&b->isa, PIIX3_PIRQRC, 4, 0x8f8f8f8fu);
	/* 82371AB PIIX4 power management. PMBA: I/O space (bit 0), bits
	 * 15:6 the base; PMREGMISC bit 0 turns its decoding on. DEVACTB's
	 * APMC_EN set says SMM is already set up, so SeaBIOS does not try
	 * (moat has no SMM), as QEMU does under KVM. Interrupt pin A. */
	chipset_header(&b->pm, 0x7113, 0x03, 0x068000, 0x00, 0, 0x0280);
	put(&b->pm, 0x3d, 1, 0x01);
	put(&b->pm, PIIX4_PMBA, 4, 0x00000001u);
	writable(&b->pm, PIIX4_PMBA, 2, PIIX4_PMBA_MASK);
	writable(&b->pm, PIIX4_PMREGMISC, 1, PIIX4_PMIOSE);
	put(&b->pm, PIIX4_DEVACTB_HI, 1, PIIX4_APMC_EN_HI);
}

static struct pci_cfg *chipset_fn(struct pci_bus *b, unsigned slot, unsigned func)
{
	if (slot == 0 && func == 0)
		return &b->host;
	if (slot == CHIPSET_SLOT && func == 0)
		return &b->isa;
	if (slot == CHIPSET_SLOT && func == PM_FUNC)
		return &b->pm;
	return NULL;
}

/* Called with the bus lock held: the PM block's base, 0 if it does not
 * decode (PMREGMISC off, or a base of 0, which no firmware programs). */
static uint16_t pm_decoding(const struct pci_bus *b)
{
	uint16_t base = (b->pm.cfg[PIIX4_PMBA] | b->pm.cfg[PIIX4_PMBA + 1] << 8) & PIIX4_PMBA_MASK;

	return (b->pm.cfg[PIIX4_PMREGMISC] & PIIX4_PMIOSE) ? base : 0;
}

/* Called with the bus lock held, so that racing PMBA writes leave the
 * block where the last one says. */
static void pm_place(struct pci_bus *b)
{
	uint16_t base = pm_decoding(b);

	iobus_place(&b->vm->pio, b->pm_range, base, base != 0);
}

static bool overlaps(unsigned reg, unsigned len, unsigned start, unsigned n)
{
	return reg < start + n && start < reg + len;
}

static void chipset_config(struct pci_bus *b, struct pci_cfg *c, unsigned reg, uint8_t *data,
			   unsigned len, bool is_write)
{
	pthread_mutex_lock(&b->lock);
	if (!is_write) {
		memcpy(data, &c->cfg[reg], len);
	} else {
		for (unsigned i = 0; i < len; i++) {
			uint8_t m = c->wmask[reg + i];
			c->cfg[reg + i] = (uint8_t)((c->cfg[reg + i] & ~m) | (data[i] & m));
		}
		if (c == &b->pm &&
		    (overlaps(reg, len, PIIX4_PMBA, 2) || overlaps(reg, len, PIIX4_PMREGMISC, 1)))
			pm_place(b);
	}
	pthread_mutex_unlock(&b->lock);
}

void pci_pm_preset(struct pci_bus *b, uint16_t base)
{
	pthread_mutex_lock(&b->lock);
	put(&b->pm, PIIX4_PMBA, 2, (base & PIIX4_PMBA_MASK) | 1u);
	b->pm.cfg[CFG_COMMAND] |= CMD_IO;
	b->pm.cfg[PIIX4_PMREGMISC] |= PIIX4_PMIOSE;
	pm_place(b);
	pthread_mutex_unlock(&b->lock);
}

uint16_t pci_pm_base(struct pci_bus *b)
{
	pthread_mutex_lock(&b->lock);
	uint16_t base = pm_decoding(b);
	pthread_mutex_unlock(&b->lock);
	return base;
}

bool pci_power_button(struct pci_bus *b)
{
	return acpi_pm_power_button(&b->acpi);
}

/* The PM block's movable range: port is the offset in it. */
static void pm_io(void *opaque, uint16_t port, uint8_t *data, unsigned len, bool is_write)
{
	struct pci_bus *b = opaque;

	acpi_pm_access(&b->acpi, port, data, len, is_write);
}

static uint64_t pm_now(void *opaque)
{
	struct timespec ts;

	(void)opaque;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void pm_sci(void *opaque, bool level)
{
	vm_set_irq(opaque, ACPI_PM_SCI_IRQ, level);
}

static void pm_soft_off(void *opaque)
{
	vm_end(opaque, R(POWEROFF), vcpu_self_id, "guest powered off (ACPI S5)", NULL);
}

/* 0xCF9, the PIIX3's reset control register: RST_CPU resets (which ends
 * a moat VM); the other bits only read back. */
static void rcr_io(struct pci_bus *b, uint8_t *data, bool is_write)
{
	bool reset = false;

	pthread_mutex_lock(&b->lock);
	if (is_write) {
		b->rcr = *data & RCR_KEPT;
		reset = *data & RCR_RST_CPU;
	} else {
		*data = b->rcr;
	}
	pthread_mutex_unlock(&b->lock);
	if (reset)
		vm_end(b->vm, R(RESET), vcpu_self_id, "guest reset (0xCF9)", NULL);
}

/* ---- virtio functions: where BAR0 decodes ------------------------------ */

static int ioeventfd(struct pci_bus *b, const struct pci_fn *f, unsigned q, uint32_t at,
		     bool assign)
{
	struct kvm_ioeventfd io = {
	    .addr = (uint64_t)at + VPCI_NOTIFY_OFF + q * VPCI_NOTIFY_MULT,
	    .len = 2, /* the driver writes the 16-bit queue index */
	    .fd = f->notify_fd[q],
	    .flags = assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN,
	};

	return b->kvm_ioctl(b->vm->vm_fd, KVM_IOEVENTFD, &io) < 0 ? -errno : 0;
}

/* Called with the bus lock held: take f's ioeventfds away. */
static void notify_remove(struct pci_bus *b, struct pci_fn *f)
{
	for (unsigned q = 0; q < f->nq; q++) {
		int rc = f->io_mask & (1u << q) ? ioeventfd(b, f, q, f->io_at, false) : 0;
		if (rc < 0)
			log_warn_errno(rc, "%s: cannot remove queue %u's ioeventfd at %#x: %m",
				       f->rd->name, q, f->io_at);
	}
	f->io_mask = 0;
	f->io_at = 0;
}

/* Called with the bus lock held: f's ioeventfds at BAR0 address at. One
 * KVM refuses stays trapped: its notify writes reach the device as MMIO. */
static void notify_place(struct pci_bus *b, struct pci_fn *f, uint32_t at)
{
	for (unsigned q = 0; q < f->nq; q++) {
		int rc = ioeventfd(b, f, q, at, true);
		if (rc == 0) {
			f->io_mask |= 1u << q;
		} else if (!f->io_warned) {
			f->io_warned = true;
			log_warn_errno(rc,
				       "%s: no ioeventfd for queue %u with BAR0 at %#x (%m); its "
				       "notifications are trapped and passed on instead",
				       f->rd->name, q, at);
		}
	}
	f->io_at = at;
}

/* Called with the bus lock held, after any change to a function's BAR0
 * or Memory Space Enable: where each function's BAR0 now decodes, and its
 * ioeventfds there. Two BAR0s of the same size and alignment overlap only
 * at the same address: there the first function in slot order claims and
 * the other decodes nowhere until one of them moves. Claims change before
 * the ioeventfds do: an access racing a move finds the old place or the
 * new one, and a late notification at the old place is only spurious. */
static void bars_update(struct pci_bus *b)
{
	uint32_t want[VPCI_MAX_SLOTS];

	for (unsigned i = 0; i < b->nfn; i++) {
		want[i] = vpci_bar_decode(&b->fn[i].bar);
		for (unsigned j = 0; j < i; j++)
			if (want[j] == want[i])
				want[i] = 0;
		atomic_store_explicit(&b->fn[i].claim, want[i], memory_order_release);
	}
	for (unsigned i = 0; i < b->nfn; i++)
		if (b->fn[i].io_at != want[i])
			notify_remove(b, &b->fn[i]);
	for (unsigned i = 0; i < b->nfn; i++)
		if (want[i] && b->fn[i].io_at != want[i])
			notify_place(b, &b->fn[i], want[i]);
}

/* ---- the virtio cfg window (virtio 1.x, 4.1.4.9) ------------------------- */

#define WIN_START (VPCI_CAP_PCICFG_OFF + 4) /* bar; then id, padding */
#define WIN_END	  (VPCI_CAP_PCICFG_OFF + 20)
#define WIN_OFF	  4  /* offset, in win[] */
#define WIN_LEN	  8  /* length */
#define WIN_DATA  12 /* pci_cfg_data */

static uint32_t le32_at(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

/* What the window names, if it is an access the device would take: BAR0,
 * 1, 2 or 4 bytes, aligned, inside the BAR. */
static bool win_target(const uint8_t *w, uint32_t *off, uint32_t *len)
{
	*off = le32_at(w + WIN_OFF);
	*len = le32_at(w + WIN_LEN);
	return w[0] == 0 && (*len == 1 || *len == 2 || *len == 4) && *off % *len == 0 &&
	       *off < VPCI_BAR0_SIZE;
}

/* A write through the window: a queue notification signals the queue's
 * eventfd as KVM's ioeventfd would, the MSI-X table is not writable this
 * way (a device refuses it too, and no route would follow), the rest goes
 * to the device as the MMIO write it stands for. */
static void win_write(struct pci_fn *f, uint32_t off, const uint8_t *data, uint32_t len)
{
	uint64_t one = 1;

	if (off >= VPCI_NOTIFY_OFF && off < VPCI_NOTIFY_OFF + f->nq * VPCI_NOTIFY_MULT) {
		if (write(f->notify_fd[(off - VPCI_NOTIFY_OFF) / VPCI_NOTIFY_MULT], &one, 8) < 0)
			log_debug("%s: notification through the cfg window lost: %m", f->rd->name);
		return;
	}
	if (off >= VPCI_MSIX_TABLE_OFF && off < VPCI_MSIX_PBA_OFF)
		return;
	remote_access(f->rd, IORING_SPACE_MMIO, f->nominal + off, (uint8_t *)data, len, true);
}

/* A config access inside [WIN_START, WIN_END) (one dword at most, so
 * within it): the window's registers are kept here, and an access to its
 * data is the BAR access they name. Nothing else the guest can write
 * here reaches the device. */
static void fn_window(struct pci_bus *b, struct pci_fn *f, unsigned reg, uint8_t *data,
		      unsigned len, bool is_write)
{
	unsigned i = reg - WIN_START;
	uint8_t val[4];
	uint32_t off, wlen;
	bool go;

	pthread_mutex_lock(&b->lock);
	for (unsigned j = 0; is_write && j < len; j++)
		if (i + j == 0 || i + j >= WIN_OFF) /* id and padding read 0 */
			f->win[i + j] = data[j];
	go = i >= WIN_DATA && win_target(f->win, &off, &wlen);
	memcpy(val, f->win + WIN_DATA, 4);
	pthread_mutex_unlock(&b->lock);
	if (go && is_write) {
		win_write(f, off, val, wlen);
	} else if (go) {
		memset(val, 0, sizeof(val));
		if (remote_access(f->rd, IORING_SPACE_MMIO, f->nominal + off, val, wlen, false) < 0)
			memset(val, 0xff, sizeof(val));
		pthread_mutex_lock(&b->lock);
		memcpy(f->win + WIN_DATA, val, 4);
		pthread_mutex_unlock(&b->lock);
	}
	if (!is_write) {
		pthread_mutex_lock(&b->lock);
		memcpy(data, f->win + i, len);
		pthread_mutex_unlock(&b->lock);
	}
}

/* A config access to a virtio function: its BAR registers are ours, the
 * rest its device's; a command write goes to the device and Memory Space
 * Enable is kept here too (two vCPUs racing command writes may leave the
 * two copies apart: the guest's own device then floats or takes
 * notifications with decoding off, nothing worse). A dead device's config
 * space reads all ones, its BAR registers included. */
static void fn_config(struct pci_bus *b, struct pci_fn *f, unsigned reg, uint8_t *data,
		      unsigned len, bool is_write)
{
	if (reg >= WIN_START && reg < WIN_END) {
		if (!is_write && atomic_load(&f->rd->detached))
			memset(data, 0xff, len);
		else
			fn_window(b, f, reg, data, len, is_write);
		return;
	}
	if (!vpci_bar_owns(reg)) {
		remote_access(f->rd, IORING_SPACE_PCICFG, (uint64_t)f->index << 8 | reg, data, len,
			      is_write);
		if (!is_write || !overlaps(reg, len, CFG_COMMAND, 1))
			return;
		pthread_mutex_lock(&b->lock);
		vpci_bar_snoop_cmd(&f->bar, reg, data, len);
		bars_update(b);
		pthread_mutex_unlock(&b->lock);
		return;
	}
	if (!is_write && atomic_load(&f->rd->detached)) {
		memset(data, 0xff, len);
		return;
	}
	pthread_mutex_lock(&b->lock);
	if (is_write) {
		vpci_bar_write(&f->bar, reg, data, len);
		bars_update(b);
	} else {
		uint32_t v = vpci_bar_read(&f->bar, reg) >> 8 * (reg & 3);
		memcpy(data, &v, len);
	}
	pthread_mutex_unlock(&b->lock);
}

/* ---- configuration mechanism 1 ------------------------------------------ */

static struct pci_fn *fn_at(struct pci_bus *b, unsigned slot)
{
	for (unsigned i = 0; i < b->nfn; i++)
		if (b->fn[i].slot == slot)
			return &b->fn[i];
	return NULL;
}

/* One config-space access through the data window 0xCFC-0xCFF: reg + len
 * stays inside one dword. */
static void conf1_data(struct pci_bus *b, uint32_t addr, unsigned byte, uint8_t *data, unsigned len,
		       bool is_write)
{
	unsigned bus = (addr >> 16) & 0xff, slot = (addr >> 11) & 0x1f, func = (addr >> 8) & 7;
	unsigned reg = (addr & 0xfc) + byte;
	struct pci_cfg *c;
	struct pci_fn *f;

	if (!is_write)
		memset(data, 0xff, len);
	if (!(addr & CONF1_ENABLE) || bus != 0)
		return;
	if ((c = chipset_fn(b, slot, func)))
		chipset_config(b, c, reg, data, len, is_write);
	else if (func == 0 && b->has_disp && slot == b->disp.slot)
		pci_display_config(b, reg, data, len, is_write);
	else if (func == 0 && (f = fn_at(b, slot)))
		fn_config(b, f, reg, data, len, is_write);
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
	if (port == RCR_PORT && len == 1) {
		rcr_io(b, data, is_write);
		return;
	}
	if (port < CONF1_DATA) {
		/* Other probes of 0xCF8-0xCFB (Linux's type 1 and 2 checks). */
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
	/* Three bytes (a dword at 0xCFD) are two accesses, as the bus
	 * would carry them: a device's ring takes 1, 2, 4 or 8. */
	if (len == 3) {
		conf1_data(b, addr, byte, data, 1, is_write);
		conf1_data(b, addr, byte + 1, data + 1, 2, is_write);
		return;
	}
	conf1_data(b, addr, byte, data, len, is_write);
}

static int kvm_ioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg);
}

int pci_bus_init(struct pci_bus *b, struct vm *vm)
{
	const struct acpi_pm_ops pm_ops = {
	    .now_ns = pm_now, .sci = pm_sci, .soft_off = pm_soft_off, .opaque = vm};
	int rc;

	memset(b, 0, sizeof(*b));
	b->vm = vm;
	b->kvm_ioctl = kvm_ioctl;
	pthread_mutex_init(&b->lock, NULL);
	chipset_init(b);
	acpi_pm_init(&b->acpi, &pm_ops);
	rc = iobus_register(&vm->pio, CONF1_ADDR, 8, conf1_io, b, "pci-conf1");
	if (rc < 0)
		return rc;
	rc = iobus_register_movable(&vm->pio, ACPI_PM_BLOCK_LEN, pm_io, b, "acpi-pm");
	if (rc < 0)
		return rc;
	b->pm_range = rc;
	return 0;
}

/* ---- MSI-X routes -------------------------------------------------------- */

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
			r->entries[n].u.irqchip.irqchip =
			    gsi < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE;
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
	if (b->kvm_ioctl(b->vm->vm_fd, KVM_SET_GSI_ROUTING, r) < 0)
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
		uint32_t *w = field == 0   ? &f->msix[v].addr_lo
			      : field == 4 ? &f->msix[v].addr_hi
					   : &f->msix[v].data;
		if (*w != val) {
			*w = val;
			changed = true;
		}
	}
	if (changed)
		update_routes(b);
	pthread_mutex_unlock(&b->lock);
}

/* ---- MMIO and attachment ------------------------------------------------ */

/* The function list is fixed once the vCPUs run; where each BAR0 decodes
 * is one atomic word, so the lookup takes no lock. The device sees the
 * access at its nominal address, wherever the guest put BAR0. */
bool pci_mmio(struct pci_bus *b, uint64_t gpa, uint8_t *data, unsigned len, bool is_write)
{
	if (b->has_disp && pci_display_mmio(b, gpa, data, len, is_write))
		return true;
	for (unsigned i = 0; i < b->nfn; i++) {
		struct pci_fn *f = &b->fn[i];
		uint32_t at = atomic_load_explicit(&f->claim, memory_order_acquire);
		if (!at || gpa < at || gpa - at >= VPCI_BAR0_SIZE ||
		    len > VPCI_BAR0_SIZE - (gpa - at))
			continue;
		uint64_t off = gpa - at;
		if (is_write && off >= VPCI_MSIX_TABLE_OFF &&
		    off < VPCI_MSIX_TABLE_OFF + (uint64_t)f->nvec * VPCI_MSIX_ENTRY)
			snoop_msix(b, f, off - VPCI_MSIX_TABLE_OFF, data, len);
		/* A function whose process is gone reads as a device held in
		 * reset (zeros), not as absent (all ones): Linux's virtio
		 * driver, resetting it at shutdown, polls device_status until
		 * it reads 0 and would otherwise spin forever. */
		if (remote_access(f->rd, IORING_SPACE_MMIO, f->nominal + off, data, len, is_write) <
			0 &&
		    !is_write)
			memset(data, 0, len);
		return true;
	}
	return false;
}

void pci_fn_set_index(struct pci_bus *b, unsigned slot, unsigned index)
{
	struct pci_fn *f = fn_at(b, slot);

	if (f)
		f->index = index;
}

int pci_add_fn(struct pci_bus *b, struct remote_dev *rd, unsigned slot, uint64_t bar0,
	       const int *notify_fd, unsigned nq, const int *irq_fd, unsigned nvec)
{
	struct pci_fn *f;
	int rc;

	if (b->nfn >= VPCI_MAX_SLOTS || slot < VPCI_FIRST_SLOT || slot > VPCI_LAST_SLOT ||
	    fn_at(b, slot) || (b->has_disp && b->disp.slot == slot) || nq > VPCI_MAX_QUEUES ||
	    nvec > VPCI_MAX_VECTORS || bar0 != VPCI_WINDOW(MOAT_PCI_MMIO_GPA, slot))
		return -EINVAL;
	f = &b->fn[b->nfn];
	memset(f, 0, sizeof(*f));
	f->rd = rd;
	f->slot = slot;
	f->nominal = bar0;
	f->nq = nq;
	f->nvec = nvec;
	f->gsi_base = GSI_LEGACY + (slot - VPCI_FIRST_SLOT) * VPCI_MAX_VECTORS;
	for (unsigned q = 0; q < nq; q++)
		f->notify_fd[q] = notify_fd[q];
	vpci_bar_reset(&f->bar, (uint32_t)bar0);
	for (unsigned v = 0; v < nvec; v++) {
		struct kvm_irqfd irq = {.fd = irq_fd[v], .gsi = f->gsi_base + v};
		if (b->kvm_ioctl(b->vm->vm_fd, KVM_IRQFD, &irq) < 0)
			return log_error_errno(errno, "KVM_IRQFD for %s vector %u: %m", rd->name,
					       v);
	}
	pthread_mutex_lock(&b->lock);
	b->nfn++;
	rc = update_routes(b);
	pthread_mutex_unlock(&b->lock);
	return rc;
}
