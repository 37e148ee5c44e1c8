/* A fake guest for the virtqueue tests: one RAM region over a heap buffer,
 * the three ring parts at fixed places, and driver-side helpers written
 * from the spec's layout, not from virtqueue.c. */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gmem.h"
#include "virtqueue.h"

#define FAKE_GPA  0x100000ull
#define FAKE_LEN  0x40000ull
#define FAKE_END  (FAKE_GPA + FAKE_LEN)
#define DESC_OFF  0x0ull     /* up to 16 KiB: 1024 descriptors */
#define AVAIL_OFF 0x4000ull  /* 6 + 2 * 1024 */
#define USED_OFF  0x5000ull  /* 6 + 8 * 1024 */
#define DATA_OFF  0x8000ull  /* buffers */
#define IND_OFF	  0x30000ull /* indirect tables */

struct fake {
	uint8_t *mem;
	uint64_t gpa; /* guest address of mem[0] */
	struct gmem g;
	struct virtqueue vq;
	uint16_t size;
	uint16_t avail_idx; /* the driver's copy */
};

static inline void put16(uint8_t *p, uint16_t v)
{
	uint8_t b[2] = {v & 0xff, v >> 8};

	memcpy(p, b, 2);
}

static inline void put32(uint8_t *p, uint32_t v)
{
	put16(p, v & 0xffff);
	put16(p + 2, v >> 16);
}

static inline void put64(uint8_t *p, uint64_t v)
{
	put32(p, v & 0xffffffff);
	put32(p + 4, v >> 32);
}

static inline uint16_t get16(const uint8_t *p)
{
	return p[0] | p[1] << 8;
}

static inline uint32_t get32(const uint8_t *p)
{
	return get16(p) | (uint32_t)get16(p + 2) << 16;
}

static inline uint8_t *host(struct fake *f, uint64_t gpa)
{
	return f->mem + (gpa - f->gpa);
}

/* Set up the memory and the queue at guest address gpa; 0 or vq_init's
 * error. The memory is zeroed, as a driver zeroes its rings. */
static inline int fake_init_at(struct fake *f, uint64_t gpa, uint16_t size, bool event_idx)
{
	memset(f, 0, sizeof(*f));
	f->mem = aligned_alloc(4096, FAKE_LEN);
	if (!f->mem)
		abort();
	memset(f->mem, 0, FAKE_LEN);
	f->gpa = gpa;
	f->size = size;
	gmem_fake(&f->g, f->mem, gpa, FAKE_LEN);
	return vq_init(&f->vq, &f->g, size, gpa + DESC_OFF, gpa + AVAIL_OFF, gpa + USED_OFF,
		       event_idx);
}

static inline int fake_init(struct fake *f, uint16_t size, bool event_idx)
{
	return fake_init_at(f, FAKE_GPA, size, event_idx);
}

static inline void fake_free(struct fake *f)
{
	free(f->mem);
}

/* Write entry i of the descriptor table at table_gpa. */
static inline void desc_at(struct fake *f, uint64_t table_gpa, unsigned i, uint64_t addr,
			   uint32_t len, uint16_t flags, uint16_t next)
{
	uint8_t *p = host(f, table_gpa) + 16 * i;

	put64(p, addr);
	put32(p + 8, len);
	put16(p + 12, flags);
	put16(p + 14, next);
}

static inline void desc(struct fake *f, unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
			uint16_t next)
{
	desc_at(f, f->gpa + DESC_OFF, i, addr, len, flags, next);
}

/* A buffer address in the data area. */
static inline uint64_t data(struct fake *f, uint64_t off)
{
	return f->gpa + DATA_OFF + off;
}

static inline void set_avail_idx(struct fake *f, uint16_t idx)
{
	f->avail_idx = idx;
	put16(host(f, f->gpa + AVAIL_OFF) + 2, idx);
}

/* Make the chain at head available, as a driver does. */
static inline void offer(struct fake *f, uint16_t head)
{
	put16(host(f, f->gpa + AVAIL_OFF) + 4 + 2 * (f->avail_idx % f->size), head);
	set_avail_idx(f, f->avail_idx + 1);
}

static inline void set_avail_flags(struct fake *f, uint16_t flags)
{
	put16(host(f, f->gpa + AVAIL_OFF), flags);
}

static inline void set_used_event(struct fake *f, uint16_t v)
{
	put16(host(f, f->gpa + AVAIL_OFF) + 4 + 2 * f->size, v);
}

static inline uint16_t used_flags(struct fake *f)
{
	return get16(host(f, f->gpa + USED_OFF));
}

static inline uint16_t used_idx(struct fake *f)
{
	return get16(host(f, f->gpa + USED_OFF) + 2);
}

static inline uint32_t used_id(struct fake *f, uint16_t i)
{
	return get32(host(f, f->gpa + USED_OFF) + 4 + 8 * (i % f->size));
}

static inline uint32_t used_len(struct fake *f, uint16_t i)
{
	return get32(host(f, f->gpa + USED_OFF) + 8 + 8 * (i % f->size));
}

static inline uint16_t avail_event(struct fake *f)
{
	return get16(host(f, f->gpa + USED_OFF) + 4 + 8 * f->size);
}

/* Pop exactly one chain and expect the queue to be broken by it, and to
 * stay broken. */
static inline int pop_broken(struct fake *f)
{
	static struct vq_chain c;

	if (vq_pop(&f->vq, &c) != -EBADMSG || !f->vq.broken)
		return 1;
	if (vq_pop(&f->vq, &c) != -EBADMSG || vq_push(&f->vq, 0, 0) != -EBADMSG)
		return 1;
	return vq_has_avail(&f->vq) || vq_should_notify(&f->vq);
}
