// SPDX-License-Identifier: GPL-2.0
/*
 * Randomised stress of huge PFN-map leaves: random sequences of mmap, first
 * writes, fork, 4 KiB and 2 MiB mprotect, partial munmap, mremap (congruent
 * or not) and revocation (unmap_mapping_range() through the test module),
 * on PMD and PUD mappings, from two threads at once, for a bounded time.
 *
 * Each thread owns one GiB of the ivshmem BAR2 and maps part or all of it
 * from /dev/hpfn_test (remap_pfn_range(), a VMA without fault handler, so
 * PUD/PMD leaves on the patched kernel). A model tracks every 4 KiB page:
 * its virtual address, protection, whether it was revoked or unmapped, and
 * which VMA it is in. The oracles:
 *  - data: a write through the mapping must appear at the same physical
 *    address, read through a second mapping of the whole BAR (the sysfs
 *    resource file, never revoked); a read must agree with it;
 *  - faults: revoked, PROT_NONE and read-only pages fault as the model says;
 *  - the page-table oracle (hpfn_test.ko): mapped pages are present and
 *    revoked ones are not;
 *  - children of fork() check a sample of pages the same way;
 *  - the harness: a kernel log without warnings.
 * The seed is printed; hpfn.stress_seed= on the kernel command line
 * (run-vm.sh --append) replays it; hpfn.stress_seconds= sets the time.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "align.h"
#include "guest.h"
#include "hpfn_test.h"
#include "tap.h"

#define IVSHMEM_VENDOR 0x1af4
#define IVSHMEM_DEVICE 0x1110
#define THREADS 2
#define REGION SZ_1G			/* BAR bytes per thread */
#define PAGES (REGION / SZ_4K)
#define PMD_PAGES (SZ_2M / SZ_4K)
#define ARENA (4 * SZ_1G)		/* address space per thread */
#define MOVED_BASE (2 * SZ_1G)		/* where mremap() puts pieces */
#define CHILD_SAMPLE 64
#define CHILD_EXIT_BASE 10		/* + 3 * sample index + check_read() - 1 */
#define HISTORY 24			/* operations kept for a failure's report */
#define HISTORY_LINE 96

enum page_state { P_UNMAPPED, P_RW, P_RO, P_NONE, P_REVOKED };

struct stress {
	unsigned int id;
	pthread_t thread;
	uint64_t rng;
	uint64_t phys;			/* of this thread's region */
	volatile uint8_t *alias;	/* the region through the sysfs file */
	uint8_t *arena;
	uint64_t moved;			/* bump pointer above MOVED_BASE */
	uint64_t lo, hi;		/* the pages the last op_map() mapped */
	uint8_t state[PAGES];
	uint32_t vma[PAGES];
	uint64_t vaddr[PAGES];
	uint32_t next_vma;
	/* results */
	uint64_t ops, forks, fork_refusals, writes, reads, level_checks;
	uint64_t failures;
	char first_failure[256];
	/* the last mapping changes, and what they were at the first failure */
	char history[HISTORY][HISTORY_LINE];
	uint64_t history_next;
	char failure_history[HISTORY][HISTORY_LINE];
	uint64_t failure_history_next;
};

static int test_fd = -1;
static int pud_partial_zap;	/* the series splits a PUD leaf a zap cuts */
static __thread sigjmp_buf probe_jmp;
static __thread volatile int probing;

static void on_fault(int sig)
{
	static const char msg[] = "not ok - unexpected fault outside a probe\n";

	if (probing)
		siglongjmp(probe_jmp, sig);
	if (write(STDOUT_FILENO, msg, sizeof(msg) - 1) < 0)
		_exit(2);
	_exit(1);
}

/* Read (or write @val to) @p; 0, or the signal that the access raised. */
static int probe(volatile uint64_t *p, int write_it, uint64_t val, uint64_t *out)
{
	int sig = sigsetjmp(probe_jmp, 1);

	if (sig) {
		probing = 0;
		return sig;
	}
	probing = 1;
	if (write_it)
		*p = val;
	else
		*out = *p;
	probing = 0;
	return 0;
}

static uint64_t rnd(struct stress *s)
{
	s->rng ^= s->rng << 13;
	s->rng ^= s->rng >> 7;
	s->rng ^= s->rng << 17;
	return s->rng;
}

