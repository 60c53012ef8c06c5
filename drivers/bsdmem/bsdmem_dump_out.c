// SPDX-License-Identifier: GPL-2.0
/*
 * Where a live dump's bytes go: the dumping thread fills buffers (planned
 * pages, compressed), and the process that asked for the dump writes them
 * to its file, from its own context, in the order they were filled.
 *
 * Why the caller writes, not the thread: a write is then what write(2)
 * would have done for it. Its credentials are the ones the LSMs check
 * (security_file_permission() sees current), its RLIMIT_FSIZE ends the
 * dump with EFBIG and SIGXFSZ, a pipe without readers sends it SIGPIPE,
 * the page cache and the I/O are charged to its cgroups, and the bytes
 * are counted in its /proc/PID/io. The thread keeps what needs no
 * process of the caller's: planning, reading and compressing memory (the
 * parallel compressors of a later change go there too).
 *
 * The caller's waits are killable and freezable:
 * - for a filled buffer, in a TASK_KILLABLE | TASK_FREEZABLE wait;
 * - inside a write (pipe_write(), sock_alloc_send_pskb()), in the
 *   file's own interruptible wait. Any pending signal ends that wait:
 *   SIGKILL, the freezer's fake signal, and also a caught signal, which
 *   cannot be delivered until the ioctl returns. Such a write comes back
 *   short or with -ERESTARTSYS; a fatal signal ends the dump, the freezer
 *   is entered, and otherwise the caller waits for the file to take more
 *   (its poll wait queues, woken whatever the wake-up's mode, in a
 *   killable and freezable sleep) and writes the rest. Nothing is lost or
 *   written twice: a write's count says exactly what went out.
 * The thread's waits are freezable too, and it may be frozen between
 * pages, so suspend and hibernation proceed while a dump runs, even one
 * blocked on a full pipe whose reader is frozen.
 */
#include <linux/errno.h>
#include <linux/freezer.h>
#include <linux/fs.h>
#include <linux/jiffies.h>
#include <linux/minmax.h>
#include <linux/poll.h>
#include <linux/rcupdate.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <linux/vmalloc.h>
#include <linux/wait.h>
#include "bsdmem.h"
#include "bsdmem_dump.h"

/* ---- pure ---- */

/*
 * May the caller fill another buffer? filled and written only grow, and
 * unsigned arithmetic keeps their difference right when they wrap.
 */
bool bsdmem_out_has_room(unsigned long filled, unsigned long written)
{
	return filled - written < BSDMEM_OUT_BUFS;
}

/*
 * A write that moved nothing and ended for a reason that passes: a
 * signal (any kind; fatal ones are checked before this) or a file that
 * would block (O_NONBLOCK, SO_SNDTIMEO). The dump waits until the file
 * takes data and tries again. Anything else ends the dump.
 */
bool bsdmem_out_retryable(long ret)
{
	switch (ret) {
	case -EINTR:
	case -EAGAIN:
	case -ERESTARTSYS:
	case -ERESTARTNOINTR:
	case -ERESTARTNOHAND:
	case -ERESTART_RESTARTBLOCK:
		return true;
	}
	return false;
}

/*
 * How long to sleep before the next try, after idle tries in a row that
 * moved nothing although the file said it would take data (a regular
 * file always says so, and a FUSE daemon may answer a pending signal with
 * EINTR): none the first time, then 1, 2, 4 ... ms up to 100 ms. A write
 * that cannot progress costs at most ten tries a second, never a spin.
 */
unsigned int bsdmem_out_backoff_ms(unsigned int idle)
{
	if (!idle)
		return 0;
	return min(1U << min(idle - 1, 7U), 100U);
}

/*
 * How a file takes the dump. The ELF core is one sequential stream. The
 * kdump container is written in pieces at their offsets (headers, then
 * page data and descriptors in turn): with positioned writes where the
 * file takes them, in makedumpfile's flattened format anywhere else.
 */
