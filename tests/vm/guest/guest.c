// SPDX-License-Identifier: GPL-2.0
#include <dirent.h>
#include <stdarg.h>
#include <sys/wait.h>
#include <setjmp.h>
#include <signal.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "guest.h"
#include "hpfn_test.h"
#include "tap.h"

int tap_failures;
int tap_results;

static int read_hex_file(const char *path, unsigned long *val)
{
	FILE *f = fopen(path, "re");
	int ok;

	if (!f)
		return -errno;
	ok = fscanf(f, "%lx", val) == 1;
	fclose(f);
	return ok ? 0 : -EINVAL;
}

static int read_bar(const char *bdf, int bar, struct guest_bar *out)
{
	char path[512];
	uint64_t start, end, flags;
	FILE *f;
	int i, ret = -ENOENT;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource", bdf);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	for (i = 0; i <= bar; i++) {
		if (fscanf(f, "%" SCNx64 " %" SCNx64 " %" SCNx64, &start, &end,
			   &flags) != 3) {
			ret = -EINVAL;
			goto out;
		}
	}
	if (!end) {
		ret = -ENOENT;
		goto out;
	}
	snprintf(out->bdf, sizeof(out->bdf), "%s", bdf);
	snprintf(out->path, sizeof(out->path),
		 "/sys/bus/pci/devices/%s/resource%d", bdf, bar);
	out->phys = start;
	out->size = end - start + 1;
	out->flags = flags;
	ret = 0;
out:
	fclose(f);
	return ret;
}

int guest_find_bar(unsigned int vendor, unsigned int device, int bar,
		   uint64_t min_size, uint64_t max_size, struct guest_bar *out)
{
	DIR *d = opendir("/sys/bus/pci/devices");
	struct dirent *de;
	int ret = -ENODEV;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char path[512];
		unsigned long v, dev;
		int fd;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vendor", de->d_name);
		if (read_hex_file(path, &v) || v != vendor)
			continue;
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/device", de->d_name);
		if (read_hex_file(path, &dev) || dev != device)
			continue;
		if (read_bar(de->d_name, bar, out) || out->size < min_size ||
		    out->size > max_size)
			continue;
		/* Without memory decoding enabled the BAR reads as nothing. */
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/enable", de->d_name);
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd >= 0) {
			if (write(fd, "1", 1) != 1)
				tap_diag("enabling %s: %s", de->d_name, strerror(errno));
			close(fd);
		}
		ret = 0;
		break;
	}
	closedir(d);
	return ret;
}

/*
 * The value of @key= on the kernel command line, in @buf (the caller's, so
 * that threads of a test can ask at once), or NULL.
 */
#define CMDLINE_MAX 4096
static char *cmdline_value(const char *key, char buf[CMDLINE_MAX])
{
	char *tok, *save = NULL;
	size_t klen = strlen(key);
	FILE *f = fopen("/proc/cmdline", "re");

	if (!f)
		return NULL;
	if (!fgets(buf, CMDLINE_MAX, f)) {
		fclose(f);
		return NULL;
	}
	fclose(f);
	for (tok = strtok_r(buf, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save))
		if (!strncmp(tok, key, klen) && tok[klen] == '=')
			return tok + klen + 1;
	return NULL;
}

int guest_has_feature(const char *name)
{
	char buf[CMDLINE_MAX], *tok, *save = NULL;
	char *list = cmdline_value("hpfn.features", buf);

	if (!list)
		return 0;
	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		if (!strcmp(tok, name))
			return 1;
	return 0;
}

unsigned long long guest_param_ull(const char *name, unsigned long long dflt)
{
	char key[128], buf[CMDLINE_MAX], *v, *end;
	unsigned long long val;

	snprintf(key, sizeof(key), "hpfn.%s", name);
	v = cmdline_value(key, buf);
	if (!v || !*v)
		return dflt;
	errno = 0;
	val = strtoull(v, &end, 0);
	return errno || *end ? dflt : val;
}

const char *guest_kernel_kind(void)
{
	static char kind[32];
	char buf[CMDLINE_MAX], *v = cmdline_value("hpfn.kernel", buf);

	snprintf(kind, sizeof(kind), "%s", v ? v : "unknown");
	return kind;
}

int guest_have_ptdump(void)
{
	return access(HPFN_PTDUMP_PATH, R_OK) == 0;
}

#if defined(__aarch64__)
/*
 * arm64 entries, in the vocabulary of the x86 dump that the tests share:
 * the memory type (AttrIndx, bits 4:2, indexing MAIR_EL1 as Linux sets it
 * up in arch/arm64/include/asm/memory.h) becomes the cache bits of the x86
 * mode Linux uses for the same pgprot_*() helper: Normal-NC
 * (pgprot_writecombine()) is WC = PWT, Device-nGnRE (pgprot_device(), how
 * BARs are mapped) is UC- = PCD, Device-nGnRnE (pgprot_noncached()) is
 * UC = PCD | PWT, Normal (tagged or not) is write-back. Writable is the DBM bit (PTE_WRITE) that arm64 uses
 * for pte_write(); a block entry has type bits 0b01, a page 0b11.
 */
