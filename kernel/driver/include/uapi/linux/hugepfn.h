/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * hugepfn: map PCI BARs and reserved physical carveouts into processes with
 * the largest page-table leaves the kernel can use.
 *
 * Each device node (/dev/hugepfn/pci-DDDD:BB:DD.F, /dev/hugepfn/carveout-NAME)
 * has numbered regions. mmap() offset HUGEPFN_REGION_OFFSET(i) + off maps
 * region i from byte off with the region's default memory type (UC- for
 * BARs, write-back for carveouts); HUGEPFN_REGION_WC_OFFSET(i) + off maps a
 * prefetchable BAR write-combining. Mappings must be MAP_SHARED and not
 * executable. A mapping whose virtual and physical addresses agree modulo
 * 2M (1G) can be mapped with 2M (1G) leaves: on a kernel whose
 * remap_pfn_range() installs huge leaves they are made at mmap() time;
 * elsewhere BAR mappings are filled at fault time (huge leaves too, as
 * vfio-pci does), and HUGEPFN_POPULATE fills a range without touching it.
 * Unbinding the device, resetting it or an AER error revokes every mapping:
 * later accesses get SIGBUS until the region is mapped again.
 *
 * mmap(NULL, ...) needs no help to come out huge: the driver's
 * get_unmapped_area picks a virtual address congruent to the physical
 * address modulo the largest leaf the range can use.
 *
 * ioctl structures start with argsz (the size userspace passes, at least
 * the size of the first version of the structure) and flags (unknown flags
 * are rejected), as VFIO's do, so they can grow: fields added at the end
 * are filled only when argsz covers them, and the ioctl number keeps the
 * size of the first version, so old and new binaries use the same command.
 */
#ifndef _UAPI_LINUX_HUGEPFN_H
#define _UAPI_LINUX_HUGEPFN_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define HUGEPFN_API_VERSION	2

#define HUGEPFN_OFFSET_SHIFT	40
#define HUGEPFN_WC_INDEX	0x80	/* region index bit: write-combining alias */
#define HUGEPFN_REGION_OFFSET(i)	((__u64)(i) << HUGEPFN_OFFSET_SHIFT)
#define HUGEPFN_REGION_WC_OFFSET(i)	\
	((__u64)((i) | HUGEPFN_WC_INDEX) << HUGEPFN_OFFSET_SHIFT)

/* 0xB9: free in Documentation/userspace-api/ioctl/ioctl-number.rst */
#define HUGEPFN_TYPE	0xB9

/* HUGEPFN_DEVICE_INFO: what the node is. */
enum hugepfn_device_kind {
	HUGEPFN_KIND_PCI = 1,
	HUGEPFN_KIND_CARVEOUT = 2,
};

struct hugepfn_device_info {
	__u32 argsz;
	__u32 flags;		/* in: 0 */
	__u32 api_version;	/* out: HUGEPFN_API_VERSION */
	__u32 kind;		/* out: enum hugepfn_device_kind */
	__u32 num_regions;	/* out: PCI: 6 (BARs 0-5); carveout: 1 */
	__u32 pad;
	char name[64];		/* out: "0000:00:01.0" or the carveout's name */
};

#define HUGEPFN_DEVICE_INFO	_IOWR(HUGEPFN_TYPE, 0x00, struct hugepfn_device_info)

/* HUGEPFN_REGION_INFO: one region. */
#define HUGEPFN_REGION_MAPPABLE		(1u << 0)	/* mmap() works */
#define HUGEPFN_REGION_PREFETCHABLE	(1u << 1)
#define HUGEPFN_REGION_MEM64		(1u << 2)	/* 64-bit BAR */
#define HUGEPFN_REGION_WC		(1u << 3)	/* wc_offset maps write-combining */
#define HUGEPFN_REGION_CARVEOUT		(1u << 4)	/* reserved RAM, write-back */
#define HUGEPFN_REGION_IO		(1u << 5)	/* I/O-port BAR: reported only */
/*
 * Mappings at offset (not wc_offset) fill at fault time, not at mmap():
 * this kernel's remap_pfn_range() installs no huge leaves, the driver's
 * fault handler does. HUGEPFN_POPULATE fills them without touching them.
 */
#define HUGEPFN_REGION_FAULT_FILLED	(1u << 6)

struct hugepfn_region_info {
	__u32 argsz;
	__u32 flags;		/* out: HUGEPFN_REGION_* */
	__u32 index;		/* in */
	__u32 pad;
	__u64 size;		/* out: bytes; 0 for an unused BAR */
	__u64 phys_addr;	/* out: CPU physical address (not the bus address) */
	__u64 phys_align;	/* out: largest power of two dividing phys_addr */
	__u64 offset;		/* out: mmap() offset of byte 0 */
	__u64 wc_offset;	/* out: write-combining offset, 0 if none */
};

