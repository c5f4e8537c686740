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
	int n;

	if (!ctx)
		return -EINVAL;
	hpfn_errors_clear(&ctx->errors);
	if (!out && max)
		return hpfn_ctx_err(ctx, -EINVAL, "hugepfn_leaf_sizes: out is NULL with max %zu", max);
	n = hpfn_leaf_sizes_at(ctx->sysfs_root, base_page(), out, max);
	if (n < 0)
		return hpfn_ctx_err(ctx, n, "page size %llu: no page-table geometry for it",
				    (unsigned long long)base_page());
	return n;
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

/* Everything about a hugepfn_map() request that can be checked before mmap(). */
static int check_request(struct hugepfn_dev *dev, unsigned int region, uint64_t offset,
			 uint64_t *length, unsigned int flags)
{
	const unsigned int known = HUGEPFN_MAP_READONLY | HUGEPFN_MAP_WC | HUGEPFN_MAP_4K |
				   HUGEPFN_MAP_HUGE_REQUIRED | HUGEPFN_MAP_2M | HPFN_MAP_NO_ENABLE;
	uint64_t page = base_page(), end;
	struct hugepfn_region *r;

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
	if (!*length)
		*length = r->size - offset;
	if (__builtin_add_overflow(offset, *length, &end) || end > r->size)
		return hpfn_err(dev, -ERANGE, "offset %#llx + length %#llx is past the end of region %u (%#llx bytes)",
				(unsigned long long)offset, (unsigned long long)*length, region,
				(unsigned long long)r->size);
	if ((offset | *length) & (page - 1))
		return hpfn_err(dev, -EINVAL, "offset and length must be multiples of the page size (%llu)",
				(unsigned long long)page);
	if (r->flags & HUGEPFN_RGN_SPARSE) {
		int ret = hpfn_check_sparse(dev, region, offset, end);

		if (ret)
			return ret;
	}
	if (dev->ops == &hpfn_backend_uio && offset)
		return hpfn_err(dev, -EINVAL, "UIO maps a region from its start only: offset must be 0");
	if ((flags & HUGEPFN_MAP_HUGE_REQUIRED) && (r->flags & HUGEPFN_RGN_FAULT) && !dev->ops->populate)
		return hpfn_err(dev, -ENODATA,
				"HUGEPFN_MAP_HUGE_REQUIRED cannot be checked on region %u: %s fills it at the first access, which the library never makes; map without the flag, touch the mapping and ask hugepfn_map_runs()",
				region, hugepfn_backend_name(dev->ops->kind));
	return 0;
}

/*
 * The physical address the virtual one is made congruent to, and the
 * modulus, for @flags; *@aligned_for is the leaf size that congruence
 * allows (hugepfn_map_alignment()).
 */
static int choose_alignment(struct hugepfn_dev *dev, const struct hugepfn_region *r,
			    uint64_t offset, uint64_t length, unsigned int flags,
			    uint64_t *phys, uint64_t *align, uint64_t *aligned_for)
{
	uint64_t page = base_page(), sizes[MAX_LEAVES], least;
	int nsizes = hpfn_leaf_sizes_at(dev->ctx->sysfs_root, page, sizes, MAX_LEAVES);

	if (nsizes < 1 || nsizes > MAX_LEAVES)
		return hpfn_err(dev, -EINVAL, "page size %llu: no page-table geometry for it",
				(unsigned long long)page);
	/* the smallest leaf size: what HUGEPFN_MAP_4K must avoid */
	least = nsizes > 1 ? sizes[1] : hpfn_level_bytes(2);
	*phys = r->phys + offset;
	*align = r->phys ? hpfn_best_leaf_size(*phys, length, page, sizes + 1, nsizes - 1) : least;
	*aligned_for = *align;
	if (flags & HUGEPFN_MAP_4K) {
		/* one page off the congruence: the kernel must use base pages */
		*phys += page;
		if (*align < least)
			*align = least;
		*aligned_for = page;
	} else if ((flags & HUGEPFN_MAP_2M) && *align > least) {
		/* one PMD leaf off the larger congruence: PMD leaves at most */
		*phys += least;
		*aligned_for = least;
	}
	return 0;
}

