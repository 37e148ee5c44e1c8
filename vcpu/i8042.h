/* The i8042 keyboard controller, and the AT keyboard behind it when the VM
 * has a display (moat-display feeds it key strokes).
 *
 * Without a keyboard it is just enough of a controller for Linux to find it
 * quickly and to reset the machine through it (command 0xFE on port 0x64,
 * what the guest's reboot=k does): a byte sent to the keyboard or the mouse
 * is answered with a NAK (0xFE) at once, without an interrupt, so firmware
 * waiting for an answer gives up now rather than after its timeout.
 *
 * With a keyboard (i8042_attach_keyboard), the keyboard answers the AT
 * command set as an MF2 keyboard does, sends scan code set 2 (or set 1 when
 * the guest asks for it), and the controller translates to set 1 when the
 * command byte's XLATE bit is set, raising IRQ 1 for each byte it makes
 * ready when the command byte allows it. There is never a mouse.
 *
 * i8042.c is the controller (ports, commands, output buffer, interrupt);
 * i8042_kbd.c the keyboard (its commands, its queue, the translation). */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef void (*i8042_reset_fn)(void *opaque);
/* An interrupt line: IRQ 1 for the keyboard (never 12: no mouse). Each byte
 * made ready is an edge, level 1 then level 0, as KVM_IRQ_LINE takes it for
 * the ISA (edge-triggered) interrupts. Called without the lock held. */
typedef void (*i8042_irq_fn)(void *opaque, unsigned irq, bool level);

#define I8042_KBD_IRQ 1
/* What the keyboard may hold for the controller: answers to the guest's
 * commands and scan codes. Scan codes are taken only while at most
 * I8042_KBD_KEYS bytes wait in all, queue and output buffer: about what a
 * real keyboard buffers, and what the probes drain before they give up on
 * the controller (SeaBIOS's i8042_flush reads 15 and fails on a 16th,
 * Linux's reads 16). */
#define I8042_KBD_QUEUE 64
#define I8042_KBD_KEYS	15

/* The keyboard, as the controller sees it (i8042_kbd.c). */
struct i8042_kbd {
	bool present;
	bool scanning;	   /* sends key strokes: 0xF4 on, 0xF5 off */
	uint8_t set;	   /* scan code set sent: 2, or 1 when asked */
	uint8_t cmd;	   /* command waiting for its argument, or 0 */
	uint8_t leds;	   /* 0xED's argument: scroll, num, caps lock */
	uint8_t typematic; /* 0xF3's argument: kept, not used (clients repeat) */
	uint8_t q[I8042_KBD_QUEUE];
	uint8_t head; /* index of the oldest byte in q */
	uint8_t count;
	uint64_t dropped; /* scan code bytes refused: full, disabled, too long */
};

struct i8042 {
	pthread_mutex_t lock;
	i8042_reset_fn reset;
	i8042_irq_fn irq;
	void *opaque;
	uint8_t ctr; /* controller command byte */
	uint8_t out; /* output buffer */
	bool out_full;
	bool out_aux;	 /* the output byte came from the aux port */
	bool out_kbd;	 /* ... from the keyboard's queue: out_raw, out_brk say how */
	uint8_t out_raw; /* the keyboard's byte before translation */
	bool out_brk;	 /* translation folded an 0xF0 into it */
	bool xl_brk;	 /* translation took an 0xF0: the next code is a break */
	bool irq_due;	 /* a byte became ready: signal IRQ 1 once unlocked */
	uint8_t pending; /* command waiting for a data byte on port 0x60, or 0 */
	struct i8042_kbd kbd;
};

void i8042_init(struct i8042 *k, i8042_reset_fn reset, i8042_irq_fn irq, void *opaque);
/* iobus handler for ports 0x60 and 0x64. */
void i8042_io(void *opaque, uint16_t port, uint8_t *data, unsigned len, bool is_write);
/* A keyboard is plugged in (before the guest runs: moat-vcpu does it when
 * the VM has a display). The command byte becomes what firmware leaves
 * (translation and keyboard interrupt on, aux port off), so a kernel booted
 * directly finds the controller as it would after a BIOS. */
void i8042_attach_keyboard(struct i8042 *k);
/* Key strokes from moat-display: the set-2 bytes the keyboard sends, one
 * key event a call (ps2_set2_encode's output). A call is taken whole or
 * dropped whole (counted), so a sequence is never cut in two; dropped too
 * while there is no keyboard or the guest has turned scanning off (0xF5).
 * While the controller holds the keyboard off (command byte bit 4) they
 * wait. Any bytes are only data for the guest. Never blocks but for the
 * lock; may signal IRQ 1. */
void i8042_kbd_input(struct i8042 *k, const uint8_t *codes, size_t n);
/* Scan code bytes dropped so far. */
uint64_t i8042_kbd_dropped(struct i8042 *k);

/* Between i8042.c and i8042_kbd.c; the caller holds the lock. */
void i8042_kbd_power_on(struct i8042_kbd *kb);
bool i8042_kbd_receive(struct i8042_kbd *kb, uint8_t v);
bool i8042_kbd_keys(struct i8042_kbd *kb, const uint8_t *codes, size_t n, unsigned waiting);
bool i8042_kbd_pop(struct i8042_kbd *kb, uint8_t *v);
void i8042_kbd_unpop(struct i8042_kbd *kb, uint8_t v);
uint8_t i8042_xlate(uint8_t set2);
