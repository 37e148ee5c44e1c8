/* Unit tests for devproc/virtio/virtqueue.c against a hostile driver: every
 * malformed ring, chain and indirect table must break the queue (and keep
 * it broken) without touching memory outside the fake guest RAM; queues
 * configured outside RAM, misaligned or of a bad size must be refused. The
 * limits themselves (exactly full, exactly at the end) must still work. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>

#include "tap.h"
#include "vq_fake.h"

#define N  VIRTQ_DESC_F_NEXT
#define W  VIRTQ_DESC_F_WRITE
#define IN VIRTQ_DESC_F_INDIRECT

static struct vq_chain chain;

#define BROKEN(f) CHECK(pop_broken(f) == 0)
#define POPS(f)	  CHECK(vq_pop(&(f)->vq, &chain) == 1)

static int test_loop_two(void)
{
	struct fake f;

	CHECK(fake_init(&f, 8, false) == 0);
	desc(&f, 0, data(&f, 0), 16, N, 1);
	desc(&f, 1, data(&f, 16), 16, N, 0);
	offer(&f, 0);
	BROKEN(&f);
	/* broken stays broken, even once the guest repairs the chain */
	desc(&f, 1, data(&f, 16), 16, 0, 0);
	CHECK(vq_pop(&f.vq, &chain) == -EBADMSG);
	return 0;
}

static int test_self_loop(void)
{
	struct fake f;

	CHECK(fake_init(&f, 8, false) == 0);
	desc(&f, 3, data(&f, 0), 16, N, 3);
	offer(&f, 3);
	BROKEN(&f);
	return 0;
}

/* Every entry of the table chained once is the longest legal chain; one
 * more hop can only be a loop. */
static int test_whole_table_chain(void)
{
	struct fake f;

	CHECK(fake_init(&f, 16, false) == 0);
	for (unsigned i = 0; i < 16; i++)
		desc(&f, i, data(&f, i), 1, i < 15 ? N : 0, i + 1);
	offer(&f, 0);
	POPS(&f);
	CHECK(chain.n == 16);
	desc(&f, 15, data(&f, 15), 1, N, 0);
	offer(&f, 0);
	BROKEN(&f);
	return 0;
}

/* The descriptor just past the table is made valid: a walk that read it
 * would succeed instead of breaking the queue. */
static int test_next_out_of_range(void)
{
	const uint16_t next[] = {8, 9, 0x7fff, 0xffff};

	for (unsigned i = 0; i < sizeof(next) / sizeof(next[0]); i++) {
		struct fake f;

		CHECK(fake_init(&f, 8, false) == 0);
		desc(&f, 8, data(&f, 0), 16, 0, 0);
		desc(&f, 0, data(&f, 0), 16, N, next[i]);
		offer(&f, 0);
		BROKEN(&f);
		fake_free(&f);
	}
	return 0;
}

static int test_head_out_of_range(void)
{
	const uint16_t head[] = {8, 1024, 0xffff};

	for (unsigned i = 0; i < sizeof(head) / sizeof(head[0]); i++) {
		struct fake f;

		CHECK(fake_init(&f, 8, false) == 0);
		desc(&f, 0, data(&f, 0), 16, 0, 0);
		desc(&f, 8, data(&f, 0), 16, 0, 0);
		offer(&f, 0);
		offer(&f, head[i]);
		POPS(&f);
		BROKEN(&f);
		fake_free(&f);
	}
	return 0;
}

/* The table ends exactly where RAM ends: reading one entry past it would
 * leave the buffer (ASan would see it); the walk must stop first. */
