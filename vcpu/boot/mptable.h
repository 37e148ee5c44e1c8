/* Intel MultiProcessor Specification 1.4 table: how a guest without ACPI
 * learns its CPUs, its IOAPIC and the wiring of the ISA interrupts. Pure
 * builder on a caller buffer. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* APIC IDs are the vCPU indices 0..ncpus-1 and the IOAPIC takes ncpus; all
 * must be below the broadcast ID 0xFF. */
#define MPTABLE_MAX_CPUS 254

/* Bytes mptable_write() needs for ncpus CPUs (0 when ncpus is out of range). */
size_t mptable_size(unsigned ncpus);

/* Build at buf, which the guest sees at buf_gpa, the 16-byte floating
 * pointer "_MP_" followed by the "PCMP" configuration table: one processor
 * per vCPU (the first is the BSP), buses PCI 0 and ISA 1, the IOAPIC at
 * 0xFEC00000, ISA IRQ n -> IOAPIC pin n for n = 0..15, ExtINT on LINT0 and
 * NMI on LINT1 of every LAPIC. For Linux to find it, buf_gpa must be in
 * 0xF0000-0xFFFFF (or the EBDA's first KiB or the last KiB of base memory);
 * it must be 16-byte aligned. *used gets the bytes written. Returns 0,
 * -EINVAL (ncpus not in 1..MPTABLE_MAX_CPUS, buf_gpa misaligned),
 * -ENOSPC (buflen < mptable_size()) or -ERANGE (table crosses 4 GiB). */
int mptable_write(uint8_t *buf, size_t buflen, uint32_t buf_gpa, unsigned ncpus, size_t *used);
