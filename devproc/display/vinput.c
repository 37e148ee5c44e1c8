/* virtio-input keyboard and tablet on the virtio device core (see vinput.h
 * for what each offers, the queues and the threads).
 *
 * References, read to learn the behaviour (no code taken):
 *  - virtio 1.2, 5.8: the config space (select, subsel, size, the union),
 *    the eventq and statusq, one struct virtio_input_event per buffer;
 *  - Linux 6.1 drivers/virtio/virtio_input.c: the probe reads ID_NAME,
 *    ID_SERIAL, ID_DEVIDS, PROP_BITS, EV_BITS for each event type (a
 *    bitmap's bit i is bit i % 8 of byte i / 8, and EV_REP counts as
 *    offered as soon as its size is not 0) and ABS_INFO for each axis;
 *    then it posts up to 64 buffers of 8 bytes and sends LED changes on
 *    the statusq;
 *  - QEMU hw/input/virtio-input.c and virtio-input-hid.c: what its
 *    virtio-keyboard and virtio-tablet offer (the device ids, EV_REP of
 *    size 1, the LEDs, the tablet's buttons, wheel and axes), and
 *    keycodemapdb's table of the keys QEMU can send.
 *
 * Choices of ours:
 *  - The keys are QEMU's, plus three that moat's VNC key map can send
 *    (zenkaku/hankaku, katakana, keypad JP comma) and KEY_MICMUTE.
 *  - No ID_SERIAL (size 0), as QEMU without a serial; no PROP_BITS.
 *  - Events are only taken while the driver runs (DRIVER_OK, no reset
 *    since): a key typed before the guest's driver exists means nothing
 *    to it. They wait in the FIFO for buffers; a full FIFO drops its
 *    oldest report whole (or what is left of it, if the guest already
 *    took its start: that one then ends at the next report's EV_SYN).
 *  - An eventq chain must be all device-writable and hold 8 bytes; one
 *    that is not goes back empty and counts as bad (stats.bad), as does
 *    a statusq chain with fewer than 8 readable bytes.
 *  - The FIFO and the tablet's last state live under the eventq's lock:
 *    quiesce (reset) holds it, so a reset forgets both in one step. */
#include "vinput.h"

#include <endian.h>
#include <errno.h>
#include <linux/input.h>
#include <linux/virtio_input.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* PCI class: input device, other (as QEMU's virtio-input) */
#define VINPUT_CLASS	  0x098000
#define VINPUT_CONFIG_LEN sizeof(struct virtio_input_config)
#define VINPUT_UNION_OFF  offsetof(struct virtio_input_config, u)
#define VINPUT_UNION_LEN  sizeof(((struct virtio_input_config *)0)->u)
#define VINPUT_EVENT_LEN  sizeof(struct virtio_input_event)
#define KEY_BYTES	  (KEY_MICMUTE / 8 + 1)
/* The longest report: ABS_X, ABS_Y, three buttons, the wheel, EV_SYN */
#define REPORT_MAX 7
/* The devids' vendor: QEMU's, for its USB and virtio HID devices */
#define DEV_VENDOR 0x0627

_Static_assert(VINPUT_CONFIG_LEN == 136, "virtio_input_config is 136 bytes");
_Static_assert(VINPUT_UNION_OFF == 8 && VINPUT_UNION_LEN == 128, "the union at 8, 128 bytes");
_Static_assert(VINPUT_EVENT_LEN == 8, "an event is 8 bytes");
_Static_assert(KEY_BYTES <= VINPUT_UNION_LEN, "the key bitmap fits the union");

/* One event as the device keeps it (host order until it is written). */
struct vinput_ev {
	uint16_t type, code;
	int32_t value;
};

struct vinput {
	enum vinput_kind kind;
	struct vdev *vd;
	uint8_t keys[KEY_BYTES]; /* the keyboard's EV_KEY bitmap, fixed */
	/* config space: written under the transport lock only */
	uint8_t select, subsel;
	/* under the eventq's lock */
	struct vinput_ev fifo[VINPUT_FIFO];
	unsigned head, count;
	bool have_pos; /* tablet: ax, ay and buttons were sent to this driver */
	uint32_t ax, ay;
	uint8_t buttons;
	/* statistics: any thread */
	atomic_uint_fast64_t events, dropped, status, bad;
};

