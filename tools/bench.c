// SPDX-License-Identifier: GPL-2.0
/*
 * hugepfn bench: what huge leaves change for device memory, measured on the
 * same memory mapped three times in one run: with HUGEPFN_MAP_4K (4 KiB
 * pages), with HUGEPFN_MAP_2M (2 MiB leaves at most) and aligned for the
 * largest leaf (1 GiB where the range and the system allow it):
 *   - latency: an lmbench lat_mem_rd-style dependent-load chase (stride 64
 *     bytes, pages visited in random order) over growing working sets;
 *   - copy: memcpy from and to the region;
 *   - mapping cost: mmap, touching every page, fork, munmap, and the
 *     page-table pages the mapping costs.
 * Every figure is the median of several runs after a warm-up. --host runs
 * the same on anonymous memory (4 KiB pages, transparent huge pages, and
 * 1 GiB hugetlb pages where some are reserved), to see what this CPU's TLB
 * gives before any device.
 *
 * Under an emulator (TCG) TLB effects are not real: only the mapping-cost
 * figures mean anything there, and the output says so.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hugepfn.h"
#include "tool.h"

#define MAX_SIZES 16
#define MAX_COPIES 3	/* memcpy of 1, 2 and 4 GiB, as the published figures */
#define SZ_2M (2ULL << 20)
#define SZ_1G (1ULL << 30)

#ifndef MAP_HUGE_1GB
#define MAP_HUGE_1GB (30 << 26)	/* MAP_HUGE_SHIFT */
#endif

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* xorshift: deterministic shuffles without global state */
static uint64_t next_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/*
 * Build a pointer chain over [base, base + size): every 64-byte slot of a
 * page is visited before the next page, the pages in random order, so each
 * load depends on the last and the TLB is exercised.
 */
static void build_chain(uint8_t *base, uint64_t size, uint64_t seed)
{
	uint64_t pages = size / 4096, *order = malloc(pages * sizeof(*order)), i, s = seed | 1;
	uintptr_t *prev = NULL;

	if (!order)
		return;
	for (i = 0; i < pages; i++)
		order[i] = i;
	for (i = pages - 1; i > 0; i--) {
		uint64_t j = next_rand(&s) % (i + 1), t = order[i];

		order[i] = order[j];
		order[j] = t;
	}
	for (i = 0; i < pages; i++) {
		for (uint64_t slot = 0; slot < 4096; slot += 64) {
			uintptr_t *cur = (uintptr_t *)(base + order[i] * 4096 + slot);

			if (prev)
				*prev = (uintptr_t)cur;
			prev = cur;
		}
	}
	*prev = (uintptr_t)(base + order[0] * 4096);
	free(order);
}

/* ns per dependent load over the chain; median of @reps after one warm-up */
static double chase(uint8_t *base, uint64_t size, int reps)
{
	uint64_t loads = size / 64, n;
	double v[32];
	volatile uintptr_t p;
	int r;

	build_chain(base, size, 0x9e3779b97f4a7c15ULL);
	for (r = -1; r < reps; r++) {
		uint64_t t0 = now_ns();

		p = *(uintptr_t *)(base);
		for (n = 0; n < loads; n++)
			p = *(volatile uintptr_t *)p;
		if (r >= 0)
			v[r] = (double)(now_ns() - t0) / loads;
	}
	(void)p;
	return median(v, reps);
}

/* ms per memcpy of @size between @dev and ordinary memory, both directions */
static void copy_ms(uint8_t *dev, uint64_t size, int reps, double *from, double *to)
{
	uint8_t *buf = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	double vf[32], vt[32];
	int r;

	if (buf == MAP_FAILED) {
		*from = *to = 0;
		return;
	}
	memset(buf, 1, size);
	for (r = -1; r < reps; r++) {
		uint64_t t0 = now_ns(), t1;

		memcpy(buf, dev, size);
		t1 = now_ns();
		memcpy(dev, buf, size);
		if (r >= 0) {
			vf[r] = (t1 - t0) / 1e6;
			vt[r] = (now_ns() - t1) / 1e6;
		}
	}
	*from = median(vf, reps);
	*to = median(vt, reps);
	munmap(buf, size);
}

