/* The I/O ring (see ioring.h for the protocol). Every access to shared
 * memory goes through the LOAD/STORE macros below, so that the compiler
 * neither tears nor repeats a read of a field the peer may be changing: each
 * field is read once into a local, and only the local is validated and used. */
#include "ioring.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <sched.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

#define LOAD(p)	       __atomic_load_n((p), __ATOMIC_RELAXED)
#define LOAD_ACQ(p)    __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define LOAD_SC(p)     __atomic_load_n((p), __ATOMIC_SEQ_CST)
#define STORE(p, v)    __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define STORE_SC(p, v) __atomic_store_n((p), (v), __ATOMIC_SEQ_CST)

#define IORING_SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)

/* How many polls of the shared memory between two looks at the clock while
 * spinning (about a microsecond). Each look also yields the CPU: if the
 * peer is runnable on this CPU, spinning would only keep it from answering. */
#define SPIN_CHECK_EVERY 16

/* ioring_serve_spin() scans the slots this many times between two looks
 * at the clock (and yields, when none of them held a request). A look at
 * the clock is a syscall where the clocksource has no vDSO reader, and a
 * yield always is: a request that lands during either waits for it, so
 * they are kept rare (a round is a few microseconds) rather than every
 * SPIN_CHECK_EVERY scans. */
#define SERVE_CHECK_EVERY 256

/* ioring_serve_spin() returns after this long even while requests keep
 * coming, so that a requester posting without pause cannot keep the
 * device's own poll loop (its control channel) from running. */
#define SERVE_SPIN_MAX_NS 1000000u

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ volatile("yield" ::: "memory");
#else
	__asm__ volatile("" ::: "memory");
#endif
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Shared futexes (no FUTEX_PRIVATE_FLAG): the two peers are different
 * processes mapping the same memfd page, which the kernel keys by inode and
 * offset. The wait's timeout is absolute on CLOCK_MONOTONIC (BITSET form),
 * so retries after EINTR or a spurious wake-up never extend it. */
static int futex_wait_until(uint32_t *word, uint32_t val, uint64_t deadline_ns)
{
	struct timespec abs = {
	    .tv_sec = (time_t)(deadline_ns / 1000000000u),
	    .tv_nsec = (long)(deadline_ns % 1000000000u),
	};

	if (syscall(SYS_futex, word, FUTEX_WAIT_BITSET, val, &abs, NULL, FUTEX_BITSET_MATCH_ANY) <
	    0)
		return -errno;
	return 0;
}

static void futex_wake(uint32_t *word, int n)
{
	syscall(SYS_futex, word, FUTEX_WAKE, n, NULL, NULL, 0);
}

static inline uint64_t size_mask(unsigned size)
{
	return size >= 8 ? ~0ull : (1ull << (size * 8)) - 1;
}

static inline bool size_ok(unsigned size)
{
	return size == 1 || size == 2 || size == 4 || size == 8;
}

static inline bool space_ok(unsigned space)
{
	return space == IORING_SPACE_PIO || space == IORING_SPACE_MMIO ||
	       space == IORING_SPACE_PCICFG;
}

/* An access the bus could carry: a known space, a power-of-two size, and for
 * port I/O a port range inside the 64 KiB I/O space. */
static bool access_ok(unsigned space, unsigned size, unsigned is_write, uint64_t addr)
{
	if (!space_ok(space) || !size_ok(size) || is_write > 1)
		return false;
	if (space == IORING_SPACE_PIO && (addr > 0xffff || addr + size > 0x10000))
		return false;
	/* PCI Express extended configuration space is 4 KiB per function. */
	if (space == IORING_SPACE_PCICFG && (addr > 0xfff || addr + size > 0x1000))
		return false;
	return true;
}

