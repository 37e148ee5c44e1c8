/* Firmware boot: the image (and UEFI's variable store in front of it) as
 * a read-only KVM slot ending at 4 GiB, where the reset vector is; its
 * last 128 KiB also as RAM at 0xE0000, where a BIOS expects its F segment
 * (as QEMU's microvm does, so no PAM shadowing is needed). The vCPUs keep
 * KVM's reset state: the BSP starts at 0xFFFFFFF0, the others wait for
 * INIT and SIPI. moat-vcpu runs none of the firmware's code itself. */
#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "boot/fwimage.h"
#include "guest_layout.h"
#include "loader.h"
#include "log.h"

#define ISA_BIOS_SIZE 0x20000ULL

_Static_assert(MOAT_PCI_HOLE_END - FW_ROM_MAX >= MOAT_KVM_PRIVATE_END,
	       "the firmware ROM overlaps KVM's private pages");

/* A private, read-only view of the user's file; *len 0 for fd -1. */
static int map_file(int fd, const char *what, const uint8_t **p, size_t *len, char *why,
		    size_t whylen)
{
	struct stat st;
	void *m;

	*p = NULL;
	*len = 0;
	if (fd < 0)
		return 0;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || st.st_size == 0 || (uint64_t)st.st_size > FW_ROM_MAX) {
		snprintf(why, whylen, "the %s is empty or larger than %u MiB", what,
			 FW_ROM_MAX >> 20);
		return -EINVAL;
	}
	m = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (m == MAP_FAILED)
		return log_error_errno(errno, "Failed to map the %s: %m", what);
	*p = m;
	*len = st.st_size;
	return 0;
}

/* The ROM: vars then code, one KVM slot the guest can read and execute
 * but not write (a write exits as MMIO and is dropped). */
static int map_rom(struct vm *vm, const uint8_t *code, size_t code_len, const uint8_t *vars,
		   size_t vars_len)
{
	size_t len = code_len + vars_len;
	uint8_t *rom = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct kvm_userspace_memory_region m = {
	    .slot = vm->nslots,
	    .flags = KVM_MEM_READONLY,
	    .guest_phys_addr = MOAT_PCI_HOLE_END - len,
	    .memory_size = len,
	};

	if (rom == MAP_FAILED)
		return log_error_errno(errno, "Failed to allocate the firmware ROM: %m");
	if (vars_len)
		memcpy(rom, vars, vars_len);
	memcpy(rom + vars_len, code, code_len);
	madvise(rom, len, MADV_DONTDUMP);
	m.userspace_addr = (uint64_t)(uintptr_t)rom;
	if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_READONLY_MEM) <= 0)
		return log_error_errno(ENOTSUP, "KVM lacks read-only memory slots (firmware ROM)");
	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &m) < 0)
		return log_error_errno(errno, "KVM_SET_USER_MEMORY_REGION (firmware ROM): %m");
	log_debug("firmware ROM at %#llx-%#llx (%zu KiB of variable store first)",
		  (unsigned long long)m.guest_phys_addr, (unsigned long long)MOAT_PCI_HOLE_END - 1,
		  vars_len >> 10);
	return 0;
}

int loader_firmware(struct vm *vm, const struct boot_input *in, char *why, size_t whylen,
		    const char **format)
{
	const uint8_t *code = NULL, *vars = NULL;
	size_t code_len, vars_len, isa;
	enum fw_kind kind;
	uint8_t *low;
	int rc;

	rc = map_file(in->firmware_fd, "firmware", &code, &code_len, why, whylen);
	if (rc == 0)
		rc =
		    map_file(in->firmware_vars_fd, "variable store", &vars, &vars_len, why, whylen);
	if (rc == 0)
		rc = fw_image_check(code, code_len, vars, vars_len, &kind, why, whylen);
	if (rc == 0)
		rc = map_rom(vm, code, code_len, vars, vars_len);
	if (rc == 0) {
		isa = code_len < ISA_BIOS_SIZE ? code_len : ISA_BIOS_SIZE;
		low = vm_gpa_ptr(vm, MOAT_BIOS_END - isa, isa);
		if (!low)
			rc = -EFAULT;
		else
			memcpy(low, code + code_len - isa, isa);
	}
	if (code)
		munmap((void *)code, code_len);
	if (vars)
		munmap((void *)vars, vars_len);
	if (rc < 0)
		return rc;
	*format = kind == FW_BIOS ? "bios" : "uefi";
	return fw_files_setup(vm, in, why, whylen);
}
