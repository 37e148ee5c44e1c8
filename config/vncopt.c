#include "vncopt.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errline.h"

/* A dotted IPv4 address of four decimal bytes, or "localhost". */
static bool parse_ipv4(const char *s, size_t len, uint32_t *out)
{
	uint32_t a = 0;
	unsigned parts = 0;
	size_t i = 0;

	if (len == 9 && strncmp(s, "localhost", 9) == 0) {
		*out = 0x7F000001u;
		return true;
	}
	while (parts < 4) {
		unsigned v = 0, digits = 0;
		while (i < len && s[i] >= '0' && s[i] <= '9' && digits < 4) {
			v = v * 10 + (unsigned)(s[i++] - '0');
			digits++;
		}
		if (digits == 0 || digits > 3 || v > 255)
			return false;
		a = a << 8 | v;
		if (++parts < 4 && (i >= len || s[i++] != '.'))
			return false;
	}
	if (i != len)
		return false;
	*out = a;
	return true;
}

/* A size with an optional K, M or G suffix (binary units); plain
 * numbers are bytes. */
static bool parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || v > (1ULL << 40))
		return false;
	switch (*end) {
	case 'k':
	case 'K':
		v <<= 10;
		end++;
		break;
	case 'm':
	case 'M':
		v <<= 20;
		end++;
		break;
	case 'g':
	case 'G':
		v <<= 30;
		end++;
		break;
	default:
		break;
	}
	if (*end)
		return false;
	*out = v;
	return true;
}

/* HOST:N of a TCP listener, in s (len bytes, no option after it). */
static int parse_tcp(const char *s, size_t len, struct vncopt *o, char *err, size_t errlen)
{
	const char *colon = memrchr(s, ':', len);
	unsigned long n = 0;
	size_t i;

	if (!colon)
		return err_line(
		    err, errlen,
		    "--vnc takes HOST:DISPLAY (e.g. 127.0.0.1:1) or unix:PATH, not '%.*s'",
		    (int)len, s);
	o->addr = 0x7F000001u;
	if (colon > s && !parse_ipv4(s, (size_t)(colon - s), &o->addr))
		return err_line(err, errlen,
				"--vnc: '%.*s' is not an IPv4 address (IPv6 and host names other "
				"than localhost are not supported)",
				(int)(colon - s), s);
	i = (size_t)(colon - s) + 1;
	if (i == len)
		return err_line(err, errlen, "--vnc: no display number after ':'");
	for (; i < len; i++) {
		if (s[i] < '0' || s[i] > '9' || n > VNCOPT_MAX_DISPLAY)
			return err_line(
			    err, errlen,
			    "--vnc: the display number must be 0 to %d (port 5900 + N), "
			    "not '%.*s'",
			    VNCOPT_MAX_DISPLAY, (int)(len - (size_t)(colon - s) - 1), colon + 1);
		n = n * 10 + (unsigned long)(s[i] - '0');
	}
	if (n > VNCOPT_MAX_DISPLAY)
		return err_line(err, errlen, "--vnc: the display number must be 0 to %d, not %lu",
				VNCOPT_MAX_DISPLAY, n);
	o->port = (uint16_t)(VNCOPT_PORT_BASE + n);
	return 0;
}

static int parse_vram(const char *v, struct vncopt *o, char *err, size_t errlen)
{
	uint64_t size;

	if (!parse_size(v, &size) || size < VNCOPT_VRAM_MIN || size > VNCOPT_VRAM_MAX ||
	    (size & (size - 1)))
		return err_line(err, errlen,
				"--vnc vram= must be a power of two from 4M to 256M, not '%s'", v);
	o->vram = size;
	return 0;
}

int vncopt_parse(const char *arg, struct vncopt *out, char *err, size_t errlen)
{
	struct vncopt o = {.vram = VNCOPT_VRAM_DEF};
	const char *comma = strchr(arg, ',');
	size_t len = comma ? (size_t)(comma - arg) : strlen(arg);
	int rc;

	if (len == 0)
		return err_line(err, errlen,
				"--vnc takes HOST:DISPLAY (e.g. 127.0.0.1:1) or unix:PATH");
	if (len >= 5 && strncmp(arg, "unix:", 5) == 0) {
		if (len == 5 || len - 5 > VNCOPT_PATH_MAX)
			return err_line(err, errlen, "--vnc unix: needs a path of 1 to %d bytes",
					VNCOPT_PATH_MAX);
		o.is_unix = true;
		memcpy(o.path, arg + 5, len - 5);
		o.path[len - 5] = '\0';
	} else if ((rc = parse_tcp(arg, len, &o, err, errlen)) < 0) {
		return rc;
	}
	/* Options after the address: key=value, comma-separated. A path
	 * cannot hold a comma (as QEMU's option syntax). */
	while (comma) {
		const char *opt = comma + 1, *eq;
		char val[32];
		size_t olen;
		comma = strchr(opt, ',');
		olen = comma ? (size_t)(comma - opt) : strlen(opt);
		eq = memchr(opt, '=', olen);
		if (!eq || (size_t)(eq - opt) != 4 || strncmp(opt, "vram", 4) != 0)
			return err_line(err, errlen,
					"--vnc: unknown option '%.*s' (known: vram=SIZE)",
					(int)olen, opt);
		if (olen - 5 >= sizeof(val))
			return err_line(err, errlen, "--vnc vram=: value too long");
		memcpy(val, eq + 1, olen - 5);
		val[olen - 5] = '\0';
		if ((rc = parse_vram(val, &o, err, errlen)) < 0)
			return rc;
	}
	*out = o;
	return 0;
}

void vncopt_format(const struct vncopt *o, char *out, size_t outlen)
{
	if (o->is_unix)
		snprintf(out, outlen, "unix:%s", o->path);
	else
		snprintf(out, outlen, "%u.%u.%u.%u:%u", o->addr >> 24, (o->addr >> 16) & 0xff,
			 (o->addr >> 8) & 0xff, o->addr & 0xff, o->port);
}
