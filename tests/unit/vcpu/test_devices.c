/* The legacy devices of moat-vcpu, driven through their port handlers as a
 * guest would, including the probes Linux does and hostile sequences. */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "cmos.h"
#include "i8042.h"
#include "tap.h"
#include "uart.h"

static int irq_level = -1;
static void irq_cb(void *o, bool level)
{
	irq_level = level;
}

static uint8_t in8(void (*fn)(void *, uint16_t, uint8_t *, unsigned, bool), void *dev,
		   uint16_t port)
{
	uint8_t v[4] = {0};
	fn(dev, port, v, 1, false);
	return v[0];
}

static void out8(void (*fn)(void *, uint16_t, uint8_t *, unsigned, bool), void *dev, uint16_t port,
		 uint8_t val)
{
	fn(dev, port, &val, 1, true);
}

#define COM 0x3f8

static int t_uart_linux_probe(void)
{
	struct uart u;

	uart_init(&u, -1, irq_cb, NULL);
	/* Scratch register round trip. */
	out8(uart_io, &u, COM + 7, 0x5a);
	CHECK(in8(uart_io, &u, COM + 7) == 0x5a);
	/* Loopback with RTS|OUT2 must show CTS|DCD: 0x90. */
	out8(uart_io, &u, COM + 4, 0x10 | 0x0a);
	CHECK((in8(uart_io, &u, COM + 6) & 0xf0) == 0x90);
	/* Loopback echo: what is sent is received. */
	out8(uart_io, &u, COM, 'Q');
	CHECK(in8(uart_io, &u, COM + 5) & 0x01);
	CHECK(in8(uart_io, &u, COM) == 'Q');
	out8(uart_io, &u, COM + 4, 0x0b);
	/* FIFO enable is visible in IIR bits 6-7 (a 16550A). */
	out8(uart_io, &u, COM + 2, 0x07);
	CHECK((in8(uart_io, &u, COM + 2) & 0xc0) == 0xc0);
	/* Divisor latch. */
	out8(uart_io, &u, COM + 3, 0x80);
	out8(uart_io, &u, COM, 0x01);
	out8(uart_io, &u, COM + 1, 0x00);
	CHECK(in8(uart_io, &u, COM) == 0x01);
	out8(uart_io, &u, COM + 3, 0x03);
	return 0;
}

static int t_uart_output_and_irqs(void)
{
	struct uart u;
	int p[2];
	char buf[8] = {0};

	CHECK(pipe(p) == 0);
	uart_init(&u, p[1], irq_cb, NULL);
	irq_level = -1;
	out8(uart_io, &u, COM, 'h');
	out8(uart_io, &u, COM, 'i');
	CHECK(read(p[0], buf, sizeof(buf)) == 2 && memcmp(buf, "hi", 2) == 0);
	CHECK(irq_level == -1);		  /* no interrupts enabled: line never moved */
	out8(uart_io, &u, COM + 1, 0x02); /* THRE interrupt: raised at once */
	CHECK(irq_level == 1);
	CHECK((in8(uart_io, &u, COM + 2) & 0x0f) == 0x02);
	CHECK(irq_level == 0);		  /* reading IIR acknowledged it */
	out8(uart_io, &u, COM + 1, 0x01); /* receive interrupts only */
	CHECK(uart_receive(&u, (const uint8_t *)"ab", 2) == 2);
	CHECK(irq_level == 1);
	CHECK((in8(uart_io, &u, COM + 2) & 0x0f) == 0x04);
	CHECK(in8(uart_io, &u, COM) == 'a');
	CHECK(in8(uart_io, &u, COM) == 'b');
	CHECK(irq_level == 0);
	CHECK(!(in8(uart_io, &u, COM + 5) & 0x01));
	return 0;
}

static int t_uart_fifo_full_and_closed_output(void)
{
	struct uart u;
	uint8_t junk[200];
	int p[2];

	CHECK(pipe(p) == 0);
	uart_init(&u, p[1], NULL, NULL);
	memset(junk, 'x', sizeof(junk));
	CHECK(uart_receive(&u, junk, sizeof(junk)) == UART_RX_FIFO);
	CHECK(uart_rx_space(&u) == 0);
	/* A reader that went away must not kill or block the guest. */
	close(p[0]);
	signal(SIGPIPE, SIG_IGN);
	for (int i = 0; i < 10; i++)
		out8(uart_io, &u, COM, 'z');
	/* Wide and odd accesses touch only the low byte. */
	uint8_t wide[4] = {0xff, 0xff, 0xff, 0xff};
	uart_io(&u, COM + 7, wide, 4, false);
	CHECK(wide[1] == 0 && wide[2] == 0 && wide[3] == 0);
	return 0;
}

