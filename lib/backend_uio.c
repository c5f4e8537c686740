// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The UIO backend: /dev/uioN, whose map i is region i, mmap()ed at offset
 * i * page size. UIO maps a map from its start only, so a sub-range must
 * start at offset 0 of the region.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hugepfn_internal.h"

/* uioN of a PCI device, from its sysfs "uio" directory. */
static int uio_of_pci(struct hugepfn_dev *dev, const char *bdf, int *num)
{
	char path[HPFN_PATH_MAX];
	struct dirent *de;
	DIR *d;

	hpfn_sysfs_path(dev->ctx, path, sizeof(path), "bus/pci/devices/%s/uio", bdf);
	d = opendir(path);
	if (!d)
		return hpfn_err(dev, -ENODEV, "%s is not bound to a UIO driver (no %s)", bdf, path);
	*num = -1;
	while ((de = readdir(d)))
		if (sscanf(de->d_name, "uio%d", num) == 1)
			break;
	closedir(d);
	return *num < 0 ? hpfn_err(dev, -ENODEV, "no uioN under %s", path) : 0;
}

static int uio_open(struct hugepfn_dev *dev, const char *target)
{
	char path[HPFN_PATH_MAX];
	long page = sysconf(_SC_PAGESIZE);
	int num, ret, i;

	if (sscanf(target, "/dev/uio%d", &num) != 1 && sscanf(target, "uio%d", &num) != 1) {
		snprintf(dev->bdf, sizeof(dev->bdf), "%s", target);
		ret = uio_of_pci(dev, target, &num);
		if (ret)
			return ret;
	}
	hpfn_dev_path(dev->ctx, dev->node, sizeof(dev->node), "uio%d", num);
	dev->fd = open(dev->node, O_RDWR | O_CLOEXEC);
	if (dev->fd < 0)
		return hpfn_err(dev, -errno, "open %s: %s", dev->node, strerror(errno));
	dev->nr_regions = 0;
	for (i = 0; i < HPFN_MAX_REGIONS; i++) {
		struct hugepfn_region *r = &dev->regions[i];
		uint64_t addr, size, offset = 0;

		hpfn_sysfs_path(dev->ctx, path, sizeof(path), "class/uio/uio%d/maps/map%d/addr", num, i);
		if (hpfn_read_u64(path, &addr))
			break;
		hpfn_sysfs_path(dev->ctx, path, sizeof(path), "class/uio/uio%d/maps/map%d/size", num, i);
		if (hpfn_read_u64(path, &size) || !size)
			return hpfn_err(dev, -EIO, "bad or missing %s (a UIO map without a size)", path);
		hpfn_sysfs_path(dev->ctx, path, sizeof(path), "class/uio/uio%d/maps/map%d/offset", num, i);
		hpfn_read_u64(path, &offset);
		memset(r, 0, sizeof(*r));
		r->index = i;
		r->size = size;
		r->phys = addr - offset;
		r->flags = HUGEPFN_RGN_MAPPABLE;
		dev->map_offset[i] = (uint64_t)i * page;
		dev->nr_regions++;
	}
	if (!dev->nr_regions)
		return hpfn_err(dev, -ENODEV, "%s has no memory maps", dev->node);
	return 0;
}

static void uio_close(struct hugepfn_dev *dev)
{
	if (dev->fd >= 0)
		close(dev->fd);
	dev->fd = -1;
}

static int uio_map_target(struct hugepfn_dev *dev, unsigned int region, unsigned int flags,
			  int *fd, uint64_t *offset)
{
	int wc = !!(flags & HUGEPFN_MAP_WC);

	if (wc)
		return hpfn_err(dev, -EOPNOTSUPP, "UIO maps cannot be mapped write-combining");
	*fd = dev->fd;
	*offset = dev->map_offset[region];
	return 0;
}

const struct hpfn_backend_ops hpfn_backend_uio = {
	.kind = HUGEPFN_BACKEND_UIO,
	.open = uio_open,
	.close = uio_close,
	.map_target = uio_map_target,
};
