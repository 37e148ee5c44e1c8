/* The i8042 controller and its keyboard (vcpu/i8042.c, i8042_kbd.c), driven
 * through the port handler as a guest does: the probes of Linux (i8042.c,
 * atkbd.c) and SeaBIOS (ps2port.c) step by step, keys with and without the
 * set 1 translation, the interrupt, the bounds, and hostile use. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "i8042.h"
#include "tap.h"

/* Every interrupt line change, and whether one came with the lock held. */
static int irq_levels[64];
static int nirq;
static bool irq_bad;

static void irq_cb(void *o, unsigned irq, bool level)
{
	struct i8042 *k = o;

	if (pthread_mutex_trylock(&k->lock) != 0)
		irq_bad = true; /* called with the lock held */
	else
		pthread_mutex_unlock(&k->lock);
	if (irq != I8042_KBD_IRQ)
		irq_bad = true;
	if (nirq < (int)(sizeof(irq_levels) / sizeof(irq_levels[0])))
		irq_levels[nirq++] = level;
	else
		irq_bad = true;
}

/* Edges since the last call, each a 1 then a 0; -1 for anything else. */
static int edges(void)
{
	int n = 0;

	for (int i = 0; i < nirq; i += 2, n++)
		if (i + 1 >= nirq || irq_levels[i] != 1 || irq_levels[i + 1] != 0)
			return -1;
	nirq = 0;
	return irq_bad ? -1 : n;
}

static int resets;
static void reset_cb(void *o)
{
	resets++;
}

static void setup(struct i8042 *k, bool keyboard)
{
	i8042_init(k, reset_cb, irq_cb, k);
	if (keyboard)
		i8042_attach_keyboard(k);
	nirq = 0;
	irq_bad = false;
}

static uint8_t rd(struct i8042 *k, uint16_t port)
{
	uint8_t v[4] = {0xaa, 0xaa, 0xaa, 0xaa};

	i8042_io(k, port, v, 1, false);
	return v[0];
}

static void wr(struct i8042 *k, uint16_t port, uint8_t val)
{
	i8042_io(k, port, &val, 1, true);
}

#define ST(k)	       rd((k), 0x64)
#define CMD(k, c)      wr((k), 0x64, (c))
#define CMD1(k, c, a)  (wr((k), 0x64, (c)), wr((k), 0x60, (a)))
#define KBD(k, b)      wr((k), 0x60, (b))
#define KBDS(k, ...)   writes((k), BYTES(__VA_ARGS__))
#define BYTES(...)     (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__})
#define KEYS(k, ...)   i8042_kbd_input((k), BYTES(__VA_ARGS__))
#define EXPECT(k, ...) CHECK(expect((k), BYTES(__VA_ARGS__)) == 0)

/* Bytes to the keyboard, one after the other, none read. */
static void writes(struct i8042 *k, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		wr(k, 0x60, b[i]);
}

/* The guest reads exactly these bytes from the keyboard side, then the
 * output buffer is empty. */
static int expect(struct i8042 *k, const uint8_t *want, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t st = ST(k);
		uint8_t v;

		if ((st & 0x21) != 0x01) {
			fprintf(stderr, "byte %zu: status %#x, wanted %#x\n", i, st, want[i]);
			return 1;
		}
		v = rd(k, 0x60);
		if (v != want[i]) {
			fprintf(stderr, "byte %zu: read %#x, wanted %#x\n", i, v, want[i]);
			return 1;
		}
	}
	if (ST(k) & 0x01) {
		fprintf(stderr, "more: %#x\n", rd(k, 0x60));
		return 1;
	}
	return 0;
}

/* Read all there is, at most max bytes; returns how many. */
static int drain(struct i8042 *k, int max)
{
	int n = 0;

	while ((ST(k) & 0x01) && n < max) {
		rd(k, 0x60);
		n++;
	}
	return n;
}

/* No keyboard: bytes to it are refused at once, keys go nowhere, and the
 * controller never interrupts, whatever the command byte says. */
