/* The key code to set 2 table (devproc/display/ps2_keymap.c): every key the
 * VNC keymap (keymap.c) produces for a PC keyboard has a code; a sample of
 * make and break codes as IBM's published set 2 table gives them; and every
 * code, through the 8042's translation (vcpu/i8042_kbd.c), is the set 1 code
 * Linux numbers its keys after and keymap.c takes back to the same key. */
#include <linux/input-event-codes.h>
#include <string.h>

#include "ps2_keymap.h"
#include "rfb.h"
#include "tap.h"

/* vcpu/i8042_kbd.c, compiled in (its header is moat-vcpu's). */
uint8_t i8042_xlate(uint8_t set2);

/* Keys a PC keyboard does not have: no code. */
static bool not_pc(unsigned key)
{
	return key == KEY_LINEFEED || (key >= KEY_F13 && key <= KEY_F24);
}

static int enc(unsigned key, bool down, uint8_t *out)
{
	memset(out, 0xcc, PS2_SET2_MAX);
	return (int)ps2_set2_encode(key, down, out);
}

/* Every keysym and every XT code the VNC server maps to a key. */
static int t_vnc_keys_covered(void)
{
	uint8_t b[PS2_SET2_MAX];
	int seen = 0;

	for (uint32_t sym = 0; sym <= 0xffff; sym++) {
		unsigned key = rfb_keysym_to_key(sym);

		if (key == 0 || not_pc(key))
			continue;
		if (enc(key, true, b) == 0) {
			fprintf(stderr, "keysym %#x: key %u has no code\n", sym, key);
			return 1;
		}
		seen++;
	}
	for (uint32_t xt = 1; xt <= 0xff; xt++) {
		unsigned key = rfb_xt_to_key(xt);

		if (key == 0 || not_pc(key))
			continue;
		if (enc(key, true, b) == 0) {
			fprintf(stderr, "XT %#x: key %u has no code\n", xt, key);
			return 1;
		}
		seen++;
	}
	CHECK(seen > 200);
	return 0;
}

/* The keys firmware menus need, by name. */
static int t_required(void)
{
	static const unsigned keys[] = {
	    KEY_A,	   KEY_Z,	   KEY_M,	 KEY_0,		KEY_1,	       KEY_9,
	    KEY_F1,	   KEY_F2,	   KEY_F3,	 KEY_F4,	KEY_F5,	       KEY_F6,
	    KEY_F7,	   KEY_F8,	   KEY_F9,	 KEY_F10,	KEY_F11,       KEY_F12,
	    KEY_UP,	   KEY_DOWN,	   KEY_LEFT,	 KEY_RIGHT,	KEY_ENTER,     KEY_ESC,
	    KEY_LEFTSHIFT, KEY_RIGHTSHIFT, KEY_LEFTCTRL, KEY_RIGHTCTRL, KEY_LEFTALT,   KEY_RIGHTALT,
	    KEY_LEFTMETA,  KEY_RIGHTMETA,  KEY_TAB,	 KEY_SPACE,	KEY_BACKSPACE, KEY_DELETE,
	    KEY_INSERT,	   KEY_HOME,	   KEY_END,	 KEY_PAGEUP,	KEY_PAGEDOWN,  KEY_KPENTER,
	    KEY_SYSRQ,	   KEY_PAUSE,
	};
	uint8_t b[PS2_SET2_MAX];

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		CHECK(enc(keys[i], true, b) > 0);
	for (unsigned k = KEY_A; k <= KEY_Z; k++)
		CHECK(rfb_keysym_to_key('a' + (k - KEY_A)) == 0 || enc(k, true, b) > 0);
	return 0;
}

struct sample {
	unsigned key;
	uint8_t make[PS2_SET2_MAX], nmake;
	uint8_t brk[PS2_SET2_MAX], nbrk;
};