enum bsdmem_out_layout bsdmem_out_layout_for(bool kdump, bool positioned)
{
	if (!kdump)
		return BSDMEM_OUT_SEQ;
	return positioned ? BSDMEM_OUT_AT : BSDMEM_OUT_FLAT;
}

/*
 * Does a write at an offset land there? Only in a regular file or a block
 * device that takes pwrite(2), not opened O_APPEND (every write goes to
 * the end). A pipe, a socket, a character device or a file opened
 * non-seekable (FUSE's FOPEN_NONSEEKABLE) ignores the offset.
 */
static bool bsdmem_out_positioned(struct file *file)
{
	umode_t mode = file_inode(file)->i_mode;

	return (S_ISREG(mode) || S_ISBLK(mode)) &&
	       (file->f_mode & FMODE_PWRITE) &&
	       !(file->f_mode & FMODE_STREAM) && !(file->f_flags & O_APPEND);
}

/* ---- the buffers between the thread and the caller ---- */

struct bsdmem_out {
	struct file		*file;
	enum bsdmem_out_layout	layout;
	loff_t			pos;
	loff_t			base;		/* BSDMEM_OUT_AT: offset 0 */
	loff_t			end;		/* and past the furthest write */
	bool			flat_started;
	wait_queue_head_t	wq;		/* both sides sleep here */
	u8			*buf[BSDMEM_OUT_BUFS];
	size_t			len[BSDMEM_OUT_BUFS];
	u64			at[BSDMEM_OUT_BUFS];	/* offset in the dump */
	unsigned long		filled;		/* buffers handed over */
	unsigned long		written;	/* buffers written out */
	bool			ended;		/* the thread is done: result */
	int			result;
	bool			stopped;	/* the caller gave up */
};

struct bsdmem_out *bsdmem_out_alloc(struct file *file, bool kdump)
{
	struct bsdmem_out *o = kzalloc(sizeof(*o), GFP_KERNEL);
	bool stream = file->f_mode & FMODE_STREAM;
	unsigned int i;

	if (!o)
		return NULL;
	o->file = file;
	o->layout = bsdmem_out_layout_for(kdump, bsdmem_out_positioned(file));
	o->pos = stream ? 0 : file->f_pos;
	o->base = o->pos;
	o->end = o->pos;
	init_waitqueue_head(&o->wq);
	for (i = 0; i < BSDMEM_OUT_BUFS; i++) {
		o->buf[i] = vmalloc(BSDMEM_OUT_LEN);
		if (!o->buf[i]) {
			bsdmem_out_free(o);
			return NULL;
		}
	}
	return o;
}

void bsdmem_out_free(struct bsdmem_out *o)
{
	unsigned int i;

	for (i = 0; i < BSDMEM_OUT_BUFS; i++)
		vfree(o->buf[i]);
	kfree(o);
}

void bsdmem_out_exclude(struct bsdmem_out *o,
			void (*exclude)(const void *, size_t, void *),
			void *arg)
{
	unsigned int i;

	for (i = 0; i < BSDMEM_OUT_BUFS; i++)
		exclude(o->buf[i], BSDMEM_OUT_LEN, arg);
}

/* ---- the thread's side ---- */

/* The buffer the thread fills first. */
u8 *bsdmem_out_first(struct bsdmem_out *o)
{
	return o->buf[0];
}

/* May the thread, having handed over n buffers, fill another? */
static bool bsdmem_out_room(struct bsdmem_out *o, unsigned long n)
{
	/* the caller is done with a buffer once written says so */
	unsigned long written = smp_load_acquire(&o->written);

	return READ_ONCE(o->stopped) || bsdmem_out_has_room(n, written);
}

/*
 * Hand the buffer being filled (len bytes of it, for offset at of the
 * dump; a sequential stream ignores it) to the caller, and, if next is
 * given, wait for an empty one. The wait does not count as load or a hung
 * task (a dump into a stopped reader may wait for hours) and lets the
 * freezer in. -EINTR once the caller has given up.
 */
