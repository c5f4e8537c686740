// SPDX-License-Identifier: GPL-2.0
/*
 * hugepfn: list PCI devices, show a device's regions, and map a region
 * huge-aligned and say what the kernel gave, through libhugepfn.
 *
 * Exit status: 0 success, 1 the device or the kernel refused, 2 bad usage.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hugepfn.h"
#include "tool.h"

int json_output;
static enum hugepfn_backend backend = HUGEPFN_BACKEND_AUTO;	/* --backend */

static void usage_main(FILE *f)
{
	fprintf(f,
		"Usage: hugepfn [--json] [--backend NAME] COMMAND [ARGS]\n"
		"\n"
		"Commands:\n"
		"  list                 PCI devices with their driver and memory BARs, and carveouts\n"
		"  info DEV             a device's regions (DEV: DDDD:BB:DD.F, carveout:NAME, /dev/...)\n"
		"  map DEV REGION       map a region huge-aligned, touch it, show the page sizes\n"
		"  bind BDF [DRIVER]    hand a PCI device to hugepfn (default) or vfio-pci\n"
		"  unbind BDF           give it back to its usual driver\n"
		"  bench DEV REGION     4K vs 2M vs 1G: load latency, memcpy, mapping cost (--host: anonymous memory)\n"
		"  peek DEV REGION OFFSET [--width 8|16|32|64]\n"
		"  poke DEV REGION OFFSET VALUE [--width 8|16|32|64]\n"
		"                       read or write one register\n"
		"  doctor [DEV]         why mappings are (not) huge: checks, findings and what to do\n"
		"\n"
		"  --json               machine-readable output\n"
		"  --backend NAME       open devices through NAME: auto (default), hugepfn, uio,\n"
		"                       sysfs, vfio (group/container) or vfio-cdev (iommufd)\n"
		"  -h, --help           this text; 'hugepfn COMMAND --help' for a command\n"
		"\n"
		"Exit status: 0 success, 1 device or kernel error, 2 bad usage.\n");
}

static const char *size_str(uint64_t v, char *buf, size_t n)
{
	if (v >= (1ULL << 30) && !(v & ((1ULL << 30) - 1)))
		snprintf(buf, n, "%" PRIu64 "G", v >> 30);
	else if (v >= (1ULL << 20) && !(v & ((1ULL << 20) - 1)))
		snprintf(buf, n, "%" PRIu64 "M", v >> 20);
	else if (v >= 1024 && !(v & 1023))
		snprintf(buf, n, "%" PRIu64 "K", v >> 10);
	else
		snprintf(buf, n, "%" PRIu64, v);
	return buf;
}

static const char *page_str(uint64_t ps, char *buf, size_t n)
{
	if (ps == UINT64_MAX)
		return "unknown";
	if (!ps)
		return "none";
	return size_str(ps, buf, n);
}

int tool_fail(struct hugepfn_dev *dev, int err, const char *what)
{
	char detail[1024] = "";

	if (dev)
		hugepfn_dev_error(dev, detail, sizeof(detail));
	fprintf(stderr, "hugepfn: %s: %s%s%s\n", what, hugepfn_strerror(err), detail[0] ? ": " : "",
		detail);
	return EXIT_DEVICE;
}

/* The second part of "list": hugepfn.ko's carveouts, if it is loaded. */
static int list_carveouts(struct hugepfn_ctx *ctx)
{
	struct hugepfn_carveout_info cv[16];
	int n = hugepfn_carveout_list(ctx, cv, 16), i;
	char sz[32];

	if (n < 0)
		return tool_fail(NULL, n, "list carveouts");
	if (json_output)
		printf("],\"carveouts\":[");
	else if (n)
		printf("\n%-20s %-18s %s\n", "CARVEOUT", "PHYS", "SIZE");
	for (i = 0; i < n && i < 16; i++) {
		if (json_output)
			printf("%s{\"name\":\"%s\",\"phys\":\"0x%" PRIx64 "\",\"size\":%" PRIu64 "}", i ? "," : "",
			       cv[i].name, cv[i].phys, cv[i].size);
		else
			printf("carveout:%-11s 0x%016" PRIx64 " %s\n", cv[i].name, cv[i].phys,
			       cv[i].size ? size_str(cv[i].size, sz, sizeof(sz)) : "? (no access to the node)");
	}
	if (json_output)
		printf("]}\n");
	return 0;
}

