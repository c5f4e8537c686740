// SPDX-License-Identifier: GPL-2.0
/*
 * libhugepfn and the hugepfn tool in the VM: open the big ivshmem and the
 * carveout through every backend (hugepfn driver, sysfs, UIO), map regions
 * huge-aligned, and check that what the library reports matches the
 * page-table oracles; HUGEPFN_MAP_4K must always give 4 KiB and
 * HUGEPFN_MAP_HUGE_REQUIRED must fail where no huge leaves came. The
 * memory type the library reports must be the oracles' (UC-, WC, WB), and
 * a write-combining request that the kernel silently downgraded (x86 PAT)
 * must fail, naming what was obtained.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/hugepfn.h>

#include "align.h"

#include "guest.h"
#include "hugepfn.h"
#include "tap.h"

#define SZ_1M 0x100000ULL
#define MAX_RUNS 1024

static struct guest_bar big;
static struct hugepfn_ctx *ctx;
static struct hpfn_pt_run oracle[MAX_RUNS];
static struct hugepfn_run runs[MAX_RUNS];
static uint64_t carve, carve_size;
static int pmd_remap;
static uint64_t huge_size;
static uint64_t huge_1g_size;	/* what a whole aligned 1 GiB block gets */
/*
 * What a whole aligned 1 GiB block of a BAR gets through the driver: on
 * the stock kernel its fault handler's leaves (hugepfn_map() populates
 * them), elsewhere remap_pfn_range()'s.
 */
static uint64_t bar_huge_1g_size;
static int bar_huge;		/* the driver maps BARs huge on this kernel */


static uint64_t level_bytes(enum hpfn_pt_level l)
{
	return l == HPFN_PT_PTE ? 4096 : l == HPFN_PT_PMD ? 2 * SZ_1M : l == HPFN_PT_PUD ? SZ_1G : 0;
}

/*
 * The library's runs must equal the oracle's (module walker, and the dump
 * where there is one), or be honestly "unknown" when @may_be_unknown.
 */
static int runs_match(const char *what, struct hugepfn_map *map, int may_be_unknown)
{
	uint64_t base = (uintptr_t)hugepfn_map_addr(map), len = hugepfn_map_length(map);
	int n = hugepfn_map_runs(map, runs, MAX_RUNS), no, i, j = 0;

	if (n == 1 && runs[0].page_size == UINT64_MAX)
		return may_be_unknown;
	no = guest_levels(what, base, len, oracle, MAX_RUNS);
	if (n <= 0 || no <= 0)
		return 0;
	/* merge the oracle's runs by page size, as the library reports them */
	for (i = 0; i < no; i++) {
		uint64_t size = level_bytes(oracle[i].level);

		if (j && oracle[j - 1].level == oracle[i].level && oracle[j - 1].end == oracle[i].start)
			oracle[j - 1].end = oracle[i].end;
		else
			oracle[j++] = oracle[i];
		(void)size;
	}
	if (j != n)
		goto bad;
	for (i = 0; i < n; i++)
		if (runs[i].offset != oracle[i].start - base ||
		    runs[i].length != oracle[i].end - oracle[i].start ||
		    runs[i].page_size != level_bytes(oracle[i].level))
			goto bad;
	return 1;
bad:
	tap_diag("%s: library says %d runs, oracle %d:", what, n, j);
	for (i = 0; i < n && i < 8; i++)
		tap_diag("  lib +0x%" PRIx64 " len 0x%" PRIx64 " page %" PRIu64, runs[i].offset,
			 runs[i].length, runs[i].page_size);
	guest_print_runs(oracle, j);
	return 0;
}

static int all_page(struct hugepfn_map *map, uint64_t size)
{
	int n = hugepfn_map_runs(map, runs, MAX_RUNS), i;

	for (i = 0; i < n; i++)
		if (runs[i].page_size != size)
			return 0;
	return n > 0;
}

/*
 * The memory type of [addr, addr + len) as the oracles see it (module
 * walker, and the dump where there is one): one type, or MIXED/UNKNOWN.
 */
static int oracle_cache(const char *what, uint64_t addr, uint64_t len)
{
	int n = guest_levels(what, addr, len, oracle, MAX_RUNS), i, cache = HUGEPFN_CACHE_UNKNOWN;

	for (i = 0; i < n; i++) {
		int c = hpfn_pt_cache_mode(oracle[i].flags, 1);

		if (!i)
			cache = c;
		else if (c != cache)
			cache = HUGEPFN_CACHE_MIXED;
	}
	return cache;
}

