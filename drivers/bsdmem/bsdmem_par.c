// SPDX-License-Identifier: GPL-2.0
/*
 * Compression on worker threads. The dumping thread fills jobs in order
 * (an input chunk of the stream, a batch of kdump pages), workers of an
 * unbound, freezable workqueue run them, each job with a codec of its
 * own, and the dumping thread takes the results back in the order it
 * filled them. The jobs are used in turn: before job i is filled again,
 * its last result is waited for and handed to the caller to emit, so at
 * most njobs inputs are in flight and the output order never depends on
 * which worker ran what, nor on how many there are.
 *
 * dump_workers sets how many may run at once. The default is one fewer
 * than the online CPUs (at least 1, at most 8): with the dumping thread
 * and the caller, a dump then keeps at most every CPU busy, not more.
 */
#include <linux/completion.h>
#include <linux/cpumask.h>
#include <linux/moduleparam.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <linux/vmalloc.h>
#include <linux/workqueue.h>
#include "bsdmem.h"
#include "bsdmem_dump.h"

#define BSDMEM_MAX_WORKERS	8

static unsigned int bsdmem_dump_workers;
module_param_named(dump_workers, bsdmem_dump_workers, uint, 0644);
MODULE_PARM_DESC(dump_workers,
		 "Compression threads of a dump, 1-8 (default 0: online CPUs - 1, at least 1)");

struct bsdmem_par {
	struct workqueue_struct	*wq;
	int			(*run)(struct bsdmem_par_job *job, void *arg);
	void			*arg;
	unsigned int		njobs;
	unsigned long		next;		/* the job filled next */
	unsigned long		oldest;		/* the oldest not taken back */
	struct bsdmem_par_job	*jobs;
};

/* pure: how many workers for a setting and a CPU count */
unsigned int bsdmem_par_workers(unsigned int setting, unsigned int cpus)
{
	if (!setting)
		setting = cpus > 1 ? cpus - 1 : 1;
	return clamp(setting, 1U, (unsigned int)BSDMEM_MAX_WORKERS);
}

/* As dump_workers says now, on the CPUs online now. */
unsigned int bsdmem_par_default_workers(void)
{
	return bsdmem_par_workers(READ_ONCE(bsdmem_dump_workers),
				  num_online_cpus());
}

static void bsdmem_par_work(struct work_struct *work)
{
	struct bsdmem_par_job *job = container_of(work, struct bsdmem_par_job,
						  work);

	u64 t0 = ktime_get_ns();

	job->read_ns = 0;
	job->err = job->par->run(job, job->par->arg);
	bsdmem_phase_add(BSDMEM_PH_COMPRESS,
			 ktime_get_ns() - t0 - job->read_ns);
	bsdmem_phase_add(BSDMEM_PH_READ, job->read_ns);
	complete(&job->done);
}

static void bsdmem_par_free_job(struct bsdmem_par_job *job)
{
	if (job->codec)
		bsdmem_codec_close(job->codec);
	vfree(job->in);
	vfree(job->out);
}

static int bsdmem_par_alloc_job(struct bsdmem_par_job *job,
				enum bsdmem_codec_kind kind, int level,
				size_t unit, size_t in_cap, size_t out_cap)
{
	job->in = vmalloc(in_cap);
	job->out = vmalloc(out_cap);
	if (!job->in || !job->out)
		return -ENOMEM;
	job->in_cap = in_cap;
	job->out_cap = out_cap;
	job->codec = bsdmem_codec_open(kind, level, unit);
	if (IS_ERR(job->codec)) {
		int ret = PTR_ERR(job->codec);

		job->codec = NULL;
		return ret;
	}
	return 0;
}

/*
 * nw workers for one dump: jobs of in_cap bytes of input and out_cap of
 * output, run by run(job, arg) with the job's codec of the given kind
 * for units of up to unit bytes.
 */
