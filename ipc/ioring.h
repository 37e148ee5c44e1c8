/* The I/O ring: a shared-memory request/response ring for trapped port I/O
 * and MMIO between the vcpu process (its vCPU threads post a request and wait
 * for the reply) and one device process (which serves requests).
 *
 * The ring is a memfd created and sealed by the monitor and mapped MAP_SHARED
 * by both peers. Neither trusts the other: each reads every shared field once,
 * into a local, and validates it before use; nothing in shared memory is a
 * pointer or an index into anything but the slot array whose size each side
 * took from the file size at map time. vCPU i only ever uses slot i.
 *
 * Wake-ups: requester -> server through a doorbell socket (a byte sent with
 * MSG_DONTWAIT, so the device can never make the vCPU thread block on it:
 * see ioring_set_doorbell()); server -> requester through a
 * shared futex on the slot's state word. Both are skipped when the peer
 * advertised that it is spinning (server_idle, waiters).
 *
 * Protocol of one call on slot i (requester R, server S):
 *   R: writes seq, space, size, is_write, addr, data; state = REQUEST
 *   S: sees REQUEST, reads the fields once, serves them, writes data (and
 *      echoes seq and size); state = RESPONSE; FUTEX_WAKE if R sleeps
 *   R: sees RESPONSE, checks seq and size against its own copy.
 * A request that times out or draws garbage marks the ring dead on the
 * requester side: the device is then treated as gone (no stale answer to a
 * previous request can ever be taken for the answer to a later one). When
 * the requester marks the ring dead it also withdraws the requests still
 * posted (REQUEST -> IDLE) and wakes their futexes, so that no vCPU thread
 * keeps waiting for a device that is gone; a server must expect that.
 *
 * Restart (issue 15): a dead ring can be brought back, with a new server,
 * in the same memory. The vcpu process calls ioring_mark_dead(); the
 * monitor then rewrites the ring (ioring_reset_fd()) and starts a new
 * device process, which maps it; the vcpu process then calls
 * ioring_revive(). A call that was under way across that gets -ESTALE:
 * its access was lost, and nothing it saw is taken as an answer. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IORING_MAGIC	 0x52494f4du /* "MOIR" little-endian */
#define IORING_VERSION	 1u
#define IORING_MAX_SLOTS 64u /* one per vCPU */
#define IORING_LINE	 64u

enum ioring_state {
	IORING_IDLE = 0,
	IORING_REQUEST = 1,
	IORING_RESPONSE = 2,
};

/* 0 is not a space, so a zeroed or half-written slot is never a valid request. */
enum ioring_space {
	IORING_SPACE_PIO = 1,
	IORING_SPACE_MMIO = 2,
	/* addr: offset in the function's config space; a process serving
	 * several functions (moat-display: ipc/display_layout.h) gets the
	 * function's index in bits 8 and up, 0 for its first */
	IORING_SPACE_PCICFG = 3,
};

/* Shared layout. Every field is accessed only with __atomic builtins (the
 * peer may change any of them at any time); the plain types are only for
 * the offsets, which are fixed by the _Static_asserts below. */
struct ioring_hdr {
	uint32_t magic;
	uint32_t version;
	uint32_t nslots;
	uint32_t slot_size;   /* IORING_LINE: catches a layout mismatch */
	uint32_t server_idle; /* hint from the server: nonzero = ring the doorbell */
	uint8_t reserved[IORING_LINE - 20];
};

struct ioring_slot {
	uint32_t state;	  /* enum ioring_state; the futex word */
	uint32_t seq;	  /* requester's sequence number, echoed by the server */
	uint8_t space;	  /* enum ioring_space */
	uint8_t size;	  /* 1, 2, 4 or 8 */
	uint8_t is_write; /* 0 or 1 */
	uint8_t pad;
	uint32_t waiters; /* hint from the requester: nonzero = it may sleep in futex */
	uint64_t addr;
	uint64_t data; /* write: the value; read: the answer */
	uint8_t reserved[IORING_LINE - 32];
};

