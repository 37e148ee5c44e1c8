/* libFuzzer target: mon_ctl_parse() (monitor/ctl_request.c), the control
 * socket's request parser, with netopt's hostfwd grammar under it. The
 * input is
 *   byte 0: bit 0 clear: the rest is a datagram, as a client sends it;
 *           bit 0 set: the rest drives a builder that fills a Request
 *           field by field (an op, ids and paths from a safe alphabet or
 *           raw, rules assembled from parts or raw) and packs it with
 *           protobuf-c, so the fuzzer reaches every field's rule.
 * Checked on every input: the errno is one of the four, the error line is
 * set exactly on failure and is one short printable line, a failure
 * changes nothing. On success: the op is valid and only its fields are
 * set, every string is NUL-terminated and keeps its rule (ids 1..15 of
 * [a-z0-9_-], paths absolute without control characters, none XOR a path,
 * never none and read-only), lines in 1..1000, timeouts in 0..3600, a
 * rule's ports non-zero, and its canonical form parses back to it. Built
 * requests must come back as they were built, and one built only of good
 * parts must pass. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control.pb-c.h"
#include "ctl_request.h"
#include "options.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool id_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* s is NUL-terminated within n bytes; its length. */
static size_t bounded_len(const char *s, size_t n)
{
	const char *z = memchr(s, 0, n);

	if (!z)
		abort();
	return (size_t)(z - s);
}

static void check_id(const char *id, bool may_be_empty)
{
	size_t n = bounded_len(id, MON_CTL_ID_MAX + 1);

	if (n == 0 && !may_be_empty)
		abort();
	for (size_t i = 0; i < n; i++)
		if (!id_char(id[i]))
			abort();
}

/* Field by field: a struct's padding is not part of its value. */
static bool fwd_eq(const struct netopt_fwd *a, const struct netopt_fwd *b)
{
	return a->proto == b->proto && a->host_addr == b->host_addr &&
	       a->host_port == b->host_port && a->guest_addr == b->guest_addr &&
	       a->guest_port == b->guest_port;
}

static void check_fwd(const struct netopt_fwd *f)
{
	char text[NETOPT_FWD_STRLEN], err[128];
	struct netopt_fwd again;

	if ((f->proto != NETOPT_TCP && f->proto != NETOPT_UDP) || !f->host_port || !f->guest_port ||
	    f->host_addr >= 0xE0000000u)
		abort();
	netopt_format_fwd(f, text, sizeof(text));
	if (netopt_parse_fwd(&again, text, strlen(text), err, sizeof(err)) || !fwd_eq(f, &again))
		abort();
}

/* Every invariant of a request that passed. */
static void check_req(const struct mon_ctl_req *r)
{
	static const struct netopt_fwd zero_fwd;
	size_t plen = bounded_len(r->path, sizeof(r->path));

	if (r->op < MON_CTL_STATUS || r->op > MON_CTL_DEVICE_RESTART)
		abort();
	if (r->op != MON_CTL_SHUTDOWN && (r->has_timeout || r->timeout_s))
		abort();
	if (r->timeout_s > MON_MAX_SHUTDOWN_S || (!r->has_timeout && r->timeout_s))
		abort();
	if ((r->op == MON_CTL_AUDIT_TAIL) != (r->lines != 0) || r->lines > MON_CTL_MAX_LINES)
		abort();
	if (r->op == MON_CTL_DISK_SWAP) {
		check_id(r->id, false);
		if (r->none == (plen != 0) || (r->none && r->read_only))
			abort();
		if (plen && r->path[0] != '/')
			abort();
		for (size_t i = 0; i < plen; i++)
			if ((unsigned char)r->path[i] < 0x20 || r->path[i] == 0x7F)
				abort();
	} else if (plen || r->none || r->read_only) {
		abort();
	}
	if (r->op == MON_CTL_HOSTFWD_LIST || r->op == MON_CTL_HOSTFWD_ADD ||
	    r->op == MON_CTL_HOSTFWD_REMOVE)
		check_id(r->id, true);
	else if (r->op == MON_CTL_DEVICE_RESTART)
		check_id(r->id, false);
	else if (r->op != MON_CTL_DISK_SWAP && bounded_len(r->id, sizeof(r->id)))
		abort();
	if (r->op == MON_CTL_HOSTFWD_ADD || r->op == MON_CTL_HOSTFWD_REMOVE)
		check_fwd(&r->fwd);
	else if (!fwd_eq(&r->fwd, &zero_fwd))
		abort();
}

