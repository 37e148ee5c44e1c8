/* smc-read: read Apple SMC keys from inside the test guest, the way Linux's
 * applesmc driver does (ports 0x300-0x31F), without the driver.
 *
 *   smc-read KEY...     prints "#KEY <count>", then "<KEY> <hex of value>"
 *                       for each KEY (1-4 characters, padded with spaces);
 *                       KEY=HEX writes HEX (1 to 32 bytes) to KEY instead
 *                       and prints "<KEY> written"
 *
 * Exits 1 with one line on stderr when the SMC fails a request (with its
 * result code from port 0x31E) or stops answering, 2 on bad usage. Needs
 * root (ioperm). Built static (gcc -static -O2) so it runs in the
 * busybox initramfs; see tests/guest/meson.build. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/io.h>
#include <unistd.h>

#define SMC_BASE   0x300
#define SMC_DATA   (SMC_BASE + 0x00)
#define SMC_CMD	   (SMC_BASE + 0x04)
#define SMC_RESULT (SMC_BASE + 0x1E)

#define CMD_READ  0x10
#define CMD_WRITE 0x11
#define CMD_INFO 0x13

#define ST_DATA_READY 0x01
#define ST_IB_CLOSED  0x02
#define ST_BUSY	      0x04

#define MAX_DATA 32

static const char *prog = "smc-read";

/* Poll until (status & mask) == val: a few quick polls, then 1 ms sleeps,
 * about half a second in all (the real SMC can take a while). */
static int wait_status(uint8_t val, uint8_t mask)
{
	for (int i = 0; i < 500; i++) {
		if ((inb(SMC_CMD) & mask) == val)
			return 0;
		usleep(i < 20 ? 10 : 1000);
	}
	return -1;
}

static int send_byte(uint8_t b, uint16_t port)
{
	if (wait_status(0, ST_IB_CLOSED) || wait_status(ST_BUSY, ST_BUSY))
		return -1;
	outb(b, port);
	return 0;
}

/* If a previous user left the SMC busy, a read command resets it. */
static int smc_sane(void)
{
	if (!wait_status(0, ST_BUSY))
		return 0;
	if (wait_status(0, ST_IB_CLOSED))
		return -1;
	outb(CMD_READ, SMC_CMD);
	return wait_status(0, ST_BUSY);
}

/* One transaction: command, 4-byte argument, length byte, len reply bytes.
 * Returns 0, or -1 with *result set to the SMC's result code (0 when the
 * SMC just stopped answering). */
static int transact(uint8_t cmd, const char key[4], uint8_t *buf, uint8_t len, uint8_t *result)
{
	int i;

	*result = 0;
	if (smc_sane() || wait_status(0, ST_IB_CLOSED))
		goto fail;
	outb(cmd, SMC_CMD);
	for (i = 0; i < 4; i++)
		if (send_byte((uint8_t)key[i], SMC_DATA))
			goto fail;
	if (send_byte(len, SMC_DATA))
		goto fail;
	for (i = 0; i < len; i++) {
		if (wait_status(ST_DATA_READY | ST_BUSY, ST_DATA_READY | ST_BUSY))
			goto fail;
		buf[i] = inb(SMC_DATA);
	}
	if (wait_status(0, ST_BUSY | ST_DATA_READY))
		goto fail;
	*result = inb(SMC_RESULT);
	return *result ? -1 : 0;
fail:
	*result = inb(SMC_RESULT);
	return -1;
}

static const char *result_name(uint8_t r)
{
	switch (r) {
	case 0x00:
		return "no answer";
	case 0x80:
		return "command collision";
	case 0x81:
		return "spurious data";
	case 0x82:
		return "bad command";
	case 0x84:
		return "key not found";
	case 0x85:
		return "key not readable";
	case 0x86:
		return "key not writable";
	case 0x87:
		return "size mismatch";
	case 0xB8:
		return "index out of range";
	default:
		return "error";
	}
}

/* Read key (4 bytes) into buf; its size comes from the key info. */
static int read_key(const char key[4], uint8_t *buf, uint8_t *len)
{
	uint8_t info[6], r;

	if (transact(CMD_INFO, key, info, sizeof(info), &r)) {
		fprintf(stderr, "%s: %.4s: key info failed: SMC result 0x%02x (%s)\n", prog, key, r,
			result_name(r));
		return -1;
	}
	if (info[0] == 0 || info[0] > MAX_DATA) {
		fprintf(stderr, "%s: %.4s: bad size %u in key info\n", prog, key, info[0]);
		return -1;
	}
	if (transact(CMD_READ, key, buf, info[0], &r)) {
		fprintf(stderr, "%s: %.4s: read failed: SMC result 0x%02x (%s)\n", prog, key, r,
			result_name(r));
		return -1;
	}
	*len = info[0];
	return 0;
}

