// SPDX-License-Identifier: GPL-2.0
/*
 * The PCI side of hugepfn: a driver with no ID table, so it binds only to
 * devices an administrator hands it through driver_override or new_id, as
 * vfio-pci does. Binding enables the device, claims its memory BARs and
 * creates /dev/hugepfn/pci-DDDD:BB:DD.F with one region per BAR.
 */
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
		r->flags = HUGEPFN_REGION_MAPPABLE;
		if (flags & IORESOURCE_MEM_64)
			r->flags |= HUGEPFN_REGION_MEM64;
		if (flags & IORESOURCE_PREFETCH) {
			r->flags |= HUGEPFN_REGION_PREFETCHABLE;
			if (arch_can_pci_mmap_wc())
				r->flags |= HUGEPFN_REGION_WC;
		}
		/* A BAR smaller than a page cannot be mapped on its own. */
		if (!PAGE_ALIGNED(r->phys) || r->size < PAGE_SIZE)
			r->flags &= ~(HUGEPFN_REGION_MAPPABLE | HUGEPFN_REGION_WC);
		mem_bars |= BIT(bar);
	}
	hdev->nr_regions = PCI_STD_NUM_BARS;

	/* Claim the memory BARs: nothing else may drive them meanwhile. */
	ret = pci_request_selected_regions(pdev, mem_bars, "hugepfn");
	if (ret) {
		pci_info(pdev, "hugepfn: memory BARs are claimed by another driver\n");
		goto err_disable;
	}
	hdev->claimed_bars = mem_bars;
	pci_set_master(pdev);
	pci_set_drvdata(pdev, hdev);

	ret = hugepfn_dev_add(hdev);
	if (ret)
		goto err_release;
	if (uio) {
		ret = hugepfn_uio_register(hdev, &pdev->dev);
		if (ret)
			pci_warn(pdev, "hugepfn: no UIO personality: %d\n", ret);
	}
	pci_info(pdev, "hugepfn: /dev/hugepfn/%s\n", node);
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

static void hugepfn_pci_remove(struct pci_dev *pdev)
{
	struct hugepfn_dev *hdev = pci_get_drvdata(pdev);
	int mem_bars = hdev->claimed_bars;

	hugepfn_uio_unregister(hdev);
	/* Revoke every mapping before the BARs go back to the PCI core. */
	hugepfn_dev_remove(hdev);
	pci_release_selected_regions(pdev, mem_bars);
	pci_clear_master(pdev);
	pci_disable_device(pdev);
}

static struct pci_driver hugepfn_pci_driver = {
	.name = "hugepfn",
	.id_table = NULL,	/* driver_override or new_id only */
	.probe = hugepfn_pci_probe,
	.remove = hugepfn_pci_remove,
};

int hugepfn_pci_init(void)
{
	return pci_register_driver(&hugepfn_pci_driver);
}

void hugepfn_pci_exit(void)
{
	pci_unregister_driver(&hugepfn_pci_driver);
}
