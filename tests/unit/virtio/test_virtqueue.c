/* Unit tests for devproc/virtio/virtqueue.c with a well-behaved driver:
 * chains direct and indirect, index wrap-around past 65536, the used ring
 * contents, notification suppression in both modes (event idx checked
 * against a reference computed straight from the spec's wording), and the
 * chain copy helpers. The hostile cases are in test_vq_hostile.c. */
#include <errno.h>
#include <stdint.h>

#include "tap.h"
#include "vq_fake.h"

#define N VIRTQ_DESC_F_NEXT
#define W VIRTQ_DESC_F_WRITE

static struct vq_chain chain;

static uint32_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return (uint32_t)(*s >> 11);
}

static int test_simple_chain(void)
{
	uint8_t out[112], in[1] = {0x5a}, back[112];
	struct fake f;

	CHECK(fake_init(&f, 8, false) == 0);
	for (unsigned i = 0; i < sizeof(out); i++)
		out[i] = (uint8_t)(i * 7 + 1);
	memcpy(host(&f, data(&f, 0)), out, 12);
	memcpy(host(&f, data(&f, 0x100)), out + 12, 100);
	desc(&f, 4, data(&f, 0), 12, N, 1);
	desc(&f, 1, data(&f, 0x100), 100, N, 7);
	desc(&f, 7, data(&f, 0x200), 1, W, 0);
	CHECK(!vq_has_avail(&f.vq));
	CHECK(vq_pop(&f.vq, &chain) == 0);
	offer(&f, 4);
	CHECK(vq_has_avail(&f.vq));
	CHECK(vq_pop(&f.vq, &chain) == 1);
	CHECK(chain.head == 4 && chain.n == 3 && chain.n_out == 2);
	CHECK(chain.out_bytes == 112 && chain.in_bytes == 1);
	CHECK(chain.e[0].gpa == data(&f, 0) && chain.e[0].ptr == host(&f, data(&f, 0)));
	CHECK(chain.e[1].len == 100 && !chain.e[1].writable && chain.e[2].writable);
	CHECK(vq_chain_read(&chain, 0, back, sizeof(back)) == 112);
	CHECK(memcmp(back, out, 112) == 0);
	CHECK(vq_chain_write(&chain, 0, in, 1) == 1);
	CHECK(*host(&f, data(&f, 0x200)) == 0x5a);
	CHECK(vq_pop(&f.vq, &chain) == 0 && !vq_has_avail(&f.vq));
	CHECK(vq_push(&f.vq, 4, 1) == 0);
	CHECK(used_idx(&f) == 1 && used_id(&f, 0) == 4 && used_len(&f, 0) == 1);
	CHECK(f.vq.last_avail == 1 && f.vq.used_idx == 1 && !f.vq.broken);
	return 0;
}

/* Zero-length buffers are kept (inside RAM, like any other). */
static int test_zero_length(void)
{
	struct fake f;

	CHECK(fake_init(&f, 2, false) == 0);
	desc(&f, 1, data(&f, 0), 0, N, 0);
	desc(&f, 0, data(&f, 8), 0, W, 0);
	offer(&f, 1);
	CHECK(vq_pop(&f.vq, &chain) == 1);
	CHECK(chain.n == 2 && chain.n_out == 1 && chain.out_bytes == 0 && chain.in_bytes == 0);
	CHECK(chain.e[0].len == 0 && chain.e[0].ptr == host(&f, data(&f, 0)));
	return 0;
}

/* Two direct buffers, then an indirect table (with WRITE set on the
 * pointer, which the device must ignore) whose chain runs 0 -> 2 -> 1 -> 3. */
