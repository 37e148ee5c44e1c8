/* Unit tests for smc_state_save() and smc_state_load() (devproc/smc/
 * smc_model.c): the guest-writable values carried across a restart of the
 * device process. The guest side goes through the ports with the Linux-
 * style driver of smc_drv.h; the saved bytes are treated as what a hostile
 * earlier process could have left: every malformed form must be refused
 * with the model unchanged to the byte. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "smc_drv.h"
#include "smc_model.h"
#include "tap.h"

#define HDR 5 /* an entry's name and size byte */

static const uint8_t test_osk[SMC_OSK_LEN] =
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ!?";

static int setup(struct smc *s)
{
	return smc_init(s, test_osk, NULL);
}

static int is_idle(struct smc *s)
{
	return smc_read(s, SMC_PORT_CMD) == 0 && smc_read(s, SMC_PORT_RESULT) == SMC_OK;
}

/* Key i's size and attributes, asked through the ports (0x13). */
static int info_of(struct smc *s, unsigned i, uint8_t *size, uint8_t *attr)
{
	uint8_t info[SMC_INFO_SIZE];

	if (key_info(s, smc_key_name(i), info))
		return -EIO;
	*size = info[0];
	*attr = info[5];
	return 0;
}

/* The guest writes a pattern, different per key and per seed, into every
 * writable key (MOCN and NATJ get the values Linux and Mac OS X write). */
static int guest_writes(struct smc *s, uint8_t seed)
{
	for (unsigned i = 0; i < smc_key_count(s); i++) {
		const char *k = smc_key_name(i);
		uint8_t size, attr, v[SMC_MAX_DATA];

		if (info_of(s, i, &size, &attr))
			return -EIO;
		if (!(attr & SMC_ATTR_WRITE))
			continue;
		for (unsigned j = 0; j < size; j++)
			v[j] = (uint8_t)(seed + 16 * i + j);
		if (!strcmp(k, "MOCN")) {
			v[0] = 0xE0;
			v[1] = seed;
		} else if (!strcmp(k, "NATJ")) {
			v[0] = 1;
		}
		if (write_smc(s, k, v, size) || !is_idle(s))
			return -EIO;
	}
	return 0;
}

/* A model with the guest's values in it, and its saved state. */
static int saved(struct smc *s, uint8_t *buf, size_t *n)
{
	if (setup(s) || guest_writes(s, 0x40))
		return -EIO;
	*n = smc_state_save(s, buf, SMC_STATE_MAX);
	return *n ? 0 : -EIO;
}

/* ---- what is saved ---------------------------------------------------------- */

static int t_round_trip(void)
{
	struct smc a, b, fresh;
	uint8_t buf[SMC_STATE_MAX], again[SMC_STATE_MAX], v[SMC_MAX_DATA], w[SMC_MAX_DATA];
	size_t n;
	unsigned checked = 0;

	CHECK(saved(&a, buf, &n) == 0);
	CHECK(setup(&b) == 0 && setup(&fresh) == 0);
	CHECK(smc_state_load(&b, buf, n) == 0);
	CHECK(is_idle(&b));
	/* NATJ and MOCN as written, through the ports */
	CHECK(read_key(&b, "NATJ", v, 1) == 0 && v[0] == 1);
	CHECK(read_key(&b, "MOCN", v, 2) == 0 && v[0] == 0xE0 && v[1] == 0x40);
	/* every readable key reads as in the old model: the writable ones as
	 * the guest wrote them, the others as smc_init() made them */
	for (unsigned i = 0; i < smc_key_count(&a); i++) {
		const char *k = smc_key_name(i);
		uint8_t size, attr;

		CHECK(info_of(&a, i, &size, &attr) == 0);
		if (!(attr & SMC_ATTR_READ))
			continue;
		CHECK(read_key(&a, k, v, size) == 0 && read_key(&b, k, w, size) == 0);
		CHECK(!memcmp(v, w, size));
		CHECK(read_key(&fresh, k, w, size) == 0);
		if (attr & SMC_ATTR_WRITE)
			CHECK(memcmp(v, w, size) != 0);
		else
			CHECK(memcmp(v, w, size) == 0);
		checked++;
	}
	CHECK(checked >= 15);
	/* the write-only MSDW too: b saves what a saved */
	CHECK(smc_state_save(&b, again, sizeof(again)) == n && !memcmp(buf, again, n));
	/* and the guest goes on writing */
	CHECK(write_smc(&b, "NATJ", (const uint8_t[]){2}, 1) == 0);
	CHECK(read_key(&b, "NATJ", v, 1) == 0 && v[0] == 2);
	smc_destroy(&a);
	smc_destroy(&b);
	smc_destroy(&fresh);
	return 0;
}

