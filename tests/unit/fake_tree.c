// SPDX-License-Identifier: GPL-2.0
/*
 * A fake sysfs and /dev tree for the library's host unit tests: PCI
 * devices whose BARs are plain files, bound drivers as symlinks.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hugepfn.h"
#include "fake_tree.h"

char root[256], sysroot[300], devroot[300];

void put(const char *rel, const char *text)
{
	char path[600];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", sysroot, rel);
	f = fopen(path, "w");
	if (!f) {
		perror(path);
		exit(1);
	}
	fputs(text, f);
	fclose(f);
}

void get(const char *rel, char *buf, size_t size)
{
	char path[700];
	FILE *f;
	size_t n = 0;

	snprintf(path, sizeof(path), "%s/%s", sysroot, rel);
	f = fopen(path, "r");
	if (f) {
		n = fread(buf, 1, size - 1, f);
		fclose(f);
	}
	while (n && buf[n - 1] == '\n')
		n--;
	buf[n] = '\0';
}

void mkdirs(const char *rel)
{
	char cmd[700];

	snprintf(cmd, sizeof(cmd), "mkdir -p '%s/%s'", sysroot, rel);
	if (system(cmd))
		exit(1);
}

/* A fake PCI device with BAR0 8 MiB at @bar0 (prefetchable, 64-bit) and an I/O BAR. */
void fake_device(const char *bdf, unsigned long long bar0, const char *driver)
{
	char rel[300], text[1024], path[700];
	int fd;

	snprintf(rel, sizeof(rel), "bus/pci/devices/%s", bdf);
	mkdirs(rel);
	snprintf(path, sizeof(path), "%s/vendor", rel);
	put(path, "0x1af4\n");
	snprintf(path, sizeof(path), "%s/device", rel);
	put(path, "0x1110\n");
	snprintf(path, sizeof(path), "%s/class", rel);
	put(path, "0x050000\n");
	snprintf(path, sizeof(path), "%s/enable", rel);
	put(path, "1\n");
	snprintf(path, sizeof(path), "%s/numa_node", rel);
	put(path, "0\n");
	snprintf(path, sizeof(path), "%s/irq", rel);
	put(path, "0\n");
	snprintf(text, sizeof(text),
		 "0x%016llx 0x%016llx 0x0000000000142208\n"
		 "0x000000000000c000 0x000000000000c03f 0x0000000000040101\n"
		 "0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
		 "0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
		 "0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
		 "0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
		 "0x0000000000000000 0x0000000000000000 0x0000000000000000\n",
		 bar0, bar0 + 8 * 0x100000 - 1);
	snprintf(path, sizeof(path), "%s/resource", rel);
	put(path, text);
	/* The "BAR" itself: a file that mmap() can map. */
	snprintf(path, sizeof(path), "%s/%s/resource0", sysroot, rel);
	fd = open(path, O_RDWR | O_CREAT, 0600);
	if (fd < 0 || ftruncate(fd, 8 * 0x100000))
		exit(1);
	close(fd);
	snprintf(path, sizeof(path), "%s/%s/resource0_wc", sysroot, rel);
	{
		char src[700];

		snprintf(src, sizeof(src), "%s/%s/resource0", sysroot, rel);
		if (link(src, path))
			exit(1);
	}
	if (driver) {
		char target[400];

		snprintf(rel, sizeof(rel), "bus/pci/drivers/%s", driver);
		mkdirs(rel);
		snprintf(target, sizeof(target), "%s/bus/pci/drivers/%s", sysroot, driver);
		snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/driver", sysroot, bdf);
		if (symlink(target, path))
			exit(1);
	}
}

/* A path under the fake /dev. */
void dev_put(const char *rel)
{
	char cmd[700];

	snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s/%s')\" && : > '%s/%s'", devroot, rel,
		 devroot, rel);
	if (system(cmd))
		exit(1);
}

int fake_tree_init(void)
{
	snprintf(root, sizeof(root), "/tmp/hugepfn-unit-XXXXXX");
	if (!mkdtemp(root))
		return -1;
	snprintf(sysroot, sizeof(sysroot), "%s/sys", root);
	snprintf(devroot, sizeof(devroot), "%s/dev", root);
	mkdirs("bus/pci/devices");
	mkdirs("bus/pci/drivers");
	return 0;
}

int fake_tree_remove(void)
{
	char cmd[400];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) ? -1 : 0;
}

void rm_fake(const char *rel)
{
	char cmd[700];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s/%s'", sysroot, rel);
	if (system(cmd))
		exit(1);
}

struct hugepfn_ctx *fake_tree_standard(void)
{
	struct hugepfn_ctx_opts opts = { 0 };
	struct hugepfn_ctx *ctx;

	if (fake_tree_init())
		return NULL;
	fake_device("0000:00:05.0", 0x200000000ULL, NULL);
	fake_device("0000:00:06.0", 0x300000000ULL, "hugepfn");
	fake_device("0000:00:07.0", 0x400000000ULL, "nvme");
	opts.sysfs_root = sysroot;
	opts.dev_root = devroot;
	return hugepfn_ctx_new(&opts, &ctx) ? NULL : ctx;
}
