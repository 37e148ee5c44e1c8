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

/* Selector bits: bit 15 marks an architecture key (0x8000-0xBFFF); bit 14
 * is the old write channel, ignored as QEMU 2.4+ does (0x4000 selects 0). */
#define FW_CFG_KEY_ARCH	 0x8000
#define FW_CFG_KEY_WRITE 0x4000

/* FW_CFG_ID's bits. */
#define FW_CFG_ID_TRADITIONAL 0x01
#define FW_CFG_ID_DMA	      0x02

/* The DMA descriptor (FWCfgDmaAccess, all big endian): be32 control, be32
 * length, be64 address; the select key is the top 16 bits of control. */
#define FW_CFG_DMA_DESC_SIZE  16
#define FW_CFG_DMA_CTL_ERROR  0x01
#define FW_CFG_DMA_CTL_READ   0x02
#define FW_CFG_DMA_CTL_SKIP   0x04
#define FW_CFG_DMA_CTL_SELECT 0x08
#define FW_CFG_DMA_CTL_WRITE  0x10
#define FW_CFG_DMA_SIGNATURE  "QEMU CFG" /* ports 0x514-0x51B read these bytes */

/* The file directory: be32 count, then per file be32 size, be16 select,
 * be16 reserved, char name[56]. */
#define FW_CFG_DIR_ENTRY_SIZE 64

#define FW_CFG_MAX_FILES 48
#define FW_CFG_MAX_ITEMS 16	     /* numbered items besides the files */
#define FW_CFG_NAME_MAX	 56	     /* file name bytes, including the NUL */
#define FW_CFG_ITEM_MAX	 (16u << 20) /* no item is larger */

struct fw_cfg;

/* Guest RAM for DMA: a host pointer to [gpa, gpa + len) when all of it is
 * guest RAM, else NULL (vm_gpa_ptr, or a test buffer). */
typedef void *(*fw_cfg_ram_fn)(void *opaque, uint64_t gpa, uint64_t len);
/* Called (with the device's lock held) when the guest selects a file,
 * through the selector port or a DMA request, before any byte of it is
 * read: the owner may refresh its contents with fw_cfg_update_file (the
 * ACPI tables are rebuilt with the PM base the firmware has programmed by
 * then, as QEMU does). fw_cfg_update_file is the only fw_cfg call the hook
 * may make, and on its own thread: another thread would wait for the lock
 * the hook holds, as would every vCPU touching the ports meanwhile. */
typedef void (*fw_cfg_select_fn)(void *opaque, struct fw_cfg *fc, const char *name);

struct fw_cfg_item {
	uint16_t key;
	uint32_t len;
	uint8_t *data; /* owned (a copy) */
};

struct fw_cfg {
	pthread_mutex_t lock; /* recursive: the select hook may call fw_cfg_update_file */
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
	int cur; /* index into items, -1: an unknown key (reads 0) */
	uint32_t off;
	uint32_t dma_hi; /* the DMA address's high half: 0 at start and after each transfer */
};

/* Signature "QEMU", id (traditional + DMA) and an empty file directory;
 * the signature is selected. ram may be NULL (then no DMA request reaches
 * memory). 0 or -ENOMEM (nothing left to free). */
int fw_cfg_init(struct fw_cfg *fc, fw_cfg_ram_fn ram, void *ram_opaque);
void fw_cfg_set_select_hook(struct fw_cfg *fc, fw_cfg_select_fn fn, void *opaque);
/* A numbered item (copied). -EEXIST, -ENOSPC, -EINVAL (a file key, a key
 * with the write bit 0x4000, too large, or NULL data with a length),
 * -ENOMEM. */
int fw_cfg_add_item(struct fw_cfg *fc, uint16_t key, const void *data, size_t len);
/* A named file (copied); keys are given from FW_CFG_FILE_FIRST in the
 * order of the calls; the directory is sorted by name (strcmp) as QEMU's
 * is. -EEXIST, -ENOSPC, -EINVAL (empty or too long a name: at most
 * FW_CFG_NAME_MAX - 1 bytes; too large; NULL data with a length), -ENOMEM.
 * The add calls take the lock, so they are safe while vCPUs run, but not
 * from the select hook. */
int fw_cfg_add_file(struct fw_cfg *fc, const char *name, const void *data, size_t len);
/* Replace a file's contents with as many bytes (the guest may already
 * have read its size from the directory); the guest's read offset stays.
 * -ENOENT, -EINVAL (another length). The lock is recursive, so this may be
 * called from the select hook (where the lock is already held) as well as
 * from any other thread. */
int fw_cfg_update_file(struct fw_cfg *fc, const char *name, const void *data, size_t len);
/* The iobus handler for ports FW_CFG_PORT_SEL .. + FW_CFG_PORTS - 1
 * (opaque: struct fw_cfg). Width 1, 2 or 4:
 *   0x510 write, width 2: select a key (little endian), offset back to 0;
 *   0x510/0x511 read: the next bytes of the item, 0 past its end or for
 *                an unknown key (QEMU's combined register reads data too);
 *   0x512-0x513: no register (reads all ones);
 *   0x514-0x51B read: FW_CFG_DMA_SIGNATURE's bytes in port order;
 *   0x514 write, width 4: the DMA address's high half (big endian);
 *   0x518 write, width 4: its low half, which runs the DMA request.
 * Every other write is ignored. */
void fw_cfg_io(void *opaque, uint16_t port, uint8_t *data, unsigned len, bool is_write);
/* Free the copies; accepts NULL and a device already freed. */
void fw_cfg_free(struct fw_cfg *fc);
