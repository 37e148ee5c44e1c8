#include "loader.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "guest_layout.h"
#include "boot/acpi.h"
#include "boot/mptable.h"
#include "boot/pvh.h"
#include "boot/smbios.h"
#include "initrd_check.h"
#include "fdutil.h"
#include "log.h"

/* A kernel larger than this is not a kernel. */
#define KERNEL_MAX_BYTES (512ULL << 20)

uint64_t loader_low_ram_end(const struct vm *vm)
{
	return vm->slots[0].gpa + vm->slots[0].size;
}

int loader_cmdline(struct vm *vm, const char *cmdline, uint32_t max_len, char *why,
		   size_t whylen)
{
	size_t len = strlen(cmdline);
	uint8_t *dst = vm_gpa_ptr(vm, MOAT_CMDLINE_GPA, MOAT_CMDLINE_MAX);

	if (max_len == 0 || max_len > MOAT_CMDLINE_MAX - 1)
		max_len = MOAT_CMDLINE_MAX - 1;
	if (len > max_len) {
		snprintf(why, whylen, "kernel command line is %zu bytes; this kernel takes %u",
			 len, max_len);
		return -EINVAL;
	}
	if (!dst)
		return -EFAULT;
	memcpy(dst, cmdline, len + 1);
	return 0;
}

/* Place the initrd as high as the kernel allows (Linux's own preference),
 * page aligned, never below `lowest` (the end of the kernel's footprint). */
int loader_initrd(struct vm *vm, int fd, uint64_t lowest, uint64_t highest,
		  struct initrd_place *out, char *why, size_t whylen)
{
	struct stat st;
	uint64_t top = loader_low_ram_end(vm), gpa;
	uint8_t *dst;
	int rc;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || st.st_size == 0) {
		snprintf(why, whylen, "initrd is empty or not a regular file");
		return -EINVAL;
	}
	if (highest && highest + 1 < top)
		top = highest + 1;
	if ((uint64_t)st.st_size > top || top - st.st_size < lowest) {
		snprintf(why, whylen, "initrd (%lld bytes) does not fit in guest memory below %#llx",
			 (long long)st.st_size, (unsigned long long)top);
		return -EINVAL;
	}
	gpa = (top - st.st_size) & ~0xfffULL;
	dst = vm_gpa_ptr(vm, gpa, st.st_size);
	if (!dst || gpa < lowest)
		return -EINVAL;
	rc = fd_pread_full(fd, dst, st.st_size, 0);
	if (rc < 0)
		return log_error_errno(rc, "Failed to read the initrd: %m");
	const char *bad = initrd_check(dst, st.st_size);
	if (bad) {
		snprintf(why, whylen, "initrd is damaged: %s", bad);
		return -EINVAL;
	}
	out->gpa = gpa;
	out->size = st.st_size;
	return 0;
}

int loader_smbios_write(struct vm *vm, const struct boot_input *in, uint8_t *p, size_t len,
			uint32_t gpa, size_t *used, char *why, size_t whylen)
{
	struct smbios_info *info = calloc(1, sizeof(*info));
	int rc = 0;

	if (!p || !info) {
		free(info);
		return -ENOMEM;
	}
	smbios_info_init(info, vm->mem_bytes, vm->ncpus);
	if (in->smbios_apple)
		smbios_apple_defaults(info);
	for (size_t i = 0; i < in->nsmbios && rc == 0; i++)
		rc = smbios_parse_option(info, in->smbios[i], why, whylen);
	if (rc == 0) {
		rc = smbios_write(p, len, gpa, info, used);
		if (rc < 0)
			snprintf(why, whylen, "the SMBIOS tables do not fit (%s)", strerror(-rc));
	}
	free(info);
	return rc < 0 ? -EINVAL : 0;
}

/* ACPI for a kernel moat loads: the same tables firmware gets, placed by
 * running their loader script here, with the PM block where SeaBIOS would
 * have put it. They give the guest every vCPU (MADT), the power button and
 * soft-off (so poweroff ends moat). */
static int loader_acpi(struct vm *vm)
{
	struct acpi_config c = {
	    .ncpus = vm->ncpus,
	    .low_ram_end = loader_low_ram_end(vm),
	    .high_ram_end = vm->nslots > 1 ? vm->slots[1].gpa + vm->slots[1].size : 0,
	    .pm_base = LOADER_ACPI_PM_BASE,
	    .smc = vm->smc,
	};
	uint8_t *area = vm_gpa_ptr(vm, MOAT_ACPI_GPA, MOAT_ACPI_END - MOAT_ACPI_GPA);
	struct acpi_tables t = {0};
	int rc;

	if (!area)
		return -EFAULT;
	rc = acpi_build(&c, &t);
	if (rc == 0)
		rc = acpi_place(&t, area, MOAT_ACPI_RSDP_MAX, MOAT_ACPI_GPA,
				area + MOAT_ACPI_RSDP_MAX,
				MOAT_ACPI_END - MOAT_ACPI_GPA - MOAT_ACPI_RSDP_MAX,
				MOAT_ACPI_GPA + MOAT_ACPI_RSDP_MAX);
	acpi_tables_free(&t);
	if (rc < 0)
		return log_error_errno(rc, "Failed to place the ACPI tables: %m");
	pci_pm_preset(&vm->pci, LOADER_ACPI_PM_BASE);
	vm->acpi_pm_base = LOADER_ACPI_PM_BASE;
	return 0;
}

int loader_tables(struct vm *vm, const struct boot_input *in, char *why, size_t whylen)
{
	uint8_t *mp = vm_gpa_ptr(vm, MOAT_MPTABLE_GPA, MOAT_MPTABLE_MAX);
	size_t used;
	int rc;

	if (!mp)
		return -EFAULT;
	rc = mptable_write(mp, MOAT_MPTABLE_MAX, MOAT_MPTABLE_GPA, vm->ncpus, &used);
	if (rc < 0)
		return log_error_errno(rc, "Failed to build the MP table: %m");
	rc = loader_acpi(vm);
	if (rc < 0)
		return rc;
	size_t len = MOAT_BIOS_END - MOAT_SMBIOS_GPA;
	return loader_smbios_write(vm, in, vm_gpa_ptr(vm, MOAT_SMBIOS_GPA, len), len,
				   MOAT_SMBIOS_GPA, &used, why, whylen);
}

static int map_kernel(int fd, struct kernel_image *k, char *why, size_t whylen)
{
	struct stat st;
	void *p;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || st.st_size < 512 || (uint64_t)st.st_size > KERNEL_MAX_BYTES) {
		snprintf(why, whylen, "kernel is not a regular file of a plausible size");
		return -ENOEXEC;
	}
	p = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED)
		return log_error_errno(errno, "Failed to map the kernel: %m");
	k->data = p;
	k->size = st.st_size;
	return 0;
}

int loader_load(struct vm *vm, const struct boot_input *in, char *why, size_t whylen,
		const char **format)
{
	struct kernel_image k;
	int rc = map_kernel(in->kernel_fd, &k, why, whylen);

	if (rc < 0)
		return rc;
	if (pvh_is_elf(k.data, k.size)) {
		*format = "vmlinux-pvh";
		rc = loader_pvh(vm, &k, in, why, whylen);
	} else {
		*format = "bzImage";
		rc = loader_bzimage(vm, &k, in, why, whylen);
	}
	munmap((void *)k.data, k.size);
	if (rc < 0)
		return rc;
	return loader_tables(vm, in, why, whylen);
}
