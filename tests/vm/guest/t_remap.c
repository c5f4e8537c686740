// SPDX-License-Identifier: GPL-2.0
/*
 * remap_pfn_range() at PMD and PUD level: which mappings get 2 MiB and
 * 1 GiB leaves, and that split (mprotect, partial munmap; a 1 GiB leaf
 * into 2 MiB ones, those into 4 KiB ones), fork/clone, mremap, unmap and
 * failure paths keep the data, the permissions and the cache mode, and
 * leak no page tables. Mappings come from the test module (/dev/hpfn_test, which
 * remaps the big ivshmem BAR or the memmap= carveout) and from the BAR's
 * sysfs resource2/resource2_wc files.
 *
 * On a kernel without the series (hpfn.features lacks remap-pmd) the same
 * checks run with 4 KiB expectations and no split counts.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "align.h"
#include "guest.h"
#include "hpfn_test.h"
#include "tap.h"

#define MAX_RUNS 2048
#define SZ_1M 0x100000ULL

static struct hpfn_pt_run runs[MAX_RUNS];
static struct guest_bar bar;
static enum hpfn_pt_level huge;	/* what an eligible 2 MiB block gets */
static enum hpfn_pt_level huge1g;	/* what an eligible 1 GiB block gets */
static int pmd_remap;			/* the kernel has the series */
static int pud_remap;			/* ... with PUD leaves */

/* Map @len bytes of @fd at offset @off, congruent to @phys mod 2 MiB (+@skew). */
static uint8_t *map_at(int fd, uint64_t off, uint64_t len, uint64_t phys, uint64_t skew)
{
	void *p = hpfn_mmap_congruent(fd, off, len, PROT_READ | PROT_WRITE, MAP_SHARED,
				      phys + skew, SZ_2M);

	return p == MAP_FAILED ? NULL : p;
}

static uint64_t pattern(uint64_t off, uint64_t seed)
{
	return (off * 0x9e3779b97f4a7c15ULL) ^ seed;
}

/* One word per 4 KiB page: enough to catch a wrong PFN, cheap under TCG. */
static void fill(uint8_t *p, uint64_t len, uint64_t base_off, uint64_t seed)
{
	for (uint64_t o = 0; o < len; o += SZ_4K)
		*(volatile uint64_t *)(p + o) = pattern(base_off + o, seed);
}

static int check(const uint8_t *p, uint64_t len, uint64_t base_off, uint64_t seed)
{
	for (uint64_t o = 0; o < len; o += SZ_4K)
		if (*(volatile const uint64_t *)(p + o) != pattern(base_off + o, seed))
			return 0;
	return 1;
}

static int levels(const char *what, void *p, uint64_t len)
{
	int n = guest_levels(what, (uintptr_t)p, len, runs, MAX_RUNS);

	if (n < 0)
		tap_check(0, "%s: read the levels: %s", what, strerror(-n));
	return n;
}

static int is_level(const char *what, void *p, uint64_t len, enum hpfn_pt_level want,
		    unsigned int set, unsigned int clear)
{
	int n = levels(what, p, len);
	int ok = n > 0 && guest_all_level(runs, n, want) && guest_all_flags(runs, n, set, clear);

	if (!ok && n > 0)
		guest_print_runs(runs, n);
	return ok;
}

#define UCM (HPFN_PTF_PRESENT | HPFN_PTF_USER | HPFN_PTF_RW | HPFN_PTF_PCD)
#define WC (HPFN_PTF_PRESENT | HPFN_PTF_USER | HPFN_PTF_RW | HPFN_PTF_PWT)
#define WB (HPFN_PTF_PRESENT | HPFN_PTF_USER | HPFN_PTF_RW)

/* A second view of BAR memory through sysfs, 4 KiB-mapped on every kernel. */
static uint8_t *view(uint64_t off, uint64_t len)
{
	int fd = open(bar.path, O_RDWR | O_CLOEXEC);
	uint8_t *p;

	if (fd < 0)
		return NULL;
	p = map_at(fd, off, len, bar.phys + off, SZ_4K);
	close(fd);
	return p;
}

static void test_eligibility(int fd, int fd_wc, int fd_fault, int fd_carve, uint64_t carve)
{
	uint8_t *p;

	p = map_at(fd, 0, 8 * SZ_1M, bar.phys, 0);
	if (tap_check(p != NULL, "BAR 8 MiB at a congruent address mapped")) {
		tap_check(is_level("aligned UC-", p, 8 * SZ_1M, huge, UCM, HPFN_PTF_PAT | HPFN_PTF_PWT),
			  "aligned 8 MiB UC- mapping: all %s, USR RW PCD, no PAT", hpfn_pt_level_name(huge));
		fill(p, 8 * SZ_1M, 0, 1);
		tap_check(check(p, 8 * SZ_1M, 0, 1), "data written reads back");
		munmap(p, 8 * SZ_1M);
	}
	/*
	 * Write-combining on a range no earlier test split: after a partial
	 * munmap or mprotect (t_bench's mprotects cover the first 128 MiB)
	 * x86 PAT keeps a range UC- (README, "Known 6.12 behaviour").
	 */
	p = map_at(fd_wc, 640 * SZ_1M, 4 * SZ_1M, bar.phys + 640 * SZ_1M, 0);
	if (tap_check(p != NULL, "BAR 4 MiB write-combining mapped")) {
		tap_check(is_level("aligned WC", p, 4 * SZ_1M, huge, WC, HPFN_PTF_PAT | HPFN_PTF_PCD),
			  "aligned 4 MiB WC mapping: all %s, PWT, no PCD/PAT", hpfn_pt_level_name(huge));
		munmap(p, 4 * SZ_1M);
	}
	p = map_at(fd, 0, 4 * SZ_1M, bar.phys, SZ_4K);
	if (tap_check(p != NULL, "misaligned VA mapped")) {
		tap_check(is_level("misaligned VA", p, 4 * SZ_1M, HPFN_PT_PTE, UCM, 0),
			  "VA not congruent to the PFN: all pte");
		munmap(p, 4 * SZ_1M);
	}
	p = map_at(fd, SZ_4K, 4 * SZ_1M, bar.phys, 0);
	if (tap_check(p != NULL, "misaligned PFN mapped")) {
		tap_check(is_level("misaligned PFN", p, 4 * SZ_1M, HPFN_PT_PTE, UCM, 0),
			  "2 MiB-aligned VA, PFN 4 KiB past alignment: all pte");
		munmap(p, 4 * SZ_1M);
	}
	p = map_at(fd, 0, SZ_1M, bar.phys, 0);
	if (tap_check(p != NULL, "1 MiB mapped")) {
		tap_check(is_level("1 MiB", p, SZ_1M, HPFN_PT_PTE, UCM, 0),
			  "a mapping under 2 MiB: all pte");
		munmap(p, SZ_1M);
	}
	p = map_at(fd, SZ_1M, 6 * SZ_1M, bar.phys, SZ_1M);
	if (tap_check(p != NULL, "6 MiB from 1 MiB into a block mapped")) {
		int n = levels("head/body/tail", p, 6 * SZ_1M);
		enum hpfn_pt_level body = huge;

		tap_check(n == (pmd_remap ? 3 : 1) &&
			  runs[0].level == HPFN_PT_PTE && runs[0].end - runs[0].start == (pmd_remap ? SZ_1M : 6 * SZ_1M) &&
			  (!pmd_remap || (runs[1].level == body && runs[1].end - runs[1].start == 4 * SZ_1M &&
					 runs[2].level == HPFN_PT_PTE && runs[2].end - runs[2].start == SZ_1M)),
			  "unaligned start: %s", pmd_remap ? "1 MiB pte, 4 MiB pmd, 1 MiB pte" : "all pte");
		if (n > 0 && n != (pmd_remap ? 3 : 1))
			guest_print_runs(runs, n);
		munmap(p, 6 * SZ_1M);
	}
	p = map_at(fd_fault, 0, 4 * SZ_1M, bar.phys, 0);
	if (tap_check(p != NULL, "VMA with a fault handler mapped")) {
		tap_check(is_level("fault handler", p, 4 * SZ_1M, HPFN_PT_PTE, UCM, 0),
			  "aligned mapping in a VMA with ->fault: all pte");
		munmap(p, 4 * SZ_1M);
	}
	p = map_at(fd_carve, 0, 8 * SZ_1M, carve, 0);
	if (tap_check(p != NULL, "carveout 8 MiB write-back mapped")) {
		tap_check(is_level("carveout WB", p, 8 * SZ_1M, huge, WB, HPFN_PTF_PCD | HPFN_PTF_PWT | HPFN_PTF_PAT),
			  "aligned carveout WB: all %s, no cache bits", hpfn_pt_level_name(huge));
		fill(p, 8 * SZ_1M, 0, 2);
		tap_check(check(p, 8 * SZ_1M, 0, 2), "carveout data reads back");
		munmap(p, 8 * SZ_1M);
	}
}

/*
 * A VMA without vm_ops is anonymous to vma_is_anonymous(), whose split and
 * write-fault paths would take a special leaf's PFN for a folio: the series
 * maps it with PTEs, which then split, fork and unmap as PTEs do.
 */
static void test_no_vm_ops(void)
{
	int fd = guest_remap_open(bar.phys, bar.size, HPFN_TEST_CACHE_UC_MINUS, HPFN_TEST_NO_VM_OPS);
	uint8_t *p = fd >= 0 ? map_at(fd, 32 * SZ_1M, 4 * SZ_1M, bar.phys + 32 * SZ_1M, 0) : NULL;
	pid_t pid;
	int status;

	if (!tap_check(p != NULL, "no vm_ops: 4 MiB mapped at a congruent address")) {
		if (fd >= 0)
			close(fd);
		return;
	}
	tap_check(is_level("no vm_ops", p, 4 * SZ_1M, HPFN_PT_PTE, UCM, 0), "no vm_ops: all pte");
	fill(p, 4 * SZ_1M, 32 * SZ_1M, 3);
	tap_check(mprotect(p + SZ_2M + SZ_4K, SZ_4K, PROT_READ) == 0 &&
		  guest_write_faults((uint64_t *)(p + SZ_2M + SZ_4K), 1) &&
		  !guest_write_faults((uint64_t *)(p + SZ_2M), pattern(32 * SZ_1M + SZ_2M, 3)),
		  "no vm_ops: a 4 KiB mprotect makes that page read-only, its neighbour stays writable");
	pid = fork();
	if (pid == 0)
		_exit(check(p, 4 * SZ_1M, 32 * SZ_1M, 3) ? 0 : 1);
	tap_check(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
		  check(p, 4 * SZ_1M, 32 * SZ_1M, 3),
		  "no vm_ops: a child reads the data, and so does the parent after it");
	munmap(p, 4 * SZ_1M);
	close(fd);
}

