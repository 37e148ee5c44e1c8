/* moat-vcpu's fw_cfg device as firmware and a hostile guest drive it: the
 * signature, id and file directory through the ports, files through the
 * data port and DMA, the select hook, and every way a DMA request can be
 * wrong (descriptor or target outside RAM, straddling its end, wrapping,
 * huge, a write). Guest RAM is a 1 MiB buffer at 0x100000 behind a fake
 * accessor; no KVM needed. */
#include <endian.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "bytes.h"
#include "fw_cfg.h"
#include "tap.h"

#define RAM_BASE 0x100000ull
#define RAM_SIZE (1u << 20)

struct ram {
	uint64_t base;
	uint64_t size;
	uint8_t *buf;
	unsigned calls;
};

static struct ram ram;
static struct fw_cfg fc;

/* The accessor: a host pointer only when all of [gpa, gpa + len) is RAM. */
static void *ram_at(void *opaque, uint64_t gpa, uint64_t len)
{
	struct ram *r = opaque;

	r->calls++;
	if (gpa < r->base || !bytes_fit(gpa - r->base, len, r->size))
		return NULL;
	return r->buf + (gpa - r->base);
}

static uint8_t *host(uint64_t gpa)
{
	return ram.buf + (gpa - ram.base);
}

static int setup(void)
{
	ram.base = RAM_BASE;
	ram.size = RAM_SIZE;
	ram.buf = malloc(RAM_SIZE);
	if (!ram.buf)
		return -ENOMEM;
	memset(ram.buf, 0xaa, RAM_SIZE);
	return fw_cfg_init(&fc, ram_at, &ram);
}

static void sel(uint16_t key)
{
	uint8_t b[2] = {(uint8_t)key, (uint8_t)(key >> 8)};

	fw_cfg_io(&fc, FW_CFG_PORT_SEL, b, 2, true);
}

/* One access of len bytes at port; the bytes as the guest sees them. */
static uint32_t in(uint16_t port, unsigned len)
{
	uint8_t b[4] = {0};

	fw_cfg_io(&fc, port, b, len, false);
	return le32_get(b);
}

static void read_data(void *buf, size_t n)
{
	uint8_t *p = buf;

	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)in(FW_CFG_PORT_DATA, 1);
}

static void out_be32(uint16_t port, uint32_t v)
{
	uint8_t b[4];

	v = htobe32(v);
	memcpy(b, &v, 4);
	fw_cfg_io(&fc, port, b, 4, true);
}

/* Start the request whose descriptor is at gpa: the high half, then the
 * low half (t_dma_high_half tries the low half alone). */
static void dma_go(uint64_t gpa)
{
	out_be32(FW_CFG_PORT_DMA, (uint32_t)(gpa >> 32));
	out_be32(FW_CFG_PORT_DMA + 4, (uint32_t)gpa);
}

static void put_desc(uint64_t gpa, uint32_t control, uint32_t length, uint64_t addr)
{
	uint8_t *d = host(gpa);
	uint32_t c = htobe32(control), l = htobe32(length);
	uint64_t a = htobe64(addr);

	memcpy(d, &c, 4);
	memcpy(d + 4, &l, 4);
	memcpy(d + 8, &a, 8);
}

static uint32_t ctl_at(uint64_t gpa)
{
	uint32_t c;

	memcpy(&c, host(gpa), 4);
	return be32toh(c);
}

/* A DMA request from a descriptor at gpa; its control word afterwards. */
static uint32_t dma(uint64_t gpa, uint32_t control, uint32_t length, uint64_t addr)
{
	put_desc(gpa, control, length, addr);
	dma_go(gpa);
	return ctl_at(gpa);
}

static bool all_bytes(const uint8_t *p, size_t n, uint8_t v)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != v)
			return false;
	return true;
}

#define DESC	    (RAM_BASE + 0x1000)
#define TARGET	    (RAM_BASE + 0x2000)
#define SELECT(key) ((uint32_t)(key) << 16 | FW_CFG_DMA_CTL_SELECT)

static const char kernel_blob[] = "a file of some bytes, read through every path";

/* Three files added out of order: keys 0x20, 0x21, 0x22 in call order. */
static int add_three(void)
{
	static const uint8_t order[] = {1, 2, 3, 4};

	if (fw_cfg_add_file(&fc, "etc/z-last", kernel_blob, sizeof(kernel_blob)) ||
	    fw_cfg_add_file(&fc, "bootorder", order, sizeof(order)) ||
	    fw_cfg_add_file(&fc, "etc/a-first", "x", 1))
		return -1;
	return 0;
}

