/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libhugepfn: map device memory (PCI BARs, reserved carveouts) at virtual
 * addresses the kernel can map with 2 MiB or 1 GiB page-table leaves, and
 * say what the kernel actually gave.
 *
 * A context (struct hugepfn_ctx) holds the settings; a device handle
 * (struct hugepfn_dev) is one open device; a mapping (struct hugepfn_map)
 * is one mmap() of a region. The library never prints, never exits and
 * keeps no global mutable state (beyond one number per thread that tells
 * threads apart, see "Errors"); contexts, handles and mappings may be
 * used from several threads at once (a mapping must not be used while
 * another thread unmaps it, nor a handle while another closes it).
 *
 * Errors: every call that can fail returns 0 or a count on success and a
 * negative errno on failure; hugepfn_strerror() names the errno. The
 * detail of a failure (which file, which ioctl, what the kernel said) is
 * kept per object and per thread, like errno: hugepfn_dev_error() gives
 * the calling thread's last failure on a handle (calls on the handle's
 * mappings count as the handle's), hugepfn_ctx_error() its last failure of
 * a call on the context (hugepfn_open() included). A call clears the
 * calling thread's detail on its object when it starts, so a detail never
 * belongs to an older call or to another thread; it may be "" when a
 * call's arguments were unusable (a NULL object) or memory ran out. The
 * library keeps the details of the 64 threads that failed most recently
 * on each object; an older thread's reads as "". A thread is told apart
 * by a random number it draws once, so a new thread never reads the
 * detail of an exited one. After fork(), the child should use only objects
 * it creates: another thread of the parent may have held an object's lock.
 *
 * Read-only calls change nothing: listing, hugepfn_pci_info(),
 * hugepfn_open(), the region calls and hugepfn_doctor() write nothing to
 * sysfs or to a device. Enabling memory decoding of a device that no
 * driver holds is part of hugepfn_map() (the sysfs backend), or of
 * hugepfn_pci_enable() on its own.
 *
 * ABI: the shared library's symbols carry the version node HUGEPFN_1
 * (later additions get later nodes). Every public struct keeps its size:
 * new fields come out of its reserved space, which the library zeroes in
 * what it returns and which a caller must zero in what it passes (a
 * non-zero reserved field is -EINVAL, so that a program built against a
 * newer header fails clearly on an older library).
 *
 * Minimal use:
 *
 *	struct hugepfn_ctx *ctx;
 *	struct hugepfn_dev *dev;
 *	struct hugepfn_map *map;
 *	char why[1024];
 *	int ret;
 *
 *	if (hugepfn_ctx_new(NULL, &ctx))
 *		return -1;
 *	ret = hugepfn_open(ctx, "0000:00:01.0", HUGEPFN_BACKEND_AUTO, &dev);
 *	if (ret) {
 *		hugepfn_ctx_error(ctx, why, sizeof(why));  // why the open failed
 *		...
 *	}
 *	ret = hugepfn_map(dev, 2, 0, 0, 0, &map);       // all of BAR2
 *	if (ret)
 *		hugepfn_dev_error(dev, why, sizeof(why));   // why the map failed
 *	volatile uint64_t *regs = hugepfn_map_addr(map);
 *	...
 *	hugepfn_unmap(map);
 *	hugepfn_close(dev);
 *	hugepfn_ctx_free(ctx);
 */
#ifndef HUGEPFN_H
#define HUGEPFN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(HUGEPFN_BUILDING) && defined(__GNUC__)
#define HUGEPFN_API __attribute__((visibility("default")))
#else
#define HUGEPFN_API
#endif

struct hugepfn_ctx;
struct hugepfn_dev;
struct hugepfn_map;

/* The library's version, "MAJOR.MINOR.PATCH" (the VERSION it was built from). */
HUGEPFN_API const char *hugepfn_version(void);

