// SPDX-License-Identifier: GPL-2.0
/*
 * hpfn_test.ko: the VM test bed's kernel helper.
 *
 * /dev/hpfn_test answers "which page-table level maps this address of my
 * process" by walking current->mm, which the tests use as their oracle on
 * kernels without the debugfs page-table dump, and its mmap() maps a
 * physical range chosen by ioctl with remap_pfn_range() (a tiny /dev/mem
 * for device and reserved memory, never System RAM), with or without a
 * fault handler on the VMA. HPFN_TEST_IOC_IOREMAP ioremaps such a range
 * into the kernel, for the tests that read the kernel's own leaves from the
 * architecture's page-table dump. The inject_warn parameter
 * triggers a WARN() at load time so the harness can prove that it fails a
 * run whose kernel log has a warning.
 */
#include <linux/io.h>
#include <linux/ioport.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pgtable.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "hpfn_test.h"

static bool inject_warn;
module_param(inject_warn, bool, 0400);
MODULE_PARM_DESC(inject_warn, "WARN() once at load (harness self-test)");

/*
 * The leaf that maps @addr below @pgdp, into @q. The caller keeps the
 * tables from being freed: the mmap lock for a user address, a live
 * ioremap() for a kernel one.
 */
static void hpfn_test_walk(pgd_t *pgdp, unsigned long addr,
			   struct hpfn_test_query *q)
{
	p4d_t *p4dp;
	pud_t *pudp, pud;
	pmd_t *pmdp, pmd;
	pte_t *ptep, pte;

	if (pgd_none(READ_ONCE(*pgdp)) || pgd_bad(READ_ONCE(*pgdp)))
		return;
	p4dp = p4d_offset(pgdp, addr);
	if (p4d_none(READ_ONCE(*p4dp)) || p4d_bad(READ_ONCE(*p4dp)))
		return;
	pudp = pud_offset(p4dp, addr);
	pud = READ_ONCE(*pudp);
	if (pud_none(pud))
		return;
	if (pud_leaf(pud)) {
		q->level = HPFN_TEST_LEVEL_PUD;
		q->special = pud_special(pud);
		q->entry = pud_val(pud);
		return;
	}
	pmdp = pmd_offset(pudp, addr);
	pmd = pmdp_get_lockless(pmdp);
	if (pmd_none(pmd))
		return;
	if (pmd_leaf(pmd)) {
		q->level = HPFN_TEST_LEVEL_PMD;
		q->special = pmd_special(pmd);
		q->entry = pmd_val(pmd);
		return;
	}
	if (pmd_bad(pmd))
		return;
	ptep = pte_offset_kernel(&pmd, addr);
	pte = ptep_get(ptep);
	if (!pte_none(pte)) {
		q->level = HPFN_TEST_LEVEL_PTE;
		q->special = pte_special(pte);
		q->entry = pte_val(pte);
	}
}

/*
 * Walk the calling process's page tables under the mmap read lock, which
 * keeps the tables of a mapped range from being freed (only munmap and
 * khugepaged's collapse of file THPs free them, both excluded here: the
 * caller does not unmap concurrently and device mappings are not collapsed).
 */
static int hpfn_test_query(struct hpfn_test_query *q)
{
	struct mm_struct *mm = current->mm;
	int ret = 0;

	q->level = HPFN_TEST_LEVEL_NONE;
	q->special = 0;
	q->entry = 0;
	if (!mm)
		return -EINVAL;
	if (mmap_read_lock_killable(mm))
		return -EINTR;
	if (!find_vma_intersection(mm, q->addr, q->addr + 1))
		ret = -ENOENT;
	else
		hpfn_test_walk(pgd_offset(mm, q->addr), q->addr, q);
	q->pgtables_bytes = mm_pgtables_bytes(mm);
	mmap_read_unlock(mm);
	return ret;
}

struct hpfn_test_file {
	struct mutex lock;		/* protects target and the ioremap */
	struct hpfn_test_target target;
	bool have_target;
	void __iomem *kaddr;		/* HPFN_TEST_IOC_IOREMAP's mapping */
	u64 ksize;			/* ... and its size */
};

/*
 * The kernel's own leaf at @q->addr, inside this file's ioremap() only:
 * the mapping cannot go away meanwhile (the file lock), and no other
 * kernel address is walked. x86 only: init_mm is not exported to modules,
 * but on x86_64 every process's PGD shares the kernel half of the tables
 * (arm64 keeps them in swapper_pg_dir, behind TTBR1).
 */
static int hpfn_test_query_kernel(struct hpfn_test_file *tf,
				  struct hpfn_test_query *q)
{
	unsigned long start;
	int ret = 0;

	if (!IS_ENABLED(CONFIG_X86_64) || !current->mm)
		return -EOPNOTSUPP;

	q->level = HPFN_TEST_LEVEL_NONE;
	q->special = 0;
	q->entry = 0;
	q->pgtables_bytes = 0;
	mutex_lock(&tf->lock);
	start = (unsigned long)tf->kaddr;
	if (!tf->kaddr || q->addr < start || q->addr - start >= tf->ksize)
		ret = -ENOENT;
	else
		hpfn_test_walk(pgd_offset(current->mm, q->addr), q->addr, q);
	mutex_unlock(&tf->lock);
	return ret;
}

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
	if (t->cache > HPFN_TEST_CACHE_WB || (t->flags & ~HPFN_TEST_FAULT_HANDLER))
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
	vma->vm_ops = (t.flags & HPFN_TEST_FAULT_HANDLER) ?
		      &hpfn_test_fault_vm_ops : &hpfn_test_vm_ops;
	return io_remap_pfn_range(vma, vma->vm_start, (t.phys + off) >> PAGE_SHIFT,
				  len, vma->vm_page_prot);
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

static long hpfn_test_ioctl(struct file *file, unsigned int cmd,
			    unsigned long arg)
{
	void __user *uarg = (void __user *)arg;
	struct hpfn_test_ioremap r;
	struct hpfn_test_target t;
	struct hpfn_test_query q;
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

static int __init hpfn_test_init(void)
{
	WARN(inject_warn, "hpfn_test: warning injected on request (harness self-test)\n");
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
