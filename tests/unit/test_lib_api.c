// SPDX-License-Identifier: GPL-2.0
/*
 * The promises of hugepfn.h, each tested on a fake sysfs tree: per-thread
 * error details on handles and contexts, read-only calls that write
 * nothing, hugepfn_open() that leaves no handle behind on failure, ordered
 * and correctly counted lists, the page-table dump read under the
 * context's root, HUGEPFN_MAP_HUGE_REQUIRED's three outcomes, strerror,
 * the version and the reserved fields.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hugepfn.h"
#include "fake_tree.h"
#include "unit.h"

#define M2 0x200000ULL
#define THREADS 8
#define ROUNDS 400

static struct hugepfn_ctx *ctx;

static void test_version_and_reserved(void)
{
	struct hugepfn_ctx_opts opts = { 0 };
	struct hugepfn_ctx *c = (struct hugepfn_ctx *)1;

	CHECK(!strcmp(hugepfn_version(), EXPECTED_VERSION), "hugepfn_version() is %s ('%s')",
	      EXPECTED_VERSION, hugepfn_version());
	opts.sysfs_root = sysroot;
	opts.reserved[5] = 1;
	CHECK(hugepfn_ctx_new(&opts, &c) == -EINVAL && c == NULL,
	      "a non-zero reserved field of hugepfn_ctx_opts is -EINVAL, and *out is NULL");
	opts.reserved[5] = 0;
	opts.sysfs_root = "";
	CHECK(hugepfn_ctx_new(&opts, &c) == -EINVAL, "an empty sysfs root is -EINVAL");
}

static void test_strerror(void)
{
	CHECK(!strcmp(hugepfn_strerror(-ENAMETOOLONG), "File name too long"), "ENAMETOOLONG is named");
	CHECK(!strcmp(hugepfn_strerror(-EPROTO), "Protocol error"), "EPROTO is named");
	CHECK(!strcmp(hugepfn_strerror(EAGAIN), "Resource temporarily unavailable"), "a positive errno too");
	CHECK(!strcmp(hugepfn_strerror(0), "Success"), "0 is Success");
	CHECK(!strcmp(hugepfn_strerror(-99999), "Unknown error") &&
	      !strcmp(hugepfn_strerror(INT32_MIN), "Unknown error"), "no errno: Unknown error");
}

/* A failed open leaves no handle to close, and says why on the context. */
static void test_open_failure(void)
{
	struct hugepfn_dev *dev = (struct hugepfn_dev *)1;
	char msg[1024];
	int ret;

	ret = hugepfn_open(ctx, "0000:00:08.0", HUGEPFN_BACKEND_AUTO, &dev);
	hugepfn_ctx_error(ctx, msg, sizeof(msg));
	CHECK(ret == -ENOENT && dev == NULL && strstr(msg, "no PCI device 0000:00:08.0"),
	      "open of a missing device: -ENOENT, *out NULL, detail on the context ('%s')", msg);
	ret = hugepfn_open(ctx, "0000:00:05.0", HUGEPFN_BACKEND_AUTO, NULL);
	hugepfn_ctx_error(ctx, msg, sizeof(msg));
	CHECK(ret == -EINVAL && strstr(msg, "out is NULL"), "open without out: -EINVAL, said ('%s')", msg);
	ret = hugepfn_open(ctx, "0000:00:05.0", HUGEPFN_BACKEND_AUTO, &dev);
	CHECK(ret == 0 && dev, "a good open succeeds");
	CHECK(hugepfn_ctx_error(ctx, msg, sizeof(msg)) == 0 && !msg[0],
	      "and a call that starts clears the thread's old detail ('%s')", msg);
	hugepfn_close(dev);
	hugepfn_open(ctx, "0000:00:08.0", HUGEPFN_BACKEND_AUTO, &dev);
	CHECK(hugepfn_ctx_error(ctx, msg, 4) > 20 && strlen(msg) == 3,
	      "a short buffer gets a terminated prefix, and the whole length is returned");
}

