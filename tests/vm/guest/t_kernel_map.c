// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel's own leaves, read from the architecture's page-table dump.
 * The series changes what pfn_pmd()/pfn_pud() take (a base-page pgprot)
 * and converts the kernel-mapping callers (x86: pmd_set_huge(), CPA,
 * init_64; arm64: pmd_set_huge(), pud_set_huge(), vmemmap_set_pmd()).
 *
 * x86 (/sys/kernel/debug/page_tables/current_kernel, and hpfn_test.ko's
 * walk, which the stock kernel without the dump has too): a huge ioremap()
 * goes through pmd_set_huge(). hpfn_test.ko ioremaps 4 MiB of the big
 * ivshmem BAR uncached and write-combining; both must show 2 MiB pmd
 * leaves, UC- = PCD and WC = PWT, no PAT bit.
 *
 * arm64 (/sys/kernel/debug/kernel_page_tables): 6.12 turns huge vmap off
 * when PTDUMP_DEBUGFS is built (arch_vmap_pmd_supported(): software walks
 * cannot follow a table being freed), so the same ioremaps must show page
 * descriptors (no BLK) of DEVICE/nGnRE and MEM/NORMAL-NC; 7.3 maps them
 * huge all the same, as PMD blocks (BLK) of those types. The blocks
 * pmd_set_huge() and vmemmap_set_pmd() build are those of the linear map
 * and the vmemmap: PMD/PUD, BLK (table bit clear), MEM/NORMAL. And no PTE
 * anywhere may have the block type (a page descriptor built from a block
 * pgprot, invalid at level 3).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "guest.h"
#include "hpfn_test.h"
#include "tap.h"

#define SZ_1M 0x100000ULL
#define MAP_SIZE (4 * SZ_1M)
#define MAX_RUNS 64

#if defined(__aarch64__)
#define DUMP "/sys/kernel/debug/kernel_page_tables"

/*
 * Every dump line that covers part of [start, start + len) must be at
 * @level, show @want, and be a block ("BLK") exactly when @level is not
 * PTE. Returns the bytes covered.
 */
static uint64_t dump_covers(const char *dump, uint64_t start, uint64_t len, const char *level,
			    const char *want, int *bad)
{
	const char *line = dump;
	uint64_t covered = 0;

	while (line && *line) {
		const char *next = strchr(line, '\n');
		unsigned long long s, e;
		char text[512];
		size_t n = next ? (size_t)(next - line) : strlen(line);

		if (n >= sizeof(text))
			n = sizeof(text) - 1;
		memcpy(text, line, n);
		text[n] = '\0';
		line = next ? next + 1 : NULL;
		if (sscanf(text, "0x%llx-0x%llx", &s, &e) != 2 || e <= start || s >= start + len)
			continue;
		tap_diag("  %s", text);
		covered += (e < start + len ? e : start + len) - (s > start ? s : start);
		if (!strstr(text, level) || !strstr(text, want) ||
		    !strstr(text, " BLK ") != !strcmp(level, " PTE "))
			*bad = 1;
	}
	return covered;
}

static void check_kernel_leaves(int fd, const char *what, uint64_t kaddr, const char *want)
{
	char *dump = hpfn_read_whole(DUMP, NULL);
	int bad = 0, pmd_bad = 0;

	if (!tap_check(dump != NULL, "%s: read %s", what, DUMP))
		return;
	if (dump_covers(dump, kaddr, MAP_SIZE, " PMD ", want, &pmd_bad) == MAP_SIZE && !pmd_bad)
		tap_check(1, "%s: 0x%" PRIx64 "+4M is PMD blocks (BLK) of %s in the dump (huge vmap)", what,
			  kaddr, want);
	else
		tap_check(dump_covers(dump, kaddr, MAP_SIZE, " PTE ", want, &bad) == MAP_SIZE && !bad,
			  "%s: 0x%" PRIx64 "+4M is page descriptors (no BLK) of %s in the dump", what, kaddr, want);
	free(dump);
}

