/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * uAPI of hpfn_test.ko, the VM test bed's own kernel helper. It is not part
 * of the product: it exists so the tests have a page-table oracle that works
 * on every kernel (the stock Debian kernel has no PTDUMP_DEBUGFS).
 */
#ifndef HPFN_TEST_H
#define HPFN_TEST_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define HPFN_TEST_DEV "/dev/hpfn_test"

enum hpfn_test_level {
	HPFN_TEST_LEVEL_NONE = 0,	/* nothing mapped at this address */
	HPFN_TEST_LEVEL_PTE = 1,	/* 4 KiB */
	HPFN_TEST_LEVEL_PMD = 2,	/* 2 MiB leaf */
	HPFN_TEST_LEVEL_PUD = 3,	/* 1 GiB leaf */
};

/*
 * Which leaf maps @addr in the calling process, and its raw bits; on x86_64
 * also a kernel address inside this file's HPFN_TEST_IOC_IOREMAP mapping.
 */
struct hpfn_test_query {
	__u64 addr;		/* in */
	__u32 level;		/* out: enum hpfn_test_level */
	__u32 special;		/* out: the leaf has the special bit */
	__u64 entry;		/* out: raw value of the leaf entry */
	__u64 pgtables_bytes;	/* out: page-table bytes of the mm */
};

#define HPFN_TEST_IOC_QUERY _IOWR('H', 0x70, struct hpfn_test_query)

/*
 * What mmap() of this open file maps: [phys, phys + size) of device memory
 * or reserved (non System RAM) memory, with remap_pfn_range(), at mmap
 * offset 0 = phys. The test bed uses it to map the ivshmem BAR and the
 * memmap= carveout with the cache mode and VMA kind a test needs.
 */
enum hpfn_test_cache {
	HPFN_TEST_CACHE_UC_MINUS = 0,	/* pgprot_device(): UC- on x86, Device-nGnRE on arm64 */
	HPFN_TEST_CACHE_WC = 1,		/* pgprot_writecombine() */
	HPFN_TEST_CACHE_WB = 2,		/* vm_page_prot as is */
};

#define HPFN_TEST_FAULT_HANDLER	(1u << 0)	/* give the VMA a ->fault */
#define HPFN_TEST_FAIL_MMAP	(1u << 1)	/* remap, then fail mmap() with EIO */
/*
 * Leave the VMA without vm_ops, as some dma-buf importers hand an
 * exporter's mmap one: vma_is_anonymous() then holds for it.
 */
#define HPFN_TEST_NO_VM_OPS	(1u << 2)

struct hpfn_test_target {
	__u64 phys;
	__u64 size;
	__u32 cache;	/* enum hpfn_test_cache */
	__u32 flags;	/* HPFN_TEST_FAULT_HANDLER, _FAIL_MMAP, _NO_VM_OPS */
};

#define HPFN_TEST_IOC_SET_TARGET _IOW('H', 0x71, struct hpfn_test_target)

/*
 * ioremap() (HPFN_TEST_CACHE_UC_MINUS) or ioremap_wc() (HPFN_TEST_CACHE_WC)
 * [phys, phys + size) of device memory into the kernel, until the file is
 * closed or remaps something else, and say where: the kernel's own huge
 * vmap path (pmd_set_huge()/pud_set_huge(), which build leaves with
 * pfn_pmd()/pfn_pud()) under the architecture's page-table dump.
 */
struct hpfn_test_ioremap {
	__u64 phys;	/* in */
	__u64 size;	/* in */
	__u32 cache;	/* in: HPFN_TEST_CACHE_UC_MINUS or HPFN_TEST_CACHE_WC */
	__u32 pad;
	__u64 kaddr;	/* out: the kernel virtual address */
};

#define HPFN_TEST_IOC_IOREMAP _IOWR('H', 0x72, struct hpfn_test_ioremap)

/*
 * Revoke [offset, offset + len) (mmap offsets, page-aligned) of every
 * mapping of this device node, as a driver does on unbind or reset:
 * unmap_mapping_range() on the node's address space, which holds no mmap
 * lock and splits the huge leaves the range cuts. The range is zapped, not
 * unmapped: the VMAs stay, and accesses to it then fault (SIGBUS).
 */
struct hpfn_test_zap {
	__u64 offset;
	__u64 len;
};

#define HPFN_TEST_IOC_ZAP _IOW('H', 0x73, struct hpfn_test_zap)

#endif