/* Looking at a device changes nothing; mapping it through sysfs enables it. */
static void test_read_only(void)
{
	struct hugepfn_pci_info info[8];
	struct hugepfn_check checks[64];
	struct hugepfn_region r;
	struct hugepfn_dev *dev;
	struct hugepfn_map *map;
	char text[64], msg[1024];
	int ret;

	fake_device("0000:00:0c.0", 0x500000000ULL, NULL);
	put("bus/pci/devices/0000:00:0c.0/enable", "0\n");
	hugepfn_pci_list(ctx, info, 8);
	hugepfn_pci_info(ctx, "0000:00:0c.0", &info[0]);
	hugepfn_doctor(ctx, "0000:00:0c.0", checks, 64);
	ret = hugepfn_open(ctx, "0000:00:0c.0", HUGEPFN_BACKEND_AUTO, &dev);
	if (!ret)
		hugepfn_region_info(dev, 0, &r);
	get("bus/pci/devices/0000:00:0c.0/enable", text, sizeof(text));
	CHECK(ret == 0 && !strcmp(text, "0"),
	      "list, info, doctor, open and region info leave a disabled device disabled ('%s')", text);
	ret = ret ? ret : hugepfn_map(dev, 0, 0, 0, 0, &map);
	get("bus/pci/devices/0000:00:0c.0/enable", text, sizeof(text));
	CHECK(ret == 0 && text[0] == '1', "hugepfn_map() through sysfs turns memory decoding on ('%s')", text);
	if (!ret)
		hugepfn_unmap(map);
	hugepfn_close(dev);
	put("bus/pci/devices/0000:00:0c.0/enable", "0\n");
	CHECK(hugepfn_pci_enable(ctx, "00:0c.0") == 0, "hugepfn_pci_enable() on its own");
	get("bus/pci/devices/0000:00:0c.0/enable", text, sizeof(text));
	CHECK(text[0] == '1', "... writes the enable file ('%s')", text);
	ret = hugepfn_pci_enable(ctx, "0000:00:07.0");
	hugepfn_ctx_error(ctx, msg, sizeof(msg));
	CHECK(ret == -EBUSY && strstr(msg, "nvme"), "a device a driver holds is not enabled by us ('%s')", msg);
	CHECK(hugepfn_pci_enable(ctx, "0000:00:0c.0x1") == -EINVAL, "and a malformed address is refused");
}

struct thread_arg {
	struct hugepfn_dev *dev;
	int id, wrong;
	char seen[256];
};

/* Each thread fails with a message naming its own number, and must read back only that. */
static void *dev_failer(void *p)
{
	struct thread_arg *a = p;
	struct hugepfn_map *map;
	struct hugepfn_region r;
	char msg[1024], want[64];
	int i;

	snprintf(want, sizeof(want), "region %d:", 100 + a->id);
	for (i = 0; i < ROUNDS; i++) {
		if (hugepfn_map(a->dev, 100 + a->id, 0, 0, 0, &map) != -ERANGE)
			a->wrong++;
		hugepfn_dev_error(a->dev, msg, sizeof(msg));
		if (!strstr(msg, want)) {
			a->wrong++;
			snprintf(a->seen, sizeof(a->seen), "%.200s", msg);
		}
		/* a call that succeeds leaves no old detail behind */
		if (hugepfn_region_info(a->dev, 0, &r) || hugepfn_dev_error(a->dev, msg, sizeof(msg)))
			a->wrong++;
	}
	return NULL;
}

static void *ctx_failer(void *p)
{
	struct thread_arg *a = p;
	struct hugepfn_pci_info info;
	struct hugepfn_dev *dev;
	char msg[1024], bdf[16];
	int i;

	snprintf(bdf, sizeof(bdf), "0000:00:1%x.%d", a->id, a->id % 8);
	for (i = 0; i < ROUNDS / 4; i++) {
		int ret = i & 1 ? hugepfn_pci_info(ctx, bdf, &info) :
				  hugepfn_open(ctx, bdf, HUGEPFN_BACKEND_AUTO, &dev);

		hugepfn_ctx_error(ctx, msg, sizeof(msg));
		if (ret != -ENOENT || !strstr(msg, bdf)) {
			a->wrong++;
			snprintf(a->seen, sizeof(a->seen), "%d %.200s", ret, msg);
		}
	}
	return NULL;
}