static int resets;
static void reset_cb(void *o)
{
	resets++;
}

static int kbc_irqs;
static void kbc_irq_cb(void *o, unsigned irq, bool level)
{
	kbc_irqs++;
}

static int t_i8042(void)
{
	struct i8042 k;

	i8042_init(&k, reset_cb, kbc_irq_cb, NULL);
	CHECK((in8(i8042_io, &k, 0x64) & 0x03) == 0); /* nothing pending, ready */
	out8(i8042_io, &k, 0x64, 0xaa);		      /* self test */
	CHECK(in8(i8042_io, &k, 0x64) & 0x01);
	CHECK(in8(i8042_io, &k, 0x60) == 0x55);
	out8(i8042_io, &k, 0x64, 0x60); /* write CTR */
	out8(i8042_io, &k, 0x60, 0x47);
	out8(i8042_io, &k, 0x64, 0x20); /* read CTR */
	CHECK(in8(i8042_io, &k, 0x60) == 0x47);
	out8(i8042_io, &k, 0x64, 0xd3); /* aux loopback */
	out8(i8042_io, &k, 0x60, 0x5a);
	CHECK((in8(i8042_io, &k, 0x64) & 0x21) == 0x21);
	CHECK(in8(i8042_io, &k, 0x60) == 0x5a);
	/* A byte for the keyboard or the mouse: there is none, a NAK at once. */
	out8(i8042_io, &k, 0x60, 0xff); /* keyboard reset */
	CHECK((in8(i8042_io, &k, 0x64) & 0x21) == 0x01);
	CHECK(in8(i8042_io, &k, 0x60) == 0xfe);
	out8(i8042_io, &k, 0x64, 0xd4); /* to the mouse */
	out8(i8042_io, &k, 0x60, 0xf2);
	CHECK((in8(i8042_io, &k, 0x64) & 0x21) == 0x21);
	CHECK(in8(i8042_io, &k, 0x60) == 0xfe);
	/* Hostile noise: every command byte, every data byte. */
	for (int i = 0; i < 256; i++) {
		if (i == 0xfe)
			continue;
		out8(i8042_io, &k, 0x64, i);
		out8(i8042_io, &k, 0x60, i);
		in8(i8042_io, &k, 0x60);
	}
	CHECK(resets == 0);
	CHECK(kbc_irqs == 0); /* no keyboard: never an interrupt */
	out8(i8042_io, &k, 0x64, 0xfe);
	CHECK(resets == 1);
	return 0;
}

static time_t fixed_time(void)
{
	return 1795482245; /* 2026-11-24 01:04:05 UTC, a Tuesday */
}

static int t_cmos(void)
{
	struct cmos c;

	cmos_init(&c, fixed_time);
#define RD(reg) (out8(cmos_io, &c, 0x70, (reg)), in8(cmos_io, &c, 0x71))
	CHECK(RD(0x00) == 0x05);
	CHECK(RD(0x02) == 0x04);
	CHECK(RD(0x04) == 0x01);
	CHECK(RD(0x07) == 0x24);
	CHECK(RD(0x08) == 0x11);
	CHECK(RD(0x09) == 0x26);
	CHECK(RD(0x32) == 0x20);
	CHECK(RD(0x06) == 0x03);
	CHECK((RD(0x0a) & 0x80) == 0); /* never "update in progress" */
	CHECK(RD(0x0b) & 0x02);	       /* 24-hour */
	CHECK(RD(0x8d) == 0x80);       /* NMI-mask bit ignored in the index */
	/* Plain CMOS RAM keeps values; the clock ignores writes. */
	out8(cmos_io, &c, 0x70, 0x40);
	out8(cmos_io, &c, 0x71, 0x99);
	CHECK(RD(0x40) == 0x99);
	out8(cmos_io, &c, 0x70, 0x00);
	out8(cmos_io, &c, 0x71, 0x59);
	CHECK(RD(0x00) == 0x05);
	return 0;
}

TAP_MAIN(TEST(t_uart_linux_probe), TEST(t_uart_output_and_irqs),
	 TEST(t_uart_fifo_full_and_closed_output), TEST(t_i8042), TEST(t_cmos))
