// SPDX-License-Identifier: GPL-2.0
/*
 * Mappings of a node and their revocation.
 *
 * Two ways to fill a mapping:
 *  - at mmap() time with remap_pfn_range(), on a kernel whose
 *    remap_pfn_range() installs PMD/PUD leaves (HUGEPFN_REMAP_HUGE, set by
 *    Kbuild when the kernel has this project's series), and everywhere for
 *    carveouts and write-combining aliases, whose memory type x86 PAT only
 *    keeps for ranges reserved through remap_pfn_range();
 *  - at fault time, as vfio-pci does, for the other BAR mappings on a
 *    kernel without the series: ->huge_fault inserts PMD and PUD leaves.
 *
 * Revocation (unbind, reset, AER error) is hugepfn_revoke.c's: ->mmap()
 * and vm_ops->open/close count the node's VMAs per mm for it. A fault on
 * a fault-time mapping finds the node gone or the mapping's generation
 * stale and gets SIGBUS; a fault that won the race holds the node's lock
 * for reading until its leaf is in page tables the zap then walks.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/compat.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/nospec.h>
#include <linux/sched/coredump.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/uaccess.h>
#include <linux/version.h>

/* pfn_t is gone in 6.17: the huge inserts take the PFN itself there. */
#if KERNEL_VERSION(6, 17, 0) > LINUX_VERSION_CODE
#include <linux/pfn_t.h>
#define hugepfn_insert_pfn(pfn)	__pfn_to_pfn_t(pfn, PFN_DEV)
#else
#define hugepfn_insert_pfn(pfn)	(pfn)
#endif

/* 6.18 made mm->flags a bitmap, read with mm_flags_test(). */
#if KERNEL_VERSION(6, 18, 0) > LINUX_VERSION_CODE
#define hugepfn_mm_topdown(mm)	test_bit(MMF_TOPDOWN, &(mm)->flags)
#else
#define hugepfn_mm_topdown(mm)	mm_flags_test(MMF_TOPDOWN, mm)
#endif

/* Since 6.19 mm_get_unmapped_area() works on current's mm, untold. */
#if KERNEL_VERSION(6, 19, 0) > LINUX_VERSION_CODE
#define hugepfn_unmapped_area(file, addr, len, pgoff, flags) \
	mm_get_unmapped_area(current->mm, file, addr, len, pgoff, flags)
#else
#define hugepfn_unmapped_area	mm_get_unmapped_area
#endif

#include "hugepfn_private.h"

/*
 * The region and the offset in it that an mmap() offset (in pages) names,
 * for a mapping of @len bytes; NULL when the range is not one this node
 * maps. Regions never change after the node was created.
 */
static struct hugepfn_region *hugepfn_mmap_target(struct hugepfn_dev *hdev,
						  u64 pgoff, unsigned long len,
						  u64 *off, bool *wc)
{
	struct hugepfn_region *r;
	unsigned int index;

	index = pgoff >> (HUGEPFN_OFFSET_SHIFT - PAGE_SHIFT);
	*wc = index & HUGEPFN_WC_INDEX;
	index &= ~HUGEPFN_WC_INDEX;
	*off = (pgoff << PAGE_SHIFT) & (HUGEPFN_REGION_OFFSET(1) - 1);
	if (index >= hdev->nr_regions)
		return NULL;
	r = &hdev->regions[array_index_nospec(index, hdev->nr_regions)];
	if (!(r->flags & HUGEPFN_REGION_MAPPABLE) || *off >= r->size ||
	    len > r->size - *off)
		return NULL;
	if (*wc && !(r->flags & HUGEPFN_REGION_WC))
		return NULL;
	return r;
}

/* Whether the CPU can map 1 GiB leaves (PUD_SIZE) at all. */
static bool hugepfn_cpu_has_pud_leaves(void)
{
#ifdef CONFIG_X86
	return boot_cpu_has(X86_FEATURE_GBPAGES);
#else
	return has_transparent_pud_hugepage();
#endif
}

