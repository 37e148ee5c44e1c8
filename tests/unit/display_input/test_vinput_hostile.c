/* The virtio-input keyboard and tablet (devproc/display/vinput.c) against
 * a hostile driver (vinput_fixture.h): every select and subsel, config
 * writes of every width anywhere, eventq chains too short, read-only,
 * empty, mixed or spread over buffers, statusq chains of the wrong kind,
 * a whole ring of bad chains, buffers outside RAM, and rings of random
 * garbage with events flowing. The device must never crash, count what
 * it refused, and work again for a driver that resets it. */
#include "vinput_fixture.h"

struct known {
	uint8_t select, subsel;
};

static const struct known kbd_known[] = {{VIRTIO_INPUT_CFG_ID_NAME, 0},
					 {VIRTIO_INPUT_CFG_ID_DEVIDS, 0},
					 {VIRTIO_INPUT_CFG_EV_BITS, EV_KEY},
					 {VIRTIO_INPUT_CFG_EV_BITS, EV_REP},
					 {VIRTIO_INPUT_CFG_EV_BITS, EV_LED}};
static const struct known tab_known[] = {
    {VIRTIO_INPUT_CFG_ID_NAME, 0},	{VIRTIO_INPUT_CFG_ID_DEVIDS, 0},
    {VIRTIO_INPUT_CFG_EV_BITS, EV_KEY}, {VIRTIO_INPUT_CFG_EV_BITS, EV_REL},
    {VIRTIO_INPUT_CFG_EV_BITS, EV_ABS}, {VIRTIO_INPUT_CFG_ABS_INFO, ABS_X},
    {VIRTIO_INPUT_CFG_ABS_INFO, ABS_Y}};

static bool is_known(const struct known *k, size_t n, unsigned sel, unsigned sub)
{
	for (size_t i = 0; i < n; i++)
		if (k[i].select == sel && k[i].subsel == sub)
			return true;
	return false;
}

/* The whole image, 8 bytes at a time. */
static void read_image(struct vfix *f, uint8_t *img)
{
	for (unsigned i = 0; i < sizeof(struct virtio_input_config); i += 8) {
		uint64_t v = drv_bar_read(&f->drv, f->drv.device + i, 8);
		for (unsigned b = 0; b < 8; b++)
			img[i + b] = (uint8_t)(v >> (8 * b));
	}
}

/* 256 x 256 select/subsel pairs: those we do not offer read size 0 and a
 * zero union; those we offer a size in 1..128 and zeros past it. */
static int every_select(enum vinput_kind kind, const struct known *k, size_t nk)
{
	struct vfix f;
	uint8_t img[sizeof(struct virtio_input_config)];
	unsigned offered = 0;

	CHECK(vi_setup(&f, kind) == 0);
	for (unsigned sel = 0; sel < 256; sel++) {
		for (unsigned sub = 0; sub < 256; sub++) {
			uint8_t size = vi_select(&f, (uint8_t)sel, (uint8_t)sub);
			read_image(&f, img);
			CHECK(img[0] == sel && img[1] == sub && img[2] == size);
			for (unsigned i = 3; i < 8; i++)
				CHECK(img[i] == 0);
			if (!is_known(k, nk, sel, sub)) {
				CHECK(size == 0);
			} else {
				CHECK(size >= 1 && size <= 128);
				offered++;
			}
			for (unsigned i = 8u + size; i < sizeof(img); i++)
				CHECK(img[i] == 0);
		}
	}
	CHECK(offered == nk);
	vi_teardown(&f);
	return 0;
}

static int test_every_select_keyboard(void)
{
	return every_select(VINPUT_KEYBOARD, kbd_known, sizeof(kbd_known) / sizeof(kbd_known[0]));
}

static int test_every_select_tablet(void)
{
	return every_select(VINPUT_TABLET, tab_known, sizeof(tab_known) / sizeof(tab_known[0]));
}

/* select and subsel from writes of any width that cover them; writes to
 * the rest of the image change nothing. */