/* The saved bytes, walked as the format says: a version byte, then for each
 * writable key (and no other) its name, size and value, in table order. */
static int t_only_writable_keys(void)
{
	struct smc s;
	uint8_t buf[SMC_STATE_MAX];
	size_t n, pos = 1, want = 1;

	CHECK(saved(&s, buf, &n) == 0);
	for (unsigned i = 0; i < smc_key_count(&s); i++) {
		uint8_t size, attr;

		CHECK(info_of(&s, i, &size, &attr) == 0);
		if (!(attr & SMC_ATTR_WRITE))
			continue;
		want += HDR + size;
		CHECK(pos + HDR <= n);
		CHECK(!memcmp(buf + pos, smc_key_name(i), 4) && buf[pos + 4] == size);
		pos += HDR + size;
	}
	CHECK(pos == n && n == want && n <= SMC_STATE_MAX);
	/* no OSK, not even half of it, and no OSK key name */
	CHECK(!memmem(buf, n, test_osk, 32) && !memmem(buf, n, test_osk + 32, 32));
	CHECK(!memmem(buf, n, "OSK", 3));
	smc_destroy(&s);
	return 0;
}

static int t_save_too_small(void)
{
	struct smc s;
	uint8_t buf[SMC_STATE_MAX], out[SMC_STATE_MAX + 1];
	size_t n;

	CHECK(saved(&s, buf, &n) == 0);
	for (size_t len = 0; len < n; len++) {
		memset(out, 0xAA, sizeof(out));
		CHECK(smc_state_save(&s, out, len) == 0);
		for (size_t i = 0; i < sizeof(out); i++)
			CHECK(out[i] == 0xAA);
	}
	memset(out, 0xAA, sizeof(out));
	CHECK(smc_state_save(&s, out, n) == n && !memcmp(out, buf, n) && out[n] == 0xAA);
	CHECK(smc_state_save(&s, out, sizeof(out)) == n);
	CHECK(smc_state_save(NULL, out, sizeof(out)) == 0);
	CHECK(smc_state_save(&s, NULL, sizeof(out)) == 0);
	smc_destroy(&s);
	return 0;
}

/* ---- what is refused -------------------------------------------------------- */

/* A model to load into: values of its own (another seed) and a write to
 * MOHT half-way, so both values and transaction fields are at stake. */
static int victim(struct smc *s)
{
	if (setup(s) || guest_writes(s, 0x90))
		return -EIO;
	if (send_command(s, SMC_CMD_WRITE) || send_argument(s, (const uint8_t *)"MOHT") ||
	    send_byte(s, 2, SMC_PORT_DATA) || send_byte(s, 0x77, SMC_PORT_DATA))
		return -EIO;
	return 0;
}

/* in must be refused, with s unchanged to the byte. */
static int refused(const uint8_t *in, size_t len)
{
	struct smc s, before;

	CHECK(victim(&s) == 0);
	memcpy(&before, &s, sizeof(s));
	CHECK(smc_state_load(&s, in, len) == -EBADMSG);
	CHECK(!memcmp(&before, &s, sizeof(s)));
	smc_destroy(&s);
	smc_destroy(&before);
	return 0;
}

/* Offset of the entry of key name in a saved state, or 0. */
static size_t entry_at(const uint8_t *buf, size_t n, const char *name)
{
	for (size_t pos = 1; pos + HDR <= n; pos += HDR + buf[pos + 4])
		if (!memcmp(buf + pos, name, 4))
			return pos;
	return 0;
}

