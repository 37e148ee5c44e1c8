/* Internal to the policy library (and its tests): the parsed form of a
 * policy, the parser, the filter builder and the constant tables. */
#pragma once

#include <linux/filter.h>
#include <seccomp.h>
#include <stddef.h>
#include <stdint.h>

#include "policy_blob.h"

#define POL_MAX_LINE      4096 /* bytes in one line, comment included */
#define POL_MAX_CLAUSES   256  /* "||" alternatives for one syscall, all lines */
#define POL_MAX_RULES     512  /* distinct syscalls in one policy */
#define POL_MAX_INCLUDES  8    /* nesting depth of @include */
#define POL_MAX_ARGS      6

enum pol_op { POL_EQ, POL_NE, POL_LT, POL_LE, POL_GT, POL_GE, POL_MASKED_EQ };

/* One comparison: (arg & mask) == datum for POL_MASKED_EQ, else arg OP datum. */
struct pol_cmp {
	unsigned arg;
	enum pol_op op;
	uint64_t mask;
	uint64_t datum;
};

/* Comparisons that must all hold ("&&"). */
struct pol_clause {
	unsigned ncmp;
	struct pol_cmp cmp[POL_MAX_ARGS];
};

/* What one filter text says. */
struct pol_filter {
	enum { POL_FILTER_ALLOW, POL_FILTER_ERRNO, POL_FILTER_ARGS } kind;
	int err;                   /* POL_FILTER_ERRNO */
	size_t nclause;            /* POL_FILTER_ARGS: any clause allows */
	struct pol_clause *clause;
};

/* Everything one syscall gets, merged over all its lines. */
struct pol_rule {
	char name[32];
	int nr;
	struct pol_filter f;
	const char *file;  /* where it first appears, for messages */
	unsigned line;
};

struct pol_ruleset {
	struct pol_rule *rule;
	size_t n, cap;
};

struct pol_const {
	const char *name;
	uint64_t value;
};

/* Parse one filter (the text after "syscall:"). 0, or -EINVAL with a
 * message (no location) in err. On success f owns its clauses. */
int pol_filter_parse(const char *text, struct pol_filter *f, char *err, size_t errlen);
void pol_filter_free(struct pol_filter *f);

/* Parse policy `kind` and its includes from table (a {NULL, NULL}-ended
 * array). 0, or -EINVAL with "file.policy:line: why" in err. rs must be
 * zeroed; free it with pol_ruleset_free() either way. */
int pol_parse(const struct pol_blob *table, const char *kind, struct pol_ruleset *rs, char *err,
	      size_t errlen);
void pol_ruleset_free(struct pol_ruleset *rs);

/* Turn parsed rules into a libseccomp context: native architecture only,
 * default action kill process, kills logged. nallow counts the syscalls
 * with an allow action, nerrno those answered with an errno. */
int pol_build(const struct pol_ruleset *rs, scmp_filter_ctx *out, unsigned *nallow,
	      unsigned *nerrno, char *err, size_t errlen);

/* pol_parse + pol_build on an explicit table. */
int pol_compile_table(const struct pol_blob *table, const char *kind, scmp_filter_ctx *out,
		      unsigned *nallow, unsigned *nerrno, char *err, size_t errlen);

/* The BPF program libseccomp makes of ctx, as seccomp_load() would load
 * it (export.c). On success *prog is malloc'd (free it) and holds *len
 * instructions. 0 or -errno. */
int pol_export_bpf(scmp_filter_ctx ctx, struct sock_filter **prog, size_t *len);

/* Named constants (constants.c). NULL if unknown. */
const struct pol_const *pol_const_find(const char *name);
/* The whole table, for tests and docs. */
const struct pol_const *pol_const_table(size_t *n);
/* errno value for "ENOENT" and friends; 0 if unknown. */
int pol_errno_find(const char *name);