/* Write all of buf at off, or fail: 0, -errno, -EIO for a short write. */
static int pwrite_all(int fd, const void *buf, size_t len, off_t off)
{
	ssize_t n = pwrite(fd, buf, len, off);

	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

/* The header of a fresh ring of nslots, as both ioring_create_fd() and
 * ioring_reset_fd() leave it. */
static int write_header(int fd, unsigned nslots)
{
	const struct ioring_hdr hdr = {
	    .magic = IORING_MAGIC,
	    .version = IORING_VERSION,
	    .nslots = nslots,
	    .slot_size = IORING_LINE,
	    /* until a server says it spins, requesters ring the doorbell */
	    .server_idle = 1,
	};

	return pwrite_all(fd, &hdr, sizeof(hdr), 0);
}

/* How many slots a ring file of this kind and size holds; -EBADMSG if it
 * cannot be a ring. The file size is the one thing no peer can change
 * (sealed), so it, not the header, decides. */
static int ring_nslots(const struct stat *st)
{
	if (!S_ISREG(st->st_mode) || st->st_size < (off_t)IORING_SIZE(1) ||
	    st->st_size > (off_t)IORING_SIZE(IORING_MAX_SLOTS) || st->st_size % IORING_LINE)
		return -EBADMSG;
	return (int)(st->st_size / IORING_LINE - 1);
}

int ioring_create_fd(unsigned nslots)
{
	_cleanup_close_ int fd = -1;
	int r;

	if (nslots < 1 || nslots > IORING_MAX_SLOTS)
		return -EINVAL;
	fd = memfd_create("moat-ioring", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)IORING_SIZE(nslots)) < 0)
		return -errno;
	/* Slots start zeroed: IORING_IDLE. */
	r = write_header(fd, nslots);
	if (r < 0)
		return r;
	/* No peer may truncate the file under the other's mapping (SIGBUS) or
	 * change the seals afterwards. */
	if (fcntl(fd, F_ADD_SEALS, IORING_SEALS) < 0)
		return -errno;
	return TAKE_FD(fd);
}

/* Every slot is zeroed (IORING_IDLE, no waiters, seq 0), then the header
 * is rewritten: nothing a dead server left in the file survives. The file
 * size says how many slots there are, as for ioring_map(). */
int ioring_reset_fd(int fd)
{
	static const struct ioring_slot zero[IORING_MAX_SLOTS];
	struct stat st;
	int nslots, r;

	if (fstat(fd, &st) < 0)
		return -errno;
	nslots = ring_nslots(&st);
	if (nslots < 0)
		return nslots;
	r = pwrite_all(fd, zero, (size_t)nslots * sizeof(zero[0]), IORING_LINE);
	if (r < 0)
		return r;
	return write_header(fd, (unsigned)nslots);
}

/* The file size decides how many slots there are; the header may only
 * confirm it. Seals are checked because the mapper's safety depends on
 * them: without F_SEAL_SHRINK the peer could truncate the memfd and turn
 * every later access into SIGBUS. */
int ioring_map(int fd, struct ioring *out)
{
	struct ioring r = {.doorbell = -1, .spin_ns = IORING_SPIN_NS};
	struct stat st;
	void *base;
	int n, seals;

	if (fstat(fd, &st) < 0)
		return -errno;
	n = ring_nslots(&st);
	if (n < 0)
		return n;
	seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0)
		return errno == EINVAL ? -EPERM : -errno; /* not a memfd */
	if ((seals & IORING_SEALS) != IORING_SEALS)
		return -EPERM;

	r.len = (size_t)st.st_size;
	r.nslots = (unsigned)n;
	base = mmap(NULL, r.len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (base == MAP_FAILED)
		return -errno;
	r.base = base;
	r.hdr = base;
	r.slots = (struct ioring_slot *)((char *)base + IORING_LINE);

	uint32_t magic = LOAD(&r.hdr->magic), version = LOAD(&r.hdr->version);
	uint32_t nslots = LOAD(&r.hdr->nslots), slot_size = LOAD(&r.hdr->slot_size);
	if (magic != IORING_MAGIC || version != IORING_VERSION || slot_size != IORING_LINE ||
	    nslots != r.nslots) {
		munmap(base, r.len);
		return -EBADMSG;
	}
	*out = r;
	return 0;
}

void ioring_unmap(struct ioring *r)
{
	if (!r || !r->base)
		return;
	munmap(r->base, r->len);
	r->base = NULL;
	r->hdr = NULL;
	r->slots = NULL;
	r->nslots = 0;
}

