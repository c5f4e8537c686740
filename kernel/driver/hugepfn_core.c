// SPDX-License-Identifier: GPL-2.0
/*
 * hugepfn: one char device per PCI device or carveout, whose mmap() maps
 * its regions so that aligned ranges get PMD/PUD leaves, and whose ioctls
 * describe the regions and tell what a mapping got.
 *
 * Structure after drivers/vfio: the PCI and carveout parts create nodes
 * through hugepfn_dev_create()/hugepfn_dev_add() and take them away with
 * hugepfn_dev_remove(), which revokes every mapping of the node
 * (hugepfn_mmap.c); hugepfn_query.c answers HUGEPFN_MAPPING_QUERY.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/anon_inodes.h>
#include <linux/compat.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/idr.h>
#include <linux/module.h>
#include <linux/mount.h>
#include <linux/pseudo_fs.h>
#include <linux/security.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "hugepfn_private.h"

#define HUGEPFN_MINORS		256
#define HUGEPFN_FS_MAGIC	0x68706e66	/* "hpnf" */

/* iomem: lockdown refuses to let a parameter name physical memory */
static char *carveouts;
module_param_hw(carveouts, charp, iomem, 0444);
MODULE_PARM_DESC(carveouts,
		 "reserved physical ranges to expose: NAME:SIZE@ADDR[,NAME:SIZE@ADDR...], e.g. buf:64M@0x40000000");

/*
 * Set once module init can no longer fail: until then opens (and UIO
 * mappings) are refused, since a file open on a node would outlive a
 * module whose init failed (probes run inside pci_register_driver(), which
 * can still fail after them).
 */
static bool hugepfn_ready;

bool hugepfn_is_ready(void)
{
	/* pairs with the release in hugepfn_init(): all of init is visible */
	return smp_load_acquire(&hugepfn_ready);
}

/* Deferred device work (the quiesce after a last close), drained at exit. */
struct workqueue_struct *hugepfn_wq;

static dev_t hugepfn_devt;
static DEFINE_IDA(hugepfn_minors);

/*
 * All opens of a node share one address space, from this pseudo file
 * system, so that unmap_mapping_range() reaches every mapping of the node
 * whatever path it was opened by.
 */
static struct vfsmount *hugepfn_mnt;
static int hugepfn_mnt_count;

static int hugepfn_fs_init_fs_context(struct fs_context *fc)
{
	return init_pseudo(fc, HUGEPFN_FS_MAGIC) ? 0 : -ENOMEM;
}

/*
 * No .owner: the file system is pinned for as long as a node exists, and a
 * module reference from it would keep the module from ever being unloaded.
 * The pin is the only reference to the mount (no file has it in its path:
 * nodes live in devtmpfs, the UIO file is an anon inode's) and an internal
 * mount is torn down synchronously by its last mntput(), in the node's
 * release. That runs from hugepfn_dev_remove() (module code, before exit
 * returns) or from the last put of a file or work item, each of which
 * holds the module until after it (fops owner, or exit draining the
 * workqueue), so the super block never outlives the module.
 */
static struct file_system_type hugepfn_fs_type = {
	.name = "hugepfn",
	.init_fs_context = hugepfn_fs_init_fs_context,
	.kill_sb = kill_anon_super,
};

static char *hugepfn_devnode(const struct device *dev, umode_t *mode)
{
	/* Root only by default; see the udev rule example in the README. */
	if (mode)
		*mode = 0600;
	return kasprintf(GFP_KERNEL, "hugepfn/%s", dev_name(dev));
}

/*
 * "mappers": how many address spaces revocation counts as mapping the
 * node, and their VMAs ("2 3"). Root only, as the node is.
 */
static ssize_t mappers_show(struct device *dev, struct device_attribute *attr,
			    char *buf)
{
	struct hugepfn_dev *hdev = container_of(dev, struct hugepfn_dev, dev);
	unsigned long mms, vmas;

	hugepfn_mms_count(hdev, &mms, &vmas);
	return sysfs_emit(buf, "%lu %lu\n", mms, vmas);
}
static DEVICE_ATTR_ADMIN_RO(mappers);

static struct attribute *hugepfn_dev_attrs[] = {
	&dev_attr_mappers.attr,
	NULL,
};
ATTRIBUTE_GROUPS(hugepfn_dev);