static int test_indirect_chain(void)
{
	const uint64_t t = FAKE_GPA + IND_OFF;
	struct fake f;

	CHECK(fake_init(&f, 16, false) == 0);
	desc_at(&f, t, 0, data(&f, 0x10), 0x10, N, 2);
	desc_at(&f, t, 2, data(&f, 0x20), 0x20, N, 1);
	desc_at(&f, t, 1, data(&f, 0x40), 0x40, W | N, 3);
	desc_at(&f, t, 3, data(&f, 0x80), 0x80, W, 0);
	desc(&f, 9, data(&f, 0), 4, N, 12);
	desc(&f, 12, data(&f, 4), 4, N, 5);
	desc(&f, 5, t, 4 * 16, VIRTQ_DESC_F_INDIRECT | W, 0);
	offer(&f, 9);
	CHECK(vq_pop(&f.vq, &chain) == 1);
	CHECK(chain.head == 9 && chain.n == 6 && chain.n_out == 4);
	CHECK(chain.out_bytes == 4 + 4 + 0x10 + 0x20 && chain.in_bytes == 0x40 + 0x80);
	const uint64_t gpa[] = {data(&f, 0),	data(&f, 4),	data(&f, 0x10),
				data(&f, 0x20), data(&f, 0x40), data(&f, 0x80)};
	for (unsigned i = 0; i < 6; i++) {
		CHECK(chain.e[i].gpa == gpa[i] && chain.e[i].ptr == host(&f, gpa[i]));
		CHECK(chain.e[i].writable == (i >= 4));
	}
	CHECK(vq_push(&f.vq, 9, 0xc0) == 0);
	CHECK(used_id(&f, 0) == 9 && used_len(&f, 0) == 0xc0);
	return 0;
}

/* What Linux sends with VIRTIO_F_INDIRECT_DESC: one head, one table. */
static int test_indirect_only(void)
{
	const uint64_t t = FAKE_GPA + IND_OFF;
	struct fake f;

	CHECK(fake_init(&f, 4, true) == 0);
	desc_at(&f, t, 0, data(&f, 0), 16, N, 1);
	desc_at(&f, t, 1, data(&f, 16), 512, N, 2);
	desc_at(&f, t, 2, data(&f, 1024), 1, W, 0);
	desc(&f, 3, t, 3 * 16, VIRTQ_DESC_F_INDIRECT, 0);
	offer(&f, 3);
	CHECK(vq_pop(&f.vq, &chain) == 1);
	CHECK(chain.head == 3 && chain.n == 3 && chain.n_out == 2 && chain.in_bytes == 1);
	return 0;
}

/* Batches of 1..size chains, popped in order and pushed back in a shuffled
 * order, until both 16-bit indices have wrapped (more than 65536 chains). */
static int run_wrap(uint16_t size, unsigned total)
{
	uint16_t heads[1024];
	uint64_t s = 0x9e3779b97f4a7c15ull;
	unsigned done = 0;
	struct fake f;

	CHECK(fake_init(&f, size, false) == 0);
	for (unsigned i = 0; i < size; i++)
		desc(&f, i, data(&f, 16 * i), 16, W, 0);
	while (done < total) {
		unsigned k = 1 + rnd(&s) % size;
		uint16_t first = f.vq.used_idx;

		for (unsigned i = 0; i < k; i++)
			offer(&f, (uint16_t)((done + i) % size));
		for (unsigned i = 0; i < k; i++) {
			CHECK(vq_pop(&f.vq, &chain) == 1);
			CHECK(chain.head == (done + i) % size && chain.n == 1);
			heads[i] = chain.head;
		}
		CHECK(vq_pop(&f.vq, &chain) == 0);
		for (unsigned i = k; i-- > 1;) {
			unsigned j = rnd(&s) % (i + 1);
			uint16_t t = heads[i];

			heads[i] = heads[j];
			heads[j] = t;
		}
		for (unsigned i = 0; i < k; i++)
			CHECK(vq_push(&f.vq, heads[i], heads[i] + 1u) == 0);
		for (unsigned i = 0; i < k; i++) {
			uint16_t u = (uint16_t)(first + i);

			CHECK(used_id(&f, u) == heads[i] && used_len(&f, u) == heads[i] + 1u);
		}
		done += k;
		CHECK(used_idx(&f) == (uint16_t)done && f.vq.last_avail == (uint16_t)done);
	}
	CHECK(done > 65536);
	fake_free(&f);
	return 0;
}