/* hugepfn_map_cache() equals @want and the oracles' type of the mapping. */
static void check_cache(const char *what, struct hugepfn_map *map, int want)
{
	int got = hugepfn_map_cache(map);
	int seen = oracle_cache(what, (uintptr_t)hugepfn_map_addr(map), hugepfn_map_length(map));

	tap_check(got == want && seen == want, "%s: the library reports %s, the oracles see %s (want %s)", what,
		  hugepfn_cache_name(got), hugepfn_cache_name(seen), hugepfn_cache_name(want));
}

static void test_leaf_sizes(void)
{
	uint64_t sizes[4];
	int n = hugepfn_leaf_sizes(ctx, sizes, 4);
	int gb = guest_run("grep -qw pdpe1gb /proc/cpuinfo") == 0;

	tap_check(n == (gb ? 3 : 2) && sizes[0] == 4096 && sizes[1] == 2 * SZ_1M && (!gb || sizes[2] == SZ_1G),
		  "leaf sizes from this system: 4K 2M%s (the CPU %s pdpe1gb) (%d)", gb ? " 1G" : "",
		  gb ? "has" : "lacks", n);
}

static void test_driver_backend(void)
{
	struct hugepfn_dev *dev;
	struct hugepfn_map *map;
	long long pte_before;
	char msg[1024];
	int ret;

	ret = hugepfn_open(ctx, big.bdf, HUGEPFN_BACKEND_AUTO, &dev);
	if (!tap_check(ret == 0 && hugepfn_dev_backend(dev) == HUGEPFN_BACKEND_DRIVER,
		       "open %s: bound to hugepfn, so the driver backend (%d)", big.bdf, ret)) {
		hugepfn_close(dev);
		return;
	}
	pte_before = guest_vmpte_kb();
	ret = hugepfn_map(dev, 2, 0, 0, 0, &map);
	if (tap_check(ret == 0, "driver: map all of BAR2")) {
		/* a 1 GiB leaf carries no tables (its split allocates them) */
		uint64_t want_pt = bar_huge_1g_size == SZ_1G || !pmd_remap ? 0 : big.size / (2 * SZ_1M);
		long long grew = guest_vmpte_kb() - pte_before;

		tap_check(all_page(map, bar_huge_1g_size), "driver: every run is %" PRIu64 "K",
			  bar_huge_1g_size >> 10);
		tap_check(runs_match("driver whole BAR", map, 0), "driver: runs agree with the page-table oracles");
		tap_check(hugepfn_map_pt_pages(map) == (int64_t)want_pt,
			  "driver: page-table pages of %" PRIu64 " MiB = %" PRIu64 " (%s): %" PRId64, big.size >> 20,
			  want_pt, bar_huge_1g_size == SZ_1G ? "none for 1 GiB leaves" :
			  pmd_remap ? "one deposit per 2 MiB" : "none for fault-time 2 MiB leaves",
			  hugepfn_map_pt_pages(map));
		/* the kernel's own count: the same, plus at most 3 PMD/PUD tables the mapping needed */
		tap_check(grew >= (long long)want_pt * 4 && grew <= (long long)(want_pt + 3) * 4,
			  "driver: VmPTE grew by %lld kB for the mapping, the library's %" PRIu64 " pages and at most 3 upper tables",
			  grew, want_pt);
		check_cache("driver whole BAR", map, HUGEPFN_CACHE_UC_MINUS);
		hugepfn_unmap(map);
	}
	ret = hugepfn_map(dev, 2, 32 * SZ_1M, 32 * SZ_1M, HUGEPFN_MAP_4K, &map);
	if (tap_check(ret == 0, "driver: map 32 MiB with HUGEPFN_MAP_4K")) {
		tap_check(all_page(map, 4096) && runs_match("driver 4K", map, 0), "driver: HUGEPFN_MAP_4K gives 4K everywhere");
		hugepfn_unmap(map);
	}
	ret = hugepfn_map(dev, 2, 64 * SZ_1M, 8 * SZ_1M, HUGEPFN_MAP_HUGE_REQUIRED, &map);
	hugepfn_dev_error(dev, msg, sizeof(msg));
	if (bar_huge) {
		tap_check(ret == 0, "driver: HUGEPFN_MAP_HUGE_REQUIRED succeeds where the driver maps BARs huge (%s)",
			  msg);
	} else {
		tap_check(ret == -EOPNOTSUPP && strstr(msg, "base pages only"),
			  "driver: HUGEPFN_MAP_HUGE_REQUIRED fails clearly without huge remap: '%s'", msg);
	}
	if (!ret)
		hugepfn_unmap(map);
	ret = hugepfn_map(dev, 2, 96 * SZ_1M, 8 * SZ_1M, HUGEPFN_MAP_WC, &map);
	if (tap_check(ret == 0, "driver: write-combining map")) {
		int n = guest_levels("lib WC", (uintptr_t)hugepfn_map_addr(map), 8 * SZ_1M, oracle, MAX_RUNS);

		tap_check(n > 0 && guest_all_flags(oracle, n, HPFN_PTF_PWT, HPFN_PTF_PCD | HPFN_PTF_PAT),
			  "driver: the WC mapping is write-combining (PWT)");
		check_cache("driver WC", map, HUGEPFN_CACHE_WC);
		hugepfn_unmap(map);
	}
	hugepfn_close(dev);

	ret = hugepfn_open(ctx, "carveout:carve", HUGEPFN_BACKEND_AUTO, &dev);
	if (tap_check(ret == 0, "open carveout:carve")) {
		ret = hugepfn_map(dev, 0, 0, 0, 0, &map);
		tap_check(ret == 0 && all_page(map, huge_size) && runs_match("carveout", map, 0),
			  "carveout: mapped whole, %" PRIu64 "K runs that agree with the oracles", huge_size >> 10);
		if (!ret) {
			check_cache("carveout", map, HUGEPFN_CACHE_WB);
			hugepfn_unmap(map);
		}
	}
	hugepfn_close(dev);
}