static int t_no_keyboard(void)
{
	struct i8042 k;

	setup(&k, false);
	CHECK(ST(&k) == 0x0c);
	KBD(&k, 0xff);
	CHECK(ST(&k) == 0x0d);
	EXPECT(&k, 0xfe);
	CMD1(&k, 0x60, 0x47); /* interrupts and translation on */
	KBD(&k, 0xf2);
	EXPECT(&k, 0xfe);
	KEYS(&k, 0x1c);
	CHECK((ST(&k) & 0x01) == 0);
	CHECK(i8042_kbd_dropped(&k) == 1);
	CMD1(&k, 0xd4, 0xf4); /* the mouse: none either */
	CHECK((ST(&k) & 0x21) == 0x21);
	CHECK(rd(&k, 0x60) == 0xfe);
	CMD(&k, 0x20);
	EXPECT(&k, 0x47);
	CHECK(nirq == 0 && !irq_bad);
	return 0;
}

/* What Linux does from i8042_probe to a working atkbd, after firmware (or
 * i8042_attach_keyboard) left translation on. Every byte the keyboard
 * sends interrupts once the port is enabled. */
static int t_linux_probe(void)
{
	struct i8042 k;

	setup(&k, true);
	CHECK(drain(&k, 16) == 0); /* i8042_controller_check: flush */
	CHECK(ST(&k) & 0x10);	   /* no key lock */
	CMD(&k, 0xaa);		   /* i8042_controller_selftest */
	EXPECT(&k, 0x55);
	CMD(&k, 0x20); /* i8042_controller_init: a stable CTR read */
	EXPECT(&k, 0x61);
	CMD(&k, 0x20);
	EXPECT(&k, 0x61);
	CMD1(&k, 0x60, 0x70); /* keyboard off, its interrupt off, XLATE kept */
	CMD(&k, 0x20);
	EXPECT(&k, 0x70);
	CMD1(&k, 0xd3, 0x5a); /* i8042_check_aux: loopback */
	CHECK((ST(&k) & 0x21) == 0x21);
	CHECK(rd(&k, 0x60) == 0x5a);
	CMD(&k, 0xa7);
	CMD(&k, 0x20);
	EXPECT(&k, 0x70);
	CMD1(&k, 0x60, 0x61); /* i8042_enable_kbd_port */
	edges();
	KBD(&k, 0xf2); /* atkbd_probe: GETID, translated ID 0xAB 0x41 */
	EXPECT(&k, 0xfa, 0xab, 0x41);
	CHECK(edges() == 3);
	KBD(&k, 0xf5); /* atkbd_deactivate */
	EXPECT(&k, 0xfa);
	KEYS(&k, 0x1c); /* not scanning: dropped */
	CHECK((ST(&k) & 0x01) == 0);
	KBDS(&k, 0xed, 0x00); /* atkbd_reset_state: LEDs, then the repeat rate */
	EXPECT(&k, 0xfa, 0xfa);
	KBDS(&k, 0xf3, 0x20);
	EXPECT(&k, 0xfa, 0xfa);
	KBD(&k, 0xf4); /* atkbd_activate */
	EXPECT(&k, 0xfa);
	CHECK(edges() == 6);
	KBDS(&k, 0xed, 0x04); /* Caps Lock pressed: its LED */
	EXPECT(&k, 0xfa, 0xfa);
	CHECK(k.kbd.leds == 4);
	KEYS(&k, 0x1c); /* A, in set 1 */
	EXPECT(&k, 0x1e);
	KEYS(&k, 0xf0, 0x1c);
	EXPECT(&k, 0x9e);
	CHECK(edges() == 4);
	return 0;
}

/* Linux with i8042.direct=1 (or firmware that left XLATE off): raw set 2,
 * the ID untranslated, and atkbd's set 3 attempt refused. */
