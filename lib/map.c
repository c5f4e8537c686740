// SPDX-License-Identifier: LGPL-2.1-or-later
/* hugepfn_map(): huge-aligned mappings, and what the kernel gave them. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "align.h"
#include "hugepfn_internal.h"
#include "ptdump.h"

#define MAX_LEAVES 4

static uint64_t base_page(void)
{
	return (uint64_t)sysconf(_SC_PAGESIZE);
}

uint64_t hpfn_level_bytes(int level)
{
	uint64_t page = base_page(), cand[2];

	if (level == 1)
		return page;
	if ((level != 2 && level != 3) || hpfn_leaf_candidates(page, cand) != 2)
		return 0;
	return cand[level - 2];
}

HUGEPFN_API int hugepfn_leaf_sizes(struct hugepfn_ctx *ctx, uint64_t *out, size_t max)
{
	if (!ctx)
		return -EINVAL;
	return hpfn_leaf_sizes_at(ctx->sysfs_root, base_page(), out, max);
}

HUGEPFN_API const char *hugepfn_cache_name(enum hugepfn_cache cache)
{
	switch (cache) {
	case HUGEPFN_CACHE_WB: return "WB";
	case HUGEPFN_CACHE_WC: return "WC";
	case HUGEPFN_CACHE_UC_MINUS: return "UC-";
	case HUGEPFN_CACHE_UC: return "UC";
	case HUGEPFN_CACHE_WT: return "WT";
	case HUGEPFN_CACHE_WP: return "WP";
	case HUGEPFN_CACHE_MIXED: return "mixed";
	case HUGEPFN_CACHE_DEVICE: return "device";
	default: return "unknown";
	}
}

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
	const unsigned int known = HUGEPFN_MAP_READONLY | HUGEPFN_MAP_WC | HUGEPFN_MAP_4K |
				   HUGEPFN_MAP_HUGE_REQUIRED | HUGEPFN_MAP_2M;
	uint64_t page = base_page(), file_off, align, aligned_for, phys, end, sizes[MAX_LEAVES], least;
	struct hugepfn_region *r;
	struct hugepfn_map *map;
	int fd, ret, nsizes;
	void *addr;

	if (!dev || !dev->ops || !out)
		return -EINVAL;
	*out = NULL;
	if (flags & ~known)
		return hpfn_err(dev, -EINVAL, "unknown map flags %#x", flags & ~known);
	if ((flags & HUGEPFN_MAP_4K) && (flags & HUGEPFN_MAP_2M))
		return hpfn_err(dev, -EINVAL, "HUGEPFN_MAP_4K and HUGEPFN_MAP_2M exclude each other");
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
	/* The leaf sizes this system offers; the smallest is what 4K avoids. */
	nsizes = hpfn_leaf_sizes_at(dev->ctx->sysfs_root, page, sizes, MAX_LEAVES);
	if (nsizes < 1 || nsizes > MAX_LEAVES)
		return hpfn_err(dev, -EINVAL, "page size %llu: no page-table geometry for it",
				(unsigned long long)page);
	least = nsizes > 1 ? sizes[1] : hpfn_level_bytes(2);
	phys = r->phys + offset;
	align = r->phys ? hpfn_best_leaf_size(phys, length, page, sizes + 1, nsizes - 1) : least;
	aligned_for = align;
	if (flags & HUGEPFN_MAP_4K) {
		/* one page off the congruence: the kernel must use base pages */
		phys += page;
		if (align < least)
			align = least;
		aligned_for = page;
	} else if ((flags & HUGEPFN_MAP_2M) && align > least) {
		/* one PMD leaf off the larger congruence: PMD leaves at most */
		phys += least;
		aligned_for = least;
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
	*map = (struct hugepfn_map){ dev, addr, length, aligned_for,
				     r->phys ? r->phys + offset : 0, region, flags, fd };
	if (dev->ops->populate) {
		ret = dev->ops->populate(map);
		if (ret) {
			hugepfn_unmap(map);
			return ret;
		}
	}

	if (flags & HUGEPFN_MAP_WC) {
		int cache = hugepfn_map_cache(map);

		if (cache > HUGEPFN_CACHE_UNKNOWN && cache != HUGEPFN_CACHE_WC) {
			hugepfn_unmap(map);
			return hpfn_err(dev, -EIO,
					"asked for write-combining, but the kernel mapped region %u [%#llx, +%#llx) %s: "
					"x86 PAT gave the range the memory type of an existing reservation of it "
					"(another mapping of it with another type, or one left behind by a partial "
					"munmap, see README 'Known 6.12 behaviour'); unmap the other mappings of the "
					"range, or map a range that was never mapped otherwise",
					region, (unsigned long long)offset, (unsigned long long)length,
					hugepfn_cache_name(cache));
		}
	}
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
	case HPFN_PT_PTE: return hpfn_level_bytes(1);
	case HPFN_PT_PMD: return hpfn_level_bytes(2);
	case HPFN_PT_PUD: return hpfn_level_bytes(3);
	default: return 0;
	}
}

