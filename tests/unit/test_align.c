// SPDX-License-Identifier: GPL-2.0
/* Host unit tests of the VA alignment arithmetic (lib/align.c). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "align.h"
#include "unit.h"

#define K4 0x1000ULL
#define M2 0x200000ULL
#define G1 0x40000000ULL

static const uint64_t leaves[] = { M2, G1 };

static void test_best_leaf(void)
{
	CHECK(hpfn_best_leaf_size(0, G1, K4, leaves, 2) == G1, "aligned 1 GiB -> 1G");
	CHECK(hpfn_best_leaf_size(G1, 2 * G1, K4, leaves, 2) == G1, "aligned 2 GiB -> 1G");
	CHECK(hpfn_best_leaf_size(M2, G1, K4, leaves, 2) == M2, "2M-aligned 1 GiB that spans no whole 1G block -> 2M");
	CHECK(hpfn_best_leaf_size(G1 - M2, G1 + 2 * M2, K4, leaves, 2) == G1,
	      "range that contains a whole 1G block -> 1G");
	CHECK(hpfn_best_leaf_size(K4, M2, K4, leaves, 2) == K4, "2 MiB not 2M-aligned -> 4K");
	CHECK(hpfn_best_leaf_size(K4, 2 * M2, K4, leaves, 2) == M2, "4 MiB at +4K holds one 2M block");
	CHECK(hpfn_best_leaf_size(0, M2 - K4, K4, leaves, 2) == K4, "under 2 MiB -> 4K");
	CHECK(hpfn_best_leaf_size(0, K4, K4, leaves, 0) == K4, "no leaf sizes -> base");
	CHECK(hpfn_best_leaf_size(0, 0, K4, leaves, 2) == 0, "zero length is invalid");
	CHECK(hpfn_best_leaf_size(~0ULL - K4, 2 * K4, K4, leaves, 2) == 0, "overflow is invalid");
	static const uint64_t bad[] = { 3 * M2 };
	CHECK(hpfn_best_leaf_size(0, G1, K4, bad, 1) == 0, "non power of two size is invalid");
	CHECK(hpfn_best_leaf_size(~0ULL - G1 + 1 - G1, G1, K4, leaves, 2) == G1,
	      "block at the top of the address space");
	/* 64 KiB base pages (arm64/ppc64 kernels) with 512 MiB PMDs. */
	static const uint64_t leaves64k[] = { 0x20000000ULL };
	CHECK(hpfn_best_leaf_size(0x10000, 0x40000000ULL, 0x10000, leaves64k, 1) == 0x20000000ULL,
	      "64K base: 512M leaf found inside a 1 GiB range");
}

#define K64 0x10000ULL
#define M512 0x20000000ULL
#define T4 0x40000000000ULL

static void test_candidates(void)
{
	uint64_t c[2];

	CHECK(hpfn_leaf_candidates(K4, c) == 2 && c[0] == M2 && c[1] == G1, "4K pages: 2M PMD, 1G PUD");
	CHECK(hpfn_leaf_candidates(K64, c) == 2 && c[0] == M512 && c[1] == T4, "64K pages: 512M PMD, 4T PUD");
	CHECK(hpfn_leaf_candidates(0x4000, c) == 2 && c[0] == 0x2000000ULL && c[1] == 0x1000000000ULL,
	      "16K pages: 32M PMD, 64G PUD");
	CHECK(hpfn_leaf_candidates(3 * K4, c) == 0 && hpfn_leaf_candidates(512, c) == 0,
	      "a page size that is not a power of two, or below 4K, has no geometry");
}

