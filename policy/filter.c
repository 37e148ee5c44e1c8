/* Parser for one filter, the text after "syscall:" (grammar in pol.h):
 *
 *   filter  := "1" | "return" ERRNO | or
 *   or      := and ("||" and)*
 *   and     := cmp ("&&" cmp)*
 *   cmp     := ARG ("==" | "!=" | "<" | "<=" | ">" | ">=" | "&" | "in") value
 *   value   := term ("|" term)*
 *   term    := ["~"] (NUMBER | CONSTANT)
 *
 * Errors carry no location; parse.c prefixes file:line. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"
#include "util.h"

enum tok_kind { TK_END, TK_IDENT, TK_NUM, TK_OP };

struct tok {
	enum tok_kind kind;
	const char *s;
	size_t len;
};

struct lexer {
	const char *p;
	struct tok cur;
	char *err;
	size_t errlen;
};

static int __attribute__((format(printf, 2, 3))) lx_error(struct lexer *lx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(lx->err, lx->errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static bool tok_is(const struct tok *t, const char *s)
{
	return t->kind != TK_END && t->len == strlen(s) && memcmp(t->s, s, t->len) == 0;
}

/* A token for a message: quoted, at most 40 bytes of it. */
static const char *tok_desc(const struct tok *t, char *buf, size_t len)
{
	if (t->kind == TK_END)
		return "end of line";
	snprintf(buf, len, "'%.*s'", (int)(t->len > 40 ? 40 : t->len), t->s);
	return buf;
}
#define TOKF "%s"
#define TOKA(t) tok_desc((t), (char[48]){0}, 48)

static int lx_next(struct lexer *lx)
{
	static const char *const ops[] = {"==", "!=", "<=", ">=", "&&", "||",
					  "<", ">", "&", "|", "~"};
	const char *p = lx->p;

	while (*p == ' ' || *p == '\t')
		p++;
	lx->cur.s = p;
	if (!*p) {
		lx->cur.kind = TK_END;
		lx->cur.len = 0;
	} else if (isalpha((unsigned char)*p) || *p == '_' || isdigit((unsigned char)*p)) {
		lx->cur.kind = isdigit((unsigned char)*p) ? TK_NUM : TK_IDENT;
		while (isalnum((unsigned char)*p) || *p == '_')
			p++;
		lx->cur.len = p - lx->cur.s;
	} else {
		size_t i;
		for (i = 0; i < ARRAY_SIZE(ops); i++)
			if (strncmp(p, ops[i], strlen(ops[i])) == 0)
				break;
		if (i == ARRAY_SIZE(ops)) {
			if (isprint((unsigned char)*p))
				return lx_error(lx, "unexpected character '%c'", *p);
			return lx_error(lx, "unexpected byte 0x%02x", (unsigned char)*p);
		}
		lx->cur.kind = TK_OP;
		lx->cur.len = strlen(ops[i]);
		p += lx->cur.len;
	}
	lx->p = p;
	return 0;
}

/* Copy an identifier or number token into a NUL-terminated buffer. */
static int tok_copy(struct lexer *lx, char *buf, size_t len)
{
	if (lx->cur.len >= len)
		return lx_error(lx, "name too long: " TOKF, TOKA(&lx->cur));
	memcpy(buf, lx->cur.s, lx->cur.len);
	buf[lx->cur.len] = '\0';
	return 0;
}

static int parse_number(struct lexer *lx, uint64_t *v)
{
	char buf[32], *end;
	int r = tok_copy(lx, buf, sizeof(buf));

	if (r < 0)
		return lx_error(lx, "number out of range: " TOKF, TOKA(&lx->cur));
	errno = 0;
	*v = strtoull(buf, &end, 0);
	if (errno == ERANGE)
		return lx_error(lx, "number out of range: %s", buf);
	if (errno || *end)
		return lx_error(lx, "bad number '%s'", buf);
	return 0;
}

static int parse_term(struct lexer *lx, uint64_t *v)
{
	bool invert = false;
	char name[64];
	int r;

	if (tok_is(&lx->cur, "~")) {
		invert = true;
		if ((r = lx_next(lx)) < 0)
			return r;
	}
	if (lx->cur.kind == TK_NUM) {
		r = parse_number(lx, v);
	} else if (lx->cur.kind == TK_IDENT) {
		const struct pol_const *c;
		if ((r = tok_copy(lx, name, sizeof(name))) < 0)
			return r;
		c = pol_const_find(name);
		if (!c)
			return lx_error(lx, "unknown constant '%s'", name);
		*v = c->value;
		r = 0;
	} else {
		return lx_error(lx, "expected a number or constant, got " TOKF, TOKA(&lx->cur));
	}
	if (r < 0)
		return r;
	if (invert)
		*v = ~*v;
	return lx_next(lx);
}

static int parse_value(struct lexer *lx, uint64_t *v)
{
	uint64_t t;
	int r = parse_term(lx, v);

	while (r == 0 && tok_is(&lx->cur, "|")) {
		if ((r = lx_next(lx)) < 0 || (r = parse_term(lx, &t)) < 0)
			return r;
		*v |= t;
	}
	return r;
}

static int parse_arg(struct lexer *lx, unsigned *arg)
{
	const struct tok *t = &lx->cur;

	if (t->kind != TK_IDENT || t->len != 4 || memcmp(t->s, "arg", 3) != 0 ||
	    t->s[3] < '0' || t->s[3] >= '0' + POL_MAX_ARGS)
		return lx_error(lx, "expected arg0..arg5, got " TOKF, TOKA(t));
	*arg = t->s[3] - '0';
	return lx_next(lx);
}

