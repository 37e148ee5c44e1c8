/* Round-trip latency of the I/O ring across two processes, next to what it
 * is made of: a plain function call (handling the access inside the vcpu
 * process), an eventfd ping-pong and a shared-futex ping-pong (the cost of
 * one sleeping wake-up each way), and the doorbell's send alone.
 *
 * Last, a KVM guest doing port I/O in a loop: each exit handled in-process,
 * then through the ring (skipped without /dev/kvm): the ratio that matters.
 *
 *   ioring-pingpong [-n CALLS] [-P|-U] [-K] [-r REQ_SPIN_US -s SRV_SPIN_US -g GAP_US]
 *
 * Default: 100000 calls a line, the whole table, pinned then unpinned; with
 * -r/-s/-g only that one ring set-up (and its KVM line). Pinned means the
 * requester on CPU 0 and the server on CPU 1. "gap 0" is back-to-back
 * calls (a burst of register accesses); "gap 200us" leaves 200 us between
 * calls, so a server that does not spin that long is asleep when each
 * request arrives. Medians are the figures to compare: on a VM the host
 * preempts now and then, and a few milliseconds-long outliers make means
 * noisy. Not a test: it prints numbers and never fails on them. */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <linux/futex.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ioring.h"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void pin(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static void unpin(void)
{
	cpu_set_t set;
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	CPU_ZERO(&set);
	for (long i = 0; i < n && i < CPU_SETSIZE; i++)
		CPU_SET(i, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Print mean, median and 99th percentile of n samples (sorts them). */
static void report(const char *what, uint64_t *ns, unsigned n)
{
	uint64_t sum = 0;

	for (unsigned i = 0; i < n; i++)
		sum += ns[i];
	qsort(ns, n, sizeof(*ns), cmp_u64);
	printf("%-58s mean %8.0f ns  p50 %8llu  p99 %8llu\n", what, (double)sum / n,
	       (unsigned long long)ns[n / 2], (unsigned long long)ns[n * 99 / 100]);
	fflush(stdout);
}

/* ---- the handler, and the in-process baseline --------------------------- */

static void handler(void *opaque, unsigned space, uint64_t addr, unsigned size, bool is_write,
		    uint64_t *data)
{
	uint64_t *reg = opaque;

	if (is_write)
		*reg = *data;
	else
		*data = *reg ^ addr;
}

static void bench_call(unsigned calls, uint64_t *ns)
{
	void (*volatile fn)(void *, unsigned, uint64_t, unsigned, bool, uint64_t *) = handler;
	uint64_t reg = 0, data;

	for (unsigned i = 0; i < calls; i++) {
		uint64_t t0 = now_ns();
		data = i;
		fn(&reg, IORING_SPACE_PIO, 0x300 + (i & 31), 1, false, &data);
		ns[i] = now_ns() - t0;
	}
	report("function call (in-process handling)", ns, calls);
}

/* ---- eventfd and futex ping-pong ---------------------------------------- */

static void bench_eventfd(unsigned calls, uint64_t *ns, int cpu_req, int cpu_srv)
{
	int a = eventfd(0, EFD_CLOEXEC), b = eventfd(0, EFD_CLOEXEC);
	uint64_t v = 1;
	pid_t pid = fork();

	if (pid == 0) {
		pin(cpu_srv);
		for (unsigned i = 0; i < calls; i++)
			if (read(a, &v, 8) != 8 || write(b, &v, 8) != 8)
				_exit(1);
		_exit(0);
	}
	pin(cpu_req);
	for (unsigned i = 0; i < calls; i++) {
		uint64_t t0 = now_ns();
		if (write(a, &v, 8) != 8 || read(b, &v, 8) != 8)
			break;
		ns[i] = now_ns() - t0;
	}
	waitpid(pid, NULL, 0);
	unpin();
	close(a);
	close(b);
	report(cpu_req < 0 ? "eventfd ping-pong, unpinned" : "eventfd ping-pong, pinned", ns,
	       calls);
}

static long futex(uint32_t *w, int op, uint32_t val)
{
	return syscall(SYS_futex, w, op, val, NULL, NULL, 0);
}

/* Two words in shared memory, each side sleeping on one: the cost of a
 * futex wake-up of a sleeping peer in each direction, nothing else. */
static void bench_futex(unsigned calls, uint64_t *ns, int cpu_req, int cpu_srv)
{
	uint32_t *w = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid_t pid = fork();

	if (pid == 0) {
		pin(cpu_srv);
		for (uint32_t i = 1; i <= calls; i++) {
			while (__atomic_load_n(&w[0], __ATOMIC_ACQUIRE) != i)
				futex(&w[0], FUTEX_WAIT, i - 1);
			__atomic_store_n(&w[16], i, __ATOMIC_RELEASE);
			futex(&w[16], FUTEX_WAKE, 1);
		}
		_exit(0);
	}
	pin(cpu_req);
	for (uint32_t i = 1; i <= calls; i++) {
		uint64_t t0 = now_ns();
		__atomic_store_n(&w[0], i, __ATOMIC_RELEASE);
		futex(&w[0], FUTEX_WAKE, 1);
		while (__atomic_load_n(&w[16], __ATOMIC_ACQUIRE) != i)
			futex(&w[16], FUTEX_WAIT, i - 1);
		ns[i - 1] = now_ns() - t0;
	}
	waitpid(pid, NULL, 0);
	unpin();
	munmap(w, 4096);
	report(cpu_req < 0 ? "futex ping-pong, unpinned" : "futex ping-pong, pinned", ns, calls);
}

/* What the requester pays to ring: one send on a socketpair nobody reads
 * (drained now and then), next to one eventfd write. */
static void bench_doorbell_cost(unsigned calls, uint64_t *ns)
{
	int sv[2], efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	char b = 0, buf[4096];
	struct iovec iov = {.iov_base = &b, .iov_len = 1};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	uint64_t one = 1;

	socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
	for (unsigned i = 0; i < calls; i++) {
		if ((i & 1023) == 0)
			while (recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT) > 0)
				;
		uint64_t t0 = now_ns();
		sendmsg(sv[0], &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
		ns[i] = now_ns() - t0;
	}
	report("doorbell: sendmsg(MSG_DONTWAIT) 1 byte", ns, calls);
	for (unsigned i = 0; i < calls; i++) {
		uint64_t t0 = now_ns();
		if (write(efd, &one, 8) != 8)
			break;
		ns[i] = now_ns() - t0;
	}
	report("(for comparison) eventfd write", ns, calls);
	close(sv[0]);
	close(sv[1]);
	close(efd);
}

/* ---- the ring ----------------------------------------------------------- */

static void ring_server(int ringfd, int bell, unsigned spin_ns)
{
	struct ioring r;
	struct pollfd p = {.fd = bell, .events = POLLIN};
	uint64_t reg = 0;

	if (ioring_map(ringfd, &r) < 0 || ioring_set_doorbell(&r, bell) < 0)
		_exit(1);
	for (;;) {
		int n = spin_ns ? ioring_serve_spin(&r, handler, &reg, spin_ns)
				: ioring_serve(&r, handler, &reg);
		if (n < 0)
			_exit(0);
		poll(&p, 1, -1);
	}
}

struct ring_cfg {
	unsigned srv_spin_ns; /* 0: the server blocks in poll after each batch */
	unsigned req_spin_ns; /* 0: the requester sleeps in the futex at once */
	unsigned gap_us;      /* idle time between calls */
};

/* A one-slot ring, mapped here, and its server: a child pinned to cpu_srv
 * (it inherits this process's pinning otherwise). */
struct ring_pair {
	struct ioring r;
	int fd, bell; /* the ring; our end of the doorbell */
	pid_t server;
};

/* Start the server with c's spins on both sides; exits on failure. */
static void ring_pair_start(struct ring_pair *p, const struct ring_cfg *c, int cpu_srv)
{
	int sv[2];

	p->fd = ioring_create_fd(1);
	if (p->fd < 0 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0 ||
	    ioring_map(p->fd, &p->r) < 0) {
		fprintf(stderr, "ring set-up failed\n");
		exit(1);
	}
	p->server = fork();
	if (p->server == 0) {
		close(sv[0]);
		pin(cpu_srv);
		ring_server(p->fd, sv[1], c->srv_spin_ns);
	}
	close(sv[1]);
	p->bell = sv[0];
	ioring_set_doorbell(&p->r, p->bell);
	ioring_set_spin(&p->r, c->req_spin_ns);
}

/* Closing the doorbell ends the server; reap it and drop the ring. */
static void ring_pair_stop(struct ring_pair *p)
{
	close(p->bell);
	waitpid(p->server, NULL, 0);
	ioring_unmap(&p->r);
	close(p->fd);
}

static void bench_ring(unsigned calls, uint64_t *ns, const struct ring_cfg *c, int cpu_req,
		       int cpu_srv)
{
	struct ring_pair p;
	char what[128];
	uint64_t data;

	ring_pair_start(&p, c, cpu_srv);
	pin(cpu_req);
	for (unsigned i = 0; i < calls; i++) {
		struct ioring_req q = {IORING_SPACE_PIO, 1, i & 1, 0x300 + (i & 31), i & 0xff};
		if (c->gap_us) {
			/* Busy-wait rather than sleep so that only the server
			 * goes idle; a sleeping requester would add its own
			 * wake-up to the measurement. */
			for (uint64_t t = now_ns(); now_ns() - t < c->gap_us * 1000u;)
				;
		}
		uint64_t t0 = now_ns();
		if (ioring_call(&p.r, 0, &q, &data, 5000) < 0) {
			fprintf(stderr, "ioring_call failed at %u\n", i);
			break;
		}
		ns[i] = now_ns() - t0;
	}
	ring_pair_stop(&p);
	unpin();
	snprintf(what, sizeof(what), "ring gap %3uus srv-spin %3uus req-spin %3uus %s", c->gap_us,
		 c->srv_spin_ns / 1000, c->req_spin_ns / 1000, cpu_req < 0 ? "unpinned" : "pinned");
	report(what, ns, calls);
}

/* ---- the real thing: trapped port I/O from a KVM guest ------------------ */

/* A real-mode guest that loops on "in al, dx; out dx, al" at port 0x300:
 * every instruction is an exit to userspace, handled either in-process (a
 * function call, as the vcpu process does for its own legacy devices) or
 * through the ring by a device process. The ratio of the two is the cost
 * of moving a device out of the vcpu process. */
struct kvm_box {
	int kvm, vm, cpu;
	struct kvm_run *run;
	uint8_t *mem;
};

static int kvm_open(struct kvm_box *k)
{
	static const uint8_t code[] = {
	    0xba, 0x00, 0x03, /* mov dx, 0x300 */
	    0xec,	      /* in al, dx */
	    0xee,	      /* out dx, al */
	    0xeb, 0xfc,	      /* jmp back to the in */
	};
	struct kvm_sregs sregs;
	struct kvm_regs regs = {.rip = 0x1000, .rflags = 2};

	k->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (k->kvm < 0)
		return -errno;
	k->vm = ioctl(k->kvm, KVM_CREATE_VM, 0);
	k->mem = mmap(NULL, 0x10000, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (k->vm < 0 || k->mem == MAP_FAILED)
		return -errno;
	memcpy(k->mem + 0x1000, code, sizeof(code));
	struct kvm_userspace_memory_region region = {.memory_size = 0x10000,
						     .userspace_addr = (uintptr_t)k->mem};
	if (ioctl(k->vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		return -errno;
	k->cpu = ioctl(k->vm, KVM_CREATE_VCPU, 0);
	int sz = ioctl(k->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (k->cpu < 0 || sz <= 0)
		return -errno;
	k->run = mmap(NULL, (size_t)sz, PROT_READ | PROT_WRITE, MAP_SHARED, k->cpu, 0);
	if (k->run == MAP_FAILED || ioctl(k->cpu, KVM_GET_SREGS, &sregs) < 0)
		return -errno;
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	if (ioctl(k->cpu, KVM_SET_SREGS, &sregs) < 0 || ioctl(k->cpu, KVM_SET_REGS, &regs) < 0)
		return -errno;
	return 0;
}

/* Run calls exits; each is handled by ioring_call() on r, or in-process
 * when r is NULL. Per-exit time includes the exit itself. */
static int kvm_loop(struct kvm_box *k, struct ioring *r, unsigned calls, uint64_t *ns)
{
	uint64_t reg = 0;

	for (unsigned i = 0; i < calls; i++) {
		uint64_t t0 = now_ns();
		if (ioctl(k->cpu, KVM_RUN, 0) < 0 || k->run->exit_reason != KVM_EXIT_IO)
			return -EIO;
		uint8_t *p = (uint8_t *)k->run + k->run->io.data_offset;
		bool out = k->run->io.direction == KVM_EXIT_IO_OUT;
		uint64_t data = out ? *p : 0;
		if (r) {
			struct ioring_req q = {IORING_SPACE_PIO, k->run->io.size, out,
					       k->run->io.port, data};
			if (ioring_call(r, 0, &q, &data, 5000) < 0)
				return -EPIPE;
		} else {
			handler(&reg, IORING_SPACE_PIO, k->run->io.port, k->run->io.size, out,
				&data);
		}
		if (!out)
			*p = (uint8_t)data;
		ns[i] = now_ns() - t0;
	}
	return 0;
}

static void bench_kvm(unsigned calls, uint64_t *ns, const struct ring_cfg *c, int cpu_req,
		      int cpu_srv)
{
	struct kvm_box k;
	char what[128];
	int r = kvm_open(&k);

	if (r < 0) {
		printf("# no KVM exits measured: %s\n", strerror(-r));
		return;
	}
	pin(cpu_req);
	if (!c) {
		r = kvm_loop(&k, NULL, calls, ns);
		snprintf(what, sizeof(what), "KVM PIO exit, handled in-process %s",
			 cpu_req < 0 ? "unpinned" : "pinned");
	} else {
		struct ring_pair p;

		ring_pair_start(&p, c, cpu_srv);
		r = kvm_loop(&k, &p.r, calls, ns);
		ring_pair_stop(&p);
		snprintf(what, sizeof(what), "KVM PIO exit, ring srv-spin %3uus req-spin %3uus %s",
			 c->srv_spin_ns / 1000, c->req_spin_ns / 1000,
			 cpu_req < 0 ? "unpinned" : "pinned");
	}
	unpin();
	close(k.cpu);
	close(k.vm);
	close(k.kvm);
	if (r < 0)
		printf("# KVM loop failed: %s\n", strerror(-r));
	else
		report(what, ns, calls);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: ioring-pingpong [-n CALLS] [-P|-U] [-K] [-r REQ_SPIN_US -s SRV_SPIN_US "
		"-g GAP_US]\n"
		"  without -r/-s/-g: the baselines, the table of ring set-ups and the\n"
		"  KVM exits (-K: skip those)\n"
		"  -P: pinned only, -U: unpinned only\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct ring_cfg table[] = {
	    {0, 0, 0},
	    {0, IORING_SPIN_NS, 0},
	    {50000, 0, 0},
	    {50000, IORING_SPIN_NS, 0},
	    {0, 0, 200},
	    {0, IORING_SPIN_NS, 200},
	    {50000, IORING_SPIN_NS, 200},
	    {500000, IORING_SPIN_NS, 200},
	};
	static const struct ring_cfg kvm_cfgs[] = {
	    {0, 0, 0},
	    {0, IORING_SPIN_NS, 0},
	    {50000, IORING_SPIN_NS, 0},
	};
	struct ring_cfg one = {0, IORING_SPIN_NS, 0};
	const struct ring_cfg *cfgs = table;
	size_t ncfgs = sizeof(table) / sizeof(table[0]);
	unsigned calls = 100000;
	int pinned = 1, unpinned = 1, kvm = 1, opt;

	while ((opt = getopt(argc, argv, "n:PUKr:s:g:")) != -1) {
		switch (opt) {
		case 'K':
			kvm = 0;
			break;
		case 'n':
			calls = (unsigned)strtoul(optarg, NULL, 0);
			break;
		case 'P':
			unpinned = 0;
			break;
		case 'U':
			pinned = 0;
			break;
		case 'r':
			one.req_spin_ns = (unsigned)strtoul(optarg, NULL, 0) * 1000;
			cfgs = &one;
			break;
		case 's':
			one.srv_spin_ns = (unsigned)strtoul(optarg, NULL, 0) * 1000;
			cfgs = &one;
			break;
		case 'g':
			one.gap_us = (unsigned)strtoul(optarg, NULL, 0);
			cfgs = &one;
			break;
		default:
			usage();
		}
	}
	if (cfgs == &one)
		ncfgs = 1;
	if (!calls)
		usage();
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		pinned = 0;

	unsigned idle_calls = calls / 20 ? calls / 20 : 1;
	unsigned kvm_calls = calls / 5 ? calls / 5 : 1;
	uint64_t *ns = calloc(calls, sizeof(*ns));
	if (!ns)
		return 1;
	signal(SIGPIPE, SIG_IGN);
	printf("# %u calls per line (%u with a gap, %u KVM exits); requester CPU 0, server CPU 1 "
	       "when pinned\n",
	       calls, idle_calls, kvm_calls);
	if (cfgs == table) {
		bench_call(calls, ns);
		bench_doorbell_cost(calls, ns);
	}
	for (int p = pinned ? 0 : 1; p < (unpinned ? 2 : 1); p++) {
		int cr = p ? -1 : 0, cs = p ? -1 : 1;

		if (cfgs == table) {
			bench_eventfd(calls, ns, cr, cs);
			bench_futex(calls, ns, cr, cs);
		}
		for (size_t i = 0; i < ncfgs; i++)
			bench_ring(cfgs[i].gap_us ? idle_calls : calls, ns, &cfgs[i], cr, cs);
		if (kvm) {
			const struct ring_cfg *kc = cfgs == table ? kvm_cfgs : &one;
			size_t nk = cfgs == table ? sizeof(kvm_cfgs) / sizeof(kvm_cfgs[0]) : 1;

			bench_kvm(kvm_calls, ns, NULL, cr, cs);
			for (size_t i = 0; i < nk; i++)
				bench_kvm(kvm_calls, ns, &kc[i], cr, cs);
		}
	}
	free(ns);
	return 0;
}
