/* The i8042 controller (i8042.h): ports 0x60 and 0x64, its commands, the
 * output buffer the guest reads, and IRQ 1. The keyboard itself is in
 * i8042_kbd.c. */
#include "i8042.h"

#include <string.h>

#define PORT_DATA    0x60
#define STR_OBF	     0x01
#define STR_SYSFLAG  0x04
#define STR_CMD	     0x08
#define STR_UNLOCKED 0x10 /* the key lock switch is off: keys go through */
#define STR_AUXDATA  0x20
#define CTR_KBDINT   0x01
#define CTR_KBDDIS   0x10
#define CTR_AUXDIS   0x20
#define CTR_XLATE    0x40
#define CMD_RCTR     0x20
#define CMD_WCTR     0x60
#define CMD_AUX_DIS  0xa7
#define CMD_AUX_EN   0xa8
#define CMD_AUX_TEST 0xa9
#define CMD_SELFTEST 0xaa
#define CMD_KBD_TEST 0xab
#define CMD_KBD_DIS  0xad
#define CMD_KBD_EN   0xae
#define CMD_WOUTPORT 0xd1
#define CMD_KBD_OBUF 0xd2
#define CMD_AUX_LOOP 0xd3
#define CMD_AUX_SEND 0xd4
#define CMD_RESET    0xfe
/* What a device byte gets when no device is there to take it. */
#define DEV_NAK 0xfe
#define BREAK	0xf0 /* set 2's break prefix, folded away by the translation */

void i8042_init(struct i8042 *k, i8042_reset_fn reset, i8042_irq_fn irq, void *opaque)
{
	memset(k, 0, sizeof(*k));
	pthread_mutex_init(&k->lock, NULL);
	k->reset = reset;
	k->irq = irq;
	k->opaque = opaque;
	k->ctr = 0x30; /* both ports disabled, no interrupts: nothing to deliver */
}

void i8042_attach_keyboard(struct i8042 *k)
{
	pthread_mutex_lock(&k->lock);
	k->kbd.present = true;
	i8042_kbd_power_on(&k->kbd);
	k->ctr = CTR_XLATE | CTR_AUXDIS | CTR_KBDINT; /* as SeaBIOS leaves it */
	pthread_mutex_unlock(&k->lock);
}

/* Drop the lock, then signal IRQ 1 if a byte became ready meanwhile: an
 * edge, as the ISA interrupt is, so that each byte interrupts once. The
 * callback runs unlocked: it may take its own locks. */
static void unlock_signal(struct i8042 *k)
{
	bool due = k->irq_due;

	k->irq_due = false;
	pthread_mutex_unlock(&k->lock);
	if (due && k->irq) {
		k->irq(k->opaque, I8042_KBD_IRQ, true);
		k->irq(k->opaque, I8042_KBD_IRQ, false);
	}
}

/* A byte is in the output buffer: it interrupts if it is the keyboard's
 * side (not aux), the guest allows it, and there is a keyboard at all
 * (without one, the controller never interrupted). */
static void ready(struct i8042 *k)
{
	if (!k->out_aux && k->kbd.present && (k->ctr & CTR_KBDINT))
		k->irq_due = true;
}

/* The controller's own byte (an answer, a NAK, a loopback) takes the output
 * buffer. A keyboard byte still unread there goes back to the head of the
 * keyboard's queue, not lost: the guest reads the answer it polls for, then
 * the key. */
static void push(struct i8042 *k, uint8_t v, bool aux)
{
	if (k->out_full && k->out_kbd) {
		i8042_kbd_unpop(&k->kbd, k->out_raw);
		if (k->out_brk)
			i8042_kbd_unpop(&k->kbd, BREAK);
	}
	k->out = v;
	k->out_full = true;
	k->out_aux = aux;
	k->out_kbd = false;
	ready(k);
}

/* Move the keyboard's next byte into an empty output buffer, unless the
 * command byte holds the keyboard off (bytes then wait in its queue). With
 * XLATE set, the byte is translated to set 1 and a break prefix is folded
 * into the code after it, as an 8042 does. */
static void fill(struct i8042 *k)
{
	uint8_t raw;

	if (k->out_full || (k->ctr & CTR_KBDDIS))
		return;
	while (i8042_kbd_pop(&k->kbd, &raw)) {
		uint8_t v = raw;
		bool brk = false;

		if (k->ctr & CTR_XLATE) {
			if (raw == BREAK) {
				k->xl_brk = true;
				continue;
			}
			brk = k->xl_brk;
			v = i8042_xlate(raw) | (brk ? 0x80 : 0);
			k->xl_brk = false;
		}
		k->out = v;
		k->out_full = true;
		k->out_aux = false;
		k->out_kbd = true;
		k->out_raw = raw;
		k->out_brk = brk;
		ready(k);
		return;
	}
}

