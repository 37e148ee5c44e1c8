/* bzImage through the Linux boot protocol's 64-bit entry point. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "boot/bzimage.h"
#include "e820.h"
#include "guest_layout.h"
#include "log.h"
#include "loader.h"

/* Where the protected-mode kernel goes: the kernel's preferred address when
 * it is relocatable (the address it was linked for, no relocation needed),
 * else the traditional 1 MiB. */
static uint64_t kernel_load_gpa(const struct bzimage_info *bi)
{
	if (bi->relocatable && bi->pref_address >= MOAT_HIMEM_GPA)
		return bi->pref_address;
	return MOAT_HIMEM_GPA;
}

int loader_bzimage(struct vm *vm, const struct kernel_image *k, const struct boot_input *in,
		   char *why, size_t whylen)
{
	struct bzimage_info bi;
	struct initrd_place rd = {0};
	struct e820_entry e820[E820_MOAT_MAX_ENTRIES];
	unsigned ne;
	const char *bad = NULL;
	uint8_t *zp, *dst;
	uint64_t load, footprint;
	int rc;

	rc = bzimage_parse(k->data, k->size, &bi, &bad);
	if (rc < 0) {
		snprintf(why, whylen, "kernel is neither a bzImage nor a PVH vmlinux: %s", bad);
		return -ENOEXEC;
	}
	load = kernel_load_gpa(&bi);
	footprint = bi.init_size > bi.kernel_size ? bi.init_size : bi.kernel_size;
	if (footprint > loader_low_ram_end(vm) || load > loader_low_ram_end(vm) - footprint) {
		snprintf(why, whylen, "kernel needs %llu MiB from %#llx; give the guest more --mem",
			 (unsigned long long)(footprint >> 20), (unsigned long long)load);
		return -EINVAL;
	}
	dst = vm_gpa_ptr(vm, load, bi.kernel_size);
	if (!dst)
		return -EFAULT;
	memcpy(dst, k->data + bi.kernel_off, bi.kernel_size);

	rc = loader_cmdline(vm, in->cmdline, bi.cmdline_size, why, whylen);
	if (rc < 0)
		return rc;
	if (in->initrd_fd >= 0) {
		rc = loader_initrd(vm, in->initrd_fd, load + footprint, bi.initrd_addr_max, &rd,
				   why, whylen);
		if (rc < 0)
			return rc;
	}

	zp = vm_gpa_ptr(vm, MOAT_ZERO_PAGE_GPA, 4096);
	if (!zp)
		return -EFAULT;
	memset(zp, 0, 4096);
	rc = bzimage_fill_zero_page(zp, k->data, k->size, &bi, MOAT_CMDLINE_GPA,
				    strlen(in->cmdline), rd.gpa, rd.size, &bad);
	if (rc == 0)
		rc = e820_build(vm->mem_bytes, e820, E820_MOAT_MAX_ENTRIES, &ne);
	if (rc == 0)
		rc = bootparams_set_e820(zp, e820, ne);
	if (rc == 0 && in->lfb)
		rc = bootparams_set_lfb(zp, in->lfb);
	if (rc < 0)
		return log_error_errno(rc, "Failed to fill the zero page: %m");
	return loader_long_mode_regs(vm, load + BZ_ENTRY64_OFF, MOAT_ZERO_PAGE_GPA);
}
