/* Port I/O dispatch inside the vcpu process. Devices register a port range
 * with one handler; a trapped access that no device claims reads all ones and
 * its writes are dropped, as on an empty ISA bus. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* One handler signature for every port device (after kvmtool):
 * data points at len bytes (1, 2 or 4), read or written in place. */
typedef void (*io_handler_fn)(void *opaque, uint16_t port, uint8_t *data, unsigned len,
			      bool is_write);

struct io_range {
	uint16_t base;
	uint16_t len;
	io_handler_fn fn;
	void *opaque;
	const char *name;
};

#define IOBUS_MAX_RANGES 16

struct iobus {
	struct io_range r[IOBUS_MAX_RANGES];
	unsigned n;
};

/* Add a range; -EEXIST if it overlaps one already there, -ENOSPC if full. */
int iobus_register(struct iobus *bus, uint16_t base, uint16_t len, io_handler_fn fn,
		   void *opaque, const char *name);
/* Route one access; returns false if no device owns the port. */
bool iobus_access(const struct iobus *bus, uint16_t port, uint8_t *data, unsigned len,
		  bool is_write);