/* Blocks of Normal memory in the linear map and the vmemmap; no block-typed PTE. */
static void check_linear_map(void)
{
	char *dump = hpfn_read_whole(DUMP, NULL), *line, *save = NULL;
	int section = 0, blocks[3] = { 0 }, pte_blocks = 0;

	if (!tap_check(dump != NULL, "read %s", DUMP))
		return;
	for (line = strtok_r(dump, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strstr(line, "---[ Linear Mapping start ]---"))
			section = 1;
		else if (strstr(line, "---[ vmemmap start ]---"))
			section = 2;
		else if (strstr(line, "---["))
			section = 0;
		else if (strncmp(line, "0x", 2))
			continue;
		if ((strstr(line, " PMD ") || strstr(line, " PUD ")) && strstr(line, " BLK ") &&
		    strstr(line, "MEM/NORMAL") && !strstr(line, "MEM/NORMAL-NC"))
			blocks[section]++;
		if (strstr(line, " PTE ") && strstr(line, " BLK ")) {
			if (pte_blocks++ < 3)
				tap_diag("  block-typed PTE: %s", line);
		}
	}
	tap_check(blocks[1] > 0, "linear map: %d runs of PMD/PUD blocks of Normal memory", blocks[1]);
	tap_check(blocks[2] > 0, "vmemmap: %d runs of PMD blocks of Normal memory", blocks[2]);
	tap_check(pte_blocks == 0, "no PTE in the kernel's page tables has the block type (%d found)",
		  pte_blocks);
	free(dump);
}
#else
/* x86: leaves of [kaddr, +4M) at PMD level with these cache bits. */
static void expect_leaves(const char *what, const char *oracle, struct hpfn_pt_run *runs, int n,
			  uint64_t kaddr, const char *want)
{
	unsigned int set = !strcmp(want, "WC") ? HPFN_PTF_PWT : HPFN_PTF_PCD;
	unsigned int clear = (HPFN_PTF_PWT | HPFN_PTF_PCD | HPFN_PTF_PAT) & ~set;

	if (!tap_check(n > 0, "%s: read the kernel's leaves from the %s (%d runs)", what, oracle, n))
		return;
	guest_print_runs(runs, n);
	tap_check(guest_all_level(runs, n, HPFN_PT_PMD) && guest_all_flags(runs, n, set | HPFN_PTF_RW, clear),
		  "%s: %s: 0x%" PRIx64 "+4M is 2 MiB pmd leaves, %s (%s), no PAT bit", what, oracle, kaddr,
		  want, set == HPFN_PTF_PWT ? "PWT" : "PCD");
}

/*
 * The module's walk on every kernel (the stock one has no dump), and the
 * dump where there is one.
 */
static void check_kernel_leaves(int fd, const char *what, uint64_t kaddr, const char *want)
{
	static struct hpfn_pt_run runs[MAX_RUNS];

	expect_leaves(what, "module", runs, guest_module_levels_fd(fd, kaddr, MAP_SIZE, runs, MAX_RUNS),
		      kaddr, want);
	if (guest_have_ptdump())
		expect_leaves(what, "dump", runs, hpfn_ptdump_read("/sys", kaddr, MAP_SIZE, runs, MAX_RUNS), kaddr,
			      want);
	else
		tap_skip("%s: %s kernel has no debugfs page-table dump; module walk only", what,
			 guest_kernel_kind());
}

static void check_linear_map(void)
{
}
#endif

static void ioremap_case(int fd, const struct guest_bar *bar, uint64_t offset, unsigned int cache,
			 const char *what, const char *want)
{
	struct hpfn_test_ioremap r = { .phys = bar->phys + offset, .size = MAP_SIZE, .cache = cache };

	int ret = ioctl(fd, HPFN_TEST_IOC_IOREMAP, &r);

	if (!tap_check(ret == 0, "%s: ioremap 4 MiB at 0x%llx (%s)", what, (unsigned long long)r.phys,
		       ret ? strerror(errno) : "ok"))
		return;
	tap_check(r.kaddr % SZ_2M == 0, "%s: the kernel address 0x%llx is 2 MiB-aligned", what,
		  (unsigned long long)r.kaddr);
	check_kernel_leaves(fd, what, r.kaddr, want);
}

int main(void)
{
	struct guest_bar bar;
	struct hpfn_test_ioremap bad = { .size = SZ_4K, .cache = 7 };
	int fd;

	if (guest_find_bar(0x1af4, 0x1110, 2, SZ_1G, UINT64_MAX, &bar))
		tap_bail("no ivshmem device with a BAR2 of at least 1 GiB");
	fd = open(HPFN_TEST_DEV, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		tap_bail(HPFN_TEST_DEV);
	bad.phys = bar.phys;
	tap_check(ioctl(fd, HPFN_TEST_IOC_IOREMAP, &bad) == -1 && errno == EINVAL,
		  "ioremap with an unknown cache mode is refused (EINVAL)");
	bad.phys = GUEST_RAM_ADDR;
	bad.cache = HPFN_TEST_CACHE_UC_MINUS;
	tap_check(ioctl(fd, HPFN_TEST_IOC_IOREMAP, &bad) == -1 && errno == EPERM,
		  "ioremap of System RAM at 0x%llx is refused (EPERM)", GUEST_RAM_ADDR);
	/* 256 MiB and 264 MiB into the BAR: ranges no other test maps WC */
#if defined(__aarch64__)
	ioremap_case(fd, &bar, 256 * SZ_1M, HPFN_TEST_CACHE_UC_MINUS, "ioremap", "DEVICE/nGnRE");
	ioremap_case(fd, &bar, 264 * SZ_1M, HPFN_TEST_CACHE_WC, "ioremap_wc", "MEM/NORMAL-NC");
#else
	ioremap_case(fd, &bar, 256 * SZ_1M, HPFN_TEST_CACHE_UC_MINUS, "ioremap", "UC-");
	ioremap_case(fd, &bar, 264 * SZ_1M, HPFN_TEST_CACHE_WC, "ioremap_wc", "WC");
#endif
	close(fd);
	check_linear_map();
	return tap_exit();
}
