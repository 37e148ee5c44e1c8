/* The fixture of the virtio-blk tests (test_blk.c, test_blk_hostile.c):
 * the model behind the real virtio-pci transport, a fake guest RAM, a
 * temporary image with a known pattern, the worker threads running. The
 * test plays both the guest driver (rings and registers, vpci_drv.h) and
 * moat-blk's main loop (it kicks the model through the queue's notify
 * eventfd). */
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <linux/virtio_blk.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blk_model.h"
#include "blk_req.h"
#include "tap.h"
#include "vpci_drv.h"

#define SECTORS	   2048 /* 1 MiB image */
#define QSIZE	   256
#define F_NEXT	   1
#define F_WRITE	   2
#define F_INDIRECT 4

struct bfix {
	struct ram ram;
	char path[64];
	int img, notify, irq[2];
	struct blk_model *m;
	struct drv drv;
	uint16_t next_desc;
	uint64_t next_data;
};

/* The byte the image holds at offset off before any write. */
static inline uint8_t pattern(uint64_t off)
{
	return (uint8_t)(off * 7 + off / 512 + 1);
}

static inline void io(void *dev, unsigned space, uint64_t addr, unsigned size, bool is_write,
		      uint64_t *data)
{
	blk_model_io(dev, space, addr, size, is_write, data);
}