/* [p, p + 2M) is all pte, [p + 2M, p + 4M) all @huge, no run straddles. */
static int split_shape_ok(uint8_t *p, int n)
{
	uint64_t base = (uintptr_t)p;
	int i;

	if (n <= 0 || runs[0].start != base || runs[n - 1].end != base + 4 * SZ_1M)
		return 0;
	if (huge == HPFN_PT_PTE)	/* no series: 4 KiB before and after */
		return guest_all_level(runs, n, HPFN_PT_PTE);
	for (i = 0; i < n; i++) {
		int first = runs[i].start - base < SZ_2M;

		if (runs[i].level != (first ? HPFN_PT_PTE : huge) ||
		    first != (runs[i].end - base <= SZ_2M))
			return 0;
	}
	return 1;
}

static void test_mprotect_split(int fd, uint64_t off, const char *mode, unsigned int flags,
				unsigned int clear)
{
	uint64_t len = 4 * SZ_1M;
	long long before = guest_vmstat("thp_split_pmd");
	uint8_t *p = map_at(fd, off, len, bar.phys + off, 0), *v;
	char what[64];
	int n, ro_ok, rw_ok;

	snprintf(what, sizeof(what), "%s 4 KiB mprotect", mode);
	if (!tap_check(p != NULL, "%s: mapped", what))
		return;
	fill(p, len, off, 3);
	tap_check(mprotect(p + SZ_1M, SZ_4K, PROT_READ) == 0, "%s: mprotect(PROT_READ) of one page", what);
	if (pmd_remap)
		tap_check(guest_vmstat("thp_split_pmd") == before + 1,
			  "%s: thp_split_pmd rose by exactly 1 (%lld -> %lld)", what, before,
			  guest_vmstat("thp_split_pmd"));
	n = levels(what, p, len);
	tap_check(split_shape_ok(p, n), "%s: the split 2 MiB is pte, the other stays %s", what,
		  hpfn_pt_level_name(huge));
	ro_ok = 1;
	for (int i = 0; i < n; i++) {
		int is_ro = runs[i].start == (uintptr_t)p + SZ_1M;
		unsigned int want = is_ro ? (flags & ~HPFN_PTF_RW) : flags;

		if (runs[i].flags != want || (runs[i].flags & clear))
			ro_ok = 0;
		if (is_ro && runs[i].end - runs[i].start != SZ_4K)
			ro_ok = 0;
	}
	tap_check(ro_ok, "%s: one read-only page, every other writable, cache bits unchanged, no PAT", what);
	if (!ro_ok)
		guest_print_runs(runs, n);
	tap_check(guest_write_faults((uint64_t *)(p + SZ_1M), 1), "%s: a write to the read-only page faults", what);
	rw_ok = !guest_write_faults((uint64_t *)(p + SZ_1M + SZ_4K), pattern(off + SZ_1M + SZ_4K, 3)) &&
		!guest_write_faults((uint64_t *)(p + SZ_1M - SZ_4K), pattern(off + SZ_1M - SZ_4K, 3));
	tap_check(rw_ok, "%s: its neighbours stay writable", what);
	tap_check(check(p, len, off, 3), "%s: every page still holds its data", what);
	v = view(off, len);
	tap_check(v && check(v, len, off, 3), "%s: the data reads back identically through a second (sysfs) mapping", what);
	if (v)
		munmap(v, len);
	tap_check(mprotect(p + SZ_1M, SZ_4K, PROT_READ | PROT_WRITE) == 0 &&
		  !guest_write_faults((uint64_t *)(p + SZ_1M), pattern(off + SZ_1M, 3)),
		  "%s: writable again after mprotect back", what);
	munmap(p, len);
}

static void test_partial_munmap(int fd, uint64_t off)
{
	uint64_t len = 4 * SZ_1M;
	long long before = guest_vmstat("thp_split_pmd");
	uint8_t *p = map_at(fd, off, len, bar.phys + off, 0);
	int n;

	if (!tap_check(p != NULL, "partial munmap: mapped"))
		return;
	fill(p, len, off, 4);
	tap_check(munmap(p + SZ_1M, SZ_4K) == 0, "partial munmap: unmap one page inside a block");
	if (pmd_remap)
		tap_check(guest_vmstat("thp_split_pmd") == before + 1, "partial munmap: one PMD split");
	n = levels("partial munmap", p, SZ_1M);
	tap_check(n > 0 && guest_all_level(runs, n, HPFN_PT_PTE), "partial munmap: the pages before the hole are pte");
	tap_check(guest_read_faults((uint64_t *)(p + SZ_1M)), "partial munmap: the hole faults");
	tap_check(check(p, SZ_1M, off, 4) && check(p + SZ_1M + SZ_4K, len - SZ_1M - SZ_4K, off + SZ_1M + SZ_4K, 4),
		  "partial munmap: the remaining pages hold their data");
	munmap(p, SZ_1M);
	munmap(p + SZ_1M + SZ_4K, len - SZ_1M - SZ_4K);
}

/* Fork with the child reading and writing; the child may split its copy. */
static void test_fork(int fd, uint64_t off, const char *mode, unsigned int flags, int use_clone)
{
	uint64_t len = 4 * SZ_1M;
	uint8_t *p = map_at(fd, off, len, bar.phys + off, 0);
	char what[64];
	pid_t pid;
	int status;

	snprintf(what, sizeof(what), "%s %s", use_clone ? "clone" : "fork", mode);
	if (!tap_check(p != NULL, "%s: mapped", what))
		return;
	fill(p, len, off, 5);
	pid = use_clone ? (pid_t)syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0) : fork();
	if (pid == 0) {
		int ok = check(p, len, off, 5);

		fill(p + SZ_2M, SZ_2M, off + SZ_2M, 6);
		/* split the child's first block only */
		ok &= mprotect(p + SZ_4K, SZ_4K, PROT_READ) == 0;
		ok &= guest_module_levels((uintptr_t)p, SZ_2M, runs, MAX_RUNS) > 0 &&
		      runs[0].level == HPFN_PT_PTE;
		ok &= guest_write_faults((uint64_t *)(p + SZ_4K), 0);
		_exit(ok ? 0 : 1);
	}
	if (!tap_check(pid > 0, "%s: child created: %s", what, pid > 0 ? "yes" : strerror(errno)))
		return (void)munmap(p, len);
	tap_check(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "%s: the child read the data, wrote, split its copy and saw the protection (status 0x%x)",
		  what, status);
	tap_check(check(p + SZ_2M, SZ_2M, off + SZ_2M, 6) && check(p, SZ_2M, off, 5),
		  "%s: the parent sees the child's writes", what);
	tap_check(is_level(what, p, len, huge, flags, HPFN_PTF_PAT),
		  "%s: the child's split left the parent's mapping %s", what, hpfn_pt_level_name(huge));
	munmap(p, len);
}

/* The parent unmaps and exits first; the child keeps using the mapping. */
static void test_parent_exits_first(int fd, uint64_t off)
{
	uint64_t len = 4 * SZ_1M;
	int gone[2], result[2], status;
	char r = 0;
	pid_t mid;

	if (pipe(gone) || pipe(result))
		return (void)tap_check(0, "parent exits first: pipes");
	mid = fork();
	if (mid == 0) {
		uint8_t *p = map_at(fd, off, len, bar.phys + off, 0);
		pid_t child;

		if (!p)
			_exit(1);
		fill(p, len, off, 7);
		child = fork();
		if (child == 0) {
			char c, ok;

			close(gone[1]);
			/* EOF once the middle process has exited */
			while (read(gone[0], &c, 1) > 0)
				;
			ok = check(p, len, off, 7) ? 'y' : 'n';
			fill(p, len, off, 8);
			ok = (ok == 'y' && check(p, len, off, 8)) ? 'y' : 'n';
			munmap(p, len);
			if (write(result[1], &ok, 1) != 1)
				_exit(1);
			_exit(0);
		}
		munmap(p, len);
		_exit(child > 0 ? 0 : 1);
	}
	close(gone[0]);
	close(gone[1]);
	close(result[1]);
	tap_check(waitpid(mid, &status, 0) == mid && WIFEXITED(status) && !WEXITSTATUS(status),
		  "parent exits first: the mapping process forked and exited");
	tap_check(read(result[0], &r, 1) == 1 && r == 'y',
		  "parent exits first: the orphaned child still reads and writes the mapping");
	close(result[0]);
}

static int clone_fn(void *arg)
{
	uint64_t *w = arg;

	*w = 0xc10e;
	return 0;
}

static void test_clone_vm(int fd, uint64_t off)
{
	static char stack[64 * 1024] __attribute__((aligned(16)));
	uint8_t *p = map_at(fd, off, SZ_2M, bar.phys + off, 0);
	int status;
	pid_t pid;

	if (!tap_check(p != NULL, "clone(CLONE_VM): mapped"))
		return;
	*(volatile uint64_t *)p = 0;
	pid = clone(clone_fn, stack + sizeof(stack), CLONE_VM | SIGCHLD, p);
	tap_check(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
		  *(volatile uint64_t *)p == 0xc10e,
		  "clone(CLONE_VM): a thread-like child wrote through the shared mapping");
	munmap(p, SZ_2M);
}

