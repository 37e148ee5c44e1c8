/* The Apple SMC state machine (see smc_model.h for the protocol).
 *
 * References, read to learn the behaviour (no code taken):
 *  - Linux drivers/hwmon/applesmc.c (6.1): which status bits the driver
 *    waits for after each byte (send_byte waits for busy; read_smc waits for
 *    busy | data ready before each reply byte, then for busy to drop), and
 *    that it sends a length byte after the argument of every command.
 *  - QEMU hw/misc/applesmc.c: status 0x0C after a command, 0x04 after an
 *    argument byte, 0x05 while data is ready, 0x00 when done; the result
 *    register at 0x1E.
 *  - Acidanthera VirtualSMC (kern_pmio.cpp, AppleSmc.h, kern_keystore.cpp):
 *    the result codes, the attribute bits, key types and sizes, and that a
 *    command arriving mid-transaction resets the SMC instead of starting
 *    (Linux's smc_sane() relies on exactly that: it sends a read command to
 *    unstick a busy SMC and then waits for busy to drop). */
#include <errno.h>
#include <string.h>

#include "smc_model.h"

enum smc_state {
	ST_IDLE,  /* no transaction: status 0 */
	ST_ARG,	  /* collecting the 4 argument bytes */
	ST_LEN,	  /* read/write key: waiting for the length byte */
	ST_REPLY, /* reply bytes in buf[pos..len) */
	ST_WDATA, /* write key: collecting len value bytes into buf */
};

/* Where a key's initial value comes from. */
enum key_init {
	INIT_FIXED, /* smc_key.value, or zeros when NULL */
	INIT_COUNT, /* the number of keys, big-endian ui32 */
	INIT_OSK0,  /* OSK bytes 0..31 */
	INIT_OSK1,  /* OSK bytes 32..63 */
	INIT_TEMP,  /* smc_options.temp_celsius as sp78 */
};

struct smc_key {
	char name[5]; /* 4 bytes used; NUL for smc_key_name() */
	char type[5];
	uint8_t size;
	uint8_t attr;
	uint8_t init; /* enum key_init */
	const char *value;
};

#define R SMC_ATTR_READ
#define W SMC_ATTR_WRITE
#define F SMC_ATTR_FUNCTION

/* The keys, sorted by name in byte order: the guest enumerates them by
 * index and Linux binary-searches that enumeration. To add a key, insert
 * it in order (smc_init() refuses an unsorted table). Writable keys keep
 * what the guest writes (in struct smc); nothing else changes a value.
 *
 * Types, sizes and attributes follow VirtualSMC's keystore where it has the
 * key (#KEY, CLKH, CLKT, MSDW, MSSD, MSSP, NATJ, NTOK, REV, OSK*), Linux's
 * applesmc.c for FNum, MOCN (r/w ui16) and TC0P (sp78). Choices of ours:
 *  - NTOK is readable too (VirtualSMC: write-only), so a value written can
 *    be checked; Mac OS X only writes it (1: enable notifications).
 *  - MOHD/MOLD (detect enables, flag) and MOHT/MOLT (thresholds, ui16):
 *    no public reference found; plausible sizes, read/write, zero.
 *  - MSSD/MSSP 5 (si8): VirtualSMC's value, "last shutdown was clean".
 *  - OSK0/OSK1 are listed in the enumeration (VirtualSMC hides them; the
 *    guest may read them either way, that is their purpose).
 *  - FNum 0: no fans, so Linux creates no fan attributes. No LKSB (Linux
 *    would register a keyboard backlight) and no ALV0/ALV1 light sensors.
 *  - CLKH stands in for "CLKL", which no reference knows. */
static const struct smc_key keys[] = {
    {"#KEY", "ui32", 4, R, INIT_COUNT, NULL},
    {"CLKH", "{clh", 8, R | W | F, INIT_FIXED, NULL},
    {"CLKT", "ui32", 4, R | W | F, INIT_FIXED, NULL},
    {"FNum", "ui8 ", 1, R, INIT_FIXED, NULL}, /* no fans; Linux needs the key */
    {"MOCN", "ui16", 2, R | W, INIT_FIXED, NULL},
    {"MOHD", "flag", 1, R | W, INIT_FIXED, NULL},
    {"MOHT", "ui16", 2, R | W, INIT_FIXED, NULL},
    {"MOLD", "flag", 1, R | W, INIT_FIXED, NULL},
    {"MOLT", "ui16", 2, R | W, INIT_FIXED, NULL},
    {"MSDW", "flag", 1, W | F, INIT_FIXED, NULL},	/* write-only, as on Macs */
    {"MSSD", "si8 ", 1, R | W | F, INIT_FIXED, "\x05"}, /* 5: clean shutdown */
    {"MSSP", "si8 ", 1, R | W, INIT_FIXED, "\x05"},
    {"NATJ", "ui8 ", 1, R | W, INIT_FIXED, NULL},
    {"NTOK", "ui8 ", 1, R | W | F, INIT_FIXED, NULL},
    {"OSK0", "ch8*", 32, R, INIT_OSK0, NULL},
    {"OSK1", "ch8*", 32, R, INIT_OSK1, NULL},
    {"REV ", "{rev", 6, R | F, INIT_FIXED, "\x01\x30\x0f\x00\x00\x03"},
    {"TC0P", "sp78", 2, R, INIT_TEMP, NULL},
};

