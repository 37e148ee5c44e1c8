/* PVH direct boot of an uncompressed vmlinux: ELF64 parser that finds the
 * loadable segments and the Xen PHYS32_ENTRY note, and the writer of the
 * hvm_start_info block the kernel receives in EBX (Xen's
 * public/arch-x86/hvm/start_info.h, version 1). Pure functions on caller
 * buffers; the ELF file is untrusted. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "e820.h"

#define PVH_MAX_SEGMENTS 32

/* Xen's ELF note carrying the 32-bit physical PVH entry point. */
#define XEN_ELFNOTE_PHYS32_ENTRY 18

/* One PT_LOAD: copy file bytes [offset, offset + filesz) to guest physical
 * paddr and zero the rest up to paddr + memsz. */
struct pvh_segment {
	uint64_t paddr;
	uint64_t offset;
	uint64_t filesz;
	uint64_t memsz;
};

struct pvh_info {
	uint32_t entry; /* physical entry point, inside a segment's file bytes */
	unsigned nseg;	/* 1..PVH_MAX_SEGMENTS, in program-header order */
	struct pvh_segment seg[PVH_MAX_SEGMENTS];
	uint64_t lo, hi; /* the segments span guest physical [lo, hi) */
};

/* True when img starts with the ELF magic; pvh_parse() says whether it is a
 * usable one. */
bool pvh_is_elf(const uint8_t *img, size_t len);

/* Validate the ELF64 x86-64 executable in img[0..len) and describe it in
 * *out (written only on success): every program header is checked, PT_LOAD
 * segments (memsz 0 ones skipped) must lie inside the file, not wrap, and not
 * overlap in physical space; the entry comes from a "Xen" note of type 18 in
 * a PT_NOTE segment, or failing that an SHT_NOTE section, and must point
 * into a segment. Segments are not checked against guest RAM: the caller
 * does that with [lo, hi). Returns 0, -EINVAL (*why set if why is not
 * NULL) or -E2BIG for more than PVH_MAX_SEGMENTS segments. */
int pvh_parse(const uint8_t *img, size_t len, struct pvh_info *out, const char **why);

/* Sizes of the start-of-day structures (start_info.h, version 1). */
#define PVH_START_MAGIC	       0x336ec578
#define PVH_START_INFO_SIZE    56
#define PVH_MODLIST_ENTRY_SIZE 32
#define PVH_MEMMAP_ENTRY_SIZE  24
/* Linux copies the PVH memory map into its zero page, which holds 128. */
#define PVH_MEMMAP_MAX 128
/* The most bytes pvh_write_start_info() writes. */
#define PVH_START_INFO_MAX                                                                         \
	(PVH_START_INFO_SIZE + PVH_MODLIST_ENTRY_SIZE + PVH_MEMMAP_MAX * PVH_MEMMAP_ENTRY_SIZE)

struct pvh_boot_args {
	uint64_t cmdline_gpa; /* NUL-terminated command line; 0: none */
	uint64_t initrd_gpa;  /* the one module, if initrd_size != 0 */
	uint64_t initrd_size;
	const struct e820_entry *map; /* the guest's memory map */
	unsigned nmap;		      /* 1..PVH_MEMMAP_MAX entries */
};

/* Lay out, at buf (which the guest will see at buf_gpa), the hvm_start_info
 * (magic, version 1, flags 0, no RSDP), then the module list (the initrd, if
 * any) and the memory map, each pointing at the next by guest physical
 * address. The kernel gets buf_gpa in EBX, so the block must lie below
 * 4 GiB; buf_gpa must be 8-byte aligned and not 0. *used gets the bytes
 * written. Returns 0, -EINVAL for bad arguments, -ENOSPC when buflen is too
 * small, -ERANGE when the block would cross 4 GiB. */
int pvh_write_start_info(uint8_t *buf, size_t buflen, uint64_t buf_gpa,
			 const struct pvh_boot_args *a, size_t *used);