/* Where this ran, and whether TLB figures can mean anything here. */
struct machine {
	char model[160];
	char kernel[65];
	const char *kind;	/* "emulated (qemu TCG)", "under a hypervisor", "bare metal" */
	int figures_meaningful;	/* latency and copy figures say something about hardware */
};

static void describe_machine(struct machine *m)
{
	int hypervisor = 0, emulated;
	struct utsname u;
	size_t cap = 0;
	char *line = NULL;
	FILE *c = fopen("/proc/cpuinfo", "re");

	snprintf(m->model, sizeof(m->model), "unknown");
	/* getline: the flags line is far longer than any fixed buffer */
	while (c && getline(&line, &cap, c) > 0) {
		if (!strncmp(line, "model name", 10) && strchr(line, ':'))
			snprintf(m->model, sizeof(m->model), "%s", strchr(line, ':') + 2);
		if (!strncmp(line, "flags", 5) && (strstr(line, " hypervisor ") || strstr(line, " hypervisor\n")))
			hypervisor = 1;
	}
	free(line);
	if (c)
		fclose(c);
	m->model[strcspn(m->model, "\n")] = '\0';
	uname(&u);
	snprintf(m->kernel, sizeof(m->kernel), "%s", u.release);
	/* qemu's TCG CPU models say so ("QEMU TCG CPU", "QEMU Virtual CPU") */
	emulated = strstr(m->model, "TCG") || strstr(m->model, "QEMU Virtual");
	m->kind = emulated ? "emulated (qemu TCG)" : hypervisor ? "under a hypervisor" : "bare metal";
	m->figures_meaningful = !emulated && !hypervisor;
	if (json_output)
		return;
	printf("# cpu: %s; kernel %s; %s\n", m->model, m->kernel, m->kind);
	if (emulated || hypervisor)
		printf("# WARNING: %s: only the mapping-cost figures mean anything here; the latency and\n"
		       "# copy figures say nothing about hardware.\n",
		       emulated ? "under an emulator TLB effects are not real" :
		       "under a hypervisor nested paging adds its own TLB effects");
}

static void bench_usage(FILE *f)
{
	fprintf(f,
		"Usage: hugepfn [--json] bench DEV REGION [--sizes LIST] [--reps N] [--copy-size N]\n"
		"       hugepfn [--json] bench --host [--sizes LIST] [--reps N]\n\n"
		"Maps the region (or, with --host, anonymous memory) three times: 4 KiB pages,\n"
		"2 MiB leaves at most, and 1 GiB leaves where the range allows them, and compares\n"
		"load latency (stride 64, random page order), memcpy from and to it, and the cost\n"
		"of mapping it (mmap, touch, fork, munmap, 4 KiB mprotect, page-table pages).\n"
		"A column the range or the system cannot give (a region under 1 GiB, no 1 GiB\n"
		"hugetlb pages reserved for --host) shows '-' and says why.\n"
		"  --sizes LIST    working-set sizes for latency, e.g. 64M,256M,1G (default 64M up to the region)\n"
		"  --reps N        measured repetitions per figure, median reported (default 5)\n"
		"  --copy-size N   bytes per memcpy (default: 1G, 2G and 4G as far as the range goes)\n");
}

enum { SIDE_4K, SIDE_2M, SIDE_1G, NSIDES };
static const char *const side_name[NSIDES] = { "4K", "2M", "1G" };

struct side {
	uint8_t *base;		/* anonymous: what to munmap */
	uint64_t base_len;
	uint8_t *addr;
	uint64_t len;
	struct hugepfn_map *map;
};

/* Every figure of one side; NaN-free: @avail says whether there are any. */
struct figures {
	int avail;
	char why[160];		/* when not available */
	double map_ms, touch_ms, fork_ms, unmap_ms, split_us;
	double from_ms[MAX_COPIES], to_ms[MAX_COPIES];
	double lat[MAX_SIZES];
	int64_t pt_pages;
	int64_t pt_kib_per_gib;	/* the kernel's count (VmPTE), -1 unknown */
	uint64_t largest_page;	/* the largest page size obtained, 0 unknown */
	uint64_t alignment;	/* the leaf size the library aligned for, 0 anonymous */
};

static void unmap_side(struct side *s)
{
	if (s->map)
		hugepfn_unmap(s->map);
	else if (s->base)
		munmap(s->base, s->base_len);
	s->map = NULL;
	s->base = NULL;
}

