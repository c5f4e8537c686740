// SPDX-License-Identifier: GPL-2.0
/*
 * hugepfn: one char device per PCI device or carveout, whose mmap() maps
 * its regions with remap_pfn_range() at mmap time (no fault handler), so
 * that a kernel with PMD/PUD remap support maps aligned ranges with huge
 * leaves; ioctls describe the regions and tell what a mapping got.
 *
 * Structure after drivers/vfio: the PCI and carveout parts create nodes
 * through hugepfn_dev_create()/hugepfn_dev_add() and take them away with
 * hugepfn_dev_remove(), which revokes every mapping of the node.
 */
#include <linux/compat.h>
#include <linux/fs.h>
#include <linux/idr.h>
#include <linux/io.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/module.h>
#include <linux/mount.h>
#include <linux/nospec.h>
#include <linux/pgtable.h>
#include <linux/pseudo_fs.h>
#include <linux/sched/coredump.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "hugepfn_private.h"

#ifdef CONFIG_HIGHPTE
#error "hugepfn walks user page tables with pte_offset_kernel(): no CONFIG_HIGHPTE"
#endif

#define HUGEPFN_MINORS		256
#define HUGEPFN_FS_MAGIC	0x68706e66	/* "hpnf" */

static char *carveouts;
module_param(carveouts, charp, 0444);
MODULE_PARM_DESC(carveouts,
		 "reserved physical ranges to expose: NAME:SIZE@ADDR[,NAME:SIZE@ADDR...], e.g. buf:64M@0x40000000");

static dev_t hugepfn_devt;
static DEFINE_IDA(hugepfn_minors);

/*
 * All opens of a node share one address space, from this pseudo file
 * system, so that unmap_mapping_range() reaches every mapping of the node
 * whatever path it was opened by.
 */
static struct vfsmount *hugepfn_mnt;
static int hugepfn_mnt_count;

static int hugepfn_fs_init_fs_context(struct fs_context *fc)
{
	return init_pseudo(fc, HUGEPFN_FS_MAGIC) ? 0 : -ENOMEM;
}

/*
 * No .owner: the file system is pinned for as long as a node exists, and a
 * module reference from it would keep the module from ever being unloaded.
 * Nodes only outlive hugepfn_exit() while files are open, and open files
 * hold the module (cdev and fops owner), so the last unmount always runs
 * before the module goes away.
 */
static struct file_system_type hugepfn_fs_type = {
	.name = "hugepfn",
	.init_fs_context = hugepfn_fs_init_fs_context,
	.kill_sb = kill_anon_super,
};

static char *hugepfn_devnode(const struct device *dev, umode_t *mode)
{
	/* Root only by default; see the udev rule example in the README. */
	if (mode)
		*mode = 0600;
	return kasprintf(GFP_KERNEL, "hugepfn/%s", dev_name(dev));
}

static const struct class hugepfn_class = {
	.name = "hugepfn",
	.devnode = hugepfn_devnode,
};

static void hugepfn_dev_release(struct device *dev)
{
	struct hugepfn_dev *hdev = container_of(dev, struct hugepfn_dev, dev);

	if (hdev->inode) {
		iput(hdev->inode);
		simple_release_fs(&hugepfn_mnt, &hugepfn_mnt_count);
	}
	ida_free(&hugepfn_minors, MINOR(dev->devt));
	kfree(hdev);
}

struct hugepfn_dev *hugepfn_dev_create(struct device *parent, u32 kind,
				       const char *name, const char *node)
{
	struct hugepfn_dev *hdev;
	int minor, ret;

	hdev = kzalloc(sizeof(*hdev), GFP_KERNEL);
	if (!hdev)
		return ERR_PTR(-ENOMEM);
	minor = ida_alloc_max(&hugepfn_minors, HUGEPFN_MINORS - 1, GFP_KERNEL);
	if (minor < 0) {
		kfree(hdev);
		return ERR_PTR(minor);
	}
	init_rwsem(&hdev->lock);
	hdev->kind = kind;
	strscpy(hdev->name, name, sizeof(hdev->name));
	device_initialize(&hdev->dev);
	hdev->dev.class = &hugepfn_class;
	hdev->dev.parent = parent;
	hdev->dev.devt = MKDEV(MAJOR(hugepfn_devt), minor);
	hdev->dev.release = hugepfn_dev_release;
	ret = dev_set_name(&hdev->dev, "%s", node);
	if (ret) {
		put_device(&hdev->dev);
		return ERR_PTR(ret);
	}
	return hdev;
}

