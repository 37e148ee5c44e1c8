/* The I/O ring across real processes: round trips from concurrent vCPU-like
 * threads to a server in a child, a server that never answers, dies
 * mid-call or scribbles garbage into the shared memory, hostile headers,
 * garbage requests against a real server, and restarts of the server in
 * the same ring (issue 15). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>

#include "ioring.h"
#include "tap.h"

/* Generous: the same bounds must hold under sanitizers and valgrind. */
#define SLACK_MS 300

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static uint64_t mask_of(unsigned size)
{
	return size >= 8 ? ~0ull : (1ull << (size * 8)) - 1;
}

static uint64_t port_value(uint64_t port)
{
	return (port + 1) * 0x9e3779b97f4a7c15ull;
}

/* ---- a well-behaved server in a child ---------------------------------- */

/* MMIO: one 64-bit register per requester thread, selected by addr >> 32;
 * PIO: reads answer port_value(port); special ports for the death tests.
 * Any malformed access reaching the handler aborts the server. */
#define PORT_DIE   0xdead
#define PORT_SLEEP 0xbeef
#define PORT_HANG  0xface /* never answered: the handler waits to be killed */
#define PORT_GATE  0xcafe /* answered once a byte comes on srv_gate */

/* The read end of a pipe whose writer the test holds, inherited by the
 * servers it starts afterwards (file-scope: start_server() is shared). */
static int srv_gate = -1;

struct srv {
	uint64_t reg[IORING_MAX_SLOTS];
	unsigned long calls;
};

static void srv_handler(void *opaque, unsigned space, uint64_t addr, unsigned size, bool is_write,
			uint64_t *data)
{
	struct srv *s = opaque;

	s->calls++;
	if ((size != 1 && size != 2 && size != 4 && size != 8) ||
	    (space != IORING_SPACE_PIO && space != IORING_SPACE_MMIO) ||
	    (is_write && (*data & ~mask_of(size))) ||
	    (space == IORING_SPACE_PIO && addr + size > 0x10000))
		abort();
	if (space == IORING_SPACE_MMIO) {
		if (is_write)
			s->reg[(addr >> 32) % IORING_MAX_SLOTS] = *data;
		else
			*data = s->reg[(addr >> 32) % IORING_MAX_SLOTS];
		return;
	}
	if (addr == PORT_DIE)
		kill(getpid(), SIGKILL);
	if (addr == PORT_SLEEP)
		usleep(2000);
	while (addr == PORT_HANG)
		pause();
	if (addr == PORT_GATE) {
		char b;

		if (read(srv_gate, &b, 1) != 1)
			abort();
	}
	if (!is_write)
		*data = port_value(addr);
}

/* Serve until the requester closes its doorbell end. Exit status 0 on a
 * clean end, 2 if nothing came for 20 s (a hung test). */
static int serve_until_eof(int ringfd, int bell, unsigned spin_ns)
{
	struct srv s = {0};
	struct ioring r;
	struct pollfd p = {.fd = bell, .events = POLLIN};

	if (ioring_map(ringfd, &r) < 0 || ioring_set_doorbell(&r, bell) < 0)
		return 3;
	for (;;) {
		int n = spin_ns ? ioring_serve_spin(&r, srv_handler, &s, spin_ns)
				: ioring_serve(&r, srv_handler, &s);
		if (n == -EPIPE)
			return 0;
		if (n < 0)
			return 4;
		if (poll(&p, 1, 20000) == 0)
			return 2;
	}
}

/* Fork a server on ringfd; *bell gets the requester's doorbell end. */
static pid_t start_server(int ringfd, int *bell, unsigned spin_ns)
{
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		/* A test that fails leaves without killing its server: one
		 * hung on PORT_HANG must not outlive it (nor keep the test's
		 * output pipe open). */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() == 1)
			_exit(5);
		close(sv[0]);
		_exit(serve_until_eof(ringfd, sv[1], spin_ns));
	}
	close(sv[1]);
	*bell = sv[0];
	return pid;
}

/* A new ring of nslots, its server (start_server) and the ring mapped
 * here in *r, without a doorbell yet; returns the server's pid, or -1. */
static pid_t start_served_ring(unsigned nslots, unsigned spin_ns, struct ioring *r, int *bell)
{
	int fd = ioring_create_fd(nslots);
	pid_t pid;

	if (fd < 0)
		return -1;
	pid = start_server(fd, bell, spin_ns);
	if (pid < 0 || ioring_map(fd, r) < 0)
		return -1;
	return pid;
}

