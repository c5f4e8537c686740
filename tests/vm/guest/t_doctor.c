// SPDX-License-Identifier: GPL-2.0
/*
 * hugepfn doctor in the VM, against every backend and against bad setups:
 * nothing loaded; the driver with a good and a misaligned carveout; the big
 * ivshmem bound to hugepfn, to UIO (hugepfn uio=1), to nothing (sysfs) and
 * to vfio-pci (no-IOMMU mode on the patched kernel, the emulated IOMMU on
 * the stock one); a node checked by a user who may not open it; a device
 * that does not exist; bad usage. The answer about the kernel's remap
 * support is checked against the module oracle's view of a mapping made by
 * hand: the stock kernel must be reported as lacking PMD remap support,
 * the patched one as having it.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/hugepfn.h>

#include "align.h"
#include "guest.h"
#include "hugepfn.h"
#include "tap.h"

#define SZ_1M 0x100000ULL
#define MAX_RUNS 1024
#define TOOL "/hpfn/bin/hugepfn"

static struct guest_bar big;
static struct hugepfn_ctx *ctx;
static struct hpfn_pt_run oracle[MAX_RUNS];
static struct hugepfn_check checks[64];
static uint64_t carve, carve_size;
static int patched, gbpages;
static char modparam[160];

static const struct hugepfn_check *finding(int n, const char *check)
{
	int i;

	for (i = 0; i < n && i < 64; i++)
		if (!strcmp(checks[i].check, check))
			return &checks[i];
	return NULL;
}

static void print_findings(int n)
{
	int i;

	for (i = 0; i < n && i < 64; i++)
		tap_diag("  %-5s %-13s %s%s%s", hugepfn_check_status_name(checks[i].status), checks[i].check,
			 checks[i].found, checks[i].advice[0] ? " -> " : "", checks[i].advice);
}

/* The finding @check has status @st and its text holds @part (if given). */
static int has(int n, const char *check, enum hugepfn_check_status st, const char *part)
{
	const struct hugepfn_check *c = finding(n, check);

	if (c && c->status == st && (!part || strstr(c->found, part) || strstr(c->advice, part)))
		return 1;
	tap_diag("finding '%s': %s, wanted %s%s%s", check, c ? hugepfn_check_status_name(c->status) : "missing",
		 hugepfn_check_status_name(st), part ? " with " : "", part ? part : "");
	return 0;
}

static int doctor(const char *spec)
{
	int n = hugepfn_doctor(ctx, spec, checks, 64);

	tap_diag("doctor %s: %d findings", spec ? spec : "(system)", n);
	print_findings(n);
	return n;
}

/* Run the tool; its exit status, the output in /tmp/doctor.out. */
static int tool(const char *args)
{
	int rc = guest_run(TOOL " %s > /tmp/doctor.out 2>&1", args);

	guest_run("sed 's/^/#   /' /tmp/doctor.out");
	return rc;
}

static int out_has(const char *text)
{
	return guest_run("grep -qF -- '%s' /tmp/doctor.out", text) == 0;
}

/*
 * What the kernel does with a 2 MiB- (or 1 GiB-) aligned block mapped by
 * hand through the driver at a congruent address, as the module oracle
 * sees it: the truth the doctor's probe must agree with.
 */
static enum hpfn_pt_level oracle_level(const char *node, uint64_t off, uint64_t phys, uint64_t len)
{
	enum hpfn_pt_level level = HPFN_PT_NONE;
	int fd = open(node, O_RDWR | O_CLOEXEC), n;
	void *p;

	if (fd < 0)
		return HPFN_PT_NONE;
	p = hpfn_mmap_congruent(fd, off, len, PROT_READ, MAP_SHARED, phys, len);
	if (p != MAP_FAILED) {
		n = guest_levels("doctor oracle", (uintptr_t)p, len, oracle, MAX_RUNS);
		if (n == 1)
			level = oracle[0].level;
		munmap(p, len);
	}
	close(fd);
	return level;
}

static void test_nothing_loaded(void)
{
	int n = doctor(NULL);

	tap_check(n > 0 && has(n, "remap-pmd", HUGEPFN_CHECK_INFO, "cannot tell") &&
		  has(n, "hugepfn.ko", HUGEPFN_CHECK_INFO, "not loaded"),
		  "doctor, nothing loaded: the remap support cannot be told yet, and it says how to make it tell");
	tap_check(has(n, "thp", HUGEPFN_CHECK_OK, NULL) && has(n, "page-sizes", HUGEPFN_CHECK_OK, gbpages ? "2M 1G" : "2M"),
		  "doctor: THP on, leaf sizes 2M%s", gbpages ? " 1G" : "");
	tap_check(tool("doctor") == 0 && out_has("remap-pmd") && out_has("cannot tell"),
		  "tool: doctor with nothing failing exits 0");
}

