/* Just enough of the i8042 keyboard controller for Linux to find it quickly
 * and to reset the machine through it (command 0xFE on port 0x64, what the
 * guest's reboot=k does). No keyboard or mouse is attached: a byte sent to
 * either is answered with a NAK (0xFE), without an interrupt. */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

typedef void (*i8042_reset_fn)(void *opaque);

struct i8042 {
	pthread_mutex_t lock;
	i8042_reset_fn reset;
	void *opaque;
	uint8_t ctr;      /* controller command byte */
	uint8_t out;      /* output buffer */
	bool out_full;
	bool out_aux;     /* the output byte came from the aux port */
	uint8_t pending;  /* command waiting for a data byte on port 0x60, or 0 */
};

void i8042_init(struct i8042 *k, i8042_reset_fn reset, void *opaque);
/* iobus handler for ports 0x60 and 0x64. */
void i8042_io(void *opaque, uint16_t port, uint8_t *data, unsigned len, bool is_write);
