/* A 16550A UART (COM1) for the guest console. Output goes to a descriptor
 * the monitor handed over (a pipe it relays, or a file); input arrives from
 * the vcpu main loop through uart_receive(). The interrupt line is driven
 * through a callback so the model can be tested without KVM. */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UART_COM1_BASE 0x3f8
#define UART_COM1_IRQ  4
#define UART_RX_FIFO   64

typedef void (*uart_irq_fn)(void *opaque, bool level);

struct uart {
	pthread_mutex_t lock;
	int out_fd; /* -1: output discarded */
	uart_irq_fn set_irq;
	void *irq_opaque;
	bool irq_level;

	uint8_t ier, lcr, mcr, lsr_extra, scr, dll, dlm, fcr;
	bool thr_empty_pending; /* THRE interrupt latched until IIR read / THR write */
	uint8_t rx[UART_RX_FIFO];
	unsigned rx_head, rx_count;
};

void uart_init(struct uart *u, int out_fd, uart_irq_fn set_irq, void *opaque);
/* The iobus handler for ports base..base+7. */
void uart_io(void *opaque, uint16_t port, uint8_t *data, unsigned len, bool is_write);
/* Queue input bytes for the guest; returns how many fit in the FIFO. */
size_t uart_receive(struct uart *u, const uint8_t *buf, size_t len);
/* Free space in the receive FIFO (the main loop stops reading input while 0). */
size_t uart_rx_space(struct uart *u);