static void test_driver(void)
{
	char node[300];
	enum hpfn_pt_level seen;
	int n;

	tap_check(guest_run("insmod /hpfn/modules/hugepfn.ko %s", modparam) == 0 &&
		  guest_run(TOOL " bind %s >/dev/null", big.bdf) == 0,
		  "load hugepfn.ko (%s) and bind %s", modparam, big.bdf);
	seen = oracle_level("/dev/hugepfn/carveout-carve", 0, carve, 2 * SZ_1M);
	tap_check(seen == (patched ? HPFN_PT_PMD : HPFN_PT_PTE), "oracle: an aligned 2 MiB of the carveout is %s",
		  hpfn_pt_level_name(seen));
	n = doctor(NULL);
	if (patched)
		tap_check(has(n, "remap-pmd", HUGEPFN_CHECK_OK, "2M leaf"),
			  "doctor on the patched kernel: remap_pfn_range() has PMD remap support (ok)");
	else
		tap_check(has(n, "remap-pmd", HUGEPFN_CHECK_FAIL, "lacks PMD remap support") &&
			  has(n, "remap-pmd", HUGEPFN_CHECK_FAIL, "kernel/patches"),
			  "doctor on the stock kernel: lacks PMD remap support (fail), and what to boot instead");
	tap_check(has(n, "hugepfn.ko", HUGEPFN_CHECK_OK, NULL), "doctor: hugepfn.ko is loaded");
	if (gbpages) {
		snprintf(node, sizeof(node), "/dev/hugepfn/pci-%s", big.bdf);
		seen = oracle_level(node, HUGEPFN_REGION_OFFSET(2), big.phys, SZ_1G);
		tap_check(seen == HPFN_PT_PUD ? has(n, "remap-pud", HUGEPFN_CHECK_OK, "1G leaf") :
			  has(n, "remap-pud", HUGEPFN_CHECK_INFO, "lacks PUD remap support"),
			  "doctor's remap-pud agrees with the oracle, which sees a 1 GiB-aligned block as %s",
			  hpfn_pt_level_name(seen));
	} else {
		tap_check(finding(n, "remap-pud") == NULL, "no 1 GiB pages on this CPU: no remap-pud finding");
	}
	tap_check(tool("doctor") == (patched ? 0 : 1),
		  "tool: doctor exits %d (%s)", patched ? 0 : 1, patched ? "nothing fails" : "remap-pmd fails");

	/* the device bound to hugepfn */
	n = doctor(big.bdf);
	tap_check(has(n, "device", HUGEPFN_CHECK_OK, "bound to hugepfn") &&
		  has(n, "driver", HUGEPFN_CHECK_OK, patched ? "at mmap time" : "at fault time") &&
		  has(n, "node", HUGEPFN_CHECK_OK, "can open it"),
		  "doctor %s (hugepfn): the driver's BAR mappings are huge (%s), the node opens", big.bdf,
		  patched ? "remap_pfn_range() at mmap time" : "its fault handler on this kernel");
	tap_check(has(n, "bar2", HUGEPFN_CHECK_OK, gbpages ? "aligned for 1G leaves" : "aligned for 2M leaves") &&
		  has(n, "bar0", HUGEPFN_CHECK_INFO, "smaller than a 2M leaf"),
		  "doctor: BAR2 is aligned for %s leaves, the 256-byte BAR0 is base pages only", gbpages ? "1G" : "2M");
	{
		char args[300];

		snprintf(args, sizeof(args), "--json doctor %s", big.bdf);
		tap_check(tool(args) == (patched ? 0 : 1) &&
			  out_has("{\"check\":\"driver\",\"status\":\"ok\"") &&
			  guest_run("head -c 1 /tmp/doctor.out | grep -q '\\['") == 0,
			  "tool: doctor --json is an array of {check, status, found, advice}");
	}

	/* carveouts: the good one and the misaligned one */
	n = doctor("carveout:carve");
	tap_check(has(n, "region0", HUGEPFN_CHECK_OK, "aligned for 2M leaves"), "doctor carveout:carve: aligned");
	n = doctor("carveout:odd");
	tap_check(has(n, "region0", HUGEPFN_CHECK_WARN, "aligned to 4K only") &&
		  has(n, "region0", HUGEPFN_CHECK_WARN, "memmap="),
		  "doctor carveout:odd (4 KiB- but not 2 MiB-aligned): warn, with how to reserve it aligned");
	tap_check(tool("doctor carveout:odd") == (patched ? 0 : 1) && out_has("warn   region0"),
		  "tool: a warning alone does not fail the run");
	tap_check(tool("doctor carveout:none") == 1 && out_has("carveouts=none:SIZE@ADDR"),
		  "tool: an unknown carveout fails (exit 1)");
}