/* Write len bytes of v to key: command, key, length, then the bytes. */
static int write_key(const char key[4], const uint8_t *v, uint8_t len)
{
	uint8_t r;
	int i;

	if (smc_sane() || wait_status(0, ST_IB_CLOSED))
		goto fail;
	outb(CMD_WRITE, SMC_CMD);
	for (i = 0; i < 4; i++)
		if (send_byte((uint8_t)key[i], SMC_DATA))
			goto fail;
	if (send_byte(len, SMC_DATA))
		goto fail;
	for (i = 0; i < len; i++)
		if (send_byte(v[i], SMC_DATA))
			goto fail;
	if (wait_status(0, ST_BUSY))
		goto fail;
	if ((r = inb(SMC_RESULT)) == 0)
		return 0;
	fprintf(stderr, "%s: %.4s: write failed: SMC result 0x%02x (%s)\n", prog, key, r,
		result_name(r));
	return -1;
fail:
	r = inb(SMC_RESULT);
	fprintf(stderr, "%s: %.4s: write failed: SMC result 0x%02x (%s)\n", prog, key, r,
		result_name(r));
	return -1;
}

/* "07ff" -> {0x07, 0xff}; 1 to MAX_DATA bytes. */
static int hex_arg(const char *hex, uint8_t *v, uint8_t *len)
{
	size_t n = strlen(hex);

	if (n == 0 || n % 2 || n / 2 > MAX_DATA)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned b;
		if (sscanf(hex + 2 * i, "%2x", &b) != 1)
			return -1;
		v[i] = (uint8_t)b;
	}
	*len = (uint8_t)(n / 2);
	return 0;
}

static void print_value(const char key[4], const uint8_t *v, uint8_t len)
{
	printf("%.4s ", key);
	for (uint8_t i = 0; i < len; i++)
		printf("%02x", v[i]);
	putchar('\n');
}

/* "REV" -> "REV ": keys are 4 bytes, short names are padded with spaces;
 * a name ends at '=' (KEY=HEX). */
static int key_arg(const char *arg, char key[4])
{
	size_t n = strcspn(arg, "=");

	if (n == 0 || n > 4)
		return -1;
	for (size_t i = 0; i < 4; i++) {
		char c = i < n ? arg[i] : ' ';

		if (c < 0x20 || c > 0x7E)
			return -1;
		key[i] = c;
	}
	return 0;
}

int main(int argc, char **argv)
{
	uint8_t v[MAX_DATA], len;
	char key[4];

	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fprintf(argc < 2 ? stderr : stdout, "usage: %s KEY|KEY=HEX...\n", prog);
		return argc < 2 ? 2 : 0;
	}
	for (int i = 1; i < argc; i++) {
		const char *eq = strchr(argv[i], '=');
		if (key_arg(argv[i], key) || (eq && hex_arg(eq + 1, v, &len))) {
			fprintf(stderr, "%s: bad key (1-4 printable characters, =HEX to write)\n",
				prog);
			return 2;
		}
	}
	if (ioperm(SMC_BASE, 0x20, 1)) {
		perror("smc-read: ioperm(0x300)");
		return 1;
	}
	if (read_key("#KEY", v, &len))
		return 1;
	if (len != 4) {
		fprintf(stderr, "%s: #KEY has size %u, not 4\n", prog, len);
		return 1;
	}
	printf("#KEY %u\n",
	       (unsigned)v[0] << 24 | (unsigned)v[1] << 16 | (unsigned)v[2] << 8 | v[3]);
	for (int i = 1; i < argc; i++) {
		const char *eq = strchr(argv[i], '=');
		key_arg(argv[i], key);
		if (eq) {
			hex_arg(eq + 1, v, &len);
			if (write_key(key, v, len))
				return 1;
			printf("%.4s written\n", key);
			continue;
		}
		if (read_key(key, v, &len))
			return 1;
		print_value(key, v, len);
	}
	return fflush(stdout) ? 1 : 0;
}
