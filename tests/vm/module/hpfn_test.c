// SPDX-License-Identifier: GPL-2.0
/*
 * hpfn_test.ko: the VM test bed's kernel helper.
 *
 * /dev/hpfn_test answers "which page-table level maps this address of my
 * process" with the kernel's own walker (walk_page_range() over
 * current->mm): the tests' oracle on kernels without the debugfs
 * page-table dump, and what hugepfn.ko's hand-written query is checked
 * against. Its mmap() maps a physical range chosen by ioctl with
 * remap_pfn_range() (a tiny /dev/mem for device and reserved memory, never
 * System RAM), with or without a fault handler on the VMA.
 * HPFN_TEST_IOC_IOREMAP ioremaps such a range into the kernel, and its
 * query looks the kernel's own leaves up there, for the tests that also
 * read them from the architecture's page-table dump.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/hugetlb_inline.h>
#include <linux/io.h>
#include <linux/ioport.h>
#include <linux/kprobes.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pagewalk.h>
#include <linux/pgtable.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/version.h>
#ifdef CONFIG_X86_KERNEL_IBT
#include <asm/ibt.h>
#endif

#include "hpfn_test.h"

/*
 * The oracle must not share code with what it checks (hugepfn.ko's
 * MAPPING_QUERY walks the tables by hand), so it asks the kernel's own
 * page-table walker. walk_page_range() is not exported to modules: its
 * address is looked up at load time, through a kprobe (kallsyms_lookup_name()
 * is not exported either), on the patched kernels as on Debian's stock one.
 */
static typeof(walk_page_range) *hpfn_test_walk_page_range __ro_after_init;

/* What a walk of one page found. */
struct hpfn_test_walk {
	struct hpfn_test_query *q;
	bool in_vma;		/* a VMA covers the address */
};

static void hpfn_test_found(struct mm_walk *walk, u32 level, bool special,
			    u64 entry)
{
	struct hpfn_test_query *q = ((struct hpfn_test_walk *)walk->private)->q;

	q->level = level;
	q->special = special;
	q->entry = entry;
}

/*
 * Walk every VMA, whatever its flags: the default test (walk_page_test())
 * skips VM_PFNMAP VMAs, which are exactly the ones the tests look at.
 * hugetlbfs VMAs are refused: no test maps one, and an oracle path that
 * nothing exercises would be an untested oracle.
 */
static int hpfn_test_test_walk(unsigned long addr, unsigned long next,
			       struct mm_walk *walk)
{
	if (is_vm_hugetlb_page(walk->vma))
		return -EOPNOTSUPP;
	((struct hpfn_test_walk *)walk->private)->in_vma = true;
	return 0;
}

/*
 * A PUD leaf, or a table to descend into. After this returns, the walker
 * calls split_huge_pud() on an entry it is told to descend into: that
 * would zap (6.12) or split (the patched kernel) the very leaf being
 * looked at, so a leaf, or anything else that is no table, ends the walk
 * of this entry with ACTION_CONTINUE. Read under the PUD lock, which zap
 * and split of a leaf take to change it.
 */
static int hpfn_test_pud_entry(pud_t *pudp, unsigned long addr,
			       unsigned long next, struct mm_walk *walk)
{
	spinlock_t *ptl = pud_lock(walk->mm, pudp);
	pud_t pud = pudp_get(pudp);

	spin_unlock(ptl);
	if (pud_present(pud) && !pud_leaf(pud))
		return 0;
	if (pud_leaf(pud))
		hpfn_test_found(walk, HPFN_TEST_LEVEL_PUD, pud_special(pud),
				pud_val(pud));
	walk->action = ACTION_CONTINUE;
	return 0;
}

/*
 * The same one level down: without ACTION_CONTINUE the walker would
 * split_huge_pmd() a PMD leaf before walking PTEs that are not there.
 */
