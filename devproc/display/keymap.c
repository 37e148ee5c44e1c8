/* Keys from VNC clients to Linux input key codes (rfb.h).
 *
 * A plain KeyEvent carries an X11 keysym: the symbol, not the key. It is
 * mapped to the key that makes it on a US keyboard; a shifted symbol ('A',
 * '!', '{') maps to its unshifted key, since the client sends the Shift
 * key itself. Symbols a US keyboard cannot type are dropped (0): clients
 * that care send QEMU's extended key event, which carries the key's XT
 * scan code and is layout-free.
 *
 * References, read for the values (no code taken): X11's keysymdef.h,
 * Linux's input-event-codes.h, QEMU's keycodemapdb (data/keymaps.csv,
 * the "AT set1 keycode" column) for the XT codes above 0x53 and the
 * 0xe0-prefixed ones. */
#include <linux/input-event-codes.h>

#include "rfb.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ASCII 0x20..0x7e, indexed by the character: the US key that types it
 * (lower case letters are looked up as upper case). */
static const unsigned short ascii_keys[0x5f] = {
    [' ' - 0x20] = KEY_SPACE,	   ['!' - 0x20] = KEY_1,	   ['"' - 0x20] = KEY_APOSTROPHE,
    ['#' - 0x20] = KEY_3,	   ['$' - 0x20] = KEY_4,	   ['%' - 0x20] = KEY_5,
    ['&' - 0x20] = KEY_7,	   ['\'' - 0x20] = KEY_APOSTROPHE, ['(' - 0x20] = KEY_9,
    [')' - 0x20] = KEY_0,	   ['*' - 0x20] = KEY_8,	   ['+' - 0x20] = KEY_EQUAL,
    [',' - 0x20] = KEY_COMMA,	   ['-' - 0x20] = KEY_MINUS,	   ['.' - 0x20] = KEY_DOT,
    ['/' - 0x20] = KEY_SLASH,	   ['0' - 0x20] = KEY_0,	   ['1' - 0x20] = KEY_1,
    ['2' - 0x20] = KEY_2,	   ['3' - 0x20] = KEY_3,	   ['4' - 0x20] = KEY_4,
    ['5' - 0x20] = KEY_5,	   ['6' - 0x20] = KEY_6,	   ['7' - 0x20] = KEY_7,
    ['8' - 0x20] = KEY_8,	   ['9' - 0x20] = KEY_9,	   [':' - 0x20] = KEY_SEMICOLON,
    [';' - 0x20] = KEY_SEMICOLON,  ['<' - 0x20] = KEY_COMMA,	   ['=' - 0x20] = KEY_EQUAL,
    ['>' - 0x20] = KEY_DOT,	   ['?' - 0x20] = KEY_SLASH,	   ['@' - 0x20] = KEY_2,
    ['A' - 0x20] = KEY_A,	   ['B' - 0x20] = KEY_B,	   ['C' - 0x20] = KEY_C,
    ['D' - 0x20] = KEY_D,	   ['E' - 0x20] = KEY_E,	   ['F' - 0x20] = KEY_F,
    ['G' - 0x20] = KEY_G,	   ['H' - 0x20] = KEY_H,	   ['I' - 0x20] = KEY_I,
    ['J' - 0x20] = KEY_J,	   ['K' - 0x20] = KEY_K,	   ['L' - 0x20] = KEY_L,
    ['M' - 0x20] = KEY_M,	   ['N' - 0x20] = KEY_N,	   ['O' - 0x20] = KEY_O,
    ['P' - 0x20] = KEY_P,	   ['Q' - 0x20] = KEY_Q,	   ['R' - 0x20] = KEY_R,
    ['S' - 0x20] = KEY_S,	   ['T' - 0x20] = KEY_T,	   ['U' - 0x20] = KEY_U,
    ['V' - 0x20] = KEY_V,	   ['W' - 0x20] = KEY_W,	   ['X' - 0x20] = KEY_X,
    ['Y' - 0x20] = KEY_Y,	   ['Z' - 0x20] = KEY_Z,	   ['[' - 0x20] = KEY_LEFTBRACE,
    ['\\' - 0x20] = KEY_BACKSLASH, [']' - 0x20] = KEY_RIGHTBRACE,  ['^' - 0x20] = KEY_6,
    ['_' - 0x20] = KEY_MINUS,	   ['`' - 0x20] = KEY_GRAVE,	   ['{' - 0x20] = KEY_LEFTBRACE,
    ['|' - 0x20] = KEY_BACKSLASH,  ['}' - 0x20] = KEY_RIGHTBRACE,  ['~' - 0x20] = KEY_GRAVE,
};