/* The 64 KiB-page geometry: 512 MiB and 4 TiB leaves. */
static void test_best_leaf_64k(void)
{
	static const uint64_t l64[] = { M512, T4 };
	uint64_t a;

	CHECK(hpfn_best_leaf_size(0, M512, K64, l64, 2) == M512, "64K: an aligned 512 MiB -> 512M");
	CHECK(hpfn_best_leaf_size(K64, M512, K64, l64, 2) == K64, "64K: 512 MiB at +64K holds no 512M block -> 64K");
	CHECK(hpfn_best_leaf_size(M2, 2 * M512, K64, l64, 2) == M512,
	      "64K: 1 GiB at +2M holds one 512M block");
	CHECK(hpfn_best_leaf_size(0, T4, K64, l64, 2) == T4, "64K: an aligned 4 TiB -> 4T");
	CHECK(hpfn_best_leaf_size(M512, T4, K64, l64, 2) == M512, "64K: 4 TiB at +512M holds no 4T block -> 512M");
	CHECK(hpfn_best_leaf_size(0, M2, K64, l64, 2) == K64, "64K: 2 MiB is a base-page mapping");
	a = hpfn_congruent_addr(0x7f0000010000ULL, 0x8020000000ULL, M512);
	CHECK(a == 0x7f0020000000ULL && (a & (M512 - 1)) == 0, "64K: next 512M boundary for a 512M-aligned phys");
	a = hpfn_congruent_addr(0x7f0000010000ULL, 0x8020030000ULL, M512);
	CHECK((a & (M512 - 1)) == 0x30000 && a >= 0x7f0000010000ULL && a - 0x7f0000010000ULL < M512,
	      "64K: congruent to phys mod 512M within the slack");
}

static char tree[64];

static void mk(const char *rel)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "mkdir -p '%s/%s'", tree, rel);
	if (system(cmd))
		exit(1);
}

static void put(const char *rel, const char *text)
{
	char path[300];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tree, rel);
	f = fopen(path, "w");
	if (!f || fputs(text, f) < 0)
		exit(1);
	fclose(f);
}

static void reset(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s/kernel'", tree);
	if (system(cmd))
		exit(1);
}

