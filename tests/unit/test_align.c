// SPDX-License-Identifier: GPL-2.0
/* Host unit tests of the VA alignment arithmetic (lib/align.c). */
#include <errno.h>
#include <stdint.h>
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

int main(void)
{
	test_best_leaf();
	test_congruent();
	test_mmap_congruent();
	return UNIT_DONE();
}
