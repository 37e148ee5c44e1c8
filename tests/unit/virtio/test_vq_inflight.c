/* Unit tests for a queue's in-flight record (issue 15, decision 0024):
 * devproc/virtio/vq_inflight.c (vq_track, vq_resume) and virtqueue.c (the
 * marks in vq_pop and vq_push, vq_pop_head), over a fake guest RAM
 * (vq_fake.h). The record is hostile input to the successor: a tampered
 * one must be refused, and neither believed nor written. Restart at the
 * transport and device-core level: test_vrestart.c.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "vq_fake.h"

static struct vq_chain chain;
static struct vq_inflight rec;

/* Chains of one writable buffer each at heads h[0..n), made available in
 * that order. */
static void offer_heads(struct fake *f, const uint16_t *h, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		desc(f, h[i], data(f, 64u * h[i]), 64, VIRTQ_DESC_F_WRITE, 0);
		offer(f, h[i]);
	}
}

/* Pop n chains and expect heads h[0..n) in that order. */
static int pop_heads(struct fake *f, struct virtqueue *vq, const uint16_t *h, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (vq_pop(vq, &chain) != 1 || chain.head != h[i])
			return 1;
	return 0;
}

/* A successor's queue on the same rings, taken back from r. */
static int resume(struct fake *f, struct virtqueue *vq, struct vq_inflight *r,
		  enum vq_resume_mode mode, uint16_t *heads, unsigned *n)
{
	if (vq_init(vq, &f->g, f->size, f->gpa + DESC_OFF, f->gpa + AVAIL_OFF, f->gpa + USED_OFF,
		    false) != 0)
		return -100;
	return vq_resume(vq, r, mode, heads, n);
}

/* The guest's used ring as a push leaves it: element i, then idx. */
static void guest_used(struct fake *f, uint16_t i, uint32_t id, uint16_t idx)
{
	uint8_t *u = host(f, f->gpa + USED_OFF);

	put32(u + 4 + 8 * (i % f->size), id);
	put32(u + 8 + 8 * (i % f->size), 64);
	put16(u + 2, idx);
}

static const uint16_t popped[3] = {6, 1, 3};

/* Queue of 8, tracked: 6, 1 and 3 popped (counters 1, 2, 3). */
static int three_popped(struct fake *f)
{
	if (fake_init(f, 8, false) != 0)
		return 1;
	memset(&rec, 0xa5, sizeof(rec)); /* vq_track resets whatever was there */
	vq_track(&f->vq, &rec);
	offer_heads(f, popped, 3);
	return pop_heads(f, &f->vq, popped, 3);
}

static int test_track_resets(void)
{
	struct fake f;

	CHECK(fake_init(&f, 8, false) == 0);
	memset(&rec, 0xff, sizeof(rec));
	vq_track(&f.vq, &rec);
	CHECK(f.vq.inflight == &rec);
	CHECK(rec.size == 8 && rec.next == 1 && rec.used_idx == 0 && rec.last_head == 0);
	for (unsigned h = 0; h < VQ_MAX_SIZE; h++)
		CHECK(rec.desc[h] == 0);
	fake_free(&f);
	return 0;
}

/* pop marks, push clears, in the record's order. */
static int test_marks(void)
{
	struct fake f;

	CHECK(three_popped(&f) == 0);
	CHECK(rec.desc[6] == 1 && rec.desc[1] == 2 && rec.desc[3] == 3 && rec.next == 4);
	CHECK(vq_push(&f.vq, 1, 64) == 0);
	CHECK(rec.desc[1] == 0 && rec.used_idx == 1 && rec.last_head == 1);
	CHECK(rec.desc[6] == 1 && rec.desc[3] == 3 && rec.next == 4);
	fake_free(&f);
	return 0;
}

/* A chain that breaks the queue is not taken: nothing marked. */
static int test_broken_pop_not_marked(void)
{
	struct fake f;

	CHECK(fake_init(&f, 8, false) == 0);
	vq_track(&f.vq, &rec);
	desc(&f, 2, data(&f, 0), 16, VIRTQ_DESC_F_NEXT, 2);
	offer(&f, 2);
	CHECK(vq_pop(&f.vq, &chain) == -EBADMSG);
	CHECK(rec.next == 1 && rec.desc[2] == 0);
	fake_free(&f);
	return 0;
}

/* Pushed out of order: the successor takes the other two again, in the
 * order they were popped, and carries on from there. */
