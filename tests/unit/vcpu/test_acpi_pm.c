/* The PIIX4's ACPI PM block on its own, with a fake clock: write-1-to-clear
 * status, the SCI following status & enable, the PM timer's rate and wrap,
 * TMR_STS, soft-off only for SLP_EN with type 0, the power button, and
 * every width, offset and value from a hostile guest. */
#include <stdio.h>
#include <string.h>

#include "acpi_pm.h"
#include "tap.h"

#define NS_PER_S 1000000000ull

static struct {
	uint64_t now;
	int sci, sci_calls, bad_sci, offs;
} env;

static uint64_t fake_now(void *opaque)
{
	(void)opaque;
	return env.now;
}

static void fake_sci(void *opaque, bool level)
{
	(void)opaque;
	if (level == env.sci)
		env.bad_sci++; /* the callback is for changes only */
	env.sci = level;
	env.sci_calls++;
}

static void fake_soft_off(void *opaque)
{
	(void)opaque;
	env.offs++;
}

static struct acpi_pm pm;

static void up(uint64_t now)
{
	const struct acpi_pm_ops ops = {fake_now, fake_sci, fake_soft_off, NULL};

	memset(&env, 0, sizeof(env));
	env.now = now;
	acpi_pm_init(&pm, &ops);
}

static uint32_t rd(unsigned off, unsigned len)
{
	uint32_t v = 0;

	acpi_pm_access(&pm, off, (uint8_t *)&v, len, false);
	return v;
}

static void wr(unsigned off, unsigned len, uint32_t v)
{
	acpi_pm_access(&pm, off, (uint8_t *)&v, len, true);
}

/* The clock at which the timer has counted ticks since init (t0). */
static uint64_t at_ticks(uint64_t t0, uint64_t ticks)
{
	return t0 + (ticks * NS_PER_S + ACPI_PM_TIMER_HZ - 1) / ACPI_PM_TIMER_HZ;
}

static int t_reset_state(void)
{
	up(12345);
	CHECK(rd(ACPI_PM1_STS_OFF, 2) == 0 && rd(ACPI_PM1_EN_OFF, 2) == 0);
	CHECK(rd(ACPI_PM1_CNT_OFF, 2) == ACPI_PM1_SCI_EN);
	CHECK(rd(ACPI_PM_TMR_OFF, 4) == 0);
	for (unsigned off = 0x0c; off < ACPI_PM_BLOCK_LEN; off++)
		CHECK(rd(off, 1) == 0);
	CHECK(rd(0x06, 2) == 0);
	/* a dword at the end of the block: what is past it floats */
	CHECK(rd(ACPI_PM_BLOCK_LEN - 2, 4) == 0xffff0000);
	CHECK(rd(ACPI_PM_BLOCK_LEN, 1) == 0xff);
	CHECK(env.sci_calls == 0 && env.offs == 0);
	return 0;
}

static int t_status_w1c(void)
{
	up(0);
	acpi_pm_power_button(&pm);
	env.now = at_ticks(0, 1u << 23); /* TMR_STS */
	CHECK(rd(ACPI_PM1_STS_OFF, 2) == (ACPI_PM1_PWRBTN | ACPI_PM1_TMR));
	wr(ACPI_PM1_STS_OFF, 2, 0); /* zeros change nothing */
	CHECK(rd(ACPI_PM1_STS_OFF, 2) == (ACPI_PM1_PWRBTN | ACPI_PM1_TMR));
	wr(ACPI_PM1_STS_OFF, 2, ACPI_PM1_TMR);
	CHECK(rd(ACPI_PM1_STS_OFF, 2) == ACPI_PM1_PWRBTN);
	wr(ACPI_PM1_STS_OFF, 1, 0xff); /* the low byte only */
	CHECK(rd(ACPI_PM1_STS_OFF, 2) == ACPI_PM1_PWRBTN);
	wr(ACPI_PM1_STS_OFF + 1, 1, ACPI_PM1_PWRBTN >> 8);
	CHECK(rd(ACPI_PM1_STS_OFF, 2) == 0);
	/* a dword at 0: clears status and writes enable in one go */
	acpi_pm_power_button(&pm);
	wr(ACPI_PM1_STS_OFF, 4, 0xffffu << 16 | 0xffff);
	CHECK(rd(ACPI_PM1_STS_OFF, 2) == 0 && rd(ACPI_PM1_EN_OFF, 2) == ACPI_PM1_EN_MASK);
	return 0;
}