/* From the published set 2 table. */
static const struct sample samples[] = {
    {KEY_A, {0x1c}, 1, {0xf0, 0x1c}, 2},
    {KEY_Q, {0x15}, 1, {0xf0, 0x15}, 2},
    {KEY_1, {0x16}, 1, {0xf0, 0x16}, 2},
    {KEY_0, {0x45}, 1, {0xf0, 0x45}, 2},
    {KEY_ESC, {0x76}, 1, {0xf0, 0x76}, 2},
    {KEY_ENTER, {0x5a}, 1, {0xf0, 0x5a}, 2},
    {KEY_SPACE, {0x29}, 1, {0xf0, 0x29}, 2},
    {KEY_BACKSPACE, {0x66}, 1, {0xf0, 0x66}, 2},
    {KEY_TAB, {0x0d}, 1, {0xf0, 0x0d}, 2},
    {KEY_GRAVE, {0x0e}, 1, {0xf0, 0x0e}, 2},
    {KEY_BACKSLASH, {0x5d}, 1, {0xf0, 0x5d}, 2},
    {KEY_F1, {0x05}, 1, {0xf0, 0x05}, 2},
    {KEY_F7, {0x83}, 1, {0xf0, 0x83}, 2},
    {KEY_F10, {0x09}, 1, {0xf0, 0x09}, 2},
    {KEY_F11, {0x78}, 1, {0xf0, 0x78}, 2},
    {KEY_F12, {0x07}, 1, {0xf0, 0x07}, 2},
    {KEY_LEFTSHIFT, {0x12}, 1, {0xf0, 0x12}, 2},
    {KEY_RIGHTSHIFT, {0x59}, 1, {0xf0, 0x59}, 2},
    {KEY_LEFTCTRL, {0x14}, 1, {0xf0, 0x14}, 2},
    {KEY_LEFTALT, {0x11}, 1, {0xf0, 0x11}, 2},
    {KEY_CAPSLOCK, {0x58}, 1, {0xf0, 0x58}, 2},
    {KEY_NUMLOCK, {0x77}, 1, {0xf0, 0x77}, 2},
    {KEY_SCROLLLOCK, {0x7e}, 1, {0xf0, 0x7e}, 2},
    {KEY_KP5, {0x73}, 1, {0xf0, 0x73}, 2},
    {KEY_KPASTERISK, {0x7c}, 1, {0xf0, 0x7c}, 2},
    {KEY_RIGHTCTRL, {0xe0, 0x14}, 2, {0xe0, 0xf0, 0x14}, 3},
    {KEY_RIGHTALT, {0xe0, 0x11}, 2, {0xe0, 0xf0, 0x11}, 3},
    {KEY_LEFTMETA, {0xe0, 0x1f}, 2, {0xe0, 0xf0, 0x1f}, 3},
    {KEY_COMPOSE, {0xe0, 0x2f}, 2, {0xe0, 0xf0, 0x2f}, 3},
    {KEY_UP, {0xe0, 0x75}, 2, {0xe0, 0xf0, 0x75}, 3},
    {KEY_DOWN, {0xe0, 0x72}, 2, {0xe0, 0xf0, 0x72}, 3},
    {KEY_LEFT, {0xe0, 0x6b}, 2, {0xe0, 0xf0, 0x6b}, 3},
    {KEY_RIGHT, {0xe0, 0x74}, 2, {0xe0, 0xf0, 0x74}, 3},
    {KEY_INSERT, {0xe0, 0x70}, 2, {0xe0, 0xf0, 0x70}, 3},
    {KEY_DELETE, {0xe0, 0x71}, 2, {0xe0, 0xf0, 0x71}, 3},
    {KEY_HOME, {0xe0, 0x6c}, 2, {0xe0, 0xf0, 0x6c}, 3},
    {KEY_END, {0xe0, 0x69}, 2, {0xe0, 0xf0, 0x69}, 3},
    {KEY_PAGEUP, {0xe0, 0x7d}, 2, {0xe0, 0xf0, 0x7d}, 3},
    {KEY_PAGEDOWN, {0xe0, 0x7a}, 2, {0xe0, 0xf0, 0x7a}, 3},
    {KEY_KPSLASH, {0xe0, 0x4a}, 2, {0xe0, 0xf0, 0x4a}, 3},
    {KEY_KPENTER, {0xe0, 0x5a}, 2, {0xe0, 0xf0, 0x5a}, 3},
    {KEY_SYSRQ, {0xe0, 0x12, 0xe0, 0x7c}, 4, {0xe0, 0xf0, 0x7c, 0xe0, 0xf0, 0x12}, 6},
    {KEY_PAUSE, {0xe1, 0x14, 0x77, 0xe1, 0xf0, 0x14, 0xf0, 0x77}, 8, {0}, 0},
};

static int t_published_sample(void)
{
	uint8_t b[PS2_SET2_MAX];

	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		const struct sample *s = &samples[i];

		if (enc(s->key, true, b) != s->nmake || memcmp(b, s->make, s->nmake) ||
		    enc(s->key, false, b) != s->nbrk || memcmp(b, s->brk, s->nbrk)) {
			fprintf(stderr, "key %u: wrong sequence\n", s->key);
			return 1;
		}
	}
	return 0;
}

/* Every other key: the break is the make with 0xF0 before the code (after
 * any 0xE0), the make is [E0] code, and no two keys share a make code. */
