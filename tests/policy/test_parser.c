/* Unit tests of the policy parser and compiler (policy/parse.c, filter.c,
 * compile.c, constants.c): the accepted forms parse to the right
 * comparisons, and every malformed form is an error naming file:line,
 * never a crash and never a silently wider policy. */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include "rules.h"
#include "tap.h"

/* "t" is the policy under test; the others serve its @include lines. */
static struct pol_blob table[] = {
	{"t", NULL},
	{"inc", "read: 1\n"},
	{"loop1", "@include loop2.policy\n"},
	{"loop2", "# comment\n@include loop1.policy\n"},
	{"self", "@include self.policy\n"},
	{"diamond", "@include b.policy\n@include c.policy\n"},
	{"b", "@include d.policy\nclose: 1\n"},
	{"c", "@include d.policy\nexit: 1\n"},
	{"d", "write: 1\n"},
	{"bad", "write: 1\nthis is wrong\n"},
	{"common", NULL}, /* moat's common.policy, set by main() */
	{NULL, NULL},
};

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static char err[512];

static int parse_text(const char *text, struct pol_ruleset *rs)
{
	memset(rs, 0, sizeof(*rs));
	err[0] = '\0';
	table[0].text = text;
	return pol_parse(table, "t", rs, err, sizeof(err));
}

/* The text must fail, with `where` ("t.policy:1:") and `what` in the
 * message. */
static int expect_error(const char *text, const char *where, const char *what)
{
	struct pol_ruleset rs;
	int r = parse_text(text, &rs);

	pol_ruleset_free(&rs);
	if (r != -EINVAL || !strstr(err, where) || !strstr(err, what)) {
		fprintf(stderr, "policy <<%s>>: r=%d err='%s', wanted '%s' and '%s'\n", text, r, err,
			where, what);
		return 1;
	}
	return 0;
}

#define EXPECT_ERROR(text, what) CHECK(expect_error((text), "t.policy:1: ", (what)) == 0)

static const struct pol_rule *only_rule(struct pol_ruleset *rs, const char *text)
{
	if (parse_text(text, rs) != 0 || rs->n != 1) {
		fprintf(stderr, "policy <<%s>>: err='%s' n=%zu\n", text, err, rs->n);
		return NULL;
	}
	return &rs->rule[0];
}

static int test_allow(void)
{
	struct pol_ruleset rs;
	const struct pol_rule *r = only_rule(&rs, "read: 1\n");

	CHECK(r);
	CHECK(r->nr == seccomp_syscall_resolve_name("read"));
	CHECK(r->f.kind == POL_FILTER_ALLOW);
	CHECK(strcmp(r->file, "t") == 0 && r->line == 1);
	pol_ruleset_free(&rs);
	return 0;
}

static int test_return_errno(void)
{
	struct pol_ruleset rs;
	const struct pol_rule *r = only_rule(&rs, "openat: return ENOENT");

	CHECK(r);
	CHECK(r->f.kind == POL_FILTER_ERRNO && r->f.err == ENOENT);
	pol_ruleset_free(&rs);
	r = only_rule(&rs, "clone3:return ENOSYS");
	CHECK(r && r->f.kind == POL_FILTER_ERRNO && r->f.err == ENOSYS);
	pol_ruleset_free(&rs);
	return 0;
}

static int test_or_of_equalities(void)
{
	struct pol_ruleset rs;
	const struct pol_rule *r = only_rule(&rs, "ioctl: arg1 == KVM_RUN || arg1 == KVM_IRQ_LINE");

	CHECK(r);
	CHECK(r->f.kind == POL_FILTER_ARGS && r->f.nclause == 2);
	CHECK(r->f.clause[0].ncmp == 1 && r->f.clause[1].ncmp == 1);
	CHECK(r->f.clause[0].cmp[0].arg == 1 && r->f.clause[0].cmp[0].op == POL_EQ);
	CHECK(r->f.clause[0].cmp[0].datum == KVM_RUN);
	CHECK(r->f.clause[1].cmp[0].datum == KVM_IRQ_LINE);
	pol_ruleset_free(&rs);
	return 0;
}