static int hpfn_test_pmd_entry(pmd_t *pmdp, unsigned long addr,
			       unsigned long next, struct mm_walk *walk)
{
	spinlock_t *ptl = pmd_lock(walk->mm, pmdp);
	pmd_t pmd = pmdp_get(pmdp);

	spin_unlock(ptl);
	if (pmd_present(pmd) && !pmd_leaf(pmd))
		return 0;
	if (pmd_leaf(pmd))
		hpfn_test_found(walk, HPFN_TEST_LEVEL_PMD, pmd_special(pmd),
				pmd_val(pmd));
	walk->action = ACTION_CONTINUE;
	return 0;
}

/* Called with the PTE table mapped and locked. */
static int hpfn_test_pte_entry(pte_t *ptep, unsigned long addr,
			       unsigned long next, struct mm_walk *walk)
{
	pte_t pte = ptep_get(ptep);

	if (!pte_none(pte))
		hpfn_test_found(walk, HPFN_TEST_LEVEL_PTE, pte_special(pte),
				pte_val(pte));
	return 0;
}

static const struct mm_walk_ops hpfn_test_walk_ops = {
	.test_walk	= hpfn_test_test_walk,
	.pud_entry	= hpfn_test_pud_entry,
	.pmd_entry	= hpfn_test_pmd_entry,
	.pte_entry	= hpfn_test_pte_entry,
	.walk_lock	= PGWALK_RDLOCK,
};

/*
 * The leaf that maps @q->addr in the calling process: a walk of exactly
 * the page that holds it. walk_page_range() wants the mmap lock held
 * (mmap_assert_locked(): read is enough with PGWALK_RDLOCK); it keeps the
 * tables of a mapped range from being freed.
 */
static int hpfn_test_query(struct hpfn_test_query *q)
{
	unsigned long start = q->addr & PAGE_MASK;
	struct mm_struct *mm = current->mm;
	struct hpfn_test_walk w = { .q = q };
	int ret;

	q->level = HPFN_TEST_LEVEL_NONE;
	q->special = 0;
	q->entry = 0;
	if (!mm)
		return -EINVAL;
	if (mmap_read_lock_killable(mm))
		return -EINTR;
	ret = hpfn_test_walk_page_range(mm, start, start + PAGE_SIZE,
					&hpfn_test_walk_ops, &w);
	q->pgtables_bytes = mm_pgtables_bytes(mm);
	mmap_read_unlock(mm);
	if (!ret && !w.in_vma)
		ret = -ENOENT;
	return ret;
}

struct hpfn_test_file {
	struct mutex lock;		/* protects target and the ioremap */
	struct hpfn_test_target target;
	bool have_target;
	void __iomem *kaddr;		/* HPFN_TEST_IOC_IOREMAP's mapping */
	u64 ksize;			/* ... and its size */
};

#ifdef CONFIG_X86_64
/*
 * The kernel's own leaf at @addr, from lookup_address(): x86's walker of
 * the kernel's tables (what set_memory_*() use), exported to modules.
 * walk_page_range() has no VMA to walk there, and the kernel-table walker
 * of the generic code (walk_kernel_page_table_range()) wants init_mm's
 * mmap lock, which a module cannot reach. arm64 exports no such lookup.
 */
static void hpfn_test_lookup_kernel(unsigned long addr,
				    struct hpfn_test_query *q)
{
	unsigned int level;
	pte_t *ptep = lookup_address(addr, &level);
	pmd_t pmd;
	pud_t pud;
	pte_t pte;

	if (!ptep)
		return;
	switch (level) {
	case PG_LEVEL_4K:
		pte = ptep_get(ptep);
		if (!pte_none(pte)) {
			q->level = HPFN_TEST_LEVEL_PTE;
			q->special = pte_special(pte);
			q->entry = pte_val(pte);
		}
		break;
	case PG_LEVEL_2M:
		pmd = pmdp_get((pmd_t *)ptep);
		if (pmd_leaf(pmd)) {
			q->level = HPFN_TEST_LEVEL_PMD;
			q->special = pmd_special(pmd);
			q->entry = pmd_val(pmd);
		}
		break;
	case PG_LEVEL_1G:
		pud = pudp_get((pud_t *)ptep);
		if (pud_leaf(pud)) {
			q->level = HPFN_TEST_LEVEL_PUD;
			q->special = pud_special(pud);
			q->entry = pud_val(pud);
		}
		break;
	}
}