static int wait_exit(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* ---- round trips -------------------------------------------------------- */

#define RT_THREADS 4
#define RT_CALLS   5000

struct rt_thread {
	struct ioring *r;
	unsigned slot;
	int failed;
	pthread_t th;
};

/* Each thread writes its own register and reads it back, and reads ports
 * that encode its slot: an answer meant for another thread would show. */
static void *rt_main(void *arg)
{
	struct rt_thread *t = arg;
	uint64_t rnd = 0x1234567 + t->slot, got;
	static const uint8_t sizes[] = {1, 2, 4, 8};

	for (unsigned i = 0; i < RT_CALLS && !t->failed; i++) {
		uint8_t size = sizes[xorshift(&rnd) % 4];
		uint64_t v = xorshift(&rnd) & mask_of(size);
		struct ioring_req w = {IORING_SPACE_MMIO, size, true, (uint64_t)t->slot << 32, v};
		struct ioring_req rd = {IORING_SPACE_MMIO, size, false, (uint64_t)t->slot << 32, 0};
		uint16_t port = (uint16_t)(t->slot << 10 | (i & 0x3ff));
		struct ioring_req pio = {IORING_SPACE_PIO, sizes[i % 3], false, port, 0};

		if (ioring_call(t->r, t->slot, &w, NULL, 5000) != 0 ||
		    ioring_call(t->r, t->slot, &rd, &got, 5000) != 0 || got != v)
			t->failed = 1;
		else if (ioring_call(t->r, t->slot, &pio, &got, 5000) != 0 ||
			 got != (port_value(port) & mask_of(pio.size)))
			t->failed = 2;
	}
	return NULL;
}

static int roundtrip(unsigned server_spin_ns, unsigned req_spin_ns)
{
	struct rt_thread t[RT_THREADS];
	struct ioring r;
	int bell;
	pid_t pid = start_served_ring(RT_THREADS, server_spin_ns, &r, &bell);

	CHECK(pid > 0);
	CHECK(r.nslots == RT_THREADS);
	CHECK(ioring_set_doorbell(&r, bell) == 0);
	ioring_set_spin(&r, req_spin_ns);
	for (unsigned i = 0; i < RT_THREADS; i++) {
		t[i] = (struct rt_thread){.r = &r, .slot = i};
		CHECK(pthread_create(&t[i].th, NULL, rt_main, &t[i]) == 0);
	}
	for (unsigned i = 0; i < RT_THREADS; i++) {
		pthread_join(t[i].th, NULL);
		if (t[i].failed)
			fprintf(stderr, "thread %u failed (%d)\n", i, t[i].failed);
		CHECK(!t[i].failed);
	}
	CHECK(!ioring_is_dead(&r));
	close(bell);
	CHECK(wait_exit(pid) == 0);
	ioring_unmap(&r);
	return 0;
}

static int t_roundtrip(void)
{
	return roundtrip(0, IORING_SPIN_NS);
}

/* The requester never spins: every answer comes through the futex. */
static int t_roundtrip_futex_only(void)
{
	return roundtrip(0, 0);
}

/* The server spins between requests, so requesters skip the doorbell. */
static int t_roundtrip_server_spin(void)
{
	return roundtrip(200000, IORING_SPIN_NS);
}

/* A slow handler (2 ms) is answered through the futex after the spin. */
static int t_slow_answer(void)
{
	struct ioring r;
	uint64_t got;
	int bell;
	pid_t pid = start_served_ring(1, 0, &r, &bell);

	CHECK(pid > 0 && ioring_set_doorbell(&r, bell) == 0);
	struct ioring_req q = {IORING_SPACE_PIO, 2, false, PORT_SLEEP, 0};
	for (int i = 0; i < 5; i++) {
		CHECK(ioring_call(&r, 0, &q, &got, 2000) == 0);
		CHECK(got == (port_value(PORT_SLEEP) & 0xffff));
	}
	close(bell);
	CHECK(wait_exit(pid) == 0);
	return 0;
}

/* A requester that never pauses must not keep a spinning server from
 * returning to its own loop (here both ends live in one process). */
struct flood {
	struct ioring *r;
	pthread_mutex_t lock; /* a plain lock for stop: helgrind knows no atomics */
	int stop;
	unsigned long calls;
};

static bool flood_stopped(struct flood *f)
{
	pthread_mutex_lock(&f->lock);
	bool stop = f->stop;
	pthread_mutex_unlock(&f->lock);
	return stop;
}

static void *flood_main(void *arg)
{
	struct flood *f = arg;
	struct ioring_req q = {IORING_SPACE_MMIO, 8, true, 0, 1};

	while (!flood_stopped(f))
		if (ioring_call(f->r, 0, &q, NULL, 5000) == 0)
			f->calls++;
	return NULL;
}

static int t_spin_bounded(void)
{
	struct srv s = {0};
	struct ioring req, srv;
	struct flood f = {.r = &req, .lock = PTHREAD_MUTEX_INITIALIZER};
	pthread_t th;
	int fd = ioring_create_fd(1);

	CHECK(fd >= 0 && ioring_map(fd, &req) == 0 && ioring_map(fd, &srv) == 0);
	CHECK(pthread_create(&th, NULL, flood_main, &f) == 0);
	for (int i = 0; i < 20; i++) {
		uint64_t t0 = now_ms();
		/* Far longer than the flood ever leaves it idle. */
		CHECK(ioring_serve_spin(&srv, srv_handler, &s, 1000000000u) >= 0);
		CHECK(now_ms() - t0 < 1 + SLACK_MS);
	}
	pthread_mutex_lock(&f.lock);
	f.stop = 1;
	pthread_mutex_unlock(&f.lock);
	/* Answer whatever is still posted, so the flood thread can see stop. */
	for (uint64_t t0 = now_ms(); now_ms() - t0 < 100;)
		ioring_serve(&srv, srv_handler, &s);
	pthread_join(th, NULL);
	CHECK(f.calls > 0 && !ioring_is_dead(&req));
	return 0;
}

/* ---- what a call costs (the counters in struct ioring) ------------------ */

/* A server that keeps spinning (ioring_serve_spin over and over) in a
 * thread of this process, on its own mapping of the ring, until told to
 * stop; returns its mapping so the test can read its counters. */
struct awake {
	struct ioring srv;
	struct srv s;
	pthread_mutex_t lock;
	int stop;
	unsigned spin_ns; /* 0: 100 ms */
	pthread_t th;
};

static void *awake_main(void *arg)
{
	struct awake *a = arg;

	for (;;) {
		pthread_mutex_lock(&a->lock);
		int stop = a->stop;
		pthread_mutex_unlock(&a->lock);
		if (stop)
			break;
		ioring_serve_spin(&a->srv, srv_handler, &a->s,
				  a->spin_ns ? a->spin_ns : 100000000u);
	}
	return NULL;
}

/* A requester whose spin outlasts the answer never announces itself as a
 * waiter, so the server issues no FUTEX_WAKE at all. The spin here is far
 * longer than any scheduling delay, so that count is exact, not a matter
 * of timing. How many calls are answered within the first look (no
 * syscall), and how many ring the doorbell (the server's spin returns
 * every millisecond under a flood, and is idle until called again),
 * depends on whether the two threads got a CPU each: printed only. */
static int t_no_wake_while_spinning(void)
{
	struct awake a = {.lock = PTHREAD_MUTEX_INITIALIZER};
	struct ioring req;
	int fd = ioring_create_fd(1), sv[2];
	uint64_t got;

	CHECK(fd >= 0 && ioring_map(fd, &req) == 0 && ioring_map(fd, &a.srv) == 0);
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	CHECK(ioring_set_doorbell(&req, sv[0]) == 0 && ioring_set_doorbell(&a.srv, sv[1]) == 0);
	ioring_set_spin(&req, 2000000000u);
	CHECK(pthread_create(&a.th, NULL, awake_main, &a) == 0);
	uint64_t bells = req.local[0].doorbells;
	for (unsigned i = 0; i < 20000; i++) {
		struct ioring_req q = {IORING_SPACE_PIO, 2, false, 0x300 + (i & 0xff), 0};
		CHECK(ioring_call(&req, 0, &q, &got, 5000) == 0);
		CHECK(got == (port_value(q.addr) & 0xffff));
	}
	pthread_mutex_lock(&a.lock);
	a.stop = 1;
	pthread_mutex_unlock(&a.lock);
	pthread_join(a.th, NULL);
	fprintf(stderr, "# 20000 calls: %lu quick, %lu doorbells, %lu sleeps, %lu wakes\n",
		(unsigned long)req.local[0].quick, (unsigned long)(req.local[0].doorbells - bells),
		(unsigned long)req.local[0].sleeps, (unsigned long)a.srv.wakes);
	CHECK(req.local[0].calls >= 20000);
	CHECK(req.local[0].sleeps == 0);
	CHECK(a.srv.wakes == 0);
	CHECK(req.local[0].quick <= req.local[0].calls);
	CHECK(!ioring_is_dead(&req));
	close(sv[0]);
	close(sv[1]);
	return 0;
}

/* Requests 150 us apart, three times the server's base spin of 50 us: the
 * server learns the gap (its average, each sample capped at twice
 * IORING_SERVE_ADAPT_MAX_NS) and waits twice that before it goes idle.
 * The estimate is checked; what the server then does with it (spin
 * longer) is timing, which this machine's load would make flaky. */
static int t_server_learns_gap(void)
{
	struct awake a = {.lock = PTHREAD_MUTEX_INITIALIZER};
	struct ioring req;
	int fd = ioring_create_fd(1), sv[2];
	uint64_t got;

	CHECK(fd >= 0 && ioring_map(fd, &req) == 0 && ioring_map(fd, &a.srv) == 0);
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	CHECK(ioring_set_doorbell(&req, sv[0]) == 0 && ioring_set_doorbell(&a.srv, sv[1]) == 0);
	a.spin_ns = 50000;
	CHECK(pthread_create(&a.th, NULL, awake_main, &a) == 0);
	for (unsigned i = 0; i < 400; i++) {
		struct ioring_req q = {IORING_SPACE_PIO, 1, false, 0x300, 0};
		struct timespec t0, t;

		CHECK(ioring_call(&req, 0, &q, &got, 5000) == 0);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		do
			clock_gettime(CLOCK_MONOTONIC, &t);
		while ((t.tv_sec - t0.tv_sec) * 1000000000 + t.tv_nsec - t0.tv_nsec < 150000);
	}
	pthread_mutex_lock(&a.lock);
	a.stop = 1;
	pthread_mutex_unlock(&a.lock);
	pthread_join(a.th, NULL);
	fprintf(stderr, "# gap 150 us: learnt %lu ns\n", (unsigned long)a.srv.gap_ns);
	CHECK(a.srv.gap_ns >= 100000 && a.srv.gap_ns <= 2ull * IORING_SERVE_ADAPT_MAX_NS);
	close(sv[0]);
	close(sv[1]);
	return 0;
}

/* The other side: a requester that does not spin sleeps on the futex for
 * a server that only wakes on the doorbell, and is woken once per call. */
static int t_wake_when_sleeping(void)
{
	struct ioring r;
	uint64_t got;
	int bell;
	pid_t pid = start_served_ring(1, 0, &r, &bell);

	CHECK(pid > 0 && ioring_set_doorbell(&r, bell) == 0);
	ioring_set_spin(&r, 0);
	struct ioring_req q = {IORING_SPACE_PIO, 2, false, PORT_SLEEP, 0};
	for (int i = 0; i < 5; i++)
		CHECK(ioring_call(&r, 0, &q, &got, 5000) == 0);
	CHECK(r.local[0].calls == 5 && r.local[0].doorbells == 5);
	CHECK(r.local[0].quick == 0); /* the handler sleeps 2 ms */
	CHECK(r.local[0].sleeps >= 5);
	close(bell);
	CHECK(wait_exit(pid) == 0);
	return 0;
}

/* ---- timeouts and death ------------------------------------------------- */

static int t_timeout(void)
{
	struct ioring r, fresh;
	uint64_t got = 42;
	int fd = ioring_create_fd(2);

	CHECK(fd >= 0 && ioring_map(fd, &r) == 0);
	fresh = r;
	struct ioring_req q = {IORING_SPACE_PIO, 1, false, 0x300, 0};
	uint64_t t0 = now_ms();
	CHECK(ioring_call(&r, 1, &q, &got, 50) == -ETIMEDOUT);
	uint64_t dt = now_ms() - t0;
	CHECK(dt >= 50 && dt < 50 + SLACK_MS);
	CHECK(got == 42);
	CHECK(ioring_is_dead(&r));
	/* The first look found nothing; the spin ran out; then it slept. */
	CHECK(r.local[1].quick == 0 && r.local[1].sleeps >= 1);
	t0 = now_ms();
	CHECK(ioring_call(&r, 0, &q, &got, 1000) == -EPIPE);
	CHECK(now_ms() - t0 < 5);

	/* A zero timeout still looks once (spin), then gives up at once. */
	t0 = now_ms();
	CHECK(ioring_call(&fresh, 0, &q, &got, 0) == -ETIMEDOUT);
	CHECK(now_ms() - t0 < SLACK_MS);
	return 0;
}

/* The server dies (SIGKILL) while handling our request: the call times
 * out, later calls fail at once; a fresh view of the ring learns of the
 * death from the doorbell without waiting at all. */
static int t_server_killed(void)
{
	struct ioring r, fresh;
	uint64_t got;
	int bell;
	pid_t pid = start_served_ring(1, 0, &r, &bell);

	CHECK(pid > 0 && ioring_set_doorbell(&r, bell) == 0);
	fresh = r;
	struct ioring_req ok = {IORING_SPACE_PIO, 4, false, 0x310, 0};
	CHECK(ioring_call(&r, 0, &ok, &got, 2000) == 0);
	struct ioring_req die = {IORING_SPACE_PIO, 1, true, PORT_DIE, 1};
	uint64_t t0 = now_ms();
	CHECK(ioring_call(&r, 0, &die, NULL, 200) == -ETIMEDOUT);
	CHECK(now_ms() - t0 < 200 + SLACK_MS);
	CHECK(wait_exit(pid) == 128 + SIGKILL);
	t0 = now_ms();
	CHECK(ioring_call(&r, 0, &ok, &got, 2000) == -EPIPE);
	CHECK(ioring_call(&fresh, 0, &ok, &got, 2000) == -EPIPE);
	CHECK(ioring_is_dead(&fresh));
	CHECK(now_ms() - t0 < 5);
	return 0;
}

/* ---- a hostile server --------------------------------------------------- */

/* Scribble over slot 0 and the header forever, in every way we can think
 * of, sometimes fast, sometimes with pauses long enough for the requester
 * to go to sleep on the futex, waking it now and then. */
static void scribbler(int fd)
{
	struct ioring r;
	uint64_t rnd = 0x9876543210fedcbaull;

	if (ioring_map(fd, &r) < 0)
		_exit(3);
	volatile struct ioring_slot *s = &r.slots[0];
	volatile struct ioring_hdr *h = r.hdr;
	for (;;) {
		uint64_t x = xorshift(&rnd);
		uint32_t seq = s->seq;

		switch (x % 8) {
		case 0: /* everything random */
			s->seq = (uint32_t)(x >> 8);
			s->size = (uint8_t)(x >> 40);
			s->data = xorshift(&rnd);
			s->state = (uint32_t)(x >> 16) % 5;
			break;
		case 1: /* flip the state back and forth */
			for (int i = 0; i < 100; i++)
				s->state = i & 1 ? IORING_RESPONSE : IORING_REQUEST;
			break;
		case 2: /* a stale answer: wrong seq */
			s->seq = seq - 1;
			s->state = IORING_RESPONSE;
			break;
		case 3: /* the right seq with the wrong size */
			s->size = (uint8_t)(s->size + 1 + (x >> 8) % 7);
			s->state = IORING_RESPONSE;
			break;
		case 4: /* a plausible answer with junk data, before or after the request */
			s->data = xorshift(&rnd);
			s->state = IORING_RESPONSE;
			break;
		case 5: /* state words that are not states */
			s->state = (uint32_t)(x >> 3) | 8;
			syscall(SYS_futex, &s->state, FUTEX_WAKE, 1, NULL, NULL, 0);
			break;
		case 6: /* the header and the hints */
			h->nslots = (uint32_t)(x >> 20);
			h->magic = (uint32_t)x;
			h->server_idle = (uint32_t)(x >> 33);
			s->waiters = (uint32_t)(x >> 13);
			break;
		default: /* go quiet for a while */
			usleep((unsigned)(x >> 50) % 3000);
			if (x & 1)
				syscall(SYS_futex, &s->state, FUTEX_WAKE, 1, NULL, NULL, 0);
			break;
		}
	}
}

static int t_hostile_server(void)
{
	struct ioring pristine;
	int fd = ioring_create_fd(1), sv[2];
	int outcome[3] = {0}; /* 0, -EPROTO, -ETIMEDOUT */
	uint64_t rnd = 77;

	CHECK(fd >= 0 && ioring_map(fd, &pristine) == 0);
	/* The scribbler never reads its doorbell end: ours fills up and
	 * keeps returning EAGAIN, which must not block or fail the call. */
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	CHECK(ioring_set_doorbell(&pristine, sv[0]) == 0);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0)
		scribbler(fd);
	for (int i = 0; i < 3000; i++) {
		/* Each call gets a fresh requester-side view: after garbage the
		 * ring is dead, which is what a real vcpu process wants, but
		 * here we want to keep probing. */
		struct ioring r = pristine;
		uint8_t size = (uint8_t)(1u << (xorshift(&rnd) % 4));
		bool wr = xorshift(&rnd) & 1;
		struct ioring_req q = {IORING_SPACE_MMIO, size, wr, xorshift(&rnd), xorshift(&rnd)};
		uint64_t got = 0;
		int timeout = (int)(xorshift(&rnd) % 4);
		uint64_t t0 = now_ms();
		int ret = ioring_call(&r, 0, &q, &got, timeout);
		uint64_t dt = now_ms() - t0;

		if (dt > (uint64_t)timeout + SLACK_MS)
			fprintf(stderr, "call %d took %llu ms\n", i, (unsigned long long)dt);
		CHECK(dt <= (uint64_t)timeout + SLACK_MS);
		CHECK(ret == 0 || ret == -EPROTO || ret == -ETIMEDOUT);
		CHECK(ret == 0 || ioring_is_dead(&r));
		CHECK(got == 0 || (!wr && (got & ~mask_of(size)) == 0));
		outcome[ret == 0 ? 0 : ret == -EPROTO ? 1 : 2]++;
	}
	kill(pid, SIGKILL);
	CHECK(wait_exit(pid) == 128 + SIGKILL);
	printf("# hostile server: %d answers, %d protocol errors, %d timeouts\n", outcome[0],
	       outcome[1], outcome[2]);
	/* The mapping survived whatever was written into the header. */
	CHECK(pristine.nslots == 1);
	return 0;
}

