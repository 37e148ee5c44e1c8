/* The vmdk descriptor file parser: hostile text in, a checked extent
 * table out. Never NUL-terminates or copies the text: every scan is
 * bounded by a cursor's end. See vmdk_desc.h. */
#include "vmdk_desc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SECTORS	 (1ull << 52) /* a disk's limit, as vmdk.c and qcow2 */
#define MAX_FILE_SECTORS (1ull << 54) /* 2^63 bytes: the largest off_t */
#define PROBE_MAGIC	 "# Disk DescriptorFile"

/* A line, or what is left of it: [p, e). */
struct cur {
	const char *p, *e;
};

struct parse {
	struct vmdk_desc *d;
	unsigned line;
	char *err;
	size_t errlen;
	bool seen_type;
};

__attribute__((format(printf, 3, 4))) static int fail(struct parse *ps, int err, const char *fmt,
						      ...)
{
	char pre[48];
	va_list ap;

	if (ps->line)
		snprintf(pre, sizeof(pre), "vmdk descriptor: line %u", ps->line);
	else
		snprintf(pre, sizeof(pre), "vmdk descriptor");
	va_start(ap, fmt);
	blk_image_verr(ps->err, ps->errlen, pre, fmt, ap);
	va_end(ap);
	return err;
}

bool vmdk_desc_probe(const uint8_t *buf, size_t len)
{
	size_t k = sizeof(PROBE_MAGIC) - 1;

	return len >= k && memcmp(buf, PROBE_MAGIC, k) == 0;
}

static bool blank(char c)
{
	return c == ' ' || c == '\t';
}

static void skip_blanks(struct cur *c)
{
	while (c->p < c->e && blank(*c->p))
		c->p++;
}

static void trim(struct cur *c)
{
	skip_blanks(c);
	while (c->e > c->p && (blank(c->e[-1]) || c->e[-1] == '\r'))
		c->e--;
}

/* The next run of non-blanks (empty at the end). */
static struct cur token(struct cur *c)
{
	struct cur t;

	skip_blanks(c);
	t.p = c->p;
	while (c->p < c->e && !blank(*c->p))
		c->p++;
	t.e = c->p;
	return t;
}

static bool is(struct cur t, const char *word)
{
	size_t n = strlen(word);

	return (size_t)(t.e - t.p) == n && memcmp(t.p, word, n) == 0;
}

/* Plain decimal (no sign, no blanks, at least one digit) into *v;
 * false if anything else or past 2^64 - 1. */
static bool decimal(struct cur t, uint64_t *v)
{
	uint64_t x = 0;

	if (t.p == t.e)
		return false;
	for (const char *p = t.p; p < t.e; p++) {
		unsigned dgt = (unsigned)(*p - '0');

		if (*p < '0' || *p > '9' || x > (UINT64_MAX - dgt) / 10)
			return false;
		x = x * 10 + dgt;
	}
	*v = x;
	return true;
}

/* A name into out (BLK_IMAGE_NAME_MAX bytes), what: for the message. */
static int take_name(struct parse *ps, struct cur v, char *out, const char *what)
{
	size_t n = (size_t)(v.e - v.p);

	if (n == 0)
		return fail(ps, -EINVAL, "empty %s", what);
	if (n >= BLK_IMAGE_NAME_MAX)
		return fail(ps, -EINVAL, "%s of %zu bytes too long (at most %d)", what, n,
			    BLK_IMAGE_NAME_MAX - 1);
	for (const char *p = v.p; p < v.e; p++)
		if ((unsigned char)*p < 0x20) /* tab or CR: the text allows them elsewhere */
			return fail(ps, -EINVAL, "control character 0x%02x in the %s", *p, what);
	memcpy(out, v.p, n);
	out[n] = 0;
	return 0;
}

/* A setting's value without its quotes, if it has a pair of them. */
static struct cur unquote(struct cur v)
{
	if (v.e - v.p >= 2 && v.p[0] == '"' && v.e[-1] == '"') {
		v.p++;
		v.e--;
	}
	return v;
}

