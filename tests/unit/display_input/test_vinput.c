/* Unit tests for the virtio-input keyboard and tablet
 * (devproc/display/vinput.c) as Linux's virtio_input driver uses them
 * (vinput_fixture.h): identity and features, the config space probe of
 * each, keys and pointer moves read back exactly, events waiting for
 * buffers, FIFO overflow dropping whole reports, LED changes on the
 * statusq, reset mid-stream, nothing kept before DRIVER_OK, EVENT_IDX.
 * A hostile driver: test_vinput_hostile.c. */
#include "vinput_fixture.h"

/* ---- the device ---------------------------------------------------------- */

static int test_identity(void)
{
	struct vfix f;
	uint64_t offered;

	CHECK(vi_model(&f, VINPUT_KEYBOARD) == 0);
	struct drv *d = &f.drv;
	CHECK(drv_probe(d) == 0);
	CHECK(drv_cfg_read(d, 0, 4) == ((0x1040u + 18) << 16 | 0x1af4));
	CHECK(drv_cfg_read(d, 8, 4) >> 8 == 0x098000);
	CHECK(d->device_len >= sizeof(struct virtio_input_config));
	CHECK(d->nvec == VINPUT_VECTORS);
	drv_negotiate(d, F_VERSION_1, &offered);
	CHECK(offered & F_VERSION_1);
	CHECK((offered & 0xffffff) == 0); /* no device-type features */
	CHECK(drv_common_read(d, C_NUMQ, 2) == VINPUT_NUM_QUEUES);
	drv_common_write(d, C_QSELECT, 2, VINPUT_EVENTQ);
	CHECK(drv_common_read(d, C_QSIZE, 2) == VINPUT_QUEUE_MAX);
	drv_common_write(d, C_QSELECT, 2, VINPUT_STATUSQ);
	CHECK(drv_common_read(d, C_QSIZE, 2) == VINPUT_QUEUE_MAX);
	vi_teardown(&f);
	return 0;
}

/* The probe: the name (size, then the bytes), the ids. */
static int check_ids(struct vfix *f, const char *name, uint16_t product)
{
	uint8_t u[128];
	size_t n = strlen(name);

	CHECK(vi_select(f, VIRTIO_INPUT_CFG_ID_NAME, 0) == n);
	CHECK(vi_cfg8(f, 0) == VIRTIO_INPUT_CFG_ID_NAME && vi_cfg8(f, 1) == 0);
	vi_union(f, u, sizeof(u));
	CHECK(memcmp(u, name, n) == 0 && u[n] == 0);
	CHECK(vi_select(f, VIRTIO_INPUT_CFG_ID_SERIAL, 0) == 0);
	CHECK(vi_select(f, VIRTIO_INPUT_CFG_ID_DEVIDS, 0) == 8);
	vi_union(f, u, 8);
	CHECK(get16(u) == BUS_VIRTUAL && get16(u + 2) == 0x0627);
	CHECK(get16(u + 4) == product && get16(u + 6) == 1);
	CHECK(vi_select(f, VIRTIO_INPUT_CFG_PROP_BITS, 0) == 0);
	CHECK(vi_select(f, VIRTIO_INPUT_CFG_UNSET, 0) == 0);
	return 0;
}