/* Whether [phys, phys + len) holds a whole naturally aligned @size block. */
static bool hugepfn_holds_block(u64 phys, unsigned long len, unsigned long size)
{
	u64 first = round_up(phys, (u64)size);

	return first >= phys && first < phys + len && phys + len - first >= size;
}

/*
 * The largest leaf size that [phys, phys + len) holds a whole naturally
 * aligned block of: PUD_SIZE (where the CPU maps such pages), PMD_SIZE, or
 * 0 when none.
 */
static unsigned long hugepfn_best_leaf(u64 phys, unsigned long len)
{
	if (hugepfn_cpu_has_pud_leaves() &&
	    hugepfn_holds_block(phys, len, PUD_SIZE))
		return PUD_SIZE;
	if (hugepfn_holds_block(phys, len, PMD_SIZE))
		return PMD_SIZE;
	return 0;
}

/*
 * Pick the address of a new mapping so that it can be mapped with huge
 * leaves: congruent to the physical address modulo the largest leaf size
 * the range allows, as __thp_get_unmapped_area() does for file offsets.
 * MAP_FIXED, a hint that is free, ranges this node would refuse and any
 * failure get what the mm would give without us. On a kernel without huge
 * leaves the address is still aligned, which costs nothing.
 */
unsigned long hugepfn_get_unmapped_area(struct file *file, unsigned long addr,
					unsigned long len, unsigned long pgoff,
					unsigned long flags)
{
	struct hugepfn_dev *hdev = file->private_data;
	struct mm_struct *mm = current->mm;
	unsigned long align, len_pad, ret, off_sub;
	struct hugepfn_region *r;
	u64 off, phys;
	bool wc;

	if ((flags & MAP_FIXED) || !IS_ENABLED(CONFIG_64BIT) ||
	    in_compat_syscall())
		goto plain;
	r = hugepfn_mmap_target(hdev, pgoff, len, &off, &wc);
	if (!r)
		goto plain;
	phys = r->phys + off;
	align = hugepfn_best_leaf(phys, len);
	if (!align)
		goto plain;
	len_pad = len + align;
	if (len_pad < len)
		goto plain;
	ret = hugepfn_unmapped_area(file, addr, len_pad, pgoff, flags);
	if (IS_ERR_VALUE(ret))
		goto plain;	/* maybe only the padding did not fit */
	if (ret == addr)
		return addr;	/* the hint was free: honour it */
	off_sub = (phys - ret) & (align - 1);
	/* top-down: keep the mapping next to the one above, as THP does */
	if (hugepfn_mm_topdown(mm) && !off_sub)
		return ret + align;
	return ret + off_sub;
plain:
	return hugepfn_unmapped_area(file, addr, len, pgoff, flags);
}

/* Whether @vma maps this node (through any of its files). */
bool hugepfn_is_our_vma(struct hugepfn_dev *hdev, struct vm_area_struct *vma)
{
	return vma->vm_file && vma->vm_file->f_mapping == hdev->inode->i_mapping;
}

/* The physical address that @addr of @vma, a validated mapping, maps. */
static phys_addr_t hugepfn_vma_phys(struct hugepfn_dev *hdev,
				    struct vm_area_struct *vma,
				    unsigned long addr)
{
	unsigned int index = vma->vm_pgoff >> (HUGEPFN_OFFSET_SHIFT - PAGE_SHIFT);
	u64 off = ((u64)vma->vm_pgoff << PAGE_SHIFT) &
		  (HUGEPFN_REGION_OFFSET(1) - 1);

	index = array_index_nospec(index & ~HUGEPFN_WC_INDEX, hdev->nr_regions);
	return hdev->regions[index].phys + off + (addr - vma->vm_start);
}