static const struct class hugepfn_class = {
	.name = "hugepfn",
	.devnode = hugepfn_devnode,
	.dev_groups = hugepfn_dev_groups,
};

static void hugepfn_dev_release(struct device *dev)
{
	struct hugepfn_dev *hdev = container_of(dev, struct hugepfn_dev, dev);

	hugepfn_mms_free(hdev);
	if (hdev->inode) {
		iput(hdev->inode);
		simple_release_fs(&hugepfn_mnt, &hugepfn_mnt_count);
	}
	ida_free(&hugepfn_minors, MINOR(dev->devt));
	kfree(hdev);
}

struct hugepfn_dev *hugepfn_dev_create(struct device *parent, u32 kind,
				       const char *name, const char *node)
{
	struct hugepfn_dev *hdev;
	int minor, ret;

	hdev = kzalloc(sizeof(*hdev), GFP_KERNEL);
	if (!hdev)
		return ERR_PTR(-ENOMEM);
	minor = ida_alloc_max(&hugepfn_minors, HUGEPFN_MINORS - 1, GFP_KERNEL);
	if (minor < 0) {
		kfree(hdev);
		return ERR_PTR(minor);
	}
	init_rwsem(&hdev->lock);
	spin_lock_init(&hdev->mms_lock);
	INIT_LIST_HEAD(&hdev->mms);
	mutex_init(&hdev->open_lock);
	hdev->kind = kind;
	strscpy(hdev->name, name, sizeof(hdev->name));
	device_initialize(&hdev->dev);
	hdev->dev.class = &hugepfn_class;
	hdev->dev.parent = parent;
	hdev->dev.devt = MKDEV(MAJOR(hugepfn_devt), minor);
	hdev->dev.release = hugepfn_dev_release;
	ret = dev_set_name(&hdev->dev, "%s", node);
	if (ret) {
		put_device(&hdev->dev);
		return ERR_PTR(ret);
	}
	return hdev;
}

static const struct file_operations hugepfn_fops;

int hugepfn_dev_add(struct hugepfn_dev *hdev)
{
	struct inode *inode;
	int ret;

	ret = simple_pin_fs(&hugepfn_fs_type, &hugepfn_mnt, &hugepfn_mnt_count);
	if (ret)
		return ret;
	inode = alloc_anon_inode(hugepfn_mnt->mnt_sb);
	if (IS_ERR(inode)) {
		simple_release_fs(&hugepfn_mnt, &hugepfn_mnt_count);
		return PTR_ERR(inode);
	}
	hdev->inode = inode;
	cdev_init(&hdev->cdev, &hugepfn_fops);
	hdev->cdev.owner = THIS_MODULE;
	return cdev_device_add(&hdev->cdev, &hdev->dev);
}

/*
 * Take the node away: later opens, mmaps and ioctls fail with -ENODEV and
 * every existing mapping is revoked (hugepfn_revoke()), so nothing reaches
 * memory that is no longer ours. The caller releases the memory after this
 * returns; the structure lives on until the last open file is closed.
 */
void hugepfn_dev_remove(struct hugepfn_dev *hdev)
{
	hugepfn_revoke(hdev, true);
	cdev_device_del(&hdev->cdev, &hdev->dev);
	put_device(&hdev->dev);
}

int hugepfn_locked_down(struct hugepfn_dev *hdev)
{
	/* what sysfs resourceN and /dev/mem refuse under lockdown */
	return security_locked_down(hdev->kind == HUGEPFN_KIND_PCI ?
				    LOCKDOWN_PCI_ACCESS : LOCKDOWN_DEV_MEM);
}

static int hugepfn_open(struct inode *inode, struct file *file)
{
	struct hugepfn_dev *hdev = container_of(inode->i_cdev, struct hugepfn_dev, cdev);
	int ret;

	if (!hugepfn_is_ready())
		return -EAGAIN;
	ret = hugepfn_locked_down(hdev);
	if (ret)
		return ret;
	get_device(&hdev->dev);
	mutex_lock(&hdev->open_lock);
	while (hdev->quiesce_pending) {
		/* what the last user left must be stopped before anyone else opens */
		mutex_unlock(&hdev->open_lock);
		flush_work(&hdev->quiesce);
		mutex_lock(&hdev->open_lock);
	}
	if (READ_ONCE(hdev->gone)) {
		ret = -ENODEV;
	} else if (hdev->bus_master) {
		ret = -EBUSY;	/* its opener has it to itself: see HUGEPFN_BUS_MASTER */
	} else {
		file->private_data = hdev;
		file->f_mapping = hdev->inode->i_mapping;
		hdev->open_count++;
	}
	mutex_unlock(&hdev->open_lock);
	if (ret)
		put_device(&hdev->dev);
	return ret;
}

