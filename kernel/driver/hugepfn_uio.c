// SPDX-License-Identifier: GPL-2.0
/*
 * UIO personality: the bound PCI device is also registered with the UIO
 * framework, each mappable memory BAR as a UIO_MEM_PHYS map, so existing
 * UIO users find it under /sys/class/uio and map it through /dev/uioN.
 * UIO maps with remap_pfn_range() at mmap time too, so on a kernel with
 * PMD remap support those mappings come out huge as well.
 */
#include <linux/slab.h>
#include <linux/uio_driver.h>

#include "hugepfn_private.h"

int hugepfn_uio_register(struct hugepfn_dev *hdev, struct device *parent)
{
	struct uio_info *info;
	unsigned int i, n = 0;
	int ret;

	info = kzalloc(sizeof(*info), GFP_KERNEL);
	if (!info)
		return -ENOMEM;
	info->name = "hugepfn";
	info->version = "1";
	info->irq = UIO_IRQ_NONE;
	for (i = 0; i < hdev->nr_regions && n < MAX_UIO_MAPS; i++) {
		struct hugepfn_region *r = &hdev->regions[i];

		if (!(r->flags & HUGEPFN_REGION_MAPPABLE))
			continue;
		info->mem[n].name = "BAR";
		info->mem[n].addr = r->phys;
		info->mem[n].size = r->size;
		info->mem[n].memtype = UIO_MEM_PHYS;
		n++;
	}
	ret = uio_register_device(parent, info);
	if (ret) {
		kfree(info);
		return ret;
	}
	hdev->uio = info;
	return 0;
}

void hugepfn_uio_unregister(struct hugepfn_dev *hdev)
{
	if (!hdev->uio)
		return;
	uio_unregister_device(hdev->uio);
	kfree(hdev->uio);
	hdev->uio = NULL;
}