static uint64_t below(struct stress *s, uint64_t n)
{
	return n ? rnd(s) % n : 0;
}

__attribute__((format(printf, 2, 3)))
static void fail(struct stress *s, const char *fmt, ...)
{
	va_list ap;

	if (!s->failures++) {
		va_start(ap, fmt);
		vsnprintf(s->first_failure, sizeof(s->first_failure), fmt, ap);
		va_end(ap);
		memcpy(s->failure_history, s->history, sizeof(s->history));
		s->failure_history_next = s->history_next;
	}
}

/* Record a change of the mappings, for the report of a first failure. */
__attribute__((format(printf, 2, 3)))
static void note_op(struct stress *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->history[s->history_next++ % HISTORY], HISTORY_LINE, fmt, ap);
	va_end(ap);
}

/* The changes that led to the first failure, oldest first. */
static void report_history(const struct stress *s)
{
	uint64_t i = s->failure_history_next > HISTORY ? s->failure_history_next - HISTORY : 0;

	for (; i < s->failure_history_next; i++)
		tap_diag("thread %u: op %" PRIu64 " before the first failure: %s", s->id, i,
			 s->failure_history[i % HISTORY]);
}

static volatile uint64_t *page_word(const struct stress *s, uint64_t pg, unsigned int w)
{
	return (volatile uint64_t *)(uintptr_t)(s->vaddr[pg] + w * 8);
}

static volatile uint64_t *alias_word(const struct stress *s, uint64_t pg, unsigned int w)
{
	return (volatile uint64_t *)(s->alias + pg * SZ_4K + w * 8);
}

/* Keep a hole of the arena reserved, so that nothing else is mapped there. */
static void reserve(struct stress *s, uint64_t addr, uint64_t len)
{
	if (mmap((void *)(uintptr_t)addr, len, PROT_NONE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0) == MAP_FAILED)
		fail(s, "re-reserve %#" PRIx64 "+%#" PRIx64 ": %s", addr, len, strerror(errno));
}

/* Pages [a, b) are mapped, virtually contiguous and (if @one_vma) in one VMA. */
static int range_ok(const struct stress *s, uint64_t a, uint64_t b, int one_vma)
{
	uint64_t i;

	if (a >= b || b > PAGES)
		return 0;
	for (i = a; i < b; i++) {
		if (s->state[i] == P_UNMAPPED)
			return 0;
		if (i > a && (s->vaddr[i] != s->vaddr[i - 1] + SZ_4K ||
			      (one_vma && s->vma[i] != s->vma[a])))
			return 0;
	}
	return 1;
}

/* A random page of those mapped by the last op_map(). */
static uint64_t pick_page(struct stress *s)
{
	return s->lo + below(s, s->hi - s->lo);
}

/* A random range: one page, one aligned 2 MiB piece, or up to 4 MiB. */
static void pick_range(struct stress *s, uint64_t *a, uint64_t *b)
{
	switch (below(s, 3)) {
	case 0:
		*a = pick_page(s);
		*b = *a + 1;
		break;
	case 1:
		*a = pick_page(s) & ~(PMD_PAGES - 1);
		*b = *a + PMD_PAGES;
		break;
	default:
		*a = pick_page(s);
		*b = *a + 1 + below(s, 2 * PMD_PAGES);
	}
	if (*b > PAGES)
		*b = PAGES;
}

/* Replace everything in the arena by a reservation, in one step. */
static void unmap_all(struct stress *s)
{
	s->arena = mmap(s->arena, ARENA, PROT_NONE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0);
	if (s->arena == MAP_FAILED)
		tap_bail("thread %u: re-reserve its arena: %s", s->id, strerror(errno));
	memset(s->state, P_UNMAPPED, sizeof(s->state));
	s->moved = 0;
}