/* Parse and check the contract; *out is the result on success. */
static int parse_checked(const uint8_t *buf, size_t len, struct mon_ctl_req *out)
{
	static struct mon_ctl_req before;
	char err[MON_CTL_ERR_LEN + 64];
	size_t elen;
	int r;

	memset(out, 0xA5, sizeof(*out));
	memcpy(&before, out, sizeof(before));
	memset(err, 'z', sizeof(err));
	r = mon_ctl_parse(buf, len, out, err, sizeof(err));
	elen = bounded_len(err, sizeof(err));
	if (r == 0) {
		if (elen)
			abort();
		check_req(out);
		return 0;
	}
	if (r != -EMSGSIZE && r != -EBADMSG && r != -EPROTO && r != -EINVAL)
		abort();
	if (elen == 0 || elen >= MON_CTL_ERR_LEN || memcmp(out, &before, sizeof(before)))
		abort();
	for (size_t i = 0; i < elen; i++)
		if ((unsigned char)err[i] < 0x20 || (unsigned char)err[i] >= 0x7F)
			abort();
	return r;
}

/* The builder's input. Past the end, every byte reads as 0. */
struct src {
	const uint8_t *p;
	size_t n;
};

static uint8_t u8(struct src *s)
{
	uint8_t v = 0;

	if (s->n) {
		v = *s->p++;
		s->n--;
	}
	return v;
}

static uint32_t u32(struct src *s)
{
	uint32_t v = 0;

	for (int i = 0; i < 4; i++)
		v = v << 8 | u8(s);
	return v;
}

/* A string of up to max bytes into buf: raw input bytes (a NUL ends it
 * early, as protobuf-c's strlen would), or from alphabet. *good tells
 * whether it was built from alphabet, non-empty and within max. */
static void text(struct src *s, char *buf, size_t max, const char *alphabet, bool *good)
{
	uint8_t mode = u8(s);
	size_t len = u8(s), k = strlen(alphabet);

	if (mode & 0x80)
		len = len << 8 | u8(s);
	if (len > max)
		len = max;
	for (size_t i = 0; i < len; i++) {
		uint8_t c = u8(s);

		buf[i] = (mode & 1) ? (char)c : alphabet[c % k];
	}
	buf[len] = 0;
	*good = !(mode & 1) && len > 0;
}

static const char id_abc[] = "abcdefghijklmnopqrstuvwxyz0123456789_-";
static const char path_abc[] = "abcdefghijklmnopqrstuvwxyz0123456789_-./ ~%+@=,:";

/* A hostfwd rule from parts: protocol, optional addresses, ports. *good:
 * every part is one the grammar takes, and *want what it says. */
static void rule(struct src *s, char *buf, size_t len, bool *good, struct netopt_fwd *want)
{
	uint8_t mode = u8(s);
	uint32_t ha = u32(s), ga = u32(s);
	unsigned hp = u32(s) % 70000, gp = u32(s) % 70000;
	char h[16] = "", g[16] = "";

	if (mode & 1) {
		text(s, buf, len - 1, "tcpud:-0123456789.", good);
		*good = false;
		memset(want, 0, sizeof(*want));
		return;
	}
	if (mode & 2)
		snprintf(h, sizeof(h), "%u.%u.%u.%u", ha >> 24, (ha >> 16) & 0xFF, (ha >> 8) & 0xFF,
			 ha & 0xFF);
	if (mode & 4)
		snprintf(g, sizeof(g), "%u.%u.%u.%u", ga >> 24, (ga >> 16) & 0xFF, (ga >> 8) & 0xFF,
			 ga & 0xFF);
	snprintf(buf, len, "%s:%s:%u-%s:%u", (mode & 8) ? "udp" : "tcp", h, hp, g, gp);
	*good =
	    hp >= 1 && hp <= 65535 && gp >= 1 && gp <= 65535 && (!(mode & 2) || ha < 0xE0000000u);
	*want = (struct netopt_fwd){(mode & 8) ? NETOPT_UDP : NETOPT_TCP,
				    (mode & 2) ? ha : NETOPT_ADDR_LOOP, (uint16_t)hp,
				    (mode & 4) ? ga : NETOPT_ADDR_GUEST, (uint16_t)gp};
}

/* Longer than a datagram may be, to reach the size limit. */
#define LONG_PATH (MON_CTL_MAX_REQ + 64)

static size_t varint_len(size_t v)
{
	size_t k = 1;

	while (v >>= 7)
		k++;
	return k;
}

/* Where in packed[0..n) a string of the built request starts, for a NUL
 * put inside it: protobuf-c packs fields in field-number order and leaves
 * out empty strings, so the op's message is last, disk_swap's id leads
 * it, and hostfwd's rule and device_restart's id end it. 0: no such
 * string. */