static vm_fault_t hugepfn_insert(struct vm_fault *vmf, unsigned long pfn,
				 unsigned int order)
{
	switch (order) {
	case 0:
		return vmf_insert_pfn(vmf->vma, vmf->address, pfn);
#ifdef CONFIG_ARCH_SUPPORTS_PMD_PFNMAP
	case PMD_ORDER:
		return vmf_insert_pfn_pmd(vmf, hugepfn_insert_pfn(pfn), false);
#endif
#ifdef CONFIG_ARCH_SUPPORTS_PUD_PFNMAP
	case PUD_ORDER:
		return vmf_insert_pfn_pud(vmf, hugepfn_insert_pfn(pfn), false);
#endif
	}
	return VM_FAULT_FALLBACK;
}

/*
 * Fill a fault-time mapping, with a leaf of 2^@order pages where the VMA
 * holds a whole naturally aligned block around the address. A mapping
 * made before the last revocation (its generation is stale) stays empty:
 * SIGBUS until the region is mapped again.
 */
static vm_fault_t hugepfn_huge_fault(struct vm_fault *vmf, unsigned int order)
{
	struct vm_area_struct *vma = vmf->vma;
	struct hugepfn_dev *hdev = vma->vm_file->private_data;
	unsigned long size = PAGE_SIZE << order;
	unsigned long addr = ALIGN_DOWN(vmf->address, size);
	unsigned long pfn;
	vm_fault_t ret = VM_FAULT_SIGBUS;

	if (order && (addr < vma->vm_start || addr + size > vma->vm_end))
		return VM_FAULT_FALLBACK;
	/* 6.12 asks for PUD leaves whether or not the CPU has 1 GiB pages */
	if (order > PMD_ORDER && !hugepfn_cpu_has_pud_leaves())
		return VM_FAULT_FALLBACK;
	pfn = PHYS_PFN(hugepfn_vma_phys(hdev, vma, order ? addr : vmf->address));
	if (order && !IS_ALIGNED(pfn, 1UL << order))
		return VM_FAULT_FALLBACK;

	down_read(&hdev->lock);
	if (!hdev->gone && !hdev->blocked &&
	    (unsigned long)vma->vm_private_data == hdev->generation)
		ret = hugepfn_insert(vmf, pfn, order);
	up_read(&hdev->lock);
	return ret;
}

static vm_fault_t hugepfn_fault(struct vm_fault *vmf)
{
	return hugepfn_huge_fault(vmf, 0);
}

/* A copy of one of the node's VMAs (fork, split, mremap): count it. */
static void hugepfn_vma_open(struct vm_area_struct *vma)
{
	hugepfn_mm_get(vma->vm_file->private_data, vma->vm_mm);
}

static void hugepfn_vma_close(struct vm_area_struct *vma)
{
	hugepfn_mm_put(vma->vm_file->private_data, vma->vm_mm);
}

/* Filled at mmap() time: a fault means the mapping was revoked. */
static const struct vm_operations_struct hugepfn_remap_vm_ops = {
	.open = hugepfn_vma_open,
	.close = hugepfn_vma_close,
#ifdef CONFIG_HAVE_IOREMAP_PROT
	.access = generic_access_phys,
#endif
};

/*
 * Carveouts: no .access either. generic_access_phys() reaches memory
 * through ioremap_prot(), which maps a range that is not System RAM
 * decrypted under SME/TDX, and carveouts are RAM.
 */
static const struct vm_operations_struct hugepfn_carveout_vm_ops = {
	.open = hugepfn_vma_open,
	.close = hugepfn_vma_close,
};

/*
 * A VMA split inside a fault-time PUD leaf: 6.12's vma_adjust_trans_huge()
 * drops the leaf, 7.3's splits PMDs only and takes the leaf for a PMD
 * table (an oops in pmd_lock()). Drop it here first, as 6.12 does (the
 * mmap lock is held for writing); faults fill each side again.
 */
static int hugepfn_may_split(struct vm_area_struct *vma, unsigned long addr)
{
	u32 cache;

	if (!IS_ALIGNED(addr, PUD_SIZE) &&
	    hugepfn_leaf(vma->vm_mm, addr, &cache) == HUGEPFN_LEVEL_1G)
		zap_special_vma_range(vma, ALIGN_DOWN(addr, PUD_SIZE), PUD_SIZE);
	return 0;
}

