#include "dump.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdarg.h>
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
