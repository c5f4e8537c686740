// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests of libhugepfn against a fake sysfs tree: discovery
 * through libpci, backend choice, regions, mappings of "BARs" that are
 * plain files, and the error paths. No root, no kernel module needed.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hugepfn.h"
#include "unit.h"

#define M2 0x200000ULL
#define G1 0x40000000ULL

#include "fake_tree.h"

static struct hugepfn_ctx *ctx;

static void test_discovery(void)
{
	struct hugepfn_pci_info devs[8], one;
	int n = hugepfn_pci_list(ctx, devs, 8);

	CHECK(n == 3, "three fake devices listed (%d)", n);
	CHECK(n == 3 && !strcmp(devs[0].bdf, "0000:00:05.0") && devs[0].vendor == 0x1af4 &&
	      devs[0].device == 0x1110 && (devs[0].class_code >> 8) == 0x0500,
	      "first device: address, IDs, class");
	CHECK(n == 3 && devs[0].bars[0].phys == 0x200000000ULL && devs[0].bars[0].size == 8 * 0x100000 &&
	      (devs[0].bars[0].flags & HUGEPFN_BAR_PREFETCH) && (devs[0].bars[0].flags & HUGEPFN_BAR_MEM64),
	      "BAR0: 8 MiB 64-bit prefetchable at 0x200000000");
	CHECK(n == 3 && (devs[0].bars[1].flags & HUGEPFN_BAR_IO) && devs[0].bars[1].size == 64,
	      "BAR1: a 64-byte I/O BAR");
	CHECK(n == 3 && !strcmp(devs[0].driver, "") && !strcmp(devs[1].driver, "hugepfn") &&
	      !strcmp(devs[2].driver, "nvme"), "bound drivers read from the driver links");
	CHECK(hugepfn_pci_list(ctx, devs, 1) == 3, "a short array still reports the count");
	CHECK(hugepfn_pci_info(ctx, "00:06.0", &one) == 0 && !strcmp(one.bdf, "0000:00:06.0"),
	      "one device by short address");
	CHECK(hugepfn_pci_info(ctx, "0000:00:09.0", &one) == -ENOENT, "a missing device is -ENOENT");
	CHECK(hugepfn_pci_info(ctx, "zz:00.0", &one) == -EINVAL, "a malformed address is -EINVAL");
}

/*
 * The PCI address grammar is [DDDD:]BB:DD.F in fixed-width hex and nothing
 * else: a mistyped address must not name another device.
 */
static void test_strict_bdf(void)
{
	static const char *const bad[] = {
		"0000:00:01.0x5", "0x0:0x0:0x1.0x1", " 0000:00:05.0", "0000:00:05.0 ",
		"+000:00:05.0", "0000:00:5.0", "0000:00:05.8", "0000:00:20.0", "00000:00:05.0",
		"0000:000:05.0", "0000:00:05", "0000-00:05.0", "0000:00:05:0", "", "00:05.0\t",
		"0:0:5.0", "0000:0g:05.0",
	};
	struct hugepfn_pci_info one;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(hugepfn_pci_info(ctx, bad[i], &one) == -EINVAL, "PCI address '%s' is refused", bad[i]);
	CHECK(hugepfn_pci_info(ctx, "0000:00:05.0", &one) == 0 && hugepfn_pci_info(ctx, "00:05.0", &one) == 0 &&
	      !strcmp(one.bdf, "0000:00:05.0"), "DDDD:BB:DD.F and BB:DD.F are taken");
	CHECK(hugepfn_pci_info(ctx, "0000:00:0A.0", &one) == -ENOENT,
	      "upper-case hex parses (there is no such device here: ENOENT, not EINVAL)");
}

