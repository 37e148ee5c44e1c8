/* Guest RAM for device processes: map the memfd, translate guest-physical
 * ranges with bounds checks. See gmem.h. */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "gmem.h"
#include "ram.h"

/* The slots come from mach_ram_regions(), the same function the vcpu
 * process uses for its KVM slots, so the two views of guest RAM cannot
 * disagree. Only mem_bytes of the file are mapped: a larger file is
 * tolerated, its tail stays out of reach. Never PROT_EXEC: the device only
 * copies data. *m is written only on success. */
int gmem_map(struct gmem *m, int memfd, uint64_t mem_bytes)
{
	struct gmem g = {0};
	struct stat st;
	void *p;
	int r;

	if (!m)
		return -EINVAL;
	r = mach_ram_regions(mem_bytes, g.r, &g.n);
	if (r < 0)
		return r;
	if (fstat(memfd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || st.st_size < 0 || (uint64_t)st.st_size < mem_bytes)
		return -EINVAL;
	p = mmap(NULL, mem_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	if (p == MAP_FAILED)
		return -errno;
	g.base = p;
	g.size = mem_bytes;
	g.mapped = true;
	*m = g;
	return 0;
}

/* No mapping of its own: the caller's buffer stays the caller's. A region
 * that would run past the top of the 64-bit space is cut there. */
void gmem_fake(struct gmem *m, uint8_t *buf, uint64_t gpa, uint64_t len)
{
	if (len && len - 1 > UINT64_MAX - gpa)
		len = UINT64_MAX - gpa + 1;
	*m = (struct gmem){.base = buf, .size = len, .n = 1};
	m->r[0] = (struct mach_ram_region){.gpa = gpa, .size = len, .off = 0};
}

void gmem_unmap(struct gmem *m)
{
	if (!m)
		return;
	if (m->mapped && m->base)
		munmap(m->base, m->size);
	memset(m, 0, sizeof(*m));
}

void *gmem_ptr(const struct gmem *m, uint64_t gpa, uint64_t len)
{
	if (!m)
		return NULL;
	return mach_ram_ptr(m->base, m->size, m->r, m->n, gpa, len);
}