/*
 * Settings of a context; NULL or zeroed fields mean the defaults. Zero the
 * whole struct (reserved included) before setting fields.
 */
struct hugepfn_ctx_opts {
	const char *sysfs_root;	/* default "/sys" (tests point it at a fake tree); also
				 * the root of debugfs, read as SYSFS_ROOT/kernel/debug */
	const char *dev_root;	/* default "/dev" */
	uint64_t reserved[6];	/* must be zero */
};

/*
 * Create a context. Returns 0, -ENOMEM, or -EINVAL (@out NULL, a root
 * longer than 255 bytes, or a non-zero reserved field).
 */
HUGEPFN_API int hugepfn_ctx_new(const struct hugepfn_ctx_opts *opts, struct hugepfn_ctx **out);
HUGEPFN_API void hugepfn_ctx_free(struct hugepfn_ctx *ctx);

/*
 * The detail of the calling thread's last failed call on @ctx (see
 * "Errors" above), copied into @buf (always terminated when @size > 0).
 * Returns the length of the whole message, which may exceed @size - 1.
 */
HUGEPFN_API size_t hugepfn_ctx_error(struct hugepfn_ctx *ctx, char *buf, size_t size);

/*
 * The page sizes a mapping can get on the running system, smallest first:
 * the base page size, then each leaf size the system offers. The
 * candidates follow from the base page (page / 8 entries a table: 2 MiB and
 * 1 GiB for 4 KiB pages, 512 MiB and 4 TiB for 64 KiB pages); a level is
 * kept where the context's sysfs offers it: the PMD leaf when
 * kernel/mm/transparent_hugepage/hpage_pmd_size names it (then that size)
 * or a kernel/mm/hugepages/hugepages-<N>kB directory has its size, the PUD
 * leaf when a hugepages directory has its size or, on x86, when the CPU
 * maps 1 GiB pages (GBPAGES, "pdpe1gb", in devices/system/cpu/modalias).
 * When sysfs has neither directory the PMD candidate is
 * assumed, as aiming for it costs only address space. hugepfn_map() aims
 * for these sizes. Stores up to @max, returns how many there are, or
 * -EINVAL (@ctx NULL, or @out NULL with @max > 0).
 */
HUGEPFN_API int hugepfn_leaf_sizes(struct hugepfn_ctx *ctx, uint64_t *out, size_t max);

/* ---- discovery ------------------------------------------------------- */

#define HUGEPFN_BAR_IO		(1u << 0)	/* I/O-port BAR */
#define HUGEPFN_BAR_MEM64	(1u << 1)
#define HUGEPFN_BAR_PREFETCH	(1u << 2)

/* A BAR as sysfs describes it; this struct is final (no reserved space). */
struct hugepfn_bar {
	uint64_t phys;		/* 0 with size 0: unused */
	uint64_t size;
	unsigned int flags;	/* HUGEPFN_BAR_* */
};

struct hugepfn_pci_info {
	char bdf[16];		/* "0000:00:01.0" */
	uint16_t vendor, device;
	uint32_t class_code;	/* 24-bit class/subclass/prog-if */
	char driver[64];	/* bound driver, "" when none */
	int iommu_group;	/* -1 when none */
	int numa_node;		/* -1 when unknown */
	struct hugepfn_bar bars[6];
	uint64_t reserved[8];	/* zeroed */
};

/*
 * List PCI devices (through libpci and the context's sysfs), in address
 * order. Stores the first @max of them and returns how many devices there
 * are, which may be more. -EINVAL (@ctx NULL, @out NULL with @max > 0),
 * -ENODEV (libpci cannot read the sysfs tree), -ENAMETOOLONG, -ENOMEM.
 */
HUGEPFN_API int hugepfn_pci_list(struct hugepfn_ctx *ctx, struct hugepfn_pci_info *out, size_t max);