/* ---- hostile headers ---------------------------------------------------- */

static int make_ring_file(size_t size, const struct ioring_hdr *h, int seals)
{
	int fd = memfd_create("t", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd < 0 || ftruncate(fd, (off_t)size) < 0)
		return -1;
	if (h && pwrite(fd, h, sizeof(*h) < size ? sizeof(*h) : size, 0) < 0)
		return -1;
	if (seals && fcntl(fd, F_ADD_SEALS, seals) < 0)
		return -1;
	return fd;
}

static int map_result(size_t size, const struct ioring_hdr *h, int seals)
{
	struct ioring r = {.nslots = 12345};
	int fd = make_ring_file(size, h, seals);

	if (fd < 0)
		return -1000;
	int ret = ioring_map(fd, &r);
	close(fd);
	if (ret < 0 && r.nslots != 12345)
		return -2000; /* *out written on failure */
	if (ret == 0)
		ioring_unmap(&r);
	return ret;
}

static int t_bad_header(void)
{
	const int seals = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL;
	const struct ioring_hdr good = {IORING_MAGIC, IORING_VERSION, 4, IORING_LINE, 1, {0}};
	struct ioring_hdr h;

	CHECK(map_result(IORING_SIZE(4), &good, seals) == 0);
	CHECK(map_result(IORING_SIZE(4), &good, 0) == -EPERM);
	CHECK(map_result(IORING_SIZE(4), &good, F_SEAL_GROW | F_SEAL_SEAL) == -EPERM);
	h = good;
	h.magic ^= 1;
	CHECK(map_result(IORING_SIZE(4), &h, seals) == -EBADMSG);
	h = good;
	h.version = IORING_VERSION + 1;
	CHECK(map_result(IORING_SIZE(4), &h, seals) == -EBADMSG);
	h = good;
	h.slot_size = 128;
	CHECK(map_result(IORING_SIZE(4), &h, seals) == -EBADMSG);
	h = good;
	h.nslots = 1000; /* more than the file holds */
	CHECK(map_result(IORING_SIZE(4), &h, seals) == -EBADMSG);
	h.nslots = 5;
	CHECK(map_result(IORING_SIZE(4), &h, seals) == -EBADMSG);
	h.nslots = 3; /* fewer than the file holds: still a mismatch */
	CHECK(map_result(IORING_SIZE(4), &h, seals) == -EBADMSG);
	h.nslots = 0;
	CHECK(map_result(IORING_LINE, &h, seals) == -EBADMSG);
	CHECK(map_result(0, NULL, seals) == -EBADMSG);
	CHECK(map_result(32, &good, seals) == -EBADMSG);
	CHECK(map_result(IORING_SIZE(4) + 8, &good, seals) == -EBADMSG);
	h = good;
	h.nslots = IORING_MAX_SLOTS + 1;
	CHECK(map_result(IORING_SIZE(IORING_MAX_SLOTS + 1), &h, seals) == -EBADMSG);
	h.nslots = IORING_MAX_SLOTS;
	CHECK(map_result(IORING_SIZE(IORING_MAX_SLOTS), &h, seals) == 0);

	/* Not a memfd at all. */
	struct ioring r;
	int p[2];
	CHECK(pipe(p) == 0);
	CHECK(ioring_map(p[0], &r) == -EBADMSG);
	CHECK(ioring_map(-1, &r) == -EBADF);

	/* The creator's own checks and seals. */
	CHECK(ioring_create_fd(0) == -EINVAL);
	CHECK(ioring_create_fd(IORING_MAX_SLOTS + 1) == -EINVAL);
	int fd = ioring_create_fd(3);
	CHECK(fd >= 0);
	CHECK((fcntl(fd, F_GET_SEALS) & seals) == seals);
	CHECK(ftruncate(fd, 64) < 0 && errno == EPERM);
	CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC);

	/* Scribbling on the header after mapping changes nothing for us. */
	CHECK(ioring_map(fd, &r) == 0 && r.nslots == 3);
	__atomic_store_n(&r.hdr->nslots, 64, __ATOMIC_RELAXED);
	struct ioring_req q = {IORING_SPACE_PIO, 1, false, 0x300, 0};
	CHECK(ioring_call(&r, 3, &q, NULL, 10) == -EINVAL);
	CHECK(!ioring_is_dead(&r));
	ioring_unmap(&r);
	ioring_unmap(&r); /* idempotent */
	return 0;
}

