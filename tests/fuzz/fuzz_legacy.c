/* libFuzzer target: the legacy devices moat-vcpu serves itself (16550A
 * UART, i8042 and its keyboard, CMOS clock) under arbitrary guest port I/O,
 * behind the same iobus dispatch the vCPU threads use, and arbitrary key
 * input from moat-display. The input is a sequence of 3-byte operations:
 *   byte 0: port (0x3f8-0x3ff, 0x60, 0x64, 0x70, 0x71, or an unclaimed one)
 *   byte 1: bits 0-1 access size (1, 2, 4), bit 2 write, bits 3-4 what:
 *           0 an access, 1 hostile console input, 2 key input: 1 + bits
 *           5-7 bytes from byte 2 on (the following operations' bytes),
 *           or, with bits 5-7 all set, a huge input; 3 attach the keyboard
 *   byte 2: the value written, or the first input byte
 * Invariants: nothing crashes or overruns; an unclaimed port reads all
 * ones; the UART's receive FIFO never holds more than its size; the
 * interrupt line only changes when the UART's state says it should; the
 * keyboard's queue stays in its bounds; IRQ 1 comes only with a keyboard,
 * as edges (1 then 0), never with the i8042's lock held. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmos.h"
#include "i8042.h"
#include "iobus.h"
#include "uart.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint16_t ports[] = {0x3f8, 0x3f9, 0x3fa, 0x3fb, 0x3fc, 0x3fd, 0x3fe, 0x3ff,
				 0x60,	0x64,  0x70,  0x71,  0x80,  0x3f7, 0x400, 0xcf8};

static struct i8042 k;
static int kbc_level;
static int resets;
static void on_reset(void *o)
{
	resets++;
}

static void on_irq(void *o, bool level)
{
	(void)o;
	(void)level;
}

/* IRQ 1 only, alternating 1 and 0, with a keyboard, outside the lock. */
static void on_kbc_irq(void *o, unsigned irq, bool level)
{
	(void)o;
	if (irq != I8042_KBD_IRQ || !k.kbd.present || level == kbc_level)
		abort();
	if (pthread_mutex_trylock(&k.lock) != 0)
		abort();
	pthread_mutex_unlock(&k.lock);
	kbc_level = level;
}

static time_t fixed_now(void)
{
	return 1795482245;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct uart u;
	static struct cmos c;
	static uint8_t huge[1 << 16];
	struct iobus bus = {0};

	uart_init(&u, -1, on_irq, NULL);
	i8042_init(&k, on_reset, on_kbc_irq, NULL);
	kbc_level = 0;
	cmos_init(&c, fixed_now);
	if (iobus_register(&bus, UART_COM1_BASE, 8, uart_io, &u, "com1") ||
	    iobus_register(&bus, 0x60, 1, i8042_io, &k, "kbd-data") ||
	    iobus_register(&bus, 0x64, 1, i8042_io, &k, "kbd-cmd") ||
	    iobus_register(&bus, 0x70, 2, cmos_io, &c, "cmos"))
		abort();
	for (size_t i = 0; i + 3 <= size; i += 3) {
		uint16_t port = ports[data[i] % (sizeof(ports) / sizeof(ports[0]))];
		unsigned len = 1u << (data[i + 1] & 3) % 3;
		bool is_write = data[i + 1] & 4;
		uint8_t buf[4];

		switch ((data[i + 1] >> 3) & 3) {
		case 1:
			uart_receive(&u, &data[i + 2], 1);
			if (u.rx_count > UART_RX_FIFO)
				abort();
			continue;
		case 2: {
			size_t n = 1 + (data[i + 1] >> 5);

			if (n == 8)
				i8042_kbd_input(&k, huge, sizeof(huge));
			else
				i8042_kbd_input(&k, &data[i + 2],
						n < size - i - 2 ? n : size - i - 2);
			if (k.kbd.count > I8042_KBD_QUEUE || k.kbd.head >= I8042_KBD_QUEUE)
				abort();
			continue;
		}
		case 3:
			i8042_attach_keyboard(&k);
			continue;
		default:
			break;
		}
		memset(buf, data[i + 2], sizeof(buf));
		bool claimed = iobus_access(&bus, port, buf, len, is_write);
		if (!claimed && !is_write)
			for (unsigned j = 0; j < len; j++)
				if (buf[j] != 0xff)
					abort();
		if (u.rx_count > UART_RX_FIFO || u.rx_head >= UART_RX_FIFO)
			abort();
		if (k.kbd.count > I8042_KBD_QUEUE || k.kbd.head >= I8042_KBD_QUEUE ||
		    kbc_level != 0)
			abort();
	}
	pthread_mutex_destroy(&u.lock);
	pthread_mutex_destroy(&k.lock);
	pthread_mutex_destroy(&c.lock);
	return 0;
}
