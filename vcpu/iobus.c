#include "iobus.h"

#include <errno.h>
#include <string.h>

int iobus_register(struct iobus *bus, uint16_t base, uint16_t len, io_handler_fn fn, void *opaque,
		   const char *name)
{
	uint32_t end = (uint32_t)base + len;

	if (len == 0 || end > 0x10000)
		return -EINVAL;
	if (bus->n >= IOBUS_MAX_RANGES)
		return -ENOSPC;
	for (unsigned i = 0; i < bus->n; i++) {
		uint32_t b = bus->r[i].base, e = b + bus->r[i].len;
		if (!bus->r[i].movable && base < e && b < end)
			return -EEXIST;
	}
	bus->r[bus->n++] =
	    (struct io_range){.base = base, .len = len, .fn = fn, .opaque = opaque, .name = name};
	return 0;
}

int iobus_register_movable(struct iobus *bus, uint16_t len, io_handler_fn fn, void *opaque,
			   const char *name)
{
	if (len == 0)
		return -EINVAL;
	if (bus->n >= IOBUS_MAX_RANGES)
		return -ENOSPC;
	bus->r[bus->n] = (struct io_range){
	    .len = len, .fn = fn, .opaque = opaque, .name = name, .movable = true};
	atomic_init(&bus->r[bus->n].where, 0);
	return (int)bus->n++;
}

void iobus_place(struct iobus *bus, int id, uint16_t base, bool on)
{
	if (id < 0 || (unsigned)id >= bus->n || !bus->r[id].movable)
		return;
	if ((uint32_t)base + bus->r[id].len > 0x10000)
		on = false;
	atomic_store_explicit(&bus->r[id].where, on ? IOBUS_PLACED | base : 0,
			      memory_order_release);
}

/* The table is written once before the vCPUs start and only read after
 * (a movable range's place is one atomic word), so the lookup needs no
 * lock; each device locks its own state. Fixed ranges first. */
bool iobus_access(const struct iobus *bus, uint16_t port, uint8_t *data, unsigned len,
		  bool is_write)
{
	for (unsigned i = 0; i < bus->n; i++) {
		const struct io_range *r = &bus->r[i];
		if (!r->movable && port >= r->base && port - r->base < r->len) {
			r->fn(r->opaque, port, data, len, is_write);
			return true;
		}
	}
	for (unsigned i = 0; i < bus->n; i++) {
		const struct io_range *r = &bus->r[i];
		uint32_t w = r->movable ? atomic_load_explicit(&r->where, memory_order_acquire) : 0;
		uint16_t base = (uint16_t)w;
		if ((w & IOBUS_PLACED) && port >= base && port - base < r->len) {
			r->fn(r->opaque, (uint16_t)(port - base), data, len, is_write);
			return true;
		}
	}
	if (!is_write)
		memset(data, 0xff, len);
	return false;
}
