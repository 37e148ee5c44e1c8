#include "devmsg.h"

#include <stdio.h>
#include <string.h>

/* Escape msg up to its end or a newline (when stop_at_newline) into out;
 * returns the bytes written (without the NUL) and the input consumed. */
static size_t escape(const char *msg, bool stop_at_newline, char *out, size_t outlen, size_t *used)
{
	size_t o = 0, i = 0;

	for (; msg && msg[i] && !(stop_at_newline && msg[i] == '\n'); i++) {
		unsigned char c = (unsigned char)msg[i];
		char e[5];
		int n;

		if (c == '\\' || c == '"')
			n = snprintf(e, sizeof(e), "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			n = snprintf(e, sizeof(e), "\\x%02x", c);
		else
			n = snprintf(e, sizeof(e), "%c", c);
		if (o + (size_t)n + 1 > outlen)
			break;
		memcpy(out + o, e, (size_t)n);
		o += (size_t)n;
	}
	out[o] = 0;
	*used = i;
	return o;
}

void mon_untrusted_line(const char *msg, char *out, size_t outlen)
{
	size_t used;

	if (outlen)
		escape(msg, false, out, outlen, &used);
}

void mon_untrusted_text(const char *msg, unsigned max_lines, char *out, size_t outlen)
{
	size_t o = 0, used;

	if (!outlen)
		return;
	out[0] = 0;
	for (unsigned l = 0; msg && *msg && l < max_lines && o + 4 < outlen; l++) {
		out[o++] = ' ';
		out[o++] = ' ';
		o += escape(msg, true, out + o, outlen - o - 1, &used);
		msg += used;
		out[o++] = '\n';
		out[o] = 0;
		if (*msg != '\n')
			break; /* cut short: the rest does not fit */
		msg++;
	}
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
