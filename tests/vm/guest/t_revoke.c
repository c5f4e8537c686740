// SPDX-License-Identifier: GPL-2.0
/*
 * hugepfn.ko's safety rules in the VM:
 *  - revocation races: processes loop on open/mmap/touch/munmap of the big
 *    BAR while it is unbound and rebound hundreds of times; after every
 *    unbind the module oracle must find no page-table entry in any of them
 *    for the mappings they hold, mappings made in flight included;
 *  - a reset through sysfs (the small ivshmem sits alone behind a root port,
 *    so it has a bus reset) revokes mappings: SIGBUS until mapped again;
 *  - DMA: bus mastering is off after bind, on only through HUGEPFN_BUS_MASTER
 *    with CAP_SYS_RAWIO, off again after the last close;
 *  - a non-root user in the node's group maps it but cannot enable DMA; a
 *    user outside the group cannot open it;
 *  - HUGEPFN_POPULATE's bad inputs;
 *  - the UIO personality's mappings are revoked on unbind too, and without
 *    uio=1 the module does not use uio.ko.
 *
 * Runs before t_driver, which ends by hot-unplugging the small ivshmem.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/hugepfn.h>

#include "guest.h"
#include "tap.h"

#define SZ_1M		0x100000ULL
#define CHILDREN	3
#define CYCLES		300
#define MAX_RUNS	64
#define USER_ID		4343	/* the unprivileged user of the group tests */
#define NODE_GID	4242	/* the group the node is given to */

static struct guest_bar big, small;
static char modparam[128];

static int node_open(const struct guest_bar *b, int flags)
{
	char path[300];

	snprintf(path, sizeof(path), "/dev/hugepfn/pci-%s", b->bdf);
	return open(path, flags | O_CLOEXEC);
}

static int populate(int fd, void *p, uint64_t len)
{
	struct hugepfn_populate pop = { .argsz = sizeof(pop), .addr = (uintptr_t)p, .length = len };

	return ioctl(fd, HUGEPFN_POPULATE, &pop) ? -errno : 0;
}

static int bus_master(int fd, uint32_t flags)
{
	struct hugepfn_bus_master bm = { .argsz = sizeof(bm), .flags = flags };

	return ioctl(fd, HUGEPFN_BUS_MASTER, &bm) ? -errno : 0;
}

