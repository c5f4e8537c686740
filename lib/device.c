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
	hpfn_errors_init(&dev->errors);
	return dev;
}

/* The backend AUTO picks for a PCI device bound to @driver. */
static int auto_backend(struct hugepfn_dev *dev, const char *bdf, const char *driver,
			enum hugepfn_backend *backend)
{
	if (!strcmp(driver, "hugepfn"))
		*backend = HUGEPFN_BACKEND_DRIVER;
	else if (!strcmp(driver, "vfio-pci"))
		*backend = hpfn_vfio_cdev_usable(dev->ctx, bdf) ? HUGEPFN_BACKEND_VFIO_CDEV :
								   HUGEPFN_BACKEND_VFIO;
	else if (!strncmp(driver, "uio", 3))
		*backend = HUGEPFN_BACKEND_UIO;
	else if (!driver[0])
		*backend = HUGEPFN_BACKEND_SYSFS;
	else
		return hpfn_err(dev, -EBUSY,
				"%s is bound to %s; unbind it (hugepfn unbind) or bind it to hugepfn, vfio-pci or a UIO driver",
				bdf, driver);
	return 0;
}

static const struct hpfn_backend_ops *backend_ops(enum hugepfn_backend backend)
{
	switch (backend) {
	case HUGEPFN_BACKEND_DRIVER: return &hpfn_backend_driver;
	case HUGEPFN_BACKEND_UIO: return &hpfn_backend_uio;
	case HUGEPFN_BACKEND_SYSFS: return &hpfn_backend_sysfs;
	case HUGEPFN_BACKEND_VFIO: return &hpfn_backend_vfio;
	case HUGEPFN_BACKEND_VFIO_CDEV: return &hpfn_backend_vfio_cdev;
	default: return NULL;
	}
}

/* A PCI address: its backend (by its driver for AUTO); the target is the BDF or the node. */
static int choose_pci(struct hugepfn_dev *dev, const char *spec, enum hugepfn_backend backend,
		      const struct hpfn_backend_ops **ops, char *target, size_t size)
{
	char bdf[16], driver[64], path[HPFN_PATH_MAX];
	int ret;

	if (hpfn_parse_bdf(spec, bdf, sizeof(bdf)))
		return hpfn_err(dev, -EINVAL,
				"'%s' is neither a PCI address ([DDDD:]BB:DD.F, hex), carveout:NAME nor a device node",
				spec);
	snprintf(dev->bdf, sizeof(dev->bdf), "%s", bdf);
	if (hpfn_sysfs_path(dev->ctx, path, sizeof(path), "bus/pci/devices/%s", bdf))
		return hpfn_err(dev, -ENAMETOOLONG, "the sysfs root is too long");
	if (access(path, F_OK))
		return hpfn_err(dev, -ENOENT, "no PCI device %s (%s does not exist); 'hugepfn list' shows the devices",
				bdf, path);
	ret = hpfn_pci_driver(dev->ctx, bdf, driver, sizeof(driver));
	if (ret)
		return hpfn_err(dev, ret, "driver of %s: %s", bdf, strerror(-ret));
	if (backend == HUGEPFN_BACKEND_AUTO) {
		ret = auto_backend(dev, bdf, driver, &backend);
		if (ret)
			return ret;
	}
	*ops = backend_ops(backend);
	if (backend == HUGEPFN_BACKEND_DRIVER)
		return hpfn_dev_path(dev->ctx, target, size, "hugepfn/pci-%s", bdf) ?
		       hpfn_err(dev, -ENAMETOOLONG, "the /dev root is too long") : 0;
	snprintf(target, size, "%s", bdf);
	return 0;
}

/* Which backend and target a spec (and for AUTO, the bound driver) call for. */
static int choose(struct hugepfn_dev *dev, const char *spec, enum hugepfn_backend backend,
		  const struct hpfn_backend_ops **ops, char *target, size_t size)
{
	if (!strncmp(spec, "carveout:", 9) || strstr(spec, "/hugepfn/")) {
		if (backend != HUGEPFN_BACKEND_AUTO && backend != HUGEPFN_BACKEND_DRIVER)
			return hpfn_err(dev, -EINVAL, "%s is a hugepfn node: only the hugepfn backend opens it", spec);
		*ops = &hpfn_backend_driver;
		if (spec[0] == '/')
			snprintf(target, size, "%s", spec);
		else if (!spec[9] || strchr(spec + 9, '/'))
			return hpfn_err(dev, -EINVAL, "'%s': a carveout name is not empty and has no '/'", spec);
		else if (hpfn_dev_path(dev->ctx, target, size, "hugepfn/carveout-%s", spec + 9))
			return hpfn_err(dev, -ENAMETOOLONG, "'%s': name too long", spec);
		return 0;
	}
	if (strstr(spec, "/uio") || !strncmp(spec, "uio", 3)) {
		if (backend != HUGEPFN_BACKEND_AUTO && backend != HUGEPFN_BACKEND_UIO)
			return hpfn_err(dev, -EINVAL, "%s is a UIO node: only the uio backend opens it", spec);
		*ops = &hpfn_backend_uio;
		snprintf(target, size, "%s", spec);
		return 0;
	}
	return choose_pci(dev, spec, backend, ops, target, size);
}