static int t_signature_id(void)
{
	char sig[5] = {0};

	CHECK(setup() == 0);
	/* The signature is selected from the start. */
	read_data(sig, 4);
	CHECK(strcmp(sig, "QEMU") == 0);
	CHECK(in(FW_CFG_PORT_DATA, 1) == 0); /* past the end */
	sel(FW_CFG_SIGNATURE);
	CHECK(in(FW_CFG_PORT_DATA, 4) == le32_get((const uint8_t *)"QEMU"));
	sel(FW_CFG_SIGNATURE);
	CHECK(in(FW_CFG_PORT_DATA, 2) == ('Q' | 'E' << 8));
	CHECK(in(FW_CFG_PORT_DATA, 4) == ('M' | 'U' << 8)); /* padded with zeros */
	sel(FW_CFG_ID);
	CHECK(in(FW_CFG_PORT_DATA, 4) == (FW_CFG_ID_TRADITIONAL | FW_CFG_ID_DMA));
	/* Bit 14 (the old write channel) is ignored, as in QEMU. */
	sel(FW_CFG_KEY_WRITE | FW_CFG_ID);
	CHECK(in(FW_CFG_PORT_DATA, 1) == 3);
	/* An empty directory: a count of 0. */
	sel(FW_CFG_FILE_DIR);
	CHECK(in(FW_CFG_PORT_DATA, 4) == 0);
	fw_cfg_free(&fc);
	fw_cfg_free(&fc); /* twice is harmless */
	return 0;
}

static int t_ports_misc(void)
{
	uint8_t b[4];

	CHECK(setup() == 0);
	/* The DMA register reads the signature in port order, any width. */
	for (unsigned i = 0; i < 8; i++)
		CHECK(in(FW_CFG_PORT_DMA + i, 1) == (uint8_t)FW_CFG_DMA_SIGNATURE[i]);
	CHECK(in(FW_CFG_PORT_DMA, 4) == le32_get((const uint8_t *)"QEMU"));
	CHECK(in(FW_CFG_PORT_DMA + 4, 4) == le32_get((const uint8_t *)" CFG"));
	CHECK(in(FW_CFG_PORT_DMA + 6, 4) == ('F' | 'G' << 8 | 0xffffu << 16));
	/* No register at 0x512-0x513. */
	CHECK(in(0x512, 2) == 0xffff);
	CHECK(in(0x513, 1) == 0xff);
	/* A byte write to the selector selects nothing; data writes are
	 * dropped. */
	sel(FW_CFG_ID);
	b[0] = 0;
	fw_cfg_io(&fc, FW_CFG_PORT_SEL, b, 1, true);
	memset(b, 0x55, 4);
	fw_cfg_io(&fc, FW_CFG_PORT_DATA, b, 4, true);
	CHECK(in(FW_CFG_PORT_DATA, 1) == 3);
	/* Byte and word writes to the DMA ports start nothing. */
	put_desc(DESC, SELECT(FW_CFG_SIGNATURE) | FW_CFG_DMA_CTL_READ, 4, TARGET);
	for (unsigned i = 0; i < 8; i++) {
		b[0] = (uint8_t)(DESC >> (8 * (7 - i)));
		fw_cfg_io(&fc, FW_CFG_PORT_DMA + i, b, 1, true);
		fw_cfg_io(&fc, FW_CFG_PORT_DMA + i, b, 2, true);
	}
	CHECK(all_bytes(host(TARGET), 4, 0xaa));
	CHECK(ctl_at(DESC) == (SELECT(FW_CFG_SIGNATURE) | FW_CFG_DMA_CTL_READ));
	/* A port outside the range (a misrouted call) reads all ones. */
	CHECK(in(0x50f, 1) == 0xff);
	return 0;
}

static int t_file_dir(void)
{
	uint8_t dir[4 + 3 * FW_CFG_DIR_ENTRY_SIZE];
	static const struct {
		const char *name;
		uint32_t size;
		uint16_t key;
	} want[] = {
	    {"bootorder", 4, 0x21},
	    {"etc/a-first", 1, 0x22},
	    {"etc/z-last", sizeof(kernel_blob), 0x20},
	};

	CHECK(setup() == 0);
	CHECK(add_three() == 0);
	sel(FW_CFG_FILE_DIR);
	read_data(dir, sizeof(dir));
	CHECK(in(FW_CFG_PORT_DATA, 4) == 0); /* nothing after the last entry */
	CHECK(be32toh(*(uint32_t *)dir) == 3);
	for (unsigned i = 0; i < 3; i++) {
		const uint8_t *e = dir + 4 + i * FW_CFG_DIR_ENTRY_SIZE;
		uint32_t size;
		uint16_t key, rsv;

		memcpy(&size, e, 4);
		memcpy(&key, e + 4, 2);
		memcpy(&rsv, e + 6, 2);
		CHECK(be32toh(size) == want[i].size);
		CHECK(be16toh(key) == want[i].key);
		CHECK(rsv == 0);
		CHECK(strcmp((const char *)e + 8, want[i].name) == 0);
		CHECK(all_bytes(e + 8 + strlen(want[i].name), 56 - strlen(want[i].name), 0));
	}
	/* The directory through DMA too. */
	CHECK(dma(DESC, SELECT(FW_CFG_FILE_DIR) | FW_CFG_DMA_CTL_READ, sizeof(dir), TARGET) == 0);
	CHECK(memcmp(host(TARGET), dir, sizeof(dir)) == 0);
	fw_cfg_free(&fc);
	return 0;
}

