// SPDX-License-Identifier: GPL-2.0
/*
 * sysfs-bar-map: map a PCI BAR through its sysfs resourceN file at a
 * huge-aligned virtual address and print what the kernel gave: address,
 * size, the page size of every mapped run (from the debugfs page-table
 * dump, read by this process), and the time mmap() took.
 *
 * This is the demo's view of the system before the driver and library
 * exist; it needs root and CONFIG_PTDUMP_DEBUGFS for the page sizes.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "align.h"
#include "ptdump.h"

#define MAX_RUNS 8192

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: sysfs-bar-map [--json] [--4k] /sys/bus/pci/devices/BDF/resourceN[_wc]\n"
		"\n"
		"Maps the whole BAR at a virtual address congruent to its physical address\n"
		"(so the kernel can use 2 MiB/1 GiB entries), touches every page, and prints\n"
		"the page size of every mapped run.\n"
		"\n"
		"  --4k     map at an address that is deliberately not 2 MiB-congruent\n"
		"  --json   machine-readable output\n"
		"  -h, --help\n");
}

static int bar_phys(const char *path, uint64_t *phys)
{
	char rpath[512], *slash;
	const char *base;
	uint64_t start, end, flags;
	int bar, i;
	FILE *f;

	base = strrchr(path, '/');
	base = base ? base + 1 : path;
	if (sscanf(base, "resource%d", &bar) != 1 || bar < 0 || bar > 5)
		return -EINVAL;
	snprintf(rpath, sizeof(rpath), "%s", path);
	slash = strrchr(rpath, '/');
	if (!slash)
		return -EINVAL;
	snprintf(slash + 1, sizeof(rpath) - (slash + 1 - rpath), "resource");
	f = fopen(rpath, "re");
	if (!f)
		return -errno;
	for (i = 0; i <= bar; i++) {
		if (fscanf(f, "%" SCNx64 " %" SCNx64 " %" SCNx64, &start, &end, &flags) != 3) {
			fclose(f);
			return -EINVAL;
		}
	}
	fclose(f);
	*phys = start;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "4k", no_argument, NULL, '4' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	static const uint64_t leaves[] = { 0x200000, 0x40000000 };
	static struct hpfn_pt_run runs[MAX_RUNS];
	int json = 0, small = 0, c, fd, n, i, ret;
	uint64_t phys = 0, align, t0, t1, t2;
	struct timespec ts;
	struct stat st;
	const char *path;
	volatile uint8_t *p;
	uint8_t *map;
	char flags[96];

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = 1; break;
		case '4': small = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	path = argv[optind];
	ret = bar_phys(path, &phys);
	if (ret) {
		fprintf(stderr, "sysfs-bar-map: %s is not a readable PCI resourceN file: %s\n",
			path, strerror(-ret));
		return 1;
	}
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		fprintf(stderr, "sysfs-bar-map: open %s: %s (run as root)\n", path, strerror(errno));
		return 1;
	}
	align = hpfn_best_leaf_size(phys, st.st_size, 4096, leaves, 2);
	if (small)
		phys += 4096, align = align < 0x200000 ? 0x200000 : align;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	t0 = ts.tv_sec * 1000000000ULL + ts.tv_nsec;
	map = hpfn_mmap_congruent(fd, 0, st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, phys, align);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	t1 = ts.tv_sec * 1000000000ULL + ts.tv_nsec;
	if (map == MAP_FAILED) {
		fprintf(stderr, "sysfs-bar-map: mmap %s: %s\n", path, strerror(errno));
		return 1;
	}
	for (p = map; p < map + st.st_size; p += 4096)
		(void)*p;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	t2 = ts.tv_sec * 1000000000ULL + ts.tv_nsec;
	n = hpfn_ptdump_read((uintptr_t)map, st.st_size, runs, MAX_RUNS);
	if (json) {
		printf("{\"file\":\"%s\",\"address\":\"%p\",\"size\":%lld,\"mmap_us\":%" PRIu64
		       ",\"touch_us\":%" PRIu64 ",\"runs\":", path, (void *)map,
		       (long long)st.st_size, (t1 - t0) / 1000, (t2 - t1) / 1000);
		if (n < 0) {
			printf("null,\"runs_error\":\"%s\"}\n", strerror(-n));
		} else {
			printf("[");
			for (i = 0; i < n && i < MAX_RUNS; i++) {
				hpfn_pt_flags_str(runs[i].flags, flags, sizeof(flags));
				printf("%s{\"start\":\"0x%" PRIx64 "\",\"end\":\"0x%" PRIx64
				       "\",\"page_size\":\"%s\",\"flags\":\"%s\"}", i ? "," : "",
				       runs[i].start, runs[i].end, hpfn_pt_level_size(runs[i].level), flags);
			}
			printf("]}\n");
		}
	} else {
		printf("file       %s\n", path);
		printf("address    %p (congruent to phys modulo %" PRIu64 " KiB)\n", (void *)map,
		       align >> 10);
		printf("size       %lld MiB\n", (long long)st.st_size >> 20);
		printf("mmap()     %" PRIu64 " us, touching every 4 KiB page: %" PRIu64 " us\n",
		       (t1 - t0) / 1000, (t2 - t1) / 1000);
		if (n < 0) {
			printf("page sizes unknown: %s: %s\n", HPFN_PTDUMP_PATH, strerror(-n));
		} else {
			printf("%-18s %-18s %10s  %-4s  %s\n", "start", "end", "length", "page", "flags");
			for (i = 0; i < n && i < MAX_RUNS; i++) {
				hpfn_pt_flags_str(runs[i].flags, flags, sizeof(flags));
				printf("0x%016" PRIx64 " 0x%016" PRIx64 " %9" PRIu64 "K  %-4s  %s\n",
				       runs[i].start, runs[i].end, (runs[i].end - runs[i].start) >> 10,
				       hpfn_pt_level_size(runs[i].level), flags);
			}
		}
	}
	munmap(map, st.st_size);
	close(fd);
	/* A kernel without the dump is "unknown", not an error; a bad dump is. */
	return (n < 0 && n != -ENOENT && n != -EACCES) ? 1 : 0;
}
