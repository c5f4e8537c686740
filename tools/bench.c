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
 * gives before any device; /proc/self/smaps tells whether THP really gave
 * 2 MiB pages, and a side that did not get its page size has no column.
 *
 * Under an emulator (TCG) TLB effects are not real: only the mapping-cost
 * figures mean anything there, and the output says so.
 */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tool.h"

#define MAX_COPIES 3	/* memcpy of 1, 2 and 4 GiB, as the published figures */
#define SZ_2M (2ULL << 20)
#define SZ_1G (1ULL << 30)

#ifndef MAP_HUGE_1GB
#define MAP_HUGE_1GB (30 << 26)	/* MAP_HUGE_SHIFT */
#endif

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
		uint64_t t0 = tool_now_ns();

		p = *(uintptr_t *)(base);
		for (n = 0; n < loads; n++)
			p = *(volatile uintptr_t *)p;
		if (r >= 0)
			v[r] = (double)(tool_now_ns() - t0) / loads;
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
		*from = *to = -1;	/* no figure (null), rather than a 0 ms copy */
		return;
	}
	memset(buf, 1, size);
	for (r = -1; r < reps; r++) {
		uint64_t t0 = tool_now_ns(), t1;

		memcpy(buf, dev, size);
		t1 = tool_now_ns();
		memcpy(dev, buf, size);
		if (r >= 0) {
			vf[r] = (t1 - t0) / 1e6;
			vt[r] = (tool_now_ns() - t1) / 1e6;
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
	int emulated;
	int figures_meaningful;	/* latency and copy figures say something about hardware */
};

static void describe_machine(struct machine *m)
{
	int hypervisor = 0;
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
	m->emulated = strstr(m->model, "TCG") || strstr(m->model, "QEMU Virtual");
	m->kind = m->emulated ? "emulated (qemu TCG)" : hypervisor ? "under a hypervisor" : "bare metal";
	m->figures_meaningful = !m->emulated && !hypervisor;
}

static void print_machine(const struct machine *m)
{
	printf("# cpu: %s; kernel %s; %s\n", m->model, m->kernel, m->kind);
	if (!m->figures_meaningful)
		printf("# WARNING: %s: only the mapping-cost figures mean anything here; the latency and\n"
		       "# copy figures say nothing about hardware.\n",
		       m->emulated ? "under an emulator TLB effects are not real" :
		       "under a hypervisor nested paging adds its own TLB effects");
}

enum { SIDE_4K, SIDE_2M, SIDE_1G, NSIDES };
static const char *const side_name[NSIDES] = { "4K", "2M", "1G" };
static const uint64_t side_page[NSIDES] = { 4096, SZ_2M, SZ_1G };

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
	char why[256];		/* when not available */
	double map_ms, touch_ms, fork_ms, unmap_ms, split_us;
	double from_ms[MAX_COPIES], to_ms[MAX_COPIES];
	double lat[TOOL_MAX_SIZES];
	int64_t pt_pages;	/* the library's count; < 0 its errno, or -1 anonymous */
	int64_t pt_kib_per_gib;	/* the kernel's count (VmPTE), -1 unknown */
	uint64_t largest_page;	/* the largest page size obtained, 0 unknown */
	uint64_t huge_bytes;	/* anonymous: bytes THP gave as 2 MiB pages */
	uint64_t alignment;	/* the leaf size the library aligned for, 0 anonymous */
};