static size_t string_at(const Moat__Ctl__Request *m, size_t n, size_t *len)
{
	if (m->op_case == MOAT__CTL__REQUEST__OP_DEVICE_RESTART && m->device_restart->id[0]) {
		*len = strlen(m->device_restart->id);
		return n - *len;
	}
	if (m->op_case == MOAT__CTL__REQUEST__OP_DISK_SWAP && m->disk_swap->id[0]) {
		*len = strlen(m->disk_swap->id);
		return n - moat__ctl__disk_swap_request__get_packed_size(m->disk_swap) + 1 +
		       varint_len(*len);
	}
	if (m->op_case == MOAT__CTL__REQUEST__OP_HOSTFWD && m->hostfwd->rule[0]) {
		*len = strlen(m->hostfwd->rule);
		return n - *len;
	}
	return 0;
}

/* The operations without fields, and what each parses to. */
static const struct {
	Moat__Ctl__Request__OpCase op_case;
	enum mon_ctl_op op;
} plain_ops[] = {
    {MOAT__CTL__REQUEST__OP_STATUS, MON_CTL_STATUS},
    {MOAT__CTL__REQUEST__OP_PAUSE, MON_CTL_PAUSE},
    {MOAT__CTL__REQUEST__OP_RESUME, MON_CTL_RESUME},
    {MOAT__CTL__REQUEST__OP_STOP, MON_CTL_STOP},
    {MOAT__CTL__REQUEST__OP_RESET, MON_CTL_RESET},
    {MOAT__CTL__REQUEST__OP_GET_VERSION, MON_CTL_VERSION},
};

/* Build a Request from the input, pack it, parse it, and hold the result
 * to what was built. */
