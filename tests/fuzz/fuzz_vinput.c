/* libFuzzer target: the virtio-input keyboard and tablet
 * (devproc/display/vinput.c) on the virtio core, behind the real
 * virtio-pci transport, driven by a guest that writes what it likes into
 * the config space and the rings while moat-display sends events. The
 * device and driver side are those of the unit tests
 * (tests/unit/display_input/vinput_fixture.h).
 *
 * The input: byte 0: bit 0 tablet, bit 1 EVENT_IDX. Then operations, a
 * byte each (its value mod 12) and its operands:
 *   0 config write: offset, width (1 << b % 4), 8 value bytes
 *   1 config read: offset, width; odd offset: check the whole image
 *   2 descriptor: queue, index, addr mode (bit 0: any 64-bit address,
 *     else the garbage area), 8 address bytes, len, flags, next
 *   3 offer head: queue, head (may be out of range)
 *   4 kick: queue
 *   5 key: 2 code bytes (mod 512), down
 *   6 pointer: x, y, w, h (2 bytes each), buttons
 *   7 reset: bit 0 EVENT_IDX, bit 1 stay down (else bring it up again)
 *   8 poke the avail ring: queue, field (flags, idx, used_event), 2 bytes
 *   9 post n honest 8-byte event buffers and kick: n
 *  10 take the used event buffers (as Linux) and check them
 *  11 LED/status event: type, code, value (2 + 2 + 4 bytes)
 * Invariants: the config image reads back select and subsel, a size of at
 * most 128, zeros in reserved and past the size; eventq buffers come back
 * with 0 or 8 bytes, statusq ones with 0; while the guest plays fair on
 * the eventq, every event is one the device may send; and after the
 * input, a reset driver gets exactly the next key or pointer report. */
#include "vinput_fixture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define GARBAGE_GPA  RAM_DATA			  /* where garbage descriptors point */
#define HONEST_GPA   (RAM_DATA + 0x20000)	  /* buffers of op 9 and 11 */
#define HONEST_LIMIT (RAM_GPA + RAM_LEN - 0x1000) /* stop posting here */

static struct vfix F;
static uint8_t cfg_select, cfg_subsel;
static bool evq_garbage; /* the eventq had garbage: its contents prove nothing */
static bool tablet;

struct in {
	const uint8_t *p, *end;
};

static uint8_t byte(struct in *in)
{
	return in->p < in->end ? *in->p++ : 0;
}

static uint64_t le(struct in *in, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)byte(in) << (8 * i);
	return v;
}

static void check_image(void)
{
	uint8_t img[sizeof(struct virtio_input_config)];

	for (unsigned i = 0; i < sizeof(img); i++)
		img[i] = vi_cfg8(&F, i);
	if (img[0] != cfg_select || img[1] != cfg_subsel || img[2] > 128)
		abort();
	for (unsigned i = 3; i < 8; i++)
		if (img[i])
			abort();
	for (unsigned i = 8u + img[2]; i < sizeof(img); i++)
		if (img[i])
			abort();
}

static void op_config_write(struct in *in)
{
	unsigned off = byte(in) % sizeof(struct virtio_input_config);
	unsigned width = 1u << (byte(in) % 4);
	uint64_t v = le(in, 8);

	off &= ~(width - 1);
	if (off + width > sizeof(struct virtio_input_config))
		return;
	drv_bar_write(&F.drv, F.drv.device + off, width, v);
	for (unsigned i = 0; i < width; i++) {
		if (off + i == 0)
			cfg_select = (uint8_t)(v >> (8 * i));
		else if (off + i == 1)
			cfg_subsel = (uint8_t)(v >> (8 * i));
	}
}

static void op_config_read(struct in *in)
{
	unsigned off = byte(in), width = 1u << (byte(in) % 4);

	if (off & 1) {
		check_image();
		return;
	}
	off = (off % sizeof(struct virtio_input_config)) & ~(width - 1);
	drv_bar_read(&F.drv, F.drv.device + off, width);
}

static void op_desc(struct in *in)
{
	unsigned q = byte(in) & 1, idx = byte(in) % VQ, mode = byte(in);
	uint64_t addr = le(in, 8);
	uint32_t len = byte(in);
	uint16_t flags = byte(in) & 7, next = byte(in);

	if (!(mode & 1))
		addr = GARBAGE_GPA + addr % 0x10000;
	desc_put(&F, q, idx, addr, len, flags, next);
	if (q == VINPUT_EVENTQ) {
		F.evgpa[idx] = 0;
		evq_garbage = true;
	}
}

