/* virtio-input (virtio ID 18, spec 5.8) on moat's virtio device core
 * (devproc/virtio/vdevice.h): the keyboard and the tablet moat-display
 * offers the guest, as QEMU's virtio-keyboard-pci and virtio-tablet-pci.
 * Linux's virtio_input driver binds them and they appear as
 * /dev/input/event*.
 *
 *   keyboard: EV_KEY with the keys of a PC keyboard (KEY_ESC .. KEY_MICMUTE
 *             as QEMU offers them), EV_REP, EV_LED (num, caps, scroll lock);
 *   tablet:   EV_KEY with BTN_LEFT, BTN_RIGHT, BTN_MIDDLE, EV_REL with
 *             REL_WHEEL, EV_ABS with ABS_X and ABS_Y over 0..VINPUT_ABS_MAX.
 *
 * Queue 0 (eventq): the driver posts 8-byte buffers; each event
 * (struct virtio_input_event: le16 type, le16 code, le32 value) fills one.
 * Events wait in a bounded FIFO of the device's own until buffers come;
 * when it is full, the oldest whole report (up to its EV_SYN) is dropped
 * and counted, so a guest that posts no buffers costs a bounded amount.
 * Queue 1 (statusq): the driver's LED changes; read, checked, and dropped.
 *
 * Config space (struct virtio_input_config): the driver writes select and
 * subsel, and reads size and the union back; every select and subsel moat
 * does not know reads size 0.
 *
 * Threads: everything on the device process's loop thread (the core's
 * rules, vdevice.h). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vdevice.h"

#define VINPUT_EVENTQ	  0
#define VINPUT_STATUSQ	  1
#define VINPUT_NUM_QUEUES 2
#define VINPUT_VECTORS	  (1 + VINPUT_NUM_QUEUES)
#define VINPUT_QUEUE_MAX  64
#define VINPUT_ABS_MAX	  0x7fff /* as QEMU's virtio-tablet: 0..32767 */
#define VINPUT_FIFO	  256	 /* events kept while the guest posts no buffers */

enum vinput_kind {
	VINPUT_KEYBOARD,
	VINPUT_TABLET,
};

struct vinput_stats {
	uint64_t events;  /* delivered to the guest */
	uint64_t dropped; /* dropped: the FIFO was full */
	uint64_t status;  /* statusq buffers consumed */
	uint64_t bad;	  /* malformed chains (too short, wrong direction) */
};

struct vinput;

/* A device of kind k on the transport resources p (not owned; they
 * outlive it). 0 and *out, or -errno with one line in err. */
int vinput_create(struct vinput **out, enum vinput_kind k, const struct vdev_params *p, char *err,
		  size_t errlen);
void vinput_destroy(struct vinput *v); /* NULL is fine */
struct vdev *vinput_vdev(struct vinput *v);

/* Keyboard: key code (KEY_* of linux/input-event-codes.h, 1..KEY_MAX the
 * keyboard offers; others are ignored) went down or up, then EV_SYN. */
void vinput_key(struct vinput *v, unsigned code, bool down);
/* Tablet: the pointer at x, y of a w x h picture (scaled to
 * 0..VINPUT_ABS_MAX), buttons held (RFB's mask: bit 0 left, 1 middle, 2
 * right, 3 wheel up, 4 wheel down); only what changed since the last call
 * is sent (a wheel bit is a click: REL_WHEEL +1 or -1), then EV_SYN. */
void vinput_pointer(struct vinput *v, uint32_t x, uint32_t y, uint32_t w, uint32_t h,
		    uint8_t buttons);
void vinput_get_stats(const struct vinput *v, struct vinput_stats *out);