static void test_sysfs_backend(void)
{
	struct hugepfn_dev *dev;
	struct hugepfn_map *map;
	int ret;

	ret = hugepfn_open(ctx, big.bdf, HUGEPFN_BACKEND_AUTO, &dev);
	if (!tap_check(ret == 0 && hugepfn_dev_backend(dev) == HUGEPFN_BACKEND_SYSFS,
		       "open %s with no driver: the sysfs backend", big.bdf)) {
		hugepfn_close(dev);
		return;
	}
	ret = hugepfn_map(dev, 2, 128 * SZ_1M, 64 * SZ_1M, 0, &map);
	if (tap_check(ret == 0, "sysfs: map 64 MiB of BAR2")) {
		/* the dump tells on the patched kernel; the stock one has none: unknown */
		tap_check(runs_match("sysfs", map, !guest_have_ptdump()),
			  "sysfs: runs agree with the oracles%s", guest_have_ptdump() ? "" : " (or say unknown: no dump)");
		if (guest_have_ptdump())
			tap_check(all_page(map, huge_size), "sysfs: every run is %" PRIu64 "K", huge_size >> 10);
		hugepfn_unmap(map);
	}
	ret = hugepfn_map(dev, 2, 160 * SZ_1M, 8 * SZ_1M, HUGEPFN_MAP_WC, &map);
	if (tap_check(ret == 0, "sysfs: map 8 MiB write-combining (resource2_wc)")) {
		if (guest_have_ptdump()) {
			check_cache("sysfs WC", map, HUGEPFN_CACHE_WC);
		} else {
			int seen = oracle_cache("sysfs WC", (uintptr_t)hugepfn_map_addr(map), 8 * SZ_1M);

			tap_check(hugepfn_map_cache(map) == HUGEPFN_CACHE_UNKNOWN && seen == HUGEPFN_CACHE_WC,
				  "sysfs WC without a page-table dump: the library says unknown (the oracle sees %s)",
				  hugepfn_cache_name(seen));
		}
		hugepfn_unmap(map);
	}
	hugepfn_close(dev);
}

/*
 * A UC- reservation of [off, off + len) of BAR2 left behind: a sysfs
 * mapping (remap_pfn_range() at mmap time, UC-) of it, unbound from the
 * driver for that, unmapped in two parts (the known 6.12 behaviour,
 * README). The driver's own UC- mappings of a BAR are fault-time ones on
 * the stock kernel, which reserve nothing.
 */
static int leave_uc_reservation(uint64_t off, uint64_t len)
{
	int fd, ok;
	uint8_t *p;

	if (guest_unbind(big.bdf, "hugepfn"))
		return 0;
	fd = open(big.path, O_RDWR | O_CLOEXEC);
	p = fd >= 0 ? mmap(NULL, len, PROT_READ, MAP_SHARED, fd, off) : MAP_FAILED;
	ok = p != MAP_FAILED && !munmap(p, 4096) && !munmap(p + 4096, len - 4096);
	if (fd >= 0)
		close(fd);
	return guest_bind(big.bdf, "hugepfn") == 0 && ok;
}

/*
 * x86 PAT hands a new mapping the memory type of an existing reservation of
 * its range without telling. Leave a UC- reservation behind on a range no
 * other test uses, then ask for write-combining there: the kernel gives
 * UC- (the oracles say so), and hugepfn_map() must refuse, naming it.
 * Which kernel keeps that reservation is seen first, by hand: 6.12 keeps
 * the reservation of a mapping unmapped in two parts; 7.3 (per-VMA
 * pfnmap_track_ctx) frees it with the last part, and then gives WC where
 * WC is asked for, which hugepfn_map() must just as well take.
 */