static int test_table_at_end_of_ram(void)
{
	const uint64_t d = FAKE_END - 16 * 8;
	struct vq_chain *c = &chain;
	struct fake f;

	CHECK(fake_init(&f, 8, false) == 0);
	CHECK(vq_init(&f.vq, &f.g, 8, d, f.gpa + AVAIL_OFF, f.gpa + USED_OFF, false) == 0);
	desc_at(&f, d, 7, data(&f, 0), 16, N, 1);
	desc_at(&f, d, 1, data(&f, 0), 16, N, 8);
	offer(&f, 7);
	BROKEN(&f);
	CHECK(vq_init(&f.vq, &f.g, 8, d, f.gpa + AVAIL_OFF, f.gpa + USED_OFF, false) == 0);
	f.vq.last_avail = f.avail_idx;
	desc_at(&f, d, 7, data(&f, 0), 16, 0, 0);
	offer(&f, 7);
	CHECK(vq_pop(&f.vq, c) == 1 && c->head == 7);
	return 0;
}

/* At most size chains can be outstanding: size is fine, size + 1 (or a
 * decremented index, which looks like 65535 new ones) is not. */
static int test_avail_idx_jump(void)
{
	struct fake f;

	CHECK(fake_init(&f, 8, false) == 0);
	desc(&f, 0, data(&f, 0), 16, 0, 0);
	for (unsigned i = 0; i < 8; i++)
		offer(&f, 0);
	for (unsigned i = 0; i < 8; i++)
		POPS(&f);
	CHECK(vq_pop(&f.vq, &chain) == 0);
	set_avail_idx(&f, 8 + 9);
	BROKEN(&f);
	fake_free(&f);

	CHECK(fake_init(&f, 8, false) == 0);
	desc(&f, 0, data(&f, 0), 16, 0, 0);
	offer(&f, 0);
	POPS(&f);
	set_avail_idx(&f, 0);
	CHECK(vq_pop(&f.vq, &chain) == -EBADMSG);
	return 0;
}

/* The spec sets no alignment for indirect tables, so an odd one is valid
 * and must be read correctly (and without a misaligned access: UBSan). */
static int test_indirect_misaligned_ok(void)
{
	struct fake f;
	uint64_t t;

	CHECK(fake_init(&f, 8, false) == 0);
	t = f.gpa + IND_OFF + 3;
	desc_at(&f, t, 0, data(&f, 0), 10, N, 1);
	desc_at(&f, t, 1, data(&f, 100), 20, W, 0);
	desc(&f, 2, t, 32, IN, 0);
	offer(&f, 2);
	POPS(&f);
	CHECK(chain.head == 2 && chain.n == 2 && chain.n_out == 1);
	CHECK(chain.e[0].gpa == data(&f, 0) && chain.e[0].len == 10 && !chain.e[0].writable);
	CHECK(chain.e[1].ptr == host(&f, data(&f, 100)) && chain.e[1].writable);
	return 0;
}

static int test_indirect_bad_len(void)
{
	const uint32_t len[] = {0, 8, 24, 17, 16 * 257, 0xfffffff0, 0xffffffff};

	for (unsigned i = 0; i < sizeof(len) / sizeof(len[0]); i++) {
		struct fake f;

		/* entry 0 alone would be a valid chain, whatever the length */
		CHECK(fake_init(&f, 8, false) == 0);
		desc_at(&f, f.gpa + IND_OFF, 0, data(&f, 0), 1, 0, 0);
		desc(&f, 0, f.gpa + IND_OFF, len[i], IN, 0);
		offer(&f, 0);
		BROKEN(&f);
		fake_free(&f);
	}
	return 0;
}

static int test_indirect_outside_ram(void)
{
	const uint64_t addr[] = {FAKE_END - 16,	  FAKE_END,  FAKE_GPA - 16, 0,
				 UINT64_MAX - 15, 0xc0000000};

	for (unsigned i = 0; i < sizeof(addr) / sizeof(addr[0]); i++) {
		struct fake f;

		/* where the table starts in RAM, its entry 0 is valid */
		CHECK(fake_init(&f, 8, false) == 0);
		if (addr[i] >= FAKE_GPA && addr[i] <= FAKE_END - 16)
			desc_at(&f, addr[i], 0, data(&f, 0), 16, 0, 0);
		desc(&f, 0, addr[i], 32, IN, 0);
		offer(&f, 0);
		BROKEN(&f);
		fake_free(&f);
	}
	return 0;
}

