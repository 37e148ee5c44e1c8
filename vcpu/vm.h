/* The VM owned by the vcpu process: KVM descriptors, guest RAM mapping,
 * vCPUs, and the legacy devices that live in this process. */
#pragma once

#include <linux/kvm.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "cmos.h"
#include "debugcon.h"
#include "exitlog.h"
#include "fw_cfg.h"
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
	/* CLOCK_MONOTONIC ns at which KVM_RUN last returned, while this
	 * thread is busy with that exit; 0 inside KVM_RUN, parked, or not
	 * running yet. A ping reads it (vcpu/pause.c vm_stalled). */
	_Atomic uint64_t busy_since_ns;
	struct exitlog exits; /* this thread's own: the last exits it handled */
};

/* Where the main thread stands with a pause (vcpu/pause.c). */
enum vm_pause_state {
	VM_RUNNING,
	VM_PAUSING, /* asked, not every thread parked yet */
	VM_PAUSED,  /* every thread parked, the guest's clock saved */
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
	/* moat-display's scan codes for the i8042's keyboard (vcpu/loop.c),
	 * or -1 without a display */
	int kbd_fd;
	struct pci_bus pci;
	struct debugcon dbg;
	struct fw_cfg fwcfg; /* firmware boot only */
	bool smc;	     /* an SMC at 0x300: the ACPI tables describe it */
	uint16_t acpi_pm_base; /* the PM base the ACPI tables name */

	/* The vCPU threads wait here, between their creation and their first
	 * KVM_RUN, until the run phase's filter is in place (vm_run); vm_start
	 * returns once all of them are waiting, their own set-up done. */
	pthread_mutex_t gate_lock;
	pthread_cond_t gate_open, gate_reached;
	unsigned at_gate;
	bool go;

	/* Pause (vcpu/pause.c): the vCPU threads park on resumed while
	 * pause_wanted is set and the VM has not ended; the last to park
	 * writes parked_event_fd, which the main loop polls. */
	pthread_mutex_t pause_lock;
	pthread_cond_t resumed;
	atomic_bool pause_wanted;
	unsigned parked; /* under pause_lock */
	int parked_event_fd;
	/* The main thread's alone: */
	enum vm_pause_state pause_state;
	unsigned pause_owed;	     /* PAUSEs to answer when the pause completes */
	struct kvm_clock_data clock; /* kvmclock when the pause completed */
	bool clock_saved;

	/* vm_end(): the first caller claims ending, fills in exit, then sets
	 * ended; so whoever sees ended reads a complete exit (the main loop
	 * wakes for other reasons too, and once sent reason 0 with no detail,
	 * "VM failed: ", for a guest that had reset). */
	atomic_bool ending;
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
/* Install the pause's kick (vcpu/pause.h), then start one thread per
 * vCPU. Each names itself and attaches to a malloc arena (the calls only
 * set-up may make), then waits for vm_run() before its first KVM_RUN.
 * Returns once every thread waits: a new thread's own start (glibc's rseq
 * and robust-list registration, the name, the arena) is over before the
 * run phase's filter takes those calls away. 0 or -errno; on failure the
 * caller exits, which ends the threads made. */
int vm_start(struct vm *vm);
/* Let the vCPU threads run the guest. */
void vm_run(struct vm *vm);
/* The run phase: close what only set-up needed (/dev/kvm, the RAM memfd,
 * KVM's CPUID table) and stack policy/vcpu-run.policy on every thread.
 * After it no VM, vCPU, memory slot or thread can be made. 0 or -errno
 * (logged): the caller must exit. *nsyscalls: the second filter's size. */
int vm_enter_run_phase(struct vm *vm, unsigned *nsyscalls);
/* Record the end of the VM (first caller wins), wake the main loop and
 * release any parked vCPU thread (it then sees the end and returns). */
void vm_end(struct vm *vm, int reason, unsigned vcpu, const char *detail, const char *dump);
/* Assert or deassert an ISA interrupt line through the in-kernel irqchip. */
int vm_set_irq(struct vm *vm, unsigned irq, bool level);