static int test_in_mask(void)
{
	struct pol_ruleset rs;
	const struct pol_rule *r = only_rule(&rs, "mmap: arg2 in ~PROT_EXEC");
	const struct pol_cmp *c;

	CHECK(r && r->f.nclause == 1);
	c = &r->f.clause[0].cmp[0];
	/* (arg2 & PROT_EXEC) == 0 */
	CHECK(c->arg == 2 && c->op == POL_MASKED_EQ && c->mask == PROT_EXEC && c->datum == 0);
	pol_ruleset_free(&rs);

	r = only_rule(&rs, "recvmsg: arg2 in MSG_DONTWAIT|MSG_CMSG_CLOEXEC");
	CHECK(r);
	c = &r->f.clause[0].cmp[0];
	CHECK(c->mask == ~(uint64_t)(MSG_DONTWAIT | MSG_CMSG_CLOEXEC) && c->datum == 0);
	pol_ruleset_free(&rs);
	return 0;
}

static int test_bits_set(void)
{
	struct pol_ruleset rs;
	const struct pol_rule *r = only_rule(&rs, "clone: arg0 & CLONE_THREAD|CLONE_VM");
	const struct pol_cmp *c;

	CHECK(r);
	c = &r->f.clause[0].cmp[0];
	CHECK(c->op == POL_MASKED_EQ && c->mask == (CLONE_THREAD | CLONE_VM) &&
	      c->datum == (CLONE_THREAD | CLONE_VM));
	pol_ruleset_free(&rs);
	return 0;
}

static int test_and_numbers_ops(void)
{
	struct pol_ruleset rs;
	const struct pol_rule *r = only_rule(
		&rs, "futex: arg1 >= 1 && arg2 != 0x10 && arg3 < 010 || arg0 <= 5 && "
		     "arg4 > 18446744073709551615 && arg5 == 0xFFFFFFFFFFFFFFFF");
	const struct pol_clause *a, *b;

	CHECK(r && r->f.nclause == 2);
	a = &r->f.clause[0];
	b = &r->f.clause[1];
	CHECK(a->ncmp == 3 && b->ncmp == 3);
	CHECK(a->cmp[0].op == POL_GE && a->cmp[0].datum == 1);
	CHECK(a->cmp[1].op == POL_NE && a->cmp[1].datum == 16);
	CHECK(a->cmp[2].op == POL_LT && a->cmp[2].datum == 8 && a->cmp[2].arg == 3);
	CHECK(b->cmp[0].op == POL_LE && b->cmp[0].arg == 0);
	CHECK(b->cmp[1].op == POL_GT && b->cmp[1].datum == UINT64_MAX);
	CHECK(b->cmp[2].arg == 5 && b->cmp[2].datum == UINT64_MAX);
	pol_ruleset_free(&rs);
	return 0;
}

static int test_comments_blanks_crlf(void)
{
	struct pol_ruleset rs;

	CHECK(parse_text("# header\n\n   \t\n  read: 1   # why\r\nwrite:1\r\n# end", &rs) == 0);
	CHECK(rs.n == 2 && rs.rule[1].line == 5);
	pol_ruleset_free(&rs);
	CHECK(parse_text("", &rs) == 0 && rs.n == 0);
	pol_ruleset_free(&rs);
	return 0;
}

static int test_merge_lines(void)
{
	struct pol_ruleset rs;

	CHECK(parse_text("ioctl: arg1 == 1\nread: 1\nioctl: arg1 == 2 || arg1 == 3\n", &rs) == 0);
	CHECK(rs.n == 2);
	CHECK(rs.rule[0].f.nclause == 3 && rs.rule[0].f.clause[2].cmp[0].datum == 3);
	pol_ruleset_free(&rs);
	return 0;
}

static int test_include(void)
{
	struct pol_ruleset rs;

	CHECK(parse_text("@include inc.policy\nwrite: 1\n", &rs) == 0);
	CHECK(rs.n == 2 && strcmp(rs.rule[0].file, "inc") == 0);
	pol_ruleset_free(&rs);
	/* d.policy reached twice is read once */
	CHECK(parse_text("@include diamond.policy\n", &rs) == 0);
	CHECK(rs.n == 3);
	pol_ruleset_free(&rs);
	return 0;
}

