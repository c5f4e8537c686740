/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Internals of libhugepfn shared by its files; not installed. */
#ifndef HUGEPFN_INTERNAL_H
#define HUGEPFN_INTERNAL_H

#include <pthread.h>
#include <stdarg.h>

#include "hugepfn.h"

#define HPFN_MAX_REGIONS 6
#define HPFN_PATH_MAX 512
#define HPFN_MAX_AREAS 16	/* sparse-mmap areas kept per region */

#define HPFN_ERR_THREADS 64	/* error details kept per object: threads */
#define HPFN_ERR_LEN 1024	/* ... and bytes each */

/* One thread's last error detail on an object (error.c). */
struct hpfn_err_slot {
	uint64_t thread;	/* the thread's cookie (error.c) */
	uint64_t stamp;		/* when written; the stalest slot is reused */
	char msg[HPFN_ERR_LEN];
};

struct hpfn_errors {
	pthread_mutex_t lock;
	unsigned int nr;
	uint64_t clock;
	struct hpfn_err_slot *slot[HPFN_ERR_THREADS];
};

struct hugepfn_ctx {
	char sysfs_root[256];
	char dev_root[256];
	struct hpfn_errors errors;
};

struct hpfn_backend_ops;

/*
 * hpfn_map() flag for the library's own probes (doctor): map without
 * turning on a sysfs device's memory decoding; nothing is accessed. The
 * public hugepfn_map() refuses it, as every unknown bit.
 */
#define HPFN_MAP_NO_ENABLE	(1u << 31)

struct hugepfn_dev {
	struct hugepfn_ctx *ctx;
	const struct hpfn_backend_ops *ops;
	pthread_mutex_t lock;		/* the lazily opened fds */
	struct hpfn_errors errors;
	char bdf[16];			/* PCI devices */
	char node[HPFN_PATH_MAX];	/* driver or UIO node */
	int fd;				/* driver/UIO node or VFIO device, -1 otherwise */
	int vfio_container, vfio_group;	/* legacy VFIO */
	int iommufd;			/* VFIO cdev: /dev/iommu */
	int res_fd[HPFN_MAX_REGIONS][2];	/* sysfs resourceN, resourceN_wc */
	unsigned int nr_regions;
	struct hugepfn_region regions[HPFN_MAX_REGIONS];
	uint64_t map_offset[HPFN_MAX_REGIONS];	/* UIO, VFIO: mmap offset of region i */
	/* HUGEPFN_RGN_SPARSE regions: the areas that may be mapped */
	unsigned int nr_areas[HPFN_MAX_REGIONS];
	struct hugepfn_area areas[HPFN_MAX_REGIONS][HPFN_MAX_AREAS];
};

struct hugepfn_map {
	struct hugepfn_dev *dev;
	void *addr;
	uint64_t length;
	uint64_t align;
	uint64_t phys;			/* of byte 0, 0 if unknown */
	uint64_t offset;		/* in the region */
	unsigned int region;
	unsigned int flags;
	int fd;				/* what was mapped, for the query */
};

/* One backend: how to open a device and what to mmap for a region. */
struct hpfn_backend_ops {
	enum hugepfn_backend kind;
	int (*open)(struct hugepfn_dev *dev, const char *target);
	void (*close)(struct hugepfn_dev *dev);
	/*
	 * The fd and file offset of byte 0 of @region for a mapping with
	 * @flags (HUGEPFN_MAP_*, HPFN_MAP_*): the write-combining alias for
	 * HUGEPFN_MAP_WC; the sysfs backend enables the device here.
	 */
	int (*map_target)(struct hugepfn_dev *dev, unsigned int region, unsigned int flags,
			  int *fd, uint64_t *offset);
	/*
	 * Optional: runs of a mapping by page size and memory type from the
	 * kernel (driver); @caches (enum hugepfn_cache, one a run) may be NULL.
	 */
	int (*runs)(struct hugepfn_map *map, struct hugepfn_run *runs, int *caches, size_t max);
	/*
	 * Optional: fill the page tables of a new mapping without touching its
	 * memory, where the kernel fills them at fault time (driver).
	 */
	int (*populate)(struct hugepfn_map *map);
};