static int create_type(struct parse *ps, struct cur v)
{
	static const char *const ok[] = {"monolithicFlat", "twoGbMaxExtentFlat",
					 "twoGbMaxExtentSparse"};
	size_t n = (size_t)(v.e - v.p);

	if (ps->seen_type)
		return fail(ps, -EINVAL, "createType given twice");
	ps->seen_type = true;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		if (is(v, ok[i])) {
			memcpy(ps->d->create_type, v.p, n);
			return 0;
		}
	}
	if (n == 0)
		return fail(ps, -EINVAL, "empty createType");
	return fail(ps, -ENOTSUP,
		    "createType %.*s not supported (monolithicFlat, twoGbMaxExtentFlat and "
		    "twoGbMaxExtentSparse are)",
		    n > 40 ? 40 : (int)n, v.p);
}

/* `key = value`: the few keys moat needs; the rest skipped. */
static int setting(struct parse *ps, struct cur c, const char *eq)
{
	struct cur key = {c.p, eq}, val = {eq + 1, c.e};
	uint64_t ver;

	trim(&key);
	trim(&val);
	val = unquote(val);
	if (is(key, "createType"))
		return create_type(ps, val);
	if (is(key, "parentFileNameHint")) {
		if (ps->d->has_parent)
			return fail(ps, -EINVAL, "parentFileNameHint given twice");
		ps->d->has_parent = true;
		return take_name(ps, val, ps->d->parent_hint, "parentFileNameHint");
	}
	if (is(key, "version")) {
		if (!decimal(val, &ver))
			return fail(ps, -EINVAL, "version is not a number");
		if (ver < 1 || ver > 3)
			return fail(ps, -ENOTSUP, "version %llu not supported (1..3 are)",
				    (unsigned long long)ver);
	}
	return 0;
}

static int extent_type(struct parse *ps, struct cur t, enum vmdk_extent_type *type)
{
	size_t n = (size_t)(t.e - t.p);

	if (is(t, "FLAT"))
		*type = VMDK_EXTENT_FLAT;
	else if (is(t, "SPARSE"))
		*type = VMDK_EXTENT_SPARSE;
	else if (is(t, "ZERO"))
		*type = VMDK_EXTENT_ZERO;
	else if (n == 0)
		return fail(ps, -EINVAL, "extent without a type");
	else
		return fail(ps, -ENOTSUP,
			    "extent type %.*s not supported (FLAT, SPARSE and ZERO are)",
			    n > 24 ? 24 : (int)n, t.p);
	return 0;
}

/* `ACCESS SECTORS TYPE ["NAME" [OFFSET]]`, the access already taken. */
static int extent(struct parse *ps, struct cur c, enum vmdk_extent_access access)
{
	struct vmdk_desc *d = ps->d;
	struct vmdk_extent_desc *x;
	struct cur t, name;
	const char *q;
	int rc;

	if (d->n >= VMDK_DESC_MAX_EXTENTS)
		return fail(ps, -EINVAL, "more than %d extents", VMDK_DESC_MAX_EXTENTS);
	x = &d->ext[d->n];
	x->access = access;
	if (!decimal(token(&c), &x->sectors))
		return fail(ps, -EINVAL, "extent size is not a decimal number of sectors");
	if (x->sectors == 0)
		return fail(ps, -EINVAL, "extent of 0 sectors");
	if (x->sectors > MAX_SECTORS || d->size / 512 > MAX_SECTORS - x->sectors)
		return fail(ps, -EINVAL, "extents total more than 2^52 sectors");
	rc = extent_type(ps, token(&c), &x->type);
	if (rc < 0)
		return rc;
	skip_blanks(&c);
	if (x->type == VMDK_EXTENT_ZERO) {
		if (c.p != c.e)
			return fail(ps, -EINVAL, "a ZERO extent takes no name or offset");
		goto done;
	}
	if (c.p == c.e)
		return fail(ps, -EINVAL, "extent without a file name");
	if (*c.p != '"')
		return fail(ps, -EINVAL, "extent file name not in quotes");
	q = memchr(c.p + 1, '"', (size_t)(c.e - c.p - 1));
	if (!q)
		return fail(ps, -EINVAL, "extent file name without its closing quote");
	name = (struct cur){c.p + 1, q};
	rc = take_name(ps, name, x->name, "extent file name");
	if (rc < 0)
		return rc;
	c.p = q + 1;
	if (c.p < c.e && !blank(*c.p))
		return fail(ps, -EINVAL, "text right after the extent file name");
	t = token(&c);
	if (t.p != t.e && x->type == VMDK_EXTENT_SPARSE)
		return fail(ps, -EINVAL, "a SPARSE extent takes no offset");
	if (t.p != t.e && !decimal(t, &x->offset))
		return fail(ps, -EINVAL, "FLAT offset is not a decimal number of sectors");
	if (x->offset > MAX_FILE_SECTORS || x->sectors > MAX_FILE_SECTORS - x->offset)
		return fail(ps, -EINVAL, "FLAT extent ends past 2^63 bytes of its file");
	skip_blanks(&c);
	if (c.p != c.e)
		return fail(ps, -EINVAL, "text after the extent's last field");
done:
	d->size += x->sectors * 512;
	d->n++;
	return 0;
}