static const struct file_operations hugepfn_fops;

int hugepfn_dev_add(struct hugepfn_dev *hdev)
{
	struct inode *inode;
	int ret;

	ret = simple_pin_fs(&hugepfn_fs_type, &hugepfn_mnt, &hugepfn_mnt_count);
	if (ret)
		return ret;
	inode = alloc_anon_inode(hugepfn_mnt->mnt_sb);
	if (IS_ERR(inode)) {
		simple_release_fs(&hugepfn_mnt, &hugepfn_mnt_count);
		return PTR_ERR(inode);
	}
	hdev->inode = inode;
	cdev_init(&hdev->cdev, &hugepfn_fops);
	hdev->cdev.owner = THIS_MODULE;
	return cdev_device_add(&hdev->cdev, &hdev->dev);
}

/*
 * Take the node away: later opens, mmaps and ioctls fail with -ENODEV and
 * every existing mapping is zapped, so the next access to it gets SIGBUS
 * (the VMAs have no fault handler) and nothing reaches memory that is no
 * longer ours. The caller releases the memory after this returns; the
 * structure lives on until the last open file is closed.
 */
void hugepfn_dev_remove(struct hugepfn_dev *hdev)
{
	down_write(&hdev->lock);
	WRITE_ONCE(hdev->gone, true);
	up_write(&hdev->lock);
	if (hdev->inode)
		unmap_mapping_range(hdev->inode->i_mapping, 0, 0, 1);
	cdev_device_del(&hdev->cdev, &hdev->dev);
	put_device(&hdev->dev);
}

static int hugepfn_open(struct inode *inode, struct file *file)
{
	struct hugepfn_dev *hdev = container_of(inode->i_cdev, struct hugepfn_dev, cdev);
	int ret = 0;

	get_device(&hdev->dev);
	down_read(&hdev->lock);
	if (hdev->gone) {
		ret = -ENODEV;
	} else {
		file->private_data = hdev;
		file->f_mapping = hdev->inode->i_mapping;
	}
	up_read(&hdev->lock);
	if (ret)
		put_device(&hdev->dev);
	return ret;
}

static int hugepfn_release(struct inode *inode, struct file *file)
{
	struct hugepfn_dev *hdev = file->private_data;

	put_device(&hdev->dev);
	return 0;
}

/* The VMAs get no ->fault: their whole range is mapped by mmap(). */
static const struct vm_operations_struct hugepfn_vm_ops = {
#ifdef CONFIG_HAVE_IOREMAP_PROT
	.access = generic_access_phys,
#endif
};

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
 * remap support the address is still aligned, which costs nothing.
 */
static unsigned long hugepfn_get_unmapped_area(struct file *file,
					       unsigned long addr,
					       unsigned long len,
					       unsigned long pgoff,
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
	ret = mm_get_unmapped_area(mm, file, addr, len_pad, pgoff, flags);
	if (IS_ERR_VALUE(ret))
		goto plain;	/* maybe only the padding did not fit */
	if (ret == addr)
		return addr;	/* the hint was free: honour it */
	off_sub = (phys - ret) & (align - 1);
	/* top-down: keep the mapping next to the one above, as THP does */
	if (test_bit(MMF_TOPDOWN, &mm->flags) && !off_sub)
		return ret + align;
	return ret + off_sub;
plain:
	return mm_get_unmapped_area(mm, file, addr, len, pgoff, flags);
}