/* Anonymous memory the way side @k wants it; -errno when it cannot be had. */
static int map_anon(uint64_t len, int k, struct side *s)
{
	int flags = MAP_PRIVATE | MAP_ANONYMOUS;
	uint64_t align = k == SIDE_4K ? 4096 : SZ_2M;

	if (k == SIDE_1G) {
		/* 1 GiB pages only come from hugetlbfs, reserved beforehand */
		s->base_len = (len + SZ_1G - 1) & ~(SZ_1G - 1);
		s->base = mmap(NULL, s->base_len, PROT_READ | PROT_WRITE,
			       flags | MAP_HUGETLB | MAP_HUGE_1GB, -1, 0);
		if (s->base == MAP_FAILED) {
			s->base = NULL;
			return -errno;
		}
		s->addr = s->base;
	} else {
		s->base_len = len + align;
		s->base = mmap(NULL, s->base_len, PROT_READ | PROT_WRITE, flags, -1, 0);
		if (s->base == MAP_FAILED) {
			s->base = NULL;
			return -errno;
		}
		s->addr = (uint8_t *)(((uintptr_t)s->base + align - 1) & ~(uintptr_t)(align - 1));
		madvise(s->addr, len, k == SIDE_4K ? MADV_NOHUGEPAGE : MADV_HUGEPAGE);
	}
	memset(s->addr, 0, len);
	return 0;
}

static int map_side(struct hugepfn_dev *dev, unsigned int region, uint64_t len, int k,
		    struct side *s, double *mmap_ms)
{
	static const unsigned int flags[NSIDES] = { HUGEPFN_MAP_4K, HUGEPFN_MAP_2M, 0 };
	uint64_t t0 = now_ns();
	int ret;

	s->map = NULL;
	s->base = NULL;
	s->len = len;
	if (!dev)
		ret = map_anon(len, k, s);
	else if (!(ret = hugepfn_map(dev, region, 0, len, flags[k], &s->map)))
		s->addr = hugepfn_map_addr(s->map);
	*mmap_ms = (now_ns() - t0) / 1e6;
	return ret;
}

/* This process's page tables in KiB, as the kernel counts them (VmPTE); -1 unknown. */
static int64_t vmpte_kib(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[128];
	long long kib = -1;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmPTE: %lld kB", &kib) == 1)
			break;
	if (f)
		fclose(f);
	return kib;
}

/* The largest page size of the mapping, from the library (0: unknown). */
static uint64_t largest_page(struct side *s)
{
	struct hugepfn_run runs[64];
	uint64_t max = 0;
	int n, i;

	if (!s->map)
		return 0;
	n = hugepfn_map_runs(s->map, runs, 64);
	for (i = 0; i < n && i < 64; i++) {
		if (runs[i].page_size == UINT64_MAX)
			return 0;
		if (runs[i].page_size > max)
			max = runs[i].page_size;
	}
	return max;
}

/*
 * Measure one side: mapping costs over @reps map/touch/fork/unmap rounds
 * after a warm-up, then latency, copy and 4 KiB mprotect on the last
 * mapping. Returns 0, or -errno when the side could not be mapped.
 */