/*
 * Open @spec; on failure the handle is still returned, its detail saying
 * why (the library's own callers read it there), and must be closed.
 */
int hpfn_open(struct hugepfn_ctx *ctx, const char *spec, enum hugepfn_backend backend,
	      struct hugepfn_dev **out)
{
	const struct hpfn_backend_ops *ops = NULL;
	char target[HPFN_PATH_MAX];
	struct hugepfn_dev *dev;
	int ret;

	*out = NULL;
	dev = dev_alloc(ctx);
	if (!dev)
		return -ENOMEM;
	*out = dev;
	ret = choose(dev, spec, backend, &ops, target, sizeof(target));
	if (ret)
		return ret;
	dev->ops = ops;
	ret = ops->open(dev, target);
	if (ret) {
		ops->close(dev);
		dev->ops = NULL;
	}
	return ret;
}

HUGEPFN_API int hugepfn_open(struct hugepfn_ctx *ctx, const char *spec,
			     enum hugepfn_backend backend, struct hugepfn_dev **out)
{
	char why[HPFN_ERR_LEN];
	struct hugepfn_dev *dev;
	int ret;

	if (out)
		*out = NULL;
	if (!ctx)
		return -EINVAL;
	hpfn_errors_clear(&ctx->errors);
	if (!spec || !out)
		return hpfn_ctx_err(ctx, -EINVAL, "hugepfn_open: %s is NULL", spec ? "out" : "spec");
	if ((unsigned int)backend > HUGEPFN_BACKEND_VFIO_CDEV)
		return hpfn_ctx_err(ctx, -EINVAL, "hugepfn_open: unknown backend %d", (int)backend);
	ret = hpfn_open(ctx, spec, backend, &dev);
	if (!ret) {
		*out = dev;
		return 0;
	}
	if (!dev)
		return hpfn_ctx_err(ctx, ret, "open %s: no memory for a handle", spec);
	/* the detail moves to the context: the caller never sees this handle */
	hpfn_errors_get(&dev->errors, why, sizeof(why));
	hugepfn_close(dev);
	return hpfn_ctx_err(ctx, ret, "%s", why[0] ? why : hugepfn_strerror(ret));
}

HUGEPFN_API void hugepfn_close(struct hugepfn_dev *dev)
{
	if (!dev)
		return;
	if (dev->ops)
		dev->ops->close(dev);
	hpfn_errors_fini(&dev->errors);
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
	hpfn_errors_clear(&dev->errors);
	return (int)dev->nr_regions;
}

HUGEPFN_API int hugepfn_region_info(struct hugepfn_dev *dev, unsigned int index,
				    struct hugepfn_region *out)
{
	if (!dev || !dev->ops)
		return -EINVAL;
	hpfn_errors_clear(&dev->errors);
	if (!out)
		return hpfn_err(dev, -EINVAL, "hugepfn_region_info: out is NULL");
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

	if (!dev || !dev->ops)
		return -EINVAL;
	hpfn_errors_clear(&dev->errors);
	if (!out && max)
		return hpfn_err(dev, -EINVAL, "hugepfn_region_areas: out is NULL with max %zu", max);
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

/* Byte order, whatever the locale's collation (alphasort follows LC_COLLATE). */
static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int is_carveout_node(const struct dirent *de)
{
	return !strncmp(de->d_name, "carveout-", 9) && de->d_name[9] &&
	       strlen(de->d_name + 9) < sizeof(((struct hugepfn_carveout_info *)0)->name);
}

/* Name, and address and size where this user can open the node. */
static void carveout_fill(struct hugepfn_ctx *ctx, const char *name,
			  struct hugepfn_carveout_info *c)
{
	struct hugepfn_dev *dev;
	char spec[64];

	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s", name);
	snprintf(spec, sizeof(spec), "carveout:%s", name);
	if (!hpfn_open(ctx, spec, HUGEPFN_BACKEND_DRIVER, &dev)) {
		c->phys = dev->regions[0].phys;
		c->size = dev->regions[0].size;
	}
	hugepfn_close(dev);
}

HUGEPFN_API int hugepfn_carveout_list(struct hugepfn_ctx *ctx, struct hugepfn_carveout_info *out,
				      size_t max)
{
	char path[HPFN_PATH_MAX];
	struct dirent **names;
	int n, i;

	if (!ctx)
		return -EINVAL;
	hpfn_errors_clear(&ctx->errors);
	if (!out && max)
		return hpfn_ctx_err(ctx, -EINVAL, "hugepfn_carveout_list: out is NULL with max %zu", max);
	if (hpfn_sysfs_path(ctx, path, sizeof(path), "class/hugepfn"))
		return hpfn_ctx_err(ctx, -ENAMETOOLONG, "the sysfs root is too long");
	n = scandir(path, &names, is_carveout_node, by_name);
	if (n < 0) {
		if (errno == ENOENT)
			return 0;	/* hugepfn.ko is not loaded */
		return hpfn_ctx_err(ctx, -errno, "read %s: %s", path, strerror(errno));
	}
	for (i = 0; i < n; i++) {
		if ((size_t)i < max)
			carveout_fill(ctx, names[i]->d_name + 9, &out[i]);
		free(names[i]);
	}
	free(names);
	return n;
}
