/* The control socket's request parser (see ctl_request.h): protobuf-c
 * unpacks, then every field is checked against its rule, and only then is
 * the request copied out as plain data. Client text in an error is
 * escaped and clipped, so the reply's line stays one short printable line
 * whatever the client sent. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "control.pb-c.h"
#include "ctl_request.h"

#include "errline.h"
#include "options.h"

_Static_assert(MON_CTL_ID_MAX == NETOPT_ID_MAX, "a card's id must fit mon_ctl_req.id");
_Static_assert(MON_MAX_SHUTDOWN_S <= UINT32_MAX, "timeout_s is a uint32");

#define QUOTE_MAX 56 /* characters of client text shown in an error */
#define QUOTE_BUF (QUOTE_MAX + 4)

#define fail err_line_code

/* s made safe to quote: printable ASCII as it is, any other byte (and the
 * backslash, so an escape is unambiguous) as \xNN, clipped at QUOTE_MAX
 * characters with "..." after. */
static const char *quote(char out[QUOTE_BUF], const char *s)
{
	size_t o = 0, i;

	for (i = 0; s[i]; i++) {
		unsigned char c = (unsigned char)s[i];
		bool plain = c >= 0x20 && c < 0x7F && c != '\\';

		if (o + (plain ? 1 : 4) > QUOTE_MAX)
			break;
		if (plain)
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, QUOTE_BUF - o, "\\x%02x", c);
	}
	strcpy(out + o, s[i] ? "..." : "");
	return out;
}

static bool read_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	uint64_t x = 0;

	for (unsigned shift = 0; shift < 64; shift += 7) {
		uint8_t b;

		if (*p == end)
			return false;
		b = *(*p)++;
		x |= (uint64_t)(b & 0x7F) << shift;
		if (!(b & 0x80)) {
			*v = x;
			return true;
		}
	}
	return false;
}

/* protobuf-c copies a string field and ends it with a NUL, so a client's
 * "/img\0/../x" would arrive as "/img": not what was sent. Where the
 * length is still known, on the wire, this looks for a NUL inside every
 * string field of message d (and of its message fields, depth-bounded).
 * 1 with *name the field's name: found; 0: none; -1: the bytes are not a
 * message (protobuf-c accepted them, so this is not expected). */
static int wire_has_nul(const ProtobufCMessageDescriptor *d, const uint8_t *p, size_t len,
			unsigned depth, const char **name)
{
	const uint8_t *end = p + len;

	while (p < end) {
		const ProtobufCFieldDescriptor *f;
		uint64_t tag, n;
		int r;

		if (!read_varint(&p, end, &tag) || tag >> 3 > UINT32_MAX)
			return -1;
		switch (tag & 7) {
		case PROTOBUF_C_WIRE_TYPE_VARINT:
			if (!read_varint(&p, end, &n))
				return -1;
			break;
		case PROTOBUF_C_WIRE_TYPE_64BIT:
			if (end - p < 8)
				return -1;
			p += 8;
			break;
		case PROTOBUF_C_WIRE_TYPE_32BIT:
			if (end - p < 4)
				return -1;
			p += 4;
			break;
		case PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED:
			if (!read_varint(&p, end, &n) || n > (uint64_t)(end - p))
				return -1;
			f = protobuf_c_message_descriptor_get_field(d, (unsigned)(tag >> 3));
			if (f && f->type == PROTOBUF_C_TYPE_STRING && memchr(p, 0, n)) {
				*name = f->name;
				return 1;
			}
			if (f && f->type == PROTOBUF_C_TYPE_MESSAGE && depth < 4) {
				r = wire_has_nul(f->descriptor, p, n, depth + 1, name);
				if (r)
					return r;
			}
			p += n;
			break;
		default: /* groups: protobuf-c refuses them too */
			return -1;
		}
	}
	return 0;
}

/* A device id, as --disk id= and --net id= take it: 1..15 of [a-z0-9_-]. */
static int check_id(char id[MON_CTL_ID_MAX + 1], const char *s, const char *what, char *err,
		    size_t errlen)
{
	char q[QUOTE_BUF];
	size_t n = strlen(s);

	if (n == 0)
		return fail(-EINVAL, err, errlen, "%s is empty (want 1-%d of a-z 0-9 _ -)", what,
			    MON_CTL_ID_MAX);
	if (n > MON_CTL_ID_MAX)
		return fail(-EINVAL, err, errlen, "%s '%s' is longer than %d characters", what,
			    quote(q, s), MON_CTL_ID_MAX);
	for (const char *c = s; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_' ||
		      *c == '-'))
			return fail(-EINVAL, err, errlen,
				    "%s '%s' has a character outside a-z 0-9 _ -", what,
				    quote(q, s));
	memcpy(id, s, n + 1);
	return 0;
}