static void test_open_and_map(void)
{
	struct hugepfn_dev *dev;
	struct hugepfn_map *map;
	struct hugepfn_region r;
	struct hugepfn_run runs[4];
	char msg[1024];
	int ret, n;

	ret = hugepfn_open(ctx, "0000:00:05.0", HUGEPFN_BACKEND_AUTO, &dev);
	CHECK(ret == 0 && hugepfn_dev_backend(dev) == HUGEPFN_BACKEND_SYSFS,
	      "a device with no driver opens through sysfs (%d)", ret);
	if (ret)
		return;
	CHECK(hugepfn_region_count(dev) == 6, "six regions");
	CHECK(hugepfn_region_info(dev, 0, &r) == 0 && r.size == 8 * 0x100000 && r.phys == 0x200000000ULL &&
	      r.flags == (HUGEPFN_RGN_MAPPABLE | HUGEPFN_RGN_PREFETCH | HUGEPFN_RGN_MEM64 | HUGEPFN_RGN_WC),
	      "region 0 from the resource file, WC because resource0_wc exists (flags %#x)", r.flags);
	CHECK(hugepfn_region_info(dev, 1, &r) == 0 && r.flags == HUGEPFN_RGN_IO, "region 1 is I/O, not mappable");
	CHECK(hugepfn_region_info(dev, 6, &r) == -ERANGE, "region 6 is -ERANGE");

	ret = hugepfn_map(dev, 0, 0, 0, 0, &map);
	CHECK(ret == 0 && hugepfn_map_length(map) == 8 * 0x100000 && hugepfn_map_alignment(map) == M2 &&
	      ((uintptr_t)hugepfn_map_addr(map) & (M2 - 1)) == 0,
	      "whole region mapped at a 2 MiB-aligned address (phys 0x200000000, 8 MiB: no whole 1 GiB)");
	if (!ret) {
		((volatile char *)hugepfn_map_addr(map))[4096] = 7;
		n = hugepfn_map_runs(map, runs, 4);
		CHECK(n >= 1 && (runs[0].page_size == UINT64_MAX || runs[0].page_size == 4096),
		      "runs: unknown without a dump (or 4K for a file)");
		hugepfn_unmap(map);
	}
	ret = hugepfn_map(dev, 0, 0x100000, 0x300000, HUGEPFN_MAP_4K, &map);
	CHECK(ret == 0 && ((uintptr_t)hugepfn_map_addr(map) & (M2 - 1)) == ((0x200100000ULL + 4096) & (M2 - 1)),
	      "HUGEPFN_MAP_4K: one page off the congruence");
	if (!ret)
		hugepfn_unmap(map);
	ret = hugepfn_map(dev, 0, 0, 0, HUGEPFN_MAP_WC | HUGEPFN_MAP_READONLY, &map);
	CHECK(ret == 0, "write-combining read-only mapping through resource0_wc");
	if (!ret)
		hugepfn_unmap(map);

	CHECK(hugepfn_map(dev, 1, 0, 0, 0, &map) == -EINVAL, "an I/O BAR cannot be mapped");
	hugepfn_dev_error(dev, msg, sizeof(msg));
	CHECK(strstr(msg, "I/O-port") != NULL, "and the message says why: '%s'", msg);
	CHECK(hugepfn_map(dev, 0, 8 * 0x100000, 0, 0, &map) == -ERANGE, "offset at the end is -ERANGE");
	CHECK(hugepfn_map(dev, 0, 0x100000, 8 * 0x100000, 0, &map) == -ERANGE, "length past the end is -ERANGE");
	CHECK(hugepfn_map(dev, 0, 0x1000, UINT64_MAX - 0x800, 0, &map) == -ERANGE,
	      "offset + length overflowing is -ERANGE");
	CHECK(hugepfn_map(dev, 0, 0x800, 0x1000, 0, &map) == -EINVAL, "an unaligned offset is -EINVAL");
	CHECK(hugepfn_map(dev, 0, 0, 0, 1u << 20, &map) == -EINVAL, "unknown flags are -EINVAL");
	CHECK(hugepfn_map(dev, 7, 0, 0, 0, &map) == -ERANGE, "region 7 is -ERANGE");
	ret = hugepfn_map(dev, 0, 0, 0, HUGEPFN_MAP_HUGE_REQUIRED, &map);
	CHECK(ret == -ENODATA, "HUGEPFN_MAP_HUGE_REQUIRED fails with -ENODATA when the page sizes cannot be known");
	hugepfn_close(dev);
}

struct thread_arg {
	struct hugepfn_dev *dev;
	int failures;
};

static void *map_loop(void *p)
{
	struct thread_arg *a = p;
	struct hugepfn_map *map;
	int i;

	for (i = 0; i < 200; i++) {
		unsigned int flags = (i & 1) ? HUGEPFN_MAP_WC : 0;

		if (hugepfn_map(a->dev, 0, (uint64_t)(i % 4) * 0x100000, 0x100000, flags, &map)) {
			a->failures++;
			continue;
		}
		((volatile char *)hugepfn_map_addr(map))[0] = (char)i;
		if (hugepfn_unmap(map))
			a->failures++;
	}
	return NULL;
}