struct bsdmem_par *bsdmem_par_open(enum bsdmem_codec_kind kind, size_t unit,
				   size_t in_cap, size_t out_cap,
				   int (*run)(struct bsdmem_par_job *, void *),
				   void *arg, unsigned int nw)
{
	struct bsdmem_par *p = kzalloc(sizeof(*p), GFP_KERNEL);
	/* one level for every job: the bytes must not depend on the job */
	int level = kind == BSDMEM_CODEC_ZSTD ? bsdmem_zstd_level_get() :
						bsdmem_gzip_level_get();
	int ret = -ENOMEM;
	unsigned int i;

	if (!p)
		return ERR_PTR(-ENOMEM);
	p->run = run;
	p->arg = arg;
	/* one more than can run, so the thread fills while all compress */
	p->njobs = nw + 1;
	p->jobs = kcalloc(p->njobs, sizeof(*p->jobs), GFP_KERNEL);
	p->wq = alloc_workqueue("bsdmem_dump", WQ_UNBOUND | WQ_FREEZABLE, nw);
	if (!p->jobs || !p->wq)
		goto err;
	for (i = 0; i < p->njobs; i++) {
		p->jobs[i].par = p;
		INIT_WORK(&p->jobs[i].work, bsdmem_par_work);
		init_completion(&p->jobs[i].done);
		ret = bsdmem_par_alloc_job(&p->jobs[i], kind, level, unit,
					   in_cap, out_cap);
		if (ret)
			goto err;
	}
	return p;
err:
	bsdmem_par_close(p);
	return ERR_PTR(ret);
}

/*
 * Every job queued has ended once this returns. A dump that failed or
 * was stopped may leave jobs in flight: they are waited for first in the
 * freezable wait of bsdmem_par_collect(), since destroy_workqueue()
 * waits for them in a sleep the freezer cannot enter, and a job held in
 * a frozen workqueue would then hold up a suspend until it gives up.
 */
void bsdmem_par_close(struct bsdmem_par *p)
{
	unsigned int i;

	while (p->jobs && bsdmem_par_collect(p))
		;
	if (p->wq)
		destroy_workqueue(p->wq);
	for (i = 0; p->jobs && i < p->njobs; i++)
		bsdmem_par_free_job(&p->jobs[i]);
	kfree(p->jobs);
	kfree(p);
}

void bsdmem_par_exclude(struct bsdmem_par *p,
			void (*exclude)(const void *, size_t, void *),
			void *arg)
{
	unsigned int i;

	for (i = 0; i < p->njobs; i++) {
		exclude(p->jobs[i].in, p->jobs[i].in_cap, arg);
		exclude(p->jobs[i].out, p->jobs[i].out_cap, arg);
		bsdmem_codec_exclude(p->jobs[i].codec, exclude, arg);
	}
}

/*
 * The oldest job in flight, once it has run (freezably: a suspend may
 * freeze the workqueue meanwhile); NULL if none is. The caller emits its
 * result before it asks again.
 */
struct bsdmem_par_job *bsdmem_par_collect(struct bsdmem_par *p)
{
	struct bsdmem_par_job *job;

	if (p->oldest == p->next)
		return NULL;
	job = &p->jobs[p->oldest++ % p->njobs];
	wait_for_completion_state(&job->done, TASK_IDLE | TASK_FREEZABLE);
	return job;
}

/* Is the job filled next still in flight (collect it first)? */
bool bsdmem_par_full(struct bsdmem_par *p)
{
	return p->next - p->oldest == p->njobs;
}

/* The job to fill next; only when !bsdmem_par_full(). */
struct bsdmem_par_job *bsdmem_par_job(struct bsdmem_par *p)
{
	return &p->jobs[p->next % p->njobs];
}

/* Hand the filled job to the workers. */
void bsdmem_par_submit(struct bsdmem_par *p)
{
	struct bsdmem_par_job *job = &p->jobs[p->next++ % p->njobs];

	reinit_completion(&job->done);
	queue_work(p->wq, &job->work);
}