static int check_shutdown(const Moat__Ctl__ShutdownRequest *s, struct mon_ctl_req *r, char *err,
			  size_t errlen)
{
	if (!s->has_timeout && s->timeout_s)
		return fail(-EINVAL, err, errlen,
			    "shutdown: timeout_s %u given without has_timeout", s->timeout_s);
	if (s->timeout_s > MON_MAX_SHUTDOWN_S)
		return fail(-EINVAL, err, errlen,
			    "shutdown: timeout %u s is over the limit of %d s", s->timeout_s,
			    MON_MAX_SHUTDOWN_S);
	r->op = MON_CTL_SHUTDOWN;
	r->has_timeout = s->has_timeout;
	r->timeout_s = s->timeout_s;
	return 0;
}

/* An image path: absolute (the client resolved it), shorter than
 * PATH_MAX, and free of control characters, which have no business in a
 * path and would garble the audit trail's lines. */
static int check_path(char path[PATH_MAX], const char *s, char *err, size_t errlen)
{
	char q[QUOTE_BUF];
	size_t n = strlen(s);

	if (n >= PATH_MAX)
		return fail(-EINVAL, err, errlen, "disk_swap: path is %zu bytes (at most %d)", n,
			    PATH_MAX - 1);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7F)
			return fail(-EINVAL, err, errlen,
				    "disk_swap: path has a control character (0x%02x) at byte %zu",
				    (unsigned char)s[i], i);
	if (s[0] != '/')
		return fail(-EINVAL, err, errlen, "disk_swap: path '%s' is not absolute",
			    quote(q, s));
	memcpy(path, s, n + 1);
	return 0;
}

static int check_disk_swap(const Moat__Ctl__DiskSwapRequest *d, struct mon_ctl_req *r, char *err,
			   size_t errlen)
{
	const char *path = d->path ? d->path : "";
	int ret;

	ret = check_id(r->id, d->id ? d->id : "", "disk_swap: id", err, errlen);
	if (ret)
		return ret;
	if (d->none && path[0])
		return fail(-EINVAL, err, errlen, "disk_swap: both none and a path given");
	if (d->none && d->read_only)
		return fail(-EINVAL, err, errlen,
			    "disk_swap: none cannot be read-only (it has no medium)");
	if (!d->none) {
		if (!path[0])
			return fail(-EINVAL, err, errlen,
				    "disk_swap: no path (give an absolute path, or none)");
		ret = check_path(r->path, path, err, errlen);
		if (ret)
			return ret;
	}
	r->op = MON_CTL_DISK_SWAP;
	r->none = d->none;
	r->read_only = d->read_only;
	return 0;
}

static int check_hostfwd(const Moat__Ctl__HostfwdRequest *h, struct mon_ctl_req *r, char *err,
			 size_t errlen)
{
	const char *net_id = h->net_id ? h->net_id : "", *rule = h->rule ? h->rule : "";
	const char *name;
	int ret;

	switch (h->op) {
	case MOAT__CTL__HOSTFWD_REQUEST__OP__LIST:
		r->op = MON_CTL_HOSTFWD_LIST;
		name = "list";
		break;
	case MOAT__CTL__HOSTFWD_REQUEST__OP__ADD:
		r->op = MON_CTL_HOSTFWD_ADD;
		name = "add";
		break;
	case MOAT__CTL__HOSTFWD_REQUEST__OP__REMOVE:
		r->op = MON_CTL_HOSTFWD_REMOVE;
		name = "remove";
		break;
	default: /* proto3 enums are open: any number unpacks */
		return fail(-EINVAL, err, errlen,
			    "hostfwd: unknown op %d (want list, add or remove)", (int)h->op);
	}
	if (net_id[0]) {
		ret = check_id(r->id, net_id, "hostfwd: net_id", err, errlen);
		if (ret)
			return ret;
	}
	if (r->op == MON_CTL_HOSTFWD_LIST) {
		if (rule[0])
			return fail(-EINVAL, err, errlen, "hostfwd: list takes no rule");
		return 0;
	}
	if (!rule[0])
		return fail(-EINVAL, err, errlen,
			    "hostfwd: %s needs a rule (PROTO:[HADDR]:HPORT-[GADDR]:GPORT)", name);
	return netopt_parse_fwd(&r->fwd, rule, strlen(rule), err, errlen);
}

static int check_audit_tail(const Moat__Ctl__AuditTailRequest *a, struct mon_ctl_req *r, char *err,
			    size_t errlen)
{
	if (a->lines > MON_CTL_MAX_LINES)
		return fail(-EINVAL, err, errlen, "audit_tail: %u lines is over the limit of %d",
			    a->lines, MON_CTL_MAX_LINES);
	r->op = MON_CTL_AUDIT_TAIL;
	r->lines = a->lines ? a->lines : MON_CTL_DEF_LINES;
	return 0;
}

