// SPDX-License-Identifier: GPL-2.0
/*
 * HUGEPFN_MAPPING_QUERY: which leaf maps an address of one of the node's
 * mappings, read from the caller's own page tables, and the memory type
 * the leaf gives the CPU.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/mm.h>
#include <linux/pgtable.h>
#include <linux/sched.h>
#include <linux/uaccess.h>

#include "hugepfn_private.h"

#ifdef CONFIG_HIGHPTE
#error "hugepfn walks user page tables with pte_offset_kernel(): no CONFIG_HIGHPTE"
#endif

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
u32 hugepfn_leaf(struct mm_struct *mm, unsigned long addr, u32 *cache)
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

unsigned long hugepfn_level_size(u32 level)
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

long hugepfn_mapping_query(struct hugepfn_dev *hdev, void __user *uarg)
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
	if (!vma || !hugepfn_is_our_vma(hdev, vma))
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