static int cmd_list(struct hugepfn_ctx *ctx, int argc, char **argv)
{
	struct hugepfn_pci_info *devs;
	int n, i, b;
	char s[32];

	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		printf("Usage: hugepfn [--json] [--backend NAME] list\n\nPCI devices (address, IDs, class, driver, IOMMU group, NUMA node, memory BARs)\n"
		       "and the carveouts of hugepfn.ko.\n");
		return 0;
	}
	if (argc > 1) {
		fprintf(stderr, "hugepfn list: unexpected argument '%s' (try --help)\n", argv[1]);
		return EXIT_USAGE;
	}
	n = hugepfn_pci_list(ctx, NULL, 0);
	if (n < 0)
		return tool_fail(NULL, n, "list PCI devices");
	devs = calloc(n ? n : 1, sizeof(*devs));
	if (!devs)
		return tool_fail(NULL, -ENOMEM, "list PCI devices");
	n = hugepfn_pci_list(ctx, devs, n);
	if (n < 0) {
		free(devs);
		return tool_fail(NULL, n, "list PCI devices");
	}
	if (json_output)
		printf("{\"pci\":[");
	else
		printf("%-12s %-9s %-6s %-12s %5s %4s  %s\n", "DEVICE", "ID", "CLASS", "DRIVER", "IOMMU", "NUMA",
		       "MEMORY BARS");
	for (i = 0; i < n; i++) {
		struct hugepfn_pci_info *d = &devs[i];

		if (json_output) {
			printf("%s{\"device\":\"%s\",\"vendor\":\"%04x\",\"device_id\":\"%04x\",\"class\":\"%06x\","
			       "\"driver\":\"%s\",\"iommu_group\":%d,\"numa_node\":%d,\"bars\":[",
			       i ? "," : "", d->bdf, d->vendor, d->device, d->class_code, d->driver,
			       d->iommu_group, d->numa_node);
			for (b = 0; b < 6; b++)
				printf("%s{\"index\":%d,\"phys\":\"0x%" PRIx64 "\",\"size\":%" PRIu64
				       ",\"io\":%s,\"mem64\":%s,\"prefetchable\":%s}", b ? "," : "", b,
				       d->bars[b].phys, d->bars[b].size,
				       d->bars[b].flags & HUGEPFN_BAR_IO ? "true" : "false",
				       d->bars[b].flags & HUGEPFN_BAR_MEM64 ? "true" : "false",
				       d->bars[b].flags & HUGEPFN_BAR_PREFETCH ? "true" : "false");
			printf("]}");
			continue;
		}
		printf("%-12s %04x:%04x %06x %-12s %5s %4d ", d->bdf, d->vendor, d->device, d->class_code,
		       d->driver[0] ? d->driver : "-", d->iommu_group < 0 ? "-" :
		       (snprintf(s, sizeof(s), "%d", d->iommu_group), s), d->numa_node);
		for (b = 0; b < 6; b++) {
			char sz[32];

			if (!d->bars[b].size || (d->bars[b].flags & HUGEPFN_BAR_IO))
				continue;
			printf(" %d:%s@0x%" PRIx64 "%s", b, size_str(d->bars[b].size, sz, sizeof(sz)),
			       d->bars[b].phys, d->bars[b].flags & HUGEPFN_BAR_PREFETCH ? "(pf)" : "");
		}
		printf("\n");
	}
	free(devs);
	return list_carveouts(ctx);
}