static int parse_cmp(struct lexer *lx, struct pol_cmp *c)
{
	static const struct {
		const char *s;
		enum pol_op op;
	} ops[] = {{"==", POL_EQ}, {"!=", POL_NE}, {"<", POL_LT}, {"<=", POL_LE},
		   {">", POL_GT}, {">=", POL_GE}, {"&", POL_MASKED_EQ}, {"in", POL_MASKED_EQ}};
	struct tok op;
	size_t i;
	int r;

	if ((r = parse_arg(lx, &c->arg)) < 0)
		return r;
	op = lx->cur;
	for (i = 0; i < ARRAY_SIZE(ops); i++)
		if (tok_is(&op, ops[i].s))
			break;
	if (i == ARRAY_SIZE(ops))
		return lx_error(lx, "expected a comparison after arg%u, got " TOKF, c->arg, TOKA(&op));
	c->op = ops[i].op;
	if ((r = lx_next(lx)) < 0 || (r = parse_value(lx, &c->datum)) < 0)
		return r;

	if (tok_is(&op, "&")) { /* every bit of the value set */
		if (!c->datum)
			return lx_error(lx, "'arg%u & 0' is always true", c->arg);
		c->mask = c->datum;
	} else if (tok_is(&op, "in")) { /* no bit outside the value */
		c->mask = ~c->datum;
		c->datum = 0;
		if (!c->mask)
			return lx_error(lx, "'arg%u in' a full mask is always true", c->arg);
	}
	return 0;
}

static int parse_and(struct lexer *lx, struct pol_clause *cl)
{
	int r;

	memset(cl, 0, sizeof(*cl));
	for (;;) {
		struct pol_cmp c = {0};
		if ((r = parse_cmp(lx, &c)) < 0)
			return r;
		/* Also bounds ncmp: there are only POL_MAX_ARGS arguments. */
		for (unsigned i = 0; i < cl->ncmp; i++)
			if (cl->cmp[i].arg == c.arg)
				return lx_error(lx, "arg%u is compared twice in one '&&' group "
					       "(libseccomp allows one comparison per argument)",
					       c.arg);
		cl->cmp[cl->ncmp++] = c;
		if (!tok_is(&lx->cur, "&&"))
			return 0;
		if ((r = lx_next(lx)) < 0)
			return r;
	}
}

static int parse_or(struct lexer *lx, struct pol_filter *f)
{
	int r;

	f->kind = POL_FILTER_ARGS;
	for (;;) {
		struct pol_clause cl;
		if ((r = parse_and(lx, &cl)) < 0)
			return r;
		if (f->nclause == POL_MAX_CLAUSES)
			return lx_error(lx, "more than %d '||' alternatives", POL_MAX_CLAUSES);
		if (f->nclause % 8 == 0) {
			struct pol_clause *n = realloc(f->clause, (f->nclause + 8) * sizeof(*n));
			if (!n)
				return lx_error(lx, "out of memory");
			f->clause = n;
		}
		f->clause[f->nclause++] = cl;
		if (lx->cur.kind == TK_END)
			return 0;
		if (!tok_is(&lx->cur, "||"))
			return lx_error(lx, "unexpected " TOKF " (expected '||', '&&' or end of line)",
					TOKA(&lx->cur));
		if ((r = lx_next(lx)) < 0)
			return r;
	}
}

static int parse_return(struct lexer *lx, struct pol_filter *f)
{
	char name[32];
	int r;

	if ((r = lx_next(lx)) < 0)
		return r;
	if (lx->cur.kind != TK_IDENT)
		return lx_error(lx, "expected an errno name after 'return'");
	if ((r = tok_copy(lx, name, sizeof(name))) < 0)
		return r;
	f->kind = POL_FILTER_ERRNO;
	f->err = pol_errno_find(name);
	if (!f->err)
		return lx_error(lx, "unknown errno '%s'", name);
	if ((r = lx_next(lx)) < 0)
		return r;
	if (lx->cur.kind != TK_END)
		return lx_error(lx, "unexpected " TOKF " after 'return %s'", TOKA(&lx->cur), name);
	return 0;
}

void pol_filter_free(struct pol_filter *f)
{
	free(f->clause);
	f->clause = NULL;
	f->nclause = 0;
}

int pol_filter_parse(const char *text, struct pol_filter *f, char *err, size_t errlen)
{
	struct lexer lx = {.p = text, .err = err, .errlen = errlen};
	int r;

	memset(f, 0, sizeof(*f));
	if ((r = lx_next(&lx)) < 0)
		return r;
	if (lx.cur.kind == TK_END)
		return lx_error(&lx, "empty filter");
	if (lx.cur.kind == TK_NUM) {
		if (!tok_is(&lx.cur, "1"))
			return lx_error(&lx, "a filter is '1', 'return ERRNO' or comparisons, not " TOKF,
					TOKA(&lx.cur));
		f->kind = POL_FILTER_ALLOW;
		if ((r = lx_next(&lx)) < 0)
			return r;
		if (lx.cur.kind != TK_END)
			return lx_error(&lx, "unexpected " TOKF " after '1'", TOKA(&lx.cur));
		return 0;
	}
	if (tok_is(&lx.cur, "return"))
		r = parse_return(&lx, f);
	else
		r = parse_or(&lx, f);
	if (r < 0)
		pol_filter_free(f);
	return r;
}
