/* Parser of the --net option value (see netopt.h). The value is walked in
 * place as comma-separated fields of (pointer, length): nothing is copied
 * until a field is known good, and user text in an error is shown clipped
 * and with non-printable bytes replaced, so the message stays one line. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "netopt.h"
#include "errline.h"
#include "hex.h"

#define SHOW_MAX 24 /* bytes of user text quoted in an error */
#define SHOW_BUF (SHOW_MAX + 4)

/* s[0..n) made safe to print inside quotes: at most SHOW_MAX bytes, then
 * "...", and '?' for any byte that is not printable ASCII. */
static const char *show(char buf[SHOW_BUF], const char *s, size_t n)
{
	size_t k = n > SHOW_MAX ? SHOW_MAX : n;

	for (size_t i = 0; i < k; i++)
		buf[i] = (s[i] >= 0x20 && s[i] < 0x7F) ? s[i] : '?';
	strcpy(buf + k, n > k ? "..." : "");
	return buf;
}

static bool is_lower_id(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

static bool is_ifname(char c)
{
	return (c >= 'A' && c <= 'Z') || is_lower_id(c) || c == '.';
}

static bool span_is(const char *s, size_t n, const char *word)
{
	return strlen(word) == n && !memcmp(s, word, n);
}

/* "xx:xx:xx:xx:xx:xx", exactly; 0 or -EINVAL. */
static int parse_mac(uint8_t mac[6], const char *s, size_t n, char *err, size_t errlen)
{
	char b[SHOW_BUF];

	if (n != NETOPT_MAC_STRLEN - 1)
		goto bad;
	for (size_t i = 0; i < 6; i++) {
		int v = hex_byte(s + 3 * i);

		if (v < 0 || (i < 5 && s[3 * i + 2] != ':'))
			goto bad;
		mac[i] = (uint8_t)v;
	}
	/* a group bit set would make every frame the guest sends a multicast */
	if (mac[0] & 1)
		return err_line(err, errlen, "net: MAC %s is a multicast address", show(b, s, n));
	if (!(mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]))
		return err_line(err, errlen, "net: MAC 00:00:00:00:00:00 is not a valid address");
	return 0;
bad:
	return err_line(err, errlen, "net: bad MAC '%s' (want xx:xx:xx:xx:xx:xx)", show(b, s, n));
}

/* Leading zeros are refused because inet_aton() would read "010" as octal;
 * that also makes this glibc's inet_pton(AF_INET), which libslirp uses. */
bool netopt_parse_addr(const char *s, size_t n, uint32_t *addr)
{
	uint32_t a = 0;
	size_t i = 0;

	for (int part = 0; part < 4; part++) {
		unsigned v = 0, digits = 0;

		if (part > 0) {
			if (i >= n || s[i] != '.')
				return false;
			i++;
		}
		while (i < n && s[i] >= '0' && s[i] <= '9' && digits < 4) {
			v = v * 10 + (unsigned)(s[i++] - '0');
			digits++;
		}
		if (digits == 0 || v > 255 || (digits > 1 && s[i - digits] == '0'))
			return false;
		a = a << 8 | v;
	}
	if (i != n)
		return false;
	*addr = a;
	return true;
}

/* Decimal 1..65535, digits only. The errors of a rule carry no "net: "
 * prefix: netopt_parse adds it, the control socket does not want it. */
static int parse_port(uint16_t *port, const char *s, size_t n, const char *what, char *err,
		      size_t errlen)
{
	char b[SHOW_BUF];
	unsigned long v = 0;

	if (n == 0)
		return err_line(err, errlen, "hostfwd %s port is missing", what);
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return err_line(err, errlen, "hostfwd %s port '%s' is not a number", what,
					show(b, s, n));
		if (v <= 65535)
			v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v == 0 || v > 65535)
		return err_line(err, errlen, "hostfwd %s port %s is out of range (1-65535)", what,
				show(b, s, n));
	*port = (uint16_t)v;
	return 0;
}

/* "[ADDR]:PORT" of one side of a forward; an empty ADDR is def. */
static int parse_end(uint32_t *addr, uint16_t *port, const char *s, size_t n, uint32_t def,
		     const char *what, char *err, size_t errlen)
{
	const char *colon = memchr(s, ':', n);
	char b[SHOW_BUF];
	size_t alen;

	if (!colon)
		return err_line(err, errlen, "hostfwd %s side '%s' wants [ADDR]:PORT", what,
				show(b, s, n));
	alen = (size_t)(colon - s);
	if (alen == 0)
		*addr = def;
	else if (!netopt_parse_addr(s, alen, addr))
		return err_line(err, errlen, "hostfwd %s address '%s' is not an IPv4 address", what,
				show(b, s, alen));
	return parse_port(port, colon + 1, n - alen - 1, what, err, errlen);
}

