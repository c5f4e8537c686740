// SPDX-License-Identifier: GPL-2.0
/* Host unit tests of the debugfs page-table dump parser (lib/ptdump.c). */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "hugepfn.h"
#include "ptdump.h"
#include "unit.h"

/* The shape of a real current_kernel dump, user part (6.12 x86_64). */
static const char dump[] =
	"---[ User Space ]---\n"
	"0x0000000000000000-0x00007f0000000000   127G                               pgd\n"
	"0x00007f0000000000-0x00007f0000001000           4K     USR RW     PCD                 NX pte\n"
	"0x00007f0000001000-0x00007f0000200000        2044K                               pte\n"
	"0x00007f0000200000-0x00007f0000600000           4M     USR RW     PCD PSE         NX pmd\n"
	"0x00007f0000600000-0x00007f0000800000           2M     USR ro PWT     PSE         NX pmd\n"
	"0x00007f0000800000-0x00007f0040000000        1016M                               pmd\n"
	"0x00007f0040000000-0x00007f0080000000           1G     USR RW PWT     PSE         NX pud\n"
	"0x00007f0080000000-0x00007f0080001000           4K     USR RW PWT         PAT     NX pte\n"
	"---[ Kernel Space ]---\n"
	"0xffff800000000000-0xffff880000000000           8T                               pgd\n"
	"0xffff888000000000-0xffff888000200000           2M     RW                 GLB NX pte\n";

static void test_lines(void)
{
	struct hpfn_pt_run r;

	CHECK(hpfn_ptdump_parse_line("---[ User Space ]---", &r) == 0, "marker line is not a range");
	CHECK(hpfn_ptdump_parse_line("", &r) == 0, "empty line is not a range");
	CHECK(hpfn_ptdump_parse_line("0x0000000000200000-0x0000000000400000           2M     USR RW     PCD PSE         NX pmd", &r) == 1 &&
	      r.start == 0x200000 && r.end == 0x400000 && r.level == HPFN_PT_PMD &&
	      r.flags == (HPFN_PTF_PRESENT | HPFN_PTF_USER | HPFN_PTF_RW | HPFN_PTF_PCD | HPFN_PTF_PSE | HPFN_PTF_NX),
	      "UC- PMD line parsed with its flags");
	CHECK(hpfn_ptdump_parse_line("0x0000000000000000-0x0000000000001000           4K                               pte", &r) == 1 &&
	      r.level == HPFN_PT_NONE && r.flags == 0, "not-present line has level none");
	CHECK(hpfn_ptdump_parse_line("0x0000000000001000-0x0000000000002000  4K USR ro x  pte", &r) == 1 &&
	      r.flags == (HPFN_PTF_PRESENT | HPFN_PTF_USER), "read-only executable PTE");
	CHECK(hpfn_ptdump_parse_line("0x0000000000001000-0x0000000000002000  4K USR RW BOGUS pte", &r) == -EINVAL,
	      "unknown attribute rejected");
	CHECK(hpfn_ptdump_parse_line("0x0000000000001000-0x0000000000002000  4K USR RW", &r) == -EINVAL,
	      "line without a level rejected");
	CHECK(hpfn_ptdump_parse_line("0x0000000000001000-0x0000000000002000  4K USR RW pte pmd", &r) == -EINVAL,
	      "two levels rejected");
	CHECK(hpfn_ptdump_parse_line("0x0000000000002000-0x0000000000001000  4K USR RW pte", &r) == -EINVAL,
	      "end before start rejected");
	CHECK(hpfn_ptdump_parse_line("0x00000000000010000000-0x0000000000002000  4K USR RW pte", &r) == -EINVAL,
	      "over-long hex rejected");
	CHECK(hpfn_ptdump_parse_line("0xffffffffff800000-0x0000000000000000           8M                               pmd", &r) == 1 &&
	      r.end == UINT64_MAX, "the range ending at the top of the address space (printed as 0)");
	CHECK(hpfn_ptdump_parse_line("0x0000000000001000-0x0000000000001000  0K USR RW pte", &r) == -EINVAL,
	      "empty range rejected");
	CHECK(hpfn_ptdump_parse_line("0x-0x1000  4K USR RW pte", &r) == -EINVAL, "empty hex rejected");
	CHECK(hpfn_ptdump_parse_line("0x1000 0x2000  4K USR RW pte", &r) == -EINVAL, "missing dash rejected");
	CHECK(hpfn_ptdump_parse_line("0x1000-0x2000 USR RW pte", &r) == -EINVAL, "missing size rejected");
	CHECK(hpfn_ptdump_parse_line("0x1000-0x2000 4K USR PCD pte", &r) == -EINVAL,
	      "attributes without RW/ro rejected");
}