static int test_build(void)
{
	struct pol_ruleset rs;
	scmp_filter_ctx ctx;
	unsigned na = 0, ne = 0;

	CHECK(parse_text("read: 1\nopenat: return ENOENT\nmmap: arg2 in ~PROT_EXEC\n"
			 "ioctl: arg1 == KVM_RUN || arg1 == FIONBIO\n"
			 "futex: arg1 == FUTEX_WAIT_PRIVATE && arg3 != 0\n",
			 &rs) == 0);
	CHECK(pol_build(&rs, &ctx, &na, &ne, err, sizeof(err)) == 0);
	CHECK(na == 4 && ne == 1);
	seccomp_release(ctx);
	pol_ruleset_free(&rs);
	return 0;
}

/* Every policy this test binary embeds (moat's own and test.policy). */
static int test_embedded_policies(void)
{
	unsigned n = 0, nerrno = 0;

	for (const struct pol_blob *b = pol_blobs; b->name; b++) {
		scmp_filter_ctx ctx;
		if (pol_compile_table(pol_blobs, b->name, &ctx, &n, &nerrno, err, sizeof(err)) != 0) {
			fprintf(stderr, "%s: %s\n", b->name, err);
			return 1;
		}
		seccomp_release(ctx);
		CHECK(n + nerrno > 0); /* nofiles.policy only answers with an errno */
	}
	return 0;
}

/* Guest RAM on transparent huge pages is a tmpfs file, which cannot be
 * sealed (docs/decisions/0018): what keeps a compromised child from
 * shrinking it under the others' mappings is that no child's policy lets
 * it change a file's size. An errno answer is fine; an allow is not. */
static int test_no_child_resizes_files(void)
{
	static const char *const resize[] = {"ftruncate", "truncate", "fallocate"};

	for (const struct pol_blob *b = pol_blobs; b->name; b++) {
		struct pol_ruleset rs = {0};

		if (strcmp(b->name, "test") == 0)
			continue;
		CHECK(pol_parse(pol_blobs, b->name, &rs, err, sizeof(err)) == 0);
		for (size_t i = 0; i < rs.n; i++)
			for (size_t k = 0; k < sizeof(resize) / sizeof(resize[0]); k++)
				if (strcmp(rs.rule[i].name, resize[k]) == 0 &&
				    rs.rule[i].f.kind != POL_FILTER_ERRNO) {
					fprintf(stderr, "%s.policy allows %s\n", b->name,
						resize[k]);
					pol_ruleset_free(&rs);
					return 1;
				}
		pol_ruleset_free(&rs);
	}
	return 0;
}

static int test_constants(void)
{
	size_t n;
	const struct pol_const *t = pol_const_table(&n);

	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			if (strcmp(t[i].name, t[j].name) == 0) {
				fprintf(stderr, "constant %s listed twice\n", t[i].name);
				return 1;
			}
	CHECK(pol_const_find("KVM_RUN")->value == KVM_RUN);
	CHECK(pol_const_find("KVM_GET_REGS")->value == 0x8090ae81u); /* zero-extended */
	CHECK(pol_const_find("AT_FDCWD")->value == (uint64_t)-100);  /* sign-extended */
	CHECK(pol_const_find("kvm_run") == NULL);
	CHECK(pol_errno_find("ENOENT") == ENOENT && pol_errno_find("ENOPE") == 0);
	return 0;
}

static int test_bad_names(void)
{
	EXPECT_ERROR("reed: 1", "unknown syscall 'reed'");
	EXPECT_ERROR("socketcall: 1", "not a syscall on this architecture");
	EXPECT_ERROR("Read: 1", "bad syscall name");
	EXPECT_ERROR("re ad: 1", "bad syscall name");
	EXPECT_ERROR(": 1", "bad syscall name");
	EXPECT_ERROR("ioctl: arg1 == KVM_RUNN", "unknown constant 'KVM_RUNN'");
	EXPECT_ERROR("ioctl: arg1 == kvm_run", "unknown constant");
	EXPECT_ERROR("openat: return ENOPE", "unknown errno 'ENOPE'");
	EXPECT_ERROR("openat: return", "expected an errno name");
	EXPECT_ERROR("openat: return 2", "expected an errno name");
	return 0;
}

