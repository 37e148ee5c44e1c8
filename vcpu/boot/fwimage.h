/* Which firmware an image is, and whether it is whole, before any of it
 * is mapped for the guest: a legacy BIOS (SeaBIOS: a whole number of
 * 64 KiB, its reset vector a far jump in the last 16 bytes) or UEFI
 * (OVMF: a chain of firmware volumes, "_FVH", that covers the file
 * exactly, with a variable store that is one too). The file is the user's
 * and may be anything: every length and offset is checked. Pure. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Vars and code together are mapped just below 4 GiB, above KVM's private
 * pages (guest_layout.h). */
#define FW_ROM_MAX   (16u << 20)
#define FW_BIOS_UNIT (64u << 10)

enum fw_kind { FW_BIOS = 1, FW_UEFI = 2 };

/* 0 and *kind, or -EINVAL with one line in why naming what is wrong
 * (vars may be NULL with vars_len 0). */
int fw_image_check(const uint8_t *code, size_t code_len, const uint8_t *vars, size_t vars_len,
		   enum fw_kind *kind, char *why, size_t whylen);