int ioring_set_doorbell(struct ioring *r, int fd)
{
	int type;
	socklen_t len = sizeof(type);

	if (fd < 0) {
		r->doorbell = -1;
		return 0;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0)
		return -errno;
	if (type != SOCK_STREAM && type != SOCK_SEQPACKET)
		return -EPROTOTYPE;
	r->doorbell = fd;
	return 0;
}

void ioring_set_spin(struct ioring *r, unsigned spin_ns)
{
	r->spin_ns = spin_ns;
}

/* ---- requester: death and revival -------------------------------------- */

/* Kill the ring in the life it had when the caller looked (life, even):
 * make life odd, then get every waiting call out of its wait. Only the
 * caller that made the change does the rest, and returns true; false if
 * life had already moved on (someone else killed or revived the ring).
 *
 * Each slot's request is withdrawn (REQUEST -> IDLE) before its futex is
 * woken. The wake alone could be lost: a call that looked at life just
 * before it changed, and is on its way to sleep, would then sleep until
 * its deadline; with its futex word changed, its FUTEX_WAIT returns at
 * once (the kernel compares the word as it queues the waiter). A call
 * that posts only after its slot was passed here sees the new life before
 * it sleeps: its post and its look at life are seq_cst, and so are our
 * change of life and our look at its slot. A server still running may
 * answer a withdrawn request all the same; no call takes that answer.
 * own_slot (or -1) is the caller's own slot, left as it is: its thread is
 * the caller, and waits no more.
 *
 * dying counts the callers still in here, so that ioring_revive() waits
 * until none of them can withdraw a request of the revived ring. */
static bool ring_die(struct ioring *r, uint32_t life, int own_slot)
{
	bool won;

	__atomic_add_fetch(&r->dying, 1, __ATOMIC_SEQ_CST);
	won = __atomic_compare_exchange_n(&r->life, &life, life + 1, false, __ATOMIC_SEQ_CST,
					  __ATOMIC_RELAXED);
	for (unsigned i = 0; won && i < r->nslots; i++) {
		uint32_t req = IORING_REQUEST;

		if ((int)i == own_slot)
			continue;
		__atomic_compare_exchange_n(&r->slots[i].state, &req, IORING_IDLE, false,
					    __ATOMIC_SEQ_CST, __ATOMIC_RELAXED);
		futex_wake(&r->slots[i].state, INT_MAX);
	}
	__atomic_sub_fetch(&r->dying, 1, __ATOMIC_RELEASE);
	return won;
}

void ioring_mark_dead(struct ioring *r)
{
	uint32_t life = LOAD_ACQ(&r->life);

	while (!(life & 1) && !ring_die(r, life, -1))
		life = LOAD_ACQ(&r->life);
}

bool ioring_is_dead(const struct ioring *r)
{
	return LOAD_ACQ(&r->life) & 1;
}

/* Bring a dead ring back: wait for the killers still withdrawing requests
 * (a few FUTEX_WAKEs each), then make life even again, one past the
 * death, so a call that began before the death sees it changed. */
void ioring_revive(struct ioring *r)
{
	uint32_t life = LOAD_SC(&r->life);

	while (life & 1) {
		while (LOAD_ACQ(&r->dying))
			sched_yield();
		if (__atomic_compare_exchange_n(&r->life, &life, life + 1, false, __ATOMIC_SEQ_CST,
						__ATOMIC_SEQ_CST))
			return;
	}
}

/* A call whose ring died while it waited: -EPIPE while the ring is still
 * dead, -ESTALE once it was revived (life only ever moves forward, and
 * the caller's life was even, so an even one now is a later life). */
static int call_lost(const struct ioring *r)
{
	return ioring_is_dead(r) ? -EPIPE : -ESTALE;
}

/* A call that failed with err kills the ring it was made in, unless that
 * ring already died (or was even revived) meanwhile: a revived ring must
 * not die of what its predecessor did. */
static int call_failed(struct ioring *r, uint32_t life, unsigned slot, int err)
{
	return ring_die(r, life, (int)slot) ? err : call_lost(r);
}

/* ---- requester: calls --------------------------------------------------- */