int tool_open_dev(struct hugepfn_ctx *ctx, const char *spec, struct hugepfn_dev **dev)
{
	int ret = hugepfn_open(ctx, spec, backend, dev);

	if (ret) {
		char what[300];

		snprintf(what, sizeof(what), "open %s", spec);
		tool_fail(*dev, ret, what);
		hugepfn_close(*dev);
		*dev = NULL;
	}
	return ret;
}

/* The mappable areas of a sparse region: a JSON member or indented lines. */
static void print_areas(struct hugepfn_dev *dev, const struct hugepfn_region *r)
{
	struct hugepfn_area areas[16];
	int n, i;

	if (!(r->flags & HUGEPFN_RGN_SPARSE)) {
		if (json_output)
			printf(",\"sparse\":false");
		return;
	}
	n = hugepfn_region_areas(dev, r->index, areas, 16);
	if (json_output)
		printf(",\"sparse\":true,\"areas\":[");
	for (i = 0; i < n && i < 16; i++) {
		if (json_output)
			printf("%s{\"offset\":%" PRIu64 ",\"size\":%" PRIu64 "}", i ? "," : "",
			       areas[i].offset, areas[i].size);
		else
			printf("       mappable area [0x%" PRIx64 ", +0x%" PRIx64 ")\n", areas[i].offset,
			       areas[i].size);
	}
	if (json_output)
		printf("]");
	else if (n <= 0)
		printf("       sparse, no mappable area\n");
}

static int cmd_info(struct hugepfn_ctx *ctx, int argc, char **argv)
{
	struct hugepfn_dev *dev;
	int n, i;

	if (argc != 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		FILE *f = argc == 2 ? stdout : stderr;

		fprintf(f, "Usage: hugepfn [--json] [--backend NAME] info DEV\n\nDEV: DDDD:BB:DD.F, carveout:NAME or a device node.\n"
			   "Shows the backend the device opens through and its regions.\n");
		return argc == 2 ? 0 : EXIT_USAGE;
	}
	if (tool_open_dev(ctx, argv[1], &dev))
		return EXIT_DEVICE;
	n = hugepfn_region_count(dev);
	if (json_output)
		printf("{\"device\":\"%s\",\"backend\":\"%s\",\"regions\":[", argv[1],
		       hugepfn_backend_name(hugepfn_dev_backend(dev)));
	else
		printf("%s through %s\n%-6s %-10s %-18s %s\n", argv[1],
		       hugepfn_backend_name(hugepfn_dev_backend(dev)), "REGION", "SIZE", "PHYS", "FLAGS");
	for (i = 0; i < n; i++) {
		struct hugepfn_region r;
		char sz[32];

		hugepfn_region_info(dev, i, &r);
		if (json_output) {
			printf("%s{\"index\":%u,\"size\":%" PRIu64 ",\"phys\":\"0x%" PRIx64 "\",\"mappable\":%s,"
			       "\"prefetchable\":%s,\"mem64\":%s,\"wc\":%s,\"carveout\":%s,\"io\":%s,"
			       "\"fault_filled\":%s",
			       i ? "," : "", r.index, r.size, r.phys,
			       r.flags & HUGEPFN_RGN_MAPPABLE ? "true" : "false",
			       r.flags & HUGEPFN_RGN_PREFETCH ? "true" : "false",
			       r.flags & HUGEPFN_RGN_MEM64 ? "true" : "false",
			       r.flags & HUGEPFN_RGN_WC ? "true" : "false",
			       r.flags & HUGEPFN_RGN_CARVEOUT ? "true" : "false",
			       r.flags & HUGEPFN_RGN_IO ? "true" : "false",
			       r.flags & HUGEPFN_RGN_FAULT ? "true" : "false");
			print_areas(dev, &r);
			printf("}");
			continue;
		}
		if (!r.size)
			continue;
		printf("%-6u %-10s 0x%016" PRIx64 " %s%s%s%s%s%s%s%s\n", r.index, size_str(r.size, sz, sizeof(sz)),
		       r.phys, r.flags & HUGEPFN_RGN_MAPPABLE ? "mappable" : "not-mappable",
		       r.flags & HUGEPFN_RGN_PREFETCH ? " prefetchable" : "",
		       r.flags & HUGEPFN_RGN_MEM64 ? " 64-bit" : "", r.flags & HUGEPFN_RGN_WC ? " wc" : "",
		       r.flags & HUGEPFN_RGN_CARVEOUT ? " carveout" : "", r.flags & HUGEPFN_RGN_IO ? " io" : "",
		       r.flags & HUGEPFN_RGN_SPARSE ? " sparse" : "",
		       r.flags & HUGEPFN_RGN_FAULT ? " fault-filled" : "");
		print_areas(dev, &r);
	}
	if (json_output)
		printf("]}\n");
	hugepfn_close(dev);
	return 0;
}

