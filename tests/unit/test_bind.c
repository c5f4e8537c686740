// SPDX-License-Identifier: GPL-2.0
/*
 * hugepfn_pci_bind() against a fake kernel: the order of its sysfs writes
 * (driver_override before the unbind, driverctl's order), what it puts
 * back when a later step fails, a bind that finds another driver there
 * (-EBUSY) and a driver that is not loaded.
 *
 * The fake tree's attributes are plain files, which would take any write
 * and do nothing. This program defines write(), which the library's
 * writes resolve to (it links the static archive), to play the kernel's
 * part for writes under the tree: it logs each one in order, moves the
 * device's driver link as a bind, unbind or drivers_probe would, and fails
 * a write when a test asks it to. Every other write goes to the system call.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "hugepfn.h"
#include "fake_tree.h"
#include "unit.h"

#define DEV "0000:00:07.0"	/* bound to nvme, its usual driver */
#define FREE "0000:00:05.0"	/* bound to nothing */

static struct hugepfn_ctx *ctx;

/* The writes under the tree since reset(), "REL=VALUE", in order. */
static char writes[16][160];
static int nwrites;
/* What the fake kernel does to the next write of a kind: fail with an errno, or let a driver in first. */
static int fail_override_at;	/* the Nth write to driver_override (1: the first) fails with EACCES */
static int unbind_errno, bind_errno;
static const char *bind_finds;	/* the driver the bind finds bound already (a driver that took it) */

static void link_driver(const char *bdf, const char *driver)
{
	char path[700], target[700];

	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/driver", sysroot, bdf);
	unlink(path);
	if (!driver)
		return;
	snprintf(target, sizeof(target), "%s/bus/pci/drivers/%s", sysroot, driver);
	if (symlink(target, path))
		exit(1);
}

