// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "align.h"

static int is_pow2(uint64_t x)
{
	return x && !(x & (x - 1));
}

int hpfn_leaf_candidates(uint64_t page, uint64_t out[2])
{
	uint64_t entries = page / 8;

	if (!is_pow2(page) || page < 4096 ||
	    __builtin_mul_overflow(page, entries, &out[0]) ||
	    __builtin_mul_overflow(out[0], entries, &out[1]))
		return 0;
	return 2;
}

static int path_exists(const char *root, const char *rel)
{
	char path[512];
	struct stat st;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", root, rel) >= sizeof(path))
		return 0;
	return stat(path, &st) == 0;
}

/* Is there a hugepages-<N>kB directory for @size? */
static int hugetlb_size(const char *root, uint64_t size)
{
	char rel[96];

	snprintf(rel, sizeof(rel), "kernel/mm/hugepages/hugepages-%" PRIu64 "kB", size >> 10);
	return path_exists(root, rel);
}

/* THP's PMD size, 0 when sysfs does not say. */
/*
 * Read the small text file @rel under @root into @buf (terminated);
 * the byte count, or -1. This file is in the internal library the guest
 * tests link, which has no sysfs.c: hence its own little reader.
 */
static ssize_t read_rel(const char *root, const char *rel, char *buf, size_t size)
{
	char path[512];
	ssize_t n;
	int fd;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", root, rel) >= sizeof(path))
		return -1;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return n;
}

static uint64_t thp_pmd_size(const char *root)
{
	char buf[32], *end;
	unsigned long long v;

	if (read_rel(root, "kernel/mm/transparent_hugepage/hpage_pmd_size", buf, sizeof(buf)) < 0)
		return 0;
	errno = 0;
	v = strtoull(buf, &end, 10);
	if (errno || end == buf || (*end && *end != '\n') || !is_pow2(v))
		return 0;
	return v;
}

/*
 * Whether an x86 CPU maps 1 GiB pages: X86_FEATURE_GBPAGES (word 1, bit
 * 26: feature 0x3a, "pdpe1gb") in the CPU modalias, which lists the
 * features the kernel left on ("nogbpages" clears it). 0 on other
 * architectures and when the file cannot be read.
 */
int hpfn_parse_modalias_gbpages(const char *text)
{
	const char *p;

	if (strncmp(text, "cpu:type:x86,", 13) || !(p = strstr(text, ":feature:")))
		return 0;
	while ((p = strstr(p, ",003A")))
		if (p[5] == ',' || p[5] == '\n' || p[5] == '\0')
			return 1;
		else
			p += 5;
	return 0;
}

static int x86_cpu_has_gbpages(const char *root)
{
	char buf[4096];

	if (read_rel(root, "devices/system/cpu/modalias", buf, sizeof(buf)) < 0)
		return 0;
	return hpfn_parse_modalias_gbpages(buf);
}

int hpfn_leaf_sizes_at(const char *sysfs_root, uint64_t page, uint64_t *out, size_t max)
{
	uint64_t cand[2], sizes[3], thp;
	int silent, n = 0, i;

	if (!sysfs_root || (!out && max) || hpfn_leaf_candidates(page, cand) != 2)
		return -EINVAL;
	sizes[n++] = page;
	thp = thp_pmd_size(sysfs_root);
	silent = !path_exists(sysfs_root, "kernel/mm/hugepages") &&
		 !path_exists(sysfs_root, "kernel/mm/transparent_hugepage");
	if (thp > page)
		sizes[n++] = thp;
	else if (hugetlb_size(sysfs_root, cand[0]) || silent)
		sizes[n++] = cand[0];
	if (n > 1 && sizes[n - 1] < cand[1] &&
	    (hugetlb_size(sysfs_root, cand[1]) ||
	     (cand[1] == 1ULL << 30 && x86_cpu_has_gbpages(sysfs_root))))
		sizes[n++] = cand[1];
	for (i = 0; i < n && (size_t)i < max; i++)
		out[i] = sizes[i];
	return n;
}

uint64_t hpfn_best_leaf_size(uint64_t phys, uint64_t len, uint64_t base,
			     const uint64_t *sizes, size_t nsizes)
{
	uint64_t best = base, end, first;
	size_t i;

	if (!len || !is_pow2(base) || __builtin_add_overflow(phys, len, &end))
		return 0;
	for (i = 0; i < nsizes; i++) {
		uint64_t s = sizes[i];

		if (!is_pow2(s))
			return 0;
		if (s <= best)
			continue;
		/* first s-aligned address at or above phys */
		if (__builtin_add_overflow(phys, s - 1, &first))
			continue;
		first &= ~(s - 1);
		if (first < end && end - first >= s)
			best = s;
	}
	return best;
}

uint64_t hpfn_congruent_addr(uint64_t resv, uint64_t phys, uint64_t align)
{
	uint64_t mask = align - 1;

	return resv + ((phys - resv) & mask);
}

void *hpfn_mmap_congruent(int fd, off_t offset, size_t len, int prot,
			  int flags, uint64_t phys, uint64_t align)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), slack, resv_len;
	uint8_t *resv, *addr, *resv_end;
	void *map;
	int err;

	if (!len || !is_pow2(align) || align < page) {
		errno = EINVAL;
		return MAP_FAILED;
	}
	slack = align - page;
	if (__builtin_add_overflow(len, slack, &resv_len)) {
		errno = ENOMEM;
		return MAP_FAILED;
	}
	/* PROT_NONE and never touched: the reservation costs no memory. */
	resv = mmap(NULL, resv_len, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (resv == MAP_FAILED)
		return MAP_FAILED;
	addr = (uint8_t *)(uintptr_t)hpfn_congruent_addr((uintptr_t)resv, phys,
							  align);
	map = mmap(addr, len, prot, flags | MAP_FIXED, fd, offset);
	if (map == MAP_FAILED) {
		err = errno;
		munmap(resv, resv_len);
		errno = err;
		return MAP_FAILED;
	}
	/* Give back the slack on both sides of the mapping. */
	resv_end = resv + resv_len;
	if (addr > resv)
		munmap(resv, addr - resv);
	if (resv_end > addr + len)
		munmap(addr + len, resv_end - (addr + len));
	return map;
}
