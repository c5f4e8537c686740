// SPDX-License-Identifier: GPL-2.0
/*
 * fork() racing with first writes to fresh huge leaves of a PFN map.
 *
 * remap_pfn_range() installs its leaves clean; the first write to one sets
 * its hardware dirty bit. copy_huge_pmd() reads the parent's entry without
 * the lock, allocates the child's deposit, then takes the locks and checks
 * the entry again: a check that treats "dirty now" as "changed" sends the
 * leaf to copy_pmd_range()'s table path, which calls it a bad PMD and
 * clears the parent's entry (the parent then gets SIGBUS, the child no
 * mapping, and the deposit leaks). This program hunts that window.
 *
 * Each round maps a fresh span of the ivshmem BAR2 through its sysfs
 * resource file (PMD leaves, or one PUD leaf, where the kernel has them),
 * starts writer threads that each make the first write to their share of
 * the leaves, and forks in a loop meanwhile. Every child reads one word per
 * leaf, which must hold this round's or the previous round's value; the
 * parent then checks every value and, through the test module, that every
 * page is still mapped at the expected level. A SIGBUS or SIGSEGV in the
 * parent ends the program at once, without a plan: a failure.
 *
 * A third phase races fork() with revocation: a thread revokes, through
 * /dev/hpfn_test (unmap_mapping_range(), without the mmap lock), the last
 * page of every even 2 MiB piece, which splits its leaf, and every odd piece
 * whole, which zaps its leaf, while the main thread forks. Every child must
 * still read the first page of every even piece, and must not be able to
 * read an odd piece whose revocation had returned when the child looked: a
 * fork that copied the parent's leaf as it read it before the revocation
 * would leave the child mapping revoked memory.
 *
 * Bounded by time (hpfn.race_seconds=, default 15 per phase) and rounds.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
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
#define WRITERS 3
#define MAX_ROUNDS 100000
#define MAX_RUNS 4096
#define CHILD_BAD_VALUE 3
#define CHILD_FAULT 4
#define CHILD_STALE 5

struct race_phase {
	const char *name;
	uint64_t span;		/* bytes mapped each round */
	uint64_t align;		/* the leaf size the mapping is congruent for */
	enum hpfn_pt_level want;
};

struct race {
	volatile uint64_t *words;
	uint64_t leaves;	/* number of 2 MiB pieces written */
	uint64_t round;
	pthread_barrier_t start;
	int writers_done;	/* atomic */
};

struct writer {
	struct race *race;
	unsigned int id;
	pthread_t thread;
};

/* The word of 2 MiB piece @i that round @round leaves behind. */
static uint64_t magic(uint64_t round, uint64_t i)
{
	return 0xf0c0000000000000ULL | (round << 24) | i;
}

static volatile uint64_t *piece_word(volatile uint64_t *words, uint64_t i)
{
	return words + i * (SZ_2M / sizeof(uint64_t));
}

static void fatal_fault(int sig, siginfo_t *si, void *uc)
{
	static const char msg[] = "not ok - the parent faulted on its own mapping "
				  "(a leaf was lost while forking)\n";

	(void)si;
	(void)uc;
	(void)sig;
	if (write(STDOUT_FILENO, msg, sizeof(msg) - 1) < 0)
		_exit(2);
	_exit(1);
}

static void child_fault(int sig)
{
	(void)sig;
	_exit(CHILD_FAULT);
}

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	struct race *r = w->race;
	uint64_t i;

	pthread_barrier_wait(&r->start);
	for (i = w->id; i < r->leaves; i += WRITERS)
		*piece_word(r->words, i) = magic(r->round, i);
	__atomic_add_fetch(&r->writers_done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* In the child: every piece holds this round's or the last round's value. */
static void child_check(const struct race *r)
{
	uint64_t i, v;

	signal(SIGBUS, child_fault);
	signal(SIGSEGV, child_fault);
	for (i = 0; i < r->leaves; i++) {
		v = *piece_word(r->words, i);
		if (v != magic(r->round, i) && v != magic(r->round - 1, i))
			_exit(CHILD_BAD_VALUE);
	}
	_exit(0);
}

struct race_result {
	uint64_t rounds, forks, child_failures, bad_values, bad_levels;
	int child_status;	/* the first failing child's wait status */
	char level_diag[128];
};

/* Fork until every writer is done (at least once); reap every child. */
static void fork_during_writes(struct race *r, struct race_result *res)
{
	int status;
	pid_t pid;

	do {
		pid = fork();
		if (pid < 0)
			tap_bail("fork: %s", strerror(errno));
		if (pid == 0)
			child_check(r);
		res->forks++;
		if (waitpid(pid, &status, 0) != pid)
			tap_bail("waitpid: %s", strerror(errno));
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			if (!res->child_failures++)
				res->child_status = status;
		}
	} while (__atomic_load_n(&r->writers_done, __ATOMIC_ACQUIRE) < WRITERS);
}

