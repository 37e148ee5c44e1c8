/* A small writer of ACPI Machine Language (ACPI 6.4 chapter 20) and of the
 * resource descriptors that _CRS buffers hold (chapter 6.4), enough for
 * moat's DSDT: scopes, devices, processors, names, packages, buffers,
 * integers, strings and EISA ids.
 *
 * Nesting terms (Scope, Device, Processor, Package, Buffer) are opened with
 * aml_*_begin and closed with aml_end, which inserts the PkgLength (and a
 * buffer's size) in front of what was written since: callers never count
 * bytes. Errors are sticky: the first allocation failure or misuse sets
 * a->err and every later call does nothing, so a builder checks once, at
 * aml_finish. Pure: no I/O, no globals. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define AML_MAX_DEPTH 16

struct aml {
	uint8_t *buf; /* owned; aml_finish hands it over */
	size_t len, cap;
	int err; /* 0 or the first -errno */
	unsigned depth;
	struct {
		size_t start; /* where the term's contents begin */
		int kind;     /* AML_TERM_* (aml.c) */
		unsigned count, max;
	} open[AML_MAX_DEPTH];
};

void aml_init(struct aml *a);
/* 0 and the encoded bytes (the caller frees *buf), or the sticky error
 * (-ENOMEM, or -EINVAL for unbalanced begin/end or a bad name); the
 * writer's buffer is freed then. */
int aml_finish(struct aml *a, uint8_t **buf, size_t *len);

/* Data objects. An integer gets the shortest encoding (Zero, One,
 * BytePrefix .. QWordPrefix); aml_dword always takes a DWordPrefix, for
 * values whose size must not depend on the value. */
void aml_integer(struct aml *a, uint64_t v);
void aml_dword(struct aml *a, uint32_t v);
void aml_string(struct aml *a, const char *s);
/* EisaId("PNP0A03"): three capitals and four hex digits, as a DWord. */
void aml_eisaid(struct aml *a, const char *id);

/* Name(name, <object>): the data object follows. Names are ASL paths:
 * "\\_SB.PCI0", "_HID", "ISA" (short segments are padded with '_'). */
void aml_name(struct aml *a, const char *name);

void aml_scope_begin(struct aml *a, const char *name);
void aml_device_begin(struct aml *a, const char *name);
/* Processor(name, id, 0, 0): no P_BLK. */
void aml_processor_begin(struct aml *a, const char *name, uint8_t id);
/* Package(n): exactly n elements must follow before aml_end. */
void aml_package_begin(struct aml *a, unsigned n);
/* Buffer () { ... } of raw bytes; aml_rt_* write resource descriptors. */
void aml_buffer_begin(struct aml *a);
/* A Buffer that is a ResourceTemplate: aml_end adds the end tag. */
void aml_rt_begin(struct aml *a);
void aml_end(struct aml *a);

/* Resource descriptors, inside aml_rt_begin .. aml_end. The address space
 * ones are producers with fixed minimum and maximum (ASL's ResourceProducer,
 * MinFixed, MaxFixed, PosDecode), the way a host bridge's _CRS says them. */
void aml_rt_io(struct aml *a, uint16_t min, uint16_t len); /* IO(Decode16, min, min, 1, len) */
void aml_rt_irq_noflags(struct aml *a, unsigned irq);	   /* IRQNoFlags() {irq} */
void aml_rt_word_bus(struct aml *a, uint16_t min, uint16_t max); /* WordBusNumber */
void aml_rt_word_io(struct aml *a, uint16_t min, uint16_t max);	 /* WordIO, EntireRange */
/* DWordMemory, read-write; cacheable or not (for RAM-like and MMIO). */
void aml_rt_dword_mem(struct aml *a, uint32_t min, uint32_t max, int cacheable);
