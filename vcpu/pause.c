/* Pause, resume and stall detection of the vCPU threads (pause.h says
 * how the kick works). */
#include "pause.h"

#include <errno.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "dump.h"
#include "log.h"

/* The signal that kicks a vCPU thread out of KVM_RUN; policy/vcpu.policy
 * and vcpu-run.policy allow tgkill with it and nothing else but SIGABRT. */
#define VCPU_KICK_SIGNAL SIGUSR1

/* This thread's kvm_run page, for the kick's handler; NULL on the main
 * thread, so a SIGUSR1 sent to the process from outside does nothing. */
static __thread struct kvm_run *kick_run;

static void kick_handler(int sig)
{
	struct kvm_run *run = kick_run;

	(void)sig;
	if (run)
		((volatile struct kvm_run *)run)->immediate_exit = 1;
}

/* The busy stamp is taken on every exit, so it uses the coarse clock: the
 * vDSO serves it from its data page whatever the clocksource, never with a
 * syscall (CLOCK_MONOTONIC is a syscall where the clocksource has no vDSO
 * reader, as with the HPET in the KVM box), and a tick's resolution is
 * plenty against VM_STALL_NS. The stamp and its reader use the same clock. */
static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* SA_RESTART: a kick that lands while the thread is busy with an exit
 * (writing the console, waiting for a device's answer) must not turn into
 * an EINTR that code has to handle; KVM_RUN itself is never restarted (it
 * returns EINTR, which is the point). The handler must exist before the
 * run phase, whose filter has no rt_sigaction. */
int vm_pause_init(struct vm *vm)
{
	struct sigaction sa = {.sa_handler = kick_handler, .sa_flags = SA_RESTART};

	pthread_mutex_init(&vm->pause_lock, NULL);
	pthread_cond_init(&vm->resumed, NULL);
	vm->parked_event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->parked_event_fd < 0)
		return log_error_errno(errno, "eventfd: %m");
	sigemptyset(&sa.sa_mask);
	if (sigaction(VCPU_KICK_SIGNAL, &sa, NULL) < 0)
		return log_error_errno(errno, "Failed to install the vCPU kick: %m");
	return 0;
}

void vcpu_kick_attach(struct vcpu *v)
{
	kick_run = v->run;
}

void vcpu_mark_busy(struct vcpu *v, bool busy)
{
	atomic_store(&v->busy_since_ns, busy ? now_ns() : 0);
}

/* The last thread to park tells the main loop; the main loop counts again
 * under the lock (vm_pause_settle), so a late or stale wake-up is
 * harmless. With -v, each thread first says where its vCPU stopped and
 * what it waited for: a pause is how a test looks at a guest gone silent. */
static void vcpu_park(struct vcpu *v)
{
	struct vm *vm = v->vm;
	uint64_t one = 1;

	vcpu_mark_busy(v, false);
	if (log_get_level() >= LOG_LVL_DEBUG) {
		char line[512];

		vcpu_dump_wait_state(v->fd, v->id, line, sizeof(line));
		log_debug("paused: %s", line);
	}
	pthread_mutex_lock(&vm->pause_lock);
	if (++vm->parked == vm->ncpus)
		(void)!write(vm->parked_event_fd, &one, sizeof(one));
	while (atomic_load(&vm->pause_wanted) && !atomic_load(&vm->ended))
		pthread_cond_wait(&vm->resumed, &vm->pause_lock);
	vm->parked--;
	pthread_mutex_unlock(&vm->pause_lock);
}

/* immediate_exit is cleared before pause_wanted is read (the fence keeps
 * the compiler from sinking the store past the load; the handler runs on
 * this same thread). So a kick sent after a pause was asked for either
 * came before the clear, and the load sees the request, or comes after
 * it, and the next KVM_RUN returns at once. */
void vcpu_pause_point(struct vcpu *v)
{
	((volatile struct kvm_run *)v->run)->immediate_exit = 0;
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load(&v->vm->pause_wanted))
		vcpu_park(v);
}

bool vm_pause(struct vm *vm)
{
	if (vm->pause_state == VM_PAUSED)
		return true;
	vm->pause_owed++;
	if (vm->pause_state == VM_PAUSING)
		return false;
	vm->pause_state = VM_PAUSING;
	atomic_store(&vm->pause_wanted, true);
	for (unsigned i = 0; i < vm->ncpus; i++)
		pthread_kill(vm->cpus[i].thread, VCPU_KICK_SIGNAL);
	return false;
}

/* Taken once every thread is parked, so the guest saw its clock last at
 * this value (QEMU does the same on stop). A failure leaves the pause in
 * place and only lets the clock jump over it. */
static void save_clock(struct vm *vm)
{
	vm->clock = (struct kvm_clock_data){0};
	vm->clock_saved = ioctl(vm->vm_fd, KVM_GET_CLOCK, &vm->clock) == 0;
	if (!vm->clock_saved)
		log_warn_errno(errno, "KVM_GET_CLOCK: %m; the guest's clock will count the pause");
}

unsigned vm_pause_settle(struct vm *vm)
{
	unsigned owed = vm->pause_owed;
	uint64_t n;
	bool all;

	(void)!read(vm->parked_event_fd, &n, sizeof(n));
	if (vm->pause_state != VM_PAUSING)
		return 0;
	pthread_mutex_lock(&vm->pause_lock);
	all = vm->parked == vm->ncpus;
	pthread_mutex_unlock(&vm->pause_lock);
	if (!all)
		return 0;
	save_clock(vm);
	vm->pause_state = VM_PAUSED;
	vm->pause_owed = 0;
	return owed;
}

/* flags 0: the clock is set to exactly the saved value. Passing back what
 * KVM_GET_CLOCK returned could carry KVM_CLOCK_REALTIME, with which KVM
 * adds the time that passed since: the opposite of a pause. */
static void restore_clock(struct vm *vm)
{
	struct kvm_clock_data c = {.clock = vm->clock.clock};

	if (ioctl(vm->vm_fd, KVM_SET_CLOCK, &c) < 0)
		log_warn_errno(errno, "KVM_SET_CLOCK: %m; the guest's clock counts the pause");
}

/* Threads parked by a pause that is called off have not run since the
 * kick, and the clock was not taken: they simply go on. A parked-event
 * that comes after is stale (vm_pause_settle sees VM_RUNNING). */
void vm_resume(struct vm *vm)
{
	if (vm->pause_state == VM_RUNNING)
		return;
	if (vm->pause_state == VM_PAUSED && vm->clock_saved)
		restore_clock(vm); /* while every thread is still parked */
	vm->pause_state = VM_RUNNING;
	vm->pause_owed = 0;
	pthread_mutex_lock(&vm->pause_lock);
	atomic_store(&vm->pause_wanted, false);
	pthread_cond_broadcast(&vm->resumed);
	pthread_mutex_unlock(&vm->pause_lock);
}

/* The timestamp is read before the clock, so that a thread which just
 * stamped it cannot look as if it were in the future. */
bool vm_stalled(struct vm *vm)
{
	for (unsigned i = 0; i < vm->ncpus; i++) {
		uint64_t since = atomic_load(&vm->cpus[i].busy_since_ns);

		if (since && now_ns() - since > VM_STALL_NS)
			return true;
	}
	return false;
}
