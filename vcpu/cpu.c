/* Per-vCPU set-up: creation, CPUID, LAPIC wiring, FPU and MSR defaults. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "log.h"
#include "vm.h"

#define CPUID_HYPERVISOR_BIT (1u << 31)
#define APIC_LVT_LINT0       0x350
#define APIC_LVT_LINT1       0x360
#define APIC_MODE_NMI        0x4
#define APIC_MODE_EXTINT     0x7
#define MSR_IA32_MISC_ENABLE 0x1a0
#define MISC_ENABLE_FAST_STR 0x1

/* Ask KVM what it can offer, growing the buffer until it fits. */
static int cpuid_supported(int kvm_fd, struct kvm_cpuid2 **out)
{
	for (unsigned n = 64; n <= 4096; n *= 2) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));
		if (!c)
			return -ENOMEM;
		c->nent = n;
		if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0) {
			*out = c;
			return 0;
		}
		int e = errno;
		free(c);
		if (e != E2BIG)
			return -e;
	}
	return -E2BIG;
}

/* KVM's supported set, with this vCPU's APIC ID where the guest reads its
 * topology (leaf 1, leaves 0xB/0x1F, AMD's 0x8000001E) and the hypervisor
 * bit set so the guest knows where it is. */
static void cpuid_patch(struct kvm_cpuid2 *c, unsigned id)
{
	for (unsigned i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];
		switch (e->function) {
		case 1:
			e->ebx = (e->ebx & 0x00ffffff) | (id << 24);
			e->ecx |= CPUID_HYPERVISOR_BIT;
			break;
		case 0xb:
		case 0x1f:
			e->edx = id;
			break;
		case 0x8000001e:
			e->eax = id;
			break;
		default:
			break;
		}
	}
}

static int lapic_wire(int fd)
{
	struct kvm_lapic_state l;
	uint32_t v;

	if (ioctl(fd, KVM_GET_LAPIC, &l) < 0)
		return -errno;
	/* LINT0 receives the PIC's ExtINT, LINT1 the NMI: the wiring the MP
	 * table's local interrupt entries describe. */
	memcpy(&v, l.regs + APIC_LVT_LINT0, 4);
	v = (v & ~0x700u) | (APIC_MODE_EXTINT << 8);
	memcpy(l.regs + APIC_LVT_LINT0, &v, 4);
	memcpy(&v, l.regs + APIC_LVT_LINT1, 4);
	v = (v & ~0x700u) | (APIC_MODE_NMI << 8);
	memcpy(l.regs + APIC_LVT_LINT1, &v, 4);
	return ioctl(fd, KVM_SET_LAPIC, &l) < 0 ? -errno : 0;
}

static int vcpu_defaults(struct vcpu *v)
{
	struct kvm_fpu fpu = {.fcw = 0x37f, .mxcsr = 0x1f80};
	/* struct kvm_msrs ends in a flexible array: give it room for one. */
	union {
		struct kvm_msrs h;
		uint8_t room[sizeof(struct kvm_msrs) + sizeof(struct kvm_msr_entry)];
	} msrs = {.h.nmsrs = 1};

	msrs.h.entries[0] = (struct kvm_msr_entry){.index = MSR_IA32_MISC_ENABLE,
						   .data = MISC_ENABLE_FAST_STR};
	if (ioctl(v->fd, KVM_SET_FPU, &fpu) < 0)
		return log_error_errno(errno, "vCPU %u: KVM_SET_FPU: %m", v->id);
	/* Not every KVM accepts every MSR; a refusal here is harmless. */
	if (ioctl(v->fd, KVM_SET_MSRS, &msrs) != 1)
		log_debug("vCPU %u: MISC_ENABLE not accepted", v->id);
	int rc = lapic_wire(v->fd);
	if (rc < 0)
		return log_error_errno(rc, "vCPU %u: LAPIC set-up: %m", v->id);
	return 0;
}

int vm_create_vcpus(struct vm *vm)
{
	int rc = cpuid_supported(vm->kvm_fd, &vm->cpuid);

	if (rc < 0)
		return log_error_errno(rc, "KVM_GET_SUPPORTED_CPUID: %m");
	for (unsigned i = 0; i < vm->ncpus; i++) {
		struct vcpu *v = &vm->cpus[i];
		v->vm = vm;
		v->id = i;
		v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)i);
		if (v->fd < 0)
			return log_error_errno(errno, "KVM_CREATE_VCPU %u: %m", i);
		v->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
		if (v->run == MAP_FAILED)
			return log_error_errno(errno, "vCPU %u: mapping kvm_run: %m", i);
		cpuid_patch(vm->cpuid, i);
		if (ioctl(v->fd, KVM_SET_CPUID2, vm->cpuid) < 0)
			return log_error_errno(errno, "vCPU %u: KVM_SET_CPUID2: %m", i);
		rc = vcpu_defaults(v);
		if (rc < 0)
			return rc;
	}
	return 0;
}