int bsdmem_out_put_at(struct bsdmem_out *o, size_t len, u64 at, u8 **next)
{
	unsigned long n = o->filled;

	if (len) {
		o->len[n % BSDMEM_OUT_BUFS] = len;
		o->at[n % BSDMEM_OUT_BUFS] = at;
		/* the buffer and its length before the count the caller reads */
		smp_store_release(&o->filled, ++n);
		wake_up(&o->wq);
	}
	if (!next)
		return 0;
	wait_event_state(o->wq, bsdmem_out_room(o, n),
			 (TASK_IDLE | TASK_FREEZABLE));
	if (READ_ONCE(o->stopped))
		return -EINTR;
	*next = o->buf[n % BSDMEM_OUT_BUFS];
	return 0;
}

int bsdmem_out_put(struct bsdmem_out *o, size_t len, u8 **next)
{
	return bsdmem_out_put_at(o, len, 0, next);
}

/* The thread is done: with 0, everything it filled has been handed over. */
void bsdmem_out_end(struct bsdmem_out *o, int result)
{
	o->result = result;
	/* result and every earlier count before ended */
	smp_store_release(&o->ended, true);
	wake_up(&o->wq);
}

/* The caller gives up: the thread's waits end with -EINTR. */
void bsdmem_out_stop(struct bsdmem_out *o)
{
	WRITE_ONCE(o->stopped, true);
	wake_up(&o->wq);
}

/* ---- the caller's side ---- */

/*
 * Enter the freezer if it wants us. Its fake signal (TIF_SIGPENDING with
 * nothing pending) would otherwise end every later wait inside a write;
 * get_signal() forgets it the same way after try_to_freeze().
 */
static void bsdmem_out_freeze(void)
{
	/* only current replaces its own sighand (exec): it is stable here */
	struct sighand_struct *sighand =
		rcu_dereference_protected(current->sighand, true);

	if (!try_to_freeze())
		return;
	spin_lock_irq(&sighand->siglock);
	recalc_sigpending();
	spin_unlock_irq(&sighand->siglock);
}

#define BSDMEM_POLL_HEADS	4
#define BSDMEM_WRITABLE		(EPOLLOUT | EPOLLWRNORM | EPOLLERR | EPOLLHUP)

struct bsdmem_poll_entry {
	wait_queue_entry_t	wait;
	wait_queue_head_t	*head;		/* NULL once POLLFREE took it */
};

/*
 * Waiting for a file to take data, as select() does, but in a killable
 * sleep: the file's wake-ups come as wake_up_interruptible() (pipes,
 * sockets), which wakes only interruptible sleepers, so the entries wake
 * the caller themselves, whatever the mode.
 */
struct bsdmem_poll {
	poll_table		pt;
	struct task_struct	*task;
	bool			woken;
	bool			overflow;	/* more heads than entries */
	unsigned int		n;
	struct bsdmem_poll_entry entry[BSDMEM_POLL_HEADS];
};

static int bsdmem_poll_wake(wait_queue_entry_t *wait, unsigned int mode,
			    int sync, void *key)
{
	struct bsdmem_poll_entry *e = container_of(wait, struct bsdmem_poll_entry,
						   wait);
	struct bsdmem_poll *p = wait->private;
	__poll_t mask = key_to_poll(key);

	if (mask && !(mask & (BSDMEM_WRITABLE | POLLFREE)))
		return 0;
	/* pairs with the barrier in set_current_state() of the sleeper */
	WRITE_ONCE(p->woken, true);
	wake_up_process(p->task);
	if (mask & POLLFREE) {
		/* the head goes away (after an RCU grace period) */
		list_del_init(&wait->entry);
		/*
		 * The very last access, as in ep_poll_callback(): once head
		 * is NULL, bsdmem_poll_unqueue() no longer waits for the
		 * head's lock, and the caller may return from
		 * bsdmem_out_wait(), whose stack holds *p and *e.
		 * Pairs with the acquire in bsdmem_poll_unqueue().
		 */
		smp_store_release(&e->head, NULL);
	}
	return 0;
}