static int test_bad_operators(void)
{
	EXPECT_ERROR("ioctl: arg1 = 5", "unexpected character '='");
	EXPECT_ERROR("ioctl: arg1 =< 5", "unexpected character '='");
	EXPECT_ERROR("ioctl: arg1 ! 5", "unexpected character '!'");
	EXPECT_ERROR("ioctl: arg1 === 5", "unexpected character '='");
	EXPECT_ERROR("ioctl: arg1 <> 5", "expected a number or constant");
	EXPECT_ERROR("ioctl: arg1 5", "expected a comparison after arg1");
	EXPECT_ERROR("ioctl: arg1 is 5", "expected a comparison after arg1");
	EXPECT_ERROR("ioctl: arg6 == 1", "expected arg0..arg5");
	EXPECT_ERROR("ioctl: argx == 1", "expected arg0..arg5");
	EXPECT_ERROR("ioctl: 1 == arg1", "unexpected '==' after '1'");
	EXPECT_ERROR("ioctl: arg1 > 1 && arg1 < 5", "arg1 is compared twice");
	EXPECT_ERROR("clone: arg0 & 0", "always true");
	EXPECT_ERROR("mmap: arg2 in 0xffffffffffffffff", "always true");
	EXPECT_ERROR("mmap: arg2 in ~0", "always true");
	return 0;
}

static int test_bad_structure(void)
{
	EXPECT_ERROR("read 1", "missing ':'");
	EXPECT_ERROR("read", "missing ':'");
	EXPECT_ERROR("read:", "empty filter");
	EXPECT_ERROR("read:   # nothing", "empty filter");
	EXPECT_ERROR("read: 0", "a filter is '1'");
	EXPECT_ERROR("read: 2", "a filter is '1'");
	EXPECT_ERROR("read: 1 2", "unexpected '2' after '1'");
	EXPECT_ERROR("read: 1 junk", "after '1'");
	EXPECT_ERROR("ioctl: arg1 == 1 junk", "unexpected 'junk'");
	EXPECT_ERROR("ioctl: arg1 == 1 ||", "expected arg0..arg5, got end of line");
	EXPECT_ERROR("ioctl: arg1 == 1 &&", "expected arg0..arg5");
	EXPECT_ERROR("ioctl: arg1 == 1 |", "expected a number or constant");
	EXPECT_ERROR("ioctl: arg1 == ~", "expected a number or constant");
	EXPECT_ERROR("ioctl: arg1 == 1 || || arg1 == 2", "expected arg0..arg5");
	EXPECT_ERROR("openat: return ENOENT extra", "after 'return ENOENT'");
	EXPECT_ERROR("read: 1 $", "unexpected character '$'");
	EXPECT_ERROR("ioctl: arg1 == \x01", "unexpected byte 0x01");
	EXPECT_ERROR("ioctl: arg1 == \xc3\xa9", "unexpected byte 0xc3");
	CHECK(expect_error("read: 1\nread: 1", "t.policy:2: ", "already listed at t.policy:1") == 0);
	CHECK(expect_error("read: arg0 == 1\nread: 1", "t.policy:2: ", "already listed") == 0);
	CHECK(expect_error("openat: return ENOENT\nopenat: arg0 == 1", "t.policy:2: ",
			   "already listed") == 0);
	return 0;
}

static int test_bad_numbers(void)
{
	EXPECT_ERROR("ioctl: arg1 == 18446744073709551616", "number out of range");
	EXPECT_ERROR("ioctl: arg1 == 0x10000000000000000", "number out of range");
	EXPECT_ERROR("ioctl: arg1 == 99999999999999999999999999999999999999999999", "out of range");
	EXPECT_ERROR("ioctl: arg1 == 0x", "bad number '0x'");
	EXPECT_ERROR("ioctl: arg1 == 12ab", "bad number '12ab'");
	EXPECT_ERROR("ioctl: arg1 == 09", "bad number '09'");
	EXPECT_ERROR("ioctl: arg1 == 1_0", "bad number");
	return 0;
}

static int test_bad_includes(void)
{
	CHECK(expect_error("@include self.policy", "self.policy:1: ", "@include loop") == 0);
	CHECK(expect_error("@include loop1.policy", "loop2.policy:2: ", "@include loop") == 0);
	CHECK(expect_error("@include t.policy", "t.policy:1: ", "@include loop") == 0);
	EXPECT_ERROR("@include nothere.policy", "no embedded policy 'nothere.policy'");
	EXPECT_ERROR("@include inc", "ending in .policy");
	EXPECT_ERROR("@include ../inc.policy", "ending in .policy");
	EXPECT_ERROR("@include", "unknown directive");
	EXPECT_ERROR("@inclde inc.policy", "unknown directive");
	EXPECT_ERROR("@includeinc.policy", "unknown directive");
	/* The error names the line inside the included file. */
	CHECK(expect_error("read: 1\n@include bad.policy\n", "bad.policy:2: ", "missing ':'") == 0);
	return 0;
}

