// SPDX-License-Identifier: GPL-2.0
/*
 * Every online CPU's registers for the dump's NT_PRSTATUS notes, taken as
 * kdump takes them: the dumping CPU records where it stands, and every
 * other CPU is sent an NMI whose handler copies the context it
 * interrupted and the pid of the task running there. An NMI gets through
 * where an interrupt would wait: a CPU spinning with interrupts disabled
 * answers too, and its registers are what a deadlock needs.
 *
 * NMI context allows no locks, no allocation and no printk: the handler
 * only copies into a per-CPU slot allocated beforehand and publishes it
 * with one atomic store. An NMI does not say who sent it, and perf and
 * the watchdog share NMI_LOCAL: the handler claims an NMI (NMI_HANDLED)
 * only while its CPU's slot is asked for, and lets every other one pass.
 *
 * The handler is registered at the first dump and stays registered until
 * the module is unloaded: an NMI of ours that arrives after its dump gave
 * up waiting still finds it, instead of becoming an "unknown NMI" (a
 * panic with kernel.unknown_nmi_panic). A CPU that never answered pins
 * the module, since its NMI may still come; a later dump that hears from
 * every CPU drops the pin.
 *
 * Another NMI (a perf sample) may arrive between the request and ours and
 * take the answer; ours then comes later, not back to back, and the
 * kernel would call it unknown. So a CPU that answered claims one more
 * NMI_LOCAL NMI within a short window after its answer.
 */
#include <linux/atomic.h>
#include <linux/cpumask.h>
#include <linux/delay.h>
#include <linux/jiffies.h>
#include <linux/kprobes.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/preempt.h>
#include <linux/printk.h>
#include <linux/sched.h>
#include <linux/string.h>
#include <asm/apic.h>
#include <asm/irq_vectors.h>
#include <asm/mach_traps.h>
#include <asm/nmi.h>
#include <asm/processor.h>
#include <asm/x86_init.h>
#include "bsdmem.h"
#include "bsdmem_dump_int.h"

#define BSDMEM_NMI_NAME		"bsdmem"

/*
 * How long to wait for all the answers, from the moment the NMIs are
 * sent: the kernel's own all-CPU backtrace waits as long. Answers come
 * within microseconds; only a CPU that cannot take an NMI makes a dump
 * wait this long, and a caller that gives up or a suspend ends it sooner.
 */
#define BSDMEM_REGS_PATIENCE	(10 * HZ)
/*
 * How long after its answer a CPU still claims one late NMI of ours: in a
 * VM a vCPU may be descheduled between the two NMIs, so well above their
 * microseconds; at most one foreign NMI per CPU and dump is taken.
 */
#define BSDMEM_REGS_LATE	msecs_to_jiffies(100)
/* How long ours may be held back behind a platform NMI (2 s and more). */
#define BSDMEM_REGS_HELD_BACK	(10 * HZ)
/*
 * A wait cut short by an abort or a freeze still gives the NMIs sent
 * this long (in rounds of the wait's 100-200 us sleeps, about 10 ms) to
 * be answered: CPUs that were not waited for are not reported silent.
 */
#define BSDMEM_REGS_GRACE_ROUNDS	64

enum {
	BSDMEM_SLOT_IDLE,
	BSDMEM_SLOT_ASKED,	/* set by the dump, before its NMI */
	BSDMEM_SLOT_ANSWERED,	/* set by the NMI handler */
};

/* Written by the NMI handler on its own CPU; reset when asked. */
struct bsdmem_nmi_slot {
	atomic_t	state;
	pid_t		pid;
	bool		spare;		/* one late NMI may still be claimed */
	unsigned long	answered;	/* jiffies at the answer */
	unsigned long	declined_ip;	/* of an NMI left to the platform */
	unsigned long	declined;	/* jiffies then */
	struct pt_regs	regs;
};

/* One collection at a time; it guards the registration too. */
static DEFINE_MUTEX(bsdmem_regs_lock);
/* Set before the handler is registered, freed after it is unregistered. */
static struct bsdmem_nmi_slot __percpu *bsdmem_nmi_slots;
static bool bsdmem_regs_pinned;

#if IS_ENABLED(CONFIG_BSDMEM_KUNIT_TEST)
/* KUnit: a CPU that claims its NMIs and never answers; the patience. */
int bsdmem_regs_test_silent_cpu = -1;
unsigned long bsdmem_regs_test_patience;
/* KUnit: the NMI reason port, as read on any CPU; -1: the real one. */
int bsdmem_regs_test_reason = -1;