_Static_assert(sizeof(struct ioring_hdr) == IORING_LINE, "ioring header is one cache line");
_Static_assert(sizeof(struct ioring_slot) == IORING_LINE, "ioring slot is one cache line");
_Static_assert(offsetof(struct ioring_hdr, magic) == 0, "layout");
_Static_assert(offsetof(struct ioring_hdr, version) == 4, "layout");
_Static_assert(offsetof(struct ioring_hdr, nslots) == 8, "layout");
_Static_assert(offsetof(struct ioring_hdr, slot_size) == 12, "layout");
_Static_assert(offsetof(struct ioring_hdr, server_idle) == 16, "layout");
_Static_assert(offsetof(struct ioring_slot, state) == 0, "layout");
_Static_assert(offsetof(struct ioring_slot, seq) == 4, "layout");
_Static_assert(offsetof(struct ioring_slot, space) == 8, "layout");
_Static_assert(offsetof(struct ioring_slot, size) == 9, "layout");
_Static_assert(offsetof(struct ioring_slot, is_write) == 10, "layout");
_Static_assert(offsetof(struct ioring_slot, waiters) == 12, "layout");
_Static_assert(offsetof(struct ioring_slot, addr) == 16, "layout");
_Static_assert(offsetof(struct ioring_slot, data) == 24, "layout");

/* Bytes of a ring with nslots slots: the exact size of its memfd. */
#define IORING_SIZE(nslots) ((size_t)IORING_LINE * (1u + (nslots)))

/* One trapped access, as the requester posts it. */
struct ioring_req {
	uint8_t space; /* enum ioring_space */
	uint8_t size;  /* 1, 2, 4 or 8 */
	bool is_write;
	uint64_t addr;
	uint64_t data; /* for writes */
};

/* Per-slot state private to the requester (padded so that vCPU threads do
 * not share a cache line). The counters are only ever written by the
 * slot's own thread: what each call cost, for the tests and for anyone
 * profiling the exit path. */
struct ioring_local {
	uint32_t seq;
	uint64_t calls;	    /* ioring_call()s posted on this slot */
	uint64_t quick;	    /* answered within the first look, no syscall made */
	uint64_t doorbells; /* doorbell bytes sent (the server was idle) */
	uint64_t sleeps;    /* futex waits entered (the spin ran out) */
} __attribute__((aligned(IORING_LINE)));

/* A process's view of a mapped ring. Private memory: nothing here is ever
 * read from the peer after ioring_map() has validated it. */
struct ioring {
	void *base;
	size_t len;
	unsigned nslots;
	struct ioring_hdr *hdr;
	struct ioring_slot *slots;
	int doorbell;	      /* not owned; -1: none */
	unsigned spin_ns;     /* requester: busy-wait this long before the futex */
	uint32_t life;	      /* requester, atomic, local to this process: odd while
			       * dead; +1 at each death and each revival, so it is
			       * also the epoch a call compares at its end */
	uint32_t dying;	      /* requester, atomic: deaths still withdrawing requests */
	uint64_t malformed;   /* server: requests answered without the handler */
	uint64_t wakes;	      /* server: FUTEX_WAKEs issued (a requester slept) */
	uint64_t last_req_ns; /* server: when the last request was served */
	uint64_t gap_ns;      /* server: average time between requests, 0: none yet */
	struct ioring_local local[IORING_MAX_SLOTS];
};

/* Server callback for one valid access. space, size (1, 2, 4, 8) and
 * is_write are checked; addr is whatever the requester sent (a port below
 * 0x10000 with port+size <= 0x10000 for PIO, anything for MMIO): the
 * handler checks it against its own registers. For a write *data holds the
 * value (masked to size); for a read *data starts as all ones (an
 * unclaimed register) and the handler stores the answer there. */
