#include "vm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "log.h"
#include "pol.h"
#include "ram.h"
#include "vcpu.pb-c.h"

void *vm_gpa_ptr(struct vm *vm, uint64_t gpa, uint64_t len)
{
	return mach_ram_ptr(vm->mem, vm->mem_bytes, vm->slots, vm->nslots, gpa, len);
}

static int vm_check_api(int kvm_fd)
{
	static const struct {
		int cap;
		const char *name;
	} need[] = {
	    {KVM_CAP_IRQCHIP, "in-kernel irqchip"},
	    {KVM_CAP_PIT2, "in-kernel PIT"},
	    {KVM_CAP_USER_MEMORY, "user memory slots"},
	    {KVM_CAP_EXT_CPUID, "KVM_GET_SUPPORTED_CPUID"},
	    {KVM_CAP_IRQ_ROUTING, "GSI routing"},
	    {KVM_CAP_IOEVENTFD, "ioeventfd"},
	    {KVM_CAP_IRQFD, "irqfd"},
	};
	int v = ioctl(kvm_fd, KVM_GET_API_VERSION, 0);

	if (v < 0)
		return log_error_errno(errno, "/dev/kvm does not answer KVM_GET_API_VERSION: %m");
	if (v != KVM_API_VERSION)
		return log_error_errno(EINVAL, "KVM API version %d, expected %d", v,
				       KVM_API_VERSION);
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		if (ioctl(kvm_fd, KVM_CHECK_EXTENSION, need[i].cap) <= 0)
			return log_error_errno(ENOTSUP, "KVM lacks %s", need[i].name);
	return 0;
}

static int vm_map_ram(struct vm *vm)
{
	struct mach_ram_region r[MACH_RAM_MAX_REGIONS];
	unsigned n = 0;
	int rc = mach_ram_regions(vm->mem_bytes, r, &n);

	if (rc < 0)
		return log_error_errno(rc, "Bad memory size %llu",
				       (unsigned long long)vm->mem_bytes);
	vm->mem = mmap(NULL, vm->mem_bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE,
		       vm->mem_fd, 0);
	if (vm->mem == MAP_FAILED)
		return log_error_errno(errno, "Failed to map guest RAM: %m");
	/* Guest RAM never belongs in a core dump of this process. */
	madvise(vm->mem, vm->mem_bytes, MADV_DONTDUMP);
	for (unsigned i = 0; i < n; i++) {
		struct kvm_userspace_memory_region m = {
		    .slot = i,
		    .guest_phys_addr = r[i].gpa,
		    .memory_size = r[i].size,
		    .userspace_addr = (uint64_t)(uintptr_t)(vm->mem + r[i].off),
		};
		if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &m) < 0)
			return log_error_errno(errno, "KVM_SET_USER_MEMORY_REGION: %m");
		vm->slots[i] = r[i];
	}
	vm->nslots = n;
	return 0;
}

int vm_create(struct vm *vm, int kvm_fd, int mem_fd, uint64_t mem_bytes, unsigned ncpus)
{
	struct kvm_pit_config pit = {.flags = KVM_PIT_SPEAKER_DUMMY};
	int rc;

	vm->kvm_fd = kvm_fd;
	vm->mem_fd = mem_fd;
	vm->mem_bytes = mem_bytes;
	vm->ncpus = ncpus;
	vm->exit_event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->exit_event_fd < 0)
		return log_error_errno(errno, "eventfd: %m");
	rc = vm_check_api(kvm_fd);
	if (rc < 0)
		return rc;
	vm->run_size = ioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vm->run_size <= 0)
		return log_error_errno(errno, "KVM_GET_VCPU_MMAP_SIZE: %m");
	vm->vm_fd = ioctl(kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0)
		return log_error_errno(errno, "KVM_CREATE_VM: %m");
	if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)MOAT_KVM_TSS_GPA) < 0)
		return log_error_errno(errno, "KVM_SET_TSS_ADDR: %m");
	uint64_t idmap = MOAT_KVM_IDENTITY_MAP_GPA;
	if (ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &idmap) < 0)
		return log_error_errno(errno, "KVM_SET_IDENTITY_MAP_ADDR: %m");
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
		return log_error_errno(errno, "KVM_CREATE_IRQCHIP: %m");
	if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0)
		return log_error_errno(errno, "KVM_CREATE_PIT2: %m");
	return vm_map_ram(vm);
}

int vm_set_irq(struct vm *vm, unsigned irq, bool level)
{
	struct kvm_irq_level l = {.irq = irq, .level = level};

	return ioctl(vm->vm_fd, KVM_IRQ_LINE, &l) < 0 ? -errno : 0;
}

void vm_end(struct vm *vm, int reason, unsigned vcpu, const char *detail, const char *dump)
{
	bool expected = false;
	uint64_t one = 1;

	if (!atomic_compare_exchange_strong(&vm->ending, &expected, true))
		return;
	vm->exit.reason = reason;
	vm->exit.vcpu = vcpu;
	snprintf(vm->exit.detail, sizeof(vm->exit.detail), "%s", detail ? detail : "");
	snprintf(vm->exit.dump, sizeof(vm->exit.dump), "%s", dump ? dump : "");
	atomic_store(&vm->ended, true); /* after the record: see vm.h */
	(void)!write(vm->exit_event_fd, &one, sizeof(one));
	/* A thread parked by a pause must not wait for a RESUME that will
	 * never come (vcpu/pause.c checks ended under this lock). */
	pthread_mutex_lock(&vm->pause_lock);
	pthread_cond_broadcast(&vm->resumed);
	pthread_mutex_unlock(&vm->pause_lock);
}

/* Everything the VM's set-up needed is done: the threads exist, the guest
 * is loaded. /dev/kvm goes (no second VM), and with it the memfd, whose
 * mapping stays; then the run phase's filter, on every thread at once
 * (pol_load synchronises the threads: they were made under vcpu.policy and
 * wait at the gate). Seccomp filters stack, so vcpu.policy still applies
 * and a call must pass both. */
int vm_enter_run_phase(struct vm *vm, unsigned *nsyscalls)
{
	close(vm->kvm_fd);
	vm->kvm_fd = -1;
	close(vm->mem_fd);
	vm->mem_fd = -1;
	free(vm->cpuid);
	vm->cpuid = NULL;
	/* the display's BAR0 moves its memory slot at run time */
	return pol_load(vm->pci.has_disp ? "vcpu-run-disp" : "vcpu-run", nsyscalls);
}
