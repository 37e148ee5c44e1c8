/* The guest console on the monitor's terminal: raw mode while the guest
 * runs (restored on every way out), and the Ctrl-A escape. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONSOLE_ESCAPE 0x01 /* Ctrl-A, as QEMU's -nographic */

struct mon_console {
	bool raw;      /* stdin is a terminal now in raw mode */
	bool escaped;  /* the last byte typed was the escape */
};

/* Put stdin in raw mode if it is a terminal; registers an atexit restore. */
void mon_console_raw(struct mon_console *c);
void mon_console_restore(void);

/* Filter typed input through the escape: copies what the guest should get
 * into out (at most len bytes, out has room for len) and returns its length;
 * sets *quit when the user asked to quit. Only on a terminal. */
size_t mon_console_filter(struct mon_console *c, const uint8_t *in, size_t len, uint8_t *out,
			  bool *quit);
