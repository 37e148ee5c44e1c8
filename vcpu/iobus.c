#include "iobus.h"

#include <errno.h>
#include <string.h>

int iobus_register(struct iobus *bus, uint16_t base, uint16_t len, io_handler_fn fn,
		   void *opaque, const char *name)
{
	uint32_t end = (uint32_t)base + len;

	if (len == 0 || end > 0x10000)
		return -EINVAL;
	if (bus->n >= IOBUS_MAX_RANGES)
		return -ENOSPC;
	for (unsigned i = 0; i < bus->n; i++) {
		uint32_t b = bus->r[i].base, e = b + bus->r[i].len;
		if (base < e && b < end)
			return -EEXIST;
	}
	bus->r[bus->n++] = (struct io_range){base, len, fn, opaque, name};
	return 0;
}

/* The table is written once before the vCPUs start and only read after, so
 * the lookup needs no lock; each device locks its own state. */
bool iobus_access(const struct iobus *bus, uint16_t port, uint8_t *data, unsigned len,
		  bool is_write)
{
	for (unsigned i = 0; i < bus->n; i++) {
		const struct io_range *r = &bus->r[i];
		if (port >= r->base && port - r->base < r->len) {
			r->fn(r->opaque, port, data, len, is_write);
			return true;
		}
	}
	if (!is_write)
		memset(data, 0xff, len);
	return false;
}
