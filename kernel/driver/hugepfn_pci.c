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
 * writes all memory. Only the node's one opener can, and nobody else opens
 * it while it is on: bus mastering is the whole device's, so anyone mapping
 * its BARs could program the DMA. The last close after a use (a writable
 * mapping, bus mastering) and the unbind turn it off again and reset the
 * device where it can be, so no DMA outlives its user; looking at the
 * device resets nothing.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/security.h>
#include <linux/slab.h>

#include "hugepfn_private.h"

static void hugepfn_pci_quiesce_work(struct work_struct *work);

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
		r->flags = HUGEPFN_REGION_MAPPABLE | hugepfn_bar_fill_flag();
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
	hdev->uio_personality = uio;	/* before the node exists: see hugepfn_may_master() */
	INIT_WORK(&hdev->quiesce, hugepfn_pci_quiesce_work);
	pci_clear_master(pdev);		/* a former driver may have left it on */
	/* what every reset of ours restores, as vfio-pci keeps it */
	pci_save_state(pdev);
	hdev->pci_state = pci_store_saved_state(pdev);
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
	kfree(hdev->pci_state);
	pci_release_selected_regions(pdev, mem_bars);
err_disable:
	pci_clear_master(pdev);
	pci_disable_device(pdev);
err_put:
	put_device(&hdev->dev);
	return ret;
}

/* Restore the configuration stored at probe (the device lock held). */
static void hugepfn_pci_restore(struct hugepfn_dev *hdev, struct pci_dev *pdev)
{
	if (hdev->pci_state && !pci_load_saved_state(pdev, hdev->pci_state))
		pci_restore_state(pdev);
}

/*
 * Stop the device's DMA and reset it where it can be, its configuration
 * restored as probe stored it (bus mastering off); the device lock held.
 * Returns false when a reset the device has failed.
 */
static bool hugepfn_pci_quiesce(struct hugepfn_dev *hdev, struct pci_dev *pdev)
{
	int ret;

	pci_clear_master(pdev);
	ret = __pci_reset_function_locked(pdev);
	if (!ret)
		hugepfn_pci_restore(hdev, pdev);
	else if (ret != -ENOTTY)
		pci_warn(pdev, "reset after use failed: %d\n", ret);
	return !ret || ret == -ENOTTY;
}

/*
 * After the last close: quiesce under the device lock, which orders it
 * with resets (whose restore would bring back a bus-master bit cleared
 * meanwhile) and with unbind. A new open meanwhile keeps the device as it is.
 */
static void hugepfn_pci_quiesce_work(struct work_struct *work)
{
	struct hugepfn_dev *hdev = container_of(work, struct hugepfn_dev, quiesce);
	struct pci_dev *pdev = to_pci_dev(hdev->dev.parent);

	pci_dev_lock(pdev);
	mutex_lock(&hdev->open_lock);
	/* opens wait for this work, so nobody opened the node meanwhile */
	/* a reset that failed is tried again at the next last close */
	if (hdev->pdev == pdev && hugepfn_pci_quiesce(hdev, pdev))
		WRITE_ONCE(hdev->used, false);
	hdev->quiesce_pending = false;
	mutex_unlock(&hdev->open_lock);
	pci_dev_unlock(pdev);
	pci_dev_put(pdev);
	put_device(&hdev->dev);
}

/*
 * The last file of the node was closed (open_lock held). Nothing to stop
 * when no opener mapped the device writable or turned bus mastering on
 * since the last quiesce: looking at it (region info, queries, read-only
 * mappings) must not reset it. With the UIO personality, UIO users (who
 * are no opens of the node) may still map the device: no reset under
 * them; they cannot have bus mastering on.
 */
void hugepfn_pci_last_close(struct hugepfn_dev *hdev)
{
	hdev->bus_master = false;
	if (!hdev->pdev || hdev->uio_personality || !READ_ONCE(hdev->used))
		return;
	/* the work holds the node and the PCI device (an unbind unlinks them) */
	get_device(&hdev->dev);
	pci_dev_get(hdev->pdev);
	if (queue_work(hugepfn_wq, &hdev->quiesce)) {
		hdev->quiesce_pending = true;
	} else {
		pci_dev_put(hdev->pdev);
		put_device(&hdev->dev);
	}
}

