// SPDX-License-Identifier: GPL-2.0
/*
 * bar-access: how a GPU or FPGA runtime would use libhugepfn.
 *
 * It maps a device's prefetchable BAR four ways (write-combining and
 * uncached, each with huge leaves and with 4 KiB pages), streams a buffer
 * host-to-BAR and BAR-to-host through each, checks every byte, and reports
 * the bandwidth, the page size and the memory type the kernel applied.
 * With --doorbell it also maps a register BAR uncached and rings it the
 * way a runtime submits work: descriptors written through the
 * write-combining view, a store fence to drain the write-combining buffers,
 * a 32-bit doorbell write, and a read of the doorbell register to push the
 * posted writes out; after each ring it checks that the device side (an
 * uncached view) sees the descriptor that the doorbell announced.
 *
 * Usage: bar-access DEV REGION [--bytes N] [--rounds N] [--doorbell DEV2,REGION2[,OFFSET]] [--json]
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "hugepfn.h"

#define EXIT_USAGE 2
#define MAX_ROUNDS 31

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/*
 * Order the write-combining stores before a later uncached store (the
 * doorbell), as a driver's wmb() does: on x86 sfence drains the WC
 * buffers; on arm64 a store barrier to the outer shareable domain.
 */
static inline void wc_flush_barrier(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__asm__ __volatile__("sfence" ::: "memory");
#elif defined(__aarch64__)
	__asm__ __volatile__("dmb oshst" ::: "memory");
#else
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
#endif
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

/* The detail is the handle's, or the context's when there is no handle (a failed open). */
static int report(struct hugepfn_ctx *ctx, struct hugepfn_dev *dev, int err, const char *what)
{
	char detail[1024] = "";

	if (dev)
		hugepfn_dev_error(dev, detail, sizeof(detail));
	else if (ctx)
		hugepfn_ctx_error(ctx, detail, sizeof(detail));
	fprintf(stderr, "bar-access: %s: %s%s%s\n", what, hugepfn_strerror(err), detail[0] ? ": " : "", detail);
	return 1;
}

/* The largest page size of a mapping, 0 when the library cannot tell. */
static uint64_t largest_page(struct hugepfn_map *map)
{
	struct hugepfn_run runs[64];
	int n = hugepfn_map_runs(map, runs, 64), i;
	uint64_t max = 0;

	for (i = 0; i < n && i < 64; i++) {
		if (runs[i].page_size == UINT64_MAX)
			return 0;
		if (runs[i].page_size > max)
			max = runs[i].page_size;
	}
	return max;
}

struct mode_result {
	const char *name;	/* "WC huge", ... */
	int wc, small;		/* write-combining; 4 KiB pages */
	int done;		/* 0: skipped (the region has no WC view) */
	double up_mb_s, down_mb_s;
	uint64_t page;
	const char *cache;
	int verified;
};

/*
 * One way of mapping: @rounds uploads and read-backs of @bytes, each with
 * a fresh pattern so that stale data cannot pass, the median bandwidths.
 */
static int run_mode(struct hugepfn_dev *dev, unsigned int region, uint64_t bytes, int rounds,
		    uint8_t *buf, uint8_t *back, struct mode_result *m)
{
	unsigned int flags = (m->wc ? HUGEPFN_MAP_WC : 0) | (m->small ? HUGEPFN_MAP_4K : 0);
	double up[MAX_ROUNDS], down[MAX_ROUNDS];
	struct hugepfn_map *map;
	int ret, r;

	ret = hugepfn_map(dev, region, 0, bytes, flags, &map);
	if (ret)
		return ret;
	m->page = largest_page(map);
	m->cache = hugepfn_cache_name(hugepfn_map_cache(map));
	m->verified = 1;
	for (r = 0; r < rounds; r++) {
		uint8_t *bar = hugepfn_map_addr(map);
		uint64_t t0, t1, t2, i;

		for (i = 0; i < bytes; i += 8)
			*(uint64_t *)(buf + i) = (i * 0x9e3779b97f4a7c15ULL) ^ ((uint64_t)r << 56) ^
						 ((uint64_t)(m->wc * 2 + m->small) << 48);
		t0 = now_ns();
		memcpy(bar, buf, bytes);
		wc_flush_barrier();
		t1 = now_ns();
		memcpy(back, bar, bytes);
		t2 = now_ns();
		up[r] = bytes / 1e6 / ((t1 - t0) / 1e9);
		down[r] = bytes / 1e6 / ((t2 - t1) / 1e9);
		m->verified &= !memcmp(buf, back, bytes);
	}
	m->up_mb_s = median(up, rounds);
	m->down_mb_s = median(down, rounds);
	m->done = 1;
	hugepfn_unmap(map);
	return 0;
}

struct doorbell_result {
	int done;
	uint64_t rings;
	double rings_per_s;
	uint64_t mismatches;	/* doorbell or descriptor not as written */
};

/*
 * Ring a doorbell register @rings times: a 64-byte descriptor through the
 * write-combining view of the data BAR, the barrier, the 32-bit doorbell
 * write, a read-back of the doorbell (which also flushes posted writes),
 * then the descriptor through an uncached view of the data BAR.
 */
static int ring_doorbell(struct hugepfn_dev *dev, unsigned int region, struct hugepfn_dev *regs,
			 unsigned int regs_region, uint64_t regs_off, uint64_t rings,
			 struct doorbell_result *d)
{
	struct hugepfn_map *wc = NULL, *uc = NULL, *reg = NULL;
	struct hugepfn_region r;
	uint64_t t0, i;
	int ret;

	ret = hugepfn_region_info(dev, region, &r);
	if (ret)
		return ret;
	ret = hugepfn_map(dev, region, 0, 4096, (r.flags & HUGEPFN_RGN_WC) ? HUGEPFN_MAP_WC : 0, &wc);
	if (!ret)
		ret = hugepfn_map(dev, region, 0, 4096, HUGEPFN_MAP_READONLY, &uc);
	if (!ret)
		ret = hugepfn_map(regs, regs_region, regs_off, 4096, 0, &reg);
	if (ret)
		goto out;
	t0 = now_ns();
	for (i = 1; i <= rings; i++) {
		volatile uint64_t *desc = hugepfn_map_addr(wc);
		const volatile uint64_t *seen = hugepfn_map_addr(uc);
		volatile uint32_t *bell = hugepfn_map_addr(reg);
		int w;

		for (w = 0; w < 8; w++)
			desc[w] = (i << 8) | (uint64_t)w;
		wc_flush_barrier();	/* descriptor before doorbell */
		*bell = (uint32_t)i;
		if (*bell != (uint32_t)i)	/* read back: the write reached the device */
			d->mismatches++;
		for (w = 0; w < 8; w++)
			if (seen[w] != ((i << 8) | (uint64_t)w))
				d->mismatches++;
	}
	d->rings = rings;
	d->rings_per_s = rings / ((now_ns() - t0) / 1e9);
	d->done = 1;
out:
	hugepfn_unmap(reg);
	hugepfn_unmap(uc);
	hugepfn_unmap(wc);
	return ret;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: bar-access DEV REGION [--bytes N] [--rounds N] [--doorbell DEV2,REGION2[,OFFSET]] [--json]\n\n"
		"Maps REGION of DEV write-combining and uncached, each with huge leaves and with\n"
		"4 KiB pages, streams N bytes (default 64M, K/M/G suffixes) to the BAR and back\n"
		"through each, checks every byte, and reports the bandwidth (median of --rounds,\n"
		"default 3), the page size and the memory type the kernel applied.\n"
		"  --doorbell DEV2,REGION2[,OFFSET]\n"
		"                 also ring a 32-bit doorbell at OFFSET (default 0) of that\n"
		"                 (uncached) register region 10000 times, after writing a\n"
		"                 descriptor through the write-combining view, and check that\n"
		"                 the device side sees what was announced (DEV2 may be DEV\n"
		"                 itself: a GPU's register BAR, or a page of the data BAR)\n"
		"Exit status: 0 all verified, 1 a device error or a mismatch, 2 bad usage.\n"
		"Under an emulator the bandwidths mean nothing about hardware.\n");
}

