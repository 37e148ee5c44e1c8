/* TEMPORARY, while fw_cfg.c, acpi.c and pci.c's PM block are being
 * written side by side: weak stand-ins so moat-vcpu links. Deleted when
 * they land (the real definitions win over these only where their object
 * is linked for another reason). */
#include <errno.h>
#include <stdbool.h>

#include "boot/acpi.h"
#include "fw_cfg.h"
#include "pci.h"

__attribute__((weak)) bool pci_power_button(struct pci_bus *b) { (void)b; return false; }
__attribute__((weak)) uint16_t pci_pm_base(struct pci_bus *b) { (void)b; return 0; }
__attribute__((weak)) int fw_cfg_init(struct fw_cfg *fc, fw_cfg_ram_fn r, void *o) { (void)fc; (void)r; (void)o; return -ENOSYS; }
__attribute__((weak)) void fw_cfg_set_select_hook(struct fw_cfg *fc, fw_cfg_select_fn f, void *o) { (void)fc; (void)f; (void)o; }
__attribute__((weak)) int fw_cfg_add_item(struct fw_cfg *fc, uint16_t k, const void *d, size_t l) { (void)fc; (void)k; (void)d; (void)l; return -ENOSYS; }
__attribute__((weak)) int fw_cfg_add_file(struct fw_cfg *fc, const char *n, const void *d, size_t l) { (void)fc; (void)n; (void)d; (void)l; return -ENOSYS; }
__attribute__((weak)) int fw_cfg_update_file(struct fw_cfg *fc, const char *n, const void *d, size_t l) { (void)fc; (void)n; (void)d; (void)l; return -ENOSYS; }
__attribute__((weak)) void fw_cfg_io(void *o, uint16_t p, uint8_t *d, unsigned l, bool w) { (void)o; (void)p; (void)d; (void)l; (void)w; }
__attribute__((weak)) int acpi_build(const struct acpi_config *c, struct acpi_tables *t) { (void)c; (void)t; return -ENOSYS; }
__attribute__((weak)) void pci_pm_preset(struct pci_bus *b, uint16_t base) { (void)b; (void)base; }
__attribute__((weak)) int acpi_place(const struct acpi_tables *t, uint8_t *r, size_t rr, uint64_t rg, uint8_t *tb, size_t tr, uint64_t tg) { (void)t; (void)r; (void)rr; (void)rg; (void)tb; (void)tr; (void)tg; return -ENOSYS; }
__attribute__((weak)) void acpi_tables_free(struct acpi_tables *t) { (void)t; }