/* One run of the benchmark: what to measure, and what was measured. */
struct bench {
	const struct tool_args *a;
	struct hugepfn_dev *dev;	/* NULL: --host, anonymous memory */
	uint64_t len;			/* mapped per side */
	uint64_t sizes[TOOL_MAX_SIZES];	/* latency working sets */
	size_t nsizes;
	uint64_t copies[MAX_COPIES];	/* memcpy sizes */
	int ncopies;
	int reps;
	struct machine machine;
	struct figures f[NSIDES];
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

static int map_side(struct bench *b, int k, struct side *s, double *mmap_ms)
{
	static const unsigned int flags[NSIDES] = { HUGEPFN_MAP_4K, HUGEPFN_MAP_2M, 0 };
	uint64_t t0 = tool_now_ns();
	int ret;

	s->map = NULL;
	s->base = NULL;
	s->len = b->len;
	if (!b->dev)
		ret = map_anon(b->len, k, s);
	else if (!(ret = hugepfn_map(b->dev, b->a->region, 0, b->len, flags[k], &s->map)))
		s->addr = hugepfn_map_addr(s->map);
	*mmap_ms = (tool_now_ns() - t0) / 1e6;
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

/* The largest page size of a device mapping, from the library (0: unknown). */
static uint64_t largest_page(struct side *s)
{
	struct hugepfn_run runs[64];
	uint64_t max = 0;
	int n, i;

	n = hugepfn_map_runs(s->map, runs, 64);
	/* more runs than fit: the first 64 say enough about the largest */
	for (i = 0; i < n && i < 64; i++) {
		if (runs[i].page_size == UINT64_MAX)
			return 0;
		if (runs[i].page_size > max)
			max = runs[i].page_size;
	}
	return max;
}

/*
 * What the kernel gave anonymous memory at @s, from /proc/self/smaps: the
 * page size (hugetlb: KernelPageSize) and the bytes THP made 2 MiB pages
 * (AnonHugePages), over the VMAs the side overlaps.
 */
static void anon_pages(const struct side *s, struct figures *f)
{
	uintptr_t lo = (uintptr_t)s->addr, hi = lo + s->len, start, end;
	unsigned long long kib, kernel_page = 0;
	FILE *m = fopen("/proc/self/smaps", "re");
	char *line = NULL;
	size_t cap = 0;
	int inside = 0;

	f->huge_bytes = 0;
	while (m && getline(&line, &cap, m) > 0) {
		if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR " ", &start, &end) == 2)
			inside = start < hi && end > lo;
		else if (inside && sscanf(line, "KernelPageSize: %llu kB", &kib) == 1 && kib * 1024 > kernel_page)
			kernel_page = kib * 1024;
		else if (inside && sscanf(line, "AnonHugePages: %llu kB", &kib) == 1)
			f->huge_bytes += kib * 1024;
	}
	free(line);
	if (m)
		fclose(m);
	if (f->huge_bytes > s->len)
		f->huge_bytes = s->len;	/* a neighbouring VMA merged in */
	f->largest_page = kernel_page > 4096 ? kernel_page : f->huge_bytes ? SZ_2M :
			  kernel_page ? kernel_page : 0;
}

/* "[madvise]" of /sys/kernel/mm/transparent_hugepage/enabled: the THP mode. */
static void thp_mode(char *buf, size_t n)
{
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "re");
	char line[128] = "", *l, *r;

	snprintf(buf, n, "unknown");
	if (f && fgets(line, sizeof(line), f) && (l = strchr(line, '[')) && (r = strchr(l, ']'))) {
		*r = '\0';
		snprintf(buf, n, "%s", l + 1);
	}
	if (f)
		fclose(f);
}

/* Why THP did not give this side 2 MiB pages throughout; 0 when it did. */
static int thp_short(const struct bench *b, struct figures *f)
{
	uint64_t want = b->len & ~(SZ_2M - 1);
	char mode[32];

	if (!want) {
		snprintf(f->why, sizeof(f->why), "the working set is under 2 MiB: no 2 MiB page fits "
			 "(--sizes 2M or more)");
		return 1;
	}
	if (f->huge_bytes >= want)
		return 0;
	thp_mode(mode, sizeof(mode));
	if (!f->huge_bytes)
		snprintf(f->why, sizeof(f->why), "transparent huge pages gave no 2 MiB page (THP mode '%s'; "
			 "echo madvise > /sys/kernel/mm/transparent_hugepage/enabled)", mode);
	else
		snprintf(f->why, sizeof(f->why), "transparent huge pages gave only %" PRIu64 " of %" PRIu64
			 " MiB as 2 MiB pages (fragmented memory? echo 1 > /proc/sys/vm/compact_memory)",
			 f->huge_bytes >> 20, want >> 20);
	return 1;
}

