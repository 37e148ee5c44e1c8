#include "exitlog.h"

#include <stdio.h>
#include <string.h>

void exitlog_add(struct exitlog *log, enum exitlog_kind kind, uint64_t addr, const void *data,
		 unsigned size, uint32_t count, bool write)
{
	struct exitlog_rec *r = &log->rec[log->total % EXITLOG_LEN];
	uint64_t value = 0;

	memcpy(&value, data, size < sizeof(value) ? size : sizeof(value));
	*r = (struct exitlog_rec){.n = ++log->total,
				  .addr = addr,
				  .value = value,
				  .count = count,
				  .kind = (uint8_t)kind,
				  .size = (uint8_t)(size < 255 ? size : 255),
				  .write = write};
}

void exitlog_format(const struct exitlog *log, unsigned id, char *buf, size_t len)
{
	uint64_t first = log->total > EXITLOG_LEN ? log->total - EXITLOG_LEN : 0;
	size_t used = 0;
	int n;

	if (len == 0)
		return;
	buf[0] = '\0';
	if (log->total == 0)
		return;
	n = snprintf(buf, len, "vCPU %u's last exits to moat-vcpu (%llu in all), oldest first:\n",
		     id, (unsigned long long)log->total);
	for (uint64_t i = first; i < log->total && n >= 0; i++) {
		const struct exitlog_rec *r = &log->rec[i % EXITLOG_LEN];
		unsigned w = r->size < 8 ? r->size : 8;

		used += (size_t)n;
		if (used >= len)
			return;
		n = snprintf(buf + used, len - used,
			     "  #%llu %s %s %#llx, %u byte%s%s = 0x%0*llx\n",
			     (unsigned long long)r->n, r->kind == EXITLOG_PIO ? "port" : "mmio",
			     r->write ? "write" : "read", (unsigned long long)r->addr, r->size,
			     r->size == 1 ? "" : "s", r->count > 1 ? " (string I/O)" : "",
			     (int)(2 * w), (unsigned long long)r->value);
	}
}