enum {
	ARM64_MT_NORMAL = 0,
	ARM64_MT_NORMAL_TAGGED = 1,
	ARM64_MT_NORMAL_NC = 2,
	ARM64_MT_DEVICE_nGnRnE = 3,
	ARM64_MT_DEVICE_nGnRE = 4,
};

static unsigned int entry_flags(const struct hpfn_test_query *q)
{
	unsigned int f = HPFN_PTF_PRESENT;
	uint64_t e = q->entry;

	switch ((e >> 2) & 7) {
	case ARM64_MT_NORMAL_NC:
		f |= HPFN_PTF_PWT;
		break;
	case ARM64_MT_DEVICE_nGnRnE:
		f |= HPFN_PTF_PCD | HPFN_PTF_PWT;
		break;
	case ARM64_MT_DEVICE_nGnRE:
		f |= HPFN_PTF_PCD;
		break;
	}
	if (e & (1ULL << 51))
		f |= HPFN_PTF_RW;
	if (e & (1ULL << 6))
		f |= HPFN_PTF_USER;
	if (q->level != HPFN_TEST_LEVEL_PTE && (e & 3) == 1)
		f |= HPFN_PTF_PSE;
	if (e & (1ULL << 54))
		f |= HPFN_PTF_NX;
	return f;
}
#else
static unsigned int entry_flags(const struct hpfn_test_query *q)
{
	unsigned int f = HPFN_PTF_PRESENT;
	uint64_t e = q->entry;

	if (e & (1ULL << 1))
		f |= HPFN_PTF_RW;
	if (e & (1ULL << 2))
		f |= HPFN_PTF_USER;
	if (e & (1ULL << 3))
		f |= HPFN_PTF_PWT;
	if (e & (1ULL << 4))
		f |= HPFN_PTF_PCD;
	if (q->level == HPFN_TEST_LEVEL_PTE) {
		if (e & (1ULL << 7))
			f |= HPFN_PTF_PAT;
	} else {
		if (e & (1ULL << 7))
			f |= HPFN_PTF_PSE;
		if (e & (1ULL << 12))
			f |= HPFN_PTF_PAT;
	}
	if (e & (1ULL << 63))
		f |= HPFN_PTF_NX;
	return f;
}
#endif

int guest_module_levels(uint64_t addr, uint64_t len, struct hpfn_pt_run *runs,
			size_t max)
{
	int fd = open(HPFN_TEST_DEV, O_RDWR | O_CLOEXEC), n;

	if (fd < 0)
		return -errno;
	n = guest_module_levels_fd(fd, addr, len, runs, max);
	close(fd);
	return n;
}

int guest_module_levels_fd(int fd, uint64_t addr, uint64_t len, struct hpfn_pt_run *runs,
			   size_t max)
{
	uint64_t a = addr, end = addr + len;
	int n = 0;

	while (a < end) {
		struct hpfn_test_query q = { .addr = a };
		enum hpfn_pt_level level;
		uint64_t step;
		unsigned int flags;

		if (ioctl(fd, HPFN_TEST_IOC_QUERY, &q))
			return -errno;
		switch (q.level) {
		case HPFN_TEST_LEVEL_PUD: level = HPFN_PT_PUD; step = SZ_1G; break;
		case HPFN_TEST_LEVEL_PMD: level = HPFN_PT_PMD; step = SZ_2M; break;
		case HPFN_TEST_LEVEL_PTE: level = HPFN_PT_PTE; step = SZ_4K; break;
		default: level = HPFN_PT_NONE; step = SZ_4K; break;
		}
		flags = level == HPFN_PT_NONE ? 0 : entry_flags(&q);
		step = ((a & ~(step - 1)) + step) - a;	/* to the end of this leaf */
		if (step > end - a)
			step = end - a;
		if (n > 0 && (size_t)(n - 1) < max && runs[n - 1].level == level &&
		    runs[n - 1].flags == flags && runs[n - 1].end == a) {
			runs[n - 1].end += step;
		} else {
			if ((size_t)n < max)
				runs[n] = (struct hpfn_pt_run){ a, a + step, level, flags };
			n++;
		}
		a += step;
	}
	return n;
}

void guest_print_runs(const struct hpfn_pt_run *runs, int n)
{
	char flags[96];
	int i;

	for (i = 0; i < n; i++) {
		hpfn_pt_flags_str(runs[i].flags, flags, sizeof(flags));
		tap_diag("  0x%012" PRIx64 "-0x%012" PRIx64 " %8" PRIu64 "K %s %s",
			 runs[i].start, runs[i].end,
			 (runs[i].end - runs[i].start) >> 10,
			 hpfn_pt_level_name(runs[i].level), flags);
	}
}