static int run_threads(void *(*fn)(void *), struct hugepfn_dev *dev, char *seen, size_t size)
{
	struct thread_arg args[THREADS];
	pthread_t th[THREADS];
	int i, wrong = 0;

	for (i = 0; i < THREADS; i++) {
		args[i] = (struct thread_arg){ .dev = dev, .id = i };
		pthread_create(&th[i], NULL, fn, &args[i]);
	}
	for (i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		wrong += args[i].wrong;
		if (args[i].wrong && seen[0] == '\0')
			snprintf(seen, size, "%s", args[i].seen);
	}
	return wrong;
}

static void test_thread_details(void)
{
	struct hugepfn_dev *dev;
	char seen[256] = "";
	int wrong;

	if (hugepfn_open(ctx, "0000:00:05.0", HUGEPFN_BACKEND_AUTO, &dev)) {
		CHECK(0, "threads: open 0000:00:05.0");
		return;
	}
	wrong = run_threads(dev_failer, dev, seen, sizeof(seen));
	CHECK(wrong == 0, "%d threads x %d failures on one handle: each reads only its own detail (%d wrong%s%s)",
	      THREADS, ROUNDS, wrong, seen[0] ? ", e.g. " : "", seen);
	hugepfn_close(dev);
	seen[0] = '\0';
	wrong = run_threads(ctx_failer, NULL, seen, sizeof(seen));
	CHECK(wrong == 0, "%d threads failing opens and lookups on one context: each reads its own (%d wrong%s%s)",
	      THREADS, wrong, seen[0] ? ", e.g. " : "", seen);
}

/* More threads than slots: an evicted thread reads "", never another's detail. */
#define MANY 80
static pthread_barrier_t barrier;

static void *evicted(void *p)
{
	struct thread_arg *a = p;
	struct hugepfn_pci_info info;
	char msg[1024], bdf[16];

	snprintf(bdf, sizeof(bdf), "0001:%02x:00.0", a->id);
	hugepfn_pci_info(ctx, bdf, &info);
	pthread_barrier_wait(&barrier);
	hugepfn_ctx_error(ctx, msg, sizeof(msg));
	if (msg[0] && !strstr(msg, bdf))
		a->wrong++;
	a->seen[0] = msg[0] ? 1 : 0;
	return NULL;
}

static void test_many_threads(void)
{
	struct thread_arg args[MANY];
	pthread_t th[MANY];
	int i, wrong = 0, kept = 0;

	pthread_barrier_init(&barrier, NULL, MANY);
	for (i = 0; i < MANY; i++) {
		args[i] = (struct thread_arg){ .id = i };
		pthread_create(&th[i], NULL, evicted, &args[i]);
	}
	for (i = 0; i < MANY; i++) {
		pthread_join(th[i], NULL);
		wrong += args[i].wrong;
		kept += args[i].seen[0];
	}
	pthread_barrier_destroy(&barrier);
	CHECK(wrong == 0 && kept == 64, "%d threads failing at once: 64 keep their own detail, the rest read \"\" (%d kept, %d wrong)",
	      MANY, kept, wrong);
}