static int measure_side(struct hugepfn_dev *dev, unsigned int region, uint64_t len, int k,
			const uint64_t *sizes, uint64_t nsizes, const uint64_t *copies,
			int ncopies, int reps, struct figures *f)
{
	double vm[32], vt[32], vf[32], vu[32], vs[64], map_ms;
	int64_t pte0 = -1, pte1;
	struct side side;
	uint64_t t0, blocks, i;
	int rep, st, ns = 0, ret;
	pid_t pid;

	for (rep = -1; rep < reps; rep++) {
		if (rep == reps - 1)
			pte0 = vmpte_kib();
		ret = map_side(dev, region, len, k, &side, &map_ms);
		if (ret)
			return ret;
		t0 = now_ns();
		for (i = 0; i < len; i += 4096)
			((volatile uint8_t *)side.addr)[i] = (uint8_t)i;
		f->touch_ms = (now_ns() - t0) / 1e6;
		/* what mapping and touching every page cost, fault-time tables included */
		pte1 = vmpte_kib();
		f->pt_kib_per_gib = pte0 >= 0 && pte1 >= pte0 ?
			(int64_t)((double)(pte1 - pte0) * SZ_1G / len + 0.5) : -1;
		t0 = now_ns();
		pid = fork();
		if (pid == 0)
			_exit(0);
		waitpid(pid, &st, 0);
		f->fork_ms = (now_ns() - t0) / 1e6;
		if (rep >= 0) {
			vm[rep] = map_ms;
			vt[rep] = f->touch_ms;
			vf[rep] = f->fork_ms;
		}
		if (rep == reps - 1)
			break;
		t0 = now_ns();
		unmap_side(&side);
		if (rep >= 0)
			vu[rep] = (now_ns() - t0) / 1e6;
	}
	f->avail = 1;
	f->map_ms = median(vm, reps);
	f->touch_ms = median(vt, reps);
	f->fork_ms = median(vf, reps);
	f->unmap_ms = reps > 1 ? median(vu, reps - 1) : 0;
	f->pt_pages = side.map ? hugepfn_map_pt_pages(side.map) : -1;
	f->largest_page = largest_page(&side);
	f->alignment = side.map ? hugepfn_map_alignment(side.map) : 0;
	for (i = 0; i < nsizes; i++)
		f->lat[i] = chase(side.addr, sizes[i], reps);
	for (i = 0; i < (uint64_t)ncopies; i++)
		copy_ms(side.addr, copies[i], reps, &f->from_ms[i], &f->to_ms[i]);
	/* one 4 KiB mprotect per 2 MiB block: a split where the block is huge */
	blocks = len / SZ_2M < 64 ? len / SZ_2M : 64;
	for (i = 0; i < blocks; i++) {
		t0 = now_ns();
		if (mprotect(side.addr + i * SZ_2M + 4096, 4096, PROT_READ) == 0)
			vs[ns++] = (now_ns() - t0) / 1e3;
	}
	/* hugetlb pages cannot be split by mprotect: nothing to measure (-1) */
	f->split_us = ns ? median(vs, ns) : -1;
	t0 = now_ns();
	unmap_side(&side);
	/* with one round, the last unmap is the only one measured */
	if (reps == 1)
		f->unmap_ms = (now_ns() - t0) / 1e6;
	return 0;
}

/* "12.34", "-" for a side that is not there, "n/a" for a figure that is not (< 0) */
static const char *fig(const struct figures *f, double v, const char *fmt, char *buf, size_t n)
{
	if (!f->avail)
		return "-";
	if (v < 0)
		return "n/a";
	snprintf(buf, n, fmt, v);
	return buf;
}

static const char *gain(const struct figures *base, const struct figures *f, double b, double v,
			char *buf, size_t n)
{
	if (!base->avail || !f->avail || b <= 0)
		return "-";
	snprintf(buf, n, "%.1f%%", 100.0 * (b - v) / b);
	return buf;
}

static void json_num(const struct figures *f, double v, const char *fmt)
{
	if (f->avail && v >= 0)
		printf(fmt, v);
	else
		printf("null");
}

/* "key":[4K,2M,1G] with null for a side that is not there */
static void json_triple(const char *key, const struct figures *f, size_t off, const char *fmt,
			int last)
{
	printf("\"%s\":[", key);
	for (int k = 0; k < NSIDES; k++) {
		printf(k ? "," : "");
		json_num(&f[k], *(const double *)((const char *)&f[k] + off), fmt);
	}
	printf("]%s", last ? "" : ",");
}

/* "key":[4K,2M,1G] of an int64_t field, null where missing (< 0) */
static void json_int_triple(const char *key, const struct figures *f, size_t off, int last)
{
	printf("\"%s\":[", key);
	for (int k = 0; k < NSIDES; k++) {
		int64_t v = *(const int64_t *)((const char *)&f[k] + off);

		printf(k ? "," : "");
		if (f[k].avail && v >= 0)
			printf("%" PRId64, v);
		else
			printf("null");
	}
	printf("]%s", last ? "" : ",");
}