uint64_t guest_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

int guest_remap_open(uint64_t phys, uint64_t size, unsigned int cache,
		     unsigned int flags)
{
	struct hpfn_test_target t = {
		.phys = phys, .size = size, .cache = cache, .flags = flags,
	};
	int fd = open(HPFN_TEST_DEV, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (ioctl(fd, HPFN_TEST_IOC_SET_TARGET, &t)) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/*
 * The harness names the carveout with hpfn.carveout=SIZE@ADDR; on x86 it
 * also reserves it with memmap=SIZE$ADDR, read when the first is missing.
 * (arm64 has no memmap=: there the carveout is RAM the guest was told to
 * leave alone with mem=.)
 */
int guest_carveout(uint64_t *phys, uint64_t *size)
{
	char buf[CMDLINE_MAX], *v = cmdline_value("hpfn.carveout", buf);
	char sep = '@';
	char *end;

	if (!v) {
		v = cmdline_value("memmap", buf);
		sep = '$';
	}
	if (!v)
		return -ENOENT;
	*size = strtoull(v, &end, 0);
	switch (*end) {
	case 'G': *size <<= 30; end++; break;
	case 'M': *size <<= 20; end++; break;
	case 'K': *size <<= 10; end++; break;
	}
	if (*end != sep)
		return -EINVAL;
	*phys = strtoull(end + 1, &end, 0);
	return *end ? -EINVAL : 0;
}

static long long read_keyed(const char *path, const char *name, int colon)
{
	char line[256];
	size_t len = strlen(name);
	long long val = -1;
	FILE *f = fopen(path, "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, name, len) &&
		    (colon ? line[len] == ':' : line[len] == ' ')) {
			val = strtoll(line + len + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return val;
}

long long guest_vmstat(const char *name)
{
	return read_keyed("/proc/vmstat", name, 0);
}

long long guest_meminfo(const char *name)
{
	return read_keyed("/proc/meminfo", name, 1);
}

#define GUEST_CMP_FLAGS (HPFN_PTF_PRESENT | HPFN_PTF_USER | HPFN_PTF_RW | \
			 HPFN_PTF_PWT | HPFN_PTF_PCD | HPFN_PTF_PAT)

/* Keep the flags both oracles see; merge the runs that then look alike. */
static int normalize(struct hpfn_pt_run *runs, int n)
{
	int i, out = 0;

	for (i = 0; i < n; i++) {
		runs[i].flags &= GUEST_CMP_FLAGS;
		if (out && runs[out - 1].level == runs[i].level &&
		    runs[out - 1].flags == runs[i].flags &&
		    runs[out - 1].end == runs[i].start)
			runs[out - 1].end = runs[i].end;
		else
			runs[out++] = runs[i];
	}
	return out;
}

int guest_levels(const char *what, uint64_t addr, uint64_t len,
		 struct hpfn_pt_run *runs, size_t max)
{
	static struct hpfn_pt_run dump[8192];
	int n, nd, i, same;

	n = guest_module_levels(addr, len, runs, max);
	if (n < 0 || (size_t)n > max)
		return n < 0 ? n : -E2BIG;
	n = normalize(runs, n);
	if (!guest_have_ptdump()) {
		static int said;

		/* once a program: every cross-check it would have made */
		if (!said++)
			tap_skip("dump cross-checks: %s kernel has no debugfs dump of a process's page tables; module oracle only",
				 guest_kernel_kind());
		return n;
	}
	nd = hpfn_ptdump_read("/sys", addr, len, dump, 8192);
	if (nd < 0 || nd > 8192) {
		tap_check(0, "%s: page-table dump readable (%d)", what, nd);
		return n;
	}
	nd = normalize(dump, nd);
	same = nd == n;
	for (i = 0; same && i < n; i++)
		same = dump[i].start == runs[i].start && dump[i].end == runs[i].end &&
		       dump[i].level == runs[i].level && dump[i].flags == runs[i].flags;
	if (!tap_check(same, "%s: page-table dump agrees with the module oracle", what)) {
		tap_diag("module oracle:");
		guest_print_runs(runs, n);
		tap_diag("page-table dump:");
		guest_print_runs(dump, nd);
	}
	return n;
}

int guest_all_level(const struct hpfn_pt_run *runs, int n, enum hpfn_pt_level level)
{
	int i;

	for (i = 0; i < n; i++)
		if (runs[i].level != level)
			return 0;
	return n > 0;
}

int guest_all_flags(const struct hpfn_pt_run *runs, int n, unsigned int set,
		    unsigned int clear)
{
	int i;

	for (i = 0; i < n; i++)
		if ((runs[i].flags & set) != set || (runs[i].flags & clear))
			return 0;
	return n > 0;
}

static sigjmp_buf fault_jmp;

static void fault_handler(int sig)
{
	siglongjmp(fault_jmp, sig);
}

static int with_fault_handler(volatile uint64_t *p, uint64_t val, int write)
{
	struct sigaction sa = { .sa_handler = fault_handler }, old_segv, old_bus;
	int faulted;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, &old_segv);
	sigaction(SIGBUS, &sa, &old_bus);
	if (sigsetjmp(fault_jmp, 1) == 0) {
		if (write)
			*p = val;
		else
			(void)*p;
		faulted = 0;
	} else {
		faulted = 1;
	}
	sigaction(SIGSEGV, &old_segv, NULL);
	sigaction(SIGBUS, &old_bus, NULL);
	return faulted;
}

int guest_write_faults(volatile uint64_t *p, uint64_t val)
{
	return with_fault_handler(p, val, 1);
}

int guest_read_faults(volatile uint64_t *p)
{
	return with_fault_handler(p, 0, 0);
}

int guest_run(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int guest_write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), err = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) != (ssize_t)strlen(val))
		err = errno ? -errno : -EIO;
	close(fd);
	return err;
}