extern const struct hpfn_backend_ops hpfn_backend_driver;
extern const struct hpfn_backend_ops hpfn_backend_uio;
extern const struct hpfn_backend_ops hpfn_backend_sysfs;
extern const struct hpfn_backend_ops hpfn_backend_vfio;
extern const struct hpfn_backend_ops hpfn_backend_vfio_cdev;

/* VFIO, both interfaces: the region table of the open device fd, and mmap. */
int hpfn_vfio_read_regions(struct hugepfn_dev *dev);
int hpfn_vfio_map_target(struct hugepfn_dev *dev, unsigned int region, unsigned int flags,
			 int *fd, uint64_t *offset);
/* Whether AUTO should open @bdf (bound to vfio-pci) through its cdev. */
int hpfn_vfio_cdev_usable(const struct hugepfn_ctx *ctx, const char *bdf);
/* VFIO_DEVICE_GET_REGION_INFO's capability chain (fuzzed). */
int hpfn_parse_vfio_region_caps(const void *info, size_t len, uint64_t region_size,
				struct hugepfn_area *areas, size_t max, int *sparse);
/* Whether [@offset, @end) lies inside one of the @nr areas. */
int hpfn_areas_contain(const struct hugepfn_area *areas, unsigned int nr, uint64_t offset,
		       uint64_t end);

/*
 * The bytes a page-table level maps with this base page size: level 1 the
 * base page, 2 the PMD leaf, 3 the PUD leaf (from hpfn_leaf_candidates());
 * 0 for anything else.
 */
uint64_t hpfn_level_bytes(int level);

/*
 * hugepfn_map_runs() with the memory type of each run in @caches (or NULL),
 * hugepfn_map_cache() and hugepfn_unmap(), for the library's own use: they
 * leave the calling thread's error detail as it is.
 */
int hpfn_map_runs(struct hugepfn_map *map, struct hugepfn_run *runs, int *caches, size_t max);
int hpfn_map_cache(struct hugepfn_map *map);
int hpfn_unmap(struct hugepfn_map *map);
/* hugepfn_map() that takes HPFN_MAP_NO_ENABLE too and leaves the detail as it is. */
int hpfn_map(struct hugepfn_dev *dev, unsigned int region, uint64_t offset, uint64_t length,
	     unsigned int flags, struct hugepfn_map **out);

/* Per-thread error details of an object (error.c). */
void hpfn_errors_init(struct hpfn_errors *e);
void hpfn_errors_fini(struct hpfn_errors *e);
/* Forget the calling thread's detail: every public call starts so. */
void hpfn_errors_clear(struct hpfn_errors *e);
void hpfn_errors_vset(struct hpfn_errors *e, const char *fmt, va_list ap);
size_t hpfn_errors_get(struct hpfn_errors *e, char *buf, size_t size);
/* Record a detail in @e and return @err (negative). */
int hpfn_errs_set(struct hpfn_errors *e, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Record the detail of a failure on @dev (@ctx) and return @err (negative). */
int hpfn_err(struct hugepfn_dev *dev, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int hpfn_ctx_err(struct hugepfn_ctx *ctx, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Paths under the context's sysfs and /dev roots. */
int hpfn_sysfs_path(const struct hugepfn_ctx *ctx, char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
int hpfn_dev_path(const struct hugepfn_ctx *ctx, char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Read a small text file into @buf (terminated, trailing newline cut). */
int hpfn_read_text(const char *path, char *buf, size_t size);
int hpfn_read_u64(const char *path, uint64_t *val);

/* Parsers of kernel-provided text (fuzzed). */
int hpfn_parse_resource(const char *text, size_t len, struct hugepfn_bar *bars, size_t max);
int hpfn_parse_bdf(const char *s, char *out, size_t size);

/*
 * Turn on memory decoding of @bdf (canonical) unless a driver holds it;
 * failures recorded in @e.
 */
int hpfn_pci_enable(const struct hugepfn_ctx *ctx, struct hpfn_errors *e, const char *bdf);

/* hugepfn_open() that returns the handle on failure too, its detail saying why. */
int hpfn_open(struct hugepfn_ctx *ctx, const char *spec, enum hugepfn_backend backend,
	      struct hugepfn_dev **out);

/* The bound driver of a PCI device, "" when none. */
int hpfn_pci_driver(const struct hugepfn_ctx *ctx, const char *bdf, char *buf, size_t size);

#endif
