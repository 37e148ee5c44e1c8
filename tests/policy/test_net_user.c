/* policy/net-user.policy, end to end (sandboxed-child's modes in
 * sandboxed_net.c), in the host's network namespace as moat-net runs:
 *   - every socket call libslirp 4.7 makes, with its arguments, passes;
 *   - SO_LINGER (issue 10: a lingering socket passed to the monitor hung
 *     it in close()) and the other calls slirp never makes kill (SIGSYS);
 *   - as a text: no socket call beyond accept, getpeername, getsockname
 *     and socket is allowed without an argument filter.
 * Traffic on 127.0.0.1 only. Runs as root (as in CI); the tests that
 * spawn skip otherwise. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pol.h"
#include "rules.h"
#include "spawn_child.h"
#include "tap.h"


/* Spawn sandboxed-child in mode, in the host's network namespace (as the
 * monitor spawns moat-net for slirp), read its report, say go, reap it
 * (killing it after the timeout). *msg is what it said, if anything. */
static int run(const char *mode, siginfo_t *si, char *msg, size_t len)
{
	struct pol_report rep;
	struct mon_child c;
	struct pollfd p;
	uid_t uid;
	int sp[2];
	ssize_t n;

	CHECK(child_spawn(mode, true, &c, &sp[0], &uid) == 0);
	n = child_recv(sp[0], &rep, sizeof(rep));
	if (n == sizeof(rep) && strcmp(rep.kind, "net-user") == 0)
		CHECK(send(sp[0], "g", 1, 0) == 1);
	else
		fprintf(stderr, "%s: no report from the child (%zd)\n", mode, n);
	p = (struct pollfd){.fd = c.pidfd, .events = POLLIN};
	if (poll(&p, 1, CHILD_TIMEOUT_MS) != 1)
		pidfd_send_signal(c.pidfd, SIGKILL, NULL, 0);
	memset(si, 0, sizeof(*si));
	CHECK(waitid(P_PIDFD, c.pidfd, si, WEXITED) == 0);
	close(c.pidfd);
	n = recv(sp[0], msg, len - 1, MSG_DONTWAIT);
	msg[n > 0 ? n : 0] = '\0';
	close(sp[0]);
	return 0;
}

static int run_kill(const char *mode)
{
	char msg[256];
	siginfo_t si;

	if (geteuid() != 0)
		return TEST_SKIP;
	CHECK(run(mode, &si, msg, sizeof(msg)) == 0);
	if ((si.si_code != CLD_KILLED && si.si_code != CLD_DUMPED) || si.si_status != SIGSYS) {
		fprintf(stderr, "%s: code %d status %d, said '%s'\n", mode, si.si_code,
			si.si_status, msg);
		return 1;
	}
	return 0;
}

static int test_slirp_calls_pass(void)
{
	char msg[256];
	siginfo_t si;

	if (geteuid() != 0)
		return TEST_SKIP;
	CHECK(run("net-slirp", &si, msg, sizeof(msg)) == 0);
	if (strcmp(msg, "ok") != 0 || si.si_code != CLD_EXITED || si.si_status != 0) {
		fprintf(stderr, "net-slirp: '%s', code %d status %d\n", msg, si.si_code,
			si.si_status);
		return 1;
	}
	return 0;
}

static int test_kills_so_linger(void)
{
	return run_kill("net-kill-SO_LINGER");
}
static int test_kills_so_sndbuf(void)
{
	return run_kill("net-kill-SO_SNDBUF");
}
static int test_kills_so_keepalive(void)
{
	return run_kill("net-kill-SO_KEEPALIVE");
}
static int test_kills_bind6(void)
{
	return run_kill("net-kill-bind6");
}
static int test_kills_connect6(void)
{
	return run_kill("net-kill-connect6");
}
static int test_kills_shutdown_rdwr(void)
{
	return run_kill("net-kill-shutdown-rdwr");
}
static int test_kills_listen_128(void)
{
	return run_kill("net-kill-listen-128");
}
static int test_kills_sendto_fastopen(void)
{
	return run_kill("net-kill-sendto-fastopen");
}
static int test_kills_accept4(void)
{
	return run_kill("net-kill-accept4");
}
static int test_kills_recv_peek(void)
{
	return run_kill("net-kill-recv-peek");
}

/* The policy as a text: the calls that reach the network filter their
 * arguments, but for those whose only arguments are pointers or
 * descriptors. */
static int test_policy_shape(void)
{
	static const char *const filtered[] = {
	    "bind",    "connect", "getsockopt", "ioctl",    "listen", "recvfrom",
	    "recvmsg", "sendto",  "setsockopt", "shutdown", "socket",
	};
	static const char *const never[] = {"accept4", "sendmmsg", "recvmmsg", "socketpair"};
	struct pol_ruleset rs = {0};
	char err[256];

	CHECK(pol_parse(pol_blobs, "net-user", &rs, err, sizeof(err)) == 0);
	for (size_t i = 0; i < rs.n; i++) {
		for (size_t k = 0; k < sizeof(filtered) / sizeof(filtered[0]); k++)
			if (strcmp(rs.rule[i].name, filtered[k]) == 0 &&
			    rs.rule[i].f.kind != POL_FILTER_ARGS) {
				fprintf(stderr, "net-user allows %s without a filter\n",
					rs.rule[i].name);
				return 1;
			}
		for (size_t k = 0; k < sizeof(never) / sizeof(never[0]); k++)
			CHECK(strcmp(rs.rule[i].name, never[k]) != 0);
	}
	pol_ruleset_free(&rs);
	return 0;
}

int main(void)
{
	static const struct test_case tests[] = {
	    TEST(test_policy_shape),	   TEST(test_slirp_calls_pass),
	    TEST(test_kills_so_linger),	   TEST(test_kills_so_sndbuf),
	    TEST(test_kills_so_keepalive), TEST(test_kills_bind6),
	    TEST(test_kills_connect6),	   TEST(test_kills_shutdown_rdwr),
	    TEST(test_kills_listen_128),   TEST(test_kills_sendto_fastopen),
	    TEST(test_kills_accept4),	   TEST(test_kills_recv_peek),
	};
	return RUN_TESTS(tests);
}
