// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The calls that change a PCI device's sysfs state, each one explicit:
 * handing it to a driver through driver_override and back, and turning on
 * its memory decoding. Nothing else in the library writes to sysfs.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hugepfn_internal.h"

static int write_attr(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), err = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) != (ssize_t)strlen(val))
		err = -errno;
	close(fd);
	return err;
}

/* write_attr() that records the failure in @e. */
static int write_attr_err(struct hpfn_errors *e, const char *path, const char *val)
{
	int ret = write_attr(path, val);

	if (ret)
		return hpfn_errs_set(e, ret, "write '%s' to %s: %s%s", val[0] == '\n' ? "\\n" : val, path,
				    strerror(-ret), ret == -EACCES || ret == -EPERM ? " (run as root)" : "");
	return 0;
}

static int driver_name_ok(const char *driver)
{
	size_t i, n = strlen(driver);

	if (!n || n > 63)
		return 0;
	for (i = 0; i < n; i++)
		if (driver[i] == '/' || driver[i] == '.' || driver[i] <= ' ' || driver[i] == 0x7f)
			return 0;
	return 1;
}

/* Check @bdf, canonicalise it into @canon and make sure the device exists. */
static int existing_device(struct hugepfn_ctx *ctx, const char *bdf, char canon[16])
{
	struct hpfn_errors *e = &ctx->errors;
	char path[HPFN_PATH_MAX];

	if (hpfn_parse_bdf(bdf, canon, 16))
		return hpfn_errs_set(e, -EINVAL, "'%s' is not a PCI address ([DDDD:]BB:DD.F, hex)", bdf);
	if (hpfn_sysfs_path(ctx, path, sizeof(path), "bus/pci/devices/%s", canon))
		return hpfn_errs_set(e, -ENAMETOOLONG, "the sysfs root is too long");
	if (access(path, F_OK))
		return hpfn_errs_set(e, -ENOENT, "no PCI device %s (%s does not exist)", canon, path);
	return 0;
}

static int current_driver(const struct hugepfn_ctx *ctx, struct hpfn_errors *e, const char *bdf,
			  char *driver, size_t size)
{
	int ret = hpfn_pci_driver(ctx, bdf, driver, size);

	return ret ? hpfn_errs_set(e, ret, "the driver of %s: %s", bdf, strerror(-ret)) : 0;
}

static int unbind_current(struct hugepfn_ctx *ctx, const char *bdf)
{
	struct hpfn_errors *e = &ctx->errors;
	char path[HPFN_PATH_MAX], driver[64];
	int ret = current_driver(ctx, e, bdf, driver, sizeof(driver));

	if (ret || !driver[0])
		return ret;
	hpfn_sysfs_path(ctx, path, sizeof(path), "bus/pci/devices/%s/driver/unbind", bdf);
	return write_attr_err(e, path, bdf);
}

HUGEPFN_API int hugepfn_pci_bind(struct hugepfn_ctx *ctx, const char *bdf, const char *driver)
{
	struct hpfn_errors *e;
	char canon[16], path[HPFN_PATH_MAX], cur[64];
	int ret;

	if (!ctx)
		return -EINVAL;
	e = &ctx->errors;
	hpfn_errors_clear(e);
	if (!bdf || !driver)
		return hpfn_errs_set(e, -EINVAL, "hugepfn_pci_bind: %s is NULL", bdf ? "driver" : "bdf");
	ret = existing_device(ctx, bdf, canon);
	if (ret)
		return ret;
	if (!driver_name_ok(driver))
		return hpfn_errs_set(e, -EINVAL,
				    "'%s' is not a driver name (1 to 63 bytes, no '/', '.' or blanks)", driver);
	ret = current_driver(ctx, e, canon, cur, sizeof(cur));
	if (ret || !strcmp(cur, driver))
		return ret;
	hpfn_sysfs_path(ctx, path, sizeof(path), "bus/pci/drivers/%s", driver);
	if (access(path, F_OK))
		return hpfn_errs_set(e, -ENOENT, "no driver '%s' is loaded (%s does not exist); modprobe it first",
				    driver, path);
	ret = unbind_current(ctx, canon);
	if (ret)
		return ret;
	hpfn_sysfs_path(ctx, path, sizeof(path), "bus/pci/devices/%s/driver_override", canon);
	ret = write_attr_err(e, path, driver);
	if (ret)
		return ret;
	hpfn_sysfs_path(ctx, path, sizeof(path), "bus/pci/drivers/%s/bind", driver);
	ret = write_attr(path, canon);
	if (ret == -ENODEV || ret == -ENXIO)
		return hpfn_errs_set(e, -EBUSY, "%s refused %s (its probe failed: see the kernel log, dmesg)",
				    driver, canon);
	return ret ? hpfn_errs_set(e, ret, "write '%s' to %s: %s", canon, path, strerror(-ret)) : 0;
}

HUGEPFN_API int hugepfn_pci_unbind(struct hugepfn_ctx *ctx, const char *bdf)
{
	struct hpfn_errors *e;
	char canon[16], path[HPFN_PATH_MAX];
	int ret;

	if (!ctx)
		return -EINVAL;
	e = &ctx->errors;
	hpfn_errors_clear(e);
	if (!bdf)
		return hpfn_errs_set(e, -EINVAL, "hugepfn_pci_unbind: bdf is NULL");
	ret = existing_device(ctx, bdf, canon);
	if (!ret)
		ret = unbind_current(ctx, canon);
	if (ret)
		return ret;
	hpfn_sysfs_path(ctx, path, sizeof(path), "bus/pci/devices/%s/driver_override", canon);
	ret = write_attr_err(e, path, "\n");
	if (ret)
		return ret;
	/* Let the device's usual driver, if any, take it back; none is fine. */
	hpfn_sysfs_path(ctx, path, sizeof(path), "bus/pci/drivers_probe");
	write_attr(path, canon);
	return 0;
}

int hpfn_pci_enable(const struct hugepfn_ctx *ctx, struct hpfn_errors *e, const char *bdf)
{
	char path[HPFN_PATH_MAX], driver[64];
	uint64_t enabled = 0;
	int ret;

	ret = current_driver(ctx, e, bdf, driver, sizeof(driver));
	if (ret)
		return ret;
	if (driver[0])
		return hpfn_errs_set(e, -EBUSY, "%s is bound to %s, which decides its memory decoding",
				    bdf, driver);
	hpfn_sysfs_path(ctx, path, sizeof(path), "bus/pci/devices/%s/enable", bdf);
	ret = hpfn_read_u64(path, &enabled);
	if (ret)
		return hpfn_errs_set(e, ret, "read %s: %s", path, strerror(-ret));
	return enabled ? 0 : write_attr_err(e, path, "1");
}

HUGEPFN_API int hugepfn_pci_enable(struct hugepfn_ctx *ctx, const char *bdf)
{
	struct hpfn_errors *e;
	char canon[16];
	int ret;

	if (!ctx)
		return -EINVAL;
	e = &ctx->errors;
	hpfn_errors_clear(e);
	if (!bdf)
		return hpfn_errs_set(e, -EINVAL, "hugepfn_pci_enable: bdf is NULL");
	ret = existing_device(ctx, bdf, canon);
	return ret ? ret : hpfn_pci_enable(ctx, e, canon);
}
