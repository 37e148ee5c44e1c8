/* moat-vcpu's log of the last exits, printed after a VM died: nothing
 * for no exit, the last EXITLOG_LEN in order with their numbers, values
 * cut to their width, string I/O said, and any buffer size honoured
 * (terminated, never overrun). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "exitlog.h"
#include "tap.h"

static int count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static int t_empty(void)
{
	struct exitlog log = {0};
	char buf[64];

	memset(buf, 'x', sizeof(buf));
	exitlog_format(&log, 0, buf, sizeof(buf));
	CHECK(buf[0] == '\0');
	return 0;
}

static int t_order_and_values(void)
{
	struct exitlog log = {0};
	uint8_t b = 0x41;
	uint32_t l = 0x12345678;
	uint64_t q = 0xffffffffffffffffull;
	char buf[1024];

	exitlog_add(&log, EXITLOG_PIO, 0x3f8, &b, 1, 1, true);
	exitlog_add(&log, EXITLOG_MMIO, 0xfebf1000, &l, 4, 1, false);
	exitlog_add(&log, EXITLOG_PIO, 0x1f0, &q, 2, 256, false);
	exitlog_format(&log, 1, buf, sizeof(buf));
	fprintf(stderr, "%s", buf);
	CHECK(count_lines(buf) == 4);
	CHECK(strstr(buf, "vCPU 1's last exits to moat-vcpu (3 in all)"));
	CHECK(strstr(buf, "#1 port write 0x3f8, 1 byte = 0x41\n"));
	CHECK(strstr(buf, "#2 mmio read 0xfebf1000, 4 bytes = 0x12345678\n"));
	/* two bytes of the eight given: the rest never reached the guest */
	CHECK(strstr(buf, "#3 port read 0x1f0, 2 bytes (string I/O) = 0xffff\n"));
	CHECK(strstr(buf, "#1") < strstr(buf, "#2") && strstr(buf, "#2") < strstr(buf, "#3"));
	return 0;
}

static int t_keeps_the_last(void)
{
	struct exitlog log = {0};
	char buf[2048], want[32];

	for (uint32_t i = 1; i <= 1000; i++)
		exitlog_add(&log, EXITLOG_PIO, 0x80, &i, 4, 1, true);
	exitlog_format(&log, 0, buf, sizeof(buf));
	CHECK(count_lines(buf) == 1 + EXITLOG_LEN);
	CHECK(strstr(buf, "(1000 in all)"));
	CHECK(!strstr(buf, "#992 "));
	for (unsigned i = 1000 - EXITLOG_LEN + 1; i <= 1000; i++) {
		snprintf(want, sizeof(want), "#%u port write 0x80", i);
		CHECK(strstr(buf, want));
	}
	/* oldest first */
	CHECK(strstr(buf, "#993 ") < strstr(buf, "#1000 "));
	return 0;
}

/* Every length from 1 up: terminated inside it, nothing written past. */
static int t_small_buffers(void)
{
	struct exitlog log = {0};
	char full[2048], buf[2048 + 16];
	size_t whole;

	for (uint64_t i = 0; i < 20; i++)
		exitlog_add(&log, i % 2 ? EXITLOG_MMIO : EXITLOG_PIO, 0xfee00000 + i, &i, 8, 1,
			    i % 3 == 0);
	exitlog_format(&log, 7, full, sizeof(full));
	whole = strlen(full);
	CHECK(whole > 100 && whole < sizeof(full) - 1);
	for (size_t len = 1; len <= whole + 2; len++) {
		memset(buf, 'Z', sizeof(buf));
		exitlog_format(&log, 7, buf, len);
		CHECK(memchr(buf, '\0', len) != NULL);
		CHECK(buf[len] == 'Z');
		CHECK(strncmp(buf, full, strlen(buf)) == 0);
	}
	exitlog_format(&log, 7, buf, 0); /* no room: nothing, no crash */
	return 0;
}

TAP_MAIN(TEST(t_empty), TEST(t_order_and_values), TEST(t_keeps_the_last), TEST(t_small_buffers))