/*
 * One device by its PCI address, "DDDD:BB:DD.F" or "BB:DD.F" (domain 0):
 * lower- or upper-case hex digits of exactly those widths and nothing
 * else. -EINVAL (a NULL argument or a malformed address), -ENOENT (no such
 * device), -ENODEV, -ENOMEM.
 */
HUGEPFN_API int hugepfn_pci_info(struct hugepfn_ctx *ctx, const char *bdf, struct hugepfn_pci_info *out);

/*
 * Turn on memory decoding of a PCI device that no driver holds (write 1
 * to its sysfs "enable"), without which its BARs read as all-ones. Nothing
 * is written when it is on already. hugepfn_map() through the sysfs
 * backend does this itself; nothing else in the library does. Needs root.
 * -EINVAL (malformed address), -ENOENT (no such device), -EBUSY (a driver
 * holds the device: it decides), -EACCES/-EPERM, or the write's errno.
 */
HUGEPFN_API int hugepfn_pci_enable(struct hugepfn_ctx *ctx, const char *bdf);

/* A carveout that hugepfn.ko exposes (carveouts= module parameter). */
struct hugepfn_carveout_info {
	char name[40];		/* open it as "carveout:NAME" */
	uint64_t phys;		/* 0 with size 0: this user cannot open the node */
	uint64_t size;
	uint64_t reserved[4];	/* zeroed */
};

/*
 * List hugepfn.ko's carveouts (from its class devices in sysfs and the
 * region-info ioctl of each node), in name (byte) order. Stores the first
 * @max and returns how many there are; 0 when the driver is not loaded.
 * Nodes whose name does not fit @name (39 bytes) are not listed: the
 * driver makes none. -EINVAL, -ENAMETOOLONG, -ENOMEM, or the errno of
 * reading the class directory.
 */
HUGEPFN_API int hugepfn_carveout_list(struct hugepfn_ctx *ctx, struct hugepfn_carveout_info *out,
				      size_t max);

/*
 * Hand a PCI device to @driver ("hugepfn", "vfio-pci", ...) through its
 * driver_override: set the override (from then on no other driver can
 * take the device), unbind it from its current driver, and bind. When a
 * step after the override fails, the override is put back and the device's
 * driver may probe it again; the detail says in what state the device is
 * left. When @driver is not loaded, a device that no driver holds gets the
 * override all the same (loading the driver's module then binds it), one
 * that a driver holds is left alone, and both are -ENOENT.
 * hugepfn_pci_unbind() undoes it: unbind, clear the override and let the
 * kernel probe the device's usual driver again. Both need root. -EINVAL
 * (malformed address, or a driver name that is empty, longer than 63 bytes
 * or holds '/', '.' or blanks), -ENOENT (no such device, or no such driver
 * loaded), -EBUSY (the driver refused the device, or another driver took
 * it between the unbind and the bind), -EACCES/-EPERM, -ENAMETOOLONG, or
 * the errno of a sysfs write.
 */
HUGEPFN_API int hugepfn_pci_bind(struct hugepfn_ctx *ctx, const char *bdf, const char *driver);
HUGEPFN_API int hugepfn_pci_unbind(struct hugepfn_ctx *ctx, const char *bdf);

/* ---- opening a device -------------------------------------------------- */

enum hugepfn_backend {
	HUGEPFN_BACKEND_AUTO = 0,	/* from what is bound: hugepfn, vfio-pci, uio, none */
	HUGEPFN_BACKEND_DRIVER,		/* /dev/hugepfn/... (hugepfn.ko) */
	HUGEPFN_BACKEND_UIO,		/* /dev/uioN maps */
	HUGEPFN_BACKEND_SYSFS,		/* /sys/bus/pci/devices/BDF/resourceN[_wc] */
	HUGEPFN_BACKEND_VFIO,		/* vfio-pci: group/container, type1 or no-IOMMU */
	HUGEPFN_BACKEND_VFIO_CDEV,	/* vfio-pci: /dev/vfio/devices/vfioN bound to iommufd */
};

