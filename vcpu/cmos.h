/* The CMOS real-time clock (ports 0x70/0x71), read-only wall time from the
 * host clock in BCD, so the guest's date is right without a network. Writes
 * to the clock registers are accepted and ignored (the host keeps time);
 * the rest of CMOS RAM is plain storage. */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

typedef time_t (*cmos_clock_fn)(void);

struct cmos {
	pthread_mutex_t lock;
	uint8_t index;
	uint8_t ram[128];
	cmos_clock_fn now; /* wall clock source, replaceable in tests */
};

void cmos_init(struct cmos *c, cmos_clock_fn now);
void cmos_io(void *opaque, uint16_t port, uint8_t *data, unsigned len, bool is_write);