static int check_device_restart(const Moat__Ctl__DeviceRestartRequest *d, struct mon_ctl_req *r,
				char *err, size_t errlen)
{
	int ret = check_id(r->id, d->id ? d->id : "", "device_restart: id", err, errlen);

	if (ret)
		return ret;
	r->op = MON_CTL_DEVICE_RESTART;
	return 0;
}

/* The operation of m, checked into r (zeroed by the caller). */
static int check_op(const Moat__Ctl__Request *m, struct mon_ctl_req *r, char *err, size_t errlen)
{
	switch (m->op_case) {
	case MOAT__CTL__REQUEST__OP_STATUS:
		r->op = MON_CTL_STATUS;
		return 0;
	case MOAT__CTL__REQUEST__OP_PAUSE:
		r->op = MON_CTL_PAUSE;
		return 0;
	case MOAT__CTL__REQUEST__OP_RESUME:
		r->op = MON_CTL_RESUME;
		return 0;
	case MOAT__CTL__REQUEST__OP_STOP:
		r->op = MON_CTL_STOP;
		return 0;
	case MOAT__CTL__REQUEST__OP_RESET:
		r->op = MON_CTL_RESET;
		return 0;
	case MOAT__CTL__REQUEST__OP_GET_VERSION:
		r->op = MON_CTL_VERSION;
		return 0;
	case MOAT__CTL__REQUEST__OP_SHUTDOWN:
		if (m->shutdown)
			return check_shutdown(m->shutdown, r, err, errlen);
		break;
	case MOAT__CTL__REQUEST__OP_DISK_SWAP:
		if (m->disk_swap)
			return check_disk_swap(m->disk_swap, r, err, errlen);
		break;
	case MOAT__CTL__REQUEST__OP_HOSTFWD:
		if (m->hostfwd)
			return check_hostfwd(m->hostfwd, r, err, errlen);
		break;
	case MOAT__CTL__REQUEST__OP_AUDIT_TAIL:
		if (m->audit_tail)
			return check_audit_tail(m->audit_tail, r, err, errlen);
		break;
	case MOAT__CTL__REQUEST__OP_DEVICE_RESTART:
		if (m->device_restart)
			return check_device_restart(m->device_restart, r, err, errlen);
		break;
	default: /* none, or a field number this moat does not know */
		return fail(-EPROTO, err, errlen,
			    "request names no operation this moat knows (version %d)",
			    MOAT__CTL__VERSION__VERSION_CURRENT);
	}
	/* protobuf-c always allocates a oneof's message; never trust it */
	return fail(-EBADMSG, err, errlen, "request's operation has no message");
}

int mon_ctl_parse(const uint8_t *buf, size_t len, struct mon_ctl_req *out, char *err, size_t errlen)
{
	static const uint8_t empty[1];
	const char *field = "";
	Moat__Ctl__Request *m;
	struct mon_ctl_req r;
	int ret, nul;

	if (err && errlen)
		err[0] = 0;
	if (!out)
		return fail(-EINVAL, err, errlen, "request: nowhere to put it");
	if (len > MON_CTL_MAX_REQ)
		return fail(-EMSGSIZE, err, errlen, "request (%zu bytes) is over the limit of %d",
			    len, MON_CTL_MAX_REQ);
	if (!buf) {
		if (len)
			return fail(-EBADMSG, err, errlen, "request: no bytes");
		buf = empty;
	}
	m = moat__ctl__request__unpack(NULL, len, buf);
	if (!m)
		return fail(-EBADMSG, err, errlen,
			    "request (%zu bytes) does not decode as a moat.ctl.Request", len);
	memset(&r, 0, sizeof(r));
	if (m->version != MOAT__CTL__VERSION__VERSION_CURRENT) {
		ret = fail(-EPROTO, err, errlen,
			   "request speaks control protocol version %u; this moat speaks %d",
			   m->version, MOAT__CTL__VERSION__VERSION_CURRENT);
		goto out;
	}
	nul = wire_has_nul(&moat__ctl__request__descriptor, buf, len, 0, &field);
	if (nul) {
		ret = nul > 0
			  ? fail(-EINVAL, err, errlen, "request: string %s holds a NUL byte", field)
			  : fail(-EBADMSG, err, errlen, "request does not decode");
		goto out;
	}
	ret = check_op(m, &r, err, errlen);
out:
	moat__ctl__request__free_unpacked(m, NULL);
	if (ret == 0)
		*out = r;
	return ret;
}