static void test_wc_downgrade(void)
{
	uint64_t off = 960 * SZ_1M, len = 8 * SZ_1M;
	struct hugepfn_dev *dev;
	struct hugepfn_map *map;
	char msg[1024], node[300];
	int ret, fd, seen = -1;
	uint8_t *p;

	tap_check(leave_uc_reservation(off, len),
		  "WC downgrade: a sysfs UC- mapping of BAR2 [960M, +8M) unmapped in two parts");
	ret = hugepfn_open(ctx, big.bdf, HUGEPFN_BACKEND_DRIVER, &dev);
	if (!tap_check(ret == 0, "WC downgrade: open %s through the driver", big.bdf)) {
		hugepfn_close(dev);
		return;
	}
	/* the request made by hand: what the kernel gives there */
	snprintf(node, sizeof(node), "/dev/hugepfn/pci-%s", big.bdf);
	fd = open(node, O_RDWR | O_CLOEXEC);
	p = fd >= 0 ? hpfn_mmap_congruent(fd, HUGEPFN_REGION_WC_OFFSET(2) + off, len, PROT_READ | PROT_WRITE,
					  MAP_SHARED, big.phys + off, 2 * SZ_1M) : MAP_FAILED;
	if (tap_check(p != MAP_FAILED, "WC downgrade: the WC alias mapped by hand")) {
		seen = oracle_cache("WC downgrade", (uintptr_t)p, len);
		tap_check(seen == HUGEPFN_CACHE_UC_MINUS || seen == HUGEPFN_CACHE_WC,
			  "WC downgrade: the oracles see %s where WC was asked for (UC-: the kernel kept the reservation and downgraded silently)",
			  hugepfn_cache_name(seen));
		munmap(p, len);
	}
	if (fd >= 0)
		close(fd);
	ret = hugepfn_map(dev, 2, off, len, HUGEPFN_MAP_WC, &map);
	hugepfn_dev_error(dev, msg, sizeof(msg));
	tap_diag("WC downgrade: hugepfn_map(WC) says: %s", msg);
	if (seen == HUGEPFN_CACHE_WC) {
		tap_skip("WC downgrade: this kernel freed the UC- reservation with the mapping's last part: no downgrade to provoke");
		tap_check(ret == 0, "WC downgrade: hugepfn_map(HUGEPFN_MAP_WC) there succeeds, as the kernel gives WC (%d)",
			  ret);
	} else {
		tap_check(ret == -EIO && strstr(msg, "write-combining") && strstr(msg, "UC-"),
			  "WC downgrade: hugepfn_map(HUGEPFN_MAP_WC) fails with -EIO naming UC- (%d)", ret);
	}
	if (!ret)
		hugepfn_unmap(map);
	/* a range that was never mapped otherwise gets WC */
	ret = hugepfn_map(dev, 2, off + 16 * SZ_1M, len, HUGEPFN_MAP_WC, &map);
	if (tap_check(ret == 0, "WC on a fresh range next to it succeeds")) {
		check_cache("WC fresh", map, HUGEPFN_CACHE_WC);
		hugepfn_unmap(map);
	}
	if (seen == HUGEPFN_CACHE_WC)
		tap_check(guest_run("/hpfn/bin/hugepfn map %s 2 --offset 960M --length 8M --wc >/dev/null 2>/tmp/wc.err",
				    big.bdf) == 0,
			  "tool: map --wc on that range succeeds");
	else
		tap_check(guest_run("/hpfn/bin/hugepfn map %s 2 --offset 960M --length 8M --wc 2>/tmp/wc.err",
				    big.bdf) == 1 && guest_run("grep -q 'UC-' /tmp/wc.err") == 0,
			  "tool: map --wc on the downgraded range exits 1 and names UC-");
	guest_run("sed 's/^/# /' /tmp/wc.err");
	hugepfn_close(dev);
}

static void test_uio_backend(void)
{
	struct hugepfn_dev *dev;
	struct hugepfn_map *map;
	struct hugepfn_region r;
	int ret;

	ret = hugepfn_open(ctx, big.bdf, HUGEPFN_BACKEND_UIO, &dev);
	if (!tap_check(ret == 0 && hugepfn_region_count(dev) >= 1 && hugepfn_region_info(dev, 0, &r) == 0 &&
		       r.phys == big.phys && r.size == big.size,
		       "UIO backend: map 0 is BAR2")) {
		hugepfn_close(dev);
		return;
	}
	ret = hugepfn_map(dev, 0, 0, 16 * SZ_1M, 0, &map);
	if (tap_check(ret == 0, "UIO: map the first 16 MiB")) {
		tap_check(runs_match("uio", map, !guest_have_ptdump()), "UIO: runs agree with the oracles");
		hugepfn_unmap(map);
	}
	tap_check(hugepfn_map(dev, 0, SZ_1M, SZ_1M, 0, &map) == -EINVAL, "UIO: a non-zero offset is refused");
	hugepfn_close(dev);
}

