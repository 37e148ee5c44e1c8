/* Unit tests for devproc/smc/smc_model.c. A small driver (smc_drv.h)
 * follows the byte protocol of Linux 6.1's drivers/hwmon/applesmc.c, so
 * "Linux binds" is checked without a guest. Other
 * cases use the older Linux protocol, the Mac OS X style (no length byte
 * for 0x12/0x13), error paths and hostile byte sequences. */
#include <errno.h>
#include <stdint.h>

#include "smc_drv.h"
#include "smc_model.h"
#include "tap.h"

#define DATA   SMC_PORT_DATA
#define CMD    SMC_PORT_CMD
#define RESULT SMC_PORT_RESULT
#define NKEYS  18

static const uint8_t test_osk[SMC_OSK_LEN] =
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ!?";

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int read_count(struct smc *s, uint32_t *n)
{
	uint8_t b[4];

	if (read_key(s, "#KEY", b, 4))
		return -EIO;
	*n = be32(b);
	return 0;
}

/* The idle state every finished transaction must leave. */
static int is_idle(struct smc *s)
{
	return smc_read(s, CMD) == 0;
}

static int setup(struct smc *s)
{
	return smc_init(s, test_osk, NULL);
}

/* ---- what Linux does when it binds ---------------------------------------- */

struct entry {
	char name[5];
	uint8_t info[SMC_INFO_SIZE];
};

/* Binary search for the first index whose name is >= key, through 0x12 and
 * 0x13 as applesmc_get_lower_bound() does; upper: first index > key. */
