// SPDX-License-Identifier: GPL-2.0
/*
 * hugepfn.ko under kernel lockdown: once the kernel is locked down
 * (integrity), its nodes refuse to open and to map, as sysfs resourceN
 * (LOCKDOWN_PCI_ACCESS) and /dev/mem (LOCKDOWN_DEV_MEM) do.
 *
 * Lockdown cannot be lifted: this runs last in its boot.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <unistd.h>

#include <linux/hugepfn.h>

#include "guest.h"
#include "tap.h"

#define LOCKDOWN "/sys/kernel/security/lockdown"

static int open_errno(const char *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);

	if (fd >= 0) {
		close(fd);
		return 0;
	}
	return errno;
}

static int map_errno(int fd, uint64_t offset)
{
	void *p = mmap(NULL, SZ_2M, PROT_READ, MAP_SHARED, fd, offset);

	if (p != MAP_FAILED) {
		munmap(p, SZ_2M);
		return 0;
	}
	return errno;
}

int main(void)
{
	struct guest_bar big;
	uint64_t carve, carve_size;
	char node[300];
	int fd, cfd;

	if (guest_find_bar(0x1af4, 0x1110, 2, SZ_1G, UINT64_MAX, &big))
		tap_bail("find the ivshmem device with a 1 GiB BAR2");
	if (guest_carveout(&carve, &carve_size))
		tap_bail("the harness's carveout");
	if (access(LOCKDOWN, F_OK))
		mount("none", "/sys/kernel/security", "securityfs", 0, NULL);
	if (!tap_check(access(LOCKDOWN, W_OK) == 0 && guest_run("grep -q '\\[none\\]' " LOCKDOWN) == 0,
		       "the kernel has the lockdown LSM, not locked down yet"))
		return tap_exit();
	tap_check(guest_run("insmod /hpfn/modules/hugepfn.ko carveouts=carve:%lluM@%#llx",
			    (unsigned long long)carve_size >> 20, (unsigned long long)carve) == 0 &&
		  guest_bind(big.bdf, "hugepfn") == 0, "load hugepfn.ko with a carveout and bind %s", big.bdf);
	snprintf(node, sizeof(node), "/dev/hugepfn/pci-%s", big.bdf);
	fd = open(node, O_RDWR | O_CLOEXEC);
	cfd = open("/dev/hugepfn/carveout-carve", O_RDWR | O_CLOEXEC);
	tap_check(fd >= 0 && cfd >= 0 && map_errno(fd, HUGEPFN_REGION_OFFSET(2)) == 0 && map_errno(cfd, 0) == 0,
		  "before lockdown both nodes open and map");

	tap_check(guest_write_file(LOCKDOWN, "integrity") == 0 &&
		  guest_run("grep -q '\\[integrity\\]' " LOCKDOWN) == 0, "lock the kernel down (integrity)");
	tap_check(open_errno(node) == EPERM, "the PCI node refuses to open -> EPERM (LOCKDOWN_PCI_ACCESS)");
	tap_check(open_errno("/dev/hugepfn/carveout-carve") == EPERM,
		  "the carveout node refuses to open -> EPERM (LOCKDOWN_DEV_MEM)");
	tap_check(fd >= 0 && map_errno(fd, HUGEPFN_REGION_OFFSET(2)) == EPERM,
		  "a PCI node opened before the lockdown cannot map -> EPERM");
	tap_check(cfd >= 0 && map_errno(cfd, 0) == EPERM,
		  "a carveout node opened before the lockdown cannot map -> EPERM");
	if (fd >= 0)
		close(fd);
	if (cfd >= 0)
		close(cfd);
	tap_check(guest_unbind(big.bdf, "hugepfn") == 0 && guest_run("rmmod hugepfn") == 0,
		  "unbind and unload");
	return tap_exit();
}