/* Map the whole GiB (a PUD leaf where there are) or a random part of it. */
static void op_map(struct stress *s)
{
	uint64_t a = 0, b = PAGES, i;
	void *p;

	unmap_all(s);
	if (below(s, 3)) {
		a = below(s, PAGES / PMD_PAGES) * PMD_PAGES;
		b = a + PMD_PAGES * (1 + below(s, 64));
		if (below(s, 4) == 0)	/* an unaligned head and tail */
			a += 1 + below(s, PMD_PAGES - 1), b += below(s, PMD_PAGES);
		if (b > PAGES)
			b = PAGES;
	}
	p = mmap(s->arena + a * SZ_4K, (b - a) * SZ_4K, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_FIXED, test_fd, (off_t)(s->id * REGION + a * SZ_4K));
	if (p == MAP_FAILED) {
		fail(s, "mmap pages %" PRIu64 "..%" PRIu64 ": %s", a, b, strerror(errno));
		return;
	}
	note_op(s, "map pages %" PRIu64 "..%" PRIu64 " at %p", a, b, p);
	s->lo = a;
	s->hi = b;
	s->next_vma++;
	for (i = a; i < b; i++) {
		s->state[i] = P_RW;
		s->vma[i] = s->next_vma;
		s->vaddr[i] = (uintptr_t)s->arena + i * SZ_4K;
	}
}

/* Write a tag through the mapping; it must land at the same physical page. */
static void op_write(struct stress *s)
{
	uint64_t pg = pick_page(s), tag = rnd(s) | 1, got;
	unsigned int w = below(s, SZ_4K / 8);
	int sig;

	if (s->state[pg] == P_UNMAPPED)
		return;
	sig = probe(page_word(s, pg, w), 1, tag, NULL);
	s->writes++;
	if (s->state[pg] != P_RW) {
		if (!sig)
			fail(s, "page %" PRIu64 " (state %d) took a write", pg, s->state[pg]);
		return;
	}
	if (sig)
		fail(s, "write to mapped page %" PRIu64 " raised signal %d", pg, sig);
	else if ((got = *alias_word(s, pg, w)) != tag)
		fail(s, "page %" PRIu64 ": wrote %#" PRIx64 ", the BAR holds %#" PRIx64, pg, tag, got);
}

/* Read one word: as the BAR says where mapped, a fault elsewhere. 0 if right. */
static int check_read(const struct stress *s, uint64_t pg, unsigned int w)
{
	uint64_t got = 0;
	int sig = probe(page_word(s, pg, w), 0, 0, &got);

	if (s->state[pg] == P_RW || s->state[pg] == P_RO)
		return sig ? 1 : got != *alias_word(s, pg, w) ? 2 : 0;
	return sig ? 0 : 3;
}

static void op_read(struct stress *s)
{
	uint64_t pg = pick_page(s);
	int bad;

	if (s->state[pg] == P_UNMAPPED)
		return;
	s->reads++;
	bad = check_read(s, pg, below(s, SZ_4K / 8));
	if (bad)
		fail(s, "read of page %" PRIu64 " (state %d): %s", pg, s->state[pg],
		     bad == 1 ? "faulted" : bad == 2 ? "differs from the BAR" : "did not fault");
}

static void op_mprotect(struct stress *s)
{
	static const int prots[] = { PROT_READ | PROT_WRITE, PROT_READ, PROT_NONE };
	static const uint8_t states[] = { P_RW, P_RO, P_NONE };
	unsigned int k = below(s, 3);
	uint64_t a, b, i;

	pick_range(s, &a, &b);
	if (!range_ok(s, a, b, 1))
		return;
	if (mprotect((void *)(uintptr_t)s->vaddr[a], (b - a) * SZ_4K, prots[k])) {
		fail(s, "mprotect pages %" PRIu64 "..%" PRIu64 ": %s", a, b, strerror(errno));
		return;
	}
	note_op(s, "mprotect pages %" PRIu64 "..%" PRIu64 " to state %u", a, b, states[k]);
	s->next_vma++;
	for (i = a; i < b; i++) {
		if (s->state[i] != P_REVOKED)
			s->state[i] = states[k];
		s->vma[i] = s->next_vma;
	}
}

static void op_munmap(struct stress *s)
{
	uint64_t a, b, i;

	pick_range(s, &a, &b);
	if (!range_ok(s, a, b, 0))
		return;
	if (munmap((void *)(uintptr_t)s->vaddr[a], (b - a) * SZ_4K)) {
		fail(s, "munmap pages %" PRIu64 "..%" PRIu64 ": %s", a, b, strerror(errno));
		return;
	}
	note_op(s, "munmap pages %" PRIu64 "..%" PRIu64, a, b);
	reserve(s, s->vaddr[a], (b - a) * SZ_4K);
	for (i = a; i < b; i++)
		s->state[i] = P_UNMAPPED;
}