/* ---- arguments the requester must refuse -------------------------------- */

static int t_bad_call(void)
{
	struct ioring r;
	int fd = ioring_create_fd(2), efd = eventfd(0, EFD_CLOEXEC), sv[2];

	CHECK(fd >= 0 && efd >= 0 && ioring_map(fd, &r) == 0);
	CHECK(ioring_set_doorbell(&r, efd) == -ENOTSOCK);
	CHECK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) == 0);
	CHECK(ioring_set_doorbell(&r, sv[0]) == -EPROTOTYPE);
	CHECK(r.doorbell == -1);

	const struct ioring_req bad[] = {
	    {IORING_SPACE_PIO, 3, false, 0x300, 0},
	    {IORING_SPACE_PIO, 0, false, 0x300, 0},
	    {IORING_SPACE_PIO, 16, false, 0x300, 0},
	    {0, 1, false, 0x300, 0},
	    {7, 4, true, 0x300, 0},
	    {IORING_SPACE_PIO, 2, false, 0xffff, 0},
	    {IORING_SPACE_PIO, 1, false, 0x10000, 0},
	    {IORING_SPACE_PIO, 8, false, UINT64_MAX - 3, 0},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(ioring_call(&r, 0, &bad[i], NULL, 10) == -EINVAL);
	struct ioring_req q = {IORING_SPACE_MMIO, 4, false, 0xfee00000, 0};
	CHECK(ioring_call(&r, 2, &q, NULL, 10) == -EINVAL);
	CHECK(ioring_call(&r, UINT32_MAX, &q, NULL, 10) == -EINVAL);
	CHECK(ioring_call(&r, 0, &q, NULL, -1) == -EINVAL);
	CHECK(!ioring_is_dead(&r));
	/* Nothing was posted. */
	CHECK(__atomic_load_n(&r.slots[0].state, __ATOMIC_RELAXED) == IORING_IDLE);
	ioring_mark_dead(&r);
	CHECK(ioring_call(&r, 0, &q, NULL, 10) == -EPIPE);
	return 0;
}