static int parse_size(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 0);
	if (errno || end == s)
		return -1;
	if (*end == 'K')
		*v <<= 10, end++;
	else if (*end == 'M')
		*v <<= 20, end++;
	else if (*end == 'G')
		*v <<= 30, end++;
	return *end ? -1 : 0;
}

/* The command line, checked. */
struct args {
	const char *dev;
	unsigned int region;
	uint64_t bytes, rounds;
	const char *bell_dev;	/* --doorbell's DEV2, NULL without --doorbell */
	unsigned int bell_region;
	uint64_t bell_off;
	int json;
};

/* --doorbell DEV2,REGION2[,OFFSET] into @a; 0 or EXIT_USAGE. Splits @arg in place. */
static int parse_doorbell(char *arg, struct args *a)
{
	char *end, *comma;
	uint64_t v;

	/* PCI addresses and node paths have no comma */
	a->bell_dev = arg;
	end = strchr(arg, ',');
	if (!end || end == arg) {
		fprintf(stderr, "bar-access: --doorbell takes DEV2,REGION2[,OFFSET] (e.g. 0000:01:00.0,2), not '%s'\n",
			arg);
		return EXIT_USAGE;
	}
	*end++ = '\0';
	comma = strchr(end, ',');
	if (comma)
		*comma++ = '\0';
	if (parse_size(end, &v) || v > 255 || (comma && (parse_size(comma, &a->bell_off) || a->bell_off % 4096))) {
		fprintf(stderr, "bar-access: --doorbell wants a region number and a 4K-aligned offset, not '%s%s%s'\n",
			end, comma ? "," : "", comma ? comma : "");
		return EXIT_USAGE;
	}
	a->bell_region = (unsigned int)v;
	return 0;
}