/* The same node seen by a user who may not open it (uid 65534). */
static void test_no_permission(void)
{
	int fd = open("/tmp/doctor-nobody.out", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644), status = -1;
	pid_t pid;

	if (!tap_check(fd >= 0, "doctor as nobody: output file"))
		return;
	pid = fork();
	if (pid == 0) {
		int n;

		if (setgid(65534) || setuid(65534))
			_exit(3);
		/* the library first: a finding that says what to do */
		n = hugepfn_doctor(ctx, "carveout:carve", checks, 64);
		if (!has(n, "node", HUGEPFN_CHECK_FAIL, "cannot open it") ||
		    !has(n, "node", HUGEPFN_CHECK_FAIL, "udev rule"))
			_exit(4);
		dup2(fd, 1);
		dup2(fd, 2);
		execl(TOOL, "hugepfn", "doctor", "carveout:carve", (char *)NULL);
		_exit(5);
	}
	close(fd);
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		status = -1;
	tap_check(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 1,
		  "doctor carveout:carve as uid 65534: the library's finding says what to do, the tool exits 1 (status %#x)",
		  status);
	guest_run("sed 's/^/#   /' /tmp/doctor-nobody.out");
	/* no /etc/passwd in the initramfs: owners are printed as numbers */
	tap_check(guest_run("grep -q '^fail   node .*mode 0600 [^ ]*; this user (uid 65534) cannot open it' "
			    "/tmp/doctor-nobody.out") == 0 &&
		  guest_run("grep -q 'remap-pmd .*cannot tell' /tmp/doctor-nobody.out") == 0,
		  "as nobody: the 0600 node fails with who may open it, and the probe cannot run");
}

static void test_uio(void)
{
	char spec[32];
	int n, num = -1, i;

	tap_check(guest_run(TOOL " unbind %s >/dev/null && rmmod hugepfn", big.bdf) == 0 &&
		  guest_run("insmod /hpfn/modules/hugepfn.ko uio=1 %s", modparam) == 0 &&
		  guest_run(TOOL " bind %s >/dev/null", big.bdf) == 0,
		  "reload hugepfn.ko with uio=1 and bind %s", big.bdf);
	for (i = 0; i < 8 && num < 0; i++)
		if (guest_run("grep -q hugepfn /sys/class/uio/uio%d/name 2>/dev/null", i) == 0)
			num = i;
	if (!tap_check(num >= 0, "the UIO personality is uio%d", num))
		return;
	snprintf(spec, sizeof(spec), "/dev/uio%d", num);
	n = doctor(spec);
	tap_check(has(n, "device", HUGEPFN_CHECK_OK, "(hugepfn)") &&
		  has(n, "driver", HUGEPFN_CHECK_OK, patched ? "UIO maps physical memory" : "at fault time") &&
		  has(n, "driver", HUGEPFN_CHECK_OK, "no hook") &&
		  has(n, "map0", HUGEPFN_CHECK_OK, NULL) && has(n, "node", HUGEPFN_CHECK_OK, NULL),
		  "doctor %s: the UIO personality maps huge (%s) but cannot align mmap(NULL); map0 aligned", spec,
		  patched ? "remap at mmap time" : "through the driver's fault handler");
	tap_check(guest_run(TOOL " unbind %s >/dev/null", big.bdf) == 0, "unbind %s", big.bdf);
}

