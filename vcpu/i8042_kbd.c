/* The AT keyboard behind the i8042 (i8042.h): its command set as an MF2
 * keyboard answers it, the bytes it holds for the controller, and the
 * 8042's translation of scan code set 2 into set 1.
 *
 * References, read for behaviour (no code taken): Linux's
 * drivers/input/keyboard/atkbd.c and serio/libps2.c (what a guest probes
 * and expects), SeaBIOS's src/hw/ps2port.c (what firmware does), QEMU's
 * hw/input/ps2.c (another model). The translation table is the one every
 * 8042 carries (IBM's AT technical reference), written out here by code. */
#include "i8042.h"

#include <string.h>

/* What the keyboard sends. */
#define KBD_ACK	   0xfa
#define KBD_RESEND 0xfe /* the NAK: "send that again" */
#define KBD_BAT_OK 0xaa /* self test passed, after a reset */
#define KBD_ID0	   0xab /* MF2 keyboard: 0xAB 0x83 */
#define KBD_ID1	   0x83
#define KBD_BREAK  0xf0 /* set 2: the next code is a key's release */

/* What the keyboard takes. 0xED and up are commands; a byte in that range
 * where an argument is awaited is a new command (a keyboard never takes
 * one for an argument), anything lower is the argument. */
#define KCMD_LEDS      0xed /* +arg */
#define KCMD_ECHO      0xee
#define KCMD_SCANSET   0xf0 /* +arg: 0 asks, 1-3 set */
#define KCMD_ID	       0xf2
#define KCMD_TYPEMATIC 0xf3 /* +arg */
#define KCMD_ENABLE    0xf4
#define KCMD_DISABLE   0xf5 /* defaults, and stop scanning */
#define KCMD_DEFAULTS  0xf6 /* defaults, and scan */
#define KCMD_RESET     0xff

#define TYPEMATIC_DEFAULT 0x2b /* 10.9 characters a second after 500 ms */

/* Set 2 codes 0x00-0x7f to set 1, by the set 2 code. In set 1 a key's code
 * is its make code and the break is the same with bit 7 set. */
static const uint8_t xlate_lo[0x80] = {
    /* 0x00 */ 0xff, 0x43, 0x41, 0x3f, 0x3d, 0x3b, 0x3c, 0x58,
    /* 0x08 */ 0x64, 0x44, 0x42, 0x40, 0x3e, 0x0f, 0x29, 0x59,
    /* 0x10 */ 0x65, 0x38, 0x2a, 0x70, 0x1d, 0x10, 0x02, 0x5a,
    /* 0x18 */ 0x66, 0x71, 0x2c, 0x1f, 0x1e, 0x11, 0x03, 0x5b,
    /* 0x20 */ 0x67, 0x2e, 0x2d, 0x20, 0x12, 0x05, 0x04, 0x5c,
    /* 0x28 */ 0x68, 0x39, 0x2f, 0x21, 0x14, 0x13, 0x06, 0x5d,
    /* 0x30 */ 0x69, 0x31, 0x30, 0x23, 0x22, 0x15, 0x07, 0x5e,
    /* 0x38 */ 0x6a, 0x72, 0x32, 0x24, 0x16, 0x08, 0x09, 0x5f,
    /* 0x40 */ 0x6b, 0x33, 0x25, 0x17, 0x18, 0x0b, 0x0a, 0x60,
    /* 0x48 */ 0x6c, 0x34, 0x35, 0x26, 0x27, 0x19, 0x0c, 0x61,
    /* 0x50 */ 0x6d, 0x73, 0x28, 0x74, 0x1a, 0x0d, 0x62, 0x6e,
    /* 0x58 */ 0x3a, 0x36, 0x1c, 0x1b, 0x75, 0x2b, 0x63, 0x76,
    /* 0x60 */ 0x55, 0x56, 0x77, 0x78, 0x79, 0x7a, 0x0e, 0x7b,
    /* 0x68 */ 0x7c, 0x4f, 0x7d, 0x4b, 0x47, 0x7e, 0x7f, 0x6f,
    /* 0x70 */ 0x52, 0x53, 0x50, 0x4c, 0x4d, 0x48, 0x01, 0x45,
    /* 0x78 */ 0x57, 0x4e, 0x51, 0x4a, 0x37, 0x49, 0x46, 0x54,
};

/* One byte through the 8042's translation. Bytes from 0x80 pass unchanged
 * (prefixes 0xE0 and 0xE1, the keyboard's answers 0xFA, 0xAA, 0xEE, 0xFE,
 * 0xAB) but for the two set 2 key codes above 0x7f. The 0xF0 break prefix
 * is the caller's: the 8042 swallows it and sets bit 7 of the next code. */
uint8_t i8042_xlate(uint8_t set2)
{
	if (set2 < 0x80)
		return xlate_lo[set2];
	if (set2 == 0x83) /* F7; also the ID's second byte: 0xAB 0x83 reads 0xAB 0x41 */
		return 0x41;
	if (set2 == 0x84) /* Alt+Print Screen (SysRq) */
		return 0x54;
	return set2;
}

static bool put(struct i8042_kbd *kb, uint8_t v)
{
	if (kb->count == I8042_KBD_QUEUE)
		return false;
	kb->q[(kb->head + kb->count) % I8042_KBD_QUEUE] = v;
	kb->count++;
	return true;
}