/* One handle, four threads mapping and unmapping through it at once. */
static void test_threads(void)
{
	struct thread_arg args[4];
	pthread_t th[4];
	struct hugepfn_dev *dev;
	int i, failures = 0;

	if (hugepfn_open(ctx, "0000:00:05.0", HUGEPFN_BACKEND_AUTO, &dev)) {
		CHECK(0, "threads: open");
		hugepfn_close(dev);
		return;
	}
	for (i = 0; i < 4; i++) {
		args[i] = (struct thread_arg){ dev, 0 };
		pthread_create(&th[i], NULL, map_loop, &args[i]);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		failures += args[i].failures;
	}
	CHECK(failures == 0, "4 threads x 200 maps and unmaps through one handle: %d failures", failures);
	hugepfn_close(dev);
}

static void test_backend_choice(void)
{
	struct hugepfn_dev *dev;
	char msg[1024];
	int ret;

	ret = hugepfn_open(ctx, "0000:00:06.0", HUGEPFN_BACKEND_AUTO, &dev);
	hugepfn_ctx_error(ctx, msg, sizeof(msg));
	CHECK(ret == -ENOENT && strstr(msg, "/dev/hugepfn/pci-0000:00:06.0"),
	      "a device bound to hugepfn opens its node (missing here: '%s')", msg);
	hugepfn_close(dev);
	ret = hugepfn_open(ctx, "0000:00:07.0", HUGEPFN_BACKEND_AUTO, &dev);
	hugepfn_ctx_error(ctx, msg, sizeof(msg));
	CHECK(ret == -EBUSY && strstr(msg, "nvme"), "a device bound to another driver is -EBUSY, naming it");
	hugepfn_close(dev);
	ret = hugepfn_open(ctx, "0000:00:07.0", HUGEPFN_BACKEND_VFIO, &dev);
	hugepfn_ctx_error(ctx, msg, sizeof(msg));
	CHECK(ret == -ENODEV && strstr(msg, "no IOMMU group") && strstr(msg, "enable_unsafe_noiommu_mode"),
	      "VFIO without an IOMMU group: -ENODEV, and what to do ('%s')", msg);
	hugepfn_close(dev);
	ret = hugepfn_open(ctx, "0000:00:08.0", HUGEPFN_BACKEND_AUTO, &dev);
	hugepfn_ctx_error(ctx, msg, sizeof(msg));
	CHECK(ret == -ENOENT && strstr(msg, "no PCI device"), "no such device: -ENOENT ('%s')", msg);
	hugepfn_close(dev);
	ret = hugepfn_open(ctx, "not-a-device", HUGEPFN_BACKEND_AUTO, &dev);
	CHECK(ret == -EINVAL, "a spec that is nothing known is -EINVAL");
	hugepfn_close(dev);
	ret = hugepfn_open(ctx, "carveout:buf", HUGEPFN_BACKEND_SYSFS, &dev);
	CHECK(ret == -EINVAL, "a carveout through the sysfs backend is -EINVAL");
	hugepfn_close(dev);
	CHECK(hugepfn_open(NULL, "0000:00:05.0", 0, &dev) == -EINVAL, "no context is -EINVAL");
}

/*
 * vfio-pci devices: AUTO takes the cdev when the device has one and an
 * IOMMU group and /dev/iommu exists, the group interface otherwise.
 */