/* The function keys' page of keysyms, 0xff00..0xffff, by the low byte. */
static const unsigned short ff_keys[256] = {
    [0x08] = KEY_BACKSPACE, [0x09] = KEY_TAB,	    [0x0a] = KEY_LINEFEED,
    [0x0d] = KEY_ENTER,	    [0x13] = KEY_PAUSE,	    [0x14] = KEY_SCROLLLOCK,
    [0x15] = KEY_SYSRQ,	    [0x1b] = KEY_ESC,	    [0x50] = KEY_HOME,
    [0x51] = KEY_LEFT,	    [0x52] = KEY_UP,	    [0x53] = KEY_RIGHT,
    [0x54] = KEY_DOWN,	    [0x55] = KEY_PAGEUP,    [0x56] = KEY_PAGEDOWN,
    [0x57] = KEY_END,	    [0x61] = KEY_SYSRQ,	    [0x63] = KEY_INSERT,
    [0x67] = KEY_COMPOSE,   [0x7f] = KEY_NUMLOCK,   [0x8d] = KEY_KPENTER,
    [0x95] = KEY_KP7,	    [0x96] = KEY_KP4,	    [0x97] = KEY_KP8,
    [0x98] = KEY_KP6,	    [0x99] = KEY_KP2,	    [0x9a] = KEY_KP9,
    [0x9b] = KEY_KP3,	    [0x9c] = KEY_KP1,	    [0x9d] = KEY_KP5,
    [0x9e] = KEY_KP0,	    [0x9f] = KEY_KPDOT,	    [0xaa] = KEY_KPASTERISK,
    [0xab] = KEY_KPPLUS,    [0xac] = KEY_KPCOMMA,   [0xad] = KEY_KPMINUS,
    [0xae] = KEY_KPDOT,	    [0xaf] = KEY_KPSLASH,   [0xb0] = KEY_KP0,
    [0xb1] = KEY_KP1,	    [0xb2] = KEY_KP2,	    [0xb3] = KEY_KP3,
    [0xb4] = KEY_KP4,	    [0xb5] = KEY_KP5,	    [0xb6] = KEY_KP6,
    [0xb7] = KEY_KP7,	    [0xb8] = KEY_KP8,	    [0xb9] = KEY_KP9,
    [0xbd] = KEY_KPEQUAL,   [0xbe] = KEY_F1,	    [0xbf] = KEY_F2,
    [0xc0] = KEY_F3,	    [0xc1] = KEY_F4,	    [0xc2] = KEY_F5,
    [0xc3] = KEY_F6,	    [0xc4] = KEY_F7,	    [0xc5] = KEY_F8,
    [0xc6] = KEY_F9,	    [0xc7] = KEY_F10,	    [0xc8] = KEY_F11,
    [0xc9] = KEY_F12,	    [0xe1] = KEY_LEFTSHIFT, [0xe2] = KEY_RIGHTSHIFT,
    [0xe3] = KEY_LEFTCTRL,  [0xe4] = KEY_RIGHTCTRL, [0xe5] = KEY_CAPSLOCK,
    [0xe7] = KEY_LEFTMETA,  [0xe8] = KEY_RIGHTMETA, [0xe9] = KEY_LEFTALT,
    [0xea] = KEY_RIGHTALT,  [0xeb] = KEY_LEFTMETA,  [0xec] = KEY_RIGHTMETA,
    [0xff] = KEY_DELETE,
};

unsigned rfb_keysym_to_key(uint32_t keysym)
{
	if (keysym >= 'a' && keysym <= 'z')
		keysym -= 'a' - 'A';
	if (keysym >= 0x20 && keysym <= 0x7e)
		return ascii_keys[keysym - 0x20];
	if (keysym >= 0xff00 && keysym <= 0xffff)
		return ff_keys[keysym & 0xff];
	switch (keysym) {
	case 0xfe03: /* ISO_Level3_Shift: AltGr */
		return KEY_RIGHTALT;
	case 0xfe20: /* ISO_Left_Tab: Shift+Tab */
		return KEY_TAB;
	default:
		return 0;
	}
}