/* The command byte. Turning the keyboard interrupt on with a keyboard byte
 * unread interrupts for it, as the line of a real 8042 follows its output
 * buffer; turning the keyboard on lets waiting bytes through. */
static void write_ctr(struct i8042 *k, uint8_t v)
{
	bool int_on = !(k->ctr & CTR_KBDINT) && (v & CTR_KBDINT);

	k->ctr = v;
	if (int_on && k->out_full)
		ready(k);
	fill(k);
}

/* Returns true when the command asks for a machine reset. A command drops
 * one still waiting for its data byte. */
static bool command(struct i8042 *k, uint8_t cmd)
{
	k->pending = 0;
	switch (cmd) {
	case CMD_RCTR:
		push(k, k->ctr, false);
		break;
	case CMD_WCTR:
	case CMD_WOUTPORT:
	case CMD_KBD_OBUF:
	case CMD_AUX_LOOP:
	case CMD_AUX_SEND:
		k->pending = cmd;
		break;
	case CMD_SELFTEST:
		push(k, 0x55, false);
		break;
	case CMD_KBD_TEST:
	case CMD_AUX_TEST:
		push(k, 0x00, false);
		break;
	case CMD_AUX_DIS:
		k->ctr |= CTR_AUXDIS;
		break;
	case CMD_AUX_EN:
		k->ctr &= ~CTR_AUXDIS;
		break;
	case CMD_KBD_DIS:
		k->ctr |= CTR_KBDDIS;
		break;
	case CMD_KBD_EN:
		k->ctr &= ~CTR_KBDDIS;
		fill(k);
		break;
	case CMD_RESET:
		return true;
	default:
		break; /* unknown commands are ignored, as by many real controllers */
	}
	return false;
}

/* A byte for the keyboard. Without one, refuse it at once (a NAK), so that
 * firmware polling for the ACK gives up now rather than after its timeout
 * (SeaBIOS waits a second). With one, sending to it enables its interface,
 * as on many 8042s and in QEMU: the host expects the answer. */
static void to_keyboard(struct i8042 *k, uint8_t v)
{
	if (!k->kbd.present) {
		push(k, DEV_NAK, false);
		return;
	}
	k->ctr &= ~CTR_KBDDIS;
	if (i8042_kbd_receive(&k->kbd, v))
		k->xl_brk = false;
	fill(k);
}

/* A byte on port 0x60: the data of the command waiting for one, or else a
 * byte for the keyboard. */
static void data_write(struct i8042 *k, uint8_t v)
{
	uint8_t pending = k->pending;

	k->pending = 0;
	switch (pending) {
	case CMD_WCTR:
		write_ctr(k, v);
		break;
	case CMD_WOUTPORT:
		/* The output port: A20, always on under KVM, and the reset
		 * line, which the guest reaches by command 0xFE. Taken so
		 * the byte does not reach the keyboard. */
		break;
	case CMD_KBD_OBUF:
		push(k, v, false); /* as if from the keyboard, untranslated */
		break;
	case CMD_AUX_LOOP:
		push(k, v, true);
		break;
	case CMD_AUX_SEND:
		push(k, DEV_NAK, true);
		break;
	default:
		to_keyboard(k, v);
		break;
	}
}

static uint8_t status(const struct i8042 *k)
{
	return STR_SYSFLAG | STR_CMD | (k->out_full ? STR_OBF : 0) |
	       (k->out_full && k->out_aux ? STR_AUXDATA : 0) | (k->kbd.present ? STR_UNLOCKED : 0);
}

void i8042_io(void *opaque, uint16_t port, uint8_t *data, unsigned len, bool is_write)
{
	struct i8042 *k = opaque;
	bool reset = false;

	pthread_mutex_lock(&k->lock);
	if (is_write) {
		if (port == PORT_DATA)
			data_write(k, data[0]);
		else
			reset = command(k, data[0]);
	} else {
		memset(data, 0, len);
		if (port == PORT_DATA) {
			data[0] = k->out; /* with nothing new, the last byte again */
			k->out_full = false;
			k->out_kbd = false;
			fill(k);
		} else {
			data[0] = status(k);
		}
	}
	unlock_signal(k);
	if (reset && k->reset)
		k->reset(k->opaque);
}

void i8042_kbd_input(struct i8042 *k, const uint8_t *codes, size_t n)
{
	pthread_mutex_lock(&k->lock);
	if (i8042_kbd_keys(&k->kbd, codes, n, k->out_full && !k->out_aux))
		fill(k);
	unlock_signal(k);
}

uint64_t i8042_kbd_dropped(struct i8042 *k)
{
	uint64_t n;

	pthread_mutex_lock(&k->lock);
	n = k->kbd.dropped;
	pthread_mutex_unlock(&k->lock);
	return n;
}
