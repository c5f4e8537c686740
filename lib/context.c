// SPDX-License-Identifier: LGPL-2.1-or-later
/* Contexts, the version, and paths under the context's roots. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hugepfn_internal.h"

#ifndef HUGEPFN_VERSION_STRING
#error "the build defines HUGEPFN_VERSION_STRING (lib/meson.build)"
#endif

HUGEPFN_API const char *hugepfn_version(void)
{
	return HUGEPFN_VERSION_STRING;
}

static int opts_reserved_zero(const struct hugepfn_ctx_opts *opts)
{
	size_t i;

	for (i = 0; i < sizeof(opts->reserved) / sizeof(opts->reserved[0]); i++)
		if (opts->reserved[i])
			return 0;
	return 1;
}

HUGEPFN_API int hugepfn_ctx_new(const struct hugepfn_ctx_opts *opts, struct hugepfn_ctx **out)
{
	const char *sys = opts && opts->sysfs_root ? opts->sysfs_root : "/sys";
	const char *dev = opts && opts->dev_root ? opts->dev_root : "/dev";
	struct hugepfn_ctx *ctx;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if ((opts && !opts_reserved_zero(opts)) || !sys[0] || !dev[0] ||
	    strlen(sys) >= sizeof(ctx->sysfs_root) || strlen(dev) >= sizeof(ctx->dev_root))
		return -EINVAL;
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;
	snprintf(ctx->sysfs_root, sizeof(ctx->sysfs_root), "%s", sys);
	snprintf(ctx->dev_root, sizeof(ctx->dev_root), "%s", dev);
	hpfn_errors_init(&ctx->errors);
	*out = ctx;
	return 0;
}

HUGEPFN_API void hugepfn_ctx_free(struct hugepfn_ctx *ctx)
{
	if (!ctx)
		return;
	hpfn_errors_fini(&ctx->errors);
	free(ctx);
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