static void check_round(const struct race *r, const struct race_phase *ph,
			struct race_result *res)
{
	static struct hpfn_pt_run runs[MAX_RUNS];
	uint64_t i;
	int n;

	for (i = 0; i < r->leaves; i++)
		if (*piece_word(r->words, i) != magic(r->round, i))
			res->bad_values++;
	n = guest_module_levels((uintptr_t)r->words, ph->span, runs, MAX_RUNS);
	if (n <= 0 || !guest_all_level(runs, n, ph->want)) {
		if (!res->bad_levels++)
			snprintf(res->level_diag, sizeof(res->level_diag),
				 "round %" PRIu64 ": %d runs, first at level %s", r->round, n,
				 n > 0 ? hpfn_pt_level_name(runs[0].level) : "?");
	}
}

static void race_round(int fd, const struct guest_bar *bar, const struct race_phase *ph,
		       uint64_t round, struct race_result *res)
{
	struct writer writers[WRITERS];
	struct race r = { .leaves = ph->span / SZ_2M, .round = round };
	unsigned int i;
	void *map;

	map = hpfn_mmap_congruent(fd, 0, ph->span, PROT_READ | PROT_WRITE, MAP_SHARED,
				  bar->phys, ph->align);
	if (map == MAP_FAILED)
		tap_bail("%s: mmap %s: %s", ph->name, bar->path, strerror(errno));
	r.words = map;
	pthread_barrier_init(&r.start, NULL, WRITERS + 1);
	for (i = 0; i < WRITERS; i++) {
		writers[i] = (struct writer){ .race = &r, .id = i };
		if (pthread_create(&writers[i].thread, NULL, writer_main, &writers[i]))
			tap_bail("pthread_create failed");
	}
	pthread_barrier_wait(&r.start);
	fork_during_writes(&r, res);
	for (i = 0; i < WRITERS; i++)
		pthread_join(writers[i].thread, NULL);
	pthread_barrier_destroy(&r.start);
	check_round(&r, ph, res);
	munmap(map, ph->span);
	res->rounds++;
}

