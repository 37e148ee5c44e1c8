/* Linux input key codes to the bytes a PC/AT keyboard sends in scan code
 * set 2, for moat-vcpu's i8042 keyboard (vcpu/i8042.h): moat-display
 * encodes each key event and sends the bytes on; the controller translates
 * them to set 1 when the guest asks for it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The longest sequence: Pause's make code. */
#define PS2_SET2_MAX 8

/* The set-2 bytes for key `keycode` (KEY_*) going down (make) or up (break)
 * into out; returns how many, 0 for a key a PC keyboard does not have, and
 * for Pause's release (it has none: its make code carries both). */
size_t ps2_set2_encode(unsigned keycode, bool down, uint8_t out[PS2_SET2_MAX]);