/* Leaf sizes from a sysfs tree, for 4K and 64K base pages. */
static void test_sizes_at(void)
{
	uint64_t s[4];
	int n;

	snprintf(tree, sizeof(tree), "/tmp/hugepfn-align-XXXXXX");
	if (!mkdtemp(tree))
		exit(1);

	n = hpfn_leaf_sizes_at(tree, K4, s, 4);
	CHECK(n == 2 && s[0] == K4 && s[1] == M2, "sysfs silent: the base page and the PMD candidate (%d)", n);

	mk("kernel/mm/hugepages/hugepages-2048kB");
	mk("kernel/mm/hugepages/hugepages-1048576kB");
	n = hpfn_leaf_sizes_at(tree, K4, s, 4);
	CHECK(n == 3 && s[0] == K4 && s[1] == M2 && s[2] == G1, "4K, hugepages 2M and 1G: 4K 2M 1G");
	CHECK(hpfn_leaf_sizes_at(tree, K4, s, 1) == 3 && s[0] == K4, "a short array still gets the count");
	CHECK(hpfn_leaf_sizes_at(tree, K4, NULL, 0) == 3, "counting without an array");
	CHECK(hpfn_leaf_sizes_at(tree, K4, NULL, 2) == -EINVAL, "no array but room claimed: -EINVAL");
	CHECK(hpfn_leaf_sizes_at(tree, 3 * K4, s, 4) == -EINVAL, "an impossible page size: -EINVAL");

	reset();
	mk("kernel/mm/hugepages/hugepages-2048kB");
	n = hpfn_leaf_sizes_at(tree, K4, s, 4);
	CHECK(n == 2 && s[1] == M2, "x86 without gbpages (no hugepages-1048576kB): 4K 2M");
	/* a kernel without gigantic hugetlb pages: the CPU flag tells */
	mk("devices/system/cpu");
	put("devices/system/cpu/modalias", "cpu:type:x86,ven0000fam0006mod003F:feature:,0000,0039,003A,003B\n");
	n = hpfn_leaf_sizes_at(tree, K4, s, 4);
	CHECK(n == 3 && s[2] == G1, "x86 modalias with GBPAGES (003A) and no 1G hugepages directory: 4K 2M 1G");
	put("devices/system/cpu/modalias", "cpu:type:x86,ven0000fam0006mod003F:feature:,0000,0039,003AB,003B,003A");
	n = hpfn_leaf_sizes_at(tree, K4, s, 4);
	CHECK(n == 3 && s[2] == G1, "GBPAGES as the last feature, after a look-alike");
	put("devices/system/cpu/modalias", "cpu:type:x86,ven0000fam0006mod003F:feature:,0000,0039,003B\n");
	n = hpfn_leaf_sizes_at(tree, K4, s, 4);
	CHECK(n == 2, "x86 modalias without GBPAGES: 4K 2M");
	put("devices/system/cpu/modalias", "cpu:type:aarch64:feature:,0000,003A\n");
	n = hpfn_leaf_sizes_at(tree, K4, s, 4);
	CHECK(n == 2, "another architecture's feature 3A means nothing: 4K 2M");
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s/devices'", tree);
		if (system(cmd))
			exit(1);
	}

	reset();
	mk("kernel/mm/hugepages");
	mk("kernel/mm/transparent_hugepage");
	put("kernel/mm/transparent_hugepage/hpage_pmd_size", "2097152\n");
	n = hpfn_leaf_sizes_at(tree, K4, s, 4);
	CHECK(n == 2 && s[1] == M2, "THP's hpage_pmd_size alone: 4K 2M");

	reset();
	mk("kernel/mm/hugepages");
	n = hpfn_leaf_sizes_at(tree, K4, s, 4);
	CHECK(n == 1 && s[0] == K4, "hugetlbfs without a PMD size and no THP: base pages only");

	/* arm64 with 64K pages: PMD 512M; its 2M and 16G hugepages are contiguous-bit or PUD-less */
	reset();
	mk("kernel/mm/hugepages/hugepages-2048kB");
	mk("kernel/mm/hugepages/hugepages-524288kB");
	mk("kernel/mm/hugepages/hugepages-16777216kB");
	n = hpfn_leaf_sizes_at(tree, K64, s, 4);
	CHECK(n == 2 && s[0] == K64 && s[1] == M512,
	      "64K pages, hugepages 2M/512M/16G: 64K 512M (2M is no page-table leaf, 4T is not offered)");
	mk("kernel/mm/transparent_hugepage");
	put("kernel/mm/transparent_hugepage/hpage_pmd_size", "536870912\n");
	n = hpfn_leaf_sizes_at(tree, K64, s, 4);
	CHECK(n == 2 && s[1] == M512, "64K pages with THP saying 512M: 64K 512M");
	put("kernel/mm/transparent_hugepage/hpage_pmd_size", "16777216\n");
	n = hpfn_leaf_sizes_at(tree, K64, s, 4);
	CHECK(n == 2 && s[1] == 0x1000000ULL, "THP's hpage_pmd_size wins over the candidate (ppc64 hash: 16M)");
	put("kernel/mm/transparent_hugepage/hpage_pmd_size", "garbage\n");
	n = hpfn_leaf_sizes_at(tree, K64, s, 4);
	CHECK(n == 2 && s[1] == M512, "an unreadable hpage_pmd_size falls back to the hugepages directories");
	mk("kernel/mm/hugepages/hugepages-4294967296kB");
	n = hpfn_leaf_sizes_at(tree, K64, s, 4);
	CHECK(n == 3 && s[2] == T4, "64K pages with a 4T hugepages directory: 64K 512M 4T");
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tree);
		if (system(cmd))
			exit(1);
	}
}

