/* What the monitor takes from a child's messages (monitor/devmsg.c),
 * under a hostile device: terminal escapes, newlines and bytes above
 * 0x7e in a start error; counter names that would forge audit fields;
 * too many counters, NULL entries, a buffer that cannot hold them all. */
#include <string.h>

#include "devmsg.h"
#include "tap.h"

static int test_line(void)
{
	char out[16], wide[64];

	mon_untrusted_line("port\n in use\x1b[2J\xff", wide, sizeof(wide));
	CHECK(strcmp(wide, "port\\x0a in use\\x1b[2J\\xff") == 0);
	mon_untrusted_line("a much longer message than fits", out, sizeof(out));
	CHECK(strlen(out) == sizeof(out) - 1 && strncmp(out, "a much longer m", 15) == 0);
	/* a quoted audit field cannot be closed, an escape is never cut */
	mon_untrusted_line("x\" forged=1 \\", wide, sizeof(wide));
	CHECK(strcmp(wide, "x\\\" forged=1 \\\\") == 0);
	mon_untrusted_line("abcdefghijklm\x1b", out, sizeof(out));
	CHECK(strcmp(out, "abcdefghijklm") == 0);
	mon_untrusted_line(NULL, out, sizeof(out));
	CHECK(out[0] == 0);
	out[0] = 'x';
	mon_untrusted_line("abc", out, 1);
	CHECK(out[0] == 0);
	return 0;
}

static int test_text(void)
{
	char out[64];

	mon_untrusted_text("RIP=1\nRSP=2\x1b]0;pwned\x07\nthird\n", 2, out, sizeof(out));
	CHECK(strcmp(out, "  RIP=1\n  RSP=2\\x1b]0;pwned\\x07\n") == 0);
	mon_untrusted_text("", 4, out, sizeof(out));
	CHECK(out[0] == 0);
	return 0;
}

static int test_counter_names(void)
{
	static char long33[34];

	CHECK(mon_counter_name_ok("tx_dropped_malformed"));
	CHECK(mon_counter_name_ok("a"));
	CHECK(!mon_counter_name_ok(NULL));
	CHECK(!mon_counter_name_ok(""));
	CHECK(!mon_counter_name_ok("x=1 child=smc0"));
	CHECK(!mon_counter_name_ok("Tx"));
	CHECK(!mon_counter_name_ok("tx\n"));
	memset(long33, 'a', 32);
	CHECK(mon_counter_name_ok(long33));
	long33[32] = 'a';
	CHECK(!mon_counter_name_ok(long33));
	return 0;
}

static int test_counters(void)
{
	Moat__Dev__StatsResponse st = MOAT__DEV__STATS_RESPONSE__INIT;
	Moat__Dev__Counter c[40], *cp[40];
	char out[1024], small[20];

	for (unsigned i = 0; i < 40; i++) {
		moat__dev__counter__init(&c[i]);
		c[i].name = "n";
		c[i].value = i;
		cp[i] = &c[i];
	}
	c[1].name = "forged child=vcpu";
	cp[2] = NULL;
	c[3].name = NULL;
	st.counters = cp;
	st.n_counters = 40;
	mon_counters_format(&st, out, sizeof(out));
	/* 16 taken, 3 of them refused */
	CHECK(strcmp(out, " n=0 n=4 n=5 n=6 n=7 n=8 n=9 n=10 n=11 n=12 n=13 n=14 n=15") == 0);
	c[0].name = "rx_frames";
	c[0].value = 18446744073709551615ull;
	mon_counters_format(&st, small, sizeof(small));
	CHECK(strcmp(small, "") == 0); /* " rx_frames=1844..." does not fit whole */
	c[0].value = 7;
	mon_counters_format(&st, small, sizeof(small));
	CHECK(strcmp(small, " rx_frames=7 n=4") == 0);
	st.n_counters = 0;
	mon_counters_format(&st, out, sizeof(out));
	CHECK(out[0] == 0);
	return 0;
}

TAP_MAIN(TEST(test_line), TEST(test_text), TEST(test_counter_names), TEST(test_counters))