/*
 * Map through one VFIO interface: fault-time PMD leaves at a huge-aligned
 * address (both kernels), the library's report, a 4 KiB split, and
 * HUGEPFN_MAP_4K. Leaves @stamp in the first word of BAR2 + 192 MiB.
 */
static void vfio_maps(enum hugepfn_backend backend, uint64_t stamp)
{
	const char *name = hugepfn_backend_name(backend);
	struct hugepfn_dev *dev;
	struct hugepfn_map *map;
	long long splits;
	int ret;

	ret = hugepfn_open(ctx, big.bdf, backend, &dev);
	if (ret) {
		char msg[1024];

		hugepfn_ctx_error(ctx, msg, sizeof(msg));
		tap_diag("%s: %s", name, msg);
	}
	if (!tap_check(ret == 0 && hugepfn_dev_backend(dev) == backend, "%s: open %s", name, big.bdf)) {
		hugepfn_close(dev);
		return;
	}
	ret = hugepfn_map(dev, 2, 192 * SZ_1M, 16 * SZ_1M, 0, &map);
	if (tap_check(ret == 0, "%s: map 16 MiB of BAR2", name)) {
		volatile uint64_t *w = hugepfn_map_addr(map);
		uint64_t previous = w[0];

		long long pte_kb = guest_vmpte_kb();

		tap_diag("%s: BAR2+192M held %#llx before this test wrote it", name,
			 (unsigned long long)previous);
		for (uint64_t o = 0; o < 16 * SZ_1M / 8; o += 4096 / 8)
			w[o] = o;	/* fault every page in */
		pte_kb = guest_vmpte_kb() - pte_kb;
		int n = guest_levels(name, (uintptr_t)w, 16 * SZ_1M, oracle, MAX_RUNS);

		tap_check(n > 0 && guest_all_level(oracle, n, HPFN_PT_PMD),
			  "%s: the fault path mapped 2 MiB leaves (module oracle), on both kernels", name);
		/*
		 * Fault-time leaves carry no deposited PTE table, as on stock
		 * 6.12: at most a new PMD and PUD table, where a table per
		 * leaf would be 32 kB more.
		 */
		tap_check(pte_kb >= 0 && pte_kb <= 8,
			  "%s: faulting in 8 PMD leaves cost %lld kB of page tables (at most 8: no deposits)",
			  name, pte_kb);
		tap_check(runs_match(name, map, !guest_have_ptdump()),
			  "%s: the library reports them%s", name, guest_have_ptdump() ? "" :
			  " (as unknown: this kernel has no page-table dump)");
		splits = guest_vmstat("thp_split_pmd");
		tap_check(mprotect((uint8_t *)w + 4096, 4096, PROT_READ) == 0 &&
			  guest_vmstat("thp_split_pmd") == splits + 1 && w[512] == 512 &&
			  !guest_write_faults((uint64_t *)w, 1),
			  "%s: a 4 KiB mprotect splits the fault-time leaf into PTEs and the data stays", name);
		w[0] = stamp;
		hugepfn_unmap(map);
	}
	ret = hugepfn_map(dev, 2, 224 * SZ_1M, 8 * SZ_1M, HUGEPFN_MAP_4K, &map);
	if (tap_check(ret == 0, "%s: map with HUGEPFN_MAP_4K", name)) {
		volatile uint64_t *w = hugepfn_map_addr(map);

		for (uint64_t o = 0; o < 8 * SZ_1M / 8; o += 4096 / 8)
			(void)w[o];
		int n = guest_levels("vfio 4K", (uintptr_t)w, 8 * SZ_1M, oracle, MAX_RUNS);

		tap_check(n > 0 && guest_all_level(oracle, n, HPFN_PT_PTE),
			  "%s: HUGEPFN_MAP_4K gives 4K everywhere (module oracle)", name);
		hugepfn_unmap(map);
	}
	tap_check(hugepfn_map(dev, 2, 0, 2 * SZ_1M, HUGEPFN_MAP_WC, &map) == -EINVAL,
		  "%s: write-combining is refused (vfio-pci maps uncached only)", name);
	hugepfn_close(dev);
}

