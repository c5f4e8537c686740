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
