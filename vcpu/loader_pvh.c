/* Uncompressed vmlinux through its PVH entry (Xen's PHYS32_ENTRY note):
 * no decompressor runs, which is most of early boot under emulation. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "e820.h"
#include "guest_layout.h"
#include "boot/pvh.h"
#include "log.h"
#include "loader.h"

static int load_segments(struct vm *vm, const struct kernel_image *k,
			 const struct pvh_info *pi, uint64_t *end, char *why, size_t whylen)
{
	*end = 0;
	for (unsigned i = 0; i < pi->nseg; i++) {
		const struct pvh_segment *s = &pi->seg[i];
		uint8_t *dst = vm_gpa_ptr(vm, s->paddr, s->memsz);
		if (!dst || s->paddr < MOAT_HIMEM_GPA) {
			snprintf(why, whylen,
				 "kernel segment at %#llx (%llu bytes) is outside guest RAM",
				 (unsigned long long)s->paddr, (unsigned long long)s->memsz);
			return -EINVAL;
		}
		memcpy(dst, k->data + s->offset, s->filesz);
		memset(dst + s->filesz, 0, s->memsz - s->filesz);
		if (s->paddr + s->memsz > *end)
			*end = s->paddr + s->memsz;
	}
	return 0;
}

int loader_pvh(struct vm *vm, const struct kernel_image *k, const struct boot_input *in,
	       char *why, size_t whylen)
{
	struct pvh_info pi;
	struct initrd_place rd = {0};
	struct e820_entry e820[E820_MOAT_MAX_ENTRIES];
	const char *bad = NULL;
	unsigned ne;
	uint64_t end;
	uint8_t *si;
	int rc;

	rc = pvh_parse(k->data, k->size, &pi, &bad);
	if (rc < 0) {
		snprintf(why, whylen, "kernel is an ELF file but not a PVH vmlinux: %s", bad);
		return -ENOEXEC;
	}
	rc = load_segments(vm, k, &pi, &end, why, whylen);
	if (rc < 0)
		return rc;
	rc = loader_cmdline(vm, in->cmdline, 0, why, whylen);
	if (rc < 0)
		return rc;
	if (in->initrd_fd >= 0) {
		rc = loader_initrd(vm, in->initrd_fd, end, 0xffffffff, &rd, why, whylen);
		if (rc < 0)
			return rc;
	}
	rc = e820_build(vm->mem_bytes, e820, E820_MOAT_MAX_ENTRIES, &ne);
	if (rc < 0)
		return rc;
	si = vm_gpa_ptr(vm, MOAT_START_INFO_GPA, 4096);
	if (!si)
		return -EFAULT;
	struct pvh_boot_args args = {
		.cmdline_gpa = MOAT_CMDLINE_GPA,
		.initrd_gpa = rd.gpa,
		.initrd_size = rd.size,
		.map = e820,
		.nmap = ne,
	};
	size_t used;
	rc = pvh_write_start_info(si, 4096, MOAT_START_INFO_GPA, &args, &used);
	if (rc < 0)
		return log_error_errno(rc, "Failed to write the PVH start info: %m");
	return loader_protected_mode_regs(vm, pi.entry, MOAT_START_INFO_GPA);
}
