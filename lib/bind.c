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

/* What a bind found before its first write: what is put back when a later step fails. */
struct bind_before {
	char bdf[16];		/* canonical */
	char driver[64];	/* bound then, "" when none */
	char override[64];	/* driver_override then, "" when unset (the kernel shows "(null)") */
};

static void read_override(const struct hugepfn_ctx *ctx, const char *bdf, char *buf, size_t size)
{
	char path[HPFN_PATH_MAX];

	hpfn_sysfs_path(ctx, path, sizeof(path), "bus/pci/devices/%s/driver_override", bdf);
	if (hpfn_read_text(path, buf, size) < 0 || !strcmp(buf, "(null)"))
		buf[0] = '\0';
}

/* "\n" clears an override: the kernel takes an empty line for none. */
static int write_override(const struct hugepfn_ctx *ctx, struct hpfn_errors *e, const char *bdf, const char *val)
{
	char path[HPFN_PATH_MAX];

	hpfn_sysfs_path(ctx, path, sizeof(path), "bus/pci/devices/%s/driver_override", bdf);
	return e ? write_attr_err(e, path, val[0] ? val : "\n") : write_attr(path, val[0] ? val : "\n");
}

/*
 * A step after the override failed: put back @b's override and, when a
 * driver held the device, let the kernel probe it again (its override, as
 * it was, decides which driver may). @what says in what state the device
 * is left, for the caller's detail.
 */
static void put_back(struct hugepfn_ctx *ctx, const struct bind_before *b, char *what, size_t size)
{
	char path[HPFN_PATH_MAX], now[64] = "";
	int ret = write_override(ctx, NULL, b->bdf, b->override);

	if (!ret && b->driver[0]) {
		hpfn_sysfs_path(ctx, path, sizeof(path), "bus/pci/drivers_probe");
		write_attr(path, b->bdf);	/* no driver taking it is an answer too */
	}
	hpfn_pci_driver(ctx, b->bdf, now, sizeof(now));
	if (ret)
		snprintf(what, size, "; %s is left bound to %s with its driver_override set: hugepfn_pci_unbind() "
			 "('hugepfn unbind %s') gives it back to its usual driver", b->bdf, now[0] ? now : "no driver",
			 b->bdf);
	else if (!strcmp(now, b->driver))
		snprintf(what, size, "; %s is back as it was, bound to %s", b->bdf, now[0] ? now : "no driver");
	else
		snprintf(what, size, "; its driver_override is put back, but %s is bound to %s now, not to %s: "
			 "hugepfn_pci_unbind() ('hugepfn unbind %s') lets its usual driver probe it again", b->bdf,
			 now[0] ? now : "no driver", b->driver[0] ? b->driver : "none", b->bdf);
}

/* The bind write to @path failed with @err: tell why, and put the device back. */
static int bind_failed(struct hugepfn_ctx *ctx, const struct bind_before *b, const char *driver,
		       const char *path, int err)
{
	char now[64] = "", why[HPFN_PATH_MAX + 128], back[400];

	if (err == -EBUSY) {
		/* the device had a driver again: @driver itself when its module probed it meanwhile */
		hpfn_pci_driver(ctx, b->bdf, now, sizeof(now));
		if (!strcmp(now, driver))
			return 0;
		snprintf(why, sizeof(why), "another driver (%s) took %s meanwhile, between the unbind and the bind",
			 now[0] ? now : "gone again by now", b->bdf);
	} else if (err == -ENODEV || err == -ENXIO) {
		snprintf(why, sizeof(why), "%s refused %s (its probe failed: see the kernel log, dmesg)", driver,
			 b->bdf);
		err = -EBUSY;
	} else {
		snprintf(why, sizeof(why), "write '%s' to %s: %s", b->bdf, path, strerror(-err));
	}
	put_back(ctx, b, back, sizeof(back));
	return hpfn_errs_set(&ctx->errors, err, "%s%s", why, back);
}

