// SPDX-License-Identifier: GPL-2.0
/*
 * bar-access: how a GPU or FPGA runtime would use libhugepfn. It maps a
 * device's BAR twice, a write-combining view for bulk writes (as a driver
 * uploads buffers) and an uncached view for register-style reads, streams
 * a buffer in with memcpy(), reads it back through the uncached view,
 * checks it, and reports the throughput and the page sizes it got.
 *
 * Usage: bar-access DEV REGION [--bytes N] [--json]
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hugepfn.h"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int report(struct hugepfn_dev *dev, int err, const char *what)
{
	char detail[1024] = "";

	if (dev)
		hugepfn_dev_error(dev, detail, sizeof(detail));
	fprintf(stderr, "bar-access: %s: %s%s%s\n", what, hugepfn_strerror(err), detail[0] ? ": " : "", detail);
	return 1;
}

static void print_runs(const char *name, struct hugepfn_map *map, int json)
{
	struct hugepfn_run runs[64];
	int n = hugepfn_map_runs(map, runs, 64), i;

	if (json) {
		printf("\"%s_runs\":[", name);
		for (i = 0; i < n && i < 64; i++)
			printf("%s{\"offset\":%" PRIu64 ",\"length\":%" PRIu64 ",\"page_size\":%" PRId64 "}",
			       i ? "," : "", runs[i].offset, runs[i].length,
			       runs[i].page_size == UINT64_MAX ? (int64_t)-1 : (int64_t)runs[i].page_size);
		printf("],");
		return;
	}
	for (i = 0; i < n && i < 64; i++) {
		if (runs[i].page_size == UINT64_MAX)
			printf("  %-6s +0x%09" PRIx64 " %8" PRIu64 " KiB  page size unknown\n", name,
			       runs[i].offset, runs[i].length >> 10);
		else
			printf("  %-6s +0x%09" PRIx64 " %8" PRIu64 " KiB  %" PRIu64 " KiB pages\n", name,
			       runs[i].offset, runs[i].length >> 10, runs[i].page_size >> 10);
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "bytes", required_argument, NULL, 'b' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	uint64_t bytes = 64ULL << 20, t0, t1, t2;
	struct hugepfn_map *wc = NULL, *uc = NULL;
	struct hugepfn_dev *dev = NULL;
	struct hugepfn_ctx *ctx;
	struct hugepfn_region r;
	unsigned int region;
	int c, json = 0, ret, ok;
	uint8_t *buf, *back;
	char *end;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			bytes = strtoull(optarg, &end, 0);
			if (*end == 'M')
				bytes <<= 20;
			else if (*end == 'K')
				bytes <<= 10;
			else if (*end)
				bytes = 0;
			if (!bytes || bytes % 4096) {
				fprintf(stderr, "bar-access: --bytes takes a multiple of 4K (K/M suffixes)\n");
				return 2;
			}
			break;
		case 'j': json = 1; break;
		case 'h':
			printf("Usage: bar-access DEV REGION [--bytes N] [--json]\n\n"
			       "Streams N bytes (default 64M) into the BAR through a write-combining\n"
			       "mapping, reads them back through an uncached one, and checks them.\n");
			return 0;
		default:
			return 2;
		}
	}
	if (argc - optind != 2 || strtoul(argv[optind + 1], &end, 0) > 255 || *end) {
		fprintf(stderr, "Usage: bar-access DEV REGION [--bytes N] [--json] (try --help)\n");
		return 2;
	}
	region = (unsigned int)strtoul(argv[optind + 1], NULL, 0);
	if (hugepfn_ctx_new(NULL, &ctx))
		return 1;
	ret = hugepfn_open(ctx, argv[optind], HUGEPFN_BACKEND_AUTO, &dev);
	if (ret) {
		report(dev, ret, "open");
		goto out;
	}
	ret = hugepfn_region_info(dev, region, &r);
	if (ret || bytes > r.size) {
		ret = ret ? ret : -ERANGE;
		report(dev, ret, "region is smaller than --bytes");
		goto out;
	}
	/* bulk view: write-combining where the region allows it */
	ret = hugepfn_map(dev, region, 0, bytes, (r.flags & HUGEPFN_RGN_WC) ? HUGEPFN_MAP_WC : 0, &wc);
	if (!ret)
		ret = hugepfn_map(dev, region, 0, bytes, HUGEPFN_MAP_READONLY, &uc);
	if (ret) {
		report(dev, ret, "map");
		goto out;
	}
	buf = malloc(bytes);
	back = malloc(bytes);
	if (!buf || !back) {
		ret = -ENOMEM;
		report(NULL, ret, "buffers");
		goto out;
	}
	for (uint64_t i = 0; i < bytes; i++)
		buf[i] = (uint8_t)(i * 131 + (i >> 12));
	t0 = now_ns();
	memcpy(hugepfn_map_addr(wc), buf, bytes);
	__sync_synchronize();	/* drain the write-combining buffers */
	t1 = now_ns();
	memcpy(back, hugepfn_map_addr(uc), bytes);
	t2 = now_ns();
	ok = !memcmp(buf, back, bytes);
	if (json) {
		printf("{\"device\":\"%s\",\"region\":%u,\"bytes\":%" PRIu64 ",\"write_combining\":%s,"
		       "\"write_mb_s\":%.1f,\"read_mb_s\":%.1f,\"verified\":%s,", argv[optind], region, bytes,
		       (r.flags & HUGEPFN_RGN_WC) ? "true" : "false", bytes / 1e6 / ((t1 - t0) / 1e9),
		       bytes / 1e6 / ((t2 - t1) / 1e9), ok ? "true" : "false");
		print_runs("wc", wc, 1);
		print_runs("uc", uc, 1);
		printf("\"backend\":\"%s\"}\n", hugepfn_backend_name(hugepfn_dev_backend(dev)));
	} else {
		printf("%s region %u through %s: %" PRIu64 " MiB\n", argv[optind], region,
		       hugepfn_backend_name(hugepfn_dev_backend(dev)), bytes >> 20);
		printf("write (%s) %.1f MB/s, read (uncached) %.1f MB/s, data %s\n",
		       (r.flags & HUGEPFN_RGN_WC) ? "write-combining" : "uncached",
		       bytes / 1e6 / ((t1 - t0) / 1e9), bytes / 1e6 / ((t2 - t1) / 1e9),
		       ok ? "verified" : "MISMATCH");
		print_runs("wc", wc, 0);
		print_runs("uc", uc, 0);
	}
	free(buf);
	free(back);
	ret = ok ? 0 : -EIO;
out:
	hugepfn_unmap(wc);
	hugepfn_unmap(uc);
	hugepfn_close(dev);
	hugepfn_ctx_free(ctx);
	return ret ? 1 : 0;
}