/* Move pages to the upper half of the arena, congruent modulo 2 MiB or not. */
static void op_mremap(struct stress *s)
{
	uint64_t a, b, i, len, dst, old;
	void *p;

	pick_range(s, &a, &b);
	if (!range_ok(s, a, b, 1))
		return;
	len = (b - a) * SZ_4K;
	dst = (s->moved + SZ_2M - 1) & ~(SZ_2M - 1);
	dst += below(s, 2) ? (s->vaddr[a] & (SZ_2M - 1)) : SZ_4K * (1 + below(s, 511));
	if (MOVED_BASE + dst + len > ARENA)
		return;
	old = s->vaddr[a];
	p = mremap((void *)(uintptr_t)old, len, len, MREMAP_MAYMOVE | MREMAP_FIXED,
		   s->arena + MOVED_BASE + dst);
	if (p == MAP_FAILED) {
		fail(s, "mremap pages %" PRIu64 "..%" PRIu64 ": %s", a, b, strerror(errno));
		return;
	}
	note_op(s, "mremap pages %" PRIu64 "..%" PRIu64 " from %#" PRIx64 " to %p", a, b, old, p);
	s->moved = dst + len;
	reserve(s, old, len);
	s->next_vma++;
	for (i = a; i < b; i++) {
		s->vaddr[i] = (uintptr_t)p + (i - a) * SZ_4K;
		s->vma[i] = s->next_vma;
	}
}

/*
 * A zap of part of a 1 GiB leaf drops the whole leaf: it cannot allocate
 * the tables a split into PMD leaves takes (kernel/README.md, "PUD
 * leaves"), unless the series' FEATURES lists remap-pud-partial-zap. So,
 * where the oracle sees a PUD leaf at page @pg, the model revokes every
 * page of that leaf.
 */
static void revoke_pud_leaf_at(struct stress *s, uint64_t pg)
{
	const uint64_t mask = ~(uint64_t)(SZ_1G - 1);
	struct hpfn_pt_run run;
	uint64_t i;

	if (pud_partial_zap)
		return;
	if (s->state[pg] == P_UNMAPPED || s->state[pg] == P_REVOKED)
		return;
	if (guest_module_levels(s->vaddr[pg], SZ_4K, &run, 1) != 1 || run.level != HPFN_PT_PUD)
		return;
	for (i = 0; i < PAGES; i++)
		if (s->state[i] != P_UNMAPPED && (s->vaddr[i] & mask) == (s->vaddr[pg] & mask))
			s->state[i] = P_REVOKED;
}

/* The page-table level that maps page @pg (HPFN_PT_*), or -1. */
static int page_level(const struct stress *s, uint64_t pg)
{
	struct hpfn_pt_run run;

	if (s->state[pg] == P_UNMAPPED ||
	    guest_module_levels(s->vaddr[pg], SZ_4K, &run, 1) != 1)
		return -1;
	return run.level;
}

/* Revoke a range of the device's mappings, as a driver does on reset. */
static void op_revoke(struct stress *s)
{
	struct hpfn_test_zap z;
	uint64_t a, b, i;
	int level_a, level_b;

	pick_range(s, &a, &b);
	level_a = page_level(s, a);
	level_b = page_level(s, b - 1);
	revoke_pud_leaf_at(s, a);
	revoke_pud_leaf_at(s, b - 1);
	z.offset = s->id * REGION + a * SZ_4K;
	z.len = (b - a) * SZ_4K;
	if (ioctl(test_fd, HPFN_TEST_IOC_ZAP, &z)) {
		fail(s, "revoke pages %" PRIu64 "..%" PRIu64 ": %s", a, b, strerror(errno));
		return;
	}
	note_op(s, "revoke pages %" PRIu64 "..%" PRIu64 " (levels before: %d, %d)", a, b,
		level_a, level_b);
	for (i = a; i < b; i++)
		if (s->state[i] != P_UNMAPPED)
			s->state[i] = P_REVOKED;
}

/*
 * 6.12's PAT tracking reads a VM_PAT VMA's first page at fork and refuses
 * the fork (EINVAL) when that page has been revoked; pfnmap_track_ctx in
 * later kernels removes this. Can that happen now?
 */
