// SPDX-License-Identifier: LGPL-2.1-or-later
/* Handing PCI devices to a driver through driver_override, and back. */
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

static int driver_name_ok(const char *driver)
{
	size_t i, n = strlen(driver);

	if (!n || n > 31)
		return 0;
	for (i = 0; i < n; i++)
		if (driver[i] == '/' || driver[i] == '.' || driver[i] <= ' ')
			return 0;
	return 1;
}

static int unbind_current(struct hugepfn_ctx *ctx, const char *bdf)
{
	char path[HPFN_PATH_MAX], driver[64];
	int ret = hpfn_pci_driver(ctx, bdf, driver, sizeof(driver));

	if (ret || !driver[0])
		return ret;
	hpfn_sysfs_path(ctx, path, sizeof(path), "bus/pci/devices/%s/driver/unbind", bdf);
	return write_attr(path, bdf);
}

HUGEPFN_API int hugepfn_pci_bind(struct hugepfn_ctx *ctx, const char *bdf, const char *driver)
{
	char canon[16], path[HPFN_PATH_MAX], cur[64];
	int ret;

	if (!ctx || !bdf || !driver || hpfn_parse_bdf(bdf, canon, sizeof(canon)) || !driver_name_ok(driver))
		return -EINVAL;
	hpfn_sysfs_path(ctx, path, sizeof(path), "bus/pci/devices/%s", canon);
	if (access(path, F_OK))
		return -ENOENT;
	ret = hpfn_pci_driver(ctx, canon, cur, sizeof(cur));
	if (ret)
		return ret;
	if (!strcmp(cur, driver))
		return 0;
	hpfn_sysfs_path(ctx, path, sizeof(path), "bus/pci/drivers/%s", driver);
	if (access(path, F_OK))
		return -ENODEV;	/* the driver is not loaded */
	ret = unbind_current(ctx, canon);
	if (ret)
		return ret;
	hpfn_sysfs_path(ctx, path, sizeof(path), "bus/pci/devices/%s/driver_override", canon);
	ret = write_attr(path, driver);
	if (ret)
		return ret;
	hpfn_sysfs_path(ctx, path, sizeof(path), "bus/pci/drivers/%s/bind", driver);
	ret = write_attr(path, canon);
	return ret == -ENODEV || ret == -ENXIO ? -EBUSY : ret;
}

HUGEPFN_API int hugepfn_pci_unbind(struct hugepfn_ctx *ctx, const char *bdf)
{
	char canon[16], path[HPFN_PATH_MAX];
	int ret;

	if (!ctx || !bdf || hpfn_parse_bdf(bdf, canon, sizeof(canon)))
		return -EINVAL;
	hpfn_sysfs_path(ctx, path, sizeof(path), "bus/pci/devices/%s", canon);
	if (access(path, F_OK))
		return -ENOENT;
	ret = unbind_current(ctx, canon);
	if (ret)
		return ret;
	hpfn_sysfs_path(ctx, path, sizeof(path), "bus/pci/devices/%s/driver_override", canon);
	ret = write_attr(path, "\n");
	if (ret)
		return ret;
	/* Let the device's usual driver, if any, take it back. */
	hpfn_sysfs_path(ctx, path, sizeof(path), "bus/pci/drivers_probe");
	write_attr(path, canon);
	return 0;
}