/* One byte on the doorbell. MSG_DONTWAIT makes this non-blocking whatever
 * the peer does to its own end; a full socket means a wake-up is already
 * pending. Only a closed peer is reported (-EPIPE); anything else is left to
 * the caller's timeout. */
static int ring_doorbell(int fd)
{
	char b = 0;
	struct iovec iov = {.iov_base = &b, .iov_len = 1};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};

	if (sendmsg(fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0)
		return 0;
	if (errno == EPIPE || errno == ECONNRESET || errno == ENOTCONN)
		return -EPIPE;
	return 0;
}

/* Look at the slot up to n times without a syscall; the state seen last. */
static uint32_t poll_state(struct ioring_slot *s, unsigned n)
{
	uint32_t st = LOAD_ACQ(&s->state);

	for (unsigned i = 1; i < n && st == IORING_REQUEST; i++) {
		cpu_relax();
		st = LOAD_ACQ(&s->state);
	}
	return st;
}

/* Wait until the slot's state leaves REQUEST or timeout_ms pass; returns
 * the last state seen (still IORING_REQUEST on a timeout). Three stages,
 * each only when the one before did not see the answer: a look of quick
 * polls with no syscall at all (a spinning server's answer comes within
 * it, so the common call makes none); then the clock is read once, for
 * the deadline and the end of the spin, and a bounded busy-wait that
 * yields and reads the clock every SPIN_CHECK_EVERY polls catches the
 * answer of a server that is awake without two context switches; then
 * the futex, announced through waiters so the server knows
 * to wake us (a Dekker pair with its store of RESPONSE: either it sees
 * waiters, or we see RESPONSE before sleeping, so no wake-up is lost). The
 * deadline counts from the end of the first look, a few hundred
 * nanoseconds after the request was posted. The spin and the futex stages
 * also return, whatever the state, once the ring's life is no longer
 * life0 (it died): they look every SPIN_CHECK_EVERY polls and before each
 * sleep (ring_die() withdraws the request and wakes the futex, so a sleep
 * ends at once). The look is one load of our own memory: plain on x86,
 * an LDAR on arm64 where it is seq_cst (before a sleep, for the argument
 * in ring_die()); the first look at the slot does not make it at all. */
static uint32_t wait_answer(struct ioring_slot *s, struct ioring_local *l, const uint32_t *life,
			    uint32_t life0, unsigned quick, unsigned spin_ns, int timeout_ms)
{
	uint32_t st = poll_state(s, quick);
	uint64_t now, deadline, spin_end;

	if (st != IORING_REQUEST) {
		l->quick++;
		return st;
	}
	now = now_ns();
	deadline = now + (uint64_t)timeout_ms * 1000000u;
	spin_end = now + spin_ns < deadline ? now + spin_ns : deadline;
	while (now < spin_end) {
		sched_yield();
		st = poll_state(s, SPIN_CHECK_EVERY);
		if (st != IORING_REQUEST || LOAD(life) != life0)
			return st;
		now = now_ns();
	}
	for (;;) {
		STORE_SC(&s->waiters, 1);
		st = LOAD_SC(&s->state);
		if (st != IORING_REQUEST || LOAD_SC(life) != life0)
			return st;
		l->sleeps++;
		/* -EAGAIN (changed meanwhile), -EINTR (a vCPU kick) and spurious
		 * wake-ups all come back here; a peer flipping the word to
		 * provoke them only spends our time up to the deadline. */
		int r = futex_wait_until(&s->state, IORING_REQUEST, deadline);
		if (r == -ETIMEDOUT || now_ns() >= deadline)
			return LOAD_ACQ(&s->state);
	}
}

/* Read the answer once, after the acquire load of state that saw RESPONSE,
 * and check it is the answer to this request; its value (masked) in *data. */
static int take_answer(struct ioring_slot *s, uint32_t seq, const struct ioring_req *req,
		       uint64_t *data)
{
	uint32_t rseq = LOAD(&s->seq);
	uint8_t rsize = LOAD(&s->size);
	uint64_t val = LOAD(&s->data);

	if (rseq != seq || rsize != req->size)
		return -EPROTO;
	*data = val & size_mask(req->size);
	return 0;
}