static int t_file_ports(void)
{
	char buf[sizeof(kernel_blob)];

	CHECK(setup() == 0);
	CHECK(add_three() == 0);
	sel(0x20);
	read_data(buf, 10);
	CHECK(memcmp(buf, kernel_blob, 10) == 0);
	/* Wide reads go on from there, byte after byte. */
	CHECK(in(FW_CFG_PORT_DATA, 4) == le32_get((const uint8_t *)kernel_blob + 10));
	CHECK(in(FW_CFG_PORT_DATA, 2) == (uint32_t)(kernel_blob[14] | kernel_blob[15] << 8));
	/* Selecting again starts over. */
	sel(0x20);
	read_data(buf, sizeof(buf));
	CHECK(memcmp(buf, kernel_blob, sizeof(buf)) == 0);
	for (unsigned i = 0; i < 100; i++)
		CHECK(in(FW_CFG_PORT_DATA, 4) == 0);
	/* The last bytes of a file, padded with zeros. */
	sel(0x21);
	CHECK(in(FW_CFG_PORT_DATA, 2) == 0x0201);
	CHECK(in(FW_CFG_PORT_DATA, 4) == 0x0403);
	fw_cfg_free(&fc);
	return 0;
}

static int t_file_dma(void)
{
	const uint32_t n = sizeof(kernel_blob);

	CHECK(setup() == 0);
	CHECK(add_three() == 0);
	/* Select and read in one request, past the end: zeros there. */
	CHECK(dma(DESC, SELECT(0x20) | FW_CFG_DMA_CTL_READ, n + 32, TARGET) == 0);
	CHECK(memcmp(host(TARGET), kernel_blob, n) == 0);
	CHECK(all_bytes(host(TARGET + n), 32, 0));
	CHECK(all_bytes(host(TARGET + n + 32), 64, 0xaa)); /* not one byte more */
	/* Piecewise: select, then reads that go on from the offset. */
	memset(host(TARGET), 0xaa, 4096);
	CHECK(dma(DESC, SELECT(0x20) | FW_CFG_DMA_CTL_READ, 5, TARGET) == 0);
	CHECK(dma(DESC, FW_CFG_DMA_CTL_READ, n - 5, TARGET + 5) == 0);
	CHECK(memcmp(host(TARGET), kernel_blob, n) == 0);
	CHECK(*host(TARGET + n) == 0xaa);
	/* The port and DMA share the offset. */
	CHECK(dma(DESC, SELECT(0x20) | FW_CFG_DMA_CTL_READ, 3, TARGET) == 0);
	CHECK(in(FW_CFG_PORT_DATA, 1) == (uint8_t)kernel_blob[3]);
	/* Select alone, then the data port. */
	CHECK(dma(DESC, SELECT(FW_CFG_SIGNATURE), 0, 0) == 0);
	CHECK(in(FW_CFG_PORT_DATA, 4) == le32_get((const uint8_t *)"QEMU"));
	/* A request with neither read, write nor skip does nothing else. */
	CHECK(dma(DESC, SELECT(0x21), 100, TARGET) == 0);
	CHECK(in(FW_CFG_PORT_DATA, 1) == 1);
	/* Zero length reads are fine anywhere. */
	CHECK(dma(DESC, SELECT(0x20) | FW_CFG_DMA_CTL_READ, 0, UINT64_MAX) == 0);
	fw_cfg_free(&fc);
	return 0;
}

static int t_skip(void)
{
	const uint32_t n = sizeof(kernel_blob);

	CHECK(setup() == 0);
	CHECK(add_three() == 0);
	CHECK(dma(DESC, SELECT(0x20) | FW_CFG_DMA_CTL_SKIP, 7, TARGET) == 0);
	CHECK(all_bytes(host(TARGET), 64, 0xaa)); /* skip writes nothing */
	CHECK(in(FW_CFG_PORT_DATA, 1) == (uint8_t)kernel_blob[7]);
	CHECK(dma(DESC, FW_CFG_DMA_CTL_SKIP, 2, 0) == 0);
	CHECK(dma(DESC, FW_CFG_DMA_CTL_READ, 4, TARGET) == 0);
	CHECK(memcmp(host(TARGET), kernel_blob + 10, 4) == 0);
	/* Skipping past the end stops there: nothing left, reads 0. */
	CHECK(dma(DESC, FW_CFG_DMA_CTL_SKIP, UINT32_MAX, 0) == 0);
	CHECK(in(FW_CFG_PORT_DATA, 1) == 0);
	CHECK(dma(DESC, SELECT(0x20) | FW_CFG_DMA_CTL_SKIP, n - 1, 0) == 0);
	CHECK(in(FW_CFG_PORT_DATA, 1) == 0); /* the file's last byte is its NUL */
	CHECK(dma(DESC, SELECT(0x20) | FW_CFG_DMA_CTL_SKIP, n - 2, 0) == 0);
	CHECK(in(FW_CFG_PORT_DATA, 1) == (uint8_t)kernel_blob[n - 2]);
	/* Read wins over skip (QEMU's precedence). */
	CHECK(dma(DESC, SELECT(0x21) | FW_CFG_DMA_CTL_SKIP | FW_CFG_DMA_CTL_READ, 2, TARGET) == 0);
	CHECK(host(TARGET)[0] == 1 && host(TARGET)[1] == 2);
	fw_cfg_free(&fc);
	return 0;
}