/*
 * The kernel's own leaf at @q->addr, inside this file's ioremap() only:
 * the mapping, and so its tables, cannot go away meanwhile (the file
 * lock), and no other kernel address is looked at.
 */
static int hpfn_test_query_kernel(struct hpfn_test_file *tf,
				  struct hpfn_test_query *q)
{
	unsigned long start;
	int ret = 0;

	q->level = HPFN_TEST_LEVEL_NONE;
	q->special = 0;
	q->entry = 0;
	q->pgtables_bytes = 0;
	mutex_lock(&tf->lock);
	start = (unsigned long)tf->kaddr;
	if (!tf->kaddr || q->addr < start || q->addr - start >= tf->ksize)
		ret = -ENOENT;
	else
		hpfn_test_lookup_kernel(q->addr, q);
	mutex_unlock(&tf->lock);
	return ret;
}
#else
static int hpfn_test_query_kernel(struct hpfn_test_file *tf,
				  struct hpfn_test_query *q)
{
	return -EOPNOTSUPP;
}
#endif

/* Device or reserved memory only: never System RAM. */
static int hpfn_test_check_range(u64 phys, u64 size)
{
	u64 end;

	if (!size || !PAGE_ALIGNED(phys) || !PAGE_ALIGNED(size) ||
	    check_add_overflow(phys, size, &end))
		return -EINVAL;
	if (region_intersects(phys, size, IORESOURCE_SYSTEM_RAM,
			      IORES_DESC_NONE) != REGION_DISJOINT)
		return -EPERM;
	return 0;
}

static int hpfn_test_ioremap(struct hpfn_test_file *tf,
			     struct hpfn_test_ioremap *r)
{
	void __iomem *p;
	int ret;

	ret = hpfn_test_check_range(r->phys, r->size);
	if (ret)
		return ret;
	if (r->pad)
		return -EINVAL;
	switch (r->cache) {
	case HPFN_TEST_CACHE_UC_MINUS:
		p = ioremap(r->phys, r->size);
		break;
	case HPFN_TEST_CACHE_WC:
		p = ioremap_wc(r->phys, r->size);
		break;
	default:
		return -EINVAL;
	}
	if (!p)
		return -ENOMEM;
	mutex_lock(&tf->lock);
	if (tf->kaddr)
		iounmap(tf->kaddr);
	tf->kaddr = p;
	tf->ksize = r->size;
	mutex_unlock(&tf->lock);
	r->kaddr = (unsigned long)p;
	return 0;
}

static int hpfn_test_set_target(struct hpfn_test_file *tf,
				const struct hpfn_test_target *t)
{
	int ret = hpfn_test_check_range(t->phys, t->size);

	if (ret)
		return ret;
	if (t->cache > HPFN_TEST_CACHE_WB ||
	    (t->flags & ~(HPFN_TEST_FAULT_HANDLER | HPFN_TEST_FAIL_MMAP | HPFN_TEST_NO_VM_OPS)))
		return -EINVAL;
	mutex_lock(&tf->lock);
	tf->target = *t;
	tf->have_target = true;
	mutex_unlock(&tf->lock);
	return 0;
}

/* A fault handler that never maps anything: it only has to exist. */
static vm_fault_t hpfn_test_fault(struct vm_fault *vmf)
{
	return VM_FAULT_SIGBUS;
}

static const struct vm_operations_struct hpfn_test_vm_ops = {
	.access = generic_access_phys,
};

static const struct vm_operations_struct hpfn_test_fault_vm_ops = {
	.fault = hpfn_test_fault,
	.access = generic_access_phys,
};