static int t_shape_and_unique(void)
{
	static uint8_t owner[2][256];
	uint8_t m[PS2_SET2_MAX], b[PS2_SET2_MAX];
	int n = 0;

	for (unsigned key = 0; key <= KEY_MAX; key++) {
		int nm = enc(key, true, m);
		int nb = enc(key, false, b);

		if (key == KEY_PAUSE || key == KEY_SYSRQ)
			continue;
		if (nm == 0) {
			CHECK(nb == 0);
			continue;
		}
		CHECK(nm == 1 || (nm == 2 && m[0] == 0xe0));
		CHECK(nb == nm + 1 && b[nb - 2] == 0xf0 && b[nb - 1] == m[nm - 1]);
		CHECK(nm == 1 || b[0] == 0xe0);
		CHECK(m[nm - 1] != 0xe0 && m[nm - 1] != 0xe1 && m[nm - 1] != 0xf0 && m[nm - 1]);
		CHECK(owner[nm - 1][m[nm - 1]] == 0);
		owner[nm - 1][m[nm - 1]] = 1;
		n++;
	}
	CHECK(n > 120);
	return 0;
}

/* set 2 through the 8042: the 0xF0 prefixes fold into bit 7. */
static size_t to_set1(const uint8_t *in, size_t n, uint8_t *out)
{
	bool brk = false;
	size_t m = 0;

	for (size_t i = 0; i < n; i++) {
		if (in[i] == 0xf0) {
			brk = true;
			continue;
		}
		out[m++] = i8042_xlate(in[i]) | (brk ? 0x80 : 0);
		brk = false;
	}
	return m;
}

/* Translated, each key gives the set 1 code Linux numbers it by (codes
 * 1-83 and 86-88), and keymap.c's XT table takes that code back to the
 * same key; a release is the make with bit 7 set. */
static int t_set1_round_trip(void)
{
	uint8_t m[PS2_SET2_MAX], b[PS2_SET2_MAX], s1[PS2_SET2_MAX], s1b[PS2_SET2_MAX];
	int checked = 0;

	for (unsigned key = 1; key <= KEY_MAX; key++) {
		int nm = enc(key, true, m);
		int nb = enc(key, false, b);
		size_t n1, n1b;
		unsigned xt;

		if (nm == 0 || key == KEY_PAUSE || key == KEY_SYSRQ)
			continue;
		n1 = to_set1(m, nm, s1);
		n1b = to_set1(b, nb, s1b);
		CHECK(n1 == (size_t)nm && n1b == n1);
		CHECK((s1[n1 - 1] & 0x80) == 0 && s1b[n1 - 1] == (s1[n1 - 1] | 0x80));
		if (nm == 1 && (key <= KEY_KPDOT || (key >= KEY_102ND && key <= KEY_F12)))
			CHECK(s1[0] == key);
		xt = n1 == 2 ? 0x80 | s1[1] : s1[0];
		if (rfb_xt_to_key(xt) != 0) {
			if (rfb_xt_to_key(xt) != key) {
				fprintf(stderr, "key %u: set 1 %#x is key %u in keymap.c\n", key,
					xt, rfb_xt_to_key(xt));
				return 1;
			}
			checked++;
		}
	}
	CHECK(checked > 110);
	/* Pause and Print Screen, as set 1 has them. */
	CHECK(enc(KEY_PAUSE, true, m) == 8);
	CHECK(to_set1(m, 8, s1) == 6 && !memcmp(s1, "\xe1\x1d\x45\xe1\x9d\xc5", 6));
	CHECK(enc(KEY_SYSRQ, true, m) == 4);
	CHECK(to_set1(m, 4, s1) == 4 && !memcmp(s1, "\xe0\x2a\xe0\x37", 4));
	CHECK(enc(KEY_SYSRQ, false, m) == 6);
	CHECK(to_set1(m, 6, s1) == 4 && !memcmp(s1, "\xe0\xb7\xe0\xaa", 4));
	return 0;
}

/* Keys a PC keyboard does not have, and codes out of range: nothing, and
 * nothing written. */
static int t_unknown(void)
{
	static const unsigned keys[] = {KEY_RESERVED, KEY_LINEFEED, KEY_F13,	 KEY_F24,
					KEY_MACRO,    KEY_MAX,	    KEY_MAX + 1, ~0u};
	uint8_t b[PS2_SET2_MAX];

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		CHECK(enc(keys[i], true, b) == 0 && enc(keys[i], false, b) == 0);
		for (int j = 0; j < PS2_SET2_MAX; j++)
			CHECK(b[j] == 0xcc);
	}
	CHECK(enc(KEY_PAUSE, false, b) == 0);
	return 0;
}

TAP_MAIN(TEST(t_vnc_keys_covered), TEST(t_required), TEST(t_published_sample),
	 TEST(t_shape_and_unique), TEST(t_set1_round_trip), TEST(t_unknown))
