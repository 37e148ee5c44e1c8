/* ACPI Machine Language writer: see aml.h. Encodings as in ACPI 6.4
 * chapter 20 (AML grammar) and 6.4 (resource data types). */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "aml.h"
#include "bytes.h"

enum {
	ZERO_OP = 0x00,
	ONE_OP = 0x01,
	NAME_OP = 0x08,
	BYTE_PREFIX = 0x0A,
	WORD_PREFIX = 0x0B,
	DWORD_PREFIX = 0x0C,
	STRING_PREFIX = 0x0D,
	QWORD_PREFIX = 0x0E,
	SCOPE_OP = 0x10,
	BUFFER_OP = 0x11,
	PACKAGE_OP = 0x12,
	DUAL_NAME_PREFIX = 0x2E,
	MULTI_NAME_PREFIX = 0x2F,
	ROOT_CHAR = 0x5C,
	EXT_OP_PREFIX = 0x5B,
	DEVICE_OP = 0x82,    /* after EXT_OP_PREFIX */
	PROCESSOR_OP = 0x83, /* after EXT_OP_PREFIX */

	/* Resource descriptors. */
	RD_IRQ_NOFLAGS = 0x22, /* small item 4, length 2 */
	RD_IO = 0x47,	       /* small item 8, length 7 */
	RD_END_TAG = 0x79,     /* small item 15, length 1 */
	RD_DWORD_ADDR = 0x87,  /* large item 7 */
	RD_WORD_ADDR = 0x88,   /* large item 8 */
	RD_DWORD_ADDR_LEN = 23,
	RD_WORD_ADDR_LEN = 13,
	RD_SPACE_MEM = 0,
	RD_SPACE_IO = 1,
	RD_SPACE_BUS = 2,
	/* General flags: producer (bit 0 clear), positive decode (bit 1
	 * clear), minimum fixed, maximum fixed. */
	RD_FLAGS_PRODUCER_FIXED = (1 << 2) | (1 << 3),
	RD_IO_ENTIRE_RANGE = 3,
	RD_MEM_RW = 1 << 0,
	RD_MEM_CACHEABLE = 1 << 1,
	RD_IO_DECODE16 = 1,

	NAME_SEG = 4,
	MAX_SEGS = 255,
	PKGLEN_MAX = 0x0FFFFFFF, /* 28 bits */
};

enum { AML_TERM_SCOPE, AML_TERM_PACKAGE, AML_TERM_BUFFER, AML_TERM_RT };

void aml_init(struct aml *a)
{
	memset(a, 0, sizeof(*a));
}

/* Room for n more bytes; false (and a->err) when there is none. */
static bool reserve(struct aml *a, size_t n)
{
	size_t cap;
	uint8_t *p;

	if (a->err)
		return false;
	if (n <= a->cap - a->len)
		return true;
	if (n > PKGLEN_MAX || a->len > PKGLEN_MAX) {
		a->err = -ENOMEM;
		return false;
	}
	cap = a->cap ? a->cap : 256;
	while (cap - a->len < n)
		cap *= 2;
	p = realloc(a->buf, cap);
	if (!p) {
		a->err = -ENOMEM;
		return false;
	}
	a->buf = p;
	a->cap = cap;
	return true;
}

static void put(struct aml *a, const void *p, size_t n)
{
	if (!reserve(a, n))
		return;
	memcpy(a->buf + a->len, p, n);
	a->len += n;
}

static void put8(struct aml *a, uint8_t v)
{
	put(a, &v, 1);
}

static void put16(struct aml *a, uint16_t v)
{
	uint8_t b[2];

	le16_put(b, v);
	put(a, b, sizeof(b));
}

static void put32(struct aml *a, uint32_t v)
{
	uint8_t b[4];

	le32_put(b, v);
	put(a, b, sizeof(b));
}

/* A data object is about to be written: count it if it is the element of
 * a package. */
static void element(struct aml *a)
{
	if (a->depth && a->open[a->depth - 1].kind == AML_TERM_PACKAGE)
		a->open[a->depth - 1].count++;
}

/* NameString: an optional root prefix, then one, two (DualNamePrefix) or
 * more (MultiNamePrefix) 4-character segments separated by dots in the
 * ASL form; shorter segments are padded with '_'. Only capitals, digits
 * and '_', and no leading digit, as ASL allows. */
static void put_namestring(struct aml *a, const char *name)
{
	uint8_t segs[MAX_SEGS][NAME_SEG];
	unsigned n = 0;
	const char *p = name;

	if (a->err)
		return;
	if (*p == '\\') {
		put8(a, ROOT_CHAR);
		p++;
	}
	for (;;) {
		unsigned k = 0;

		if (n == MAX_SEGS)
			goto bad;
		memset(segs[n], '_', NAME_SEG);
		for (; *p && *p != '.'; p++, k++) {
			bool ok = (*p >= 'A' && *p <= 'Z') || *p == '_' ||
				  (k > 0 && *p >= '0' && *p <= '9');

			if (!ok || k == NAME_SEG)
				goto bad;
			segs[n][k] = (uint8_t)*p;
		}
		if (k == 0)
			goto bad;
		n++;
		if (!*p)
			break;
		p++; /* the dot */
	}
	if (n == 2)
		put8(a, DUAL_NAME_PREFIX);
	else if (n > 2) {
		put8(a, MULTI_NAME_PREFIX);
		put8(a, (uint8_t)n);
	}
	put(a, segs, (size_t)n * NAME_SEG);
	return;
bad:
	a->err = -EINVAL;
}