static int one_line(struct parse *ps, struct cur c)
{
	struct cur first;
	const char *eq;

	trim(&c);
	if (c.p == c.e || *c.p == '#')
		return 0;
	first = token(&c);
	if (c.p < c.e) { /* an extent's access word is followed by blanks */
		if (is(first, "RW"))
			return extent(ps, c, VMDK_ACCESS_RW);
		if (is(first, "RDONLY"))
			return extent(ps, c, VMDK_ACCESS_RDONLY);
		if (is(first, "NOACCESS"))
			return extent(ps, c, VMDK_ACCESS_NOACCESS);
	}
	c.p = first.p;
	eq = memchr(c.p, '=', (size_t)(c.e - c.p));
	if (eq)
		return setting(ps, c, eq);
	return fail(ps, -EINVAL, "neither a comment, a setting nor an extent");
}

/* The text's length: up to its first NUL. What follows is not read:
 * qemu-img pads the file with NULs, and when it rewrites the descriptor
 * with a shorter CID (printed without leading zeros) the old text's tail
 * stays after the new NUL, as QEMU's own reader, which stops at the NUL,
 * expects. */
static int64_t text_len(const char *text, size_t len)
{
	const char *z = memchr(text, 0, len);

	return z ? z - text : (int64_t)len;
}

static int parse(struct parse *ps, const char *text, size_t len)
{
	const char *p, *end;
	int64_t k;
	int rc;

	if (len > VMDK_DESC_MAX_BYTES)
		return fail(ps, -EINVAL, "%zu bytes, larger than the %d a descriptor may have", len,
			    VMDK_DESC_MAX_BYTES);
	k = text_len(text, len);
	end = text + k;
	for (p = text; p < end; p++) {
		unsigned char ch = (unsigned char)*p;

		if ((ch < 0x20 && ch != '\t' && ch != '\r' && ch != '\n') || ch == 0x7f)
			return fail(ps, -EINVAL, "control character 0x%02x at byte %zu", ch,
				    (size_t)(p - text));
	}
	for (p = text; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end;

		ps->line++;
		rc = one_line(ps, (struct cur){p, e});
		if (rc < 0)
			return rc;
		p = nl ? nl + 1 : end;
	}
	ps->line = 0;
	if (!ps->seen_type)
		return fail(ps, -EINVAL, "no createType");
	if (ps->d->n == 0)
		return fail(ps, -EINVAL, "no extents");
	return 0;
}

int vmdk_desc_parse(const char *text, size_t len, struct vmdk_desc *out, char *err, size_t errlen)
{
	struct parse ps = {out, 0, err, errlen, false};
	int rc;

	if (err && errlen)
		err[0] = 0;
	memset(out, 0, sizeof(*out));
	rc = parse(&ps, text, len);
	if (rc < 0)
		memset(out, 0, sizeof(*out));
	return rc;
}

int vmdk_desc_read(int fd, struct vmdk_desc *out, char *err, size_t errlen)
{
	struct parse ps = {out, 0, err, errlen, false};
	char *buf = malloc(VMDK_DESC_MAX_BYTES + 1);
	int64_t k;
	int rc;

	if (!buf)
		return -ENOMEM;
	/* one byte more than allowed, to tell "too large" from "just fits" */
	k = blk_pread_upto(fd, buf, VMDK_DESC_MAX_BYTES + 1, 0);
	if (k < 0) {
		memset(out, 0, sizeof(*out));
		rc = fail(&ps, (int)k, "cannot read the descriptor file");
	} else if (k > VMDK_DESC_MAX_BYTES) {
		memset(out, 0, sizeof(*out));
		rc = fail(&ps, -EINVAL, "file larger than the %d bytes a descriptor may have",
			  VMDK_DESC_MAX_BYTES);
	} else {
		rc = vmdk_desc_parse(buf, (size_t)k, out, err, errlen);
	}
	free(buf);
	return rc;
}