static int t_unknown_key(void)
{
	CHECK(setup() == 0);
	CHECK(add_three() == 0);
	static const uint16_t keys[] = {0x1234, 0x23, 0x3fff, 0x8000, 0xffff, FW_CFG_NB_CPUS};
	for (unsigned i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		sel(keys[i]);
		CHECK(in(FW_CFG_PORT_DATA, 4) == 0);
		CHECK(in(FW_CFG_PORT_DATA, 1) == 0);
		memset(host(TARGET), 0xaa, 64);
		CHECK(dma(DESC, SELECT(keys[i]) | FW_CFG_DMA_CTL_READ, 64, TARGET) == 0);
		CHECK(all_bytes(host(TARGET), 64, 0));
		CHECK(dma(DESC, FW_CFG_DMA_CTL_SKIP, 64, 0) == 0);
	}
	/* Numbered items, generic and architectural, once added. */
	uint8_t cpus[2] = {4, 0}, irq0[4] = {1, 0, 0, 0};
	CHECK(fw_cfg_add_item(&fc, FW_CFG_NB_CPUS, cpus, 2) == 0);
	CHECK(fw_cfg_add_item(&fc, FW_CFG_IRQ0_OVERRIDE, irq0, 4) == 0);
	sel(FW_CFG_NB_CPUS);
	CHECK(in(FW_CFG_PORT_DATA, 4) == 4);
	sel(FW_CFG_IRQ0_OVERRIDE);
	CHECK(in(FW_CFG_PORT_DATA, 4) == 1);
	sel(FW_CFG_IRQ0_OVERRIDE | FW_CFG_KEY_WRITE);
	CHECK(in(FW_CFG_PORT_DATA, 1) == 1);
	fw_cfg_free(&fc);
	return 0;
}

struct hook_log {
	unsigned calls;
	char last[FW_CFG_NAME_MAX];
	int update_r, bad_r;
	bool read_back;
};

/* Like the ACPI owner: rewrite the file with the same size at selection. */
static void on_select(void *opaque, struct fw_cfg *f, const char *name)
{
	struct hook_log *log = opaque;
	char fresh[sizeof(kernel_blob)];

	log->calls++;
	snprintf(log->last, sizeof(log->last), "%s", name);
	if (strcmp(name, "etc/z-last") != 0)
		return;
	memcpy(fresh, kernel_blob, sizeof(fresh));
	fresh[0] = (char)('0' + log->calls % 10);
	log->update_r = fw_cfg_update_file(f, name, fresh, sizeof(fresh));
	log->bad_r = fw_cfg_update_file(f, name, fresh, sizeof(fresh) - 1);
}

static int t_select_hook(void)
{
	struct hook_log log = {0};

	CHECK(setup() == 0);
	CHECK(add_three() == 0);
	fw_cfg_set_select_hook(&fc, on_select, &log);
	/* Numbered keys and unknown keys: no call. */
	sel(FW_CFG_SIGNATURE);
	sel(FW_CFG_FILE_DIR);
	sel(0x23);
	CHECK(dma(DESC, SELECT(FW_CFG_ID), 0, 0) == 0);
	CHECK(log.calls == 0);
	/* A file through the port: the hook's bytes are the ones read. */
	sel(0x21);
	CHECK(log.calls == 1 && strcmp(log.last, "bootorder") == 0);
	sel(0x20);
	CHECK(log.calls == 2 && strcmp(log.last, "etc/z-last") == 0);
	CHECK(log.update_r == 0 && log.bad_r == -EINVAL);
	CHECK(in(FW_CFG_PORT_DATA, 1) == '2');
	/* Through DMA. */
	CHECK(dma(DESC, SELECT(0x20) | FW_CFG_DMA_CTL_READ, sizeof(kernel_blob), TARGET) == 0);
	CHECK(log.calls == 3);
	CHECK(host(TARGET)[0] == '3' && memcmp(host(TARGET) + 1, kernel_blob + 1, 10) == 0);
	/* Outside the hook too; other sizes and names are refused. */
	CHECK(fw_cfg_update_file(&fc, "etc/a-first", "y", 1) == 0);
	CHECK(fw_cfg_update_file(&fc, "etc/a-first", "yy", 2) == -EINVAL);
	CHECK(fw_cfg_update_file(&fc, "etc/a-first", NULL, 0) == -EINVAL);
	CHECK(fw_cfg_update_file(&fc, "etc/nothing", "y", 1) == -ENOENT);
	CHECK(fw_cfg_update_file(&fc, NULL, "y", 1) == -ENOENT);
	sel(0x22);
	CHECK(in(FW_CFG_PORT_DATA, 2) == 'y');
	/* The directory's sizes did not move. */
	sel(FW_CFG_FILE_DIR);
	uint8_t dir[4 + 3 * 64];
	read_data(dir, sizeof(dir));
	CHECK(be32toh(*(uint32_t *)(dir + 4 + 2 * 64)) == sizeof(kernel_blob));
	fw_cfg_free(&fc);
	return 0;
}

