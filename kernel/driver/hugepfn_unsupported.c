// SPDX-License-Identifier: GPL-2.0
/*
 * hugepfn.ko as built for a kernel older than Linux 6.12, which lacks what
 * the driver uses (Kbuild): it only refuses to load, saying why. DKMS
 * builds the driver for every installed kernel with headers, and a kernel
 * it cannot be built for would fail that kernel's updates.
 */
#include <linux/errno.h>
#include <linux/init.h>
#include <linux/module.h>
#include <linux/printk.h>
#include <generated/utsrelease.h>

static int __init hugepfn_unsupported_init(void)
{
	pr_err("hugepfn: Linux %s is older than 6.12, which hugepfn.ko needs; boot a 6.12 or later kernel (on Debian 12: linux-image-6.12-amd64, or the hugepfn kernel of kernel/package.sh)\n",
	       UTS_RELEASE);
	return -ENODEV;
}
module_init(hugepfn_unsupported_init);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("hugepfn placeholder for kernels before Linux 6.12: refuses to load");
