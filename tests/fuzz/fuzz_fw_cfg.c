/* libFuzzer target: the fw_cfg device under arbitrary guest port I/O, with
 * a small guest RAM holding whatever DMA descriptors the input puts there,
 * checked step by step against a reference model of the device.
 *
 * Guest RAM is one 4 KiB buffer seen through two windows: 0x1000-0x17FF
 * and 0x1_0000_0800-0x1_0000_0FFF (so a request needs the DMA address's
 * high half to reach the second); nothing else is RAM, and a range is RAM
 * only inside one window. Installed: a small file the select hook rewrites
 * (same size), an ACPI-sized one, a big one (1 MiB and a bit) and a
 * numbered item.
 *
 * Input:
 *   byte 0: how many 16-byte blocks of RAM image follow (the rest of RAM
 *           is a fixed pattern), then the image;
 *   then 6-byte operations:
 *     byte 0: bits 0-3 port 0x510 + n (12-15: outside the device's range),
 *             bits 4-5 width (1, 2, 4, 4), bit 6 write, bit 7 instead a
 *             poke of bytes 1-4 into RAM at offset (byte 5 << 4 | bits 0-3)
 *     bytes 1-4: the bytes of the access, as the vCPU's buffer holds them
 *
 * Oracle: after every operation, all of RAM equals what the model says: a
 * port access changes no byte; a DMA request changes only its target
 * (when all of it is RAM) and its control word (0, or the error bit); and
 * every byte read from a port is the model's. Plus no crash, no sanitizer
 * report. */
#include <endian.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fw_cfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RAM_SIZE 4096
#define WIN	 (RAM_SIZE / 2)
#define WIN_A	 0x1000ull
#define WIN_B	 0x100000800ull
#define BIG_LEN	 ((1u << 20) + 123)

static uint8_t ram[RAM_SIZE];
static struct fw_cfg fc;

/* The offset in ram[] of [gpa, gpa + len) when it is all inside one
 * window, else -1. Both the accessor and the model use it: it is what RAM
 * means here. */
static long ram_off(uint64_t gpa, uint64_t len)
{
	static const uint64_t win[2] = {WIN_A, WIN_B};

	for (unsigned w = 0; w < 2; w++)
		if (gpa >= win[w] && gpa - win[w] <= WIN && len <= WIN - (gpa - win[w]))
			return (long)(w * WIN + (gpa - win[w]));
	return -1;
}

static void *ram_at(void *opaque, uint64_t gpa, uint64_t len)
{
	long off = ram_off(gpa, len);

	(void)opaque;
	return off < 0 ? NULL : ram + off;
}

/* The reference items: what a read of each key must give. */
static uint8_t small_old[40], small_new[40], tables[512], big[BIG_LEN], dir[4 + 3 * 64];
static uint32_t dir_len;

struct ref {
	const uint8_t *data;
	uint32_t len;
};

static struct ref ref_item(uint16_t sel)
{
	static const uint8_t sig[4] = {'Q', 'E', 'M', 'U'}, id[4] = {3}, cpus[2] = {2};
	uint16_t key = sel & (uint16_t)~FW_CFG_KEY_WRITE;

	switch (key) {
	case FW_CFG_SIGNATURE:
		return (struct ref){sig, 4};
	case FW_CFG_ID:
		return (struct ref){id, 4};
	case FW_CFG_NB_CPUS:
		return (struct ref){cpus, 2};
	case FW_CFG_FILE_DIR:
		return (struct ref){dir, dir_len};
	case FW_CFG_FILE_FIRST: /* the hook has run before any read */
		return (struct ref){small_new, sizeof(small_new)};
	case FW_CFG_FILE_FIRST + 1:
		return (struct ref){tables, sizeof(tables)};
	case FW_CFG_FILE_FIRST + 2:
		return (struct ref){big, BIG_LEN};
	default:
		return (struct ref){NULL, 0}; /* unknown: reads 0 */
	}
}

/* The model's state: the selected item, the offset, the high half. */
static struct ref cur;
static uint32_t cur_off, model_hi;

static void model_select(uint16_t key)
{
	cur = ref_item(key);
	cur_off = 0;
}

static uint8_t model_byte(void)
{
	return cur_off < cur.len ? cur.data[cur_off++] : 0;
}

static uint32_t be32_at(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return be32toh(v);
}

static void on_select(void *opaque, struct fw_cfg *f, const char *name)
{
	(void)opaque;
	if (strcmp(name, "etc/small") != 0)
		return;
	if (fw_cfg_update_file(f, name, small_new, sizeof(small_new)) != 0 ||
	    fw_cfg_update_file(f, name, small_new, sizeof(small_new) - 1) != -EINVAL ||
	    fw_cfg_update_file(f, "etc/none", small_new, 1) != -ENOENT)
		abort();
}