/* Read (or, with @set, set bits of) the PCI command register: 0 or -1. */
static int command_register(const struct guest_bar *b, uint16_t *cmd, uint16_t set)
{
	char path[300];
	int fd, ok;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/config", b->bdf);
	fd = open(path, (set ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ok = pread(fd, cmd, 2, 4) == 2;
	if (ok && set) {
		*cmd |= set;
		ok = pwrite(fd, cmd, 2, 4) == 2;
	}
	close(fd);
	return ok ? 0 : -1;
}

/* The command register's bus-master bit; -1 on error. */
static int master_bit(const struct guest_bar *b)
{
	uint16_t cmd;

	return command_register(b, &cmd, 0) ? -1 : !!(cmd & 4);
}

static int set_master_bit_behind_driver(const struct guest_bar *b)
{
	uint16_t cmd;

	return command_register(b, &cmd, 4);
}

/* Whether the module oracle finds any entry mapping [p, p + len). */
static int anything_mapped(void *p, uint64_t len)
{
	struct hpfn_pt_run runs[MAX_RUNS];
	int n = guest_module_levels((uintptr_t)p, len, runs, MAX_RUNS), i;

	if (n < 0)
		return 1;	/* cannot tell: count it against us */
	for (i = 0; i < n && i < MAX_RUNS; i++)
		if (runs[i].level != HPFN_PT_NONE)
			return 1;
	return 0;
}

static void test_bus_master(void)
{
	int fd, rfd, cfd, other;

	tap_check(guest_unbind(big.bdf, "hugepfn") == 0 && set_master_bit_behind_driver(&big) == 0 &&
		  master_bit(&big) == 1 && guest_bind(big.bdf, "hugepfn") == 0 && master_bit(&big) == 0,
		  "bus mastering left on by a former user is off once hugepfn binds");
	fd = node_open(&big, O_RDWR);
	if (!tap_check(fd >= 0, "open the node"))
		return;
	tap_check(master_bit(&big) == 0, "opening does not enable bus mastering");
	rfd = node_open(&big, O_RDONLY);
	tap_check(rfd >= 0 && bus_master(rfd, HUGEPFN_BUS_MASTER_ENABLE) == -EBADF && master_bit(&big) == 0,
		  "a read-only open cannot enable it -> EBADF");
	tap_check(bus_master(fd, HUGEPFN_BUS_MASTER_ENABLE) == -EBUSY && master_bit(&big) == 0,
		  "with a second open of the node, enabling it -> EBUSY (the other could program the DMA)");
	if (rfd >= 0)
		close(rfd);
	tap_check(bus_master(fd, HUGEPFN_BUS_MASTER_ENABLE) == 0 && master_bit(&big) == 1,
		  "HUGEPFN_BUS_MASTER by the only opener, root (CAP_SYS_RAWIO), enables it");
	other = node_open(&big, O_RDONLY);
	tap_check(other < 0 && errno == EBUSY, "while it is on nobody else opens the node -> EBUSY");
	if (other >= 0)
		close(other);
	tap_check(bus_master(fd, 0) == 0 && master_bit(&big) == 0, "flags 0 clears it");
	tap_check(bus_master(fd, 2) == -EINVAL, "unknown flags -> EINVAL");
	tap_check(bus_master(fd, HUGEPFN_BUS_MASTER_ENABLE) == 0 && master_bit(&big) == 1,
		  "enabled again before the last close");
	close(fd);
	/* the quiesce runs from a work item; an open waits for it */
	fd = node_open(&big, O_RDONLY);
	tap_check(fd >= 0 && master_bit(&big) == 0,
		  "the last close turned bus mastering off, before anyone could open the node again");
	if (fd >= 0)
		close(fd);
	cfd = open("/dev/hugepfn/carveout-carve", O_RDWR | O_CLOEXEC);
	tap_check(cfd >= 0 && bus_master(cfd, HUGEPFN_BUS_MASTER_ENABLE) == -ENOTTY,
		  "a carveout node has no bus mastering -> ENOTTY");
	if (cfd >= 0)
		close(cfd);
	fd = node_open(&big, O_RDWR);
	tap_check(fd >= 0 && bus_master(fd, HUGEPFN_BUS_MASTER_ENABLE) == 0 &&
		  guest_unbind(big.bdf, "hugepfn") == 0 && master_bit(&big) == 0,
		  "unbinding while open and enabled turns bus mastering off");
	tap_check(fd >= 0 && bus_master(fd, 0) == -ENODEV, "after the unbind the ioctl gets ENODEV");
	if (fd >= 0)
		close(fd);
	tap_check(guest_bind(big.bdf, "hugepfn") == 0, "rebind");
}

/* Bits a child reports through its exit status. */
enum {
	U_OPEN = 1, U_MAP = 2, U_DATA = 4, U_NO_DMA = 8, U_RO_MAP = 16, U_OUTSIDER = 32,
};

/* As an unprivileged user, in the node's group when @in_group. */
static int as_user(int in_group)
{
	gid_t gid = NODE_GID;
	int bits = 0, fd, rfd;
	uint8_t *p, *r;

	if (setgroups(in_group ? 1 : 0, &gid) || setgid(USER_ID) || setuid(USER_ID))
		return 0x80;
	fd = node_open(&big, O_RDWR);
	if (!in_group)
		return fd < 0 && errno == EACCES ? U_OUTSIDER : 0;
	if (fd < 0)
		return 0;
	bits |= U_OPEN;
	p = mmap(NULL, SZ_2M, PROT_READ | PROT_WRITE, MAP_SHARED, fd, HUGEPFN_REGION_OFFSET(2));
	if (p != MAP_FAILED) {
		bits |= U_MAP;
		*(volatile uint64_t *)(p + 128) = 0xfeedf00d;
		if (*(volatile uint64_t *)(p + 128) == 0xfeedf00d)
			bits |= U_DATA;
	}
	if (bus_master(fd, HUGEPFN_BUS_MASTER_ENABLE) == -EPERM && master_bit(&big) == 0)
		bits |= U_NO_DMA;
	rfd = node_open(&big, O_RDONLY);
	r = rfd >= 0 ? mmap(NULL, SZ_2M, PROT_READ, MAP_SHARED, rfd, HUGEPFN_REGION_OFFSET(2)) : MAP_FAILED;
	if (r != MAP_FAILED && *(volatile uint64_t *)(r + 128) == 0xfeedf00d)
		bits |= U_RO_MAP;
	return bits;
}

static int run_as_user(int in_group)
{
	pid_t pid = fork();
	int st;

	if (pid == 0)
		_exit(as_user(in_group));
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

static void test_group_user(void)
{
	char path[300];
	int bits;

	snprintf(path, sizeof(path), "/dev/hugepfn/pci-%s", big.bdf);
	if (!tap_check(chown(path, 0, NODE_GID) == 0 && chmod(path, 0660) == 0,
		       "give %s to group %d, mode 0660 (what the README's udev rule does)", path, NODE_GID))
		return;
	bits = run_as_user(1);
	tap_check(bits >= 0 && (bits & U_OPEN), "user %d in the group opens the node (0x%x)", USER_ID, bits);
	tap_check(bits >= 0 && (bits & U_MAP) && (bits & U_DATA), "... maps the BAR and writes it");
	tap_check(bits >= 0 && (bits & U_NO_DMA),
		  "... cannot enable bus mastering (EPERM without CAP_SYS_RAWIO), and it stays off");
	tap_check(bits >= 0 && (bits & U_RO_MAP), "... maps it read-only through an O_RDONLY open");
	bits = run_as_user(0);
	tap_check(bits == U_OUTSIDER, "a user outside the group cannot open it -> EACCES (0x%x)", bits);
	chmod(path, 0600);
	chown(path, 0, 0);
}

static void test_populate_inputs(void)
{
	int fd = node_open(&big, O_RDWR), cfd = open("/dev/hugepfn/carveout-carve", O_RDWR | O_CLOEXEC);
	struct hugepfn_populate pop;
	uint8_t *p, *c;

	if (!tap_check(fd >= 0 && cfd >= 0, "populate: nodes open"))
		return;
	p = mmap(NULL, 8 * SZ_1M, PROT_READ | PROT_WRITE, MAP_SHARED, fd, HUGEPFN_REGION_OFFSET(2));
	c = mmap(NULL, SZ_2M, PROT_READ, MAP_SHARED, cfd, 0);
	if (tap_check(p != MAP_FAILED && c != MAP_FAILED, "populate: 8 MiB of the BAR and 2 MiB of the carveout mapped")) {
		tap_check(populate(fd, p, 8 * SZ_1M) == 0 && !guest_read_faults((uint64_t *)(p + 7 * SZ_1M)),
			  "HUGEPFN_POPULATE of the whole mapping");
		tap_check(anything_mapped(p, 8 * SZ_1M), "... fills the page tables");
		tap_check(populate(fd, p + 1, SZ_4K) == -EINVAL, "unaligned address -> EINVAL");
		tap_check(populate(fd, p, 100) == -EINVAL, "unaligned length -> EINVAL");
		tap_check(populate(fd, p, 0) == -EINVAL, "length 0 -> EINVAL");
		tap_check(populate(fd, p, 16 * SZ_1M) == -ENOENT, "a range past the mapping -> ENOENT");
		tap_check(populate(fd, c, SZ_2M) == -ENOENT, "another node's mapping -> ENOENT");
		tap_check(populate(fd, (void *)((uintptr_t)&pop & ~(SZ_4K - 1)), SZ_4K) == -ENOENT,
			  "memory that is no mapping of the node (the stack) -> ENOENT");
		pop = (struct hugepfn_populate){ .argsz = sizeof(pop), .flags = 1, .addr = (uintptr_t)p,
						 .length = SZ_4K };
		tap_check(ioctl(fd, HUGEPFN_POPULATE, &pop) == -1 && errno == EINVAL, "unknown flags -> EINVAL");
		pop = (struct hugepfn_populate){ .argsz = 8, .addr = (uintptr_t)p, .length = SZ_4K };
		tap_check(ioctl(fd, HUGEPFN_POPULATE, &pop) == -1 && errno == EINVAL, "short argsz -> EINVAL");
	}
	if (p != MAP_FAILED)
		munmap(p, 8 * SZ_1M);
	if (c != MAP_FAILED)
		munmap(c, SZ_2M);
	close(fd);
	close(cfd);
}

/* The low dword of BAR2's register, address bits only; 0 on error. */
static uint32_t bar2_register(const struct guest_bar *b)
{
	char path[300];
	uint32_t v = 0;
	int fd;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/config", b->bdf);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (pread(fd, &v, 4, 0x18) != 4)
		v = 0;
	close(fd);
	return v & 0xfffffff0u;
}

/*
 * The command register's SERR# enable bit, read, or flipped (@flip), through
 * sysfs config: no use of the node (a BAR through sysfs would be, and a
 * kernel with IO_STRICT_DEVMEM refuses that while a driver holds the
 * device). A reset and the restore of the configuration probe stored
 * bring back what probe saw. The bit's value, or -1 on error.
 */
#define PCI_COMMAND_SERR_BIT 0x100

static int serr_bit(const struct guest_bar *b, int flip)
{
	char path[300];
	uint16_t cmd;
	int fd, ok;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/config", b->bdf);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ok = pread(fd, &cmd, 2, 4) == 2;
	if (ok && flip) {
		cmd ^= PCI_COMMAND_SERR_BIT;
		ok = pwrite(fd, &cmd, 2, 4) == 2 && pread(fd, &cmd, 2, 4) == 2;
	}
	close(fd);
	return ok ? !!(cmd & PCI_COMMAND_SERR_BIT) : -1;
}

/* Write a word at @p through /proc/self/mem, as ptrace would: 0 or -errno. */
static int mem_write(void *p)
{
	uint64_t v = 0x5eed;
	int fd = open("/proc/self/mem", O_RDWR | O_CLOEXEC), ret;

	if (fd < 0)
		return -errno;
	ret = pwrite(fd, &v, sizeof(v), (off_t)(uintptr_t)p) == sizeof(v) ? 0 : -errno;
	close(fd);
	return ret;
}

/* An open and close of the node, which waits for a queued quiesce. */
static int node_sync(const struct guest_bar *b)
{
	int fd = node_open(b, O_RDONLY);

	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

/*
 * Looking at a device (region info, a read-only mapping, hugepfn info and
 * doctor) must not reset it at the last close; using it (a writable
 * mapping of its BAR2) must. The small ivshmem is bound to hugepfn.
 */
static void test_look_no_reset(void)
{
	uint8_t *p;
	int fd, bit, stored, rc;

	/* what probe stored, with no use since: flipped, it tells whether a reset came */
	stored = serr_bit(&small, 0);
	bit = stored < 0 ? -1 : serr_bit(&small, 1);
	if (!tap_check(stored >= 0 && bit == !stored,
		       "look: SERR# of the small ivshmem (%d as probe stored it) flipped through sysfs config", stored))
		return;
	fd = node_open(&small, O_RDWR);
	p = fd >= 0 ? mmap(NULL, small.size, PROT_READ, MAP_SHARED, fd, HUGEPFN_REGION_OFFSET(2)) : MAP_FAILED;
	tap_check(p != MAP_FAILED && mprotect(p, small.size, PROT_READ | PROT_WRITE) == -1 && errno == EACCES,
		  "look: a read-only mapping of a read-write open cannot be made writable -> EACCES");
	tap_check(p != MAP_FAILED && mem_write(p) < 0,
		  "look: nor written through /proc/self/mem (vm_ops->access refuses a read-only entry)");
	if (p != MAP_FAILED)
		munmap(p, small.size);
	if (fd >= 0)
		close(fd);
	if (access("/hpfn/bin/hugepfn", X_OK)) {
		tap_skip("look: the hugepfn tool is not in this guest (static test programs only)");
	} else {
		rc = guest_run("/hpfn/bin/hugepfn info %s > /dev/null", small.bdf);
		tap_check(rc == 0, "look: hugepfn info %s (exit %d)", small.bdf, rc);
		/* the doctor exits 1 when a finding fails (this test kernel has some) */
		rc = guest_run("/hpfn/bin/hugepfn doctor %s > /dev/null", small.bdf);
		tap_check(rc == 0 || rc == 1, "look: hugepfn doctor %s (exit %d)", small.bdf, rc);
	}
	bit = node_sync(&small) ? -1 : serr_bit(&small, 0);
	tap_check(bit == !stored,
		  "look: a read-only mapping (and hugepfn info and doctor, where the tool is) reset nothing (SERR# still %d)",
		  bit);
	fd = node_open(&small, O_RDWR);
	p = fd >= 0 ? mmap(NULL, small.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, HUGEPFN_REGION_OFFSET(2)) :
		      MAP_FAILED;
	if (p != MAP_FAILED)
		munmap(p, small.size);
	if (fd >= 0)
		close(fd);
	bit = p == MAP_FAILED || node_sync(&small) ? -1 : serr_bit(&small, 0);
	tap_check(bit == stored,
		  "use: the last close after a writable mapping reset the device and restored its config (SERR# %d again)",
		  bit);
}

/* sysfs "reset" of the small ivshmem (bus reset) while it is mapped. */
static void test_reset(void)
{
	char path[300];
	uint8_t *p, *q;
	int fd;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/reset", small.bdf);
	if (!tap_check(guest_bind(small.bdf, "hugepfn") == 0 && access(path, W_OK) == 0,
		       "bind the small ivshmem %s; it has a reset method", small.bdf))
		return;
	test_look_no_reset();
	/* a last close after use: its reset restores what probe stored, and keeps it stored */
	fd = node_open(&small, O_RDWR);
	p = fd >= 0 ? mmap(NULL, small.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, HUGEPFN_REGION_OFFSET(2)) :
		      MAP_FAILED;
	if (p != MAP_FAILED)
		munmap(p, small.size);
	if (fd >= 0)
		close(fd);
	fd = node_open(&small, O_RDWR);
	p = fd >= 0 ? mmap(NULL, small.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, HUGEPFN_REGION_OFFSET(2)) :
		      MAP_FAILED;
	if (!tap_check(p != MAP_FAILED, "reset: BAR2 mapped"))
		return;
	*(volatile uint64_t *)p = 0x5eed;
	tap_check(guest_write_file(path, "1") == 0, "reset the device through sysfs while mapped");
	tap_check(guest_read_faults((uint64_t *)p) && !anything_mapped(p, small.size),
		  "reset: the mapping was revoked, accesses get SIGBUS");
	tap_check(populate(fd, p, small.size) == -EFAULT, "reset: HUGEPFN_POPULATE of the old mapping -> EFAULT");
	q = mmap(NULL, small.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, HUGEPFN_REGION_OFFSET(2));
	tap_check(q != MAP_FAILED && !guest_read_faults((uint64_t *)q) && *(volatile uint64_t *)q == 0x5eed,
		  "reset: a new mapping works and sees the memory");
	if (q != MAP_FAILED)
		munmap(q, small.size);
	munmap(p, small.size);
	close(fd);
	tap_check(guest_unbind(small.bdf, "hugepfn") == 0, "unbind the small ivshmem");
	tap_check(bar2_register(&small) == (small.phys & 0xfffffff0u),
		  "after the reset at unbind the BAR registers are restored (BAR2 0x%x)", bar2_register(&small));
}

/* State shared between the race's processes (MAP_SHARED anonymous). */
struct race {
	int epoch;			/* odd: unbound, the children check */
	int acked[CHILDREN];		/* the odd epoch each child checked */
	int progress[CHILDREN];		/* mappings made since the last rebind */
	int stop;
	int violations;			/* entries found after an unbind */
	int held;			/* mappings held across an unbind */
	long maps;
};

static int load(const int *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static void store(int *p, int v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static int node_gone(int fd)
{
	struct hugepfn_device_info di = { .argsz = sizeof(di) };

	return ioctl(fd, HUGEPFN_DEVICE_INFO, &di) && errno == ENODEV;
}

/* Unbound: what this child holds must map nothing. */
static void race_check(struct race *r, int i, int e, int *fd, uint8_t **p, uint64_t len)
{
	if (*p) {
		__atomic_add_fetch(&r->held, 1, __ATOMIC_RELAXED);
		if (anything_mapped(*p, len) || !guest_read_faults((uint64_t *)*p))
			__atomic_add_fetch(&r->violations, 1, __ATOMIC_RELAXED);
		munmap(*p, len);
		*p = NULL;
	}
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
	store(&r->acked[i], e);
}

static void race_child(struct race *r, int i)
{
	uint64_t len = 0, off;
	unsigned int seed = 1234 + i;
	uint8_t *p = NULL;
	int fd = -1, e;

	while (!load(&r->stop)) {
		e = load(&r->epoch);
		if (e & 1) {
			if (load(&r->acked[i]) != e)
				race_check(r, i, e, &fd, &p, len);
			sched_yield();
			continue;
		}
		if (fd < 0 && (fd = node_open(&big, O_RDWR)) < 0)
			continue;	/* the rebind is not done yet */
		/*
		 * An unbind is running: keep what is held (maybe a mapping made
		 * in flight) for the check once it has returned.
		 */
		if (p && node_gone(fd))
			continue;
		/* map, touch, unmap without pause: one is in flight or held at any time */
		if (p)
			munmap(p, len);
		p = NULL;
		len = (1 + rand_r(&seed) % 32) * SZ_2M;
		off = (rand_r(&seed) % ((big.size - len) / SZ_2M)) * SZ_2M;
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, HUGEPFN_REGION_OFFSET(2) + off);
		if (p == MAP_FAILED) {
			p = NULL;
			continue;	/* ENODEV: an unbind is running */
		}
		if (rand_r(&seed) % 2)
			populate(fd, p, len);
		guest_read_faults((uint64_t *)(p + len - SZ_4K));
		__atomic_add_fetch(&r->maps, 1, __ATOMIC_RELAXED);
		__atomic_add_fetch(&r->progress[i], 1, __ATOMIC_RELAXED);
	}
	_exit(0);
}

/* Wait until @ok(r) or about 60 s; whether it happened. */
static int race_wait(struct race *r, int (*ok)(struct race *r))
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!ok(r)) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec > 60)
			return 0;
		sched_yield();
	}
	return 1;
}

static int all_acked(struct race *r)
{
	for (int i = 0; i < CHILDREN; i++)
		if (load(&r->acked[i]) != load(&r->epoch))
			return 0;
	return 1;
}

/* Every child has mapped since the rebind: the next unbind races with them. */
static int all_progress(struct race *r)
{
	for (int i = 0; i < CHILDREN; i++)
		if (!load(&r->progress[i]))
			return 0;
	return 1;
}

static void test_revoke_race(void)
{
	struct race *r = mmap(NULL, sizeof(*r), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid_t pids[CHILDREN];
	int i, cycle, ok = 1;

	if (!tap_check(r != MAP_FAILED, "race: shared state"))
		return;
	memset(r, 0, sizeof(*r));
	for (i = 0; i < CHILDREN; i++) {
		pids[i] = fork();
		if (pids[i] == 0)
			race_child(r, i);
	}
	for (cycle = 0; cycle < CYCLES && ok; cycle++) {
		ok = race_wait(r, all_progress);
		ok = ok && guest_unbind(big.bdf, "hugepfn") == 0;
		store(&r->epoch, load(&r->epoch) + 1);
		ok = ok && race_wait(r, all_acked);
		for (i = 0; i < CHILDREN; i++)
			store(&r->progress[i], 0);
		ok = ok && guest_bind(big.bdf, "hugepfn") == 0;
		store(&r->epoch, load(&r->epoch) + 1);
	}
	store(&r->stop, 1);
	for (i = 0; i < CHILDREN; i++)
		waitpid(pids[i], NULL, 0);
	tap_check(ok, "race: %d unbind/rebind cycles with %d processes mapping (%ld mappings made)", cycle,
		  CHILDREN, r->maps);
	tap_check(r->violations == 0,
		  "race: after every unbind no mapping held (%d in all) has a page-table entry or reads (%d did)",
		  r->held, r->violations);
	munmap(r, sizeof(*r));
}

static int uio_number(void)
{
	char path[300], name[64];
	FILE *f;

	for (int n = 0; n < 16; n++) {
		snprintf(path, sizeof(path), "/sys/class/uio/uio%d/name", n);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (fgets(name, sizeof(name), f) && !strncmp(name, "hugepfn", 7)) {
			fclose(f);
			return n;
		}
		fclose(f);
	}
	return -1;
}

/* Module @name's reference count; -1 where it is built in. */
static int refcnt_of(const char *name)
{
	char path[128];
	FILE *f;
	int n = -1;

	snprintf(path, sizeof(path), "/sys/module/%s/refcnt", name);
	f = fopen(path, "re");
	if (f && fscanf(f, "%d", &n) != 1)
		n = -1;
	if (f)
		fclose(f);
	return n;
}

/* The UIO core's module reference count; -1 where it is built in. */
static int uio_refs(void)
{
	return refcnt_of("uio");
}

/* hugepfn.ko's module reference count. */
static int module_refs(void)
{
	return refcnt_of("hugepfn");
}

/*
 * Two opens of the UIO device map the same memory, a map made through a
 * file outlives it, and mappings hold hugepfn.ko, and only they, once
 * their files are closed (7.1+: one file of the node for all UIO opens).
 */
static void test_uio_lifetime(const char *path)
{
	int base = module_refs(), fd1, fd2, held = -1;
	uint8_t *p1 = MAP_FAILED, *p2 = MAP_FAILED, *p3 = MAP_FAILED, *p4;

	fd1 = open(path, O_RDWR | O_CLOEXEC);
	fd2 = open(path, O_RDWR | O_CLOEXEC);
	if (!tap_check(fd1 >= 0 && fd2 >= 0, "UIO lifetime: open %s twice", path))
		goto out;
	p1 = mmap(NULL, 4 * SZ_1M, PROT_READ | PROT_WRITE, MAP_SHARED, fd1, 0);
	p2 = mmap(NULL, 4 * SZ_1M, PROT_READ | PROT_WRITE, MAP_SHARED, fd2, 0);
	if (!tap_check(p1 != MAP_FAILED && p2 != MAP_FAILED, "UIO lifetime: both opens map map 0"))
		goto out;
	*(volatile uint64_t *)(p1 + SZ_1M) = 0x5eed1;
	tap_check(*(volatile uint64_t *)(p2 + SZ_1M) == 0x5eed1, "UIO lifetime: both maps see the same memory");
	close(fd1);
	fd1 = -1;
	p3 = mmap(NULL, 4 * SZ_1M, PROT_READ, MAP_SHARED, fd2, 0);
	tap_check(p3 != MAP_FAILED && *(volatile uint64_t *)(p3 + SZ_1M) == 0x5eed1,
		  "UIO lifetime: with the first open closed, the second still maps");
	close(fd2);
	fd2 = -1;
	held = module_refs();
	tap_check(held > base, "UIO lifetime: with both files closed the mappings hold hugepfn.ko (%d -> %d)",
		  base, held);
	*(volatile uint64_t *)(p2 + SZ_1M) = 0x5eed2;
	tap_check(*(volatile uint64_t *)(p1 + SZ_1M) == 0x5eed2,
		  "UIO lifetime: the maps work after their files are closed");
	/* a new open after the last close: a new node file on 7.1+ */
	fd1 = open(path, O_RDWR | O_CLOEXEC);
	p4 = fd1 >= 0 ? mmap(NULL, 4 * SZ_1M, PROT_READ, MAP_SHARED, fd1, 0) : MAP_FAILED;
	tap_check(p4 != MAP_FAILED && *(volatile uint64_t *)(p4 + SZ_1M) == 0x5eed2,
		  "UIO lifetime: an open after the last close maps the same memory");
	if (p4 != MAP_FAILED)
		munmap(p4, 4 * SZ_1M);
out:
	if (p1 != MAP_FAILED)
		munmap(p1, 4 * SZ_1M);
	if (p2 != MAP_FAILED)
		munmap(p2, 4 * SZ_1M);
	if (p3 != MAP_FAILED)
		munmap(p3, 4 * SZ_1M);
	if (fd1 >= 0)
		close(fd1);
	if (fd2 >= 0)
		close(fd2);
	tap_check(module_refs() == base, "UIO lifetime: all unmapped, hugepfn.ko's references are back to %d (%d)",
		  base, module_refs());
}

/* The node's sysfs "mappers": address spaces counted, their VMAs; -1 if unread. */
static int node_mappers(const struct guest_bar *b, long *mms, long *vmas)
{
	char path[300];
	FILE *f;
	int n;

	snprintf(path, sizeof(path), "/sys/class/hugepfn/pci-%s/mappers", b->bdf);
	f = fopen(path, "re");
	n = f ? fscanf(f, "%ld %ld", mms, vmas) : 0;
	if (f)
		fclose(f);
	return n == 2 ? 0 : -1;
}

/* The UIO device of the PCI device @bdf: its number, or -1. */
static int uio_number_of(const char *bdf)
{
	char path[300], link[300];
	ssize_t len;

	for (int n = 0; n < 16; n++) {
		snprintf(path, sizeof(path), "/sys/class/uio/uio%d/device", n);
		len = readlink(path, link, sizeof(link) - 1);
		if (len <= 0)
			continue;
		link[len] = '\0';
		if (!strcmp(strrchr(link, '/') ? strrchr(link, '/') + 1 : link, bdf))
			return n;
	}
	return -1;
}

/*
 * Map all of map 0 of the UIO device (@len bytes) at a 2 MiB-aligned
 * address of its own, where the remap must allocate a page table, with
 * the next page allocation failing, until the log's stack shows the
 * failure hit the remap (the fill, after the mmap_prepare hook counted
 * the address space): whether it did.
 */
static int uio_map_failing_fill(int fd, uint64_t len)
{
	const char *times = "/sys/kernel/debug/fail_page_alloc/times";
	uint8_t *resv, *at, *p;
	char marker[64];
	int attempt, tf;

	for (attempt = 1; attempt <= 20; attempt++) {
		resv = mmap(NULL, 2 * SZ_2M, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (resv == MAP_FAILED)
			return 0;
		at = (uint8_t *)(((uintptr_t)resv + SZ_2M - 1) & ~(uintptr_t)(SZ_2M - 1));
		munmap(resv, 2 * SZ_2M);
		snprintf(marker, sizeof(marker), "hpfn-uio-fill-failure-%d-%d", getpid(), attempt);
		guest_write_file("/dev/kmsg", marker);
		guest_write_file(times, "1");
		tf = guest_write_file("/proc/self/make-it-fail", "1");
		p = mmap(at, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED_NOREPLACE, fd, 0);
		guest_write_file("/proc/self/make-it-fail", "0");
		guest_write_file(times, "0");
		if (p != MAP_FAILED) {
			munmap(p, len);
			continue;
		}
		if (tf == 0 && guest_run("dmesg | sed -n '/%s/,$p' | grep -q remap_pfn_range", marker) == 0)
			return 1;
	}
	return 0;
}

/* Whether the node of @b counts @mms address spaces and @vmas VMAs. */
static int mappers_are(const struct guest_bar *b, long mms, long vmas)
{
	long got_mms = -1, got_vmas = -1;
	int ok = node_mappers(b, &got_mms, &got_vmas) == 0 && got_mms == mms && got_vmas == vmas;

	if (!ok)
		tap_diag("mappers of %s: %ld %ld, expected %ld %ld", b->bdf, got_mms, got_vmas, mms, vmas);
	return ok;
}

/*
 * Since 7.1 the UIO map is filled after the driver's mmap_prepare hook
 * counted the address space, and a fill that fails gets no ->close. The
 * driver makes the count again from the VMAs at the next UIO map of that
 * address space and at every revocation: the node's "mappers" shows it.
 * On the small ivshmem, whose reset (a revocation that keeps the node)
 * the big one, on the root bus, has not.
 */
static void test_uio_fill_failure(void)
{
	char path[64], reset[300];
	int n, fd, status = -1;
	uint8_t *p;
	pid_t pid;

	if (!guest_linux_at_least(7, 1)) {
		tap_diag("UIO fill failure: before 7.1 the UIO map is counted after its fill");
		return;
	}
	if (access("/sys/kernel/debug/fail_page_alloc", F_OK)) {
		tap_skip("UIO fill failure: %s kernel has no /sys/kernel/debug/fail_page_alloc", guest_kernel_kind());
		return;
	}
	n = guest_bind(small.bdf, "hugepfn") == 0 ? uio_number_of(small.bdf) : -1;
	snprintf(path, sizeof(path), "/dev/uio%d", n);
	fd = n >= 0 ? open(path, O_RDWR | O_CLOEXEC) : -1;
	if (!tap_check(guest_fail_page_alloc_setup() == 0 && fd >= 0 && mappers_are(&small, 0, 0),
		       "UIO fill failure: the small ivshmem %s bound, %s open, nothing mapped", small.bdf, path)) {
		if (fd >= 0)
			close(fd);
		return;
	}
	/* a process whose map's fill fails, and which exits without another */
	pid = fork();
	if (pid == 0)
		_exit(uio_map_failing_fill(fd, small.size) ? 0 : 1);
	tap_check(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "UIO fill failure: a child's map failed in its remap, and it exited");
	tap_check(mappers_are(&small, 1, 1), "UIO fill failure: the dead child is still counted, as the hook counted it");
	snprintf(reset, sizeof(reset), "/sys/bus/pci/devices/%s/reset", small.bdf);
	tap_check(guest_write_file(reset, "1") == 0 && mappers_are(&small, 0, 0),
		  "UIO fill failure: a revocation (a reset) counts again and forgets it");
	/* the same in this process, then a map that works */
	tap_check(uio_map_failing_fill(fd, small.size), "UIO fill failure: a map of this process failed in its remap");
	p = mmap(NULL, small.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (tap_check(p != MAP_FAILED, "UIO fill failure: the process maps again")) {
		*(volatile uint64_t *)p = 0xf2;
		tap_check(*(volatile uint64_t *)p == 0xf2 && anything_mapped(p, small.size) && mappers_are(&small, 1, 1),
			  "UIO fill failure: the new map works and is counted once");
		/* the mm closes the VMA it replaces before the hook runs, but keeps it in the tree */
		tap_check(mmap(p, small.size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0) == p &&
			  *(volatile uint64_t *)p == 0xf2 && mappers_are(&small, 1, 1),
			  "UIO fill failure: a MAP_FIXED map over it replaces it and is counted once");
		munmap(p, small.size);
	}
	tap_check(mappers_are(&small, 0, 0), "UIO fill failure: unmapped, nothing is counted");
	close(fd);
	tap_check(guest_unbind(small.bdf, "hugepfn") == 0, "UIO fill failure: unbind the small ivshmem");
}

static void test_uio_revoke(void)
{
	int n, fd, uio_before = -1;
	char path[64];
	uint8_t *p;
	void *bad;

	tap_check(guest_unbind(big.bdf, "hugepfn") == 0 && guest_run("rmmod hugepfn") == 0 &&
		  (uio_before = uio_refs(), 1) &&
		  guest_run("insmod /hpfn/modules/hugepfn.ko uio=1 %s", modparam) == 0 &&
		  guest_bind(big.bdf, "hugepfn") == 0, "reload with uio=1 and bind %s", big.bdf);
	tap_check(access("/sys/module/uio/refcnt", F_OK) != 0 || uio_refs() > uio_before,
		  "with uio=1 and a device bound hugepfn holds the UIO core (where uio.ko is a module: %d -> %d)",
		  uio_before, uio_refs());
	n = uio_number();
	snprintf(path, sizeof(path), "/dev/uio%d", n);
	test_uio_lifetime(path);
	test_uio_fill_failure();
	fd = n >= 0 ? open(path, O_RDWR | O_CLOEXEC) : -1;
	if (!tap_check(fd >= 0, "open %s", path))
		return;
	errno = 0;
	bad = mmap(NULL, SZ_2M, PROT_READ, MAP_PRIVATE, fd, 0);
	tap_check(bad == MAP_FAILED && errno == EINVAL, "UIO: MAP_PRIVATE -> EINVAL (%s)", strerror(errno));
	errno = 0;
	bad = mmap(NULL, SZ_2M, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
	tap_check(bad == MAP_FAILED && errno == EPERM, "UIO: PROT_EXEC -> EPERM (%s)", strerror(errno));
	p = mmap(NULL, 16 * SZ_1M, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (tap_check(p != MAP_FAILED, "UIO: map 0 mapped")) {
		*(volatile uint64_t *)(p + SZ_1M) = 0xabcd;
		tap_check(anything_mapped(p, 16 * SZ_1M), "UIO: the touched mapping has entries");
		tap_check(guest_unbind(big.bdf, "hugepfn") == 0, "unbind while the UIO mapping is live");
		tap_check(guest_read_faults((uint64_t *)(p + SZ_1M)) && !anything_mapped(p, 16 * SZ_1M),
			  "UIO: the mapping was revoked with the node's");
		munmap(p, 16 * SZ_1M);
	}
	close(fd);
	if (!tap_check(guest_run("rmmod hugepfn") == 0,
		       "unload: with no mapping left the UIO personality holds no module reference"))
		guest_run("grep hugepfn /proc/modules | sed 's/^/# /'");
}

/*
 * hugepfn.ko loads without uio.ko (it looks the UIO core up only for
 * uio=1). Where UIO is built in, build-guest.sh checks the module's
 * dependencies instead.
 */
static void test_no_uio_dependency(void)
{
	if (access("/sys/module/uio/holders", F_OK) != 0) {
		tap_diag("UIO is built into this kernel: hugepfn.ko's dependencies are checked at build time");
		return;
	}
	tap_check(guest_run("rmmod uio") == 0 && access("/sys/module/uio", F_OK) != 0 &&
		  guest_run("insmod /hpfn/modules/hugepfn.ko") == 0 && access("/sys/module/uio", F_OK) != 0,
		  "with uio.ko unloaded hugepfn.ko (uio=0) loads, and loads nothing else");
	tap_check(guest_run("rmmod hugepfn") == 0 && guest_run("insmod /hpfn/modules/uio.ko") == 0,
		  "unload it, load uio.ko back");
}

/* Leave the devices as the next tests expect them: no override. */
static void clear_override(const struct guest_bar *b)
{
	char path[300];

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override", b->bdf);
	guest_write_file(path, "\n");
}

int main(void)
{
	uint64_t carve, carve_size;

	if (guest_find_bar(0x1af4, 0x1110, 2, SZ_1G, UINT64_MAX, &big))
		tap_bail("find the ivshmem device with a 1 GiB BAR2");
	if (guest_find_bar(0x1af4, 0x1110, 2, SZ_4K, SZ_1G - 1, &small))
		tap_bail("find the small ivshmem device");
	if (guest_carveout(&carve, &carve_size))
		tap_bail("the harness's carveout");
	snprintf(modparam, sizeof(modparam), "carveouts=carve:%lluM@0x%llx",
		 (unsigned long long)carve_size >> 20, (unsigned long long)carve);
	test_no_uio_dependency();
	if (!tap_check(guest_run("insmod /hpfn/modules/hugepfn.ko %s", modparam) == 0 &&
		       guest_bind(big.bdf, "hugepfn") == 0, "load hugepfn.ko (%s) and bind %s", modparam, big.bdf))
		return tap_exit();
	test_bus_master();
	test_group_user();
	test_populate_inputs();
	test_reset();
	test_revoke_race();
	test_uio_revoke();
	clear_override(&big);
	clear_override(&small);
	return tap_exit();
}