/* The values round 0 leaves: what round 1's children may read. */
static void seed_values(int fd, const struct race_phase *ph)
{
	volatile uint64_t *words;
	uint64_t i;

	words = mmap(NULL, ph->span, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (words == MAP_FAILED)
		tap_bail("%s: seed mmap: %s", ph->name, strerror(errno));
	for (i = 0; i < ph->span / SZ_2M; i++)
		*piece_word(words, i) = magic(0, i);
	munmap((void *)words, ph->span);
}

static void run_phase(int fd, const struct guest_bar *bar, const struct race_phase *ph,
		      unsigned int seconds)
{
	struct race_result res = { 0 };
	uint64_t deadline = guest_now_ns() + (uint64_t)seconds * 1000000000ULL;
	uint64_t round;

	seed_values(fd, ph);
	for (round = 1; round <= MAX_ROUNDS && guest_now_ns() < deadline; round++)
		race_round(fd, bar, ph, round, &res);

	tap_diag("%s: %" PRIu64 " rounds, %" PRIu64 " forks in %u s", ph->name, res.rounds,
		 res.forks, seconds);
	tap_check(res.rounds >= 2, "%s: at least two rounds ran (%" PRIu64 ")", ph->name,
		  res.rounds);
	tap_check(res.child_failures == 0,
		  "%s: every child read every piece (%" PRIu64 " of %" PRIu64
		  " failed; first: wait status 0x%x, exit %d = %s)",
		  ph->name, res.child_failures, res.forks, res.child_status,
		  WIFEXITED(res.child_status) ? WEXITSTATUS(res.child_status) : -1,
		  !res.child_failures ? "none" :
		  WIFEXITED(res.child_status) && WEXITSTATUS(res.child_status) == CHILD_FAULT ?
		  "fault" : "wrong value");
	tap_check(res.bad_values == 0,
		  "%s: the parent read back every value its writers wrote (%" PRIu64 " wrong)",
		  ph->name, res.bad_values);
	tap_check(res.bad_levels == 0,
		  "%s: every round stayed mapped with %s leaves (%" PRIu64 " rounds not%s%s)",
		  ph->name, hpfn_pt_level_name(ph->want), res.bad_levels,
		  res.bad_levels ? "; " : "", res.level_diag);
}

struct revoker {
	int fd;
	uint64_t leaves;
	int *revoked;	/* shared with the children: piece i's revocation returned */
	pthread_barrier_t start;
	int done;	/* atomic */
};

/* Odd pieces are revoked whole, even ones in their last page only. */
static bool revoked_whole(uint64_t i)
{
	return i % 2;
}

static void *revoker_main(void *arg)
{
	struct revoker *rv = arg;
	struct hpfn_test_zap z;
	uint64_t i;

	pthread_barrier_wait(&rv->start);
	/* piece 0 was revoked before the forks began, see revoke_round() */
	for (i = 1; i < rv->leaves; i++) {
		z.offset = revoked_whole(i) ? i * SZ_2M : i * SZ_2M + SZ_2M - SZ_4K;
		z.len = revoked_whole(i) ? SZ_2M : SZ_4K;
		if (ioctl(rv->fd, HPFN_TEST_IOC_ZAP, &z))
			break;
		__atomic_store_n(&rv->revoked[i], 1, __ATOMIC_RELEASE);
	}
	__atomic_store_n(&rv->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static sigjmp_buf probe_env;
static volatile sig_atomic_t probing;

/* A fault while probing is the answer; anywhere else, a failure. */
static void probe_fault(int sig)
{
	if (probing)
		siglongjmp(probe_env, 1);
	child_fault(sig);
}

static bool child_can_read(volatile uint64_t *p)
{
	bool readable = false;

	probing = 1;
	if (!sigsetjmp(probe_env, 1)) {
		(void)*p;
		readable = true;
	}
	probing = 0;
	return readable;
}

/*
 * In the child: the first page of every even piece still reads its value;
 * an odd piece whose revocation has returned is no longer mapped here.
 */
static void revoke_child(volatile uint64_t *words, const struct revoker *rv, uint64_t round)
{
	uint64_t i;

	signal(SIGBUS, probe_fault);
	signal(SIGSEGV, probe_fault);
	for (i = 0; i < rv->leaves; i++) {
		if (!revoked_whole(i)) {
			if (*piece_word(words, i) != magic(round, i))
				_exit(CHILD_BAD_VALUE);
		} else if (__atomic_load_n(&rv->revoked[i], __ATOMIC_ACQUIRE) &&
			   child_can_read(piece_word(words, i))) {
			_exit(CHILD_STALE);
		}
	}
	_exit(0);
}

struct revoke_tally {
	uint64_t forks;
	uint64_t failed;	/* children that lost an unrevoked page */
	uint64_t stale;		/* children that could read a revoked piece */
	uint64_t lost;		/* unrevoked pages the parent lost */
};

/* One round, counted into @t: returns -1 on setup errors. */
static int revoke_round(int fd, const struct guest_bar *bar, uint64_t span, uint64_t round,
			struct revoke_tally *t)
{
	struct revoker rv = { .fd = fd, .leaves = span / SZ_2M };
	volatile uint64_t *words;
	pthread_t thread;
	int status;
	uint64_t i;
	pid_t pid;

	rv.revoked = mmap(NULL, rv.leaves * sizeof(*rv.revoked), PROT_READ | PROT_WRITE,
			  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (rv.revoked == MAP_FAILED)
		return -1;
	words = hpfn_mmap_congruent(fd, 0, span, PROT_READ | PROT_WRITE, MAP_SHARED, bar->phys,
				    SZ_2M);
	if (words == MAP_FAILED)
		return -1;
	for (i = 0; i < rv.leaves; i++)
		*piece_word(words, i) = magic(round, i);
	/*
	 * The first revocation of a VMA ends its x86 PAT tracking (6.12's
	 * unmap_single_vma() calls untrack_pfn()): make it before any fork.
	 * Otherwise a child's copy of the VMA, which is in the file's i_mmap
	 * tree before fork copies its page tables, gets untracked by a
	 * revocation while its first page is not mapped yet: get_pat_info()
	 * WARNs and the memtype is freed twice. That is a bug of 6.12 without
	 * the series as well (pfnmap_track_ctx in later kernels removes it),
	 * not the fork/revocation race of huge leaves this phase hunts.
	 */
	if (ioctl(fd, HPFN_TEST_IOC_ZAP, &(struct hpfn_test_zap){ .offset = SZ_2M - SZ_4K, .len = SZ_4K }))
		tap_bail("revoke phase: first revocation: %s", strerror(errno));
	pthread_barrier_init(&rv.start, NULL, 2);
	if (pthread_create(&thread, NULL, revoker_main, &rv))
		tap_bail("pthread_create failed");
	pthread_barrier_wait(&rv.start);
	do {
		pid = fork();
		if (pid < 0)
			tap_bail("fork: %s", strerror(errno));
		if (pid == 0)
			revoke_child(words, &rv, round);
		t->forks++;
		if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
			t->failed++;
		else if (WEXITSTATUS(status) == CHILD_STALE)
			t->stale++;
		else if (WEXITSTATUS(status))
			t->failed++;
	} while (!__atomic_load_n(&rv.done, __ATOMIC_ACQUIRE));
	pthread_join(thread, NULL);
	pthread_barrier_destroy(&rv.start);
	for (i = 0; i < rv.leaves; i++)
		if (!revoked_whole(i) && *piece_word(words, i) != magic(round, i))
			t->lost++;
	munmap((void *)words, span);
	munmap(rv.revoked, rv.leaves * sizeof(*rv.revoked));
	return 0;
}

static void run_revoke_phase(const struct guest_bar *bar, unsigned int seconds)
{
	struct hpfn_test_target t = { .phys = bar->phys, .size = 64ULL << 20 };
	uint64_t deadline = guest_now_ns() + (uint64_t)seconds * 1000000000ULL;
	struct revoke_tally tally = { 0 };
	uint64_t round, rounds = 0;
	int fd = open(HPFN_TEST_DEV, O_RDWR | O_CLOEXEC);

	if (fd < 0 || ioctl(fd, HPFN_TEST_IOC_SET_TARGET, &t))
		tap_bail("aim %s at BAR2: %s", HPFN_TEST_DEV, strerror(errno));
	for (round = 1; round <= MAX_ROUNDS && guest_now_ns() < deadline; round++, rounds++)
		if (revoke_round(fd, bar, t.size, round, &tally))
			tap_bail("revoke phase: mmap: %s", strerror(errno));
	close(fd);
	tap_diag("revocation: %" PRIu64 " rounds, %" PRIu64 " forks in %u s", rounds, tally.forks,
		 seconds);
	tap_check(rounds >= 2, "revocation: at least two rounds ran (%" PRIu64 ")", rounds);
	tap_check(!tally.failed, "revocation: every child read the unrevoked first page of every "
		  "even piece (%" PRIu64 " of %" PRIu64 " children failed)", tally.failed,
		  tally.forks);
	tap_check(!tally.stale, "revocation: no child could read an odd piece whose revocation "
		  "had returned (%" PRIu64 " of %" PRIu64 " children could)", tally.stale,
		  tally.forks);
	tap_check(!tally.lost, "revocation: the parent kept every unrevoked page (%" PRIu64
		  " lost)", tally.lost);
}

static unsigned int race_seconds(void)
{
	unsigned long long v = guest_param_ull("race_seconds", 15);

	return v > 0 && v < 3600 ? (unsigned int)v : 15;
}

int main(void)
{
	struct race_phase pmd = { "64 MiB of PMD leaves", 64ULL << 20, SZ_2M, HPFN_PT_PTE };
	struct race_phase pud = { "1 GiB PUD leaf", SZ_1G, SZ_1G, HPFN_PT_PTE };
	struct sigaction sa = { .sa_sigaction = fatal_fault, .sa_flags = SA_SIGINFO };
	struct guest_bar bar;
	int fd, ret;

	ret = guest_find_bar(IVSHMEM_VENDOR, IVSHMEM_DEVICE, 2, SZ_1G, UINT64_MAX, &bar);
	if (ret)
		tap_bail("find the ivshmem device with a 1 GiB BAR2: %s", strerror(-ret));
	tap_check(!(bar.phys & (SZ_1G - 1)), "BAR2 of %s is 1 GiB-aligned (0x%" PRIx64 ")",
		  bar.bdf, bar.phys);
	if (guest_has_feature("remap-pmd"))
		pmd.want = pud.want = HPFN_PT_PMD;
	if (guest_has_feature("remap-pud"))
		pud.want = HPFN_PT_PUD;
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);

	fd = open(bar.path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		tap_bail("open %s: %s", bar.path, strerror(errno));
	run_phase(fd, &bar, &pmd, race_seconds());
	run_phase(fd, &bar, &pud, race_seconds());
	close(fd);
	run_revoke_phase(&bar, race_seconds());
	return tap_exit();
}