/* ---- a hostile requester against a real server ------------------------- */

/* Post raw garbage into a slot as a compromised vcpu process would, ring,
 * and wait for the state to turn to RESPONSE. */
static int post_raw(struct ioring *r, int bell, uint8_t space, uint8_t size, uint8_t is_write,
		    uint64_t addr, uint64_t *data)
{
	volatile struct ioring_slot *s = &r->slots[0];

	s->space = space;
	s->size = size;
	s->is_write = is_write;
	s->addr = addr;
	s->data = 0x1234;
	s->seq = 99;
	__atomic_store_n(&s->state, IORING_REQUEST, __ATOMIC_SEQ_CST);
	if (write(bell, "x", 1) != 1)
		return -1;
	for (uint64_t t0 = now_ms(); now_ms() - t0 < 5000;) {
		if (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) == IORING_RESPONSE) {
			*data = s->data;
			return s->seq == 99 && s->size == size ? 0 : -2;
		}
		usleep(100);
	}
	return -3;
}

static int t_garbage_requests(void)
{
	struct ioring r;
	uint64_t data;
	int bell;
	pid_t pid = start_served_ring(1, 0, &r, &bell);

	CHECK(pid > 0);

	CHECK(post_raw(&r, bell, IORING_SPACE_PIO, 3, 0, 0x300, &data) == 0);
	CHECK(data == ~0ull);
	CHECK(post_raw(&r, bell, 0, 4, 0, 0x300, &data) == 0);
	CHECK(data == 0xffffffff);
	CHECK(post_raw(&r, bell, 200, 2, 0, 0x300, &data) == 0);
	CHECK(data == 0xffff);
	CHECK(post_raw(&r, bell, IORING_SPACE_PIO, 2, 0, 0xffff, &data) == 0);
	CHECK(data == 0xffff);
	CHECK(post_raw(&r, bell, IORING_SPACE_MMIO, 1, 2, 0x300, &data) == 0);
	CHECK(data == 0x1234); /* is_write 2: neither read nor write, dropped */
	CHECK(post_raw(&r, bell, IORING_SPACE_PIO, 255, 1, 0x300, &data) == 0);
	CHECK(data == 0x1234); /* a dropped write leaves data alone */
	/* A write with bits above its size reaches the handler masked (the
	 * handler aborts otherwise). */
	CHECK(post_raw(&r, bell, IORING_SPACE_MMIO, 1, 1, 0, &data) == 0);

	/* The server survived and still answers properly. */
	CHECK(ioring_set_doorbell(&r, bell) == 0);
	uint64_t got;
	struct ioring_req q = {IORING_SPACE_PIO, 2, false, 0x301, 0};
	CHECK(ioring_call(&r, 0, &q, &got, 2000) == 0);
	CHECK(got == (port_value(0x301) & 0xffff));
	close(bell);
	CHECK(wait_exit(pid) == 0);
	return 0;
}

/* ---- death wakes the waiters; restart (issue 15) ------------------------ */

/* Far longer than any test waits: a call that returns sooner was ended,
 * not timed out (moat-vcpu waits this long too). */
#define LONG_MS 10000

/* One call on one slot from a thread of its own, watched by the test. */
struct caller {
	struct ioring *r;
	unsigned slot;
	struct ioring_req q;
	uint64_t got; /* the test's sentinel, unless an answer came */
	int ret;
	pid_t tid;	  /* visible to whoever saw the slot's REQUEST */
	uint64_t done_ms; /* when the call returned */
	pthread_t th;
};