static void test_congruent(void)
{
	uint64_t a;

	a = hpfn_congruent_addr(0x7f0000001000ULL, 0x380000000ULL, G1);
	CHECK(a == 0x7f0040000000ULL, "next 1G boundary for a 1G-aligned phys (0x%llx)", (unsigned long long)a);
	a = hpfn_congruent_addr(0x7f0000001000ULL, 0x380201000ULL, M2);
	CHECK(a == 0x7f0000001000ULL, "already congruent stays");
	a = hpfn_congruent_addr(0x7f0000001000ULL, 0x380200000ULL, M2);
	CHECK(a == 0x7f0000200000ULL && (a & (M2 - 1)) == 0, "rounds up within the slack");
}

/* memfd offsets stand in for physical addresses. */
static void test_mmap_congruent(void)
{
	int fd = memfd_create("hpfn-unit", 0);
	uint8_t *p;

	CHECK(fd >= 0 && ftruncate(fd, 8 * M2) == 0, "memfd of 16 MiB");
	for (int i = 0; i < 64; i++) {
		uint64_t phys = (uint64_t)i * K4 * 37;
		uint64_t align = (i & 1) ? M2 : 4 * M2;

		p = hpfn_mmap_congruent(fd, 0, 4 * M2, PROT_READ | PROT_WRITE, MAP_SHARED, phys, align);
		if (p == MAP_FAILED || ((uintptr_t)p & (align - 1)) != (phys & (align - 1))) {
			CHECK(0, "mapping %d congruent", i);
			return;
		}
		p[0] = (uint8_t)i;
		p[4 * M2 - 1] = (uint8_t)i;
		/* the slack was given back: the pages around the mapping are free */
		if (mmap(p - K4, K4, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) == MAP_FAILED &&
		    errno == EEXIST) {
			CHECK(0, "slack before mapping %d released", i);
			return;
		}
		munmap(p - K4, K4);
		munmap(p, 4 * M2);
	}
	CHECK(1, "64 mappings at varied phys/align are congruent and usable");
	errno = 0;
	CHECK(hpfn_mmap_congruent(fd, 0, 0, PROT_READ, MAP_SHARED, 0, M2) == MAP_FAILED && errno == EINVAL,
	      "zero length fails with EINVAL");
	CHECK(hpfn_mmap_congruent(fd, 0, M2, PROT_READ, MAP_SHARED, 0, 3 * M2) == MAP_FAILED && errno == EINVAL,
	      "non power of two alignment fails with EINVAL");
	CHECK(hpfn_mmap_congruent(-1, 0, M2, PROT_READ, MAP_SHARED, 0, M2) == MAP_FAILED && errno == EBADF,
	      "bad fd fails with EBADF and leaves nothing mapped");
	close(fd);
}

/* The CPU modalias: GB pages are feature 0x3a, in a comma-separated list. */
static void test_modalias(void)
{
	CHECK(hpfn_parse_modalias_gbpages("cpu:type:x86,ven0000fam0006mod0055:feature:,0000,003A,00E6\n"),
	      "modalias: ,003A, in the feature list means GB pages");
	CHECK(hpfn_parse_modalias_gbpages("cpu:type:x86,ven0000fam0006mod0055:feature:,0000,003A"),
	      "modalias: ,003A at the end of the text counts");
	CHECK(!hpfn_parse_modalias_gbpages("cpu:type:x86,ven0000fam0006mod0055:feature:,0000,003AB\n"),
	      "modalias: ,003AB is another feature");
	CHECK(!hpfn_parse_modalias_gbpages("cpu:type:x86,ven0000fam0006mod0055:feature:,0000,00E6\n"),
	      "modalias: without 003A, no GB pages");
	CHECK(!hpfn_parse_modalias_gbpages("cpu:type:aarch64:feature:,003A\n"),
	      "modalias: not an x86 CPU: not this feature numbering");
	CHECK(!hpfn_parse_modalias_gbpages(""), "modalias: empty text");
}

int main(void)
{
	test_modalias();
	test_best_leaf();
	test_candidates();
	test_best_leaf_64k();
	test_sizes_at();
	test_congruent();
	test_mmap_congruent();
	return UNIT_DONE();
}
