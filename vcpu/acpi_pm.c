/* The PIIX4's ACPI PM1 registers and PM timer (acpi_pm.h says what the
 * guest sees). Every access takes the lock, brings the timer's status bit
 * up to date, acts, and sets the SCI line to what status and enable now
 * say. */
#include "acpi_pm.h"

#include <string.h>

#define NS_PER_S	1000000000ULL
#define TMR_EPOCH_SHIFT 23 /* TMR_STS: the counter's bit 23 changed */
#define SCI_SOURCES	(ACPI_PM1_PWRBTN | ACPI_PM1_TMR)
#define CNT_KEPT	(ACPI_PM1_SCI_EN | ACPI_PM1_BM_RLD | ACPI_PM1_SLP_TYP_MASK)

void acpi_pm_init(struct acpi_pm *pm, const struct acpi_pm_ops *ops)
{
	memset(pm, 0, sizeof(*pm));
	pthread_mutex_init(&pm->lock, NULL);
	pm->ops = *ops;
	pm->cnt = ACPI_PM1_SCI_EN;
	pm->t0_ns = ops->now_ns(ops->opaque);
}

/* Timer ticks since init, exact and without overflow for any span a
 * 64-bit nanosecond clock can hold (whole seconds and the rest apart). */
static uint64_t ticks(const struct acpi_pm *pm)
{
	uint64_t ns = pm->ops.now_ns(pm->ops.opaque) - pm->t0_ns;

	return ns / NS_PER_S * ACPI_PM_TIMER_HZ + ns % NS_PER_S * ACPI_PM_TIMER_HZ / NS_PER_S;
}

/* Called with the lock held: the timer's value, after setting TMR_STS if
 * bit 23 changed since the block was last looked at. */
static uint32_t timer_update(struct acpi_pm *pm)
{
	uint64_t t = ticks(pm);

	if (t >> TMR_EPOCH_SHIFT != pm->tmr_epoch) {
		pm->tmr_epoch = t >> TMR_EPOCH_SHIFT;
		pm->sts |= ACPI_PM1_TMR;
	}
	return (uint32_t)t & ACPI_PM_TMR_MASK;
}

/* Called with the lock held: the SCI follows status & enable (SCI_EN is
 * always set); the callback sees only changes, in order. */
static void sci_update(struct acpi_pm *pm)
{
	bool level = (pm->sts & pm->en & SCI_SOURCES) != 0;

	if (level != pm->sci_level) {
		pm->sci_level = level;
		pm->ops.sci(pm->ops.opaque, level);
	}
}

static uint8_t read_byte(const struct acpi_pm *pm, unsigned off, uint32_t tmr)
{
	switch (off) {
	case ACPI_PM1_STS_OFF:
	case ACPI_PM1_STS_OFF + 1:
		return (uint8_t)(pm->sts >> 8 * (off & 1));
	case ACPI_PM1_EN_OFF:
	case ACPI_PM1_EN_OFF + 1:
		return (uint8_t)(pm->en >> 8 * (off & 1));
	case ACPI_PM1_CNT_OFF:
	case ACPI_PM1_CNT_OFF + 1:
		return (uint8_t)(pm->cnt >> 8 * (off & 1));
	case ACPI_PM_TMR_OFF:
	case ACPI_PM_TMR_OFF + 1:
	case ACPI_PM_TMR_OFF + 2:
	case ACPI_PM_TMR_OFF + 3:
		return (uint8_t)(tmr >> 8 * (off - ACPI_PM_TMR_OFF));
	default:
		return off < ACPI_PM_BLOCK_LEN ? 0 : 0xff;
	}
}

/* Called with the lock held. The bytes written are gathered per 16-bit
 * register (value and byte mask), so any width at any offset means what
 * the same bytes written one at a time would. */
static void write_regs(struct acpi_pm *pm, unsigned off, const uint8_t *data, unsigned len)
{
	uint16_t v[3] = {0}, m[3] = {0}; /* status, enable, control */

	for (unsigned i = 0; i < len; i++) {
		unsigned o = off + i;
		if (o >= ACPI_PM1_CNT_OFF + 2)
			continue;
		v[o / 2] |= (uint16_t)(data[i] << 8 * (o & 1));
		m[o / 2] |= (uint16_t)(0xff << 8 * (o & 1));
	}
	pm->sts &= (uint16_t) ~(v[0] & m[0]);
	pm->en = (uint16_t)((pm->en & ~m[1]) | (v[1] & m[1] & ACPI_PM1_EN_MASK));
	if (!m[2])
		return;
	pm->cnt = (uint16_t)((((pm->cnt & ~m[2]) | (v[2] & m[2])) & CNT_KEPT) | ACPI_PM1_SCI_EN);
	/* The sleep type is the one this write leaves in the register. */
	if ((v[2] & m[2] & ACPI_PM1_SLP_EN) && (pm->cnt & ACPI_PM1_SLP_TYP_MASK) == 0)
		pm->ops.soft_off(pm->ops.opaque);
}

void acpi_pm_access(struct acpi_pm *pm, unsigned off, uint8_t *data, unsigned len, bool is_write)
{
	uint32_t tmr;

	if (off >= ACPI_PM_BLOCK_LEN || len > ACPI_PM_BLOCK_LEN) {
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	pthread_mutex_lock(&pm->lock);
	tmr = timer_update(pm);
	if (is_write)
		write_regs(pm, off, data, len);
	else
		for (unsigned i = 0; i < len; i++)
			data[i] = read_byte(pm, off + i, tmr);
	sci_update(pm);
	pthread_mutex_unlock(&pm->lock);
}

bool acpi_pm_power_button(struct acpi_pm *pm)
{
	bool listens;

	pthread_mutex_lock(&pm->lock);
	timer_update(pm);
	pm->sts |= ACPI_PM1_PWRBTN;
	listens = (pm->en & ACPI_PM1_PWRBTN) != 0;
	sci_update(pm);
	pthread_mutex_unlock(&pm->lock);
	return listens;
}