void aml_integer(struct aml *a, uint64_t v)
{
	element(a);
	if (v == 0)
		put8(a, ZERO_OP);
	else if (v == 1)
		put8(a, ONE_OP);
	else if (v <= UINT8_MAX) {
		put8(a, BYTE_PREFIX);
		put8(a, (uint8_t)v);
	} else if (v <= UINT16_MAX) {
		put8(a, WORD_PREFIX);
		put16(a, (uint16_t)v);
	} else if (v <= UINT32_MAX) {
		put8(a, DWORD_PREFIX);
		put32(a, (uint32_t)v);
	} else {
		uint8_t b[8];

		le64_put(b, v);
		put8(a, QWORD_PREFIX);
		put(a, b, sizeof(b));
	}
}

void aml_dword(struct aml *a, uint32_t v)
{
	element(a);
	put8(a, DWORD_PREFIX);
	put32(a, v);
}

void aml_string(struct aml *a, const char *s)
{
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p > 0x7F) {
			a->err = a->err ? a->err : -EINVAL;
			return;
		}
	element(a);
	put8(a, STRING_PREFIX);
	put(a, s, strlen(s) + 1);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The compressed EISA id: three letters of five bits each (A = 1) and four
 * hex digits, stored big-endian in the DWord (ASL's EisaId()). */
void aml_eisaid(struct aml *a, const char *id)
{
	uint32_t v = 0;

	if (strlen(id) != 7)
		goto bad;
	for (int i = 0; i < 3; i++) {
		if (id[i] < 'A' || id[i] > 'Z')
			goto bad;
		v |= (uint32_t)(id[i] - 0x40) << (26 - 5 * i);
	}
	for (int i = 3; i < 7; i++) {
		int h = hexval(id[i]);

		if (h < 0)
			goto bad;
		v |= (uint32_t)h << (4 * (6 - i));
	}
	aml_dword(a, __builtin_bswap32(v));
	return;
bad:
	a->err = a->err ? a->err : -EINVAL;
}

void aml_name(struct aml *a, const char *name)
{
	put8(a, NAME_OP);
	put_namestring(a, name);
}

static void open_term(struct aml *a, int kind, unsigned max)
{
	if (a->err)
		return;
	if (a->depth == AML_MAX_DEPTH) {
		a->err = -EINVAL;
		return;
	}
	a->open[a->depth].start = a->len;
	a->open[a->depth].kind = kind;
	a->open[a->depth].count = 0;
	a->open[a->depth].max = max;
	a->depth++;
}

/* Scope, Device and Processor: the PkgLength covers the name and what
 * follows, so the term opens right after the opcode. */
void aml_scope_begin(struct aml *a, const char *name)
{
	put8(a, SCOPE_OP);
	open_term(a, AML_TERM_SCOPE, 0);
	put_namestring(a, name);
}

void aml_device_begin(struct aml *a, const char *name)
{
	put8(a, EXT_OP_PREFIX);
	put8(a, DEVICE_OP);
	open_term(a, AML_TERM_SCOPE, 0);
	put_namestring(a, name);
}

void aml_processor_begin(struct aml *a, const char *name, uint8_t id)
{
	put8(a, EXT_OP_PREFIX);
	put8(a, PROCESSOR_OP);
	open_term(a, AML_TERM_SCOPE, 0);
	put_namestring(a, name);
	put8(a, id);
	put32(a, 0); /* PblkAddress */
	put8(a, 0);  /* PblkLength */
}

void aml_package_begin(struct aml *a, unsigned n)
{
	if (n > UINT8_MAX) {
		a->err = a->err ? a->err : -EINVAL;
		return;
	}
	element(a);
	put8(a, PACKAGE_OP);
	open_term(a, AML_TERM_PACKAGE, n);
	put8(a, (uint8_t)n); /* NumElements */
}

void aml_buffer_begin(struct aml *a)
{
	element(a);
	put8(a, BUFFER_OP);
	open_term(a, AML_TERM_BUFFER, 0);
}

void aml_rt_begin(struct aml *a)
{
	element(a);
	put8(a, BUFFER_OP);
	open_term(a, AML_TERM_RT, 0);
}

/* The PkgLength of a term whose contents (after the encoding itself) take
 * n bytes: one byte up to 63 in all, else a lead byte holding the count of
 * the following bytes and the low nibble, then 8 bits a byte. */
static size_t pkglen_encode(uint8_t out[4], size_t n)
{
	size_t k, total;

	for (k = 1; k <= 4; k++) {
		total = n + k;
		if ((k == 1 && total <= 0x3F) || (k > 1 && total < (1u << (4 + 8 * (k - 1)))))
			break;
	}
	if (k == 1) {
		out[0] = (uint8_t)total;
		return 1;
	}
	out[0] = (uint8_t)(((k - 1) << 6) | (total & 0x0F));
	for (size_t i = 1; i < k; i++)
		out[i] = (uint8_t)(total >> (4 + 8 * (i - 1)));
	return k;
}

/* Insert hdr[0..n) at offset at, moving what follows. */
static void insert(struct aml *a, size_t at, const uint8_t *hdr, size_t n)
{
	if (!reserve(a, n))
		return;
	memmove(a->buf + at + n, a->buf + at, a->len - at);
	memcpy(a->buf + at, hdr, n);
	a->len += n;
}

/* Close the innermost term: a resource template gets its end tag (the
 * checksum byte 0 means none), a buffer its BufferSize (an integer, in
 * front of the bytes), every term its PkgLength. */
void aml_end(struct aml *a)
{
	uint8_t hdr[4 + 9];
	size_t n = 0, body, start;
	int kind;

	if (a->err)
		return;
	if (a->depth == 0) {
		a->err = -EINVAL;
		return;
	}
	start = a->open[a->depth - 1].start;
	kind = a->open[a->depth - 1].kind;
	if (kind == AML_TERM_PACKAGE && a->open[a->depth - 1].count != a->open[a->depth - 1].max) {
		a->err = -EINVAL;
		return;
	}
	if (kind == AML_TERM_RT) {
		put8(a, RD_END_TAG);
		put8(a, 0);
	}
	if (kind == AML_TERM_BUFFER || kind == AML_TERM_RT) {
		/* Encode BufferSize with the writer itself (the innermost
		 * term is no package: nothing counts it), then move it. */
		size_t size = a->len - start, at = a->len;

		aml_integer(a, size);
		if (a->err)
			return;
		n = a->len - at;
		memcpy(hdr + 4, a->buf + at, n);
		a->len = at;
	}
	body = a->len - start + n;
	if (body > PKGLEN_MAX - 4) {
		a->err = -ENOMEM;
		return;
	}
	{
		uint8_t pl[4];
		size_t k = pkglen_encode(pl, body);

		memmove(hdr + 4 - k, pl, k);
		insert(a, start, hdr + 4 - k, k + n);
	}
	a->depth--;
}

int aml_finish(struct aml *a, uint8_t **buf, size_t *len)
{
	int r = a->err;

	if (!r && a->depth)
		r = -EINVAL;
	if (r) {
		free(a->buf);
		aml_init(a);
		return r;
	}
	*buf = a->buf;
	*len = a->len;
	aml_init(a);
	return 0;
}

void aml_rt_io(struct aml *a, uint16_t min, uint16_t len)
{
	put8(a, RD_IO);
	put8(a, RD_IO_DECODE16);
	put16(a, min);
	put16(a, min);
	put8(a, 1);	       /* alignment */
	put8(a, (uint8_t)len); /* length */
}

void aml_rt_irq_noflags(struct aml *a, unsigned irq)
{
	if (irq >= 16) {
		a->err = a->err ? a->err : -EINVAL;
		return;
	}
	put8(a, RD_IRQ_NOFLAGS);
	put16(a, (uint16_t)(1u << irq));
}

/* Word address space descriptor: type, flags, then granularity, minimum,
 * maximum, translation offset and length. */
static void word_addr(struct aml *a, uint8_t space, uint8_t tflags, uint16_t min, uint16_t max)
{
	put8(a, RD_WORD_ADDR);
	put16(a, RD_WORD_ADDR_LEN);
	put8(a, space);
	put8(a, RD_FLAGS_PRODUCER_FIXED);
	put8(a, tflags);
	put16(a, 0);
	put16(a, min);
	put16(a, max);
	put16(a, 0);
	put16(a, (uint16_t)(max - min + 1));
}

void aml_rt_word_bus(struct aml *a, uint16_t min, uint16_t max)
{
	word_addr(a, RD_SPACE_BUS, 0, min, max);
}

void aml_rt_word_io(struct aml *a, uint16_t min, uint16_t max)
{
	word_addr(a, RD_SPACE_IO, RD_IO_ENTIRE_RANGE, min, max);
}

void aml_rt_dword_mem(struct aml *a, uint32_t min, uint32_t max, int cacheable)
{
	put8(a, RD_DWORD_ADDR);
	put16(a, RD_DWORD_ADDR_LEN);
	put8(a, RD_SPACE_MEM);
	put8(a, RD_FLAGS_PRODUCER_FIXED);
	put8(a, RD_MEM_RW | (cacheable ? RD_MEM_CACHEABLE : 0));
	put32(a, 0);
	put32(a, min);
	put32(a, max);
	put32(a, 0);
	put32(a, max - min + 1);
}