static void *caller_main(void *arg)
{
	struct caller *c = arg;

	c->tid = (pid_t)syscall(SYS_gettid);
	c->ret = ioring_call(c->r, c->slot, &c->q, &c->got, LONG_MS);
	c->done_ms = now_ms();
	return NULL;
}

/* Wait (at most 5 s) until slot holds a request: its caller is inside
 * ioring_call(), past the post. */
static bool wait_posted(struct ioring *r, unsigned slot)
{
	for (uint64_t t0 = now_ms(); now_ms() - t0 < 5000; usleep(100))
		if (__atomic_load_n(&r->slots[slot].state, __ATOMIC_ACQUIRE) == IORING_REQUEST)
			return true;
	return false;
}

/* Wait (at most 5 s) until thread tid, having announced itself as a
 * waiter on slot, sleeps ('S' in its stat): it is in its futex wait. */
static bool wait_asleep(struct ioring *r, unsigned slot, pid_t tid)
{
	char path[64], buf[512];

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
	for (uint64_t t0 = now_ms(); now_ms() - t0 < 5000; usleep(100)) {
		if (!__atomic_load_n(&r->slots[slot].waiters, __ATOMIC_ACQUIRE))
			continue;
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

		if (fd >= 0)
			close(fd);
		if (n <= 0)
			return false;
		buf[n] = 0;
		char *p = strrchr(buf, ')');
		if (p && p[1] == ' ' && p[2] == 'S')
			return true;
	}
	return false;
}

/* A call waiting for a server that never answers (its handler hangs)
 * returns -EPIPE as soon as another thread marks the ring dead, not at
 * its deadline 10 s on: whether it is spinning (a spin of 4 s, which it
 * never leaves for the futex) or asleep on the futex (no spin at all). */
static int dead_wakes(unsigned spin_ns, bool asleep)
{
	struct ioring r;
	int bell;
	pid_t pid = start_served_ring(2, 0, &r, &bell);
	struct caller c = {.r = &r, .slot = 1, .q = {IORING_SPACE_PIO, 4, false, PORT_HANG, 0}};

	CHECK(pid > 0 && ioring_set_doorbell(&r, bell) == 0);
	ioring_set_spin(&r, spin_ns);
	c.got = 42;
	CHECK(pthread_create(&c.th, NULL, caller_main, &c) == 0);
	CHECK(wait_posted(&r, 1));
	if (asleep)
		CHECK(wait_asleep(&r, 1, c.tid));
	uint64_t t0 = now_ms();
	ioring_mark_dead(&r);
	pthread_join(c.th, NULL);
	CHECK(c.ret == -EPIPE && c.got == 42);
	CHECK(c.done_ms - t0 < SLACK_MS);
	CHECK(asleep ? r.local[1].sleeps >= 1 : r.local[1].sleeps == 0);
	CHECK(ioring_is_dead(&r));
	kill(pid, SIGKILL);
	CHECK(wait_exit(pid) == 128 + SIGKILL);
	close(bell);
	return 0;
}

static int t_dead_wakes_spinner(void)
{
	return dead_wakes(UINT_MAX, false);
}

static int t_dead_wakes_sleeper(void)
{
	return dead_wakes(0, true);
}

/* A call that times out kills the ring, and that ends the wait of every
 * other call on it at once. The server hangs on slot 0's request, posted
 * first, so it never sees slot 1's (it scans slot 0 first). */
static int t_timeout_ends_others(void)
{
	struct ioring r;
	int bell;
	pid_t pid = start_served_ring(2, 0, &r, &bell);
	struct caller c = {.r = &r, .slot = 0, .q = {IORING_SPACE_PIO, 4, false, PORT_HANG, 0}};
	struct ioring_req q = {IORING_SPACE_PIO, 2, false, 0x300, 0};

	CHECK(pid > 0 && ioring_set_doorbell(&r, bell) == 0);
	ioring_set_spin(&r, 0);
	CHECK(pthread_create(&c.th, NULL, caller_main, &c) == 0);
	CHECK(wait_posted(&r, 0));
	CHECK(ioring_call(&r, 1, &q, NULL, 50) == -ETIMEDOUT);
	uint64_t t0 = now_ms();
	pthread_join(c.th, NULL);
	CHECK(c.ret == -EPIPE);
	CHECK(c.done_ms < t0 || c.done_ms - t0 < SLACK_MS);
	kill(pid, SIGKILL);
	CHECK(wait_exit(pid) == 128 + SIGKILL);
	close(bell);
	return 0;
}

/* The first half of a restart, as moat-vcpu and the monitor do it: the
 * server pid dies, the ring is marked dead and reset in place, a new
 * server maps it, and its doorbell takes the old one's descriptor number
 * (dup3). The caller then revives the ring. Returns the new server's pid,
 * or -1. */
static pid_t restart_begin(struct ioring *r, int fd, pid_t pid, int bell)
{
	int nbell;
	pid_t npid;

	if (kill(pid, SIGKILL) < 0 || wait_exit(pid) != 128 + SIGKILL)
		return -1;
	ioring_mark_dead(r);
	if (ioring_reset_fd(fd) < 0)
		return -1;
	npid = start_server(fd, &nbell, 0);
	if (npid < 0 || dup3(nbell, bell, O_CLOEXEC) < 0)
		return -1;
	close(nbell);
	return npid;
}

/* Three restarts: between death and revival calls fail at once; after it
 * every slot is served again, by the new server (its registers start at
 * 0), with the right answers. */
static int t_restart(void)
{
	struct ioring r;
	int fd = ioring_create_fd(2), bell;
	pid_t pid;

	CHECK(fd >= 0 && ioring_map(fd, &r) == 0);
	pid = start_server(fd, &bell, 0);
	CHECK(pid > 0 && ioring_set_doorbell(&r, bell) == 0);
	for (unsigned gen = 0;; gen++) {
		for (unsigned slot = 0; slot < 2; slot++) {
			uint64_t reg = (uint64_t)slot << 32, v = 0x1111ull * (gen + 1) + slot,
				 got = 1;
			struct ioring_req rd = {IORING_SPACE_MMIO, 8, false, reg, 0};
			struct ioring_req wr = {IORING_SPACE_MMIO, 8, true, reg, v};
			struct ioring_req pio = {IORING_SPACE_PIO, 4, false, 0x3f8 + slot, 0};

			CHECK(ioring_call(&r, slot, &rd, &got, 5000) == 0 && got == 0);
			CHECK(ioring_call(&r, slot, &wr, NULL, 5000) == 0);
			CHECK(ioring_call(&r, slot, &rd, &got, 5000) == 0 && got == v);
			CHECK(ioring_call(&r, slot, &pio, &got, 5000) == 0);
			CHECK(got == (port_value(pio.addr) & 0xffffffff));
		}
		if (gen == 3)
			break;
		pid = restart_begin(&r, fd, pid, bell);
		CHECK(pid > 0);
		struct ioring_req q = {IORING_SPACE_PIO, 1, false, 0x300, 0};
		CHECK(ioring_is_dead(&r) && ioring_call(&r, 0, &q, NULL, 5000) == -EPIPE);
		ioring_revive(&r);
		CHECK(!ioring_is_dead(&r));
	}
	ioring_revive(&r); /* a live ring: nothing to do */
	CHECK(!ioring_is_dead(&r));
	close(bell);
	CHECK(wait_exit(pid) == 0);
	return 0;
}