static int t_dma_desc_outside(void)
{
	uint8_t *copy = malloc(RAM_SIZE);
	static const uint64_t bad[] = {
	    0,
	    RAM_BASE - 16,
	    RAM_BASE - 8,	     /* straddles the start */
	    RAM_BASE + RAM_SIZE - 8, /* straddles the end */
	    RAM_BASE + RAM_SIZE,
	    0xfffffffffffffff8ull, /* wraps */
	    0xfffffffffffffff0ull,
	    0x0000000100100000ull, /* a high half that is not RAM */
	};

	CHECK(copy && setup() == 0);
	CHECK(add_three() == 0);
	sel(0x21);
	CHECK(in(FW_CFG_PORT_DATA, 1) == 1);
	/* Descriptors everywhere in RAM that would select the signature. */
	for (uint64_t a = RAM_BASE; a < RAM_BASE + RAM_SIZE; a += 16)
		put_desc(a, SELECT(FW_CFG_SIGNATURE) | FW_CFG_DMA_CTL_READ, 4, TARGET);
	memcpy(copy, ram.buf, RAM_SIZE);
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		dma_go(bad[i]);
	/* Nothing written, nothing selected. */
	CHECK(memcmp(copy, ram.buf, RAM_SIZE) == 0);
	CHECK(in(FW_CFG_PORT_DATA, 1) == 2);
	/* The last 16 bytes of RAM do hold a descriptor. */
	CHECK(dma(RAM_BASE + RAM_SIZE - 16, SELECT(FW_CFG_SIGNATURE) | FW_CFG_DMA_CTL_READ, 4,
		  TARGET) == 0);
	CHECK(memcmp(host(TARGET), "QEMU", 4) == 0);
	/* With no accessor at all, nothing happens either. */
	fw_cfg_free(&fc);
	CHECK(fw_cfg_init(&fc, NULL, NULL) == 0);
	memcpy(copy, ram.buf, RAM_SIZE);
	dma_go(DESC);
	CHECK(memcmp(copy, ram.buf, RAM_SIZE) == 0);
	fw_cfg_free(&fc);
	free(copy);
	return 0;
}

/* A target that is not all RAM: the error bit, no byte written, and the
 * offset where it was. */
static int target_refused(uint64_t target, uint32_t length)
{
	uint8_t *copy = malloc(RAM_SIZE);

	CHECK(copy);
	sel(0x20);
	put_desc(DESC, FW_CFG_DMA_CTL_READ, length, target);
	memcpy(copy, ram.buf, RAM_SIZE);
	dma_go(DESC);
	/* All RAM as it was but the control word. */
	CHECK(ctl_at(DESC) == FW_CFG_DMA_CTL_ERROR);
	memcpy(copy + (DESC - RAM_BASE), host(DESC), 4);
	CHECK(memcmp(copy, ram.buf, RAM_SIZE) == 0);
	CHECK(in(FW_CFG_PORT_DATA, 1) == (uint8_t)kernel_blob[0]);
	free(copy);
	return 0;
}

static int t_dma_target_bad(void)
{
	CHECK(setup() == 0);
	CHECK(add_three() == 0);
	CHECK(target_refused(0x1000, 16) == 0);			 /* below RAM */
	CHECK(target_refused(RAM_BASE + RAM_SIZE, 1) == 0);	 /* just above */
	CHECK(target_refused(RAM_BASE + RAM_SIZE - 8, 16) == 0); /* straddles the end */
	CHECK(target_refused(RAM_BASE - 8, 16) == 0);		 /* straddles the start */
	CHECK(target_refused(0xfffffffffffffff0ull, 0x20) == 0); /* wraps */
	CHECK(target_refused(UINT64_MAX, 1) == 0);
	CHECK(target_refused(RAM_BASE, UINT32_MAX) == 0);	 /* huge */
	CHECK(target_refused(RAM_BASE + 0x1000, RAM_SIZE) == 0); /* just too long */
	CHECK(ram.calls > 0);
	/* The most RAM allows: all of it, the file and then zeros. */
	CHECK(dma(DESC, SELECT(0x20) | FW_CFG_DMA_CTL_READ, RAM_SIZE, RAM_BASE) == 0);
	CHECK(memcmp(ram.buf, kernel_blob, sizeof(kernel_blob)) == 0);
	CHECK(all_bytes(ram.buf + sizeof(kernel_blob), RAM_SIZE - sizeof(kernel_blob), 0));
	fw_cfg_free(&fc);
	return 0;
}