static int t_linux_direct(void)
{
	struct i8042 k;

	setup(&k, true);
	CMD1(&k, 0x60, 0x21);
	KBD(&k, 0xf2);
	EXPECT(&k, 0xfa, 0xab, 0x83);
	KBD(&k, 0xe8); /* ATKBD_CMD_OK_GETID: not ours */
	EXPECT(&k, 0xfe);
	KBDS(&k, 0xf0, 0x03, 0x03); /* set 3: refused, twice as libps2 retries */
	EXPECT(&k, 0xfa, 0xfe, 0xfe);
	KBDS(&k, 0xf0, 0x00); /* a command where the argument was awaited */
	EXPECT(&k, 0xfa, 0xfa, 0x02);
	KEYS(&k, 0xe0, 0x75);
	EXPECT(&k, 0xe0, 0x75);
	KEYS(&k, 0xe0, 0xf0, 0x75);
	EXPECT(&k, 0xe0, 0xf0, 0x75);
	return 0;
}

/* SeaBIOS's __ps2_command for a keyboard command: interrupts and both
 * ports off, then the keyboard's port on, then the bytes. */
static void sb_cmd(struct i8042 *k, uint8_t ps2ctr, const uint8_t *b, size_t n)
{
	uint8_t ctr = (ps2ctr | 0x30) & ~0x03;

	CMD1(k, 0x60, ctr);
	CMD1(k, 0x60, ctr & ~0x10);
	writes(k, b, n);
}
#define SB_CMD(k, ctr, ...) sb_cmd((k), (ctr), BYTES(__VA_ARGS__))

/* SeaBIOS's ps2_keyboard_setup and its keyboard interrupt handler. */
static int t_seabios(void)
{
	struct i8042 k;

	setup(&k, true);
	CHECK(drain(&k, 16) == 0);
	CMD(&k, 0xaa);
	EXPECT(&k, 0x55);
	CMD(&k, 0xab);
	EXPECT(&k, 0x00);
	edges(); /* answers interrupt with the CTR attach left: SeaBIOS yields to flush them */
	SB_CMD(&k, 0x30, 0xff); /* Ps2ctr KBDDIS | AUXDIS; reset: ACK, BAT */
	EXPECT(&k, 0xfa, 0xaa);
	CMD1(&k, 0x60, 0x30); /* the old CTR back, after each command */
	SB_CMD(&k, 0x30, 0xf5);
	EXPECT(&k, 0xfa);
	CMD1(&k, 0x60, 0x30);
	SB_CMD(&k, 0x30, 0xf0, 0x02); /* scan code set 2 */
	EXPECT(&k, 0xfa, 0xfa);
	CMD1(&k, 0x60, 0x30);
	SB_CMD(&k, 0x61, 0xf4); /* Ps2ctr AUXDIS | XLATE | KBDINT; enable */
	EXPECT(&k, 0xfa);
	CMD1(&k, 0x60, 0x61);
	CHECK(edges() == 0); /* all of it polled */
	KEYS(&k, 0x5a);	     /* Enter: handle_09 reads it, then 0xAE */
	CHECK(edges() == 1);
	CHECK((ST(&k) & 0x21) == 0x01);
	CHECK(rd(&k, 0x60) == 0x1c);
	CMD(&k, 0xae);
	KEYS(&k, 0xf0, 0x5a);
	CHECK(edges() == 1);
	EXPECT(&k, 0x9c);
	return 0;
}

/* Keys through the translation (set 1) and without it (set 2 as sent):
 * plain, 0xE0 extended, F7 (the code above 0x7f), Pause, Print Screen. */
