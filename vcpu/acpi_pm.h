/* The ACPI power-management registers of the PIIX4 PM function (00:01.3),
 * in the I/O block at its PMBA: PM1a event (status +0, enable +2), PM1a
 * control (+4) and the PM timer (+8, 24 bits at 3.579545 MHz; KVM has no
 * PM timer of its own). The SCI is raised while a status bit and its
 * enable bit are both set; SLP_EN with SLP_TYP 0 (the DSDT's \_S5) is
 * soft-off. The power button is the fixed-feature one (FADT), pressed by
 * the monitor's stop request.
 *
 * Guest-facing: any width, any offset, any value; nothing the guest writes
 * stops the device except the soft-off it asks for. Pure: the clock, the
 * SCI line and soft-off are callbacks, so the unit tests drive it without
 * KVM. Thread-safe (one lock). */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define ACPI_PM_BLOCK_LEN 64 /* PMBA decodes 64 ports */
#define ACPI_PM_TIMER_HZ  3579545ULL
#define ACPI_PM_SCI_IRQ	  9

/* PM1 status/enable bits (ACPI 4.8.3.1). */
#define ACPI_PM1_TMR	(1u << 0)
#define ACPI_PM1_PWRBTN (1u << 8)
#define ACPI_PM1_WAK	(1u << 15)
/* PM1 control bits. */
#define ACPI_PM1_SCI_EN	  (1u << 0)
#define ACPI_PM1_SLP_TYP_SHIFT 10
#define ACPI_PM1_SLP_EN	  (1u << 13)

struct acpi_pm_ops {
	uint64_t (*now_ns)(void *opaque);		/* monotonic */
	void (*sci)(void *opaque, bool level);		/* IRQ 9 */
	void (*soft_off)(void *opaque);			/* S5 */
	void *opaque;
};

struct acpi_pm {
	pthread_mutex_t lock;
	struct acpi_pm_ops ops;
	uint16_t sts, en, cnt;
	bool sci_level;
};

/* Out of reset: SCI_EN set (moat has no SMI_CMD: the FADT's SMI_CMD is 0,
 * so the OS finds the hardware in ACPI mode). */
void acpi_pm_init(struct acpi_pm *pm, const struct acpi_pm_ops *ops);
/* An access at offset off (0 .. ACPI_PM_BLOCK_LEN - 1) of the block. */
void acpi_pm_access(struct acpi_pm *pm, unsigned off, uint8_t *data, unsigned len, bool is_write);
/* Press the power button: PWRBTN_STS, and the SCI if the OS enabled it.
 * Returns whether the OS listens (PWRBTN_EN set): if not, nothing in the
 * guest will act on the press. */
bool acpi_pm_power_button(struct acpi_pm *pm);
