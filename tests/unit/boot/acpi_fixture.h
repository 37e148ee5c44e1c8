/* What the ACPI unit tests share: a stand-in for the guest's
 * 0xE0000-0xFFFFF with guard bytes around it, the tables placed there by
 * their own loader script, and a finder for a table by address that
 * checks its header and checksum. */
#pragma once

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>

#include "acpi.h"
#include "aml.h"
#include "bytes.h"
#include "moat_limits.h"
#include "tap.h"

/* The guest's BIOS area: RSDP at 0xE0000, tables at 0xE0040, with guard
 * bytes before and after the whole area. */
#define AREA_GPA   0xE0000ULL
#define AREA_LEN   0x20000
#define GUARD	   256
#define GUARD_BYTE 0xA5
#define RSDP_ROOM  64
#define RSDP_GPA   AREA_GPA
#define TABLES_GPA (AREA_GPA + RSDP_ROOM)
#define PM_BASE	   0x600
#define ALIGN64(x) (((x) + 63) & ~(size_t)63)

static uint8_t mem[GUARD + AREA_LEN + GUARD];
#define AREA	(mem + GUARD)
#define RSDP	AREA
#define TABLES	(AREA + RSDP_ROOM)
#define TAB_MAX (AREA_LEN - RSDP_ROOM)

static inline uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s += *p++;
	return s;
}

static inline struct acpi_config config(unsigned ncpus, bool smc)
{
	return (struct acpi_config){
	    .ncpus = ncpus, .low_ram_end = 1ULL << 30, .pm_base = PM_BASE, .smc = smc};
}

/* Every byte outside the placed RSDP and tables still holds the guard. */
static inline bool guards_ok(size_t rsdp_len, size_t tables_len)
{
	for (size_t i = 0; i < sizeof(mem); i++) {
		size_t a = i - GUARD;
		bool in_rsdp = i >= GUARD && a < rsdp_len;
		bool in_tables = i >= GUARD && a >= RSDP_ROOM && a - RSDP_ROOM < tables_len;

		if (!in_rsdp && !in_tables && mem[i] != GUARD_BYTE)
			return false;
	}
	return true;
}

static inline int place(const struct acpi_tables *t)
{
	memset(mem, GUARD_BYTE, sizeof(mem));
	return acpi_place(t, RSDP, RSDP_ROOM, RSDP_GPA, TABLES, TAB_MAX, TABLES_GPA);
}

/* The table at a guest address: inside the placed tables, with a header
 * that fits, the signature wanted and a zero checksum (the FACS has none:
 * its length is checked instead). NULL otherwise. */
static inline const uint8_t *table_at(uint64_t gpa, size_t tables_len, const char *sig)
{
	const uint8_t *p;
	uint32_t len;

	if (gpa < TABLES_GPA || gpa - TABLES_GPA > tables_len - 36)
		return NULL;
	p = TABLES + (gpa - TABLES_GPA);
	len = le32_get(p + 4);
	if (memcmp(p, sig, 4) || len < 36 || len > tables_len - (gpa - TABLES_GPA))
		return NULL;
	if (!strcmp(sig, "FACS"))
		return len == 64 ? p : NULL;
	if (sum(p, len) != 0 || memcmp(p + 10, "MOAT  ", 6))
		return NULL;
	return p;
}
