/* SPDX-License-Identifier: GPL-2.0 */
/* Helpers shared by the guest test programs. */
#ifndef HPFN_GUEST_H
#define HPFN_GUEST_H

#include <stddef.h>
#include <stdint.h>

#include "ptdump.h"

#define SZ_4K  0x1000ULL
#define SZ_2M  0x200000ULL
#define SZ_1G  0x40000000ULL

/* An address inside System RAM: RAM starts at 0 on x86, at 1 GiB on qemu's arm64 virt. */
#if defined(__aarch64__)
#define GUEST_RAM_ADDR 0x41000000ULL
#else
#define GUEST_RAM_ADDR 0x1000000ULL
#endif

/* A PCI memory BAR found through sysfs. */
struct guest_bar {
	char bdf[256];		/* "0000:00:03.0" */
	char path[512];		/* /sys/bus/pci/devices/BDF/resourceN */
	uint64_t phys;
	uint64_t size;
	unsigned long flags;	/* IORESOURCE_* from the resource file */
};

/*
 * Find BAR @bar of the first PCI device @vendor:@device whose BAR size is
 * in [@min_size, @max_size], and enable the device so the BAR decodes.
 */
int guest_find_bar(unsigned int vendor, unsigned int device, int bar,
		   uint64_t min_size, uint64_t max_size, struct guest_bar *out);

/*
 * Is @name in the kernel feature list the harness passed (hpfn.features=a,b
 * on the cmdline)? Like the other cmdline readers here, thread-safe.
 */
int guest_has_feature(const char *name);
/*
 * The number in hpfn.NAME= on the kernel command line (run-vm.sh --append),
 * decimal or 0x-hex; @dflt when absent or not a number.
 */
unsigned long long guest_param_ull(const char *name, unsigned long long dflt);

/* hpfn.kernel= on the cmdline: "patched" or "stock". */
const char *guest_kernel_kind(void);

/* Is the debugfs page-table dump readable here? */
int guest_have_ptdump(void);

/*
 * Set fail_page_alloc up to fail the next page allocation of a task that
 * asks for it (/proc/self/make-it-fail), once its "times" is set to 1,
 * printing the failure's stack: 0, or -1 when the kernel has none.
 */
int guest_fail_page_alloc_setup(void);

/* Is the running kernel Linux @major.@minor or later? */
int guest_linux_at_least(int major, int minor);

/*
 * Level of every 4 KiB page in [addr, addr + len) from the test module
 * (/dev/hpfn_test), merged into runs like the dump's. Returns the number of
 * runs or a negative errno. Flags hold PRESENT/RW/PWT/PCD/PAT from the raw
 * entries (PAT from bit 7 at PTE level, bit 12 at PMD/PUD level).
 */
int guest_module_levels(uint64_t addr, uint64_t len, struct hpfn_pt_run *runs,
			size_t max);
/* The same through an open /dev/hpfn_test: on x86_64 also its ioremap(). */
int guest_module_levels_fd(int fd, uint64_t addr, uint64_t len, struct hpfn_pt_run *runs,
			   size_t max);

/* Open /dev/hpfn_test with mmap() aimed at [phys, phys + size). */
int guest_remap_open(uint64_t phys, uint64_t size, unsigned int cache,
		     unsigned int flags);

/* The carveout the harness reserved with memmap=SIZE$ADDR. */
int guest_carveout(uint64_t *phys, uint64_t *size);

/* A counter of /proc/vmstat, or a "Name:  N kB" value of /proc/meminfo. */
long long guest_vmstat(const char *name);
long long guest_meminfo(const char *name);
/* This process's page-table kB (VmPTE of /proc/self/status), exact; -1 if unknown. */
long long guest_vmpte_kb(void);

/*
 * System-wide PageTables in kB, with the per-CPU counter deltas folded in
 * first (otherwise /proc/meminfo lags by up to a threshold per CPU).
 */
long long guest_page_tables_kb(void);
/*
 * PageTables after a test that began at @base kB. Where page tables are
 * freed after an RCU grace period (MMU_GATHER_RCU_TABLE_FREE: the 7.3 test
 * kernel) the count comes down a moment after the munmap() or exit that
 * freed them: this waits up to 5 s for it to get back to @base (a leak
 * never does) and returns the last value.
 */
long long guest_page_tables_settled_kb(long long base);
/*
 * How many kB PageTables may end above where it began after a test that
 * forks or loads modules, for a reason that is not a leak: 0 where the
 * count holds user page tables only (6.12); on kernels that count their own
 * vmalloc tables too (7.3) the bound of what lazily freed vmalloc space
 * (fork's stacks, module loads) may add, however many cycles ran.
 */
long long guest_page_tables_slack_kb(void);

/*
 * The levels of [addr, addr + len) from the module oracle, cross-checked
 * against the page-table dump where there is one (reported as a check of
 * its own). Returns the number of runs or a negative errno.
 */
int guest_levels(const char *what, uint64_t addr, uint64_t len,
		 struct hpfn_pt_run *runs, size_t max);

/* Do all runs have this level / these flags set and clear? */
int guest_all_level(const struct hpfn_pt_run *runs, int n, enum hpfn_pt_level level);
int guest_all_flags(const struct hpfn_pt_run *runs, int n, unsigned int set,
		    unsigned int clear);

/* Does a write to / read of @p fault (SIGSEGV or SIGBUS)? */
int guest_write_faults(volatile uint64_t *p, uint64_t val);
int guest_read_faults(volatile uint64_t *p);

/* Run a shell command (printf-style); its exit status, -1 if it did not exit. */
int guest_run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Bind PCI device @bdf to @driver through driver_override (0 when it is
 * bound to it already) / unbind it from @driver: 0 or a negative errno.
 */
int guest_bind(const char *bdf, const char *driver);
int guest_unbind(const char *bdf, const char *driver);

/* Write @val to the file at @path: 0 or a negative errno. */
int guest_write_file(const char *path, const char *val);

/* Print runs as TAP diagnostics. */
void guest_print_runs(const struct hpfn_pt_run *runs, int n);

/* Monotonic time in nanoseconds. */
uint64_t guest_now_ns(void);

#endif
