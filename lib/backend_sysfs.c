// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The sysfs backend: a PCI device's resourceN / resourceN_wc files, for
 * devices no driver holds. Opening only reads; hugepfn_map() turns on the
 * device's memory decoding (its sysfs "enable"), without which the BARs
 * read as all-ones, because mapping is the step that means to use them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hugepfn_internal.h"

static int sysfs_open(struct hugepfn_dev *dev, const char *bdf)
{
	struct hugepfn_bar bars[HPFN_MAX_REGIONS];
	char path[HPFN_PATH_MAX], text[1024];
	int n, i;

	snprintf(dev->bdf, sizeof(dev->bdf), "%s", bdf);
	if (hpfn_sysfs_path(dev->ctx, path, sizeof(path), "bus/pci/devices/%s/resource", bdf))
		return hpfn_err(dev, -ENAMETOOLONG, "path for %s too long", bdf);
	n = hpfn_read_text(path, text, sizeof(text));
	if (n < 0)
		return hpfn_err(dev, n, "read %s: %s", path, strerror(-n));
	n = hpfn_parse_resource(text, n, bars, HPFN_MAX_REGIONS);
	if (n < 0)
		return hpfn_err(dev, -EIO, "%s does not look like a PCI resource file (the kernel's, or a fake tree's, is malformed)", path);
	dev->nr_regions = HPFN_MAX_REGIONS;
	for (i = 0; i < HPFN_MAX_REGIONS; i++) {
		struct hugepfn_region *r = &dev->regions[i];

		memset(r, 0, sizeof(*r));
		r->index = i;
		if (i >= n || !bars[i].size)
			continue;
		r->size = bars[i].size;
		r->phys = bars[i].phys;
		if (bars[i].flags & HUGEPFN_BAR_IO) {
			r->flags = HUGEPFN_RGN_IO;
			continue;
		}
		r->flags = HUGEPFN_RGN_MAPPABLE |
			   (bars[i].flags & HUGEPFN_BAR_MEM64 ? HUGEPFN_RGN_MEM64 : 0);
		if (bars[i].flags & HUGEPFN_BAR_PREFETCH) {
			r->flags |= HUGEPFN_RGN_PREFETCH;
			if (!hpfn_sysfs_path(dev->ctx, path, sizeof(path),
					     "bus/pci/devices/%s/resource%d_wc", bdf, i) &&
			    access(path, F_OK) == 0)
				r->flags |= HUGEPFN_RGN_WC;
		}
		if (r->size < 4096 || (r->phys & 4095))
			r->flags &= ~(HUGEPFN_RGN_MAPPABLE | HUGEPFN_RGN_WC);
	}
	return 0;
}

static void sysfs_close(struct hugepfn_dev *dev)
{
	int i, wc;

	for (i = 0; i < HPFN_MAX_REGIONS; i++)
		for (wc = 0; wc < 2; wc++)
			if (dev->res_fd[i][wc] >= 0) {
				close(dev->res_fd[i][wc]);
				dev->res_fd[i][wc] = -1;
			}
}

static int sysfs_map_target(struct hugepfn_dev *dev, unsigned int region, unsigned int flags,
			    int *fd, uint64_t *offset)
{
	int wc = !!(flags & HUGEPFN_MAP_WC);
	char path[HPFN_PATH_MAX];
	int ret = 0;

	pthread_mutex_lock(&dev->lock);
	if (dev->res_fd[region][wc] < 0) {
		hpfn_sysfs_path(dev->ctx, path, sizeof(path), "bus/pci/devices/%s/resource%u%s",
				dev->bdf, region, wc ? "_wc" : "");
		dev->res_fd[region][wc] = open(path, O_RDWR | O_CLOEXEC);
		if (dev->res_fd[region][wc] < 0) {
			ret = -errno;
			hpfn_err(dev, ret, "open %s: %s%s", path, strerror(-ret),
				 ret == -EACCES ? " (run as root)" : "");
		}
	}
	*fd = dev->res_fd[region][wc];
	pthread_mutex_unlock(&dev->lock);
	*offset = 0;
	if (ret || (flags & HPFN_MAP_NO_ENABLE))
		return ret;
	return hpfn_pci_enable(dev->ctx, &dev->errors, dev->bdf);
}

const struct hpfn_backend_ops hpfn_backend_sysfs = {
	.kind = HUGEPFN_BACKEND_SYSFS,
	.open = sysfs_open,
	.close = sysfs_close,
	.map_target = sysfs_map_target,
};