static int test_config_writes(void)
{
	struct vfix f;
	uint8_t before[sizeof(struct virtio_input_config)], after[sizeof(before)];
	struct drv *d = &f.drv;

	CHECK(vi_setup(&f, VINPUT_TABLET) == 0);
	drv_bar_write(d, d->device, 2, VIRTIO_INPUT_CFG_ABS_INFO | ABS_Y << 8);
	CHECK(vi_cfg8(&f, 2) == 20 && vi_cfg8(&f, 1) == ABS_Y);
	drv_bar_write(d, d->device, 4, 0xffffff00 | VIRTIO_INPUT_CFG_ID_NAME);
	CHECK(vi_cfg8(&f, 0) == VIRTIO_INPUT_CFG_ID_NAME && vi_cfg8(&f, 1) == 0xff);
	CHECK(vi_cfg8(&f, 2) == 0); /* subsel 0xff: nothing */
	drv_bar_write(d, d->device, 8, 0xffffffffffff0001ull);
	CHECK(vi_cfg8(&f, 2) == strlen("moat virtio tablet"));
	read_image(&f, before);
	for (unsigned size = 1; size <= 8; size *= 2)
		for (unsigned off = 2; off + size <= sizeof(before); off += size)
			drv_bar_write(d, d->device + off, size, 0x5a5a5a5a5a5a5a5aull);
	/* unaligned and past the end: the transport drops them */
	drv_bar_write(d, d->device + 1, 2, 0x1111);
	drv_bar_write(d, d->device + 134, 4, 0x22222222);
	drv_bar_write(d, d->device + 136, 1, 0x33);
	read_image(&f, after);
	CHECK(memcmp(before, after, sizeof(before)) == 0);
	CHECK(drv_bar_read(d, d->device + 136, 1) == 0);
	vi_teardown(&f);
	return 0;
}

/* Chains the eventq must refuse (counted, handed back empty) and odd
 * ones it must take; the refused ones cost no event. */
static int test_bad_chains(void)
{
	struct vfix f;
	uint32_t id, len;
	uint64_t b[8];

	CHECK(vi_setup(&f, VINPUT_KEYBOARD) == 0);
	for (unsigned i = 0; i < 8; i++) {
		b[i] = alloc(&f, 64);
		memset(ram_ptr(&f.ram, b[i]), 0xee, 64);
	}
	struct seg ro = {b[0], 8, false}, small = {b[1], 4, true}, empty = {b[2], 0, true};
	struct seg mixed[2] = {{b[3], 8, false}, {b[3] + 8, 8, true}};
	struct seg split[2] = {{b[4], 4, true}, {b[5], 4, true}};
	struct seg big = {b[6], 64, true};
	vi_offer(&f, VINPUT_EVENTQ, &ro, 1);
	vi_offer(&f, VINPUT_EVENTQ, &small, 1);
	vi_offer(&f, VINPUT_EVENTQ, &empty, 1);
	vi_offer(&f, VINPUT_EVENTQ, mixed, 2);
	uint16_t h_split = vi_offer(&f, VINPUT_EVENTQ, split, 2);
	uint16_t h_big = vi_offer(&f, VINPUT_EVENTQ, &big, 1);
	kick(&f, VINPUT_EVENTQ);
	CHECK(vi_pending(&f, VINPUT_EVENTQ) == 0); /* nothing taken without events */
	vinput_key(f.v, KEY_A, true);
	CHECK(vi_pending(&f, VINPUT_EVENTQ) == 6);
	for (uint16_t i = 0; i < 4; i++) {
		vi_used_elem(&f, VINPUT_EVENTQ, i, &id, &len);
		CHECK(len == 0);
	}
	vi_used_elem(&f, VINPUT_EVENTQ, 4, &id, &len);
	CHECK(id == h_split && len == 8);
	const uint8_t *p = ram_ptr(&f.ram, b[4]), *q = ram_ptr(&f.ram, b[5]);
	CHECK(get16(p) == EV_KEY && get16(p + 2) == KEY_A && get32(q) == 1);
	vi_used_elem(&f, VINPUT_EVENTQ, 5, &id, &len);
	CHECK(id == h_big && len == 8);
	p = ram_ptr(&f.ram, b[6]);
	CHECK(get16(p) == EV_SYN && get32(p + 4) == 0 && p[8] == 0xee);
	/* nothing was written where the device may not write */
	CHECK(ram_ptr(&f.ram, b[0])[0] == 0xee && ram_ptr(&f.ram, b[1])[0] == 0xee);
	CHECK(ram_ptr(&f.ram, b[3])[0] == 0xee && ram_ptr(&f.ram, b[3])[8] == 0xee);
	struct vinput_stats s = vi_stats(&f);
	CHECK(s.bad == 4 && s.events == 2 && s.dropped == 0);
	vi_teardown(&f);
	return 0;
}

