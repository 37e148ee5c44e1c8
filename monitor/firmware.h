/* --firmware: open the firmware image and, for UEFI, its variable store.
 *
 * What a firmware file needs is read from QEMU's firmware descriptors
 * (docs/interop/firmware.json in QEMU; Debian's ovmf and seabios install
 * them in /usr/share/qemu/firmware, an administrator's go in
 * /etc/qemu/firmware and win), the one machine-readable statement of it:
 * a build whose descriptor lists "requires-smm" (OVMF's Secure Boot
 * builds) is refused, since moat has no SMM; the descriptor's
 * "nvram-template" is the default variable store. A file no descriptor
 * names is still booted; a UEFI one (a firmware volume header) then
 * takes the VARS file beside its CODE file. The contents are checked
 * again, in full, by moat-vcpu in its sandbox. */
#pragma once

#include <stddef.h>

#include "options.h"
#include "resources.h"

/* Opens r->firmware_fd and, when there is one, r->firmware_vars_fd. -EINVAL
 * (or -errno) with one line in err. */
int mon_open_firmware(const struct mon_config *cfg, struct mon_resources *r, char *err,
		      size_t errlen);

/* Where the descriptors are looked for (tests point it elsewhere); NULL
 * ends the list. */
extern const char *mon_firmware_desc_dirs[];
