/* Guest RAM for device processes: map the memfd, translate guest-physical
 * ranges with bounds checks. See gmem.h. */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "e820.h"
#include "gmem.h"

/* The slots come from guest_ram_regions(), the same function the vcpu
 * process uses for its KVM slots, so the two views of guest RAM cannot
 * disagree. Only mem_bytes of the file are mapped: a larger file is
 * tolerated, its tail stays out of reach. Never PROT_EXEC: the device only
 * copies data. *m is written only on success. */
int gmem_map(struct gmem *m, int memfd, uint64_t mem_bytes)
{
	struct ram_region rr[2];
	struct gmem g = {0};
	struct stat st;
	void *p;
	int r;

	if (!m)
		return -EINVAL;
	r = guest_ram_regions(mem_bytes, rr, &g.n);
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
	for (unsigned i = 0; i < g.n; i++)
		g.r[i] = (struct gmem_region){
		    .gpa = rr[i].gpa, .size = rr[i].size, .off = rr[i].memfd_off};
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
	m->r[0] = (struct gmem_region){.gpa = gpa, .size = len, .off = 0};
}

void gmem_unmap(struct gmem *m)
{
	if (!m)
		return;
	if (m->mapped && m->base)
		munmap(m->base, m->size);
	memset(m, 0, sizeof(*m));
}

/* Written without ever computing gpa + len or r.gpa + r.size, so that no
 * sum can wrap: a range whose last byte would lie past 2^64 - 1 is refused
 * first; then the offset into the slot is gpa - r.gpa (only when gpa is not
 * below the slot) and both it and len are compared with what is left.
 * Slots are separated by the PCI hole, so a range that fits no single slot
 * straddles a slot end or the hole, and is refused. A slot whose memfd
 * range lies outside the mapping (a corrupt gmem) is refused too. */
void *gmem_ptr(const struct gmem *m, uint64_t gpa, uint64_t len)
{
	if (!m || !m->base || (len && len - 1 > UINT64_MAX - gpa))
		return NULL;
	for (unsigned i = 0; i < m->n && i < 2; i++) {
		const struct gmem_region *r = &m->r[i];
		uint64_t off;

		if (gpa < r->gpa)
			continue;
		off = gpa - r->gpa;
		if (off > r->size || len > r->size - off)
			continue;
		if (r->off > m->size || r->size > m->size - r->off)
			return NULL;
		return m->base + r->off + off;
	}
	return NULL;
}
