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
 * the module, since its NMI may still come.
 */
#include <linux/atomic.h>
#include <linux/cpu.h>
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
#include <asm/nmi.h>
#include <asm/processor.h>
#include "bsdmem.h"
#include "bsdmem_dump_int.h"

#define BSDMEM_NMI_NAME		"bsdmem"

/*
 * How long to wait for the next CPU to answer: the kernel's own all-CPU
 * backtrace waits as long. Answers come within microseconds; only a CPU
 * that cannot take an NMI makes a dump wait this long.
 */
#define BSDMEM_REGS_PATIENCE	(10 * HZ)

enum {
	BSDMEM_SLOT_IDLE,
	BSDMEM_SLOT_ASKED,	/* set by the dump, before its NMI */
	BSDMEM_SLOT_ANSWERED,	/* set by the NMI handler */
};

/* Written by the NMI handler on its own CPU only. */
struct bsdmem_nmi_slot {
	atomic_t	state;
	pid_t		pid;
	struct pt_regs	regs;
};

/* One collection at a time; it guards the registration too. */
static DEFINE_MUTEX(bsdmem_regs_lock);
/* Set before the handler is registered, freed after it is unregistered. */
static struct bsdmem_nmi_slot __percpu *bsdmem_nmi_slots;
static bool bsdmem_regs_pinned;

static int bsdmem_regs_nmi(unsigned int type, struct pt_regs *regs)
{
	struct bsdmem_nmi_slot *s = this_cpu_ptr(bsdmem_nmi_slots);

	if (atomic_read(&s->state) != BSDMEM_SLOT_ASKED)
		return NMI_DONE;
	s->regs = *regs;
	s->pid = current->pid;
	atomic_set_release(&s->state, BSDMEM_SLOT_ANSWERED);
	return NMI_HANDLED;
}
NOKPROBE_SYMBOL(bsdmem_regs_nmi);

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
 * Where the dumping thread stands: enough for a reader to start a
 * backtrace. (crash_setup_regs() would do, but <asm/kexec.h> is not usable
 * without CONFIG_KEXEC_CORE.)
 */
static noinline void bsdmem_capture_regs(struct pt_regs *r)
{
	memset(r, 0, sizeof(*r));
	r->ip = _THIS_IP_;
	r->sp = current_stack_pointer;
	r->bp = (unsigned long)__builtin_frame_address(0);
	r->cs = __KERNEL_CS;
	r->ss = __KERNEL_DS;
	r->flags = arch_local_save_flags();
}

/* Ask every online CPU but this one, and send them the NMI. */
static void bsdmem_regs_ask(struct cpumask *asked, unsigned int self)
{
	unsigned int cpu;

	cpumask_copy(asked, cpu_online_mask);
	cpumask_clear_cpu(self, asked);
	if (cpumask_empty(asked))
		return;
	for_each_cpu(cpu, asked)
		atomic_set(&per_cpu_ptr(bsdmem_nmi_slots, cpu)->state,
			   BSDMEM_SLOT_ASKED);
	/* the slots are asked for before any of the NMIs can arrive */
	smp_mb();
	apic->send_IPI_mask(asked, NMI_VECTOR);
}

/*
 * The table in CPU order, every CPU unknown but this one, which records
 * its own registers at once; then the others are asked (asked is NULL
 * without an NMI handler). Returns the number of online CPUs.
 */
static unsigned int bsdmem_regs_start(struct bsdmem_cpu_regs *cpus,
				      unsigned int max, struct cpumask *asked)
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
			bsdmem_capture_regs(&c->regs);
			c->pid = current->pid;
			c->known = true;
		}
		n++;
	}
	if (asked)
		bsdmem_regs_ask(asked, self);
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

/* Until every CPU asked has answered, or none has for a long while. */
static void bsdmem_regs_wait(const struct cpumask *asked)
{
	unsigned int left = cpumask_weight(asked);
	unsigned long last = jiffies;

	while (left) {
		unsigned int now = bsdmem_regs_unanswered(asked);

		if (now < left)
			last = jiffies;
		left = now;
		if (!left || time_after(jiffies, last + BSDMEM_REGS_PATIENCE))
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
	pr_warn("bsdmem: dump: CPU %*pbl did not answer its NMI: registers zero, pr_pid -1\n",
		cpumask_pr_args(silent));
	/* their NMIs may still come: the handler must stay */
	if (!bsdmem_regs_pinned) {
		__module_get(THIS_MODULE);
		bsdmem_regs_pinned = true;
	}
}

/*
 * Fill cpus (room for max) with the registers of every online CPU, in CPU
 * order, as they were at this moment. A CPU that does not answer is left
 * with known false. Returns the number of entries filled.
 */
unsigned int bsdmem_dump_regs_collect(struct bsdmem_cpu_regs *cpus,
				      unsigned int max)
{
	cpumask_var_t asked;
	unsigned int n;
	int ret = -ENOMEM;

	mutex_lock(&bsdmem_regs_lock);
	if (zalloc_cpumask_var(&asked, GFP_KERNEL)) {
		ret = bsdmem_regs_nmi_register();
		if (ret)
			free_cpumask_var(asked);
	}
	/* the set of online CPUs stays as it is until every one answered */
	cpus_read_lock();
	n = bsdmem_regs_start(cpus, max, ret ? NULL : asked);
	if (!ret) {
		bsdmem_regs_wait(asked);
		bsdmem_regs_gather(cpus, n, asked);
		bsdmem_regs_report(asked);
	}
	cpus_read_unlock();
	mutex_unlock(&bsdmem_regs_lock);
	if (ret)
		pr_warn("bsdmem: dump: no NMI handler (%d): only the dumping CPU's registers are known\n",
			ret);
	else
		free_cpumask_var(asked);
	return n;
}