static int test_indirect_nested(void)
{
	struct fake f;
	uint64_t t = FAKE_GPA + IND_OFF;

	CHECK(fake_init(&f, 8, false) == 0);
	desc_at(&f, t, 0, t + 64, 16, IN, 0);
	desc_at(&f, t + 64, 0, data(&f, 0), 16, 0, 0);
	desc(&f, 0, t, 16, IN, 0);
	offer(&f, 0);
	BROKEN(&f);
	return 0;
}

static int test_indirect_with_next(void)
{
	struct fake f;
	uint64_t t = FAKE_GPA + IND_OFF;

	CHECK(fake_init(&f, 8, false) == 0);
	desc_at(&f, t, 0, data(&f, 0), 16, 0, 0);
	desc(&f, 0, t, 16, IN | N, 1);
	desc(&f, 1, data(&f, 0), 16, 0, 0);
	offer(&f, 0);
	BROKEN(&f);
	return 0;
}

static int test_indirect_loops(void)
{
	uint64_t t = FAKE_GPA + IND_OFF;
	struct fake f;

	/* 0 -> 1 -> 0 */
	CHECK(fake_init(&f, 8, false) == 0);
	desc_at(&f, t, 0, data(&f, 0), 16, N, 1);
	desc_at(&f, t, 1, data(&f, 0), 16, N, 0);
	desc(&f, 0, t, 32, IN, 0);
	offer(&f, 0);
	BROKEN(&f);
	fake_free(&f);
	/* 0 -> 0 */
	CHECK(fake_init(&f, 8, false) == 0);
	desc_at(&f, t, 0, data(&f, 0), 16, N, 0);
	desc(&f, 0, t, 16, IN, 0);
	offer(&f, 0);
	BROKEN(&f);
	fake_free(&f);
	/* next past the table (but inside the queue's size), to an entry
	 * that would be valid */
	CHECK(fake_init(&f, 8, false) == 0);
	desc_at(&f, t, 0, data(&f, 0), 16, N, 2);
	desc_at(&f, t, 2, data(&f, 0), 16, 0, 0);
	desc(&f, 0, t, 32, IN, 0);
	offer(&f, 0);
	BROKEN(&f);
	return 0;
}

/* Writable before readable, within the queue's table, within an indirect
 * table, and across the switch from one to the other. */
static int test_write_then_read(void)
{
	uint64_t t = FAKE_GPA + IND_OFF;
	struct fake f;

	CHECK(fake_init(&f, 8, false) == 0);
	desc(&f, 0, data(&f, 0), 16, N, 1);
	desc(&f, 1, data(&f, 16), 16, W | N, 2);
	desc(&f, 2, data(&f, 32), 16, 0, 0);
	offer(&f, 0);
	BROKEN(&f);
	fake_free(&f);

	CHECK(fake_init(&f, 8, false) == 0);
	desc_at(&f, t, 0, data(&f, 0), 16, W | N, 1);
	desc_at(&f, t, 1, data(&f, 16), 16, 0, 0);
	desc(&f, 0, t, 32, IN, 0);
	offer(&f, 0);
	BROKEN(&f);
	fake_free(&f);

	CHECK(fake_init(&f, 8, false) == 0);
	desc_at(&f, t, 0, data(&f, 16), 16, 0, 0);
	desc(&f, 0, data(&f, 0), 16, W | N, 1);
	desc(&f, 1, t, 16, IN | W, 0); /* W on the pointer is ignored */
	offer(&f, 0);
	BROKEN(&f);
	return 0;
}

/* Buffers that end exactly at the end of RAM are fine, one byte more is
 * not, nor anything below RAM, nor 4 GiB - 1 bytes from the last byte. */