static int hugepfn_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct hugepfn_dev *hdev = file->private_data;
	unsigned long len = vma->vm_end - vma->vm_start;
	struct hugepfn_region *r;
	bool wc;
	u64 off;
	int ret;

	/*
	 * VM_MAYSHARE, not VM_SHARED: do_mmap() clears VM_SHARED for a
	 * MAP_SHARED mapping of a file opened read-only.
	 */
	if (!(vma->vm_flags & VM_MAYSHARE))
		return -EINVAL;		/* MAP_PRIVATE: no CoW of device memory */
	if (vma->vm_flags & VM_EXEC)
		return -EPERM;

	down_read(&hdev->lock);
	ret = -ENODEV;
	if (hdev->gone)
		goto out;
	ret = -EINVAL;
	r = hugepfn_mmap_target(hdev, vma->vm_pgoff, len, &off, &wc);
	if (!r)
		goto out;

	if (wc)
		vma->vm_page_prot = pgprot_writecombine(vma->vm_page_prot);
	else if (!(r->flags & HUGEPFN_REGION_CARVEOUT))
		/* as sysfs maps a BAR: UC- on x86, Device-nGnRE on arm64 */
		vma->vm_page_prot = pgprot_device(vma->vm_page_prot);
	vm_flags_set(vma, VM_IO | VM_DONTEXPAND | VM_DONTDUMP);
	vm_flags_clear(vma, VM_MAYEXEC);
	vma->vm_ops = &hugepfn_vm_ops;
	ret = io_remap_pfn_range(vma, vma->vm_start, (r->phys + off) >> PAGE_SHIFT,
				 len, vma->vm_page_prot);
out:
	up_read(&hdev->lock);
	return ret;
}

/*
 * Copy in an ioctl argument, whose first member is its u32 argsz: at least
 * @minsz bytes, as many as the caller says up to our size; larger
 * structures from newer userspace are accepted as long as we understand
 * the flags they set. argsz is fetched once: the value checked here is the
 * one the ioctl sees, whatever the caller changes meanwhile.
 */
static int hugepfn_copy_arg(void *karg, size_t ksz, size_t minsz,
			    const void __user *uarg)
{
	u32 argsz;

	if (get_user(argsz, (const u32 __user *)uarg))
		return -EFAULT;
	if (argsz < minsz)
		return -EINVAL;
	memset(karg, 0, ksz);
	if (copy_from_user(karg, uarg, min_t(size_t, argsz, ksz)))
		return -EFAULT;
	*(u32 *)karg = argsz;
	return 0;
}

static long hugepfn_device_info(struct hugepfn_dev *hdev, void __user *uarg)
{
	struct hugepfn_device_info info;
	size_t minsz = offsetofend(struct hugepfn_device_info, name);
	int ret = hugepfn_copy_arg(&info, sizeof(info), minsz, uarg);

	if (ret)
		return ret;
	if (info.flags)
		return -EINVAL;
	info.api_version = HUGEPFN_API_VERSION;
	info.kind = hdev->kind;
	info.num_regions = hdev->nr_regions;
	info.pad = 0;
	strscpy(info.name, hdev->name, sizeof(info.name));
	return copy_to_user(uarg, &info, minsz) ? -EFAULT : 0;
}

static long hugepfn_region_info(struct hugepfn_dev *hdev, void __user *uarg)
{
	struct hugepfn_region_info info;
	size_t minsz = offsetofend(struct hugepfn_region_info, wc_offset);
	struct hugepfn_region *r;
	int ret = hugepfn_copy_arg(&info, sizeof(info), minsz, uarg);

	if (ret)
		return ret;
	/* flags is output only: what a caller leaves there is ignored, as VFIO does */
	if (info.pad)
		return -EINVAL;
	if (info.index >= hdev->nr_regions)
		return -EINVAL;
	info.index = array_index_nospec(info.index, hdev->nr_regions);
	r = &hdev->regions[info.index];
	info.flags = r->flags;
	info.size = r->size;
	info.phys_addr = r->phys;
	info.phys_align = r->phys ? (r->phys & -r->phys) : 1ULL << 63;
	info.offset = HUGEPFN_REGION_OFFSET(info.index);
	info.wc_offset = (r->flags & HUGEPFN_REGION_WC) ?
			 HUGEPFN_REGION_WC_OFFSET(info.index) : 0;
	return copy_to_user(uarg, &info, minsz) ? -EFAULT : 0;
}