/* A server that scribbled over all of the ring before it died:
 * ioring_reset_fd() leaves the ring exactly as ioring_create_fd() does,
 * so ioring_map() takes it and a new server serves every slot. */
static int t_reset_after_scribble(void)
{
	struct ioring r, want, tmp;
	int fd = ioring_create_fd(3), fresh = ioring_create_fd(3), bell;
	pid_t pid;

	CHECK(fd >= 0 && fresh >= 0 && ioring_map(fd, &r) == 0 && ioring_map(fresh, &want) == 0);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		struct ioring s;
		uint64_t rnd = 0x5c1bb1e5, *w;

		if (ioring_map(fd, &s) < 0)
			_exit(3);
		w = s.base;
		for (size_t i = 0; i < s.len / sizeof(*w); i++)
			__atomic_store_n(&w[i], xorshift(&rnd), __ATOMIC_RELAXED);
		_exit(0);
	}
	CHECK(wait_exit(pid) == 0);
	CHECK(ioring_map(fd, &tmp) == -EBADMSG); /* the scribbles took */
	ioring_mark_dead(&r);
	CHECK(ioring_reset_fd(fd) == 0);
	CHECK(memcmp(r.base, want.base, r.len) == 0);
	CHECK(ioring_map(fd, &tmp) == 0 && tmp.nslots == 3);
	ioring_unmap(&tmp);

	pid = start_server(fd, &bell, 0);
	CHECK(pid > 0 && ioring_set_doorbell(&r, bell) == 0);
	ioring_revive(&r);
	for (unsigned slot = 0; slot < 3; slot++) {
		struct ioring_req q = {IORING_SPACE_PIO, 2, false, 0x60 + slot, 0};
		uint64_t got;

		CHECK(ioring_call(&r, slot, &q, &got, 5000) == 0);
		CHECK(got == (port_value(q.addr) & 0xffff));
	}
	close(bell);
	CHECK(wait_exit(pid) == 0);
	return 0;
}

/* ioring_reset_fd() refuses a file that cannot be a ring, and leaves it
 * as it was. */
static int t_reset_bad_size(void)
{
	static uint8_t buf[IORING_SIZE(IORING_MAX_SLOTS + 1)];
	const size_t bad[] = {
	    0, 32, IORING_LINE, IORING_SIZE(4) + 8, IORING_SIZE(IORING_MAX_SLOTS + 1),
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int fd = make_ring_file(bad[i], NULL, 0);

		CHECK(fd >= 0);
		memset(buf, 0xa5, bad[i]);
		CHECK(pwrite(fd, buf, bad[i], 0) == (ssize_t)bad[i]);
		CHECK(ioring_reset_fd(fd) == -EBADMSG);
		memset(buf, 0, sizeof(buf));
		CHECK(pread(fd, buf, sizeof(buf), 0) == (ssize_t)bad[i]);
		for (size_t j = 0; j < bad[i]; j++)
			CHECK(buf[j] == 0xa5);
		close(fd);
	}
	int p[2];
	CHECK(pipe(p) == 0);
	CHECK(ioring_reset_fd(p[1]) == -EBADMSG);
	CHECK(ioring_reset_fd(-1) == -EBADF);
	return 0;
}

/* A call held inside ioring_call() while the ring dies and is revived:
 * a signal handler parks the calling thread (after it posted, while it
 * waits) until the restart is over. The call must then return -ESTALE,
 * take nothing as an answer, and leave the revived ring alive. File-scope
 * because a signal handler has no other way to them: [0] handler -> test
 * (parked), [1] test -> handler (go on). */
static int park_pipe[2][2];

static void park_handler(int sig)
{
	int saved = errno;
	char b = 0;

	(void)sig;
	if (write(park_pipe[0][1], &b, 1) != 1 || read(park_pipe[1][0], &b, 1) != 1)
		abort();
	errno = saved;
}

static int t_call_across_restart(void)
{
	struct ioring r;
	struct sigaction sa = {.sa_handler = park_handler, .sa_flags = SA_RESTART};
	struct caller c = {.r = &r, .slot = 0, .q = {IORING_SPACE_PIO, 4, false, PORT_HANG, 0}};
	int fd = ioring_create_fd(1), bell;
	uint64_t got;
	char b;

	CHECK(fd >= 0 && ioring_map(fd, &r) == 0);
	CHECK(pipe2(park_pipe[0], O_CLOEXEC) == 0 && pipe2(park_pipe[1], O_CLOEXEC) == 0);
	CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
	pid_t pid = start_server(fd, &bell, 0);
	CHECK(pid > 0 && ioring_set_doorbell(&r, bell) == 0);
	c.got = 42;
	CHECK(pthread_create(&c.th, NULL, caller_main, &c) == 0);
	CHECK(wait_posted(&r, 0));
	CHECK(pthread_kill(c.th, SIGUSR1) == 0);
	CHECK(read(park_pipe[0][0], &b, 1) == 1);
	pid = restart_begin(&r, fd, pid, bell);
	CHECK(pid > 0);
	ioring_revive(&r);
	CHECK(write(park_pipe[1][1], &b, 1) == 1);
	pthread_join(c.th, NULL);
	CHECK(c.ret == -ESTALE && c.got == 42);
	CHECK(!ioring_is_dead(&r));
	struct ioring_req q = {IORING_SPACE_PIO, 4, false, 0x310, 0};
	CHECK(ioring_call(&r, 0, &q, &got, 5000) == 0 && got == (port_value(0x310) & 0xffffffff));
	close(bell);
	CHECK(wait_exit(pid) == 0);
	return 0;
}

/* An answer that comes after the ring was marked dead is not taken: the
 * call, parked (as above) until the server answered and the ring died,
 * returns -EPIPE, and its sentinel is untouched. */