static int test_buffer_bounds(void)
{
	const struct {
		uint64_t addr;
		uint32_t len;
		bool ok;
	} b[] = {
	    {FAKE_END - 8, 8, true},
	    {FAKE_END - 8, 9, false},
	    {FAKE_END, 0, true},
	    {FAKE_END, 1, false},
	    {FAKE_END + 1, 0, false},
	    {FAKE_GPA, 0, true},
	    {FAKE_GPA - 1, 2, false},
	    {FAKE_GPA - 1, 0, false},
	    {0, 0, false},
	    {FAKE_END - 1, 0xffffffff, false},
	    {UINT64_MAX, 1, false},
	    {UINT64_MAX - 7, 16, false},
	};

	for (unsigned i = 0; i < sizeof(b) / sizeof(b[0]); i++) {
		struct fake f;

		CHECK(fake_init(&f, 8, false) == 0);
		desc(&f, 0, b[i].addr, b[i].len, 0, 0);
		offer(&f, 0);
		if (b[i].ok) {
			POPS(&f);
			CHECK(chain.e[0].ptr == f.mem + (b[i].addr - FAKE_GPA));
			CHECK(chain.e[0].len == b[i].len && chain.out_bytes == b[i].len);
		} else {
			BROKEN(&f);
		}
		fake_free(&f);
	}
	return 0;
}

/* RAM that ends at 2^64: the last byte is reachable, nothing wraps. */
static int test_top_of_address_space(void)
{
	const uint64_t base = 0 - FAKE_LEN;
	struct fake f;

	CHECK(fake_init_at(&f, base, 8, false) == 0);
	desc(&f, 0, UINT64_MAX - 15, 16, N, 1);
	desc(&f, 1, UINT64_MAX, 1, W, 0);
	offer(&f, 0);
	POPS(&f);
	CHECK(chain.n == 2 && chain.e[1].ptr == f.mem + FAKE_LEN - 1);
	desc(&f, 0, UINT64_MAX - 15, 17, 0, 0);
	offer(&f, 0);
	BROKEN(&f);
	fake_free(&f);

	CHECK(fake_init_at(&f, base, 8, false) == 0);
	desc(&f, 0, UINT64_MAX, 0xffffffff, 0, 0);
	offer(&f, 0);
	BROKEN(&f);
	fake_free(&f);
	/* A table placed so that it would wrap past 2^64 is refused. */
	CHECK(fake_init_at(&f, base, 8, false) == 0);
	desc(&f, 0, UINT64_MAX - 15, 32, IN, 0);
	offer(&f, 0);
	BROKEN(&f);
	return 0;
}

/* moat's real layout around the PCI hole, in small: low RAM ends at the
 * hole, high RAM starts at 4 GiB, both backed by one buffer. */
static int test_pci_hole(void)
{
	const uint64_t low = 0xc0000000 - FAKE_LEN / 2, high = 0x100000000;
	const struct {
		uint64_t addr;
		uint32_t len;
		bool ok;
	} b[] = {
	    {0xc0000000 - 8, 8, true},
	    {0xc0000000 - 8, 16, false},
	    {0xc0000000, 1, false},
	    {0xfec00000, 4, false},
	    {high - 8, 16, false},
	    {high, 16, true},
	    {high + FAKE_LEN / 2 - 4, 8, false},
	    {high + FAKE_LEN / 2 - 4, 4, true},
	};

	for (unsigned i = 0; i < sizeof(b) / sizeof(b[0]); i++) {
		struct fake f;

		CHECK(fake_init_at(&f, low, 8, false) == 0);
		f.g.n = 2;
		f.g.r[0].size = FAKE_LEN / 2;
		f.g.r[1] =
		    (struct mach_ram_region){.gpa = high, .size = FAKE_LEN / 2, .off = FAKE_LEN / 2};
		desc(&f, 0, b[i].addr, b[i].len, 0, 0);
		offer(&f, 0);
		if (!b[i].ok) {
			BROKEN(&f);
			fake_free(&f);
			continue;
		}
		POPS(&f);
		if (b[i].addr >= high)
			CHECK(chain.e[0].ptr == f.mem + FAKE_LEN / 2 + (b[i].addr - high));
		else
			CHECK(chain.e[0].ptr == f.mem + (b[i].addr - low));
		fake_free(&f);
	}
	return 0;
}