#ifdef CONFIG_X86
/*
 * The cache mode that the PWT, PCD and PAT bits of a base-page (PTE-format)
 * protection value select. The kernel's own decoder, pgprot2cachemode(), is
 * not exported; cachemode2protval() is, so look the bits up the other way
 * round. A mode that the PAT configuration cannot express shares its
 * encoding with the mode it is downgraded to (WC with UC- without PAT, for
 * one), so the modes are tried in the order that finds that one first.
 */
static u32 hugepfn_cache_of_bits(unsigned long bits)
{
	static const struct {
		enum page_cache_mode pcm;
		u32 mode;
	} modes[] = {
		{ _PAGE_CACHE_MODE_WB, HUGEPFN_CACHE_MODE_WB },
		{ _PAGE_CACHE_MODE_UC_MINUS, HUGEPFN_CACHE_MODE_UC_MINUS },
		{ _PAGE_CACHE_MODE_UC, HUGEPFN_CACHE_MODE_UC },
		{ _PAGE_CACHE_MODE_WC, HUGEPFN_CACHE_MODE_WC },
		{ _PAGE_CACHE_MODE_WT, HUGEPFN_CACHE_MODE_WT },
		{ _PAGE_CACHE_MODE_WP, HUGEPFN_CACHE_MODE_WP },
	};
	int i;

	for (i = 0; i < ARRAY_SIZE(modes); i++)
		if (cachemode2protval(modes[i].pcm) == bits)
			return modes[i].mode;
	return HUGEPFN_CACHE_MODE_UNKNOWN;
}

/* A PTE keeps PAT in bit 7; PMD and PUD leaves keep it in bit 12. */
static u32 hugepfn_pte_cache(pte_t pte)
{
	return hugepfn_cache_of_bits(pte_val(pte) & _PAGE_CACHE_MASK);
}

static u32 hugepfn_large_cache(unsigned long val)
{
	unsigned long bits = val & (_PAGE_PWT | _PAGE_PCD);

	if (val & _PAGE_PAT_LARGE)
		bits |= _PAGE_PAT;
	return hugepfn_cache_of_bits(bits);
}
#elif defined(CONFIG_ARM64)
/*
 * AttrIndx selects one of the MAIR_EL1 attributes Linux programs (see
 * arch/arm64/include/asm/memory.h); it sits at the same place in page and
 * block entries.
 */
static u32 hugepfn_attr_cache(u64 val)
{
	switch ((val & PTE_ATTRINDX_MASK) >> 2) {
	case MT_NORMAL:
	case MT_NORMAL_TAGGED:
		return HUGEPFN_CACHE_MODE_WB;
	case MT_NORMAL_NC:
		return HUGEPFN_CACHE_MODE_WC;
	case MT_DEVICE_nGnRnE:
		return HUGEPFN_CACHE_MODE_UC;
	case MT_DEVICE_nGnRE:
		return HUGEPFN_CACHE_MODE_DEVICE;
	}
	return HUGEPFN_CACHE_MODE_UNKNOWN;
}

static u32 hugepfn_pte_cache(pte_t pte)
{
	return hugepfn_attr_cache(pte_val(pte));
}

static u32 hugepfn_large_cache(unsigned long val)
{
	return hugepfn_attr_cache(val);
}
#else
static u32 hugepfn_pte_cache(pte_t pte)
{
	return HUGEPFN_CACHE_MODE_UNKNOWN;
}

static u32 hugepfn_large_cache(unsigned long val)
{
	return HUGEPFN_CACHE_MODE_UNKNOWN;
}
#endif

/*
 * The level of the leaf mapping @addr in @mm, or NONE, and its cache mode
 * in @cache (UNKNOWN when none); mmap lock held.
 */