/* HUGEPFN_MAP_WC: fail when the kernel is known to have applied another type. */
static int check_wc(struct hugepfn_map *map)
{
	int cache = hpfn_map_cache(map);

	if (cache <= HUGEPFN_CACHE_UNKNOWN || cache == HUGEPFN_CACHE_WC)
		return 0;
	return hpfn_err(map->dev, -EIO,
			"asked for write-combining, but the kernel mapped region %u [%#llx, +%#llx) %s: "
			"x86 PAT gave the range the memory type of an existing reservation of it "
			"(another mapping of it with another type, or one left behind by a partial "
			"munmap, see README 'Known 6.12 behaviour'); unmap the other mappings of the "
			"range, or map a range that was never mapped otherwise",
			map->region, (unsigned long long)map->offset, (unsigned long long)map->length,
			hugepfn_cache_name(cache));
}

/* All the runs of @map in a new array (free() it), their count in *@n. */
static struct hugepfn_run *all_runs(struct hugepfn_map *map, int *n)
{
	struct hugepfn_run *runs;
	size_t max = 64;

	for (;;) {
		runs = calloc(max, sizeof(*runs));
		if (!runs) {
			*n = hpfn_err(map->dev, -ENOMEM, "no memory for %zu runs", max);
			return NULL;
		}
		*n = hpfn_map_runs(map, runs, NULL, max);
		if (*n < 0 || (size_t)*n <= max)
			return runs;
		free(runs);
		max = (size_t)*n;
	}
}

/* HUGEPFN_MAP_HUGE_REQUIRED: fail unless a huge leaf is known to be there. */
static int check_huge(struct hugepfn_map *map)
{
	struct hugepfn_run *runs;
	int n, i, unknown = 0, huge = 0;

	runs = all_runs(map, &n);
	for (i = 0; i < n; i++) {
		if (runs[i].page_size == UINT64_MAX)
			unknown = 1;
		else if (runs[i].page_size > base_page())
			huge = 1;
	}
	free(runs);
	if (huge)
		return 0;
	if (n == -ENOMEM)
		return n;
	if (n < 0)
		return hpfn_err(map->dev, -ENODATA,
				"HUGEPFN_MAP_HUGE_REQUIRED: the page sizes of region %u's mapping cannot be read: %s",
				map->region, hugepfn_strerror(n));
	if (unknown)
		return hpfn_err(map->dev, -ENODATA,
				"HUGEPFN_MAP_HUGE_REQUIRED: the page sizes of region %u's mapping cannot be known through %s without the page-table dump (mount debugfs, CONFIG_PTDUMP_DEBUGFS, root); use the hugepfn driver, or map without the flag",
				map->region, hugepfn_backend_name(map->dev->ops->kind));
	return hpfn_err(map->dev, -EOPNOTSUPP,
			"HUGEPFN_MAP_HUGE_REQUIRED: the kernel mapped region %u [%#llx, +%#llx) with base pages only (a kernel without huge remap support, or a range too small or unaligned for a leaf); 'hugepfn doctor' says which",
			map->region, (unsigned long long)map->offset, (unsigned long long)map->length);
}

/* The checks after mmap(): populate, memory type, huge leaves. */
static int finish_map(struct hugepfn_map *map, unsigned int flags)
{
	int ret = 0;

	if (map->dev->ops->populate)
		ret = map->dev->ops->populate(map);
	if (!ret && (flags & HUGEPFN_MAP_WC))
		ret = check_wc(map);
	if (!ret && (flags & HUGEPFN_MAP_HUGE_REQUIRED))
		ret = check_huge(map);
	return ret;
}

int hpfn_map(struct hugepfn_dev *dev, unsigned int region, uint64_t offset, uint64_t length,
	     unsigned int flags, struct hugepfn_map **out)
{
	uint64_t file_off = 0, align = 0, aligned_for = 0, phys = 0;
	const struct hugepfn_region *r;
	struct hugepfn_map *map;
	int fd, ret;
	void *addr;

	ret = check_request(dev, region, offset, &length, flags);
	if (ret)
		return ret;
	r = &dev->regions[region];
	ret = choose_alignment(dev, r, offset, length, flags, &phys, &align, &aligned_for);
	if (!ret)
		ret = dev->ops->map_target(dev, region, flags, &fd, &file_off);
	if (ret)
		return ret;
	map = calloc(1, sizeof(*map));
	if (!map)
		return hpfn_err(dev, -ENOMEM, "no memory for a mapping");
	addr = hpfn_mmap_congruent(fd, (off_t)(file_off + offset), length,
				   PROT_READ | (flags & HUGEPFN_MAP_READONLY ? 0 : PROT_WRITE),
				   MAP_SHARED, phys, align);
	if (addr == MAP_FAILED) {
		ret = -errno;
		free(map);
		return hpfn_err(dev, ret, "mmap of region %u [%#llx, +%#llx): %s", region,
				(unsigned long long)offset, (unsigned long long)length, strerror(-ret));
	}
	*map = (struct hugepfn_map){ dev, addr, length, aligned_for, r->phys ? r->phys + offset : 0,
				     offset, region, flags, fd };
	ret = finish_map(map, flags);
	if (ret) {
		hpfn_unmap(map);
		return ret;
	}
	*out = map;
	return 0;
}

