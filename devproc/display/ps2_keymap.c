/* Linux key codes to PC/AT scan code set 2 (ps2_keymap.h).
 *
 * A key sends its make code when it goes down and 0xF0 then the same code
 * when it comes up; the keys added by the 101-key keyboard (the grey
 * navigation block, right Ctrl and Alt, keypad / and Enter, the Windows and
 * Menu keys) and the multimedia keys put 0xE0 before each. Two keys are
 * their own kind: Print Screen sends a "fake" left shift around its code
 * (E0 12 E0 7C, released E0 F0 7C E0 F0 12), and Pause sends Ctrl+NumLock
 * behind 0xE1, press and release at once, and nothing when released.
 * Both are sent as they are without modifiers: the encoder keeps no state.
 *
 * References, read for the values (no code taken): IBM's PS/2 keyboard
 * technical reference (set 2 table), Microsoft's Keyboard Scan Code
 * Specification (the Japanese and multimedia keys), Linux's
 * drivers/input/keyboard/atkbd.c (the keys Linux maps these codes to), and
 * the 8042 translation (vcpu/i8042_kbd.c) to check each against set 1,
 * whose codes the Linux key codes 1-88 are. F13-F24 are left out: the two
 * published conventions for them disagree (Microsoft's, and the one Linux
 * and QEMU use), and PC keyboards do not have them. */
#include "ps2_keymap.h"

#include <linux/input-event-codes.h>

#define E0 0x100 /* the code follows 0xE0 */

