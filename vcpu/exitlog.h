#pragma once
/* The last exits a vCPU handled, for the report of a VM that died: on
 * AMD, KVM resets a vCPU at a triple fault, so its registers no longer
 * say where it failed; what it last asked of the VMM (a port, an MMIO
 * address, a value) often does. Each vCPU thread writes only its own log
 * and formats it itself, so it takes no lock; recording is a few stores. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EXITLOG_LEN 8 /* kept, and printed */

enum exitlog_kind { EXITLOG_PIO, EXITLOG_MMIO };

struct exitlog_rec {
	uint64_t n;	/* the exit's number, from 1 */
	uint64_t addr;	/* port or guest-physical address */
	uint64_t value; /* the first 8 bytes: written, or read back */
	uint32_t count; /* string I/O: items */
	uint8_t kind;	/* enum exitlog_kind */
	uint8_t size;	/* bytes an item */
	bool write;
};

struct exitlog {
	struct exitlog_rec rec[EXITLOG_LEN];
	uint64_t total; /* exits recorded, ever */
};

/* Record one port or MMIO exit after it was handled (a read's data is
 * then what the guest gets). data: the item's bytes, size of them (at
 * most 8 kept). */
void exitlog_add(struct exitlog *log, enum exitlog_kind kind, uint64_t addr, const void *data,
		 unsigned size, uint32_t count, bool write);

/* Format the log, oldest first, one exit a line after a heading line
 * naming vCPU id; nothing when no exit was recorded. Never overruns buf
 * (len > 0: always terminated). */
void exitlog_format(const struct exitlog *log, unsigned id, char *buf, size_t len);