long long guest_vmpte_kb(void)
{
	char line[128];
	long long v = -1;
	FILE *f = fopen("/proc/self/status", "re");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmPTE: %lld kB", &v) == 1)
			break;
	if (f)
		fclose(f);
	return v;
}

long long guest_page_tables_kb(void)
{
	guest_write_file("/proc/sys/vm/stat_refresh", "1");
	return guest_meminfo("PageTables");
}

long long guest_page_tables_settled_kb(long long base)
{
	long long now = guest_page_tables_kb();
	int i;

	for (i = 0; i < 50 && now > base; i++) {
		usleep(100 * 1000);
		now = guest_page_tables_kb();
	}
	return now;
}

/*
 * vfree() leaves the address space to a lazy purge, which runs once
 * lazy_max_pages() worth is pending: 32 MiB times fls(CPUs), 96 MiB with
 * the guest's 4 CPUs. Until then new vmalloc areas (a fork's stack) take
 * fresh addresses and, every 2 MiB, a new kernel PTE table that stays when
 * the area is freed: at most 48 tables (192 kB) and a PMD table or two.
 * A user table leaked per cycle passes that within 64 cycles; the fork and
 * reload tests run 100 to 1000 of them with the series.
 */
#define GUEST_LAZY_VMALLOC_TABLES_KB 256

long long guest_page_tables_slack_kb(void)
{
	/* 6.12 counts user page tables only (the versions booted: 6.12, 7.3) */
	return guest_linux_at_least(6, 13) ? GUEST_LAZY_VMALLOC_TABLES_KB : 0;
}

int guest_fail_page_alloc_setup(void)
{
	/* times stays 0 until a test arms it for exactly one failure */
	static const char *const attrs[][2] = {
		{ "probability", "100" }, { "interval", "1" }, { "times", "0" },
		{ "space", "0" }, { "verbose", "2" }, { "task-filter", "Y" },
		{ "min-order", "0" }, { "ignore-gfp-wait", "N" }, { "ignore-gfp-highmem", "N" },
	};
	int ok = access("/sys/kernel/debug/fail_page_alloc", F_OK) == 0;

	for (size_t i = 0; ok && i < sizeof(attrs) / sizeof(attrs[0]); i++) {
		char path[128];

		snprintf(path, sizeof(path), "/sys/kernel/debug/fail_page_alloc/%s", attrs[i][0]);
		ok = guest_write_file(path, attrs[i][1]) == 0;
	}
	return ok ? 0 : -1;
}

int guest_linux_at_least(int major, int minor)
{
	struct utsname u;
	int ma, mi;

	if (uname(&u) != 0 || sscanf(u.release, "%d.%d", &ma, &mi) != 2)
		tap_bail("uname: cannot read this kernel's version");
	return ma > major || (ma == major && mi >= minor);
}

int guest_bind(const char *bdf, const char *driver)
{
	char path[512], link[512];
	const char *name;
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n > 0) {
		link[n] = '\0';
		name = strrchr(link, '/') ? strrchr(link, '/') + 1 : link;
		if (!strcmp(name, driver))
			return 0;
	}
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override", bdf);
	if (guest_write_file(path, driver))
		return -EIO;
	snprintf(path, sizeof(path), "/sys/bus/pci/drivers/%s/bind", driver);
	return guest_write_file(path, bdf);
}

int guest_unbind(const char *bdf, const char *driver)
{
	char path[512];

	snprintf(path, sizeof(path), "/sys/bus/pci/drivers/%s/unbind", driver);
	return guest_write_file(path, bdf);
}