/* VQ_MAX_CHAIN buffers, direct or through an indirect table, and no more. */
static int test_chain_length_limit(void)
{
	uint64_t t = FAKE_GPA + IND_OFF;
	struct fake f;

	for (unsigned len = 256; len <= 257; len++) {
		CHECK(fake_init(&f, 1024, false) == 0);
		for (unsigned i = 0; i < len; i++)
			desc(&f, i, data(&f, i), 1, i + 1 < len ? N : 0, i + 1);
		offer(&f, 0);
		if (len == 256) {
			POPS(&f);
			CHECK(chain.n == 256 && chain.out_bytes == 256);
		} else {
			BROKEN(&f);
		}
		fake_free(&f);
	}
	/* one direct buffer, then a full 256-entry table: 257 */
	CHECK(fake_init(&f, 8, false) == 0);
	for (unsigned i = 0; i < 256; i++)
		desc_at(&f, t, i, data(&f, i), 1, i < 255 ? N : 0, i + 1);
	desc(&f, 0, data(&f, 0), 1, N, 1);
	desc(&f, 1, t, 256 * 16, IN, 0);
	offer(&f, 1);
	POPS(&f);
	CHECK(chain.n == 256);
	offer(&f, 0);
	BROKEN(&f);
	return 0;
}

/* A chain may carry 2^32 bytes, not one more (the spec's limit). The region
 * claims more RAM than the buffer holds: nothing here touches the data,
 * only the rings, which lie in the real buffer. */
static int test_total_bytes(void)
{
	for (uint32_t second = 1; second <= 2; second++) {
		struct fake f;

		CHECK(fake_init(&f, 8, false) == 0);
		gmem_fake(&f.g, f.mem, FAKE_GPA, 1ull << 40);
		desc(&f, 0, data(&f, 0), 0xffffffff, N, 1);
		desc(&f, 1, data(&f, 0), second, W, 0);
		offer(&f, 0);
		if (second == 1) {
			POPS(&f);
			CHECK(chain.out_bytes == 0xffffffff && chain.in_bytes == 1);
		} else {
			BROKEN(&f);
		}
		fake_free(&f);
	}
	return 0;
}

static int test_init_sizes(void)
{
	const uint16_t bad[] = {0, 3, 6, 1000, 1023, 2048, 32768, 0xffff};
	const uint16_t good[] = {1, 2, 256, 1024};
	struct fake f;

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(fake_init(&f, bad[i], false) == -EINVAL);
		fake_free(&f);
	}
	for (unsigned i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		CHECK(fake_init(&f, good[i], true) == 0);
		fake_free(&f);
	}
	return 0;
}