int tool_parse_u64(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 0);
	if (errno || end == s)
		return -1;
	switch (*end) {
	case 'G': case 'g': *v <<= 30; end++; break;
	case 'M': case 'm': *v <<= 20; end++; break;
	case 'K': case 'k': *v <<= 10; end++; break;
	}
	return *end ? -1 : 0;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int cmd_map(struct hugepfn_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "offset", required_argument, NULL, 'o' },
		{ "length", required_argument, NULL, 'l' },
		{ "wc", no_argument, NULL, 'w' },
		{ "4k", no_argument, NULL, '4' },
		{ "2m", no_argument, NULL, '2' },
		{ "huge-required", no_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	uint64_t offset = 0, length = 0, region, t0, t1, t2, len;
	unsigned int flags = 0;
	struct hugepfn_run runs[256];
	struct hugepfn_dev *dev;
	struct hugepfn_map *map;
	int c, n, i, ret, cache;
	int64_t pt;
	volatile uint8_t *p;
	char a[32], b[32];

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			if (tool_parse_u64(optarg, &offset))
				goto bad_number;
			break;
		case 'l':
			if (tool_parse_u64(optarg, &length))
				goto bad_number;
			break;
		case 'w': flags |= HUGEPFN_MAP_WC; break;
		case '4': flags |= HUGEPFN_MAP_4K; break;
		case '2': flags |= HUGEPFN_MAP_2M; break;
		case 'H': flags |= HUGEPFN_MAP_HUGE_REQUIRED; break;
		case 'h':
			printf("Usage: hugepfn [--json] [--backend NAME] map DEV REGION [--offset N] [--length N] [--wc] [--4k|--2m] [--huge-required]\n\n"
			       "Maps REGION of DEV (length 0 or none: to its end; N takes K/M/G) at a huge-aligned\n"
			       "address, touches every page, and prints the page size of every run, the memory type\n"
			       "(cache mode) the kernel applied and the time taken.\n"
			       "  --wc             write-combining (fails, naming the type obtained, when the\n"
			       "                   kernel is seen to give the range another memory type)\n"
			       "  --4k             deliberately one page off the huge alignment, for comparison\n"
			       "  --2m             2 MiB leaves at most: one 2 MiB off the 1 GiB alignment\n"
			       "  --huge-required  fail unless huge leaves were obtained\n");
			return 0;
		default:
			return EXIT_USAGE;
		}
	}
	if (argc - optind != 2) {
		fprintf(stderr, "hugepfn map: need DEV and REGION (try --help)\n");
		return EXIT_USAGE;
	}
	if (tool_parse_u64(argv[optind + 1], &region) || region > 255) {
		fprintf(stderr, "hugepfn map: REGION '%s' is not a region number\n", argv[optind + 1]);
		return EXIT_USAGE;
	}
	if (tool_open_dev(ctx, argv[optind], &dev))
		return EXIT_DEVICE;
	t0 = now_ns();
	ret = hugepfn_map(dev, (unsigned int)region, offset, length, flags, &map);
	t1 = now_ns();
	if (ret) {
		tool_fail(dev, ret, "map");
		hugepfn_close(dev);
		return EXIT_DEVICE;
	}
	len = hugepfn_map_length(map);
	for (p = hugepfn_map_addr(map); p < (volatile uint8_t *)hugepfn_map_addr(map) + len; p += 4096)
		(void)*p;
	t2 = now_ns();
	n = hugepfn_map_runs(map, runs, 256);
	pt = hugepfn_map_pt_pages(map);
	cache = hugepfn_map_cache(map);
	if (json_output) {
		printf("{\"device\":\"%s\",\"backend\":\"%s\",\"region\":%u,\"offset\":%" PRIu64 ",\"address\":\"%p\","
		       "\"length\":%" PRIu64 ",\"alignment\":%" PRIu64 ",\"mmap_us\":%" PRIu64 ",\"touch_us\":%" PRIu64
		       ",\"page_table_pages\":%" PRId64 ",\"cache\":\"%s\",\"runs\":[",
		       argv[optind], hugepfn_backend_name(hugepfn_dev_backend(dev)), (unsigned int)region, offset,
		       hugepfn_map_addr(map), len, hugepfn_map_alignment(map), (t1 - t0) / 1000, (t2 - t1) / 1000,
		       pt, cache < 0 ? "unknown" : hugepfn_cache_name(cache));
		for (i = 0; i < n && i < 256; i++)
			printf("%s{\"offset\":%" PRIu64 ",\"length\":%" PRIu64 ",\"page_size\":%s}", i ? "," : "",
			       runs[i].offset, runs[i].length,
			       runs[i].page_size == UINT64_MAX ? "null" :
			       (snprintf(a, sizeof(a), "%" PRIu64, runs[i].page_size), a));
		printf("]}\n");
	} else {
		printf("device     %s through %s, region %u\n", argv[optind],
		       hugepfn_backend_name(hugepfn_dev_backend(dev)), (unsigned int)region);
		printf("address    %p, %s, aligned for %s leaves\n", hugepfn_map_addr(map),
		       size_str(len, a, sizeof(a)), size_str(hugepfn_map_alignment(map), b, sizeof(b)));
		printf("time       mmap %" PRIu64 " us, touching every 4 KiB page %" PRIu64 " us\n",
		       (t1 - t0) / 1000, (t2 - t1) / 1000);
		if (pt >= 0)
			printf("page-table pages %" PRId64 "\n", pt);
		printf("memory type %s\n", cache < 0 ? "unknown" : hugepfn_cache_name(cache));
		printf("%-18s %-10s %s\n", "OFFSET", "LENGTH", "PAGE SIZE");
		for (i = 0; i < n && i < 256; i++)
			printf("0x%016" PRIx64 " %-10s %s\n", runs[i].offset, size_str(runs[i].length, a, sizeof(a)),
			       page_str(runs[i].page_size, b, sizeof(b)));
	}
	hugepfn_unmap(map);
	hugepfn_close(dev);
	return 0;

