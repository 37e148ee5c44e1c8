/* What the monitor makes of a child's /proc state (monitor/procstat.c):
 * our own process, read for real (unconfined, in our namespaces), and
 * every way a state can fall short of the sandbox, each named. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "procstat.h"
#include "tap.h"

#define UID 1056964700u

/* A state as a confined child shows it. */
static struct mon_procstat confined(void)
{
	struct mon_procstat st = {
	    .uid = {UID, UID, UID, UID},
	    .gid = {UID, UID, UID, UID},
	    .no_new_privs = 1,
	    .seccomp = 2,
	    .namespaces = "user,mnt,pid,net,ipc,uts,cgroup",
	};
	return st;
}

static int test_self(void)
{
	struct mon_procstat st;
	char why[128];

	CHECK(mon_procstat_status(getpid(), &st) == 0);
	CHECK(mon_procstat_namespaces(getpid(), &st) == 0);
	CHECK(st.uid[0] == getuid() && st.gid[0] == getgid());
	CHECK(st.seccomp == 0);
	CHECK(st.namespaces[0] == 0 && st.shares_net); /* all of them ours */
	CHECK(!mon_procstat_confined(&st, getuid(), getgid(), false, why, sizeof(why)));
	CHECK(mon_procstat_status(0, &st) < 0);
	return 0;
}

static int test_confined(void)
{
	struct mon_procstat st = confined();
	char why[128];

	CHECK(mon_procstat_confined(&st, UID, UID, false, why, sizeof(why)));
	st.seccomp = 3; /* SECCOMP_MODE_DEAD: just killed by its filter */
	CHECK(mon_procstat_confined(&st, UID, UID, false, why, sizeof(why)));
	st.seccomp = 2;
	strcpy(st.namespaces, "user,mnt,pid,ipc,uts,cgroup");
	st.shares_net = true;
	CHECK(mon_procstat_confined(&st, UID, UID, true, why, sizeof(why))); /* slirp */
	return 0;
}

static int refused(struct mon_procstat st, bool host_net, const char *reason)
{
	char why[128] = "";

	CHECK(!mon_procstat_confined(&st, UID, UID, host_net, why, sizeof(why)));
	CHECK(strstr(why, reason) != NULL);
	return 0;
}

static int test_shortfalls(void)
{
	struct mon_procstat st;

	st = confined(), st.uid[2] = 0; /* a saved uid of root */
	CHECK(refused(st, false, "runs as uid") == 0);
	st = confined(), st.gid[3] = 0;
	CHECK(refused(st, false, "runs as uid") == 0);
	st = confined(), st.cap_bnd = 1ull << 21; /* CAP_SYS_ADMIN left in the bounding set */
	CHECK(refused(st, false, "holds capabilities") == 0);
	st = confined(), st.cap_amb = 1;
	CHECK(refused(st, false, "holds capabilities") == 0);
	st = confined(), st.no_new_privs = 0;
	CHECK(refused(st, false, "no_new_privs 0") == 0);
	st = confined(), st.seccomp = 1; /* strict mode is not our filter */
	CHECK(refused(st, false, "seccomp mode 1") == 0);
	st = confined(), st.seccomp = -1; /* the line was missing */
	CHECK(refused(st, false, "seccomp mode -1") == 0);
	st = confined(), strcpy(st.namespaces, "user,mnt,net,ipc,uts");
	CHECK(refused(st, false, "pid namespace") == 0);
	/* "user" must be a whole name, not part of another */
	st = confined(), strcpy(st.namespaces, "xuser,mnt,pid,net,ipc,uts");
	CHECK(refused(st, false, "user namespace") == 0);
	st = confined(), st.shares_net = true;
	CHECK(refused(st, false, "shares the monitor's network namespace") == 0);
	st = confined(); /* slirp must stay in the host's */
	CHECK(refused(st, true, "left the host's network namespace") == 0);
	return 0;
}

/* smaps_rollup's huge-page lines add up; others, malformed values and a
 * sum that would overflow do not count. */
