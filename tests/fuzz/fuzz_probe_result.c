/* libFuzzer target: what the monitor makes of `moat-blk probe`'s answer
 * (monitor/image_probe.c: mon_probe_check), which a hostile image may have
 * written through a compromised moat-blk. The input is
 *   byte 0: bit 0 a format was asked for, bits 1-2 which (raw, qcow2, vmdk)
 *   rest:   the ProbeResult as moat-blk would send it.
 * Invariants: an accepted answer has a known format (the one asked for, if
 * one was), a backing format that is empty or one moat reads, names of at
 * most MON_PROBE_NAME_MAX - 1 bytes without a control byte, extent names
 * only on a vmdk without a backing file, at most MON_PROBE_MAX_EXTENTS of
 * them; a refused one leaves nothing allocated and one line. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image_probe.h"
#include "probe.pb-c.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_name(const char *s)
{
	size_t n = strnlen(s, MON_PROBE_NAME_MAX);

	if (n == MON_PROBE_NAME_MAX)
		abort();
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Moat__Probe__ProbeResult *r;
	struct mon_probe p;
	char err[256] = "";
	bool given;
	enum mon_disk_format want;

	if (size < 1)
		return 0;
	given = data[0] & 1;
	want = (enum mon_disk_format)((data[0] >> 1) % 3);
	r = moat__probe__probe_result__unpack(NULL, size - 1, data + 1);
	if (!r)
		return 0;
	if (mon_probe_check(r, "img", given, want, &p, err, sizeof(err)) == 0) {
		if (p.format != MON_FORMAT_RAW && p.format != MON_FORMAT_QCOW2 &&
		    p.format != MON_FORMAT_VMDK)
			abort();
		if (given && p.format != want)
			abort();
		check_name(p.backing_name);
		if (p.backing_format[0] && strcmp(p.backing_format, "raw") &&
		    strcmp(p.backing_format, "qcow2") && strcmp(p.backing_format, "vmdk"))
			abort();
		if (p.has_backing && !p.backing_name[0])
			abort();
		if (p.nextents > MON_PROBE_MAX_EXTENTS ||
		    (p.nextents && (p.format != MON_FORMAT_VMDK || p.has_backing)))
			abort();
		for (unsigned i = 0; i < p.nextents; i++) {
			check_name(p.extents[i]);
			if (!p.extents[i][0])
				abort();
		}
		mon_probe_free(&p);
	} else if (!err[0] || strchr(err, '\n')) {
		abort();
	}
	moat__probe__probe_result__free_unpacked(r, NULL);
	return 0;
}