static int test_probe_keyboard(void)
{
	struct vfix f;
	uint8_t u[128];

	CHECK(vi_setup(&f, VINPUT_KEYBOARD) == 0);
	CHECK(check_ids(&f, "moat virtio keyboard", 1) == 0);
	/* EV_REP: size 1 and nothing in it is what Linux looks for */
	CHECK(vi_select(&f, VIRTIO_INPUT_CFG_EV_BITS, EV_REP) == 1 && vi_cfg8(&f, 8) == 0);
	CHECK(vi_select(&f, VIRTIO_INPUT_CFG_EV_BITS, EV_KEY) == KEY_MICMUTE / 8 + 1);
	vi_union(&f, u, sizeof(u));
	for (unsigned k = KEY_ESC; k <= KEY_KPDOT; k++)
		CHECK((u[k / 8] >> (k % 8)) & 1);
	const unsigned keys[] = {KEY_A,	    KEY_ENTER,	 KEY_F11,      KEY_F12,	    KEY_102ND,
				 KEY_UP,    KEY_DELETE,	 KEY_LEFTMETA, KEY_COMPOSE, KEY_PAUSE,
				 KEY_SYSRQ, KEY_KPENTER, KEY_RIGHTALT, KEY_F24,	    KEY_MICMUTE};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		CHECK(vi_has_bit(&f, EV_KEY, keys[i]));
	CHECK(!vi_has_bit(&f, EV_KEY, KEY_RESERVED));
	CHECK(!vi_has_bit(&f, EV_KEY, 84)); /* no key has this code */
	CHECK(!vi_has_bit(&f, EV_KEY, KEY_MACRO));
	CHECK(!vi_has_bit(&f, EV_KEY, BTN_LEFT));
	CHECK(vi_select(&f, VIRTIO_INPUT_CFG_EV_BITS, EV_LED) == 1);
	CHECK(vi_cfg8(&f, 8) == (1 << LED_NUML | 1 << LED_CAPSL | 1 << LED_SCROLLL));
	const uint8_t none[] = {EV_SYN, EV_REL, EV_ABS, EV_MSC, EV_SW, EV_SND, EV_FF};
	for (size_t i = 0; i < sizeof(none); i++)
		CHECK(vi_select(&f, VIRTIO_INPUT_CFG_EV_BITS, none[i]) == 0);
	CHECK(vi_select(&f, VIRTIO_INPUT_CFG_ABS_INFO, ABS_X) == 0);
	vi_teardown(&f);
	return 0;
}

static int test_probe_tablet(void)
{
	struct vfix f;
	uint8_t u[128];

	CHECK(vi_setup(&f, VINPUT_TABLET) == 0);
	CHECK(check_ids(&f, "moat virtio tablet", 3) == 0);
	CHECK(vi_select(&f, VIRTIO_INPUT_CFG_EV_BITS, EV_ABS) == 1);
	CHECK(vi_cfg8(&f, 8) == (1 << ABS_X | 1 << ABS_Y));
	for (unsigned axis = ABS_X; axis <= ABS_Y; axis++) {
		CHECK(vi_select(&f, VIRTIO_INPUT_CFG_ABS_INFO, (uint8_t)axis) == 20);
		vi_union(&f, u, 20);
		CHECK(get32(u) == 0 && get32(u + 4) == 0x7fff); /* min, max */
		CHECK(get32(u + 8) == 0 && get32(u + 12) == 0 && get32(u + 16) == 0);
		/* Linux reads the fields as 32-bit values */
		CHECK(drv_bar_read(&f.drv, f.drv.device + 12, 4) == VINPUT_ABS_MAX);
	}
	CHECK(vi_select(&f, VIRTIO_INPUT_CFG_ABS_INFO, ABS_Z) == 0);
	CHECK(vi_select(&f, VIRTIO_INPUT_CFG_EV_BITS, EV_KEY) == BTN_MIDDLE / 8 + 1);
	CHECK(vi_has_bit(&f, EV_KEY, BTN_LEFT) && vi_has_bit(&f, EV_KEY, BTN_RIGHT) &&
	      vi_has_bit(&f, EV_KEY, BTN_MIDDLE));
	CHECK(!vi_has_bit(&f, EV_KEY, KEY_A) && !vi_has_bit(&f, EV_KEY, BTN_SIDE));
	CHECK(vi_select(&f, VIRTIO_INPUT_CFG_EV_BITS, EV_REL) == 2);
	CHECK(vi_cfg8(&f, 8) == 0 && vi_cfg8(&f, 9) == 1 << (REL_WHEEL - 8));
	CHECK(vi_select(&f, VIRTIO_INPUT_CFG_EV_BITS, EV_REP) == 0);
	CHECK(vi_select(&f, VIRTIO_INPUT_CFG_EV_BITS, EV_LED) == 0);
	vi_teardown(&f);
	return 0;
}

/* ---- events -------------------------------------------------------------- */