static void driver_of(const char *bdf, char *buf, size_t size)
{
	char path[700], link[700];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/driver", sysroot, bdf);
	n = readlink(path, link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = '\0';
	snprintf(buf, size, "%s", n > 0 && strrchr(link, '/') ? strrchr(link, '/') + 1 : "");
}

static void override_of(const char *bdf, char *buf, size_t size)
{
	char rel[200];

	snprintf(rel, sizeof(rel), "bus/pci/devices/%s/driver_override", bdf);
	get(rel, buf, size);
	if (!strcmp(buf, "(null)"))
		buf[0] = '\0';
}

/* The kernel's answer to writing @val to @rel: 0, or the errno the write fails with. */
static int fake_kernel(const char *rel, const char *val)
{
	char drv[64], cur[64], over[64];

	if (strstr(rel, "/driver_override"))
		return --fail_override_at == 0 ? EACCES : 0;
	if (!strcmp(rel, "bus/pci/drivers_probe")) {
		driver_of(val, cur, sizeof(cur));
		override_of(val, over, sizeof(over));
		if (!cur[0])
			link_driver(val, over[0] ? over : "nvme");
		return 0;
	}
	if (sscanf(rel, "bus/pci/drivers/%63[^/]/", drv) != 1)
		return 0;
	driver_of(val, cur, sizeof(cur));
	if (strstr(rel, "/unbind")) {
		if (unbind_errno)
			return unbind_errno;
		if (strcmp(cur, drv))
			return ENODEV;
		link_driver(val, NULL);
		return 0;
	}
	if (bind_errno)
		return bind_errno;
	if (bind_finds) {
		link_driver(val, bind_finds);
		return EBUSY;
	}
	override_of(val, over, sizeof(over));
	if (cur[0])
		return EBUSY;
	if (over[0] && strcmp(over, drv))
		return ENODEV;
	link_driver(val, drv);
	return 0;
}

ssize_t write(int fd, const void *buf, size_t n)
{
	char fdpath[64], path[700], val[128];
	size_t top = strlen(sysroot);
	ssize_t len;
	int err;

	snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", fd);
	len = readlink(fdpath, path, sizeof(path) - 1);
	if (len <= (ssize_t)top || strncmp(path, sysroot, top) || path[top] != '/')
		return syscall(SYS_write, fd, buf, n);
	path[len] = '\0';
	snprintf(val, sizeof(val), "%.*s", (int)(n < 100 ? n : 100), (const char *)buf);
	val[strcspn(val, "\n")] = '\0';
	if (nwrites < 16)
		snprintf(writes[nwrites++], sizeof(writes[0]), "%s=%s", path + top + 1, val);
	err = fake_kernel(path + top + 1, val);
	if (err) {
		errno = err;
		return -1;
	}
	/* a sysfs attribute holds what was written last */
	if (ftruncate(fd, 0))
		return -1;
	return syscall(SYS_write, fd, buf, n);
}

/* @bdf bound to @driver with no override, the fake kernel's faults off and the log empty. */
static void reset(const char *bdf, const char *driver)
{
	char rel[100];

	snprintf(rel, sizeof(rel), "bus/pci/devices/%s/driver_override", bdf);
	put(rel, "(null)\n");
	link_driver(bdf, driver);
	fail_override_at = unbind_errno = bind_errno = 0;
	bind_finds = NULL;
	nwrites = 0;
}

/* The log as one string, "; " between the writes. */
static const char *logged(void)
{
	static char all[16 * 170];
	size_t len = 0;
	int i;

	all[0] = '\0';
	for (i = 0; i < nwrites; i++)
		len += (size_t)sprintf(all + len, "%s%s", i ? "; " : "", writes[i]);
	return all;
}

static int bind_to(const char *bdf, const char *driver, char *msg, size_t size)
{
	int ret = hugepfn_pci_bind(ctx, bdf, driver);

	hugepfn_ctx_error(ctx, msg, size);
	return ret;
}

static void test_order(void)
{
	char msg[1024], drv[64];
	int ret;

	reset(DEV, "nvme");
	ret = bind_to(DEV, "vfio-pci", msg, sizeof(msg));
	driver_of(DEV, drv, sizeof(drv));
	CHECK(ret == 0 && !strcmp(drv, "vfio-pci") && !strcmp(logged(),
	      "bus/pci/devices/" DEV "/driver_override=vfio-pci; bus/pci/drivers/nvme/unbind=" DEV
	      "; bus/pci/drivers/vfio-pci/bind=" DEV),
	      "bind: driver_override first, then the unbind of the driver seen, then the bind (%d, '%s')", ret,
	      logged());
	reset(FREE, NULL);
	ret = bind_to(FREE, "vfio-pci", msg, sizeof(msg));
	CHECK(ret == 0 && !strcmp(logged(), "bus/pci/devices/" FREE "/driver_override=vfio-pci; "
				  "bus/pci/drivers/vfio-pci/bind=" FREE),
	      "bind of a device no driver holds: the override, then the bind, no unbind ('%s')", logged());
	reset(DEV, "vfio-pci");
	ret = bind_to(DEV, "vfio-pci", msg, sizeof(msg));
	CHECK(ret == 0 && nwrites == 0, "bind to the driver it has: nothing written ('%s')", logged());
}

static void test_put_back(void)
{
	char msg[1024], drv[64], over[64];
	int ret;

	reset(DEV, "nvme");
	bind_errno = ENODEV;	/* the probe failed */
	ret = bind_to(DEV, "vfio-pci", msg, sizeof(msg));
	driver_of(DEV, drv, sizeof(drv));
	override_of(DEV, over, sizeof(over));
	CHECK(ret == -EBUSY && strstr(msg, "vfio-pci refused " DEV) && strstr(msg, "back as it was, bound to nvme") &&
	      !strcmp(drv, "nvme") && !over[0] &&
	      strstr(logged(), "bind=" DEV "; bus/pci/devices/" DEV "/driver_override=; bus/pci/drivers_probe=" DEV),
	      "a probe that fails after the unbind: -EBUSY, the override cleared and the usual driver back ('%s'; '%s')",
	      msg, logged());
	reset(DEV, "nvme");
	unbind_errno = EIO;
	ret = bind_to(DEV, "vfio-pci", msg, sizeof(msg));
	override_of(DEV, over, sizeof(over));
	CHECK(ret == -EIO && strstr(msg, "unbind " DEV " from nvme") && strstr(msg, "back as it was") && !over[0] &&
	      !strstr(logged(), "vfio-pci/bind"),
	      "an unbind that fails: no bind, the override put back ('%s')", msg);
	reset(DEV, "nvme");
	bind_errno = ENODEV;
	fail_override_at = 2;	/* the override is set, but cannot be put back */
	ret = bind_to(DEV, "vfio-pci", msg, sizeof(msg));
	CHECK(ret == -EBUSY && strstr(msg, "left bound to no driver with its driver_override set") &&
	      strstr(msg, "'hugepfn unbind " DEV "'"),
	      "when nothing can be put back: says the device is bound to nothing, and what gives it back ('%s')", msg);
	reset(DEV, "nvme");
	fail_override_at = 1;
	ret = bind_to(DEV, "vfio-pci", msg, sizeof(msg));
	driver_of(DEV, drv, sizeof(drv));
	CHECK(ret == -EACCES && nwrites == 1 && !strcmp(drv, "nvme") && strstr(msg, "run as root"),
	      "an override that cannot be written: nothing else is written, the device keeps its driver ('%s')", msg);
}

static void test_taken_meanwhile(void)
{
	char msg[1024], over[64];
	int ret;

	reset(DEV, "nvme");
	bind_finds = "nvme";	/* its module bound it again: a driver that ignores the override */
	ret = bind_to(DEV, "vfio-pci", msg, sizeof(msg));
	override_of(DEV, over, sizeof(over));
	CHECK(ret == -EBUSY && strstr(msg, "another driver (nvme) took " DEV " meanwhile") && !over[0],
	      "a bind that finds another driver there: -EBUSY, 'another driver took it meanwhile' ('%s')", msg);
	reset(DEV, "nvme");
	bind_finds = "vfio-pci";	/* the override made vfio-pci's own module init probe it */
	ret = bind_to(DEV, "vfio-pci", msg, sizeof(msg));
	override_of(DEV, over, sizeof(over));
	CHECK(ret == 0 && !strcmp(over, "vfio-pci"), "a bind that finds the driver asked for there already: done (%d, '%s')",
	      ret, msg);
}

static void test_not_loaded(void)
{
	char msg[1024], over[64], drv[64];
	int ret;

	reset(FREE, NULL);
	ret = bind_to(FREE, "notloaded", msg, sizeof(msg));
	override_of(FREE, over, sizeof(over));
	CHECK(ret == -ENOENT && !strcmp(over, "notloaded") && nwrites == 1 && strstr(msg, "modprobe notloaded") &&
	      strstr(msg, "driver_override names it now"),
	      "a driver not loaded, a device no driver holds: -ENOENT, the override set for the module to bind it ('%s')",
	      msg);
	reset(DEV, "nvme");
	ret = bind_to(DEV, "notloaded", msg, sizeof(msg));
	driver_of(DEV, drv, sizeof(drv));
	CHECK(ret == -ENOENT && nwrites == 0 && !strcmp(drv, "nvme") && strstr(msg, "stays bound to nvme"),
	      "a driver not loaded, a device a driver holds: -ENOENT, nothing written ('%s')", msg);
	CHECK(hugepfn_pci_unbind(ctx, FREE) == 0 && (override_of(FREE, over, sizeof(over)), !over[0]),
	      "hugepfn_pci_unbind() clears the override a missing driver left");
}

int main(void)
{
	const char *attrs[] = { "bus/pci/drivers/nvme/bind", "bus/pci/drivers/nvme/unbind",
				"bus/pci/drivers/vfio-pci/bind", "bus/pci/drivers/vfio-pci/unbind",
				"bus/pci/drivers_probe" };
	size_t i;

	ctx = fake_tree_standard();
	CHECK(ctx != NULL, "context on the fake tree");
	if (!ctx)
		return 1;
	mkdirs("bus/pci/drivers/vfio-pci");
	for (i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++)
		put(attrs[i], "");
	test_order();
	test_put_back();
	test_taken_meanwhile();
	test_not_loaded();
	hugepfn_ctx_free(ctx);
	if (fake_tree_remove())
		return 1;
	return UNIT_DONE();
}