static void bsdmem_poll_queue(struct file *file, wait_queue_head_t *head,
			      poll_table *pt)
{
	struct bsdmem_poll *p = container_of(pt, struct bsdmem_poll, pt);
	struct bsdmem_poll_entry *e;

	if (p->n == BSDMEM_POLL_HEADS) {
		p->overflow = true;
		return;
	}
	e = &p->entry[p->n++];
	e->head = head;
	init_waitqueue_func_entry(&e->wait, bsdmem_poll_wake);
	e->wait.private = p;
	add_wait_queue(head, &e->wait);
}

static void bsdmem_poll_unqueue(struct bsdmem_poll *p)
{
	unsigned int i;

	rcu_read_lock();
	for (i = 0; i < p->n; i++) {
		/* NULL if POLLFREE removed the entry (the head is dying) */
		wait_queue_head_t *head = smp_load_acquire(&p->entry[i].head);

		if (head)
			remove_wait_queue(head, &p->entry[i].wait);
	}
	rcu_read_unlock();
}

/* Sleep killably and freezably until woken, or for timeout jiffies. */
static void bsdmem_out_sleep(struct bsdmem_poll *p, long timeout)
{
	set_current_state(TASK_KILLABLE | TASK_FREEZABLE);
	if (!p || !READ_ONCE(p->woken))
		schedule_timeout(timeout);
	__set_current_state(TASK_RUNNING);
	if (p) {
		/* cleared before the file is polled again: a later wake-up counts */
		smp_store_mb(p->woken, false);
	}
}

/*
 * Until the file takes data (or reports an error, which the next write
 * returns), then the backoff of idle fruitless tries. -EINTR on a fatal
 * signal.
 */
static int bsdmem_out_wait(struct bsdmem_out *o, unsigned int idle)
{
	struct bsdmem_poll p = { .task = current };
	unsigned int ms = bsdmem_out_backoff_ms(idle);
	__poll_t mask;
	int ret = 0;

	init_poll_funcptr(&p.pt, bsdmem_poll_queue);
	mask = vfs_poll(o->file, &p.pt);
	p.pt._qproc = NULL;		/* queued once, polled again below */
	while (!(mask & BSDMEM_WRITABLE)) {
		bsdmem_out_sleep(&p, p.overflow ? HZ / 10 :
						  MAX_SCHEDULE_TIMEOUT);
		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		mask = vfs_poll(o->file, &p.pt);
	}
	bsdmem_poll_unqueue(&p);
	if (!ret && ms) {
		bsdmem_out_sleep(NULL, msecs_to_jiffies(ms));
		if (fatal_signal_pending(current))
			ret = -EINTR;
	}
	return ret;
}

/* All of buf, at o->pos; short writes are continued where they stopped. */
static int bsdmem_out_write(struct bsdmem_out *o, const u8 *buf, size_t len)
{
	unsigned int idle = 0;
	ssize_t n;
	u64 t0;
	int ret;

	while (len) {
		bsdmem_out_freeze();
		t0 = ktime_get_ns();
		n = kernel_write(o->file, buf, len, &o->pos);
		bsdmem_phase_add(BSDMEM_PH_WRITE, ktime_get_ns() - t0);
		if (n > 0) {
			buf += n;
			len -= n;
			idle = 0;
			continue;
		}
		if (fatal_signal_pending(current))
			return -EINTR;
		if (!n)
			return -EIO;
		if (!bsdmem_out_retryable(n))
			return n;
		ret = bsdmem_out_wait(o, idle++);
		if (ret)
			return ret;
	}
	return 0;
}

