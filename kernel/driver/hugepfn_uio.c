// SPDX-License-Identifier: GPL-2.0
/*
 * UIO personality (uio=1): the bound PCI device is also registered with
 * the UIO framework, each mappable memory BAR as a UIO map, so existing
 * UIO users find it under /sys/class/uio and map it through /dev/uioN.
 *
 * Those mappings go through the driver's own mmap (uio_info.mmap) and are
 * moved to a file of the node's address space, so they follow the node's
 * rules (MAP_SHARED only, no exec, huge leaves) and revocation zaps them
 * with the node's own: UIO itself never zaps a mapping.
 *
 * The UIO core is looked up only when uio=1 asks for it (symbol_get), so
 * hugepfn.ko loads without uio.ko otherwise.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/file.h>
#include <linux/kmod.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/uio_driver.h>

#include "hugepfn_private.h"

#if HUGEPFN_UIO_MMAP

/*
 * UIO map @vma->vm_pgoff of @info: map the region behind it as the node,
 * through a file of the node's own that the VMA then holds (and with it
 * the module, for as long as the mapping exists).
 */
static int hugepfn_uio_mmap(struct uio_info *info, struct vm_area_struct *vma)
{
	struct hugepfn_dev *hdev = info->priv;
	unsigned long map = vma->vm_pgoff;
	struct file *file;

	if (!hugepfn_is_ready())
		return -EAGAIN;		/* see hugepfn_is_ready() */
	if (map >= MAX_UIO_MAPS || !info->mem[map].size)
		return -EINVAL;
	file = hugepfn_dev_file(hdev);
	if (IS_ERR(file))
		return PTR_ERR(file);
	vma->vm_pgoff = HUGEPFN_REGION_OFFSET(hdev->uio_region[map]) >> PAGE_SHIFT;
	vma_set_file(vma, file);
	fput(file);		/* the VMA holds it now */
	return hugepfn_mmap_region(hdev, vma);
}

typedef int (*hugepfn_uio_register_fn)(struct module *owner,
				       struct device *parent,
				       struct uio_info *info);
typedef void (*hugepfn_uio_unregister_fn)(struct uio_info *info);

static hugepfn_uio_register_fn hugepfn_uio_core_get(void)
{
	hugepfn_uio_register_fn reg = symbol_get(__uio_register_device);

	if (!reg && !request_module("uio"))
		reg = symbol_get(__uio_register_device);
	return reg;
}

static struct uio_info *hugepfn_uio_info(struct hugepfn_dev *hdev)
{
	struct uio_info *info;
	unsigned int i, n = 0;

	info = kzalloc(sizeof(*info), GFP_KERNEL);
	if (!info)
		return NULL;
	info->name = "hugepfn";
	info->version = "2";
	info->irq = UIO_IRQ_NONE;
	info->mmap = hugepfn_uio_mmap;
	info->priv = hdev;
	for (i = 0; i < hdev->nr_regions && n < MAX_UIO_MAPS; i++) {
		struct hugepfn_region *r = &hdev->regions[i];

		if (!(r->flags & HUGEPFN_REGION_MAPPABLE))
			continue;
		info->mem[n].name = "BAR";
		info->mem[n].addr = r->phys;
		info->mem[n].size = r->size;
		info->mem[n].memtype = UIO_MEM_PHYS;
		hdev->uio_region[n] = i;
		n++;
	}
	return info;
}

int hugepfn_uio_register(struct hugepfn_dev *hdev, struct device *parent)
{
	hugepfn_uio_register_fn reg;
	struct uio_info *info;
	int ret;

	reg = hugepfn_uio_core_get();
	if (!reg)
		return -ENOENT;		/* no UIO core to be loaded */
	ret = -ENOMEM;
	info = hugepfn_uio_info(hdev);
	if (!info)
		goto err_put;
	ret = reg(THIS_MODULE, parent, info);
	if (ret)
		goto err_free;
	hdev->uio = info;
	return 0;

err_free:
	kfree(info);
err_put:
	symbol_put(__uio_register_device);
	return ret;
}

void hugepfn_uio_unregister(struct hugepfn_dev *hdev)
{
	hugepfn_uio_unregister_fn unreg;

	if (!hdev->uio)
		return;
	/* the UIO core cannot go away: the registration holds it */
	unreg = symbol_get(uio_unregister_device);
	unreg(hdev->uio);
	symbol_put(uio_unregister_device);
	symbol_put(__uio_register_device);
	kfree(hdev->uio);
	hdev->uio = NULL;
}
#endif