static void test_mremap(int fd, uint64_t off)
{
	uint64_t len = 4 * SZ_1M;
	uint8_t *p = map_at(fd, off, len, bar.phys + off, 0), *dst, *resv, *q;
	long long before;

	if (!tap_check(p != NULL, "mremap: mapped"))
		return;
	fill(p, len, off, 9);
	/* a 2 MiB-aligned destination in another 1 GiB region (another PMD table) */
	resv = mmap(NULL, 3 * SZ_1G, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (!tap_check(resv != MAP_FAILED, "mremap: reserved a destination"))
		return (void)munmap(p, len);
	dst = (uint8_t *)(((uintptr_t)resv + SZ_1G + SZ_1G - 1) & ~(SZ_1G - 1));
	if (((uintptr_t)dst ^ (uintptr_t)p) < SZ_1G)
		dst += SZ_1G;
	dst += 4 * SZ_2M;
	q = mremap(p, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
	tap_check(q == dst, "mremap: whole range moved to a 2 MiB-aligned address in another 1 GiB");
	if (q == dst) {
		tap_check(is_level("mremap whole", q, len, huge, UCM, HPFN_PTF_PAT),
			  "mremap: the moved range is still %s", hpfn_pt_level_name(huge));
		tap_check(check(q, len, off, 9), "mremap: data intact after the move");
		tap_check(guest_read_faults((uint64_t *)p), "mremap: the old address is gone");
		before = guest_vmstat("thp_split_pmd");
		/* move 1 MiB out of the middle of the second block: a split */
		p = mremap(q + SZ_2M + SZ_1M, SZ_1M, SZ_1M, MREMAP_MAYMOVE | MREMAP_FIXED,
			   q + 12 * SZ_2M);
		tap_check(p == q + 12 * SZ_2M, "mremap: a partial range moved");
		if (pmd_remap)
			tap_check(guest_vmstat("thp_split_pmd") == before + 1, "mremap partial: one PMD split");
		tap_check(p != MAP_FAILED && check(p, SZ_1M, off + 3 * SZ_1M, 9) &&
			  check(q, 3 * SZ_1M, off, 9), "mremap partial: data intact at both places");
		tap_check(is_level("mremap partial", q, SZ_2M, huge, UCM, HPFN_PTF_PAT),
			  "mremap partial: the first block is untouched");
	}
	munmap(resv, 3 * SZ_1G);
}

static void test_proc_mem(int fd, uint64_t off)
{
	uint8_t *p = map_at(fd, off, SZ_2M, bar.phys + off, 0);
	uint64_t val = 0;
	int mem;

	if (!tap_check(p != NULL, "/proc/self/mem: mapped"))
		return;
	*(volatile uint64_t *)(p + 8192) = 0xfeedf00d;
	mem = open("/proc/self/mem", O_RDONLY | O_CLOEXEC);
	tap_check(mem >= 0 && pread(mem, &val, 8, (off_t)(uintptr_t)(p + 8192)) == 8 && val == 0xfeedf00d,
		  "/proc/self/mem reads the mapping through generic_access_phys() (0x%" PRIx64 ")", val);
	if (mem >= 0)
		close(mem);
	munmap(p, SZ_2M);
}


/* smaps, ptrace peeks and a core dump walk or read the PMD-mapped VMA. */
static void test_walkers(int fd, uint64_t off)
{
	uint8_t *p = map_at(fd, off, 4 * SZ_1M, bar.phys + off, 0);
	char line[256], core[64];
	int found = 0, status;
	struct stat st;
	FILE *f;
	pid_t pid;

	if (!tap_check(p != NULL, "walkers: mapped"))
		return;
	fill(p, 4 * SZ_1M, off, 11);
	f = fopen("/proc/self/smaps", "re");
	while (f && fgets(line, sizeof(line), f)) {
		unsigned long start, end;

		if (sscanf(line, "%lx-%lx ", &start, &end) == 2)
			found = start == (uintptr_t)p;
		else if (found && !strncmp(line, "VmFlags:", 8))
			found = strstr(line, " pf") != NULL ? 2 : 0;
		if (found == 2)
			break;
	}
	if (f)
		fclose(f);
	tap_check(found == 2, "walkers: /proc/self/smaps lists the mapping as a PFN map (VmFlags pf)");

	/* ptrace: the parent peeks a word of the child's mapping */
	pid = fork();
	if (pid == 0) {
		ptrace(PTRACE_TRACEME, 0, NULL, NULL);
		raise(SIGSTOP);
		_exit(0);
	}
	if (pid > 0 && waitpid(pid, &status, 0) == pid && WIFSTOPPED(status)) {
		long word;

		errno = 0;
		word = ptrace(PTRACE_PEEKDATA, pid, p + SZ_2M + SZ_4K, NULL);
		tap_check(errno == 0 && (uint64_t)word == pattern(off + SZ_2M + SZ_4K, 11),
			  "walkers: PTRACE_PEEKDATA reads the child's PMD-mapped word");
		ptrace(PTRACE_CONT, pid, NULL, NULL);
		waitpid(pid, &status, 0);
	} else {
		tap_check(0, "walkers: a traced child stopped");
	}

	/* a core dump of a process holding the mapping (VM_DONTDUMP skips it) */
	if (guest_write_file("/proc/sys/kernel/core_pattern", "/tmp/core.%p")) {
		tap_check(0, "walkers: set core_pattern");
	} else {
		pid = fork();
		if (pid == 0) {
			struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };

			setrlimit(RLIMIT_CORE, &rl);
			prctl(PR_SET_DUMPABLE, 1);
			*(volatile uint64_t *)(p + SZ_2M) = 1;
			abort();
		}
		snprintf(core, sizeof(core), "/tmp/core.%d", pid);
		tap_check(pid > 0 && waitpid(pid, &status, 0) == pid && WIFSIGNALED(status) &&
			  WCOREDUMP(status) && stat(core, &st) == 0 && st.st_size > 0,
			  "walkers: a process with the mapping dumps core (%s)", core);
		unlink(core);
	}
	munmap(p, 4 * SZ_1M);
}

static void test_leaks(int fd, uint64_t off)
{
	long long base, after, pte_base, pte_after;
	int ok = 1, i;
	uint8_t *p;

	p = map_at(fd, off, 4 * SZ_1M, bar.phys + off, 0);	/* warm up */
	if (p)
		munmap(p, 4 * SZ_1M);
	base = guest_page_tables_kb();
	pte_base = guest_vmpte_kb();
	for (i = 0; i < 10000 && ok; i++) {
		p = map_at(fd, off, 4 * SZ_1M, bar.phys + off, 0);
		ok = p != NULL;
		if (ok) {
			*(volatile uint64_t *)(p + 3 * SZ_1M) = i;
			munmap(p, 4 * SZ_1M);
		}
	}
	after = guest_page_tables_settled_kb(base);
	pte_after = guest_vmpte_kb();
	/*
	 * VmPTE counts this mm's page tables, deposited ones included, and
	 * must come back exactly. PageTables is system-wide: other tables
	 * freed meanwhile may lower it, a leak of table pages raises it.
	 */
	tap_check(ok && after <= base && pte_after == pte_base,
		  "10000 map/unmap cycles: VmPTE %lld kB -> %lld kB, PageTables %lld kB -> %lld kB",
		  pte_base, pte_after, base, after);

	p = map_at(fd, off, 4 * SZ_1M, bar.phys + off, 0);
	if (!tap_check(p != NULL, "fork cycles: mapped"))
		return;
	base = guest_page_tables_kb();
	for (i = 0; i < 1000 && ok; i++) {
		pid_t pid = fork();
		int status;

		if (pid == 0) {
			*(volatile uint64_t *)(p + SZ_2M) = i;
			_exit(0);
		}
		ok = pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status);
	}
	after = guest_page_tables_settled_kb(base);
	tap_check(ok && after <= base + guest_page_tables_slack_kb(), "1000 fork cycles: PageTables %lld kB -> %lld kB", base, after);
	munmap(p, 4 * SZ_1M);
}


/*
 * Does the kernel log, after the line containing @marker, contain @what
 * and no PTE-table allocation (__pte_alloc: the PTE path's, not ours)?
 */
