// SPDX-License-Identifier: GPL-2.0
/*
 * The PCI side of hugepfn: a driver with no ID table, so it binds only to
 * devices an administrator hands it through driver_override or new_id, as
 * vfio-pci does. Binding enables the device's memory decoding, claims its
 * memory BARs and creates /dev/hugepfn/pci-DDDD:BB:DD.F with one region
 * per BAR.
 *
 * DMA: bus mastering stays off unless an opener with CAP_SYS_RAWIO turns
 * it on (HUGEPFN_BUS_MASTER), as VFIO's no-IOMMU mode demands that
 * capability: without an IOMMU a device that masters the bus reads and
 * writes all memory. The last close and the unbind turn it off again and
 * reset the device where it can be, so no DMA outlives its user.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/module.h>
#include <linux/pci.h>

#include "hugepfn_private.h"

static bool uio;
module_param(uio, bool, 0444);
MODULE_PARM_DESC(uio, "also register every bound PCI device with UIO (its memory BARs as UIO_MEM_PHYS maps)");

static int hugepfn_pci_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct hugepfn_dev *hdev;
	char node[80];
	int bar, mem_bars = 0, ret;

	/* Only plain endpoints: bridges forward other devices' windows. */
	if (pdev->hdr_type != PCI_HEADER_TYPE_NORMAL)
		return -ENODEV;

	snprintf(node, sizeof(node), "pci-%s", pci_name(pdev));
	hdev = hugepfn_dev_create(&pdev->dev, HUGEPFN_KIND_PCI, pci_name(pdev), node);
	if (IS_ERR(hdev))
		return PTR_ERR(hdev);

	ret = pci_enable_device_mem(pdev);
	if (ret)
		goto err_put;
	pci_save_state(pdev);		/* restored after the reset at unbind */
	for (bar = 0; bar < PCI_STD_NUM_BARS; bar++) {
		struct hugepfn_region *r = &hdev->regions[bar];
		unsigned long flags = pci_resource_flags(pdev, bar);

		r->size = pci_resource_len(pdev, bar);
		r->phys = pci_resource_start(pdev, bar);
		if (!r->size)
			continue;
		if (flags & IORESOURCE_IO) {
			r->flags = HUGEPFN_REGION_IO;	/* reported, not mapped */
			continue;
		}
		if (!(flags & IORESOURCE_MEM))
			continue;
		r->flags = HUGEPFN_REGION_MAPPABLE | hugepfn_fault_filled_flag(false);
		if (flags & IORESOURCE_MEM_64)
			r->flags |= HUGEPFN_REGION_MEM64;
		if (flags & IORESOURCE_PREFETCH) {
			r->flags |= HUGEPFN_REGION_PREFETCHABLE;
			if (arch_can_pci_mmap_wc())
				r->flags |= HUGEPFN_REGION_WC;
		}
		/* A BAR smaller than a page cannot be mapped on its own. */
		if (!PAGE_ALIGNED(r->phys) || r->size < PAGE_SIZE)
			r->flags &= ~(HUGEPFN_REGION_MAPPABLE | HUGEPFN_REGION_WC |
				      HUGEPFN_REGION_FAULT_FILLED);
		mem_bars |= BIT(bar);
	}
	hdev->nr_regions = PCI_STD_NUM_BARS;

	/* Claim the memory BARs: nothing else may drive them meanwhile. */
	ret = pci_request_selected_regions(pdev, mem_bars, "hugepfn");
	if (ret) {
		pci_err(pdev, "memory BARs are claimed by another driver (see /proc/iomem)\n");
		goto err_disable;
	}
	hdev->claimed_bars = mem_bars;
	hdev->pdev = pdev;
	pci_clear_master(pdev);		/* a former driver may have left it on */
	pci_set_drvdata(pdev, hdev);

	ret = hugepfn_dev_add(hdev);
	if (ret)
		goto err_release;
	if (uio) {
		ret = hugepfn_uio_register(hdev, &pdev->dev);
		if (ret)
			pci_warn(pdev, "no UIO personality: %d\n", ret);
	}
	pci_info(pdev, "/dev/hugepfn/%s\n", node);
	return 0;

err_release:
	pci_release_selected_regions(pdev, mem_bars);
err_disable:
	pci_clear_master(pdev);
	pci_disable_device(pdev);
err_put:
	put_device(&hdev->dev);
	return ret;
}

/* Stop the device's DMA and reset it where it can be; device lock held. */
static void hugepfn_pci_quiesce(struct pci_dev *pdev)
{
	int ret;

	pci_clear_master(pdev);
	ret = __pci_reset_function_locked(pdev);
	if (!ret)
		pci_restore_state(pdev);
	else if (ret != -ENOTTY)
		pci_warn(pdev, "reset after use failed: %d\n", ret);
}