/*
 * Whether side @k got the page size it is named after: 1 (and f->why)
 * when it did not, so that no 4 KiB figures are shown as 2M or 1G ones.
 * An unknown page size (0) is given the benefit of the doubt.
 */
static int side_short(const struct bench *b, int k, struct figures *f)
{
	if (k == SIDE_4K)
		return 0;
	if (!b->dev && k == SIDE_2M)
		return thp_short(b, f);
	if (b->dev && f->alignment < side_page[k]) {
		snprintf(f->why, sizeof(f->why), "the range is under %s, not %s-aligned, or the system has no %s leaves",
			 k == SIDE_1G ? "1 GiB" : "2 MiB", k == SIDE_1G ? "1 GiB" : "2 MiB", k == SIDE_1G ? "1 GiB" : "2 MiB");
		return 1;
	}
	if (f->largest_page && f->largest_page < side_page[k]) {
		snprintf(f->why, sizeof(f->why), "the kernel mapped no %s leaf (no %s remap support in this kernel? "
			 "'hugepfn doctor' says)", k == SIDE_1G ? "1 GiB" : "2 MiB", k == SIDE_1G ? "PUD" : "PMD");
		return 1;
	}
	return 0;
}

/* Touch every page and fork once: what mapping costs after mmap. */
static void touch_and_fork(struct side *s, struct figures *f, int64_t pte0)
{
	uint64_t t0 = tool_now_ns(), i;
	int64_t pte1;
	pid_t pid;
	int st;

	for (i = 0; i < s->len; i += 4096)
		((volatile uint8_t *)s->addr)[i] = (uint8_t)i;
	f->touch_ms = (tool_now_ns() - t0) / 1e6;
	/* what mapping and touching every page cost, fault-time tables included */
	pte1 = vmpte_kib();
	f->pt_kib_per_gib = pte0 >= 0 && pte1 >= pte0 ? (int64_t)((double)(pte1 - pte0) * SZ_1G / s->len + 0.5) : -1;
	t0 = tool_now_ns();
	pid = fork();
	if (pid == 0)
		_exit(0);
	if (pid > 0)
		waitpid(pid, &st, 0);
	f->fork_ms = (tool_now_ns() - t0) / 1e6;
}

/*
 * Mapping costs over b->reps map/touch/fork/unmap rounds after a warm-up;
 * the last mapping stays in @side for the other figures. 0 or -errno.
 */
static int measure_rounds(struct bench *b, int k, struct side *side, struct figures *f)
{
	double vm[32], vt[32], vf[32], vu[32], map_ms;
	int64_t pte0 = -1;
	uint64_t t0;
	int rep, ret;

	for (rep = -1; rep < b->reps; rep++) {
		if (rep == b->reps - 1)
			pte0 = vmpte_kib();
		ret = map_side(b, k, side, &map_ms);
		if (ret)
			return ret;
		touch_and_fork(side, f, pte0);
		if (rep >= 0) {
			vm[rep] = map_ms;
			vt[rep] = f->touch_ms;
			vf[rep] = f->fork_ms;
		}
		if (rep == b->reps - 1)
			break;
		t0 = tool_now_ns();
		unmap_side(side);
		if (rep >= 0)
			vu[rep] = (tool_now_ns() - t0) / 1e6;
	}
	f->map_ms = median(vm, b->reps);
	f->touch_ms = median(vt, b->reps);
	f->fork_ms = median(vf, b->reps);
	f->unmap_ms = b->reps > 1 ? median(vu, b->reps - 1) : 0;
	return 0;
}

