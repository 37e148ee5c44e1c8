/* Intel MP 1.4 table builder. Layouts as in the MP specification (and
 * Linux's arch/x86/include/asm/mpspec_def.h, which reads them):
 *   floating pointer  16 bytes  "_MP_", physptr u32, length (paragraphs),
 *                               spec rev, checksum, feature1..5
 *   config header     44 bytes  "PCMP", length u16, spec, checksum, oem[8],
 *                               product[12], oemptr u32, oemsize u16,
 *                               entry count u16, lapic u32, ext len u16,
 *                               ext checksum, reserved
 *   processor entry   20 bytes, every other entry 8 bytes. */
#include <errno.h>
#include <string.h>

#include "bytes.h"
#include "guest_layout.h"
#include "moat_limits.h"
#include "mptable.h"

enum {
	MPF_SIZE = 16,
	MPC_HDR_SIZE = 44,
	MPC_CPU_SIZE = 20,
	MPC_ENTRY_SIZE = 8,

	MP_PROCESSOR = 0,
	MP_BUS = 1,
	MP_IOAPIC = 2,
	MP_INTSRC = 3,
	MP_LINTSRC = 4,

	MP_SPEC_1_4 = 4,
	CPU_ENABLED = 1,
	CPU_BOOTPROCESSOR = 2,
	MPC_APIC_USABLE = 1,
	MP_INT = 0,
	MP_NMI = 1,
	MP_EXTINT = 3,
	MP_IRQFLAG_CONFORMING = 0, /* polarity and trigger as the bus says */
	MP_APIC_ALL = 0xFF,

	BUS_PCI = 0,
	BUS_ISA = 1,
	ISA_IRQS = 16,
	NR_BUSES = 2,
	NR_LINT = 2,
};

/* What the guest is told about its CPUs and chips. Linux reads only the
 * APIC IDs and flags and prints the rest; the signature is family 6 and the
 * feature flags say FPU and on-chip APIC (CPUID.1:EDX bits 0 and 9). The
 * versions are those KVM's in-kernel LAPIC and IOAPIC report. */
#define LAPIC_VERSION  0x14
#define IOAPIC_VERSION 0x11
#define CPU_SIGNATURE  0x600
#define CPU_FEATURES   ((1u << 0) | (1u << 9))
#define OEM_ID	       "MOAT    "
#define PRODUCT_ID     "MOAT VM     "

_Static_assert(sizeof(OEM_ID) - 1 == 8, "OEM id is 8 bytes");
_Static_assert(sizeof(PRODUCT_ID) - 1 == 12, "product id is 12 bytes");
_Static_assert(MOAT_MAX_CPUS <= MPTABLE_MAX_CPUS, "MP table cannot describe every vCPU");
_Static_assert(MPF_SIZE + MPC_HDR_SIZE + MPTABLE_MAX_CPUS * MPC_CPU_SIZE +
		       (NR_BUSES + 1 + ISA_IRQS + NR_LINT) * MPC_ENTRY_SIZE <=
		   MOAT_MPTABLE_MAX,
	       "the largest MP table overflows its place in the BIOS area");

static unsigned nr_entries(unsigned ncpus)
{
	return ncpus + NR_BUSES + 1 + ISA_IRQS + NR_LINT;
}

size_t mptable_size(unsigned ncpus)
{
	if (ncpus < 1 || ncpus > MPTABLE_MAX_CPUS)
		return 0;
	return MPF_SIZE + MPC_HDR_SIZE + (size_t)ncpus * MPC_CPU_SIZE +
	       (size_t)(NR_BUSES + 1 + ISA_IRQS + NR_LINT) * MPC_ENTRY_SIZE;
}

/* The byte that makes p[0..n) sum to zero once stored in it. */
static uint8_t checksum(const uint8_t *p, size_t n)
{
	uint8_t sum = 0;

	for (size_t i = 0; i < n; i++)
		sum += p[i];
	return (uint8_t)-sum;
}

static uint8_t *put_cpu(uint8_t *p, unsigned id)
{
	p[0] = MP_PROCESSOR;
	p[1] = (uint8_t)id;
	p[2] = LAPIC_VERSION;
	p[3] = CPU_ENABLED | (id == 0 ? CPU_BOOTPROCESSOR : 0);
	le32_put(p + 4, CPU_SIGNATURE);
	le32_put(p + 8, CPU_FEATURES);
	/* 8 reserved bytes stay zero */
	return p + MPC_CPU_SIZE;
}

