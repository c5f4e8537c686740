// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The VFIO backend, device cdev interface (Linux 6.6+): open
 * /dev/vfio/devices/vfioN, bind it to an iommufd (/dev/iommu), then use the
 * same region ioctls and mmap as the group interface. No IOAS is attached:
 * the device's DMA stays blocked, which is right for a library that only
 * maps BARs; a caller who wants DMA sets that up on its own iommufd.
 *
 * Linux 6.12 offers the cdev only behind a real IOMMU (no-IOMMU devices
 * must use the group interface), and the ioctls exist only in uAPI headers
 * from 6.6 on; built against older headers this backend reports
 * -EOPNOTSUPP instead.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/vfio.h>

#include "hugepfn_internal.h"

#ifdef VFIO_DEVICE_BIND_IOMMUFD
/* The "vfioN" name of @bdf's cdev from sysfs, or -ENOENT. */
static int cdev_name(const struct hugepfn_ctx *ctx, const char *bdf, char *name, size_t size)
{
	char path[HPFN_PATH_MAX];
	struct dirent *de;
	int ret = -ENOENT;
	DIR *d;

	hpfn_sysfs_path(ctx, path, sizeof(path), "bus/pci/devices/%s/vfio-dev", bdf);
	d = opendir(path);
	if (!d)
		return -ENOENT;
	while ((de = readdir(d))) {
		if (!strncmp(de->d_name, "vfio", 4) && strlen(de->d_name) < size) {
			snprintf(name, size, "%s", de->d_name);
			ret = 0;
			break;
		}
	}
	closedir(d);
	return ret;
}

/*
 * Whether @bdf has no real IOMMU: no group at all, or VFIO's no-IOMMU
 * group (/dev/vfio/noiommu-N). 6.12 lists such devices under vfio-dev/ in
 * sysfs but makes no cdev node for them; 7.3 does not list them there.
 */
static int is_noiommu(const struct hugepfn_ctx *ctx, const char *bdf)
{
	char path[HPFN_PATH_MAX], link[HPFN_PATH_MAX];
	const char *group;
	ssize_t n;

	hpfn_sysfs_path(ctx, path, sizeof(path), "bus/pci/devices/%s/iommu_group", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return 1;
	link[n] = '\0';
	group = strrchr(link, '/');
	group = group ? group + 1 : link;
	hpfn_dev_path(ctx, path, sizeof(path), "vfio/noiommu-%s", group);
	return access(path, F_OK) == 0;
}

#endif

int hpfn_vfio_cdev_usable(const struct hugepfn_ctx *ctx, const char *bdf)
{
#ifdef VFIO_DEVICE_BIND_IOMMUFD
	char path[HPFN_PATH_MAX], name[64];

	if (cdev_name(ctx, bdf, name, sizeof(name)) || is_noiommu(ctx, bdf))
		return 0;
	hpfn_dev_path(ctx, path, sizeof(path), "vfio/devices/%s", name);
	if (access(path, F_OK))
		return 0;	/* a kernel without CONFIG_VFIO_DEVICE_CDEV */
	hpfn_dev_path(ctx, path, sizeof(path), "iommu");
	return access(path, F_OK) == 0;
#else
	return 0;
#endif
}

static int cdev_open(struct hugepfn_dev *dev, const char *bdf)
{
#ifdef VFIO_DEVICE_BIND_IOMMUFD
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	char node[HPFN_PATH_MAX], iommu[HPFN_PATH_MAX], name[64];

	snprintf(dev->bdf, sizeof(dev->bdf), "%s", bdf);
	if (cdev_name(dev->ctx, bdf, name, sizeof(name)))
		return is_noiommu(dev->ctx, bdf) ?
			hpfn_err(dev, -ENODEV,
				 "%s has no VFIO device cdev (no-IOMMU devices have no cdev: use backend vfio)",
				 bdf) :
			hpfn_err(dev, -ENODEV,
				 "%s has no VFIO device cdev (no vfio-dev/ in sysfs): is it bound to vfio-pci, and does the kernel have CONFIG_VFIO_DEVICE_CDEV? The group interface (backend vfio) may work",
				 bdf);
	hpfn_dev_path(dev->ctx, node, sizeof(node), "vfio/devices/%s", name);
	dev->fd = open(node, O_RDWR | O_CLOEXEC);
	if (dev->fd < 0) {
		int err = errno;

		/* sysfs lists the device either way; the node exists only for cdevs */
		return hpfn_err(dev, -err, "open %s: %s%s", node, strerror(err),
				err != ENOENT ? "" : is_noiommu(dev->ctx, bdf) ?
				" (no-IOMMU devices have no cdev: use backend vfio)" :
				" (kernel without CONFIG_VFIO_DEVICE_CDEV? use backend vfio)");
	}
	hpfn_dev_path(dev->ctx, iommu, sizeof(iommu), "iommu");
	dev->iommufd = open(iommu, O_RDWR | O_CLOEXEC);
	if (dev->iommufd < 0)
		return hpfn_err(dev, -errno, "open %s: %s (the VFIO cdev needs iommufd: CONFIG_IOMMUFD)",
				iommu, strerror(errno));
	bind.iommufd = dev->iommufd;
	if (ioctl(dev->fd, VFIO_DEVICE_BIND_IOMMUFD, &bind))
		return hpfn_err(dev, -errno, "VFIO_DEVICE_BIND_IOMMUFD %s: %s%s", node, strerror(errno),
				errno == EBUSY ? " (the device is in use through its VFIO group)" :
				errno == EINVAL ? " (a no-IOMMU device? use the group interface, backend vfio)" : "");
	return hpfn_vfio_read_regions(dev);
#else
	return hpfn_err(dev, -EOPNOTSUPP,
			"libhugepfn was built against uAPI headers without the VFIO device cdev (Linux < 6.6); rebuild it with -Dkernel_uapi=DIR (make headers_install) or use backend vfio");
#endif
}

static void cdev_close(struct hugepfn_dev *dev)
{
	/* the device first: closing it unbinds it from the iommufd */
	if (dev->fd >= 0)
		close(dev->fd);
	if (dev->iommufd >= 0)
		close(dev->iommufd);
	dev->fd = dev->iommufd = -1;
}

const struct hpfn_backend_ops hpfn_backend_vfio_cdev = {
	.kind = HUGEPFN_BACKEND_VFIO_CDEV,
	.open = cdev_open,
	.close = cdev_close,
	.map_target = hpfn_vfio_map_target,
};