static void test_vfio_choice(void)
{
	char msg[1024], target[400], path[700];
	struct hugepfn_dev *dev;
	int ret;

	fake_device("0000:00:09.0", 0x500000000ULL, "vfio-pci");
	mkdirs("bus/pci/devices/0000:00:09.0/vfio-dev/vfio3");
	mkdirs("kernel/iommu_groups/5");
	snprintf(target, sizeof(target), "%s/kernel/iommu_groups/5", sysroot);
	snprintf(path, sizeof(path), "%s/bus/pci/devices/0000:00:09.0/iommu_group", sysroot);
	if (symlink(target, path))
		exit(1);
	dev_put("iommu");
	fake_device("0000:00:0a.0", 0x600000000ULL, "vfio-pci");
	mkdirs("bus/pci/devices/0000:00:0a.0/vfio-dev/vfio4");
	/* no-IOMMU mode: a group named noiommu-N, and a cdev 6.12 cannot bind */
	fake_device("0000:00:0b.0", 0x700000000ULL, "vfio-pci");
	mkdirs("bus/pci/devices/0000:00:0b.0/vfio-dev/vfio5");
	mkdirs("kernel/iommu_groups/6");
	snprintf(target, sizeof(target), "%s/kernel/iommu_groups/6", sysroot);
	snprintf(path, sizeof(path), "%s/bus/pci/devices/0000:00:0b.0/iommu_group", sysroot);
	if (symlink(target, path))
		exit(1);
	dev_put("vfio/noiommu-6");

	/* listed under vfio-dev/ but no /dev node: a kernel without the cdev */
	ret = hugepfn_open(ctx, "0000:00:09.0", HUGEPFN_BACKEND_AUTO, &dev);
	hugepfn_ctx_error(ctx, msg, sizeof(msg));
	CHECK(ret == -ENODEV &&
	      strstr(msg, "IOMMU group 5"),
	      "vfio-pci, kernel without the cdev node: AUTO uses the group ('%s')", msg);
	hugepfn_close(dev);
	ret = hugepfn_open(ctx, "0000:00:09.0", HUGEPFN_BACKEND_VFIO_CDEV, &dev);
	hugepfn_ctx_error(ctx, msg, sizeof(msg));
#if HAVE_VFIO_CDEV
	CHECK(ret == -ENOENT && strstr(msg, "CONFIG_VFIO_DEVICE_CDEV"),
	      "the cdev backend there says the kernel lacks the cdev ('%s')", msg);
#else
	CHECK(ret == -EOPNOTSUPP, "the cdev backend built without the headers: -EOPNOTSUPP");
#endif
	hugepfn_close(dev);
	dev_put("vfio/devices/vfio3");
	ret = hugepfn_open(ctx, "0000:00:09.0", HUGEPFN_BACKEND_AUTO, &dev);
	hugepfn_ctx_error(ctx, msg, sizeof(msg));
#if HAVE_VFIO_CDEV
	/* the fake node is a plain file: the cdev backend's bind ioctl is where it stops */
	CHECK(ret == -ENOTTY && !dev && strstr(msg, "VFIO_DEVICE_BIND_IOMMUFD"),
	      "vfio-pci with a cdev node, an IOMMU group and /dev/iommu: AUTO opens the cdev ('%s')", msg);
#else
	CHECK(ret == -ENODEV &&
	      strstr(msg, "IOMMU group 5"),
	      "built without cdev headers: AUTO opens vfio-pci devices through the group ('%s')", msg);
#endif
	hugepfn_close(dev);
	ret = hugepfn_open(ctx, "0000:00:0a.0", HUGEPFN_BACKEND_AUTO, &dev);
	hugepfn_ctx_error(ctx, msg, sizeof(msg));
	CHECK(ret == -ENODEV &&
	      strstr(msg, "no IOMMU group"),
	      "vfio-pci without an IOMMU group (no-IOMMU): AUTO uses the group interface ('%s')", msg);
	hugepfn_close(dev);
	ret = hugepfn_open(ctx, "0000:00:0b.0", HUGEPFN_BACKEND_AUTO, &dev);
	hugepfn_ctx_error(ctx, msg, sizeof(msg));
	CHECK(ret != 0 && strstr(msg, "/dev/vfio/vfio"),
	      "vfio-pci in no-IOMMU mode, cdev present: AUTO still uses the group interface ('%s')", msg);
	hugepfn_close(dev);
	ret = hugepfn_open(ctx, "0000:00:07.0", HUGEPFN_BACKEND_VFIO_CDEV, &dev);
	hugepfn_ctx_error(ctx, msg, sizeof(msg));
#if HAVE_VFIO_CDEV
	CHECK(ret == -ENODEV && strstr(msg, "no VFIO device cdev") && strstr(msg, "backend vfio"),
	      "the cdev backend on a device without a cdev: -ENODEV, and what to try ('%s')", msg);
#else
	CHECK(ret == -EOPNOTSUPP && strstr(msg, "kernel_uapi"),
	      "the cdev backend built without the headers: -EOPNOTSUPP, and how to rebuild ('%s')", msg);
#endif
	hugepfn_close(dev);
	CHECK(strcmp(hugepfn_backend_name(HUGEPFN_BACKEND_VFIO_CDEV), "vfio-cdev") == 0,
	      "the cdev backend is called vfio-cdev");
	CHECK(hugepfn_open(ctx, "0000:00:05.0", HUGEPFN_BACKEND_VFIO_CDEV + 1, &dev) == -EINVAL && !dev,
	      "an unknown backend number is -EINVAL");
}