static void built(struct src *s)
{
	static char id[64], path[LONG_PATH + 2], net_id[64], r_text[512];
	static uint8_t packed[2 * MON_CTL_MAX_REQ + PATH_MAX];
	Moat__Ctl__Request m = MOAT__CTL__REQUEST__INIT;
	Moat__Ctl__ShutdownRequest sd = MOAT__CTL__SHUTDOWN_REQUEST__INIT;
	Moat__Ctl__DiskSwapRequest ds = MOAT__CTL__DISK_SWAP_REQUEST__INIT;
	Moat__Ctl__HostfwdRequest hf = MOAT__CTL__HOSTFWD_REQUEST__INIT;
	Moat__Ctl__AuditTailRequest at = MOAT__CTL__AUDIT_TAIL_REQUEST__INIT;
	Moat__Ctl__StatusRequest st = MOAT__CTL__STATUS_REQUEST__INIT;
	Moat__Ctl__DeviceRestartRequest dr = MOAT__CTL__DEVICE_RESTART_REQUEST__INIT;
	uint8_t pick = u8(s), flags = u8(s);
	bool good = true, g1 = true, g2 = true;
	struct netopt_fwd want = {0};
	enum mon_ctl_op plain = 0;
	struct mon_ctl_req r;
	size_t n, nul_at, slen = 0;
	int ret;

	m.version = (flags & 0x80) ? u32(s) : MOAT__CTL__VERSION__VERSION_CURRENT;
	switch (pick % 6) { /* pick & 0x80: a NUL into a string */
	case 0:		    /* empty messages all: one (empty) StatusRequest packs each */
		m.op_case = plain_ops[pick / 6 % 6].op_case;
		plain = plain_ops[pick / 6 % 6].op;
		m.status = &st;
		break;
	case 1:
		m.op_case = MOAT__CTL__REQUEST__OP_SHUTDOWN;
		m.shutdown = &sd;
		sd.has_timeout = flags & 1;
		sd.timeout_s = (flags & 2) ? u32(s) : u32(s) % (MON_MAX_SHUTDOWN_S + 2);
		good = sd.timeout_s <= MON_MAX_SHUTDOWN_S && (sd.has_timeout || !sd.timeout_s);
		break;
	case 2:
		m.op_case = MOAT__CTL__REQUEST__OP_DISK_SWAP;
		m.disk_swap = &ds;
		text(s, id, (flags & 2) ? 20 : MON_CTL_ID_MAX, id_abc, &g1);
		ds.id = id;
		ds.none = flags & 1;
		ds.read_only = (flags & 4) && !(flags & 8 && ds.none);
		path[0] = '/';
		text(s, path + !(flags & 16), (flags & 64) ? LONG_PATH : PATH_MAX + 16, path_abc,
		     &g2);
		ds.path = ds.none && !(flags & 32) ? "" : path;
		good = g1 && strlen(id) <= MON_CTL_ID_MAX && !(ds.none && ds.read_only) &&
		       (ds.none ? !ds.path[0] : g2 && strlen(path) < PATH_MAX && !(flags & 16));
		break;
	case 3:
		m.op_case = MOAT__CTL__REQUEST__OP_HOSTFWD;
		m.hostfwd = &hf;
		hf.op = (flags & 64) ? (Moat__Ctl__HostfwdRequest__Op)(int32_t)u32(s)
				     : (Moat__Ctl__HostfwdRequest__Op)(flags % 3);
		text(s, net_id, (flags & 8) ? 20 : MON_CTL_ID_MAX, id_abc, &g1);
		if (flags & 16)
			net_id[0] = 0;
		hf.net_id = net_id;
		r_text[0] = 0;
		g2 = true;
		if (hf.op != MOAT__CTL__HOSTFWD_REQUEST__OP__LIST || (flags & 32))
			rule(s, r_text, sizeof(r_text), &g2, &want);
		hf.rule = r_text;
		good = (unsigned)hf.op <= 2 && (!net_id[0] || (g1 && strlen(net_id) <= 15)) &&
		       (hf.op == MOAT__CTL__HOSTFWD_REQUEST__OP__LIST ? !r_text[0] : g2);
		break;
	case 4:
		m.op_case = MOAT__CTL__REQUEST__OP_DEVICE_RESTART;
		m.device_restart = &dr;
		text(s, id, (flags & 2) ? 20 : MON_CTL_ID_MAX, id_abc, &g1);
		dr.id = id;
		good = g1 && strlen(id) <= MON_CTL_ID_MAX;
		break;
	default:
		m.op_case = MOAT__CTL__REQUEST__OP_AUDIT_TAIL;
		m.audit_tail = &at;
		at.lines = (flags & 1) ? u32(s) : u32(s) % (MON_CTL_MAX_LINES + 2);
		good = at.lines <= MON_CTL_MAX_LINES;
		break;
	}
	n = moat__ctl__request__get_packed_size(&m);
	if (n > sizeof(packed))
		return;
	moat__ctl__request__pack(&m, packed);
	nul_at = string_at(&m, n, &slen);
	if (nul_at && (pick & 0x80)) {
		/* protobuf-c would cut the string there: the parser must refuse */
		packed[nul_at + u8(s) % slen] = 0;
		ret = parse_checked(packed, n, &r);
		if (ret != (n > MON_CTL_MAX_REQ				       ? -EMSGSIZE
			    : m.version != MOAT__CTL__VERSION__VERSION_CURRENT ? -EPROTO
									       : -EINVAL))
			abort();
		return;
	}
	ret = parse_checked(packed, n, &r);
	if (m.version != MOAT__CTL__VERSION__VERSION_CURRENT) {
		if (ret != (n > MON_CTL_MAX_REQ ? -EMSGSIZE : -EPROTO))
			abort();
		return;
	}
	if (n > MON_CTL_MAX_REQ) {
		if (ret != -EMSGSIZE)
			abort();
		return;
	}
	if (ret != 0 && ret != -EINVAL)
		abort();
	if (good && ret != 0)
		abort();
	if (ret)
		return;
	/* what passed is what was built */
	switch (m.op_case) {
	case MOAT__CTL__REQUEST__OP_SHUTDOWN:
		if (r.op != MON_CTL_SHUTDOWN || r.has_timeout != (bool)sd.has_timeout ||
		    r.timeout_s != sd.timeout_s)
			abort();
		break;
	case MOAT__CTL__REQUEST__OP_DISK_SWAP:
		if (r.op != MON_CTL_DISK_SWAP || strcmp(r.id, id) || strcmp(r.path, ds.path) ||
		    r.none != (bool)ds.none || r.read_only != (bool)ds.read_only)
			abort();
		break;
	case MOAT__CTL__REQUEST__OP_HOSTFWD:
		if (r.op != MON_CTL_HOSTFWD_LIST + hf.op || strcmp(r.id, net_id))
			abort();
		if (r.op != MON_CTL_HOSTFWD_LIST && g2 && !fwd_eq(&r.fwd, &want))
			abort();
		break;
	case MOAT__CTL__REQUEST__OP_DEVICE_RESTART:
		if (r.op != MON_CTL_DEVICE_RESTART || strcmp(r.id, id))
			abort();
		break;
	case MOAT__CTL__REQUEST__OP_AUDIT_TAIL:
		if (r.op != MON_CTL_AUDIT_TAIL ||
		    r.lines != (at.lines ? at.lines : MON_CTL_DEF_LINES))
			abort();
		break;
	default:
		if (r.op != plain)
			abort();
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mon_ctl_req r;
	struct src s;

	if (size == 0)
		return 0;
	if (!(data[0] & 1)) {
		parse_checked(data + 1, size - 1, &r);
		return 0;
	}
	s = (struct src){data + 1, size - 1};
	built(&s);
	return 0;
}
