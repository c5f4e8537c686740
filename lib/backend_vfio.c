// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The VFIO backend, legacy group/container interface: a type1 IOMMU
 * container, or the no-IOMMU mode (/dev/vfio/noiommu-N) where the kernel
 * allows it. Regions come from VFIO_DEVICE_GET_REGION_INFO, physical
 * addresses from sysfs (VFIO does not tell them). vfio-pci maps BARs at
 * fault time, with PMD/PUD leaves where the virtual and physical addresses
 * agree, so the huge-aligned address hugepfn_map() picks is what makes
 * them huge.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/vfio.h>

#include "hugepfn_internal.h"

static int group_of(struct hugepfn_dev *dev, const char *bdf, char *node, size_t size)
{
	char path[HPFN_PATH_MAX], link[HPFN_PATH_MAX];
	const char *base;
	ssize_t n;

	hpfn_sysfs_path(dev->ctx, path, sizeof(path), "bus/pci/devices/%s/iommu_group", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return hpfn_err(dev, -ENODEV, "%s has no IOMMU group (%s); for no-IOMMU mode: echo 1 > /sys/module/vfio/parameters/enable_unsafe_noiommu_mode before binding vfio-pci",
				bdf, path);
	link[n] = '\0';
	base = strrchr(link, '/');
	base = base ? base + 1 : link;
	hpfn_dev_path(dev->ctx, node, size, "vfio/%s", base);
	if (access(node, F_OK) == 0)
		return 0;
	hpfn_dev_path(dev->ctx, node, size, "vfio/noiommu-%s", base);
	if (access(node, F_OK) == 0)
		return 0;
	return hpfn_err(dev, -ENODEV, "no /dev/vfio node for IOMMU group %s of %s: is it bound to vfio-pci?",
			base, bdf);
}

static int vfio_open(struct hugepfn_dev *dev, const char *bdf)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	struct hugepfn_bar bars[HPFN_MAX_REGIONS];
	char group[HPFN_PATH_MAX], path[HPFN_PATH_MAX], text[1024];
	int noiommu, nbars, i, iommu;

	snprintf(dev->bdf, sizeof(dev->bdf), "%s", bdf);
	if (group_of(dev, bdf, group, sizeof(group)))
		return -ENODEV;
	noiommu = strstr(group, "noiommu-") != NULL;
	hpfn_dev_path(dev->ctx, path, sizeof(path), "vfio/vfio");
	dev->vfio_container = open(path, O_RDWR | O_CLOEXEC);
	if (dev->vfio_container < 0)
		return hpfn_err(dev, -errno, "open %s: %s", path, strerror(errno));
	dev->vfio_group = open(group, O_RDWR | O_CLOEXEC);
	if (dev->vfio_group < 0)
		return hpfn_err(dev, -errno, "open %s: %s%s", group, strerror(errno),
				errno == EBUSY ? " (another process holds the group)" : "");
	if (ioctl(dev->vfio_group, VFIO_GROUP_GET_STATUS, &status))
		return hpfn_err(dev, -errno, "VFIO_GROUP_GET_STATUS on %s: %s", group, strerror(errno));
	if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE))
		return hpfn_err(dev, -EBUSY, "IOMMU group %s is not viable: bind every device in it to vfio-pci",
				group);
	if (ioctl(dev->vfio_group, VFIO_GROUP_SET_CONTAINER, &dev->vfio_container))
		return hpfn_err(dev, -errno, "VFIO_GROUP_SET_CONTAINER: %s", strerror(errno));
	iommu = noiommu ? VFIO_NOIOMMU_IOMMU : VFIO_TYPE1v2_IOMMU;
	if (ioctl(dev->vfio_container, VFIO_SET_IOMMU, iommu))
		return hpfn_err(dev, -errno, "VFIO_SET_IOMMU %s: %s", noiommu ? "no-IOMMU" : "type1v2",
				strerror(errno));
	dev->fd = ioctl(dev->vfio_group, VFIO_GROUP_GET_DEVICE_FD, bdf);
	if (dev->fd < 0)
		return hpfn_err(dev, -errno, "VFIO_GROUP_GET_DEVICE_FD %s: %s", bdf, strerror(errno));

	/* Physical addresses for the alignment: sysfs, as VFIO keeps them. */
	memset(bars, 0, sizeof(bars));
	hpfn_sysfs_path(dev->ctx, path, sizeof(path), "bus/pci/devices/%s/resource", bdf);
	nbars = hpfn_read_text(path, text, sizeof(text));
	if (nbars > 0)
		hpfn_parse_resource(text, nbars, bars, HPFN_MAX_REGIONS);
	dev->nr_regions = HPFN_MAX_REGIONS;
	for (i = 0; i < HPFN_MAX_REGIONS; i++) {
		struct vfio_region_info ri = { .argsz = sizeof(ri), .index = VFIO_PCI_BAR0_REGION_INDEX + i };
		struct hugepfn_region *r = &dev->regions[i];

		if (ioctl(dev->fd, VFIO_DEVICE_GET_REGION_INFO, &ri))
			return hpfn_err(dev, -errno, "VFIO_DEVICE_GET_REGION_INFO %d: %s", i, strerror(errno));
		memset(r, 0, sizeof(*r));
		r->index = i;
		r->size = ri.size;
		r->phys = bars[i].phys;
		dev->map_offset[i] = ri.offset;
		if (bars[i].flags & HUGEPFN_BAR_IO)
			r->flags |= HUGEPFN_RGN_IO;
		if (bars[i].flags & HUGEPFN_BAR_MEM64)
			r->flags |= HUGEPFN_RGN_MEM64;
		if (bars[i].flags & HUGEPFN_BAR_PREFETCH)
			r->flags |= HUGEPFN_RGN_PREFETCH;
		/*
		 * A sparse-mmap capability (ri.flags & VFIO_REGION_INFO_FLAG_CAPS)
		 * would limit the mappable parts; it only matters for BARs with
		 * MSI-X tables, which this library maps whole or refuses.
		 */
		if ((ri.flags & VFIO_REGION_INFO_FLAG_MMAP) && !(ri.flags & VFIO_REGION_INFO_FLAG_CAPS))
			r->flags |= HUGEPFN_RGN_MAPPABLE;
	}
	return 0;
}

static void vfio_close(struct hugepfn_dev *dev)
{
	if (dev->fd >= 0)
		close(dev->fd);
	if (dev->vfio_group >= 0)
		close(dev->vfio_group);
	if (dev->vfio_container >= 0)
		close(dev->vfio_container);
	dev->fd = dev->vfio_group = dev->vfio_container = -1;
}

static int vfio_map_target(struct hugepfn_dev *dev, unsigned int region, int wc, int *fd,
			   uint64_t *offset)
{
	if (wc)
		return hpfn_err(dev, -EOPNOTSUPP, "vfio-pci does not map write-combining");
	*fd = dev->fd;
	*offset = dev->map_offset[region];
	return 0;
}

const struct hpfn_backend_ops hpfn_backend_vfio = {
	.kind = HUGEPFN_BACKEND_VFIO,
	.open = vfio_open,
	.close = vfio_close,
	.map_target = vfio_map_target,
};
