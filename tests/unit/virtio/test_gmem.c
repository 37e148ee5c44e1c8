/* Unit tests for devproc/virtio/gmem.c: mapping a real guest-RAM memfd
 * (sealed like the monitor's, sparse, also past the PCI hole) and the
 * bounds of gmem_ptr: slot ends, the hole, wrap-around at 2^64. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "e820.h"
#include "gmem.h"
#include "tap.h"

#define MiB (1ull << 20)
#define GiB (1ull << 30)

/* A sealed, sparse guest-RAM memfd of size bytes, or -1. */
static int ram_fd(uint64_t size)
{
	int fd = memfd_create("guest-ram", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd < 0)
		return -1;
	if (ftruncate(fd, (off_t)size) < 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The permissions /proc/self/maps shows for the mapping at p. */
static int map_perms(const void *p, char perms[5])
{
	char line[512];
	FILE *f = fopen("/proc/self/maps", "r");
	int found = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;

		if (sscanf(line, "%lx-%lx %4s", &lo, &hi, perms) == 3 && lo == (uintptr_t)p) {
			found = 0;
			break;
		}
	}
	fclose(f);
	return found;
}

static int test_fake(void)
{
	uint8_t *buf = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct gmem m;

	CHECK(buf != MAP_FAILED);
	gmem_fake(&m, buf, 0x10000, 4096);
	CHECK(gmem_ptr(&m, 0x10000, 4096) == buf);
	CHECK(gmem_ptr(&m, 0x10fff, 1) == buf + 4095);
	CHECK(gmem_ptr(&m, 0x11000, 0) == buf + 4096); /* at the end, len 0 */
	CHECK(gmem_ptr(&m, 0x10000, 4097) == NULL);
	CHECK(gmem_ptr(&m, 0x10001, 4096) == NULL);
	CHECK(gmem_ptr(&m, 0x11000, 1) == NULL);
	CHECK(gmem_ptr(&m, 0x11001, 0) == NULL);
	CHECK(gmem_ptr(&m, 0xffff, 1) == NULL);
	CHECK(gmem_ptr(&m, 0xffff, 2) == NULL);
	CHECK(gmem_ptr(&m, 0x10800, UINT64_MAX) == NULL);
	CHECK(gmem_ptr(&m, UINT64_MAX, 2) == NULL);
	CHECK(gmem_ptr(&m, UINT64_MAX - 0xffff, 0x10001) == NULL); /* wraps onto RAM */
	CHECK(gmem_ptr(NULL, 0x10000, 1) == NULL);
	/* a corrupt gmem whose slot runs past the mapping gives nothing */
	m.r[0].size = 8192;
	CHECK(gmem_ptr(&m, 0x10000, 1) == NULL);
	m.r[0] = (struct mach_ram_region){.gpa = 0x10000, .size = 4096, .off = 1ull << 40};
	CHECK(gmem_ptr(&m, 0x10000, 0) == NULL);
	m.r[0].off = 0;
	gmem_unmap(&m); /* a fake: nothing to unmap, the buffer stays ours */
	CHECK(m.base == NULL && m.n == 0);
	buf[0] = 1;
	CHECK(munmap(buf, 4096) == 0);
	gmem_unmap(&m);
	gmem_unmap(NULL);
	return 0;
}

/* RAM ending at 2^64 (cut there when asked for more): its last byte is
 * reachable, and nothing wraps to address 0. */
static int test_fake_top(void)
{
	uint8_t buf[4096];
	struct gmem m;

	gmem_fake(&m, buf, UINT64_MAX - 4095, 8192);
	CHECK(m.r[0].size == 4096);
	CHECK(gmem_ptr(&m, UINT64_MAX, 1) == buf + 4095);
	CHECK(gmem_ptr(&m, UINT64_MAX - 4095, 4096) == buf);
	CHECK(gmem_ptr(&m, UINT64_MAX, 2) == NULL);
	CHECK(gmem_ptr(&m, UINT64_MAX - 4095, 4097) == NULL);
	CHECK(gmem_ptr(&m, 0, 1) == NULL);
	/* a hand-made region that claims to wrap: still no wrapping range */
	m.r[0].size = m.size = 8192;
	CHECK(gmem_ptr(&m, UINT64_MAX, 2) == NULL);
	CHECK(gmem_ptr(&m, UINT64_MAX - 4095, 4097) == NULL);
	return 0;
}

static int test_map_small(void)
{
	const uint64_t mem = MOAT_MEM_MIN;
	struct gmem m;
	char perms[5];
	uint8_t *p, b = 0;
	int fd = ram_fd(mem);

	CHECK(fd >= 0);
	CHECK(gmem_map(&m, fd, mem) == 0);
	CHECK(m.n == 1 && m.size == mem && m.r[0].gpa == 0 && m.r[0].size == mem);
	CHECK(map_perms(m.base, perms) == 0);
	CHECK(strcmp(perms, "rw-s") == 0); /* shared, and never executable */
	p = gmem_ptr(&m, 0x123456, 1);
	CHECK(p == m.base + 0x123456);
	*p = 0x77;
	CHECK(pread(fd, &b, 1, 0x123456) == 1 && b == 0x77);
	CHECK(gmem_ptr(&m, mem - 1, 1) != NULL);
	CHECK(gmem_ptr(&m, mem - 1, 2) == NULL);
	CHECK(gmem_ptr(&m, mem, 1) == NULL);
	p = m.base;
	gmem_unmap(&m);
	CHECK(m.base == NULL && m.size == 0);
	CHECK(map_perms(p, perms) < 0); /* really unmapped */
	gmem_unmap(&m);
	close(fd);
	return 0;
}

/* More RAM than fits below the hole: the rest is at 4 GiB, backed from the
 * memfd right after the low part. The file is sparse: only the pages
 * touched here are ever allocated. */
static int test_map_hole(void)
{
	const uint64_t mem = 3 * GiB + 64 * 1024, hole = MOAT_PCI_HOLE_START;
	struct gmem m;
	uint8_t *p, b = 0;
	int fd = ram_fd(mem);

	CHECK(fd >= 0);
	CHECK(gmem_map(&m, fd, mem) == 0);
	CHECK(m.n == 2 && m.r[0].size == hole);
	CHECK(m.r[1].gpa == 4 * GiB && m.r[1].size == 64 * 1024 && m.r[1].off == hole);
	CHECK(gmem_ptr(&m, hole - 1, 1) == m.base + hole - 1);
	CHECK(gmem_ptr(&m, hole, 0) != NULL);
	CHECK(gmem_ptr(&m, hole - 1, 2) == NULL);
	CHECK(gmem_ptr(&m, hole, 1) == NULL);
	CHECK(gmem_ptr(&m, MOAT_IOAPIC_GPA, 4) == NULL);
	CHECK(gmem_ptr(&m, 4 * GiB - 1, 2) == NULL);
	CHECK(gmem_ptr(&m, hole - 16, 4 * GiB - hole + 32) == NULL); /* across it */
	p = gmem_ptr(&m, 4 * GiB, 64 * 1024);
	CHECK(p == m.base + hole);
	p[5] = 0x42;
	CHECK(pread(fd, &b, 1, (off_t)hole + 5) == 1 && b == 0x42);
	CHECK(gmem_ptr(&m, 4 * GiB + 64 * 1024 - 1, 1) != NULL);
	CHECK(gmem_ptr(&m, 4 * GiB + 64 * 1024 - 1, 2) == NULL);
	CHECK(gmem_ptr(&m, 4 * GiB + 64 * 1024, 1) == NULL);
	CHECK(gmem_ptr(&m, 4 * GiB, UINT64_MAX) == NULL);
	gmem_unmap(&m);
	close(fd);
	return 0;
}

/* Refusals leave *m as it was. */
static int test_map_errors(void)
{
	const uint64_t bad_sizes[] = {0, MOAT_MEM_MIN - 4096, MOAT_MEM_MIN + 1,
				      MOAT_MEM_MAX + 4096};
	struct gmem m;
	int fd = ram_fd(MOAT_MEM_MIN), ro, pfd[2];
	char path[64];

	CHECK(fd >= 0);
	memset(&m, 0xa5, sizeof(m));
	for (unsigned i = 0; i < sizeof(bad_sizes) / sizeof(bad_sizes[0]); i++)
		CHECK(gmem_map(&m, fd, bad_sizes[i]) == -EINVAL);
	CHECK(gmem_map(&m, fd, MOAT_MEM_MIN + 4096) == -EINVAL); /* file too small */
	CHECK(gmem_map(&m, -1, MOAT_MEM_MIN) == -EBADF);
	CHECK(pipe(pfd) == 0);
	CHECK(gmem_map(&m, pfd[0], MOAT_MEM_MIN) == -EINVAL);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ro = open(path, O_RDONLY | O_CLOEXEC);
	CHECK(ro >= 0);
	CHECK(gmem_map(&m, ro, MOAT_MEM_MIN) == -EACCES);
	CHECK(m.n == 0xa5a5a5a5u && m.size == 0xa5a5a5a5a5a5a5a5ull);
	CHECK(gmem_map(NULL, fd, MOAT_MEM_MIN) == -EINVAL);
	return 0;
}

TAP_MAIN(TEST(test_fake), TEST(test_fake_top), TEST(test_map_small), TEST(test_map_hole),
	 TEST(test_map_errors))
