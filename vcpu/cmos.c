#include "cmos.h"

#include <string.h>

#define REG_SEC     0x00
#define REG_MIN     0x02
#define REG_HOUR    0x04
#define REG_WDAY    0x06
#define REG_MDAY    0x07
#define REG_MON     0x08
#define REG_YEAR    0x09
#define REG_A       0x0a
#define REG_B       0x0b
#define REG_C       0x0c
#define REG_D       0x0d
#define REG_CENTURY 0x32

static time_t host_now(void)
{
	return time(NULL);
}

void cmos_init(struct cmos *c, cmos_clock_fn now)
{
	memset(c, 0, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
	c->now = now ? now : host_now;
	c->ram[REG_A] = 0x26; /* 32.768 kHz base, 1024 Hz rate, no update in progress */
	c->ram[REG_B] = 0x02; /* 24-hour mode, BCD */
	c->ram[REG_D] = 0x80; /* valid RAM and time */
}

static uint8_t bcd(int v)
{
	return (uint8_t)(((v / 10) % 10) << 4 | (v % 10));
}

static uint8_t clock_reg(struct cmos *c, uint8_t reg)
{
	time_t t = c->now();
	struct tm tm;

	if (!gmtime_r(&t, &tm))
		return 0;
	switch (reg) {
	case REG_SEC:
		return bcd(tm.tm_sec);
	case REG_MIN:
		return bcd(tm.tm_min);
	case REG_HOUR:
		return bcd(tm.tm_hour);
	case REG_WDAY:
		return bcd(tm.tm_wday + 1);
	case REG_MDAY:
		return bcd(tm.tm_mday);
	case REG_MON:
		return bcd(tm.tm_mon + 1);
	case REG_YEAR:
		return bcd(tm.tm_year % 100);
	default: /* REG_CENTURY */
		return bcd((tm.tm_year + 1900) / 100);
	}
}

static bool is_clock_reg(uint8_t reg)
{
	return reg == REG_SEC || reg == REG_MIN || reg == REG_HOUR || reg == REG_WDAY ||
	       reg == REG_MDAY || reg == REG_MON || reg == REG_YEAR || reg == REG_CENTURY;
}

void cmos_io(void *opaque, uint16_t port, uint8_t *data, unsigned len, bool is_write)
{
	struct cmos *c = opaque;

	pthread_mutex_lock(&c->lock);
	if (port == 0x70) {
		/* Bit 7 is the NMI mask, not part of the index. */
		if (is_write)
			c->index = data[0] & 0x7f;
		else
			data[0] = 0xff;
	} else if (is_write) {
		if (!is_clock_reg(c->index) && c->index != REG_C && c->index != REG_D)
			c->ram[c->index] = data[0];
	} else {
		data[0] = is_clock_reg(c->index) ? clock_reg(c, c->index) : c->ram[c->index];
	}
	for (unsigned i = 1; i < len; i++)
		if (!is_write)
			data[i] = 0xff;
	pthread_mutex_unlock(&c->lock);
}
