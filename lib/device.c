// SPDX-License-Identifier: LGPL-2.1-or-later
/* Opening devices: which backend, and the region table. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hugepfn_internal.h"

HUGEPFN_API const char *hugepfn_backend_name(enum hugepfn_backend backend)
{
	switch (backend) {
	case HUGEPFN_BACKEND_AUTO: return "auto";
	case HUGEPFN_BACKEND_DRIVER: return "hugepfn";
	case HUGEPFN_BACKEND_UIO: return "uio";
	case HUGEPFN_BACKEND_SYSFS: return "sysfs";
	case HUGEPFN_BACKEND_VFIO: return "vfio";
	case HUGEPFN_BACKEND_VFIO_CDEV: return "vfio-cdev";
	}
	return "unknown";
}

static struct hugepfn_dev *dev_alloc(struct hugepfn_ctx *ctx)
{
	struct hugepfn_dev *dev = calloc(1, sizeof(*dev));
	int i;

	if (!dev)
		return NULL;
	dev->ctx = ctx;
	dev->fd = dev->vfio_container = dev->vfio_group = dev->iommufd = -1;
	for (i = 0; i < HPFN_MAX_REGIONS; i++)
		dev->res_fd[i][0] = dev->res_fd[i][1] = -1;
	pthread_mutex_init(&dev->lock, NULL);
	return dev;
}

/* Which backend and target a spec and the bound driver call for. */
static int choose(struct hugepfn_dev *dev, const char *spec, enum hugepfn_backend backend,
		  const struct hpfn_backend_ops **ops, char *target, size_t size)
{
	char bdf[16], driver[64];
	int ret;

	if (!strncmp(spec, "carveout:", 9) || strstr(spec, "/hugepfn/")) {
		if (backend != HUGEPFN_BACKEND_AUTO && backend != HUGEPFN_BACKEND_DRIVER)
			return hpfn_err(dev, -EINVAL, "%s is a hugepfn node: only the hugepfn backend opens it", spec);
		*ops = &hpfn_backend_driver;
		if (spec[0] == '/')
			snprintf(target, size, "%s", spec);
		else
			hpfn_dev_path(dev->ctx, target, size, "hugepfn/carveout-%s", spec + 9);
		return 0;
	}
	if (strstr(spec, "/uio") || !strncmp(spec, "uio", 3)) {
		if (backend != HUGEPFN_BACKEND_AUTO && backend != HUGEPFN_BACKEND_UIO)
			return hpfn_err(dev, -EINVAL, "%s is a UIO node: only the uio backend opens it", spec);
		*ops = &hpfn_backend_uio;
		snprintf(target, size, "%s", spec);
		return 0;
	}
	if (hpfn_parse_bdf(spec, bdf, sizeof(bdf)))
		return hpfn_err(dev, -EINVAL,
				"'%s' is neither a PCI address (DDDD:BB:DD.F), carveout:NAME nor a device node", spec);
	snprintf(dev->bdf, sizeof(dev->bdf), "%s", bdf);
	ret = hpfn_pci_driver(dev->ctx, bdf, driver, sizeof(driver));
	if (ret)
		return hpfn_err(dev, ret, "driver of %s: %s", bdf, strerror(-ret));
	{
		char path[HPFN_PATH_MAX];

		hpfn_sysfs_path(dev->ctx, path, sizeof(path), "bus/pci/devices/%s", bdf);
		if (access(path, F_OK))
			return hpfn_err(dev, -ENOENT, "no PCI device %s (%s does not exist)", bdf, path);
	}
	if (backend == HUGEPFN_BACKEND_AUTO) {
		if (!strcmp(driver, "hugepfn"))
			backend = HUGEPFN_BACKEND_DRIVER;
		else if (!strcmp(driver, "vfio-pci"))
			backend = hpfn_vfio_cdev_usable(dev->ctx, bdf) ? HUGEPFN_BACKEND_VFIO_CDEV :
									 HUGEPFN_BACKEND_VFIO;
		else if (!strncmp(driver, "uio", 3))
			backend = HUGEPFN_BACKEND_UIO;
		else if (!driver[0])
			backend = HUGEPFN_BACKEND_SYSFS;
		else
			return hpfn_err(dev, -EBUSY,
					"%s is bound to %s; unbind it or bind it to hugepfn, vfio-pci or a UIO driver",
					bdf, driver);
	}
	switch (backend) {
	case HUGEPFN_BACKEND_DRIVER:
		*ops = &hpfn_backend_driver;
		hpfn_dev_path(dev->ctx, target, size, "hugepfn/pci-%s", bdf);
		return 0;
	case HUGEPFN_BACKEND_UIO:
		*ops = &hpfn_backend_uio;
		snprintf(target, size, "%s", bdf);
		return 0;
	case HUGEPFN_BACKEND_SYSFS:
		*ops = &hpfn_backend_sysfs;
		snprintf(target, size, "%s", bdf);
		return 0;
	case HUGEPFN_BACKEND_VFIO:
		*ops = &hpfn_backend_vfio;
		snprintf(target, size, "%s", bdf);
		return 0;
	case HUGEPFN_BACKEND_VFIO_CDEV:
		*ops = &hpfn_backend_vfio_cdev;
		snprintf(target, size, "%s", bdf);
		return 0;
	default:
		return hpfn_err(dev, -EINVAL, "unknown backend %d", backend);
	}
}