static int t_keys(void)
{
	struct i8042 k;

	setup(&k, true);
	KEYS(&k, 0x1c);
	EXPECT(&k, 0x1e);
	KEYS(&k, 0xf0, 0x1c);
	EXPECT(&k, 0x9e);
	KEYS(&k, 0xe0, 0x75);
	EXPECT(&k, 0xe0, 0x48);
	KEYS(&k, 0xe0, 0xf0, 0x75);
	EXPECT(&k, 0xe0, 0xc8);
	KEYS(&k, 0xe0, 0x14);
	EXPECT(&k, 0xe0, 0x1d);
	KEYS(&k, 0xe0, 0xf0, 0x14);
	EXPECT(&k, 0xe0, 0x9d);
	KEYS(&k, 0x83);
	EXPECT(&k, 0x41);
	KEYS(&k, 0xf0, 0x83);
	EXPECT(&k, 0xc1);
	KEYS(&k, 0xe1, 0x14, 0x77, 0xe1, 0xf0, 0x14, 0xf0, 0x77);
	EXPECT(&k, 0xe1, 0x1d, 0x45, 0xe1, 0x9d, 0xc5);
	KEYS(&k, 0xe0, 0x12, 0xe0, 0x7c);
	EXPECT(&k, 0xe0, 0x2a, 0xe0, 0x37);
	KEYS(&k, 0xe0, 0xf0, 0x7c, 0xe0, 0xf0, 0x12);
	EXPECT(&k, 0xe0, 0xb7, 0xe0, 0xaa);
	CHECK(edges() == 26);
	CMD1(&k, 0x60, 0x21); /* XLATE off */
	KEYS(&k, 0xf0, 0x1c);
	EXPECT(&k, 0xf0, 0x1c);
	KEYS(&k, 0xe0, 0xf0, 0x75);
	EXPECT(&k, 0xe0, 0xf0, 0x75);
	KEYS(&k, 0x83);
	EXPECT(&k, 0x83);
	KEYS(&k, 0xe1, 0x14, 0x77, 0xe1, 0xf0, 0x14, 0xf0, 0x77);
	EXPECT(&k, 0xe1, 0x14, 0x77, 0xe1, 0xf0, 0x14, 0xf0, 0x77);
	CHECK(i8042_kbd_dropped(&k) == 0);
	return 0;
}

/* IRQ 1 only with the command byte's bit 0; one edge a byte; never for
 * the aux side. */
static int t_irq(void)
{
	struct i8042 k;

	setup(&k, true);
	CMD1(&k, 0x60, 0x60); /* interrupt off */
	KEYS(&k, 0x1c);
	CHECK((ST(&k) & 0x01) && edges() == 0);
	CMD1(&k, 0x60, 0x61); /* on, with a byte unread: it interrupts */
	CHECK(edges() == 1);
	EXPECT(&k, 0x1e);
	CHECK(edges() == 0);
	KEYS(&k, 0xe0, 0x75);
	CHECK(edges() == 1);
	CHECK(rd(&k, 0x60) == 0xe0);
	CHECK(edges() == 1); /* the next byte, its own edge */
	CHECK(rd(&k, 0x60) == 0x48);
	CHECK(edges() == 0);
	CMD1(&k, 0xd3, 0x11); /* aux loopback: no IRQ 1 */
	CHECK(edges() == 0);
	CHECK(rd(&k, 0x60) == 0x11);
	CMD(&k, 0x20); /* the controller's own answer, on the keyboard side */
	CHECK(edges() == 1);
	EXPECT(&k, 0x61);
	CMD1(&k, 0x60, 0x60);
	KEYS(&k, 0x1c);
	KEYS(&k, 0xf0, 0x1c);
	EXPECT(&k, 0x1e, 0x9e);
	CHECK(edges() == 0);
	return 0;
}

/* Scan codes wait only up to I8042_KBD_KEYS bytes in all; the rest is
 * dropped whole a call and counted, so that Linux's and SeaBIOS's flush
 * (15 reads for SeaBIOS) always empties the controller. Answers to
 * commands have the queue's full size; past it they are lost, the guest's
 * own doing. */