int netopt_parse_fwd(struct netopt_fwd *out, const char *s, size_t n, char *err, size_t errlen)
{
	const char *colon, *dash;
	struct netopt_fwd f = {0};
	char b[SHOW_BUF];
	size_t plen;
	int r;

	if (err && errlen)
		err[0] = 0;
	if (!out || (!s && n))
		return err_line(err, errlen, "hostfwd: no rule");
	colon = n ? memchr(s, ':', n) : NULL;
	if (!colon)
		return err_line(
		    err, errlen,
		    "hostfwd '%s' wants PROTO:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT",
		    show(b, s, n));
	plen = (size_t)(colon - s);
	if (span_is(s, plen, "tcp"))
		f.proto = NETOPT_TCP;
	else if (span_is(s, plen, "udp"))
		f.proto = NETOPT_UDP;
	else
		return err_line(err, errlen, "unknown hostfwd protocol '%s' (want tcp or udp)",
				show(b, s, plen));
	s += plen + 1;
	n -= plen + 1;
	dash = memchr(s, '-', n);
	if (!dash)
		return err_line(err, errlen, "hostfwd '%s' has no '-' between host and guest",
				show(b, s, n));
	r = parse_end(&f.host_addr, &f.host_port, s, (size_t)(dash - s), NETOPT_ADDR_LOOP, "host",
		      err, errlen);
	if (r)
		return r;
	r = parse_end(&f.guest_addr, &f.guest_port, dash + 1, n - (size_t)(dash - s) - 1,
		      NETOPT_ADDR_GUEST, "guest", err, errlen);
	if (r)
		return r;
	/* the host side must be something we can bind: no group addresses */
	if (f.host_addr >= 0xE0000000u)
		return err_line(err, errlen, "hostfwd host address is not a unicast address");
	*out = f;
	return 0;
}

void netopt_format_fwd(const struct netopt_fwd *f, char *buf, size_t len)
{
	char h[16], g[16];

	netopt_format_addr(f->host_addr, h);
	netopt_format_addr(f->guest_addr, g);
	snprintf(buf, len, "%s:%s:%u-%s:%u", f->proto == NETOPT_UDP ? "udp" : "tcp", h,
		 f->host_port, g, f->guest_port);
}

/* One hostfwd= value, appended to o->fwd[]: the rule's grammar, then the
 * limits of a device (how many, one rule per protocol and host port). */
static int parse_hostfwd(struct netopt *o, const char *s, size_t n, char *err, size_t errlen)
{
	struct netopt_fwd f;
	char why[128];

	if (o->nfwd == NETOPT_MAX_FWD)
		return err_line(err, errlen, "net: more than %d hostfwd rules", NETOPT_MAX_FWD);
	if (netopt_parse_fwd(&f, s, n, why, sizeof(why)))
		return err_line(err, errlen, "net: %s", why);
	for (unsigned i = 0; i < o->nfwd; i++)
		if (o->fwd[i].proto == f.proto && o->fwd[i].host_port == f.host_port)
			return err_line(err, errlen, "net: two hostfwd rules for %s host port %u",
					f.proto == NETOPT_UDP ? "udp" : "tcp", f.host_port);
	o->fwd[o->nfwd++] = f;
	return 0;
}

/* The first field: "user" or "tap=IFNAME". */
static int parse_kind(struct netopt *o, const char *s, size_t n, char *err, size_t errlen)
{
	char b[SHOW_BUF];

	if (span_is(s, n, "user")) {
		o->kind = NETOPT_USER;
		return 0;
	}
	if (n >= 3 && !memcmp(s, "tap", 3) && (n == 3 || s[3] == '=')) {
		const char *name = s + 4;
		size_t len = n > 4 ? n - 4 : 0;

		if (len == 0)
			return err_line(err, errlen,
					"net: tap needs an interface name (tap=IFNAME)");
		if (len > NETOPT_IFNAME_MAX)
			return err_line(err, errlen, "net: tap name '%s' is longer than %d bytes",
					show(b, name, len), NETOPT_IFNAME_MAX);
		/* the kernel's dev_valid_name() refuses these two */
		if (span_is(name, len, ".") || span_is(name, len, ".."))
			return err_line(err, errlen, "net: tap name '%s' is not valid",
					show(b, name, len));
		for (size_t i = 0; i < len; i++)
			if (!is_ifname(name[i]))
				return err_line(err, errlen,
						"net: tap name '%s' has a character outside "
						"A-Z a-z 0-9 _ . -",
						show(b, name, len));
		o->kind = NETOPT_TAP;
		memcpy(o->ifname, name, len);
		o->ifname[len] = 0;
		return 0;
	}
	if (n == 0)
		return err_line(err, errlen, "net: empty option (want user,... or tap=IFNAME,...)");
	return err_line(err, errlen, "net: unknown network kind '%s' (want user or tap=IFNAME)",
			show(b, s, n));
}

