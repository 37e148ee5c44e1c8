/* sandboxed-child's modes for test_limits.c: moat-vcpu's run phase (the
 * second, stacked filter, policy/vcpu-run.policy) and the resource limits
 * of struct pol_limits. Each mode enters the sandbox itself (limits_enter),
 * reports, and after the parent's go runs its check (limits_run):
 *   run-phase       vcpu.policy, a thread made, vcpu-run.policy on top: the
 *                   run phase's ioctls pass the filter (ENOTTY, as fd is no
 *                   KVM descriptor), malloc works, the thread made before
 *                   the second filter runs and exits under it; sends "ok"
 *   setup-create-vm vcpu.policy alone: KVM_CREATE_VM passes the filter
 *                   (ENOTTY); the control for kill-run-KVM_CREATE_VM
 *   kill-run-NAME   the run phase, then ioctl NAME, or "clone" (a new
 *                   thread), "pread" (as of the kernel), "thread" (the
 *                   thread made before the second filter calls
 *                   KVM_CREATE_VM): the filter must kill us
 *   nproc-vcpu, nproc-blk  the real vcpu or blk filter with RLIMIT_NPROC
 *                   for 3 or 5 tasks: starts threads until one fails,
 *                   which must be the one past the limit, with EAGAIN
 *   nofile          test.policy, room for 4 descriptors: the 5th eventfd
 *                   fails with EMFILE
 *   as              test.policy, RLIMIT_AS 64 MiB above entry: 32 MiB map,
 *                   128 MiB do not (ENOMEM) */
#include <errno.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "pol.h"
#include "sandboxed.h"

#define MAX_THREADS 300 /* what the issue saw started under the vcpu and blk filters */

static int efd = -1; /* any descriptor: the filter acts before a driver sees the ioctl */

/* The thread made under the first filter. It waits for the word to
 * change: 1, run and exit; 2, try to make a VM. */
static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate = PTHREAD_COND_INITIALIZER;
static int gate_word;
static pthread_t early;
static pthread_cond_t reached = PTHREAD_COND_INITIALIZER;
static bool early_waits;

static void *early_thread(void *arg)
{
	void *volatile p;
	int w;

	pthread_mutex_lock(&gate_lock);
	early_waits = true;
	pthread_cond_signal(&reached);
	while (!gate_word)
		pthread_cond_wait(&gate, &gate_lock);
	w = gate_word;
	pthread_mutex_unlock(&gate_lock);
	if (w == 2)
		ioctl(efd, KVM_CREATE_VM, 0);
	p = malloc(100000);
	free(p);
	return arg;
}

static void open_gate(int w)
{
	pthread_mutex_lock(&gate_lock);
	gate_word = w;
	pthread_cond_broadcast(&gate);
	pthread_mutex_unlock(&gate_lock);
}

/* As moat-vcpu: enter under vcpu.policy, make the threads, then stack the
 * run phase's filter on all of them. */
static int enter_run_phase(struct pol_report *rep, bool second)
{
	unsigned n;

	if (pol_sandbox_enter("vcpu", rep) < 0)
		return -1;
	efd = eventfd(0, EFD_CLOEXEC);
	if (efd < 0 || pthread_create(&early, NULL, early_thread, (void *)7) != 0)
		return -1;
	/* as vm_start: the thread's own start is over before the second filter */
	pthread_mutex_lock(&gate_lock);
	while (!early_waits)
		pthread_cond_wait(&reached, &gate_lock);
	pthread_mutex_unlock(&gate_lock);
	if (second && pol_load("vcpu-run", &n) < 0)
		return -1;
	return 0;
}

int limits_enter(const char *mode, struct pol_report *rep)
{
	static const struct pol_limits vcpu = {.nproc = 3}; /* 2 vCPUs + main */
	static const struct pol_limits blk = {.nproc = 5};  /* 4 workers + main */
	static const struct pol_limits nofile = {.nofile_extra = 4};
	static const struct pol_limits as = {.as_extra = 64 << 20};

	if (strcmp(mode, "run-phase") == 0 || strncmp(mode, "kill-run-", 9) == 0)
		return enter_run_phase(rep, true);
	if (strcmp(mode, "setup-create-vm") == 0)
		return enter_run_phase(rep, false);
	if (strcmp(mode, "nproc-vcpu") == 0)
		return pol_sandbox_enter_limits("vcpu", &vcpu, rep);
	if (strcmp(mode, "nproc-blk") == 0)
		return pol_sandbox_enter_limits("blk", &blk, rep);
	if (strcmp(mode, "nofile") == 0)
		return pol_sandbox_enter_limits("test", &nofile, rep);
	if (strcmp(mode, "as") == 0)
		return pol_sandbox_enter_limits("test", &as, rep);
	return 1; /* not one of ours */
}

/* What the run phase must still do: the ioctls of vcpu-run.policy reach
 * the (non-KVM) descriptor, and the early thread runs and exits. */
