// SPDX-License-Identifier: GPL-2.0
/*
 * Revocation: unbind, reset and AER errors take every mapping of a node
 * away, and after hugepfn_revoke() returns no page table maps its memory.
 *
 * unmap_mapping_range() alone would not do, for two reasons:
 *  - ->mmap() fills a remap_pfn_range() mapping before the mm links the
 *    VMA into the address space's tree, so a zap at that moment misses it;
 *  - on 6.12 a zap of a remap_pfn_range() VMA frees its x86 PAT
 *    reservation and clears VM_PAT without the mmap lock (untrack_pfn()
 *    from unmap_single_vma()), so a munmap() or exit of the same VMA at
 *    the same moment frees it twice, or finds the entries gone and WARNs
 *    in get_pat_info().
 * So each address space that maps the node is zapped with its mmap lock
 * held for writing: that waits for an mmap() in flight (whose VMA is then
 * linked) and excludes munmap() and exit. The address spaces are counted
 * by ->mmap() and vm_ops->open/close; fork's copies are zapped too unless
 * they were made from an address space already zapped. One last
 * unmap_mapping_range() catches those (they carry neither entries nor
 * VM_PAT) and fault-time mappings.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>

#include "hugepfn_private.h"

/* So many address spaces zapped in one revocation that it deserves a word. */
#define HUGEPFN_REVOKE_WARN_MMS	100000

/* An address space with VMAs of the node. */
struct hugepfn_mm {
	struct list_head node;
	struct mm_struct *mm;		/* mmgrab()bed */
	unsigned long vmas;		/* the node's VMAs in it */
	unsigned long picked;		/* the revocation generation zapping it */
	unsigned long zapped;		/* the generation it was zapped for */
};

static struct hugepfn_mm *hugepfn_mm_find(struct hugepfn_dev *hdev, struct mm_struct *mm)
{
	struct hugepfn_mm *m;

	list_for_each_entry(m, &hdev->mms, node)
		if (m->mm == mm)
			return m;
	return NULL;
}

/*
 * Count a VMA of the node in @mm: ->mmap(), vm_ops->open (fork, split,
 * mremap). A child that fork adds inherits its parent's zap state: copied
 * after its parent was zapped (both hold the parent's mmap lock), its
 * VMAs have nothing to zap, so a process that keeps forking cannot keep a
 * revocation going.
 */
void hugepfn_mm_get(struct hugepfn_dev *hdev, struct mm_struct *mm)
{
	/* vm_ops->open cannot fail; the entry is small */
	struct hugepfn_mm *new = kmalloc(sizeof(*new), GFP_KERNEL_ACCOUNT | __GFP_NOFAIL);
	struct hugepfn_mm *m, *parent;

	spin_lock(&hdev->mms_lock);
	m = hugepfn_mm_find(hdev, mm);
	if (m) {
		m->vmas++;
		goto out;
	}
	mmgrab(mm);
	*new = (struct hugepfn_mm){ .mm = mm, .vmas = 1 };
	parent = current->mm != mm ? hugepfn_mm_find(hdev, current->mm) : NULL;
	if (parent)
		new->zapped = parent->zapped;
	list_add_tail(&new->node, &hdev->mms);
	new = NULL;
out:
	spin_unlock(&hdev->mms_lock);
	kfree(new);
}

/*
 * The node's VMAs in @mm, whose mmap lock is held, but those in [@start,
 * @end): a MAP_FIXED mmap() replaces them, and has closed them already.
 */
static unsigned long hugepfn_count_vmas(struct hugepfn_dev *hdev,
					struct mm_struct *mm,
					unsigned long start, unsigned long end)
{
	struct vm_area_struct *vma;
	unsigned long n = 0;

	for (vma = find_vma(mm, 0); vma; vma = find_vma(mm, vma->vm_end))
		n += hugepfn_is_our_vma(hdev, vma) &&
		     (vma->vm_end <= start || vma->vm_start >= end);
	return n;
}

/*
 * Count the VMA that an mmap_prepare hook sets up at [@start, @end) of
 * @mm, whose mmap lock is held for writing: before it is filled
 * (hugepfn_mmap.c), and made again from the VMAs in @mm, so that one
 * counted for a fill that then failed, and so got no ->close, is
 * forgotten.
 */
void hugepfn_mm_get_new(struct hugepfn_dev *hdev, struct mm_struct *mm,
			unsigned long start, unsigned long end)
{
	struct hugepfn_mm *m;
	unsigned long n;

	mmap_assert_write_locked(mm);
	n = hugepfn_count_vmas(hdev, mm, start, end) + 1;
	hugepfn_mm_get(hdev, mm);
	spin_lock(&hdev->mms_lock);
	m = hugepfn_mm_find(hdev, mm);
	if (m)
		m->vmas = n;
	spin_unlock(&hdev->mms_lock);
}