static void print_json(const struct machine *m, const char *source, const char *backend,
		       uint64_t len, uint64_t reps,
		       const uint64_t *sizes, uint64_t nsizes, const uint64_t *copies, int ncopies,
		       const struct figures *f)
{
	uint64_t i;
	int k;

	printf("{\"machine\":{\"cpu\":\"%s\",\"kernel\":\"%s\",\"kind\":\"%s\",\"tlb_figures_meaningful\":%s},",
	       m->model, m->kernel, m->kind, m->figures_meaningful ? "true" : "false");
	printf("\"source\":\"%s\",\"backend\":\"%s\",\"length\":%" PRIu64 ",\"reps\":%" PRIu64 ",\"sides\":[",
	       source, backend, len, reps);
	for (k = 0; k < NSIDES; k++)
		printf("%s{\"name\":\"%s\",\"available\":%s,\"why_not\":\"%s\",\"alignment\":%" PRIu64
		       ",\"largest_page\":%" PRIu64 "}",
		       k ? "," : "", side_name[k], f[k].avail ? "true" : "false", f[k].avail ? "" : f[k].why,
		       f[k].alignment, f[k].largest_page);
	printf("],\"latency\":[");
	for (i = 0; i < nsizes; i++) {
		printf("%s{\"size\":%" PRIu64, i ? "," : "", sizes[i]);
		for (k = 0; k < NSIDES; k++) {
			printf(",\"ns_%s\":", k == SIDE_4K ? "4k" : k == SIDE_2M ? "2m" : "1g");
			json_num(&f[k], f[k].lat[i], "%.2f");
		}
		printf("}");
	}
	printf("],\"copy\":[");
	for (int c = 0; c < ncopies; c++) {
		printf("%s{\"size\":%" PRIu64 ",", c ? "," : "", copies[c]);
		json_triple("from_ms", f, offsetof(struct figures, from_ms) + c * sizeof(double), "%.3f", 0);
		json_triple("to_ms", f, offsetof(struct figures, to_ms) + c * sizeof(double), "%.3f", 1);
		printf("}");
	}
	printf("],\"mapping\":{");
	json_triple("mmap_ms", f, offsetof(struct figures, map_ms), "%.3f", 0);
	json_triple("touch_ms", f, offsetof(struct figures, touch_ms), "%.3f", 0);
	json_triple("fork_ms", f, offsetof(struct figures, fork_ms), "%.3f", 0);
	json_triple("munmap_ms", f, offsetof(struct figures, unmap_ms), "%.3f", 0);
	json_triple("mprotect_4k_us", f, offsetof(struct figures, split_us), "%.3f", 0);
	json_int_triple("page_table_pages", f, offsetof(struct figures, pt_pages), 0);
	json_int_triple("page_table_kib_per_gib", f, offsetof(struct figures, pt_kib_per_gib), 1);
	printf("}}\n");
}

/* One row of figures for the three sides and the gains of 2M and 1G over 4K. */
static void compare_row(const char *label, const struct figures *f, const double v[NSIDES],
			const char *fmt)
{
	char a[32], b[32], c[32], d[32], e[32];

	printf("%-22s %12s %12s %12s %10s %10s\n", label, fig(&f[0], v[0], fmt, a, sizeof(a)),
	       fig(&f[1], v[1], fmt, b, sizeof(b)), fig(&f[2], v[2], fmt, c, sizeof(c)),
	       gain(&f[0], &f[1], v[0], v[1], d, sizeof(d)), gain(&f[0], &f[2], v[0], v[2], e, sizeof(e)));
}