static int t_dma_write_refused(void)
{
	CHECK(setup() == 0);
	CHECK(add_three() == 0);
	memcpy(host(TARGET), "ZZZZ", 4);
	CHECK(dma(DESC, SELECT(0x20) | FW_CFG_DMA_CTL_WRITE, 4, TARGET) == FW_CFG_DMA_CTL_ERROR);
	CHECK(dma(DESC, SELECT(FW_CFG_SIGNATURE) | FW_CFG_DMA_CTL_WRITE, 4, TARGET) ==
	      FW_CFG_DMA_CTL_ERROR);
	CHECK(dma(DESC, SELECT(0x1234) | FW_CFG_DMA_CTL_WRITE | FW_CFG_DMA_CTL_SKIP, 4, TARGET) ==
	      FW_CFG_DMA_CTL_ERROR);
	/* Nothing changed: the item, nor the selection made before. */
	CHECK(memcmp(host(TARGET), "ZZZZ", 4) == 0);
	sel(0x20);
	CHECK(in(FW_CFG_PORT_DATA, 1) == (uint8_t)kernel_blob[0]);
	CHECK(dma(DESC, SELECT(FW_CFG_SIGNATURE) | FW_CFG_DMA_CTL_READ, 4, TARGET) == 0);
	CHECK(memcmp(host(TARGET), "QEMU", 4) == 0);
	/* An error bit the guest set itself is cleared by a good request. */
	CHECK(dma(DESC, SELECT(FW_CFG_ID) | FW_CFG_DMA_CTL_READ | FW_CFG_DMA_CTL_ERROR, 4,
		  TARGET) == 0);
	fw_cfg_free(&fc);
	return 0;
}

/* RAM at 0x1_0010_0000 (above 4 GiB) to see the high half at work. */
static int t_dma_high_half(void)
{
	const uint64_t high = 0x100000000ull + RAM_BASE;

	CHECK(setup() == 0);
	ram.base = high;
	put_desc(high + 0x1000, SELECT(FW_CFG_SIGNATURE) | FW_CFG_DMA_CTL_READ, 4, high + 0x2000);
	/* The low half alone names 0x00101000: not RAM here, nothing. */
	out_be32(FW_CFG_PORT_DMA + 4, (uint32_t)(high + 0x1000));
	CHECK(ctl_at(high + 0x1000) == (SELECT(FW_CFG_SIGNATURE) | FW_CFG_DMA_CTL_READ));
	/* High then low. */
	out_be32(FW_CFG_PORT_DMA, 1);
	CHECK(ctl_at(high + 0x1000) != 0); /* latched, not started */
	out_be32(FW_CFG_PORT_DMA + 4, (uint32_t)(high + 0x1000));
	CHECK(ctl_at(high + 0x1000) == 0);
	CHECK(memcmp(host(high + 0x2000), "QEMU", 4) == 0);
	/* The high half went back to 0: the same low write now misses. */
	put_desc(high + 0x1000, SELECT(FW_CFG_ID) | FW_CFG_DMA_CTL_READ, 4, high + 0x2000);
	out_be32(FW_CFG_PORT_DMA + 4, (uint32_t)(high + 0x1000));
	CHECK(ctl_at(high + 0x1000) != 0);
	/* The last high half written counts. */
	out_be32(FW_CFG_PORT_DMA, 7);
	out_be32(FW_CFG_PORT_DMA, 1);
	out_be32(FW_CFG_PORT_DMA + 4, (uint32_t)(high + 0x1000));
	CHECK(ctl_at(high + 0x1000) == 0);
	CHECK(le32_get(host(high + 0x2000)) == 3);
	fw_cfg_free(&fc);
	return 0;
}

/* A target that overlaps its own descriptor: the data lands first, the
 * control word last, every time the same. */
static int t_dma_overlap(void)
{
	CHECK(setup() == 0);
	/* The target starts before the descriptor and ends inside it. */
	put_desc(DESC, SELECT(FW_CFG_SIGNATURE) | FW_CFG_DMA_CTL_READ, 8, DESC - 2);
	dma_go(DESC);
	CHECK(memcmp(host(DESC - 2), "QE", 2) == 0);
	CHECK(ctl_at(DESC) == 0); /* over "MU\0\0" */
	CHECK(be32toh(*(uint32_t *)host(DESC + 4)) == 8);
	/* The target starts inside the descriptor (its address field) and
	 * goes on past it. */
	put_desc(DESC, SELECT(FW_CFG_SIGNATURE) | FW_CFG_DMA_CTL_READ, 8, DESC + 12);
	dma_go(DESC);
	CHECK(ctl_at(DESC) == 0);
	CHECK(be32toh(*(uint32_t *)host(DESC + 4)) == 8);
	CHECK(memcmp(host(DESC + 12), "QEMU", 4) == 0);
	CHECK(all_bytes(host(DESC + 16), 4, 0));
	CHECK(host(DESC + 20)[0] == 0xaa);
	/* The target is the descriptor itself, and beyond. */
	put_desc(DESC, SELECT(FW_CFG_SIGNATURE) | FW_CFG_DMA_CTL_READ, 32, DESC);
	dma_go(DESC);
	CHECK(ctl_at(DESC) == 0);
	CHECK(memcmp(host(DESC + 4), "\0\0\0\0", 4) == 0);
	CHECK(all_bytes(host(DESC + 4), 28, 0));
	/* A refused target leaves the descriptor's other fields alone. */
	put_desc(DESC, FW_CFG_DMA_CTL_READ, 0xffffffff, DESC);
	dma_go(DESC);
	CHECK(ctl_at(DESC) == FW_CFG_DMA_CTL_ERROR);
	CHECK(be32toh(*(uint32_t *)host(DESC + 4)) == 0xffffffff);
	CHECK(be64toh(*(uint64_t *)host(DESC + 8)) == DESC);
	fw_cfg_free(&fc);
	return 0;
}