/* The keyboard's keys, as ranges of Linux key codes. */
static const struct {
	uint16_t first, last;
} key_ranges[] = {
    {KEY_ESC, KEY_KPDOT},		 /* the PC keyboard's set 1 */
    {KEY_ZENKAKUHANKAKU, KEY_KPJPCOMMA}, /* 102nd, F11, F12, Japanese keys */
    {KEY_KPENTER, KEY_DELETE},		 /* the extended keys */
    {KEY_MUTE, KEY_KPEQUAL},		 /* volume, power, keypad = */
    {KEY_PAUSE, KEY_PAUSE},
    {KEY_KPCOMMA, KEY_CALC}, /* Korean, Yen, meta, compose, Sun keys, menu */
    {KEY_SLEEP, KEY_WAKEUP},
    {KEY_MAIL, KEY_FORWARD},
    {KEY_NEXTSONG, KEY_STOPCD},
    {KEY_HOMEPAGE, KEY_REFRESH},
    {KEY_F13, KEY_F24},
    {KEY_MEDIA, KEY_MEDIA},
    {KEY_MICMUTE, KEY_MICMUTE},
};

static void set_bit8(uint8_t *map, unsigned bit)
{
	map[bit / 8] |= (uint8_t)(1u << (bit % 8));
}

static bool test_bit8(const uint8_t *map, unsigned bit)
{
	return (map[bit / 8] >> (bit % 8)) & 1;
}

/* ---- the config space ------------------------------------------------------ */

/* A bitmap's size: its bytes up to the last nonzero one (0 if empty). */
static uint8_t bitmap_size(const uint8_t *map, size_t len)
{
	while (len && !map[len - 1])
		len--;
	return (uint8_t)len;
}

static uint8_t put_string(uint8_t *u, const char *s)
{
	size_t n = strlen(s);

	memcpy(u, s, n);
	return (uint8_t)n;
}