static int test_resume_out_of_order(void)
{
	struct fake f;
	struct virtqueue vq;
	uint16_t heads[VQ_MAX_SIZE];
	unsigned n = 99;

	CHECK(three_popped(&f) == 0);
	CHECK(vq_push(&f.vq, 1, 64) == 0);
	CHECK(resume(&f, &vq, &rec, VQ_RESUME_INFLIGHT, heads, &n) == 0);
	CHECK(n == 2 && heads[0] == 6 && heads[1] == 3);
	CHECK(vq.used_idx == 1 && vq.last_avail == 3 && vq.inflight == &rec);
	CHECK(rec.desc[6] == 1 && rec.desc[3] == 3); /* still in flight */
	/* taken again by head; nothing new until the driver offers more */
	CHECK(vq_pop_head(&vq, 6, &chain) == 1 && chain.head == 6 && chain.n == 1);
	CHECK(chain.e[0].gpa == data(&f, 64 * 6) && chain.e[0].writable);
	CHECK(vq_pop_head(&vq, 3, &chain) == 1 && chain.head == 3);
	CHECK(vq_pop(&vq, &chain) == 0);
	offer_heads(&f, (const uint16_t[]){1}, 1);
	CHECK(vq_pop(&vq, &chain) == 1 && chain.head == 1 && rec.desc[1] == 4);
	CHECK(vq_push(&vq, 3, 64) == 0 && vq_push(&vq, 6, 64) == 0 && vq_push(&vq, 1, 64) == 0);
	CHECK(used_idx(&f) == 4);
	CHECK(used_id(&f, 0) == 1 && used_id(&f, 1) == 3 && used_id(&f, 2) == 6 &&
	      used_id(&f, 3) == 1);
	/* all done: a third process takes nothing again */
	CHECK(resume(&f, &vq, &rec, VQ_RESUME_INFLIGHT, heads, &n) == 0);
	CHECK(n == 0 && vq.used_idx == 4 && vq.last_avail == 4);
	fake_free(&f);
	return 0;
}

/* Killed in vq_push after used->idx, before the record was cleared: the
 * guest has that request back, so it is not taken again. */
static int test_resume_cut_short_push(void)
{
	struct fake f;
	struct virtqueue vq;
	uint16_t heads[VQ_MAX_SIZE];
	unsigned n;

	CHECK(three_popped(&f) == 0);
	rec.last_head = 1; /* vq_inflight_pushing */
	guest_used(&f, 0, 1, 1);
	CHECK(rec.desc[1] == 2 && rec.used_idx == 0);
	CHECK(resume(&f, &vq, &rec, VQ_RESUME_INFLIGHT, heads, &n) == 0);
	CHECK(n == 2 && heads[0] == 6 && heads[1] == 3);
	CHECK(vq.used_idx == 1 && vq.last_avail == 3);
	/* the record is finished for it */
	CHECK(rec.desc[1] == 0 && rec.used_idx == 1);
	/* the next push goes after it */
	CHECK(vq_push(&vq, 3, 64) == 0 && used_idx(&f) == 2 && used_id(&f, 1) == 3);
	fake_free(&f);
	return 0;
}

/* Killed in vq_push before used->idx (the element written or not): the
 * request is taken again, and nothing is counted. */
static int test_resume_push_before_idx(void)
{
	struct fake f;
	struct virtqueue vq;
	uint16_t heads[VQ_MAX_SIZE];
	unsigned n;

	CHECK(three_popped(&f) == 0);
	rec.last_head = 1;
	guest_used(&f, 0, 1, 0);
	CHECK(resume(&f, &vq, &rec, VQ_RESUME_INFLIGHT, heads, &n) == 0);
	CHECK(n == 3 && heads[0] == 6 && heads[1] == 1 && heads[2] == 3);
	CHECK(vq.used_idx == 0 && vq.last_avail == 3);
	CHECK(rec.desc[1] == 2);
	fake_free(&f);
	return 0;
}

/* The guest's used ring says something no cut-short push leaves: the
 * record wins. */
static int test_resume_guest_used_forged(void)
{
	struct fake f;
	struct virtqueue vq;
	uint16_t heads[VQ_MAX_SIZE];
	unsigned n;

	CHECK(three_popped(&f) == 0);
	rec.last_head = 1;
	guest_used(&f, 0, 6, 1); /* not last_head */
	CHECK(resume(&f, &vq, &rec, VQ_RESUME_INFLIGHT, heads, &n) == 0);
	CHECK(n == 3 && vq.used_idx == 0 && vq.last_avail == 3);
	guest_used(&f, 0, 1, 2); /* two ahead */
	CHECK(resume(&f, &vq, &rec, VQ_RESUME_INFLIGHT, heads, &n) == 0);
	CHECK(n == 3 && vq.used_idx == 0 && vq.last_avail == 3);
	guest_used(&f, 0, 1, 0xffff); /* behind */
	CHECK(resume(&f, &vq, &rec, VQ_RESUME_INFLIGHT, heads, &n) == 0);
	CHECK(n == 3 && vq.used_idx == 0 && vq.last_avail == 3);
	/* one ahead naming a last_head not in flight reads as a push cut
	 * short after desc[] was cleared: believed, and it costs only the
	 * guest that forged it (an avail entry skipped); the three heads in
	 * flight are still taken again */
	rec.last_head = 2;
	guest_used(&f, 0, 2, 1);
	CHECK(resume(&f, &vq, &rec, VQ_RESUME_INFLIGHT, heads, &n) == 0);
	CHECK(n == 3 && vq.used_idx == 1 && vq.last_avail == 4);
	fake_free(&f);
	return 0;
}