HUGEPFN_API int hugepfn_map(struct hugepfn_dev *dev, unsigned int region, uint64_t offset,
			    uint64_t length, unsigned int flags, struct hugepfn_map **out)
{
	int ret;

	if (out)
		*out = NULL;
	if (!dev || !dev->ops)
		return -EINVAL;
	hpfn_errors_clear(&dev->errors);
	if (!out)
		return hpfn_err(dev, -EINVAL, "hugepfn_map: out is NULL");
	if (flags & HPFN_MAP_NO_ENABLE)	/* the library's own: unknown outside it */
		return hpfn_err(dev, -EINVAL, "unknown map flags %#x",
				flags & ~(HUGEPFN_MAP_READONLY | HUGEPFN_MAP_WC | HUGEPFN_MAP_4K |
					  HUGEPFN_MAP_HUGE_REQUIRED | HUGEPFN_MAP_2M));
	ret = hpfn_map(dev, region, offset, length, flags, out);
	/* the checks after mmap() may have met failures they got over */
	if (!ret)
		hpfn_errors_clear(&dev->errors);
	return ret;
}

int hpfn_unmap(struct hugepfn_map *map)
{
	int ret = 0;

	if (munmap(map->addr, map->length))
		ret = hpfn_err(map->dev, -errno, "munmap of region %u: %s", map->region, strerror(errno));
	free(map);
	return ret;
}