static int fork_may_be_refused(const struct stress *s)
{
	uint64_t i;

	for (i = 0; i < PAGES; i++)
		if (s->state[i] == P_REVOKED &&
		    (i == 0 || s->state[i - 1] == P_UNMAPPED || s->vma[i - 1] != s->vma[i] ||
		     s->vaddr[i - 1] + SZ_4K != s->vaddr[i]))
			return 1;
	return 0;
}

static const char *const read_errors[] = { "ok", "faulted", "differs from the BAR", "did not fault" };

/* What a child found wrong, and what the parent finds at that page now. */
static void report_child(struct stress *s, const uint64_t *pages, int n, int status)
{
	int code = WIFEXITED(status) ? WEXITSTATUS(status) - CHILD_EXIT_BASE : -1;
	uint64_t pg;

	if (code < 0 || code / 3 >= n) {
		fail(s, "a child failed (status %#x)", status);
		return;
	}
	pg = pages[code / 3];
	fail(s, "a child's read of page %" PRIu64 " (state %d) %s; the parent's %s, level %d",
	     pg, s->state[pg], read_errors[code % 3 + 1],
	     read_errors[check_read(s, pg, 0)], page_level(s, pg));
}

static void op_fork(struct stress *s)
{
	uint64_t pages[CHILD_SAMPLE];
	int i, n = 0, status;
	pid_t pid;

	for (i = 0; i < CHILD_SAMPLE * 4 && n < CHILD_SAMPLE; i++) {
		uint64_t pg = pick_page(s);

		if (s->state[pg] != P_UNMAPPED)
			pages[n++] = pg;
	}
	pid = fork();
	if (pid < 0) {
		if (errno == EINVAL && fork_may_be_refused(s))
			s->fork_refusals++;
		else
			fail(s, "fork: %s", strerror(errno));
		return;
	}
	if (pid == 0) {
		for (i = 0; i < n; i++) {
			int bad = check_read(s, pages[i], i);

			if (bad)	/* which page, and how it was wrong */
				_exit(CHILD_EXIT_BASE + i * 3 + bad - 1);
		}
		_exit(0);
	}
	s->forks++;
	note_op(s, "fork (child %d)", (int)pid);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
		report_child(s, pages, n, status);
}

/* The page-table oracle: mapped pages present, revoked ones not. */
static void op_levels(struct stress *s)
{
	struct hpfn_pt_run run;
	uint64_t pg = pick_page(s);
	int n, present;

	if (s->state[pg] == P_UNMAPPED || s->state[pg] == P_NONE)
		return;
	n = guest_module_levels(s->vaddr[pg], SZ_4K, &run, 1);
	present = n == 1 && run.level != HPFN_PT_NONE;
	s->level_checks++;
	if (n < 0)
		fail(s, "oracle query of page %" PRIu64 ": %s", pg, strerror(-n));
	else if (present != (s->state[pg] != P_REVOKED))
		fail(s, "oracle: page %" PRIu64 " (state %d) is %s", pg, s->state[pg],
		     present ? "mapped" : "not mapped");
}

static void *stress_main(void *arg)
{
	static void (*const ops[])(struct stress *) = {
		op_write, op_write, op_write, op_read, op_read, op_mprotect, op_mprotect,
		op_munmap, op_mremap, op_revoke, op_fork, op_levels, op_levels, op_map,
	};
	struct stress *s = arg;
	uint64_t deadline = guest_now_ns() + guest_param_ull("stress_seconds", 30) * 1000000000ULL;

	op_map(s);
	while (guest_now_ns() < deadline && s->failures < 20) {
		ops[below(s, sizeof(ops) / sizeof(ops[0]))](s);
		s->ops++;
	}
	unmap_all(s);
	return NULL;
}

static void start_threads(struct stress *st, const struct guest_bar *bar, uint8_t *alias,
			  uint64_t seed)
{
	unsigned int i;

	for (i = 0; i < THREADS; i++) {
		struct stress *s = &st[i];

		s->id = i;
		s->rng = seed * 2654435761ULL + i + 1;
		s->phys = bar->phys + i * REGION;
		s->alias = alias + i * REGION;
		s->arena = hpfn_mmap_congruent(-1, 0, ARENA, PROT_NONE,
					       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
					       s->phys, SZ_1G);
		if (s->arena == MAP_FAILED)
			tap_bail("reserve %llu GiB of address space: %s", ARENA >> 30,
				 strerror(errno));
		if (pthread_create(&s->thread, NULL, stress_main, s))
			tap_bail("pthread_create failed");
	}
}

