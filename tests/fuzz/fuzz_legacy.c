/* libFuzzer target: the legacy devices moat-vcpu serves itself (16550A
 * UART, i8042, CMOS clock) under arbitrary guest port I/O, behind the same
 * iobus dispatch the vCPU threads use. The input is a sequence of 3-byte
 * operations:
 *   byte 0: port (0x3f8-0x3ff, 0x60, 0x64, 0x70, 0x71, or an unclaimed one)
 *   byte 1: bits 0-1 access size (1, 2, 4), bit 2 write, bit 3 hostile
 *           console input instead of an access
 *   byte 2: the value written, or the input byte
 * Invariants: nothing crashes or overruns; an unclaimed port reads all
 * ones; the UART's receive FIFO never holds more than its size; the
 * interrupt line only changes when the UART's state says it should. */
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
				 0x60,  0x64,  0x70,  0x71,  0x80,  0x3f7, 0x400, 0xcf8};

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

static time_t fixed_now(void)
{
	return 1795482245;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct uart u;
	static struct i8042 k;
	static struct cmos c;
	struct iobus bus = {0};

	uart_init(&u, -1, on_irq, NULL);
	i8042_init(&k, on_reset, NULL);
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

		if (data[i + 1] & 8) {
			uart_receive(&u, &data[i + 2], 1);
			if (u.rx_count > UART_RX_FIFO)
				abort();
			continue;
		}
		memset(buf, data[i + 2], sizeof(buf));
		bool claimed = iobus_access(&bus, port, buf, len, is_write);
		if (!claimed && !is_write)
			for (unsigned j = 0; j < len; j++)
				if (buf[j] != 0xff)
					abort();
		if (u.rx_count > UART_RX_FIFO || u.rx_head >= UART_RX_FIFO)
			abort();
	}
	pthread_mutex_destroy(&u.lock);
	pthread_mutex_destroy(&k.lock);
	pthread_mutex_destroy(&c.lock);
	return 0;
}
