// SPDX-License-Identifier: GPL-2.0
/*
 * UIO personality (uio=1): the bound PCI device is also registered with
 * the UIO framework, each mappable memory BAR as a UIO map, so existing
 * UIO users find it under /sys/class/uio and map it through /dev/uioN.
 *
 * Those mappings go through the driver's own mmap (uio_info.mmap, or
 * uio_info.mmap_prepare since 7.1) and are moved to a file of the node's
 * address space, so they follow the node's rules (MAP_SHARED only, no
 * exec, huge leaves) and revocation zaps them with the node's own: UIO
 * itself never zaps a mapping.
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

static void hugepfn_uio_set_ops(struct uio_info *info)
{
	info->mmap = hugepfn_uio_mmap;
}

static void hugepfn_uio_put_file(struct hugepfn_dev *hdev) { }

#else

/*
 * Since 7.1 the hook sees no VMA, only its description: the node's file
 * that UIO maps are moved to is made at the first open of the UIO device
 * and dropped at the last release (or at unregistration, after which UIO
 * calls no release), so that it exists whenever a map can be made. UIO
 * calls open, release and mmap_prepare under its info_lock, which guards
 * @uio_file and @uio_opens. The file carries the first opener's
 * credentials for every later opener's maps, as a file passed over a
 * socket would; the device is root's only by default.
 */
static int hugepfn_uio_open(struct uio_info *info, struct inode *inode)
{
	struct hugepfn_dev *hdev = info->priv;
	struct file *file;

	/* the file pins the module: not while its init may still fail */
	if (!hugepfn_is_ready())
		return -EAGAIN;
	if (!hdev->uio_opens) {
		file = hugepfn_dev_file(hdev);
		if (IS_ERR(file))
			return PTR_ERR(file);
		hdev->uio_file = file;
	}
	hdev->uio_opens++;
	return 0;
}

static void hugepfn_uio_put_file(struct hugepfn_dev *hdev)
{
	if (hdev->uio_file)
		fput(hdev->uio_file);
	hdev->uio_file = NULL;
	hdev->uio_opens = 0;
}

static int hugepfn_uio_release(struct uio_info *info, struct inode *inode)
{
	struct hugepfn_dev *hdev = info->priv;

	if (!--hdev->uio_opens)
		hugepfn_uio_put_file(hdev);
	return 0;
}

/*
 * UIO map @desc->pgoff of @info: map the region behind it as the node,
 * through the node's file. uio_mmap() applies the description with
 * __compat_vma_mmap(), whose vma_set_file() takes the VMA's reference to
 * that file (and with it the module's, for as long as the mapping lives).
 */
static int hugepfn_uio_mmap_prepare(struct uio_info *info,
				    struct vm_area_desc *desc)
{
	struct hugepfn_dev *hdev = info->priv;
	unsigned long map = desc->pgoff;

	if (!hugepfn_is_ready())
		return -EAGAIN;		/* see hugepfn_is_ready() */
	if (map >= MAX_UIO_MAPS || !info->mem[map].size)
		return -EINVAL;
	if (WARN_ON_ONCE(!hdev->uio_file))
		return -EINVAL;		/* an open of the UIO device made it */
	desc->pgoff = HUGEPFN_REGION_OFFSET(hdev->uio_region[map]) >> PAGE_SHIFT;
	desc->vm_file = hdev->uio_file;
	return hugepfn_mmap_prepare_region(hdev, desc);
}

static void hugepfn_uio_set_ops(struct uio_info *info)
{
	info->mmap_prepare = hugepfn_uio_mmap_prepare;
	info->open = hugepfn_uio_open;
	info->release = hugepfn_uio_release;
}

#endif

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
	hugepfn_uio_set_ops(info);
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
	hugepfn_uio_put_file(hdev);	/* UIO calls nothing of ours now */
	symbol_put(__uio_register_device);
	kfree(hdev->uio);
	hdev->uio = NULL;
}