/*
 * The last close of a node (mappings hold their file, so none is left)
 * stops what an opener may have started on the device.
 */
static int hugepfn_release(struct inode *inode, struct file *file)
{
	struct hugepfn_dev *hdev = file->private_data;

	mutex_lock(&hdev->open_lock);
	if (!--hdev->open_count && hdev->kind == HUGEPFN_KIND_PCI)
		hugepfn_pci_last_close(hdev);	/* queues the quiesce */
	mutex_unlock(&hdev->open_lock);
	put_device(&hdev->dev);
	return 0;
}

/* A file UIO mappings are moved to: it holds the node, not an open. */
static int hugepfn_dev_file_release(struct inode *inode, struct file *file)
{
	struct hugepfn_dev *hdev = file->private_data;

	put_device(&hdev->dev);
	return 0;
}

static const struct file_operations hugepfn_dev_file_fops = {
	.owner = THIS_MODULE,
	.release = hugepfn_dev_file_release,
	.llseek = noop_llseek,
};

/*
 * A file whose mappings land in the node's address space, for mappings
 * made through another file (UIO's): vma_set_file() to it puts them where
 * revocation zaps, as vfio does for its device files. An anon inode file,
 * so that its last fput() drops no mount of ours after the module.
 */
struct file *hugepfn_dev_file(struct hugepfn_dev *hdev)
{
	struct file *file;

	file = anon_inode_getfile(dev_name(&hdev->dev), &hugepfn_dev_file_fops, hdev, O_RDWR);
	if (IS_ERR(file))
		return file;
	get_device(&hdev->dev);
	file->f_mapping = hdev->inode->i_mapping;
	return file;
}

static int hugepfn_mmap(struct file *file, struct vm_area_struct *vma)
{
	return hugepfn_mmap_region(file->private_data, vma);
}

/*
 * Copy in an ioctl argument, whose first member is its u32 argsz: at least
 * @minsz bytes, as many as the caller says. A larger structure from newer
 * userspace is accepted when what we do not know of it is zero
 * (copy_struct_from_user(), -E2BIG otherwise), a shorter one is
 * zero-filled. argsz is fetched once: the value checked here is the one
 * the ioctl sees, whatever the caller changes meanwhile.
 */
int hugepfn_copy_arg(void *karg, size_t ksz, size_t minsz,
		     const void __user *uarg)
{
	u32 argsz;
	int ret;

	if (get_user(argsz, (const u32 __user *)uarg))
		return -EFAULT;
	if (argsz < minsz)
		return -EINVAL;
	if (argsz > PAGE_SIZE)
		return -E2BIG;		/* no structure of ours grows that far */
	ret = copy_struct_from_user(karg, ksz, uarg, argsz);
	if (ret)
		return ret;
	*(u32 *)karg = argsz;
	return 0;
}

static long hugepfn_device_info(struct hugepfn_dev *hdev, void __user *uarg)
{
	struct hugepfn_device_info info;
	size_t minsz = offsetofend(struct hugepfn_device_info, name);
	int ret = hugepfn_copy_arg(&info, sizeof(info), minsz, uarg);

	if (ret)
		return ret;
	if (info.flags)
		return -EINVAL;
	info.api_version = HUGEPFN_API_VERSION;
	info.kind = hdev->kind;
	info.num_regions = hdev->nr_regions;
	info.pad = 0;
	strscpy(info.name, hdev->name, sizeof(info.name));
	return copy_to_user(uarg, &info, minsz) ? -EFAULT : 0;
}

