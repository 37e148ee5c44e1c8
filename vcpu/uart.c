#include "uart.h"

#include <string.h>
#include <unistd.h>

#include "fdutil.h"

/* Register offsets and bits (the 8250/16550 family). */
enum { R_DATA, R_IER, R_IIR_FCR, R_LCR, R_MCR, R_LSR, R_MSR, R_SCR };
#define IER_RDI     0x01
#define IER_THRI    0x02
#define IIR_NO_INT  0x01
#define IIR_THRI    0x02
#define IIR_RDI     0x04
#define IIR_FIFO_ON 0xc0
#define LCR_DLAB    0x80
#define LSR_DR      0x01
#define LSR_THRE    0x20
#define LSR_TEMT    0x40
#define MCR_LOOP    0x10
#define FCR_ENABLE  0x01
#define FCR_CLR_RX  0x02

void uart_init(struct uart *u, int out_fd, uart_irq_fn set_irq, void *opaque)
{
	memset(u, 0, sizeof(*u));
	pthread_mutex_init(&u->lock, NULL);
	u->out_fd = out_fd;
	u->set_irq = set_irq;
	u->irq_opaque = opaque;
	u->mcr = 0x08; /* OUT2, as firmware leaves it */
	u->dll = 12;   /* 9600 baud, irrelevant but plausible */
}

/* Recompute the interrupt identification and drive the line; called with
 * the lock held after every state change. */
static uint8_t uart_iir(const struct uart *u)
{
	uint8_t fifo = (u->fcr & FCR_ENABLE) ? IIR_FIFO_ON : 0;

	if ((u->ier & IER_RDI) && u->rx_count)
		return fifo | IIR_RDI;
	if ((u->ier & IER_THRI) && u->thr_empty_pending)
		return fifo | IIR_THRI;
	return fifo | IIR_NO_INT;
}

static void uart_update_irq(struct uart *u)
{
	bool level = !(uart_iir(u) & IIR_NO_INT);

	if (level != u->irq_level) {
		u->irq_level = level;
		if (u->set_irq)
			u->set_irq(u->irq_opaque, level);
	}
}

static uint8_t uart_rx_pop(struct uart *u)
{
	uint8_t c;

	if (!u->rx_count)
		return 0;
	c = u->rx[u->rx_head];
	u->rx_head = (u->rx_head + 1) % UART_RX_FIFO;
	u->rx_count--;
	return c;
}

static void uart_transmit(struct uart *u, uint8_t c)
{
	if (u->mcr & MCR_LOOP) {
		/* Loopback: what is sent comes straight back in. */
		if (u->rx_count < UART_RX_FIFO) {
			u->rx[(u->rx_head + u->rx_count) % UART_RX_FIFO] = c;
			u->rx_count++;
		}
	} else if (u->out_fd >= 0) {
		/* A console whose reader has gone away must not stop the guest. */
		if (fd_write_full(u->out_fd, &c, 1) < 0)
			u->out_fd = -1;
	}
	u->thr_empty_pending = true;
}

/* The modem status register; in loopback it mirrors the modem controls,
 * which is what Linux's 8250 probe checks (MCR 0x0A must read back 0x90). */
static uint8_t uart_msr(const struct uart *u)
{
	if (u->mcr & MCR_LOOP)
		return ((u->mcr & 0x02) << 3) | ((u->mcr & 0x01) << 5) | ((u->mcr & 0x04) << 4) |
		       ((u->mcr & 0x08) << 4);
	return 0xb0; /* DCD, DSR, CTS: a cable is attached */
}

static uint8_t uart_read(struct uart *u, unsigned reg)
{
	uint8_t v;

	switch (reg) {
	case R_DATA:
		if (u->lcr & LCR_DLAB)
			return u->dll;
		return uart_rx_pop(u);
	case R_IER:
		return (u->lcr & LCR_DLAB) ? u->dlm : u->ier;
	case R_IIR_FCR:
		v = uart_iir(u);
		/* Reading the IIR acknowledges a pending THRE interrupt. */
		if ((v & 0x0f) == IIR_THRI)
			u->thr_empty_pending = false;
		return v;
	case R_LCR:
		return u->lcr;
	case R_MCR:
		return u->mcr;
	case R_LSR:
		return LSR_THRE | LSR_TEMT | (u->rx_count ? LSR_DR : 0);
	case R_MSR:
		return uart_msr(u);
	default:
		return u->scr;
	}
}

static void uart_write(struct uart *u, unsigned reg, uint8_t v)
{
	switch (reg) {
	case R_DATA:
		if (u->lcr & LCR_DLAB)
			u->dll = v;
		else
			uart_transmit(u, v);
		break;
	case R_IER:
		if (u->lcr & LCR_DLAB) {
			u->dlm = v;
			break;
		}
		/* Enabling THRE interrupts with an empty THR raises one at once. */
		if (!(u->ier & IER_THRI) && (v & IER_THRI))
			u->thr_empty_pending = true;
		u->ier = v & 0x0f;
		break;
	case R_IIR_FCR:
		u->fcr = v & 0xc9;
		if (v & FCR_CLR_RX)
			u->rx_count = 0;
		break;
	case R_LCR:
		u->lcr = v;
		break;
	case R_MCR:
		u->mcr = v & 0x1f;
		break;
	case R_SCR:
		u->scr = v;
		break;
	default: /* LSR and MSR are read-only */
		break;
	}
}

void uart_io(void *opaque, uint16_t port, uint8_t *data, unsigned len, bool is_write)
{
	struct uart *u = opaque;
	unsigned reg = (port - UART_COM1_BASE) & 7;

	/* The UART is byte-wide; wider accesses touch only the first byte. */
	pthread_mutex_lock(&u->lock);
	if (is_write) {
		uart_write(u, reg, data[0]);
	} else {
		memset(data, 0, len);
		data[0] = uart_read(u, reg);
	}
	uart_update_irq(u);
	pthread_mutex_unlock(&u->lock);
}

size_t uart_receive(struct uart *u, const uint8_t *buf, size_t len)
{
	size_t n = 0;

	pthread_mutex_lock(&u->lock);
	while (n < len && u->rx_count < UART_RX_FIFO) {
		u->rx[(u->rx_head + u->rx_count) % UART_RX_FIFO] = buf[n++];
		u->rx_count++;
	}
	uart_update_irq(u);
	pthread_mutex_unlock(&u->lock);
	return n;
}

size_t uart_rx_space(struct uart *u)
{
	size_t n;

	pthread_mutex_lock(&u->lock);
	n = UART_RX_FIFO - u->rx_count;
	pthread_mutex_unlock(&u->lock);
	return n;
}