int ioring_call(struct ioring *r, unsigned slot, const struct ioring_req *req, uint64_t *data_out,
		int timeout_ms)
{
	uint32_t life = LOAD_ACQ(&r->life), seq, st;
	struct ioring_local *l;
	struct ioring_slot *s;
	uint64_t data = 0;
	int ret;

	if (life & 1)
		return -EPIPE;
	if (slot >= r->nslots || timeout_ms < 0 ||
	    !access_ok(req->space, req->size, req->is_write, req->addr))
		return -EINVAL;
	s = &r->slots[slot];
	l = &r->local[slot];
	seq = ++l->seq;
	l->calls++;

	STORE(&s->waiters, 0);
	STORE(&s->seq, seq);
	STORE(&s->space, req->space);
	STORE(&s->size, req->size);
	STORE(&s->is_write, (uint8_t)req->is_write);
	STORE(&s->addr, req->addr);
	STORE(&s->data, req->is_write ? req->data & size_mask(req->size) : 0);
	/* Life again, just before the request goes out: a thread preempted
	 * since its first look while the ring died and was reset returns
	 * here, rather than post into the new ring a request the reset may
	 * have torn (some fields zeroed, the rest ours). Preempted after this
	 * look instead, all its fields were out before the reset zeroed them,
	 * and a request of space 0 never reaches a device. A plain load. */
	if (LOAD(&r->life) != life)
		return call_lost(r);
	/* Release for the fields above; seq_cst against our load of
	 * server_idle (the server stores server_idle, then scans states). */
	STORE_SC(&s->state, (uint32_t)IORING_REQUEST);
	/* A server that said it spins answers within the first look; one
	 * that sleeps needs the doorbell, and then perhaps our CPU: the look
	 * is cut short and the spin, which yields, begins at once. */
	unsigned quick = IORING_QUICK_POLLS;
	if (r->doorbell >= 0 && LOAD_SC(&r->hdr->server_idle)) {
		l->doorbells++;
		quick = SPIN_CHECK_EVERY;
		if (ring_doorbell(r->doorbell) == -EPIPE)
			return call_failed(r, life, slot, -EPIPE);
	}

	st = wait_answer(s, l, &r->life, life, quick, r->spin_ns, timeout_ms);
	if (st == IORING_REQUEST)
		ret = -ETIMEDOUT;
	else if (st == IORING_RESPONSE)
		ret = take_answer(s, seq, req, &data);
	else
		ret = -EPROTO;
	/* An answer, or its absence, counts only if the ring lived through
	 * the whole call: after a death the slot may hold anything (a dying
	 * server's scribbles, the monitor's zeroes, a withdrawn request). The
	 * fence keeps the reads of the slot above before this look at life. */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (LOAD(&r->life) != life)
		return call_lost(r);
	if (ret < 0)
		return call_failed(r, life, slot, ret);
	if (!req->is_write && data_out)
		*data_out = data;
	return 0;
}

/* ---- server ------------------------------------------------------------- */

/* Answer one slot if it holds a request. Fields are read once; a malformed
 * request is answered as an empty bus would (reads all ones, writes
 * dropped) without reaching the handler, so the requester still gets its
 * answer and the handler only ever sees valid accesses. */
static int serve_slot(struct ioring *r, struct ioring_slot *s, ioring_handler_fn fn, void *opaque)
{
	if (LOAD_ACQ(&s->state) != IORING_REQUEST)
		return 0;

	uint32_t seq = LOAD(&s->seq);
	uint8_t space = LOAD(&s->space), size = LOAD(&s->size), is_write = LOAD(&s->is_write);
	uint64_t addr = LOAD(&s->addr), data = LOAD(&s->data);

	if (access_ok(space, size, is_write, addr)) {
		uint64_t mask = size_mask(size);

		data = is_write ? data & mask : mask;
		fn(opaque, space, addr, size, is_write, &data);
		if (!is_write)
			data &= mask;
	} else {
		r->malformed++;
		if (!is_write)
			data = size_ok(size) ? size_mask(size) : ~0ull;
	}

	STORE(&s->data, data);
	STORE(&s->seq, seq);
	STORE(&s->size, size);
	/* Release for the answer; seq_cst against the load of waiters (the
	 * requester stores waiters, then re-reads state, then sleeps). */
	STORE_SC(&s->state, (uint32_t)IORING_RESPONSE);
	if (LOAD_SC(&s->waiters)) {
		r->wakes++;
		futex_wake(&s->state, 1);
	}
	return 1;
}