static u32 hugepfn_leaf(struct mm_struct *mm, unsigned long addr, u32 *cache)
{
	pgd_t *pgdp = pgd_offset(mm, addr);
	p4d_t *p4dp;
	pud_t *pudp, pud;
	pmd_t *pmdp, pmd;
	pte_t *ptep, pte;

	*cache = HUGEPFN_CACHE_MODE_UNKNOWN;
	if (pgd_none(READ_ONCE(*pgdp)) || pgd_bad(READ_ONCE(*pgdp)))
		return HUGEPFN_LEVEL_NONE;
	p4dp = p4d_offset(pgdp, addr);
	if (p4d_none(READ_ONCE(*p4dp)) || p4d_bad(READ_ONCE(*p4dp)))
		return HUGEPFN_LEVEL_NONE;
	pudp = pud_offset(p4dp, addr);
	pud = READ_ONCE(*pudp);
	if (pud_none(pud))
		return HUGEPFN_LEVEL_NONE;
	if (pud_leaf(pud)) {
		if (!pud_present(pud))
			return HUGEPFN_LEVEL_NONE;
		*cache = hugepfn_large_cache(pud_val(pud));
		return HUGEPFN_LEVEL_1G;
	}
	pmdp = pmd_offset(pudp, addr);
	pmd = pmdp_get_lockless(pmdp);
	if (pmd_none(pmd))
		return HUGEPFN_LEVEL_NONE;
	if (pmd_leaf(pmd)) {
		if (!pmd_present(pmd))
			return HUGEPFN_LEVEL_NONE;
		*cache = hugepfn_large_cache(pmd_val(pmd));
		return HUGEPFN_LEVEL_2M;
	}
	if (pmd_bad(pmd))
		return HUGEPFN_LEVEL_NONE;
	/*
	 * The PTE table of a VMA that the mmap lock keeps in place cannot be
	 * freed under us; a PFN map is never collapsed by khugepaged.
	 */
	ptep = pte_offset_kernel(&pmd, addr);
	pte = ptep_get(ptep);
	if (pte_none(pte))
		return HUGEPFN_LEVEL_NONE;
	*cache = hugepfn_pte_cache(pte);
	return HUGEPFN_LEVEL_4K;
}

/* Whether the leaf at @addr has this level and cache mode. */
static bool hugepfn_leaf_is(struct mm_struct *mm, unsigned long addr,
			    u32 level, u32 cache)
{
	u32 c;

	return hugepfn_leaf(mm, addr, &c) == level && c == cache;
}

static unsigned long hugepfn_level_size(u32 level)
{
	switch (level) {
	case HUGEPFN_LEVEL_1G:
		return PUD_SIZE;
	case HUGEPFN_LEVEL_2M:
		return PMD_SIZE;
	default:
		return PAGE_SIZE;
	}
}

