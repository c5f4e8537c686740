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

struct hugepfn_ctx {
	char sysfs_root[256];
	char dev_root[256];
};

struct hpfn_backend_ops;

struct hugepfn_dev {
	struct hugepfn_ctx *ctx;
	const struct hpfn_backend_ops *ops;
	pthread_mutex_t lock;		/* err and the lazily opened fds */
	char err[1024];
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
	unsigned int region;
	unsigned int flags;
	int fd;				/* what was mapped, for the query */
};

/* One backend: how to open a device and what to mmap for a region. */
struct hpfn_backend_ops {
	enum hugepfn_backend kind;
	int (*open)(struct hugepfn_dev *dev, const char *target);
	void (*close)(struct hugepfn_dev *dev);
	/* The fd and file offset of byte 0 of @region (write-combining if @wc). */
	int (*map_target)(struct hugepfn_dev *dev, unsigned int region, int wc,
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
int hpfn_vfio_map_target(struct hugepfn_dev *dev, unsigned int region, int wc, int *fd,
			 uint64_t *offset);
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

/* hugepfn_map_runs() with the memory type of each run in @caches (or NULL). */
int hpfn_map_runs(struct hugepfn_map *map, struct hugepfn_run *runs, int *caches, size_t max);

/* Record the detail of a failure on @dev and return @err (negative). */
int hpfn_err(struct hugepfn_dev *dev, int err, const char *fmt, ...)
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

/* The bound driver of a PCI device, "" when none. */
int hpfn_pci_driver(const struct hugepfn_ctx *ctx, const char *bdf, char *buf, size_t size);

#endif
