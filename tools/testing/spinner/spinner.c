// SPDX-License-Identifier: GPL-2.0
/*
 * spinner: a test-only module for the dump readers level. It keeps one
 * CPU spinning with interrupts disabled, as a CPU stuck in a deadlock
 * would, until that CPU takes an NMI (a bsdmem dump asks every CPU for its
 * registers by NMI) or max_ms pass. The dump must then hold registers of
 * that CPU that point into spinner_spin(), and the spinning thread's pid.
 *
 * After the NMI the thread keeps the CPU busy, interrupts enabled, until
 * released: a stuck CPU stays stuck while the dump is written, and crash
 * shows a CPU's registers from the dump only for the task the dump finds
 * running there. It does so without leaving spinner_spin(): the frames
 * under the registers the NMI took stay as they were, and a backtrace
 * from them reaches kthread() whenever the dump copies the stack.
 *
 * /sys/module/spinner/parameters/:
 *   cpu      the CPU to spin on, given at load (default 1)
 *   max_ms   the longest spin with interrupts disabled (default 5000),
 *            far from the soft lockup (20 s) and RCU stall (21 s) reports
 *   hold_ms  the longest busy hold after it (default 600000)
 *   spin     write 1: start a spin, return once the CPU spins; write 0:
 *            release the hold; read: how the last spin ended, "nmi US",
 *            "timeout US" (how long it spun), "spinning" or "none"
 *   pid      the spinning kernel thread
 *
 * Tasks woken while the CPU spins may be queued on it and wait: keep what
 * must run then (the dump's caller and kthreadd) off that CPU.
 */
#include <linux/completion.h>
#include <linux/cpumask.h>
#include <linux/ktime.h>
#include <linux/kthread.h>
#include <linux/math64.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/sched.h>
#include <linux/sysfs.h>
#include <linux/wait.h>
#include <asm/hardirq.h>
#include <asm/msr.h>
#include <asm/tsc.h>

static unsigned int spinner_cpu = 1;
module_param_named(cpu, spinner_cpu, uint, 0444);
MODULE_PARM_DESC(cpu, "the CPU to spin on");

static unsigned int spinner_max_ms = 5000;
module_param_named(max_ms, spinner_max_ms, uint, 0644);
MODULE_PARM_DESC(max_ms, "the longest spin, in milliseconds");

static unsigned int spinner_hold_ms = 600000;
module_param_named(hold_ms, spinner_hold_ms, uint, 0644);
MODULE_PARM_DESC(hold_ms, "the longest busy hold after the spin, in milliseconds");

static int spinner_pid;
module_param_named(pid, spinner_pid, int, 0444);
MODULE_PARM_DESC(pid, "the spinning kernel thread");

static struct task_struct *spinner_task;
static DECLARE_WAIT_QUEUE_HEAD(spinner_wq);
static DECLARE_COMPLETION(spinner_spinning);
static DEFINE_MUTEX(spinner_lock);
static bool spinner_go;
static bool spinner_released;
static const char *spinner_result = "none";
static u64 spinner_us;

static __always_inline unsigned int spinner_nmis(void)
{
#ifdef SPINNER_HAVE_IRQ_COUNTS
	return this_cpu_read(irq_stat.counts[IRQ_COUNT_NMI]);
#else
	return this_cpu_read(irq_stat.__nmi_count);
#endif
}

/*
 * Busy, interrupts enabled, until released: still the CPU's task. Inlined
 * into spinner_spin(), which a call as its last statement could leave by
 * a tail call, frame and all.
 */
static __always_inline void spinner_hold(void)
{
	u64 end = ktime_get_ns() + READ_ONCE(spinner_hold_ms) * NSEC_PER_MSEC;

	while (!READ_ONCE(spinner_released) && !kthread_should_stop() &&
	       ktime_get_ns() < end) {
		cpu_relax();
		cond_resched();
	}
}

/*
 * Interrupts off until this CPU counts an NMI, or max_ms. The loop calls
 * nothing (the TSC is read inline), so an NMI finds it in this function;
 * the hold is called from here, below the frame the NMI found.
 */
static noinline void spinner_spin(void)
{
	u64 khz = tsc_khz ? tsc_khz : 1000000;
	u64 start, now;
	unsigned int nmis;
	bool nmi;

	local_irq_disable();
	nmis = spinner_nmis();
	start = rdtsc();
	complete(&spinner_spinning);
	do {
		cpu_relax();
		now = rdtsc();
		nmi = spinner_nmis() != nmis;
	} while (!nmi && now - start < READ_ONCE(spinner_max_ms) * khz);
	local_irq_enable();
	WRITE_ONCE(spinner_us, div64_u64((now - start) * 1000, khz));
	WRITE_ONCE(spinner_result, nmi ? "nmi" : "timeout");
	spinner_hold();
}

static int spinner_thread(void *unused)
{
	while (!kthread_should_stop()) {
		wait_event_interruptible(spinner_wq, READ_ONCE(spinner_go) ||
					 kthread_should_stop());
		if (READ_ONCE(spinner_go)) {
			WRITE_ONCE(spinner_go, false);
			spinner_spin();
		}
	}
	return 0;
}

static int spinner_spin_set(const char *val, const struct kernel_param *kp)
{
	bool go;
	int ret;

	ret = kstrtobool(val, &go);
	if (ret)
		return ret;
	if (!go) {
		WRITE_ONCE(spinner_released, true);
		return 0;
	}
	mutex_lock(&spinner_lock);
	reinit_completion(&spinner_spinning);
	WRITE_ONCE(spinner_released, false);
	WRITE_ONCE(spinner_result, "spinning");
	WRITE_ONCE(spinner_go, true);
	wake_up(&spinner_wq);
	ret = wait_for_completion_killable(&spinner_spinning);
	mutex_unlock(&spinner_lock);
	return ret;
}

static int spinner_spin_get(char *buf, const struct kernel_param *kp)
{
	const char *result = READ_ONCE(spinner_result);

	if (strcmp(result, "nmi") && strcmp(result, "timeout"))
		return sysfs_emit(buf, "%s\n", result);
	return sysfs_emit(buf, "%s %llu\n", result, READ_ONCE(spinner_us));
}

static const struct kernel_param_ops spinner_spin_ops = {
	.set = spinner_spin_set,
	.get = spinner_spin_get,
};
module_param_cb(spin, &spinner_spin_ops, NULL, 0644);
MODULE_PARM_DESC(spin, "1 starts a spin, 0 ends the hold; how the last spin ended");

static int __init spinner_init(void)
{
	struct task_struct *t;

	if (spinner_cpu >= nr_cpu_ids || !cpu_online(spinner_cpu))
		return -EINVAL;
	t = kthread_create(spinner_thread, NULL, "spinner/%u", spinner_cpu);
	if (IS_ERR(t))
		return PTR_ERR(t);
	kthread_bind(t, spinner_cpu);
	spinner_task = t;
	spinner_pid = task_pid_nr(t);
	wake_up_process(t);
	return 0;
}

static void __exit spinner_exit(void)
{
	kthread_stop(spinner_task);
}

module_init(spinner_init);
module_exit(spinner_exit);

MODULE_DESCRIPTION("Test only: spin on one CPU with interrupts disabled until an NMI");
MODULE_LICENSE("GPL");