/*
 * Open a device: "DDDD:BB:DD.F" or "BB:DD.F" (a PCI device, strict as for
 * hugepfn_pci_info()), "carveout:NAME" (a hugepfn.ko carveout) or a device
 * node path ("/dev/hugepfn/...", "/dev/uioN"). With HUGEPFN_BACKEND_AUTO a PCI device bound to hugepfn is
 * opened through the driver, one bound to a UIO driver through UIO, one
 * bound to nothing through sysfs, and one bound to vfio-pci through VFIO:
 * the device cdev bound to iommufd (HUGEPFN_BACKEND_VFIO_CDEV) when the
 * device has a cdev, sits behind an IOMMU and /dev/iommu exists, else the
 * legacy group/container interface (HUGEPFN_BACKEND_VFIO, which is also
 * the only way to no-IOMMU mode on 6.12). A device bound to any other
 * driver is -EBUSY. HUGEPFN_BACKEND_VFIO_CDEV returns -EOPNOTSUPP when
 * the library was built against uAPI headers older than Linux 6.6.
 * Opening writes nothing to sysfs or the device (see hugepfn_pci_enable()).
 * Through VFIO it is vfio-pci's own open, though: the kernel enables the
 * device (and may reset it) for its first user, and the group or cdev is
 * held exclusively until hugepfn_close(); hugepfn_pci_info() and
 * hugepfn_doctor() describe a device without opening it.
 * On success *out is the handle; on failure *out is NULL and
 * hugepfn_ctx_error() says why: -EINVAL (a NULL argument, an unknown
 * backend, a malformed spec, or a backend that cannot open that kind of
 * spec), -ENOENT (no such device or node), -EBUSY (bound to another
 * driver, or held by someone else), -EIO (what the kernel says of the
 * device is malformed: its sysfs resource file, a UIO map), -EACCES/-EPERM,
 * -ENODEV, -EOPNOTSUPP, -ENAMETOOLONG, -ENOMEM, or the errno of an open()
 * or ioctl().
 */
HUGEPFN_API int hugepfn_open(struct hugepfn_ctx *ctx, const char *spec,
			     enum hugepfn_backend backend, struct hugepfn_dev **out);
HUGEPFN_API void hugepfn_close(struct hugepfn_dev *dev);

HUGEPFN_API enum hugepfn_backend hugepfn_dev_backend(const struct hugepfn_dev *dev);
HUGEPFN_API const char *hugepfn_backend_name(enum hugepfn_backend backend);

/*
 * The detail of the calling thread's last failed call on @dev or one of
 * its mappings (see "Errors" above), copied into @buf (always terminated
 * when @size > 0). Returns the length of the whole message.
 */
HUGEPFN_API size_t hugepfn_dev_error(struct hugepfn_dev *dev, char *buf, size_t size);

/*
 * The C library's description of an errno ("Invalid argument"), for a
 * negative (or positive) errno; "Success" for 0, "Unknown error" for a
 * number that is no errno. Thread-safe; the string is static (glibc's
 * strerrordesc_np(), glibc 2.32 or later).
 */
HUGEPFN_API const char *hugepfn_strerror(int err);

/* ---- regions ------------------------------------------------------------ */

#define HUGEPFN_RGN_MAPPABLE	(1u << 0)
#define HUGEPFN_RGN_PREFETCH	(1u << 1)
#define HUGEPFN_RGN_MEM64	(1u << 2)
#define HUGEPFN_RGN_WC		(1u << 3)	/* can be mapped write-combining */
#define HUGEPFN_RGN_CARVEOUT	(1u << 4)
#define HUGEPFN_RGN_IO		(1u << 5)
#define HUGEPFN_RGN_SPARSE	(1u << 6)	/* only some areas are mappable (VFIO sparse mmap) */
/*
 * Filled at fault time by its driver's huge_fault (vfio-pci; hugepfn.ko on
 * a kernel without the series), not by remap_pfn_range() at mmap time.
 * hugepfn_map() of a hugepfn.ko region populates it (HUGEPFN_POPULATE,
 * which touches no memory), so its runs are known at once.
 */
