/* Policy files: lines, comments, @include, and merging of the lines of one
 * syscall into one rule. Filters themselves are parsed in filter.c. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"
#include "util.h"

struct parse_state {
	const struct pol_blob *table;
	struct pol_ruleset *rs;
	const char *stack[POL_MAX_INCLUDES + 1]; /* files being read, outermost first */
	unsigned depth;
	const char *done[64];                    /* files read completely: include once */
	unsigned ndone;
	const char *file; /* location of the line being parsed */
	unsigned line;
	char *err;
	size_t errlen;
};

static int __attribute__((format(printf, 2, 3))) parse_error(struct parse_state *st,
							      const char *fmt, ...)
{
	int n = 0;
	va_list ap;

	if (st->file)
		n = snprintf(st->err, st->errlen, "%s.policy:%u: ", st->file, st->line);
	if (n < 0 || (size_t)n >= st->errlen)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(st->err + n, st->errlen - n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static const struct pol_blob *blob_find(const struct pol_blob *table, const char *name)
{
	for (; table->name; table++)
		if (strcmp(table->name, name) == 0)
			return table;
	return NULL;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

static bool is_syscall_name(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s) && *s != '_')
			return false;
	return true;
}

void pol_ruleset_free(struct pol_ruleset *rs)
{
	for (size_t i = 0; i < rs->n; i++)
		pol_filter_free(&rs->rule[i].f);
	free(rs->rule);
	memset(rs, 0, sizeof(*rs));
}

static struct pol_rule *rule_find(struct pol_ruleset *rs, int nr)
{
	for (size_t i = 0; i < rs->n; i++)
		if (rs->rule[i].nr == nr)
			return &rs->rule[i];
	return NULL;
}

/* Add the alternatives of f to an earlier rule for the same syscall.
 * Only argument filters combine: "1" or "return" next to anything else for
 * the same call is almost certainly a mistake. Takes f's clauses. */
static int rule_merge(struct parse_state *st, struct pol_rule *r, struct pol_filter *f)
{
	struct pol_clause *n;

	if (r->f.kind != POL_FILTER_ARGS || f->kind != POL_FILTER_ARGS)
		return parse_error(st, "%s is already listed at %s.policy:%u; only argument "
				   "filters may be split over several lines",
				   r->name, r->file, r->line);
	if (r->f.nclause + f->nclause > POL_MAX_CLAUSES)
		return parse_error(st, "%s: more than %d '||' alternatives", r->name,
				   POL_MAX_CLAUSES);
	n = realloc(r->f.clause, (r->f.nclause + f->nclause) * sizeof(*n));
	if (!n)
		return parse_error(st, "out of memory");
	memcpy(n + r->f.nclause, f->clause, f->nclause * sizeof(*n));
	r->f.clause = n;
	r->f.nclause += f->nclause;
	pol_filter_free(f);
	return 0;
}

static int rule_add(struct parse_state *st, const char *name, int nr, struct pol_filter *f)
{
	struct pol_ruleset *rs = st->rs;
	struct pol_rule *r = rule_find(rs, nr);

	if (r)
		return rule_merge(st, r, f);
	if (rs->n == POL_MAX_RULES)
		return parse_error(st, "more than %d syscalls", POL_MAX_RULES);
	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? rs->cap * 2 : 64;
		struct pol_rule *n = realloc(rs->rule, cap * sizeof(*n));
		if (!n)
			return parse_error(st, "out of memory");
		rs->rule = n;
		rs->cap = cap;
	}
	r = &rs->rule[rs->n++];
	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->nr = nr;
	r->f = *f; /* takes the clauses */
	memset(f, 0, sizeof(*f));
	r->file = st->file;
	r->line = st->line;
	return 0;
}