static int kmsg_after_has(const char *marker, const char *what)
{
	char cmd[256];
	int st;

	snprintf(cmd, sizeof(cmd),
		 "dmesg | sed -n '/%s/,$p' > /tmp/kmsg && grep -q '%s' /tmp/kmsg && ! grep -q __pte_alloc /tmp/kmsg",
		 marker, what);
	st = system(cmd);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* fail_page_alloc's times: 0 once the one failure armed was injected. */
static long fail_page_alloc_times(const char *path)
{
	FILE *f = fopen(path, "re");
	long v = -1;

	if (f && fscanf(f, "%ld", &v) != 1)
		v = -1;
	if (f)
		fclose(f);
	return v;
}

/* The deposit allocation fails: the mapping must still work, with PTEs. */
static void test_alloc_failure(int fd, uint64_t off)
{
	const char *d = "/sys/kernel/debug/fail_page_alloc";
	char path[128];
	uint8_t *resv, *anchor, *p = MAP_FAILED;
	int tt = 0, tf = 0, map_errno = 0, injected = 0, attempt, hit = 0;

	/*
	 * Keep an anonymous page in the same 1 GiB so the PMD table exists:
	 * the first page allocation of the remap is then the deposit.
	 */
	if (access(d, F_OK)) {
		/* The stock kernel is built without CONFIG_FAIL_PAGE_ALLOC. */
		if (pmd_remap)
			tap_check(0, "allocation failure: %s exists", d);
		else
			tap_skip("allocation failure: %s kernel has no %s", guest_kernel_kind(), d);
		return;
	}
	/*
	 * Without remap PMD leaves (a prefix of the series) there is no
	 * deposit to fail, and a failure injected into the PTE path makes
	 * remap_pfn_range() fail, which 6.12 answers with a WARN in
	 * get_pat_info() (its cleanup zap untracks PAT over unmapped pages).
	 */
	if (!pmd_remap) {
		tap_diag("allocation failure: no remap PMD leaves on this kernel, no deposit to fail");
		return;
	}
	resv = mmap(NULL, 4 * SZ_2M, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (!tap_check(resv != MAP_FAILED, "allocation failure: reserved address space"))
		return;
	/*
	 * [anchor, anchor + 4 MiB) must stay in one GiB (one PMD table):
	 * where the first 2 MiB boundary is the GiB's last, the next one
	 * starts a GiB, and the 8 MiB reserved cover both choices.
	 */
	anchor = (uint8_t *)(((uintptr_t)resv + SZ_2M - 1) & ~(SZ_2M - 1));
	if (((uintptr_t)anchor & (SZ_1G - 1)) > SZ_1G - 2 * SZ_2M)
		anchor += SZ_2M;
	munmap(resv, 4 * SZ_2M);
	anchor = mmap(anchor, SZ_4K, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (!tap_check(anchor != MAP_FAILED, "allocation failure: anchor page mapped"))
		return;
	*anchor = 1;
	if (!tap_check(guest_fail_page_alloc_setup() == 0, "allocation failure: fail_page_alloc configured"))
		return;
	/*
	 * Another allocation of the mmap path (a slab page for the VMA, say)
	 * may come first and take the injected failure; the failure's stack
	 * in the kernel log says which one failed, so try until it was the
	 * deposit of remap_pfn_range()'s PMD leaf.
	 */
	for (attempt = 1; attempt <= 20 && !hit; attempt++) {
		char marker[64];

		snprintf(marker, sizeof(marker), "hpfn-alloc-failure-attempt-%d", attempt);
		guest_write_file("/dev/kmsg", marker);
		snprintf(path, sizeof(path), "%s/times", d);
		tt = guest_write_file(path, "1");
		tf = guest_write_file("/proc/self/make-it-fail", "1");
		p = mmap(anchor + SZ_2M, SZ_2M, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, off);
		map_errno = p == MAP_FAILED ? errno : 0;
		guest_write_file("/proc/self/make-it-fail", "0");
		injected += fail_page_alloc_times(path) == 0;
		guest_write_file(path, "0");
		/* remap_try_pmd_leaf() is inlined: its pte_alloc_one() call sits
		 * in the remap walk, while the PTE path's goes through __pte_alloc */
		hit = tf == 0 && kmsg_after_has(marker, "pte_alloc_one");
		if (!hit && p != MAP_FAILED)
			munmap(p, SZ_2M);
	}
	if (!tap_check(hit, "allocation failure: the injected failure hit the deposit allocation "
		       "(attempt %d, %d failures injected; the last map: %s; times: %s; make-it-fail: %s)",
		       attempt - 1, injected, map_errno ? strerror(map_errno) : "mapped", tt ? strerror(-tt) : "set",
		       tf ? strerror(-tf) : "set"))
		return (void)munmap(anchor, SZ_4K);
	if (tap_check(p == anchor + SZ_2M, "allocation failure: the mapping still succeeded (%s)",
		      p == MAP_FAILED ? strerror(errno) : "mapped")) {
		tap_check(is_level("alloc failure", p, SZ_2M, HPFN_PT_PTE, UCM, 0),
			  "allocation failure: the block fell back to pte");
		*(volatile uint64_t *)p = 42;
		tap_check(*(volatile uint64_t *)p == 42, "allocation failure: the mapping works");
		munmap(p, SZ_2M);
	}
	munmap(anchor, SZ_4K);
}

struct stress {
	int fd;
	uint8_t *shared;	/* one 8 MiB mapping all threads use */
	uint64_t off;
	int id;
	volatile int *stop;
	int errors;
};

static void *stress_thread(void *arg)
{
	struct stress *s = arg;
	uint64_t mine = s->off + 8 * SZ_1M + (uint64_t)s->id * 4 * SZ_1M;
	unsigned int seed = s->id;

	while (!*s->stop) {
		/* readers everywhere, splits of a page of the shared mapping */
		uint64_t pg = (rand_r(&seed) % (8 * SZ_1M / SZ_4K)) * SZ_4K;
		uint8_t *own;

		(void)*(volatile uint64_t *)(s->shared + pg);
		if (s->id == 0) {
			mprotect(s->shared + pg, SZ_4K, PROT_READ);
			mprotect(s->shared + pg, SZ_4K, PROT_READ | PROT_WRITE);
		}
		/* a private mapping to split with a partial munmap */
		own = map_at(s->fd, mine, 4 * SZ_1M, bar.phys + mine, 0);
		if (!own) {
			s->errors++;
			continue;
		}
		fill(own, 4 * SZ_1M, mine, s->id);
		munmap(own + SZ_2M + SZ_4K * (rand_r(&seed) % 512), SZ_4K);
		if (!check(own, SZ_2M, mine, s->id))
			s->errors++;
		munmap(own, 4 * SZ_1M);
		if (s->id == 1) {
			pid_t pid = fork();
			int status;

			if (pid == 0)
				_exit(*(volatile uint64_t *)(s->shared + pg) == *(volatile uint64_t *)(s->shared + pg) ? 0 : 1);
			if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
				s->errors++;
		}
	}
	return NULL;
}

static void test_stress(int fd, uint64_t off)
{
	struct stress st[4];
	pthread_t th[4];
	volatile int stop = 0;
	uint8_t *shared = map_at(fd, off, 8 * SZ_1M, bar.phys + off, 0);
	struct timespec ts = { .tv_sec = 4 };
	int errors = 0, i;

	if (!tap_check(shared != NULL, "stress: shared mapping"))
		return;
	for (i = 0; i < 4; i++) {
		st[i] = (struct stress){ fd, shared, off, i, &stop, 0 };
		pthread_create(&th[i], NULL, stress_thread, &st[i]);
	}
	nanosleep(&ts, NULL);	/* the run length, not a synchronisation */
	stop = 1;
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		errors += st[i].errors;
	}
	tap_check(errors == 0, "stress: 4 threads doing mprotect, partial munmap, fork and access for 4 s: %d errors",
		  errors);
	munmap(shared, 8 * SZ_1M);
}


/*
 * ---- PUD level: the second GiB of the (2 GiB) BAR ----------------------
 *
 * Every mapping below covers [1 GiB, 2 GiB) of the BAR, at a virtual
 * address congruent to it modulo 1 GiB (or deliberately not).
 */
#define PUD_OFF SZ_1G

static uint8_t *map_1g(int fd, uint64_t off, uint64_t len, uint64_t skew)
{
	void *p = hpfn_mmap_congruent(fd, off, len, PROT_READ | PROT_WRITE, MAP_SHARED,
				      bar.phys + off + skew, SZ_1G);

	return p == MAP_FAILED ? NULL : p;
}

/*
 * One word per 2 MiB block, at a different place in each (by BAR offset,
 * so that any sub-range checks against a fill of a larger one): cheap
 * under TCG, and a wrong PFN shows.
 */
static uint64_t sparse_at(uint64_t bar_off)
{
	return (bar_off / SZ_2M % 512) * 8;
}

static void fill_sparse(uint8_t *p, uint64_t len, uint64_t base_off, uint64_t seed)
{
	for (uint64_t o = 0; o < len; o += SZ_2M)
		*(volatile uint64_t *)(p + o + sparse_at(base_off + o)) = pattern(base_off + o, seed);
}

static int check_sparse(const uint8_t *p, uint64_t len, uint64_t base_off, uint64_t seed)
{
	for (uint64_t o = 0; o < len; o += SZ_2M)
		if (*(volatile const uint64_t *)(p + o + sparse_at(base_off + o)) != pattern(base_off + o, seed))
			return 0;
	return 1;
}

/* The runs are, in order, @n pieces of (level, length). */
static int shape_is(void *p, uint64_t len, int n, const enum hpfn_pt_level *lv, const uint64_t *sz)
{
	int got = levels("shape", p, len), i, j = 0;
	uint64_t at = (uintptr_t)p;

	/* merge adjacent runs of one level: the walker reports per table */
	for (i = 0; i < got; i++) {
		if (j && runs[j - 1].level == runs[i].level && runs[j - 1].end == runs[i].start)
			runs[j - 1].end = runs[i].end;
		else
			runs[j++] = runs[i];
	}
	if (j != n)
		goto bad;
	for (i = 0; i < n; i++) {
		if (runs[i].level != lv[i] || runs[i].start != at || runs[i].end - runs[i].start != sz[i])
			goto bad;
		at += sz[i];
	}
	return 1;
bad:
	guest_print_runs(runs, j);
	return 0;
}

static void test_pud_eligibility(int fd, int fd_wc)
{
	uint8_t *p;

	/* write-combining first: no partial unmap has touched this range yet (PAT) */
	p = map_1g(fd_wc, PUD_OFF, SZ_1G, 0);
	if (tap_check(p != NULL, "1 GiB WC mapped at a 1 GiB-congruent address")) {
		tap_check(is_level("1G WC", p, SZ_1G, huge1g, WC, HPFN_PTF_PAT | HPFN_PTF_PCD),
			  "aligned 1 GiB WC: all %s, PWT, no PCD/PAT", hpfn_pt_level_name(huge1g));
		munmap(p, SZ_1G);
	}
	p = map_1g(fd, PUD_OFF, SZ_1G, 0);
	if (tap_check(p != NULL, "1 GiB UC- mapped at a 1 GiB-congruent address")) {
		tap_check(is_level("1G UC-", p, SZ_1G, huge1g, UCM, HPFN_PTF_PAT | HPFN_PTF_PWT),
			  "aligned 1 GiB UC-: all %s, PCD, no PWT/PAT", hpfn_pt_level_name(huge1g));
		fill_sparse(p, SZ_1G, PUD_OFF, 21);
		tap_check(check_sparse(p, SZ_1G, PUD_OFF, 21), "1 GiB: data written reads back");
		munmap(p, SZ_1G);
	}
	p = map_1g(fd, PUD_OFF, SZ_1G, SZ_2M);
	if (tap_check(p != NULL, "1 GiB at an address congruent modulo 2 MiB only")) {
		tap_check(is_level("1G at 2M", p, SZ_1G, huge, UCM, 0),
			  "1 GiB not 1 GiB-congruent: all %s", hpfn_pt_level_name(huge));
		tap_check(check_sparse(p, SZ_1G, PUD_OFF, 21), "1 GiB at 2 MiB congruence: same data");
		munmap(p, SZ_1G);
	}
	/* 4 MiB before the GiB, then the GiB: pmd pmd, then one pud */
	p = map_1g(fd, PUD_OFF - 4 * SZ_1M, SZ_1G + 4 * SZ_1M, 0);
	if (tap_check(p != NULL, "4 MiB + 1 GiB mapped")) {
		enum hpfn_pt_level lv[2] = { huge, huge1g };
		uint64_t sz[2] = { 4 * SZ_1M, SZ_1G };

		tap_check(huge1g == huge ? is_level("4M+1G", p, SZ_1G + 4 * SZ_1M, huge, UCM, 0) :
			  shape_is(p, SZ_1G + 4 * SZ_1M, 2, lv, sz),
			  "4 MiB then a 1 GiB block: %s", pud_remap ? "4 MiB pmd, 1 GiB pud" :
			  hpfn_pt_level_name(huge));
		munmap(p, SZ_1G + 4 * SZ_1M);
	}
}

static void test_pud_mprotect(int fd)
{
	long long pud0 = guest_vmstat("thp_split_pud"), pmd0 = guest_vmstat("thp_split_pmd");
	uint8_t *p = map_1g(fd, PUD_OFF, SZ_1G, 0), *hole, *v;
	enum hpfn_pt_level lv[3] = { huge, HPFN_PT_PTE, huge };
	uint64_t sz[3] = { 4 * SZ_1M, SZ_2M, SZ_1G - 6 * SZ_1M };
	int n, ok;

	if (!tap_check(p != NULL, "1 GiB 4 KiB mprotect: mapped"))
		return;
	fill(p + 4 * SZ_1M, SZ_2M, PUD_OFF + 4 * SZ_1M, 22);
	fill_sparse(p, SZ_1G, PUD_OFF, 23);
	hole = p + 4 * SZ_1M + SZ_4K;
	tap_check(mprotect(hole, SZ_4K, PROT_READ) == 0, "1 GiB 4 KiB mprotect: mprotect(PROT_READ) of one page");
	if (pud_remap)
		tap_check(guest_vmstat("thp_split_pud") == pud0 + 1 && guest_vmstat("thp_split_pmd") == pmd0 + 1,
			  "1 GiB 4 KiB mprotect: one PUD split into PMDs, one of those into PTEs");
	if (huge1g != HPFN_PT_PTE)
		tap_check(shape_is(p, SZ_1G, 3, lv, sz), "1 GiB 4 KiB mprotect: 4 MiB pmd, 2 MiB pte, the rest pmd");
	n = levels("1G mprotect", p, SZ_1G);
	ok = n > 0;
	for (int i = 0; i < n; i++) {
		int is_ro = runs[i].start == (uintptr_t)hole;

		if (runs[i].flags != (is_ro ? UCM & ~HPFN_PTF_RW : UCM) ||
		    (is_ro && runs[i].end - runs[i].start != SZ_4K))
			ok = 0;
	}
	tap_check(ok, "1 GiB 4 KiB mprotect: one read-only page, the rest writable, PCD everywhere");
	tap_check(guest_write_faults((uint64_t *)hole, 1) &&
		  !guest_write_faults((uint64_t *)(hole + SZ_4K), pattern(PUD_OFF + 4 * SZ_1M + 2 * SZ_4K, 22)),
		  "1 GiB 4 KiB mprotect: the page faults on write, its neighbour does not");
	tap_check(check(p + 4 * SZ_1M, SZ_2M, PUD_OFF + 4 * SZ_1M, 22) && check_sparse(p, SZ_1G, PUD_OFF, 23),
		  "1 GiB 4 KiB mprotect: the data is where it was");
	v = view(PUD_OFF + 4 * SZ_1M, SZ_2M);
	tap_check(v && check(v, SZ_2M, PUD_OFF + 4 * SZ_1M, 22),
		  "1 GiB 4 KiB mprotect: the same data through a second (sysfs) mapping");
	if (v)
		munmap(v, SZ_2M);
	munmap(p, SZ_1G);

	/* a whole-GiB mprotect changes the leaf in place */
	p = map_1g(fd, PUD_OFF, SZ_1G, 0);
	if (tap_check(p != NULL, "1 GiB whole mprotect: mapped")) {
		pud0 = guest_vmstat("thp_split_pud");
		tap_check(mprotect(p, SZ_1G, PROT_READ) == 0 && guest_vmstat("thp_split_pud") == pud0 &&
			  is_level("1G RO", p, SZ_1G, huge1g, UCM & ~HPFN_PTF_RW, HPFN_PTF_RW | HPFN_PTF_PAT) &&
			  guest_write_faults((uint64_t *)(p + SZ_2M), 1),
			  "1 GiB whole mprotect(PROT_READ): still %s, read-only, PCD kept, no split",
			  hpfn_pt_level_name(huge1g));
		/*
		 * x86 has no PROT_NONE PUD leaf (pud_present() would not see
		 * it): PROT_NONE splits the GiB into PMD leaves, which have one.
		 */
		pud0 = guest_vmstat("thp_split_pud");
		tap_check(mprotect(p, SZ_1G, PROT_NONE) == 0 && guest_read_faults((uint64_t *)p) &&
			  (!pud_remap || guest_vmstat("thp_split_pud") == pud0 + 1) &&
			  mprotect(p, SZ_1G, PROT_READ | PROT_WRITE) == 0 &&
			  is_level("1G RW", p, SZ_1G, huge, UCM, HPFN_PTF_PAT) &&
			  check_sparse(p, SZ_1G, PUD_OFF, 23),
			  "1 GiB PROT_NONE and back: split to %s, accessible again, data intact",
			  hpfn_pt_level_name(huge));
		munmap(p, SZ_1G);
	}
}

static void test_pud_munmap_fork(int fd)
{
	long long pud0 = guest_vmstat("thp_split_pud");
	uint8_t *p = map_1g(fd, PUD_OFF, SZ_1G, 0);
	pid_t pid;
	int status;

	if (!tap_check(p != NULL, "1 GiB partial munmap: mapped"))
		return;
	fill_sparse(p, SZ_1G, PUD_OFF, 24);
	tap_check(munmap(p + 8 * SZ_1M, SZ_2M) == 0, "1 GiB partial munmap: unmap 2 MiB inside");
	if (pud_remap)
		tap_check(guest_vmstat("thp_split_pud") == pud0 + 1, "1 GiB partial munmap: one PUD split");
	tap_check(guest_read_faults((uint64_t *)(p + 8 * SZ_1M)) &&
		  is_level("1G munmap", p, 8 * SZ_1M, huge, UCM, 0) &&
		  is_level("1G munmap", p + 10 * SZ_1M, SZ_1G - 10 * SZ_1M, huge, UCM, 0),
		  "1 GiB partial munmap: the hole faults, the rest is %s", hpfn_pt_level_name(huge));
	tap_check(check_sparse(p, 8 * SZ_1M, PUD_OFF, 24) &&
		  check_sparse(p + 10 * SZ_1M, SZ_1G - 10 * SZ_1M, PUD_OFF + 10 * SZ_1M, 24),
		  "1 GiB partial munmap: the rest holds its data");
	munmap(p, SZ_1G);

	p = map_1g(fd, PUD_OFF, SZ_1G, 0);
	if (!tap_check(p != NULL, "1 GiB fork: mapped"))
		return;
	fill_sparse(p, SZ_1G, PUD_OFF, 25);
	pid = fork();
	if (pid == 0) {
		int ok = check_sparse(p, SZ_1G, PUD_OFF, 25);

		fill_sparse(p + SZ_2M, SZ_2M, PUD_OFF + SZ_2M, 26);
		/* split the child's copy down to PTEs */
		ok &= mprotect(p + SZ_4K, SZ_4K, PROT_READ) == 0;
		ok &= guest_module_levels((uintptr_t)p, SZ_2M, runs, MAX_RUNS) > 0 &&
		      runs[0].level == HPFN_PT_PTE;
		ok &= guest_write_faults((uint64_t *)(p + SZ_4K), 0);
		_exit(ok ? 0 : 1);
	}
	tap_check(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "1 GiB fork: the child read the data, wrote, split its copy and saw the protection");
	tap_check(check_sparse(p + SZ_2M, SZ_2M, PUD_OFF + SZ_2M, 26) &&
		  is_level("1G fork", p, SZ_1G, huge1g, UCM, HPFN_PTF_PAT),
		  "1 GiB fork: the parent sees the child's write and is still %s", hpfn_pt_level_name(huge1g));
	munmap(p, SZ_1G);
}

static void test_pud_mremap(int fd)
{
	uint8_t *p = map_1g(fd, PUD_OFF, SZ_1G, 0), *resv, *dst, *q;
	long long pud0;

	if (!tap_check(p != NULL, "1 GiB mremap: mapped"))
		return;
	fill_sparse(p, SZ_1G, PUD_OFF, 27);
	resv = mmap(NULL, 4 * SZ_1G, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (!tap_check(resv != MAP_FAILED, "1 GiB mremap: reserved 4 GiB for destinations"))
		return (void)munmap(p, SZ_1G);
	dst = (uint8_t *)(((uintptr_t)resv + SZ_1G - 1) & ~(SZ_1G - 1));
	q = mremap(p, SZ_1G, SZ_1G, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
	tap_check(q == dst && is_level("1G moved", q, SZ_1G, huge1g, UCM, HPFN_PTF_PAT) &&
		  check_sparse(q, SZ_1G, PUD_OFF, 27) && guest_read_faults((uint64_t *)p),
		  "1 GiB mremap to another 1 GiB-aligned address: still %s, data intact, old address gone",
		  hpfn_pt_level_name(huge1g));
	if (q == dst) {
		/* to an address 2 MiB- but not 1 GiB-aligned: the leaf must be split first */
		pud0 = guest_vmstat("thp_split_pud");
		p = mremap(q, SZ_1G, SZ_1G, MREMAP_MAYMOVE | MREMAP_FIXED, dst + SZ_1G + 4 * SZ_1M);
		tap_check(p == dst + SZ_1G + 4 * SZ_1M && (!pud_remap || guest_vmstat("thp_split_pud") == pud0 + 1) &&
			  is_level("1G moved to 2M", p, SZ_1G, huge, UCM, HPFN_PTF_PAT) &&
			  check_sparse(p, SZ_1G, PUD_OFF, 27),
			  "1 GiB mremap to a 2 MiB-aligned address: split to %s, data intact",
			  hpfn_pt_level_name(huge));
	}
	munmap(resv, 4 * SZ_1G);
}

static void test_pud_leaks(int fd)
{
	/* with 4 KiB pages (no series) a 1 GiB remap takes long under TCG */
	int cycles = pud_remap ? 300 : 20;
	long long base, after, pte_base, pte_after;
	int ok = 1, i;
	uint8_t *p;

	p = map_1g(fd, PUD_OFF, SZ_1G, 0);	/* warm up */
	if (p)
		munmap(p, SZ_1G);
	base = guest_page_tables_kb();
	pte_base = guest_vmpte_kb();
	for (i = 0; i < cycles && ok; i++) {
		p = map_1g(fd, PUD_OFF, SZ_1G, 0);
		ok = p != NULL;
		if (ok) {
			*(volatile uint64_t *)(p + SZ_1G - SZ_4K) = i;
			/* every third one split before it goes */
			if (i % 3 == 0)
				ok = mprotect(p + SZ_2M + SZ_4K, SZ_4K, PROT_READ) == 0;
			munmap(p, SZ_1G);
		}
	}
	after = guest_page_tables_settled_kb(base);
	pte_after = guest_vmpte_kb();
	tap_check(ok && after <= base && pte_after == pte_base,
		  "%d 1 GiB map/(split)/unmap cycles: VmPTE %lld kB -> %lld kB, PageTables %lld kB -> %lld kB",
		  cycles, pte_base, pte_after, base, after);

	p = map_1g(fd, PUD_OFF, SZ_1G, 0);
	if (!tap_check(p != NULL, "1 GiB fork cycles: mapped"))
		return;
	base = guest_page_tables_kb();
	for (i = 0; i < cycles && ok; i++) {
		pid_t pid = fork();
		int status;

		if (pid == 0) {
			*(volatile uint64_t *)(p + SZ_2M) = i;
			if (i % 2)
				munmap(p + SZ_1G - SZ_4K, SZ_4K);	/* the child splits */
			_exit(0);
		}
		ok = pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status);
	}
	after = guest_page_tables_settled_kb(base);
	tap_check(ok && after <= base + guest_page_tables_slack_kb(), "%d fork cycles with a 1 GiB mapping: PageTables %lld kB -> %lld kB",
		  cycles, base, after);
	munmap(p, SZ_1G);
}

struct pud_stress {
	int fd;
	int id;
	volatile int *stop;
	int errors;
};

/* Each thread maps the GiB, owns one 2 MiB slot of it, splits and forks. */
static void *pud_stress_thread(void *arg)
{
	struct pud_stress *s = arg;
	uint64_t slot = (uint64_t)(s->id + 1) * 64 * SZ_1M;
	unsigned int seed = s->id;

	while (!*s->stop) {
		uint8_t *p = map_1g(s->fd, PUD_OFF, SZ_1G, 0);

		if (!p) {
			s->errors++;
			continue;
		}
		fill(p + slot, SZ_2M, PUD_OFF + slot, s->id + 100);
		switch (rand_r(&seed) % 3) {
		case 0:
			mprotect(p + slot + SZ_4K * (rand_r(&seed) % 512), SZ_4K, PROT_READ);
			break;
		case 1:
			munmap(p + slot + SZ_2M, SZ_4K);
			break;
		default: {
			pid_t pid = fork();
			int status;

			if (pid == 0)
				_exit(check(p + slot, SZ_2M, PUD_OFF + slot, s->id + 100) ? 0 : 1);
			if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
			    WEXITSTATUS(status))
				s->errors++;
		}
		}
		if (!check(p + slot, SZ_2M, PUD_OFF + slot, s->id + 100))
			s->errors++;
		munmap(p, SZ_1G);
	}
	return NULL;
}

static void test_pud_stress(int fd)
{
	struct pud_stress st[4];
	pthread_t th[4];
	volatile int stop = 0;
	struct timespec ts = { .tv_sec = 4 };
	int errors = 0, i;

	for (i = 0; i < 4; i++) {
		st[i] = (struct pud_stress){ fd, i, &stop, 0 };
		pthread_create(&th[i], NULL, pud_stress_thread, &st[i]);
	}
	nanosleep(&ts, NULL);	/* the run length, not a synchronisation */
	stop = 1;
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		errors += st[i].errors;
	}
	tap_check(errors == 0,
		  "1 GiB stress: 4 threads mapping the GiB, splitting (mprotect, munmap) and forking for 4 s: %d errors",
		  errors);
}

/* Read a /proc file to its end; 0 if it could not be opened. */
static int read_all(const char *path)
{
	char buf[4096];
	FILE *f = fopen(path, "re");

	if (!f)
		return 0;
	while (fread(buf, 1, sizeof(buf), f) > 0)
		;
	fclose(f);
	return 1;
}

/*
 * Page walks with PMD callbacks (smaps, smaps_rollup, numa_maps) must leave
 * a 1 GiB leaf alone: a split without allocating would drop it, and the
 * VMA has no fault handler to map it again.
 */
static void test_pud_walkers(int fd)
{
	uint8_t *p = map_1g(fd, PUD_OFF, SZ_1G, 0);
	long long pud0 = guest_vmstat("thp_split_pud");
	int ok;

	if (!tap_check(p != NULL, "1 GiB walkers: mapped"))
		return;
	fill_sparse(p, SZ_1G, PUD_OFF, 31);
	ok = read_all("/proc/self/smaps") && read_all("/proc/self/smaps_rollup");
	read_all("/proc/self/numa_maps");	/* only with CONFIG_NUMA */
	tap_check(ok && guest_vmstat("thp_split_pud") == pud0 &&
		  is_level("1G after smaps", p, SZ_1G, huge1g, UCM, HPFN_PTF_PAT) &&
		  check_sparse(p, SZ_1G, PUD_OFF, 31),
		  "1 GiB walkers: reading smaps and smaps_rollup leaves it %s, unsplit, data intact",
		  hpfn_pt_level_name(huge1g));
	munmap(p, SZ_1G);
}

/* The four ways a 1 GiB leaf gets split by a system call that can fail. */
static const char *const pud_split_ops[] = {
	"munmap of 4 KiB", "mprotect of 4 KiB", "mprotect PROT_NONE", "mremap to a 2 MiB-aligned address",
};

static int pud_split_op(int op, uint8_t *p, uint8_t *dst)
{
	switch (op) {
	case 0:
		return munmap(p + SZ_1G / 2, SZ_4K);
	case 1:
		return mprotect(p + SZ_1G / 2, SZ_4K, PROT_READ);
	case 2:
		return mprotect(p, SZ_1G, PROT_NONE);
	default:
		return mremap(p, SZ_1G, SZ_1G, MREMAP_MAYMOVE | MREMAP_FIXED, dst) == MAP_FAILED ? -1 : 0;
	}
}

/*
 * Run split operation @op on a fresh 1 GiB leaf with the next page
 * allocation of this task failing, until the failure hits the split's own
 * allocation (the log's stack says so). *@p is the mapping, left in place;
 * returns the attempt that hit, or 0.
 */
static int pud_split_inject(int fd, int op, uint8_t **p, uint8_t *dst, int *ret, int *err)
{
	const char *times = "/sys/kernel/debug/fail_page_alloc/times";
	char marker[64];
	int attempt, tf;

	for (attempt = 1; attempt <= 20; attempt++) {
		*p = map_1g(fd, PUD_OFF, SZ_1G, 0);
		if (!*p)
			return 0;
		fill_sparse(*p, SZ_1G, PUD_OFF, 40 + op);
		snprintf(marker, sizeof(marker), "hpfn-pud-split-failure-%d-%d", op, attempt);
		guest_write_file("/dev/kmsg", marker);
		guest_write_file(times, "1");
		tf = guest_write_file("/proc/self/make-it-fail", "1");
		*ret = pud_split_op(op, *p, dst);
		*err = errno;
		guest_write_file("/proc/self/make-it-fail", "0");
		guest_write_file(times, "0");
		if (tf == 0 && kmsg_after_has(marker, "split_huge_pud_alloc"))
			return attempt;
		/* another allocation failed (or none): start over */
		munmap(*p, SZ_1G);
		if (op == 3 && *ret == 0)
			munmap(dst, SZ_1G);
	}
	*p = NULL;
	return 0;
}

/*
 * A 1 GiB leaf carries no page tables; splitting it into PMD leaves
 * allocates them in the system call, which must then fail cleanly: ENOMEM,
 * no split counted, the leaf still whole and its data in place. Without
 * the injected failure the same call splits it.
 */
static void test_pud_split_enomem(int fd)
{
	uint8_t *resv, *dst, *p;
	long long pud0;
	int op, ret = 0, err = 0, hit;

	if (!pud_remap) {
		tap_diag("1 GiB split failure: no PUD leaves on this kernel, nothing to split");
		return;
	}
	if (!tap_check(guest_fail_page_alloc_setup() == 0, "1 GiB split failure: fail_page_alloc configured"))
		return;
	resv = mmap(NULL, 3 * SZ_1G, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (!tap_check(resv != MAP_FAILED, "1 GiB split failure: reserved 3 GiB for mremap"))
		return;
	dst = (uint8_t *)(((uintptr_t)resv + SZ_1G - 1) & ~(SZ_1G - 1)) + 4 * SZ_1M;
	for (op = 0; op < 4; op++) {
		pud0 = guest_vmstat("thp_split_pud");
		hit = pud_split_inject(fd, op, &p, dst, &ret, &err);
		if (!tap_check(hit, "1 GiB split failure, %s: the injected failure hit the split's allocation",
			       pud_split_ops[op]))
			continue;
		tap_check(ret == -1 && err == ENOMEM && guest_vmstat("thp_split_pud") == pud0 &&
			  is_level("1G after failed split", p, SZ_1G, HPFN_PT_PUD, UCM, HPFN_PTF_PAT) &&
			  check_sparse(p, SZ_1G, PUD_OFF, 40 + op),
			  "1 GiB split failure, %s: ENOMEM (%s), no split, still one 1 GiB leaf, data intact",
			  pud_split_ops[op], ret ? strerror(err) : "succeeded");
		ret = pud_split_op(op, p, dst);
		tap_check(ret == 0 && guest_vmstat("thp_split_pud") == pud0 + 1,
			  "1 GiB split failure, %s: succeeds without the injected failure, one PUD split",
			  pud_split_ops[op]);
		munmap(op == 3 && ret == 0 ? dst : p, SZ_1G);
	}
	munmap(resv, 3 * SZ_1G);
}

#define PUD_REVOKE_HOLE (4 * SZ_1M + SZ_4K)

/*
 * Revoke the page at PUD_REVOKE_HOLE of a fresh, filled 1 GiB mapping
 * (*@p), the ioctl failing the next page allocation of this task when
 * @inject (*@injected then says whether it did); the ioctl's result.
 */
static int pud_revoke_page(int fd, uint8_t **p, int seed, int inject, int *injected)
{
	struct hpfn_test_zap z = { .offset = PUD_OFF + PUD_REVOKE_HOLE, .len = SZ_4K };
	const char *times = "/sys/kernel/debug/fail_page_alloc/times";
	int ret;

	*p = map_1g(fd, PUD_OFF, SZ_1G, 0);
	if (!*p)
		return -1;
	fill_sparse(*p, SZ_1G, PUD_OFF, seed);
	fill(*p + 4 * SZ_1M, SZ_2M, PUD_OFF + 4 * SZ_1M, seed + 1);
	if (inject) {
		guest_write_file(times, "1");
		guest_write_file("/proc/self/make-it-fail", "1");
	}
	ret = ioctl(fd, HPFN_TEST_IOC_ZAP, &z);
	if (inject) {
		guest_write_file("/proc/self/make-it-fail", "0");
		*injected = fail_page_alloc_times(times) == 0;
		guest_write_file(times, "0");
	}
	return ret;
}

/*
 * The split that comes before the revocation's zap fails to allocate: a
 * zap cannot fail, so the leaf is dropped whole, with nothing leaked and
 * nothing in the kernel log. The split allocates with __GFP_NOWARN, so
 * fail_page_alloc reports no stack: that a failure was injected comes
 * from its times counter, and that it was the split's from the ioctl
 * allocating nothing before the split's tables (the zap's mmu_gather
 * batches come after) and from the outcome checked below.
 */
static void test_pud_revoke_enomem(int fd)
{
	long long pte0 = guest_vmpte_kb(), pud0;
	int ret = -1, injected = 0;
	uint8_t *p = NULL;

	if (!tap_check(guest_fail_page_alloc_setup() == 0, "1 GiB revoke, split failure: fail_page_alloc configured"))
		return;
	pud0 = guest_vmstat("thp_split_pud");
	ret = pud_revoke_page(fd, &p, 62, 1, &injected);
	if (!tap_check(p && injected, "1 GiB revoke, split failure: the failure was injected in the revocation"))
		return;
	tap_check(ret == 0 && guest_vmstat("thp_split_pud") == pud0 + 1 &&
		  guest_read_faults((uint64_t *)p) && guest_read_faults((uint64_t *)(p + SZ_1G - SZ_4K)),
		  "1 GiB revoke, split failure: the revocation succeeds and drops the whole leaf");
	munmap(p, SZ_1G);
	tap_check(guest_vmpte_kb() == pte0, "1 GiB revoke, split failure: VmPTE back to %lld kB", pte0);
}

/*
 * A driver revoking 4 KiB of a 1 GiB leaf (unmap_mapping_range(), which
 * cannot fail): a series whose FEATURES lists remap-pud-partial-zap splits
 * the leaf into PMD leaves before the zap and keeps the rest mapped; one
 * without drops the whole leaf, which a remap VMA cannot fault in again
 * (kernel/README.md, "PUD leaves"). Below PUD leaves only the page goes.
 */

/* Is all of the GiB but the revoked page mapped at the level expected, with its data? */
static int pud_revoke_rest_ok(uint8_t *p, int seed)
{
	uint8_t *hole = p + PUD_REVOKE_HOLE;
	int ok;

	ok = is_level("revoke head", p, 4 * SZ_1M, huge, UCM, 0) &&
	     is_level("revoke tail", p + 6 * SZ_1M, SZ_1G - 6 * SZ_1M, huge, UCM, 0) &&
	     is_level("revoke 2M", p + 4 * SZ_1M, SZ_4K, HPFN_PT_PTE, UCM, 0) &&
	     is_level("revoke 2M", hole + SZ_4K, 6 * SZ_1M - PUD_REVOKE_HOLE - SZ_4K, HPFN_PT_PTE, UCM, 0);
	return ok && check_sparse(p, 4 * SZ_1M, PUD_OFF, seed) &&
	       check_sparse(p + 6 * SZ_1M, SZ_1G - 6 * SZ_1M, PUD_OFF + 6 * SZ_1M, seed) &&
	       check(p + 4 * SZ_1M, SZ_4K, PUD_OFF + 4 * SZ_1M, seed + 1) &&
	       check(hole + SZ_4K, 6 * SZ_1M - PUD_REVOKE_HOLE - SZ_4K, PUD_OFF + PUD_REVOKE_HOLE + SZ_4K,
		     seed + 1);
}

/*
 * A revocation across the boundary of two 1 GiB leaves cuts both: each is
 * split, the PMD leaves on either side of the boundary become PTEs around
 * the hole, and the rest of both GiBs stays mapped with its data. It maps
 * all of the BAR UC-: main() runs it before 6.12's partial unmaps leave
 * write-combining PAT entries in the first GiB.
 */
static void test_pud_revoke_two_leaves(int fd)
{
	struct hpfn_test_zap z = { .offset = SZ_1G - SZ_4K, .len = 2 * SZ_4K };
	long long pud0 = guest_vmstat("thp_split_pud"), pte0 = guest_vmpte_kb();
	uint8_t *p = map_1g(fd, 0, 2 * SZ_1G, 0);

	if (!tap_check(p != NULL, "1 GiB revoke across two leaves: 2 GiB mapped"))
		return;
	fill_sparse(p, 2 * SZ_1G, 0, 65);
	fill(p + SZ_1G - SZ_2M, 2 * SZ_2M, SZ_1G - SZ_2M, 66);
	tap_check(is_level("two leaves", p, 2 * SZ_1G, HPFN_PT_PUD, UCM, 0) &&
		  ioctl(fd, HPFN_TEST_IOC_ZAP, &z) == 0 && guest_vmstat("thp_split_pud") == pud0 + 2,
		  "1 GiB revoke across two leaves: 8 KiB revoked over the boundary, two PUD splits");
	tap_check(guest_read_faults((uint64_t *)(p + SZ_1G - SZ_4K)) && guest_read_faults((uint64_t *)(p + SZ_1G)),
		  "1 GiB revoke across two leaves: both revoked pages fault");
	tap_check(is_level("two leaves, head", p, SZ_1G - SZ_2M, HPFN_PT_PMD, UCM, 0) &&
		  is_level("two leaves, tail", p + SZ_1G + SZ_2M, SZ_1G - SZ_2M, HPFN_PT_PMD, UCM, 0) &&
		  is_level("two leaves, left", p + SZ_1G - SZ_2M, SZ_2M - SZ_4K, HPFN_PT_PTE, UCM, 0) &&
		  is_level("two leaves, right", p + SZ_1G + SZ_4K, SZ_2M - SZ_4K, HPFN_PT_PTE, UCM, 0) &&
		  check_sparse(p, SZ_1G - SZ_2M, 0, 65) && check_sparse(p + SZ_1G + SZ_2M, SZ_1G - SZ_2M,
									  SZ_1G + SZ_2M, 65) &&
		  check(p + SZ_1G - SZ_2M, SZ_2M - SZ_4K, SZ_1G - SZ_2M, 66) &&
		  check(p + SZ_1G + SZ_4K, SZ_2M - SZ_4K, SZ_1G + SZ_4K, 66),
		  "1 GiB revoke across two leaves: the rest is PMD leaves with PTEs around the hole, data intact");
	munmap(p, 2 * SZ_1G);
	tap_check(guest_vmpte_kb() == pte0, "1 GiB revoke across two leaves: VmPTE back to %lld kB", pte0);
}

/*
 * A revocation of a 2 MiB-aligned 2 MiB block inside a 1 GiB leaf: the
 * split leaves PMD leaves only, the block's own goes whole, no PTE.
 */
static void test_pud_revoke_pmd_hole(int fd)
{
	struct hpfn_test_zap z = { .offset = PUD_OFF + 8 * SZ_1M, .len = SZ_2M };
	long long pud0 = guest_vmstat("thp_split_pud");
	uint8_t *p = map_1g(fd, PUD_OFF, SZ_1G, 0);

	if (!tap_check(p != NULL, "1 GiB revoke of a 2 MiB block: mapped"))
		return;
	fill_sparse(p, SZ_1G, PUD_OFF, 67);
	tap_check(ioctl(fd, HPFN_TEST_IOC_ZAP, &z) == 0 && guest_vmstat("thp_split_pud") == pud0 + 1 &&
		  guest_read_faults((uint64_t *)(p + 8 * SZ_1M)) &&
		  guest_read_faults((uint64_t *)(p + 10 * SZ_1M - SZ_4K)),
		  "1 GiB revoke of a 2 MiB block: one PUD split, the block faults");
	tap_check(is_level("2M hole, head", p, 8 * SZ_1M, HPFN_PT_PMD, UCM, 0) &&
		  is_level("2M hole, tail", p + 10 * SZ_1M, SZ_1G - 10 * SZ_1M, HPFN_PT_PMD, UCM, 0) &&
		  check_sparse(p, 8 * SZ_1M, PUD_OFF, 67) &&
		  check_sparse(p + 10 * SZ_1M, SZ_1G - 10 * SZ_1M, PUD_OFF + 10 * SZ_1M, 67),
		  "1 GiB revoke of a 2 MiB block: the rest is PMD leaves, data intact");
	munmap(p, SZ_1G);
}

struct revoke_reader {
	const uint8_t *p;
	volatile int stop;
	volatile int passes;
	int bad;
};

/* Read every 2 MiB block of the GiB but the revoked one, pass after pass. */
static void *revoke_reader(void *arg)
{
	struct revoke_reader *r = arg;
	uint64_t hole = PUD_REVOKE_HOLE & ~(uint64_t)(SZ_2M - 1);

	while (!r->stop) {
		for (uint64_t o = 0; o < SZ_1G; o += SZ_2M)
			if (o != hole && !check_sparse(r->p + o, SZ_2M, PUD_OFF + o, 68))
				r->bad++;
		__atomic_add_fetch(&r->passes, 1, __ATOMIC_SEQ_CST);
	}
	return NULL;
}

/* One revocation while a thread reads the rest of the leaf; the exit code. */
static int pud_revoke_while_read(int fd)
{
	struct hpfn_test_zap z = { .offset = PUD_OFF + PUD_REVOKE_HOLE, .len = SZ_4K };
	struct revoke_reader r = { 0 };
	pthread_t th;
	int passes;

	r.p = map_1g(fd, PUD_OFF, SZ_1G, 0);
	if (!r.p)
		return 3;
	fill_sparse((uint8_t *)r.p, SZ_1G, PUD_OFF, 68);
	if (pthread_create(&th, NULL, revoke_reader, &r))
		return 4;
	while (__atomic_load_n(&r.passes, __ATOMIC_SEQ_CST) < 1)
		sched_yield();
	if (ioctl(fd, HPFN_TEST_IOC_ZAP, &z))
		return 5;
	/* a whole pass that started after the revocation */
	passes = __atomic_load_n(&r.passes, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&r.passes, __ATOMIC_SEQ_CST) < passes + 2)
		sched_yield();
	r.stop = 1;
	pthread_join(th, NULL);
	return r.bad ? 2 : 0;
}

/*
 * The split before the zap while another thread reads the rest of the
 * leaf: the reader must never fault (SIGBUS would kill the child) nor read
 * wrong data, during the split or after.
 */
static void test_pud_revoke_concurrent(int fd)
{
	long long pud0 = guest_vmstat("thp_split_pud");
	int round, status = 0, ok = 1;
	pid_t pid;

	for (round = 0; round < 8 && ok; round++) {
		pid = fork();
		if (pid == 0)
			_exit(pud_revoke_while_read(fd));
		ok = pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
		     WEXITSTATUS(status) == 0;
	}
	tap_check(ok && guest_vmstat("thp_split_pud") == pud0 + 8,
		  "1 GiB revoke while a thread reads the leaf: 8 rounds, no fault, no wrong data (%s %d)",
		  !ok && WIFSIGNALED(status) ? "child killed by signal" : "last status",
		  WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
}

/*
 * One revocation cutting the same GiB in two processes (a fork copies the
 * leaf): the split's tables are allocated per process, and both keep the
 * rest of the GiB.
 */
static void test_pud_revoke_two_mms(int fd)
{
	struct hpfn_test_zap z = { .offset = PUD_OFF + PUD_REVOKE_HOLE, .len = SZ_4K };
	long long pud0 = guest_vmstat("thp_split_pud");
	int go[2], status = -1, ok;
	uint8_t *p = map_1g(fd, PUD_OFF, SZ_1G, 0);
	pid_t pid;
	char c;

	if (!tap_check(p != NULL && pipe(go) == 0, "1 GiB revoke in two processes: mapped"))
		return;
	fill_sparse(p, SZ_1G, PUD_OFF, 69);
	fill(p + 4 * SZ_1M, SZ_2M, PUD_OFF + 4 * SZ_1M, 70);
	pid = fork();
	if (pid == 0) {
		/* the checks' TAP lines are the parent's to print */
		if (!freopen("/dev/null", "w", stdout))
			_exit(4);
		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(3);
		_exit(guest_read_faults((uint64_t *)(p + PUD_REVOKE_HOLE)) && pud_revoke_rest_ok(p, 69) ? 0 : 1);
	}
	close(go[0]);
	ok = pid > 0 && is_level("two mms", p, SZ_1G, HPFN_PT_PUD, UCM, 0) &&
	     ioctl(fd, HPFN_TEST_IOC_ZAP, &z) == 0 && write(go[1], "g", 1) == 1;
	close(go[1]);
	ok = pid > 0 && waitpid(pid, &status, 0) == pid && ok;
	tap_check(ok && WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
		  guest_vmstat("thp_split_pud") == pud0 + 2 && guest_read_faults((uint64_t *)(p + PUD_REVOKE_HOLE)) &&
		  pud_revoke_rest_ok(p, 69),
		  "1 GiB revoke in two processes: two PUD splits, each keeps the rest with its data (child %d)",
		  WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	munmap(p, SZ_1G);
}

struct revoke_move {
	int fd;
	uint8_t *p, *dst, *moved;
	pthread_barrier_t start;
};

static void *revoke_move_thread(void *arg)
{
	struct revoke_move *m = arg;

	pthread_barrier_wait(&m->start);
	m->moved = mremap(m->p, SZ_1G, SZ_1G, MREMAP_MAYMOVE | MREMAP_FIXED, m->dst);
	return NULL;
}

/*
 * mremap() of a 1 GiB leaf while a revocation splits it without the mmap
 * lock: move_huge_pud() must see the table the split made and move PMDs.
 * Wherever the mapping ends up, the page faults and the rest holds its
 * data; the harness fails any warning.
 */
static void test_pud_revoke_mremap_race(int fd)
{
	struct hpfn_test_zap z = { .offset = PUD_OFF + PUD_REVOKE_HOLE, .len = SZ_4K };
	struct revoke_move m = { .fd = fd };
	uint8_t *resv;
	pthread_t th;
	int round, ok = 1;

	resv = mmap(NULL, 3 * SZ_1G, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (!tap_check(resv != MAP_FAILED, "1 GiB revoke against mremap: reserved address space"))
		return;
	m.dst = (uint8_t *)(((uintptr_t)resv + SZ_1G - 1) & ~(SZ_1G - 1));
	for (round = 0; round < 16 && ok; round++) {
		m.p = map_1g(fd, PUD_OFF, SZ_1G, 0);
		if (!m.p)
			break;
		fill_sparse(m.p, SZ_1G, PUD_OFF, 70 + round);
		pthread_barrier_init(&m.start, NULL, 2);
		pthread_create(&th, NULL, revoke_move_thread, &m);
		pthread_barrier_wait(&m.start);
		ok = ioctl(fd, HPFN_TEST_IOC_ZAP, &z) == 0;
		pthread_join(th, NULL);
		pthread_barrier_destroy(&m.start);
		ok = ok && m.moved == m.dst && guest_read_faults((uint64_t *)(m.dst + PUD_REVOKE_HOLE)) &&
		     check_sparse(m.dst, 4 * SZ_1M, PUD_OFF, 70 + round) &&
		     check_sparse(m.dst + 6 * SZ_1M, SZ_1G - 6 * SZ_1M, PUD_OFF + 6 * SZ_1M, 70 + round);
		munmap(m.moved == m.dst ? m.dst : m.p, SZ_1G);
	}
	munmap(resv, 3 * SZ_1G);
	tap_check(ok && round == 16,
		  "1 GiB revoke against mremap: %d rounds, the page revoked and the rest moved with its data", round);
}

static void test_pud_revoke(int fd)
{
	int keeps = !pud_remap || guest_has_feature("remap-pud-partial-zap");
	long long pud0, pte0;
	uint8_t *p = map_1g(fd, PUD_OFF, SZ_1G, 0);	/* warm up: the upper tables */
	int ret;

	if (p)
		munmap(p, SZ_1G);
	pud0 = guest_vmstat("thp_split_pud");
	pte0 = guest_vmpte_kb();
	ret = pud_revoke_page(fd, &p, 60, 0, NULL);
	if (!tap_check(p && ret == 0, "1 GiB revoke of 4 KiB: mapped and revoked%s%s", ret ? ": " : "",
		       ret ? strerror(errno) : "")) {
		if (p)
			munmap(p, SZ_1G);
		return;
	}
	tap_check(guest_read_faults((uint64_t *)(p + PUD_REVOKE_HOLE)), "1 GiB revoke of 4 KiB: the page faults");
	if (keeps) {
		tap_check(!pud_remap || guest_vmstat("thp_split_pud") == pud0 + 1,
			  "1 GiB revoke of 4 KiB: %s", pud_remap ? "one PUD split" : "no PUD leaf to split");
		tap_check(pud_revoke_rest_ok(p, 60),
			  "1 GiB revoke of 4 KiB: the rest is mapped (%s, PTEs around the page) and holds its data",
			  hpfn_pt_level_name(huge));
	} else {
		tap_check(guest_read_faults((uint64_t *)p) && guest_read_faults((uint64_t *)(p + SZ_1G - SZ_4K)),
			  "1 GiB revoke of 4 KiB: the whole leaf is gone (this series drops it)");
	}
	munmap(p, SZ_1G);
	tap_check(guest_vmpte_kb() == pte0, "1 GiB revoke of 4 KiB: VmPTE back to %lld kB after munmap", pte0);
	if (pud_remap && keeps) {
		test_pud_revoke_enomem(fd);
		test_pud_revoke_pmd_hole(fd);
		test_pud_revoke_concurrent(fd);
		test_pud_revoke_two_mms(fd);
		test_pud_revoke_mremap_race(fd);
	}
}

static void test_pud(int fd, int fd_wc)
{
	if (bar.size < 2 * SZ_1G) {
		tap_check(0, "the BAR has a second GiB for the PUD tests (%" PRIu64 " MiB)", bar.size >> 20);
		return;
	}
	tap_diag("kernel %s: eligible 1 GiB blocks expected as %s", guest_kernel_kind(),
		 hpfn_pt_level_name(huge1g));
	test_pud_eligibility(fd, fd_wc);
	test_pud_walkers(fd);
	test_pud_mprotect(fd);
	test_pud_munmap_fork(fd);
	test_pud_mremap(fd);
	test_pud_leaks(fd);
	test_pud_split_enomem(fd);
	test_pud_revoke(fd);
	test_pud_stress(fd);
}

#ifdef __x86_64__
/* Add a write-combining MTRR over [phys, phys + 1 MiB); its register or -1. */
static int mtrr_add_wc(uint64_t phys)
{
	char line[160];
	uint64_t base;
	int reg, found = -1;
	FILE *f;

	snprintf(line, sizeof(line), "base=0x%" PRIx64 " size=0x100000 type=write-combining\n", phys);
	if (guest_write_file("/proc/mtrr", line))
		return -1;
	f = fopen("/proc/mtrr", "re");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "reg%d: base=0x%" SCNx64, &reg, &base) == 2 && base == phys)
			found = reg;
	if (f)
		fclose(f);
	return found;
}

static void mtrr_remove(int reg)
{
	char line[32];

	snprintf(line, sizeof(line), "disable=%d\n", reg);
	guest_write_file("/proc/mtrr", line);
}

/* The first 2 MiB of [p, p + len) in PTEs, the rest as @rest; or all PTEs. */
static int pte_then(uint8_t *p, uint64_t len, enum hpfn_pt_level rest)
{
	enum hpfn_pt_level lv[2] = { HPFN_PT_PTE, rest };
	uint64_t sz[2] = { SZ_2M, len - SZ_2M };

	if (rest == HPFN_PT_PTE)
		return is_level("MTRR all pte", p, len, HPFN_PT_PTE, UCM, 0);
	return shape_is(p, len, 2, lv, sz);
}

/*
 * MTRRs override PAT memory types at 4 KiB granularity, and a large page
 * over more than one memory type is undefined behaviour: a write-combining
 * MTRR over 1 MiB of a 2 MiB block must keep that block in PTEs (as
 * pmd_set_huge() does for the kernel's mappings), and the GiB around such
 * a block from being one PUD leaf. The rest of the range stays huge.
 */
static void test_mtrr(int fd)
{
	static const uint64_t offs[] = { 600 * SZ_1M, PUD_OFF };
	static const uint64_t lens[] = { 4 * SZ_1M, SZ_1G };
	unsigned int i;
	uint8_t *p;
	int reg;

	for (i = 0; i < 2; i++) {
		reg = mtrr_add_wc(bar.phys + offs[i] + SZ_1M);
		if (!tap_check(reg >= 0, "MTRR: a write-combining MTRR over 1 MiB at BAR offset %" PRIu64
			       " MiB + 1 MiB (/proc/mtrr)", offs[i] >> 20))
			continue;
		p = i ? map_1g(fd, offs[i], lens[i], 0) : map_at(fd, offs[i], lens[i], bar.phys + offs[i], 0);
		if (tap_check(p != NULL, "MTRR: mapped %" PRIu64 " MiB over it", lens[i] >> 20)) {
			tap_check(pte_then(p, lens[i], huge),
				  "MTRR: the 2 MiB block with two memory types is pte, the rest %s",
				  hpfn_pt_level_name(huge));
			fill_sparse(p, lens[i], offs[i], 51);
			tap_check(check_sparse(p, lens[i], offs[i], 51), "MTRR: the mapping works");
			munmap(p, lens[i]);
		}
		mtrr_remove(reg);
	}
}
#endif

/*
 * A driver whose ->mmap fails after remap_pfn_range() mapped the range:
 * mmap_region() zaps it in a VMA that has lost its vm_file by then. The
 * leaves must still be taken for special ones (no folio lookup on a BAR
 * PFN, no BUG() at PUD level) and their deposits freed.
 */
static void test_failed_mmap(void)
{
	static const uint64_t lens[] = { 8 * SZ_2M, SZ_1G };
	int fd = guest_remap_open(bar.phys, bar.size, HPFN_TEST_CACHE_UC_MINUS,
				  HPFN_TEST_FAIL_MMAP);
	long long pte0 = guest_vmpte_kb(), grown;
	unsigned int i;
	void *p;

	if (!tap_check(fd >= 0, "failed mmap: open a target that fails mmap() after the remap"))
		return;
	for (i = 0; i < 2; i++) {
		p = hpfn_mmap_congruent(fd, 0, lens[i], PROT_READ | PROT_WRITE, MAP_SHARED,
					bar.phys, lens[i] == SZ_1G ? SZ_1G : SZ_2M);
		tap_check(p == MAP_FAILED && errno == EIO,
			  "failed mmap: a ->mmap failing after remapping %" PRIu64
			  " MiB returns its error (%s)", lens[i] >> 20,
			  p == MAP_FAILED ? strerror(errno) : "mapped");
		if (p != MAP_FAILED)
			munmap(p, lens[i]);
	}
	grown = guest_vmpte_kb() - pte0;
	tap_check(grown <= 8, "failed mmap: no page tables left behind (VmPTE %+lld kB)", grown);
	close(fd);
}

int main(void)
{
	uint64_t carve = 0, carve_size = 0;
	int fd, fd_wc, fd_fault, fd_carve, ret;

	ret = guest_find_bar(0x1af4, 0x1110, 2, SZ_1G, UINT64_MAX, &bar);
	if (ret)
		tap_bail("find the ivshmem device with a 1 GiB BAR2: %s", strerror(-ret));
	if (guest_carveout(&carve, &carve_size) || carve_size < 16 * SZ_1M)
		tap_bail("the harness's memmap= carveout of at least 16 MiB");
	pmd_remap = guest_has_feature("remap-pmd");
	pud_remap = guest_has_feature("remap-pud");
	huge = pmd_remap ? HPFN_PT_PMD : HPFN_PT_PTE;
	huge1g = pud_remap ? HPFN_PT_PUD : huge;
	tap_diag("kernel %s: eligible 2 MiB blocks expected as %s", guest_kernel_kind(),
		 hpfn_pt_level_name(huge));

	fd = guest_remap_open(bar.phys, bar.size, HPFN_TEST_CACHE_UC_MINUS, 0);
	fd_wc = guest_remap_open(bar.phys, bar.size, HPFN_TEST_CACHE_WC, 0);
	fd_fault = guest_remap_open(bar.phys, bar.size, HPFN_TEST_CACHE_UC_MINUS, HPFN_TEST_FAULT_HANDLER);
	fd_carve = guest_remap_open(carve, carve_size, HPFN_TEST_CACHE_WB, 0);
	if (fd < 0 || fd_wc < 0 || fd_fault < 0 || fd_carve < 0)
		tap_bail("open /dev/hpfn_test with BAR and carveout targets (%d %d %d %d)", fd, fd_wc,
			 fd_fault, fd_carve);

	/* first: they map the whole first GiB, before partial unmaps leave PAT entries */
	test_failed_mmap();
	if (pud_remap && guest_has_feature("remap-pud-partial-zap"))
		test_pud_revoke_two_leaves(fd);
	test_eligibility(fd, fd_wc, fd_fault, fd_carve, carve);
	test_no_vm_ops();
	test_mprotect_split(fd, 64 * SZ_1M, "UC-", UCM, HPFN_PTF_PAT | HPFN_PTF_PWT);
	/* write-combining on a range no earlier test used (see README: PAT) */
	test_mprotect_split(fd_wc, 512 * SZ_1M, "WC", WC, HPFN_PTF_PAT | HPFN_PTF_PCD);
	test_partial_munmap(fd, 72 * SZ_1M);
	test_fork(fd, 80 * SZ_1M, "UC-", UCM, 0);
	test_fork(fd, 88 * SZ_1M, "UC-", UCM, 1);
	test_fork(fd_wc, 528 * SZ_1M, "WC", WC, 0);
	test_parent_exits_first(fd, 96 * SZ_1M);
	test_clone_vm(fd, 104 * SZ_1M);
	test_mremap(fd, 112 * SZ_1M);
	test_proc_mem(fd, 120 * SZ_1M);
	test_walkers(fd, 140 * SZ_1M);
	test_alloc_failure(fd, 124 * SZ_1M);
	test_leaks(fd, 128 * SZ_1M);
	test_stress(fd, 256 * SZ_1M);
	test_pud(fd, fd_wc);
#ifdef __x86_64__
	test_mtrr(fd);
#endif
	close(fd);
	close(fd_wc);
	close(fd_fault);
	close(fd_carve);
	return tap_exit();
}
