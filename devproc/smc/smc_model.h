/* Apple System Management Controller (SMC), as the port-I/O device that
 * Mac OS X and Linux's applesmc driver talk to at 0x300-0x31F.
 *
 * Pure state machine: no I/O, no globals, no logging. The device process
 * feeds it the guest's byte accesses (offsets relative to SMC_BASE_PORT;
 * wider accesses are split into bytes by the caller) and returns the bytes
 * it produces. Every byte sequence a guest can write is handled: nothing
 * the guest does can index outside the state, and a command byte always
 * brings the machine back to a known state (see smc_write()).
 *
 * Protocol, one transaction (status = read of offset 0x04):
 *   write command to 0x04            status 0x0C (busy | got command)
 *   write 4 argument bytes to 0x00   status 0x04 after each (busy)
 *     0x10 read key, 0x11 write key:  key name, then a length byte
 *     0x12 key by index:              big-endian index (an optional
 *     0x13 key info:                  key name         length byte after
 *                                                      it is ignored)
 *   read: status 0x05 (busy | data ready) while reply bytes remain;
 *   write: the length byte is followed by that many data bytes;
 *   done: status 0x00 and the result code at 0x1E (SMC_OK or SMC_ERR_*).
 * A failed transaction ends at once with status 0x00 and its error code.
 *
 * The OSK (the 64-byte key Mac OS X checks) is a secret of the host: the
 * model keeps it only in struct smc, never formats it, and smc_destroy()
 * wipes the whole state. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SMC_BASE_PORT 0x300
#define SMC_NR_PORTS  0x20

/* Offsets from SMC_BASE_PORT. */
#define SMC_PORT_DATA	0x00
#define SMC_PORT_CMD	0x04 /* write: command; read: status */
#define SMC_PORT_RESULT 0x1E

/* Commands. */
#define SMC_CMD_READ	 0x10
#define SMC_CMD_WRITE	 0x11
#define SMC_CMD_KEY_AT	 0x12
#define SMC_CMD_KEY_INFO 0x13

/* Status bits. */
#define SMC_ST_DATA_READY 0x01 /* a reply byte waits at the data port */
#define SMC_ST_IB_CLOSED  0x02 /* input not yet consumed (never set here) */
#define SMC_ST_BUSY	  0x04 /* a transaction is in progress */
#define SMC_ST_GOT_CMD	  0x08 /* the last input was a command byte */

/* Result codes, as Apple's SMC reports them. */
#define SMC_OK		     0x00
#define SMC_ERR_COLLISION    0x80 /* command while a transaction was in progress */
#define SMC_ERR_SPURIOUS     0x81 /* data byte the transaction did not expect */
#define SMC_ERR_BAD_COMMAND  0x82
#define SMC_ERR_NOT_FOUND    0x84
#define SMC_ERR_NOT_READABLE 0x85
#define SMC_ERR_NOT_WRITABLE 0x86
#define SMC_ERR_SIZE	     0x87
#define SMC_ERR_INDEX	     0xB8

/* Key attribute bits (byte 5 of the key-info reply). */
#define SMC_ATTR_FUNCTION 0x10
#define SMC_ATTR_WRITE	  0x40
#define SMC_ATTR_READ	  0x80

#define SMC_OSK_LEN   64
#define SMC_MAX_DATA  32 /* longest key value (OSK0/OSK1) */
#define SMC_MAX_KEYS  32 /* room in struct smc; the table has fewer */
#define SMC_INFO_SIZE 6	 /* key-info reply: size, type[4], attributes */

/* What can differ between SMC instances. NULL to smc_init() means all
 * defaults. */
struct smc_options {
	/* Value of the TC0P temperature key in whole degrees Celsius
	 * (0: the default, 40). */
	uint8_t temp_celsius;
};

/* One SMC. Callers allocate it (it is plain data, about 1.2 KiB) and treat
 * the fields as private. */
struct smc {
	uint8_t state;	/* enum smc_state in smc_model.c */
	uint8_t cmd;	/* command of the transaction in progress */
	uint8_t status; /* SMC_ST_* bits */
	uint8_t result; /* SMC_OK or SMC_ERR_* of the last transaction */
	uint8_t narg;	/* argument bytes received (0..4) */
	uint8_t arg[4];
	uint8_t key;	  /* table index of the key being read or written */
	uint8_t len;	  /* bytes of the reply or of the value being written */
	uint8_t pos;	  /* bytes of them transferred so far */
	bool len_byte_ok; /* the ignored length byte of 0x12/0x13 may come */
	uint8_t buf[SMC_MAX_DATA];
	uint8_t nkeys;
	uint8_t val[SMC_MAX_KEYS][SMC_MAX_DATA]; /* current value of each key */
};

/* Set up s with the 64-byte OSK (copied) and options (NULL: defaults).
 * Returns 0, or -EINVAL for a NULL s/osk or a broken built-in key table. */
int smc_init(struct smc *s, const uint8_t osk[SMC_OSK_LEN], const struct smc_options *opt);

/* Wipe s, OSK included (explicit_bzero). s may be NULL. */
void smc_destroy(struct smc *s);

/* A guest's one-byte access at offset (0x00-0x1F from SMC_BASE_PORT).
 * Offsets other than data, command/status and result read 0xFF and ignore
 * writes; so do offsets out of range. */
uint8_t smc_read(struct smc *s, uint16_t offset);
void smc_write(struct smc *s, uint16_t offset, uint8_t val);

/* Number of keys (the value of #KEY), and the name of key i for i below
 * that, in the ascending byte order the guest enumerates them in; NULL
 * when i is out of range. For the device process's start-up report and for
 * tests; the guest sees the same through commands 0x12 and 0x13. */
unsigned smc_key_count(const struct smc *s);
const char *smc_key_name(unsigned i);

/* Bytes smc_state_save() needs at most: a version byte and, for every key
 * struct smc has room for, a 4-byte name, a size byte and the longest
 * value (the table has fewer keys, and fewer writable ones); smc_model.c
 * asserts the bound at compile time. */
#define SMC_STATE_MAX (1 + SMC_MAX_KEYS * (4 + 1 + SMC_MAX_DATA))

/* Restarting the device process without resetting the guest (issue 15):
 * the old process saves the values the guest can change, the new one
 * loads them after smc_init(). The format is private to smc_model.c.
 *
 * Write the values of the guest-writable keys (attribute SMC_ATTR_WRITE)
 * into buf. Never a read-only key: the OSK keys are read-only and never
 * leave struct smc this way. Only values are saved, not a transaction in
 * progress. Returns the bytes written (at most SMC_STATE_MAX), or 0 when
 * len is too small (buf untouched) or s or buf is NULL. */
size_t smc_state_save(const struct smc *s, uint8_t *buf, size_t len);

/* Take back values saved by smc_state_save(), possibly by another, hostile
 * process (buf may be shared memory it still writes: every byte is read
 * once). All or nothing: every writable key of the table must be there
 * once, in table order, under its name, with its size; anything else
 * (truncated, an unknown or read-only key, a wrong size, a duplicate,
 * trailing bytes, a bad version) is refused with -EBADMSG and s is left
 * exactly as it was. Only key values change, never a transaction in
 * progress. len 0 means nothing was saved: valid, nothing changes.
 * Returns 0, -EBADMSG, or -EINVAL for a NULL s (or a NULL buf with len
 * above 0). */
int smc_state_load(struct smc *s, const uint8_t *buf, size_t len);