static int t_add_errors(void)
{
	char name[FW_CFG_NAME_MAX + 1];
	uint8_t small[8] = {0};

	CHECK(setup() == 0);
	CHECK(fw_cfg_add_file(&fc, "etc/one", "1", 1) == 0);
	CHECK(fw_cfg_add_file(&fc, "etc/one", "2", 1) == -EEXIST);
	CHECK(fw_cfg_add_file(&fc, "", "2", 1) == -EINVAL);
	CHECK(fw_cfg_add_file(&fc, NULL, "2", 1) == -EINVAL);
	memset(name, 'n', sizeof(name));
	name[FW_CFG_NAME_MAX] = 0;
	CHECK(fw_cfg_add_file(&fc, name, "2", 1) == -EINVAL); /* 56 bytes: no room for the NUL */
	name[FW_CFG_NAME_MAX - 1] = 0;
	CHECK(fw_cfg_add_file(&fc, name, "2", 1) == 0); /* 55 bytes fit */
	/* Too large: refused before a byte is read. */
	CHECK(fw_cfg_add_file(&fc, "etc/big", small, FW_CFG_ITEM_MAX + 1) == -EINVAL);
	CHECK(fw_cfg_add_file(&fc, "etc/null", NULL, 4) == -EINVAL);
	CHECK(fw_cfg_add_file(&fc, "etc/empty", NULL, 0) == 0);
	/* Up to FW_CFG_MAX_FILES. */
	for (unsigned i = 3; i < FW_CFG_MAX_FILES; i++) {
		char n[32];

		snprintf(n, sizeof(n), "opt/f%02u", i);
		CHECK(fw_cfg_add_file(&fc, n, &i, sizeof(i)) == 0);
	}
	CHECK(fw_cfg_add_file(&fc, "opt/one-too-many", "x", 1) == -ENOSPC);
	/* The directory lists them all, in strcmp order, with the keys of the
	 * calls. */
	uint8_t dir[4 + FW_CFG_MAX_FILES * FW_CFG_DIR_ENTRY_SIZE];
	sel(FW_CFG_FILE_DIR);
	read_data(dir, sizeof(dir));
	CHECK(be32toh(*(uint32_t *)dir) == FW_CFG_MAX_FILES);
	for (unsigned i = 1; i < FW_CFG_MAX_FILES; i++)
		CHECK(strcmp((char *)dir + 4 + (i - 1) * 64 + 8, (char *)dir + 4 + i * 64 + 8) < 0);
	CHECK(strcmp((char *)dir + 4 + 8, "etc/empty") == 0);
	CHECK(be16toh(*(uint16_t *)(dir + 4 + 4)) == 0x22);
	CHECK(be32toh(*(uint32_t *)(dir + 4)) == 0);
	/* The empty file reads as zeros. */
	sel(0x22);
	CHECK(in(FW_CFG_PORT_DATA, 4) == 0);
	/* Numbered items. */
	CHECK(fw_cfg_add_item(&fc, FW_CFG_SIGNATURE, "XXXX", 4) == -EEXIST);
	CHECK(fw_cfg_add_item(&fc, FW_CFG_FILE_DIR, "XXXX", 4) == -EEXIST);
	CHECK(fw_cfg_add_item(&fc, FW_CFG_FILE_FIRST, "XXXX", 4) == -EINVAL);
	CHECK(fw_cfg_add_item(&fc, 0x3fff, "XXXX", 4) == -EINVAL);
	CHECK(fw_cfg_add_item(&fc, FW_CFG_KEY_WRITE | 2, "XXXX", 4) == -EINVAL);
	CHECK(fw_cfg_add_item(&fc, FW_CFG_RAM_SIZE, small, FW_CFG_ITEM_MAX + 1) == -EINVAL);
	CHECK(fw_cfg_add_item(&fc, FW_CFG_RAM_SIZE, small, 8) == 0);
	CHECK(fw_cfg_add_item(&fc, FW_CFG_RAM_SIZE, small, 8) == -EEXIST);
	/* 3 built in, RAM size: room for FW_CFG_MAX_ITEMS - 4 more. */
	for (unsigned i = 0; i < FW_CFG_MAX_ITEMS - 4; i++)
		CHECK(fw_cfg_add_item(&fc, (uint16_t)(0x8010 + i), small, 1) == 0);
	CHECK(fw_cfg_add_item(&fc, 0x8100, small, 1) == -ENOSPC);
	fw_cfg_free(&fc);
	return 0;
}