/* A whole ring of bad chains with events waiting: all refused in one
 * kick, the events still wait, and good buffers then take them. */
static int test_ring_of_bad_chains(void)
{
	struct vfix f;
	struct tev e[8];

	CHECK(vi_setup(&f, VINPUT_KEYBOARD) == 0);
	vinput_key(f.v, KEY_Z, true);
	for (unsigned i = 0; i < VQ; i++) {
		struct seg s = {alloc(&f, 8), 7, true};
		vi_offer(&f, VINPUT_EVENTQ, &s, 1);
	}
	kick(&f, VINPUT_EVENTQ);
	CHECK(vi_pending(&f, VINPUT_EVENTQ) == VQ);
	f.r[VINPUT_EVENTQ].used_seen = used_idx(&f, VINPUT_EVENTQ);
	CHECK(vi_stats(&f).bad == VQ);
	vi_post(&f, 4);
	CHECK(vi_recv(&f, e, 8) == 2 && tev_is(&e[0], EV_KEY, KEY_Z, 1));
	vi_teardown(&f);
	return 0;
}

/* Statusq chains: fewer than 8 readable bytes is bad; the rest is taken.
 * All are handed back with nothing written. */
static int test_status_chains(void)
{
	struct vfix f;
	uint32_t id, len;

	CHECK(vi_setup(&f, VINPUT_KEYBOARD) == 0);
	uint64_t b = alloc(&f, 64);
	memset(ram_ptr(&f.ram, b), 0x11, 64);
	struct seg wonly = {b, 8, true}, short4 = {b, 4, false};
	struct seg two[2] = {{b, 4, false}, {b + 16, 4, false}};
	struct seg rw[2] = {{b, 8, false}, {b + 32, 8, true}};
	vi_offer(&f, VINPUT_STATUSQ, &wonly, 1);
	vi_offer(&f, VINPUT_STATUSQ, &short4, 1);
	vi_offer(&f, VINPUT_STATUSQ, two, 2);
	vi_offer(&f, VINPUT_STATUSQ, rw, 2);
	kick(&f, VINPUT_STATUSQ);
	CHECK(vi_pending(&f, VINPUT_STATUSQ) == 4);
	for (uint16_t i = 0; i < 4; i++) {
		vi_used_elem(&f, VINPUT_STATUSQ, i, &id, &len);
		CHECK(len == 0);
	}
	CHECK(ram_ptr(&f.ram, b)[0] == 0x11 && ram_ptr(&f.ram, b + 32)[0] == 0x11);
	struct vinput_stats s = vi_stats(&f);
	CHECK(s.bad == 2 && s.status == 2);
	vi_teardown(&f);
	return 0;
}

/* A buffer outside RAM, or across its end: the core refuses the chain and
 * the queue is broken (DEVICE_NEEDS_RESET, a config interrupt); no crash,
 * and after a reset the device works again. */
static int wild(uint64_t gpa, uint32_t len, unsigned q)
{
	struct vfix f;
	struct tev e[4];

	CHECK(vi_setup(&f, VINPUT_KEYBOARD) == 0);
	irqs(&f, 0);
	vinput_key(f.v, KEY_W, true);
	struct seg s = {gpa, len, q == VINPUT_EVENTQ};
	vi_offer(&f, q, &s, 1);
	kick(&f, q);
	vinput_key(f.v, KEY_W, false);
	CHECK(drv_common_read(&f.drv, C_STATUS, 1) & S_NEEDS_RESET);
	CHECK(irqs(&f, 0) == 1);
	CHECK(vi_pending(&f, q) == 0);
	CHECK(vi_reset_and_up(&f, F_VERSION_1) == 0);
	CHECK(!(drv_common_read(&f.drv, C_STATUS, 1) & S_NEEDS_RESET));
	vi_post(&f, VQ);
	vinput_key(f.v, KEY_X, true);
	CHECK(vi_recv(&f, e, 4) == 2 && tev_is(&e[0], EV_KEY, KEY_X, 1));
	vi_status(&f, EV_LED, LED_NUML, 1);
	CHECK(vi_stats(&f).status == 1);
	vi_teardown(&f);
	return 0;
}

