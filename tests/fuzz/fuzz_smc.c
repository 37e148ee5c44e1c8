/* libFuzzer target: the SMC state machine (devproc/smc/smc_model.c) under
 * arbitrary guest port I/O. The input is a sequence of 2-byte operations:
 *   byte 0: bits 0-4 offset from 0x300, bit 5 write (else read), bit 6
 *           offset out of range instead (0x20 + bits 0-4), bit 7 ignored
 *   byte 1: the value written (ignored for reads)
 * After every operation the status must be one the protocol defines; after
 * the whole input a Linux-style driver (smc_drv.h) must still read #KEY
 * and the OSK (read-only keys nobody can have changed). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smc_drv.h"
#include "smc_model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t osk[SMC_OSK_LEN] =
    "fuzz-osk-fuzz-osk-fuzz-osk-fuzz-osk-fuzz-osk-fuzz-osk-fuzz-osk-!";

/* Read a key as Linux 6.1 does (smc_drv.h), which must leave the SMC idle
 * with a good result. */
static int read_key_idle(struct smc *s, const char *key, uint8_t *buf, uint8_t len)
{
	if (read_key(s, key, buf, len))
		return -1;
	return smc_read(s, SMC_PORT_CMD) != 0 || smc_read(s, SMC_PORT_RESULT) != SMC_OK ? -1 : 0;
}

static void check_status(uint8_t st)
{
	if (st != 0x00 && st != 0x0C && st != 0x04 && st != 0x05)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smc s;
	uint8_t v[32];

	if (smc_init(&s, osk, NULL))
		abort();
	for (size_t i = 0; i + 1 < size; i += 2) {
		uint16_t off = data[i] & 0x1F;

		if (data[i] & 0x40)
			off += 0x20;
		if (data[i] & 0x20)
			smc_write(&s, off, data[i + 1]);
		else
			(void)smc_read(&s, off);
		check_status(smc_read(&s, SMC_PORT_CMD));
	}
	if (read_key_idle(&s, "#KEY", v, 4) || v[0] || v[1] || v[2] || v[3] != smc_key_count(&s))
		abort();
	if (read_key_idle(&s, "OSK0", v, 32) || memcmp(v, osk, 32))
		abort();
	if (read_key_idle(&s, "OSK1", v, 32) || memcmp(v, osk + 32, 32))
		abort();
	smc_destroy(&s);
	return 0;
}