static void hugepfn_pci_remove(struct pci_dev *pdev)
{
	struct hugepfn_dev *hdev = pci_get_drvdata(pdev);
	int mem_bars = hdev->claimed_bars;

	/* DMA stops first: nothing a revocation waits for may delay it */
	mutex_lock(&hdev->open_lock);
	hdev->pdev = NULL;	/* no quiesce work or ioctl touches it from now */
	hdev->bus_master = false;
	pci_clear_master(pdev);
	mutex_unlock(&hdev->open_lock);
	hugepfn_uio_unregister(hdev);
	/* Revoke every mapping before the BARs go back to the PCI core. */
	get_device(&hdev->dev);
	hugepfn_dev_remove(hdev);
	hugepfn_pci_quiesce(hdev, pdev);
	kfree(hdev->pci_state);
	hdev->pci_state = NULL;
	put_device(&hdev->dev);
	pci_release_selected_regions(pdev, mem_bars);
	pci_disable_device(pdev);
}

/* Whether @file may turn bus mastering on: see the top of this file. */
static int hugepfn_may_master(struct hugepfn_dev *hdev, struct file *file)
{
	if (!file_ns_capable(file, &init_user_ns, CAP_SYS_RAWIO) ||
	    !capable(CAP_SYS_RAWIO))
		return -EPERM;	/* both the opener and the caller */
	if (hdev->open_count != 1 || hdev->uio_personality)
		return -EBUSY;	/* others could program the DMA */
	return security_locked_down(LOCKDOWN_PCI_ACCESS);
}

/* Set or clear bus mastering under the device lock, ordered with resets. */
static long hugepfn_pci_set_master(struct hugepfn_dev *hdev, struct file *file,
				   struct pci_dev *pdev, bool enable)
{
	long ret = 0;

	pci_dev_lock(pdev);
	mutex_lock(&hdev->open_lock);
	if (hdev->pdev != pdev)
		ret = -ENODEV;
	else if (enable)
		ret = hugepfn_may_master(hdev, file);
	if (!ret) {
		hdev->bus_master = enable;
		if (enable) {
			WRITE_ONCE(hdev->used, true);
			pci_set_master(pdev);
		} else {
			pci_clear_master(pdev);
		}
	}
	mutex_unlock(&hdev->open_lock);
	pci_dev_unlock(pdev);
	return ret;
}

/*
 * HUGEPFN_BUS_MASTER. Turning it on needs CAP_SYS_RAWIO (in the opener and
 * the caller), a node opened for writing and by nobody else, no UIO
 * personality and no lockdown; while it is on, other opens get -EBUSY.
 * Turning it off needs only the write open.
 */
long hugepfn_pci_bus_master(struct hugepfn_dev *hdev, struct file *file,
			    void __user *uarg)
{
	size_t minsz = offsetofend(struct hugepfn_bus_master, flags);
	struct hugepfn_bus_master bm;
	struct pci_dev *pdev;
	long ret;

	ret = hugepfn_copy_arg(&bm, sizeof(bm), minsz, uarg);
	if (ret)
		return ret;
	if (bm.flags & ~HUGEPFN_BUS_MASTER_ENABLE)
		return -EINVAL;
	if (!(file->f_mode & FMODE_WRITE))
		return -EBADF;
	mutex_lock(&hdev->open_lock);
	pdev = hdev->pdev ? pci_dev_get(hdev->pdev) : NULL;
	mutex_unlock(&hdev->open_lock);
	if (!pdev)
		return -ENODEV;
	ret = hugepfn_pci_set_master(hdev, file, pdev,
				     bm.flags & HUGEPFN_BUS_MASTER_ENABLE);
	pci_dev_put(pdev);
	return ret;
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

/*
 * A frozen channel needs the reset (and the configuration restored in
 * slot_reset) before the BARs decode again; mappings stay refused until
 * resume.
 */
static pci_ers_result_t hugepfn_pci_error_detected(struct pci_dev *pdev,
						   pci_channel_state_t state)
{
	hugepfn_revoke(pci_get_drvdata(pdev), false);
	if (state == pci_channel_io_perm_failure)
		return PCI_ERS_RESULT_DISCONNECT;
	if (state == pci_channel_io_frozen)
		return PCI_ERS_RESULT_NEED_RESET;
	return PCI_ERS_RESULT_CAN_RECOVER;
}

static pci_ers_result_t hugepfn_pci_slot_reset(struct pci_dev *pdev)
{
	struct hugepfn_dev *hdev = pci_get_drvdata(pdev);

	hugepfn_pci_restore(hdev, pdev);
	mutex_lock(&hdev->open_lock);
	hdev->bus_master = false;	/* the stored state has it off */
	mutex_unlock(&hdev->open_lock);
	return PCI_ERS_RESULT_RECOVERED;
}

static void hugepfn_pci_error_resume(struct pci_dev *pdev)
{
	hugepfn_unblock(pci_get_drvdata(pdev));
}

static const struct pci_error_handlers hugepfn_pci_err_handlers = {
	.error_detected = hugepfn_pci_error_detected,
	.slot_reset = hugepfn_pci_slot_reset,
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