static int t_sci_level(void)
{
	up(0);
	CHECK(!acpi_pm_power_button(&pm) && env.sci_calls == 0);
	wr(ACPI_PM1_EN_OFF, 2, ACPI_PM1_PWRBTN); /* enabling a pending event */
	CHECK(env.sci == 1);
	wr(ACPI_PM1_EN_OFF, 2, 0);
	CHECK(env.sci == 0);
	wr(ACPI_PM1_EN_OFF, 2, ACPI_PM1_PWRBTN | ACPI_PM1_RTC);
	CHECK(env.sci == 1);
	wr(ACPI_PM1_STS_OFF, 2, ACPI_PM1_PWRBTN);
	CHECK(env.sci == 0);
	CHECK(acpi_pm_power_button(&pm) && env.sci == 1);
	CHECK(acpi_pm_power_button(&pm) && env.sci == 1); /* a level, not edges */
	wr(ACPI_PM1_STS_OFF, 2, ACPI_PM1_PWRBTN);
	CHECK(env.sci == 0);
	/* The timer's overflow bit, seen on the next access. */
	wr(ACPI_PM1_EN_OFF, 2, ACPI_PM1_TMR);
	env.now = at_ticks(0, (1u << 23) - 1);
	CHECK(rd(ACPI_PM_TMR_OFF, 4) == (1u << 23) - 1 && env.sci == 0);
	env.now = at_ticks(0, 1u << 23);
	CHECK(rd(ACPI_PM_TMR_OFF, 4) == 1u << 23 && env.sci == 1);
	CHECK(rd(ACPI_PM1_STS_OFF, 2) == ACPI_PM1_TMR);
	wr(ACPI_PM1_STS_OFF, 2, ACPI_PM1_TMR);
	CHECK(env.sci == 0);
	env.now = at_ticks(0, (1u << 24) - 1);
	CHECK(rd(ACPI_PM1_STS_OFF, 2) == 0); /* bit 23 still set: no change */
	env.now = at_ticks(0, 1u << 24);
	CHECK(rd(ACPI_PM1_STS_OFF, 2) == ACPI_PM1_TMR && env.sci == 1);
	CHECK(env.bad_sci == 0);
	return 0;
}

static int t_timer(void)
{
	const uint64_t t0 = (1ull << 62) + 777; /* far into a monotonic clock */

	up(t0);
	env.now = t0 + NS_PER_S;
	CHECK(rd(ACPI_PM_TMR_OFF, 4) == ACPI_PM_TIMER_HZ);
	env.now = t0 + 10 * NS_PER_S;
	CHECK(rd(ACPI_PM_TMR_OFF, 4) == (10 * ACPI_PM_TIMER_HZ) % (1u << 24));
	/* Tick by tick across the wrap. */
	for (uint64_t t = (1u << 24) - 3; t < (1u << 24) + 3; t++) {
		env.now = at_ticks(t0, t);
		CHECK(rd(ACPI_PM_TMR_OFF, 4) == (t & ACPI_PM_TMR_MASK));
		env.now -= 1;
		CHECK(rd(ACPI_PM_TMR_OFF, 4) == ((t - 1) & ACPI_PM_TMR_MASK));
	}
	/* Bytes and words of the same value; the top byte is 0. */
	env.now = t0 + 3 * NS_PER_S + 123456789;
	uint32_t v = rd(ACPI_PM_TMR_OFF, 4);
	CHECK(v ==
	      (uint32_t)((3 * NS_PER_S + 123456789) * ACPI_PM_TIMER_HZ / NS_PER_S) % (1u << 24));
	CHECK(rd(ACPI_PM_TMR_OFF, 2) == (v & 0xffff) && rd(ACPI_PM_TMR_OFF + 2, 2) == v >> 16);
	CHECK(rd(ACPI_PM_TMR_OFF + 3, 1) == 0);
	/* Read-only. */
	wr(ACPI_PM_TMR_OFF, 4, 0);
	CHECK(rd(ACPI_PM_TMR_OFF, 4) == v);
	/* A day later, exactly. */
	env.now = t0 + 86400 * NS_PER_S;
	CHECK(rd(ACPI_PM_TMR_OFF, 4) == (86400 * ACPI_PM_TIMER_HZ) % (1u << 24));
	return 0;
}