/* Latency, copy and 4 KiB mprotect on the side's last mapping, then unmap it. */
static void measure_access(struct bench *b, struct side *side, struct figures *f)
{
	double vs[64];
	uint64_t t0, blocks, i;
	int ns = 0;

	for (i = 0; i < b->nsizes; i++)
		f->lat[i] = chase(side->addr, b->sizes[i], b->reps);
	for (i = 0; i < (uint64_t)b->ncopies; i++)
		copy_ms(side->addr, b->copies[i], b->reps, &f->from_ms[i], &f->to_ms[i]);
	/* one 4 KiB mprotect per 2 MiB block: a split where the block is huge */
	blocks = b->len / SZ_2M < 64 ? b->len / SZ_2M : 64;
	for (i = 0; i < blocks; i++) {
		t0 = tool_now_ns();
		if (mprotect(side->addr + i * SZ_2M + 4096, 4096, PROT_READ) == 0)
			vs[ns++] = (tool_now_ns() - t0) / 1e3;
	}
	/* hugetlb pages cannot be split by mprotect: nothing to measure (-1) */
	f->split_us = ns ? median(vs, ns) : -1;
	t0 = tool_now_ns();
	unmap_side(side);
	/* with one round, the last unmap is the only one measured */
	if (b->reps == 1)
		f->unmap_ms = (tool_now_ns() - t0) / 1e6;
}

/*
 * Measure side @k into b->f[k]. Returns 0 (the side may still be
 * unavailable, f->why says why), or -errno when a device side could not
 * be mapped.
 */
static int measure_side(struct bench *b, int k)
{
	struct figures *f = &b->f[k];
	struct side side = { 0 };
	int ret = measure_rounds(b, k, &side, f);

	if (ret && !b->dev && k != SIDE_4K) {
		snprintf(f->why, sizeof(f->why), "%s", k == SIDE_1G ?
			 "no 1 GiB hugetlb pages (reserve some: echo N > /sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages)" :
			 "anonymous memory could not be mapped for 2 MiB pages");
		return 0;
	}
	if (ret)
		return ret;
	f->pt_pages = side.map ? hugepfn_map_pt_pages(side.map) : -1;
	f->alignment = side.map ? hugepfn_map_alignment(side.map) : 0;
	if (side.map)
		f->largest_page = largest_page(&side);
	else
		anon_pages(&side, f);
	if (side_short(b, k, f)) {
		unmap_side(&side);
		return 0;
	}
	f->avail = 1;
	measure_access(b, &side, f);
	return 0;
}

/* ---- output ------------------------------------------------------------------- */

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
	if (!base->avail || !f->avail || b <= 0 || v < 0)
		return "-";
	snprintf(buf, n, "%.1f%%", 100.0 * (b - v) / b);
	return buf;
}

/* A figure in JSON: null for a side that is not there or a figure that is not. */
static struct json_object *json_fig(const struct figures *f, double v, const char *fmt)
{
	return f->avail && v >= 0 ? tool_json_fixed(v, fmt) : NULL;
}

/* [4K,2M,1G] of the double at @off in each side's figures */
static struct json_object *json_triple(const struct figures *f, size_t off, const char *fmt)
{
	struct json_object *arr = json_object_new_array();
	int k;

	for (k = 0; k < NSIDES; k++)
		json_object_array_add(arr, json_fig(&f[k], *(const double *)((const char *)&f[k] + off), fmt));
	return arr;
}

/* [4K,2M,1G] of the int64_t at @off, null where missing (< 0, never an errno) */
static struct json_object *json_int_triple(const struct figures *f, size_t off)
{
	struct json_object *arr = json_object_new_array();
	int k;

	for (k = 0; k < NSIDES; k++) {
		int64_t v = *(const int64_t *)((const char *)&f[k] + off);

		json_object_array_add(arr, f[k].avail && v >= 0 ? json_object_new_int64(v) : NULL);
	}
	return arr;
}

static const char *pt_why_not(const struct bench *b, const struct figures *f)
{
	if (!f->avail)
		return "the side is not available";
	if (!b->dev)
		return "anonymous memory: the library counts the tables of its own mappings only "
		       "(page_table_kib_per_gib has the kernel's count)";
	if (f->pt_pages >= 0)
		return "";
	return f->pt_pages == -ENODATA ? "the page sizes are unknown (no page-table dump readable here)" :
	       hugepfn_strerror((int)f->pt_pages);
}

static struct json_object *json_sides(const struct bench *b)
{
	struct json_object *arr = json_object_new_array(), *o;
	const struct figures *f;
	int k;