/* vm_ops->close: one VMA of the node less in @mm. */
void hugepfn_mm_put(struct hugepfn_dev *hdev, struct mm_struct *mm)
{
	struct hugepfn_mm *m, *gone = NULL;

	spin_lock(&hdev->mms_lock);
	m = hugepfn_mm_find(hdev, mm);
	if (m && !--m->vmas) {
		list_del(&m->node);
		gone = m;
	}
	spin_unlock(&hdev->mms_lock);
	if (gone) {
		mmdrop(gone->mm);
		kfree(gone);
	}
}

/* sysfs "mappers": the address spaces counted as mapping the node, their VMAs. */
void hugepfn_mms_count(struct hugepfn_dev *hdev, unsigned long *mms,
		       unsigned long *vmas)
{
	struct hugepfn_mm *m;

	*mms = 0;
	*vmas = 0;
	spin_lock(&hdev->mms_lock);
	list_for_each_entry(m, &hdev->mms, node) {
		(*mms)++;
		*vmas += m->vmas;
	}
	spin_unlock(&hdev->mms_lock);
}

/* At the node's release: no VMA is left, but an mmap() that failed late may be. */
void hugepfn_mms_free(struct hugepfn_dev *hdev)
{
	struct hugepfn_mm *m, *tmp;

	list_for_each_entry_safe(m, tmp, &hdev->mms, node) {
		mmdrop(m->mm);
		kfree(m);
	}
	INIT_LIST_HEAD(&hdev->mms);
}

/* An address space not yet picked for @gen, marked and grabbed; NULL if none. */
static struct mm_struct *hugepfn_next_mm(struct hugepfn_dev *hdev, unsigned long gen)
{
	struct mm_struct *mm = NULL;
	struct hugepfn_mm *m;

	spin_lock(&hdev->mms_lock);
	list_for_each_entry(m, &hdev->mms, node) {
		if (m->picked != gen && m->zapped != gen) {
			m->picked = gen;
			mm = m->mm;
			mmgrab(mm);
			break;
		}
	}
	spin_unlock(&hdev->mms_lock);
	return mm;
}

/*
 * Zap the node's VMAs in @mm, its mmap lock held for writing, and say so
 * before the lock is dropped: a fork after that copies nothing to zap.
 * The count is made again from the VMAs zapped, which forgets those of
 * fills that failed after an mmap_prepare hook counted them, and the
 * entry goes when none is left.
 */
static void hugepfn_zap_mm(struct hugepfn_dev *hdev, struct mm_struct *mm,
			   unsigned long gen)
{
	struct hugepfn_mm *m, *gone = NULL;
	struct vm_area_struct *vma;
	unsigned long n = 0;

	mmap_write_lock(mm);
	for (vma = find_vma(mm, 0); vma; vma = find_vma(mm, vma->vm_end)) {
		if (!hugepfn_is_our_vma(hdev, vma))
			continue;
		zap_special_vma_range(vma, vma->vm_start,
				      vma->vm_end - vma->vm_start);
		n++;
	}
	spin_lock(&hdev->mms_lock);
	m = hugepfn_mm_find(hdev, mm);
	if (m) {
		m->zapped = gen;
		m->vmas = n;
		if (!n) {
			list_del(&m->node);
			gone = m;
		}
	}
	spin_unlock(&hdev->mms_lock);
	mmap_write_unlock(mm);
	if (gone) {
		mmdrop(gone->mm);	/* the caller holds @mm still */
		kfree(gone);
	}
}

/*
 * Revoke every mapping of the node: for good (@gone, the device or
 * carveout goes away) or until hugepfn_unblock() (a reset or error
 * recovery runs). When this returns, no page table maps the node's memory
 * and none will until the node is unblocked and mapped again.
 */
void hugepfn_revoke(struct hugepfn_dev *hdev, bool gone)
{
	struct mm_struct *mm;
	unsigned long gen;
	unsigned int n = 0;

	down_write(&hdev->lock);
	if (gone)
		WRITE_ONCE(hdev->gone, true);
	else
		hdev->blocked = true;
	gen = ++hdev->generation;
	up_write(&hdev->lock);
	/*
	 * Every ->mmap() that saw the node usable has returned and counted its
	 * mm (it held the lock). The mmap locks are taken without the node's
	 * lock, which faults take under them. Address spaces that fork adds
	 * meanwhile are picked up too.
	 */
	while ((mm = hugepfn_next_mm(hdev, gen))) {
		hugepfn_zap_mm(hdev, mm, gen);
		mmdrop(mm);
		if (++n == HUGEPFN_REVOKE_WARN_MMS)
			pr_warn("%s: revocation has zapped %u address spaces and goes on (a fork storm?)\n",
				dev_name(&hdev->dev), n);
		cond_resched();
	}
	unmap_mapping_range(hdev->inode->i_mapping, 0, 0, 1);
}

void hugepfn_unblock(struct hugepfn_dev *hdev)
{
	down_write(&hdev->lock);
	hdev->blocked = false;
	up_write(&hdev->lock);
}