/* The cut-short push where used->idx wraps from 0xffff to 0. */
static int test_resume_across_wrap(void)
{
	struct fake f;
	struct virtqueue vq;
	uint16_t heads[VQ_MAX_SIZE];
	unsigned n;

	CHECK(fake_init(&f, 8, false) == 0);
	vq_track(&f.vq, &rec);
	for (unsigned i = 0; i < 0xfffe; i++) {
		offer_heads(&f, (const uint16_t[]){0}, 1);
		CHECK(vq_pop(&f.vq, &chain) == 1);
		CHECK(vq_push(&f.vq, 0, 64) == 0);
	}
	CHECK(used_idx(&f) == 0xfffe && rec.used_idx == 0xfffe);
	offer_heads(&f, popped, 3);
	CHECK(pop_heads(&f, &f.vq, popped, 3) == 0);
	CHECK(vq_push(&f.vq, 1, 64) == 0 && used_idx(&f) == 0xffff);
	rec.last_head = 6;
	guest_used(&f, 0xffff, 6, 0);
	CHECK(resume(&f, &vq, &rec, VQ_RESUME_INFLIGHT, heads, &n) == 0);
	CHECK(n == 1 && heads[0] == 3);
	CHECK(vq.used_idx == 0 && vq.last_avail == 1);
	fake_free(&f);
	return 0;
}

/* A full queue, nothing pushed: all of it again, in pop order. */
static int test_resume_full_queue(void)
{
	static const uint16_t order[8] = {5, 2, 7, 0, 3, 6, 1, 4};
	struct fake f;
	struct virtqueue vq;
	uint16_t heads[VQ_MAX_SIZE];
	unsigned n;

	CHECK(fake_init(&f, 8, false) == 0);
	vq_track(&f.vq, &rec);
	offer_heads(&f, order, 8);
	CHECK(pop_heads(&f, &f.vq, order, 8) == 0);
	CHECK(resume(&f, &vq, &rec, VQ_RESUME_INFLIGHT, heads, &n) == 0);
	CHECK(n == 8 && memcmp(heads, order, sizeof(order)) == 0);
	CHECK(vq.used_idx == 0 && vq.last_avail == 8);
	CHECK(vq_pop(&vq, &chain) == 0);
	fake_free(&f);
	return 0;
}

/* Take back t (a tampered copy of rec): -EBADMSG, nothing returned, the
 * queue untouched. */
static int tampered(struct fake *f, struct vq_inflight *t)
{
	static struct vq_inflight keep;
	struct virtqueue vq;
	uint16_t heads[VQ_MAX_SIZE];
	unsigned n = 99;

	memcpy(&keep, t, sizeof(keep));
	if (resume(f, &vq, t, VQ_RESUME_INFLIGHT, heads, &n) != -EBADMSG || n != 0)
		return 1;
	if (vq.inflight || vq.last_avail || vq.used_idx)
		return 1;
	return memcmp(&keep, t, sizeof(keep)) != 0; /* not written either */
}

#define TAMPERED(stmt)                                                                             \
	do {                                                                                       \
		memcpy(&t, &rec, sizeof(t));                                                       \
		stmt;                                                                              \
		CHECK(tampered(&f, &t) == 0);                                                      \
	} while (0)

static int test_record_tampered(void)
{
	static struct vq_inflight t;
	struct fake f;
	struct virtqueue vq;
	uint16_t heads[VQ_MAX_SIZE];
	unsigned n = 99;

	CHECK(three_popped(&f) == 0);
	CHECK(vq_push(&f.vq, 1, 64) == 0);
	memcpy(&t, &rec, sizeof(t));
	CHECK(resume(&f, &vq, &t, VQ_RESUME_INFLIGHT, heads, &n) == 0 && n == 2); /* control */
	TAMPERED(t.size = 16);
	TAMPERED(t.size = 4);
	TAMPERED(t.size = 0);
	TAMPERED(t.next = 0);
	TAMPERED(t.next = 3);	      /* desc[3] == 3 */
	TAMPERED(t.desc[6] = t.next); /* a counter not yet given */
	TAMPERED(t.desc[3] = UINT64_MAX);
	TAMPERED(t.desc[8] = 1); /* a head beyond the queue */
	TAMPERED(t.desc[VQ_MAX_SIZE - 1] = 1);
	TAMPERED(t.desc[3] = t.desc[6]); /* two heads popped with one counter */
	TAMPERED(t.last_head = 8);
	TAMPERED(t.last_head = 0xffff);
	TAMPERED(memset(&t, 0, sizeof(t))); /* never tracked */
	CHECK(resume(&f, &vq, NULL, VQ_RESUME_INFLIGHT, heads, &n) == -EBADMSG && n == 0);
	fake_free(&f);
	return 0;
}

