/* libFuzzer target: the split virtqueue (devproc/virtio/virtqueue.c) and
 * gmem_ptr against a hostile guest. The input is mostly the contents of a
 * fake guest RAM holding the descriptor table, the avail ring and any
 * indirect tables:
 *
 *   byte 0     bits 0-3 log2 of the queue size (mod 11), bit 4 event idx,
 *              bit 5 ring addresses from bytes 3-8 instead of packed,
 *              bits 6-7 where RAM sits: at 0, at 64 KiB, ending at 2^64
 *              or ending at the PCI hole
 *   bytes 1-2  the indices the queue starts at (to cross 65535 early)
 *   bytes 3-8  three u16: desc, avail, used offsets in RAM (bit 5)
 *   byte 9     count of patches
 *   patches    4 bytes each: u16 offset, u16 value, written into RAM
 *              between two pops (a guest changing the rings under us)
 *   the rest   RAM from offset 0 (RAM is MEM_SIZE bytes, zero-filled)
 *
 * The device pops until the queue is empty or broken, pushes every chain
 * back and asks whether to notify. Every chain it gets must lie entirely in
 * the fake RAM at the right place, be well formed, and be copyable; every
 * push must land in the used ring; a broken queue must stay broken. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gmem.h"
#include "virtqueue.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MEM_SIZE  0x10000u
#define HDR_SIZE  10u
#define MAX_PATCH 64u

#define REQUIRE(c)                                                                                 \
	do {                                                                                       \
		if (!(c))                                                                          \
			abort();                                                                   \
	} while (0)

struct input {
	uint16_t qsize, start;
	bool event_idx;
	uint64_t base;
	uint64_t desc, avail, used; /* guest addresses */
	const uint8_t *patch;
	unsigned npatch, next_patch;
};

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t rd32(const uint8_t *p)
{
	return rd16(p) | (uint32_t)rd16(p + 2) << 16;
}

/* The memory lives on the heap, exactly MEM_SIZE bytes, so ASan catches
 * any access past it even if the explicit checks below were wrong. */
static uint8_t *mem;

static void parse(const uint8_t *d, size_t n, struct input *in, size_t *used_bytes)
{
	static const uint64_t bases[4] = {0, 0x10000, 0 - (uint64_t)MEM_SIZE,
					  0xc0000000 - MEM_SIZE};
	uint64_t packed_avail, packed_used;

	in->qsize = (uint16_t)(1u << ((d[0] & 15) % 11));
	in->event_idx = d[0] & 16;
	in->base = bases[d[0] >> 6];
	in->start = rd16(d + 1);
	packed_avail = 16u * in->qsize;
	packed_used = (packed_avail + 6 + 2u * in->qsize + 3) & ~3ull;
	if (d[0] & 32) {
		in->desc = in->base + rd16(d + 3);
		in->avail = in->base + rd16(d + 5);
		in->used = in->base + rd16(d + 7);
	} else {
		in->desc = in->base;
		in->avail = in->base + packed_avail;
		in->used = in->base + packed_used;
	}
	in->npatch = d[9] % (MAX_PATCH + 1);
	if ((size_t)in->npatch * 4 > n - HDR_SIZE)
		in->npatch = (unsigned)((n - HDR_SIZE) / 4);
	in->patch = d + HDR_SIZE;
	in->next_patch = 0;
	*used_bytes = HDR_SIZE + 4u * in->npatch;
}

/* One guest write between two pops; false when there are no more. */
static bool apply_patch(struct input *in)
{
	const uint8_t *p;
	uint16_t off;

	if (in->next_patch >= in->npatch)
		return false;
	p = in->patch + 4 * in->next_patch++;
	off = rd16(p);
	if (off <= MEM_SIZE - 2) {
		mem[off] = p[2];
		mem[off + 1] = p[3];
	}
	return true;
}

/* Touch the first and last byte of a buffer, writing back what is there
 * (so that the memory does not change but ASan sees a write). */
static void touch(uint8_t *p, uint32_t len)
{
	volatile uint8_t *v = p;

	if (!len)
		return;
	v[0] = v[0];
	v[len - 1] = v[len - 1];
}