static void put_le(uint8_t *p, unsigned size, uint32_t v)
{
	for (unsigned i = 0; i < size; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* EV_BITS for event type `type`: the bitmap in u, its size. EV_REP is
 * offered with size 1 and no bits, since Linux only looks at the size. */
static uint8_t ev_bits(const struct vinput *v, unsigned type, uint8_t *u)
{
	bool kbd = v->kind == VINPUT_KEYBOARD;

	switch (type) {
	case EV_KEY:
		if (kbd) {
			memcpy(u, v->keys, KEY_BYTES);
		} else {
			set_bit8(u, BTN_LEFT);
			set_bit8(u, BTN_RIGHT);
			set_bit8(u, BTN_MIDDLE);
		}
		break;
	case EV_REP:
		return kbd ? 1 : 0;
	case EV_LED:
		if (kbd) {
			set_bit8(u, LED_NUML);
			set_bit8(u, LED_CAPSL);
			set_bit8(u, LED_SCROLLL);
		}
		break;
	case EV_REL:
		if (!kbd)
			set_bit8(u, REL_WHEEL);
		break;
	case EV_ABS:
		if (!kbd) {
			set_bit8(u, ABS_X);
			set_bit8(u, ABS_Y);
		}
		break;
	default:
		break;
	}
	return bitmap_size(u, VINPUT_UNION_LEN);
}

/* What select/subsel name: the union's bytes in u (zeroed by the caller)
 * and the size the driver reads; 0 for anything we do not offer. */
static uint8_t config_fill(const struct vinput *v, uint8_t select, uint8_t subsel, uint8_t *u)
{
	bool kbd = v->kind == VINPUT_KEYBOARD;

	switch (select) {
	case VIRTIO_INPUT_CFG_ID_NAME:
		if (subsel)
			return 0;
		return put_string(u, kbd ? "moat virtio keyboard" : "moat virtio tablet");
	case VIRTIO_INPUT_CFG_ID_DEVIDS:
		if (subsel)
			return 0;
		put_le(u + 0, 2, BUS_VIRTUAL);
		put_le(u + 2, 2, DEV_VENDOR);
		put_le(u + 4, 2, kbd ? 1 : 3); /* product: QEMU's keyboard, tablet */
		put_le(u + 6, 2, 1);	       /* version */
		return sizeof(struct virtio_input_devids);
	case VIRTIO_INPUT_CFG_EV_BITS:
		return ev_bits(v, subsel, u);
	case VIRTIO_INPUT_CFG_ABS_INFO:
		if (kbd || (subsel != ABS_X && subsel != ABS_Y))
			return 0;
		/* min 0, max, fuzz 0, flat 0, res 0 */
		put_le(u + offsetof(struct virtio_input_absinfo, max), 4, VINPUT_ABS_MAX);
		return sizeof(struct virtio_input_absinfo);
	default:
		return 0;
	}
}

/* The driver wrote the config space (transport lock held): bytes 0 and 1
 * are select and subsel, the rest is the device's and writes there are
 * dropped. The whole image is made anew for the pair. */
static void vinput_config_write(void *dev, uint32_t off, unsigned size, uint64_t data)
{
	struct vinput *v = dev;
	uint8_t img[VINPUT_CONFIG_LEN] = {0};
	bool hit = false;

	for (unsigned i = 0; i < size && i < 8; i++) {
		uint64_t pos = (uint64_t)off + i;
		uint8_t b = (uint8_t)(data >> (8 * i));

		if (pos == offsetof(struct virtio_input_config, select)) {
			v->select = b;
			hit = true;
		} else if (pos == offsetof(struct virtio_input_config, subsel)) {
			v->subsel = b;
			hit = true;
		}
	}
	if (!hit)
		return;
	img[0] = v->select;
	img[1] = v->subsel;
	img[2] = config_fill(v, v->select, v->subsel, img + VINPUT_UNION_OFF);
	vdev_config_set(v->vd, 0, img, sizeof(img));
}

/* ---- the queues ------------------------------------------------------------ */

/* One posted eventq buffer (queue lock held, FIFO not empty): the oldest
 * event into it. A chain that cannot take one whole event, or offers
 * device-readable buffers, is the driver's mistake: handed back empty
 * and counted, and the event waits for the next. */
static bool event_chain(void *dev, struct vdev_queue *q, unsigned qi)
{
	struct vinput *v = dev;
	const struct vq_chain *c = &q->chain;
	struct virtio_input_event out;
	const struct vinput_ev *e;

	if (c->n_out || c->in_bytes < VINPUT_EVENT_LEN) {
		atomic_fetch_add(&v->bad, 1);
		return vq_push(&q->vq, c->head, 0) == 0;
	}
	e = &v->fifo[v->head];
	out.type = htole16(e->type);
	out.code = htole16(e->code);
	out.value = htole32((uint32_t)e->value);
	vq_chain_write(c, 0, &out, sizeof(out));
	v->head = (v->head + 1) % VINPUT_FIFO;
	v->count--;
	atomic_fetch_add(&v->events, 1);
	return vq_push(&q->vq, c->head, VINPUT_EVENT_LEN) == 0;
}

/* Buffers are taken only while events wait: the driver's buffers stay
 * posted for the next ones. */
static bool event_may_pop(void *dev, struct vdev_queue *q, unsigned qi)
{
	return ((struct vinput *)dev)->count > 0;
}

static const struct vdev_drain event_drain = {.chain = event_chain, .may_pop = event_may_pop};

/* One statusq buffer (queue lock held): an LED change, read and dropped
 * (the VNC client has no LEDs to show it on). Fewer than 8 readable bytes
 * is a malformed chain. Nothing is written back. */
static bool status_chain(void *dev, struct vdev_queue *q, unsigned qi)
{
	struct vinput *v = dev;
	const struct vq_chain *c = &q->chain;
	struct virtio_input_event in;

	if (vq_chain_read(c, 0, &in, sizeof(in)) < sizeof(in))
		atomic_fetch_add(&v->bad, 1);
	else
		atomic_fetch_add(&v->status, 1);
	return vq_push(&q->vq, c->head, 0) == 0;
}

static const struct vdev_drain status_drain = {.chain = status_chain};

/* A kick (loop thread, no locks): new eventq buffers take what waits in
 * the FIFO; statusq buffers are consumed. */
static void vinput_notify(void *dev, unsigned qi)
{
	struct vinput *v = dev;

	if (qi == VINPUT_EVENTQ)
		vdev_drain(v->vd, qi, &event_drain);
	else
		vdev_drain(v->vd, qi, &status_drain);
}

/* Reset, with queue qi's lock held: the eventq forgets its FIFO and what
 * the last driver was told of the pointer. Nothing is ever in flight
 * outside the lock, so the queue is idle at once. */
static int vinput_quiesce(void *dev, unsigned qi)
{
	struct vinput *v = dev;

	if (qi == VINPUT_EVENTQ) {
		v->head = v->count = 0;
		v->have_pos = false;
		v->buttons = 0;
	}
	return 0;
}

static const struct vdev_ops vinput_vdev_ops = {
    .virtio_id = 18, /* VIRTIO_ID_INPUT */
    .class_code = VINPUT_CLASS,
    .num_queues = VINPUT_NUM_QUEUES,
    .queue_max = VINPUT_QUEUE_MAX,
    .config_len = VINPUT_CONFIG_LEN,
    .config_write = vinput_config_write,
    .notify = vinput_notify,
    .quiesce = vinput_quiesce,
};

/* ---- events from moat-display ------------------------------------------------- */

/* Drop the oldest report (eventq lock held): its events up to and with
 * its EV_SYN, or what is left of it if the driver took its start. */
static void fifo_drop_report(struct vinput *v)
{
	while (v->count) {
		const struct vinput_ev *e = &v->fifo[v->head];
		bool syn = e->type == EV_SYN;

		v->head = (v->head + 1) % VINPUT_FIFO;
		v->count--;
		atomic_fetch_add(&v->dropped, 1);
		if (syn)
			return;
	}
}

/* Queue one report of n events (the last an EV_SYN), making room first
 * (eventq lock held). */
static void fifo_report(struct vinput *v, const struct vinput_ev *ev, unsigned n)
{
	while (VINPUT_FIFO - v->count < n)
		fifo_drop_report(v);
	for (unsigned i = 0; i < n; i++)
		v->fifo[(v->head + v->count++) % VINPUT_FIFO] = ev[i];
}

/* Lock the eventq if a driver is there to take events; NULL (unlocked)
 * if not: events before DRIVER_OK or after a reset are not kept. */
static struct vdev_queue *eventq_lock(struct vinput *v)
{
	struct vdev_queue *q = vdev_queue(v->vd, VINPUT_EVENTQ);

	pthread_mutex_lock(&q->lock);
	if (q->ready && vdev_live(v->vd))
		return q;
	pthread_mutex_unlock(&q->lock);
	return NULL;
}

void vinput_key(struct vinput *v, unsigned code, bool down)
{
	struct vinput_ev ev[2] = {{EV_KEY, (uint16_t)code, down}, {EV_SYN, SYN_REPORT, 0}};
	struct vdev_queue *q;

	if (v->kind != VINPUT_KEYBOARD || code >= 8 * KEY_BYTES || !test_bit8(v->keys, code))
		return;
	q = eventq_lock(v);
	if (!q)
		return;
	fifo_report(v, ev, 2);
	pthread_mutex_unlock(&q->lock);
	vdev_drain(v->vd, VINPUT_EVENTQ, &event_drain);
}

/* A position in 0..n-1 scaled to 0..VINPUT_ABS_MAX, the last pixel to
 * the maximum; beyond the picture is its edge. */
static uint32_t scale(uint32_t pos, uint32_t n)
{
	if (n <= 1)
		return 0;
	if (pos > n - 1)
		pos = n - 1;
	return (uint32_t)((uint64_t)pos * VINPUT_ABS_MAX / (n - 1));
}

/* What changed since the last report (eventq lock held): the events into
 * ev, their count (0: nothing to say). The state becomes the new one. */
static unsigned pointer_diff(struct vinput *v, uint32_t ax, uint32_t ay, uint8_t buttons,
			     struct vinput_ev *ev)
{
	static const uint16_t btn[3] = {BTN_LEFT, BTN_MIDDLE, BTN_RIGHT}; /* RFB bits 0-2 */
	uint8_t old = v->have_pos ? v->buttons : 0, pressed = buttons & ~old;
	int wheel = ((pressed >> 3) & 1) - ((pressed >> 4) & 1);
	unsigned n = 0;

	if (!v->have_pos || ax != v->ax)
		ev[n++] = (struct vinput_ev){EV_ABS, ABS_X, (int32_t)ax};
	if (!v->have_pos || ay != v->ay)
		ev[n++] = (struct vinput_ev){EV_ABS, ABS_Y, (int32_t)ay};
	for (unsigned i = 0; i < 3; i++)
		if (((buttons ^ old) >> i) & 1)
			ev[n++] = (struct vinput_ev){EV_KEY, btn[i], (buttons >> i) & 1};
	if (wheel)
		ev[n++] = (struct vinput_ev){EV_REL, REL_WHEEL, wheel};
	v->have_pos = true;
	v->ax = ax;
	v->ay = ay;
	v->buttons = buttons;
	if (n)
		ev[n++] = (struct vinput_ev){EV_SYN, SYN_REPORT, 0};
	return n;
}

void vinput_pointer(struct vinput *v, uint32_t x, uint32_t y, uint32_t w, uint32_t h,
		    uint8_t buttons)
{
	struct vinput_ev ev[REPORT_MAX];
	struct vdev_queue *q;
	unsigned n;

	if (v->kind != VINPUT_TABLET)
		return;
	q = eventq_lock(v);
	if (!q)
		return;
	n = pointer_diff(v, scale(x, w), scale(y, h), buttons & 0x1f, ev);
	if (n)
		fifo_report(v, ev, n);
	pthread_mutex_unlock(&q->lock);
	if (n)
		vdev_drain(v->vd, VINPUT_EVENTQ, &event_drain);
}

/* ---- set-up -------------------------------------------------------------- */

int vinput_create(struct vinput **out, enum vinput_kind k, const struct vdev_params *p, char *err,
		  size_t errlen)
{
	struct vinput *v;
	int rc;

	if (k != VINPUT_KEYBOARD && k != VINPUT_TABLET) {
		snprintf(err, errlen, "virtio-input: unknown kind %d", (int)k);
		return -EINVAL;
	}
	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->kind = k;
	for (size_t i = 0; i < sizeof(key_ranges) / sizeof(key_ranges[0]); i++)
		for (unsigned c = key_ranges[i].first; c <= key_ranges[i].last; c++)
			set_bit8(v->keys, c);
	/* no device-type features: the transport adds VERSION_1 and its own */
	rc = vdev_create(&v->vd, &vinput_vdev_ops, v, 0, p, err, errlen);
	if (rc < 0) {
		free(v);
		return rc;
	}
	*out = v;
	return 0;
}

void vinput_destroy(struct vinput *v)
{
	if (!v)
		return;
	vdev_destroy(v->vd);
	free(v);
}

struct vdev *vinput_vdev(struct vinput *v)
{
	return v->vd;
}

void vinput_get_stats(const struct vinput *v, struct vinput_stats *out)
{
	*out = (struct vinput_stats){
	    .events = atomic_load(&v->events),
	    .dropped = atomic_load(&v->dropped),
	    .status = atomic_load(&v->status),
	    .bad = atomic_load(&v->bad),
	};
}
