/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Virtual-address alignment for device mappings.
 *
 * The kernel can only map a range with a leaf of size S (2 MiB PMD, 1 GiB
 * PUD) where the virtual and the physical address of the block are both
 * S-aligned. Letting the kernel pick the address gives 4 KiB alignment, so
 * the mapping is placed instead at a virtual address congruent to the
 * physical address modulo the largest leaf size the range can use.
 */
#ifndef HUGEPFN_ALIGN_H
#define HUGEPFN_ALIGN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * The leaf sizes a base page size implies, with 8-byte page-table entries
 * (page / 8 entries a table): out[0] the PMD leaf (page * entries), out[1]
 * the PUD leaf (that * entries): 2 MiB and 1 GiB for 4 KiB pages, 512 MiB
 * and 4 TiB for 64 KiB pages. Returns 2, or 0 when @page is not a power of
 * two of at least 4 KiB or a size would overflow.
 */
int hpfn_leaf_candidates(uint64_t page, uint64_t out[2]);

/*
 * The page sizes a mapping can get on a system whose sysfs is at
 * @sysfs_root and whose base page is @page, smallest first: @page, then the
 * PMD leaf when the system offers it (THP's hpage_pmd_size, which names it
 * exactly, or a hugepages-<N>kB directory of the candidate size), then the
 * PUD leaf when a hugepages directory of its size exists or, for 1 GiB on
 * x86, the CPU has 1 GiB pages (GBPAGES in devices/system/cpu/modalias: a
 * kernel without gigantic hugetlb pages lists no directory for them). When
 * sysfs says nothing at all (no kernel/mm/hugepages and no
 * transparent_hugepage), the PMD candidate is assumed: aiming for it costs
 * only address space. Stores up to @max, returns how many there are, or
 * -EINVAL.
 */
int hpfn_leaf_sizes_at(const char *sysfs_root, uint64_t page, uint64_t *out, size_t max);

/* Whether a CPU modalias ("cpu:type:x86,...:feature:,...") lists GB pages (fuzzed). */
int hpfn_parse_modalias_gbpages(const char *text);

/*
 * The largest of @sizes (powers of two, any order) for which
 * [phys, phys + len) contains at least one whole naturally aligned block;
 * @base (the base page size) when none does. 0 when the arguments are
 * invalid (len 0, a size that is not a power of two, overflow).
 */
uint64_t hpfn_best_leaf_size(uint64_t phys, uint64_t len, uint64_t base,
			     const uint64_t *sizes, size_t nsizes);

/*
 * The address inside a reservation starting at @resv that is congruent to
 * @phys modulo @align (a power of two): the smallest such address >= @resv.
 */
uint64_t hpfn_congruent_addr(uint64_t resv, uint64_t phys, uint64_t align);

/*
 * mmap() @len bytes of @fd at @offset with a virtual address congruent to
 * @phys modulo @align: reserve len + align - page of PROT_NONE address space,
 * map MAP_FIXED inside it, and give the slack back. Returns the address or
 * MAP_FAILED with errno set, like mmap().
 */
void *hpfn_mmap_congruent(int fd, off_t offset, size_t len, int prot,
			  int flags, uint64_t phys, uint64_t align);

#endif