/* The first word of BAR2 + 192 MiB through the sysfs backend, or ~0. */
static uint64_t stamp_via_sysfs(void)
{
	struct hugepfn_dev *dev;
	struct hugepfn_map *map;
	uint64_t v = ~0ULL;

	if (!hugepfn_open(ctx, big.bdf, HUGEPFN_BACKEND_SYSFS, &dev) &&
	    !hugepfn_map(dev, 2, 192 * SZ_1M, 2 * SZ_1M, HUGEPFN_MAP_READONLY, &map)) {
		v = *(volatile uint64_t *)hugepfn_map_addr(map);
		hugepfn_unmap(map);
	}
	hugepfn_close(dev);
	return v;
}

/* Does the kernel give @bdf (bound to vfio-pci) a usable device cdev? */
static int vfio_cdev_expected(const char *bdf)
{
	char link[512], path[512];
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vfio-dev", bdf);
	if (access(path, F_OK) || access("/dev/iommu", F_OK))
		return 0;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return 0;
	link[n] = '\0';
	snprintf(path, sizeof(path), "/dev/vfio/noiommu-%s", strrchr(link, '/') + 1);
	return access(path, F_OK) != 0;
}

/*
 * vfio-pci: in no-IOMMU mode on the patched test kernel, behind qemu's
 * emulated intel-iommu on the stock one (which has no no-IOMMU mode) and
 * in the patched kernel's IOMMU run, where the device cdev with iommufd
 * exists too. AUTO must take the cdev exactly where it can work; both
 * interfaces map the same memory; the other one is refused while one holds
 * the device.
 */
static void test_vfio_backend(void)
{
	enum hugepfn_backend want;
	struct hugepfn_dev *dev, *other;
	char path[512], msg[1024];
	int ret, iommu;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group", big.bdf);
	iommu = access(path, F_OK) == 0;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override", big.bdf);
	/* an emulated IOMMU (stock kernel) or no-IOMMU mode (patched kernel) */
	tap_check((iommu || guest_run("echo 1 > /sys/module/vfio/parameters/enable_unsafe_noiommu_mode") == 0) &&
		  guest_run("echo vfio-pci > %s && echo %s > /sys/bus/pci/drivers/vfio-pci/bind", path, big.bdf) == 0,
		  "vfio: bind %s to vfio-pci (%s)", big.bdf, iommu ? "behind the emulated IOMMU" : "no-IOMMU mode");
	want = vfio_cdev_expected(big.bdf) ? HUGEPFN_BACKEND_VFIO_CDEV : HUGEPFN_BACKEND_VFIO;
	ret = hugepfn_open(ctx, big.bdf, HUGEPFN_BACKEND_AUTO, &dev);
	if (ret) {
		hugepfn_ctx_error(ctx, msg, sizeof(msg));
		tap_diag("vfio: %s", msg);
	}
	tap_check(ret == 0 && hugepfn_dev_backend(dev) == want,
		  "vfio: AUTO opens the vfio-pci device through %s (%d)", hugepfn_backend_name(want), ret);
	/* while one interface holds the device, the other is refused, clearly */
	ret = hugepfn_open(ctx, big.bdf, want == HUGEPFN_BACKEND_VFIO ? HUGEPFN_BACKEND_VFIO_CDEV :
		HUGEPFN_BACKEND_VFIO, &other);
	hugepfn_ctx_error(ctx, msg, sizeof(msg));
	tap_diag("vfio: the other interface says: %s", msg);
	if (want == HUGEPFN_BACKEND_VFIO_CDEV)
		tap_check(ret == -EBUSY && strstr(msg, "cdev"),
			  "vfio: the group interface is refused (EBUSY) while the cdev holds the device");
	else
		tap_check(ret < 0 && strstr(msg, iommu ? "CONFIG_VFIO_DEVICE_CDEV" : "no-IOMMU devices have no cdev"),
			  "vfio: the cdev backend fails and says why (%s)",
			  iommu ? "kernel without CONFIG_VFIO_DEVICE_CDEV" : "no-IOMMU device");
	hugepfn_close(other);
	hugepfn_close(dev);

	vfio_maps(want, 0x5eed0001);
	if (want == HUGEPFN_BACKEND_VFIO_CDEV) {
		/* the group interface still works behind the IOMMU (type1) */
		vfio_maps(HUGEPFN_BACKEND_VFIO, 0x5eed0002);
	}
	tap_check(guest_run("echo %s > /sys/bus/pci/drivers/vfio-pci/unbind && echo > %s", big.bdf, path) == 0,
		  "vfio: unbind");
	tap_check(stamp_via_sysfs() == (want == HUGEPFN_BACKEND_VFIO_CDEV ? 0x5eed0002 : 0x5eed0001),
		  "vfio: what was written through VFIO is in the BAR (read back through sysfs)");
}

