/* Linux x86 bzImage: header parser and zero-page (boot_params) writer, after
 * Documentation/arch/x86/boot.rst and zero-page.rst. Pure functions on
 * caller buffers: no I/O, no guest memory, no globals. The image is
 * untrusted; every offset is checked against the buffer. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "e820.h"

#define BOOT_PARAMS_SIZE 4096

/* Setup header fields in the file and, at the same offsets, in the zero page. */
#define BZ_HDR_START   0x1F1  /* setup_sects: the first byte of the header */
#define BZ_HDR_MAX_END 0x290  /* boot_params has room for the header up to here */
#define BZ_PROTO_MIN   0x020C /* 2.12: the first version with xloadflags */
#define BZ_ENTRY64_OFF 0x200  /* 64-bit entry: load address + 0x200 */

#define BZ_LOADED_HIGH	 0x01 /* loadflags: protected-mode code at 1 MiB */
#define BZ_KEEP_SEGMENTS 0x40
#define BZ_CAN_USE_HEAP	 0x80 /* heap_end_ptr is valid */

#define BZ_XLF_KERNEL_64	      0x01 /* has the 64-bit entry at +0x200 */
#define BZ_XLF_CAN_BE_LOADED_ABOVE_4G 0x02

/* What bzimage_parse() learnt; sizes and offsets are within the image. */
struct bzimage_info {
	uint16_t version;    /* boot protocol, 0x020F = 2.15 */
	uint8_t setup_sects; /* 512-byte sectors of setup code (0 read as 4) */
	uint8_t loadflags;
	uint16_t xloadflags;
	uint8_t relocatable;	   /* relocatable_kernel */
	uint8_t min_alignment;	   /* log2 of the minimum alignment */
	uint32_t initrd_addr_max;  /* highest byte address the initrd may use */
	uint32_t kernel_alignment; /* power of two when relocatable */
	uint32_t cmdline_size;	   /* longest command line, without the NUL */
	uint64_t pref_address;	   /* preferred load address of the kernel */
	uint32_t init_size;	   /* memory the kernel needs from its load address */
	size_t hdr_end;		   /* the header is [BZ_HDR_START, hdr_end), clamped */
	size_t kernel_off;	   /* protected-mode kernel: file offset ... */
	size_t kernel_size;	   /* ... and size (the rest of the file) */
};

/* Validate the bzImage in img[0..len) and describe it in *out (written only
 * on success). Requires boot protocol >= 2.12, LOADED_HIGH and XLF_KERNEL_64,
 * since moat enters the kernel in 64-bit mode. On failure *why (if why is
 * not NULL) names the problem in a few words. Returns 0 or -EINVAL. */
int bzimage_parse(const uint8_t *img, size_t len, struct bzimage_info *out, const char **why);

/* Clear zp and fill it as a boot loader must: the setup header copied from
 * img (bi comes from bzimage_parse() of the same img, len), type_of_loader
 * 0xFF, LOADED_HIGH | CAN_USE_HEAP with heap_end_ptr 0xFE00, the command
 * line pointer and the initrd, using the ext_* fields for bits above 4 GiB.
 * cmdline_len excludes the NUL; cmdline_gpa 0 means no command line;
 * initrd_size 0 means no initrd. Does not touch guest memory: the caller
 * copies the kernel, command line and initrd. Call it first, then
 * bootparams_set_e820() and anything else that writes into zp.
 * Returns 0, -EINVAL (inconsistent bi), -E2BIG (command line longer than
 * cmdline_size) or -ERANGE (command line or initrd beyond what the kernel
 * can reach), with *why set. */
int bzimage_fill_zero_page(uint8_t zp[static BOOT_PARAMS_SIZE], const uint8_t *img, size_t len,
			   const struct bzimage_info *bi, uint64_t cmdline_gpa,
			   uint32_t cmdline_len, uint64_t initrd_gpa, uint64_t initrd_size,
			   const char **why);

/* boot_params e820 table: count at 0x1E8, 20-byte entries at 0x2D0. */
#define BOOT_PARAMS_E820_ENTRIES 0x1E8
#define BOOT_PARAMS_E820_TABLE	 0x2D0
#define BOOT_PARAMS_E820_MAX	 128

/* Write the n entries of e into zp's e820 table and count. Returns 0,
 * -E2BIG for more than BOOT_PARAMS_E820_MAX entries or -EINVAL for an entry
 * that wraps around the address space (zp is then unchanged). */
int bootparams_set_e820(uint8_t zp[static BOOT_PARAMS_SIZE], const struct e820_entry *e,
			unsigned n);

/* A linear framebuffer already set up, for the kernel's early console
 * (vesafb, or simplefb through sysfb): screen_info at the start of the
 * zero page, as a VESA BIOS would leave it (VIDEO_TYPE_VLFB). */
struct boot_lfb {
	uint32_t base;		/* guest-physical, below 4 GiB */
	uint32_t size;		/* bytes of video memory, a multiple of 64 KiB */
	uint16_t width, height; /* pixels */
	uint16_t stride;	/* bytes per line */
};

/* Describe fb in zp's screen_info: 32 bits per pixel, x8r8g8b8 (red at
 * 16, green at 8, blue at 0, no alpha: simplefb's "x8r8g8b8"). -EINVAL
 * (zp unchanged) if the picture does not fit in size or stride is short. */
int bootparams_set_lfb(uint8_t zp[static BOOT_PARAMS_SIZE], const struct boot_lfb *fb);
