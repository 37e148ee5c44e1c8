/* Boot-time CPU state: a flat GDT, identity page tables, and the register
 * file each boot protocol expects on entry. Only the boot vCPU is set; the
 * others wait for the guest's INIT/SIPI in the in-kernel LAPIC. */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include "guest_layout.h"
#include "log.h"
#include "loader.h"

#define X86_CR0_PE   0x1ULL
#define X86_CR0_ET   0x10ULL
#define X86_CR0_PG   0x80000000ULL
#define X86_CR4_PAE  0x20ULL
#define EFER_LME     0x100ULL
#define EFER_LMA     0x400ULL
#define PTE_PRESENT  0x1ULL
#define PTE_RW       0x2ULL
#define PTE_PS       0x80ULL

/* Selectors the boot protocols name: __BOOT_CS 0x10, __BOOT_DS 0x18. */
#define SEL_CODE 0x10
#define SEL_DATA 0x18

static uint64_t gdt_entry(uint16_t flags, uint32_t base, uint32_t limit)
{
	return ((uint64_t)(base & 0xff000000) << 32) | ((uint64_t)(flags & 0xf0ff) << 40) |
	       ((uint64_t)(limit & 0x000f0000) << 32) | ((uint64_t)(base & 0x00ffffff) << 16) |
	       (uint64_t)(limit & 0x0000ffff);
}

static struct kvm_segment segment(uint16_t sel, uint16_t flags)
{
	struct kvm_segment s = {
		.base = 0,
		.limit = 0xffffffff,
		.selector = sel,
		.type = flags & 0xf,
		.present = (flags >> 7) & 1,
		.dpl = (flags >> 5) & 3,
		.db = (flags >> 14) & 1,
		.s = (flags >> 4) & 1,
		.l = (flags >> 13) & 1,
		.g = (flags >> 15) & 1,
	};
	return s;
}

/* Write the GDT and point sregs at it; code_flags picks 64- or 32-bit. */
static int setup_gdt(struct vm *vm, struct kvm_sregs *s, uint16_t code_flags)
{
	const uint16_t data_flags = 0xc093;
	uint64_t gdt[4] = {0, 0, gdt_entry(code_flags, 0, 0xfffff),
			   gdt_entry(data_flags, 0, 0xfffff)};
	uint8_t *p = vm_gpa_ptr(vm, MOAT_GDT_GPA, sizeof(gdt) + 8);

	if (!p)
		return -EFAULT;
	memcpy(p, gdt, sizeof(gdt));
	s->gdt.base = MOAT_GDT_GPA;
	s->gdt.limit = sizeof(gdt) - 1;
	/* An empty IDT: the guest installs its own before enabling interrupts. */
	s->idt.base = MOAT_GDT_GPA + sizeof(gdt);
	s->idt.limit = 0;
	s->cs = segment(SEL_CODE, code_flags);
	s->ds = s->es = s->fs = s->gs = s->ss = segment(SEL_DATA, data_flags);
	s->tr = segment(0, 0x008b);
	s->tr.limit = 0xffff;
	s->tr.g = 0;
	s->ldt = segment(0, 0x0082);
	s->ldt.limit = 0xffff;
	s->ldt.g = 0;
	return 0;
}

/* PML4 -> one PDPT -> four PDs of 2 MiB pages: the first 4 GiB, identity. */
static int setup_page_tables(struct vm *vm)
{
	uint64_t *pml4 = vm_gpa_ptr(vm, MOAT_PGTABLE_GPA, MOAT_PGTABLE_SIZE);
	uint64_t *pdpt, *pd;

	if (!pml4)
		return -EFAULT;
	memset(pml4, 0, 6 * 4096);
	pdpt = pml4 + 512;
	pd = pdpt + 512;
	pml4[0] = (MOAT_PGTABLE_GPA + 0x1000) | PTE_PRESENT | PTE_RW;
	for (unsigned i = 0; i < 4; i++)
		pdpt[i] = (MOAT_PGTABLE_GPA + 0x2000 + i * 0x1000) | PTE_PRESENT | PTE_RW;
	for (unsigned i = 0; i < 4 * 512; i++)
		pd[i] = ((uint64_t)i << 21) | PTE_PRESENT | PTE_RW | PTE_PS;
	return 0;
}

static int set_regs(struct vcpu *v, struct kvm_sregs *s, struct kvm_regs *r)
{
	if (ioctl(v->fd, KVM_SET_SREGS, s) < 0)
		return log_error_errno(errno, "KVM_SET_SREGS: %m");
	if (ioctl(v->fd, KVM_SET_REGS, r) < 0)
		return log_error_errno(errno, "KVM_SET_REGS: %m");
	return 0;
}

int loader_long_mode_regs(struct vm *vm, uint64_t rip, uint64_t rsi)
{
	struct vcpu *v = &vm->cpus[0];
	struct kvm_sregs s;
	struct kvm_regs r = {.rip = rip, .rsi = rsi, .rflags = 2};
	int rc;

	_Static_assert(MOAT_PGTABLE_SIZE >= 6 * 4096, "page tables need six pages");
	if (ioctl(v->fd, KVM_GET_SREGS, &s) < 0)
		return log_error_errno(errno, "KVM_GET_SREGS: %m");
	rc = setup_gdt(vm, &s, 0xa09b); /* 64-bit code: L=1, G=1 */
	if (rc == 0)
		rc = setup_page_tables(vm);
	if (rc < 0)
		return rc;
	s.cr3 = MOAT_PGTABLE_GPA;
	s.cr4 |= X86_CR4_PAE;
	s.cr0 |= X86_CR0_PE | X86_CR0_ET | X86_CR0_PG;
	s.efer |= EFER_LME | EFER_LMA;
	return set_regs(v, &s, &r);
}

int loader_protected_mode_regs(struct vm *vm, uint64_t eip, uint64_t ebx)
{
	struct vcpu *v = &vm->cpus[0];
	struct kvm_sregs s;
	struct kvm_regs r = {.rip = eip, .rbx = ebx, .rflags = 2};
	int rc;

	if (ioctl(v->fd, KVM_GET_SREGS, &s) < 0)
		return log_error_errno(errno, "KVM_GET_SREGS: %m");
	rc = setup_gdt(vm, &s, 0xc09b); /* 32-bit code: D=1, G=1 */
	if (rc < 0)
		return rc;
	s.cr0 = (s.cr0 | X86_CR0_PE | X86_CR0_ET) & ~X86_CR0_PG;
	s.cr4 = 0;
	s.efer = 0;
	return set_regs(v, &s, &r);
}