bad_number:
	fprintf(stderr, "hugepfn map: '%s' is not a number (K/M/G suffixes allowed)\n", optarg);
	return EXIT_USAGE;
}

static int cmd_bind(struct hugepfn_ctx *ctx, int argc, char **argv, int bind)
{
	const char *driver = argc > 2 ? argv[2] : "hugepfn";
	int ret;

	if (argc < 2 || argc > (bind ? 3 : 2) || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		FILE *f = argc >= 2 && argv[1][0] == '-' ? stdout : stderr;

		if (bind)
			fprintf(f, "Usage: hugepfn bind BDF [hugepfn|vfio-pci]\n\nUnbinds the device from its driver and binds it to DRIVER through driver_override.\n");
		else
			fprintf(f, "Usage: hugepfn unbind BDF\n\nUnbinds the device, clears driver_override and lets its usual driver probe it.\n");
		return f == stdout ? 0 : EXIT_USAGE;
	}
	ret = bind ? hugepfn_pci_bind(ctx, argv[1], driver) : hugepfn_pci_unbind(ctx, argv[1]);
	if (ret == -ENODEV && bind)
		fprintf(stderr, "hugepfn bind: driver %s is not loaded (modprobe it, or insmod hugepfn.ko)\n", driver);
	else if (ret == -EINVAL)
		fprintf(stderr, "hugepfn %s: '%s' is not a PCI address (DDDD:BB:DD.F)\n", argv[0], argv[1]);
	else if (ret)
		fprintf(stderr, "hugepfn %s %s: %s%s\n", argv[0], argv[1], hugepfn_strerror(ret),
			ret == -EACCES || ret == -EPERM ? " (run as root)" : "");
	else if (!json_output)
		printf("%s %s %s\n", argv[1], bind ? "bound to" : "unbound from the override;", bind ? driver : "back to its usual driver");
	else
		printf("{\"device\":\"%s\",\"driver\":\"%s\"}\n", argv[1], bind ? driver : "");
	return ret == -EINVAL ? EXIT_USAGE : ret ? EXIT_DEVICE : 0;
}

