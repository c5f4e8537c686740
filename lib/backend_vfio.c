// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The VFIO backend, legacy group/container interface: a type1 IOMMU
 * container, or the no-IOMMU mode (/dev/vfio/noiommu-N) where the kernel
 * allows it. Regions come from VFIO_DEVICE_GET_REGION_INFO, physical
 * addresses from sysfs (VFIO does not tell them). vfio-pci maps BARs at
 * fault time, with PMD/PUD leaves where the virtual and physical addresses
 * agree, so the huge-aligned address hugepfn_map() picks is what makes
 * them huge. The cdev/iommufd interface is in backend_vfio_cdev.c; the
 * region table is common to both.
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

/*
 * VFIO_DEVICE_GET_REGION_INFO for region @index, with its capability chain:
 * the fixed part first, then again with the size the kernel asked for.
 * Returns a buffer to free(), or NULL with the error recorded.
 */
static struct vfio_region_info *region_info(struct hugepfn_dev *dev, unsigned int index, int *err)
{
	struct vfio_region_info *ri = calloc(1, sizeof(*ri)), *bigger;
	uint32_t argsz;

	if (!ri) {
		*err = -ENOMEM;
		return NULL;
	}
	*ri = (struct vfio_region_info){ .argsz = sizeof(*ri), .index = index };
	if (ioctl(dev->fd, VFIO_DEVICE_GET_REGION_INFO, ri)) {
		*err = hpfn_err(dev, -errno, "VFIO_DEVICE_GET_REGION_INFO %u: %s", index, strerror(errno));
		free(ri);
		return NULL;
	}
	argsz = ri->argsz;
	if (argsz <= sizeof(*ri))
		return ri;
	/* a capability chain follows; no real one comes near 64 KiB */
	if (argsz > 65536) {
		*err = hpfn_err(dev, -EPROTO, "VFIO region %u: capability chain of %u bytes", index, argsz);
		free(ri);
		return NULL;
	}
	bigger = realloc(ri, argsz);
	if (!bigger) {
		free(ri);
		*err = -ENOMEM;
		return NULL;
	}
	ri = bigger;
	memset(ri, 0, argsz);
	*ri = (struct vfio_region_info){ .argsz = argsz, .index = index };
	if (ioctl(dev->fd, VFIO_DEVICE_GET_REGION_INFO, ri)) {
		*err = hpfn_err(dev, -errno, "VFIO_DEVICE_GET_REGION_INFO %u (%u bytes): %s", index, argsz,
				strerror(errno));
		free(ri);
		return NULL;
	}
	if (ri->argsz > argsz) {
		*err = hpfn_err(dev, -EPROTO, "VFIO region %u: capability chain grew from %u to %u bytes",
				index, argsz, ri->argsz);
		free(ri);
		return NULL;
	}
	return ri;
}

int hpfn_vfio_read_regions(struct hugepfn_dev *dev)
{
	struct hugepfn_bar bars[HPFN_MAX_REGIONS];
	char path[HPFN_PATH_MAX], text[1024];
	int nbars, i, err = 0;

	/* Physical addresses for the alignment: sysfs, as VFIO keeps them. */
	memset(bars, 0, sizeof(bars));
	hpfn_sysfs_path(dev->ctx, path, sizeof(path), "bus/pci/devices/%s/resource", dev->bdf);
	nbars = hpfn_read_text(path, text, sizeof(text));
	if (nbars > 0)
		hpfn_parse_resource(text, nbars, bars, HPFN_MAX_REGIONS);
	dev->nr_regions = HPFN_MAX_REGIONS;
	for (i = 0; i < HPFN_MAX_REGIONS; i++) {
		struct hugepfn_region *r = &dev->regions[i];
		struct vfio_region_info *ri;
		uint32_t flags;
		int sparse, nr;

		ri = region_info(dev, VFIO_PCI_BAR0_REGION_INDEX + i, &err);
		if (!ri)
			return err;
		memset(r, 0, sizeof(*r));
		r->index = i;
		r->size = ri->size;
		r->phys = bars[i].phys;
		dev->map_offset[i] = ri->offset;
		if (bars[i].flags & HUGEPFN_BAR_IO)
			r->flags |= HUGEPFN_RGN_IO;
		if (bars[i].flags & HUGEPFN_BAR_MEM64)
			r->flags |= HUGEPFN_RGN_MEM64;
		if (bars[i].flags & HUGEPFN_BAR_PREFETCH)
			r->flags |= HUGEPFN_RGN_PREFETCH;
		flags = ri->flags;
		nr = hpfn_parse_vfio_region_caps(ri, ri->argsz, ri->size, dev->areas[i],
						 HPFN_MAX_AREAS, &sparse);
		free(ri);
		if (nr < 0)
			return hpfn_err(dev, nr, "VFIO region %d of %s: malformed capability chain", i,
					dev->bdf);
		if (!(flags & VFIO_REGION_INFO_FLAG_MMAP))
			continue;
		r->flags |= HUGEPFN_RGN_MAPPABLE | HUGEPFN_RGN_FAULT;	/* vfio-pci's huge_fault */
		/*
		 * A BAR holding an MSI-X table on an older kernel, or a device
		 * whose driver (nvgrace-gpu, mdev) exposes only parts: the
		 * areas are what may be mapped. More than HPFN_MAX_AREAS is
		 * unheard of; the first ones are kept.
		 */
		if (sparse) {
			r->flags |= HUGEPFN_RGN_SPARSE;
			dev->nr_areas[i] = nr < HPFN_MAX_AREAS ? (unsigned int)nr : HPFN_MAX_AREAS;
		}
	}
	return 0;
}

static int vfio_open(struct hugepfn_dev *dev, const char *bdf)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	char group[HPFN_PATH_MAX], path[HPFN_PATH_MAX];
	int noiommu, iommu;

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
				errno == EBUSY ? " (another process holds the group, or the device is open through its VFIO cdev)" : "");
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

	return hpfn_vfio_read_regions(dev);
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

int hpfn_vfio_map_target(struct hugepfn_dev *dev, unsigned int region, unsigned int flags,
			 int *fd, uint64_t *offset)
{
	int wc = !!(flags & HUGEPFN_MAP_WC);

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
	.map_target = hpfn_vfio_map_target,
};
