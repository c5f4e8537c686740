// SPDX-License-Identifier: GPL-2.0
/*
 * What hugepfn doctor says of the installation, after the library's
 * findings: the running kernel, whether hugepfn.ko is there for it (loaded,
 * under /lib/modules/RELEASE, built by DKMS), and whether the bindings
 * recorded for every boot (persist.c) are made and what makes them at boot.
 *
 * These are the tool's, not hugepfn_doctor()'s: they are about how this
 * machine was set up (packages, DKMS, the tool's own records), not about
 * why a mapping is or is not huge, and reading /lib/modules or /etc needs
 * no library API. Every path is under --root, so that the host tests build
 * fake installations; the kernel release is the running one (uname).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "tool.h"

#ifndef HUGEPFN_UDEV_RULES_DIR
#error "HUGEPFN_UDEV_RULES_DIR comes from the build (tools/meson.build)"
#endif

#define BIND_RULE "61-hugepfn-bind.rules"
#define BIND_UNIT "hugepfn-bind.service"
#define WALK_DEPTH 6		/* /lib/modules/R/updates/dkms/hugepfn.ko is 2 below R */

struct found {
	struct hugepfn_check *c;
	int n, max;
	const struct tool_args *a;
	char release[65];	/* uname -r */
	int loaded;		/* sysfs module/hugepfn */
	int hugepfn_records;	/* records that bind to hugepfn */
};