static void op_poke(struct in *in)
{
	unsigned q = byte(in) & 1, field = byte(in) % 3;
	uint16_t v = (uint16_t)le(in, 2);
	uint8_t *avail = ram_ptr(&F.ram, F.r[q].avail);

	put16(field == 0 ? avail : field == 1 ? avail + 2 : avail + 4 + 2 * VQ, v);
	if (field == 1)
		F.r[q].avail_idx = v;
	if (q == VINPUT_EVENTQ)
		evq_garbage = true;
}

/* Could the device have sent this event? */
static bool plausible(const struct tev *e)
{
	switch (e->type) {
	case EV_SYN:
		return e->code == SYN_REPORT && e->value == 0;
	case EV_KEY:
		if (e->value != 0 && e->value != 1)
			return false;
		return tablet ? e->code >= BTN_LEFT && e->code <= BTN_MIDDLE
			      : e->code >= KEY_ESC && e->code <= KEY_MICMUTE;
	case EV_ABS:
		return tablet && e->code <= ABS_Y && e->value >= 0 && e->value <= VINPUT_ABS_MAX;
	case EV_REL:
		return tablet && e->code == REL_WHEEL && (e->value == 1 || e->value == -1);
	default:
		return false;
	}
}

/* The used eventq buffers: lengths 0 or 8 always; honest ones decoded,
 * checked and posted again. */
static void op_recv(void)
{
	struct vring *r = &F.r[VINPUT_EVENTQ];
	unsigned reposted = 0;

	while (vi_pending(&F, VINPUT_EVENTQ)) {
		uint32_t id, len;
		vi_used_elem(&F, VINPUT_EVENTQ, r->used_seen++, &id, &len);
		if (id >= VQ || (len != 0 && len != 8))
			abort();
		if (evq_garbage || !F.evgpa[id])
			continue;
		const uint8_t *p = ram_ptr(&F.ram, F.evgpa[id]);
		struct tev e = {get16(p), get16(p + 2), (int32_t)get32(p + 4)};
		if (len != 8 || !plausible(&e))
			abort();
		vi_post_one(&F, F.evgpa[id]);
		reposted++;
	}
	if (reposted)
		kick(&F, VINPUT_EVENTQ);
}

/* Statusq buffers always come back empty. */
static void check_statusq(void)
{
	struct vring *r = &F.r[VINPUT_STATUSQ];

	while (vi_pending(&F, VINPUT_STATUSQ)) {
		uint32_t id, len;
		vi_used_elem(&F, VINPUT_STATUSQ, r->used_seen++, &id, &len);
		if (id >= VQ || len != 0)
			abort();
	}
}

/* Reset, and bring the driver up again unless bit 1 says to stay down
 * (events and kicks then meet a device that is not live). */
static void op_reset(struct in *in)
{
	uint8_t b = byte(in);

	if (b & 2) {
		drv_common_write(&F.drv, C_STATUS, 1, 0);
		if (drv_common_read(&F.drv, C_STATUS, 1) != 0)
			abort();
		vfix_fresh_rings(&F);
	} else if (vi_reset_and_up(&F, F_VERSION_1 | (b & 1 ? F_EVENT_IDX : 0)) != 0) {
		abort();
	}
	memset(F.evgpa, 0, sizeof(F.evgpa));
	evq_garbage = false;
}

/* Descriptors an honest driver may still post on queue q: it never has
 * more than the ring's size out (what is neither used nor seen back). */
static unsigned room(unsigned q)
{
	return VQ - (uint16_t)(F.r[q].avail_idx - F.r[q].used_seen);
}