static int bsdmem_regs_reason_override(void)
{
	return READ_ONCE(bsdmem_regs_test_reason);
}

static bool bsdmem_regs_silent(void)
{
	return READ_ONCE(bsdmem_regs_test_silent_cpu) == smp_processor_id();
}

static unsigned long bsdmem_regs_patience(void)
{
	return bsdmem_regs_test_patience ?: BSDMEM_REGS_PATIENCE;
}

bool bsdmem_dump_regs_test_pinned(void)
{
	return bsdmem_regs_pinned;
}
#else
static bool bsdmem_regs_silent(void)
{
	return false;
}

static int bsdmem_regs_reason_override(void)
{
	return -1;
}

static unsigned long bsdmem_regs_patience(void)
{
	return BSDMEM_REGS_PATIENCE;
}
#endif

/*
 * A platform NMI (PCI SERR, I/O check) says so in the NMI reason port,
 * and reaches the boot CPU only (bsdmem_regs_reason_pending() reads it
 * there). The kernel reads the port only when no NMI_LOCAL handler
 * claimed the NMI, so claiming one of those would hide a hardware error.
 * The NMI left to it may hold ours back: an I/O check spins 2 s in its
 * handler, far past the late window, and ours then comes back to back,
 * at the same ip: the first NMI at that ip within 10 s is claimed.
 */
static bool bsdmem_regs_reason_pending(void)
{
	int reason = bsdmem_regs_reason_override();

	if (reason >= 0)
		return reason & NMI_REASON_MASK;
	return !smp_processor_id() &&
	       (x86_platform.get_nmi_reason() & NMI_REASON_MASK);
}

static void bsdmem_regs_decline(struct bsdmem_nmi_slot *s,
				struct pt_regs *regs)
{
	WRITE_ONCE(s->declined, jiffies);
	WRITE_ONCE(s->declined_ip, regs->ip);
}

/* Ours, held back behind the platform NMI left to the kernel? */
static bool bsdmem_regs_held_back(struct bsdmem_nmi_slot *s,
				  struct pt_regs *regs)
{
	unsigned long ip = READ_ONCE(s->declined_ip);

	if (!ip)
		return false;
	WRITE_ONCE(s->declined_ip, 0);
	return ip == regs->ip &&
	       !time_after(jiffies, READ_ONCE(s->declined) +
				    BSDMEM_REGS_HELD_BACK);
}

/*
 * Not asked for: one NMI shortly after an answer may be our late one, or
 * ours held back behind a platform NMI declined then. At most one is
 * claimed per answer.
 */
static int bsdmem_regs_nmi_late(struct bsdmem_nmi_slot *s,
				struct pt_regs *regs)
{
	bool in_window;

	if (!READ_ONCE(s->spare))
		return NMI_DONE;
	in_window = !time_after(jiffies, s->answered + BSDMEM_REGS_LATE);
	if (bsdmem_regs_reason_pending()) {
		if (in_window)
			bsdmem_regs_decline(s, regs);
		return NMI_DONE;
	}
	WRITE_ONCE(s->spare, false);
	if (bsdmem_regs_held_back(s, regs))
		return NMI_HANDLED;
	return in_window ? NMI_HANDLED : NMI_DONE;
}

static int bsdmem_regs_nmi(unsigned int type, struct pt_regs *regs)
{
	struct bsdmem_nmi_slot *s = this_cpu_ptr(bsdmem_nmi_slots);

	if (atomic_read(&s->state) != BSDMEM_SLOT_ASKED)
		return bsdmem_regs_nmi_late(s, regs);
	if (bsdmem_regs_silent())
		return NMI_HANDLED;
	s->regs = *regs;
	s->pid = current->pid;
	s->answered = jiffies;
	WRITE_ONCE(s->spare, true);
	atomic_set_release(&s->state, BSDMEM_SLOT_ANSWERED);
	/*
	 * Answered, but a platform error pending is left to the kernel; if
	 * this was the platform's NMI, ours comes next and is the late one.
	 * Written either way: a handler of the previous answer may have set
	 * it after the asking CPU cleared it.
	 */
	if (bsdmem_regs_reason_pending()) {
		bsdmem_regs_decline(s, regs);
		return NMI_DONE;
	}
	WRITE_ONCE(s->declined_ip, 0);
	return NMI_HANDLED;
}
NOKPROBE_SYMBOL(bsdmem_regs_nmi);

#if IS_ENABLED(CONFIG_BSDMEM_KUNIT_TEST)
/* KUnit: this CPU's handler, called with preemption off; slot state. */
int bsdmem_regs_test_nmi(struct pt_regs *regs)
{
	return bsdmem_regs_nmi(NMI_LOCAL, regs);
}

