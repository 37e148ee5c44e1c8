/* Unit tests for vcpu/boot/mptable.c: the table is read back the way Linux's
 * mpparse.c reads it (floating pointer, checksums, entries by type). */
#include <errno.h>
#include <stdint.h>

#include "guest_layout.h"
#include "moat_limits.h"
#include "bytes.h"
#include "mptable.h"
#include "tap.h"

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s += *p++;
	return s;
}

struct counts {
	unsigned cpu, bsp, bus, ioapic, intsrc, lint;
};

/* Walk the entries of a config table; fails on an unknown type or an entry
 * that does not fit, as Linux would. */
static int walk(const uint8_t *mpc, size_t len, unsigned ncpus, struct counts *c)
{
	size_t off = 44;

	while (off < len) {
		const uint8_t *e = mpc + off;

		switch (e[0]) {
		case 0:
			CHECK(off + 20 <= len);
			CHECK(e[1] == c->cpu && e[2] == 0x14 && (e[3] & 1));
			c->bsp += (e[3] & 2) != 0;
			CHECK(((e[3] & 2) != 0) == (e[1] == 0));
			c->cpu++;
			off += 20;
			continue;
		case 1:
			CHECK(!memcmp(e + 2, c->bus == 0 ? "PCI   " : "ISA   ", 6) &&
			      e[1] == c->bus);
			c->bus++;
			break;
		case 2:
			CHECK(e[1] == ncpus && e[2] == 0x11 && e[3] == 1);
			CHECK(le32_get(e + 4) == 0xFEC00000);
			c->ioapic++;
			break;
		case 3:
			CHECK(e[1] == 0 && le16_get(e + 2) == 0 && e[4] == 1);
			CHECK(e[5] == c->intsrc && e[6] == ncpus && e[7] == e[5]);
			c->intsrc++;
			break;
		case 4:
			CHECK(e[1] == (c->lint == 0 ? 3 : 1) && e[6] == 0xFF && e[7] == c->lint);
			c->lint++;
			break;
		default:
			CHECK(!"unknown entry type");
		}
		CHECK(off + 8 <= len);
		off += 8;
	}
	CHECK(off == len);
	return 0;
}

static int check_table(unsigned ncpus)
{
	static uint8_t buf[8192];
	const uint32_t gpa = MOAT_MPTABLE_GPA;
	struct counts c = {0};
	size_t used = 0, len;
	const uint8_t *mpc;

	memset(buf, 0xCC, sizeof(buf));
	CHECK(mptable_write(buf, sizeof(buf), gpa, ncpus, &used) == 0);
	CHECK(used == mptable_size(ncpus) && used <= MOAT_MPTABLE_MAX);
	CHECK(buf[used] == 0xCC);

	CHECK(!memcmp(buf, "_MP_", 4) && buf[8] == 1 && buf[9] == 4);
	CHECK(sum(buf, 16) == 0);
	CHECK(buf[11] == 0 && buf[12] == 0);
	CHECK(le32_get(buf + 4) == gpa + 16);

	mpc = buf + (le32_get(buf + 4) - gpa);
	len = le16_get(mpc + 4);
	CHECK(!memcmp(mpc, "PCMP", 4) && mpc[6] == 4);
	CHECK(16 + len == used);
	CHECK(sum(mpc, len) == 0);
	CHECK(!memcmp(mpc + 8, "MOAT    ", 8));
	CHECK(le32_get(mpc + 36) == 0xFEE00000);
	CHECK(le16_get(mpc + 34) == ncpus + 2 + 1 + 16 + 2);
	CHECK(le16_get(mpc + 40) == 0 && mpc[42] == 0);

	CHECK(walk(mpc, len, ncpus, &c) == 0);
	CHECK(c.cpu == ncpus && c.bsp == 1 && c.bus == 2 && c.ioapic == 1);
	CHECK(c.intsrc == 16 && c.lint == 2);
	return 0;
}

static int test_ncpus(void)
{
	const unsigned extra[] = {MOAT_MAX_CPUS, MPTABLE_MAX_CPUS};

	for (unsigned n = 1; n <= 8; n++)
		CHECK(check_table(n) == 0);
	for (size_t i = 0; i < sizeof(extra) / sizeof(extra[0]); i++)
		CHECK(check_table(extra[i]) == 0);
	return 0;
}

static int test_rejects(void)
{
	static uint8_t buf[8192];
	size_t used = 7;

	CHECK(mptable_size(0) == 0 && mptable_size(MPTABLE_MAX_CPUS + 1) == 0);
	CHECK(mptable_size(1) == 16 + 44 + 20 + 21 * 8);
	CHECK(mptable_write(buf, sizeof(buf), 0xF0000, 0, &used) == -EINVAL);
	CHECK(mptable_write(buf, sizeof(buf), 0xF0000, MPTABLE_MAX_CPUS + 1, &used) == -EINVAL);
	CHECK(mptable_write(buf, sizeof(buf), 0xF0000, 1000, &used) == -EINVAL);
	CHECK(mptable_write(buf, sizeof(buf), 0xF0008, 2, &used) == -EINVAL);
	CHECK(mptable_write(buf, mptable_size(2) - 1, 0xF0000, 2, &used) == -ENOSPC);
	CHECK(mptable_write(buf, sizeof(buf), 0xFFFFFF00, 2, &used) == -ERANGE);
	CHECK(used == 7);
	CHECK(mptable_write(buf, mptable_size(2), 0xFFFFF000, 2, &used) == 0);
	CHECK(mptable_write(buf, mptable_size(2), 0xF0000, 2, &used) == 0);
	return 0;
}

TAP_MAIN(TEST(test_ncpus), TEST(test_rejects))
