// SPDX-License-Identifier: LGPL-2.1-or-later
/* Contexts, error messages and paths. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hugepfn_internal.h"

HUGEPFN_API int hugepfn_ctx_new(const struct hugepfn_ctx_opts *opts, struct hugepfn_ctx **out)
{
	const char *sys = opts && opts->sysfs_root ? opts->sysfs_root : "/sys";
	const char *dev = opts && opts->dev_root ? opts->dev_root : "/dev";
	struct hugepfn_ctx *ctx;

	if (!out || strlen(sys) >= sizeof(ctx->sysfs_root) || strlen(dev) >= sizeof(ctx->dev_root))
		return -EINVAL;
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;
	snprintf(ctx->sysfs_root, sizeof(ctx->sysfs_root), "%s", sys);
	snprintf(ctx->dev_root, sizeof(ctx->dev_root), "%s", dev);
	*out = ctx;
	return 0;
}

HUGEPFN_API void hugepfn_ctx_free(struct hugepfn_ctx *ctx)
{
	free(ctx);
}

HUGEPFN_API const char *hugepfn_strerror(int err)
{
	if (err > 0)
		err = -err;
	switch (err) {
	case 0: return "Success";
	case -ENOENT: return "No such device or file";
	case -EINVAL: return "Invalid argument";
	case -EACCES: return "Permission denied";
	case -EPERM: return "Operation not permitted";
	case -ENODEV: return "No such device (or it went away)";
	case -ENOMEM: return "Out of memory";
	case -ERANGE: return "Out of range";
	case -EOPNOTSUPP: return "Not supported";
	case -EBUSY: return "Device or resource busy";
	case -ENODATA: return "No data";
	case -EIO: return "Input/output error";
	case -E2BIG: return "Too large";
	default: return "Unknown error";
	}
}

int hpfn_err(struct hugepfn_dev *dev, int err, const char *fmt, ...)
{
	va_list ap;

	if (!dev)
		return err;
	pthread_mutex_lock(&dev->lock);
	va_start(ap, fmt);
	vsnprintf(dev->err, sizeof(dev->err), fmt, ap);
	va_end(ap);
	pthread_mutex_unlock(&dev->lock);
	return err;
}

HUGEPFN_API size_t hugepfn_dev_error(struct hugepfn_dev *dev, char *buf, size_t size)
{
	size_t len;

	if (!dev || !buf || !size)
		return 0;
	pthread_mutex_lock(&dev->lock);
	len = strlen(dev->err);
	snprintf(buf, size, "%s", dev->err);
	pthread_mutex_unlock(&dev->lock);
	return len;
}

static int vpath(const char *root, char *buf, size_t size, const char *fmt, va_list ap)
{
	int n = snprintf(buf, size, "%s/", root), m;

	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	m = vsnprintf(buf + n, size - n, fmt, ap);
	return (m < 0 || (size_t)m >= size - n) ? -ENAMETOOLONG : 0;
}

int hpfn_sysfs_path(const struct hugepfn_ctx *ctx, char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = vpath(ctx->sysfs_root, buf, size, fmt, ap);
	va_end(ap);
	return ret;
}

int hpfn_dev_path(const struct hugepfn_ctx *ctx, char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = vpath(ctx->dev_root, buf, size, fmt, ap);
	va_end(ap);
	return ret;
}