static long hugepfn_region_info(struct hugepfn_dev *hdev, void __user *uarg)
{
	struct hugepfn_region_info info;
	size_t minsz = offsetofend(struct hugepfn_region_info, wc_offset);
	struct hugepfn_region *r;
	int ret = hugepfn_copy_arg(&info, sizeof(info), minsz, uarg);

	if (ret)
		return ret;
	/* flags is output only: what a caller leaves there is ignored, as VFIO does */
	if (info.pad)
		return -EINVAL;
	if (info.index >= hdev->nr_regions)
		return -EINVAL;
	info.index = array_index_nospec(info.index, hdev->nr_regions);
	r = &hdev->regions[info.index];
	info.flags = r->flags;
	info.size = r->size;
	info.phys_addr = r->phys;
	info.phys_align = r->phys ? (r->phys & -r->phys) : 1ULL << 63;
	info.offset = HUGEPFN_REGION_OFFSET(info.index);
	info.wc_offset = (r->flags & HUGEPFN_REGION_WC) ?
			 HUGEPFN_REGION_WC_OFFSET(info.index) : 0;
	return copy_to_user(uarg, &info, minsz) ? -EFAULT : 0;
}

static long hugepfn_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct hugepfn_dev *hdev = file->private_data;
	void __user *uarg = (void __user *)arg;
	long ret;

	/*
	 * No lock held across the user copies and the page-table walk: they
	 * may take the mmap lock, which mmap() holds when it takes hdev->lock.
	 * The ioctls only read what never changes after the node was created
	 * and the caller's own page tables, so a removal racing with them
	 * does no harm; once it is done they fail.
	 */
	if (READ_ONCE(hdev->gone))
		return -ENODEV;
	switch (cmd) {
	case HUGEPFN_DEVICE_INFO:
		ret = hugepfn_device_info(hdev, uarg);
		break;
	case HUGEPFN_REGION_INFO:
		ret = hugepfn_region_info(hdev, uarg);
		break;
	case HUGEPFN_MAPPING_QUERY:
		ret = hugepfn_mapping_query(hdev, uarg);
		break;
	case HUGEPFN_POPULATE:
		ret = hugepfn_populate(hdev, uarg);
		break;
	case HUGEPFN_BUS_MASTER:
		ret = -ENOTTY;
		if (hdev->kind == HUGEPFN_KIND_PCI)
			ret = hugepfn_pci_bus_master(hdev, file, uarg);
		break;
	default:
		ret = -ENOTTY;
	}
	return ret;
}

static const struct file_operations hugepfn_fops = {
	.owner = THIS_MODULE,
	.open = hugepfn_open,
	.release = hugepfn_release,
	.unlocked_ioctl = hugepfn_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.mmap = hugepfn_mmap,
	.get_unmapped_area = hugepfn_get_unmapped_area,
	.llseek = noop_llseek,
};

/*
 * Nothing may fail once a node exists: a file opened on it would outlive
 * the module. So carveouts are checked and claimed first, the PCI driver
 * (whose probes create nodes) is registered last of what can fail, and
 * carveout nodes are created after that.
 */
static int __init hugepfn_init(void)
{
	int ret;

	hugepfn_wq = alloc_workqueue("hugepfn", WQ_UNBOUND, 0);
	if (!hugepfn_wq)
		return -ENOMEM;
	ret = alloc_chrdev_region(&hugepfn_devt, 0, HUGEPFN_MINORS, "hugepfn");
	if (ret)
		goto err_wq;
	ret = class_register(&hugepfn_class);
	if (ret)
		goto err_chrdev;
	ret = hugepfn_carveouts_claim(carveouts);
	if (ret)
		goto err_class;
	ret = hugepfn_pci_init();
	if (ret)
		goto err_carveouts;
	hugepfn_carveouts_publish();
	/* pairs with hugepfn_is_ready(): opens see everything init did */
	smp_store_release(&hugepfn_ready, true);
	return 0;

err_carveouts:
	hugepfn_carveouts_exit();
err_class:
	class_unregister(&hugepfn_class);
err_chrdev:
	unregister_chrdev_region(hugepfn_devt, HUGEPFN_MINORS);
err_wq:
	destroy_workqueue(hugepfn_wq);
	return ret;
}

static void __exit hugepfn_exit(void)
{
	hugepfn_pci_exit();
	hugepfn_carveouts_exit();
	destroy_workqueue(hugepfn_wq);	/* runs what the last closes queued */
	class_unregister(&hugepfn_class);
	unregister_chrdev_region(hugepfn_devt, HUGEPFN_MINORS);
}

module_init(hugepfn_init);
module_exit(hugepfn_exit);
MODULE_DESCRIPTION("Map PCI BARs and physical carveouts with huge page-table leaves");
MODULE_LICENSE("GPL");