static void test_collect(void)
{
	struct hpfn_pt_run runs[8];
	int n;

	n = hpfn_ptdump_collect(dump, sizeof(dump) - 1, 0x7f0000200000ULL, 0x600000, runs, 8);
	CHECK(n == 2, "6 MiB over two PMD runs gives 2 runs (got %d)", n);
	CHECK(n == 2 && runs[0].level == HPFN_PT_PMD && runs[0].end == 0x7f0000600000ULL &&
	      (runs[0].flags & HPFN_PTF_PCD) && runs[1].level == HPFN_PT_PMD &&
	      !(runs[1].flags & HPFN_PTF_RW) && (runs[1].flags & HPFN_PTF_PWT),
	      "the runs keep their own flags");

	n = hpfn_ptdump_collect(dump, sizeof(dump) - 1, 0x7f0000100000ULL, 0x200000, runs, 8);
	CHECK(n == 2 && runs[0].start == 0x7f0000100000ULL && runs[0].level == HPFN_PT_NONE &&
	      runs[1].start == 0x7f0000200000ULL && runs[1].end == 0x7f0000300000ULL,
	      "runs are clipped to the range");

	n = hpfn_ptdump_collect(dump, sizeof(dump) - 1, 0x7f0040000000ULL, 0x40001000ULL, runs, 8);
	CHECK(n == 2 && runs[0].level == HPFN_PT_PUD && runs[1].level == HPFN_PT_PTE &&
	      (runs[1].flags & HPFN_PTF_PAT), "PUD then a PTE with PAT");

	n = hpfn_ptdump_collect(dump, sizeof(dump) - 1, 0x7f0000000000ULL, 0x80001000ULL, runs, 2);
	CHECK(n == 7, "count beyond max is still reported (got %d)", n);

	n = hpfn_ptdump_collect(dump, sizeof(dump) - 1, 0xffff880000000000ULL, 0x1000, runs, 8);
	CHECK(n == -ERANGE, "a range the dump does not cover is -ERANGE");
	n = hpfn_ptdump_collect(dump, sizeof(dump) - 1, 0x1000, 0, runs, 8);
	CHECK(n == -EINVAL, "empty range is -EINVAL");
	n = hpfn_ptdump_collect(dump, sizeof(dump) - 1, ~0ULL - 10, 100, runs, 8);
	CHECK(n == -EINVAL, "overflowing range is -EINVAL");

	static const char bad[] = "0x0000000000000000-0x0000000000001000 4K USR RW bogus pte\n";
	n = hpfn_ptdump_collect(bad, sizeof(bad) - 1, 0, 0x1000, runs, 8);
	CHECK(n == -EINVAL, "malformed dump is -EINVAL");
	static const char truncated[] = "0x0000000000000000-0x0000000000001000 4K USR RW pte\n0x00000000000010";
	n = hpfn_ptdump_collect(truncated, sizeof(truncated) - 1, 0, 0x1000, runs, 8);
	CHECK(n == -EINVAL, "truncated last line is -EINVAL");
	n = hpfn_ptdump_collect(truncated, 52, 0, 0x1000, runs, 8);
	CHECK(n == 1, "a dump without a trailing newline parses");
}

static void test_names(void)
{
	char buf[64];

	CHECK(!strcmp(hpfn_pt_level_name(HPFN_PT_PMD), "pmd") &&
	      !strcmp(hpfn_pt_level_size(HPFN_PT_PUD), "1G"), "level names");
	hpfn_pt_flags_str(HPFN_PTF_PRESENT | HPFN_PTF_USER | HPFN_PTF_PWT | HPFN_PTF_PSE, buf, sizeof(buf));
	CHECK(!strcmp(buf, "USR ro PWT PSE"), "flags string '%s'", buf);
	hpfn_pt_flags_str(0, buf, sizeof(buf));
	CHECK(!strcmp(buf, "not-present"), "not-present flags string");
	hpfn_pt_flags_str(HPFN_PTF_PRESENT | HPFN_PTF_USER | HPFN_PTF_RW, buf, 5);
	CHECK(strlen(buf) < 5, "flags string truncates safely");
}