#define HUGEPFN_REGION_INFO	_IOWR(HUGEPFN_TYPE, 0x01, struct hugepfn_region_info)

/* HUGEPFN_MAPPING_QUERY: which leaf maps an address of one of our mappings. */
enum hugepfn_level {
	HUGEPFN_LEVEL_NONE = 0,	/* nothing mapped there (yet, or any more) */
	HUGEPFN_LEVEL_4K = 1,
	HUGEPFN_LEVEL_2M = 2,
	HUGEPFN_LEVEL_1G = 3,
};

/*
 * The memory type the page tables give a leaf (on x86 its PAT, PCD and PWT
 * bits, decoded through the kernel's PAT table; on arm64 its AttrIndx):
 * what the CPU really uses, which x86 PAT may have changed from what the
 * mmap() asked for. arm64 maps uncached BARs Device-nGnRE (DEVICE),
 * write-combining ones Normal-NC (WC); Device-nGnRnE reads as UC.
 */
enum hugepfn_cache_mode {
	HUGEPFN_CACHE_MODE_UNKNOWN = 0,	/* nothing mapped, or not decodable here */
	HUGEPFN_CACHE_MODE_WB = 1,	/* write-back */
	HUGEPFN_CACHE_MODE_WC = 2,	/* write-combining */
	HUGEPFN_CACHE_MODE_UC_MINUS = 3,	/* uncached, MTRR may make it WC */
	HUGEPFN_CACHE_MODE_UC = 4,	/* strongly uncached */
	HUGEPFN_CACHE_MODE_WT = 5,	/* write-through */
	HUGEPFN_CACHE_MODE_WP = 6,	/* write-protected */
	HUGEPFN_CACHE_MODE_DEVICE = 7,	/* arm64 Device-nGnRE: uncached, posted writes */
};

struct hugepfn_mapping_query {
	__u32 argsz;
	__u32 flags;		/* in: 0 */
	__u64 addr;		/* in: a user address in this device's mapping */
	__u32 level;		/* out: enum hugepfn_level at addr */
	__u32 region;		/* out: region index (HUGEPFN_WC_INDEX set for WC) */
	__u64 run_start;	/* out: start of the run mapped at this level */
	__u64 run_length;	/* out: its length, within the mapping */
	__u64 region_offset;	/* out: offset of addr in the region */
	/* Filled when argsz covers them (drivers before them leave them alone): */
	__u64 page_size;	/* out: bytes the leaf at addr maps, 0 when none */
	__u32 cache;		/* out: enum hugepfn_cache_mode of the leaf at addr */
	__u32 pad;		/* out: 0 */
};

/*
 * The run [run_start, run_start + run_length) is mapped with one level and
 * one cache mode. The command number keeps the size of the first version of
 * the structure (up to region_offset, 48 bytes); argsz says how much of it
 * the caller has.
 */
#define HUGEPFN_MAPPING_QUERY_SIZE_V1	48
#define HUGEPFN_MAPPING_QUERY	\
	_IOC(_IOC_READ | _IOC_WRITE, HUGEPFN_TYPE, 0x02, HUGEPFN_MAPPING_QUERY_SIZE_V1)

/*
 * HUGEPFN_BUS_MASTER: let the device master the bus (DMA, MSI) or stop it.
 * PCI nodes only. Enabling needs CAP_SYS_RAWIO and a node opened for
 * writing: a device that masters the bus reaches all memory the IOMMU lets
 * it reach, all of it without one. Bus mastering is off after binding, and
 * cleared (and the device reset where it can be) when the last file of the
 * node is closed and when the device is unbound.
 */
struct hugepfn_bus_master {
	__u32 argsz;
	__u32 flags;		/* in: HUGEPFN_BUS_MASTER_ENABLE, or 0 to clear */
};

#define HUGEPFN_BUS_MASTER_ENABLE	(1u << 0)
#define HUGEPFN_BUS_MASTER	_IOW(HUGEPFN_TYPE, 0x03, struct hugepfn_bus_master)

/*
 * HUGEPFN_POPULATE: fill the page tables of [addr, addr + length), a range
 * of one of this node's mappings, as faults would, without accessing the
 * memory (reads of device registers can have side effects). For mappings
 * filled at fault time; a no-op where the range is mapped already.
 */
struct hugepfn_populate {
	__u32 argsz;
	__u32 flags;		/* in: 0 */
	__u64 addr;		/* in: page-aligned */
	__u64 length;		/* in: bytes, page-aligned */
};

#define HUGEPFN_POPULATE	_IOW(HUGEPFN_TYPE, 0x04, struct hugepfn_populate)

#endif /* _UAPI_LINUX_HUGEPFN_H */