static void setup(void)
{
	uint8_t cpus[2] = {2, 0};

	for (size_t i = 0; i < sizeof(small_old); i++) {
		small_old[i] = (uint8_t)i;
		small_new[i] = (uint8_t)(0x80 | i);
	}
	for (size_t i = 0; i < sizeof(tables); i++)
		tables[i] = (uint8_t)(i * 13 + 1);
	for (size_t i = 0; i < BIG_LEN; i++)
		big[i] = (uint8_t)(i ^ (i >> 8));
	if (fw_cfg_init(&fc, ram_at, NULL) ||
	    fw_cfg_add_item(&fc, FW_CFG_NB_CPUS, cpus, sizeof(cpus)) ||
	    fw_cfg_add_file(&fc, "etc/small", small_old, sizeof(small_old)) ||
	    fw_cfg_add_file(&fc, "etc/acpi/tables", tables, sizeof(tables)) ||
	    fw_cfg_add_file(&fc, "etc/big", big, BIG_LEN))
		abort();
	fw_cfg_set_select_hook(&fc, on_select, NULL);
	/* The directory as the device lists it (its layout is the unit
	 * tests' business), for the model to compare later reads with. */
	uint8_t key[2] = {FW_CFG_FILE_DIR, 0};
	fw_cfg_io(&fc, FW_CFG_PORT_SEL, key, 2, true);
	dir_len = sizeof(dir);
	for (uint32_t i = 0; i < dir_len; i++)
		fw_cfg_io(&fc, FW_CFG_PORT_DATA, &dir[i], 1, false);
	if (be32_at(dir) != 3)
		abort();
}

/* The model of a DMA request with its descriptor at gpa: writes into
 * expect (a copy of RAM before) what the device must write. */
static void model_dma(uint64_t gpa, uint8_t *expect)
{
	long d = ram_off(gpa, FW_CFG_DMA_DESC_SIZE), t;
	uint32_t control, length, result = 0;
	uint64_t target, v;

	if (d < 0)
		return; /* nothing at all happens */
	control = be32_at(expect + d);
	length = be32_at(expect + d + 4);
	memcpy(&v, expect + d + 8, 8);
	target = be64toh(v);
	if (control & FW_CFG_DMA_CTL_SELECT)
		model_select((uint16_t)(control >> 16));
	if (control & FW_CFG_DMA_CTL_READ) {
		t = length ? ram_off(target, length) : 0;
		if (t < 0)
			result = FW_CFG_DMA_CTL_ERROR;
		else
			for (uint32_t i = 0; i < length; i++)
				expect[t + i] = model_byte();
	} else if (control & FW_CFG_DMA_CTL_WRITE) {
		result = FW_CFG_DMA_CTL_ERROR;
	} else if (control & FW_CFG_DMA_CTL_SKIP) {
		if (cur_off < cur.len)
			cur_off += length < cur.len - cur_off ? length : cur.len - cur_off;
	}
	result = htobe32(result);
	memcpy(expect + d, &result, 4);
}

/* One port access through the device and through the model. */
static void step(uint16_t port, uint8_t *buf, unsigned len, bool is_write, uint8_t *expect)
{
	static const char dma_sig[8] = FW_CFG_DMA_SIGNATURE;
	unsigned reg = port - FW_CFG_PORT_SEL;
	uint8_t want[4];

	fw_cfg_io(&fc, port, buf, len, is_write);
	if (is_write) {
		/* Outside the device's range, and every other write: ignored. */
		if (reg == 0 && len == 2) {
			model_select((uint16_t)(buf[0] | buf[1] << 8));
		} else if (reg == 4 && len == 4) {
			model_hi = be32_at(buf);
		} else if (reg == 8 && len == 4) {
			uint64_t gpa = (uint64_t)model_hi << 32 | be32_at(buf);

			model_hi = 0;
			model_dma(gpa, expect);
		}
		return;
	}
	for (unsigned j = 0; j < len; j++) {
		unsigned r = reg + j;

		if (reg < 2)
			want[j] = model_byte();
		else if (reg < FW_CFG_PORTS && r >= 4 && r < FW_CFG_PORTS)
			want[j] = (uint8_t)dma_sig[r - 4];
		else
			want[j] = 0xff;
	}
	if (memcmp(want, buf, len) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	static uint8_t expect[RAM_SIZE];
	size_t img, i = 1;

	if (!ready) {
		setup();
		ready = true;
	}
	if (size == 0)
		return 0;
	/* The device as after a reset, through its ports. */
	uint8_t zero[4] = {0};
	fw_cfg_io(&fc, FW_CFG_PORT_SEL, zero, 2, true);
	fw_cfg_io(&fc, FW_CFG_PORT_DMA, zero, 4, true);
	model_select(FW_CFG_SIGNATURE);
	model_hi = 0;
	/* The RAM image. */
	memset(ram, 0x5a, sizeof(ram));
	img = (size_t)data[0] * 16;
	if (img > RAM_SIZE)
		img = RAM_SIZE;
	if (img > size - 1)
		img = size - 1;
	memcpy(ram, data + 1, img);
	i += img;
	for (; i + 6 <= size; i += 6) {
		const uint8_t *op = data + i;
		static const unsigned widths[4] = {1, 2, 4, 4};
		unsigned len = widths[(op[0] >> 4) & 3];
		uint8_t buf[4];

		if (op[0] & 0x80) {
			size_t at = ((size_t)op[5] << 4 | (op[0] & 0xf)) % (RAM_SIZE - 3);

			memcpy(ram + at, op + 1, 4);
			continue;
		}
		memcpy(expect, ram, sizeof(ram));
		memcpy(buf, op + 1, 4);
		step((uint16_t)(FW_CFG_PORT_SEL + (op[0] & 0xf)), buf, len, op[0] & 0x40, expect);
		if (memcmp(expect, ram, sizeof(ram)) != 0)
			abort();
	}
	return 0;
}