static int t_fifo_overflow(void)
{
	static uint8_t huge[1 << 20];
	struct i8042 k;

	setup(&k, true);
	CMD(&k, 0xad); /* the keyboard held off: bytes wait */
	for (int i = 0; i < 20; i++)
		KEYS(&k, 0x1c);
	CHECK(i8042_kbd_dropped(&k) == 20 - I8042_KBD_KEYS);
	CHECK(k.kbd.count == I8042_KBD_KEYS);
	i8042_kbd_input(&k, huge, sizeof(huge));
	CHECK(i8042_kbd_dropped(&k) == 20 - I8042_KBD_KEYS + sizeof(huge));
	CMD(&k, 0xae);
	CHECK(drain(&k, 100) == I8042_KBD_KEYS && I8042_KBD_KEYS < 16); /* SeaBIOS's flush */
	/* Nine waiting: Pause (8 bytes) no longer fits, a 6-byte event does. */
	CMD(&k, 0xad);
	for (int i = 0; i < 9; i++)
		KEYS(&k, 0x1c);
	KEYS(&k, 0xe1, 0x14, 0x77, 0xe1, 0xf0, 0x14, 0xf0, 0x77);
	CHECK(k.kbd.count == 9);
	KEYS(&k, 0xe0, 0xf0, 0x7c, 0xe0, 0xf0, 0x12);
	CHECK(k.kbd.count == 15);
	CMD(&k, 0xae);
	CHECK(drain(&k, 100) == 13); /* the two 0xF0 folded away */
	/* The output buffer counts too. */
	for (int i = 0; i < 20; i++)
		KEYS(&k, 0x1c);
	CHECK(k.kbd.count == I8042_KBD_KEYS - 1 && (ST(&k) & 0x01));
	CHECK(drain(&k, 100) == I8042_KBD_KEYS);
	/* A flood of commands unread: answers up to the queue's size. */
	CMD(&k, 0xad);
	for (int i = 0; i < 40; i++)
		KBD(&k, 0xf2);
	CHECK(k.kbd.count <= I8042_KBD_QUEUE);
	CHECK(drain(&k, 1000) == I8042_KBD_QUEUE + 1);
	KEYS(&k, 0x1c);
	EXPECT(&k, 0x1e);
	return 0;
}

/* The keyboard turned off by the guest (0xF5) drops keys; held off by the
 * controller (command byte bit 4, 0xAD) keeps them; sending to the
 * keyboard turns its interface back on. */
static int t_disabled(void)
{
	struct i8042 k;

	setup(&k, true);
	KBD(&k, 0xf5);
	EXPECT(&k, 0xfa);
	KEYS(&k, 0x1c);
	CHECK((ST(&k) & 0x01) == 0 && i8042_kbd_dropped(&k) == 1);
	KBD(&k, 0xf4);
	EXPECT(&k, 0xfa);
	KEYS(&k, 0x1c);
	EXPECT(&k, 0x1e);
	CMD(&k, 0xad);
	KEYS(&k, 0x1c);
	CHECK((ST(&k) & 0x01) == 0);
	CMD(&k, 0xae);
	EXPECT(&k, 0x1e);
	CMD(&k, 0xad);
	KEYS(&k, 0x1c);
	KBD(&k, 0xee); /* echo: the interface on again, the key first */
	EXPECT(&k, 0x1e, 0xee);
	CMD(&k, 0x20);
	EXPECT(&k, 0x61);
	KBD(&k, 0xf6); /* defaults, scanning */
	EXPECT(&k, 0xfa);
	KEYS(&k, 0x1c);
	EXPECT(&k, 0x1e);
	CHECK(i8042_kbd_dropped(&k) == 1);
	return 0;
}

/* 0xD2: a byte into the output buffer as if from the keyboard: keyboard
 * side, interrupting, not translated; without a keyboard, no interrupt. */
static int t_write_kbd_obuf(void)
{
	struct i8042 k;

	setup(&k, true);
	CMD1(&k, 0xd2, 0x1c);
	CHECK(edges() == 1);
	EXPECT(&k, 0x1c);
	setup(&k, false);
	CMD1(&k, 0xd2, 0x9c);
	EXPECT(&k, 0x9c);
	CHECK(nirq == 0);
	/* 0xD1's byte (the output port) never reaches the keyboard. */
	setup(&k, true);
	CMD1(&k, 0xd1, 0xdf);
	CHECK((ST(&k) & 0x01) == 0);
	return 0;
}