/* "name: filter" */
static int parse_rule(struct parse_state *st, char *line)
{
	char *colon = strchr(line, ':');
	char *name, ferr[256];
	struct pol_filter f;
	int nr, r;

	if (!colon)
		return parse_error(st, "missing ':' (expected 'syscall: filter')");
	*colon = '\0';
	name = trim(line);
	if (!is_syscall_name(name) || strlen(name) >= sizeof(((struct pol_rule *)0)->name))
		return parse_error(st, "bad syscall name '%.40s'", name);
	nr = seccomp_syscall_resolve_name(name);
	if (nr == __NR_SCMP_ERROR)
		return parse_error(st, "unknown syscall '%s'", name);
	if (nr < 0) /* libseccomp knows it, but not for the native architecture */
		return parse_error(st, "'%s' is not a syscall on this architecture", name);
	if (pol_filter_parse(colon + 1, &f, ferr, sizeof(ferr)) < 0)
		return parse_error(st, "%s: %s", name, ferr);
	r = rule_add(st, name, nr, &f);
	pol_filter_free(&f);
	return r;
}

static int parse_blob(struct parse_state *st, const struct pol_blob *b);

/* "@include NAME.policy": NAME from the same embedded table. */
static int parse_include(struct parse_state *st, char *line)
{
	char *arg = line + strlen("@include");
	const struct pol_blob *b;
	size_t len;

	if (strncmp(line, "@include", 8) != 0 || (*arg != ' ' && *arg != '\t'))
		return parse_error(st, "unknown directive '%.40s'", line);
	arg = trim(arg);
	len = strlen(arg);
	if (len <= 7 || strcmp(arg + len - 7, ".policy") != 0 || strchr(arg, '/'))
		return parse_error(st, "@include wants a file name ending in .policy, got '%.40s'",
				   arg);
	arg[len - 7] = '\0';
	b = blob_find(st->table, arg);
	if (!b)
		return parse_error(st, "@include: no embedded policy '%s.policy'", arg);
	for (unsigned i = 0; i < st->depth; i++)
		if (strcmp(st->stack[i], b->name) == 0)
			return parse_error(st, "@include loop: %s.policy includes itself", b->name);
	for (unsigned i = 0; i < st->ndone; i++)
		if (strcmp(st->done[i], b->name) == 0)
			return 0; /* already read through another path */
	if (st->depth == POL_MAX_INCLUDES)
		return parse_error(st, "@include nested deeper than %d", POL_MAX_INCLUDES);
	return parse_blob(st, b);
}

static int parse_line(struct parse_state *st, char *line)
{
	char *hash = strchr(line, '#');

	if (hash)
		*hash = '\0';
	line = trim(line);
	if (!*line)
		return 0;
	if (*line == '@')
		return parse_include(st, line);
	return parse_rule(st, line);
}

static int parse_blob(struct parse_state *st, const struct pol_blob *b)
{
	const char *saved_file = st->file, *p = b->text;
	unsigned saved_line = st->line;
	char buf[POL_MAX_LINE];
	int r = 0;

	st->stack[st->depth++] = b->name;
	st->file = b->name;
	st->line = 0;
	while (*p && r == 0) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		st->line++;
		if (len >= sizeof(buf))
			r = parse_error(st, "line longer than %d bytes", POL_MAX_LINE - 1);
		else {
			memcpy(buf, p, len);
			buf[len] = '\0';
			r = parse_line(st, buf);
		}
		p += len + (nl ? 1 : 0);
	}
	st->depth--;
	if (r == 0 && st->ndone < ARRAY_SIZE(st->done))
		st->done[st->ndone++] = b->name;
	st->file = saved_file;
	st->line = saved_line;
	return r;
}

int pol_parse(const struct pol_blob *table, const char *kind, struct pol_ruleset *rs, char *err,
	      size_t errlen)
{
	struct parse_state st = {.table = table, .rs = rs, .err = err, .errlen = errlen};
	const struct pol_blob *b = blob_find(table, kind);

	if (!b)
		return parse_error(&st, "no embedded policy '%s'", kind);
	return parse_blob(&st, b);
}