bool bsdmem_regs_test_ask(void)
{
	if (!bsdmem_nmi_slots)
		return false;
	atomic_set(&this_cpu_ptr(bsdmem_nmi_slots)->state, BSDMEM_SLOT_ASKED);
	return true;
}

void bsdmem_regs_test_idle(void)
{
	atomic_set(&this_cpu_ptr(bsdmem_nmi_slots)->state, BSDMEM_SLOT_IDLE);
}

/* This CPU's last answer and decline, moved to ago jiffies in the past. */
void bsdmem_regs_test_answered_ago(unsigned long ago)
{
	this_cpu_ptr(bsdmem_nmi_slots)->answered = jiffies - ago;
	this_cpu_ptr(bsdmem_nmi_slots)->declined = jiffies - ago;
}

unsigned long bsdmem_regs_test_late_window(void)
{
	return BSDMEM_REGS_LATE;
}
#endif

static int bsdmem_regs_nmi_register(void)
{
	struct bsdmem_nmi_slot __percpu *slots;
	int ret;

	lockdep_assert_held(&bsdmem_regs_lock);
	if (bsdmem_nmi_slots)
		return 0;
	slots = alloc_percpu(struct bsdmem_nmi_slot);
	if (!slots)
		return -ENOMEM;
	bsdmem_nmi_slots = slots;
	ret = register_nmi_handler(NMI_LOCAL, bsdmem_regs_nmi, 0,
				   BSDMEM_NMI_NAME);
	if (ret) {
		bsdmem_nmi_slots = NULL;
		free_percpu(slots);
	}
	return ret;
}

/* Module exit; a pinned module never gets here. */
void bsdmem_dump_regs_exit(void)
{
	if (!bsdmem_nmi_slots)
		return;
	/* returns once no handler runs any more */
	unregister_nmi_handler(NMI_LOCAL, BSDMEM_NMI_NAME);
	free_percpu(bsdmem_nmi_slots);
	bsdmem_nmi_slots = NULL;
}

/*
 * Ask every CPU of the table but this one, and send them the NMI. No CPU
 * goes offline meanwhile (that takes stop_machine, which needs this CPU,
 * its preemption off); one that comes online is not in the table, so
 * not asked.
 */
static void bsdmem_regs_ask(struct cpumask *asked,
			    const struct bsdmem_cpu_regs *cpus, unsigned int n,
			    unsigned int self)
{
	unsigned int cpu, i;

	cpumask_clear(asked);
	for (i = 0; i < n; i++)
		if (cpus[i].cpu != self)
			cpumask_set_cpu(cpus[i].cpu, asked);
	if (cpumask_empty(asked))
		return;
	for_each_cpu(cpu, asked) {
		struct bsdmem_nmi_slot *s = per_cpu_ptr(bsdmem_nmi_slots, cpu);

		WRITE_ONCE(s->spare, false);
		WRITE_ONCE(s->declined_ip, 0);
		atomic_set(&s->state, BSDMEM_SLOT_ASKED);
	}
	/* the slots are asked for before any of the NMIs can arrive */
	smp_mb();
	apic->send_IPI_mask(asked, NMI_VECTOR);
}

/*
 * The table in CPU order, every CPU unknown but this one, which gets the
 * caller's own registers; then the others are asked (asked is NULL
 * without an NMI handler). Returns the number of online CPUs.
 */
static unsigned int bsdmem_regs_start(struct bsdmem_cpu_regs *cpus,
				      unsigned int max,
				      const struct pt_regs *here,
				      struct cpumask *asked)
{
	unsigned int cpu, self, n = 0;

	/* this CPU stays the one not asked until the NMIs are sent */
	preempt_disable();
	self = smp_processor_id();
	for_each_online_cpu(cpu) {
		struct bsdmem_cpu_regs *c = &cpus[n];

		if (n == max)
			break;
		memset(c, 0, sizeof(*c));
		c->cpu = cpu;
		c->pid = -1;
		if (cpu == self) {
			c->regs = *here;
			c->pid = current->pid;
			c->known = true;
		}
		n++;
	}
	if (asked)
		bsdmem_regs_ask(asked, cpus, n, self);
	preempt_enable();
	return n;
}

static unsigned int bsdmem_regs_unanswered(const struct cpumask *asked)
{
	unsigned int cpu, n = 0;

	for_each_cpu(cpu, asked)
		if (atomic_read(&per_cpu_ptr(bsdmem_nmi_slots, cpu)->state) !=
		    BSDMEM_SLOT_ANSWERED)
			n++;
	return n;
}