/* The command line into @a: -1 to go on, else the exit status (0: --help). */
static int parse_args(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
		{ "bytes", required_argument, NULL, 'b' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "doorbell", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			if (parse_size(optarg, &a->bytes) || !a->bytes || a->bytes % 4096) {
				fprintf(stderr, "bar-access: --bytes takes a non-zero multiple of 4K (K/M/G suffixes), not '%s'\n",
					optarg);
				return EXIT_USAGE;
			}
			break;
		case 'r':
			if (parse_size(optarg, &a->rounds) || a->rounds < 1 || a->rounds > MAX_ROUNDS) {
				fprintf(stderr, "bar-access: --rounds takes 1 to %d, not '%s'\n", MAX_ROUNDS, optarg);
				return EXIT_USAGE;
			}
			break;
		case 'd':
			if (parse_doorbell(optarg, a))
				return EXIT_USAGE;
			break;
		case 'j': a->json = 1; break;
		case 'h': usage(stdout); return 0;
		default: return EXIT_USAGE;
		}
	}
	if (argc - optind != 2 || strtoul(argv[optind + 1], &end, 0) > 255 || *end || !argv[optind + 1][0]) {
		usage(stderr);
		return EXIT_USAGE;
	}
	a->dev = argv[optind];
	a->region = (unsigned int)strtoul(argv[optind + 1], NULL, 0);
	return -1;
}

/*
 * A double printed as @fmt formats it (json-c's own "%.17g" would change
 * the figures' text, which the guest tests and readers compare).
 */
static struct json_object *json_fixed(double v, const char *fmt)
{
	char buf[64];

	snprintf(buf, sizeof(buf), fmt, v);
	return json_object_new_double_s(v, buf);
}

