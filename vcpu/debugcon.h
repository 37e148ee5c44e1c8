/* The firmware's debug console, port 0x402 (SeaBIOS and OVMF write their
 * debug log there under QEMU's -debugcon): each line goes to moat-vcpu's
 * log at debug level (-v), made printable; reads give 0xE9, which is how
 * firmware detects the port. Lines are cut at DEBUGCON_LINE bytes. */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define DEBUGCON_PORT 0x402
#define DEBUGCON_LINE 160

struct debugcon {
	pthread_mutex_t lock;
	bool enabled; /* -v: otherwise the bytes are dropped at once */
	char line[DEBUGCON_LINE + 1];
	unsigned len;
};

void debugcon_init(struct debugcon *d, bool enabled);
/* The iobus handler (opaque: struct debugcon). */
void debugcon_io(void *opaque, uint16_t port, uint8_t *data, unsigned len, bool is_write);
