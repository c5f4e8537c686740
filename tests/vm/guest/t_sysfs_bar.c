// SPDX-License-Identifier: GPL-2.0
/*
 * Sample guest test: map the big ivshmem BAR through its sysfs resource2
 * file (pci_mmap_resource_range() -> io_remap_pfn_range()) at a virtual
 * address congruent to its physical address, and check the page-table
 * level that maps it, from both oracles: the debugfs dump where the kernel
 * has one, and the test module's walker on every kernel.
 *
 * Expected: 2 MiB PMD leaves when the kernel carries the remap-pmd feature
 * of the series, 4 KiB PTEs otherwise; PTEs for a misaligned mapping
 * everywhere. The sysfs resource file maps UC- (PCD).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "align.h"
#include "guest.h"
#include "tap.h"

#define IVSHMEM_VENDOR 0x1af4
#define IVSHMEM_DEVICE 0x1110
#define IORESOURCE_PREFETCH 0x00002000UL
#define IORESOURCE_MEM_64 0x00100000UL
#define MAX_RUNS 4096

static struct hpfn_pt_run mod_runs[MAX_RUNS];

/*
 * guest_levels() reads the module oracle and, where the kernel has the
 * debugfs dump, requires the dump to agree with it (a failed check if not).
 */
static void check_mapping(const char *what, uint8_t *map, uint64_t len,
			  enum hpfn_pt_level want)
{
	int n = guest_levels(what, (uintptr_t)map, len, mod_runs, MAX_RUNS);

	if (!tap_check(n > 0, "%s: read the levels (%d runs)", what, n))
		return;
	guest_print_runs(mod_runs, n);
	tap_check(guest_all_level(mod_runs, n, want), "%s: every page mapped at %s level", what,
		  hpfn_pt_level_name(want));
	tap_check(guest_all_flags(mod_runs, n, HPFN_PTF_PRESENT | HPFN_PTF_USER | HPFN_PTF_RW | HPFN_PTF_PCD,
				  HPFN_PTF_PAT),
		  "%s: entries are user, writable, UC- (PCD), no PAT bit", what);
	if (!guest_have_ptdump())
		tap_skip("%s: %s has no debugfs dump of a process's page tables; module oracle only", what,
			 guest_kernel_kind());
}

int main(void)
{
	static const uint64_t leaves[] = { SZ_2M, SZ_1G };
	enum hpfn_pt_level want;
	struct guest_bar bar;
	uint64_t align, t0, t1, i;
	uint64_t *words;
	uint8_t *map;
	int fd, ret, data_ok;

	ret = guest_find_bar(IVSHMEM_VENDOR, IVSHMEM_DEVICE, 2, SZ_1G, UINT64_MAX, &bar);
	if (ret)
		tap_bail("find the ivshmem device with a 1 GiB BAR2: %s", strerror(-ret));
	tap_check(1, "found %s BAR2 at 0x%" PRIx64 ", %" PRIu64 " MiB", bar.bdf, bar.phys,
		  bar.size >> 20);
	tap_check((bar.flags & IORESOURCE_MEM_64) && (bar.flags & IORESOURCE_PREFETCH),
		  "BAR2 is 64-bit prefetchable (flags 0x%lx)", bar.flags);
	tap_check(!(bar.phys & (SZ_1G - 1)), "BAR2 is 1 GiB-aligned");

	/* the whole BAR is 1 GiB-aligned 1 GiB blocks: PUD leaves where the series has them */
	want = guest_has_feature("remap-pud") ? HPFN_PT_PUD :
	       guest_has_feature("remap-pmd") ? HPFN_PT_PMD : HPFN_PT_PTE;
	tap_diag("kernel %s: expecting %s leaves for an aligned remap", guest_kernel_kind(),
		 hpfn_pt_level_name(want));

	fd = open(bar.path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		tap_bail("open %s: %s", bar.path, strerror(errno));

	align = hpfn_best_leaf_size(bar.phys, bar.size, SZ_4K, leaves, 2);
	t0 = guest_now_ns();
	map = hpfn_mmap_congruent(fd, 0, bar.size, PROT_READ | PROT_WRITE, MAP_SHARED,
				  bar.phys, align);
	t1 = guest_now_ns();
	if (map == MAP_FAILED)
		tap_bail("mmap %s: %s", bar.path, strerror(errno));
	tap_check(((uintptr_t)map & (align - 1)) == (bar.phys & (align - 1)),
		  "whole BAR mapped at %p, congruent modulo %" PRIu64 " MiB, in %" PRIu64 " us",
		  (void *)map, align >> 20, (t1 - t0) / 1000);

	/* Touch one word per 2 MiB and read it back. */
	words = (uint64_t *)map;
	for (i = 0; i < bar.size / 8; i += SZ_2M / 8)
		words[i] = 0x5a5a000000000000ULL | i;
	data_ok = 1;
	for (i = 0; i < bar.size / 8; i += SZ_2M / 8)
		data_ok &= words[i] == (0x5a5a000000000000ULL | i);
	tap_check(data_ok, "pattern written through the mapping reads back");

	check_mapping("aligned whole BAR", map, bar.size, want);
	munmap(map, bar.size);

	/* 64 MiB, one page off the congruent address: PTEs on every kernel. */
	map = hpfn_mmap_congruent(fd, 0, 64 << 20, PROT_READ | PROT_WRITE, MAP_SHARED,
				  bar.phys + SZ_4K, SZ_2M);
	if (!tap_check(map != MAP_FAILED, "misaligned 64 MiB mapping: %s",
		       map == MAP_FAILED ? strerror(errno) : "mapped"))
		return tap_exit();
	check_mapping("misaligned 64 MiB", map, 64 << 20, HPFN_PT_PTE);
	munmap(map, 64 << 20);
	close(fd);
	return tap_exit();
}
