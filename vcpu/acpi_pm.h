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
 * KVM. Thread-safe (one lock). Where the block decodes (the PMBA, the PM
 * function's config space) is the PCI bus's business (vcpu/pci.c). */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define ACPI_PM_BLOCK_LEN 64 /* PMBA decodes 64 ports */
#define ACPI_PM_TIMER_HZ  3579545ULL
#define ACPI_PM_SCI_IRQ	  9

/* Offsets in the block. */
#define ACPI_PM1_STS_OFF 0x00
#define ACPI_PM1_EN_OFF	 0x02
#define ACPI_PM1_CNT_OFF 0x04
#define ACPI_PM_TMR_OFF	 0x08

/* PM1 status/enable bits (ACPI 4.8.3.1). */
#define ACPI_PM1_TMR	(1u << 0)
#define ACPI_PM1_GBL	(1u << 5)
#define ACPI_PM1_PWRBTN (1u << 8)
#define ACPI_PM1_SLPBTN (1u << 9)
#define ACPI_PM1_RTC	(1u << 10)
#define ACPI_PM1_WAK	(1u << 15)
/* The enable bits that exist; the others read 0. */
#define ACPI_PM1_EN_MASK                                                                           \
	(ACPI_PM1_TMR | ACPI_PM1_GBL | ACPI_PM1_PWRBTN | ACPI_PM1_SLPBTN | ACPI_PM1_RTC)
/* PM1 control bits. */
#define ACPI_PM1_SCI_EN	       (1u << 0)
#define ACPI_PM1_BM_RLD	       (1u << 1)
#define ACPI_PM1_GBL_RLS       (1u << 2) /* write-only, reads 0 */
#define ACPI_PM1_SLP_TYP_SHIFT 10
#define ACPI_PM1_SLP_TYP_MASK  (7u << ACPI_PM1_SLP_TYP_SHIFT)
#define ACPI_PM1_SLP_EN	       (1u << 13) /* write-only, reads 0 */
/* The PM timer is 24 bits wide (the FADT's TMR_VAL_EXT is 0). */
#define ACPI_PM_TMR_MASK 0xffffffu

/* Called with the block's lock held: they must not call back into it. */
struct acpi_pm_ops {
	uint64_t (*now_ns)(void *opaque);      /* monotonic */
	void (*sci)(void *opaque, bool level); /* IRQ 9, called on each change */
	void (*soft_off)(void *opaque);	       /* S5 */
	void *opaque;
};

struct acpi_pm {
	pthread_mutex_t lock;
	struct acpi_pm_ops ops;
	uint16_t sts, en, cnt;
	bool sci_level;
	uint64_t t0_ns;	    /* the clock at init: the timer counts from 0 */
	uint64_t tmr_epoch; /* timer ticks >> 23 when last looked at */
};

/* Out of reset: SCI_EN set (moat has no SMI_CMD: the FADT's SMI_CMD is 0,
 * so the OS finds the hardware in ACPI mode, and SCI_EN stays set whatever
 * the OS writes), everything else clear, the timer at 0. */
void acpi_pm_init(struct acpi_pm *pm, const struct acpi_pm_ops *ops);
/* An access at offset off of the block, len 1, 2 or 4 bytes read or
 * written in place. Bytes past ACPI_PM_BLOCK_LEN (an access straddling the
 * block's end) float: they read all ones and their writes are dropped.
 * Registers: status is write-1-to-clear; enable keeps ACPI_PM1_EN_MASK;
 * control keeps BM_RLD and SLP_TYP (SLP_EN with SLP_TYP 0 calls soft_off,
 * other sleep types are ignored); the timer is read-only; the rest of the
 * block reads 0 and ignores writes.
 *
 * TMR_STS (the timer's bit 23 changed) is brought up to date whenever the
 * block is accessed, not by a timer of its own: an OS that enables TMR_EN
 * and waits for the SCI without touching the block waits for ever. No OS
 * moat runs does (Linux leaves TMR_EN clear). */
void acpi_pm_access(struct acpi_pm *pm, unsigned off, uint8_t *data, unsigned len, bool is_write);
/* Press the power button: PWRBTN_STS, and the SCI if the OS enabled it.
 * Returns whether the OS listens (PWRBTN_EN set): if not, nothing in the
 * guest will act on the press. */
bool acpi_pm_power_button(struct acpi_pm *pm);