/* Every mappable region has areas: itself whole, unless VFIO says sparse. */
static void test_region_areas(void)
{
	struct hugepfn_area areas[2];
	struct hugepfn_dev *dev;
	int ret;

	ret = hugepfn_open(ctx, "0000:00:05.0", HUGEPFN_BACKEND_SYSFS, &dev);
	CHECK(ret == 0, "open through sysfs for the areas");
	if (ret) {
		hugepfn_close(dev);
		return;
	}
	memset(areas, 0xff, sizeof(areas));
	ret = hugepfn_region_areas(dev, 0, areas, 2);
	CHECK(ret == 1 && areas[0].offset == 0 && areas[0].size == 8 * 0x100000ULL,
	      "an ordinary region is one area covering it (n=%d)", ret);
	CHECK(hugepfn_region_areas(dev, 1, areas, 2) == 0, "an I/O BAR has no mappable area");
	CHECK(hugepfn_region_areas(dev, 0, NULL, 0) == 1, "counting only, without a buffer");
	CHECK(hugepfn_region_areas(dev, 9, areas, 2) == -ERANGE, "a region past the last is -ERANGE");
	CHECK(hugepfn_region_areas(dev, 0, NULL, 2) == -EINVAL, "no buffer but room claimed is -EINVAL");
	hugepfn_close(dev);
}

static void test_carveouts_and_permissions(void)
{
	struct hugepfn_carveout_info cv[4];
	struct hugepfn_dev *dev;
	struct hugepfn_map *map;
	char path[700];
	int n, ret, status;
	pid_t pid;

	mkdirs("class/hugepfn/carveout-buf");
	mkdirs("class/hugepfn/pci-0000:00:06.0");
	n = hugepfn_carveout_list(ctx, cv, 4);
	CHECK(n == 1 && !strcmp(cv[0].name, "buf") && cv[0].size == 0,
	      "carveouts listed from the class directory (no node: name only)");

	/* an unprivileged caller gets -EACCES and a hint, not a crash */
	snprintf(path, sizeof(path), "%s/bus/pci/devices/0000:00:05.0/resource0", sysroot);
	/* root drops to nobody, who may read the tree but not the BAR file */
	chmod(path, geteuid() == 0 ? 0600 : 0);
	chmod(root, 0755);
	pid = fork();
	if (pid == 0) {
		if (geteuid() == 0 && setuid(65534))
			_exit(3);
		ret = hugepfn_open(ctx, "0000:00:05.0", HUGEPFN_BACKEND_SYSFS, &dev);
		if (!ret)
			ret = hugepfn_map(dev, 0, 0, 0, 0, &map);
		if (ret == -EACCES) {
			char msg[1024];

			hugepfn_dev_error(dev, msg, sizeof(msg));
			_exit(strstr(msg, "run as root") ? 0 : 5);
		}
		_exit(6);
	}
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "permission denied: -EACCES with a hint to run as root (status %d)", WEXITSTATUS(status));
	chmod(path, 0600);
}

/* The leaf sizes through a context: from its sysfs root. */
static void test_leaf_sizes(void)
{
	uint64_t sizes[4];
	int n;

	n = hugepfn_leaf_sizes(ctx, sizes, 4);
	CHECK(n == 2 && sizes[0] == (uint64_t)sysconf(_SC_PAGESIZE) && sizes[1] == M2,
	      "leaf sizes of a tree without kernel/mm: the base page, and 2M assumed (%d)", n);
	mkdirs("kernel/mm/hugepages/hugepages-2048kB");
	mkdirs("kernel/mm/hugepages/hugepages-1048576kB");
	n = hugepfn_leaf_sizes(ctx, sizes, 4);
	CHECK(n == 3 && sizes[1] == M2 && sizes[2] == G1, "with hugepages-2048kB and -1048576kB: 4K 2M 1G (%d)", n);
	CHECK(hugepfn_leaf_sizes(NULL, sizes, 4) == -EINVAL, "no context: -EINVAL");
	CHECK(!strcmp(hugepfn_cache_name(HUGEPFN_CACHE_UC_MINUS), "UC-") &&
	      !strcmp(hugepfn_cache_name(HUGEPFN_CACHE_WC), "WC") &&
	      !strcmp(hugepfn_cache_name(HUGEPFN_CACHE_MIXED), "mixed") &&
	      !strcmp(hugepfn_cache_name(HUGEPFN_CACHE_UNKNOWN), "unknown"), "cache mode names");
}