static void test_context_details(void)
{
	struct hugepfn_ctx_opts opts = { 0 };
	struct hugepfn_pci_info info[4];
	struct hugepfn_ctx *empty;
	char msg[1024], path[400], cmd[1000];
	int ret;

	ret = hugepfn_pci_bind(ctx, "0000:00:05.0", "bad/drv");
	hugepfn_ctx_error(ctx, msg, sizeof(msg));
	CHECK(ret == -EINVAL && strstr(msg, "'bad/drv' is not a driver name"),
	      "bind to a malformed driver name blames the driver ('%s')", msg);
	ret = hugepfn_pci_bind(ctx, "0000:00:05.0x1", "hugepfn");
	hugepfn_ctx_error(ctx, msg, sizeof(msg));
	CHECK(ret == -EINVAL && strstr(msg, "'0000:00:05.0x1' is not a PCI address"),
	      "bind to a malformed address blames the address ('%s')", msg);
	ret = hugepfn_pci_bind(ctx, "0000:00:05.0", "notloaded");
	hugepfn_ctx_error(ctx, msg, sizeof(msg));
	CHECK(ret == -ENOENT && strstr(msg, "no driver 'notloaded'"), "bind to a driver not loaded ('%s')", msg);
	ret = hugepfn_pci_unbind(ctx, "0000:00:1e.0");
	hugepfn_ctx_error(ctx, msg, sizeof(msg));
	CHECK(ret == -ENOENT && strstr(msg, "0000:00:1e.0"), "unbind of a missing device ('%s')", msg);
	ret = hugepfn_carveout_list(ctx, NULL, 3);
	hugepfn_ctx_error(ctx, msg, sizeof(msg));
	CHECK(ret == -EINVAL && strstr(msg, "out is NULL"), "carveout list without an array ('%s')", msg);

	/* a tree with no PCI bus at all: an error that says so */
	opts.sysfs_root = devroot;
	CHECK(hugepfn_ctx_new(&opts, &empty) == 0, "a context on a tree without bus/pci");
	ret = hugepfn_pci_list(empty, NULL, 0);
	hugepfn_ctx_error(empty, msg, sizeof(msg));
	CHECK(ret == -ENODEV && strstr(msg, "libpci cannot read"), "listing it: -ENODEV, said (%d, '%s')", ret, msg);
	hugepfn_ctx_free(empty);
	/* a bus without devices: none, and no qsort(NULL, 0) or memcpy from NULL (UBSan) */
	snprintf(path, sizeof(path), "%s/emptybus", root);
	opts.sysfs_root = path;
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s/bus/pci/devices' '%s/bus/pci/drivers'", path, path);
	CHECK(system(cmd) == 0 && hugepfn_ctx_new(&opts, &empty) == 0, "a context on a bus without devices");
	CHECK(hugepfn_pci_list(empty, NULL, 0) == 0 && hugepfn_pci_list(empty, info, 4) == 0,
	      "listing it: 0 devices, with or without an array");
	hugepfn_ctx_free(empty);
}

/* A short array gets the first devices in address order, whatever the scan order. */
static void test_list_order(void)
{
	static const char *const extra[] = { "0000:00:1d.0", "0000:00:0e.0", "0000:00:1b.0",
					     "0000:00:04.0", "0000:00:19.0", "0000:00:0d.0" };
	struct hugepfn_pci_info all[32], part[32];
	int n, k, i, ok = 1;
	size_t j;

	for (j = 0; j < sizeof(extra) / sizeof(extra[0]); j++)
		fake_device(extra[j], 0x600000000ULL + j * 0x10000000ULL, NULL);
	n = hugepfn_pci_list(ctx, all, 32);
	for (i = 1; i < n && i < 32; i++)
		ok &= strcmp(all[i - 1].bdf, all[i].bdf) < 0;
	CHECK(n >= 9 && ok, "the whole list is in address order (%d devices)", n);
	for (k = 1; k < n && k < 32; k++) {
		memset(part, 0, sizeof(part));
		if (hugepfn_pci_list(ctx, part, k) != n)
			ok = 0;
		for (i = 0; i < k; i++)
			ok &= !strcmp(part[i].bdf, all[i].bdf);
		ok &= part[k].bdf[0] == '\0';
	}
	CHECK(ok, "every short array gets exactly the first devices of that order");
}

/* Write a fake page-table dump: @n lines of "start-end size flags level". */
static void put_dump(const char *text)
{
	mkdirs("kernel/debug/page_tables");
	put("kernel/debug/page_tables/current_kernel", text);
}