static int hpfn_test_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct hpfn_test_file *tf = file->private_data;
	unsigned long len = vma->vm_end - vma->vm_start;
	struct hpfn_test_target t;
	bool have;
	u64 off;
	int ret;

	mutex_lock(&tf->lock);
	t = tf->target;
	have = tf->have_target;
	mutex_unlock(&tf->lock);
	if (!have)
		return -ENODEV;
	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	if (vma->vm_pgoff > (t.size >> PAGE_SHIFT))
		return -EINVAL;
	off = (u64)vma->vm_pgoff << PAGE_SHIFT;
	if (len > t.size - off)
		return -EINVAL;

	switch (t.cache) {
	case HPFN_TEST_CACHE_UC_MINUS:
		vma->vm_page_prot = pgprot_device(vma->vm_page_prot);
		break;
	case HPFN_TEST_CACHE_WC:
		vma->vm_page_prot = pgprot_writecombine(vma->vm_page_prot);
		break;
	}
	/* The ops must be in place before the remap: they decide its size. */
	if (t.flags & HPFN_TEST_NO_VM_OPS)
		vma->vm_ops = NULL;
	else if (t.flags & HPFN_TEST_FAULT_HANDLER)
		vma->vm_ops = &hpfn_test_fault_vm_ops;
	else
		vma->vm_ops = &hpfn_test_vm_ops;
	ret = io_remap_pfn_range(vma, vma->vm_start, (t.phys + off) >> PAGE_SHIFT,
				 len, vma->vm_page_prot);
	/*
	 * A driver failing after it mapped something: mmap_region() then
	 * zaps the mapping in a VMA that has lost its vm_file.
	 */
	if (!ret && (t.flags & HPFN_TEST_FAIL_MMAP))
		ret = -EIO;
	return ret;
}

static int hpfn_test_open(struct inode *inode, struct file *file)
{
	struct hpfn_test_file *tf = kzalloc(sizeof(*tf), GFP_KERNEL);

	if (!tf)
		return -ENOMEM;
	mutex_init(&tf->lock);
	file->private_data = tf;
	return 0;
}

static int hpfn_test_release(struct inode *inode, struct file *file)
{
	struct hpfn_test_file *tf = file->private_data;

	if (tf->kaddr)
		iounmap(tf->kaddr);
	kfree(tf);
	return 0;
}

static int hpfn_test_zap(struct file *file, const struct hpfn_test_zap *z)
{
	if (!z->len || !PAGE_ALIGNED(z->offset) || !PAGE_ALIGNED(z->len) ||
	    z->offset + z->len < z->offset || z->offset + z->len > (u64)LLONG_MAX)
		return -EINVAL;
	unmap_mapping_range(file->f_mapping, z->offset, z->len, 1);
	return 0;
}