/* A map of a fake BAR: no driver query, no dump here, so no memory type. */
static void test_cache_unknown(void)
{
	struct hugepfn_dev *dev;
	struct hugepfn_map *map;
	int ret;

	ret = hugepfn_open(ctx, "0000:00:05.0", HUGEPFN_BACKEND_SYSFS, &dev);
	if (!ret)
		ret = hugepfn_map(dev, 0, 0, 0, HUGEPFN_MAP_WC, &map);
	CHECK(ret == 0, "WC map of a fake BAR succeeds when its memory type cannot be seen (%d)", ret);
	if (!ret) {
		int cache = hugepfn_map_cache(map);

		/* a host with a readable page-table dump sees the file as WB */
		CHECK(cache == HUGEPFN_CACHE_UNKNOWN || cache == HUGEPFN_CACHE_WB,
		      "its memory type is unknown (no dump) or what the dump says (%s)",
		      hugepfn_cache_name(cache));
		hugepfn_unmap(map);
	}
	hugepfn_close(dev);
	CHECK(hugepfn_map_cache(NULL) == -EINVAL, "hugepfn_map_cache(NULL) is -EINVAL");
}

static struct hugepfn_check checks[64];

/* The finding named @check in the last hugepfn_doctor() result, or NULL. */
static const struct hugepfn_check *finding(int n, const char *check)
{
	int i;

	for (i = 0; i < n && i < 64; i++)
		if (!strcmp(checks[i].check, check))
			return &checks[i];
	return NULL;
}

static int has(int n, const char *check, enum hugepfn_check_status st, const char *found_part,
	       const char *advice_part)
{
	const struct hugepfn_check *c = finding(n, check);

	if (!c) {
		printf("# no finding '%s'\n", check);
		return 0;
	}
	if (c->status != st || (found_part && !strstr(c->found, found_part)) ||
	    (advice_part && !strstr(c->advice, advice_part))) {
		printf("# %s: %s: %s -> %s\n", c->check, hugepfn_check_status_name(c->status), c->found,
		       c->advice);
		return 0;
	}
	return 1;
}