static int test_keys(void)
{
	struct vfix f;
	struct tev e[16];

	CHECK(vi_setup(&f, VINPUT_KEYBOARD) == 0);
	vi_post(&f, VQ);
	CHECK(vi_pending(&f, VINPUT_EVENTQ) == 0); /* buffers stay posted */
	irqs(&f, 1);
	vinput_key(f.v, KEY_A, true);
	CHECK(irqs(&f, 1) == 1);
	vinput_key(f.v, KEY_A, false);
	vinput_key(f.v, KEY_ENTER, true);
	CHECK(vi_recv(&f, e, 16) == 6);
	CHECK(tev_is(&e[0], EV_KEY, KEY_A, 1) && tev_is(&e[1], EV_SYN, SYN_REPORT, 0));
	CHECK(tev_is(&e[2], EV_KEY, KEY_A, 0) && tev_is(&e[3], EV_SYN, SYN_REPORT, 0));
	CHECK(tev_is(&e[4], EV_KEY, KEY_ENTER, 1) && tev_is(&e[5], EV_SYN, SYN_REPORT, 0));
	/* keys the keyboard does not have, and the tablet's call: nothing */
	vinput_key(f.v, 0, true);
	vinput_key(f.v, 84, true);
	vinput_key(f.v, BTN_LEFT, true);
	vinput_key(f.v, 100000, true);
	vinput_pointer(f.v, 10, 10, 100, 100, 1);
	CHECK(vi_pending(&f, VINPUT_EVENTQ) == 0);
	struct vinput_stats s = vi_stats(&f);
	CHECK(s.events == 6 && s.dropped == 0 && s.bad == 0 && s.status == 0);
	vi_teardown(&f);
	return 0;
}

/* One pointer call's events are exactly want[0..n). */
static int pointer_is(struct vfix *f, uint32_t x, uint32_t y, uint8_t buttons,
		      const struct tev *want, unsigned n)
{
	struct tev e[16];

	vinput_pointer(f->v, x, y, 800, 600, buttons);
	CHECK(vi_recv(f, e, 16) == (int)n);
	for (unsigned i = 0; i < n; i++)
		CHECK(tev_is(&e[i], want[i].type, want[i].code, want[i].value));
	return 0;
}

#define SYN                                                                                        \
	{                                                                                          \
		EV_SYN, SYN_REPORT, 0                                                              \
	}

static int test_pointer(void)
{
	struct vfix f;

	CHECK(vi_setup(&f, VINPUT_TABLET) == 0);
	vi_post(&f, VQ);
	const struct tev origin[] = {{EV_ABS, ABS_X, 0}, {EV_ABS, ABS_Y, 0}, SYN};
	CHECK(pointer_is(&f, 0, 0, 0, origin, 3) == 0);
	CHECK(pointer_is(&f, 0, 0, 0, NULL, 0) == 0); /* nothing changed: nothing sent */
	const struct tev corner[] = {{EV_ABS, ABS_X, 0x7fff}, {EV_ABS, ABS_Y, 0x7fff}, SYN};
	CHECK(pointer_is(&f, 799, 599, 0, corner, 3) == 0);
	CHECK(pointer_is(&f, 5000, 7000, 0, NULL, 0) == 0); /* beyond: the edge */
	const struct tev mid[] = {{EV_ABS, ABS_X, 400 * 0x7fff / 799}, SYN};
	CHECK(pointer_is(&f, 400, 599, 0, mid, 2) == 0);
	const struct tev left[] = {{EV_KEY, BTN_LEFT, 1}, SYN};
	CHECK(pointer_is(&f, 400, 599, 1, left, 2) == 0);
	const struct tev drag[] = {{EV_ABS, ABS_Y, 300 * 0x7fff / 599}, SYN};
	CHECK(pointer_is(&f, 400, 300, 1, drag, 2) == 0);
	const struct tev swap[] = {
	    {EV_KEY, BTN_LEFT, 0}, {EV_KEY, BTN_MIDDLE, 1}, {EV_KEY, BTN_RIGHT, 1}, SYN};
	CHECK(pointer_is(&f, 400, 300, 6, swap, 4) == 0);
	const struct tev up[] = {{EV_KEY, BTN_MIDDLE, 0}, {EV_KEY, BTN_RIGHT, 0}, SYN};
	CHECK(pointer_is(&f, 400, 300, 0, up, 3) == 0);
	/* the wheel: a press is a click, the release says nothing */
	const struct tev wheel_up[] = {{EV_REL, REL_WHEEL, 1}, SYN};
	CHECK(pointer_is(&f, 400, 300, 8, wheel_up, 2) == 0);
	CHECK(pointer_is(&f, 400, 300, 0, NULL, 0) == 0);
	const struct tev wheel_down[] = {{EV_REL, REL_WHEEL, -1}, SYN};
	CHECK(pointer_is(&f, 400, 300, 16, wheel_down, 2) == 0);
	CHECK(pointer_is(&f, 400, 300, 16, NULL, 0) == 0);   /* held: no new click */
	CHECK(pointer_is(&f, 400, 300, 0xe0, NULL, 0) == 0); /* bits 5-7 mean nothing */
	/* a picture of 1 x 0 pixels: everything at 0 */
	vinput_pointer(f.v, 3, 3, 1, 0, 0);
	struct tev e[4];
	CHECK(vi_recv(&f, e, 4) == 3);
	CHECK(tev_is(&e[0], EV_ABS, ABS_X, 0) && tev_is(&e[1], EV_ABS, ABS_Y, 0));
	/* the keyboard's call on a tablet: nothing */
	vinput_key(f.v, KEY_A, true);
	CHECK(vi_pending(&f, VINPUT_EVENTQ) == 0);
	CHECK(vi_stats(&f).events == 3 + 3 + 2 + 2 + 2 + 4 + 3 + 2 + 2 + 3);
	vi_teardown(&f);
	return 0;
}