/* The caller gave up, or the system freezes: it waits for this thread. */
static bool bsdmem_regs_stopped(const atomic_t *abort)
{
	return atomic_read(abort) || freezing(current);
}

/*
 * Until every CPU asked has answered or the patience runs out; if the
 * caller gives up or the system freezes first, for a short grace only.
 */
static void bsdmem_regs_wait(const struct cpumask *asked,
			     const atomic_t *abort)
{
	unsigned long deadline = jiffies + bsdmem_regs_patience();
	unsigned int grace = BSDMEM_REGS_GRACE_ROUNDS;

	while (bsdmem_regs_unanswered(asked)) {
		if (time_after(jiffies, deadline))
			break;
		if (bsdmem_regs_stopped(abort) && !grace--)
			break;
		usleep_range(100, 200);
	}
}

/*
 * Take the answers; asked is left holding the CPUs that did not answer.
 * Their slots stay asked for: a late NMI is still claimed, and the next
 * dump asks them again.
 */
static void bsdmem_regs_gather(struct bsdmem_cpu_regs *cpus, unsigned int n,
			       struct cpumask *asked)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		struct bsdmem_cpu_regs *c = &cpus[i];
		struct bsdmem_nmi_slot *s;

		if (!cpumask_test_cpu(c->cpu, asked))
			continue;
		s = per_cpu_ptr(bsdmem_nmi_slots, c->cpu);
		if (atomic_read_acquire(&s->state) != BSDMEM_SLOT_ANSWERED)
			continue;
		c->regs = s->regs;
		c->pid = s->pid;
		c->known = true;
		atomic_set(&s->state, BSDMEM_SLOT_IDLE);
		cpumask_clear_cpu(c->cpu, asked);
	}
}

static void bsdmem_regs_report(const struct cpumask *silent)
{
	if (cpumask_empty(silent))
		return;
	pr_warn_ratelimited("bsdmem: dump: CPU %*pbl did not answer its NMI: registers zero, pr_pid -1\n",
			    cpumask_pr_args(silent));
	/* their NMIs may still come: the handler must stay */
	if (!bsdmem_regs_pinned) {
		__module_get(THIS_MODULE);
		bsdmem_regs_pinned = true;
	}
}

/* Every CPU has answered, late ones included: the module may go. */
static void bsdmem_regs_unpin(void)
{
	unsigned int cpu;

	if (!bsdmem_regs_pinned)
		return;
	for_each_possible_cpu(cpu)
		if (atomic_read(&per_cpu_ptr(bsdmem_nmi_slots, cpu)->state) ==
		    BSDMEM_SLOT_ASKED)
			return;
	bsdmem_regs_pinned = false;
	module_put(THIS_MODULE);
}

/*
 * Fill cpus (room for max) with the registers of every online CPU, in CPU
 * order, as they were at this moment; this CPU's entry gets here, the
 * caller's own registers (bsdmem_dump_here()). A CPU that does not answer
 * is left with known false, and so is every other CPU if the caller gave
 * up already. Returns the number of entries filled.
 *
 * CPU hotplug goes on meanwhile: a CPU that goes offline after its NMI
 * was sent has answered or is marked unknown, as the note then says.
 */
unsigned int bsdmem_dump_regs_collect(struct bsdmem_cpu_regs *cpus,
				      unsigned int max,
				      const struct pt_regs *here,
				      const atomic_t *abort)
{
	cpumask_var_t asked;
	unsigned int n;
	int ret = -ENOMEM;

	mutex_lock(&bsdmem_regs_lock);
	if (atomic_read(abort)) {
		n = bsdmem_regs_start(cpus, max, here, NULL);
		mutex_unlock(&bsdmem_regs_lock);
		return n;
	}
	if (zalloc_cpumask_var(&asked, GFP_KERNEL)) {
		ret = bsdmem_regs_nmi_register();
		if (ret)
			free_cpumask_var(asked);
	}
	n = bsdmem_regs_start(cpus, max, here, ret ? NULL : asked);
	if (!ret) {
		bsdmem_regs_wait(asked, abort);
		bsdmem_regs_gather(cpus, n, asked);
		bsdmem_regs_report(asked);
		bsdmem_regs_unpin();
	}
	mutex_unlock(&bsdmem_regs_lock);
	if (ret)
		pr_warn_ratelimited("bsdmem: dump: no NMI handler (%d): only the dumping CPU's registers are known\n",
				    ret);
	else
		free_cpumask_var(asked);
	return n;
}
