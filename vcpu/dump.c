#include "dump.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

struct out {
	char *p;
	size_t left;
};

__attribute__((format(printf, 2, 3))) static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->left <= 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->p, o->left, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= o->left)
		n = o->left - 1;
	o->p += n;
	o->left -= n;
}

static void put_seg(struct out *o, const char *name, const struct kvm_segment *s)
{
	put(o, "%s=%04x base=%016llx limit=%08x type=%x dpl=%u p=%u l=%u db=%u\n", name,
	    s->selector, (unsigned long long)s->base, s->limit, s->type, s->dpl, s->present,
	    s->l, s->db);
}

void vcpu_dump_regs(int fd, unsigned id, char *buf, size_t len)
{
	struct out o = {buf, len};
	struct kvm_regs r;
	struct kvm_sregs s;

	buf[0] = 0;
	if (ioctl(fd, KVM_GET_REGS, &r) < 0 || ioctl(fd, KVM_GET_SREGS, &s) < 0) {
		put(&o, "vCPU %u: registers unavailable: %s\n", id, strerror(errno));
		return;
	}
	put(&o, "vCPU %u registers:\n", id);
	/* On AMD, KVM reinitialises the VMCB at a shutdown intercept (its
	 * state is undefined then), so after a triple fault the vCPU reads
	 * as just reset: say so rather than let it pass for where it failed. */
	if (r.rip == 0xfff0 && s.cs.base == 0xffff0000)
		put(&o, "(the reset state: KVM on AMD resets a vCPU at a triple fault, so where it "
			"failed is lost)\n");
	put(&o, "RIP=%016llx RFLAGS=%016llx\n", r.rip, r.rflags);
	put(&o, "RAX=%016llx RBX=%016llx RCX=%016llx RDX=%016llx\n", r.rax, r.rbx, r.rcx, r.rdx);
	put(&o, "RSI=%016llx RDI=%016llx RBP=%016llx RSP=%016llx\n", r.rsi, r.rdi, r.rbp, r.rsp);
	put(&o, "R8 =%016llx R9 =%016llx R10=%016llx R11=%016llx\n", r.r8, r.r9, r.r10, r.r11);
	put(&o, "R12=%016llx R13=%016llx R14=%016llx R15=%016llx\n", r.r12, r.r13, r.r14,
	    r.r15);
	put_seg(&o, "CS", &s.cs);
	put_seg(&o, "SS", &s.ss);
	put_seg(&o, "DS", &s.ds);
	put(&o, "CR0=%016llx CR2=%016llx CR3=%016llx CR4=%016llx\n", s.cr0, s.cr2, s.cr3,
	    s.cr4);
	put(&o, "EFER=%016llx APIC_BASE=%016llx\n", s.efer, s.apic_base);
	put(&o, "GDT base=%016llx limit=%04x  IDT base=%016llx limit=%04x\n", s.gdt.base,
	    s.gdt.limit, s.idt.base, s.idt.limit);
}

static const char *mp_state_name(uint32_t s)
{
	switch (s) {
	case KVM_MP_STATE_RUNNABLE:
		return "runnable";
	case KVM_MP_STATE_UNINITIALIZED:
		return "uninitialized";
	case KVM_MP_STATE_INIT_RECEIVED:
		return "init-received";
	case KVM_MP_STATE_HALTED:
		return "halted";
	case KVM_MP_STATE_SIPI_RECEIVED:
		return "sipi-received";
	default:
		return "other";
	}
}

static uint32_t apic_reg(const struct kvm_lapic_state *l, unsigned off)
{
	uint32_t v;

	memcpy(&v, l->regs + off, sizeof(v));
	return v;
}

/* The vectors set in one of the APIC's 256-bit registers (ISR at 0x100,
 * IRR at 0x200: eight 32-bit words 16 bytes apart), highest first. */
static void put_vectors(struct out *o, const char *name, const struct kvm_lapic_state *l,
			unsigned base)
{
	unsigned shown = 0;

	put(o, " %s=[", name);
	for (int vec = 255; vec >= 0 && shown < 8; vec--)
		if (apic_reg(l, base + (vec / 32) * 16) & (1u << (vec % 32)))
			put(o, shown++ ? ",%#x" : "%#x", vec);
	put(o, "]");
}

void vcpu_dump_wait_state(int fd, unsigned id, char *buf, size_t len)
{
	struct out o = {buf, len};
	struct kvm_regs r;
	struct kvm_mp_state mp;
	struct kvm_vcpu_events ev;
	struct kvm_lapic_state l;
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e[2];
	} msrs = {.hdr.nmsrs = 2, .e = {{.index = 0x10}, {.index = 0x6e0}}}; /* TSC, TSC_DEADLINE */

	buf[0] = 0;
	put(&o, "vCPU %u", id);
	if (ioctl(fd, KVM_GET_REGS, &r) == 0)
		put(&o, " RIP=%llx RFLAGS=%llx (IF=%u)", r.rip, r.rflags,
		    (unsigned)(r.rflags >> 9) & 1);
	else
		put(&o, " regs: %s", strerror(errno));
	if (ioctl(fd, KVM_GET_MP_STATE, &mp) == 0)
		put(&o, " %s", mp_state_name(mp.mp_state));
	if (ioctl(fd, KVM_GET_VCPU_EVENTS, &ev) == 0)
		put(&o, " event: irq %s%u shadow=%u nmi pending=%u exc %s%u",
		    ev.interrupt.injected ? "" : "none/", ev.interrupt.nr, ev.interrupt.shadow,
		    ev.nmi.pending, ev.exception.injected ? "" : "none/", ev.exception.nr);
	if (ioctl(fd, KVM_GET_LAPIC, &l) == 0) {
		put(&o, "; APIC TPR=%#x SVR=%#x", apic_reg(&l, 0x80), apic_reg(&l, 0xf0));
		put_vectors(&o, "ISR", &l, 0x100);
		put_vectors(&o, "IRR", &l, 0x200);
		put(&o, " LVTT=%#x TMICT=%u TMCCT=%u", apic_reg(&l, 0x320), apic_reg(&l, 0x380),
		    apic_reg(&l, 0x390));
	} else {
		put(&o, "; APIC: %s", strerror(errno));
	}
	if (ioctl(fd, KVM_GET_MSRS, &msrs) == 2)
		put(&o, "; TSC=%llx TSC_DEADLINE=%llx", (unsigned long long)msrs.e[0].data,
		    (unsigned long long)msrs.e[1].data);
}