/* The flattened format's header, once, before its first piece. */
static int bsdmem_out_flat_start(struct bsdmem_out *o)
{
	void *hdr = kmalloc(BSDMEM_FLAT_HDR_LEN, GFP_KERNEL);
	int ret;

	if (!hdr)
		return -ENOMEM;
	bsdmem_flat_header(hdr);
	ret = bsdmem_out_write(o, hdr, BSDMEM_FLAT_HDR_LEN);
	kfree(hdr);
	o->flat_started = !ret;
	return ret;
}

/*
 * One filled buffer, where the layout puts it: next in the stream; at its
 * offset from where the file position stood; or as the next piece of the
 * flattened format, after the format's header if it is the first.
 */
static int bsdmem_out_piece(struct bsdmem_out *o, const u8 *buf, size_t len,
			    u64 at)
{
	u8 hdr[BSDMEM_FLAT_PIECE_LEN];
	int ret;

	switch (o->layout) {
	case BSDMEM_OUT_AT:
		o->pos = o->base + at;
		ret = bsdmem_out_write(o, buf, len);
		o->end = max(o->end, o->pos);
		return ret;
	case BSDMEM_OUT_FLAT:
		if (!o->flat_started) {
			ret = bsdmem_out_flat_start(o);
			if (ret)
				return ret;
		}
		bsdmem_flat_piece(hdr, at, len);
		ret = bsdmem_out_write(o, hdr, sizeof(hdr));
		if (ret)
			return ret;
		break;
	case BSDMEM_OUT_SEQ:
		break;
	}
	return bsdmem_out_write(o, buf, len);
}

/* The end of a complete dump: the flattened format's end mark. */
static int bsdmem_out_finish(struct bsdmem_out *o)
{
	u8 hdr[BSDMEM_FLAT_PIECE_LEN];

	if (o->layout != BSDMEM_OUT_FLAT)
		return 0;
	bsdmem_flat_piece(hdr, -1, -1);
	return bsdmem_out_write(o, hdr, sizeof(hdr));
}

static bool bsdmem_out_ready(struct bsdmem_out *o, unsigned long n)
{
	/* pairs with the thread's release of ended */
	if (smp_load_acquire(&o->ended))
		return true;
	/* pairs with the thread's release of filled */
	return smp_load_acquire(&o->filled) != n;
}

/*
 * The caller's loop: write each buffer as the thread hands it over, until
 * the thread ends. 0 when all was written, else the thread's error, the
 * write's error, or -EINTR for a fatal signal.
 */
static int bsdmem_out_loop(struct bsdmem_out *o)
{
	unsigned long n = o->written;
	int ret;

	for (;;) {
		if (wait_event_state(o->wq, bsdmem_out_ready(o, n),
				     (TASK_KILLABLE | TASK_FREEZABLE)))
			return -EINTR;
		/* ended first: once it is set, filled is final */
		if (smp_load_acquire(&o->ended) && o->result)
			return o->result;
		/* the buffer and its length are there once filled counts it */
		if (smp_load_acquire(&o->filled) == n)
			return bsdmem_out_finish(o);
		ret = bsdmem_out_piece(o, o->buf[n % BSDMEM_OUT_BUFS],
				       o->len[n % BSDMEM_OUT_BUFS],
				       o->at[n % BSDMEM_OUT_BUFS]);
		if (ret)
			return ret;
		/* done with the buffer before the thread may fill it again */
		smp_store_release(&o->written, ++n);
		wake_up(&o->wq);
	}
}

/*
 * Write the dump, then move the file position past what was written,
 * whatever ended the dump: write(2) moves it by what it wrote, also when
 * a later write fails, so that a partial dump is not overwritten by the
 * next write and can be appended to. With O_APPEND each write has set
 * o->pos to the end of the file, as write(2) sets f_pos. A stream (pipe,
 * socket) has no position.
 */
int bsdmem_out_run(struct bsdmem_out *o)
{
	int ret = bsdmem_out_loop(o);

	if (!(o->file->f_mode & FMODE_STREAM))
		o->file->f_pos = o->layout == BSDMEM_OUT_AT ? o->end : o->pos;
	return ret;
}