static void one_op(struct in *in)
{
	uint8_t op = byte(in) % 12;

	switch (op) {
	case 0:
		op_config_write(in);
		break;
	case 1:
		op_config_read(in);
		break;
	case 2:
		op_desc(in);
		break;
	case 3: {
		unsigned q = byte(in) & 1;
		vi_offer_head(&F, q, (uint16_t)(byte(in) % (VQ + 4)));
		evq_garbage |= q == VINPUT_EVENTQ; /* a head twice, or never written */
		break;
	}
	case 4:
		kick(&F, byte(in) & 1);
		break;
	case 5: {
		unsigned code = (unsigned)le(in, 2) % 512;
		vinput_key(F.v, code, byte(in) & 1);
		break;
	}
	case 6: {
		uint32_t x = (uint32_t)le(in, 2), y = (uint32_t)le(in, 2);
		uint32_t w = (uint32_t)le(in, 2), h = (uint32_t)le(in, 2);
		vinput_pointer(F.v, x, y, w, h, byte(in));
		break;
	}
	case 7:
		op_reset(in);
		break;
	case 8:
		op_poke(in);
		break;
	case 9: {
		unsigned n = byte(in) % 8 + 1;
		if (n > room(VINPUT_EVENTQ))
			n = room(VINPUT_EVENTQ);
		if (n && F.next_data < HONEST_LIMIT)
			vi_post(&F, n);
		break;
	}
	case 10:
		op_recv();
		break;
	default: {
		uint16_t type = (uint16_t)le(in, 2), code = (uint16_t)le(in, 2);
		int32_t value = (int32_t)le(in, 4);
		if (room(VINPUT_STATUSQ) && F.next_data < HONEST_LIMIT)
			vi_status(&F, type, code, value);
		break;
	}
	}
	check_statusq();
}

/* The guest RAM and the eventfds, once; the rings where vfix_init puts
 * them. */
static void setup_once(void)
{
	ram_init(&F.ram, VQ);
	F.nq = VINPUT_NUM_QUEUES;
	F.nvec = VINPUT_VECTORS;
	for (unsigned q = 0; q < F.nq; q++) {
		uint64_t base = RAM_GPA + 0x8000 * q;
		F.r[q] =
		    (struct vring){.desc = base, .avail = base + 0x4000, .used = base + 0x6000};
		F.notify[q] = eventfd(0, EFD_NONBLOCK);
	}
	for (unsigned v = 0; v < F.nvec; v++)
		F.irq[v] = eventfd(0, EFD_NONBLOCK);
}

static void drain_fds(void)
{
	uint64_t v;

	for (unsigned q = 0; q < F.nq; q++)
		if (read(F.notify[q], &v, sizeof(v)) < 0) {
			/* nothing pending */
		}
	for (unsigned i = 0; i < F.nvec; i++)
		irqs(&F, i);
}

/* After the input: a driver that resets the device gets exactly the next
 * report. */
static void check_alive(void)
{
	struct tev e[8];

	if (vi_reset_and_up(&F, F_VERSION_1) != 0)
		abort();
	memset(F.evgpa, 0, sizeof(F.evgpa));
	F.next_data = HONEST_GPA;
	vi_post(&F, 4);
	if (tablet) {
		vinput_pointer(F.v, 0, 0, 1, 1, 0);
		if (vi_recv(&F, e, 8) != 3 || !tev_is(&e[0], EV_ABS, ABS_X, 0) ||
		    !tev_is(&e[1], EV_ABS, ABS_Y, 0) || !tev_is(&e[2], EV_SYN, SYN_REPORT, 0))
			abort();
	} else {
		vinput_key(F.v, KEY_A, true);
		if (vi_recv(&F, e, 8) != 2 || !tev_is(&e[0], EV_KEY, KEY_A, 1) ||
		    !tev_is(&e[1], EV_SYN, SYN_REPORT, 0))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool once;
	struct vdev_params p;
	char err[128];
	struct in in = {data, data + size};

	if (size < 1)
		return 0;
	if (!once) {
		setup_once();
		once = true;
	}
	drain_fds();
	memset(F.ram.mem, 0, HONEST_GPA - RAM_GPA);
	for (unsigned q = 0; q < F.nq; q++)
		F.r[q].avail_idx = F.r[q].used_seen = F.r[q].next_desc = 0;
	memset(F.evgpa, 0, sizeof(F.evgpa));
	F.next_data = HONEST_GPA;
	cfg_select = cfg_subsel = 0;
	evq_garbage = false;
	tablet = byte(&in) & 1;
	p = (struct vdev_params){.mem = &F.ram.g,
				 .bar0_gpa = DRV_BAR0,
				 .notify_fds = F.notify,
				 .nqueues = F.nq,
				 .irq_fds = F.irq,
				 .nvectors = F.nvec};
	if (vinput_create(&F.v, tablet ? VINPUT_TABLET : VINPUT_KEYBOARD, &p, err, sizeof(err)))
		abort();
	vfix_attach(&F, vinput_vdev(F.v));
	if (drv_probe(&F.drv) != 0 ||
	    vi_driver_up(&F, F_VERSION_1 | (data[0] & 2 ? F_EVENT_IDX : 0)) != 0)
		abort();
	while (in.p < in.end)
		one_op(&in);
	check_image();
	check_alive();
	vinput_destroy(F.v);
	F.v = NULL;
	return 0;
}