	for (k = 0; k < NSIDES; k++) {
		f = &b->f[k];
		o = json_object_new_object();
		json_object_object_add(o, "name", json_object_new_string(side_name[k]));
		json_object_object_add(o, "available", json_object_new_boolean(f->avail));
		json_object_object_add(o, "why_not", json_object_new_string(f->avail ? "" : f->why));
		/* 0 means "not known" or "not aligned by the library" (anonymous): null */
		json_object_object_add(o, "alignment", f->alignment ? json_object_new_uint64(f->alignment) : NULL);
		json_object_object_add(o, "largest_page", f->largest_page ? json_object_new_uint64(f->largest_page) : NULL);
		json_object_object_add(o, "page_table_pages_why_not", json_object_new_string(pt_why_not(b, f)));
		json_object_array_add(arr, o);
	}
	return arr;
}

static struct json_object *json_latency(const struct bench *b)
{
	static const char *const key[NSIDES] = { "ns_4k", "ns_2m", "ns_1g" };
	struct json_object *arr = json_object_new_array(), *o;
	size_t i;
	int k;

	for (i = 0; i < b->nsizes; i++) {
		o = json_object_new_object();
		json_object_object_add(o, "size", json_object_new_uint64(b->sizes[i]));
		for (k = 0; k < NSIDES; k++)
			json_object_object_add(o, key[k], json_fig(&b->f[k], b->f[k].lat[i], "%.2f"));
		json_object_array_add(arr, o);
	}
	return arr;
}

static struct json_object *json_copy(const struct bench *b)
{
	struct json_object *arr = json_object_new_array(), *o;
	int c;

	for (c = 0; c < b->ncopies; c++) {
		o = json_object_new_object();
		json_object_object_add(o, "size", json_object_new_uint64(b->copies[c]));
		json_object_object_add(o, "from_ms", json_triple(b->f, offsetof(struct figures, from_ms) +
								  c * sizeof(double), "%.3f"));
		json_object_object_add(o, "to_ms", json_triple(b->f, offsetof(struct figures, to_ms) +
								c * sizeof(double), "%.3f"));
		json_object_array_add(arr, o);
	}
	return arr;
}

static struct json_object *json_mapping(const struct bench *b)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "mmap_ms", json_triple(b->f, offsetof(struct figures, map_ms), "%.3f"));
	json_object_object_add(o, "touch_ms", json_triple(b->f, offsetof(struct figures, touch_ms), "%.3f"));
	json_object_object_add(o, "fork_ms", json_triple(b->f, offsetof(struct figures, fork_ms), "%.3f"));
	json_object_object_add(o, "munmap_ms", json_triple(b->f, offsetof(struct figures, unmap_ms), "%.3f"));
	json_object_object_add(o, "mprotect_4k_us", json_triple(b->f, offsetof(struct figures, split_us), "%.3f"));
	json_object_object_add(o, "page_table_pages", json_int_triple(b->f, offsetof(struct figures, pt_pages)));
	json_object_object_add(o, "page_table_kib_per_gib",
			       json_int_triple(b->f, offsetof(struct figures, pt_kib_per_gib)));
	return o;
}