static void test_runs_from_dump(void)
{
	struct hugepfn_run runs[4];
	struct hugepfn_dev *dev;
	struct hugepfn_map *map;
	char dump[1024], msg[1024];
	unsigned long long a;
	int n, ret;

	if (hugepfn_open(ctx, "0000:00:05.0", HUGEPFN_BACKEND_SYSFS, &dev)) {
		CHECK(0, "dump: open");
		return;
	}
	/* no dump: the sizes cannot be known */
	ret = hugepfn_map(dev, 0, 0, 0, HUGEPFN_MAP_HUGE_REQUIRED, &map);
	hugepfn_dev_error(dev, msg, sizeof(msg));
	CHECK(ret == -ENODATA && map == NULL && strstr(msg, "cannot be known"),
	      "HUGE_REQUIRED without any way to see page sizes: -ENODATA, saying so ('%s')", msg);
	/* a dump that shows the whole user half mapped with 2 MiB leaves */
	put_dump("0x0000000000000000-0x0000800000000000      131072G USR RW PSE NX pmd\n");
	ret = hugepfn_map(dev, 0, 0, 0, HUGEPFN_MAP_HUGE_REQUIRED, &map);
	hugepfn_dev_error(dev, msg, sizeof(msg));
	CHECK(ret == 0, "HUGE_REQUIRED where the context's dump shows 2M leaves succeeds (%d '%s')", ret, msg);
	if (ret) {
		hugepfn_close(dev);
		return;
	}
	/* 4K, then three 2M lines: two runs in truth */
	a = (unsigned long long)(uintptr_t)hugepfn_map_addr(map);
	snprintf(dump, sizeof(dump),
		 "0x%016llx-0x%016llx           2M     USR RW                     NX pte\n"
		 "0x%016llx-0x%016llx           2M     USR RW         PSE         NX pmd\n"
		 "0x%016llx-0x%016llx           2M     USR RW         PSE         NX pmd\n"
		 "0x%016llx-0x%016llx           2M     USR RW         PSE         NX pmd\n",
		 a, a + M2, a + M2, a + 2 * M2, a + 2 * M2, a + 3 * M2, a + 3 * M2, a + 4 * M2);
	put_dump(dump);
	n = hugepfn_map_runs(map, runs, 4);
	CHECK(n == 2 && runs[0].page_size == 4096 && runs[0].length == M2 && runs[1].page_size == M2 &&
	      runs[1].length == 3 * M2, "the dump under the context's root gives 4K + 2M runs (%d)", n);
	CHECK(hugepfn_map_runs(map, runs, 1) == 2, "with room for one run the count is still 2 (%d)",
	      hugepfn_map_runs(map, runs, 1));
	CHECK(hugepfn_map_runs(map, NULL, 0) == 2, "and with none");
	CHECK(hugepfn_map_pt_pages(map) == 4, "4 PTE tables: one for the 4K block, one deposited per 2M leaf (%lld)",
	      (long long)hugepfn_map_pt_pages(map));
	hugepfn_unmap(map);
	/* a dump that shows only 4K: known not huge */
	put_dump("0x0000000000000000-0x0000800000000000      131072G USR RW NX pte\n");
	ret = hugepfn_map(dev, 0, 0, 0, HUGEPFN_MAP_HUGE_REQUIRED, &map);
	hugepfn_dev_error(dev, msg, sizeof(msg));
	CHECK(ret == -EOPNOTSUPP && strstr(msg, "base pages only"),
	      "HUGE_REQUIRED where the dump shows 4K: -EOPNOTSUPP ('%s')", msg);
	put("kernel/debug/page_tables/current_kernel", "");
	hugepfn_close(dev);
}

/*
 * A dump of an 8 MiB mapping at @a whose first runs alternate base pages
 * and entries of no leaf size (p4d lines), 70 of them, before 2 MiB leaves:
 * its huge leaves come after the 64th run.
 */
static void put_dump_many_runs(unsigned long long a)
{
	char *dump = malloc(16384);
	size_t used = 0;
	unsigned long long p = a;
	int i;

	for (i = 0; i < 70; i++, p += 4096)
		used += (size_t)snprintf(dump + used, 16384 - used,
					 "0x%016llx-0x%016llx           4K     USR RW                     NX %s\n",
					 p, p + 4096, i % 2 ? "p4d" : "pte");
	used += (size_t)snprintf(dump + used, 16384 - used,
				 "0x%016llx-0x%016llx         1768K     USR RW                     NX pte\n", p, a + M2);
	for (p = a + M2; p < a + 4 * M2; p += M2)
		used += (size_t)snprintf(dump + used, 16384 - used,
					 "0x%016llx-0x%016llx           2M     USR RW         PSE         NX pmd\n",
					 p, p + M2);
	put_dump(dump);
	free(dump);
}