static int t_truncated(void)
{
	struct smc s;
	uint8_t buf[SMC_STATE_MAX];
	size_t n;

	CHECK(saved(&s, buf, &n) == 0);
	/* every proper prefix, the bare version byte and whole entries too */
	for (size_t len = 1; len < n; len++)
		CHECK(refused(buf, len) == 0);
	smc_destroy(&s);
	return 0;
}

static int t_trailing_and_version(void)
{
	struct smc s;
	uint8_t buf[SMC_STATE_MAX + 1], bad[SMC_STATE_MAX + 1];
	size_t n;

	CHECK(saved(&s, buf, &n) == 0);
	buf[n] = 0;
	CHECK(refused(buf, n + 1) == 0);
	buf[n] = buf[0];
	CHECK(refused(buf, n + 1) == 0);
	for (unsigned v = 0; v < 256; v++) {
		if (v == buf[0])
			continue;
		memcpy(bad, buf, n);
		bad[0] = (uint8_t)v;
		CHECK(refused(bad, n) == 0);
	}
	smc_destroy(&s);
	return 0;
}

/* Put name (and size) in the place of the entry of key at, keeping the
 * length the same, and expect a refusal. */
static int renamed(const uint8_t *buf, size_t n, const char *at, const char *name)
{
	uint8_t bad[SMC_STATE_MAX];
	size_t pos = entry_at(buf, n, at);

	CHECK(pos != 0);
	memcpy(bad, buf, n);
	memcpy(bad + pos, name, 4);
	return refused(bad, n);
}

/* Insert an entry name/size (value bytes 0x5A) before the entry of key at,
 * or at the end when at is NULL, and expect a refusal. */
static int inserted(const uint8_t *buf, size_t n, const char *at, const char *name, uint8_t size)
{
	uint8_t bad[SMC_STATE_MAX + HDR + 255];
	size_t pos = at ? entry_at(buf, n, at) : n;

	CHECK(pos != 0);
	memcpy(bad, buf, pos);
	memcpy(bad + pos, name, 4);
	bad[pos + 4] = size;
	memset(bad + pos + HDR, 0x5A, size);
	memcpy(bad + pos + HDR + size, buf + pos, n - pos);
	return refused(bad, n + HDR + size);
}

static int t_unknown_key(void)
{
	struct smc s;
	uint8_t buf[SMC_STATE_MAX];
	size_t n;

	CHECK(saved(&s, buf, &n) == 0);
	CHECK(renamed(buf, n, "NATJ", "ZZZZ") == 0);
	CHECK(renamed(buf, n, "NATJ", "natj") == 0);
	CHECK(renamed(buf, n, "NATJ", "\0\0\0\0") == 0);
	CHECK(inserted(buf, n, NULL, "ZZZZ", 1) == 0);
	CHECK(inserted(buf, n, "CLKH", "ALV0", 10) == 0);
	CHECK(inserted(buf, n, "NATJ", "LKSB", 2) == 0);
	smc_destroy(&s);
	return 0;
}

static int t_read_only_key(void)
{
	struct smc s;
	uint8_t buf[SMC_STATE_MAX];
	size_t n;

	CHECK(saved(&s, buf, &n) == 0);
	/* in place of a writable key of the same size */
	CHECK(renamed(buf, n, "MOCN", "TC0P") == 0);
	CHECK(renamed(buf, n, "CLKT", "#KEY") == 0);
	CHECK(renamed(buf, n, "NATJ", "FNum") == 0);
	/* as extra entries, where they sort and at the end */
	CHECK(inserted(buf, n, NULL, "OSK0", 32) == 0);
	CHECK(inserted(buf, n, NULL, "OSK1", 32) == 0);
	CHECK(inserted(buf, n, "CLKH", "#KEY", 4) == 0);
	CHECK(inserted(buf, n, NULL, "TC0P", 2) == 0);
	CHECK(inserted(buf, n, NULL, "REV ", 6) == 0);
	smc_destroy(&s);
	return 0;
}