static long hpfn_test_ioctl(struct file *file, unsigned int cmd,
			    unsigned long arg)
{
	void __user *uarg = (void __user *)arg;
	struct hpfn_test_ioremap r;
	struct hpfn_test_target t;
	struct hpfn_test_query q;
	struct hpfn_test_zap z;
	int ret;

	switch (cmd) {
	case HPFN_TEST_IOC_SET_TARGET:
		if (copy_from_user(&t, uarg, sizeof(t)))
			return -EFAULT;
		return hpfn_test_set_target(file->private_data, &t);
	case HPFN_TEST_IOC_QUERY:
		if (copy_from_user(&q, uarg, sizeof(q)))
			return -EFAULT;
		if (q.addr >= TASK_SIZE)
			ret = hpfn_test_query_kernel(file->private_data, &q);
		else
			ret = hpfn_test_query(&q);
		if (ret)
			return ret;
		return copy_to_user(uarg, &q, sizeof(q)) ? -EFAULT : 0;
	case HPFN_TEST_IOC_IOREMAP:
		if (copy_from_user(&r, uarg, sizeof(r)))
			return -EFAULT;
		ret = hpfn_test_ioremap(file->private_data, &r);
		if (ret)
			return ret;
		return copy_to_user(uarg, &r, sizeof(r)) ? -EFAULT : 0;
	case HPFN_TEST_IOC_ZAP:
		if (copy_from_user(&z, uarg, sizeof(z)))
			return -EFAULT;
		return hpfn_test_zap(file, &z);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations hpfn_test_fops = {
	.owner = THIS_MODULE,
	.open = hpfn_test_open,
	.release = hpfn_test_release,
	.unlocked_ioctl = hpfn_test_ioctl,
	.mmap = hpfn_test_mmap,
};

static struct miscdevice hpfn_test_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "hpfn_test",
	.fops = &hpfn_test_fops,
	.mode = 0600,
};

/*
 * register_kprobe() reports the address after a function's leading ENDBR,
 * or after the NOP that sealed it (arch_adjust_kprobe_addr()). Calling
 * there is fine without IBT; with IBT enforced an indirect call must land
 * on a real ENDBR, and a sealed function (one the kernel never takes the
 * address of) cannot be called indirectly at all.
 */
#if KERNEL_VERSION(6, 15, 0) > LINUX_VERSION_CODE
#define hpfn_is_endbr	is_endbr
#else
#define hpfn_is_endbr	__is_endbr	/* is_endbr() reads memory since 6.15 */
#endif

static void *hpfn_test_call_addr(void *addr)
{
#ifdef CONFIG_X86_KERNEL_IBT
	u32 insn;

	if (get_kernel_nofault(insn, addr - ENDBR_INSN_SIZE) || !hpfn_is_endbr(insn))
		return addr;
	if (insn != gen_endbr_poison())
		return addr - ENDBR_INSN_SIZE;
	if (cpu_feature_enabled(X86_FEATURE_IBT))
		return NULL;
#endif
	return addr;
}

/*
 * walk_page_range()'s address, from a kprobe's symbol lookup: registered
 * disabled, so the function's text is never patched, and dropped at once.
 */
static int __init hpfn_test_find_walker(void)
{
	struct kprobe kp = {
		.symbol_name = "walk_page_range",
		.flags = KPROBE_FLAG_DISABLED,
	};
	void *addr;
	int ret;

	ret = register_kprobe(&kp);
	if (ret) {
		pr_err("cannot find walk_page_range() (not exported) with a kprobe lookup: %d; the oracle needs CONFIG_KPROBES\n",
		       ret);
		return -ENOENT;
	}
	addr = hpfn_test_call_addr(kp.addr);
	unregister_kprobe(&kp);
	if (!addr) {
		pr_err("walk_page_range() is sealed against indirect calls and IBT is on (boot with ibt=off)\n");
		return -ENOENT;
	}
	hpfn_test_walk_page_range = addr;
	return 0;
}

/*
 * Tell lockdep that reclaim takes i_mmap_rwsem, as dma_resv_lockdep() does
 * at boot on kernels with dma-buf, which the test kernel lacks: a
 * page-table allocation with reclaim under i_mmap_rwsem (a zap splitting a
 * leaf, say) is then a lockdep report in the guest's log, as it would be
 * on a distribution kernel.
 */
static void __init hpfn_test_prime_lockdep(void)
{
	struct address_space mapping;

	address_space_init_once(&mapping);
	fs_reclaim_acquire(GFP_KERNEL);
	i_mmap_lock_write(&mapping);
	i_mmap_unlock_write(&mapping);
	fs_reclaim_release(GFP_KERNEL);
}

static int __init hpfn_test_init(void)
{
	int ret;

	ret = hpfn_test_find_walker();
	if (ret)
		return ret;
	hpfn_test_prime_lockdep();
	return misc_register(&hpfn_test_misc);
}

static void __exit hpfn_test_exit(void)
{
	misc_deregister(&hpfn_test_misc);
}

module_init(hpfn_test_init);
module_exit(hpfn_test_exit);
MODULE_DESCRIPTION("hugepfn VM test bed helper");
MODULE_LICENSE("GPL");