static const struct vm_operations_struct hugepfn_fault_vm_ops = {
	.open = hugepfn_vma_open,
	.close = hugepfn_vma_close,
	.may_split = hugepfn_may_split,
	.fault = hugepfn_fault,
#ifdef CONFIG_ARCH_SUPPORTS_HUGE_PFNMAP
	.huge_fault = hugepfn_huge_fault,
#endif
#ifdef CONFIG_HAVE_IOREMAP_PROT
	.access = generic_access_phys,
#endif
};

/* Whether a mapping of @r is filled at fault time (see the top). */
static bool hugepfn_fault_mapped(const struct hugepfn_region *r, bool wc)
{
	return !wc && (r->flags & HUGEPFN_REGION_FAULT_FILLED);
}

/* The flag a BAR region gets, as hugepfn_fault_mapped() reads it. */
u32 hugepfn_bar_fill_flag(void)
{
#if defined(HUGEPFN_REMAP_HUGE) || !defined(CONFIG_ARCH_SUPPORTS_HUGE_PFNMAP)
	return 0;
#else
	return HUGEPFN_REGION_FAULT_FILLED;
#endif
}

/* How a new mapping of the node is made: hugepfn_fill_plan(). */
enum hugepfn_fill_kind {
	HUGEPFN_FILL_AT_FAULT,		/* ->huge_fault inserts the leaves */
	HUGEPFN_FILL_REMAP,		/* carveout: remap_pfn_range() */
	HUGEPFN_FILL_IOREMAP,		/* BAR: io_remap_pfn_range() */
};

struct hugepfn_fill {
	enum hugepfn_fill_kind kind;
	const struct vm_operations_struct *vm_ops;
	pgprot_t prot;
	unsigned long pfn;		/* the first page mapped */
};

/*
 * The rules for a new mapping of @len bytes at the mmap() offset @pgoff
 * (in pages) whose protection is @prot so far, the same for ->mmap and
 * the UIO personality's mmap_prepare: -EINVAL for a range the node does
 * not map.
 */
static int hugepfn_fill_plan(struct hugepfn_dev *hdev, u64 pgoff,
			     unsigned long len, pgprot_t prot,
			     struct hugepfn_fill *fill)
{
	struct hugepfn_region *r;
	bool wc;
	u64 off;

	r = hugepfn_mmap_target(hdev, pgoff, len, &off, &wc);
	if (!r)
		return -EINVAL;
	fill->pfn = PHYS_PFN(r->phys + off);
	if (wc)
		prot = pgprot_writecombine(prot);
	else if (!(r->flags & HUGEPFN_REGION_CARVEOUT))
		/* as sysfs maps a BAR: UC- on x86, Device-nGnRE on arm64 */
		prot = pgprot_device(prot);
	if (hugepfn_fault_mapped(r, wc)) {
		fill->kind = HUGEPFN_FILL_AT_FAULT;
		fill->vm_ops = &hugepfn_fault_vm_ops;
		prot = pgprot_decrypted(prot);
	} else if (r->flags & HUGEPFN_REGION_CARVEOUT) {
		/* RAM: encrypted like all RAM, so no pgprot_decrypted() */
		fill->kind = HUGEPFN_FILL_REMAP;
		fill->vm_ops = &hugepfn_carveout_vm_ops;
	} else {
		fill->kind = HUGEPFN_FILL_IOREMAP;	/* decrypts itself */
		fill->vm_ops = &hugepfn_remap_vm_ops;
	}
	fill->prot = prot;
	return 0;
}

/*
 * The checks of a new mapping that need no lock: MAP_SHARED (@mayshare;
 * VM_MAYSHARE, not VM_SHARED: do_mmap() clears VM_SHARED for a MAP_SHARED
 * mapping of a file opened read-only), no exec, no lockdown.
 */