/* Random port traffic from a hostile guest, with random descriptors in
 * RAM, then the device still answers as on the first day. */
static int t_hostile(void)
{
	static uint8_t big[200000];
	const uint32_t n = sizeof(kernel_blob);

	CHECK(setup() == 0);
	CHECK(add_three() == 0);
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7);
	CHECK(fw_cfg_add_file(&fc, "etc/big", big, sizeof(big)) == 0);
	srand(11);
	for (int i = 0; i < 100000; i++) {
		uint8_t b[4];
		unsigned len = 1u << (rand() % 3);
		uint16_t port = (uint16_t)(FW_CFG_PORT_SEL + rand() % FW_CFG_PORTS);
		uint64_t at = RAM_BASE + (uint64_t)(rand() % (RAM_SIZE / 16)) * 16;

		for (unsigned j = 0; j < 4; j++)
			b[j] = (uint8_t)rand();
		if (rand() % 8 == 0) {
			uint32_t length = rand() % 4 ? (uint32_t)rand() % 8192 : (uint32_t)rand();
			uint64_t target = rand() % 4 ? at + (uint64_t)rand() % 8192
						     : (uint64_t)rand() << (rand() % 40);

			put_desc(at, (uint32_t)rand(), length, target);
			if (rand() % 2)
				dma_go(at);
			continue;
		}
		fw_cfg_io(&fc, port, b, len, rand() & 1);
	}
	/* A clean start: select through the port and read. */
	sel(FW_CFG_SIGNATURE);
	CHECK(in(FW_CFG_PORT_DATA, 4) == le32_get((const uint8_t *)"QEMU"));
	sel(FW_CFG_FILE_DIR);
	CHECK(in(FW_CFG_PORT_DATA, 4) == htobe32(4));
	memset(host(TARGET), 0xaa, 0x1000);
	CHECK(dma(DESC, SELECT(0x20) | FW_CFG_DMA_CTL_READ, n, TARGET) == 0);
	CHECK(memcmp(host(TARGET), kernel_blob, n) == 0);
	CHECK(host(TARGET)[n] == 0xaa);
	CHECK(dma(DESC, SELECT(0x23) | FW_CFG_DMA_CTL_READ, sizeof(big), TARGET) == 0);
	CHECK(memcmp(host(TARGET), big, sizeof(big)) == 0);
	fw_cfg_free(&fc);
	return 0;
}

/* Several vCPUs at once, each with select + read in one DMA request
 * (atomic under the lock) into its own area: every copy is exact. */
struct worker {
	unsigned id;
	int bad;
};

static void *dma_worker(void *arg)
{
	struct worker *w = arg;
	uint64_t desc = RAM_BASE + 0x10000 + w->id * 0x1000, target = desc + 0x100;
	uint32_t c = htobe32(SELECT(0x20) | FW_CFG_DMA_CTL_READ), l = htobe32(sizeof(kernel_blob));
	uint64_t a = htobe64(target);

	for (int i = 0; i < 2000; i++) {
		uint8_t *d = host(desc), b[4];
		uint32_t lo = htobe32((uint32_t)desc);

		memcpy(d, &c, 4);
		memcpy(d + 4, &l, 4);
		memcpy(d + 8, &a, 8);
		memset(host(target), 0xaa, sizeof(kernel_blob));
		memcpy(b, &lo, 4);
		fw_cfg_io(&fc, FW_CFG_PORT_DMA + 4, b, 4, true);
		if (ctl_at(desc) != 0 || memcmp(host(target), kernel_blob, sizeof(kernel_blob)))
			w->bad++;
		/* Port traffic in between, which moves the shared offset. */
		fw_cfg_io(&fc, FW_CFG_PORT_DATA, b, 1, false);
	}
	return NULL;
}

static int t_threads(void)
{
	pthread_t th[4];
	struct worker w[4];

	CHECK(setup() == 0);
	CHECK(add_three() == 0);
	for (unsigned i = 0; i < 4; i++) {
		w[i] = (struct worker){i, 0};
		CHECK(pthread_create(&th[i], NULL, dma_worker, &w[i]) == 0);
	}
	for (unsigned i = 0; i < 4; i++) {
		CHECK(pthread_join(th[i], NULL) == 0);
		CHECK(w[i].bad == 0);
	}
	fw_cfg_free(&fc);
	return 0;
}

TAP_MAIN(TEST(t_signature_id), TEST(t_ports_misc), TEST(t_file_dir), TEST(t_file_ports),
	 TEST(t_file_dma), TEST(t_skip), TEST(t_unknown_key), TEST(t_select_hook),
	 TEST(t_dma_desc_outside), TEST(t_dma_target_bad), TEST(t_dma_write_refused),
	 TEST(t_dma_high_half), TEST(t_dma_overlap), TEST(t_add_errors), TEST(t_hostile),
	 TEST(t_threads))
