/* fw_cfg: the firmware configuration device of QEMU (docs/specs/fw_cfg.rst
 * there), which SeaBIOS and OVMF read to learn the machine: selector port
 * 0x510 (16-bit), data port 0x511 (8-bit), and the DMA address register at
 * 0x514-0x51B (64-bit big endian, written high half then low half; the low
 * write starts the transfer). Items are numbered keys (signature, id,
 * nb_cpus, ...) and named files listed in the file directory (key 0x19).
 *
 * Guest-facing and hostile: every selector, offset and DMA descriptor the
 * guest gives is checked; a bad DMA request sets the error bit in its
 * control word, never touches memory outside guest RAM, and never stops the
 * device. Pure: guest memory is reached only through the accessor given at
 * init, so unit tests and the fuzzer run it on a buffer. Thread-safe (one
 * lock): every vCPU may touch the ports. */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FW_CFG_PORT_SEL	 0x510
#define FW_CFG_PORT_DATA 0x511
#define FW_CFG_PORT_DMA	 0x514
#define FW_CFG_PORTS	 12 /* 0x510-0x51B, one iobus range */

/* Keys moat sets (QEMU's numbers). */
#define FW_CFG_SIGNATURE     0x00
#define FW_CFG_ID	     0x01
#define FW_CFG_RAM_SIZE	     0x03
#define FW_CFG_NOGRAPHIC     0x04
#define FW_CFG_NB_CPUS	     0x05
#define FW_CFG_MAX_CPUS	     0x0f
#define FW_CFG_FILE_DIR	     0x19
#define FW_CFG_FILE_FIRST    0x20
#define FW_CFG_IRQ0_OVERRIDE 0x8002

#define FW_CFG_MAX_FILES     48
#define FW_CFG_MAX_ITEMS     16	       /* numbered items besides the files */
#define FW_CFG_NAME_MAX	     56	       /* file name bytes, including the NUL */
#define FW_CFG_ITEM_MAX	     (16u << 20) /* no item is larger */

struct fw_cfg;

/* Guest RAM for DMA: a host pointer to [gpa, gpa + len) when all of it is
 * guest RAM, else NULL (vm_gpa_ptr, or a test buffer). */
typedef void *(*fw_cfg_ram_fn)(void *opaque, uint64_t gpa, uint64_t len);
/* Called (with the device's lock held) when the guest selects a file,
 * before any byte of it is read: the owner may refresh its contents with
 * fw_cfg_update_file (the ACPI tables are rebuilt with the PM base the
 * firmware has programmed by then, as QEMU does). */
typedef void (*fw_cfg_select_fn)(void *opaque, struct fw_cfg *fc, const char *name);

struct fw_cfg_item {
	uint16_t key;
	uint32_t len;
	uint8_t *data; /* owned (a copy) */
};

struct fw_cfg {
	pthread_mutex_t lock;
	fw_cfg_ram_fn ram;
	void *ram_opaque;
	fw_cfg_select_fn on_select;
	void *select_opaque;
	struct fw_cfg_item items[FW_CFG_MAX_ITEMS + FW_CFG_MAX_FILES];
	unsigned nitems;
	char names[FW_CFG_MAX_FILES][FW_CFG_NAME_MAX];
	unsigned nfiles;
	uint8_t *dir; /* the file directory item's bytes, rebuilt on each add */
	/* What the guest has selected and how far it has read. */
	int cur;      /* index into items, -1: an unknown key (reads 0) */
	uint32_t off;
	uint32_t dma_hi; /* the high half of the DMA address, once written */
};

/* Signature "QEMU", id (traditional + DMA) and an empty file directory. */
int fw_cfg_init(struct fw_cfg *fc, fw_cfg_ram_fn ram, void *ram_opaque);
void fw_cfg_set_select_hook(struct fw_cfg *fc, fw_cfg_select_fn fn, void *opaque);
/* A numbered item (copied). -EEXIST, -ENOSPC, -EINVAL (a file key or
 * too large). */
int fw_cfg_add_item(struct fw_cfg *fc, uint16_t key, const void *data, size_t len);
/* A named file (copied); keys are given from FW_CFG_FILE_FIRST in the
 * order of the calls; the directory is sorted by name as QEMU's is.
 * -EEXIST, -ENOSPC, -EINVAL (empty or too long a name, too large). */
int fw_cfg_add_file(struct fw_cfg *fc, const char *name, const void *data, size_t len);
/* Replace a file's contents with as many bytes (the guest may already
 * have read its size from the directory). -ENOENT, -EINVAL. */
int fw_cfg_update_file(struct fw_cfg *fc, const char *name, const void *data, size_t len);
/* The iobus handler for ports FW_CFG_PORT_SEL .. + FW_CFG_PORTS - 1
 * (opaque: struct fw_cfg). */
void fw_cfg_io(void *opaque, uint16_t port, uint8_t *data, unsigned len, bool is_write);
void fw_cfg_free(struct fw_cfg *fc);