#define HUGEPFN_RGN_FAULT	(1u << 7)

struct hugepfn_region {
	unsigned int index;
	unsigned int flags;	/* HUGEPFN_RGN_* */
	uint64_t size;
	uint64_t phys;		/* physical address, 0 when the backend cannot tell */
	uint64_t reserved[4];	/* zeroed */
};

/* How many regions the device has (-EINVAL for a NULL handle). */
HUGEPFN_API int hugepfn_region_count(struct hugepfn_dev *dev);
/* Region @index: 0, -EINVAL (NULL argument), -ERANGE (no such region). */
HUGEPFN_API int hugepfn_region_info(struct hugepfn_dev *dev, unsigned int index,
				    struct hugepfn_region *out);

/*
 * A part of a region that can be mapped, in bytes from the region's start;
 * this struct is final.
 */
struct hugepfn_area {
	uint64_t offset;
	uint64_t size;
};

/*
 * The mappable areas of a region: one area covering the whole region for
 * an ordinary mappable region, none for an unmappable one, and the areas
 * VFIO's sparse-mmap capability lists for a HUGEPFN_RGN_SPARSE region (a
 * hugepfn_map() range must then lie inside one of them). Stores up to @max
 * and returns how many there are; -EINVAL, -ERANGE as hugepfn_region_info().
 */
HUGEPFN_API int hugepfn_region_areas(struct hugepfn_dev *dev, unsigned int index,
				     struct hugepfn_area *out, size_t max);

/* ---- mapping -------------------------------------------------------------- */

#define HUGEPFN_MAP_READONLY		(1u << 0)
#define HUGEPFN_MAP_WC			(1u << 1)	/* write-combining, checked: see hugepfn_map() */
#define HUGEPFN_MAP_4K			(1u << 2)	/* deliberately not huge-aligned */
#define HUGEPFN_MAP_HUGE_REQUIRED	(1u << 3)	/* fail unless huge leaves were obtained */
#define HUGEPFN_MAP_2M			(1u << 4)	/* PMD leaves at most, not PUD */

/*
 * Map [offset, offset + length) of a region (length 0: to its end) at a
 * virtual address congruent to the physical address modulo the largest
 * leaf size the range allows among hugepfn_leaf_sizes() (1 GiB, else
 * 2 MiB, else the base page, with 4 KiB pages), so that the kernel can map
 * it with huge leaves. With HUGEPFN_MAP_4K the address is chosen one page
 * off that congruence; with HUGEPFN_MAP_2M it is congruent for the PMD
 * leaf size (2 MiB with 4 KiB pages) but one PMD leaf off the larger
 * congruence, so that the kernel stops at PMD leaves (for comparisons;
 * the two flags exclude each other).
 *
 * HUGEPFN_MAP_HUGE_REQUIRED: the call unmaps and fails unless the mapping
 * is known to contain huge leaves right away: -EOPNOTSUPP when the kernel
 * mapped it with base pages only, -ENODATA when that cannot be known. What
 * is known at map time depends on the backend:
 *   - hugepfn.ko (driver): always known (its query ioctl); on a kernel
 *     without the series its BAR mappings are filled at fault time, and
 *     hugepfn_map() fills them first (HUGEPFN_POPULATE, no memory access);
 *   - sysfs, UIO: known where the page-table dump is readable (debugfs,
 *     root), else -ENODATA;
 *   - VFIO (both interfaces): vfio-pci fills its mappings at the first
 *     access, which the library never makes on its own, so the flag always
 *     fails with -ENODATA: map without it, touch the mapping, and ask
 *     hugepfn_map_runs().
 * HUGEPFN_MAP_WC: the call fails with -EIO (and unmaps), the message
 * naming the memory type obtained, when the kernel is known to have
 * mapped the range with another type than write-combining (x86 PAT gives a
 * range the type of an existing reservation of it without telling); where
 * the type cannot be known (hugepfn_map_cache() says UNKNOWN) it succeeds.
 * -EINVAL without HUGEPFN_RGN_WC.
 * HUGEPFN_MAP_READONLY maps PROT_READ only; the default is read-write.
 *
 * Through the sysfs backend the call first turns on the device's memory
 * decoding (hugepfn_pci_enable()).
 *
 * Errors: -EINVAL (NULL argument, unknown or conflicting flags, an
 * unmappable region, offset or length not page multiples, a range outside
 * every area of a sparse region, a UIO offset other than 0), -ERANGE (no
 * such region, or the range passes its end), -EOPNOTSUPP, -ENODATA, -EIO
 * (above), -EBUSY (sysfs: a driver took the device since it was opened),
 * -ENOMEM, or the errno of open(), mmap(), an ioctl or the sysfs enable
 * write (-EACCES, -EAGAIN while a hugepfn.ko device is being reset,
 * -ENODEV once it is gone).
 */