static int t_answer_after_death(void)
{
	struct ioring r;
	struct sigaction sa = {.sa_handler = park_handler, .sa_flags = SA_RESTART};
	struct caller c = {.r = &r, .slot = 0, .q = {IORING_SPACE_PIO, 4, false, PORT_GATE, 0}};
	int fd = ioring_create_fd(1), bell, gate[2];
	char b = 0;

	CHECK(fd >= 0 && ioring_map(fd, &r) == 0);
	CHECK(pipe2(park_pipe[0], O_CLOEXEC) == 0 && pipe2(park_pipe[1], O_CLOEXEC) == 0);
	CHECK(pipe2(gate, O_CLOEXEC) == 0);
	srv_gate = gate[0];
	CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
	pid_t pid = start_server(fd, &bell, 0);
	CHECK(pid > 0 && ioring_set_doorbell(&r, bell) == 0);
	c.got = 42;
	CHECK(pthread_create(&c.th, NULL, caller_main, &c) == 0);
	CHECK(wait_posted(&r, 0));
	CHECK(pthread_kill(c.th, SIGUSR1) == 0);
	CHECK(read(park_pipe[0][0], &b, 1) == 1);
	CHECK(write(gate[1], &b, 1) == 1);
	for (uint64_t t0 = now_ms();; usleep(100)) {
		if (__atomic_load_n(&r.slots[0].state, __ATOMIC_ACQUIRE) == IORING_RESPONSE)
			break;
		CHECK(now_ms() - t0 < 5000);
	}
	ioring_mark_dead(&r);
	CHECK(write(park_pipe[1][1], &b, 1) == 1);
	pthread_join(c.th, NULL);
	CHECK(c.ret == -EPIPE && c.got == 42);
	close(bell);
	CHECK(wait_exit(pid) == 0);
	return 0;
}

/* Restarts under load: threads call without pause while the server is
 * killed and restarted five times. Every call gets the right answer,
 * -EPIPE (the ring was dead) or -ESTALE (it died under the call); never a
 * wrong answer, a timeout or garbage, and the ring ends alive. Each
 * restart waits until every thread got answers from the server before
 * it; how many calls ended each way is timing, printed only. */
#define RL_THREADS  2
#define RL_RESTARTS 5
#define RL_PROGRESS 50

struct rl_thread {
	struct ioring *r;
	unsigned slot;
	pthread_mutex_t *lock; /* stop, ok */
	int *stop;
	unsigned long ok, dead, stale;
	int wrong; /* the failed call's return, 1 for a wrong value */
	pthread_t th;
};

static void *rl_main(void *arg)
{
	struct rl_thread *t = arg;

	for (unsigned i = 0;; i++) {
		uint16_t port = (uint16_t)(0x1000 * (t->slot + 1) + (i & 0xff));
		struct ioring_req q = {IORING_SPACE_PIO, 2, false, port, 0};
		uint64_t got = 7;
		int ret = ioring_call(t->r, t->slot, &q, &got, LONG_MS);

		pthread_mutex_lock(t->lock);
		bool stop = *t->stop;
		if (ret == 0 && got == (port_value(port) & 0xffff))
			t->ok++;
		else if (ret == -EPIPE && got == 7)
			t->dead++;
		else if (ret == -ESTALE && got == 7)
			t->stale++;
		else
			t->wrong = ret ? ret : 1;
		pthread_mutex_unlock(t->lock);
		if (stop || t->wrong)
			break;
		if (ret == -EPIPE)
			sched_yield(); /* the test needs the CPU to revive the ring */
	}
	return NULL;
}

/* Wait (at most 10 s) until every thread had RL_PROGRESS more answers
 * than in since[]; since[] gets the new counts. False at once when a
 * thread failed. */
static bool rl_progress(struct rl_thread *t, pthread_mutex_t *lock, unsigned long *since)
{
	for (uint64_t t0 = now_ms(); now_ms() - t0 < 10000; usleep(1000)) {
		bool all = true, failed = false;

		pthread_mutex_lock(lock);
		for (unsigned i = 0; i < RL_THREADS; i++) {
			failed |= t[i].wrong != 0;
			all &= t[i].ok >= since[i] + RL_PROGRESS;
		}
		for (unsigned i = 0; all && i < RL_THREADS; i++)
			since[i] = t[i].ok;
		pthread_mutex_unlock(lock);
		if (failed || all)
			return !failed;
	}
	return false;
}

static int t_restart_under_load(void)
{
	pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	struct rl_thread t[RL_THREADS];
	unsigned long since[RL_THREADS] = {0};
	struct ioring r;
	int fd = ioring_create_fd(RL_THREADS), bell, stop = 0;
	pid_t pid;

	CHECK(fd >= 0 && ioring_map(fd, &r) == 0);
	pid = start_server(fd, &bell, 0);
	CHECK(pid > 0 && ioring_set_doorbell(&r, bell) == 0);
	for (unsigned i = 0; i < RL_THREADS; i++) {
		t[i] = (struct rl_thread){.r = &r, .slot = i, .lock = &lock, .stop = &stop};
		CHECK(pthread_create(&t[i].th, NULL, rl_main, &t[i]) == 0);
	}
	bool progress = rl_progress(t, &lock, since);
	for (unsigned k = 0; progress && k < RL_RESTARTS; k++) {
		pid = restart_begin(&r, fd, pid, bell);
		CHECK(pid > 0);
		ioring_revive(&r);
		progress = rl_progress(t, &lock, since);
	}
	pthread_mutex_lock(&lock);
	stop = 1;
	pthread_mutex_unlock(&lock);
	for (unsigned i = 0; i < RL_THREADS; i++) {
		pthread_join(t[i].th, NULL);
		printf("# thread %u: %lu answers, %lu dead, %lu stale, wrong %d\n", i, t[i].ok,
		       t[i].dead, t[i].stale, t[i].wrong);
	}
	for (unsigned i = 0; i < RL_THREADS; i++)
		CHECK(!t[i].wrong);
	CHECK(progress);
	CHECK(!ioring_is_dead(&r));
	close(bell);
	CHECK(wait_exit(pid) == 0);
	return 0;
}

TAP_MAIN(TEST(t_roundtrip), TEST(t_roundtrip_futex_only), TEST(t_roundtrip_server_spin),
	 TEST(t_slow_answer), TEST(t_spin_bounded), TEST(t_no_wake_while_spinning),
	 TEST(t_wake_when_sleeping), TEST(t_server_learns_gap), TEST(t_timeout),
	 TEST(t_server_killed), TEST(t_hostile_server), TEST(t_bad_header), TEST(t_bad_call),
	 TEST(t_garbage_requests), TEST(t_dead_wakes_spinner), TEST(t_dead_wakes_sleeper),
	 TEST(t_timeout_ends_others), TEST(t_restart), TEST(t_reset_after_scribble),
	 TEST(t_reset_bad_size), TEST(t_call_across_restart), TEST(t_answer_after_death),
	 TEST(t_restart_under_load))