static int test_wraparound(void)
{
	CHECK(run_wrap(4, 70000) == 0);
	CHECK(run_wrap(1, 66000) == 0);
	CHECK(run_wrap(1024, 140000) == 0);
	return 0;
}

/* The spec's rule ("Used Buffer Notification Suppression"), literally: after writing entries at
 * used indices old .. new-1, notify iff one of them was used_event. */
static bool reference_notify(uint16_t old, uint16_t new_idx, uint16_t used_event)
{
	for (uint16_t j = old; j != new_idx; j++)
		if (j == used_event)
			return true;
	return false;
}

static int test_event_idx_reference(void)
{
	uint64_t s = 42;
	uint16_t signalled = 0;
	unsigned notifies = 0, steps, pushed = 0;
	struct fake f;

	CHECK(fake_init(&f, 64, true) == 0);
	desc(&f, 0, data(&f, 0), 16, W, 0);
	/* The spec's example: used_event 0 means "after the first buffer". */
	offer(&f, 0);
	CHECK(vq_pop(&f.vq, &chain) == 1 && vq_push(&f.vq, 0, 0) == 0);
	CHECK(vq_should_notify(&f.vq));
	offer(&f, 0);
	CHECK(vq_pop(&f.vq, &chain) == 1 && vq_push(&f.vq, 0, 0) == 0);
	CHECK(!vq_should_notify(&f.vq));
	signalled = 2;
	set_avail_flags(&f, VIRTQ_AVAIL_F_NO_INTERRUPT); /* ignored with event idx */
	for (steps = 0; steps < 200000; steps++) {
		unsigned k = rnd(&s) % 6;
		uint32_t r = rnd(&s);
		uint16_t ev =
		    r & 1 ? (uint16_t)(f.vq.used_idx + (r >> 8) % 16 - 8) : (uint16_t)(r >> 8);
		bool want;

		for (unsigned i = 0; i < k; i++) {
			offer(&f, 0);
			CHECK(vq_pop(&f.vq, &chain) == 1 && vq_push(&f.vq, 0, 0) == 0);
		}
		pushed += k;
		set_used_event(&f, ev);
		want = reference_notify(signalled, f.vq.used_idx, ev);
		CHECK(vq_should_notify(&f.vq) == want);
		signalled = f.vq.used_idx;
		notifies += want;
	}
	CHECK(pushed > 65536);
	printf("# %u of %u checks notified\n", notifies, steps);
	CHECK(notifies > 1000 && notifies < steps);
	return 0;
}

/* Push one chain and ask whether to notify. */
static bool push_one(struct fake *f)
{
	offer(f, 0);
	if (vq_pop(&f->vq, &chain) != 1 || vq_push(&f->vq, 0, 0) != 0)
		abort();
	return vq_should_notify(&f->vq);
}

/* A fresh queue knows exactly what it signalled (nothing, at index 0);
 * one restored mid-stream (signalled_valid false) notifies once to be
 * safe, then is exact again. */
static int test_event_idx_start(void)
{
	struct fake f;

	CHECK(fake_init(&f, 8, true) == 0);
	desc(&f, 0, data(&f, 0), 16, W, 0);
	set_used_event(&f, 3);
	CHECK(!push_one(&f) && !push_one(&f) && !push_one(&f));
	CHECK(push_one(&f));
	CHECK(!push_one(&f));
	f.vq.signalled_valid = false;
	CHECK(push_one(&f));
	CHECK(!push_one(&f));
	return 0;
}

static int test_no_interrupt_flag(void)
{
	struct fake f;

	CHECK(fake_init(&f, 8, false) == 0);
	desc(&f, 0, data(&f, 0), 16, W, 0);
	for (unsigned i = 0; i < 4; i++) {
		set_avail_flags(&f, i & 1 ? VIRTQ_AVAIL_F_NO_INTERRUPT : 0);
		set_used_event(&f, 0xffff); /* no meaning without event idx */
		offer(&f, 0);
		CHECK(vq_pop(&f.vq, &chain) == 1 && vq_push(&f.vq, 0, 0) == 0);
		CHECK(vq_should_notify(&f.vq) == !(i & 1));
	}
	return 0;
}