HUGEPFN_API int hugepfn_open(struct hugepfn_ctx *ctx, const char *spec,
			     enum hugepfn_backend backend, struct hugepfn_dev **out)
{
	const struct hpfn_backend_ops *ops = NULL;
	char target[HPFN_PATH_MAX];
	struct hugepfn_dev *dev;
	int ret;

	if (out)
		*out = NULL;	/* hugepfn_close() is safe on every failure */
	if (!ctx || !spec || !out || backend > HUGEPFN_BACKEND_VFIO_CDEV)
		return -EINVAL;
	dev = dev_alloc(ctx);
	if (!dev)
		return -ENOMEM;
	ret = choose(dev, spec, backend, &ops, target, sizeof(target));
	if (!ret) {
		dev->ops = ops;
		ret = ops->open(dev, target);
	}
	/* A failed open still returns the handle for hugepfn_dev_error(). */
	*out = dev;
	if (ret && ops)
		ops->close(dev);
	return ret;
}

HUGEPFN_API void hugepfn_close(struct hugepfn_dev *dev)
{
	if (!dev)
		return;
	if (dev->ops)
		dev->ops->close(dev);
	pthread_mutex_destroy(&dev->lock);
	free(dev);
}

HUGEPFN_API enum hugepfn_backend hugepfn_dev_backend(const struct hugepfn_dev *dev)
{
	return dev && dev->ops ? dev->ops->kind : HUGEPFN_BACKEND_AUTO;
}

HUGEPFN_API int hugepfn_region_count(struct hugepfn_dev *dev)
{
	if (!dev || !dev->ops)
		return -EINVAL;
	return (int)dev->nr_regions;
}

HUGEPFN_API int hugepfn_region_info(struct hugepfn_dev *dev, unsigned int index,
				    struct hugepfn_region *out)
{
	if (!dev || !dev->ops || !out)
		return -EINVAL;
	if (index >= dev->nr_regions)
		return hpfn_err(dev, -ERANGE, "region %u: the device has %u", index, dev->nr_regions);
	*out = dev->regions[index];
	return 0;
}

HUGEPFN_API int hugepfn_region_areas(struct hugepfn_dev *dev, unsigned int index,
				     struct hugepfn_area *out, size_t max)
{
	const struct hugepfn_region *r;
	unsigned int i;

	if (!dev || !dev->ops || (!out && max))
		return -EINVAL;
	if (index >= dev->nr_regions)
		return hpfn_err(dev, -ERANGE, "region %u: the device has %u", index, dev->nr_regions);
	r = &dev->regions[index];
	if (!(r->flags & HUGEPFN_RGN_MAPPABLE))
		return 0;
	if (!(r->flags & HUGEPFN_RGN_SPARSE)) {
		if (max)
			out[0] = (struct hugepfn_area){ 0, r->size };
		return 1;
	}
	for (i = 0; i < dev->nr_areas[index] && i < max; i++)
		out[i] = dev->areas[index][i];
	return (int)dev->nr_areas[index];
}

HUGEPFN_API int hugepfn_carveout_list(struct hugepfn_ctx *ctx, struct hugepfn_carveout_info *out,
				      size_t max)
{
	char path[HPFN_PATH_MAX];
	struct dirent *de;
	size_t n = 0;
	DIR *d;

	if (!ctx || (!out && max))
		return -EINVAL;
	hpfn_sysfs_path(ctx, path, sizeof(path), "class/hugepfn");
	d = opendir(path);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		struct hugepfn_dev *dev;
		char spec[64];

		if (strncmp(de->d_name, "carveout-", 9) || strlen(de->d_name + 9) >= sizeof(out->name))
			continue;
		if (n < max) {
			struct hugepfn_carveout_info *c = &out[n];

			memset(c, 0, sizeof(*c));
			snprintf(c->name, sizeof(c->name), "%s", de->d_name + 9);
			/* the node has the address and size; without access, name only */
			snprintf(spec, sizeof(spec), "carveout:%s", c->name);
			if (!hugepfn_open(ctx, spec, HUGEPFN_BACKEND_DRIVER, &dev)) {
				c->phys = dev->regions[0].phys;
				c->size = dev->regions[0].size;
			}
			hugepfn_close(dev);
		}
		n++;
	}
	closedir(d);
	return (int)n;
}