static int hugepfn_mmap_allowed(struct hugepfn_dev *hdev, bool mayshare,
				bool exec)
{
	if (!mayshare)
		return -EINVAL;		/* MAP_PRIVATE: no CoW of device memory */
	if (exec)
		return -EPERM;
	return hugepfn_locked_down(hdev);
}

/* Whether the node maps at all now; its lock held. */
static int hugepfn_usable_locked(struct hugepfn_dev *hdev)
{
	if (hdev->gone)
		return -ENODEV;
	if (hdev->blocked)
		return -EAGAIN;		/* reset or error recovery running */
	return 0;
}

/* Set up @vma, a new mapping; fill it now unless it fills at fault time. */
static int hugepfn_mmap_locked(struct hugepfn_dev *hdev,
			       struct vm_area_struct *vma)
{
	unsigned long len = vma->vm_end - vma->vm_start;
	struct hugepfn_fill fill;
	int ret;

	ret = hugepfn_fill_plan(hdev, vma->vm_pgoff, len, vma->vm_page_prot,
				&fill);
	if (ret)
		return ret;
	vma->vm_page_prot = fill.prot;
	vm_flags_set(vma, VM_IO | VM_DONTEXPAND | VM_DONTDUMP);
	if (fill.kind == HUGEPFN_FILL_AT_FAULT)
		vm_flags_set(vma, VM_PFNMAP);
	vm_flags_clear(vma, VM_MAYEXEC);
	/*
	 * A read-only mapping stays read-only, so that only a writable one
	 * can program the device and call for a reset at the last close.
	 */
	if (!(vma->vm_flags & VM_WRITE))
		vm_flags_clear(vma, VM_MAYWRITE);
	vma->vm_private_data = (void *)hdev->generation;
	vma->vm_ops = fill.vm_ops;

	if (fill.kind == HUGEPFN_FILL_REMAP)
		ret = remap_pfn_range(vma, vma->vm_start, fill.pfn, len,
				      vma->vm_page_prot);
	else if (fill.kind == HUGEPFN_FILL_IOREMAP)
		ret = io_remap_pfn_range(vma, vma->vm_start, fill.pfn, len,
					 vma->vm_page_prot);
	if (ret)
		return ret;
	/*
	 * Counted before the node's lock is dropped, so that a revocation
	 * finds this mm and waits for the VMA to be linked (hugepfn_revoke.c).
	 */
	hugepfn_mm_get(hdev, vma->vm_mm);
	if (vma->vm_flags & VM_WRITE)
		WRITE_ONCE(hdev->used, true);
	return 0;
}

/* ->mmap of the node (and, before 7.1, of the UIO personality's maps). */
int hugepfn_mmap_region(struct hugepfn_dev *hdev, struct vm_area_struct *vma)
{
	int ret;

	ret = hugepfn_mmap_allowed(hdev, vma->vm_flags & VM_MAYSHARE,
				   vma->vm_flags & VM_EXEC);
	if (ret)
		return ret;
	down_read(&hdev->lock);
	ret = hugepfn_usable_locked(hdev) ?: hugepfn_mmap_locked(hdev, vma);
	up_read(&hdev->lock);
	return ret;
}

#if !HUGEPFN_UIO_MMAP
/*
 * hugepfn_mmap_locked() for a mapping described by @desc (mmap_prepare):
 * the fill is the mmap action that runs once the VMA exists. So the mm is
 * counted before the fill, and a fill that fails (no ->close follows) is
 * forgotten at the next count of that mm (hugepfn_mm_get_new()).
 */
static int hugepfn_mmap_prepare_locked(struct hugepfn_dev *hdev,
				       struct vm_area_desc *desc)
{
	bool writable = vma_desc_test(desc, VMA_WRITE_BIT);
	struct hugepfn_fill fill;
	int ret;