static int bound(struct smc *s, uint32_t count, const char *key, int upper, uint32_t *out)
{
	uint32_t lo = 0, hi = count;

	while (lo != hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		struct entry e;
		int c;

		if (key_at(s, mid, e.name) || key_info(s, e.name, e.info))
			return -EIO;
		c = strcmp(e.name, key);
		if (upper ? c <= 0 : c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*out = lo;
	return 0;
}

static int has_key(struct smc *s, uint32_t count, const char *key, int *yes)
{
	uint32_t lo, hi;

	if (bound(s, count, key, 0, &lo) || bound(s, count, key, 1, &hi))
		return -EIO;
	*yes = hi - lo == 1;
	return 0;
}

/* applesmc_init_smcreg_try() and applesmc_device_init(), in order. */
static int t_linux_binds(void)
{
	struct smc s;
	uint32_t count, tlo, thi, fnum_at;
	int alv0, alv1, acc, kbd, fnum;
	uint8_t b[2], info[SMC_INFO_SIZE];

	CHECK(setup(&s) == 0);
	CHECK(read_count(&s, &count) == 0 && count == NKEYS);
	CHECK(has_key(&s, count, "FNum", &fnum) == 0 && fnum);
	CHECK(bound(&s, count, "FNum", 0, &fnum_at) == 0);
	CHECK(key_info(&s, "FNum", info) == 0 && info[0] == 1);
	CHECK(read_key(&s, "FNum", b, 1) == 0 && b[0] == 0);
	CHECK(bound(&s, count, "T", 0, &tlo) == 0 && bound(&s, count, "U", 0, &thi) == 0);
	CHECK(thi - tlo == 1);
	CHECK(has_key(&s, count, "ALV0", &alv0) == 0 && !alv0);
	CHECK(has_key(&s, count, "ALV1", &alv1) == 0 && !alv1);
	CHECK(has_key(&s, count, "MOCN", &acc) == 0 && acc);
	CHECK(has_key(&s, count, "LKSB", &kbd) == 0 && !kbd);
	/* The accelerometer start-up: read MOCN, write 0xE000 while zero. */
	CHECK(read_key(&s, "MOCN", b, 2) == 0 && b[0] == 0 && b[1] == 0);
	CHECK(write_smc(&s, "MOCN", (const uint8_t[]){0xE0, 0x00}, 2) == 0);
	CHECK(read_key(&s, "MOCN", b, 2) == 0 && b[0] == 0xE0 && b[1] == 0);
	/* temp1_input: TC0P is sp78 40.0 C */
	CHECK(read_key(&s, "TC0P", b, 2) == 0 && b[0] == 40 && b[1] == 0);
	CHECK(smc_read(&s, RESULT) == SMC_OK && is_idle(&s));
	smc_destroy(&s);
	return 0;
}

/* ---- enumeration and values ----------------------------------------------- */

static int t_enumerate(void)
{
	struct smc s;
	char prev[5] = "";
	uint32_t count;

	CHECK(setup(&s) == 0);
	CHECK(read_count(&s, &count) == 0 && count == smc_key_count(&s));
	for (uint32_t i = 0; i < count; i++) {
		char name[5];
		uint8_t info[SMC_INFO_SIZE], val[SMC_MAX_DATA];

		CHECK(key_at(&s, i, name) == 0);
		CHECK(!strcmp(name, smc_key_name(i)));
		CHECK(i == 0 || memcmp(prev, name, 4) < 0);
		memcpy(prev, name, 5);
		CHECK(key_info(&s, name, info) == 0);
		CHECK(info[0] >= 1 && info[0] <= SMC_MAX_DATA);
		CHECK(info[5] & (SMC_ATTR_READ | SMC_ATTR_WRITE));
		for (int j = 1; j < 5; j++)
			CHECK(info[j] >= 0x20 && info[j] < 0x7F);
		if (info[5] & SMC_ATTR_READ) {
			CHECK(read_key(&s, name, val, info[0]) == 0);
			CHECK(smc_read(&s, RESULT) == SMC_OK);
		} else {
			CHECK(read_key(&s, name, val, info[0]) == -EIO);
			CHECK(smc_read(&s, RESULT) == SMC_ERR_NOT_READABLE && is_idle(&s));
		}
	}
	CHECK(smc_key_name(count) == NULL);
	smc_destroy(&s);
	return 0;
}

static int t_key_info_values(void)
{
	struct smc s;
	uint8_t info[SMC_INFO_SIZE], v[6];

	CHECK(setup(&s) == 0);
	CHECK(key_info(&s, "#KEY", info) == 0);
	CHECK(info[0] == 4 && !memcmp(info + 1, "ui32", 4) && info[5] == SMC_ATTR_READ);
	CHECK(key_info(&s, "OSK0", info) == 0);
	CHECK(info[0] == 32 && !memcmp(info + 1, "ch8*", 4) && info[5] == SMC_ATTR_READ);
	CHECK(key_info(&s, "TC0P", info) == 0 && !memcmp(info + 1, "sp78", 4) && info[0] == 2);
	CHECK(key_info(&s, "NTOK", info) == 0 && info[0] == 1 && (info[5] & SMC_ATTR_WRITE));
	CHECK(key_info(&s, "MSDW", info) == 0 && info[5] == (SMC_ATTR_WRITE | SMC_ATTR_FUNCTION));
	CHECK(key_info(&s, "REV ", info) == 0 && info[0] == 6 && !memcmp(info + 1, "{rev", 4));
	CHECK(read_key(&s, "REV ", v, 6) == 0 && v[0] == 0x01 && v[5] == 0x03);
	CHECK(read_key(&s, "MSSD", v, 1) == 0 && v[0] == 5);
	smc_destroy(&s);
	return 0;
}

static int t_osk(void)
{
	struct smc s;
	uint8_t a[32], b[32];

	CHECK(setup(&s) == 0);
	CHECK(read_key(&s, "OSK0", a, 32) == 0);
	CHECK(read_key(&s, "OSK1", b, 32) == 0);
	CHECK(!memcmp(a, test_osk, 32) && !memcmp(b, test_osk + 32, 32));
	/* read twice: the value is not consumed */
	CHECK(read_key(&s, "OSK1", b, 32) == 0 && !memcmp(b, test_osk + 32, 32));
	smc_destroy(&s);
	return 0;
}

static int t_destroy_wipes(void)
{
	struct smc s;
	const uint8_t *p = (const uint8_t *)&s;
	uint8_t a[8];

	CHECK(setup(&s) == 0);
	/* leave a transaction half-way, with OSK bytes in the reply buffer */
	CHECK(send_command(&s, SMC_CMD_READ) == 0 &&
	      send_argument(&s, (const uint8_t *)"OSK0") == 0);
	CHECK(send_byte(&s, 32, DATA) == 0);
	a[0] = smc_read(&s, DATA);
	CHECK(a[0] == test_osk[0]);
	smc_destroy(&s);
	for (size_t i = 0; i < sizeof(s); i++)
		CHECK(p[i] == 0);
	smc_destroy(NULL);
	return 0;
}

static int t_write_read_back(void)
{
	struct smc s;
	uint8_t v[SMC_MAX_DATA];
	unsigned n = 0;

	CHECK(setup(&s) == 0);
	CHECK(write_smc(&s, "NTOK", (const uint8_t[]){0x01}, 1) == 0);
	CHECK(smc_read(&s, RESULT) == SMC_OK && is_idle(&s));
	CHECK(read_key(&s, "NTOK", v, 1) == 0 && v[0] == 0x01);
	/* every key that is both writable and readable keeps what is written */
	for (unsigned i = 0; i < smc_key_count(&s); i++) {
		const char *k = smc_key_name(i);
		uint8_t info[SMC_INFO_SIZE], pat[SMC_MAX_DATA];

		CHECK(key_info(&s, k, info) == 0);
		if ((info[5] & (SMC_ATTR_READ | SMC_ATTR_WRITE)) !=
		    (SMC_ATTR_READ | SMC_ATTR_WRITE))
			continue;
		for (unsigned j = 0; j < info[0]; j++)
			pat[j] = (uint8_t)(0xA0 + i + j);
		CHECK(write_smc(&s, k, pat, info[0]) == 0);
		CHECK(read_key(&s, k, v, info[0]) == 0 && !memcmp(v, pat, info[0]));
		n++;
	}
	CHECK(n >= 10);
	/* MSDW is write-only: the write works, a read is refused */
	CHECK(write_smc(&s, "MSDW", (const uint8_t[]){1}, 1) == 0);
	CHECK(read_key(&s, "MSDW", v, 1) == -EIO && smc_read(&s, RESULT) == SMC_ERR_NOT_READABLE);
	smc_destroy(&s);
	return 0;
}

/* ---- errors ---------------------------------------------------------------- */

/* After a failed transaction: idle, the code in the result register, and
 * the next transaction works. */
static int failed_with(struct smc *s, uint8_t code)
{
	uint32_t n;

	CHECK(is_idle(s));
	CHECK(smc_read(s, RESULT) == code);
	CHECK(read_count(s, &n) == 0 && n == NKEYS);
	CHECK(smc_read(s, RESULT) == SMC_OK);
	return 0;
}

static int t_errors(void)
{
	struct smc s;
	uint8_t v[SMC_MAX_DATA], info[SMC_INFO_SIZE];
	char name[5];

	CHECK(setup(&s) == 0);
	CHECK(read_key(&s, "XXXX", v, 1) == -EIO && failed_with(&s, SMC_ERR_NOT_FOUND) == 0);
	CHECK(key_info(&s, "xKEY", info) == -EIO && failed_with(&s, SMC_ERR_NOT_FOUND) == 0);
	CHECK(write_smc(&s, "ZZZZ", v, 1) == -EIO && failed_with(&s, SMC_ERR_NOT_FOUND) == 0);
	CHECK(write_smc(&s, "#KEY", v, 4) == -EIO && failed_with(&s, SMC_ERR_NOT_WRITABLE) == 0);
	CHECK(write_smc(&s, "OSK0", v, 32) == -EIO && failed_with(&s, SMC_ERR_NOT_WRITABLE) == 0);
	CHECK(read_key(&s, "MSDW", v, 1) == -EIO && failed_with(&s, SMC_ERR_NOT_READABLE) == 0);
	CHECK(read_key(&s, "#KEY", v, 2) == -EIO && failed_with(&s, SMC_ERR_SIZE) == 0);
	/* a zero length fails too, but a driver only sees that in the result
	 * register: with nothing to transfer the SMC is idle, as on success */
	(void)read_key(&s, "OSK0", v, 0);
	CHECK(failed_with(&s, SMC_ERR_SIZE) == 0);
	CHECK(write_smc(&s, "NTOK", v, 2) == -EIO && failed_with(&s, SMC_ERR_SIZE) == 0);
	CHECK(key_at(&s, NKEYS, name) == -EIO && failed_with(&s, SMC_ERR_INDEX) == 0);
	CHECK(key_at(&s, 0xFFFFFFFF, name) == -EIO && failed_with(&s, SMC_ERR_INDEX) == 0);
	CHECK(key_at(&s, 0x01000000, name) == -EIO && failed_with(&s, SMC_ERR_INDEX) == 0);
	/* unsupported commands answer 0x82 at once and leave the SMC idle */
	{
		const uint8_t bad[] = {0x00, 0x01, 0x0F, 0x14, 0x15, 0x16, 0x20, 0x77, 0xF1, 0xFF};

		for (size_t i = 0; i < sizeof(bad); i++) {
			smc_write(&s, CMD, bad[i]);
			CHECK(failed_with(&s, SMC_ERR_BAD_COMMAND) == 0);
		}
	}
	smc_destroy(&s);
	return 0;
}

/* ---- hostile sequences ----------------------------------------------------- */

static uint32_t rng_state = 0x12345678;

static uint32_t rnd(void)
{
	/* xorshift32: deterministic, good enough to spray bytes */
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

static int status_valid(uint8_t st)
{
	return st == 0x00 || st == 0x0C || st == 0x04 || st == 0x05;
}

static int t_random_bytes(void)
{
	struct smc s;
	uint8_t a[32];
	uint32_t n;

	CHECK(setup(&s) == 0);
	for (int i = 0; i < 100000; i++) {
		uint32_t r = rnd();
		/* mostly the live ports, sometimes anything in or out of range */
		static const uint16_t live[] = {DATA, CMD, RESULT, 0x1F, 0x01, 0x20, 0xFFFF};
		uint16_t off = (r & 0x100) ? live[(r >> 9) % 7] : (uint16_t)((r >> 9) & 0x1F);
		/* commands in range more often, so transactions get far */
		uint8_t v = (r & 0x200000) ? (uint8_t)(0x10 + ((r >> 22) & 3)) : (uint8_t)(r >> 24);

		if (r & 1)
			smc_write(&s, off, v);
		else
			(void)smc_read(&s, off);
		CHECK(status_valid(smc_read(&s, CMD)));
	}
	/* a driver recovers the SMC from whatever state is left */
	CHECK(read_count(&s, &n) == 0 && n == NKEYS);
	CHECK(read_key(&s, "OSK0", a, 32) == 0 && !memcmp(a, test_osk, 32));
	smc_destroy(&s);
	return 0;
}

static int t_data_without_command(void)
{
	struct smc s;
	uint32_t n;

	CHECK(setup(&s) == 0);
	for (int i = 0; i < 300; i++)
		smc_write(&s, DATA, (uint8_t)i);
	CHECK(is_idle(&s) && smc_read(&s, RESULT) == SMC_OK);
	CHECK(read_count(&s, &n) == 0 && n == NKEYS);
	smc_destroy(&s);
	return 0;
}

static int t_read_when_nothing_ready(void)
{
	struct smc s;
	uint32_t n;

	CHECK(setup(&s) == 0);
	for (int i = 0; i < 300; i++)
		CHECK(smc_read(&s, DATA) == 0);
	CHECK(is_idle(&s) && smc_read(&s, RESULT) == SMC_OK);
	/* mid-argument: a read is spurious but does not derail the command */
	smc_write(&s, CMD, SMC_CMD_READ);
	smc_write(&s, DATA, '#');
	CHECK(smc_read(&s, DATA) == 0 && smc_read(&s, RESULT) == SMC_ERR_SPURIOUS);
	CHECK(smc_read(&s, CMD) == SMC_ST_BUSY);
	/* reading past the end of a reply gives nothing either */
	smc_write(&s, CMD, SMC_CMD_READ); /* aborts */
	CHECK(failed_with(&s, SMC_ERR_COLLISION) == 0);
	CHECK(smc_read(&s, DATA) == 0 && is_idle(&s));
	CHECK(read_count(&s, &n) == 0 && n == NKEYS);
	smc_destroy(&s);
	return 0;
}

static int t_huge_lengths(void)
{
	struct smc s;
	const uint8_t lens[] = {0, 5, 33, 64, 127, 128, 200, 255};

	CHECK(setup(&s) == 0);
	for (size_t i = 0; i < sizeof(lens); i++) {
		uint8_t v[255] = {0};

		CHECK(read_smc(&s, SMC_CMD_READ, "OSK0", v, lens[i]) != 0 || lens[i] == 0);
		CHECK(failed_with(&s, SMC_ERR_SIZE) == 0);
		CHECK(write_smc(&s, "NTOK", v, lens[i]) != 0 || lens[i] == 0);
		CHECK(failed_with(&s, SMC_ERR_SIZE) == 0);
	}
	/* 0x12/0x13 ignore their length byte, whatever it says */
	{
		uint8_t info[255];

		CHECK(read_smc(&s, SMC_CMD_KEY_INFO, "NTOK", info, 255) == -EIO);
		CHECK(failed_with(&s, SMC_OK) == 0);
	}
	smc_destroy(&s);
	return 0;
}

static int t_command_mid_transfer(void)
{
	struct smc s;
	uint8_t v[32];

	CHECK(setup(&s) == 0);
	/* mid-reply */
	CHECK(send_command(&s, SMC_CMD_READ) == 0 &&
	      send_argument(&s, (const uint8_t *)"OSK0") == 0);
	CHECK(send_byte(&s, 32, DATA) == 0);
	for (int i = 0; i < 5; i++)
		(void)smc_read(&s, DATA);
	smc_write(&s, CMD, SMC_CMD_KEY_AT);
	CHECK(failed_with(&s, SMC_ERR_COLLISION) == 0);
	/* mid-argument, right after the command, mid-length */
	smc_write(&s, CMD, SMC_CMD_WRITE);
	smc_write(&s, CMD, SMC_CMD_WRITE);
	CHECK(failed_with(&s, SMC_ERR_COLLISION) == 0);
	smc_write(&s, CMD, SMC_CMD_KEY_INFO);
	smc_write(&s, DATA, 'N');
	smc_write(&s, CMD, SMC_CMD_READ);
	CHECK(failed_with(&s, SMC_ERR_COLLISION) == 0);
	/* mid-write: the value must not change */
	CHECK(write_smc(&s, "MOHT", (const uint8_t[]){0x12, 0x34}, 2) == 0);
	CHECK(send_command(&s, SMC_CMD_WRITE) == 0 &&
	      send_argument(&s, (const uint8_t *)"MOHT") == 0);
	CHECK(send_byte(&s, 2, DATA) == 0 && send_byte(&s, 0xFF, DATA) == 0);
	smc_write(&s, CMD, SMC_CMD_WRITE);
	CHECK(failed_with(&s, SMC_ERR_COLLISION) == 0);
	CHECK(read_key(&s, "MOHT", v, 2) == 0 && v[0] == 0x12 && v[1] == 0x34);
	/* a stuck transaction is what Linux's smc_sane() recovers from */
	smc_write(&s, CMD, SMC_CMD_READ);
	CHECK(smc_read(&s, CMD) & SMC_ST_BUSY);
	CHECK(read_key(&s, "OSK1", v, 32) == 0 && !memcmp(v, test_osk + 32, 32));
	smc_destroy(&s);
	return 0;
}

static int t_spurious_in_reply(void)
{
	struct smc s;
	uint8_t v[4];

	CHECK(setup(&s) == 0);
	smc_write(&s, CMD, SMC_CMD_READ);
	for (int i = 0; i < 4; i++)
		smc_write(&s, DATA, (uint8_t) "#KEY"[i]);
	smc_write(&s, DATA, 4);
	CHECK(smc_read(&s, CMD) == 0x05);
	v[0] = smc_read(&s, DATA);
	smc_write(&s, DATA, 0x99); /* nobody asked */
	CHECK(smc_read(&s, RESULT) == SMC_ERR_SPURIOUS && smc_read(&s, CMD) == 0x05);
	for (int i = 1; i < 4; i++)
		v[i] = smc_read(&s, DATA);
	CHECK(be32(v) == NKEYS && is_idle(&s));
	smc_destroy(&s);
	return 0;
}

static int t_other_offsets(void)
{
	struct smc s;
	uint32_t n;

	CHECK(setup(&s) == 0);
	smc_write(&s, CMD, SMC_CMD_READ);
	for (unsigned off = 0; off <= 0x40; off++) {
		if (off == DATA || off == CMD || off == RESULT)
			continue;
		CHECK(smc_read(&s, (uint16_t)off) == 0xFF);
		smc_write(&s, (uint16_t)off, 0x10);
	}
	CHECK(smc_read(&s, 0xFFFF) == 0xFF);
	smc_write(&s, 0xFFFF, 0);
	smc_write(&s, RESULT, 0x55); /* read-only */
	/* none of it touched the transaction in progress */
	CHECK(smc_read(&s, CMD) == 0x0C && smc_read(&s, RESULT) == SMC_OK);
	smc_write(&s, CMD, 0); /* abort */
	CHECK(read_count(&s, &n) == 0 && n == NKEYS);
	smc_destroy(&s);
	return 0;
}

/* ---- other drivers ------------------------------------------------------- */

/* Linux before 5.10: after the command the status must be exactly 0x0C,
 * after each argument byte 0x04, and 0x05 before each reply byte. */
static int t_old_linux_read(void)
{
	struct smc s;
	uint8_t v[32];

	CHECK(setup(&s) == 0);
	smc_write(&s, CMD, SMC_CMD_READ);
	CHECK((smc_read(&s, CMD) & 0x0F) == 0x0C);
	for (int i = 0; i < 4; i++) {
		smc_write(&s, DATA, (uint8_t) "OSK1"[i]);
		CHECK((smc_read(&s, CMD) & 0x0F) == 0x04);
	}
	smc_write(&s, DATA, 32);
	for (int i = 0; i < 32; i++) {
		CHECK((smc_read(&s, CMD) & 0x0F) == 0x05);
		v[i] = smc_read(&s, DATA);
	}
	CHECK(is_idle(&s) && !memcmp(v, test_osk + 32, 32));
	/* and a write */
	smc_write(&s, CMD, SMC_CMD_WRITE);
	CHECK((smc_read(&s, CMD) & 0x0F) == 0x0C);
	for (int i = 0; i < 4; i++) {
		smc_write(&s, DATA, (uint8_t) "NATJ"[i]);
		CHECK((smc_read(&s, CMD) & 0x0F) == 0x04);
	}
	smc_write(&s, DATA, 1);
	CHECK((smc_read(&s, CMD) & 0x0F) == 0x04);
	smc_write(&s, DATA, 7);
	CHECK(is_idle(&s) && smc_read(&s, RESULT) == SMC_OK);
	CHECK(read_key(&s, "NATJ", v, 1) == 0 && v[0] == 7);
	smc_destroy(&s);
	return 0;
}

/* Mac OS X / VirtualSMC style: no length byte after the argument of 0x12
 * and 0x13; the reply is ready after the fourth byte. */
static int t_no_length_byte(void)
{
	struct smc s;
	uint8_t v[SMC_INFO_SIZE];

	CHECK(setup(&s) == 0);
	smc_write(&s, CMD, SMC_CMD_KEY_AT);
	for (int i = 0; i < 3; i++)
		smc_write(&s, DATA, 0);
	smc_write(&s, DATA, 1);
	CHECK(smc_read(&s, CMD) == 0x05);
	for (int i = 0; i < 4; i++)
		v[i] = smc_read(&s, DATA);
	CHECK(!memcmp(v, smc_key_name(1), 4) && is_idle(&s));
	smc_write(&s, CMD, SMC_CMD_KEY_INFO);
	for (int i = 0; i < 4; i++)
		smc_write(&s, DATA, (uint8_t) "OSK0"[i]);
	for (int i = 0; i < SMC_INFO_SIZE; i++) {
		CHECK(smc_read(&s, CMD) == 0x05);
		v[i] = smc_read(&s, DATA);
	}
	CHECK(v[0] == 32 && !memcmp(v + 1, "ch8*", 4) && v[5] == SMC_ATTR_READ && is_idle(&s));
	smc_destroy(&s);
	return 0;
}

static int t_init_args(void)
{
	struct smc s;
	struct smc_options o = {.temp_celsius = 55};
	uint8_t v[2];

	CHECK(smc_init(NULL, test_osk, NULL) == -EINVAL);
	CHECK(smc_init(&s, NULL, NULL) == -EINVAL);
	CHECK(smc_init(&s, test_osk, &o) == 0);
	CHECK(read_key(&s, "TC0P", v, 2) == 0 && v[0] == 55 && v[1] == 0);
	smc_destroy(&s);
	CHECK(smc_key_count(NULL) == 0);
	return 0;
}

TAP_MAIN(TEST(t_linux_binds), TEST(t_enumerate), TEST(t_key_info_values), TEST(t_osk),
	 TEST(t_destroy_wipes), TEST(t_write_read_back), TEST(t_errors), TEST(t_random_bytes),
	 TEST(t_data_without_command), TEST(t_read_when_nothing_ready), TEST(t_huge_lengths),
	 TEST(t_command_mid_transfer), TEST(t_spurious_in_reply), TEST(t_other_offsets),
	 TEST(t_old_linux_read), TEST(t_no_length_byte), TEST(t_init_args))