static const char *run_phase(void)
{
	static const unsigned long pass[] = {KVM_RUN,	    KVM_IRQ_LINE, KVM_SET_GSI_ROUTING,
					     KVM_IOEVENTFD, KVM_GET_REGS, KVM_GET_SREGS};
	void *ret, *volatile p;

	for (size_t i = 0; i < sizeof(pass) / sizeof(pass[0]); i++)
		if (ioctl(efd, pass[i], 0) != -1 || errno != ENOTTY)
			return "a run-phase ioctl did not reach the descriptor";
	p = malloc(8 << 20); /* mmap'd */
	if (!p)
		return "malloc";
	memset(p, 1, 8 << 20);
	free(p);
	open_gate(1);
	if (pthread_join(early, &ret) != 0 || ret != (void *)7)
		return "the thread made before the run phase";
	return NULL;
}

static void kill_run(const char *what)
{
	static const struct {
		const char *name;
		unsigned long req;
	} ioctls[] = {
	    {"KVM_CREATE_VM", KVM_CREATE_VM},
	    {"KVM_CREATE_VCPU", KVM_CREATE_VCPU},
	    {"KVM_SET_USER_MEMORY_REGION", KVM_SET_USER_MEMORY_REGION},
	    {"KVM_SET_TSS_ADDR", KVM_SET_TSS_ADDR},
	    {"KVM_GET_SUPPORTED_CPUID", KVM_GET_SUPPORTED_CPUID},
	    {"KVM_IRQFD", KVM_IRQFD},
	    {"KVM_SET_REGS", KVM_SET_REGS},
	};
	pthread_t t;
	char c;

	for (size_t i = 0; i < sizeof(ioctls) / sizeof(ioctls[0]); i++)
		if (strcmp(what, ioctls[i].name) == 0)
			ioctl(efd, ioctls[i].req, 0);
	if (strcmp(what, "clone") == 0) {
		pthread_create(&t, NULL, early_thread, NULL);
	} else if (strcmp(what, "pread") == 0) {
		(void)!pread(efd, &c, 1, 0);
	} else if (strcmp(what, "thread") == 0) {
		open_gate(2);
		(void)!read(SANDBOXED_PARENT_FD, &c, 1); /* until the kill */
	}
}

static void *idle_thread(void *arg)
{
	pthread_mutex_lock(&gate_lock);
	while (!gate_word)
		pthread_cond_wait(&gate, &gate_lock);
	pthread_mutex_unlock(&gate_lock);
	return arg;
}

/* Start threads until one fails; the main thread counts, so a limit of
 * n tasks lets n - 1 start. */
static const char *many_threads(unsigned limit)
{
	static pthread_t t[MAX_THREADS];
	static char why[96];
	unsigned n = 0;
	int rc = 0;

	while (n < MAX_THREADS && (rc = pthread_create(&t[n], NULL, idle_thread, NULL)) == 0)
		n++;
	open_gate(1);
	for (unsigned i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	if (n != limit - 1 || rc != EAGAIN) {
		snprintf(why, sizeof(why), "%u threads started, then %s", n, strerror(rc));
		errno = 0;
		return why;
	}
	return NULL;
}

static const char *many_fds(void)
{
	static char why[96];
	int n = 0, fd;

	while (n < 1000 && (fd = eventfd(0, EFD_CLOEXEC)) >= 0)
		n++;
	if (n != 4 || errno != EMFILE) {
		snprintf(why, sizeof(why), "%d descriptors, then %s", n, strerror(errno));
		return why;
	}
	return NULL;
}

static const char *big_maps(void)
{
	void *small =
	    mmap(NULL, 32 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	void *big;

	if (small == MAP_FAILED)
		return "32 MiB did not map";
	big = mmap(NULL, 128 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (big != MAP_FAILED || errno != ENOMEM)
		return "128 MiB mapped past RLIMIT_AS";
	/* malloc goes the same way */
	if (malloc(128 << 20) != NULL)
		return "malloc of 128 MiB past RLIMIT_AS";
	return NULL;
}

const char *limits_run(const char *mode, bool *handled)
{
	*handled = true;
	if (strcmp(mode, "run-phase") == 0)
		return run_phase();
	if (strcmp(mode, "setup-create-vm") == 0)
		return ioctl(efd, KVM_CREATE_VM, 0) == -1 && errno == ENOTTY
			   ? NULL
			   : "KVM_CREATE_VM did not reach the descriptor";
	if (strncmp(mode, "kill-run-", 9) == 0) {
		kill_run(mode + 9);
		return "survived a forbidden call";
	}
	if (strcmp(mode, "nproc-vcpu") == 0)
		return many_threads(3);
	if (strcmp(mode, "nproc-blk") == 0)
		return many_threads(5);
	if (strcmp(mode, "nofile") == 0)
		return many_fds();
	if (strcmp(mode, "as") == 0)
		return big_maps();
	*handled = false;
	return NULL;
}