static void check_chain(const struct input *in, const struct vq_chain *c)
{
	static uint8_t flat[4096];
	uint64_t out = 0, inb = 0, want, off;

	REQUIRE(c->head < in->qsize);
	REQUIRE(c->n >= 1 && c->n <= VQ_MAX_CHAIN && c->n_out <= c->n);
	for (unsigned i = 0; i < c->n; i++) {
		const struct vq_buf *b = &c->e[i];
		uint8_t *p = b->ptr;

		REQUIRE(b->writable == (i >= c->n_out));
		REQUIRE(b->gpa >= in->base && b->gpa - in->base <= MEM_SIZE);
		REQUIRE(b->len <= MEM_SIZE - (b->gpa - in->base));
		REQUIRE(p == mem + (b->gpa - in->base));
		touch(p, b->len);
		if (b->writable)
			inb += b->len;
		else
			out += b->len;
	}
	REQUIRE(out == c->out_bytes && inb == c->in_bytes);
	REQUIRE(out + inb <= (1ull << 32));

	/* The readable stream from some offset, and the writable one written
	 * back with its own contents. */
	off = c->out_bytes / 3;
	want = c->out_bytes - off < sizeof(flat) ? c->out_bytes - off : sizeof(flat);
	REQUIRE(vq_chain_read(c, off, flat, sizeof(flat)) == want);
	want = c->in_bytes < sizeof(flat) ? c->in_bytes : sizeof(flat);
	for (uint64_t i = 0, k = 0; i < c->n && k < want; i++) {
		const struct vq_buf *b = &c->e[i];
		uint64_t l = b->len < want - k ? b->len : want - k;

		if (!b->writable)
			continue;
		memcpy(flat + k, b->ptr, l);
		k += l;
	}
	REQUIRE(vq_chain_write(c, 0, flat, want) == want);
}

/* The element vq_push wrote, read back as the driver would. */
static void check_used(const struct input *in, const struct virtqueue *vq, uint16_t head,
		       uint32_t written)
{
	const uint8_t *u = mem + (in->used - in->base);
	uint16_t slot = (uint16_t)(vq->used_idx - 1) & (in->qsize - 1);

	REQUIRE(rd16(u + 2) == vq->used_idx);
	REQUIRE(rd32(u + 4 + 8 * slot) == head && rd32(u + 8 + 8 * slot) == written);
}

static void run(struct input *in, struct virtqueue *vq)
{
	static struct vq_chain c;

	for (unsigned iter = 0; iter < 4 * VQ_MAX_SIZE + MAX_PATCH; iter++) {
		int r = vq_pop(vq, &c);

		if (r < 0) {
			REQUIRE(r == -EBADMSG && vq->broken);
			apply_patch(in);
			REQUIRE(vq_pop(vq, &c) == -EBADMSG && !vq_has_avail(vq));
			REQUIRE(vq_push(vq, 0, 0) == -EBADMSG);
			return;
		}
		if (r == 0) {
			vq_enable_notify(vq);
			if (!vq_has_avail(vq) && !apply_patch(in))
				return;
			continue;
		}
		check_chain(in, &c);
		uint32_t written = c.in_bytes > UINT32_MAX ? UINT32_MAX : (uint32_t)c.in_bytes;
		REQUIRE(vq_push(vq, c.head, written) == 0);
		check_used(in, vq, c.head, written);
		(void)vq_should_notify(vq);
		apply_patch(in);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in;
	struct gmem g;
	struct virtqueue vq;
	size_t hdr;

	if (size < HDR_SIZE)
		return 0;
	if (!mem)
		mem = malloc(MEM_SIZE);
	parse(data, size, &in, &hdr);
	memset(mem, 0, MEM_SIZE);
	memcpy(mem, data + hdr, size - hdr < MEM_SIZE ? size - hdr : MEM_SIZE);
	gmem_fake(&g, mem, in.base, MEM_SIZE);
	if (vq_init(&vq, &g, in.qsize, in.desc, in.avail, in.used, in.event_idx) < 0)
		return 0;
	vq.last_avail = vq.used_idx = vq.signalled_used = in.start;
	run(&in, &vq);
	return 0;
}