int hpfn_map_runs(struct hugepfn_map *map, struct hugepfn_run *runs, int *caches, size_t max)
{
	struct hpfn_pt_run *pt;
	int n, i, out = 0, pat;

	if (!map || (!runs && max))
		return -EINVAL;
	if (map->dev->ops->runs)
		return map->dev->ops->runs(map, runs, caches, max);
	/* The page-table dump, where debugfs is readable, is exact. */
	pt = calloc(8192, sizeof(*pt));
	if (!pt)
		return -ENOMEM;
	n = hpfn_ptdump_read((uintptr_t)map->addr, map->length, pt, 8192);
	if (n < 0 || n > 8192) {
		free(pt);
		/* Unknown, not a guess. */
		if (max) {
			runs[0] = (struct hugepfn_run){ 0, map->length, UINT64_MAX };
			if (caches)
				caches[0] = HUGEPFN_CACHE_UNKNOWN;
		}
		return 1;
	}
	/* Without debugfs' x86 directory, assume what every x86 Linux does: PAT. */
	pat = hpfn_pat_enabled() != 0;
	for (i = 0; i < n; i++) {
		uint64_t size = pt_level_size(pt[i].level);
		int cache = hpfn_pt_cache_mode(pt[i].flags, pat);

		if (out && (size_t)out <= max && runs[out - 1].page_size == size &&
		    (!caches || caches[out - 1] == cache) &&
		    runs[out - 1].offset + runs[out - 1].length == pt[i].start - (uintptr_t)map->addr) {
			runs[out - 1].length += pt[i].end - pt[i].start;
			continue;
		}
		if ((size_t)out < max) {
			runs[out] = (struct hugepfn_run){ pt[i].start - (uintptr_t)map->addr,
							  pt[i].end - pt[i].start, size };
			if (caches)
				caches[out] = cache;
		}
		out++;
	}
	free(pt);
	return out;
}

HUGEPFN_API int hugepfn_map_runs(struct hugepfn_map *map, struct hugepfn_run *runs, size_t max)
{
	return hpfn_map_runs(map, runs, NULL, max);
}

HUGEPFN_API int hugepfn_map_cache(struct hugepfn_map *map)
{
	struct hugepfn_run *runs;
	size_t max = 1024;
	int *caches, n, i, cache = HUGEPFN_CACHE_UNKNOWN;

	if (!map)
		return -EINVAL;
	for (;;) {
		runs = calloc(max, sizeof(*runs));
		caches = calloc(max, sizeof(*caches));
		if (!runs || !caches) {
			free(runs);
			free(caches);
			return -ENOMEM;
		}
		n = hpfn_map_runs(map, runs, caches, max);
		if (n < 0 || (size_t)n <= max)
			break;
		free(runs);
		free(caches);
		max = (size_t)n;
	}
	for (i = 0; i < n; i++) {
		if (!runs[i].page_size)
			continue;	/* not mapped (yet): no type */
		if (caches[i] == HUGEPFN_CACHE_UNKNOWN) {
			cache = HUGEPFN_CACHE_UNKNOWN;
			break;
		}
		if (cache == HUGEPFN_CACHE_UNKNOWN)
			cache = caches[i];
		else if (cache != caches[i])
			cache = HUGEPFN_CACHE_MIXED;
	}
	free(runs);
	free(caches);
	return n < 0 ? n : cache;
}

HUGEPFN_API int64_t hugepfn_map_pt_pages(struct hugepfn_map *map)
{
	struct hugepfn_run runs[512];
	uint64_t base, pmd = hpfn_level_bytes(2), pud = hpfn_level_bytes(3);
	/*
	 * Fault-time mappings (vfio-pci; hugepfn.ko without the series, except
	 * its write-combining aliases): their 2 MiB leaves carry no PTE table.
	 */
	bool deposits = !(map->dev->regions[map->region].flags & HUGEPFN_RGN_FAULT) ||
			(map->flags & HUGEPFN_MAP_WC);
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
		/*
		 * A base-page run needs one PTE table per PMD block it touches;
		 * a remap PMD leaf carries one deposited PTE table; a PUD leaf
		 * carries none, its split allocates them (kernel/README.md,
		 * "PUD leaves").
		 */
		if (!runs[i].page_size || runs[i].page_size == pud)
			continue;
		if (runs[i].page_size == pmd && !deposits)
			continue;
		for (b = start & ~(pmd - 1); b < end; b += pmd) {
			if (b == last_block)
				continue;
			pages++;
			last_block = b;
		}
	}
	return pages;
}