/* XT codes 0x54..0x7f, by code - 0x54: not the Linux code of the same
 * number (0x54 is Alt+PrintScreen, 0x55 is F16 in QEMU's tables). */
static const unsigned short xt_high[0x80 - 0x54] = {
    [0x54 - 0x54] = KEY_SYSRQ,
    [0x55 - 0x54] = KEY_F16,
    [0x56 - 0x54] = KEY_102ND,
    [0x57 - 0x54] = KEY_F11,
    [0x58 - 0x54] = KEY_F12,
    [0x59 - 0x54] = KEY_KPEQUAL,
    [0x5a - 0x54] = KEY_F20,
    [0x5b - 0x54] = KEY_LINEFEED,
    [0x5c - 0x54] = KEY_KPJPCOMMA,
    [0x5d - 0x54] = KEY_F13,
    [0x5e - 0x54] = KEY_F14,
    [0x5f - 0x54] = KEY_F15,
    [0x6d - 0x54] = KEY_F23,
    [0x6f - 0x54] = KEY_F24,
    [0x70 - 0x54] = KEY_KATAKANAHIRAGANA,
    [0x73 - 0x54] = KEY_RO,
    [0x74 - 0x54] = KEY_F21,
    [0x76 - 0x54] = KEY_ZENKAKUHANKAKU,
    [0x77 - 0x54] = KEY_HIRAGANA,
    [0x78 - 0x54] = KEY_KATAKANA,
    [0x79 - 0x54] = KEY_HENKAN,
    [0x7b - 0x54] = KEY_MUHENKAN,
    [0x7d - 0x54] = KEY_YEN,
    [0x7e - 0x54] = KEY_KPCOMMA,
};

/* The 0xe0-prefixed codes, by their second byte (0x00..0x7f). */
static const unsigned short xt_e0[0x80] = {
    [0x10] = KEY_PREVIOUSSONG, [0x19] = KEY_NEXTSONG, [0x1c] = KEY_KPENTER,
    [0x1d] = KEY_RIGHTCTRL,    [0x20] = KEY_MUTE,     [0x21] = KEY_CALC,
    [0x22] = KEY_PLAYPAUSE,    [0x24] = KEY_STOPCD,   [0x2e] = KEY_VOLUMEDOWN,
    [0x30] = KEY_VOLUMEUP,     [0x32] = KEY_HOMEPAGE, [0x35] = KEY_KPSLASH,
    [0x37] = KEY_SYSRQ,	       [0x38] = KEY_RIGHTALT, [0x46] = KEY_PAUSE,
    [0x47] = KEY_HOME,	       [0x48] = KEY_UP,	      [0x49] = KEY_PAGEUP,
    [0x4b] = KEY_LEFT,	       [0x4d] = KEY_RIGHT,    [0x4f] = KEY_END,
    [0x50] = KEY_DOWN,	       [0x51] = KEY_PAGEDOWN, [0x52] = KEY_INSERT,
    [0x53] = KEY_DELETE,       [0x5b] = KEY_LEFTMETA, [0x5c] = KEY_RIGHTMETA,
    [0x5d] = KEY_COMPOSE,      [0x5e] = KEY_POWER,    [0x5f] = KEY_SLEEP,
    [0x63] = KEY_WAKEUP,
};

/* 0x01..0x53 are the Linux codes themselves (Linux numbered its keys after
 * the PC's set 1); the rest come from the tables. */
unsigned rfb_xt_to_key(uint32_t code)
{
	if ((code & 0xff80) == 0xe000) /* 0xe0 0xNN written out as 16 bits */
		code = 0x80 | (code & 0x7f);
	if (code == 0 || code > 0xff)
		return 0;
	if (code < 0x54)
		return code;
	if (code < 0x80)
		return xt_high[code - 0x54];
	return xt_e0[code & 0x7f];
}

_Static_assert(N(ascii_keys) == 0x7f - 0x20, "ASCII table covers 0x20..0x7e");
