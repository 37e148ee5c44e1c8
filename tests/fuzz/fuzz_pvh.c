/* libFuzzer target: pvh_parse() on arbitrary bytes and, when it accepts
 * them, the invariants the loader relies on (every segment's bytes inside
 * the file, no wrap-around, the entry inside a segment) and the
 * hvm_start_info writer. */
#include <stdint.h>
#include <stdlib.h>

#include "e820.h"
#include "guest_layout.h"
#include "pvh.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_info(const struct pvh_info *pi, size_t size)
{
	int inside = 0;

	if (pi->nseg == 0 || pi->nseg > PVH_MAX_SEGMENTS)
		abort();
	for (unsigned i = 0; i < pi->nseg; i++) {
		const struct pvh_segment *s = &pi->seg[i];

		if (s->offset > size || s->filesz > size - s->offset || s->filesz > s->memsz ||
		    s->memsz == 0 || s->paddr + s->memsz < s->paddr || s->paddr < pi->lo ||
		    s->paddr + s->memsz > pi->hi)
			abort();
		inside |= pi->entry >= s->paddr && pi->entry - s->paddr < s->filesz;
	}
	if (!inside)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[4096];
	struct e820_entry map[E820_MOAT_MAX_ENTRIES];
	struct pvh_info pi;
	struct pvh_boot_args a = {0};
	const char *why = NULL;
	unsigned n = 0;
	size_t used = 0;

	if (pvh_is_elf(data, size) !=
	    (size >= 4 && data[0] == 0x7F && data[1] == 'E' && data[2] == 'L' && data[3] == 'F'))
		abort();
	if (pvh_parse(data, size, &pi, &why) < 0) {
		if (!why)
			abort();
		return 0;
	}
	check_info(&pi, size);

	if (e820_build(256ULL << 20, map, E820_MOAT_MAX_ENTRIES, &n) < 0)
		abort();
	a = (struct pvh_boot_args){MOAT_CMDLINE_GPA, pi.hi, pi.lo, map, n};
	if (pvh_write_start_info(buf, sizeof(buf), MOAT_START_INFO_GPA, &a, &used) < 0) {
		/* Only a wrapping initrd range may be refused here. */
		if (pi.hi <= UINT64_MAX - pi.lo)
			abort();
		return 0;
	}
	if (used > sizeof(buf))
		abort();
	return 0;
}