static void print_table(int host, const char *backend, uint64_t reps, const uint64_t *sizes,
			uint64_t nsizes, const uint64_t *copies, int ncopies, const struct figures *f)
{
	char a[32], b[32], c[32];
	uint64_t i;
	int k;

	for (k = 0; k < NSIDES; k++)
		if (!f[k].avail)
			printf("# no %s column: %s\n", side_name[k], f[k].why);
	printf("\n%-22s %12s %12s %12s %10s %10s\n", "size", "4K ns/load", "2M ns/load", "1G ns/load",
	       "2M vs 4K", "1G vs 4K");
	for (i = 0; i < nsizes; i++) {
		char sz[32];

		snprintf(sz, sizeof(sz), "%" PRIu64 "M", sizes[i] >> 20);
		compare_row(sz, f, (double[NSIDES]){ f[0].lat[i], f[1].lat[i], f[2].lat[i] }, "%.2f");
	}
	printf("\n%-22s %12s %12s %12s %10s %10s\n", "memcpy", "4K ms", "2M ms", "1G ms", "2M vs 4K",
	       "1G vs 4K");
	for (int n = 0; n < ncopies; n++) {
		char label[40];

		snprintf(label, sizeof(label), "from the region %" PRIu64 "M", copies[n] >> 20);
		compare_row(label, f, (double[NSIDES]){ f[0].from_ms[n], f[1].from_ms[n], f[2].from_ms[n] },
			    "%.3f");
		snprintf(label, sizeof(label), "to the region %" PRIu64 "M", copies[n] >> 20);
		compare_row(label, f, (double[NSIDES]){ f[0].to_ms[n], f[1].to_ms[n], f[2].to_ms[n] }, "%.3f");
	}
	printf("\n%-22s %12s %12s %12s\n", "mapping cost", "4K", "2M", "1G");
	if (backend)
		printf("(through the %s backend)\n", backend);
	if (host)
		printf("(anonymous memory: mmap includes the first touch)\n");
#define ROW(label, field, fmt) \
	printf("%-22s %12s %12s %12s\n", label, fig(&f[0], f[0].field, fmt, a, sizeof(a)), \
	       fig(&f[1], f[1].field, fmt, b, sizeof(b)), fig(&f[2], f[2].field, fmt, c, sizeof(c)))
	ROW("mmap ms", map_ms, "%.3f");
	ROW("touch every page ms", touch_ms, "%.3f");
	ROW("fork ms", fork_ms, "%.3f");
	ROW("munmap ms", unmap_ms, "%.3f");
	ROW("4K mprotect us", split_us, "%.3f");
#undef ROW
	if (!host) {
		for (k = 0; k < NSIDES; k++)
			snprintf(k == 0 ? a : k == 1 ? b : c, sizeof(a), f[k].avail && f[k].pt_pages >= 0 ?
				 "%" PRId64 : "-", f[k].pt_pages);
		printf("%-22s %12s %12s %12s\n", "page-table pages", a, b, c);
	}
	for (k = 0; k < NSIDES; k++)
		snprintf(k == 0 ? a : k == 1 ? b : c, sizeof(a), f[k].avail && f[k].pt_kib_per_gib >= 0 ?
			 "%" PRId64 : "-", f[k].pt_kib_per_gib);
	printf("%-22s %12s %12s %12s\n", "page tables KiB/GiB", a, b, c);
	printf("(every figure is a median: latency and copy of %" PRIu64 " runs after a warm-up, mapping\n"
	       " costs of %" PRIu64 " map/touch/fork/unmap rounds after a warm-up, mprotect of up to 64\n"
	       " blocks; on the 2M and 1G sides each mprotect splits a leaf; n/a: hugetlb pages\n"
	       " (--host 1G) cannot be split by a 4 KiB mprotect. Page-table pages: the library's\n"
	       " count from the page sizes; KiB/GiB: the kernel's (VmPTE) growth for mapping and\n"
	       " touching every page, per GiB mapped, fault-time tables of vfio-pci included)\n",
	       reps, reps);
}