typedef void (*ioring_handler_fn)(void *opaque, unsigned space, uint64_t addr, unsigned size,
				  bool is_write, uint64_t *data);

/* Monitor: a new ring of nslots (1..IORING_MAX_SLOTS) in a CLOEXEC memfd,
 * header written, sealed against shrinking, growing and further seals.
 * Returns the descriptor (the caller owns it) or -errno. */
int ioring_create_fd(unsigned nslots);

/* Monitor: rewrite the ring in fd (not mapped here) as ioring_create_fd()
 * left it: every slot zeroed (IORING_IDLE), then the header (magic,
 * version, nslots from the file size, slot size, server_idle set so that
 * requesters ring the doorbell). For a restart: whatever a dead, perhaps
 * compromised, server wrote into the shared memory is gone. Both peers'
 * mappings see the new contents at once, so the requester must have
 * marked the ring dead first (see ioring_revive()). 0; -EBADMSG if the
 * file's kind or size is not a ring's; -errno, -EIO for a short write. */
int ioring_reset_fd(int fd);

/* Either peer: map the ring in fd MAP_SHARED and validate it: the seals,
 * the magic, version and slot size, and nslots against the file size (the
 * file size rules; the header only has to agree with it). *out is written
 * only on success; fd is not consumed (the mapping outlives it). 0,
 * -EBADMSG for a bad header or size, -EPERM for missing seals, -errno. */
int ioring_map(int fd, struct ioring *out);
void ioring_unmap(struct ioring *r);

/* Doorbell: the requester's or the server's end of a socketpair (stream or
 * seqpacket) shared by all slots; the server polls its end for POLLIN and
 * then calls ioring_serve(). Not owned by the ring. -ENOTSOCK if fd is not
 * a socket. Why not an eventfd: both peers would hold the same open file
 * description, so the device could fill the counter (write 2^64-2) and
 * clear O_NONBLOCK with F_SETFL, and the vCPU thread's next write() would
 * block forever. The two ends of a socketpair are separate descriptions,
 * and MSG_DONTWAIT is per call: a full socket is -EAGAIN (the server has a
 * wake-up pending anyway), a closed one -EPIPE. */
int ioring_set_doorbell(struct ioring *r, int fd);

/* Requester: how long ioring_call() busy-waits for the answer before it
 * sleeps on the futex (default IORING_SPIN_NS; 0: sleep at once). Before
 * that spin, which reads the clock, every call first looks at its slot
 * IORING_QUICK_POLLS times with no syscall at all: a server that is awake
 * (spinning in ioring_serve_spin, on another CPU) answers within that
 * look, so such a call makes no syscall (no clock, no doorbell, no futex).
 * After ringing an idle server's doorbell the look is a few polls only:
 * that server needs a wake-up, and perhaps this CPU. 512 polls: 64 were
 * too few to see a spinning server's answer on the development VM (none
 * of 20000 calls), 512 saw nearly all. The spin
 * calls sched_yield() about every microsecond, so that a server which needs
 * this CPU gets it (without that, a requester and server sharing a CPU
 * spent the whole spin waiting for each other: 25-100 us instead of 3-5).
 * 20 us: long enough to catch the answer of an awake server (0.3 us across
 * CPUs) and, on the development VM, to halve the round trip to a sleeping
 * server on another CPU (55 -> 30 us median) by saving the second wake-up;
 * bench/ioring_pingpong.c measures it. */
#define IORING_SPIN_NS	   20000u
#define IORING_QUICK_POLLS 512u
void ioring_set_spin(struct ioring *r, unsigned spin_ns);

