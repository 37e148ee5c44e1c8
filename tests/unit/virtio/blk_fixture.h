/* The fixture of the virtio-blk tests (test_blk.c, test_blk_hostile.c):
 * the shared virtio device fixture (vdev_fixture.h) with the blk model, a
 * temporary image with a known pattern and the worker threads running,
 * plus the requests a driver makes. */
#pragma once

#include <fcntl.h>
#include <linux/virtio_blk.h>
#include <sys/stat.h>

#include "blk_model.h"
#include "blk_req.h"

#define VFIX_DEVICE_FIELDS                                                                         \
	char path[64];                                                                             \
	int img;                                                                                   \
	struct blk_model *m;
#include "vdev_fixture.h"

#define SECTORS	   2048 /* 1 MiB image */
#define BLK_F_BASE (1ull << VPCI_F_VERSION_1)

/* The byte the image holds at offset off before any write. */
static inline uint8_t pattern(uint64_t off)
{
	return (uint8_t)(off * 7 + off / 512 + 1);
}

static inline int make_image(struct vfix *f, bool ro)
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

/* A disk of nq request queues (vectors: the config's, then one a queue). */
static inline int setup_queues(struct vfix *f, bool ro, const char *serial, unsigned workers,
			       unsigned nq)
{
	char err[128] = "";
	struct blk_params p = {.read_only = ro, .serial = serial, .workers = workers};

	vfix_init(f, nq, nq + 1, &p.vdev);
	if (make_image(f, ro) < 0)
		return -1;
	/* the model owns its descriptor; the test keeps f->img to look */
	p.image_fd = dup(f->img);
	if (blk_model_create(&f->m, &p, err, sizeof(err)) < 0) {
		fprintf(stderr, "blk_model_create: %s\n", err);
		close(p.image_fd);
		return -1;
	}
	vfix_attach(f, blk_model_vdev(f->m));
	return driver_up(f, nq > 1 ? BLK_F_BASE | 1ull << VIRTIO_BLK_F_MQ : BLK_F_BASE);
}

static inline int setup_with(struct vfix *f, bool ro, const char *serial, unsigned workers)
{
	return setup_queues(f, ro, serial, workers, 1);
}

static inline int setup(struct vfix *f, bool ro)
{
	return setup_with(f, ro, "moat-serial-0001", 0);
}

static inline uint64_t header(struct vfix *f, uint32_t type, uint64_t sector)
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

/* The usual three-part request on queue q; *status_gpa names the status
 * byte (set to 0xee beforehand so that a write to it shows). */
static inline uint16_t request_on(struct vfix *f, unsigned q, uint32_t type, uint64_t sector,
				  uint64_t data, uint32_t len, bool data_w, uint64_t *status_gpa)
{
	struct seg s[3];
	unsigned n = 0;

	*status_gpa = alloc(f, 1);
	*ram_ptr(&f->ram, *status_gpa) = 0xee;
	s[n++] = (struct seg){header(f, type, sector), 16, false};
	if (len)
		s[n++] = (struct seg){data, len, data_w};
	s[n++] = (struct seg){*status_gpa, 1, true};
	return offer(f, q, s, n);
}

static inline uint16_t request(struct vfix *f, uint32_t type, uint64_t sector, uint64_t data,
			       uint32_t len, bool data_w, uint64_t *status_gpa)
{
	return request_on(f, 0, type, sector, data, len, data_w, status_gpa);
}

static inline bool wait_used_on(struct vfix *f, unsigned q, uint16_t n)
{
	for (int i = 0; i < 10000; i++) {
		if ((uint16_t)(used_idx(f, q) - f->r[q].used_seen) >= n)
			return true;
		usleep(1000);
	}
	return false;
}

static inline bool wait_used(struct vfix *f, uint16_t n)
{
	return wait_used_on(f, 0, n);
}

/* Wait for head's used entry (completions come in any order). */
static inline bool completed(struct vfix *f, uint16_t head, uint32_t *len)
{
	for (int i = 0; i < 10000; i++) {
		uint16_t end = used_idx(f, 0);
		for (uint16_t k = 0; k != end; k++) {
			uint32_t id, l;
			used_elem(f, 0, k, &id, &l);
			if (id == head && (uint16_t)(end - k) <= QSIZE) {
				*len = l;
				return true;
			}
		}
		usleep(1000);
	}
	return false;
}

/* Submit one request on queue q, kick, wait; returns the status byte, -1
 * on timeout. */
static inline int roundtrip_on(struct vfix *f, unsigned q, uint32_t type, uint64_t sector,
			       uint64_t data, uint32_t len, bool data_w, uint32_t *used_len)
{
	uint64_t st;
	uint16_t before = used_idx(f, q);

	request_on(f, q, type, sector, data, len, data_w, &st);
	kick(f, q);
	f->r[q].used_seen = before;
	if (!wait_used_on(f, q, 1))
		return -1;
	uint32_t id;
	used_elem(f, q, before, &id, used_len);
	f->r[q].used_seen = used_idx(f, q);
	return *ram_ptr(&f->ram, st);
}

static inline int roundtrip(struct vfix *f, uint32_t type, uint64_t sector, uint64_t data,
			    uint32_t len, bool data_w, uint32_t *used_len)
{
	return roundtrip_on(f, 0, type, sector, data, len, data_w, used_len);
}

static inline void teardown(struct vfix *f)
{
	blk_model_destroy(f->m);
	close(f->img);
	vfix_fini(f);
}
