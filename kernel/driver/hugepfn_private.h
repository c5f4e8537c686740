/* SPDX-License-Identifier: GPL-2.0 */
/* hugepfn.ko internals shared by the core, the PCI and the carveout parts. */
#ifndef HUGEPFN_PRIVATE_H
#define HUGEPFN_PRIVATE_H

#include <linux/cdev.h>
#include <linux/device.h>
#include <linux/fs.h>
#include <linux/kref.h>
#include <linux/rwsem.h>
#include <uapi/linux/hugepfn.h>

#define HUGEPFN_MAX_REGIONS	6

struct uio_info;

struct hugepfn_region {
	phys_addr_t phys;
	resource_size_t size;
	u32 flags;		/* HUGEPFN_REGION_* */
};

/*
 * One device node. Open files and mappings keep it alive (kref) after
 * its PCI device or carveout went away; "gone" then makes every further
 * mmap() and ioctl fail and the mappings were revoked.
 */
struct hugepfn_dev {
	struct kref kref;
	struct device dev;		/* the node's class device */
	struct cdev cdev;
	struct inode *inode;		/* address space shared by all opens */
	struct rw_semaphore lock;	/* gone vs. mmap */
	bool gone;
	u32 kind;			/* enum hugepfn_device_kind */
	char name[64];
	unsigned int nr_regions;
	struct hugepfn_region regions[HUGEPFN_MAX_REGIONS];
	int claimed_bars;		/* PCI: BARs requested from the core */
	struct resource *claimed;	/* carveout: the range requested */
	struct uio_info *uio;		/* UIO personality, if registered */
};

struct hugepfn_dev *hugepfn_dev_create(struct device *parent, u32 kind,
				       const char *name, const char *node);
int hugepfn_dev_add(struct hugepfn_dev *hdev);
void hugepfn_dev_remove(struct hugepfn_dev *hdev);

int hugepfn_pci_init(void);
void hugepfn_pci_exit(void);
int hugepfn_carveouts_init(const char *spec);
void hugepfn_carveouts_exit(void);

#if IS_ENABLED(CONFIG_UIO)
int hugepfn_uio_register(struct hugepfn_dev *hdev, struct device *parent);
void hugepfn_uio_unregister(struct hugepfn_dev *hdev);
#else
static inline int hugepfn_uio_register(struct hugepfn_dev *hdev,
				       struct device *parent)
{
	return -EOPNOTSUPP;
}

static inline void hugepfn_uio_unregister(struct hugepfn_dev *hdev) { }
#endif

#endif
