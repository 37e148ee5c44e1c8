/* The worker threads of moat-blk: they take requests in submission order
 * and run them (blocking preadv/pwritev/fdatasync), so requests complete
 * out of order while the main thread keeps serving the guest's registers.
 *
 * Ordering rule for FLUSH: a flush covers every write submitted before it.
 * Writes are kept on a list in submission order until their pwritev has
 * returned and they were completed (`done`: pushed to the used ring); a
 * flush waits (in its worker) until no write older than itself is left on
 * that list, and only then calls fdatasync and completes.
 * It cannot wait forever: jobs leave the FIFO in order, so every older
 * write was already taken by some other worker, which finishes it without
 * needing anything the flush holds. Later writes may run concurrently with
 * the flush; the spec asks nothing of them (a driver that needs them
 * covered waits for their completion and flushes again).
 *
 * Lock order: the model's queue lock, then the pool lock (submit and
 * cancel are called with the queue lock held; workers never hold the pool
 * lock while they do I/O or call `done`). */
#pragma once

#include <pthread.h>
#include <stdbool.h>

#include "blk_req.h"

#define BLK_MAX_WORKERS 16

/* Called by a worker when r has run (its status is in guest RAM), without
 * the pool lock. r stays the pool's (freed after). */
typedef void (*blk_done_fn)(void *opaque, struct blk_req *r);

struct blk_pool {
	pthread_mutex_t lock;
	pthread_cond_t work;		 /* a job was queued, or stop */
	pthread_cond_t written;		 /* a write left the list: flushes look again */
	struct blk_req *head, *tail;	 /* queued jobs (FIFO) */
	struct blk_req *w_head, *w_tail; /* writes submitted and not finished */
	uint64_t next_seq;
	bool stop;
	const struct blk_disk *disk;
	/* blk_req_execute; a test may replace it before the first submit
	 * (to make writes slow and check the flush waits for them) */
	void (*exec)(const struct blk_disk *disk, struct blk_req *r);
	blk_done_fn done;
	void *opaque;
	/* Workers are started as the load asks, up to max: a fresh process
	 * (a start, a restart under a running guest) does not pay for
	 * threads an idle disk never uses. Under lock. */
	unsigned nthreads, max, idle, queued;
	pthread_t thr[BLK_MAX_WORKERS];
};

/* The workers a pool starts with; more follow, up to its maximum, when a
 * request is queued and no worker is free. */
#define BLK_POOL_FIRST_WORKERS 2

/* A pool of up to max (1..BLK_MAX_WORKERS) workers, the first
 * BLK_POOL_FIRST_WORKERS (at most max) started now. 0 or -errno (none left
 * running on failure). */
int blk_pool_start(struct blk_pool *p, const struct blk_disk *disk, unsigned max, blk_done_fn done,
		   void *opaque);
/* Queue r (READ, WRITE or FLUSH, malloc'ed); the pool owns it from now.
 * When every worker is busy and the pool is below its maximum, one more
 * is started (a failure to start one only leaves the pool as it was). */
void blk_pool_submit(struct blk_pool *p, struct blk_req *r);
/* Take every queued (not yet started) request of queue q out of the pool
 * and return them, linked through ->next; the caller owns them. Requests
 * already running still finish with `done`. */
struct blk_req *blk_pool_cancel(struct blk_pool *p, unsigned q);
/* Stop: cancel what is queued (freed), let running requests finish (each
 * still calls `done`), join the workers. */
void blk_pool_stop(struct blk_pool *p);
