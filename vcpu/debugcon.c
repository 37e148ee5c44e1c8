#include "debugcon.h"

#include <string.h>

#include "log.h"

#define DEBUGCON_MAGIC 0xE9

void debugcon_init(struct debugcon *d, bool enabled)
{
	memset(d, 0, sizeof(*d));
	pthread_mutex_init(&d->lock, NULL);
	d->enabled = enabled;
}

static void flush(struct debugcon *d)
{
	d->line[d->len] = 0;
	log_debug("firmware: %s", d->line);
	d->len = 0;
}

void debugcon_io(void *opaque, uint16_t port, uint8_t *data, unsigned len, bool is_write)
{
	struct debugcon *d = opaque;

	(void)port;
	if (!is_write) {
		memset(data, DEBUGCON_MAGIC, len);
		return;
	}
	if (!d->enabled)
		return;
	pthread_mutex_lock(&d->lock);
	for (unsigned i = 0; i < len; i++) {
		uint8_t c = data[i];
		if (c == '\n') {
			flush(d);
			continue;
		}
		if (c == '\r')
			continue;
		d->line[d->len++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
		if (d->len == DEBUGCON_LINE)
			flush(d);
	}
	pthread_mutex_unlock(&d->lock);
}
