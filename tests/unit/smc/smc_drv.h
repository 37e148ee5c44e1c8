/* A small SMC driver that follows the byte protocol of Linux 6.1's
 * drivers/hwmon/applesmc.c: which status bits it waits for after each
 * byte, its length bytes, its flush and its recovery (smc_sane), with
 * bounded polls. For the unit tests (test_smc.c) and the fuzzer
 * (fuzz_smc.c), which both check that Linux can still talk to the model.
 * Every function returns 0 or a negative errno. */
#pragma once

#include <errno.h>
#include <stdint.h>

#include "smc_model.h"

/* Poll the status until (status & mask) == val; Linux gives up after 24
 * polls (about 260 ms of sleeps), and so do we. */
static inline int wait_status(struct smc *s, uint8_t val, uint8_t mask)
{
	for (int i = 0; i < 24; i++)
		if ((smc_read(s, SMC_PORT_CMD) & mask) == val)
			return 0;
	return -EIO;
}

static inline int send_byte(struct smc *s, uint8_t b, uint16_t port)
{
	if (wait_status(s, 0, SMC_ST_IB_CLOSED) || wait_status(s, SMC_ST_BUSY, SMC_ST_BUSY))
		return -EIO;
	smc_write(s, port, b);
	return 0;
}

static inline int send_command(struct smc *s, uint8_t cmd)
{
	if (wait_status(s, 0, SMC_ST_IB_CLOSED))
		return -EIO;
	smc_write(s, SMC_PORT_CMD, cmd);
	return 0;
}

/* Linux's recovery: if busy is stuck, a read command must unstick it. */
static inline int smc_sane(struct smc *s)
{
	if (!wait_status(s, 0, SMC_ST_BUSY))
		return 0;
	if (send_command(s, SMC_CMD_READ))
		return -EIO;
	return wait_status(s, 0, SMC_ST_BUSY);
}

static inline int send_argument(struct smc *s, const uint8_t *key)
{
	for (int i = 0; i < 4; i++)
		if (send_byte(s, key[i], SMC_PORT_DATA))
			return -EIO;
	return 0;
}

static inline int read_smc(struct smc *s, uint8_t cmd, const void *key, uint8_t *buf, uint8_t len)
{
	int i;

	if (smc_sane(s) || send_command(s, cmd) || send_argument(s, key))
		return -EIO;
	if (send_byte(s, len, SMC_PORT_DATA))
		return -EIO;
	for (i = 0; i < len; i++) {
		if (wait_status(s, SMC_ST_DATA_READY | SMC_ST_BUSY,
				SMC_ST_DATA_READY | SMC_ST_BUSY))
			return -EIO;
		buf[i] = smc_read(s, SMC_PORT_DATA);
	}
	/* Linux flushes what the SMC still offers; we must offer nothing. */
	for (i = 0; i < 16; i++) {
		if (!(smc_read(s, SMC_PORT_CMD) & SMC_ST_DATA_READY))
			break;
		(void)smc_read(s, SMC_PORT_DATA);
	}
	if (i)
		return -EPROTO;
	return wait_status(s, 0, SMC_ST_BUSY);
}

static inline int write_smc(struct smc *s, const char *key, const uint8_t *buf, uint8_t len)
{
	if (smc_sane(s) || send_command(s, SMC_CMD_WRITE) || send_argument(s, (const uint8_t *)key))
		return -EIO;
	if (send_byte(s, len, SMC_PORT_DATA))
		return -EIO;
	for (int i = 0; i < len; i++)
		if (send_byte(s, buf[i], SMC_PORT_DATA))
			return -EIO;
	return wait_status(s, 0, SMC_ST_BUSY);
}

static inline int read_key(struct smc *s, const char *key, uint8_t *buf, uint8_t len)
{
	return read_smc(s, SMC_CMD_READ, key, buf, len);
}

static inline int key_at(struct smc *s, uint32_t index, char name[5])
{
	uint8_t be[4] = {index >> 24, index >> 16, index >> 8, index};

	name[4] = 0;
	return read_smc(s, SMC_CMD_KEY_AT, be, (uint8_t *)name, 4);
}

static inline int key_info(struct smc *s, const char *key, uint8_t info[SMC_INFO_SIZE])
{
	return read_smc(s, SMC_CMD_KEY_INFO, key, info, SMC_INFO_SIZE);
}