int cmd_bench(struct hugepfn_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "sizes", required_argument, NULL, 's' },
		{ "reps", required_argument, NULL, 'r' },
		{ "copy-size", required_argument, NULL, 'c' },
		{ "host", no_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	uint64_t sizes[MAX_SIZES], nsizes = 0, reps = 5, copy = 0, region = 0, len, i;
	uint64_t copies[MAX_COPIES];
	int ncopies = 0;
	struct figures f[NSIDES];
	struct hugepfn_dev *dev = NULL;
	struct hugepfn_region r;
	struct machine machine;
	int host = 0, c, k, ret;
	char *tok, *save = NULL;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			for (tok = strtok_r(optarg, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
				if (nsizes == MAX_SIZES || tool_parse_u64(tok, &sizes[nsizes]) || sizes[nsizes] < 4096) {
					fprintf(stderr, "hugepfn bench: bad size '%s' (at most %d, each >= 4K)\n", tok, MAX_SIZES);
					return EXIT_USAGE;
				}
				nsizes++;
			}
			break;
		case 'r':
			if (tool_parse_u64(optarg, &reps) || reps < 1 || reps > 31) {
				fprintf(stderr, "hugepfn bench: --reps takes 1 to 31\n");
				return EXIT_USAGE;
			}
			break;
		case 'c':
			if (tool_parse_u64(optarg, &copy) || !copy) {
				fprintf(stderr, "hugepfn bench: bad --copy-size '%s'\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'H': host = 1; break;
		case 'h': bench_usage(stdout); return 0;
		default: return EXIT_USAGE;
		}
	}
	if (argc - optind != (host ? 0 : 2)) {
		bench_usage(stderr);
		return EXIT_USAGE;
	}
	if (host) {
		len = nsizes ? 0 : 256ULL << 20;
		for (i = 0; i < nsizes; i++)
			len = sizes[i] > len ? sizes[i] : len;
	} else {
		if (tool_parse_u64(argv[optind + 1], &region) || region > 255) {
			fprintf(stderr, "hugepfn bench: REGION '%s' is not a region number\n", argv[optind + 1]);
			return EXIT_USAGE;
		}
		if (tool_open_dev(ctx, argv[optind], &dev))
			return EXIT_DEVICE;
		ret = hugepfn_region_info(dev, (unsigned int)region, &r);
		if (ret) {
			hugepfn_close(dev);
			return tool_fail(NULL, ret, "region info");
		}
		len = r.size;
		for (i = 0; i < nsizes; i++)
			if (sizes[i] > len) {
				fprintf(stderr, "hugepfn bench: size %" PRIu64 " is larger than the region\n", sizes[i]);
				hugepfn_close(dev);
				return EXIT_USAGE;
			}
		if (nsizes)
			for (len = 0, i = 0; i < nsizes; i++)
				len = sizes[i] > len ? sizes[i] : len;
	}
	if (!nsizes)
		for (uint64_t s = 64ULL << 20; s <= len && nsizes < MAX_SIZES; s *= 2)
			sizes[nsizes++] = s;
	if (!nsizes)
		sizes[nsizes++] = len;
	/* memcpy of 1, 2 and 4 GiB as far as the range goes, or one --copy-size */
	if (copy)
		copies[ncopies++] = copy < len ? copy : len;
	else
		for (uint64_t cs = SZ_1G; cs <= len && ncopies < MAX_COPIES; cs *= 2)
			copies[ncopies++] = cs;
	if (!ncopies)
		copies[ncopies++] = len;

	describe_machine(&machine);
	memset(f, 0, sizeof(f));
	for (k = 0; k < NSIDES; k++) {
		ret = measure_side(dev, (unsigned int)region, len, k, sizes, nsizes, copies, ncopies,
				   (int)reps, &f[k]);
		if (!ret && dev && k == SIDE_1G && f[k].alignment < SZ_1G) {
			/* the range allows no 1 GiB leaf: the same as the 2M column */
			f[k].avail = 0;
			snprintf(f[k].why, sizeof(f[k].why),
				 "the range is under 1 GiB, not 1 GiB-aligned, or the system has no 1 GiB leaves");
		} else if (!ret && dev && k == SIDE_1G && f[k].largest_page && f[k].largest_page < SZ_1G) {
			f[k].avail = 0;
			snprintf(f[k].why, sizeof(f[k].why),
				 "the kernel mapped no 1 GiB leaf (no PUD remap support in this kernel?)");
		} else if (ret && host && k != SIDE_4K) {
			snprintf(f[k].why, sizeof(f[k].why), "%s",
				 k == SIDE_1G ? "no 1 GiB hugetlb pages (reserve some: echo N > /sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages)" :
				 "anonymous huge pages unavailable");
		} else if (ret) {
			ret = tool_fail(dev, ret, "map");
			hugepfn_close(dev);
			return ret;
		}
	}
	if (json_output)
		print_json(&machine, host ? "anonymous memory (4K, THP, hugetlb 1G)" : argv[optind],
			   dev ? hugepfn_backend_name(hugepfn_dev_backend(dev)) : "anonymous", len, reps,
			   sizes, nsizes, copies, ncopies, f);
	else
		print_table(host, dev ? hugepfn_backend_name(hugepfn_dev_backend(dev)) : NULL, reps,
			    sizes, nsizes, copies, ncopies, f);
	hugepfn_close(dev);
	return 0;
}