#undef R
#undef W
#undef F

#define NKEYS	     (sizeof(keys) / sizeof(keys[0]))
#define DEFAULT_TEMP 40

_Static_assert(NKEYS <= SMC_MAX_KEYS, "struct smc has no room for every key");
_Static_assert(NKEYS <= 255, "key indices are stored in a byte");

/* The table's promises, checked once at start-up: sorted, strictly, no
 * value larger than the buffers, and the OSK keys read-only (so neither
 * the guest nor smc_state_save() can ever change or export them). */
static int table_ok(void)
{
	for (size_t i = 0; i < NKEYS; i++) {
		if (keys[i].size == 0 || keys[i].size > SMC_MAX_DATA)
			return 0;
		if ((keys[i].init == INIT_OSK0 || keys[i].init == INIT_OSK1) &&
		    (keys[i].attr & SMC_ATTR_WRITE))
			return 0;
		if (i > 0 && memcmp(keys[i - 1].name, keys[i].name, 4) >= 0)
			return 0;
	}
	return 1;
}

/* Index of the key named by the 4 bytes at name, or -1. */
static int find_key(const uint8_t *name)
{
	size_t lo = 0, hi = NKEYS;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = memcmp(keys[mid].name, name, 4);

		if (c == 0)
			return (int)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static void init_value(uint8_t *v, const struct smc_key *k, const uint8_t *osk, uint8_t temp)
{
	switch (k->init) {
	case INIT_COUNT:
		v[0] = v[1] = v[2] = 0;
		v[3] = (uint8_t)NKEYS;
		break;
	case INIT_OSK0:
		memcpy(v, osk, 32);
		break;
	case INIT_OSK1:
		memcpy(v, osk + 32, 32);
		break;
	case INIT_TEMP:
		/* sp78: signed 8.8 fixed point, big-endian */
		v[0] = temp;
		v[1] = 0;
		break;
	default:
		if (k->value)
			memcpy(v, k->value, k->size);
	}
}

int smc_init(struct smc *s, const uint8_t osk[SMC_OSK_LEN], const struct smc_options *opt)
{
	uint8_t temp = DEFAULT_TEMP;

	if (!s || !osk || !table_ok())
		return -EINVAL;
	if (opt && opt->temp_celsius)
		temp = opt->temp_celsius;
	memset(s, 0, sizeof(*s));
	s->state = ST_IDLE;
	s->nkeys = (uint8_t)NKEYS;
	for (size_t i = 0; i < NKEYS; i++)
		init_value(s->val[i], &keys[i], osk, temp);
	return 0;
}

void smc_destroy(struct smc *s)
{
	if (s)
		explicit_bzero(s, sizeof(*s));
}

unsigned smc_key_count(const struct smc *s)
{
	return s ? s->nkeys : 0;
}

const char *smc_key_name(unsigned i)
{
	return i < NKEYS ? keys[i].name : NULL;
}

/* End the transaction: idle, not busy, result recorded. The buffer may
 * have held OSK bytes, so it does not outlive the transaction. */
static void finish(struct smc *s, uint8_t result)
{
	s->state = ST_IDLE;
	s->status = 0;
	s->result = result;
	s->narg = 0;
	s->len = 0;
	s->pos = 0;
	s->len_byte_ok = false;
	explicit_bzero(s->buf, sizeof(s->buf));
}

static void start_reply(struct smc *s, uint8_t len)
{
	s->state = ST_REPLY;
	s->len = len;
	s->pos = 0;
	s->status = SMC_ST_BUSY | SMC_ST_DATA_READY;
	/* Linux sends a length byte after the argument of 0x12 and 0x13 too;
	 * Mac OS X and VirtualSMC do not. Accept one before the first read. */
	s->len_byte_ok = s->cmd == SMC_CMD_KEY_AT || s->cmd == SMC_CMD_KEY_INFO;
}

static void key_at(struct smc *s)
{
	uint32_t idx = (uint32_t)s->arg[0] << 24 | (uint32_t)s->arg[1] << 16 |
		       (uint32_t)s->arg[2] << 8 | s->arg[3];

	if (idx >= NKEYS) {
		finish(s, SMC_ERR_INDEX);
		return;
	}
	memcpy(s->buf, keys[idx].name, 4);
	start_reply(s, 4);
}

static void key_info(struct smc *s)
{
	int k = find_key(s->arg);

	if (k < 0) {
		finish(s, SMC_ERR_NOT_FOUND);
		return;
	}
	s->buf[0] = keys[k].size;
	memcpy(s->buf + 1, keys[k].type, 4);
	s->buf[5] = keys[k].attr;
	start_reply(s, SMC_INFO_SIZE);
}

/* The length byte of a read or write: everything about the request is
 * known now, so check it all and either fail or go on. The length must
 * match the key's size exactly (Linux always sends the size it learnt
 * from the key info). */
static void got_length(struct smc *s, uint8_t len)
{
	int k = find_key(s->arg);
	uint8_t need = s->cmd == SMC_CMD_READ ? SMC_ATTR_READ : SMC_ATTR_WRITE;

	if (k < 0) {
		finish(s, SMC_ERR_NOT_FOUND);
		return;
	}
	if (!(keys[k].attr & need)) {
		finish(s, need == SMC_ATTR_READ ? SMC_ERR_NOT_READABLE : SMC_ERR_NOT_WRITABLE);
		return;
	}
	if (len != keys[k].size) {
		finish(s, SMC_ERR_SIZE);
		return;
	}
	s->key = (uint8_t)k;
	if (s->cmd == SMC_CMD_READ) {
		memcpy(s->buf, s->val[k], len);
		start_reply(s, len);
		return;
	}
	s->state = ST_WDATA;
	s->len = len;
	s->pos = 0;
	s->status = SMC_ST_BUSY;
}

static void got_argument(struct smc *s)
{
	switch (s->cmd) {
	case SMC_CMD_KEY_AT:
		key_at(s);
		break;
	case SMC_CMD_KEY_INFO:
		key_info(s);
		break;
	default: /* read and write: the length byte comes next */
		s->state = ST_LEN;
	}
}

/* A command byte. While a transaction is in progress it only aborts it:
 * the SMC goes idle (busy drops) and the command is not started, so that
 * a driver's "send a command, wait for busy to clear" recovery works and
 * the next command starts from a clean state. */
static void write_command(struct smc *s, uint8_t cmd)
{
	if (s->state != ST_IDLE) {
		finish(s, SMC_ERR_COLLISION);
		return;
	}
	switch (cmd) {
	case SMC_CMD_READ:
	case SMC_CMD_WRITE:
	case SMC_CMD_KEY_AT:
	case SMC_CMD_KEY_INFO:
		s->cmd = cmd;
		s->state = ST_ARG;
		s->narg = 0;
		s->result = SMC_OK;
		s->status = SMC_ST_BUSY | SMC_ST_GOT_CMD;
		return;
	}
	finish(s, SMC_ERR_BAD_COMMAND);
}

/* A byte at the data port. Bounds: narg < 4 in ST_ARG and pos < len <=
 * SMC_MAX_DATA in ST_WDATA hold because each state is left as soon as its
 * count is reached. Bytes nobody expects are dropped; during a
 * transaction they are reported as SMC_ERR_SPURIOUS. */
static void write_data(struct smc *s, uint8_t v)
{
	switch (s->state) {
	case ST_ARG:
		s->status = SMC_ST_BUSY;
		s->arg[s->narg++] = v;
		if (s->narg == 4)
			got_argument(s);
		break;
	case ST_LEN:
		s->status = SMC_ST_BUSY;
		got_length(s, v);
		break;
	case ST_WDATA:
		s->buf[s->pos++] = v;
		if (s->pos == s->len) {
			memcpy(s->val[s->key], s->buf, s->len);
			finish(s, SMC_OK);
		}
		break;
	case ST_REPLY:
		if (s->len_byte_ok && s->pos == 0) {
			s->len_byte_ok = false;
			s->status &= (uint8_t)~SMC_ST_GOT_CMD;
			break;
		}
		s->result = SMC_ERR_SPURIOUS;
		break;
	default: /* idle */
		break;
	}
}

static uint8_t read_data(struct smc *s)
{
	uint8_t v;

	if (s->state != ST_REPLY) {
		if (s->state != ST_IDLE)
			s->result = SMC_ERR_SPURIOUS;
		return 0;
	}
	v = s->buf[s->pos++];
	s->len_byte_ok = false;
	s->status = SMC_ST_BUSY | SMC_ST_DATA_READY;
	if (s->pos == s->len)
		finish(s, s->result);
	return v;
}

uint8_t smc_read(struct smc *s, uint16_t offset)
{
	switch (offset) {
	case SMC_PORT_DATA:
		return read_data(s);
	case SMC_PORT_CMD:
		return s->status;
	case SMC_PORT_RESULT:
		return s->result;
	default:
		return 0xFF;
	}
}

void smc_write(struct smc *s, uint16_t offset, uint8_t val)
{
	switch (offset) {
	case SMC_PORT_DATA:
		write_data(s, val);
		break;
	case SMC_PORT_CMD:
		write_command(s, val);
		break;
	default: /* the result register is read-only */
		break;
	}
}

/* ---- the guest's values across a restart (issue 15) ---------------------
 *
 * Saved state, version 1:
 *   byte 0            STATE_VERSION
 *   then, for every writable key (SMC_ATTR_WRITE), in table order:
 *     4 bytes         the key's name
 *     1 byte          its size
 *     size bytes      its value, as the guest reads it
 * Nothing else: no read-only key, no transaction state. The layout follows
 * from the table alone, so there is exactly one valid layout and length;
 * a load checks the length, the version and each name and size against
 * the table, and takes the values only when all of them match. The names
 * and sizes are there so that state saved by a build with another table
 * is refused rather than misread; bump STATE_VERSION when the meaning of
 * a saved value changes. */
#define STATE_VERSION 1
#define ENTRY_HDR     5 /* name, size */

_Static_assert(SMC_STATE_MAX >= 1 + NKEYS * (ENTRY_HDR + SMC_MAX_DATA),
	       "SMC_STATE_MAX cannot hold every key at its largest");

/* Bytes of the saved state of this table (at most SMC_STATE_MAX: each
 * size is at most SMC_MAX_DATA, see table_ok()). */
static size_t state_len(void)
{
	size_t n = 1;

	for (size_t i = 0; i < NKEYS; i++)
		if (keys[i].attr & SMC_ATTR_WRITE)
			n += ENTRY_HDR + keys[i].size;
	return n;
}

size_t smc_state_save(const struct smc *s, uint8_t *buf, size_t len)
{
	size_t pos = 1;

	if (!s || !buf || len < state_len())
		return 0;
	buf[0] = STATE_VERSION;
	for (size_t i = 0; i < NKEYS; i++) {
		if (!(keys[i].attr & SMC_ATTR_WRITE))
			continue;
		memcpy(buf + pos, keys[i].name, 4);
		buf[pos + 4] = keys[i].size;
		memcpy(buf + pos + ENTRY_HDR, s->val[i], keys[i].size);
		pos += ENTRY_HDR + keys[i].size;
	}
	return pos;
}

/* The writer may still be changing buf (shared memory), so its bytes are
 * copied once and only the copy is checked and used. Every check comes
 * before the first value is stored: a refused load changes nothing. Only
 * s->val is written, so a transaction in progress goes on undisturbed (a
 * reply already in s->buf keeps the value it was started with). */
int smc_state_load(struct smc *s, const uint8_t *buf, size_t len)
{
	uint8_t copy[SMC_STATE_MAX];
	size_t n = state_len(), pos = 1;

	if (!s || (!buf && len))
		return -EINVAL;
	if (len == 0)
		return 0;
	if (len != n) /* truncated, or trailing bytes */
		return -EBADMSG;
	memcpy(copy, buf, n);
	if (copy[0] != STATE_VERSION)
		return -EBADMSG;
	for (size_t i = 0; i < NKEYS; i++) {
		if (!(keys[i].attr & SMC_ATTR_WRITE))
			continue;
		/* an unknown, read-only or repeated key, or a wrong size */
		if (memcmp(copy + pos, keys[i].name, 4) || copy[pos + 4] != keys[i].size)
			return -EBADMSG;
		pos += ENTRY_HDR + keys[i].size;
	}
	pos = 1;
	for (size_t i = 0; i < NKEYS; i++) {
		if (!(keys[i].attr & SMC_ATTR_WRITE))
			continue;
		memcpy(s->val[i], copy + pos + ENTRY_HDR, keys[i].size);
		pos += ENTRY_HDR + keys[i].size;
	}
	return 0;
}