static void hugepfn_pci_remove(struct pci_dev *pdev)
{
	struct hugepfn_dev *hdev = pci_get_drvdata(pdev);
	int mem_bars = hdev->claimed_bars;

	hugepfn_uio_unregister(hdev);
	mutex_lock(&hdev->open_lock);
	hdev->pdev = NULL;	/* the last close leaves the device alone */
	mutex_unlock(&hdev->open_lock);
	/* Revoke every mapping before the BARs go back to the PCI core. */
	hugepfn_dev_remove(hdev);
	hugepfn_pci_quiesce(pdev);
	pci_release_selected_regions(pdev, mem_bars);
	pci_disable_device(pdev);
}

/*
 * HUGEPFN_BUS_MASTER. Turning it on needs CAP_SYS_RAWIO and a node opened
 * for writing; turning it off only the latter.
 */
long hugepfn_pci_bus_master(struct hugepfn_dev *hdev, struct file *file,
			    void __user *uarg)
{
	size_t minsz = offsetofend(struct hugepfn_bus_master, flags);
	struct hugepfn_bus_master bm;
	long ret;

	ret = hugepfn_copy_arg(&bm, sizeof(bm), minsz, uarg);
	if (ret)
		return ret;
	if (bm.flags & ~HUGEPFN_BUS_MASTER_ENABLE)
		return -EINVAL;
	if (!(file->f_mode & FMODE_WRITE))
		return -EBADF;
	if ((bm.flags & HUGEPFN_BUS_MASTER_ENABLE) && !capable(CAP_SYS_RAWIO))
		return -EPERM;
	mutex_lock(&hdev->open_lock);
	ret = -ENODEV;
	if (hdev->pdev) {
		if (bm.flags & HUGEPFN_BUS_MASTER_ENABLE)
			pci_set_master(hdev->pdev);
		else
			pci_clear_master(hdev->pdev);
		ret = 0;
	}
	mutex_unlock(&hdev->open_lock);
	return ret;
}

/*
 * The last file of the node was closed (open_lock held): no mapping is
 * left, so stop DMA and reset the device for the next user, as vfio-pci
 * does. Only when the device lock is free: an unbind holding it quiesces
 * the device itself.
 */
void hugepfn_pci_last_close(struct hugepfn_dev *hdev)
{
	struct pci_dev *pdev = hdev->pdev;
	int ret;

	if (!pdev)
		return;
	pci_clear_master(pdev);
	ret = pci_try_reset_function(pdev);
	if (ret && ret != -ENOTTY && ret != -EAGAIN)
		pci_warn(pdev, "reset after the last close failed: %d\n", ret);
}

/*
 * A reset (sysfs "reset", another driver's FLR) or AER recovery: its
 * memory may not decode meanwhile and its BARs may move. Revoke every
 * mapping (later accesses get SIGBUS until the user maps again) and refuse
 * new ones until it is over.
 */
static void hugepfn_pci_reset_prepare(struct pci_dev *pdev)
{
	hugepfn_revoke(pci_get_drvdata(pdev), false);
}

static void hugepfn_pci_reset_done(struct pci_dev *pdev)
{
	hugepfn_unblock(pci_get_drvdata(pdev));
}

static pci_ers_result_t hugepfn_pci_error_detected(struct pci_dev *pdev,
						   pci_channel_state_t state)
{
	hugepfn_revoke(pci_get_drvdata(pdev), false);
	if (state == pci_channel_io_perm_failure)
		return PCI_ERS_RESULT_DISCONNECT;
	return PCI_ERS_RESULT_CAN_RECOVER;
}

static void hugepfn_pci_error_resume(struct pci_dev *pdev)
{
	hugepfn_unblock(pci_get_drvdata(pdev));
}

static const struct pci_error_handlers hugepfn_pci_err_handlers = {
	.error_detected = hugepfn_pci_error_detected,
	.resume = hugepfn_pci_error_resume,
	.reset_prepare = hugepfn_pci_reset_prepare,
	.reset_done = hugepfn_pci_reset_done,
};

static struct pci_driver hugepfn_pci_driver = {
	.name = "hugepfn",
	.id_table = NULL,	/* driver_override or new_id only */
	.probe = hugepfn_pci_probe,
	.remove = hugepfn_pci_remove,
	.err_handler = &hugepfn_pci_err_handlers,
};

int hugepfn_pci_init(void)
{
	return pci_register_driver(&hugepfn_pci_driver);
}

void hugepfn_pci_exit(void)
{
	pci_unregister_driver(&hugepfn_pci_driver);
}
