/* The VM owned by the vcpu process: KVM descriptors, guest RAM mapping,
 * vCPUs, and the legacy devices that live in this process. */
#pragma once

#include <linux/kvm.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "cmos.h"
#include "i8042.h"
#include "iobus.h"
#include "moat_limits.h"
#include "pci.h"
#include "ram.h"
#include "remote.h"
#include "uart.h"

#define VCPU_MAX_CPUS MOAT_MAX_CPUS

struct vcpu {
	struct vm *vm;
	unsigned id;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
};

/* How the VM ended; set once by whoever sees the end first. */
struct vm_exit {
	int reason; /* Moat__Vcpu__ExitEvent__Reason */
	unsigned vcpu;
	char detail[160];
	char dump[2048];
};

struct vm {
	int kvm_fd;
	int vm_fd;
	int mem_fd;
	uint8_t *mem; /* the whole memfd, mapped shared */
	uint64_t mem_bytes;
	struct mach_ram_region slots[MACH_RAM_MAX_REGIONS]; /* one KVM slot each */
	unsigned nslots;
	int run_size;
	unsigned ncpus;
	struct vcpu cpus[VCPU_MAX_CPUS];
	struct kvm_cpuid2 *cpuid;

	struct iobus pio;
	struct uart com1;
	struct i8042 kbc;
	struct cmos rtc;
	struct remote_dev remotes[REMOTE_MAX_DEVICES];
	unsigned nremotes;
	struct pci_bus pci;

	atomic_bool ended;
	struct vm_exit exit;
	int exit_event_fd; /* written once when ended flips; the main loop polls it */
};

/* Guest physical to host pointer for [gpa, gpa+len) inside one RAM slot;
 * NULL if any byte of the range is not RAM (mach_ram_ptr). */
void *vm_gpa_ptr(struct vm *vm, uint64_t gpa, uint64_t len);

/* Create the VM from the /dev/kvm and memfd descriptors: checks the API,
 * creates irqchip and PIT, maps RAM, registers slots. */
int vm_create(struct vm *vm, int kvm_fd, int mem_fd, uint64_t mem_bytes, unsigned ncpus);
/* Create and configure vCPUs (CPUID, MSRs, LAPIC, FPU). Registers are set by
 * the loader afterwards. */
int vm_create_vcpus(struct vm *vm);
/* Start one thread per vCPU. */
int vm_start(struct vm *vm);
/* Record the end of the VM (first caller wins) and wake the main loop. */
void vm_end(struct vm *vm, int reason, unsigned vcpu, const char *detail, const char *dump);
/* Assert or deassert an ISA interrupt line through the in-kernel irqchip. */
int vm_set_irq(struct vm *vm, unsigned irq, bool level);