static void print_json(const struct bench *b)
{
	struct json_object *o = json_object_new_object(), *m = json_object_new_object();

	json_object_object_add(m, "cpu", json_object_new_string(b->machine.model));
	json_object_object_add(m, "kernel", json_object_new_string(b->machine.kernel));
	json_object_object_add(m, "kind", json_object_new_string(b->machine.kind));
	json_object_object_add(m, "tlb_figures_meaningful", json_object_new_boolean(b->machine.figures_meaningful));
	json_object_object_add(o, "machine", m);
	json_object_object_add(o, "source", json_object_new_string(b->dev ? b->a->dev :
				"anonymous memory (4K, THP, hugetlb 1G)"));
	json_object_object_add(o, "backend", json_object_new_string(b->dev ?
				hugepfn_backend_name(hugepfn_dev_backend(b->dev)) : "anonymous"));
	json_object_object_add(o, "length", json_object_new_uint64(b->len));
	json_object_object_add(o, "reps", json_object_new_int(b->reps));
	json_object_object_add(o, "sides", json_sides(b));
	json_object_object_add(o, "latency", json_latency(b));
	json_object_object_add(o, "copy", json_copy(b));
	json_object_object_add(o, "mapping", json_mapping(b));
	tool_json_print(o);
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

/* A row of three whole numbers, "-" where missing (< 0). */
static void int_row(const char *label, const struct figures *f, size_t off)
{
	char v[NSIDES][24];
	int k;

	for (k = 0; k < NSIDES; k++) {
		int64_t x = *(const int64_t *)((const char *)&f[k] + off);

		snprintf(v[k], sizeof(v[k]), f[k].avail && x >= 0 ? "%" PRId64 : "-", x);
	}
	printf("%-22s %12s %12s %12s\n", label, v[0], v[1], v[2]);
}

static void print_latency_copy(const struct bench *b)
{
	const struct figures *f = b->f;
	char label[64];
	size_t i;
	int n;

	printf("\n%-22s %12s %12s %12s %10s %10s\n", "size", "4K ns/load", "2M ns/load", "1G ns/load",
	       "2M vs 4K", "1G vs 4K");
	for (i = 0; i < b->nsizes; i++)
		compare_row(tool_size_text(b->sizes[i]).s, f,
			    (double[NSIDES]){ f[0].lat[i], f[1].lat[i], f[2].lat[i] }, "%.2f");
	printf("\n%-22s %12s %12s %12s %10s %10s\n", "memcpy", "4K ms", "2M ms", "1G ms", "2M vs 4K",
	       "1G vs 4K");
	for (n = 0; n < b->ncopies; n++) {
		snprintf(label, sizeof(label), "from the region %s", tool_size_text(b->copies[n]).s);
		compare_row(label, f, (double[NSIDES]){ f[0].from_ms[n], f[1].from_ms[n], f[2].from_ms[n] }, "%.3f");
		snprintf(label, sizeof(label), "to the region %s", tool_size_text(b->copies[n]).s);
		compare_row(label, f, (double[NSIDES]){ f[0].to_ms[n], f[1].to_ms[n], f[2].to_ms[n] }, "%.3f");
	}
}

static void print_table(const struct bench *b)
{
	const struct figures *f = b->f;
	char x[32], y[32], z[32];
	int k;

	print_machine(&b->machine);
	for (k = 0; k < NSIDES; k++) {
		if (!f[k].avail)
			printf("# no %s column: %s\n", side_name[k], f[k].why);
		else if (k != SIDE_4K && !f[k].largest_page)
			printf("# %s column: the page sizes the kernel gave are unknown here (no page-table dump "
			       "readable): it may hold base-page figures\n", side_name[k]);
	}
	print_latency_copy(b);
	printf("\n%-22s %12s %12s %12s\n", "mapping cost", "4K", "2M", "1G");
	if (b->dev)
		printf("(through the %s backend)\n", hugepfn_backend_name(hugepfn_dev_backend(b->dev)));
	else
		printf("(anonymous memory: mmap includes the first touch)\n");
#define ROW(label, field) \
	printf("%-22s %12s %12s %12s\n", label, fig(&f[0], f[0].field, "%.3f", x, sizeof(x)), \
	       fig(&f[1], f[1].field, "%.3f", y, sizeof(y)), fig(&f[2], f[2].field, "%.3f", z, sizeof(z)))
	ROW("mmap ms", map_ms);
	ROW("touch every page ms", touch_ms);
	ROW("fork ms", fork_ms);
	ROW("munmap ms", unmap_ms);
	ROW("4K mprotect us", split_us);
#undef ROW
	if (b->dev)
		int_row("page-table pages", f, offsetof(struct figures, pt_pages));
	int_row("page tables KiB/GiB", f, offsetof(struct figures, pt_kib_per_gib));
	printf("(every figure is a median: latency and copy of %d runs after a warm-up, mapping\n"
	       " costs of %d map/touch/fork/unmap rounds after a warm-up, mprotect of up to 64\n"
	       " blocks; on the 2M and 1G sides each mprotect splits a leaf; n/a: nothing to split:\n"
	       " hugetlb pages (--host 1G), or under 2 MiB mapped. Page-table pages: the library's\n"
	       " count from the page sizes; KiB/GiB: the kernel's (VmPTE) growth for mapping and\n"
	       " touching every page, per GiB mapped, fault-time tables of vfio-pci included)\n",
	       b->reps, b->reps);
}

/* ---- the command ------------------------------------------------------------------ */

/* The device's region: its length, and the sizes checked against it. 0 or an exit status. */
static int plan_region(struct bench *b)
{
	const struct tool_args *a = b->a;
	struct hugepfn_region r;
	char what[32];
	size_t i;
	int ret = hugepfn_region_info(b->dev, a->region, &r);

	if (ret)
		return tool_fail_dev(a, b->dev, ret, "region info");
	snprintf(what, sizeof(what), "region %u", a->region);
	if (r.size < 4096 || r.size % 4096)
		return tool_fail_msg(a, -EINVAL, what, "the region is not whole pages: nothing to measure",
				     "'hugepfn info DEV' lists the regions and their sizes");
	for (i = 0; i < a->nsizes; i++) {
		if (a->sizes[i] > r.size) {
			fprintf(stderr, "hugepfn bench: --sizes: size %zu (%s) is larger than region %u (%s) "
				"(try 'hugepfn info %s')\n", i + 1, tool_size_text(a->sizes[i]).s, a->region,
				tool_size_text(r.size).s, a->dev);
			return EXIT_USAGE;
		}
	}
	b->len = r.size;
	return 0;
}

/* What to map and measure: b->len, b->sizes and b->copies. 0 or an exit status. */
static int plan(struct bench *b)
{
	const struct tool_args *a = b->a;
	uint64_t s;
	size_t i;
	int ret;

	b->len = 256ULL << 20;	/* --host without --sizes */
	if (b->dev && (ret = plan_region(b)))
		return ret;
	if (a->nsizes) {
		/* the sides map as much as the largest working set */
		memcpy(b->sizes, a->sizes, sizeof(b->sizes));
		b->nsizes = a->nsizes;
		for (i = 0, b->len = 0; i < b->nsizes; i++)
			b->len = b->sizes[i] > b->len ? b->sizes[i] : b->len;
	} else {
		for (s = 64ULL << 20; s <= b->len && b->nsizes < TOOL_MAX_SIZES; s *= 2)
			b->sizes[b->nsizes++] = s;
		if (!b->nsizes)
			b->sizes[b->nsizes++] = b->len;
	}
	/* memcpy of 1, 2 and 4 GiB as far as the range goes, or one --copy-size */
	if (a->copy_size)
		b->copies[b->ncopies++] = a->copy_size < b->len ? a->copy_size : b->len;
	for (s = SZ_1G; !a->copy_size && s <= b->len && b->ncopies < MAX_COPIES; s *= 2)
		b->copies[b->ncopies++] = s;
	if (!b->ncopies)
		b->copies[b->ncopies++] = b->len;
	return 0;
}

int cmd_bench(struct hugepfn_ctx *ctx, const struct tool_args *a)
{
	struct bench *b = calloc(1, sizeof(*b));
	int k, ret = 0;

	if (!b)
		return tool_fail_msg(a, -ENOMEM, "bench", "", NULL);
	b->a = a;
	b->reps = (int)a->reps;
	if (!a->host)
		ret = tool_open_dev(a, ctx, &b->dev);
	if (!ret)
		ret = plan(b);
	if (!ret)
		describe_machine(&b->machine);
	for (k = 0; !ret && k < NSIDES; k++) {
		ret = measure_side(b, k);
		/* reported while the handle is open: the detail lives on it */
		if (ret)
			ret = tool_fail_dev(a, b->dev, ret, "map");
	}
	if (!ret && a->json)
		print_json(b);
	else if (!ret)
		print_table(b);
	/* the one close, after everything that reads the handle */
	hugepfn_close(b->dev);
	free(b);
	return ret;
}