/*
 * @driver is not loaded. A device that no driver holds gets the override
 * all the same: the driver's module, as it loads, probes every device whose
 * override names it, and until then no other driver can take the device
 * (at boot the device's usual module may load first). A device that a
 * driver holds is left alone: nothing would take it over.
 */
static int driver_missing(struct hugepfn_ctx *ctx, const struct bind_before *b, const char *driver,
			  const char *dir)
{
	struct hpfn_errors *e = &ctx->errors;

	if (b->driver[0])
		return hpfn_errs_set(e, -ENOENT, "no driver '%s' is loaded (%s does not exist); modprobe it first "
				    "(%s stays bound to %s)", driver, dir, b->bdf, b->driver);
	if (write_override(ctx, NULL, b->bdf, driver))
		return hpfn_errs_set(e, -ENOENT, "no driver '%s' is loaded (%s does not exist); modprobe it first",
				    driver, dir);
	return hpfn_errs_set(e, -ENOENT, "no driver '%s' is loaded (%s does not exist): %s's driver_override names "
			    "it now, so loading it (modprobe %s) binds the device; hugepfn_pci_unbind() clears the "
			    "override", driver, dir, b->bdf, driver);
}

/*
 * Hand @b's device to @driver in driverctl's order: the override first, so
 * that from then on only @driver matches the device and no driver whose
 * module loads meanwhile (at boot, udev loads them in parallel) takes it
 * between the unbind and the bind; then the unbind, then the bind.
 */
static int bind_steps(struct hugepfn_ctx *ctx, const struct bind_before *b, const char *driver)
{
	struct hpfn_errors *e = &ctx->errors;
	char path[HPFN_PATH_MAX], back[400];
	int ret = write_override(ctx, e, b->bdf, driver);

	if (ret)
		return ret;	/* nothing changed */
	if (b->driver[0]) {
		/* by the driver's name: the kernel refuses (-ENODEV) when another one holds the device by now */
		hpfn_sysfs_path(ctx, path, sizeof(path), "bus/pci/drivers/%s/unbind", b->driver);
		ret = write_attr(path, b->bdf);
		if (ret) {
			put_back(ctx, b, back, sizeof(back));
			return hpfn_errs_set(e, ret, "unbind %s from %s (write '%s' to %s): %s%s%s", b->bdf, b->driver,
					    b->bdf, path, strerror(-ret), ret == -EACCES || ret == -EPERM ?
					    " (run as root)" : "", back);
		}
	}
	hpfn_sysfs_path(ctx, path, sizeof(path), "bus/pci/drivers/%s/bind", driver);
	ret = write_attr(path, b->bdf);
	return ret ? bind_failed(ctx, b, driver, path, ret) : 0;
}

HUGEPFN_API int hugepfn_pci_bind(struct hugepfn_ctx *ctx, const char *bdf, const char *driver)
{
	struct bind_before b;
	struct hpfn_errors *e;
	char path[HPFN_PATH_MAX];
	int ret;

	if (!ctx)
		return -EINVAL;
	e = &ctx->errors;
	hpfn_errors_clear(e);
	if (!bdf || !driver)
		return hpfn_errs_set(e, -EINVAL, "hugepfn_pci_bind: %s is NULL", bdf ? "driver" : "bdf");
	memset(&b, 0, sizeof(b));
	ret = existing_device(ctx, bdf, b.bdf);
	if (ret)
		return ret;
	if (!driver_name_ok(driver))
		return hpfn_errs_set(e, -EINVAL,
				    "'%s' is not a driver name (1 to 63 bytes, no '/', '.' or blanks)", driver);
	ret = current_driver(ctx, e, b.bdf, b.driver, sizeof(b.driver));
	if (ret || !strcmp(b.driver, driver))
		return ret;
	read_override(ctx, b.bdf, b.override, sizeof(b.override));
	hpfn_sysfs_path(ctx, path, sizeof(path), "bus/pci/drivers/%s", driver);
	if (access(path, F_OK))
		return driver_missing(ctx, &b, driver, path);
	return bind_steps(ctx, &b, driver);
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