static int t_wrong_size(void)
{
	struct smc s;
	uint8_t buf[SMC_STATE_MAX], bad[SMC_STATE_MAX + 1];
	size_t n, pos;

	CHECK(saved(&s, buf, &n) == 0);
	pos = entry_at(buf, n, "NATJ");
	CHECK(pos != 0 && buf[pos + 4] == 1);
	/* the size byte alone changed, every other value */
	for (unsigned v = 0; v < 256; v++) {
		if (v == 1)
			continue;
		memcpy(bad, buf, n);
		bad[pos + 4] = (uint8_t)v;
		CHECK(refused(bad, n) == 0);
	}
	/* a 2-byte NATJ whose value really is 2 bytes long */
	memcpy(bad, buf, pos + HDR);
	bad[pos + 4] = 2;
	bad[pos + HDR] = 0;
	memcpy(bad + pos + HDR + 1, buf + pos + HDR, n - pos - HDR);
	CHECK(refused(bad, n + 1) == 0);
	smc_destroy(&s);
	return 0;
}

static int t_duplicate(void)
{
	struct smc s;
	uint8_t buf[SMC_STATE_MAX];
	size_t n;

	CHECK(saved(&s, buf, &n) == 0);
	/* the same length, one key twice and another missing */
	CHECK(renamed(buf, n, "MOHT", "MOCN") == 0);
	CHECK(renamed(buf, n, "NTOK", "NATJ") == 0);
	/* one key twice, nothing missing */
	CHECK(inserted(buf, n, NULL, "NATJ", 1) == 0);
	CHECK(inserted(buf, n, "NATJ", "NATJ", 1) == 0);
	CHECK(inserted(buf, n, "CLKH", "NTOK", 1) == 0);
	smc_destroy(&s);
	return 0;
}

/* ---- what is taken --------------------------------------------------------- */

static int t_empty(void)
{
	struct smc s, before;
	uint8_t buf[1] = {0xFF};

	CHECK(victim(&s) == 0);
	memcpy(&before, &s, sizeof(s));
	CHECK(smc_state_load(&s, buf, 0) == 0);
	CHECK(smc_state_load(&s, NULL, 0) == 0);
	CHECK(!memcmp(&before, &s, sizeof(s)));
	CHECK(smc_state_load(NULL, buf, 0) == -EINVAL);
	CHECK(smc_state_load(&s, NULL, 1) == -EINVAL);
	CHECK(!memcmp(&before, &s, sizeof(s)));
	smc_destroy(&s);
	return 0;
}

/* A load in the middle of a guest's write changes the values only: the
 * write goes on and its value is the last word. */
static int t_load_mid_transaction(void)
{
	struct smc a, s, expect;
	uint8_t buf[SMC_STATE_MAX], v[2];
	size_t n;

	CHECK(saved(&a, buf, &n) == 0);
	CHECK(victim(&s) == 0);
	memcpy(&expect, &s, sizeof(s));
	memcpy(expect.val, a.val, sizeof(expect.val));
	CHECK(smc_state_load(&s, buf, n) == 0);
	CHECK(!memcmp(&expect, &s, sizeof(s)));
	CHECK(send_byte(&s, 0x88, SMC_PORT_DATA) == 0 && wait_status(&s, 0, SMC_ST_BUSY) == 0);
	CHECK(smc_read(&s, SMC_PORT_RESULT) == SMC_OK);
	CHECK(read_key(&s, "MOHT", v, 2) == 0 && v[0] == 0x77 && v[1] == 0x88);
	CHECK(read_key(&s, "NATJ", v, 1) == 0 && v[0] == 1);
	smc_destroy(&a);
	smc_destroy(&s);
	smc_destroy(&expect);
	return 0;
}

TAP_MAIN(TEST(t_round_trip), TEST(t_only_writable_keys), TEST(t_save_too_small),
	 TEST(t_truncated), TEST(t_trailing_and_version), TEST(t_unknown_key),
	 TEST(t_read_only_key), TEST(t_wrong_size), TEST(t_duplicate), TEST(t_empty),
	 TEST(t_load_mid_transaction))