static struct hugepfn_check *add(struct found *f, const char *check, enum hugepfn_check_status st,
				 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static struct hugepfn_check *add(struct found *f, const char *check, enum hugepfn_check_status st,
				 const char *fmt, ...)
{
	struct hugepfn_check *c = &f->c[f->n < f->max - 1 ? f->n++ : f->max - 1];
	va_list ap;

	memset(c, 0, sizeof(*c));
	tool_format(c->check, sizeof(c->check), "%s", check);
	c->status = st;
	va_start(ap, fmt);
	vsnprintf(c->found, sizeof(c->found), fmt, ap);
	va_end(ap);
	return c;
}

static void advise(struct hugepfn_check *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void advise(struct hugepfn_check *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->advice, sizeof(c->advice), fmt, ap);
	va_end(ap);
}

/* ---- the kernel ----------------------------------------------------------------- */

/*
 * Whether the kernel has the series is measured by the library (remap-pmd:
 * one aligned block mapped, the driver asked what it got); its name only
 * hints, as the series' kernels carry CONFIG_LOCALVERSION="-hugepfn".
 */
static void check_kernel(struct found *f, const struct hugepfn_check *lib, int nlib)
{
	const struct hugepfn_check *pmd = NULL;
	int i;

	for (i = 0; i < nlib; i++)
		if (!strcmp(lib[i].check, "remap-pmd"))
			pmd = &lib[i];
	if (pmd && pmd->status == HUGEPFN_CHECK_OK)
		add(f, "kernel", HUGEPFN_CHECK_OK, "Linux %s has the hugepfn series (remap-pmd measured it)", f->release);
	else if (pmd && pmd->status == HUGEPFN_CHECK_FAIL)
		add(f, "kernel", HUGEPFN_CHECK_INFO,
		    "Linux %s lacks the hugepfn series (remap-pmd): BARs still map huge through hugepfn.ko's and vfio-pci's fault handlers, carveouts, UIO and sysfs do not",
		    f->release);
	else
		add(f, "kernel", HUGEPFN_CHECK_INFO,
		    "Linux %s: remap-pmd could not measure whether it has the hugepfn series; its name %s",
		    f->release, strstr(f->release, "-hugepfn") ?
		    "ends like the series' kernels (CONFIG_LOCALVERSION=-hugepfn, kernel/config)" :
		    "is not a series kernel's (those end in -hugepfn): a distribution kernel, most likely");
}

/* ---- hugepfn.ko for the running kernel --------------------------------------------- */

static int is_module_file(const char *name)
{
	return !strcmp(name, "hugepfn.ko") || !strncmp(name, "hugepfn.ko.", 11);	/* .xz, .zst, .gz */
}

/* The file modules.dep of @moddir names for hugepfn.ko, in @path: 1, 0, or -errno (no modules.dep). */
static int in_modules_dep(const char *moddir, char *path, size_t size)
{
	char dep[PATH_MAX], *line = NULL, *colon, *base;
	struct stat st;
	size_t cap = 0;
	int found = 0, fd;
	FILE *file;

	tool_format(dep, sizeof(dep), "%s/modules.dep", moddir);
	/* non-blocking, and a plain file only: opening a FIFO there would hang doctor */
	fd = open(dep, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	file = fstat(fd, &st) || !S_ISREG(st.st_mode) ? NULL : fdopen(fd, "r");
	if (!file) {
		close(fd);
		return -EINVAL;
	}
	while (!found && getline(&line, &cap, file) > 0) {
		colon = strchr(line, ':');
		if (!colon)
			continue;
		*colon = '\0';
		base = strrchr(line, '/') ? strrchr(line, '/') + 1 : line;
		if ((found = is_module_file(base)))
			tool_format(path, size, "%s%s%s", line[0] == '/' ? "" : moddir, line[0] == '/' ? "" : "/", line);
	}
	free(line);
	fclose(file);
	return found;
}

/* A hugepfn.ko file anywhere under @dir (links not followed), in @path: 1 or 0. */
static int find_module(const char *dir, int depth, char *path, size_t size)
{
	char sub[PATH_MAX];
	struct dirent *de;
	struct stat st;
	int found = 0;
	DIR *d;

	if (depth > WALK_DEPTH || !(d = opendir(dir)))
		return 0;
	while (!found && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		tool_format(sub, sizeof(sub), "%s/%s", dir, de->d_name);
		if (lstat(sub, &st))
			continue;
		if (S_ISREG(st.st_mode) && is_module_file(de->d_name) && (found = 1))
			tool_format(path, size, "%s", sub);
		else if (S_ISDIR(st.st_mode))
			found = find_module(sub, depth + 1, path, size);
	}
	closedir(d);
	return found;
}

struct dkms {
	int registered, built, installed;
	char version[64];
};

/*
 * DKMS's state of hugepfn for the running kernel (dkms 3's layout):
 * hugepfn/VERSION/ is an added source, hugepfn/VERSION/RELEASE/ a build
 * for RELEASE, and the link hugepfn/kernel-RELEASE-ARCH an installed one.
 */
static void dkms_state(const struct found *f, struct dkms *k)
{
	char dir[PATH_MAX], sub[PATH_MAX];
	size_t rl = strlen(f->release);
	struct dirent *de;
	struct stat st;
	DIR *d = tool_rooted(f->a, dir, sizeof(dir), "/var/lib/dkms/hugepfn") ? NULL : opendir(dir);

	memset(k, 0, sizeof(*k));
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (!strncmp(de->d_name, "kernel-", 7)) {
			k->installed |= !strncmp(de->d_name + 7, f->release, rl) && de->d_name[7 + rl] == '-';
			continue;
		}
		tool_format(sub, sizeof(sub), "%s/%s/%s", dir, de->d_name, f->release);
		k->registered = 1;
		if (!k->built || !k->version[0])
			tool_format(k->version, sizeof(k->version), "%s", de->d_name);
		if (!stat(sub, &st) && S_ISDIR(st.st_mode))
			k->built = 1;
	}
	if (d)
		closedir(d);
}

/* No hugepfn.ko modprobe can load: what to install. */
static void advise_install(const struct found *f, struct hugepfn_check *c)
{
	advise(c, "apt install hugepfn-dkms linux-headers-%s (DKMS builds it for each kernel), or from a clone: make -C kernel/driver && make -C /lib/modules/%s/build M=$PWD/kernel/driver modules_install && depmod %s",
	       f->release, f->release, f->release);
}

static void check_module(struct found *f)
{
	char moddir[PATH_MAX], path[PATH_MAX] = "", boot[160] = "";
	struct hugepfn_check *c;
	struct dkms k;
	int dep;

	tool_rooted(f->a, moddir, sizeof(moddir), "/lib/modules/%s", f->release);
	dep = in_modules_dep(moddir, path, sizeof(path));
	dkms_state(f, &k);
	if (f->hugepfn_records)
		tool_format(boot, sizeof(boot), "; the %d binding(s) recorded for hugepfn cannot be made at boot",
			 f->hugepfn_records);
	if (dep > 0) {
		add(f, "ko-install", HUGEPFN_CHECK_OK, "hugepfn.ko for Linux %s: %s%s%s (modprobe hugepfn loads it)%s",
		    f->release, path, k.installed ? ", installed by DKMS hugepfn/" : "", k.installed ? k.version : "",
		    f->loaded ? "; loaded now" : "");
	} else if (find_module(moddir, 0, path, sizeof(path))) {
		c = add(f, "ko-install", HUGEPFN_CHECK_WARN, "%s is there, but %s/modules.dep does not list it: modprobe cannot load it%s",
			path, moddir, boot);
		advise(c, "depmod %s", f->release);
	} else if (k.built) {
		c = add(f, "ko-install", HUGEPFN_CHECK_WARN, "DKMS built hugepfn/%s for Linux %s but did not install it%s",
			k.version, f->release, boot);
		advise(c, "dkms install hugepfn/%s -k %s", k.version, f->release);
	} else if (k.registered) {
		c = add(f, "ko-install", HUGEPFN_CHECK_WARN,
			"DKMS has hugepfn/%s but no build of it for Linux %s (were its headers missing when it was installed?)%s",
			k.version, f->release, boot);
		advise(c, "apt install linux-headers-%s && dkms autoinstall -k %s", f->release, f->release);
	} else {
		c = add(f, "ko-install", f->loaded && !f->hugepfn_records ? HUGEPFN_CHECK_INFO : HUGEPFN_CHECK_WARN,
			"%s for Linux %s: not under %s, no DKMS build%s", f->loaded ?
			"hugepfn.ko is loaded (by hand: nothing loads it after a reboot) but not installed" :
			"no hugepfn.ko", f->release, moddir, boot);
		advise_install(f, c);
	}
}

/* ---- the recorded bindings ----------------------------------------------------------- */

enum conf { CONF_MISSING, CONF_MASKED, CONF_FOREIGN, CONF_OURS };

/*
 * @path (under --root) as udev and systemd read a configuration file: a
 * link to /dev/null or an empty file masks (CONF_MASKED); else a file that
 * holds @needle is CONF_OURS, another CONF_FOREIGN. A link is resolved
 * under --root, as the system would resolve it under /.
 */
static enum conf conf_file(const struct found *f, const char *path, const char *needle)
{
	char target[PATH_MAX], real[PATH_MAX], text[8192];
	ssize_t n = readlink(path, target, sizeof(target) - 1);
	const char *p = path, *slash = strrchr(path, '/');
	struct stat st;
	int fd;

	if (n >= 0) {
		target[n] = '\0';
		if (!strcmp(target, "/dev/null"))
			return CONF_MASKED;
		if (target[0] == '/' ? tool_rooted(f->a, real, sizeof(real), "%s", target) :
		    tool_format(real, sizeof(real), "%.*s/%s", (int)(slash ? slash - path : 0), path, target))
			return CONF_MISSING;
		p = real;
	}
	fd = open(p, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return CONF_MISSING;
	n = fstat(fd, &st) || !S_ISREG(st.st_mode) ? -1 : read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0)
		return n ? CONF_MISSING : CONF_MASKED;
	text[n] = '\0';
	return strstr(text, needle) ? CONF_OURS : CONF_FOREIGN;
}

/*
 * Whether udev runs the bind rule at the next boot: of the same-named rule
 * files the one in /etc/udev/rules.d wins over the installed one (udev(7)),
 * and masks it when it is empty or a link to /dev/null. One in
 * /run/udev/rules.d wins too, but /run is empty at boot: it only changes
 * what udev does until then, which @what says. 1 or 0, and @what (the
 * system's paths, not --root's: what the admin sees there).
 */
static int boot_rule(const struct found *f, char *what, size_t size)
{
	char etc[PATH_MAX], run[PATH_MAX], lib[PATH_MAX];
	const char *state;
	enum conf c;
	struct stat st;

	tool_rooted(f->a, etc, sizeof(etc), "/etc/udev/rules.d/" BIND_RULE);
	tool_rooted(f->a, run, sizeof(run), "/run/udev/rules.d/" BIND_RULE);
	tool_rooted(f->a, lib, sizeof(lib), "%s/" BIND_RULE, HUGEPFN_UDEV_RULES_DIR);
	c = conf_file(f, etc, "bind --apply-persistent");
	if (c == CONF_MISSING) {
		c = conf_file(f, lib, "bind --apply-persistent");
		state = c == CONF_OURS ? "" : c == CONF_MISSING ? " (not installed)" : c == CONF_MASKED ?
			" (its file is empty)" : " (its file runs no hugepfn bind --apply-persistent)";
	} else {
		state = c == CONF_OURS ? " (/etc/udev/rules.d's copy)" : c == CONF_MASKED ?
			" (masked in /etc/udev/rules.d)" : " (replaced in /etc/udev/rules.d by a file that runs no "
			"hugepfn bind --apply-persistent)";
	}
	tool_format(what, size, "the udev rule %s%s%s", BIND_RULE, state, lstat(run, &st) ? "" :
		    " (/run/udev/rules.d's stands in for it until the next boot)");
	return c == CONF_OURS;
}

/*
 * Whether systemd starts the unit at the next boot: enabled (the wants
 * link resolves to the unit) and not masked (/etc/systemd/system/UNIT
 * empty or a link to /dev/null; /run/systemd/system/UNIT until then).
 */
static int boot_unit(const struct found *f, char *what, size_t size)
{
	char wants[PATH_MAX], etc[PATH_MAX], run[PATH_MAX], target[PATH_MAX];
	ssize_t n;

	tool_rooted(f->a, wants, sizeof(wants), "/etc/systemd/system/sysinit.target.wants/" BIND_UNIT);
	tool_rooted(f->a, etc, sizeof(etc), "/etc/systemd/system/" BIND_UNIT);
	tool_rooted(f->a, run, sizeof(run), "/run/systemd/system/" BIND_UNIT);
	n = readlink(wants, target, sizeof(target) - 1);
	target[n > 0 ? n : 0] = '\0';
	if (conf_file(f, etc, "") == CONF_MASKED || conf_file(f, run, "") == CONF_MASKED)
		return tool_format(what, size, BIND_UNIT " (masked)"), 0;
	if (n <= 0)
		return tool_format(what, size, BIND_UNIT " (not enabled)"), 0;
	if (strcmp(strrchr(target, '/') ? strrchr(target, '/') + 1 : target, BIND_UNIT) ||
	    conf_file(f, wants, "ExecStart=") != CONF_OURS)
		return tool_format(what, size, BIND_UNIT " (enabled, but its link leads to no unit: %s)", target), 0;
	return tool_format(what, size, BIND_UNIT), 1;
}

/* What makes the records at boot: the udev rule (or an admin's copy of it) and the unit. */
static void check_boot(struct found *f, const char *dir, int n)
{
	char rule[320], unit[PATH_MAX + 96];
	int has_rule = boot_rule(f, rule, sizeof(rule)), enabled = boot_unit(f, unit, sizeof(unit));
	struct hugepfn_check *c;

	if (!has_rule && !enabled) {
		c = add(f, "bindings", HUGEPFN_CHECK_WARN, "%d binding(s) recorded in %s, but neither %s nor %s makes "
			"them at boot", n, dir, rule, unit);
		advise(c, "install hugepfn's udev rule and unit (meson install, or the hugepfn package) and systemctl enable " BIND_UNIT);
	} else if (!has_rule) {
		c = add(f, "bindings", HUGEPFN_CHECK_WARN, "%d binding(s) recorded in %s: " BIND_UNIT " makes them at boot, but without %s a device that appears later is not bound",
			n, dir, rule);
		advise(c, "install hugepfn's udev rule (meson install, or the hugepfn package), and remove what masks it");
	} else if (!enabled) {
		c = add(f, "bindings", HUGEPFN_CHECK_INFO, "%d binding(s) recorded in %s: %s makes each as its device "
			"appears; no service can be ordered after them without %s", n, dir, rule, unit);
		advise(c, "systemctl unmask " BIND_UNIT "; systemctl enable " BIND_UNIT " (services that use the devices: After=" BIND_UNIT ")");
	} else {
		add(f, "bindings", HUGEPFN_CHECK_OK, "%d binding(s) recorded in %s: the udev rule makes each as its device appears, " BIND_UNIT " all of them before sysinit.target",
		    n, dir);
	}
}

static void check_record(struct found *f, struct hugepfn_ctx *ctx, const struct tool_record *r)
{
	struct hugepfn_pci_info info;
	struct hugepfn_check *c;
	char detail[1024];
	int ret;

	if (r->error[0]) {
		c = add(f, "binding", r->ignored ? HUGEPFN_CHECK_INFO : HUGEPFN_CHECK_FAIL, "%s", r->error);
		advise(c, "%s", r->advice);
		return;
	}
	ret = hugepfn_pci_info(ctx, r->bdf, &info);
	if (ret == -ENOENT) {
		add(f, "binding", HUGEPFN_CHECK_INFO, "%s: recorded for %s; no such device now (the udev rule binds it when it appears)",
		    r->bdf, r->driver);
	} else if (ret) {
		/* only "no such device" is absence: anything else is not knowing */
		hugepfn_ctx_error(ctx, detail, sizeof(detail));
		c = add(f, "binding", HUGEPFN_CHECK_WARN, "%s: recorded for %s; what it is bound to is unknown: %s", r->bdf,
			r->driver, detail);
		advise(c, "hugepfn doctor %s", r->bdf);
	} else if (!strcmp(info.driver, r->driver)) {
		add(f, "binding", HUGEPFN_CHECK_OK, "%s: recorded for %s, and bound to it", r->bdf, r->driver);
	} else {
		c = add(f, "binding", HUGEPFN_CHECK_WARN, "%s: recorded for %s, but bound to %s", r->bdf, r->driver,
			info.driver[0] ? info.driver : "no driver");
		advise(c, "hugepfn bind --apply-persistent %s binds it now and says what fails; after a boot: journalctl -b -u " BIND_UNIT,
		       r->bdf);
	}
}

/* Whether @d, in a vfio-pci device's IOMMU group, keeps VFIO from using the group. */
static int holds_group(const struct hugepfn_pci_info *d)
{
	/* bridges are no DMA masters of their own: VFIO lets pcieport keep them */
	return d->driver[0] && strcmp(d->driver, "vfio-pci") && strcmp(d->driver, "pci-stub") &&
	       (d->class_code >> 16) != 0x06;
}

/*
 * A device recorded for vfio-pci is of no use while a host driver holds
 * another member of its IOMMU group: VFIO refuses the whole group.
 */
static void check_group(struct found *f, const struct tool_record *r, const struct hugepfn_pci_info *devs, int ndev)
{
	char held[1024] = "", first[16] = "";
	struct hugepfn_check *c;
	int i, group = -1;

	for (i = 0; i < ndev; i++)
		if (!strcmp(devs[i].bdf, r->bdf))
			group = devs[i].iommu_group;
	for (i = 0; group >= 0 && i < ndev; i++) {
		if (devs[i].iommu_group != group || !strcmp(devs[i].bdf, r->bdf) || !holds_group(&devs[i]))
			continue;
		tool_format(held + strlen(held), sizeof(held) - strlen(held), "%s%s (%s)", held[0] ? ", " : "",
			    devs[i].bdf, devs[i].driver);
		if (!first[0])
			tool_format(first, sizeof(first), "%s", devs[i].bdf);
	}
	if (!held[0])
		return;
	c = add(f, "binding-group", HUGEPFN_CHECK_WARN, "%s: recorded for vfio-pci, but its IOMMU group %d also holds "
		"%s, bound to a host driver: VFIO cannot use the group while one is", r->bdf, group, held);
	advise(c, "hand each to vfio-pci too (hugepfn bind --persist %s vfio-pci), unbind it, or move %s to a slot "
	       "with an IOMMU group of its own", first, r->bdf);
}

/* The records, read first: check_module() says what they need of hugepfn.ko. */
static int read_records(struct found *f, struct hugepfn_ctx *ctx, char *dir, size_t size, struct tool_record **recs,
			struct tool_why *why)
{
	int n, i;

	*recs = NULL;
	if (tool_records_dir(f->a, dir, size))
		return 0;
	n = tool_records_read(ctx, dir, NULL, recs, why);
	for (i = 0; i < n; i++)
		f->hugepfn_records += !strcmp((*recs)[i].driver, "hugepfn");
	return n;
}

static void check_records(struct found *f, struct hugepfn_ctx *ctx, const char *dir, const struct tool_record *recs,
			  int n, const struct tool_why *why)
{
	struct hugepfn_pci_info *devs = NULL;
	struct hugepfn_check *c;
	int i, ndev = 0, real = 0;

	if (n < 0) {
		/* a directory of another user's, or writable by others, is refused: a boot applies nothing */
		c = add(f, "bindings", n == -EPERM ? HUGEPFN_CHECK_FAIL : HUGEPFN_CHECK_WARN, "cannot read the records: %s",
			why->detail);
		advise(c, "%s", why->advice[0] ? why->advice : "run as root");
		return;
	}
	for (i = 0; i < n; i++)
		real += !recs[i].ignored;
	if (!real)
		add(f, "bindings", HUGEPFN_CHECK_INFO, "no device is bound at boot: %s holds no record (hugepfn bind --help)", dir);
	else
		check_boot(f, dir, real);
	for (i = 0; i < n; i++) {
		check_record(f, ctx, &recs[i]);
		if (!recs[i].error[0] && !strcmp(recs[i].driver, "vfio-pci")) {
			if (!devs)
				ndev = tool_list_all(ctx, 0, (void **)&devs);
			check_group(f, &recs[i], devs, ndev < 0 ? 0 : ndev);
		}
	}
	free(devs);
}

int tool_install_checks(struct hugepfn_ctx *ctx, const struct tool_args *a, const struct hugepfn_check *lib,
			int nlib, struct hugepfn_check **out)
{
	char dir[PATH_MAX], mod[PATH_MAX];
	struct tool_record *recs;
	struct tool_why why;
	struct utsname u;
	struct found *f = calloc(1, sizeof(*f));
	int n;

	*out = NULL;
	if (!f)
		return -ENOMEM;
	f->a = a;
	tool_format(f->release, sizeof(f->release), "%s", uname(&u) ? "?" : u.release);
	tool_format(mod, sizeof(mod), "%s/module/hugepfn", a->sysfs_root ? a->sysfs_root : "/sys");
	f->loaded = !access(mod, F_OK);
	n = read_records(f, ctx, dir, sizeof(dir), &recs, &why);
	/* a line a record, a group line a vfio-pci record, and the others */
	f->max = 2 * (n > 0 ? n : 0) + 6;
	f->c = calloc((size_t)f->max, sizeof(*f->c));
	if (f->c) {
		check_kernel(f, lib, nlib);
		check_module(f);
		check_records(f, ctx, dir, recs, n, &why);
	}
	free(recs);
	*out = f->c;
	n = f->c ? f->n : -ENOMEM;
	free(f);
	return n;
}