/* A controller answer while a key byte is unread: the answer first, then
 * the key, untouched (a break stays a break). */
static int t_answer_keeps_key(void)
{
	struct i8042 k;

	setup(&k, true);
	KEYS(&k, 0x1c);
	CMD(&k, 0x20);
	EXPECT(&k, 0x61, 0x1e);
	KEYS(&k, 0xf0, 0x1c);
	CMD(&k, 0xaa);
	EXPECT(&k, 0x55, 0x9e);
	KEYS(&k, 0xe0, 0xf0, 0x75);
	CHECK(rd(&k, 0x60) == 0xe0);
	CMD(&k, 0xab);
	EXPECT(&k, 0x00, 0xc8);
	return 0;
}

/* 0xF0: the set in use (translated: 2 reads 0x41), set 1 made by the
 * keyboard, set 3 refused; a reset goes back to set 2. */
static int t_scan_sets(void)
{
	struct i8042 k;

	setup(&k, true);
	KBDS(&k, 0xf0, 0x00);
	EXPECT(&k, 0xfa, 0xfa, 0x41);
	CMD1(&k, 0x60, 0x21);
	KBDS(&k, 0xf0, 0x00);
	EXPECT(&k, 0xfa, 0xfa, 0x02);
	KBDS(&k, 0xf0, 0x01);
	EXPECT(&k, 0xfa, 0xfa);
	KBDS(&k, 0xf0, 0x00);
	EXPECT(&k, 0xfa, 0xfa, 0x01);
	KEYS(&k, 0x1c);
	EXPECT(&k, 0x1e);
	KEYS(&k, 0xf0, 0x1c);
	EXPECT(&k, 0x9e);
	KEYS(&k, 0xe0, 0xf0, 0x75);
	EXPECT(&k, 0xe0, 0xc8);
	KEYS(&k, 0xe1, 0x14, 0x77, 0xe1, 0xf0, 0x14, 0xf0, 0x77);
	EXPECT(&k, 0xe1, 0x1d, 0x45, 0xe1, 0x9d, 0xc5);
	KBDS(&k, 0xf0, 0x03);
	EXPECT(&k, 0xfa, 0xfe);
	KBD(&k, 0x02); /* still the argument awaited */
	EXPECT(&k, 0xfa);
	CHECK(k.kbd.set == 2);
	KBDS(&k, 0xf0, 0x01, 0xff); /* a reset empties the keyboard: one ACK lost */
	EXPECT(&k, 0xfa, 0xfa, 0xaa);
	CHECK(k.kbd.set == 2 && k.kbd.scanning);
	KEYS(&k, 0x1c);
	EXPECT(&k, 0x1c);
	return 0;
}

/* Echo, unknown commands, a command in place of an argument. */
static int t_commands(void)
{
	struct i8042 k;

	setup(&k, true);
	KBD(&k, 0xee);
	EXPECT(&k, 0xee);
	KBDS(&k, 0xe8, 0xfe, 0xfb);
	EXPECT(&k, 0xfe, 0xfe, 0xfe);
	KBDS(&k, 0xed, 0xf4);
	EXPECT(&k, 0xfa, 0xfa);
	CHECK(k.kbd.cmd == 0 && k.kbd.leds == 0);
	KBDS(&k, 0xf3, 0x20);
	EXPECT(&k, 0xfa, 0xfa);
	CHECK(k.kbd.typematic == 0x20);
	KBD(&k, 0xf6);
	EXPECT(&k, 0xfa);
	CHECK(k.kbd.typematic == 0x2b);
	CHECK(resets == 0);
	CMD(&k, 0xfe);
	CHECK(resets == 1);
	return 0;
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)rng;
}