/* peek/poke: one naturally aligned access of 1, 2, 4 or 8 bytes. */
static int cmd_access(struct hugepfn_ctx *ctx, int argc, char **argv, int write)
{
	static const struct option opts[] = {
		{ "width", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	uint64_t region, offset, value = 0, width = 32, page = 4096, mask;
	struct hugepfn_dev *dev;
	struct hugepfn_map *map;
	volatile uint8_t *p;
	int c, ret;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'w':
			if (tool_parse_u64(optarg, &width) || (width != 8 && width != 16 && width != 32 && width != 64)) {
				fprintf(stderr, "hugepfn %s: --width must be 8, 16, 32 or 64\n", argv[0]);
				return EXIT_USAGE;
			}
			break;
		case 'h':
			printf("Usage: hugepfn %s DEV REGION OFFSET%s [--width 8|16|32|64]\n\n"
			       "%s one naturally aligned %s-bit word at OFFSET of REGION (default width 32).\n",
			       argv[0], write ? " VALUE" : "", write ? "Writes" : "Reads", "N");
			return 0;
		default:
			return EXIT_USAGE;
		}
	}
	if (argc - optind != (write ? 4 : 3)) {
		fprintf(stderr, "hugepfn %s: need DEV REGION OFFSET%s (try --help)\n", argv[0], write ? " VALUE" : "");
		return EXIT_USAGE;
	}
	if (tool_parse_u64(argv[optind + 1], &region) || region > 255 || tool_parse_u64(argv[optind + 2], &offset) ||
	    (write && tool_parse_u64(argv[optind + 3], &value))) {
		fprintf(stderr, "hugepfn %s: REGION, OFFSET%s must be numbers\n", argv[0], write ? " and VALUE" : "");
		return EXIT_USAGE;
	}
	if (offset % (width / 8)) {
		fprintf(stderr, "hugepfn %s: OFFSET %#" PRIx64 " is not aligned to the %" PRIu64 "-bit width\n",
			argv[0], offset, width);
		return EXIT_USAGE;
	}
	mask = width == 64 ? UINT64_MAX : (1ULL << width) - 1;
	if (value & ~mask) {
		fprintf(stderr, "hugepfn poke: VALUE %#" PRIx64 " does not fit in %" PRIu64 " bits\n", value, width);
		return EXIT_USAGE;
	}
	if (tool_open_dev(ctx, argv[optind], &dev))
		return EXIT_DEVICE;
	ret = hugepfn_map(dev, (unsigned int)region, offset & ~(page - 1), page,
			  HUGEPFN_MAP_4K | (write ? 0 : HUGEPFN_MAP_READONLY), &map);
	if (ret) {
		tool_fail(dev, ret, argv[0]);
		hugepfn_close(dev);
		return EXIT_DEVICE;
	}
	p = (volatile uint8_t *)hugepfn_map_addr(map) + (offset & (page - 1));
	if (write) {
		switch (width) {
		case 8: *p = (uint8_t)value; break;
		case 16: *(volatile uint16_t *)p = (uint16_t)value; break;
		case 32: *(volatile uint32_t *)p = (uint32_t)value; break;
		default: *(volatile uint64_t *)p = value; break;
		}
	} else {
		switch (width) {
		case 8: value = *p; break;
		case 16: value = *(volatile uint16_t *)p; break;
		case 32: value = *(volatile uint32_t *)p; break;
		default: value = *(volatile uint64_t *)p; break;
		}
		if (json_output)
			printf("{\"region\":%" PRIu64 ",\"offset\":%" PRIu64 ",\"width\":%" PRIu64 ",\"value\":%" PRIu64 "}\n",
			       region, offset, width, value);
		else
			printf("0x%0*" PRIx64 "\n", (int)(width / 4), value);
	}
	hugepfn_unmap(map);
	hugepfn_close(dev);
	return 0;
}