/*
 * A BAR that holds an MSI-X table (virtio-rng's BAR1): vfio-pci reports
 * it with the MSI-X-mappable capability, which must not make it
 * unmappable; mapping it shows the real table (entry 0 masked at reset).
 */
static void test_vfio_msix_bar(void)
{
	struct guest_bar rng;
	struct hugepfn_dev *dev;
	struct hugepfn_region r;
	struct hugepfn_map *map;
	int ret;

	if (guest_find_bar(0x1af4, 0x1005, 1, 4096, 4096, &rng)) {
		tap_check(0, "vfio: the virtio-rng device (MSI-X table in BAR1) is there");
		return;
	}
	/* the stock kernel's virtio-pci driver holds it: the library moves it */
	ret = hugepfn_pci_bind(ctx, rng.bdf, "vfio-pci");
	tap_check(ret == 0, "vfio: hugepfn_pci_bind() moves the virtio-rng device %s to vfio-pci (%d)",
		  rng.bdf, ret);
	ret = hugepfn_open(ctx, rng.bdf, HUGEPFN_BACKEND_AUTO, &dev);
	if (tap_check(ret == 0 && hugepfn_region_info(dev, 1, &r) == 0 &&
		      (r.flags & HUGEPFN_RGN_MAPPABLE) && !(r.flags & HUGEPFN_RGN_SPARSE) &&
		      hugepfn_region_areas(dev, 1, NULL, 0) == 1,
		      "vfio (%s): the MSI-X BAR is mappable, whole, not sparse",
		      hugepfn_backend_name(hugepfn_dev_backend(dev)))) {
		ret = hugepfn_map(dev, 1, 0, 4096, HUGEPFN_MAP_READONLY, &map);
		if (tap_check(ret == 0, "vfio: map the MSI-X BAR")) {
			volatile uint32_t *t = hugepfn_map_addr(map);

			tap_check(t[3] & 1, "vfio: MSI-X table entry 0 reads masked (vector control %#x)", t[3]);
			hugepfn_unmap(map);
		}
	}
	hugepfn_close(dev);
	tap_check(hugepfn_pci_unbind(ctx, rng.bdf) == 0 &&
		  guest_run("grep -q '(null)' /sys/bus/pci/devices/%s/driver_override", rng.bdf) == 0,
		  "vfio: hugepfn_pci_unbind() gives the virtio-rng device back");
}

static void test_tool(void)
{
	tap_check(guest_run("/hpfn/bin/hugepfn list | grep -q '^%s '", big.bdf) == 0, "tool: list shows %s", big.bdf);
	tap_check(guest_run("/hpfn/bin/hugepfn --json list | grep -q '\"device\":\"%s\"'", big.bdf) == 0,
		  "tool: list --json");
	tap_check(guest_run("/hpfn/bin/hugepfn list | grep -q '^carveout:carve .*0x0*%llx 64M'",
		      (unsigned long long)carve) == 0 &&
		  guest_run("/hpfn/bin/hugepfn --json list | grep -q '\"carveouts\":\\[{\"name\":\"carve\"'") == 0,
		  "tool: list shows the driver's carveout, with its address and size");
	tap_check(guest_run("/hpfn/bin/hugepfn info %s | grep -q 'through hugepfn'", big.bdf) == 0, "tool: info");
	tap_check(guest_run("/hpfn/bin/hugepfn --json map %s 2 --length 64M > /tmp/map.json", big.bdf) == 0 &&
		  guest_run("grep -q '\"page_size\":%" PRIu64 "' /tmp/map.json", (uint64_t)(bar_huge ? 2 * SZ_1M : 4096)) == 0,
		  "tool: map --json reports %" PRIu64 "-byte pages", (uint64_t)(bar_huge ? 2 * SZ_1M : 4096));
	guest_run("sed 's/^/# /' /tmp/map.json");
	tap_check(guest_run("grep -q '\"cache\":\"UC-\"' /tmp/map.json") == 0 &&
		  guest_run("/hpfn/bin/hugepfn map %s 2 --offset 992M --length 8M --wc | grep -qx 'memory type WC'", big.bdf) == 0,
		  "tool: map reports the memory type (UC- by default, WC with --wc)");
	tap_check(guest_run("/hpfn/bin/hugepfn map %s 2 --length 64M --4k | grep -q ' 4K$'", big.bdf) == 0,
		  "tool: map --4k shows 4K pages");
	tap_check(guest_run("/hpfn/bin/hugepfn map %s 9 2>/dev/null", big.bdf) == 1, "tool: a device error exits 1");
	tap_check(guest_run("/hpfn/bin/hugepfn map 2>/dev/null") == 2, "tool: bad usage exits 2");
	tap_check(guest_run("/hpfn/bin/hugepfn map --help | grep -q Usage") == 0, "tool: map --help");
	tap_check(guest_run("/hpfn/bin/hugepfn poke %s 2 0x3000 0xdeadbeef", big.bdf) == 0 &&
		  guest_run("/hpfn/bin/hugepfn peek %s 2 0x3000 | grep -qx 0xdeadbeef", big.bdf) == 0,
		  "tool: poke then peek a 32-bit word");
	tap_check(guest_run("/hpfn/bin/hugepfn poke %s 2 0x3008 0x0123456789abcdef --width 64", big.bdf) == 0 &&
		  guest_run("/hpfn/bin/hugepfn peek %s 2 0x3008 --width 64 | grep -qx 0x0123456789abcdef", big.bdf) == 0 &&
		  guest_run("/hpfn/bin/hugepfn peek %s 2 0x3008 --width 16 | grep -qx 0xcdef", big.bdf) == 0 &&
		  guest_run("/hpfn/bin/hugepfn --json peek %s 2 0x300f --width 8 | grep -q '\"value\":1}'", big.bdf) == 0,
		  "tool: 64-, 16- and 8-bit accesses");
	tap_check(guest_run("/hpfn/bin/hugepfn peek %s 2 0x3001 --width 32 2>/dev/null", big.bdf) == 2 &&
		  guest_run("/hpfn/bin/hugepfn peek %s 2 %#llx 2>/dev/null", big.bdf, (unsigned long long)big.size) == 1,
		  "tool: a misaligned offset is bad usage (2), one past the region a device error (1)");
}