static int scan_slots(struct ioring *r, ioring_handler_fn fn, void *opaque)
{
	int n = 0;

	for (unsigned i = 0; i < r->nslots; i++)
		n += serve_slot(r, &r->slots[i], fn, opaque);
	return n;
}

/* Empty the doorbell so the next poll() sleeps until a new ring. Bounded,
 * so a requester that floods it cannot keep us here: what is left makes
 * the next poll() return at once. 0, or -EPIPE when the peer closed. */
static int drain_doorbell(int fd)
{
	char buf[256];
	struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf)};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};

	for (int i = 0; i < 16; i++) {
		ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT);

		if (n == 0)
			return -EPIPE;
		if (n < 0)
			return errno == ECONNRESET ? -EPIPE : 0;
		if ((size_t)n < sizeof(buf))
			return 0;
	}
	return 0;
}

int ioring_serve(struct ioring *r, ioring_handler_fn fn, void *opaque)
{
	int eof = 0;

	/* Drain before scanning: a request whose ring we consume here is
	 * already visible to the scan (the requester stores it first). */
	if (r->doorbell >= 0)
		eof = drain_doorbell(r->doorbell);
	int n = scan_slots(r, fn, opaque);
	return n ? n : eof;
}

/* Requests were served at t (a round's end): fold the time since the
 * last into the average, each sample capped so that one long pause does
 * not take many requests to forget (weight 1/4). */
static void note_requests(struct ioring *r, uint64_t t)
{
	if (r->last_req_ns && t > r->last_req_ns) {
		uint64_t gap = t - r->last_req_ns;

		if (gap > 2ull * IORING_SERVE_ADAPT_MAX_NS)
			gap = 2ull * IORING_SERVE_ADAPT_MAX_NS;
		r->gap_ns = r->gap_ns ? (3 * r->gap_ns + gap) / 4 : gap;
	}
	r->last_req_ns = t;
}

/* How long the spin waits for the next request: spin_ns, or twice the
 * average gap between requests when that is longer, up to the cap. */
static uint64_t idle_limit(const struct ioring *r, unsigned spin_ns)
{
	uint64_t want = 2 * r->gap_ns;

	return want > spin_ns && want <= IORING_SERVE_ADAPT_MAX_NS ? want : spin_ns;
}

int ioring_serve_spin(struct ioring *r, ioring_handler_fn fn, void *opaque, unsigned spin_ns)
{
	int n = ioring_serve(r, fn, opaque);
	uint64_t last, end;

	if (n < 0)
		return n;
	/* While we spin, requesters need not ring. */
	STORE_SC(&r->hdr->server_idle, 0);
	last = now_ns();
	end = last + SERVE_SPIN_MAX_NS;
	if (n > 0)
		note_requests(r, last);
	for (;;) {
		bool served = false;

		/* No syscall inside a round: a request posted now is answered
		 * after a scan, not after a clock read or a yield. */
		for (unsigned i = 0; i < SERVE_CHECK_EVERY; i++) {
			int k = scan_slots(r, fn, opaque);

			n += k;
			served |= k > 0;
			if (!k)
				cpu_relax();
		}
		uint64_t t = now_ns();
		if (served) {
			note_requests(r, t);
			last = t;
		} else if (t - last >= idle_limit(r, spin_ns)) {
			break;
		}
		if (t >= end)
			break;
		if (!served)
			sched_yield();
	}
	/* From here on requesters ring again; a request posted while they
	 * could still see 0 is caught by this last scan (Dekker with their
	 * store of REQUEST and load of server_idle). */
	STORE_SC(&r->hdr->server_idle, 1);
	return n + scan_slots(r, fn, opaque);
}