/* Events wait for buffers, in order; each kick that brings buffers takes
 * as many as there are. */
static int test_wait_for_buffers(void)
{
	struct vfix f;
	struct tev e[8];

	CHECK(vi_setup(&f, VINPUT_KEYBOARD) == 0);
	vinput_key(f.v, KEY_B, true);
	vinput_key(f.v, KEY_B, false);
	CHECK(vi_pending(&f, VINPUT_EVENTQ) == 0 && irqs(&f, 1) == 0);
	vi_post(&f, 3);
	CHECK(irqs(&f, 1) == 1);
	CHECK(vi_recv(&f, e, 3) == 3); /* posts the 3 again: the 4th comes */
	CHECK(tev_is(&e[0], EV_KEY, KEY_B, 1) && tev_is(&e[1], EV_SYN, SYN_REPORT, 0));
	CHECK(tev_is(&e[2], EV_KEY, KEY_B, 0));
	CHECK(vi_recv(&f, e, 8) == 1 && tev_is(&e[0], EV_SYN, SYN_REPORT, 0));
	CHECK(vi_recv(&f, e, 8) == 0);
	vi_teardown(&f);
	return 0;
}

/* A full FIFO drops its oldest reports whole and counts their events. */
static int test_overflow_keyboard(void)
{
	static const unsigned keys[10] = {KEY_1, KEY_2, KEY_3, KEY_4, KEY_5,
					  KEY_6, KEY_7, KEY_8, KEY_9, KEY_0};
	struct vfix f;
	struct tev e[VINPUT_FIFO];
	unsigned n = 0, reports = 200, kept = VINPUT_FIFO / 2;

	CHECK(vi_setup(&f, VINPUT_KEYBOARD) == 0);
	for (unsigned i = 0; i < reports; i++)
		vinput_key(f.v, keys[i % 10], i & 1);
	CHECK(vi_stats(&f).dropped == 2 * (reports - kept));
	vi_post(&f, VQ);
	for (int r; n < VINPUT_FIFO && (r = vi_recv(&f, e + n, VINPUT_FIFO - n)) > 0;)
		n += (unsigned)r;
	CHECK(n == 2 * kept);
	for (unsigned j = 0; j < kept; j++) {
		unsigned i = reports - kept + j;
		CHECK(tev_is(&e[2 * j], EV_KEY, (uint16_t)keys[i % 10], i & 1));
		CHECK(tev_is(&e[2 * j + 1], EV_SYN, SYN_REPORT, 0));
	}
	struct vinput_stats s = vi_stats(&f);
	CHECK(s.events == 2 * kept && s.dropped == 2 * (reports - kept));
	vi_teardown(&f);
	return 0;
}

/* What a FIFO of VINPUT_FIFO events holds after the stream ev[0..n) went
 * in with no buffers posted: whole reports, the oldest dropped first. */
static unsigned fifo_model(const struct tev *ev, unsigned n)
{
	unsigned len[1024], first = 0, last = 0, count = 0, start = 0;

	for (unsigned i = 0; i < n; i++) {
		if (ev[i].type != EV_SYN)
			continue;
		unsigned l = i + 1 - start;
		start = i + 1;
		while (VINPUT_FIFO - count < l)
			count -= len[first++];
		len[last++] = l;
		count += l;
	}
	return count;
}