/* enable/disable in both modes, and the drain loop documented in
 * virtqueue.h: it must end with the queue empty and kicks enabled. */
static int test_notify_enable(void)
{
	struct fake f;
	int r;

	CHECK(fake_init(&f, 8, false) == 0);
	vq_disable_notify(&f.vq);
	CHECK(used_flags(&f) == VIRTQ_USED_F_NO_NOTIFY);
	vq_enable_notify(&f.vq);
	CHECK(used_flags(&f) == 0);
	fake_free(&f);

	CHECK(fake_init(&f, 8, true) == 0);
	desc(&f, 0, data(&f, 0), 16, 0, 0);
	for (unsigned i = 0; i < 3; i++)
		offer(&f, 0);
	vq_disable_notify(&f.vq);
	CHECK(used_flags(&f) == 0 && avail_event(&f) == 0);
	for (unsigned round = 0; round < 3; round++) {
		for (;;) {
			while ((r = vq_pop(&f.vq, &chain)) == 1)
				CHECK(vq_push(&f.vq, chain.head, 0) == 0);
			CHECK(r == 0);
			vq_enable_notify(&f.vq);
			if (!vq_has_avail(&f.vq))
				break;
		}
		CHECK(avail_event(&f) == f.vq.last_avail && f.vq.last_avail == 3 + 2 * round);
		/* the driver adds two: the first one's index equals avail_event,
		 * so the driver kicks for it ("Available Buffer
		 * Notification Suppression") */
		CHECK(f.avail_idx == avail_event(&f));
		offer(&f, 0);
		offer(&f, 0);
		CHECK(vq_has_avail(&f.vq));
	}
	CHECK(used_flags(&f) == 0);
	return 0;
}

/* The copy helpers treat the readable and the writable buffers each as one
 * stream; offsets cross buffer ends; short parts give short counts. */
static int test_chain_copy(void)
{
	uint8_t buf[64], pat[64];
	struct fake f;

	CHECK(fake_init(&f, 8, false) == 0);
	for (unsigned i = 0; i < 64; i++)
		pat[i] = (uint8_t)(0x30 + i);
	memcpy(host(&f, data(&f, 0)), pat, 5);
	memcpy(host(&f, data(&f, 100)), pat + 5, 7);
	desc(&f, 0, data(&f, 0), 5, N, 1);
	desc(&f, 1, data(&f, 100), 7, N, 2);
	desc(&f, 2, data(&f, 200), 3, W | N, 3);
	desc(&f, 3, data(&f, 300), 0, W | N, 4);
	desc(&f, 4, data(&f, 400), 6, W, 0);
	offer(&f, 0);
	CHECK(vq_pop(&f.vq, &chain) == 1);
	CHECK(vq_chain_read(&chain, 3, buf, 64) == 9 && memcmp(buf, pat + 3, 9) == 0);
	CHECK(vq_chain_read(&chain, 5, buf, 2) == 2 && memcmp(buf, pat + 5, 2) == 0);
	CHECK(vq_chain_read(&chain, 12, buf, 1) == 0);
	CHECK(vq_chain_read(&chain, UINT64_MAX, buf, 1) == 0);
	CHECK(vq_chain_write(&chain, 1, pat, 64) == 8);
	CHECK(memcmp(host(&f, data(&f, 201)), pat, 2) == 0);
	CHECK(memcmp(host(&f, data(&f, 400)), pat + 2, 6) == 0);
	CHECK(*host(&f, data(&f, 200)) == 0 && *host(&f, data(&f, 406)) == 0);
	CHECK(vq_chain_write(&chain, 9, pat, 64) == 0);
	return 0;
}

TAP_MAIN(TEST(test_simple_chain), TEST(test_zero_length), TEST(test_indirect_chain),
	 TEST(test_indirect_only), TEST(test_wraparound), TEST(test_event_idx_reference),
	 TEST(test_event_idx_start), TEST(test_no_interrupt_flag), TEST(test_notify_enable),
	 TEST(test_chain_copy))
