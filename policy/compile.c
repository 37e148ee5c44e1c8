/* From parsed rules to a libseccomp filter. Children do not run this: they
 * load the program made from it at build time (polbpf.c, load.c). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "pol.h"
#include "rules.h"

static int __attribute__((format(printf, 4, 5)))
build_error(int r, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return r < 0 ? r : -EINVAL;
}

static enum scmp_compare op_to_scmp(enum pol_op op)
{
	switch (op) {
	case POL_EQ: return SCMP_CMP_EQ;
	case POL_NE: return SCMP_CMP_NE;
	case POL_LT: return SCMP_CMP_LT;
	case POL_LE: return SCMP_CMP_LE;
	case POL_GT: return SCMP_CMP_GT;
	case POL_GE: return SCMP_CMP_GE;
	case POL_MASKED_EQ: return SCMP_CMP_MASKED_EQ;
	}
	return _SCMP_CMP_MIN; /* unreachable; libseccomp rejects it */
}

/* One libseccomp rule per "||" alternative; libseccomp ORs the rules of a
 * syscall. _exact: never let libseccomp rewrite a rule behind our back. */
static int build_rule(scmp_filter_ctx ctx, const struct pol_rule *rule, char *err, size_t errlen)
{
	uint32_t action = rule->f.kind == POL_FILTER_ERRNO ? SCMP_ACT_ERRNO(rule->f.err)
							     : SCMP_ACT_ALLOW;
	int r = 0;

	if (rule->f.kind != POL_FILTER_ARGS) {
		r = seccomp_rule_add_exact(ctx, action, rule->nr, 0);
		goto out;
	}
	for (size_t i = 0; i < rule->f.nclause; i++) {
		const struct pol_clause *cl = &rule->f.clause[i];
		struct scmp_arg_cmp cmp[POL_MAX_ARGS];

		for (unsigned j = 0; j < cl->ncmp; j++) {
			const struct pol_cmp *c = &cl->cmp[j];
			cmp[j] = (struct scmp_arg_cmp){
				.arg = c->arg,
				.op = op_to_scmp(c->op),
				/* masked: datum_a is the mask, datum_b the value */
				.datum_a = c->op == POL_MASKED_EQ ? c->mask : c->datum,
				.datum_b = c->op == POL_MASKED_EQ ? c->datum : 0,
			};
		}
		r = seccomp_rule_add_exact_array(ctx, action, rule->nr, cl->ncmp, cmp);
		if (r < 0)
			break;
	}
out:
	if (r < 0)
		return build_error(r, err, errlen, "%s.policy:%u: libseccomp refused the rule for %s: %s",
				   rule->file, rule->line, rule->name, strerror(-r));
	return 0;
}

/* Filter-wide settings. A bad architecture (including the x32 ABI, which
 * libseccomp checks for itself on x86_64) kills the whole process like any
 * other violation. Kills are logged by the kernel by default, and the
 * monitor reads that record back to name the call. CTL_LOG (log the errno
 * answers too) stays off: glibc's clone3 probe and soft-denied opens are
 * expected, and their records would drown the kills. */
static int build_attrs(scmp_filter_ctx ctx, char *err, size_t errlen)
{
	int r;

	r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	if (r == 0)
		r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	if (r < 0)
		return build_error(r, err, errlen, "libseccomp: setting filter attributes: %s",
				   strerror(-r));
	/* Binary tree of syscall numbers: KVM_RUN goes through the filter on
	 * every exit to user space. Optional (libseccomp >= 2.5). */
	(void)seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	return 0;
}

int pol_build(const struct pol_ruleset *rs, scmp_filter_ctx *out, unsigned *nallow,
	      unsigned *nerrno, char *err, size_t errlen)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS); /* native arch only */
	unsigned na = 0, ne = 0;
	int r;

	if (!ctx)
		return build_error(-ENOMEM, err, errlen, "libseccomp: seccomp_init failed");
	r = build_attrs(ctx, err, errlen);
	for (size_t i = 0; i < rs->n && r == 0; i++) {
		r = build_rule(ctx, &rs->rule[i], err, errlen);
		if (rs->rule[i].f.kind == POL_FILTER_ERRNO)
			ne++;
		else
			na++;
	}
	if (r < 0) {
		seccomp_release(ctx);
		return r;
	}
	*out = ctx;
	if (nallow)
		*nallow = na;
	if (nerrno)
		*nerrno = ne;
	return 0;
}

int pol_compile_table(const struct pol_blob *table, const char *kind, scmp_filter_ctx *out,
		      unsigned *nallow, unsigned *nerrno, char *err, size_t errlen)
{
	struct pol_ruleset rs = {0};
	int r = pol_parse(table, kind, &rs, err, errlen);

	if (r == 0)
		r = pol_build(&rs, out, nallow, nerrno, err, errlen);
	pol_ruleset_free(&rs);
	return r;
}

int pol_compile(const char *kind, scmp_filter_ctx *out, unsigned *nsyscalls, char *err,
		size_t errlen)
{
	return pol_compile_table(pol_blobs, kind, out, nsyscalls, NULL, err, errlen);
}