	ret = hugepfn_fill_plan(hdev, desc->pgoff, vma_desc_size(desc),
				desc->page_prot, &fill);
	if (ret)
		return ret;
	desc->page_prot = fill.prot;
	vma_desc_set_flags(desc, VMA_IO_BIT, VMA_DONTEXPAND_BIT,
			   VMA_DONTDUMP_BIT);
	if (fill.kind == HUGEPFN_FILL_AT_FAULT)
		vma_desc_set_flags(desc, VMA_PFNMAP_BIT);
	vma_desc_clear_flags(desc, VMA_MAYEXEC_BIT);
	if (!writable)
		vma_desc_clear_flags(desc, VMA_MAYWRITE_BIT);
	desc->private_data = (void *)hdev->generation;
	desc->vm_ops = fill.vm_ops;

	if (fill.kind == HUGEPFN_FILL_REMAP)
		mmap_action_remap_full(desc, fill.pfn);
	else if (fill.kind == HUGEPFN_FILL_IOREMAP)
		mmap_action_ioremap_full(desc, fill.pfn);
	hugepfn_mm_get_new(hdev, desc->mm, desc->start, desc->end);
	if (writable)
		WRITE_ONCE(hdev->used, true);
	return 0;
}

/* mmap_prepare of the UIO personality's maps, once moved to the node. */
int hugepfn_mmap_prepare_region(struct hugepfn_dev *hdev,
				struct vm_area_desc *desc)
{
	int ret;

	ret = hugepfn_mmap_allowed(hdev, vma_desc_test(desc, VMA_MAYSHARE_BIT),
				   vma_desc_test(desc, VMA_EXEC_BIT));
	if (ret)
		return ret;
	down_read(&hdev->lock);
	ret = hugepfn_usable_locked(hdev) ?:
	      hugepfn_mmap_prepare_locked(hdev, desc);
	up_read(&hdev->lock);
	return ret;
}
#endif

/* Fill one page-table entry at @addr, if none maps it; mmap lock held. */
static int hugepfn_populate_one(struct mm_struct *mm, unsigned long *addr,
				unsigned long end)
{
	unsigned long step;
	u32 level, cache;
	int ret;

	level = hugepfn_leaf(mm, *addr, &cache);
	if (level == HUGEPFN_LEVEL_NONE) {
		/*
		 * A read fault, without retry: the VMA stays the one the
		 * caller checked (the node's fault handlers never drop the
		 * mmap lock).
		 */
		ret = fixup_user_fault(mm, *addr, 0, NULL);
		if (ret)
			return ret;
		level = hugepfn_leaf(mm, *addr, &cache);
		if (level == HUGEPFN_LEVEL_NONE)
			return -EFAULT;
	}
	step = hugepfn_level_size(level);
	*addr = min(ALIGN_DOWN(*addr, step) + step, end);
	return 0;
}

long hugepfn_populate(struct hugepfn_dev *hdev, void __user *uarg)
{
	size_t minsz = offsetofend(struct hugepfn_populate, length);
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	struct hugepfn_populate p;
	unsigned long addr, end;
	int ret;

	ret = hugepfn_copy_arg(&p, sizeof(p), minsz, uarg);
	if (ret)
		return ret;
	if (p.flags || !p.length || !PAGE_ALIGNED(p.addr) ||
	    !PAGE_ALIGNED(p.length) || p.addr >= TASK_SIZE ||
	    p.length > TASK_SIZE - p.addr || !mm)
		return -EINVAL;
	addr = p.addr;
	end = p.addr + p.length;
	if (mmap_read_lock_killable(mm))
		return -EINTR;
	while (addr < end) {
		vma = vma_lookup(mm, addr);
		if (!vma || !hugepfn_is_our_vma(hdev, vma)) {
			ret = -ENOENT;	/* not a mapping of this node */
			break;
		}
		ret = hugepfn_populate_one(mm, &addr, min(end, vma->vm_end));
		if (ret)
			break;
		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		cond_resched();
	}
	mmap_read_unlock(mm);
	return ret;
}
