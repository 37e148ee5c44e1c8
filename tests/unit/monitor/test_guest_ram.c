/* Guest RAM's backings (monitor/guest_ram.c), made for real on this host:
 * no KVM is needed to make the file, map it and ask /proc what it got.
 * The transparent-huge-page cases need a host that allows them for shmem
 * (not "deny") and root; the hugetlb ones a pool, which the test does not
 * make (tests/integration/host-ram.sh does, in the KVM box). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cap-ng.h>

#include "guest_ram.h"
#include "procstat.h"
#include "tap.h"

#define MIB (1ull << 20)

static bool thp_allowed(void)
{
	char buf[128] = "";
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/shmem_enabled", "re");

	if (f) {
		if (!fgets(buf, sizeof(buf), f))
			buf[0] = '\0';
		fclose(f);
	}
	return f && !strstr(buf, "[deny]") && geteuid() == 0;
}

/* Map the file, touch every byte, and return how much of the mapping
 * /proc shows in 2 MiB pages (our own smaps_rollup: nothing else of ours
 * is huge). */
static uint64_t touch_and_count(int fd, uint64_t bytes)
{
	uint64_t huge = 0;
	char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	if (p == MAP_FAILED)
		return UINT64_MAX;
	memset(p, 0x5a, bytes);
	(void)mon_procstat_huge_bytes(getpid(), &huge);
	munmap(p, bytes);
	return huge;
}

static off_t size_of(int fd)
{
	return lseek(fd, 0, SEEK_END);
}

static int t_off(void)
{
	struct mon_guest_ram r;
	char err[256] = "";

	CHECK(mon_guest_ram_create(32 * MIB, MON_HUGE_OFF, false, &r, err, sizeof(err)) == 0);
	CHECK(r.backing == MON_RAM_4K && r.sealed && !r.prealloc);
	CHECK(strcmp(mon_ram_backing_name(r.backing), "4k") == 0);
	CHECK(size_of(r.fd) == (off_t)(32 * MIB));
	/* sealed: nobody can shrink or grow it */
	CHECK(fcntl(r.fd, F_GET_SEALS) == (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL));
	CHECK(ftruncate(r.fd, MIB) < 0 && errno == EPERM);
	CHECK(touch_and_count(r.fd, 32 * MIB) == 0);
	close(r.fd);
	return 0;
}

static int t_prealloc(void)
{
	struct mon_guest_ram r;
	char err[256] = "";
	struct stat st;

	CHECK(mon_guest_ram_create(32 * MIB, MON_HUGE_OFF, true, &r, err, sizeof(err)) == 0);
	CHECK(r.prealloc && fstat(r.fd, &st) == 0);
	CHECK((uint64_t)st.st_blocks * 512 >= 32 * MIB); /* every page allocated */
	close(r.fd);
	return 0;
}

/* No pool (or not enough of one) and hugepages=on: one line, -ENOMEM,
 * nothing left open. */
static int t_on_without_room(void)
{
	struct mon_guest_ram r;
	char err[256] = "";

	/* more than any test host's pool */
	CHECK(mon_guest_ram_create(1ull << 40, MON_HUGE_ON, false, &r, err, sizeof(err)) ==
	      -ENOMEM);
	CHECK(strstr(err, "hugetlb pool has") && strstr(err, "524288 needed"));
	CHECK(r.fd == -1);
	return 0;
}

static int t_auto_thp(void)
{
	struct mon_guest_ram r;
	char err[256] = "";
	uint64_t huge;

	if (!thp_allowed()) {
		printf("# skipped: shmem THP denied, or not root\n");
		return 0;
	}
	/* 4 KiB-aligned but not 2 MiB: the pool is skipped, THP still serves */
	CHECK(mon_guest_ram_create(32 * MIB + 4096, MON_HUGE_AUTO, false, &r, err,
				   sizeof(err)) == 0);
	CHECK(r.backing == MON_RAM_THP && !r.sealed);
	CHECK(strstr(r.why, "transparent huge pages on a private tmpfs"));
	CHECK(size_of(r.fd) == (off_t)(32 * MIB + 4096));
	huge = touch_and_count(r.fd, 32 * MIB + 4096);
	CHECK(huge >= 16 * MIB && huge <= 32 * MIB);
	close(r.fd);
	return 0;
}

/* As under the systemd unit: no CAP_SYS_ADMIN, so no fsopen; the helper
 * in a user namespace of its own makes the tmpfs. Done in a child that
 * drops the capability for good. */
static int t_auto_thp_without_sys_admin(void)
{
	int status;
	pid_t pid;

	if (!thp_allowed()) {
		printf("# skipped: shmem THP denied, or not root\n");
		return 0;
	}
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		struct mon_guest_ram r;
		char err[256] = "";

		capng_get_caps_process();
		if (capng_update(CAPNG_DROP,
				 CAPNG_EFFECTIVE | CAPNG_PERMITTED | CAPNG_BOUNDING_SET,
				 CAP_SYS_ADMIN) < 0 ||
		    capng_apply(CAPNG_SELECT_BOTH) < 0 || prctl(PR_CAPBSET_READ, CAP_SYS_ADMIN) != 0)
			_exit(10);
		if (mon_guest_ram_create(32 * MIB, MON_HUGE_AUTO, false, &r, err, sizeof(err)) < 0)
			_exit(11);
		if (r.backing != MON_RAM_THP) {
			fprintf(stderr, "# %s\n", r.why);
			_exit(12);
		}
		if (!strstr(r.why, "made in a user namespace"))
			_exit(13);
		if (touch_and_count(r.fd, 32 * MIB) < 16 * MIB)
			_exit(14);
		_exit(0);
	}
	CHECK(waitpid(pid, &status, 0) == pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		printf("# child status %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	return 0;
}

TAP_MAIN(TEST(t_off), TEST(t_prealloc), TEST(t_on_without_room), TEST(t_auto_thp),
	 TEST(t_auto_thp_without_sys_admin))