static bool sane(const struct i8042 *k)
{
	return k->kbd.count <= I8042_KBD_QUEUE && k->kbd.head < I8042_KBD_QUEUE &&
	       (k->kbd.set == 1 || k->kbd.set == 2 || !k->kbd.present);
}

/* Random port traffic and random key input, keyboard or not: nothing
 * crashes or blocks (an alarm would end the case), the queue stays in its
 * bounds, interrupts stay well-formed edges and come unlocked. */
static int t_hostile(void)
{
	static uint8_t junk[4096];
	struct i8042 k;

	alarm(60);
	for (int round = 0; round < 2; round++) {
		setup(&k, round == 1);
		for (int i = 0; i < 300000; i++) {
			uint32_t r = next();
			uint16_t port = r & 1 ? 0x64 : 0x60;
			uint8_t v = r >> 8;

			switch ((r >> 1) & 7) {
			case 0:
			case 1:
				if (port == 0x64 && v == 0xfe)
					v = 0xff;
				wr(&k, port, v);
				break;
			case 2:
			case 3:
				rd(&k, port);
				break;
			case 4:
				for (size_t j = 0; j < 64; j++)
					junk[j] = next();
				i8042_kbd_input(&k, junk, (r >> 16) % 40);
				break;
			case 5:
				i8042_kbd_input(&k, junk, (r >> 16) % 2 ? sizeof(junk) : 0);
				break;
			default:
				i8042_kbd_input(&k, BYTES(0xe0, 0xf0, 0x75));
				break;
			}
			int e = edges();

			CHECK(sane(&k));
			CHECK(e >= 0);
			if (round == 0)
				CHECK(e == 0);
		}
		CHECK(drain(&k, 1000) <= I8042_KBD_QUEUE + 1);
		pthread_mutex_destroy(&k.lock);
	}
	CHECK(resets == 0);
	return 0;
}

static atomic_bool stop;
static void *typist(void *arg)
{
	struct i8042 *k = arg;

	while (!atomic_load(&stop)) {
		KEYS(k, 0x1c);
		KEYS(k, 0xf0, 0x1c);
		i8042_kbd_dropped(k);
	}
	return NULL;
}

static void irq_count(void *o, unsigned irq, bool level)
{
	atomic_int *n = o;

	if (level)
		atomic_fetch_add(n, 1);
}

/* Keys from another thread (moat-vcpu's loop) while a vCPU reads: only
 * whole keys and ACKs come out, and every byte read had its edge. */
static int t_threads(void)
{
	static atomic_int n_irq;
	struct i8042 k;
	pthread_t t;
	int got = 0, bad = 0;

	alarm(60);
	i8042_init(&k, reset_cb, irq_count, &n_irq);
	i8042_attach_keyboard(&k);
	CHECK(pthread_create(&t, NULL, typist, &k) == 0);
	for (int i = 0; i < 200000; i++) {
		if (ST(&k) & 0x01) {
			uint8_t v = rd(&k, 0x60);

			bad += v != 0x1e && v != 0x9e;
			got++;
		}
		if (i % 1000 == 0) {
			KBDS(&k, 0xed, 0x02);
		}
	}
	atomic_store(&stop, true);
	pthread_join(t, NULL);
	got += drain(&k, 100);
	CHECK(got > 0);
	CHECK(bad <= 2 * 200); /* only the LED command's ACKs */
	CHECK(atomic_load(&n_irq) >= got);
	return 0;
}

TAP_MAIN(TEST(t_no_keyboard), TEST(t_linux_probe), TEST(t_linux_direct), TEST(t_seabios),
	 TEST(t_keys), TEST(t_irq), TEST(t_fifo_overflow), TEST(t_disabled), TEST(t_write_kbd_obuf),
	 TEST(t_answer_keeps_key), TEST(t_scan_sets), TEST(t_commands), TEST(t_hostile),
	 TEST(t_threads))