HUGEPFN_API int hugepfn_map(struct hugepfn_dev *dev, unsigned int region, uint64_t offset,
			    uint64_t length, unsigned int flags, struct hugepfn_map **out);
/* Unmap and free @map: 0, -EINVAL (NULL), or munmap()'s errno (it is freed anyway). */
HUGEPFN_API int hugepfn_unmap(struct hugepfn_map *map);
HUGEPFN_API void *hugepfn_map_addr(const struct hugepfn_map *map);
HUGEPFN_API uint64_t hugepfn_map_length(const struct hugepfn_map *map);
/* The leaf size the address was aligned for (4096 for HUGEPFN_MAP_4K). */
HUGEPFN_API uint64_t hugepfn_map_alignment(const struct hugepfn_map *map);

/* A run of the mapping mapped with one page size; this struct is final. */
struct hugepfn_run {
	uint64_t offset;	/* from the start of the mapping */
	uint64_t length;
	uint64_t page_size;	/* 4096, 2 MiB, 1 GiB; 0 = not mapped; UINT64_MAX = unknown */
};

/*
 * What the kernel mapped: the runs of the mapping by page size, from the
 * driver's query ioctl, or the page-table dump where debugfs is readable,
 * or one run of unknown size (never a guess). Stores the first @max runs
 * and returns how many there are (which may be more); -EINVAL, -ENOMEM, or
 * the query ioctl's errno (-ENODEV once a hugepfn.ko device is gone).
 * Fault-time backends (HUGEPFN_RGN_FAULT) report parts not accessed yet
 * as not mapped (page_size 0).
 */
HUGEPFN_API int hugepfn_map_runs(struct hugepfn_map *map, struct hugepfn_run *runs, size_t max);

/*
 * The PTE-table pages that the mapping costs at the sizes
 * hugepfn_map_runs() reports, tables deposited with huge leaves included as
 * the hugepfn kernel series deposits them: one per 2 MiB block mapped with
 * 4 KiB pages; one per 2 MiB leaf of remap_pfn_range() (the driver, UIO
 * and sysfs backends), none for fault-time 2 MiB leaves (HUGEPFN_RGN_FAULT
 * regions: vfio-pci, hugepfn.ko on a kernel without the series); none
 * for a 1 GiB leaf, whose split allocates what it takes. The upper tables
 * (PMD, PUD) the mapping may need are not counted. -ENODATA when the sizes
 * are unknown, -EINVAL, or hugepfn_map_runs()' errors.
 */
HUGEPFN_API int64_t hugepfn_map_pt_pages(struct hugepfn_map *map);