static int test_huge_bytes(void)
{
	uint64_t b;

	CHECK(mon_procstat_huge_parse("") == 0);
	CHECK(mon_procstat_huge_parse("55d0-7ffe ---p 00000000 00:00 0 [rollup]\n"
				      "Rss:              524288 kB\n"
				      "ShmemPmdMapped:   522240 kB\n"
				      "FilePmdMapped:        0 kB\n"
				      "Shared_Hugetlb:    2048 kB\n"
				      "Private_Hugetlb:   2048 kB\n"
				      "AnonHugePages:   999999 kB\n") == (526336ull << 10));
	CHECK(mon_procstat_huge_parse("ShmemPmdMapped: lots kB\nFilePmdMapped: 4 kB") == 4096);
	CHECK(mon_procstat_huge_parse(" ShmemPmdMapped: 4 kB\n") == 0); /* not at a line's start */
	CHECK(mon_procstat_huge_parse("ShmemPmdMapped: 18014398509481983 kB\n"
				      "FilePmdMapped: 18014398509481983 kB\n") ==
	      (18014398509481983ull << 10));
	/* our own process: readable, and a plain process maps no huge page here */
	CHECK(mon_procstat_huge_bytes(getpid(), &b) == 0);
	CHECK(mon_procstat_huge_bytes(-1, &b) < 0);
	return 0;
}

/* The flags field of a stat line, with a command name of the child's
 * choosing (spaces and ')' in it), and lines that are not stat lines. */
static int test_stat_flags(void)
{
	unsigned long f = 0;

	CHECK(mon_procstat_stat_flags("42 (moat-vcpu) S 1 1 1 0 -1 4194624 0 0 0\n", &f) == 0);
	CHECK(f == 4194624);
	CHECK(mon_procstat_stat_flags("42 (a) R 1 1 1 0 -1 4 0) R 1 1 1 0 -1 0 9 9\n", &f) == 0);
	CHECK(f == 0); /* the name ends at the last ')' */
	CHECK(mon_procstat_stat_flags("42 (x) Z 1 1 1 0 -1 4", &f) == 0 && f == 4);
	CHECK(mon_procstat_stat_flags("", &f) == -EINVAL);
	CHECK(mon_procstat_stat_flags("42 moat S 1 1 1 0 -1 4 0", &f) == -EINVAL);
	CHECK(mon_procstat_stat_flags("42 (x) S 1 1 1 0 -1", &f) == -EINVAL);
	CHECK(mon_procstat_stat_flags("42 (x) S 1 1 1 0 -1 -4 0", &f) == -EINVAL);
	CHECK(mon_procstat_stat_flags("42 (x) S 1 1 1 0 -1 4x 0", &f) == -EINVAL);
	CHECK(mon_procstat_stat_flags("42 (x) S 1 1 1 0 -1 99999999999999999999999 0", &f) ==
	      -EINVAL);
	return 0;
}

static void *sleeper(void *arg)
{
	(void)arg;
	pause();
	return NULL;
}

/* A process whose main thread is gone while another thread runs on. */
static pid_t leader_gone_child(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		pthread_t t;
		if (pthread_create(&t, NULL, sleeper, NULL) == 0)
			pthread_exit(NULL);
		_exit(1);
	}
	return pid;
}

/* Every thread exiting: a zombie is; we are not; nor is a process whose
 * main thread has exited (it shows as a zombie leader) while another of
 * its threads runs on, as a child cheating the check would try. */
static int test_exiting(void)
{
	int status;
	pid_t z = fork(), half;

	if (z == 0)
		_exit(0);
	CHECK(z > 0);
	usleep(100 * 1000); /* a zombie now: not reaped */
	CHECK(mon_procstat_exiting(z) == 1);
	CHECK(waitpid(z, &status, 0) == z);
	CHECK(mon_procstat_exiting(z) == -ENOENT || mon_procstat_exiting(z) == -ESRCH);
	CHECK(mon_procstat_exiting(getpid()) == 0);
	half = leader_gone_child();
	CHECK(half > 0);
	usleep(100 * 1000);
	CHECK(mon_procstat_exiting(half) == 0);
	kill(half, SIGKILL);
	CHECK(waitpid(half, &status, 0) == half);
	return 0;
}

TAP_MAIN(TEST(test_self), TEST(test_confined), TEST(test_shortfalls), TEST(test_huge_bytes),
	 TEST(test_stat_flags), TEST(test_exiting))