static int test_wild_eventq(void)
{
	return wild(0xdead0000000ull, 8, VINPUT_EVENTQ);
}

static int test_wild_eventq_across_end(void)
{
	return wild(RAM_GPA + RAM_LEN - 4, 8, VINPUT_EVENTQ);
}

static int test_wild_statusq(void)
{
	return wild(RAM_GPA - 8, 8, VINPUT_STATUSQ);
}

/* xorshift: the same garbage every run */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Rings of garbage (descriptors anywhere, any flags, any avail index),
 * with keys and pointer moves flowing and resets between: the device
 * neither crashes nor stops working for an honest driver. */
static int garbage(enum vinput_kind kind)
{
	struct vfix f;
	struct tev e[8];
	uint64_t s = 0x9e3779b97f4a7c15ull;

	CHECK(vi_setup(&f, kind) == 0);
	for (unsigned round = 0; round < 200; round++) {
		for (unsigned q = 0; q < 2; q++) {
			for (unsigned i = 0; i < VQ; i++) {
				uint64_t r = rnd(&s);
				uint64_t addr = r & 1 ? RAM_DATA + (r >> 8) % 0x8000 : rnd(&s);
				desc_put(&f, q, i, addr, (uint32_t)(rnd(&s) % 24),
					 (uint16_t)(rnd(&s) & 7), (uint16_t)(rnd(&s) % (VQ + 2)));
			}
			unsigned n = (unsigned)(rnd(&s) % 8);
			for (unsigned i = 0; i < n; i++)
				vi_offer_head(&f, q, (uint16_t)(rnd(&s) % (VQ + 4)));
			kick(&f, q);
		}
		vinput_key(f.v, KEY_A + round % 10, round & 1);
		vinput_pointer(f.v, round, round * 3, 640, 480, (uint8_t)round);
		if (round % 10 == 9) {
			CHECK(vi_reset_and_up(&f, round & 16 ? F_VERSION_1 | F_EVENT_IDX
							     : F_VERSION_1) == 0);
		}
	}
	CHECK(vi_reset_and_up(&f, F_VERSION_1) == 0);
	vi_post(&f, VQ);
	if (kind == VINPUT_KEYBOARD) {
		vinput_key(f.v, KEY_Q, true);
		CHECK(vi_recv(&f, e, 8) == 2 && tev_is(&e[0], EV_KEY, KEY_Q, 1));
	} else {
		vinput_pointer(f.v, 0, 0, 10, 10, 0);
		CHECK(vi_recv(&f, e, 8) == 3 && tev_is(&e[0], EV_ABS, ABS_X, 0));
	}
	vi_teardown(&f);
	return 0;
}

static int test_garbage_keyboard(void)
{
	return garbage(VINPUT_KEYBOARD);
}

static int test_garbage_tablet(void)
{
	return garbage(VINPUT_TABLET);
}

/* Bad creation parameters: refused with a message, nothing leaked. */
static int test_bad_create(void)
{
	struct vfix f;
	struct vdev_params p;
	struct vinput *v = NULL;
	char err[128] = "";

	vfix_init(&f, VINPUT_NUM_QUEUES, VINPUT_VECTORS, &p);
	CHECK(vinput_create(&v, (enum vinput_kind)7, &p, err, sizeof(err)) == -EINVAL);
	CHECK(err[0] != 0 && v == NULL);
	p.nqueues = 1;
	err[0] = 0;
	CHECK(vinput_create(&v, VINPUT_KEYBOARD, &p, err, sizeof(err)) == -EINVAL);
	CHECK(err[0] != 0 && v == NULL);
	vinput_destroy(NULL);
	vfix_fini(&f);
	return 0;
}

TAP_MAIN(TEST(test_every_select_keyboard), TEST(test_every_select_tablet), TEST(test_config_writes),
	 TEST(test_bad_chains), TEST(test_ring_of_bad_chains), TEST(test_status_chains),
	 TEST(test_wild_eventq), TEST(test_wild_eventq_across_end), TEST(test_wild_statusq),
	 TEST(test_garbage_keyboard), TEST(test_garbage_tablet), TEST(test_bad_create))