static void test_doctor(void)
{
	char path[700];
	int n, status;
	pid_t pid;

	/* the system as the fake tree has it: no THP directory, no hugepfn.ko */
	n = hugepfn_doctor(ctx, NULL, checks, 64);
	CHECK(n > 0 && n <= 64, "doctor without a device: %d findings", n);
	CHECK(has(n, "page-sizes", HUGEPFN_CHECK_OK, "2M 1G", NULL), "page sizes from the tree: 2M 1G offered");
	CHECK(has(n, "thp", HUGEPFN_CHECK_FAIL, "without THP", "CONFIG_TRANSPARENT_HUGEPAGE"),
	      "no transparent_hugepage directory: fail, and which kernel option is missing");
	CHECK(has(n, "remap-pmd", HUGEPFN_CHECK_INFO, "cannot tell", "load hugepfn.ko"),
	      "no node to probe with: remap-pmd cannot tell, and says how to make it tell");
	CHECK(has(n, "hugepfn.ko", HUGEPFN_CHECK_INFO, "not loaded", "insmod"), "hugepfn.ko not loaded: info");
	CHECK(has(n, "iommu", HUGEPFN_CHECK_OK, "2 IOMMU groups", NULL), "the fake tree's two IOMMU groups");
	CHECK(finding(n, "device") == NULL && finding(n, "driver") == NULL, "no device findings without a device");
	CHECK(hugepfn_doctor(ctx, NULL, NULL, 0) == n, "counting only gives the same number");
	CHECK(hugepfn_doctor(NULL, NULL, checks, 64) == -EINVAL && hugepfn_doctor(ctx, NULL, NULL, 4) == -EINVAL,
	      "no context, or no array but room claimed: -EINVAL");
	CHECK(hugepfn_doctor(ctx, NULL, checks, 2) == n && !strcmp(checks[0].check, "page-sizes"),
	      "a short array gets the first findings and the full count");

	mkdirs("kernel/mm/transparent_hugepage");
	put("kernel/mm/transparent_hugepage/enabled", "always madvise [never]\n");
	mkdirs("module/vfio/parameters");
	put("module/vfio/parameters/enable_unsafe_noiommu_mode", "Y\n");
	n = hugepfn_doctor(ctx, NULL, checks, 64);
	CHECK(has(n, "thp", HUGEPFN_CHECK_WARN, "never", "echo madvise"), "THP never: warn, and how to change it");
	CHECK(has(n, "vfio-noiommu", HUGEPFN_CHECK_WARN, "no-IOMMU mode is on", "IOMMU"),
	      "VFIO no-IOMMU mode on: warn");
	put("kernel/mm/transparent_hugepage/enabled", "always [madvise] never\n");

	/* a device bound to another driver */
	n = hugepfn_doctor(ctx, "0000:00:07.0", checks, 64);
	CHECK(has(n, "device", HUGEPFN_CHECK_OK, "bound to nvme", NULL) &&
	      has(n, "driver", HUGEPFN_CHECK_FAIL, "bound to nvme", "hugepfn bind 0000:00:07.0"),
	      "a device bound to nvme: fail, and how to hand it over");
	CHECK(has(n, "bar0", HUGEPFN_CHECK_OK, "8M at 0x400000000, aligned for 2M", NULL),
	      "its 8 MiB BAR0 is aligned for 2M leaves");
	/* bound to nothing: sysfs */
	n = hugepfn_doctor(ctx, "00:05.0", checks, 64);
	{
		const struct hugepfn_check *c = finding(n, "driver");

		CHECK(c && (c->status == HUGEPFN_CHECK_INFO || c->status == HUGEPFN_CHECK_FAIL) &&
		      strstr(c->found, "no driver") && strstr(c->found, "sysfs resourceN") &&
		      strstr(c->advice, "hugepfn bind 0000:00:05.0"),
		      "no driver: explains the sysfs path and suggests the driver (%s)",
		      c ? hugepfn_check_status_name(c->status) : "missing");
	}
	CHECK(has(n, "node", HUGEPFN_CHECK_OK, "resource0", NULL), "root may open its resource0");
	/* vfio-pci: no group, a group shared with an nvme device, no-IOMMU */
	n = hugepfn_doctor(ctx, "0000:00:0a.0", checks, 64);
	CHECK(has(n, "iommu-group", HUGEPFN_CHECK_FAIL, "no IOMMU group", "enable_unsafe_noiommu_mode"),
	      "vfio-pci without an IOMMU group: fail, with the no-IOMMU recipe");
	CHECK(has(n, "driver", HUGEPFN_CHECK_OK, "fault time", "hugepfn_map()"),
	      "vfio-pci's fault path explained, and that it does not align mmap(NULL)");
	mkdirs("kernel/iommu_groups/5/devices/0000:00:09.0");
	mkdirs("kernel/iommu_groups/5/devices/0000:00:07.0");
	n = hugepfn_doctor(ctx, "0000:00:09.0", checks, 64);
	CHECK(has(n, "iommu-group", HUGEPFN_CHECK_FAIL, "0000:00:07.0 (nvme)", "group 5"),
	      "a group that also holds an nvme device is not viable: fail, naming it");
	CHECK(has(n, "node", HUGEPFN_CHECK_FAIL, "/dev/vfio/5", NULL), "its missing /dev/vfio/5: fail");
	mkdirs("kernel/iommu_groups/6/devices/0000:00:0b.0");
	put("kernel/iommu_groups/6/name", "vfio-noiommu\n");
	n = hugepfn_doctor(ctx, "0000:00:0b.0", checks, 64);
	CHECK(has(n, "iommu-group", HUGEPFN_CHECK_WARN, "no-IOMMU group 6", "real IOMMU"),
	      "a device in VFIO's no-IOMMU group: warn");
	CHECK(has(n, "node", HUGEPFN_CHECK_OK, "noiommu-6", NULL), "its /dev/vfio/noiommu-6 opens");
	/* carveouts */
	n = hugepfn_doctor(ctx, "carveout:nope", checks, 64);
	CHECK(has(n, "device", HUGEPFN_CHECK_FAIL, "no carveout 'nope'", "carveouts=nope:"),
	      "an unknown carveout: fail, with the module parameter to use");
	n = hugepfn_doctor(ctx, "carveout:buf", checks, 64);
	CHECK(has(n, "device", HUGEPFN_CHECK_OK, "'buf'", NULL) &&
	      has(n, "node", HUGEPFN_CHECK_FAIL, "hugepfn/carveout-buf", NULL) &&
	      has(n, "region0", HUGEPFN_CHECK_INFO, "without access", NULL),
	      "a carveout whose node is missing: the node fails, its address cannot be read");
	/* a UIO device with a misaligned map and one smaller than a leaf */
	mkdirs("class/uio/uio3/maps/map0");
	mkdirs("class/uio/uio3/maps/map1");
	put("class/uio/uio3/name", "fpga\n");
	put("class/uio/uio3/maps/map0/addr", "0x40001000\n");
	put("class/uio/uio3/maps/map0/size", "0x800000\n");
	put("class/uio/uio3/maps/map1/addr", "0x50000000\n");
	put("class/uio/uio3/maps/map1/size", "0x10000\n");
	n = hugepfn_doctor(ctx, "/dev/uio3", checks, 64);
	CHECK(has(n, "device", HUGEPFN_CHECK_OK, "uio3 (fpga)", NULL) &&
	      has(n, "map0", HUGEPFN_CHECK_WARN, "aligned to 4K only", NULL) &&
	      has(n, "map1", HUGEPFN_CHECK_INFO, "smaller than a 2M leaf", NULL),
	      "UIO maps: a 4K-aligned 8 MiB map warns, a 64 KiB one is base pages only");
	CHECK(has(n, "driver", HUGEPFN_CHECK_INFO, "no hook to choose an aligned address", "hugepfn_map()"),
	      "UIO: remap at mmap time, and no aligned mmap(NULL)");
	n = hugepfn_doctor(ctx, "nonsense", checks, 64);
	CHECK(has(n, "device", HUGEPFN_CHECK_FAIL, "'nonsense'", "hugepfn list"), "a spec that is nothing: fail");

	/* node permissions: a hugepfn node of mode 0600, as root and as nobody */
	dev_put("hugepfn/pci-0000:00:06.0");
	snprintf(path, sizeof(path), "%s/hugepfn/pci-0000:00:06.0", devroot);
	chmod(path, 0600);
	n = hugepfn_doctor(ctx, "0000:00:06.0", checks, 64);
	CHECK(has(n, "node", HUGEPFN_CHECK_OK, "mode 0600", NULL), "its owner may open a 0600 node");
	/* root drops to nobody; anyone else takes the permission from itself */
	if (geteuid() != 0)
		chmod(path, 0);
	pid = fork();
	if (pid == 0) {
		if (geteuid() == 0 && setuid(65534))
			_exit(3);
		n = hugepfn_doctor(ctx, "0000:00:06.0", checks, 64);
		_exit(has(n, "node", HUGEPFN_CHECK_FAIL, "cannot open it", "udev rule") &&
		      has(n, "driver", HUGEPFN_CHECK_INFO, "hugepfn.ko maps BARs", NULL) ? 0 : 5);
	}
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "a 0600 node checked by an unprivileged user: fail, with the udev rule to add (status %d)",
	      WEXITSTATUS(status));
}

static void test_truncated_resource(void)
{
	struct hugepfn_dev *dev;
	int ret;

	put("bus/pci/devices/0000:00:05.0/resource", "0x0000000200000000 0x00000002007f");
	ret = hugepfn_open(ctx, "0000:00:05.0", HUGEPFN_BACKEND_SYSFS, &dev);
	CHECK(ret == -EIO, "a truncated resource file is -EIO (bad kernel data, not bad input), not a guess");
	hugepfn_close(dev);
}

int main(void)
{
	ctx = fake_tree_standard();
	CHECK(ctx != NULL, "context on the fake tree");
	if (!ctx)
		return 1;
	test_discovery();
	test_strict_bdf();
	test_open_and_map();
	test_threads();
	test_backend_choice();
	test_carveouts_and_permissions();
	test_vfio_choice();
	test_region_areas();
	test_cache_unknown();
	test_leaf_sizes();
	test_doctor();
	test_truncated_resource();	/* breaks 0000:00:05.0: last */
	hugepfn_ctx_free(ctx);
	CHECK(strcmp(hugepfn_strerror(-EINVAL), "Invalid argument") == 0, "hugepfn_strerror");
	if (fake_tree_remove())
		return 1;
	return UNIT_DONE();
}
