/* Port I/O dispatch inside the vcpu process. Devices register a port range
 * with one handler; a trapped access that no device claims reads all ones and
 * its writes are dropped, as on an empty ISA bus.
 *
 * Most ranges are fixed. A movable range is one whose base the guest
 * programs (the PIIX4 PM block at its PMBA): registered like the others,
 * before the vCPUs run, but placed and moved by iobus_place() at any time
 * from any thread. Fixed ranges are looked up first, so a guest that
 * places a movable range over a fixed one (COM1, 0xCF8) does not take
 * those ports away from their device. */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/* One handler signature for every port device (after kvmtool):
 * data points at len bytes (1, 2 or 4), read or written in place. port is
 * the port for a fixed range, the offset into the range for a movable one
 * (so that a handler never has to read a base that may move meanwhile). */
typedef void (*io_handler_fn)(void *opaque, uint16_t port, uint8_t *data, unsigned len,
			      bool is_write);

struct io_range {
	uint16_t base; /* fixed ranges */
	uint16_t len;
	io_handler_fn fn;
	void *opaque;
	const char *name;
	bool movable;
	/* movable ranges: IOBUS_PLACED | base while decoding, 0 while not */
	_Atomic uint32_t where;
};

#define IOBUS_MAX_RANGES 16
#define IOBUS_PLACED	 0x10000u

struct iobus {
	struct io_range r[IOBUS_MAX_RANGES];
	unsigned n;
};

/* Add a range; -EEXIST if it overlaps one already there, -ENOSPC if full. */
int iobus_register(struct iobus *bus, uint16_t base, uint16_t len, io_handler_fn fn, void *opaque,
		   const char *name);
/* Add a movable range, decoding nowhere until placed. Before the vCPUs
 * run, as iobus_register. Returns its id (>= 0) for iobus_place, or
 * -EINVAL, -ENOSPC. */
int iobus_register_movable(struct iobus *bus, uint16_t len, io_handler_fn fn, void *opaque,
			   const char *name);
/* Decode movable range id at [base, base + len) (on), or nowhere (!on, or
 * a range that would run past port 0xFFFF). Any thread, any time: a vCPU
 * racing it sees the old place or the new one, never a mix. */
void iobus_place(struct iobus *bus, int id, uint16_t base, bool on);
/* Route one access; returns false if no device owns the port. */
bool iobus_access(const struct iobus *bus, uint16_t port, uint8_t *data, unsigned len,
		  bool is_write);
