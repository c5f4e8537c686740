// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include "align.h"

static int is_pow2(uint64_t x)
{
	return x && !(x & (x - 1));
}

uint64_t hpfn_best_leaf_size(uint64_t phys, uint64_t len, uint64_t base,
			     const uint64_t *sizes, size_t nsizes)
{
	uint64_t best = base, end, first;
	size_t i;

	if (!len || !is_pow2(base) || __builtin_add_overflow(phys, len, &end))
		return 0;
	for (i = 0; i < nsizes; i++) {
		uint64_t s = sizes[i];

		if (!is_pow2(s))
			return 0;
		if (s <= best)
			continue;
		/* first s-aligned address at or above phys */
		if (__builtin_add_overflow(phys, s - 1, &first))
			continue;
		first &= ~(s - 1);
		if (first < end && end - first >= s)
			best = s;
	}
	return best;
}

uint64_t hpfn_congruent_addr(uint64_t resv, uint64_t phys, uint64_t align)
{
	uint64_t mask = align - 1;

	return resv + ((phys - resv) & mask);
}

void *hpfn_mmap_congruent(int fd, off_t offset, size_t len, int prot,
			  int flags, uint64_t phys, uint64_t align)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), slack, resv_len;
	uint8_t *resv, *addr, *resv_end;
	void *map;
	int err;

	if (!len || !is_pow2(align) || align < page) {
		errno = EINVAL;
		return MAP_FAILED;
	}
	slack = align - page;
	if (__builtin_add_overflow(len, slack, &resv_len)) {
		errno = ENOMEM;
		return MAP_FAILED;
	}
	/* PROT_NONE and never touched: the reservation costs no memory. */
	resv = mmap(NULL, resv_len, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (resv == MAP_FAILED)
		return MAP_FAILED;
	addr = (uint8_t *)(uintptr_t)hpfn_congruent_addr((uintptr_t)resv, phys,
							  align);
	map = mmap(addr, len, prot, flags | MAP_FIXED, fd, offset);
	if (map == MAP_FAILED) {
		err = errno;
		munmap(resv, resv_len);
		errno = err;
		return MAP_FAILED;
	}
	/* Give back the slack on both sides of the mapping. */
	resv_end = resv + resv_len;
	if (addr > resv)
		munmap(resv, addr - resv);
	if (resv_end > addr + len)
		munmap(addr + len, resv_end - (addr + len));
	return map;
}