/* The memory type (cache mode) a mapping got. */
enum hugepfn_cache {
	HUGEPFN_CACHE_UNKNOWN = 0,	/* nothing mapped yet, or no way to tell */
	HUGEPFN_CACHE_WB,		/* write-back (carveouts) */
	HUGEPFN_CACHE_WC,		/* write-combining */
	HUGEPFN_CACHE_UC_MINUS,		/* uncached, overridable by MTRR WC (BARs) */
	HUGEPFN_CACHE_UC,		/* strongly uncached */
	HUGEPFN_CACHE_WT,		/* write-through */
	HUGEPFN_CACHE_WP,		/* write-protected */
	HUGEPFN_CACHE_MIXED,		/* parts of the mapping differ */
	HUGEPFN_CACHE_DEVICE,		/* arm64 Device-nGnRE: uncached BARs there */
};

/*
 * The memory type the kernel actually applied to the mapping: from the
 * driver's query ioctl (every kernel), else from the page-table dump's
 * PWT/PCD/PAT flags where debugfs is readable, else HUGEPFN_CACHE_UNKNOWN
 * (never a guess). Parts not mapped yet (fault-time backends before the
 * first access) do not count. Returns an enum hugepfn_cache value, or a
 * negative errno.
 */
HUGEPFN_API int hugepfn_map_cache(struct hugepfn_map *map);

/* "WB", "WC", "UC-", "UC", "WT", "WP", "mixed", "device", "unknown". */
HUGEPFN_API const char *hugepfn_cache_name(enum hugepfn_cache cache);

/* ---- diagnosis ------------------------------------------------------------ */

enum hugepfn_check_status {
	HUGEPFN_CHECK_OK = 0,	/* as it should be */
	HUGEPFN_CHECK_INFO,	/* worth knowing, nothing wrong */
	HUGEPFN_CHECK_WARN,	/* works, but not as well as it could, or unsafely */
	HUGEPFN_CHECK_FAIL,	/* stands in the way of (huge) mappings */
};

/* One finding of hugepfn_doctor(). */
struct hugepfn_check {
	char check[32];			/* what was checked: "remap-pmd", "thp", "driver", ... */
	enum hugepfn_check_status status;
	char found[320];		/* what was found */
	char advice[320];		/* what to do about it; "" when nothing */
	uint64_t reserved[4];		/* zeroed */
};

/*
 * Check and explain why mappings do or do not come out huge. With @spec
 * NULL, the system: page and leaf sizes, THP, whether the kernel's
 * remap_pfn_range() installs PMD (and PUD) leaves (found out by mapping one
 * aligned block, untouched, of a hugepfn.ko node this caller can open and
 * asking the driver what it got, or of @spec's own BAR through sysfs where
 * it has no driver, memory decoding is on and the page-table dump can tell;
 * "cannot tell" without either), hugepfn.ko, the IOMMU
 * and VFIO's no-IOMMU mode. With @spec (as for hugepfn_open()), that
 * device as well: its driver and whether that mmap path can give huge
 * leaves, its regions' physical alignment and size, for vfio-pci its IOMMU
 * group's viability, and who may open its device nodes. Nothing is opened
 * exclusively (no VFIO group) and no device memory is read or written.
 * Nothing is written to sysfs either: a device whose memory decoding is
 * off is not probed. Stores the first @max findings and returns how many
 * there are, or -EINVAL (@ctx NULL, @out NULL with @max > 0) / -ENOMEM;
 * problems with the device, a malformed @spec included, are findings, not
 * errors.
 */
HUGEPFN_API int hugepfn_doctor(struct hugepfn_ctx *ctx, const char *spec,
			       struct hugepfn_check *out, size_t max);

/* "ok", "info", "warn", "fail". */
HUGEPFN_API const char *hugepfn_check_status_name(enum hugepfn_check_status status);

#ifdef __cplusplus
}
#endif

#endif /* HUGEPFN_H */