/* Requester (the thread owning slot): post req and wait up to timeout_ms
 * for the answer; on success a read's value (masked to size) is stored in
 * *data_out (may be NULL for writes). Returns 0; -EINVAL for a bad slot,
 * request or timeout; -ETIMEDOUT if the device did not answer in time;
 * -EPROTO if it answered garbage; -EPIPE if the ring is dead (a previous
 * -ETIMEDOUT, -EPROTO, a closed doorbell, or ioring_mark_dead(), also one
 * made while this call waited: the call then returns at once); -ESTALE
 * if the ring died and was revived while this call was under way (the
 * access is lost: it may or may not have reached the new device; *data_out
 * is untouched). The -ETIMEDOUT, -EPROTO and closed doorbell failures mark
 * the ring dead, which ends every other call waiting on it: later calls
 * fail fast. -ESTALE does not: the revived ring stays alive. */
int ioring_call(struct ioring *r, unsigned slot, const struct ioring_req *req, uint64_t *data_out,
		int timeout_ms);

/* Requester: declare the device gone (e.g. its process exited); any
 * thread. Every call waiting on the ring returns -EPIPE at once (its
 * request is withdrawn and its futex woken: one FUTEX_WAKE per slot; or
 * -ESTALE, if the ring is revived before that call notices), and so do
 * later ones until ioring_revive(). Marking a dead ring dead does nothing. */
void ioring_mark_dead(struct ioring *r);
bool ioring_is_dead(const struct ioring *r);

/* Requester: make a dead ring usable again, after a restart. The order is
 * the caller's to keep:
 *   1. ioring_mark_dead() (and it returned);
 *   2. the monitor resets the ring's memory (ioring_reset_fd()) and a new
 *      device process maps it;
 *   3. ioring_revive().
 * Between 1 and 3 the caller may put the new device's doorbell in place of
 * the old one under the same descriptor number (dup3() onto r->doorbell):
 * new calls fail with -EPIPE until 3, and a call still under way rings
 * the old socket or the new one, either of which is harmless. Calls may
 * run in other threads throughout; one under way across the restart
 * returns -EPIPE or -ESTALE, never an answer. Sequence numbers keep
 * increasing across the restart (the reset zeroed the slots' copies), so
 * no answer left from before can match a later request. Reviving a live
 * ring does nothing; mark_dead -> revive may repeat any number of times. */
void ioring_revive(struct ioring *r);

/* Server: drain the doorbell, then serve every slot in REQUEST state once.
 * A malformed request (unknown space, bad size, bad is_write, PIO beyond
 * 0xffff) is answered without calling fn: reads get all ones, writes are
 * dropped, so its requester does not time out. Returns the number of slots
 * answered; -EPIPE when none was and the requester's end of the doorbell is
 * closed (the vcpu process is gone: stop serving). */
int ioring_serve(struct ioring *r, ioring_handler_fn fn, void *opaque);

/* Server: as ioring_serve(), then keep polling the slots (no doorbell
 * needed meanwhile: requesters see that the server is awake and skip it)
 * until spin_ns pass without a new request. Trades up to spin_ns of CPU
 * after each burst for the wake-up latency of the next access in it: for a
 * device whose registers come in bursts (an SMC key read is a few dozen
 * port accesses, one KVM exit apart) 50-100 us makes each access cost
 * about what handling it inside the vcpu process does. The idle time that
 * ends the spin adapts: twice the average time between requests, when
 * that is longer than spin_ns and at most IORING_SERVE_ADAPT_MAX_NS, so a
 * burst whose accesses come further apart than spin_ns (each KVM exit
 * takes ~50 us in the KVM box, 1-2 us on hardware) still finds the server
 * awake, while isolated accesses cost spin_ns as before. The spin scans in
 * rounds of a few hundred scans with no syscall; between rounds it reads
 * the clock and, after a round that found nothing, yields (so that a
 * requester sharing this CPU can post). It returns within about a
 * millisecond even under a stream of requests, so the caller's loop keeps
 * its turn. Returns the number served or -EPIPE. */
#define IORING_SERVE_ADAPT_MAX_NS 500000u
int ioring_serve_spin(struct ioring *r, ioring_handler_fn fn, void *opaque, unsigned spin_ns);
