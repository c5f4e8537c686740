// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * hugepfn_doctor(): why a mapping does or does not come out huge, one
 * finding at a time, each with what to do about it.
 *
 * Whether the kernel's remap_pfn_range() installs huge leaves is not
 * written anywhere a program can read (the series adds no run-time flag,
 * and a module built for a kernel cannot tell which patches it has), so it
 * is found out the honest way: map one aligned block of device memory at a
 * congruent address and ask what the kernel installed. The hugepfn driver's
 * query ioctl answers exactly on every kernel; a device with no driver is
 * probed through sysfs only where the page-table dump can tell. Nothing is
 * read from or written to the memory probed, and nothing is opened
 * exclusively (VFIO devices are never opened).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "align.h"
#include "hugepfn_internal.h"

#define MAX_SIZES 4

enum tri { NO = 0, YES = 1, UNKNOWN = -1 };

struct doc {
	struct hugepfn_ctx *ctx;
	struct hugepfn_check *out;
	size_t max, n;
	struct hugepfn_check scratch;	/* findings past @max are counted, not kept */
	uint64_t page, sizes[MAX_SIZES];
	int nsizes;
	/* what the probe found, per leaf level (PMD, PUD) */
	enum tri remap[2];
	char probed[2][160];
};

static struct hugepfn_check *add(struct doc *d, const char *check, enum hugepfn_check_status st,
				 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static struct hugepfn_check *add(struct doc *d, const char *check, enum hugepfn_check_status st,
				 const char *fmt, ...)
{
	struct hugepfn_check *c = d->n < d->max ? &d->out[d->n] : &d->scratch;
	va_list ap;

	d->n++;
	memset(c, 0, sizeof(*c));
	snprintf(c->check, sizeof(c->check), "%s", check);
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

HUGEPFN_API const char *hugepfn_check_status_name(enum hugepfn_check_status status)
{
	switch (status) {
	case HUGEPFN_CHECK_OK: return "ok";
	case HUGEPFN_CHECK_INFO: return "info";
	case HUGEPFN_CHECK_WARN: return "warn";
	case HUGEPFN_CHECK_FAIL: return "fail";
	}
	return "unknown";
}

/* "4K", "2M", "1G", "512M": sizes as the rest of the project prints them. */
static const char *sz(uint64_t v, char *buf, size_t n)
{
	if (v >= (1ULL << 40) && !(v & ((1ULL << 40) - 1)))
		snprintf(buf, n, "%" PRIu64 "T", v >> 40);
	else if (v >= (1ULL << 30) && !(v & ((1ULL << 30) - 1)))
		snprintf(buf, n, "%" PRIu64 "G", v >> 30);
	else if (v >= (1ULL << 20) && !(v & ((1ULL << 20) - 1)))
		snprintf(buf, n, "%" PRIu64 "M", v >> 20);
	else if (v >= 1024 && !(v & 1023))
		snprintf(buf, n, "%" PRIu64 "K", v >> 10);
	else
		snprintf(buf, n, "%" PRIu64, v);
	return buf;
}

static int sys_exists(const struct doc *d, const char *rel)
{
	char path[HPFN_PATH_MAX];

	return !hpfn_sysfs_path(d->ctx, path, sizeof(path), "%s", rel) && access(path, F_OK) == 0;
}

static int sys_read(const struct doc *d, char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int sys_read(const struct doc *d, char *buf, size_t size, const char *fmt, ...)
{
	char rel[HPFN_PATH_MAX], path[HPFN_PATH_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	buf[0] = '\0';
	if (hpfn_sysfs_path(d->ctx, path, sizeof(path), "%s", rel))
		return -ENAMETOOLONG;
	return hpfn_read_text(path, buf, size);
}

/* The largest offered leaf that [phys, phys + size) holds a whole aligned block of. */
static uint64_t best_leaf(const struct doc *d, uint64_t phys, uint64_t size)
{
	uint64_t b = hpfn_best_leaf_size(phys, size, d->page, d->sizes + 1, d->nsizes - 1);

	return b ? b : d->page;
}

/* ---- the remap probe ----------------------------------------------------- */

/*
 * Map one whole @leaf-aligned block of some region of @dev at a congruent
 * address and return the page size the kernel gave it: @leaf or less, 0
 * when no region holds such a block or the size cannot be known.
 */
/*
 * Map [off, off + leaf) of region @i at a congruent address with @flags:
 * the smallest page size the kernel gave it (UINT64_MAX: unknown), or 0
 * when it does not map (a write-combining request that x86 PAT would
 * downgrade, for one).
 */
static uint64_t probe_block(struct hugepfn_dev *dev, int i, uint64_t off, uint64_t leaf,
			    unsigned int flags)
{
	struct hugepfn_run runs[8];
	struct hugepfn_map *map;
	uint64_t ps = UINT64_MAX;
	int n, j;

	/* a mapping made only to read its page tables: nothing to enable */
	if (hpfn_map(dev, i, off, leaf, flags | HPFN_MAP_NO_ENABLE, &map))
		return 0;
	n = hpfn_map_runs(map, runs, NULL, 8);
	for (j = 0; j < n && j < 8; j++)
		if (j == 0 || runs[j].page_size < ps)
			ps = runs[j].page_size;
	hpfn_unmap(map);
	return n <= 0 || !ps ? UINT64_MAX : ps;
}

/*
 * Map one whole @leaf-aligned block of some region of @dev at a congruent
 * address and return the page size the kernel gave it: @leaf or less, 0
 * when no region holds such a block or the size cannot be known. A few
 * blocks of a region are tried, in case one does not map.
 */
static uint64_t probe_dev(struct hugepfn_dev *dev, uint64_t leaf, char *where, size_t wsize,
			  const char *spec)
{
	int nr = hugepfn_region_count(dev), i, tries;

	for (i = 0; i < nr; i++) {
		unsigned int flags = HUGEPFN_MAP_READONLY;
		struct hugepfn_region r;
		uint64_t first, ps = 0;

		if (hugepfn_region_info(dev, i, &r) || !(r.flags & HUGEPFN_RGN_MAPPABLE) || !r.phys ||
		    (r.flags & HUGEPFN_RGN_SPARSE))
			continue;
		/* a fault-filled region says nothing of remap_pfn_range(); its WC alias does */
		if (r.flags & HUGEPFN_RGN_FAULT) {
			if (!(r.flags & HUGEPFN_RGN_WC))
				continue;
			flags |= HUGEPFN_MAP_WC;
		}
		first = (r.phys + leaf - 1) & ~(leaf - 1);
		for (tries = 0; !ps && tries < 4; tries++, first += leaf) {
			if (first < r.phys || first - r.phys >= r.size || r.size - (first - r.phys) < leaf)
				break;
			if (hugepfn_dev_backend(dev) == HUGEPFN_BACKEND_UIO && first != r.phys)
				break;
			ps = probe_block(dev, i, first - r.phys, leaf, flags);
		}
		if (!ps)
			continue;
		if (ps == UINT64_MAX)
			return 0;	/* mapped, but no way to see the page size */
		snprintf(where, wsize, "%s region %d%s through %s", spec, i,
			 flags & HUGEPFN_MAP_WC ? " (write-combining alias)" : "",
			 hugepfn_backend_name(hugepfn_dev_backend(dev)));
		return ps;
	}
	return 0;
}

/* Probe @spec (opened through @backend) for each leaf level not known yet. */
static void probe_spec(struct doc *d, const char *spec, enum hugepfn_backend backend)
{
	struct hugepfn_dev *dev;
	int lvl;

	if (hpfn_open(d->ctx, spec, backend, &dev)) {
		hugepfn_close(dev);
		return;
	}
	for (lvl = 0; lvl < 2 && lvl + 1 < d->nsizes; lvl++) {
		uint64_t leaf = d->sizes[lvl + 1], got;

		if (d->remap[lvl] != UNKNOWN)
			continue;
		got = probe_dev(dev, leaf, d->probed[lvl], sizeof(d->probed[lvl]), spec);
		if (got)
			d->remap[lvl] = got >= leaf ? YES : NO;
	}
	hugepfn_close(dev);
}

/*
 * Find out what remap_pfn_range() does: through @spec first when it is a
 * device mapped at mmap time (hugepfn, or no driver: sysfs), then through
 * every hugepfn.ko node.
 */
static void probe(struct doc *d, const char *spec, const char *driver)
{
	char path[HPFN_PATH_MAX];
	struct dirent *de;
	DIR *dir;

	d->remap[0] = d->remap[1] = UNKNOWN;
	if (spec && driver && !strcmp(driver, "hugepfn"))
		probe_spec(d, spec, HUGEPFN_BACKEND_AUTO);
	/* no driver: sysfs, unless that would have to turn memory decoding on */
	if (spec && driver && !driver[0]) {
		char en[8];

		if (sys_read(d, en, sizeof(en), "bus/pci/devices/%s/enable", spec) > 0 && en[0] != '0')
			probe_spec(d, spec, HUGEPFN_BACKEND_SYSFS);
	}
	hpfn_sysfs_path(d->ctx, path, sizeof(path), "class/hugepfn");
	dir = opendir(path);
	if (!dir)
		return;
	while ((de = readdir(dir)) && (d->remap[0] == UNKNOWN || d->remap[1] == UNKNOWN)) {
		char node[HPFN_PATH_MAX];

		if (de->d_name[0] == '.')
			continue;
		hpfn_dev_path(d->ctx, node, sizeof(node), "hugepfn/%s", de->d_name);
		probe_spec(d, node, HUGEPFN_BACKEND_DRIVER);
	}
	closedir(dir);
}

/* ---- system-wide checks ------------------------------------------------------ */

static void check_sizes(struct doc *d)
{
	char a[24], list[96] = "";
	size_t used = 0;
	int i;

	for (i = 1; i < d->nsizes; i++)
		used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s", i > 1 ? " " : "",
					 sz(d->sizes[i], a, sizeof(a)));
	if (d->nsizes < 2) {
		advise(add(d, "page-sizes", HUGEPFN_CHECK_FAIL,
			   "base page %s; no huge leaf size offered (no transparent_hugepage/hpage_pmd_size, no hugepages-<N>kB in sysfs)",
			   sz(d->page, a, sizeof(a))),
		       "use a kernel built with CONFIG_TRANSPARENT_HUGEPAGE");
		return;
	}
	{
		char b[24];
		uint64_t cand[2];
		struct hugepfn_check *c;

		hpfn_leaf_candidates(d->page, cand);
		c = add(d, "page-sizes", HUGEPFN_CHECK_OK, "base page %s; leaf sizes this system offers: %s%s",
			sz(d->page, a, sizeof(a)), list,
			d->sizes[d->nsizes - 1] < cand[1] ? " (no PUD leaf: the CPU maps no such pages)" : "");
		if (d->sizes[d->nsizes - 1] < cand[1])
			advise(c, "%s leaves need a CPU that maps %s pages (x86: the pdpe1gb flag, not turned off by nogbpages)",
			       sz(cand[1], b, sizeof(b)), b);
	}
}

static void check_thp(struct doc *d)
{
	char buf[128], *l, *r;
	struct hugepfn_check *c;

	if (sys_read(d, buf, sizeof(buf), "kernel/mm/transparent_hugepage/enabled") < 0) {
		advise(add(d, "thp", HUGEPFN_CHECK_FAIL,
			   "no /sys/kernel/mm/transparent_hugepage: a kernel without THP maps no huge PFN leaves at all (neither remap nor vfio-pci faults)"),
		       "use a kernel built with CONFIG_TRANSPARENT_HUGEPAGE");
		return;
	}
	l = strchr(buf, '[');
	r = l ? strchr(l, ']') : NULL;
	if (!l || !r) {
		add(d, "thp", HUGEPFN_CHECK_INFO, "THP enabled: '%s' (unrecognised)", buf);
		return;
	}
	*r = '\0';
	l++;
	if (!strcmp(l, "never")) {
		c = add(d, "thp", HUGEPFN_CHECK_WARN,
			"THP enabled=never: 6.12 kernels that apply THP settings to PFN maps skip vfio-pci's huge faults (later ones exempt them); remap leaves (hugepfn, UIO, sysfs) do not depend on it");
		advise(c, "echo madvise > /sys/kernel/mm/transparent_hugepage/enabled");
	} else if (!strcmp(l, "madvise")) {
		add(d, "thp", HUGEPFN_CHECK_OK,
		    "THP enabled=madvise: remap leaves do not depend on it; vfio-pci's huge faults need no MADV_NOHUGEPAGE or PR_SET_THP_DISABLE in the process (and, on 6.12 kernels that apply THP settings to PFN maps, MADV_HUGEPAGE)");
	} else {
		add(d, "thp", HUGEPFN_CHECK_OK,
		    "THP enabled=%s: remap leaves do not depend on it; vfio-pci's huge faults need no MADV_NOHUGEPAGE or PR_SET_THP_DISABLE in the process", l);
	}
}

static void check_remap(struct doc *d)
{
	static const char *const names[2] = { "remap-pmd", "remap-pud" };
	int lvl;

	for (lvl = 0; lvl < 2; lvl++) {
		char a[24];
		struct hugepfn_check *c;
		const char *leaf;

		if (lvl + 1 >= d->nsizes)
			break;
		leaf = sz(d->sizes[lvl + 1], a, sizeof(a));
		switch (d->remap[lvl]) {
		case YES:
			add(d, names[lvl], HUGEPFN_CHECK_OK,
			    "remap_pfn_range() maps a %s-aligned block with a %s leaf (probe: %s)", leaf, leaf,
			    d->probed[lvl]);
			break;
		case NO:
			c = add(d, names[lvl], lvl ? HUGEPFN_CHECK_INFO : HUGEPFN_CHECK_FAIL,
				"remap_pfn_range() maps a %s-aligned block at a congruent address with smaller pages (probe: %s): this kernel lacks %s remap support",
				leaf, d->probed[lvl], lvl ? "PUD" : "PMD");
			if (lvl)
				advise(c, "%s ranges get the largest leaf below %s; %s leaves need a kernel whose remap_pfn_range() installs PUD leaves",
				       leaf, leaf, leaf);
			else
				advise(c, "boot a kernel with the hugepfn series (kernel/patches); until then hugepfn, UIO and sysfs mappings stay at the base page size (vfio-pci's fault path can still map %s)",
				       leaf);
			break;
		default:
			c = add(d, names[lvl], HUGEPFN_CHECK_INFO,
				"cannot tell whether remap_pfn_range() installs %s leaves: no %s-aligned block of device memory this user can map and see the page size of",
				leaf, leaf);
			advise(c, "as root, load hugepfn.ko with a carveout or bind a device with a big enough BAR to it (hugepfn bind BDF), then run this again");
			break;
		}
	}
}

static void check_modules(struct doc *d)
{
	char buf[64];
	struct hugepfn_check *c;
	DIR *dir;
	int groups = 0;

	if (sys_exists(d, "module/hugepfn"))
		add(d, "hugepfn.ko", HUGEPFN_CHECK_OK, "hugepfn.ko is loaded");
	else
		advise(add(d, "hugepfn.ko", HUGEPFN_CHECK_INFO, "hugepfn.ko is not loaded"),
		       "insmod hugepfn.ko (kernel/driver) to map BARs and carveouts through it, with the mapping query and aligned mmap(NULL)");
	{
		char path[HPFN_PATH_MAX];
		struct dirent *de;

		hpfn_sysfs_path(d->ctx, path, sizeof(path), "kernel/iommu_groups");
		dir = opendir(path);
		while (dir && (de = readdir(dir)))
			groups += de->d_name[0] != '.';
		if (dir)
			closedir(dir);
	}
	if (sys_read(d, buf, sizeof(buf), "module/vfio/parameters/enable_unsafe_noiommu_mode") >= 0) {
		if (buf[0] == 'Y' || buf[0] == '1') {
			c = add(d, "vfio-noiommu", HUGEPFN_CHECK_WARN,
				"VFIO no-IOMMU mode is on: devices bound to vfio-pci without an IOMMU group can DMA anywhere in memory (the kernel is tainted when one is opened)");
			advise(c, "use it only for trusted devices; with an IOMMU (intel_iommu=on, amd_iommu=on) echo 0 > /sys/module/vfio/parameters/enable_unsafe_noiommu_mode");
		} else {
			add(d, "vfio-noiommu", HUGEPFN_CHECK_OK, "VFIO no-IOMMU mode is off");
		}
	} else if (sys_exists(d, "module/vfio")) {
		add(d, "vfio-noiommu", HUGEPFN_CHECK_INFO, "VFIO has no no-IOMMU mode (kernel without CONFIG_VFIO_NOIOMMU)");
	}
	if (groups)
		add(d, "iommu", HUGEPFN_CHECK_OK, "an IOMMU is on: %d IOMMU groups", groups);
	else
		advise(add(d, "iommu", HUGEPFN_CHECK_INFO, "no IOMMU groups: no IOMMU is on"),
		       "vfio-pci then needs no-IOMMU mode (echo 1 > /sys/module/vfio/parameters/enable_unsafe_noiommu_mode before binding); hugepfn, UIO and sysfs do not need an IOMMU");
}

/* ---- device checks ------------------------------------------------------------- */

/* Who may open @path: a finding for the node check. */
static void check_node(struct doc *d, const char *path, const char *why_needed)
{
	struct hugepfn_check *c;
	char owner[64], group[64], mode[16];
	struct passwd *pw;
	struct group *gr;
	struct stat st;

	if (stat(path, &st)) {
		c = add(d, "node", HUGEPFN_CHECK_FAIL, "%s: %s", path, strerror(errno));
		advise(c, "%s", why_needed);
		return;
	}
	pw = getpwuid(st.st_uid);
	gr = getgrgid(st.st_gid);
	snprintf(owner, sizeof(owner), "%s", pw ? pw->pw_name : "?");
	if (!pw)
		snprintf(owner, sizeof(owner), "%u", (unsigned int)st.st_uid);
	if (gr)
		snprintf(group, sizeof(group), "%s", gr->gr_name);
	else
		snprintf(group, sizeof(group), "%u", (unsigned int)st.st_gid);
	snprintf(mode, sizeof(mode), "%04o", (unsigned int)(st.st_mode & 07777));
	if (faccessat(AT_FDCWD, path, R_OK | W_OK, AT_EACCESS) == 0) {
		add(d, "node", HUGEPFN_CHECK_OK, "%s: mode %s %s:%s; this user (uid %u) can open it read-write",
		    path, mode, owner, group, (unsigned int)geteuid());
		return;
	}
	c = add(d, "node", HUGEPFN_CHECK_FAIL, "%s: mode %s %s:%s; this user (uid %u) cannot open it read-write",
		path, mode, owner, group, (unsigned int)geteuid());
	if (strstr(path, "/hugepfn/"))
		advise(c, "run as root, or give a group access with a udev rule (GROUP=..., MODE=\"0660\": kernel/driver/README.md, Permissions)");
	else if (strstr(path, "/resource"))
		advise(c, "sysfs resource files are root-only: run as root, or bind the device to hugepfn and give a group its node");
	else
		advise(c, "run as root, or give a group access to %s with a udev rule", path);
}

/* A region or BAR: its size and physical alignment against the leaf sizes. */
static void check_range(struct doc *d, const char *check, const char *what, uint64_t phys, uint64_t size,
			const char *fix)
{
	uint64_t ideal, got, align, least = d->nsizes > 1 ? d->sizes[1] : 0;
	char a[24], b[24], c1[24], c2[24];
	struct hugepfn_check *c;

	if (!least) {
		add(d, check, HUGEPFN_CHECK_INFO, "%s: %s at 0x%" PRIx64 " (no huge leaf size offered)", what,
		    sz(size, a, sizeof(a)), phys);
		return;
	}
	if (size < least) {
		add(d, check, HUGEPFN_CHECK_INFO, "%s: %s at 0x%" PRIx64 ": smaller than a %s leaf, base pages only",
		    what, sz(size, a, sizeof(a)), phys, sz(least, b, sizeof(b)));
		return;
	}
	got = best_leaf(d, phys, size);
	ideal = best_leaf(d, 0, size);
	align = phys ? phys & -phys : 1ULL << 63;
	if (got < ideal) {
		c = add(d, check, HUGEPFN_CHECK_WARN,
			"%s: %s at 0x%" PRIx64 " is aligned to %s only: it can use leaves up to %s where an aligned one of its size could use %s",
			what, sz(size, a, sizeof(a)), phys, sz(align, b, sizeof(b)),
			got > d->page ? sz(got, c1, sizeof(c1)) : "the base page", sz(ideal, c2, sizeof(c2)));
		advise(c, "%s", fix);
		return;
	}
	if (phys & (least - 1)) {
		c = add(d, check, HUGEPFN_CHECK_WARN,
			"%s: %s at 0x%" PRIx64 " is aligned to %s only: what lies before its first and after its last %s boundary stays at base pages",
			what, sz(size, a, sizeof(a)), phys, sz(align, b, sizeof(b)), sz(least, c1, sizeof(c1)));
		advise(c, "%s", fix);
		return;
	}
	add(d, check, HUGEPFN_CHECK_OK, "%s: %s at 0x%" PRIx64 ", aligned for %s leaves", what,
	    sz(size, a, sizeof(a)), phys, sz(got, b, sizeof(b)));
}

/* How the probe's result reads for a path mapped at mmap time. */
static enum hugepfn_check_status remap_status(const struct doc *d)
{
	if (d->nsizes < 2 || d->remap[0] == NO)
		return HUGEPFN_CHECK_FAIL;
	return d->remap[0] == YES ? HUGEPFN_CHECK_OK : HUGEPFN_CHECK_INFO;
}

static const char *remap_says(const struct doc *d)
{
	if (d->nsizes < 2)
		return "no huge leaf size is offered here";
	switch (d->remap[0]) {
	case YES: return "this kernel does (remap-pmd)";
	case NO: return "this kernel does not (remap-pmd)";
	default: return "whether this kernel does is unknown (remap-pmd)";
	}
}

/* Whether @bdf's node (hugepfn.ko) fills its BAR mappings at fault time; -1 if unknown. */
static int hugepfn_fault_filled(struct doc *d, const char *bdf)
{
	struct hugepfn_dev *dev;
	struct hugepfn_region r;
	int i, nr, fault = -1;

	if (hpfn_open(d->ctx, bdf, HUGEPFN_BACKEND_DRIVER, &dev)) {
		hugepfn_close(dev);
		return -1;
	}
	nr = hugepfn_region_count(dev);
	for (i = 0; i < nr; i++)
		if (!hugepfn_region_info(dev, i, &r) && (r.flags & HUGEPFN_RGN_MAPPABLE))
			fault = !!(r.flags & HUGEPFN_RGN_FAULT);
	hugepfn_close(dev);
	return fault;
}

/* How hugepfn.ko (directly, or as @uio's UIO personality) maps @bdf's BARs. */
static void check_hugepfn_bars(struct doc *d, const char *bdf)
{
	struct hugepfn_check *c;

	if (hugepfn_fault_filled(d, bdf) == 1) {
		c = add(d, "driver", d->nsizes > 1 ? HUGEPFN_CHECK_OK : HUGEPFN_CHECK_FAIL,
			"hugepfn.ko fills BAR mappings at fault time (huge_fault, as vfio-pci: this kernel's remap_pfn_range() installs no huge leaves) and aligns mmap(NULL) to the physical address: leaves up to %s; hugepfn_map() populates them at once, a plain mmap() at the first touch",
			d->nsizes > 2 ? "1G" : "2M");
		advise(c, "nothing to do; for huge carveout and write-combining mappings too, boot a kernel with the series (see remap-pmd)");
		return;
	}
	c = add(d, "driver", remap_status(d),
		"hugepfn.ko maps BARs with remap_pfn_range() at mmap time and aligns mmap(NULL) to the physical address: huge leaves where the kernel installs them; %s",
		remap_says(d));
	if (c->status == HUGEPFN_CHECK_FAIL)
		advise(c, "see remap-pmd");
}

static void check_carveout(struct doc *d, const char *name)
{
	char rel[HPFN_PATH_MAX], node[HPFN_PATH_MAX], spec[96], fix[256];
	struct hugepfn_dev *dev;
	struct hugepfn_region r;
	struct hugepfn_check *c;
	char a[24];

	snprintf(rel, sizeof(rel), "class/hugepfn/carveout-%s", name);
	if (!sys_exists(d, rel)) {
		c = add(d, "device", HUGEPFN_CHECK_FAIL, "no carveout '%s': hugepfn.ko is %s", name,
			sys_exists(d, "module/hugepfn") ? "loaded without it" : "not loaded");
		advise(c, "reserve the range (memmap=SIZE$ADDR) and insmod hugepfn.ko carveouts=%s:SIZE@ADDR", name);
		return;
	}
	add(d, "device", HUGEPFN_CHECK_OK, "carveout '%s' of hugepfn.ko", name);
	c = add(d, "driver", remap_status(d),
		"hugepfn.ko maps carveouts write-back with remap_pfn_range() at mmap time (no fault handler): huge leaves where the kernel installs them; %s",
		remap_says(d));
	if (c->status == HUGEPFN_CHECK_FAIL)
		advise(c, "see remap-pmd");
	hpfn_dev_path(d->ctx, node, sizeof(node), "hugepfn/carveout-%s", name);
	check_node(d, node, "is udev running? the node appears when hugepfn.ko registers the carveout");
	snprintf(spec, sizeof(spec), "carveout:%s", name);
	if (hpfn_open(d->ctx, spec, HUGEPFN_BACKEND_DRIVER, &dev) ||
	    hugepfn_region_info(dev, 0, &r)) {
		add(d, "region0", HUGEPFN_CHECK_INFO, "cannot read the carveout's address and size without access to %s",
		    node);
		hugepfn_close(dev);
		return;
	}
	hugepfn_close(dev);
	snprintf(fix, sizeof(fix),
		 "reserve and declare it at a %s-aligned address (memmap=SIZE$ADDR and carveouts=%s:SIZE@ADDR with ADDR a multiple of %s)",
		 d->nsizes > 1 ? sz(d->sizes[1], a, sizeof(a)) : "leaf", name, a);
	check_range(d, "region0", "carveout", r.phys, r.size, fix);
}

/* The uioN number of a PCI device bound to a UIO driver, or -1. */
static int uio_number(const struct doc *d, const char *bdf)
{
	char path[HPFN_PATH_MAX];
	struct dirent *de;
	int num = -1;
	DIR *dir;

	hpfn_sysfs_path(d->ctx, path, sizeof(path), "bus/pci/devices/%s/uio", bdf);
	dir = opendir(path);
	while (dir && (de = readdir(dir)))
		if (sscanf(de->d_name, "uio%d", &num) == 1)
			break;
	if (dir)
		closedir(dir);
	return num;
}

/* The PCI address of uio@num's parent device, in @bdf; whether there is one. */
static int uio_parent(const struct doc *d, int num, char *bdf, size_t size)
{
	char path[HPFN_PATH_MAX], link[HPFN_PATH_MAX];
	const char *base;
	ssize_t n;

	hpfn_sysfs_path(d->ctx, path, sizeof(path), "class/uio/uio%d/device", num);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return 0;
	link[n] = '\0';
	base = strrchr(link, '/') ? strrchr(link, '/') + 1 : link;
	if (strlen(base) >= size)
		return 0;
	memcpy(bdf, base, strlen(base) + 1);
	return 1;
}

static void check_uio(struct doc *d, int num)
{
	char name[64], node[HPFN_PATH_MAX], what[32], bdf[64];
	struct hugepfn_check *c;
	int i, maps = 0;

	if (sys_read(d, name, sizeof(name), "class/uio/uio%d/name", num) < 0) {
		advise(add(d, "device", HUGEPFN_CHECK_FAIL, "no UIO device uio%d", num),
		       "ls /sys/class/uio lists the UIO devices");
		return;
	}
	add(d, "device", HUGEPFN_CHECK_OK, "uio%d (%s)", num, name);
	for (i = 0; i < HPFN_MAX_REGIONS; i++) {
		char buf[32];
		uint64_t addr, size;

		if (sys_read(d, buf, sizeof(buf), "class/uio/uio%d/maps/map%d/addr", num, i) < 0)
			break;
		addr = strtoull(buf, NULL, 0);
		sys_read(d, buf, sizeof(buf), "class/uio/uio%d/maps/map%d/size", num, i);
		size = strtoull(buf, NULL, 0);
		snprintf(what, sizeof(what), "map%d", i);
		check_range(d, what, what, addr, size,
			    "a UIO map starts where its driver says; nothing to do here but map it at a congruent address (hugepfn_map() does)");
		maps++;
	}
	if (!maps) {
		c = add(d, "driver", HUGEPFN_CHECK_FAIL,
			"uio%d (%s) has no memory maps: nothing of it can be mapped through /dev/uio%d (uio_pci_generic never has any)",
			num, name, num);
		advise(c, "unbind it and map the BARs through sysfs (no driver), or bind it to hugepfn or vfio-pci (hugepfn bind BDF [vfio-pci])");
	} else if (!strcmp(name, "hugepfn") && uio_parent(d, num, bdf, sizeof(bdf)) &&
		   hugepfn_fault_filled(d, bdf) == 1) {
		c = add(d, "driver", d->nsizes > 1 ? HUGEPFN_CHECK_OK : HUGEPFN_CHECK_FAIL,
			"hugepfn.ko's UIO personality maps through the driver, which fills BAR mappings at fault time (huge_fault, this kernel's remap_pfn_range() installs no huge leaves): leaves up to %s where the virtual and physical addresses agree; the UIO core has no hook to choose an aligned address for mmap(NULL)",
			d->nsizes > 2 ? "1G" : "2M");
	} else {
		c = add(d, "driver", remap_status(d),
			"UIO maps physical memory with remap_pfn_range() at mmap time (no fault handler): huge leaves where the kernel installs them, %s; the UIO core has no hook to choose an aligned address for mmap(NULL)",
			remap_says(d));
		advise(c, "map through hugepfn_map() (or mmap() at an address congruent to the physical one), or use /dev/hugepfn/ nodes, whose mmap(NULL) is aligned");
	}
	hpfn_dev_path(d->ctx, node, sizeof(node), "uio%d", num);
	check_node(d, node, "is udev running? /dev/uioN appears when the UIO device registers");
}

/* VFIO: the device's IOMMU group, its viability and no-IOMMU mode. */
static void check_vfio(struct doc *d, const char *bdf)
{
	char path[HPFN_PATH_MAX], link[HPFN_PATH_MAX], node[HPFN_PATH_MAX], gname[64] = "";
	char others[200] = "";
	const char *group;
	struct hugepfn_check *c;
	struct dirent *de;
	size_t used = 0;
	int noiommu, bad = 0;
	ssize_t n;
	DIR *dir;

	hpfn_sysfs_path(d->ctx, path, sizeof(path), "bus/pci/devices/%s/iommu_group", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0) {
		c = add(d, "iommu-group", HUGEPFN_CHECK_FAIL, "%s has no IOMMU group: vfio-pci cannot hand it out", bdf);
		advise(c, "turn the IOMMU on (intel_iommu=on / amd_iommu=on), or for a trusted device: echo 1 > /sys/module/vfio/parameters/enable_unsafe_noiommu_mode, then rebind it to vfio-pci");
		return;
	}
	link[n] = '\0';
	group = strrchr(link, '/') ? strrchr(link, '/') + 1 : link;
	sys_read(d, gname, sizeof(gname), "kernel/iommu_groups/%s/name", group);
	hpfn_dev_path(d->ctx, node, sizeof(node), "vfio/noiommu-%s", group);
	noiommu = !strcmp(gname, "vfio-noiommu") || access(node, F_OK) == 0;
	hpfn_sysfs_path(d->ctx, path, sizeof(path), "kernel/iommu_groups/%s/devices", group);
	dir = opendir(path);
	while (dir && (de = readdir(dir))) {
		char drv[64];

		if (de->d_name[0] == '.' || !strcmp(de->d_name, bdf))
			continue;
		hpfn_pci_driver(d->ctx, de->d_name, drv, sizeof(drv));
		if (!drv[0] || !strcmp(drv, "vfio-pci") || !strcmp(drv, "pci-stub") || !strcmp(drv, "pcieport"))
			continue;
		bad++;
		if (used < sizeof(others))
			used += (size_t)snprintf(others + used, sizeof(others) - used, "%s%s (%s)",
						 used ? ", " : "", de->d_name, drv);
	}
	if (dir)
		closedir(dir);
	if (noiommu) {
		c = add(d, "iommu-group", HUGEPFN_CHECK_WARN,
			"%s is in VFIO's no-IOMMU group %s: it works (opening it needs CAP_SYS_RAWIO and taints the kernel), but its DMA is not isolated",
			bdf, group);
		advise(c, "use a real IOMMU (intel_iommu=on / amd_iommu=on) for devices you do not trust");
	} else if (bad) {
		c = add(d, "iommu-group", HUGEPFN_CHECK_FAIL,
			"IOMMU group %s is not viable: it also holds %s, bound to drivers VFIO does not allow", group,
			others);
		advise(c, "bind every device of group %s to vfio-pci (hugepfn bind BDF vfio-pci) or unbind it", group);
	} else {
		add(d, "iommu-group", HUGEPFN_CHECK_OK, "IOMMU group %s is viable (every device in it is bound to vfio-pci or to nothing)",
		    group);
	}
	if (noiommu) {
		check_node(d, node, "is vfio-pci bound? /dev/vfio/noiommu-N appears when it is");
	} else {
		hpfn_dev_path(d->ctx, node, sizeof(node), "vfio/%s", group);
		check_node(d, node, "is vfio-pci bound? /dev/vfio/N appears when it is");
	}
}

static void check_pci(struct doc *d, const char *bdf)
{
	char path[HPFN_PATH_MAX], driver[64], node[HPFN_PATH_MAX], what[32], label[32];
	struct hugepfn_pci_info info;
	struct hugepfn_check *c;
	int i, num;

	hpfn_sysfs_path(d->ctx, path, sizeof(path), "bus/pci/devices/%s", bdf);
	if (access(path, F_OK) || hugepfn_pci_info(d->ctx, bdf, &info)) {
		advise(add(d, "device", HUGEPFN_CHECK_FAIL, "no PCI device %s", bdf),
		       "'hugepfn list' shows the PCI devices and their addresses");
		return;
	}
	hpfn_pci_driver(d->ctx, bdf, driver, sizeof(driver));
	add(d, "device", HUGEPFN_CHECK_OK, "%s %04x:%04x, bound to %s", bdf, info.vendor, info.device,
	    driver[0] ? driver : "no driver");
	if (!strcmp(driver, "hugepfn")) {
		check_hugepfn_bars(d, bdf);
		hpfn_dev_path(d->ctx, node, sizeof(node), "hugepfn/pci-%s", bdf);
		check_node(d, node, "is the device bound? the node appears when hugepfn probes it");
	} else if (!strcmp(driver, "vfio-pci")) {
		c = add(d, "driver", d->nsizes > 1 ? HUGEPFN_CHECK_OK : HUGEPFN_CHECK_FAIL,
			"vfio-pci maps BARs at fault time (huge_fault): leaves up to %s where the virtual and physical addresses agree, on any 6.12 kernel; it does not align mmap(NULL) itself",
			d->nsizes > 2 ? "1G" : "2M");
		advise(c, "map through hugepfn_map() (or mmap() at an address congruent to the BAR's physical address modulo 2M)");
		check_vfio(d, bdf);
	} else if (!strncmp(driver, "uio", 3)) {
		num = uio_number(d, bdf);
		if (num < 0)
			advise(add(d, "driver", HUGEPFN_CHECK_FAIL, "%s is bound to %s but has no UIO device", bdf,
				   driver), "rebind it, or bind it to hugepfn (hugepfn bind %s)", bdf);
		else
			check_uio(d, num);
	} else if (!driver[0]) {
		c = add(d, "driver", remap_status(d),
			"no driver: the library maps its BARs through sysfs resourceN, with remap_pfn_range() at mmap time (through kernfs, root only): huge leaves where the kernel installs them, %s; page sizes are visible only in the debugfs page-table dump",
			remap_says(d));
		advise(c, "for the mapping-query ioctl, an aligned mmap(NULL) and revocation on unbind: hugepfn bind %s", bdf);
		/* the resource file of the largest memory BAR */
		for (i = 0, num = -1; i < 6; i++)
			if (info.bars[i].size && !(info.bars[i].flags & HUGEPFN_BAR_IO) &&
			    (num < 0 || info.bars[i].size > info.bars[num].size))
				num = i;
		if (num >= 0) {
			hpfn_sysfs_path(d->ctx, node, sizeof(node), "bus/pci/devices/%s/resource%d", bdf, num);
			check_node(d, node, "the BAR has no sysfs resource file: is it a memory BAR?");
		}
	} else {
		c = add(d, "driver", HUGEPFN_CHECK_FAIL,
			"%s is bound to %s: libhugepfn maps only devices bound to hugepfn, vfio-pci, a UIO driver or to nothing",
			bdf, driver);
		advise(c, "hugepfn bind %s (or: hugepfn bind %s vfio-pci), which takes it from %s", bdf, bdf, driver);
	}
	for (i = 0; i < 6; i++) {
		const struct hugepfn_bar *b = &info.bars[i];

		if (!b->size || (b->flags & HUGEPFN_BAR_IO))
			continue;
		snprintf(what, sizeof(what), "bar%d", i);
		snprintf(label, sizeof(label), "BAR%d", i);
		check_range(d, what, label, b->phys, b->size,
			    "BARs are placed by the firmware and the PCI core, naturally aligned to their size; a smaller or shared window cannot be fixed from here");
	}
}

HUGEPFN_API int hugepfn_doctor(struct hugepfn_ctx *ctx, const char *spec, struct hugepfn_check *out,
			       size_t max)
{
	char bdf[16] = "", driver[64] = "", carve[64] = "";
	struct doc *d;
	int uio = -1, n;

	if (!ctx)
		return -EINVAL;
	hpfn_errors_clear(&ctx->errors);
	if (!out && max)
		return hpfn_ctx_err(ctx, -EINVAL, "hugepfn_doctor: out is NULL with max %zu", max);
	d = calloc(1, sizeof(*d));
	if (!d)
		return hpfn_ctx_err(ctx, -ENOMEM, "no memory for the doctor");
	d->ctx = ctx;
	d->out = out;
	d->max = max;
	d->page = (uint64_t)sysconf(_SC_PAGESIZE);
	d->nsizes = hpfn_leaf_sizes_at(ctx->sysfs_root, d->page, d->sizes, MAX_SIZES);
	if (d->nsizes < 1 || d->nsizes > MAX_SIZES) {
		free(d);
		return hpfn_ctx_err(ctx, -EINVAL, "page size %llu: no page-table geometry for it",
				    (unsigned long long)sysconf(_SC_PAGESIZE));
	}
	if (spec) {
		const char *p;

		if (!strncmp(spec, "carveout:", 9))
			snprintf(carve, sizeof(carve), "%s", spec + 9);
		else if ((p = strstr(spec, "/hugepfn/carveout-")))
			snprintf(carve, sizeof(carve), "%s", p + 18);
		else if ((p = strstr(spec, "/hugepfn/pci-")))
			hpfn_parse_bdf(p + 13, bdf, sizeof(bdf));
		else if (sscanf(spec, "/dev/uio%d", &uio) != 1 && sscanf(spec, "uio%d", &uio) != 1)
			hpfn_parse_bdf(spec, bdf, sizeof(bdf));
		if (bdf[0])
			hpfn_pci_driver(ctx, bdf, driver, sizeof(driver));
	}
	probe(d, bdf[0] ? bdf : carve[0] ? spec : NULL, carve[0] ? "hugepfn" : driver);
	check_sizes(d);
	check_thp(d);
	check_remap(d);
	check_modules(d);
	if (carve[0])
		check_carveout(d, carve);
	else if (bdf[0])
		check_pci(d, bdf);
	else if (uio >= 0)
		check_uio(d, uio);
	else if (spec)
		advise(add(d, "device", HUGEPFN_CHECK_FAIL,
			   "'%s' is neither a PCI address ([DDDD:]BB:DD.F, hex), carveout:NAME nor a hugepfn or UIO node",
			   spec),
		       "'hugepfn list' shows the PCI devices and carveouts");
	n = d->n > INT32_MAX ? INT32_MAX : (int)d->n;
	free(d);
	/* what went wrong with the device is in the findings, not the detail */
	hpfn_errors_clear(&ctx->errors);
	return n;
}