static void test_no_driver(void)
{
	int n;

	/* doctor probes through sysfs only where memory decoding is on already */
	tap_check(guest_run("echo 1 > /sys/bus/pci/devices/%s/enable", big.bdf) == 0,
		  "turn on memory decoding of %s, as the sysfs backend does", big.bdf);
	n = doctor(big.bdf);

	tap_check(has(n, "device", HUGEPFN_CHECK_OK, "bound to no driver") &&
		  has(n, "driver", patched ? HUGEPFN_CHECK_OK : HUGEPFN_CHECK_FAIL, "sysfs resourceN") &&
		  has(n, "driver", patched ? HUGEPFN_CHECK_OK : HUGEPFN_CHECK_FAIL, "hugepfn bind") &&
		  has(n, "node", HUGEPFN_CHECK_OK, "resource2"),
		  "doctor %s bound to nothing: explains the sysfs path, suggests the driver", big.bdf);
	/* the test kernel's dump lets the probe use the device's own sysfs path */
	if (guest_have_ptdump())
		tap_check(has(n, "remap-pmd", patched ? HUGEPFN_CHECK_OK : HUGEPFN_CHECK_FAIL, "through sysfs"),
			  "the remap probe went through the device's own sysfs path (the dump tells)");
	else
		tap_check(has(n, "remap-pmd", HUGEPFN_CHECK_FAIL, "through hugepfn"),
			  "no page-table dump on the stock kernel: the probe fell back to a hugepfn node");
	tap_check(guest_run("rmmod hugepfn") == 0, "unload hugepfn.ko");
}

static void test_vfio(void)
{
	char path[300];
	int iommu, n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group", big.bdf);
	iommu = access(path, F_OK) == 0;
	tap_check((iommu || guest_run("echo 1 > /sys/module/vfio/parameters/enable_unsafe_noiommu_mode") == 0) &&
		  guest_run(TOOL " bind %s vfio-pci >/dev/null", big.bdf) == 0,
		  "bind %s to vfio-pci (%s)", big.bdf, iommu ? "behind the emulated IOMMU" : "no-IOMMU mode");
	n = doctor(big.bdf);
	tap_check(has(n, "driver", HUGEPFN_CHECK_OK, "fault time") && has(n, "node", HUGEPFN_CHECK_OK, "/dev/vfio/"),
		  "doctor %s (vfio-pci): the fault path explained, its group node opens", big.bdf);
	if (iommu)
		tap_check(has(n, "iommu-group", HUGEPFN_CHECK_OK, "viable") && has(n, "iommu", HUGEPFN_CHECK_OK, NULL),
			  "doctor: behind the IOMMU, the group is viable (ok)");
	else
		tap_check(has(n, "iommu-group", HUGEPFN_CHECK_WARN, "no-IOMMU group") &&
			  has(n, "vfio-noiommu", HUGEPFN_CHECK_WARN, "no-IOMMU mode is on"),
			  "doctor: vfio-pci in no-IOMMU mode warns (the group, and the mode itself)");
	tap_check(tool("doctor --help") == 0 && out_has("Usage: hugepfn [--json] doctor [DEV]"), "tool: doctor --help");
	tap_check(tool("doctor a b") == 2 && tool("doctor --bogus") == 2, "tool: bad usage exits 2");
	tap_check(tool("doctor 0000:0f:1f.0") == 1 && out_has("no PCI device 0000:0f:1f.0") &&
		  out_has("hugepfn list"), "tool: a device that does not exist fails, saying what to run");
	tap_check(guest_run(TOOL " unbind %s >/dev/null", big.bdf) == 0, "unbind %s from vfio-pci", big.bdf);
}

int main(void)
{
	int ret;

	ret = guest_find_bar(0x1af4, 0x1110, 2, SZ_1G, UINT64_MAX, &big);
	if (ret)
		tap_bail("find the ivshmem device with a big BAR2: %s", strerror(-ret));
	if (guest_carveout(&carve, &carve_size) || carve_size < 64 * SZ_1M)
		tap_bail("the harness's memmap= carveout of at least 64 MiB");
	if (hugepfn_ctx_new(NULL, &ctx))
		tap_bail("hugepfn_ctx_new");
	patched = guest_has_feature("remap-pmd");
	gbpages = guest_run("grep -qw pdpe1gb /proc/cpuinfo") == 0;
	/* a good carveout, and one 4 KiB- but not 2 MiB-aligned, inside the reservation */
	snprintf(modparam, sizeof(modparam), "carveouts=carve:32M@0x%llx,odd:8M@0x%llx",
		 (unsigned long long)carve, (unsigned long long)carve + 32 * SZ_1M + 4096);

	test_nothing_loaded();
	test_driver();
	test_no_permission();
	test_uio();
	test_no_driver();
	test_vfio();
	hugepfn_ctx_free(ctx);
	return tap_exit();
}