HUGEPFN_API int hugepfn_unmap(struct hugepfn_map *map)
{
	if (!map)
		return -EINVAL;
	hpfn_errors_clear(&map->dev->errors);
	return hpfn_unmap(map);
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

/* What a run of the dump adds to @runs: merged into the last one, or a new one. */
struct run_acc {
	struct hugepfn_run *runs;
	int *caches;
	size_t max, n;
	struct hugepfn_run last;	/* the last run, also once past @max */
	int last_cache;
};

static void acc_add(struct run_acc *a, uint64_t offset, uint64_t length, uint64_t size, int cache)
{
	if (a->n && a->last.page_size == size && (!a->caches || a->last_cache == cache) &&
	    a->last.offset + a->last.length == offset) {
		a->last.length += length;
	} else {
		a->last = (struct hugepfn_run){ offset, length, size };
		a->last_cache = cache;
		a->n++;
	}
	if (a->n <= a->max) {
		a->runs[a->n - 1] = a->last;
		if (a->caches)
			a->caches[a->n - 1] = a->last_cache;
	}
}

/* The runs of @map from the page-table dump; -errno when it cannot be read. */
static int runs_from_ptdump(struct hugepfn_map *map, struct run_acc *a)
{
	const char *root = map->dev->ctx->sysfs_root;
	struct hpfn_pt_run *pt;
	int n, i, pat;

	pt = calloc(8192, sizeof(*pt));
	if (!pt)
		return -ENOMEM;
	n = hpfn_ptdump_read(root, (uintptr_t)map->addr, map->length, pt, 8192);
	if (n > 8192)
		n = -E2BIG;
	/* Without debugfs' x86 directory, assume what every x86 Linux does: PAT. */
	pat = hpfn_pat_enabled(root) != 0;
	for (i = 0; i < n; i++)
		acc_add(a, pt[i].start - (uintptr_t)map->addr, pt[i].end - pt[i].start,
			pt_level_size(pt[i].level), hpfn_pt_cache_mode(pt[i].flags, pat));
	free(pt);
	return n < 0 ? n : 0;
}

int hpfn_map_runs(struct hugepfn_map *map, struct hugepfn_run *runs, int *caches, size_t max)
{
	struct run_acc a = { runs, caches, max, 0, { 0, 0, 0 }, 0 };
	int ret;

	if (map->dev->ops->runs)
		return map->dev->ops->runs(map, runs, caches, max);
	ret = runs_from_ptdump(map, &a);
	if (ret == -ENOMEM)
		return hpfn_err(map->dev, ret, "no memory for the page-table dump");
	if (ret < 0) {
		/* Unknown, not a guess. */
		a.n = 0;
		acc_add(&a, 0, map->length, UINT64_MAX, HUGEPFN_CACHE_UNKNOWN);
	}
	return a.n > INT32_MAX ? -E2BIG : (int)a.n;
}

HUGEPFN_API int hugepfn_map_runs(struct hugepfn_map *map, struct hugepfn_run *runs, size_t max)
{
	if (!map)
		return -EINVAL;
	hpfn_errors_clear(&map->dev->errors);
	if (!runs && max)
		return hpfn_err(map->dev, -EINVAL, "hugepfn_map_runs: runs is NULL with max %zu", max);
	return hpfn_map_runs(map, runs, NULL, max);
}

/* The type of the mapped runs: one type, MIXED, or UNKNOWN. */
static int runs_cache(const struct hugepfn_run *runs, const int *caches, int n)
{
	int i, cache = HUGEPFN_CACHE_UNKNOWN;

	for (i = 0; i < n; i++) {
		if (!runs[i].page_size)
			continue;	/* not mapped (yet): no type */
		if (caches[i] == HUGEPFN_CACHE_UNKNOWN)
			return HUGEPFN_CACHE_UNKNOWN;
		if (cache == HUGEPFN_CACHE_UNKNOWN)
			cache = caches[i];
		else if (cache != caches[i])
			cache = HUGEPFN_CACHE_MIXED;
	}
	return cache;
}

int hpfn_map_cache(struct hugepfn_map *map)
{
	struct hugepfn_run *runs;
	size_t max = 1024;
	int *caches, n;

	for (;;) {
		runs = calloc(max, sizeof(*runs));
		caches = calloc(max, sizeof(*caches));
		if (!runs || !caches) {
			free(runs);
			free(caches);
			return hpfn_err(map->dev, -ENOMEM, "no memory for %zu runs", max);
		}
		n = hpfn_map_runs(map, runs, caches, max);
		if (n < 0 || (size_t)n <= max)
			break;
		free(runs);
		free(caches);
		max = (size_t)n;
	}
	if (n >= 0)
		n = runs_cache(runs, caches, n);
	free(runs);
	free(caches);
	return n;
}

HUGEPFN_API int hugepfn_map_cache(struct hugepfn_map *map)
{
	if (!map)
		return -EINVAL;
	hpfn_errors_clear(&map->dev->errors);
	return hpfn_map_cache(map);
}

/* PTE-table pages for @n runs of a mapping at @base (see hugepfn_map_pt_pages()). */
static int64_t runs_pt_pages(const struct hugepfn_run *runs, int n, uint64_t base, bool deposits)
{
	uint64_t pmd = hpfn_level_bytes(2), pud = hpfn_level_bytes(3), last_block = UINT64_MAX;
	int64_t pages = 0;
	int i;

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

HUGEPFN_API int64_t hugepfn_map_pt_pages(struct hugepfn_map *map)
{
	struct hugepfn_run *runs = NULL;
	size_t max = 512;
	int64_t pages;
	bool deposits;
	int n;

	if (!map)
		return -EINVAL;
	hpfn_errors_clear(&map->dev->errors);
	/*
	 * Fault-time mappings (vfio-pci; hugepfn.ko without the series, except
	 * its write-combining aliases): their 2 MiB leaves carry no PTE table.
	 */
	deposits = !(map->dev->regions[map->region].flags & HUGEPFN_RGN_FAULT) ||
		   (map->flags & HUGEPFN_MAP_WC);
	for (;;) {
		runs = calloc(max, sizeof(*runs));
		if (!runs)
			return hpfn_err(map->dev, -ENOMEM, "no memory for %zu runs", max);
		n = hpfn_map_runs(map, runs, NULL, max);
		if (n < 0 || (size_t)n <= max)
			break;
		free(runs);
		max = (size_t)n;
	}
	pages = n < 0 ? n : runs_pt_pages(runs, n, (uintptr_t)map->addr, deposits);
	free(runs);
	if (pages == -ENODATA)
		return hpfn_err(map->dev, -ENODATA,
				"the page sizes of region %u's mapping are unknown through %s without the page-table dump",
				map->region, hugepfn_backend_name(map->dev->ops->kind));
	return pages;
}