/* The modes that ran (a region without a WC view skips two), in table order. */
static struct json_object *json_modes(const struct mode_result *modes)
{
	struct json_object *arr = json_object_new_array(), *o;
	int k;

	for (k = 0; k < 4; k++) {
		if (!modes[k].done)
			continue;
		o = json_object_new_object();
		json_object_object_add(o, "mode", json_object_new_string(modes[k].name));
		json_object_object_add(o, "page_size", json_object_new_uint64(modes[k].page));
		json_object_object_add(o, "cache", json_object_new_string(modes[k].cache));
		json_object_object_add(o, "to_bar_mb_s", json_fixed(modes[k].up_mb_s, "%.1f"));
		json_object_object_add(o, "from_bar_mb_s", json_fixed(modes[k].down_mb_s, "%.1f"));
		json_object_object_add(o, "verified", json_object_new_boolean(modes[k].verified));
		json_object_array_add(arr, o);
	}
	return arr;
}

/* The doorbell's figures; NULL (JSON null) when --doorbell was not given. */
static struct json_object *json_doorbell(const struct args *a, const struct doorbell_result *bell)
{
	struct json_object *o;

	if (!bell->done)
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "device", json_object_new_string(a->bell_dev));
	json_object_object_add(o, "region", json_object_new_uint64(a->bell_region));
	json_object_object_add(o, "offset", json_object_new_uint64(a->bell_off));
	json_object_object_add(o, "rings", json_object_new_uint64(bell->rings));
	json_object_object_add(o, "rings_per_s", json_fixed(bell->rings_per_s, "%.0f"));
	json_object_object_add(o, "mismatches", json_object_new_uint64(bell->mismatches));
	return o;
}

/*
 * One JSON object on one line, written by json-c so that device names come
 * out escaped. Plain (no blanks) and "/" unescaped, as the hugepfn tool
 * prints: the guest tests grep exact text, "verified" last on the line.
 */
static void print_json(const struct args *a, struct hugepfn_dev *dev, const struct hugepfn_region *r,
		       const struct mode_result *modes, const struct doorbell_result *bell, int all_ok)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "device", json_object_new_string(a->dev));
	json_object_object_add(o, "region", json_object_new_uint64(a->region));
	json_object_object_add(o, "bytes", json_object_new_uint64(a->bytes));
	json_object_object_add(o, "rounds", json_object_new_uint64(a->rounds));
	json_object_object_add(o, "backend", json_object_new_string(hugepfn_backend_name(hugepfn_dev_backend(dev))));
	json_object_object_add(o, "write_combining", json_object_new_boolean(!!(r->flags & HUGEPFN_RGN_WC)));
	json_object_object_add(o, "modes", json_modes(modes));
	json_object_object_add(o, "doorbell", json_doorbell(a, bell));
	json_object_object_add(o, "verified", json_object_new_boolean(all_ok));
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

/* The table for people (examples/README.md shows one). */
static void print_text(const struct args *a, struct hugepfn_dev *dev, const struct mode_result *modes,
		       const struct doorbell_result *bell)
{
	char page[32];
	int k;

	printf("%s region %u through %s: %" PRIu64 " MiB, median of %" PRIu64 " rounds\n", a->dev, a->region,
	       hugepfn_backend_name(hugepfn_dev_backend(dev)), a->bytes >> 20, a->rounds);
	printf("%-8s %10s %6s %14s %14s %s\n", "mapping", "page size", "type", "to BAR MB/s", "from BAR MB/s",
	       "data");
	for (k = 0; k < 4; k++) {
		if (!modes[k].done) {
			printf("%-8s (the region has no write-combining view)\n", modes[k].name);
			continue;
		}
		if (modes[k].page)
			snprintf(page, sizeof(page), "%" PRIu64 "K", modes[k].page >> 10);
		else
			snprintf(page, sizeof(page), "unknown");
		printf("%-8s %10s %6s %14.1f %14.1f %s\n", modes[k].name, page, modes[k].cache,
		       modes[k].up_mb_s, modes[k].down_mb_s, modes[k].verified ? "verified" : "MISMATCH");
	}
	if (bell->done)
		printf("doorbell %s region %u +%#" PRIx64 ": %" PRIu64 " rings, %.0f rings/s, %" PRIu64 " mismatches\n",
		       a->bell_dev, a->bell_region, a->bell_off, bell->rings, bell->rings_per_s, bell->mismatches);
}

