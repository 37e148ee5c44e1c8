/* The vCPU threads: KVM_RUN and the exits that reach userspace. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>

#include "dump.h"
#include "exitlog.h"
#include "log.h"
#include "pause.h"
#include "vcpu.pb-c.h"
#include "vm.h"

#define R(x) MOAT__VCPU__EXIT_EVENT__REASON__##x

static void handle_pio(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	bool is_write = run->io.direction == KVM_EXIT_IO_OUT;

	/* String I/O (rep ins/outs) arrives as count items of size bytes. */
	for (uint32_t i = 0; i < run->io.count; i++, data += run->io.size)
		iobus_access(&v->vm->pio, run->io.port, data, run->io.size, is_write);
	exitlog_add(&v->exits, EXITLOG_PIO, run->io.port, (uint8_t *)run + run->io.data_offset,
		    run->io.size, run->io.count, is_write);
}

static void handle_mmio(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	unsigned len = run->mmio.len;

	if (len == 0 || len > sizeof(run->mmio.data))
		return;
	/* A PCI function's BAR, or nothing: unclaimed reads float high. */
	if (!pci_mmio(&v->vm->pci, run->mmio.phys_addr, run->mmio.data, len, run->mmio.is_write) &&
	    !run->mmio.is_write)
		memset(run->mmio.data, 0xff, len);
	exitlog_add(&v->exits, EXITLOG_MMIO, run->mmio.phys_addr, run->mmio.data, len, 1,
		    run->mmio.is_write);
}

/* The registers, then the last exits: after a triple fault on AMD the
 * registers read as just reset, and the exits are all that is left of
 * where the guest was. */
static void end_with_dump(struct vcpu *v, int reason, const char *detail)
{
	char dump[sizeof(v->vm->exit.dump)];
	size_t n;

	vcpu_dump_regs(v->fd, v->id, dump, sizeof(dump));
	n = strlen(dump);
	exitlog_format(&v->exits, v->id, dump + n, sizeof(dump) - n);
	vm_end(v->vm, reason, v->id, detail, dump);
}

static void handle_internal_error(struct vcpu *v)
{
	char detail[160];
	const struct kvm_run *run = v->run;
	int n = snprintf(detail, sizeof(detail), "KVM internal error, suberror %u",
			 run->internal.suberror);

	for (uint32_t i = 0;
	     i < run->internal.ndata && i < 4 && n > 0 && (size_t)n < sizeof(detail); i++)
		n += snprintf(detail + n, sizeof(detail) - n, " %#llx",
			      (unsigned long long)run->internal.data[i]);
	end_with_dump(v, R(INTERNAL_ERROR), detail);
}

static void handle_system_event(struct vcpu *v)
{
	switch (v->run->system_event.type) {
	case KVM_SYSTEM_EVENT_RESET:
		vm_end(v->vm, R(RESET), v->id, "guest reset", NULL);
		break;
	case KVM_SYSTEM_EVENT_SHUTDOWN:
		vm_end(v->vm, R(POWEROFF), v->id, "guest powered off", NULL);
		break;
	default:
		end_with_dump(v, R(INTERNAL_ERROR), "guest crash event");
		break;
	}
}