static int test_init_placement(void)
{
	const uint16_t s = 64;
	const uint64_t d = FAKE_GPA, a = FAKE_GPA + 0x4000, u = FAKE_GPA + 0x5000;
	const uint64_t u_last = FAKE_END - (6 + 8 * s), a_last = FAKE_END - (6 + 2 * s);
	const struct {
		uint64_t d, a, u;
		int r;
	} c[] = {
	    {d, a, u, 0},
	    {d + 8, a, u, -EINVAL},	  /* desc 16-aligned */
	    {d, a + 1, u, -EINVAL},	  /* avail 2-aligned */
	    {d, a, u + 2, -EINVAL},	  /* used 4-aligned */
	    {d - 16, a, u, -EINVAL},	  /* below RAM */
	    {FAKE_END - 16 * s, a, u, 0}, /* desc ends at the end */
	    {FAKE_END - 16 * s + 16, a, u, -EINVAL},
	    {d, a_last, u, 0},
	    {d, a_last + 2, u, -EINVAL}, /* used_event past the end */
	    {d, a, u_last & ~3ull, 0},
	    {d, a, (u_last + 4) & ~3ull, -EINVAL}, /* avail_event past the end */
	    {0xc0000000, a, u, -EINVAL},
	    {d, UINT64_MAX - 1, u, -EINVAL},
	    {d, a, UINT64_MAX - 3, -EINVAL},
	};
	struct gmem g;
	struct virtqueue vq;
	uint8_t *mem = aligned_alloc(4096, FAKE_LEN);

	CHECK(mem);
	gmem_fake(&g, mem, FAKE_GPA, FAKE_LEN);
	for (unsigned i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		memset(&vq, 0xa5, sizeof(vq));
		CHECK(vq_init(&vq, &g, s, c[i].d, c[i].a, c[i].u, true) == c[i].r);
		if (c[i].r == 0)
			CHECK(vq.last_avail == 0 && vq.used_idx == 0 && !vq.broken);
		else
			CHECK(vq.size == 0xa5a5); /* untouched on failure */
	}
	/* a fake gmem over a misaligned buffer cannot give aligned rings */
	gmem_fake(&g, mem + 2, FAKE_GPA, FAKE_LEN - 2);
	CHECK(vq_init(&vq, &g, s, d, a, u, false) == -EINVAL);
	gmem_fake(&g, mem + 8, FAKE_GPA, FAKE_LEN - 8);
	CHECK(vq_init(&vq, &g, s, d, a, u, false) == -EINVAL);
	/* and the guest's alignment is checked on its own addresses, even
	 * where the host pointer happens to be aligned */
	gmem_fake(&g, mem, FAKE_GPA + 8, FAKE_LEN);
	CHECK(vq_init(&vq, &g, s, FAKE_GPA + 8, a + 8, u + 8, false) == -EINVAL);
	free(mem);
	return 0;
}

/* A queue nobody initialised, and a caller pushing a head of its own
 * invention: errors, not a broken queue. */
static int test_misuse(void)
{
	struct virtqueue vq = {0};
	struct fake f;

	CHECK(vq_pop(&vq, &chain) == -EINVAL);
	CHECK(vq_push(&vq, 0, 0) == -EINVAL);
	CHECK(!vq_has_avail(&vq) && !vq_should_notify(&vq));
	vq_enable_notify(&vq);
	vq_disable_notify(&vq);
	CHECK(fake_init(&f, 8, false) == 0);
	CHECK(vq_push(&f.vq, 8, 0) == -EINVAL && !f.vq.broken);
	CHECK(used_idx(&f) == 0);
	return 0;
}

/* The guest rewrites descriptors and the avail ring while we pop: whatever
 * we get must lie in RAM. The scribbler writes plausible values (addresses
 * near the data area, small lengths and indices, rarely INDIRECT) so that
 * some chains pass and some break; it stores with __atomic so that the only
 * races are the ones under test. How the two interleave is up to the
 * scheduler (and a loaded machine), so only the invariants are checked,
 * never the counts; the device stops after enough chains or enough pops. */
struct scribble {
	uint8_t *mem;
	int stop;
};

static void st(uint8_t *p, uint64_t v, unsigned bytes)
{
	switch (bytes) {
	case 8:
		__atomic_store_n((uint64_t *)p, v, __ATOMIC_RELAXED);
		break;
	case 4:
		__atomic_store_n((uint32_t *)p, (uint32_t)v, __ATOMIC_RELAXED);
		break;
	default:
		__atomic_store_n((uint16_t *)p, (uint16_t)v, __ATOMIC_RELEASE);
		break;
	}
}