/* Which optional fields have been seen, to refuse a second one. */
struct seen {
	bool id, mac, restrict_, hostloop;
};

/* on | off into *out. */
static int parse_switch(const char *key, bool *out, const char *v, size_t vlen, char *err,
			size_t errlen)
{
	char b[SHOW_BUF];

	if (span_is(v, vlen, "on"))
		*out = true;
	else if (span_is(v, vlen, "off"))
		*out = false;
	else
		return err_line(err, errlen, "net: %s wants on or off, not '%s'", key,
				show(b, v, vlen));
	return 0;
}

/* One key=value field after the first. */
static int parse_field(struct netopt *o, struct seen *seen, const char *s, size_t n, char *err,
		       size_t errlen)
{
	const char *eq = memchr(s, '=', n);
	size_t klen = eq ? (size_t)(eq - s) : n, vlen = eq ? n - klen - 1 : 0;
	const char *v = eq ? eq + 1 : s + n;
	char b[SHOW_BUF];
	bool *dup = NULL;
	int r = 0;

	if (n == 0)
		return err_line(err, errlen, "net: empty field (a stray comma?)");
	if (span_is(s, klen, "id"))
		dup = &seen->id;
	else if (span_is(s, klen, "mac"))
		dup = &seen->mac;
	else if (span_is(s, klen, "restrict"))
		dup = &seen->restrict_;
	else if (span_is(s, klen, "hostloop"))
		dup = &seen->hostloop;
	else if (!span_is(s, klen, "hostfwd"))
		return err_line(err, errlen, "net: unknown field '%s'", show(b, s, klen));
	if (!eq)
		return err_line(err, errlen, "net: field '%s' needs a value (%s=...)",
				show(b, s, klen), b);
	if (dup && *dup)
		return err_line(err, errlen, "net: '%s' given twice", show(b, s, klen));
	if (o->kind == NETOPT_TAP && (dup == &seen->restrict_ || dup == &seen->hostloop || !dup))
		return err_line(err, errlen, "net: '%s' applies only to user networking",
				show(b, s, klen));
	if (dup)
		*dup = true;

	if (dup == &seen->id) {
		if (vlen == 0 || vlen > NETOPT_ID_MAX)
			return err_line(err, errlen, "net: id must be 1-%d characters",
					NETOPT_ID_MAX);
		for (size_t i = 0; i < vlen; i++)
			if (!is_lower_id(v[i]))
				return err_line(err, errlen,
						"net: id '%s' has a character outside a-z 0-9 _ -",
						show(b, v, vlen));
		memcpy(o->id, v, vlen);
		o->id[vlen] = 0;
	} else if (dup == &seen->mac) {
		r = parse_mac(o->mac, v, vlen, err, errlen);
	} else if (dup == &seen->restrict_) {
		r = parse_switch("restrict", &o->restricted, v, vlen, err, errlen);
	} else if (dup == &seen->hostloop) {
		r = parse_switch("hostloop", &o->hostloop, v, vlen, err, errlen);
	} else {
		r = parse_hostfwd(o, v, vlen, err, errlen);
	}
	return r;
}

int netopt_parse(struct netopt *out, const char *arg, unsigned index, char *err, size_t errlen)
{
	struct seen seen = {0};
	struct netopt o;
	const char *p = arg;
	int r;

	if (err && errlen)
		err[0] = 0;
	if (!out || !arg)
		return err_line(err, errlen, "net: no option value");
	if (index > NETOPT_MAX_INDEX)
		return err_line(err, errlen, "net: more than %d network devices",
				NETOPT_MAX_INDEX + 1);
	memset(&o, 0, sizeof(o));
	for (bool first = true;; first = false) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);

		r = first ? parse_kind(&o, p, n, err, errlen)
			  : parse_field(&o, &seen, p, n, err, errlen);
		if (r)
			return r;
		if (!comma)
			break;
		p = comma + 1;
	}
	if (!seen.id)
		snprintf(o.id, sizeof(o.id), "net%u", index);
	if (!seen.mac) {
		static const uint8_t base[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

		memcpy(o.mac, base, sizeof(base));
		o.mac[5] = (uint8_t)(0x56 + index);
	}
	*out = o;
	return 0;
}

void netopt_format_mac(const uint8_t mac[6], char buf[NETOPT_MAC_STRLEN])
{
	snprintf(buf, NETOPT_MAC_STRLEN, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2],
		 mac[3], mac[4], mac[5]);
}

void netopt_format_addr(uint32_t addr, char buf[16])
{
	snprintf(buf, 16, "%u.%u.%u.%u", addr >> 24, (addr >> 16) & 0xFF, (addr >> 8) & 0xFF,
		 addr & 0xFF);
}