/* Returns false when this vCPU must stop running. */
static bool handle_exit(struct vcpu *v)
{
	char detail[96];

	switch (v->run->exit_reason) {
	case KVM_EXIT_IO:
		handle_pio(v);
		return true;
	case KVM_EXIT_MMIO:
		handle_mmio(v);
		return true;
	case KVM_EXIT_INTR:
		return true;
	case KVM_EXIT_SHUTDOWN:
		end_with_dump(v, R(TRIPLE_FAULT), "triple fault (KVM_EXIT_SHUTDOWN)");
		return false;
	case KVM_EXIT_INTERNAL_ERROR:
		handle_internal_error(v);
		return false;
	case KVM_EXIT_FAIL_ENTRY:
		snprintf(detail, sizeof(detail), "VM entry failed, hardware reason %#llx",
			 (unsigned long long)v->run->fail_entry.hardware_entry_failure_reason);
		end_with_dump(v, R(INTERNAL_ERROR), detail);
		return false;
	case KVM_EXIT_SYSTEM_EVENT:
		handle_system_event(v);
		return false;
	case KVM_EXIT_HLT:
		/* Only without an in-kernel LAPIC; a halted guest is powered off. */
		vm_end(v->vm, R(POWEROFF), v->id, "guest halted", NULL);
		return false;
	default:
		snprintf(detail, sizeof(detail), "unexpected KVM exit %u", v->run->exit_reason);
		end_with_dump(v, R(VMM_ERROR), detail);
		return false;
	}
}

/* Set-up in the new thread, while clone and prctl are still allowed: its
 * name, and a malloc arena of its own (the first malloc in a thread picks
 * one, and may size the arena table from sched_getaffinity), so the run
 * phase only ever grows or trims it. Then wait for vm_run(). */
static void vcpu_thread_ready(struct vcpu *v)
{
	char name[16];

	vcpu_self_id = v->id;
	vcpu_kick_attach(v);
	snprintf(name, sizeof(name), "vcpu%u", v->id);
	prctl(PR_SET_NAME, name, 0, 0, 0);
	void *volatile arena = malloc(1); /* volatile: the pair must not be elided */
	free(arena);
	pthread_mutex_lock(&v->vm->gate_lock);
	v->vm->at_gate++;
	pthread_cond_signal(&v->vm->gate_reached);
	while (!v->vm->go)
		pthread_cond_wait(&v->vm->gate_open, &v->vm->gate_lock);
	pthread_mutex_unlock(&v->vm->gate_lock);
}

/* The loop of one vCPU: park if a pause is asked for, run, handle the
 * exit. Busy from KVM_RUN's return to the next entry (a ping's "stalled"),
 * except while parked. EINTR: a kick (pause.h) or another signal. */
static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;

	vcpu_thread_ready(v);
	while (!atomic_load(&v->vm->ended)) {
		vcpu_pause_point(v);
		if (atomic_load(&v->vm->ended))
			break;
		vcpu_mark_busy(v, false);
		int r = ioctl(v->fd, KVM_RUN, 0);
		vcpu_mark_busy(v, true);
		if (r < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			char detail[96];
			snprintf(detail, sizeof(detail), "KVM_RUN failed: %s", strerror(errno));
			end_with_dump(v, R(VMM_ERROR), detail);
			break;
		}
		if (!handle_exit(v))
			break;
	}
	vcpu_mark_busy(v, false);
	return NULL;
}

int vm_start(struct vm *vm)
{
	int rc = vm_pause_init(vm); /* before any thread: the kick's handler */

	if (rc < 0)
		return rc;
	pthread_mutex_init(&vm->gate_lock, NULL);
	pthread_cond_init(&vm->gate_open, NULL);
	pthread_cond_init(&vm->gate_reached, NULL);
	for (unsigned i = 0; i < vm->ncpus; i++) {
		rc = pthread_create(&vm->cpus[i].thread, NULL, vcpu_thread, &vm->cpus[i]);
		if (rc)
			return log_error_errno(rc, "Failed to start vCPU %u thread: %m", i);
	}
	pthread_mutex_lock(&vm->gate_lock);
	while (vm->at_gate < vm->ncpus)
		pthread_cond_wait(&vm->gate_reached, &vm->gate_lock);
	pthread_mutex_unlock(&vm->gate_lock);
	return 0;
}

void vm_run(struct vm *vm)
{
	pthread_mutex_lock(&vm->gate_lock);
	vm->go = true;
	pthread_cond_broadcast(&vm->gate_open);
	pthread_mutex_unlock(&vm->gate_lock);
}