static int test_error_location_and_limits(void)
{
	static char line[POL_MAX_LINE + 100];
	char *many;
	size_t off = 0;
	struct pol_ruleset rs;

	CHECK(expect_error("read: 1\nwrite: 1\n\nbogus: 1\n", "t.policy:4: ", "unknown syscall") == 0);
	memset(line, 'a', sizeof(line) - 1);
	memcpy(line, "read: 1 #", 9);
	EXPECT_ERROR(line, "longer than");
	/* 30 lines of 10 alternatives: line 26 goes over POL_MAX_CLAUSES (256) */
	many = malloc(30 * 10 * 24 + 16);
	CHECK(many);
	for (int i = 0; i < 300; i++)
		off += sprintf(many + off, "%s%sarg1 == %d%s", i % 10 ? "" : "ioctl: ",
			       i % 10 ? " || " : "", i, i % 10 == 9 ? "\n" : "");
	CHECK(expect_error(many, "t.policy:26: ", "alternatives") == 0);
	free(many);
	/* A kind that is not embedded, and a tiny error buffer. */
	memset(&rs, 0, sizeof(rs));
	CHECK(pol_parse(table, "nothere", &rs, err, sizeof(err)) == -EINVAL);
	CHECK(strstr(err, "no embedded policy 'nothere'"));
	table[0].text = "reed: 1";
	CHECK(pol_parse(table, "t", &rs, err, 6) == -EINVAL && strlen(err) == 5);
	pol_ruleset_free(&rs);
	return 0;
}

/* Random damage to a real policy: every outcome is a clean parse or a
 * located error; nothing crashes (run under ASan in CI for more). */
static int test_mutations(void)
{
	const struct pol_blob *vcpu = NULL;
	size_t len;
	char *buf;

	for (const struct pol_blob *b = pol_blobs; b->name; b++)
		if (strcmp(b->name, "vcpu") == 0)
			vcpu = b;
	CHECK(vcpu);
	len = strlen(vcpu->text);
	buf = malloc(len + 1);
	CHECK(buf);
	srand(12345);
	for (int iter = 0; iter < 3000; iter++) {
		static const char junk[] = "#:|&~=!<>0x1 \n\tKVM_arg@";
		struct pol_ruleset rs;
		int r;

		memcpy(buf, vcpu->text, len + 1);
		for (int k = 0; k < 1 + rand() % 4; k++) {
			size_t at = rand() % len;
			buf[at] = rand() % 2 ? junk[rand() % (sizeof(junk) - 1)] : (char)(1 + rand() % 255);
		}
		/* @include common.policy resolves in the embedded table */
		memset(&rs, 0, sizeof(rs));
		err[0] = '\0';
		table[0].text = buf;
		r = pol_parse(table, "t", &rs, err, sizeof(err));
		pol_ruleset_free(&rs);
		CHECK(r == 0 || (r == -EINVAL && strstr(err, ".policy:")));
	}
	free(buf);
	return 0;
}

int main(void)
{
	/* The mutation test damages vcpu.policy, which includes common.policy. */
	for (const struct pol_blob *b = pol_blobs; b->name; b++)
		if (strcmp(b->name, "common") == 0)
			table[ARRAY_LEN(table) - 2].text = b->text;

	static const struct test_case tests[] = {
		TEST(test_allow),
		TEST(test_return_errno),
		TEST(test_or_of_equalities),
		TEST(test_in_mask),
		TEST(test_bits_set),
		TEST(test_and_numbers_ops),
		TEST(test_comments_blanks_crlf),
		TEST(test_merge_lines),
		TEST(test_include),
		TEST(test_build),
		TEST(test_embedded_policies), TEST(test_no_child_resizes_files),
		TEST(test_constants),
		TEST(test_bad_names),
		TEST(test_bad_operators),
		TEST(test_bad_structure),
		TEST(test_bad_numbers),
		TEST(test_bad_includes),
		TEST(test_error_location_and_limits),
		TEST(test_mutations),
	};
	return RUN_TESTS(tests);
}