/* Reports of 2 to 7 events: what comes out is the tail of what a driver
 * with buffers enough gets (g), whole reports, and dropped + delivered
 * adds up to all of g's events. */
static int test_overflow_tablet(void)
{
	static struct tev all[2048];
	struct vfix f, g;
	struct tev e[VINPUT_FIFO];
	unsigned n = 0, total = 0;
	int r;

	CHECK(vi_setup(&f, VINPUT_TABLET) == 0);
	CHECK(vi_setup(&g, VINPUT_TABLET) == 0);
	vi_post(&g, VQ);
	for (uint32_t i = 0; i < 301; i++) {
		uint32_t y = i % 3 ? i : 0;
		vinput_pointer(f.v, i, y, 1000, 1000, (uint8_t)(i % 32));
		vinput_pointer(g.v, i, y, 1000, 1000, (uint8_t)(i % 32));
		while ((r = vi_recv(&g, all + total, 8)) > 0)
			total += (unsigned)r;
		CHECK(r == 0 && total < 2048 - 8);
	}
	vi_post(&f, VQ);
	while (n < VINPUT_FIFO && (r = vi_recv(&f, e + n, VINPUT_FIFO - n)) > 0)
		n += (unsigned)r;
	/* a drop frees at most one report (7 events) more than needed */
	CHECK(n > VINPUT_FIFO - 7 && n <= VINPUT_FIFO);
	CHECK(n == fifo_model(all, total));
	for (unsigned i = 0; i < n; i++)
		CHECK(tev_is(&e[i], all[total - n + i].type, all[total - n + i].code,
			     all[total - n + i].value));
	CHECK(tev_is(&e[0], EV_ABS, ABS_X, e[0].value)); /* every call moved x */
	CHECK(all[total - n - 1].type == EV_SYN);	 /* a whole report before */
	struct vinput_stats s = vi_stats(&f);
	CHECK(s.events == n && s.dropped == total - n);
	vi_teardown(&f);
	vi_teardown(&g);
	return 0;
}

/* An LED change on the statusq: consumed, nothing written back. */
static int test_status_led(void)
{
	struct vfix f;
	uint32_t id, len;

	CHECK(vi_setup(&f, VINPUT_KEYBOARD) == 0);
	irqs(&f, 2);
	uint16_t head = vi_status(&f, EV_LED, LED_CAPSL, 1);
	CHECK(vi_pending(&f, VINPUT_STATUSQ) == 1);
	vi_used_elem(&f, VINPUT_STATUSQ, 0, &id, &len);
	CHECK(id == head && len == 0);
	CHECK(irqs(&f, 2) == 1);
	vi_status(&f, EV_LED, LED_CAPSL, 0);
	vi_status(&f, EV_REP, REP_DELAY, 250);
	CHECK(vi_pending(&f, VINPUT_STATUSQ) == 3);
	struct vinput_stats s = vi_stats(&f);
	CHECK(s.status == 3 && s.bad == 0 && s.events == 0);
	vi_teardown(&f);
	return 0;
}

/* A reset forgets what waited; the next driver gets only new events, and
 * the tablet tells it the whole state again. */
static int test_reset_mid_stream(void)
{
	struct vfix f;
	struct tev e[16];

	CHECK(vi_setup(&f, VINPUT_KEYBOARD) == 0);
	vi_post(&f, 2);
	vinput_key(f.v, KEY_C, true);
	vinput_key(f.v, KEY_C, false); /* waits: 2 buffers, both used */
	CHECK(vi_pending(&f, VINPUT_EVENTQ) == 2);
	CHECK(vi_reset_and_up(&f, F_VERSION_1) == 0);
	vi_post(&f, VQ);
	CHECK(vi_pending(&f, VINPUT_EVENTQ) == 0);
	vinput_key(f.v, KEY_D, true);
	CHECK(vi_recv(&f, e, 16) == 2 && tev_is(&e[0], EV_KEY, KEY_D, 1));
	vi_teardown(&f);

	CHECK(vi_setup(&f, VINPUT_TABLET) == 0);
	vi_post(&f, VQ);
	vinput_pointer(f.v, 10, 20, 100, 100, 1);
	CHECK(vi_recv(&f, e, 16) == 4);
	CHECK(vi_reset_and_up(&f, F_VERSION_1) == 0);
	vi_post(&f, VQ);
	vinput_pointer(f.v, 10, 20, 100, 100, 1); /* the same: all of it again */
	CHECK(vi_recv(&f, e, 16) == 4);
	CHECK(tev_is(&e[0], EV_ABS, ABS_X, 10 * 0x7fff / 99));
	CHECK(tev_is(&e[1], EV_ABS, ABS_Y, 20 * 0x7fff / 99));
	CHECK(tev_is(&e[2], EV_KEY, BTN_LEFT, 1) && tev_is(&e[3], EV_SYN, SYN_REPORT, 0));
	vi_teardown(&f);
	return 0;
}