/* The four mappings and the doorbell; 0 or a libhugepfn error, reported. */
static int run_all(struct hugepfn_ctx *ctx, struct hugepfn_dev *dev, const struct args *a,
		   const struct hugepfn_region *r, struct mode_result *modes, struct doorbell_result *bell)
{
	struct hugepfn_dev *regs = NULL;
	uint8_t *buf = malloc(a->bytes), *back = malloc(a->bytes);
	int ret = 0, k;

	if (!buf || !back) {
		ret = -ENOMEM;
		report(NULL, NULL, ret, "buffers");
		goto out;
	}
	for (k = 0; k < 4; k++) {
		if (modes[k].wc && !(r->flags & HUGEPFN_RGN_WC))
			continue;	/* no write-combining view of this region */
		ret = run_mode(dev, a->region, a->bytes, (int)a->rounds, buf, back, &modes[k]);
		if (ret) {
			report(ctx, dev, ret, modes[k].name);
			goto out;
		}
	}
	if (a->bell_dev) {
		ret = hugepfn_open(ctx, a->bell_dev, HUGEPFN_BACKEND_AUTO, &regs);
		if (!ret)
			ret = ring_doorbell(dev, a->region, regs, a->bell_region, a->bell_off, 10000, bell);
		if (ret)
			report(ctx, regs, ret, "doorbell");
	}
out:
	hugepfn_close(regs);
	free(buf);
	free(back);
	return ret;
}

int main(int argc, char **argv)
{
	struct mode_result modes[4] = {
		{ .name = "WC huge", .wc = 1 }, { .name = "WC 4K", .wc = 1, .small = 1 },
		{ .name = "UC huge" }, { .name = "UC 4K", .small = 1 },
	};
	struct args a = { .bytes = 64ULL << 20, .rounds = 3 };
	struct doorbell_result bell = { 0 };
	struct hugepfn_dev *dev = NULL;
	struct hugepfn_ctx *ctx;
	struct hugepfn_region r;
	int ret, all_ok = 1, k;

	ret = parse_args(argc, argv, &a);
	if (ret >= 0)
		return ret;
	if (hugepfn_ctx_new(NULL, &ctx))
		return 1;
	ret = hugepfn_open(ctx, a.dev, HUGEPFN_BACKEND_AUTO, &dev);
	if (ret) {
		report(ctx, dev, ret, "open");
		goto out;
	}
	ret = hugepfn_region_info(dev, a.region, &r);
	if (!ret && a.bytes > r.size)
		ret = -ERANGE;
	if (ret) {
		report(ctx, dev, ret, ret == -ERANGE ? "--bytes is larger than the region" : "region info");
		goto out;
	}
	ret = run_all(ctx, dev, &a, &r, modes, &bell);
	if (ret)
		goto out;
	/* a mode skipped for want of a WC view neither passes nor fails */
	for (k = 0; k < 4; k++)
		all_ok &= !modes[k].done || modes[k].verified;
	all_ok &= !bell.mismatches;
	if (a.json)
		print_json(&a, dev, &r, modes, &bell, all_ok);
	else
		print_text(&a, dev, modes, &bell);
	ret = all_ok ? 0 : -EIO;
out:
	hugepfn_close(dev);
	hugepfn_ctx_free(ctx);
	return ret ? 1 : 0;
}
