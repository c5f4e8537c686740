// SPDX-License-Identifier: GPL-2.0
/*
 * hugepfn bench: what huge leaves change for device memory, measured on the
 * same memory mapped twice in one run, once with HUGEPFN_MAP_4K and once
 * huge-aligned:
 *   - latency: an lmbench lat_mem_rd-style dependent-load chase (stride 64
 *     bytes, pages visited in random order) over growing working sets;
 *   - copy: memcpy from and to the region;
 *   - mapping cost: mmap, touching every page, fork, munmap, and the
 *     page-table pages the mapping costs.
 * Every figure is the median of several runs after a warm-up. --host runs
 * latency and copy on anonymous memory with and without transparent huge
 * pages instead, to see what this CPU's TLB gives before any device.
 *
 * Under an emulator (TCG) TLB effects are not real: only the mapping-cost
 * figures mean anything there, and the output says so.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
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
#define SZ_2M (2ULL << 20)

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
		"Maps the region (or, with --host, anonymous memory) twice, 4 KiB and huge,\n"
		"and compares load latency (stride 64, random page order), memcpy from and to it,\n"
		"and the cost of mapping it (mmap, touch, fork, munmap, page-table pages).\n"
		"  --sizes LIST    working-set sizes for latency, e.g. 64M,256M,1G (default 64M up to the region)\n"
		"  --reps N        measured repetitions per figure, median reported (default 5)\n"
		"  --copy-size N   bytes per memcpy (default: up to 1G of the region)\n");
}

struct side {
	const char *name;
	uint8_t *base;		/* anonymous: what to munmap */
	uint8_t *addr;
	uint64_t len;
	struct hugepfn_map *map;
};

static void unmap_side(struct side *s)
{
	if (s->map)
		hugepfn_unmap(s->map);
	else
		munmap(s->base, s->len + SZ_2M);
	s->map = NULL;
}

static int map_side(struct hugepfn_dev *dev, unsigned int region, uint64_t len, int huge,
		    struct side *s, double *mmap_ms)
{
	uint64_t t0 = now_ns();
	int ret;

