// SPDX-License-Identifier: GPL-2.0
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "guest.h"
#include "hpfn_test.h"
#include "tap.h"

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
		   uint64_t min_size, struct guest_bar *out)
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
		if (read_bar(de->d_name, bar, out) || out->size < min_size)
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

static char *cmdline_value(const char *key)
{
	static char buf[4096];
	char *tok, *save = NULL;
	size_t klen = strlen(key);
	FILE *f = fopen("/proc/cmdline", "re");

	if (!f)
		return NULL;
	if (!fgets(buf, sizeof(buf), f)) {
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
	char *list = cmdline_value("hpfn.features"), *tok, *save = NULL;

	if (!list)
		return 0;
	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		if (!strcmp(tok, name))
			return 1;
	return 0;
}

const char *guest_kernel_kind(void)
{
	static char kind[32];
	char *v = cmdline_value("hpfn.kernel");

	snprintf(kind, sizeof(kind), "%s", v ? v : "unknown");
	return kind;
}

int guest_have_ptdump(void)
{
	return access(HPFN_PTDUMP_PATH, R_OK) == 0;
}

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

int guest_module_levels(uint64_t addr, uint64_t len, struct hpfn_pt_run *runs,
			size_t max)
{
	int fd = open(HPFN_TEST_DEV, O_RDWR | O_CLOEXEC), n = 0;
	uint64_t a = addr, end = addr + len;

	if (fd < 0)
		return -errno;
	while (a < end) {
		struct hpfn_test_query q = { .addr = a };
		enum hpfn_pt_level level;
		uint64_t step;
		unsigned int flags;

		if (ioctl(fd, HPFN_TEST_IOC_QUERY, &q)) {
			int err = -errno;

			close(fd);
			return err;
		}
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
	close(fd);
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