#define FEATURE_READERS 4
#define FEATURE_READS 500

/* How many of FEATURE_READS answers for the partial-zap feature differ. */
static void *read_feature(void *arg)
{
	uintptr_t differ = 0;
	int i;

	for (i = 0; i < FEATURE_READS; i++)
		differ += guest_has_feature("remap-pud-partial-zap") != pud_partial_zap;
	return (void *)differ;
}

/*
 * The model trusts guest_has_feature() from both threads: once it read
 * the command line into one static buffer, and a thread that asked while
 * the other did got the wrong answer, a model that revoked a whole GiB.
 */
static void check_feature_reads(void)
{
	pthread_t t[FEATURE_READERS];
	uintptr_t differ = 0;
	void *ret;
	int i, n = 0;

	for (i = 0; i < FEATURE_READERS; i++)
		n += !pthread_create(&t[i], NULL, read_feature, NULL);
	for (i = 0; i < n; i++) {
		pthread_join(t[i], &ret);
		differ += (uintptr_t)ret;
	}
	tap_check(n == FEATURE_READERS && !differ,
		  "%d threads asking for a feature at once all get the same answer "
		  "(%" PRIuPTR " of %d differed)", n, differ, n * FEATURE_READS);
}

static int open_target(const struct guest_bar *bar)
{
	struct hpfn_test_target t = { .phys = bar->phys, .size = THREADS * REGION };
	int fd = open(HPFN_TEST_DEV, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		tap_bail("open %s: %s", HPFN_TEST_DEV, strerror(errno));
	if (ioctl(fd, HPFN_TEST_IOC_SET_TARGET, &t))
		tap_bail("aim %s at BAR2: %s", HPFN_TEST_DEV, strerror(errno));
	return fd;
}

int main(void)
{
	static struct stress st[THREADS];
	struct sigaction sa = { .sa_handler = on_fault };
	struct guest_bar bar;
	uint64_t seed = guest_param_ull("stress_seed", guest_now_ns());
	unsigned int i;
	uint8_t *alias;
	int sysfs_fd, ret;

	ret = guest_find_bar(IVSHMEM_VENDOR, IVSHMEM_DEVICE, 2, THREADS * REGION, UINT64_MAX, &bar);
	if (ret)
		tap_bail("find the ivshmem device with a 2 GiB BAR2: %s", strerror(-ret));
	tap_diag("seed %#" PRIx64 " (run-vm.sh --append hpfn.stress_seed=%#" PRIx64
		 " replays it), BAR2 at %#" PRIx64, seed, seed,
		 bar.phys);
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_NODEFER;
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);

	sysfs_fd = open(bar.path, O_RDWR | O_CLOEXEC);
	if (sysfs_fd < 0)
		tap_bail("open %s: %s", bar.path, strerror(errno));
	alias = mmap(NULL, THREADS * REGION, PROT_READ | PROT_WRITE, MAP_SHARED, sysfs_fd, 0);
	if (alias == MAP_FAILED)
		tap_bail("map BAR2 through %s: %s", bar.path, strerror(errno));
	test_fd = open_target(&bar);
	pud_partial_zap = guest_has_feature("remap-pud-partial-zap");
	check_feature_reads();

	start_threads(st, &bar, alias, seed);
	for (i = 0; i < THREADS; i++) {
		struct stress *s = &st[i];

		pthread_join(s->thread, NULL);
		tap_diag("thread %u: %" PRIu64 " operations: %" PRIu64 " writes, %" PRIu64
			 " reads, %" PRIu64 " forks (%" PRIu64 " refused by 6.12's PAT tracking), %"
			 PRIu64 " oracle checks", i, s->ops, s->writes, s->reads, s->forks,
			 s->fork_refusals, s->level_checks);
		tap_check(s->ops > 100 && s->forks > 0 && s->writes > 0,
			  "thread %u: the random sequence ran (%" PRIu64 " operations)", i, s->ops);
		tap_check(!s->failures, "thread %u: every check held (%" PRIu64 " failed%s%s)", i,
			  s->failures, s->failures ? "; first: " : "", s->first_failure);
		if (s->failures)
			report_history(s);
	}
	munmap(alias, THREADS * REGION);
	close(test_fd);
	close(sysfs_fd);
	return tap_exit();
}
