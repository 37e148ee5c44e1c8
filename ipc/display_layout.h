/* How moat-display's PCI functions are laid out, shared by the monitor
 * (which gives them slots and eventfds), moat-vcpu (which attaches them)
 * and moat-display (which serves them). One process, three functions at
 * consecutive slots:
 *
 *   SLOT + 0  bochs-display: BAR2 (its registers) at the slot's nominal
 *             window, BAR0 the video memory (moat-vcpu's KVM slot)
 *   SLOT + 1  virtio-input keyboard: BAR0 at the slot's nominal window
 *   SLOT + 2  virtio-input tablet: likewise
 *
 * The two virtio functions' eventfds travel as one list, keyboard first:
 * notify[DISPLAY_INPUT_QUEUES * i + q] and irq[DISPLAY_INPUT_VECTORS * i +
 * v] for input i. Config-space accesses on the ring carry the function's
 * index (0, 1, 2) in bits 8-9 of the address (ioring.h), since one ring
 * serves all three. */
#pragma once

#define DISPLAY_FUNCTIONS     3
#define DISPLAY_INPUTS	      2 /* keyboard, tablet */
#define DISPLAY_INPUT_QUEUES  2 /* eventq, statusq */
#define DISPLAY_INPUT_VECTORS 3 /* config change, then one per queue */
#define DISPLAY_NQ	      (DISPLAY_INPUTS * DISPLAY_INPUT_QUEUES)
#define DISPLAY_NVEC	      (DISPLAY_INPUTS * DISPLAY_INPUT_VECTORS)
#define DISPLAY_FN_SHIFT      8 /* PCICFG address: function index << 8 | register */