static void *scribbler(void *arg)
{
	struct scribble *s = arg;
	uint8_t *d = s->mem + DESC_OFF, *a = s->mem + AVAIL_OFF;
	uint64_t x = 88172645463325252ull;

	while (!__atomic_load_n(&s->stop, __ATOMIC_RELAXED)) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		unsigned i = x % 16, v = (x >> 8) & 0xffff;

		switch ((x >> 40) % 6) {
		case 0:
			st(d + 16 * i, FAKE_GPA + DATA_OFF + (x >> 24) % 0x40000 - 0x100, 8);
			break;
		case 1:
			st(d + 16 * i + 8, v % 5 ? v % 64 : v * 16, 4);
			break;
		case 2:
			st(d + 16 * i + 12, v % 8 ? (v & 1) | (v % 3 ? 0 : 2) : v & 7, 2);
			break;
		case 3:
			st(d + 16 * i + 14, v % 17, 2);
			break;
		case 4:
			st(a + 4 + 2 * i, v % 17, 2);
			break;
		default:
			st(a + 2, get16(a + 2) + (v % 5 == 0), 2);
			break;
		}
	}
	return NULL;
}

/* After a break the device would be reset; here the queue is simply
 * restarted where the driver's index stands. */
static int restart(struct fake *f)
{
	uint16_t idx = __atomic_load_n((uint16_t *)(f->mem + AVAIL_OFF + 2), __ATOMIC_ACQUIRE);

	if (vq_init(&f->vq, &f->g, 16, FAKE_GPA + DESC_OFF, FAKE_GPA + AVAIL_OFF,
		    FAKE_GPA + USED_OFF, true) < 0)
		return -1;
	f->vq.last_avail = f->vq.used_idx = idx;
	return 0;
}

static int test_concurrent_scribble(void)
{
	struct scribble s;
	pthread_t th;
	struct fake f;
	unsigned long pops = 0, breaks = 0;

	CHECK(fake_init(&f, 16, true) == 0);
	s = (struct scribble){.mem = f.mem};
	CHECK(pthread_create(&th, NULL, scribbler, &s) == 0);
	for (unsigned long n = 0; n < 30000000 && pops + breaks < 30000; n++) {
		int r = vq_pop(&f.vq, &chain);

		if (r < 0) {
			breaks++;
			CHECK(restart(&f) == 0);
			continue;
		}
		if (r == 0)
			continue;
		pops++;
		for (unsigned i = 0; i < chain.n; i++) {
			const uint8_t *p = chain.e[i].ptr;

			CHECK(p >= f.mem && p + chain.e[i].len <= f.mem + FAKE_LEN);
			CHECK(p == f.mem + (chain.e[i].gpa - FAKE_GPA));
		}
		CHECK(vq_push(&f.vq, chain.head, 0) == 0);
	}
	__atomic_store_n(&s.stop, 1, __ATOMIC_RELAXED);
	pthread_join(th, NULL);
	printf("# %lu chains, %lu breaks\n", pops, breaks);
	return 0;
}

TAP_MAIN(TEST(test_loop_two), TEST(test_self_loop), TEST(test_whole_table_chain),
	 TEST(test_next_out_of_range), TEST(test_head_out_of_range), TEST(test_table_at_end_of_ram),
	 TEST(test_avail_idx_jump), TEST(test_indirect_misaligned_ok), TEST(test_indirect_bad_len),
	 TEST(test_indirect_outside_ram), TEST(test_indirect_nested), TEST(test_indirect_with_next),
	 TEST(test_indirect_loops), TEST(test_write_then_read), TEST(test_buffer_bounds),
	 TEST(test_top_of_address_space), TEST(test_pci_hole), TEST(test_chain_length_limit),
	 TEST(test_total_bytes), TEST(test_init_sizes), TEST(test_init_placement),
	 TEST(test_misuse), TEST(test_concurrent_scribble))