int main(void)
{
	char modparam[128], path[512];
	int ret;

	ret = guest_find_bar(0x1af4, 0x1110, 2, SZ_1G, UINT64_MAX, &big);
	if (ret)
		tap_bail("find the ivshmem device with a 1 GiB BAR2: %s", strerror(-ret));
	if (guest_carveout(&carve, &carve_size))
		tap_bail("the harness's memmap= carveout");
	pmd_remap = guest_has_feature("remap-pmd");
	huge_size = pmd_remap ? 2 * SZ_1M : 4096;
	huge_1g_size = guest_run("grep -qw pdpe1gb /proc/cpuinfo") == 0 && guest_has_feature("remap-pud") ?
		       SZ_1G : huge_size;
	bar_huge = 1;	/* remap leaves, or (no remap-pmd) the driver's fault handler */
	bar_huge_1g_size = huge_1g_size;
	if (!pmd_remap)
		bar_huge_1g_size = guest_run("grep -qw pdpe1gb /proc/cpuinfo") == 0 ? SZ_1G : 2 * SZ_1M;
	if (hugepfn_ctx_new(NULL, &ctx))
		tap_bail("hugepfn_ctx_new");
	snprintf(modparam, sizeof(modparam), "carveouts=carve:%lluM@0x%llx",
		 (unsigned long long)carve_size >> 20, (unsigned long long)carve);
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override", big.bdf);

	tap_check(guest_run("/hpfn/bin/hugepfn bind %s 2>/tmp/bind.err", big.bdf) == 1 &&
		  guest_run("grep -q 'driver hugepfn is not loaded' /tmp/bind.err") == 0,
		  "tool: bind before the driver is loaded exits 1 and says what to do");
	tap_check(guest_run("insmod /hpfn/modules/hugepfn.ko uio=1 %s", modparam) == 0 &&
		  guest_run("/hpfn/bin/hugepfn bind %s >/dev/null", big.bdf) == 0 &&
		  guest_run("readlink /sys/bus/pci/devices/%s/driver | grep -q '/hugepfn$'", big.bdf) == 0,
		  "load hugepfn.ko (uio=1); 'hugepfn bind %s' binds it", big.bdf);
	test_leaf_sizes();
	test_driver_backend();
	test_wc_downgrade();
	test_uio_backend();
	test_tool();
	tap_check(guest_run("/hpfn/bin/hugepfn unbind %s >/dev/null && rmmod hugepfn", big.bdf) == 0 &&
		  guest_run("test -e /sys/bus/pci/devices/%s/driver", big.bdf) != 0 &&
		  guest_run("grep -q '(null)' %s", path) == 0,
		  "tool: 'hugepfn unbind' unbinds and clears driver_override; the driver unloads");
	test_sysfs_backend();
	test_vfio_backend();
	test_vfio_msix_bar();
	hugepfn_ctx_free(ctx);
	return tap_exit();
}