bool i8042_kbd_pop(struct i8042_kbd *kb, uint8_t *v)
{
	if (kb->count == 0)
		return false;
	*v = kb->q[kb->head];
	kb->head = (kb->head + 1) % I8042_KBD_QUEUE;
	kb->count--;
	return true;
}

/* The controller gives back a byte it had taken but not delivered (its own
 * answer took the output buffer): it goes first again. With the queue full,
 * the newest byte makes room. */
void i8042_kbd_unpop(struct i8042_kbd *kb, uint8_t v)
{
	if (kb->count == I8042_KBD_QUEUE) {
		kb->count--;
		kb->dropped++;
	}
	kb->head = (kb->head + I8042_KBD_QUEUE - 1) % I8042_KBD_QUEUE;
	kb->q[kb->head] = v;
	kb->count++;
}

/* 0xF5 and 0xF6: typematic and scan code set back to their defaults, and
 * nothing more to send of what was queued. */
static void defaults(struct i8042_kbd *kb)
{
	kb->set = 2;
	kb->typematic = TYPEMATIC_DEFAULT;
	kb->cmd = 0;
	kb->count = 0;
}

/* Power on and 0xFF: defaults, LEDs off, scanning. */
void i8042_kbd_power_on(struct i8042_kbd *kb)
{
	defaults(kb);
	kb->leds = 0;
	kb->scanning = true;
}

/* The byte after 0xED, 0xF3 or 0xF0. Scan code sets: 2 is what
 * moat-display sends; 1 the keyboard makes from it with the 8042's table
 * (i8042_kbd_keys); 3 is refused with a resend, which Linux's atkbd takes
 * as "no set 3" and stays on set 2, and a guest may then send another set
 * or command. Asked (argument 0), the keyboard sends the set's number
 * after its ACK; through the translation, 2 reads 0x41. */
static void argument(struct i8042_kbd *kb, uint8_t v)
{
	switch (kb->cmd) {
	case KCMD_LEDS:
		kb->leds = v & 7;
		break;
	case KCMD_TYPEMATIC:
		kb->typematic = v & 0x7f;
		break;
	case KCMD_SCANSET:
		if (v == 0) {
			put(kb, KBD_ACK);
			put(kb, kb->set);
			kb->cmd = 0;
			return;
		}
		if (v > 2) {
			put(kb, KBD_RESEND); /* still waiting for a set */
			return;
		}
		kb->set = v;
		break;
	default:
		break;
	}
	kb->cmd = 0;
	put(kb, KBD_ACK);
}

/* A byte from the host (port 0x60). Answers go after what the keyboard
 * already holds, as Linux's libps2 expects: it passes on key bytes that
 * come before the ACK. Returns true when the keyboard emptied its queue
 * (the controller then forgets a half-translated break). */
bool i8042_kbd_receive(struct i8042_kbd *kb, uint8_t v)
{
	if (kb->cmd && v < KCMD_LEDS) {
		argument(kb, v);
		return false;
	}
	kb->cmd = 0;
	switch (v) {
	case KCMD_LEDS:
	case KCMD_TYPEMATIC:
	case KCMD_SCANSET:
		kb->cmd = v;
		put(kb, KBD_ACK);
		return false;
	case KCMD_ECHO:
		put(kb, KCMD_ECHO);
		return false;
	case KCMD_ID:
		put(kb, KBD_ACK);
		put(kb, KBD_ID0);
		put(kb, KBD_ID1);
		return false;
	case KCMD_ENABLE:
		kb->count = 0;
		kb->scanning = true;
		put(kb, KBD_ACK);
		return true;
	case KCMD_DISABLE:
	case KCMD_DEFAULTS:
		defaults(kb);
		kb->scanning = v == KCMD_DEFAULTS;
		put(kb, KBD_ACK);
		return true;
	case KCMD_RESET:
		i8042_kbd_power_on(kb);
		put(kb, KBD_ACK);
		put(kb, KBD_BAT_OK);
		return true;
	default:
		/* The set-3-only key type commands (0xF7-0xFD), resend (0xFE)
		 * and anything unknown. */
		put(kb, KBD_RESEND);
		return false;
	}
}

/* What a keyboard in set 1 sends for set 2 input: the same translation,
 * done in the keyboard. Returns the length (0xF0 prefixes fold away). */
static size_t to_set1(const uint8_t *in, size_t n, uint8_t *out)
{
	bool brk = false;
	size_t m = 0;

	for (size_t i = 0; i < n; i++) {
		if (in[i] == KBD_BREAK) {
			brk = true;
			continue;
		}
		out[m++] = i8042_xlate(in[i]) | (brk ? 0x80 : 0);
		brk = false;
	}
	return m;
}

/* A key event from moat-display, waiting bytes already in the controller's
 * output buffer. Taken whole, or dropped whole and counted: the keyboard
 * must be there and scanning, and all bytes waiting, these included, must
 * stay within I8042_KBD_KEYS. Returns true when taken. */
bool i8042_kbd_keys(struct i8042_kbd *kb, const uint8_t *codes, size_t n, unsigned waiting)
{
	uint8_t set1[I8042_KBD_KEYS];

	if (n == 0)
		return false;
	if (!kb->present || !kb->scanning || n > I8042_KBD_KEYS)
		goto drop;
	if (kb->set == 1) {
		n = to_set1(codes, n, set1);
		codes = set1;
	}
	if (waiting + kb->count + n > I8042_KBD_KEYS)
		goto drop;
	for (size_t i = 0; i < n; i++)
		put(kb, codes[i]);
	return true;
drop:
	kb->dropped += n;
	return false;
}
