/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Parser for the x86 page-table dump in debugfs
 * (/sys/kernel/debug/page_tables/current_kernel, CONFIG_PTDUMP_DEBUGFS).
 *
 * The file dumps the page tables of the mm of the process reading it, so it
 * is the ground truth for "what page size did this mapping get" -- but only
 * when read by the process that owns the mapping.
 */
#ifndef HUGEPFN_PTDUMP_H
#define HUGEPFN_PTDUMP_H

#include <stddef.h>
#include <stdint.h>

/* Under a sysfs root (debugfs is mounted at SYSFS/kernel/debug). */
#define HPFN_PTDUMP_REL "kernel/debug/page_tables/current_kernel"
#define HPFN_PAT_LIST_REL "kernel/debug/x86/pat_memtype_list"
#define HPFN_DEBUGFS_X86_REL "kernel/debug/x86"
#define HPFN_PTDUMP_PATH "/sys/" HPFN_PTDUMP_REL

/* Page-table level of a leaf entry, as the dump names it. */
enum hpfn_pt_level {
	HPFN_PT_NONE = 0,	/* not present */
	HPFN_PT_PTE,		/* 4 KiB */
	HPFN_PT_PMD,		/* 2 MiB */
	HPFN_PT_PUD,		/* 1 GiB */
	HPFN_PT_P4D,
	HPFN_PT_PGD,
};

/* The attribute columns of a dump line. */
enum hpfn_pt_flag {
	HPFN_PTF_PRESENT = 1u << 0,
	HPFN_PTF_USER	 = 1u << 1,
	HPFN_PTF_RW	 = 1u << 2,
	HPFN_PTF_PWT	 = 1u << 3,
	HPFN_PTF_PCD	 = 1u << 4,
	HPFN_PTF_PSE	 = 1u << 5,
	HPFN_PTF_PAT	 = 1u << 6,
	HPFN_PTF_GLOBAL	 = 1u << 7,
	HPFN_PTF_NX	 = 1u << 8,
};

/* One run of the dump: [start, end) mapped at one level with one set of flags. */
struct hpfn_pt_run {
	uint64_t start;
	uint64_t end;
	enum hpfn_pt_level level;
	unsigned int flags;
};

/*
 * Parse one line of the dump. Returns 1 and fills @run for a range line,
 * 0 for a line that is not a range (a "---[ marker ]---" or blank line),
 * -EINVAL for a range line that does not have the expected shape.
 */
int hpfn_ptdump_parse_line(const char *line, struct hpfn_pt_run *run);

/*
 * Collect the runs that overlap [start, start + len) from an open dump
 * stream, clipped to that range, in address order. At most @max runs are
 * stored in @runs; the return value is the number of runs found (which may
 * exceed @max), or a negative errno (-EINVAL for a malformed dump, -ERANGE
 * when the runs found do not cover the range without gaps).
 */
int hpfn_ptdump_collect(const char *text, size_t text_len, uint64_t start,
			uint64_t len, struct hpfn_pt_run *runs, size_t max);

/*
 * The whole of a text file (a debugfs dump, a /proc file), NUL-terminated,
 * its length in *@len when @len is not NULL; free() it. NULL with errno
 * set when it cannot be read.
 */
char *hpfn_read_whole(const char *path, size_t *len);

/*
 * Read the dump of the calling process (HPFN_PTDUMP_REL under
 * @sysfs_root, "/sys" on a real system) and collect.
 */
int hpfn_ptdump_read(const char *sysfs_root, uint64_t start, uint64_t len,
		     struct hpfn_pt_run *runs, size_t max);

/*
 * The memory type (an enum hugepfn_cache value) that a leaf's PWT, PCD and
 * PAT flags select on x86 Linux: PAT index PAT<<2 | PCD<<1 | PWT into the
 * table Linux programs when PAT is enabled (@pat non-zero: WB, WC, UC-, UC,
 * WB, WP, UC-, WT), or the power-on table the kernel emulates without PAT
 * (WB, WT, UC-, UC, twice). HUGEPFN_CACHE_UNKNOWN for a non-present run.
 */
int hpfn_pt_cache_mode(unsigned int flags, int pat);

/*
 * Whether x86 PAT is enabled, as far as debugfs tells: 1 when
 * x86/pat_memtype_list exists (created only with PAT on), 0 when debugfs is
 * there without it, -ENOENT when debugfs is not readable.
 */
int hpfn_pat_enabled(const char *sysfs_root);

/* "pte", "pmd", ... and the page size a level maps ("4K", "2M", "1G"). */
const char *hpfn_pt_level_name(enum hpfn_pt_level level);
const char *hpfn_pt_level_size(enum hpfn_pt_level level);

/* Space-separated flag names in dump order, e.g. "USR RW PWT PSE NX". */
void hpfn_pt_flags_str(unsigned int flags, char *buf, size_t size);

#endif