static int t_control(void)
{
	up(0);
	/* SCI_EN stays; SLP_EN and GBL_RLS read 0. */
	wr(ACPI_PM1_CNT_OFF, 2, ACPI_PM1_BM_RLD | ACPI_PM1_GBL_RLS);
	CHECK(rd(ACPI_PM1_CNT_OFF, 2) == (ACPI_PM1_SCI_EN | ACPI_PM1_BM_RLD));
	/* Other sleep types: ignored, but the type reads back. */
	for (unsigned typ = 1; typ < 8; typ++) {
		wr(ACPI_PM1_CNT_OFF, 2, typ << ACPI_PM1_SLP_TYP_SHIFT | ACPI_PM1_SLP_EN);
		CHECK(rd(ACPI_PM1_CNT_OFF, 2) == (ACPI_PM1_SCI_EN | typ << ACPI_PM1_SLP_TYP_SHIFT));
	}
	CHECK(env.offs == 0);
	/* The type without SLP_EN: nothing yet. */
	wr(ACPI_PM1_CNT_OFF, 2, 0);
	CHECK(env.offs == 0 && rd(ACPI_PM1_CNT_OFF, 2) == ACPI_PM1_SCI_EN);
	/* The low byte cannot sleep. */
	wr(ACPI_PM1_CNT_OFF, 1, 0xff);
	CHECK(env.offs == 0);
	/* S5: SLP_EN with type 0, a 16-bit write as Linux makes it... */
	wr(ACPI_PM1_CNT_OFF, 2, ACPI_PM1_SLP_EN);
	CHECK(env.offs == 1);
	/* ...or the high byte alone (its SLP_TYP bits are 0). */
	wr(ACPI_PM1_CNT_OFF, 2, 5u << ACPI_PM1_SLP_TYP_SHIFT);
	wr(ACPI_PM1_CNT_OFF + 1, 1, ACPI_PM1_SLP_EN >> 8);
	CHECK(env.offs == 2);
	/* ...or a dword at 4 (with the reserved word above it). */
	wr(ACPI_PM1_CNT_OFF, 4, 0xffff0000u | ACPI_PM1_SLP_EN);
	CHECK(env.offs == 3);
	return 0;
}

static int t_power_button(void)
{
	up(0);
	CHECK(!acpi_pm_power_button(&pm));
	CHECK(rd(ACPI_PM1_STS_OFF, 2) & ACPI_PM1_PWRBTN); /* status either way */
	wr(ACPI_PM1_EN_OFF, 2, 0xffff & ~ACPI_PM1_PWRBTN);
	CHECK(!acpi_pm_power_button(&pm));
	wr(ACPI_PM1_EN_OFF + 1, 1, ACPI_PM1_PWRBTN >> 8);
	CHECK(acpi_pm_power_button(&pm) && env.sci == 1);
	return 0;
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Any width, offset and value; the clock jumping about. After each step:
 * the SCI is exactly status & enable, only changes reached the line,
 * control keeps SCI_EN and never shows SLP_EN, enable only its bits, the
 * timer is the clock's, and soft-off came only from a write with SLP_EN
 * in the control register's high byte. */
static int t_hostile(void)
{
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	const uint64_t t0 = 5 * NS_PER_S;

	up(t0);
	for (int i = 0; i < 100000; i++) {
		uint64_t r = xorshift(&seed);
		unsigned len = 1u << (r % 3), off = (r >> 2) % 72;
		uint32_t v = (uint32_t)(r >> 32);
		int offs = env.offs;
		bool sleeps = false;

		if ((r >> 8) % 64 == 0)
			env.now += (r >> 12) % (3 * NS_PER_S);
		if ((r >> 16) % 4096 == 0)
			off = (unsigned)(r >> 20); /* far off */
		switch ((r >> 28) % 5) {
		case 0:
			acpi_pm_power_button(&pm);
			break;
		case 1:
		case 2:
			for (unsigned b = 0; b < len; b++)
				sleeps |= off + b == ACPI_PM1_CNT_OFF + 1 &&
					  (v >> 8 * b & ACPI_PM1_SLP_EN >> 8);
			wr(off, len, v);
			CHECK(env.offs == offs + (sleeps && !(rd(4, 2) & ACPI_PM1_SLP_TYP_MASK)));
			break;
		default:
			rd(off, len);
		}
		uint32_t sts = rd(ACPI_PM1_STS_OFF, 2), en = rd(ACPI_PM1_EN_OFF, 2);
		uint32_t cnt = rd(ACPI_PM1_CNT_OFF, 2);
		CHECK(env.sci == ((sts & en & (ACPI_PM1_PWRBTN | ACPI_PM1_TMR)) != 0));
		CHECK((cnt & ACPI_PM1_SCI_EN) && !(cnt & (ACPI_PM1_SLP_EN | ACPI_PM1_GBL_RLS)));
		CHECK((en & ~ACPI_PM1_EN_MASK) == 0);
		uint64_t ns = env.now - t0;
		CHECK(rd(ACPI_PM_TMR_OFF, 4) ==
		      (uint32_t)((ns / NS_PER_S * ACPI_PM_TIMER_HZ +
				  ns % NS_PER_S * ACPI_PM_TIMER_HZ / NS_PER_S) &
				 ACPI_PM_TMR_MASK));
		CHECK(env.bad_sci == 0);
	}
	fprintf(stderr, "soft-offs %d, SCI changes %d\n", env.offs, env.sci_calls);
	CHECK(env.offs > 0 && env.sci_calls > 100);
	return 0;
}

TAP_MAIN(TEST(t_reset_state), TEST(t_status_w1c), TEST(t_sci_level), TEST(t_timer), TEST(t_control),
	 TEST(t_power_button), TEST(t_hostile))