	s->name = huge ? "huge" : "4K";
	if (!dev) {
		s->map = NULL;
		s->base = mmap(NULL, len + SZ_2M, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (s->base == MAP_FAILED)
			return -errno;
		s->addr = (uint8_t *)(((uintptr_t)s->base + SZ_2M - 1) & ~(SZ_2M - 1));
		madvise(s->addr, len, huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
		memset(s->addr, 0, len);
		s->len = len;
		*mmap_ms = (now_ns() - t0) / 1e6;
		return 0;
	}
	ret = hugepfn_map(dev, region, 0, len, huge ? 0 : HUGEPFN_MAP_4K, &s->map);
	if (ret)
		return ret;
	*mmap_ms = (now_ns() - t0) / 1e6;
	s->addr = hugepfn_map_addr(s->map);
	s->len = len;
	return 0;
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
	struct hugepfn_dev *dev = NULL;
	struct hugepfn_region r;
	struct side side[2];
	struct machine machine;
	double map_ms[2], touch_ms[2], fork_ms[2], unmap_ms[2], split_us[2], lat[2][MAX_SIZES], from[2], to[2];
	int64_t pt[2];
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
	if (!copy)
		copy = len < (1ULL << 30) ? len : 1ULL << 30;
	if (copy > len)
		copy = len;

	describe_machine(&machine);
	for (k = 0; k < 2; k++) {
		double vm[32], vt[32], vf[32], vu[32], vs[64];
		uint64_t t0, blocks;
		int rep, st, ns = 0;
		pid_t pid;

		/* mapping costs: map, touch, fork, unmap; the last map is kept */
		for (rep = -1; rep < (int)reps; rep++) {
			ret = map_side(dev, (unsigned int)region, len, k, &side[k], &map_ms[k]);
			if (ret) {
				hugepfn_close(dev);
				return tool_fail(dev, ret, "map");
			}
			t0 = now_ns();
			for (i = 0; i < len; i += 4096)
				((volatile uint8_t *)side[k].addr)[i] = (uint8_t)i;
			touch_ms[k] = (now_ns() - t0) / 1e6;
			t0 = now_ns();
			pid = fork();
			if (pid == 0)
				_exit(0);
			waitpid(pid, &st, 0);
			fork_ms[k] = (now_ns() - t0) / 1e6;
			pt[k] = side[k].map ? hugepfn_map_pt_pages(side[k].map) : -1;
			if (rep >= 0) {
				vm[rep] = map_ms[k];
				vt[rep] = touch_ms[k];
				vf[rep] = fork_ms[k];
			}
			if (rep == (int)reps - 1)
				break;
			t0 = now_ns();
			unmap_side(&side[k]);
			if (rep >= 0)
				vu[rep] = (now_ns() - t0) / 1e6;
		}
		map_ms[k] = median(vm, reps);
		touch_ms[k] = median(vt, reps);
		fork_ms[k] = median(vf, reps);
		unmap_ms[k] = reps > 1 ? median(vu, reps - 1) : 0;
		for (i = 0; i < nsizes; i++)
			lat[k][i] = chase(side[k].addr, sizes[i], (int)reps);
		copy_ms(side[k].addr, copy, (int)reps, &from[k], &to[k]);
		/* one 4 KiB mprotect per 2 MiB block: a split where the block is huge */
		blocks = len / SZ_2M < 64 ? len / SZ_2M : 64;
		for (i = 0; i < blocks; i++) {
			t0 = now_ns();
			if (mprotect(side[k].addr + i * SZ_2M + 4096, 4096, PROT_READ) == 0)
				vs[ns++] = (now_ns() - t0) / 1e3;
		}
		split_us[k] = ns ? median(vs, ns) : 0;
		unmap_side(&side[k]);
	}
	if (json_output) {
		printf("{\"machine\":{\"cpu\":\"%s\",\"kernel\":\"%s\",\"kind\":\"%s\",\"tlb_figures_meaningful\":%s},",
		       machine.model, machine.kernel, machine.kind,
		       machine.figures_meaningful ? "true" : "false");
		printf("\"source\":\"%s\",\"length\":%" PRIu64 ",\"reps\":%" PRIu64 ",\"latency\":[",
		       host ? "anonymous memory (4K vs THP)" : argv[optind], len, reps);
		for (i = 0; i < nsizes; i++)
			printf("%s{\"size\":%" PRIu64 ",\"ns_4k\":%.2f,\"ns_huge\":%.2f}", i ? "," : "", sizes[i],
			       lat[0][i], lat[1][i]);
		printf("],\"copy\":{\"size\":%" PRIu64 ",\"from_ms_4k\":%.3f,\"from_ms_huge\":%.3f,\"to_ms_4k\":%.3f,"
		       "\"to_ms_huge\":%.3f},\"mapping\":{\"mmap_ms\":[%.3f,%.3f],\"touch_ms\":[%.3f,%.3f],"
		       "\"fork_ms\":[%.3f,%.3f],\"munmap_ms\":[%.3f,%.3f],\"mprotect_4k_us\":[%.3f,%.3f],"
		       "\"page_table_pages\":[%" PRId64 ",%" PRId64 "]}}\n",
		       copy, from[0], from[1], to[0], to[1], map_ms[0], map_ms[1], touch_ms[0], touch_ms[1],
		       fork_ms[0], fork_ms[1], unmap_ms[0], unmap_ms[1], split_us[0], split_us[1], pt[0], pt[1]);
	} else {
		printf("\n%-10s %12s %12s %12s\n", "size", "4K ns/load", "huge ns/load", "improvement");
		for (i = 0; i < nsizes; i++) {
			char sz[32];

			snprintf(sz, sizeof(sz), "%" PRIu64 "M", sizes[i] >> 20);
			printf("%-10s %12.2f %12.2f %11.1f%%\n", sz, lat[0][i], lat[1][i],
			       lat[0][i] > 0 ? 100.0 * (lat[0][i] - lat[1][i]) / lat[0][i] : 0);
		}
		printf("\n%-22s %12s %12s %12s\n", "memcpy", "4K ms", "huge ms", "improvement");
		printf("%-22s %12.3f %12.3f %11.1f%%\n", "from the region", from[0], from[1],
		       from[0] > 0 ? 100.0 * (from[0] - from[1]) / from[0] : 0);
		printf("%-22s %12.3f %12.3f %11.1f%%\n", "to the region", to[0], to[1],
		       to[0] > 0 ? 100.0 * (to[0] - to[1]) / to[0] : 0);
		printf("\n%-22s %12s %12s\n", host ? "mapping cost (anon: mmap includes first touch)" : "mapping cost",
		       "4K", "huge");
		printf("%-22s %12.3f %12.3f\n", "mmap ms", map_ms[0], map_ms[1]);
		printf("%-22s %12.3f %12.3f\n", "touch every page ms", touch_ms[0], touch_ms[1]);
		printf("%-22s %12.3f %12.3f\n", "fork ms", fork_ms[0], fork_ms[1]);
		printf("%-22s %12.3f %12.3f\n", "munmap ms", unmap_ms[0], unmap_ms[1]);
		printf("%-22s %12.3f %12.3f\n", "4K mprotect us", split_us[0], split_us[1]);
		if (pt[0] >= 0)
			printf("%-22s %12" PRId64 " %12" PRId64 "\n", "page-table pages", pt[0], pt[1]);
		printf("(every figure is a median: latency and copy of %" PRIu64 " runs after a warm-up, mapping\n"
		       " costs of %" PRIu64 " map/touch/fork/unmap rounds after a warm-up, mprotect of up to 64\n"
		       " blocks; on the huge side each mprotect splits a 2 MiB leaf)\n", reps, reps);
	}
	hugepfn_close(dev);
	return 0;
}
