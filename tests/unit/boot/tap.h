/* A tiny TAP-style harness for the unit tests. Each case runs in its own
 * child, so a crash or a sanitizer abort fails that case, not the whole run.
 * A case returns 0 (pass), TEST_SKIP (cannot run here) or anything else
 * (fail); CHECK() reports the failed condition and returns 1. TAP_MAIN()
 * writes the program's main. */
#pragma once

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define TEST_SKIP 77

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
			return 1;                                                                  \
		}                                                                                  \
	} while (0)

struct test_case {
	const char *name;
	int (*fn)(void);
};

#define TEST(fn)                                                                                   \
	{                                                                                          \
#fn, fn                                                                            \
	}

static inline int run_one(const struct test_case *t)
{
	int status;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int r = t->fn();

		fflush(stdout); /* _exit() would drop what is still buffered */
		_exit(r);
	}
	if (waitpid(pid, &status, 0) < 0)
		return -1;
	if (WIFSIGNALED(status)) {
		fprintf(stderr, "%s: killed by signal %d (%s)\n", t->name, WTERMSIG(status),
			strsignal(WTERMSIG(status)));
		return -1;
	}
	return WEXITSTATUS(status);
}

/* Run every case, print "ok N - name" lines and a plan; 0 when all passed. */
static inline int run_tests(const struct test_case *tests, size_t n)
{
	int failed = 0;

	printf("1..%zu\n", n);
	for (size_t i = 0; i < n; i++) {
		int r = run_one(&tests[i]);

		if (r == 0)
			printf("ok %zu - %s\n", i + 1, tests[i].name);
		else if (r == TEST_SKIP)
			printf("ok %zu - %s # SKIP\n", i + 1, tests[i].name);
		else {
			printf("not ok %zu - %s\n", i + 1, tests[i].name);
			failed++;
		}
	}
	return failed ? 1 : 0;
}

#define RUN_TESTS(arr) run_tests((arr), sizeof(arr) / sizeof((arr)[0]))

/* The main of a test program that runs the cases listed, in order:
 *   TAP_MAIN(TEST(t_first), TEST(t_second))
 * A program that must do more in main builds its own table for RUN_TESTS. */
#define TAP_MAIN(...)                                                                              \
	int main(void)                                                                             \
	{                                                                                          \
		static const struct test_case tap_tests_[] = {__VA_ARGS__};                        \
                                                                                                   \
		return RUN_TESTS(tap_tests_);                                                      \
	}
