// SPDX-License-Identifier: LGPL-2.1-or-later
/* hugepfn_map(): huge-aligned mappings, and what the kernel gave them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "align.h"
#include "hugepfn_internal.h"
#include "ptdump.h"

#define SZ_2M (2ULL << 20)
#define SZ_1G (1ULL << 30)

/* A sparse region maps only inside one of its areas. */
static int hpfn_check_sparse(struct hugepfn_dev *dev, unsigned int region, uint64_t offset,
			     uint64_t end)
{
	char list[256] = "";
	size_t used = 0;
	unsigned int i;

	if (hpfn_areas_contain(dev->areas[region], dev->nr_areas[region], offset, end))
		return 0;
	for (i = 0; i < dev->nr_areas[region]; i++) {
		const struct hugepfn_area *a = &dev->areas[region][i];

		if (used < sizeof(list))
			used += (size_t)snprintf(list + used, sizeof(list) - used, "%s[%#llx, +%#llx)",
						 i ? " " : "", (unsigned long long)a->offset,
						 (unsigned long long)a->size);
	}
	return hpfn_err(dev, -EINVAL,
			"[%#llx, %#llx) of region %u is not inside one mappable area; VFIO allows only: %s",
			(unsigned long long)offset, (unsigned long long)end, region,
			dev->nr_areas[region] ? list : "none");
}

HUGEPFN_API int hugepfn_map(struct hugepfn_dev *dev, unsigned int region, uint64_t offset,
			    uint64_t length, unsigned int flags, struct hugepfn_map **out)
{
	static const uint64_t leaves[] = { SZ_2M, SZ_1G };
	const unsigned int known = HUGEPFN_MAP_READONLY | HUGEPFN_MAP_WC | HUGEPFN_MAP_4K |
				   HUGEPFN_MAP_HUGE_REQUIRED;
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE), file_off, align, phys, end;
	struct hugepfn_region *r;
	struct hugepfn_map *map;
	int fd, ret;
	void *addr;

	if (!dev || !dev->ops || !out)
		return -EINVAL;
	*out = NULL;
	if (flags & ~known)
		return hpfn_err(dev, -EINVAL, "unknown map flags %#x", flags & ~known);
	if (region >= dev->nr_regions)
		return hpfn_err(dev, -ERANGE, "region %u: the device has %u", region, dev->nr_regions);
	r = &dev->regions[region];
	if (!(r->flags & HUGEPFN_RGN_MAPPABLE))
		return hpfn_err(dev, -EINVAL, "region %u is not mappable (%s)", region,
				r->flags & HUGEPFN_RGN_IO ? "an I/O-port BAR" :
				!r->size ? "unused" : "smaller than a page or unaligned");
	if ((flags & HUGEPFN_MAP_WC) && !(r->flags & HUGEPFN_RGN_WC))
		return hpfn_err(dev, -EINVAL, "region %u cannot be mapped write-combining", region);
	if (offset >= r->size)
		return hpfn_err(dev, -ERANGE, "offset %#llx is past the end of region %u (%#llx bytes)",
				(unsigned long long)offset, region, (unsigned long long)r->size);
	if (!length)
		length = r->size - offset;
	if (__builtin_add_overflow(offset, length, &end) || end > r->size)
		return hpfn_err(dev, -ERANGE, "offset %#llx + length %#llx is past the end of region %u (%#llx bytes)",
				(unsigned long long)offset, (unsigned long long)length, region,
				(unsigned long long)r->size);
	if ((offset | length) & (page - 1))
		return hpfn_err(dev, -EINVAL, "offset and length must be multiples of the page size (%llu)",
				(unsigned long long)page);
	if (r->flags & HUGEPFN_RGN_SPARSE) {
		ret = hpfn_check_sparse(dev, region, offset, end);
		if (ret)
			return ret;
	}
	if (dev->ops == &hpfn_backend_uio && offset)
		return hpfn_err(dev, -EINVAL, "UIO maps a region from its start only: offset must be 0");

	ret = dev->ops->map_target(dev, region, !!(flags & HUGEPFN_MAP_WC), &fd, &file_off);
	if (ret)
		return ret;
	phys = r->phys + offset;
	align = r->phys ? hpfn_best_leaf_size(phys, length, page, leaves, 2) : SZ_2M;
	if (flags & HUGEPFN_MAP_4K) {
		/* one page off the congruence: the kernel must use base pages */
		phys += page;
		if (align < SZ_2M)
			align = SZ_2M;
	}
	addr = hpfn_mmap_congruent(fd, (off_t)(file_off + offset), length,
				   PROT_READ | (flags & HUGEPFN_MAP_READONLY ? 0 : PROT_WRITE),
				   MAP_SHARED, phys, align);
	if (addr == MAP_FAILED)
		return hpfn_err(dev, -errno, "mmap of region %u [%#llx, +%#llx): %s", region,
				(unsigned long long)offset, (unsigned long long)length, strerror(errno));
	map = calloc(1, sizeof(*map));
	if (!map) {
		munmap(addr, length);
		return -ENOMEM;
	}
	*map = (struct hugepfn_map){ dev, addr, length, flags & HUGEPFN_MAP_4K ? page : align,
				     r->phys ? r->phys + offset : 0, region, flags, fd };

	if (flags & HUGEPFN_MAP_HUGE_REQUIRED) {
		struct hugepfn_run runs[64];
		int n = hugepfn_map_runs(map, runs, 64), i, huge = 0;

		for (i = 0; i < n && i < 64; i++)
			huge |= runs[i].page_size > page && runs[i].page_size != UINT64_MAX;
		if (!huge) {
			hugepfn_unmap(map);
			return hpfn_err(dev, -EOPNOTSUPP,
					n < 0 ? "cannot tell the page size of the mapping of region %u: no hugepfn driver query and no readable page-table dump" :
					"region %u was mapped with 4 KiB pages only (kernel without huge remap support, or the range is unaligned)",
					region);
		}
	}
	*out = map;
	return 0;
}

