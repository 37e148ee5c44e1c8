/* moat-blk's worker pool; the flush ordering rule is in blk_pool.h. */
#include "blk_pool.h"

#include <errno.h>
#include <stdlib.h>

static void w_unlink(struct blk_pool *p, struct blk_req *r)
{
	if (r->wprev)
		r->wprev->wnext = r->wnext;
	else
		p->w_head = r->wnext;
	if (r->wnext)
		r->wnext->wprev = r->wprev;
	else
		p->w_tail = r->wprev;
	r->wprev = r->wnext = NULL;
	pthread_cond_broadcast(&p->written);
}

/* Called with the lock held; drops it while the request runs. A write
 * leaves the list only after `done` has pushed it, so a flush after it
 * also completes after it in the used ring. */
static void run_one(struct blk_pool *p, struct blk_req *r)
{
	if (r->op == BLK_OP_FLUSH)
		while (p->w_head && p->w_head->seq < r->seq)
			pthread_cond_wait(&p->written, &p->lock);
	pthread_mutex_unlock(&p->lock);
	p->exec(p->disk, r);
	p->done(p->opaque, r);
	pthread_mutex_lock(&p->lock);
	if (blk_op_changes(r->op))
		w_unlink(p, r);
	free(r);
}

static void *worker(void *arg)
{
	struct blk_pool *p = arg;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		struct blk_req *r = p->head;

		if (!r) {
			if (p->stop)
				break;
			p->idle++;
			pthread_cond_wait(&p->work, &p->lock);
			p->idle--;
			continue;
		}
		p->head = r->next;
		if (!p->head)
			p->tail = NULL;
		r->next = NULL;
		p->queued--;
		run_one(p, r);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/* One more worker, lock held. 0 or the pthread_create error. */
static int add_worker(struct blk_pool *p)
{
	int rc = pthread_create(&p->thr[p->nthreads], NULL, worker, p);

	if (rc == 0)
		p->nthreads++;
	return rc;
}

int blk_pool_start(struct blk_pool *p, const struct blk_disk *disk, unsigned max, blk_done_fn done,
		   void *opaque)
{
	unsigned first = max < BLK_POOL_FIRST_WORKERS ? max : BLK_POOL_FIRST_WORKERS;
	int rc = 0;

	if (max < 1 || max > BLK_MAX_WORKERS || !done)
		return -EINVAL;
	*p = (struct blk_pool){
	    .disk = disk, .exec = blk_req_execute, .done = done, .opaque = opaque, .max = max};
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->written, NULL);
	pthread_mutex_lock(&p->lock);
	while (rc == 0 && p->nthreads < first)
		rc = add_worker(p);
	pthread_mutex_unlock(&p->lock);
	if (rc) {
		blk_pool_stop(p);
		return -rc;
	}
	return 0;
}

void blk_pool_submit(struct blk_pool *p, struct blk_req *r)
{
	pthread_mutex_lock(&p->lock);
	r->next = NULL;
	r->wprev = r->wnext = NULL;
	/* a change takes the next number; a flush waits for all below it */
	r->seq = blk_op_changes(r->op) ? p->next_seq++ : p->next_seq;
	if (blk_op_changes(r->op)) {
		r->wprev = p->w_tail;
		if (p->w_tail)
			p->w_tail->wnext = r;
		else
			p->w_head = r;
		p->w_tail = r;
	}
	if (p->tail)
		p->tail->next = r;
	else
		p->head = r;
	p->tail = r;
	p->queued++;
	/* more queued than workers waiting: one more, if the pool may grow
	 * (a flush waiting for older writes is busy, as it should count) */
	if (p->queued > p->idle && p->nthreads < p->max)
		(void)add_worker(p);
	pthread_cond_signal(&p->work);
	pthread_mutex_unlock(&p->lock);
}

struct blk_req *blk_pool_cancel(struct blk_pool *p, unsigned q)
{
	struct blk_req *out = NULL, **link, *r;

	pthread_mutex_lock(&p->lock);
	link = &p->head;
	p->tail = NULL;
	while ((r = *link)) {
		if (r->queue != q) {
			p->tail = r;
			link = &r->next;
			continue;
		}
		*link = r->next;
		if (blk_op_changes(r->op))
			w_unlink(p, r);
		p->queued--;
		r->next = out;
		out = r;
	}
	pthread_mutex_unlock(&p->lock);
	return out;
}

void blk_pool_stop(struct blk_pool *p)
{
	struct blk_req *r;

	pthread_mutex_lock(&p->lock);
	while ((r = p->head)) {
		p->head = r->next;
		if (blk_op_changes(r->op))
			w_unlink(p, r);
		free(r);
	}
	p->tail = NULL;
	p->queued = 0;
	p->stop = true;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->lock);
	for (unsigned i = 0; i < p->nthreads; i++)
		pthread_join(p->thr[i], NULL);
	p->nthreads = 0;
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->written);
}