static const uint16_t set2[KEY_MEDIA + 1] = {
    /* The main block. */
    [KEY_ESC] = 0x76,
    [KEY_1] = 0x16,
    [KEY_2] = 0x1e,
    [KEY_3] = 0x26,
    [KEY_4] = 0x25,
    [KEY_5] = 0x2e,
    [KEY_6] = 0x36,
    [KEY_7] = 0x3d,
    [KEY_8] = 0x3e,
    [KEY_9] = 0x46,
    [KEY_0] = 0x45,
    [KEY_MINUS] = 0x4e,
    [KEY_EQUAL] = 0x55,
    [KEY_BACKSPACE] = 0x66,
    [KEY_TAB] = 0x0d,
    [KEY_Q] = 0x15,
    [KEY_W] = 0x1d,
    [KEY_E] = 0x24,
    [KEY_R] = 0x2d,
    [KEY_T] = 0x2c,
    [KEY_Y] = 0x35,
    [KEY_U] = 0x3c,
    [KEY_I] = 0x43,
    [KEY_O] = 0x44,
    [KEY_P] = 0x4d,
    [KEY_LEFTBRACE] = 0x54,
    [KEY_RIGHTBRACE] = 0x5b,
    [KEY_ENTER] = 0x5a,
    [KEY_LEFTCTRL] = 0x14,
    [KEY_A] = 0x1c,
    [KEY_S] = 0x1b,
    [KEY_D] = 0x23,
    [KEY_F] = 0x2b,
    [KEY_G] = 0x34,
    [KEY_H] = 0x33,
    [KEY_J] = 0x3b,
    [KEY_K] = 0x42,
    [KEY_L] = 0x4b,
    [KEY_SEMICOLON] = 0x4c,
    [KEY_APOSTROPHE] = 0x52,
    [KEY_GRAVE] = 0x0e,
    [KEY_LEFTSHIFT] = 0x12,
    [KEY_BACKSLASH] = 0x5d,
    [KEY_Z] = 0x1a,
    [KEY_X] = 0x22,
    [KEY_C] = 0x21,
    [KEY_V] = 0x2a,
    [KEY_B] = 0x32,
    [KEY_N] = 0x31,
    [KEY_M] = 0x3a,
    [KEY_COMMA] = 0x41,
    [KEY_DOT] = 0x49,
    [KEY_SLASH] = 0x4a,
    [KEY_RIGHTSHIFT] = 0x59,
    [KEY_LEFTALT] = 0x11,
    [KEY_SPACE] = 0x29,
    [KEY_CAPSLOCK] = 0x58,
    [KEY_102ND] = 0x61, /* the extra key left of Z on ISO keyboards */
    [KEY_RIGHTCTRL] = E0 | 0x14,
    [KEY_RIGHTALT] = E0 | 0x11,
    [KEY_LEFTMETA] = E0 | 0x1f,
    [KEY_RIGHTMETA] = E0 | 0x27,
    [KEY_COMPOSE] = E0 | 0x2f, /* Menu */

    /* Function keys. F7 is the one code above 0x7f. */
    [KEY_F1] = 0x05,
    [KEY_F2] = 0x06,
    [KEY_F3] = 0x04,
    [KEY_F4] = 0x0c,
    [KEY_F5] = 0x03,
    [KEY_F6] = 0x0b,
    [KEY_F7] = 0x83,
    [KEY_F8] = 0x0a,
    [KEY_F9] = 0x01,
    [KEY_F10] = 0x09,
    [KEY_F11] = 0x78,
    [KEY_F12] = 0x07,
    [KEY_SCROLLLOCK] = 0x7e,

    /* The navigation block. */
    [KEY_INSERT] = E0 | 0x70,
    [KEY_DELETE] = E0 | 0x71,
    [KEY_HOME] = E0 | 0x6c,
    [KEY_END] = E0 | 0x69,
    [KEY_PAGEUP] = E0 | 0x7d,
    [KEY_PAGEDOWN] = E0 | 0x7a,
    [KEY_UP] = E0 | 0x75,
    [KEY_DOWN] = E0 | 0x72,
    [KEY_LEFT] = E0 | 0x6b,
    [KEY_RIGHT] = E0 | 0x74,

    /* The keypad. */
    [KEY_NUMLOCK] = 0x77,
    [KEY_KPSLASH] = E0 | 0x4a,
    [KEY_KPASTERISK] = 0x7c,
    [KEY_KPMINUS] = 0x7b,
    [KEY_KPPLUS] = 0x79,
    [KEY_KPENTER] = E0 | 0x5a,
    [KEY_KPDOT] = 0x71,
    [KEY_KP0] = 0x70,
    [KEY_KP1] = 0x69,
    [KEY_KP2] = 0x72,
    [KEY_KP3] = 0x7a,
    [KEY_KP4] = 0x6b,
    [KEY_KP5] = 0x73,
    [KEY_KP6] = 0x74,
    [KEY_KP7] = 0x6c,
    [KEY_KP8] = 0x75,
    [KEY_KP9] = 0x7d,
    [KEY_KPEQUAL] = 0x0f,
    [KEY_KPCOMMA] = 0x6d,

    /* Japanese (106/109-key) and Brazilian keyboards. */
    [KEY_ZENKAKUHANKAKU] = 0x5f,
    [KEY_RO] = 0x51,
    [KEY_KATAKANA] = 0x63,
    [KEY_HIRAGANA] = 0x62,
    [KEY_HENKAN] = 0x64,
    [KEY_KATAKANAHIRAGANA] = 0x13,
    [KEY_MUHENKAN] = 0x67,
    [KEY_KPJPCOMMA] = 0x27,
    [KEY_YEN] = 0x6a,

    /* Power and multimedia keys. */
    [KEY_POWER] = E0 | 0x37,
    [KEY_SLEEP] = E0 | 0x3f,
    [KEY_WAKEUP] = E0 | 0x5e,
    [KEY_MUTE] = E0 | 0x23,
    [KEY_VOLUMEDOWN] = E0 | 0x21,
    [KEY_VOLUMEUP] = E0 | 0x32,
    [KEY_PLAYPAUSE] = E0 | 0x34,
    [KEY_STOPCD] = E0 | 0x3b,
    [KEY_PREVIOUSSONG] = E0 | 0x15,
    [KEY_NEXTSONG] = E0 | 0x4d,
    [KEY_MEDIA] = E0 | 0x50,
    [KEY_CALC] = E0 | 0x2b,
    [KEY_MAIL] = E0 | 0x48,
    [KEY_COMPUTER] = E0 | 0x40,
    [KEY_HOMEPAGE] = E0 | 0x3a,
    [KEY_SEARCH] = E0 | 0x10,
    [KEY_BOOKMARKS] = E0 | 0x18,
    [KEY_BACK] = E0 | 0x38,
    [KEY_FORWARD] = E0 | 0x30,
    [KEY_STOP] = E0 | 0x28,
    [KEY_REFRESH] = E0 | 0x20,
};

/* Pause: Ctrl+NumLock behind 0xE1, the release included. */
static const uint8_t pause_make[PS2_SET2_MAX] = {0xe1, 0x14, 0x77, 0xe1, 0xf0, 0x14, 0xf0, 0x77};

size_t ps2_set2_encode(unsigned keycode, bool down, uint8_t out[PS2_SET2_MAX])
{
	size_t n = 0;

	if (keycode == KEY_PAUSE) {
		if (!down)
			return 0;
		for (n = 0; n < PS2_SET2_MAX; n++)
			out[n] = pause_make[n];
		return n;
	}
	if (keycode == KEY_SYSRQ) { /* Print Screen: E0 12 E0 7C, undone in reverse */
		static const uint8_t make[] = {0xe0, 0x12, 0xe0, 0x7c};
		static const uint8_t brk[] = {0xe0, 0xf0, 0x7c, 0xe0, 0xf0, 0x12};
		const uint8_t *s = down ? make : brk;
		size_t len = down ? sizeof(make) : sizeof(brk);

		for (n = 0; n < len; n++)
			out[n] = s[n];
		return n;
	}
	if (keycode >= sizeof(set2) / sizeof(set2[0]) || set2[keycode] == 0)
		return 0;
	if (set2[keycode] & E0)
		out[n++] = 0xe0;
	if (!down)
		out[n++] = 0xf0;
	out[n++] = set2[keycode] & 0xff;
	return n;
}
