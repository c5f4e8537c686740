/* SPDX-License-Identifier: GPL-2.0 */
/* hugepfn.ko internals shared by its parts. */
#ifndef HUGEPFN_PRIVATE_H
#define HUGEPFN_PRIVATE_H

#include <linux/cdev.h>
#include <linux/device.h>
#include <linux/fs.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/rwsem.h>
#include <linux/spinlock.h>
#include <linux/version.h>
#include <linux/workqueue.h>
#include <uapi/linux/hugepfn.h>

/*
 * The UIO personality maps through uio_info.mmap, which the UIO core of
 * 7.1 replaced with mmap_prepare (hugepfn_uio.c).
 */
#define HUGEPFN_UIO_MMAP	(KERNEL_VERSION(7, 1, 0) > LINUX_VERSION_CODE)

/* 7.2 renamed zap_vma_ptes() zap_special_vma_range(). */
#if KERNEL_VERSION(7, 2, 0) > LINUX_VERSION_CODE
#define zap_special_vma_range	zap_vma_ptes
#endif

#define HUGEPFN_MAX_REGIONS	6

struct pci_dev;
struct uio_info;

struct hugepfn_region {
	phys_addr_t phys;
	resource_size_t size;
	u32 flags;		/* HUGEPFN_REGION_* */
};

/*
 * One device node. Open files and mappings keep it alive (the struct
 * device's reference) after its PCI device or carveout went away; "gone"
 * then makes every further open, mmap(), fault and ioctl fail, and the
 * mappings were revoked.
 *
 * Locking: @lock (taken for reading by mmap() and faults, under the mmap
 * lock) guards @gone, @blocked and @generation; @mms_lock the list of
 * address spaces that map the node; @open_lock the open count,
 * @bus_master and @pdev, and nests inside the PCI device lock. Nothing
 * waits for an mmap lock while holding @lock. @used is set by a writable
 * mmap() (under @lock) and by bus mastering (under @open_lock), read by
 * the last close and cleared by the quiesce work, both under @open_lock
 * while no file is open (opens wait for the work): WRITE_ONCE/READ_ONCE.
 */
struct hugepfn_dev {
	struct device dev;		/* the node's class device */
	struct cdev cdev;
	struct inode *inode;		/* address space shared by all opens */
	struct rw_semaphore lock;
	bool gone;			/* removed: nothing maps again */
	bool blocked;			/* reset or error recovery running */
	unsigned long generation;	/* bumped by every revocation */
	spinlock_t mms_lock;
	struct list_head mms;		/* address spaces mapping it: hugepfn_revoke.c */
	struct mutex open_lock;
	unsigned int open_count;	/* open files of the node */
	bool bus_master;		/* PCI: enabled by the (only) opener */
	bool quiesce_pending;		/* PCI: the last close's work is queued */
	bool used;			/* PCI: mapped writable or bus-mastered since the last quiesce */
	bool uio_personality;		/* PCI: registered with UIO (uio=1) */
	struct pci_dev *pdev;		/* PCI: NULL once unbound */
	struct work_struct quiesce;	/* PCI: after the last close */
	struct pci_saved_state *pci_state;	/* PCI: as probe left it */
	u32 kind;			/* enum hugepfn_device_kind */
	char name[64];
	unsigned int nr_regions;
	struct hugepfn_region regions[HUGEPFN_MAX_REGIONS];
	int claimed_bars;		/* PCI: BARs requested from the core */
	struct resource *claimed;	/* carveout: the range requested */
	struct uio_info *uio;		/* UIO personality, if registered */
	u8 uio_region[HUGEPFN_MAX_REGIONS];	/* UIO map -> region */
	struct file *uio_file;		/* 7.1+: UIO maps land here, see hugepfn_uio.c */
	unsigned int uio_opens;		/* 7.1+: open UIO files; UIO's info_lock */
};

/* hugepfn_core.c: nodes */
struct hugepfn_dev *hugepfn_dev_create(struct device *parent, u32 kind,
				       const char *name, const char *node);
int hugepfn_dev_add(struct hugepfn_dev *hdev);
void hugepfn_dev_remove(struct hugepfn_dev *hdev);
struct file *hugepfn_dev_file(struct hugepfn_dev *hdev);
bool hugepfn_is_ready(void);
extern struct workqueue_struct *hugepfn_wq;
int hugepfn_locked_down(struct hugepfn_dev *hdev);

/* hugepfn_revoke.c: who maps the node, and taking it away from them */
void hugepfn_mm_get(struct hugepfn_dev *hdev, struct mm_struct *mm);
void hugepfn_mm_put(struct hugepfn_dev *hdev, struct mm_struct *mm);
void hugepfn_mm_get_new(struct hugepfn_dev *hdev, struct mm_struct *mm,
			unsigned long start, unsigned long end);
void hugepfn_mms_count(struct hugepfn_dev *hdev, unsigned long *mms,
		       unsigned long *vmas);
void hugepfn_mms_free(struct hugepfn_dev *hdev);
void hugepfn_revoke(struct hugepfn_dev *hdev, bool gone);
void hugepfn_unblock(struct hugepfn_dev *hdev);

/* hugepfn_mmap.c: mappings and the mmap-side ioctls */
int hugepfn_mmap_region(struct hugepfn_dev *hdev, struct vm_area_struct *vma);
struct vm_area_desc;
int hugepfn_mmap_prepare_region(struct hugepfn_dev *hdev,
				struct vm_area_desc *desc);
unsigned long hugepfn_get_unmapped_area(struct file *file, unsigned long addr,
					unsigned long len, unsigned long pgoff,
					unsigned long flags);
long hugepfn_populate(struct hugepfn_dev *hdev, void __user *uarg);
bool hugepfn_is_our_vma(struct hugepfn_dev *hdev, struct vm_area_struct *vma);
u32 hugepfn_bar_fill_flag(void);

/* hugepfn_query.c: HUGEPFN_MAPPING_QUERY */
u32 hugepfn_leaf(struct mm_struct *mm, unsigned long addr, u32 *cache);
unsigned long hugepfn_level_size(u32 level);
long hugepfn_mapping_query(struct hugepfn_dev *hdev, void __user *uarg);

/* hugepfn_core.c: ioctl arguments */
int hugepfn_copy_arg(void *karg, size_t ksz, size_t minsz,
		     const void __user *uarg);

/* hugepfn_pci.c */
int hugepfn_pci_init(void);
void hugepfn_pci_exit(void);
long hugepfn_pci_bus_master(struct hugepfn_dev *hdev, struct file *file,
			    void __user *uarg);
void hugepfn_pci_last_close(struct hugepfn_dev *hdev);

/* hugepfn_carveout.c */
int hugepfn_carveouts_claim(const char *spec);
void hugepfn_carveouts_publish(void);
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
