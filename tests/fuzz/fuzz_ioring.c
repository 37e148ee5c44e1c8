/* libFuzzer target: the I/O ring (ipc/ioring.c) against a hostile peer's
 * shared memory. Byte 0 picks the mode:
 *   even: the rest is the contents of the four slots of a ring as the server
 *         finds them (a compromised vcpu process wrote them). After
 *         ioring_serve() the handler must only have seen valid accesses, every
 *         slot that held a request must hold its exact answer, and no other
 *         slot may have changed.
 *   odd:  bytes 1-2 give a file size, byte 3 the seals, the rest the header:
 *         ioring_map() must refuse anything but a consistent, sealed ring, and
 *         a ring it accepts must be usable up to its last slot. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ioring.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NSLOTS 4

static uint64_t mask_of(unsigned size)
{
	return size >= 8 ? ~0ull : (1ull << (size * 8)) - 1;
}

static uint64_t answer(uint64_t addr)
{
	return (addr + 1) * 0x9e3779b97f4a7c15ull; /* wider than any size: must be masked */
}

static bool valid(const struct ioring_slot *s)
{
	bool size_ok = s->size == 1 || s->size == 2 || s->size == 4 || s->size == 8;

	if (!size_ok || s->is_write > 1)
		return false;
	if (s->space == IORING_SPACE_MMIO)
		return true;
	if (s->space == IORING_SPACE_PCICFG)
		return s->addr <= 0xfff && s->addr + s->size <= 0x1000;
	return s->space == IORING_SPACE_PIO && s->addr <= 0xffff && s->addr + s->size <= 0x10000;
}

static void handler(void *opaque, unsigned space, uint64_t addr, unsigned size, bool is_write,
		    uint64_t *val)
{
	(*(unsigned *)opaque)++;
	if ((size != 1 && size != 2 && size != 4 && size != 8) ||
	    (space != IORING_SPACE_PIO && space != IORING_SPACE_MMIO &&
	     space != IORING_SPACE_PCICFG))
		abort();
	if (space == IORING_SPACE_PIO && (addr > 0xffff || addr + size > 0x10000))
		abort();
	if (space == IORING_SPACE_PCICFG && (addr > 0xfff || addr + size > 0x1000))
		abort();
	if (is_write ? (*val & ~mask_of(size)) != 0 : *val != mask_of(size))
		abort();
	if (!is_write)
		*val = answer(addr);
}

static void fuzz_server(const uint8_t *data, size_t size)
{
	static struct ioring r;
	static int mapped;
	struct ioring_slot before[NSLOTS];
	unsigned calls = 0, expect_calls = 0;

	if (!mapped) {
		int fd = ioring_create_fd(NSLOTS);
		if (fd < 0 || ioring_map(fd, &r) < 0)
			abort();
		close(fd);
		mapped = 1;
	}
	memset(before, 0, sizeof(before));
	memcpy(before, data, size < sizeof(before) ? size : sizeof(before));
	memcpy(r.slots, before, sizeof(before));

	int n = ioring_serve(&r, handler, &calls);

	int requests = 0;
	for (unsigned i = 0; i < NSLOTS; i++) {
		const struct ioring_slot *b = &before[i], *a = &r.slots[i];

		if (b->state != IORING_REQUEST) {
			if (memcmp(a, b, sizeof(*a)))
				abort();
			continue;
		}
		requests++;
		struct ioring_slot want = *b;
		want.state = IORING_RESPONSE;
		if (valid(b)) {
			expect_calls++;
			want.data = b->is_write ? b->data & mask_of(b->size)
						: answer(b->addr) & mask_of(b->size);
		} else if (b->is_write == 0) {
			bool size_ok = b->size == 1 || b->size == 2 || b->size == 4 || b->size == 8;
			want.data = size_ok ? mask_of(b->size) : ~0ull;
		}
		if (memcmp(a, &want, sizeof(want)))
			abort();
	}
	if (n != requests || calls != expect_calls)
		abort();
}

static void fuzz_map(const uint8_t *data, size_t size)
{
	struct ioring r;
	size_t fsize;
	int fd, seals;

	if (size < 4)
		return;
	fsize = ((size_t)data[1] | (size_t)data[2] << 8) % (IORING_SIZE(IORING_MAX_SLOTS) + 256);
	seals = (data[3] & 1 ? F_SEAL_SHRINK : 0) | (data[3] & 2 ? F_SEAL_GROW : 0) |
		(data[3] & 4 ? 0 : F_SEAL_SEAL);
	fd = memfd_create("fuzz", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		abort();
	if (ftruncate(fd, (off_t)fsize) < 0)
		abort();
	size_t hlen = size - 4 < fsize ? size - 4 : fsize;
	if (hlen > sizeof(struct ioring_hdr))
		hlen = sizeof(struct ioring_hdr);
	if (hlen && pwrite(fd, data + 4, hlen, 0) != (ssize_t)hlen)
		abort();
	if (seals && fcntl(fd, F_ADD_SEALS, seals) < 0)
		abort();

	int ret = ioring_map(fd, &r);
	close(fd);
	if (ret < 0) {
		if (ret != -EBADMSG && ret != -EPERM)
			abort();
		return;
	}
	if (r.nslots < 1 || r.nslots > IORING_MAX_SLOTS || IORING_SIZE(r.nslots) != fsize ||
	    (seals & (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)) !=
		(F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL))
		abort();
	/* Every slot it promises is there: touch the last one both ways. */
	struct ioring_req q = {IORING_SPACE_MMIO, 4, false, 0x1000, 0};
	ioring_set_spin(&r, 0);
	if (ioring_call(&r, r.nslots - 1, &q, NULL, 0) != -ETIMEDOUT)
		abort();
	unsigned calls = 0;
	if (ioring_serve(&r, handler, &calls) != 1 || calls != 1)
		abort();
	ioring_unmap(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] & 1)
		fuzz_map(data, size);
	else
		fuzz_server(data + 1, size - 1);
	return 0;
}