HUGEPFN_API int hugepfn_unmap(struct hugepfn_map *map)
{
	int ret = 0;

	if (!map)
		return -EINVAL;
	if (munmap(map->addr, map->length))
		ret = -errno;
	free(map);
	return ret;
}

HUGEPFN_API void *hugepfn_map_addr(const struct hugepfn_map *map)
{
	return map ? map->addr : NULL;
}

HUGEPFN_API uint64_t hugepfn_map_length(const struct hugepfn_map *map)
{
	return map ? map->length : 0;
}

HUGEPFN_API uint64_t hugepfn_map_alignment(const struct hugepfn_map *map)
{
	return map ? map->align : 0;
}

static uint64_t pt_level_size(enum hpfn_pt_level level)
{
	switch (level) {
	case HPFN_PT_PTE: return 4096;
	case HPFN_PT_PMD: return SZ_2M;
	case HPFN_PT_PUD: return SZ_1G;
	default: return 0;
	}
}

HUGEPFN_API int hugepfn_map_runs(struct hugepfn_map *map, struct hugepfn_run *runs, size_t max)
{
	struct hpfn_pt_run *pt;
	int n, i, out = 0;

	if (!map || (!runs && max))
		return -EINVAL;
	if (map->dev->ops->runs)
		return map->dev->ops->runs(map, runs, max);
	/* The page-table dump, where debugfs is readable, is exact. */
	pt = calloc(8192, sizeof(*pt));
	if (!pt)
		return -ENOMEM;
	n = hpfn_ptdump_read((uintptr_t)map->addr, map->length, pt, 8192);
	if (n < 0 || n > 8192) {
		free(pt);
		/* Unknown, not a guess. */
		if (max)
			runs[0] = (struct hugepfn_run){ 0, map->length, UINT64_MAX };
		return 1;
	}
	for (i = 0; i < n; i++) {
		uint64_t size = pt_level_size(pt[i].level);

		if (out && (size_t)out <= max && runs[out - 1].page_size == size &&
		    runs[out - 1].offset + runs[out - 1].length == pt[i].start - (uintptr_t)map->addr) {
			runs[out - 1].length += pt[i].end - pt[i].start;
			continue;
		}
		if ((size_t)out < max)
			runs[out] = (struct hugepfn_run){ pt[i].start - (uintptr_t)map->addr,
							  pt[i].end - pt[i].start, size };
		out++;
	}
	free(pt);
	return out;
}

HUGEPFN_API int64_t hugepfn_map_pt_pages(struct hugepfn_map *map)
{
	struct hugepfn_run runs[512];
	uint64_t base;
	int64_t pages = 0;
	uint64_t last_block = UINT64_MAX;
	int n, i;

	n = hugepfn_map_runs(map, runs, 512);
	if (n < 0)
		return n;
	if (n > 512)
		return -E2BIG;
	base = (uintptr_t)map->addr;
	for (i = 0; i < n; i++) {
		uint64_t start = base + runs[i].offset, end = start + runs[i].length, b;

		if (runs[i].page_size == UINT64_MAX)
			return -ENODATA;
		if (!runs[i].page_size)
			continue;
		/*
		 * A 4 KiB run needs one PTE table per 2 MiB block it touches;
		 * a 2 MiB leaf carries one deposited table. A 1 GiB leaf is
		 * counted as its PMD table.
		 */
		if (runs[i].page_size == SZ_1G) {
			pages += runs[i].length / SZ_1G;
			continue;
		}
		for (b = start & ~(SZ_2M - 1); b < end; b += SZ_2M) {
			if (b == last_block)
				continue;
			pages++;
			last_block = b;
		}
	}
	return pages;
}
