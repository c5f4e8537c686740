// SPDX-License-Identifier: LGPL-2.1-or-later
/* The hugepfn.ko backend: /dev/hugepfn/{pci-BDF,carveout-NAME}. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/hugepfn.h>

#include "hugepfn_internal.h"

static int driver_open(struct hugepfn_dev *dev, const char *node)
{
	struct hugepfn_device_info di = { .argsz = sizeof(di) };
	unsigned int i;

	snprintf(dev->node, sizeof(dev->node), "%s", node);
	dev->fd = open(node, O_RDWR | O_CLOEXEC);
	if (dev->fd < 0)
		return hpfn_err(dev, -errno, "open %s: %s%s", node, strerror(errno),
				errno == EACCES ? " (nodes are root-only by default; see kernel/driver/README.md)" : "");
	if (ioctl(dev->fd, HUGEPFN_DEVICE_INFO, &di))
		return hpfn_err(dev, -errno, "HUGEPFN_DEVICE_INFO on %s: %s", node, strerror(errno));
	if (di.api_version != HUGEPFN_API_VERSION)
		return hpfn_err(dev, -EOPNOTSUPP, "%s speaks hugepfn API %u, this library %u", node,
				di.api_version, HUGEPFN_API_VERSION);
	dev->nr_regions = di.num_regions < HPFN_MAX_REGIONS ? di.num_regions : HPFN_MAX_REGIONS;
	for (i = 0; i < dev->nr_regions; i++) {
		struct hugepfn_region_info ri = { .argsz = sizeof(ri), .index = i };
		struct hugepfn_region *r = &dev->regions[i];

		if (ioctl(dev->fd, HUGEPFN_REGION_INFO, &ri))
			return hpfn_err(dev, -errno, "HUGEPFN_REGION_INFO %u on %s: %s", i, node,
					strerror(errno));
		r->index = i;
		r->size = ri.size;
		r->phys = ri.phys_addr;
		r->flags = (ri.flags & HUGEPFN_REGION_MAPPABLE ? HUGEPFN_RGN_MAPPABLE : 0) |
			   (ri.flags & HUGEPFN_REGION_PREFETCHABLE ? HUGEPFN_RGN_PREFETCH : 0) |
			   (ri.flags & HUGEPFN_REGION_MEM64 ? HUGEPFN_RGN_MEM64 : 0) |
			   (ri.flags & HUGEPFN_REGION_WC ? HUGEPFN_RGN_WC : 0) |
			   (ri.flags & HUGEPFN_REGION_CARVEOUT ? HUGEPFN_RGN_CARVEOUT : 0) |
			   (ri.flags & HUGEPFN_REGION_IO ? HUGEPFN_RGN_IO : 0) |
			   (ri.flags & HUGEPFN_REGION_FAULT_FILLED ? HUGEPFN_RGN_FAULT : 0);
		dev->map_offset[i] = ri.offset;
	}
	return 0;
}

static void driver_close(struct hugepfn_dev *dev)
{
	if (dev->fd >= 0)
		close(dev->fd);
	dev->fd = -1;
}

static int driver_map_target(struct hugepfn_dev *dev, unsigned int region, unsigned int flags,
			     int *fd, uint64_t *offset)
{
	int wc = !!(flags & HUGEPFN_MAP_WC);

	*fd = dev->fd;
	*offset = wc ? HUGEPFN_REGION_WC_OFFSET(region) : HUGEPFN_REGION_OFFSET(region);
	return 0;
}

static uint64_t level_size(uint32_t level)
{
	switch (level) {
	case HUGEPFN_LEVEL_4K: return hpfn_level_bytes(1);
	case HUGEPFN_LEVEL_2M: return hpfn_level_bytes(2);
	case HUGEPFN_LEVEL_1G: return hpfn_level_bytes(3);
	default: return 0;
	}
}

static int cache_of(uint32_t mode)
{
	switch (mode) {
	case HUGEPFN_CACHE_MODE_WB: return HUGEPFN_CACHE_WB;
	case HUGEPFN_CACHE_MODE_WC: return HUGEPFN_CACHE_WC;
	case HUGEPFN_CACHE_MODE_UC_MINUS: return HUGEPFN_CACHE_UC_MINUS;
	case HUGEPFN_CACHE_MODE_UC: return HUGEPFN_CACHE_UC;
	case HUGEPFN_CACHE_MODE_WT: return HUGEPFN_CACHE_WT;
	case HUGEPFN_CACHE_MODE_WP: return HUGEPFN_CACHE_WP;
	case HUGEPFN_CACHE_MODE_DEVICE: return HUGEPFN_CACHE_DEVICE;
	default: return HUGEPFN_CACHE_UNKNOWN;
	}
}

/*
 * Walk the mapping run by run with the driver's query ioctl. A driver from
 * before page_size and cache leaves them zero: the level then gives the
 * size, and the memory type is unknown.
 */
static int driver_runs(struct hugepfn_map *map, struct hugepfn_run *runs, int *caches, size_t max)
{
	uint64_t base = (uintptr_t)map->addr, off = 0;
	size_t n = 0;

	while (off < map->length) {
		struct hugepfn_mapping_query q = { .argsz = sizeof(q), .addr = base + off };
		uint64_t end;

		if (ioctl(map->fd, HUGEPFN_MAPPING_QUERY, &q))
			return hpfn_err(map->dev, -errno, "HUGEPFN_MAPPING_QUERY at %#llx: %s",
					(unsigned long long)q.addr, strerror(errno));
		end = q.run_start + q.run_length - base;
		if (end <= off || end > map->length)
			return hpfn_err(map->dev, -EIO, "HUGEPFN_MAPPING_QUERY returned a run outside the mapping");
		if (n < max) {
			runs[n] = (struct hugepfn_run){ off, end - off,
							q.page_size ? q.page_size : level_size(q.level) };
			if (caches)
				caches[n] = cache_of(q.cache);
		}
		n++;
		off = end;
	}
	return (int)n;
}

/*
 * On a kernel without the series the driver fills BAR mappings at fault
 * time; HUGEPFN_POPULATE fills them now, as faults would, without reading
 * the device (a register read can have side effects), so the sizes are
 * known at once. Where the driver mapped at mmap() time it has nothing to do.
 */
static int driver_populate(struct hugepfn_map *map)
{
	struct hugepfn_populate p = { .argsz = sizeof(p), .addr = (uintptr_t)map->addr,
				      .length = map->length };

	if (ioctl(map->fd, HUGEPFN_POPULATE, &p))
		return hpfn_err(map->dev, -errno, "HUGEPFN_POPULATE of %#llx bytes at %p: %s",
				(unsigned long long)map->length, map->addr, strerror(errno));
	return 0;
}

const struct hpfn_backend_ops hpfn_backend_driver = {
	.kind = HUGEPFN_BACKEND_DRIVER,
	.open = driver_open,
	.close = driver_close,
	.map_target = driver_map_target,
	.runs = driver_runs,
	.populate = driver_populate,
};
