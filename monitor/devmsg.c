#include "devmsg.h"

#include <stdio.h>

void mon_devmsg_line(const char *msg, char *out, size_t outlen)
{
	size_t i = 0;

	if (!outlen)
		return;
	for (; msg && msg[i] && i + 1 < outlen; i++)
		out[i] = msg[i] >= 0x20 && msg[i] < 0x7f ? msg[i] : '?';
	out[i] = 0;
}

bool mon_counter_name_ok(const char *n)
{
	size_t i = 0;

	if (!n)
		return false;
	for (; n[i] && i < 32; i++)
		if (!((n[i] >= 'a' && n[i] <= 'z') || (n[i] >= '0' && n[i] <= '9') || n[i] == '_'))
			return false;
	return i > 0 && !n[i];
}

void mon_counters_format(const Moat__Dev__StatsResponse *st, char *out, size_t outlen)
{
	size_t off = 0;

	if (!outlen)
		return;
	out[0] = 0;
	for (size_t i = 0; i < st->n_counters && i < MON_MAX_COUNTERS; i++) {
		const Moat__Dev__Counter *c = st->counters[i];
		int w;

		if (!c || !mon_counter_name_ok(c->name))
			continue;
		w = snprintf(out + off, outlen - off, " %s=%llu", c->name,
			     (unsigned long long)c->value);
		if (w < 0 || (size_t)w >= outlen - off) {
			out[off] = 0; /* no half entry */
			break;
		}
		off += (size_t)w;
	}
}