/* PWT/PCD/PAT of a leaf to a memory type, with and without PAT. */
static void test_cache_modes(void)
{
	static const int linux_pat[8] = {
		HUGEPFN_CACHE_WB, HUGEPFN_CACHE_WC, HUGEPFN_CACHE_UC_MINUS, HUGEPFN_CACHE_UC,
		HUGEPFN_CACHE_WB, HUGEPFN_CACHE_WP, HUGEPFN_CACHE_UC_MINUS, HUGEPFN_CACHE_WT,
	};
	static const int no_pat[8] = {
		HUGEPFN_CACHE_WB, HUGEPFN_CACHE_WT, HUGEPFN_CACHE_UC_MINUS, HUGEPFN_CACHE_UC,
		HUGEPFN_CACHE_WB, HUGEPFN_CACHE_WT, HUGEPFN_CACHE_UC_MINUS, HUGEPFN_CACHE_UC,
	};
	struct hpfn_pt_run runs[8];
	unsigned int idx;
	int ok_pat = 1, ok_nopat = 1, n;

	for (idx = 0; idx < 8; idx++) {
		unsigned int f = HPFN_PTF_PRESENT | HPFN_PTF_RW | (idx & 4 ? HPFN_PTF_PAT : 0) |
				 (idx & 2 ? HPFN_PTF_PCD : 0) | (idx & 1 ? HPFN_PTF_PWT : 0);

		ok_pat &= hpfn_pt_cache_mode(f, 1) == linux_pat[idx];
		ok_nopat &= hpfn_pt_cache_mode(f, 0) == no_pat[idx];
	}
	CHECK(ok_pat, "PAT index PAT<<2|PCD<<1|PWT through Linux's PAT table: WB WC UC- UC WB WP UC- WT");
	CHECK(ok_nopat, "without PAT: the power-on table WB WT UC- UC, PAT bit ignored");
	CHECK(hpfn_pt_cache_mode(HPFN_PTF_PWT | HPFN_PTF_PCD, 1) == HUGEPFN_CACHE_UNKNOWN,
	      "a non-present run has no memory type");
	n = hpfn_ptdump_collect(dump, sizeof(dump) - 1, 0x7f0000200000ULL, 0x600000, runs, 8);
	CHECK(n == 2 && hpfn_pt_cache_mode(runs[0].flags, 1) == HUGEPFN_CACHE_UC_MINUS &&
	      hpfn_pt_cache_mode(runs[1].flags, 1) == HUGEPFN_CACHE_WC,
	      "dump lines: a PCD pmd is UC-, a PWT pmd is WC");
	n = hpfn_ptdump_collect(dump, sizeof(dump) - 1, 0x7f0040000000ULL, 0x40001000ULL, runs, 8);
	CHECK(n == 2 && hpfn_pt_cache_mode(runs[0].flags, 1) == HUGEPFN_CACHE_WC &&
	      hpfn_pt_cache_mode(runs[1].flags, 1) == HUGEPFN_CACHE_WP,
	      "dump lines: a PWT pud is WC, a PWT PAT pte is WP");
	n = hpfn_ptdump_collect(dump, sizeof(dump) - 1, 0xffff888000000000ULL, 0x200000, runs, 8);
	CHECK(n == 1 && hpfn_pt_cache_mode(runs[0].flags, 1) == HUGEPFN_CACHE_WB,
	      "dump lines: no cache bits is WB");
}

/* A whole dump captured from the patched 6.12 test kernel (busybox sed's mm). */
static void test_real_dump(const char *path)
{
	static char text[1 << 16];
	struct hpfn_pt_run runs[64];
	FILE *f = fopen(path, "r");
	size_t len;
	int n;

	CHECK(f != NULL, "open %s", path);
	if (!f)
		return;
	len = fread(text, 1, sizeof(text), f);
	fclose(f);
	CHECK(len > 0 && len < sizeof(text), "read the captured dump (%zu bytes)", len);
	n = hpfn_ptdump_collect(text, len, 0x400000, 0x1000, runs, 64);
	CHECK(n == 1 && runs[0].level == HPFN_PT_PTE && (runs[0].flags & HPFN_PTF_USER) &&
	      !(runs[0].flags & HPFN_PTF_RW) && (runs[0].flags & HPFN_PTF_NX),
	      "the program's first page: user read-only NX pte");
	n = hpfn_ptdump_collect(text, len, 0, 0x800000000000ULL, runs, 64);
	CHECK(n > 10, "the whole user half parses into runs (%d)", n);
	n = hpfn_ptdump_collect(text, len, 0xffffffffff800000ULL, 0x7fffff, runs, 64);
	CHECK(n == 1, "the kernel's last range parses");
	n = hpfn_ptdump_collect(text, len, 0xffffffffff5fc000ULL, 0x2000, runs, 64);
	CHECK(n == 1 && hpfn_pt_cache_mode(runs[0].flags, 1) == HUGEPFN_CACHE_UC,
	      "the kernel's PWT PCD fixmap pages are UC");
	n = hpfn_ptdump_collect(text, len, 0xffa0000010000000ULL, 0x10000000, runs, 64);
	CHECK(n == 1 && runs[0].level == HPFN_PT_PMD && hpfn_pt_cache_mode(runs[0].flags, 1) == HUGEPFN_CACHE_UC_MINUS,
	      "a kernel PCD pmd range is UC-");
}

int main(int argc, char **argv)
{
	test_real_dump(argc > 1 ? argv[1] : "ptdump-6.12-x86_64.txt");
	test_lines();
	test_collect();
	test_names();
	test_cache_modes();
	return UNIT_DONE();
}