static uint8_t *put_bus(uint8_t *p, uint8_t id, const char type[6])
{
	p[0] = MP_BUS;
	p[1] = id;
	memcpy(p + 2, type, 6);
	return p + MPC_ENTRY_SIZE;
}

static uint8_t *put_ioapic(uint8_t *p, uint8_t id)
{
	p[0] = MP_IOAPIC;
	p[1] = id;
	p[2] = IOAPIC_VERSION;
	p[3] = MPC_APIC_USABLE;
	le32_put(p + 4, (uint32_t)MOAT_IOAPIC_GPA);
	return p + MPC_ENTRY_SIZE;
}

/* Type 3 (I/O interrupt) and type 4 (local interrupt) share one layout:
 * type, irqtype, flags u16, source bus, source IRQ, destination APIC, pin. */
static uint8_t *put_irq(uint8_t *p, uint8_t type, uint8_t irqtype, uint8_t bus, uint8_t irq,
			uint8_t apic, uint8_t pin)
{
	p[0] = type;
	p[1] = irqtype;
	le16_put(p + 2, MP_IRQFLAG_CONFORMING);
	p[4] = bus;
	p[5] = irq;
	p[6] = apic;
	p[7] = pin;
	return p + MPC_ENTRY_SIZE;
}

/* The entries after the config header; returns the end. ISA IRQ n goes to
 * IOAPIC pin n, IRQ 0 included: moat keeps KVM's default GSI routing, where
 * GSI n drives IOAPIC pin n and KVM's PIT raises GSI 0 (kvmtool and
 * Firecracker wire it the same way). The PC convention IRQ 0 -> pin 2 would
 * leave the timer on a pin nothing drives. */
static uint8_t *put_entries(uint8_t *p, unsigned ncpus)
{
	uint8_t ioapic = (uint8_t)ncpus;

	for (unsigned i = 0; i < ncpus; i++)
		p = put_cpu(p, i);
	p = put_bus(p, BUS_PCI, "PCI   ");
	p = put_bus(p, BUS_ISA, "ISA   ");
	p = put_ioapic(p, ioapic);
	for (uint8_t irq = 0; irq < ISA_IRQS; irq++)
		p = put_irq(p, MP_INTSRC, MP_INT, BUS_ISA, irq, ioapic, irq);
	/* Virtual-wire mode: the PIC reaches the CPUs through LINT0. */
	p = put_irq(p, MP_LINTSRC, MP_EXTINT, BUS_ISA, 0, MP_APIC_ALL, 0);
	p = put_irq(p, MP_LINTSRC, MP_NMI, BUS_ISA, 0, MP_APIC_ALL, 1);
	return p;
}

int mptable_write(uint8_t *buf, size_t buflen, uint32_t buf_gpa, unsigned ncpus, size_t *used)
{
	size_t total = mptable_size(ncpus), mpc_len;
	uint8_t *mpc, *end;

	if (!buf || !used || total == 0 || buf_gpa % 16)
		return -EINVAL;
	if (buflen < total)
		return -ENOSPC;
	if ((uint64_t)buf_gpa + total > (1ULL << 32))
		return -ERANGE;
	memset(buf, 0, total);

	mpc = buf + MPF_SIZE;
	end = put_entries(mpc + MPC_HDR_SIZE, ncpus);
	mpc_len = (size_t)(end - mpc);
	memcpy(mpc, "PCMP", 4);
	le16_put(mpc + 4, (uint16_t)mpc_len);
	mpc[6] = MP_SPEC_1_4;
	memcpy(mpc + 8, OEM_ID, 8);
	memcpy(mpc + 16, PRODUCT_ID, 12);
	le16_put(mpc + 34, (uint16_t)nr_entries(ncpus));
	le32_put(mpc + 36, (uint32_t)MOAT_LAPIC_GPA);
	mpc[7] = checksum(mpc, mpc_len);

	/* feature1 = 0: a configuration table follows; feature2 bit 7 = 0:
	 * no IMCR, virtual-wire mode (KVM emulates no IMCR). */
	memcpy(buf, "_MP_", 4);
	le32_put(buf + 4, buf_gpa + MPF_SIZE);
	buf[8] = MPF_SIZE / 16;
	buf[9] = MP_SPEC_1_4;
	buf[10] = checksum(buf, MPF_SIZE);
	*used = total;
	return 0;
}