/* In order: last_avail and used_idx are the guest's used->idx; the record
 * is neither read nor written. */
static int test_resume_in_order(void)
{
	struct fake f;
	struct virtqueue vq;
	uint16_t heads[VQ_MAX_SIZE];
	unsigned n = 99;

	CHECK(three_popped(&f) == 0);
	guest_used(&f, 4, 6, 5);
	CHECK(resume(&f, &vq, NULL, VQ_RESUME_IN_ORDER, heads, &n) == 0);
	CHECK(n == 0 && vq.last_avail == 5 && vq.used_idx == 5 && !vq.inflight);
	memset(&rec, 0x5a, sizeof(rec));
	n = 99;
	CHECK(resume(&f, &vq, &rec, VQ_RESUME_IN_ORDER, heads, &n) == 0);
	CHECK(n == 0 && vq.last_avail == 5 && vq.used_idx == 5 && !vq.inflight);
	CHECK(rec.size == 0x5a5a && rec.desc[0] == 0x5a5a5a5a5a5a5a5aull);
	fake_free(&f);
	return 0;
}

static int test_pop_head(void)
{
	struct fake f;

	CHECK(fake_init(&f, 8, false) == 0);
	CHECK(vq_pop_head(&f.vq, 8, &chain) == -EINVAL);
	CHECK(vq_pop_head(&f.vq, 0xffff, &chain) == -EINVAL);
	CHECK(!f.vq.broken);
	desc(&f, 5, data(&f, 0), 16, 0, 0);
	CHECK(vq_pop_head(&f.vq, 5, &chain) == 1 && chain.head == 5 && chain.n == 1);
	CHECK(f.vq.last_avail == 0); /* not taken from the avail ring */
	/* a loop: broken, and it stays broken */
	desc(&f, 2, data(&f, 0), 16, VIRTQ_DESC_F_NEXT, 4);
	desc(&f, 4, data(&f, 16), 16, VIRTQ_DESC_F_NEXT, 2);
	CHECK(vq_pop_head(&f.vq, 2, &chain) == -EBADMSG && f.vq.broken);
	CHECK(vq_pop_head(&f.vq, 5, &chain) == -EBADMSG);
	CHECK(vq_pop(&f.vq, &chain) == -EBADMSG);
	fake_free(&f);
	return 0;
}

/* vq_push killed between vq_inflight_pushed()'s two stores: desc[head] is
 * already 0, record used_idx not yet updated, the guest's used->idx one
 * ahead with last_head's element. The guest has the request back, so the
 * successor must count it: used_idx 1, last_avail 3, 6 and 3 taken again. */
static int test_resume_killed_between_pushed_stores(void)
{
	struct fake f;
	struct virtqueue vq;
	uint16_t heads[VQ_MAX_SIZE];
	unsigned n;

	CHECK(three_popped(&f) == 0);
	rec.last_head = 1;
	guest_used(&f, 0, 1, 1);
	rec.desc[1] = 0; /* the first store of vq_inflight_pushed */
	CHECK(rec.used_idx == 0);
	CHECK(resume(&f, &vq, &rec, VQ_RESUME_INFLIGHT, heads, &n) == 0);
	CHECK(n == 2 && heads[0] == 6 && heads[1] == 3);
	CHECK(vq.used_idx == 1);
	CHECK(vq.last_avail == 3);
	fake_free(&f);
	return 0;
}

int main(void)
{
	static const struct test_case tests[] = {
	    TEST(test_track_resets),
	    TEST(test_marks),
	    TEST(test_broken_pop_not_marked),
	    TEST(test_resume_out_of_order),
	    TEST(test_resume_cut_short_push),
	    TEST(test_resume_push_before_idx),
	    TEST(test_resume_guest_used_forged),
	    TEST(test_resume_across_wrap),
	    TEST(test_resume_full_queue),
	    TEST(test_record_tampered),
	    TEST(test_resume_in_order),
	    TEST(test_pop_head),
	    TEST(test_resume_killed_between_pushed_stores),
	};
	return RUN_TESTS(tests);
}