static long hugepfn_mapping_query(struct hugepfn_dev *hdev, void __user *uarg)
{
	struct hugepfn_mapping_query q;
	size_t minsz = offsetofend(struct hugepfn_mapping_query, region_offset);
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	unsigned long addr, step, start, end;
	u32 level, cache, argsz;
	int ret;

	BUILD_BUG_ON(minsz != HUGEPFN_MAPPING_QUERY_SIZE_V1 ||
		     _IOC_SIZE(HUGEPFN_MAPPING_QUERY) != minsz);
	ret = hugepfn_copy_arg(&q, sizeof(q), minsz, uarg);

	if (ret)
		return ret;
	if (q.flags)
		return -EINVAL;
	if (!mm || q.addr >= TASK_SIZE)
		return -EINVAL;
	argsz = q.argsz;
	addr = q.addr;
	if (mmap_read_lock_killable(mm))
		return -EINTR;
	vma = vma_lookup(mm, addr);
	ret = -ENOENT;
	if (!vma || !vma->vm_file || vma->vm_file->f_op != &hugepfn_fops ||
	    vma->vm_file->private_data != hdev)
		goto out;

	level = hugepfn_leaf(mm, addr, &cache);
	step = hugepfn_level_size(level);
	/*
	 * Walk out from addr while the same level and cache mode map, within
	 * the VMA.
	 */
	start = max(ALIGN_DOWN(addr, step), vma->vm_start);
	while (start > vma->vm_start) {
		unsigned long prev = start - 1;

		if (!hugepfn_leaf_is(mm, prev, level, cache))
			break;
		start = max(ALIGN_DOWN(prev, step), vma->vm_start);
		cond_resched();
	}
	end = min(ALIGN_DOWN(addr, step) + step, vma->vm_end);
	while (end < vma->vm_end && hugepfn_leaf_is(mm, end, level, cache)) {
		end = min(end + step, vma->vm_end);
		cond_resched();
	}
	q.level = level;
	q.region = vma->vm_pgoff >> (HUGEPFN_OFFSET_SHIFT - PAGE_SHIFT);
	q.run_start = start;
	q.run_length = end - start;
	q.region_offset = (((u64)vma->vm_pgoff << PAGE_SHIFT) &
			   (HUGEPFN_REGION_OFFSET(1) - 1)) + (addr - vma->vm_start);
	q.page_size = level == HUGEPFN_LEVEL_NONE ? 0 : step;
	q.cache = cache;
	q.pad = 0;
	ret = 0;
out:
	mmap_read_unlock(mm);
	if (ret)
		return ret;
	/* As much as the caller has room for: old callers get the first part. */
	return copy_to_user(uarg, &q, min_t(size_t, argsz, sizeof(q))) ?
	       -EFAULT : 0;
}

static long hugepfn_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct hugepfn_dev *hdev = file->private_data;
	void __user *uarg = (void __user *)arg;
	long ret;

	/*
	 * No lock held across the user copies and the page-table walk: they
	 * may take the mmap lock, which mmap() holds when it takes hdev->lock.
	 * The ioctls only read what never changes after the node was created
	 * and the caller's own page tables, so a removal racing with them
	 * does no harm; once it is done they fail.
	 */
	if (READ_ONCE(hdev->gone))
		return -ENODEV;
	switch (cmd) {
	case HUGEPFN_DEVICE_INFO:
		ret = hugepfn_device_info(hdev, uarg);
		break;
	case HUGEPFN_REGION_INFO:
		ret = hugepfn_region_info(hdev, uarg);
		break;
	case HUGEPFN_MAPPING_QUERY:
		ret = hugepfn_mapping_query(hdev, uarg);
		break;
	default:
		ret = -ENOTTY;
	}
	return ret;
}

static const struct file_operations hugepfn_fops = {
	.owner = THIS_MODULE,
	.open = hugepfn_open,
	.release = hugepfn_release,
	.unlocked_ioctl = hugepfn_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.mmap = hugepfn_mmap,
	.get_unmapped_area = hugepfn_get_unmapped_area,
	.llseek = noop_llseek,
};

static int __init hugepfn_init(void)
{
	int ret;

	ret = alloc_chrdev_region(&hugepfn_devt, 0, HUGEPFN_MINORS, "hugepfn");
	if (ret)
		return ret;
	ret = class_register(&hugepfn_class);
	if (ret)
		goto err_chrdev;
	ret = hugepfn_carveouts_init(carveouts);
	if (ret)
		goto err_class;
	ret = hugepfn_pci_init();
	if (ret)
		goto err_carveouts;
	return 0;

err_carveouts:
	hugepfn_carveouts_exit();
err_class:
	class_unregister(&hugepfn_class);
err_chrdev:
	unregister_chrdev_region(hugepfn_devt, HUGEPFN_MINORS);
	return ret;
}

static void __exit hugepfn_exit(void)
{
	hugepfn_pci_exit();
	hugepfn_carveouts_exit();
	class_unregister(&hugepfn_class);
	unregister_chrdev_region(hugepfn_devt, HUGEPFN_MINORS);
}

module_init(hugepfn_init);
module_exit(hugepfn_exit);
MODULE_DESCRIPTION("Map PCI BARs and physical carveouts with huge page-table leaves");
MODULE_LICENSE("GPL");