/* Before DRIVER_OK events are not kept (the guest's driver is not there
 * to want them); buffers posted early are used from DRIVER_OK on. */
static int test_before_driver_ok(void)
{
	struct vfix f;
	struct tev e[4];

	CHECK(vi_model(&f, VINPUT_KEYBOARD) == 0);
	vinput_key(f.v, KEY_E, true); /* no driver at all */
	CHECK(drv_probe(&f.drv) == 0);
	CHECK(drv_negotiate(&f.drv, F_VERSION_1, NULL) & S_FEATURES_OK);
	drv_msix_enable(&f.drv);
	for (unsigned q = 0; q < 2; q++)
		CHECK(drv_setup_queue(&f.drv, q, VQ, f.r[q].desc, f.r[q].avail, f.r[q].used,
				      (uint16_t)(q + 1)) == 1);
	vi_post(&f, 4);
	vinput_key(f.v, KEY_E, false); /* queues ready, no DRIVER_OK */
	CHECK(vi_pending(&f, VINPUT_EVENTQ) == 0);
	drv_common_write(&f.drv, C_STATUS, 1, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
	vdev_ready(f.vd, f.notify[VINPUT_EVENTQ]); /* the core's kick at DRIVER_OK */
	CHECK(vi_pending(&f, VINPUT_EVENTQ) == 0);
	vinput_key(f.v, KEY_F, true);
	CHECK(vi_recv(&f, e, 4) == 2 && tev_is(&e[0], EV_KEY, KEY_F, 1));
	CHECK(vi_stats(&f).dropped == 0);
	vi_teardown(&f);
	return 0;
}

/* With EVENT_IDX: events that wait ask the driver for a kick at the next
 * buffer (avail_event), and interrupts follow used_event. */
static int test_event_idx(void)
{
	struct vfix f;
	struct tev e[8];

	CHECK(vi_model(&f, VINPUT_KEYBOARD) == 0);
	CHECK(drv_probe(&f.drv) == 0);
	CHECK(vi_driver_up(&f, F_VERSION_1 | F_EVENT_IDX) == 0);
	vi_post(&f, 1);
	vinput_key(f.v, KEY_G, true); /* the SYN waits */
	CHECK(vi_pending(&f, VINPUT_EVENTQ) == 1);
	uint16_t ae = get16(ram_ptr(&f.ram, f.r[0].used) + 4 + 8 * VQ);
	CHECK(ae == 1); /* kick me when buffer 1 comes */
	CHECK(irqs(&f, 1) == 1);
	CHECK(vi_recv(&f, e, 8) == 1 && tev_is(&e[0], EV_KEY, KEY_G, 1));
	CHECK(vi_recv(&f, e, 8) == 1 && tev_is(&e[0], EV_SYN, SYN_REPORT, 0));
	/* used_event far ahead: no interrupt for the next */
	put16(ram_ptr(&f.ram, f.r[0].avail) + 4 + 2 * VQ, 100);
	irqs(&f, 1);
	vinput_key(f.v, KEY_G, false);
	CHECK(vi_pending(&f, VINPUT_EVENTQ) == 1 && irqs(&f, 1) == 0);
	vi_teardown(&f);
	return 0;
}

TAP_MAIN(TEST(test_identity), TEST(test_probe_keyboard), TEST(test_probe_tablet), TEST(test_keys),
	 TEST(test_pointer), TEST(test_wait_for_buffers), TEST(test_overflow_keyboard),
	 TEST(test_overflow_tablet), TEST(test_status_led), TEST(test_reset_mid_stream),
	 TEST(test_before_driver_ok), TEST(test_event_idx))