static inline int make_image(struct bfix *f, bool ro)
{
	static uint8_t buf[SECTORS * 512];

	snprintf(f->path, sizeof(f->path), "/tmp/moat-test-blk-XXXXXX");
	int fd = mkstemp(f->path);
	if (fd < 0)
		return -1;
	for (uint64_t i = 0; i < sizeof(buf); i++)
		buf[i] = pattern(i);
	if (write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
		return -1;
	close(fd);
	f->img = open(f->path, ro ? O_RDONLY : O_RDWR);
	unlink(f->path);
	return f->img < 0 ? -1 : 0;
}

/* Probe, negotiate, MSI-X (config on 0, queue on 1), queue 0, DRIVER_OK. */
static inline int driver_up(struct bfix *f, uint64_t extra)
{
	uint64_t offered;

	if (drv_probe(&f->drv) < 0)
		return -1;
	if (!(drv_negotiate(&f->drv, 1ull << VPCI_F_VERSION_1 | extra, &offered) & S_FEATURES_OK))
		return -1;
	drv_msix_enable(&f->drv);
	drv_common_write(&f->drv, C_MSIX, 2, 0);
	if (drv_setup_queue(&f->drv, 0, QSIZE, RING_DESC, RING_AVL, RING_USED, 1) != 1)
		return -1;
	drv_common_write(&f->drv, C_STATUS, 1, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
	return 0;
}

static inline int setup_with(struct bfix *f, bool ro, const char *serial, unsigned workers)
{
	char err[128] = "";

	memset(f, 0, sizeof(*f));
	ram_init(&f->ram, QSIZE);
	if (make_image(f, ro) < 0)
		return -1;
	f->notify = eventfd(0, EFD_NONBLOCK);
	f->irq[0] = eventfd(0, EFD_NONBLOCK);
	f->irq[1] = eventfd(0, EFD_NONBLOCK);
	struct blk_params p = {
	    .image_fd = f->img,
	    .read_only = ro,
	    .serial = serial,
	    .mem = &f->ram.g,
	    .bar0_gpa = DRV_BAR0,
	    .notify_fds = &f->notify,
	    .nqueues = 1,
	    .irq_fds = f->irq,
	    .nvectors = 2,
	    .workers = workers,
	};
	if (blk_model_create(&f->m, &p, err, sizeof(err)) < 0) {
		fprintf(stderr, "blk_model_create: %s\n", err);
		return -1;
	}
	f->drv = (struct drv){.io = io, .dev = f->m};
	f->next_data = RAM_DATA;
	return driver_up(f, 0);
}

static inline int setup(struct bfix *f, bool ro)
{
	return setup_with(f, ro, "moat-serial-0001", 0);
}

static inline uint64_t irqs(struct bfix *f, unsigned v)
{
	uint64_t n = 0;

	if (read(f->irq[v], &n, sizeof(n)) != sizeof(n))
		return 0;
	return n;
}

/* The interrupt follows the used index a moment later (another thread). */
static inline uint64_t wait_irqs(struct bfix *f, unsigned v)
{
	uint64_t n = 0;

	for (int i = 0; i < 1000 && !n; i++) {
		n = irqs(f, v);
		if (!n)
			usleep(1000);
	}
	return n;
}

/* Guest memory for a buffer (16-aligned, never reused within a test). */
static inline uint64_t alloc(struct bfix *f, uint32_t len)
{
	uint64_t gpa = f->next_data;

	f->next_data += (len + 15) & ~15u;
	if (f->next_data > RAM_GPA + RAM_LEN)
		abort();
	return gpa;
}

struct seg {
	uint64_t gpa;
	uint32_t len;
	bool w;
};

/* Write descriptors for segs, linked, and offer the chain; returns head. */
static inline uint16_t offer(struct bfix *f, const struct seg *s, unsigned n)
{
	uint16_t head = f->next_desc;

	for (unsigned i = 0; i < n; i++) {
		uint16_t idx = (uint16_t)((head + i) % QSIZE);
		uint16_t flags = (s[i].w ? F_WRITE : 0) | (i + 1 < n ? F_NEXT : 0);
		ram_desc(&f->ram, idx, s[i].gpa, s[i].len, flags, (uint16_t)((idx + 1) % QSIZE));
	}
	f->next_desc = (uint16_t)((head + n) % QSIZE);
	ram_offer(&f->ram, head);
	return head;
}

static inline uint64_t header(struct bfix *f, uint32_t type, uint64_t sector)
{
	uint64_t gpa = alloc(f, 16);
	uint8_t *p = ram_ptr(&f->ram, gpa);
	uint32_t t = htole32(type);
	uint64_t s = htole64(sector);

	memset(p, 0, 16);
	memcpy(p, &t, 4);
	memcpy(p + 8, &s, 8);
	return gpa;
}

/* The usual three-part request; *status_gpa names the status byte (set to
 * 0xee beforehand so that a write to it shows). */
static inline uint16_t request(struct bfix *f, uint32_t type, uint64_t sector, uint64_t data,
			       uint32_t len, bool data_w, uint64_t *status_gpa)
{
	struct seg s[3];
	unsigned n = 0;

	*status_gpa = alloc(f, 1);
	*ram_ptr(&f->ram, *status_gpa) = 0xee;
	s[n++] = (struct seg){header(f, type, sector), 16, false};
	if (len)
		s[n++] = (struct seg){data, len, data_w};
	s[n++] = (struct seg){*status_gpa, 1, true};
	return offer(f, s, n);
}

static inline void kick(struct bfix *f)
{
	uint64_t one = 1;

	if (write(f->notify, &one, sizeof(one)) != sizeof(one))
		abort();
	blk_model_ready(f->m, f->notify);
}

static inline bool wait_used(struct bfix *f, uint16_t n)
{
	for (int i = 0; i < 10000; i++) {
		if ((uint16_t)(ram_used_idx(&f->ram) - f->ram.used_seen) >= n)
			return true;
		usleep(1000);
	}
	return false;
}

/* Wait for head's used entry (completions come in any order). */
static inline bool completed(struct bfix *f, uint16_t head, uint32_t *len)
{
	for (int i = 0; i < 10000; i++) {
		uint16_t end = ram_used_idx(&f->ram);
		for (uint16_t k = 0; k != end; k++) {
			uint32_t id, l;
			ram_used(&f->ram, k, &id, &l);
			if (id == head && (uint16_t)(end - k) <= QSIZE) {
				*len = l;
				return true;
			}
		}
		usleep(1000);
	}
	return false;
}

/* Submit one request, kick, wait; returns the status byte, -1 on timeout. */
static inline int roundtrip(struct bfix *f, uint32_t type, uint64_t sector, uint64_t data,
			    uint32_t len, bool data_w, uint32_t *used_len)
{
	uint64_t st;
	uint16_t before = ram_used_idx(&f->ram);

	request(f, type, sector, data, len, data_w, &st);
	kick(f);
	f->ram.used_seen = before;
	if (!wait_used(f, 1))
		return -1;
	uint32_t id;
	ram_used(&f->ram, before, &id, used_len);
	f->ram.used_seen = ram_used_idx(&f->ram);
	return *ram_ptr(&f->ram, st);
}

static inline void teardown(struct bfix *f)
{
	blk_model_destroy(f->m);
	close(f->img);
}
