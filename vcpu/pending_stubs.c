/* TEMPORARY, while fw_cfg.c, acpi.c and pci.c's PM block are being
 * written side by side: weak stand-ins so moat-vcpu links. Deleted when
 * they land (the real definitions win over these only where their object
 * is linked for another reason). */
#include <errno.h>
#include <stdbool.h>

#include "pci.h"

__attribute__((weak)) bool pci_power_button(struct pci_bus *b) { (void)b; return false; }
__attribute__((weak)) uint16_t pci_pm_base(struct pci_bus *b) { (void)b; return 0; }
__attribute__((weak)) void pci_pm_preset(struct pci_bus *b, uint16_t base) { (void)b; (void)base; }
