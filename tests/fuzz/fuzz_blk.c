/* libFuzzer target: virtio-blk request parsing and execution
 * (devproc/blk/blk_req.c) on arbitrary descriptor chains, against a small
 * in-memory image. The input:
 *   byte 0: bit 0 read-only disk, bit 1 the image through blk_image (as a
 *           qcow2 disk's requests go: DISCARD and WRITE_ZEROES parse),
 *           bits 2-7 ignored
 *   byte 1: number of buffers n (mod VQ_MAX_CHAIN + 1)
 *   n * 5 bytes: offset (le16) and length (le16) in a 64 KiB guest RAM,
 *                flags (bit 0 writable); readable buffers are moved
 *                first, as vq_pop guarantees
 *   the rest: copied into guest RAM from offset 0 (headers, data)
 * Invariants: a parsed request's iov lies inside its chain's buffers, adds
 * up to its length (a range request has none), whole sectors inside the
 * disk for reads and writes; the used length covers the writable bytes; DISCARD and WRITE_ZEROES
 * only with an image, inside the disk, at most BLK_MAX_DISCARD_SECTORS; a
 * read-only image never changes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "blk_image.h"
#include "blk_req.h"
#include "fuzz_chain.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RAM_SIZE 0x10000
#define SECTORS	 16

static uint8_t ram[RAM_SIZE];
static struct vq_chain chain;

static void check(const struct vq_chain *c, const struct blk_disk *disk, const struct blk_req *r)
{
	uint64_t sum = 0;

	for (unsigned i = 0; i < r->niov; i++) {
		if (!fuzz_in_chain(c, &r->iov[i]))
			abort();
		sum += r->iov[i].iov_len;
	}
	/* DISCARD and WRITE_ZEROES carry a range, no data: their len is the
	 * range's, with no iov */
	if (r->op == BLK_OP_DISCARD || r->op == BLK_OP_WRITE_ZEROES) {
		if (r->niov)
			abort();
	} else if (r->op != BLK_OP_DONE && sum != r->len) {
		abort();
	}
	if (r->used_len != (c->in_bytes > UINT32_MAX ? UINT32_MAX : c->in_bytes))
		abort();
	if (r->op == BLK_OP_READ || r->op == BLK_OP_WRITE) {
		if (r->len % BLK_SECTOR || r->offset > disk->sectors * BLK_SECTOR ||
		    r->len > disk->sectors * BLK_SECTOR - r->offset)
			abort();
	}
	if (r->op == BLK_OP_DISCARD || r->op == BLK_OP_WRITE_ZEROES) {
		if (!disk->img || r->len % BLK_SECTOR || r->len > BLK_MAX_DISCARD_SECTORS * BLK_SECTOR ||
		    r->offset > disk->sectors * BLK_SECTOR ||
		    r->len > disk->sectors * BLK_SECTOR - r->offset)
			abort();
	}
	if (blk_op_changes(r->op) && disk->read_only)
		abort();
	if (r->op == BLK_OP_GET_ID && r->len > BLK_SERIAL_LEN)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int img = -1;
	static uint8_t before[SECTORS * BLK_SECTOR], after[SECTORS * BLK_SECTOR];
	const uint8_t *p = data + 2, *end = data + size;
	struct blk_disk disk = {.sectors = SECTORS, .serial = "fuzz-serial"};

	if (size < 2)
		return 0;
	if (img < 0) {
		img = memfd_create("fuzz-blk", 0);
		if (img < 0 || ftruncate(img, sizeof(before)) < 0)
			abort();
	}
	disk.fd = img;
	disk.read_only = data[0] & 1;
	if ((data[0] & 2) && blk_raw_open(img, disk.read_only, 0, &disk.img) < 0)
		abort();
	fuzz_build_chain(&chain, ram, RAM_SIZE, 2, &p, end, data[1] % (VQ_MAX_CHAIN + 1));
	fuzz_fill_ram(ram, sizeof(ram), p, end);
	if (disk.read_only && pread(img, before, sizeof(before), 0) != sizeof(before))
		abort();

	struct blk_req *r = malloc(blk_req_size(&chain));
	if (!r)
		abort();
	if (blk_req_parse(&chain, &disk, r) == 0) {
		check(&chain, &disk, r);
		blk_req_execute(&disk, r);
	} else if (chain.out_bytes >= BLK_HDR_LEN && chain.in_bytes >= 1) {
		abort(); /* only a chain without room for header or status is refused */
	}
	free(r);
	blk_image_close(disk.img);
	if (disk.read_only) {
		if (pread(img, after, sizeof(after), 0) != sizeof(after) ||
		    memcmp(before, after, sizeof(before)))
			abort();
	}
	return 0;
}
