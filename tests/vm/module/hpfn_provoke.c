// SPDX-License-Identifier: GPL-2.0
/*
 * hpfn_provoke: makes the kernel report one class of problem on demand, so
 * that the harness self-test (tests/vm/selftest.sh) can prove that the VM
 * harness fails a run on each class of kernel report it claims to catch.
 * Loaded only by that self-test, never by a normal run:
 *
 *   insmod hpfn_provoke.ko what=CLASS
 *
 * Init provokes, then succeeds (an error would make busybox's insmod try
 * again through init_module(), provoking twice); the guest's init unloads
 * it at once. bug and oops end the kernel (the test VM boots with
 * oops=panic).
 */
#include <linux/delay.h>
#include <linux/jiffies.h>
#include <linux/kfence.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pgtable.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/slab.h>

static char *what = "";
module_param(what, charp, 0400);
MODULE_PARM_DESC(what, "warn, bug, oops, lockdep, ubsan, kfence, hung, softlockup, rcu_stall, atomic_sleep, list_corruption or pagetable");

static noinline int provoke_warn(void)
{
	WARN(1, "hpfn_provoke: warning on request (harness self-test)\n");
	return 0;
}

static noinline int provoke_bug(void)
{
	pr_info("hpfn_provoke: BUG() on request (harness self-test)\n");
	BUG();
	return 0;
}

static noinline int provoke_oops(void)
{
	int *ptr = NULL;

	pr_info("hpfn_provoke: NULL write on request (harness self-test)\n");
	OPTIMIZER_HIDE_VAR(ptr);
	*ptr = 1;
	return 0;
}

static DEFINE_MUTEX(provoke_lock_a);
static DEFINE_MUTEX(provoke_lock_b);

/*
 * A then B, later B then A, in one thread: it cannot deadlock, but lockdep
 * records both orders and reports the inversion at the second.
 */
static noinline int provoke_lockdep(void)
{
	mutex_lock(&provoke_lock_a);
	mutex_lock(&provoke_lock_b);
	mutex_unlock(&provoke_lock_b);
	mutex_unlock(&provoke_lock_a);

	mutex_lock(&provoke_lock_b);
	mutex_lock(&provoke_lock_a);
	mutex_unlock(&provoke_lock_a);
	mutex_unlock(&provoke_lock_b);
	return 0;
}

/* An index the compiler cannot see, so only the run-time check catches it. */
static int provoke_index = 4;
module_param_named(index, provoke_index, int, 0400);

static noinline int provoke_ubsan(void)
{
	int small[4] = { 1, 2, 3, 4 };
	int idx = READ_ONCE(provoke_index);

	/* A read one past the end: reported by UBSAN_BOUNDS, harmless. */
	return small[idx];
}

/*
 * KFENCE guards one sampled allocation per interval: allocate until one
 * lands in the KFENCE pool (within a few intervals), free it and read it.
 */
static noinline int provoke_kfence(void)
{
	unsigned long give_up = jiffies + 30 * HZ;
	char *p;

	while (time_before(jiffies, give_up)) {
		p = kmalloc(32, GFP_KERNEL);
		if (!p)
			return -ENOMEM;
		if (is_kfence_address(p)) {
			kfree(p);
			/* hides the use after free from the compiler's own check */
			OPTIMIZER_HIDE_VAR(p);
			return READ_ONCE(*p);
		}
		kfree(p);
		usleep_range(100, 200);
	}
	pr_err("hpfn_provoke: no KFENCE allocation within 30 s\n");
	return -ETIMEDOUT;
}

/*
 * The caller (init) set hung_task_timeout_secs to 2: sleep uninterruptibly
 * for 4 check periods, so the detector sees this task blocked.
 */
static noinline int provoke_hung(void)
{
	msleep(8000);
	return 0;
}

/*
 * The caller set watchdog_thresh to 1 (a soft lockup after 2 s): spin with
 * preemption off, interrupts on, for 6 s so the watchdog timer sees it.
 */
static noinline int provoke_softlockup(void)
{
	unsigned long until = jiffies + 6 * HZ;

	preempt_disable();
	while (time_before(jiffies, until))
		cpu_relax();
	preempt_enable();
	return 0;
}

/*
 * The caller set rcu_cpu_stall_timeout to 3 s (PROVE_RCU adds 5 s): start
 * a grace period now (start_poll_synchronize_rcu(), no callback that would
 * outlive this module's text; kfree_rcu() batches for up to 5 s before it
 * asks for one, which made the report race the end of the spin), then hold
 * it off from this CPU for 20 s.
 */
static noinline int provoke_rcu_stall(void)
{
	unsigned long until = jiffies + 20 * HZ;

	start_poll_synchronize_rcu();
	preempt_disable();
	rcu_read_lock();
	while (time_before(jiffies, until))
		cpu_relax();
	rcu_read_unlock();
	preempt_enable();
	return 0;
}

/* A sleep with preemption off: DEBUG_ATOMIC_SLEEP's report. */
static noinline int provoke_atomic_sleep(void)
{
	preempt_disable();
	usleep_range(1000, 2000);
	preempt_enable();
	return 0;
}

/*
 * A list entry deleted twice: DEBUG_LIST sees the poisoned pointers the
 * first deletion left, reports, and refuses to touch them.
 */
static noinline int provoke_list_corruption(void)
{
	LIST_HEAD(head);
	struct list_head entry;

	list_add(&entry, &head);
	list_del(&entry);
	list_del(&entry);
	return 0;
}

/* The report the page-table code prints for a corrupt PMD. */
static noinline int provoke_pagetable(void)
{
	pmd_t pmd = __pmd(0x1234);

	pmd_ERROR(pmd);
	return 0;
}

static const struct {
	const char *name;
	int (*provoke)(void);
} provocations[] = {
	{ "warn", provoke_warn },
	{ "bug", provoke_bug },
	{ "oops", provoke_oops },
	{ "lockdep", provoke_lockdep },
	{ "ubsan", provoke_ubsan },
	{ "kfence", provoke_kfence },
	{ "hung", provoke_hung },
	{ "softlockup", provoke_softlockup },
	{ "rcu_stall", provoke_rcu_stall },
	{ "atomic_sleep", provoke_atomic_sleep },
	{ "list_corruption", provoke_list_corruption },
	{ "pagetable", provoke_pagetable },
};

static int __init hpfn_provoke_init(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(provocations); i++) {
		if (!strcmp(what, provocations[i].name)) {
			pr_info("hpfn_provoke: %s done (%d)\n", what,
				provocations[i].provoke());
			return 0;
		}
	}
	pr_err("hpfn_provoke: unknown what='%s'\n", what);
	return -EINVAL;
}
module_init(hpfn_provoke_init);

static void __exit hpfn_provoke_exit(void)
{
}
module_exit(hpfn_provoke_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("hugepfn test bed: provoke kernel reports for the harness self-test");