/* HUGE_REQUIRED finds a huge leaf however many runs come before it. */
static void test_huge_after_many_runs(void)
{
	unsigned long long a = 0, got = 0;
	struct hugepfn_dev *dev;
	struct hugepfn_map *map;
	char msg[1024] = "";
	int ret = -1, i;

	if (hugepfn_open(ctx, "0000:00:05.0", HUGEPFN_BACKEND_SYSFS, &dev)) {
		CHECK(0, "many runs: open");
		return;
	}
	/* where the mapping lands, so that the dump can describe it (the same place again) */
	for (i = 0; i < 3 && (ret || got != a); i++) {
		if (!hugepfn_map(dev, 0, 0, 0, 0, &map)) {
			a = (unsigned long long)(uintptr_t)hugepfn_map_addr(map);
			hugepfn_unmap(map);
		}
		put_dump_many_runs(a);
		ret = hugepfn_map(dev, 0, 0, 0, HUGEPFN_MAP_HUGE_REQUIRED, &map);
		hugepfn_dev_error(dev, msg, sizeof(msg));
		got = ret ? 0 : (unsigned long long)(uintptr_t)hugepfn_map_addr(map);
		if (!ret)
			hugepfn_unmap(map);
	}
	CHECK(ret == 0 && got == a, "HUGE_REQUIRED sees a 2M leaf after 70 runs of other sizes (%d '%s')", ret, msg);
	put("kernel/debug/page_tables/current_kernel", "");
	hugepfn_close(dev);
}

/* A thread that exits leaves its detail to nobody, not to the next thread. */
static void *fail_once(void *p)
{
	struct hugepfn_pci_info info;

	hugepfn_pci_info(ctx, "zz", &info);
	hugepfn_ctx_error(ctx, p, 1024);	/* it did leave one */
	return NULL;
}

static void *read_detail(void *p)
{
	hugepfn_ctx_error(ctx, p, 1024);
	return NULL;
}

static void test_thread_reuse(void)
{
	char first[1024] = "", msg[1024] = "x";
	pthread_t t1, t2;

	pthread_create(&t1, NULL, fail_once, first);
	pthread_join(t1, NULL);
	pthread_create(&t2, NULL, read_detail, msg);
	pthread_join(t2, NULL);
	/* glibc hands the exited thread's pthread_t (and stack) to the next one */
	CHECK(strstr(first, "'zz'") && msg[0] == '\0' && pthread_equal(t1, t2),
	      "a new thread with the exited one's pthread_t reads none of its detail ('%s' / '%s')", first, msg);
}

/* Calls that succeed leave no detail, whatever they met on the way. */
static void test_success_no_detail(void)
{
	struct hugepfn_check checks[64];
	struct hugepfn_dev *dev;
	struct hugepfn_map *map;
	char msg[1024];
	int n;

	mkdirs("bus/pci/devices/0000:00:1f.0");	/* an empty device directory */
	n = hugepfn_doctor(ctx, "0000:00:1f.0", checks, 64);
	CHECK(n > 0 && hugepfn_ctx_error(ctx, msg, sizeof(msg)) == 0,
	      "doctor of a device libpci cannot read: findings, and no detail left ('%s')", msg);
	rm_fake("bus/pci/devices/0000:00:1f.0");
	if (hugepfn_open(ctx, "0000:00:05.0", HUGEPFN_BACKEND_SYSFS, &dev)) {
		CHECK(0, "success: open");
		return;
	}
	CHECK(hugepfn_map(dev, 0, 0, 0, 1u << 31, &map) == -EINVAL,
	      "the library's private map flag is refused from outside, as every unknown bit");
	CHECK(hugepfn_map(dev, 0, 0, 0, HUGEPFN_MAP_WC, &map) == 0 && hugepfn_dev_error(dev, msg, sizeof(msg)) == 0,
	      "a WC map whose type cannot be read succeeds with no detail left ('%s')", msg);
	hugepfn_unmap(map);
	hugepfn_close(dev);
}

int main(void)
{
	ctx = fake_tree_standard();
	CHECK(ctx != NULL, "context on the fake tree");
	if (!ctx)
		return 1;
	test_version_and_reserved();
	test_strerror();
	test_open_failure();
	test_read_only();
	test_thread_details();
	test_many_threads();
	test_context_details();
	test_list_order();
	test_runs_from_dump();
	test_huge_after_many_runs();
	test_thread_reuse();
	test_success_no_detail();
	hugepfn_ctx_free(ctx);
	if (fake_tree_remove())
		return 1;
	return UNIT_DONE();
}