static int parse_backend(const char *name, enum hugepfn_backend *out)
{
	enum hugepfn_backend b;

	for (b = HUGEPFN_BACKEND_AUTO; b <= HUGEPFN_BACKEND_VFIO_CDEV; b++) {
		if (!strcmp(name, hugepfn_backend_name(b))) {
			*out = b;
			return 0;
		}
	}
	return -1;
}

int main(int argc, char **argv)
{
	struct hugepfn_ctx *ctx;
	int i = 1, ret;

	while (i < argc && argv[i][0] == '-') {
		if (!strcmp(argv[i], "--json")) {
			json_output = 1;
		} else if (!strcmp(argv[i], "--backend")) {
			if (i + 1 >= argc || parse_backend(argv[i + 1], &backend)) {
				fprintf(stderr, "hugepfn: --backend wants auto, hugepfn, uio, sysfs, vfio or vfio-cdev%s%s%s\n",
					i + 1 < argc ? ", not '" : "", i + 1 < argc ? argv[i + 1] : "",
					i + 1 < argc ? "'" : "");
				return EXIT_USAGE;
			}
			i++;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage_main(stdout);
			return 0;
		} else {
			fprintf(stderr, "hugepfn: unknown option '%s'\n", argv[i]);
			usage_main(stderr);
			return EXIT_USAGE;
		}
		i++;
	}
	if (i >= argc) {
		usage_main(stderr);
		return EXIT_USAGE;
	}
	ret = hugepfn_ctx_new(NULL, &ctx);
	if (ret)
		return tool_fail(NULL, ret, "create a context");
	if (!strcmp(argv[i], "list"))
		ret = cmd_list(ctx, argc - i, argv + i);
	else if (!strcmp(argv[i], "info"))
		ret = cmd_info(ctx, argc - i, argv + i);
	else if (!strcmp(argv[i], "map"))
		ret = cmd_map(ctx, argc - i, argv + i);
	else if (!strcmp(argv[i], "bench"))
		ret = cmd_bench(ctx, argc - i, argv + i);
	else if (!strcmp(argv[i], "bind") || !strcmp(argv[i], "unbind"))
		ret = cmd_bind(ctx, argc - i, argv + i, argv[i][0] == 'b');
	else if (!strcmp(argv[i], "peek") || !strcmp(argv[i], "poke"))
		ret = cmd_access(ctx, argc - i, argv + i, argv[i][1] == 'o' && argv[i][2] == 'k');
	else if (!strcmp(argv[i], "doctor"))
		ret = cmd_doctor(ctx, argc - i, argv + i);
	else {
		fprintf(stderr, "hugepfn: unknown command '%s' (try --help)\n", argv[i]);
		ret = EXIT_USAGE;
	}
	hugepfn_ctx_free(ctx);
	return ret;
}
