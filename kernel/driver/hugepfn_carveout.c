// SPDX-License-Identifier: GPL-2.0
/*
 * Carveouts: physical ranges an administrator kept from the kernel and
 * names with carveouts=NAME:SIZE@ADDR[,...]. Each becomes
 * /dev/hugepfn/carveout-NAME with one write-back region.
 *
 * Only RAM the kernel was told to leave alone is accepted, so that the
 * driver never becomes a /dev/mem and never maps MMIO write-back (which
 * can raise a machine check):
 *  - x86: RAM in the firmware's memory map (e820 as the firmware gave it,
 *    /sys/firmware/memmap; on EFI systems conventional memory in the EFI
 *    map, so no EFI table the kernel reserved from RAM) above the first
 *    MiB, that the kernel's map reserves (memmap=SIZE$ADDR) or leaves out
 *    (mem=);
 *  - arm64: a no-map reserved-memory node that names this driver
 *    (compatible = "hugepfn,carveout"), or memory an available device-tree
 *    memory node describes that the kernel does not use (beyond mem=) and
 *    no other reserved-memory node covers;
 *  - never in a kdump kernel, whose firmware maps describe the crashed
 *    kernel's RAM.
 * Elsewhere carveouts are refused. Each refusal is logged with its reason.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/crash_dump.h>
#include <linux/ctype.h>
#include <linux/ioport.h>
#include <linux/mm.h>
#include <linux/of.h>
#include <linux/of_address.h>
#include <linux/of_reserved_mem.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/efi.h>
#include <linux/version.h>
#ifdef CONFIG_X86
#include <asm/e820/api.h>
#endif

#include "hugepfn_private.h"

#define HUGEPFN_MAX_CARVEOUTS	16

/* Claimed at load; nodes created by hugepfn_carveouts_publish(). */
static struct hugepfn_dev *carveout_devs[HUGEPFN_MAX_CARVEOUTS];
static unsigned int nr_carveouts;
static bool carveouts_published;

static bool carveout_name_ok(const char *name)
{
	size_t i, len = strlen(name);

	if (!len || len > 32)
		return false;
	for (i = 0; i < len; i++)
		if (!isalnum(name[i]) && name[i] != '_' && name[i] != '-')
			return false;
	return true;
}

/* Two nodes of one name would collide in devtmpfs and sysfs. */
static bool carveout_name_taken(const char *name)
{
	unsigned int i;

	for (i = 0; i < nr_carveouts; i++)
		if (!strcmp(carveout_devs[i]->name, name))
			return true;
	return false;
}

#ifdef CONFIG_X86
/*
 * Since 6.19 the firmware's memory map (e820__mapped_raw_any()) is exported
 * to KVM only. There the kernel's map stands in for it, in which memmap=
 * has made the carveout's RAM E820_TYPE_RESERVED: a range the firmware
 * reserved (a ROM) looks the same unless EFI's memory map tells them apart,
 * and RAM beyond mem= looks like a hole.
 */
#if KERNEL_VERSION(6, 19, 0) > LINUX_VERSION_CODE
#define carveout_e820_any	e820__mapped_raw_any
#define CARVEOUT_E820_RAM	E820_TYPE_RAM
#define CARVEOUT_E820_FIRMWARE	true
#else
#define carveout_e820_any	e820__mapped_any
#define CARVEOUT_E820_RAM	E820_TYPE_RESERVED
#define CARVEOUT_E820_FIRMWARE	false
#endif

/* Whether EFI's memory map has conventional memory all over [addr, end). */
static bool carveout_efi_conventional(u64 addr, u64 end)
{
	efi_memory_desc_t *md;
	u64 covered = 0;

	for_each_efi_memory_desc(md) {
		u64 start = md->phys_addr, stop = start + (md->num_pages << EFI_PAGE_SHIFT);

		if (md->type != EFI_CONVENTIONAL_MEMORY || stop <= addr || start >= end)
			continue;
		covered += min(stop, end) - max(start, addr);
	}
	return covered == end - addr;	/* the descriptors do not overlap */
}

/* Why [addr, end) is not firmware RAM that the kernel left alone, or NULL. */
static const char *carveout_unsuitable(u64 addr, u64 end)
{
	static const enum e820_type not_ram[] = {
		E820_TYPE_RESERVED, E820_TYPE_ACPI, E820_TYPE_NVS,
		E820_TYPE_UNUSABLE, E820_TYPE_PMEM, E820_TYPE_PRAM,
		E820_TYPE_SOFT_RESERVED,
	};
	unsigned int i;
	u64 p;

	if (addr < SZ_1M)
		return "the first MiB holds the BIOS data and real-mode areas";
	for (i = 0; i < ARRAY_SIZE(not_ram); i++)
		if (not_ram[i] != CARVEOUT_E820_RAM &&
		    carveout_e820_any(addr, end, not_ram[i]))
			return "the firmware memory map has non-RAM there (/sys/firmware/memmap)";
	/* "any" queries only: page by page finds a hole in the firmware's RAM */
	for (p = addr; p < end; p += PAGE_SIZE) {
		if (!carveout_e820_any(p, p + PAGE_SIZE, CARVEOUT_E820_RAM))
			return "the firmware memory map has a hole there (/sys/firmware/memmap)";
		if (IS_ALIGNED(p, SZ_2M))
			cond_resched();
	}
	if (efi_enabled(EFI_MEMMAP) && !carveout_efi_conventional(addr, end))
		return "the EFI memory map has more than conventional memory there";
	if (!CARVEOUT_E820_FIRMWARE && !efi_enabled(EFI_MEMMAP))
		pr_notice("[%#llx-%#llx]: this kernel gives modules no firmware memory map: that it is RAM, not firmware-reserved, is taken on trust\n",
			  addr, end - 1);
	/* reserved (memmap=) or unknown to the kernel (beyond mem=), nothing else */
	if (region_intersects(addr, end - addr, IORESOURCE_MEM, IORES_DESC_RESERVED) ==
	    REGION_MIXED)
		return "the kernel uses part of it (/proc/iomem); reserve it: memmap=SIZE$ADDR";
	return NULL;
}
#elif defined(CONFIG_ARM64) && defined(CONFIG_OF)
/*
 * How [addr, end) lies against the reserved-memory nodes: 1 inside a no-map
 * one made for this driver, -1 overlapping any other (firmware's: TF-A,
 * OP-TEE, remoteprocs), 0 neither.
 */
static int carveout_reserved_memory(u64 addr, u64 end)
{
	struct device_node *parent, *child;
	int found = 0;

	parent = of_find_node_by_path("/reserved-memory");
	if (!parent)
		return 0;
	for_each_child_of_node(parent, child) {
		struct reserved_mem *rmem = of_reserved_mem_lookup(child);

		if (!rmem || end <= rmem->base || addr >= rmem->base + rmem->size)
			continue;
		if (of_device_is_available(child) &&
		    of_device_is_compatible(child, "hugepfn,carveout") &&
		    of_property_read_bool(child, "no-map") &&
		    addr >= rmem->base && end <= rmem->base + rmem->size) {
			found = 1;
			continue;
		}
		found = -1;
		of_node_put(child);
		break;
	}
	of_node_put(parent);
	return found;
}

static bool carveout_in_described_memory(u64 addr, u64 end)
{
	struct device_node *np;
	struct resource res;
	int i;

	for_each_node_by_type(np, "memory") {
		if (!of_device_is_available(np))
			continue;
		for (i = 0; !of_address_to_resource(np, i, &res); i++) {
			if (addr >= res.start && end - 1 <= res.end) {
				of_node_put(np);
				return true;
			}
		}
	}
	return false;
}

static const char *carveout_unsuitable(u64 addr, u64 end)
{
	int rsv = carveout_reserved_memory(addr, end);

	if (rsv > 0)
		return NULL;
	if (rsv < 0)
		return "it overlaps a reserved-memory node not made for hugepfn (no-map)";
	if (carveout_in_described_memory(addr, end))
		return NULL;
	return "not in a hugepfn,carveout reserved-memory node nor in memory beyond mem=";
}
#else
static const char *carveout_unsuitable(u64 addr, u64 end)
{
	return "carveouts are supported on x86 and arm64 (device tree) only";
}
#endif

static const char *carveout_check(u64 addr, u64 size, u64 end)
{
	/* a kdump kernel's firmware maps describe the crashed kernel's RAM */
	if (is_kdump_kernel())
		return "this is a kdump kernel";
	if (region_intersects(addr, size, IORESOURCE_SYSTEM_RAM, IORES_DESC_NONE) !=
	    REGION_DISJOINT)
		return "overlaps System RAM; reserve it (x86: memmap=SIZE$ADDR, arm64: mem=)";
	return carveout_unsuitable(addr, end + 1);
}

/* Check and claim one carveout; its node comes later. */
static int carveout_claim(const char *name, u64 size, u64 addr)
{
	struct hugepfn_dev *hdev;
	const char *why;
	char node[48];
	u64 end;

	if (carveout_name_taken(name)) {
		pr_err("carveout %s: the name is given twice; each carveout needs its own\n",
		       name);
		return -EEXIST;
	}
	if (nr_carveouts >= HUGEPFN_MAX_CARVEOUTS) {
		pr_err("carveout %s: more than %d carveouts\n", name,
		       HUGEPFN_MAX_CARVEOUTS);
		return -ENOSPC;
	}
	if (!size || !PAGE_ALIGNED(addr) || !PAGE_ALIGNED(size) ||
	    check_add_overflow(addr, size - 1, &end)) {
		pr_err("carveout %s: %#llx bytes at %#llx is not a page-aligned range\n",
		       name, size, addr);
		return -EINVAL;
	}
	why = carveout_check(addr, size, end);
	if (why) {
		pr_err("carveout %s: [%#llx-%#llx] refused: %s\n", name, addr, end, why);
		return -EPERM;
	}
	snprintf(node, sizeof(node), "carveout-%s", name);
	hdev = hugepfn_dev_create(NULL, HUGEPFN_KIND_CARVEOUT, name, node);
	if (IS_ERR(hdev))
		return PTR_ERR(hdev);
	hdev->claimed = request_mem_region(addr, size, "hugepfn carveout");
	if (!hdev->claimed) {
		pr_err("carveout %s: [%#llx-%#llx] is claimed by another driver (see /proc/iomem)\n",
		       name, addr, end);
		put_device(&hdev->dev);
		return -EBUSY;
	}
	hdev->nr_regions = 1;
	hdev->regions[0].phys = addr;
	hdev->regions[0].size = size;
	hdev->regions[0].flags = HUGEPFN_REGION_MAPPABLE | HUGEPFN_REGION_CARVEOUT;
	carveout_devs[nr_carveouts++] = hdev;
	return 0;
}

/* Give the range back and drop the device; @hdev may be freed after. */
static void carveout_drop(struct hugepfn_dev *hdev, bool published)
{
	struct resource *res = hdev->claimed;

	if (published)
		hugepfn_dev_remove(hdev);
	else
		put_device(&hdev->dev);
	release_mem_region(res->start, resource_size(res));
}

/*
 * Whether SIZE, [start, end) of the parameter, is more than 64 bits can
 * hold: memparse() wraps without a word (18014398509481988K is 4K).
 */
static bool carveout_size_overflows(const char *start, const char *end)
{
	static const char suffixes[] = "KMGTPE";
	const char *suffix = strchr(suffixes, toupper(end[-1]));
	char digits[24];
	unsigned int shift = 0;
	u64 n;

	if (suffix) {
		shift = 10 * (suffix - suffixes + 1);
		end--;
	}
	if (end - start >= sizeof(digits))
		return true;
	memcpy(digits, start, end - start);
	digits[end - start] = '\0';
	return kstrtou64(digits, 0, &n) || n > (U64_MAX >> shift);
}

/* Parse one "NAME:SIZE@ADDR" (SIZE takes K/M/G/T/P/E suffixes). */
static int carveout_parse(char *item)
{
	char *colon = strchr(item, ':'), *at, *p;
	u64 size, addr;

	if (!colon)
		goto bad;
	*colon = '\0';
	at = strchr(colon + 1, '@');
	if (!at)
		goto bad;
	*at = '\0';
	if (!carveout_name_ok(item)) {
		pr_err("carveout name '%s': use 1-32 letters, digits, '_' or '-'\n",
		       item);
		return -EINVAL;
	}
	size = memparse(colon + 1, &p);
	if (p == colon + 1 || *p)
		goto bad;
	if (carveout_size_overflows(colon + 1, p)) {
		pr_err("carveout %s: size '%s' does not fit in 64 bits\n", item,
		       colon + 1);
		return -EINVAL;
	}
	if (kstrtou64(at + 1, 0, &addr))
		goto bad;
	return carveout_claim(item, size, addr);
bad:
	pr_err("carveouts: cannot parse '%s'; expected NAME:SIZE@ADDR, e.g. buf:64M@0x40000000\n",
	       item);
	return -EINVAL;
}

int hugepfn_carveouts_claim(const char *spec)
{
	char *buf, *cur, *item;
	int ret = 0;

	if (!spec || !*spec)
		return 0;
	buf = kstrdup(spec, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	cur = buf;
	while ((item = strsep(&cur, ",")) != NULL) {
		ret = carveout_parse(item);
		if (ret)
			break;
	}
	kfree(buf);
	if (ret)
		hugepfn_carveouts_exit();
	return ret;
}

/*
 * Create the nodes of the claimed carveouts. Module init can no longer
 * fail here, so a node that cannot be created is logged and its carveout
 * given back; the others stay.
 */
void hugepfn_carveouts_publish(void)
{
	unsigned int i, kept = 0;

	for (i = 0; i < nr_carveouts; i++) {
		struct hugepfn_dev *hdev = carveout_devs[i];
		int ret = hugepfn_dev_add(hdev);

		if (ret) {
			pr_err("carveout %s: cannot create its node: %d\n", hdev->name, ret);
			carveout_drop(hdev, false);
			continue;
		}
		pr_info("/dev/hugepfn/%s: [%#llx-%#llx]\n", dev_name(&hdev->dev),
			(u64)hdev->claimed->start, (u64)hdev->claimed->end);
		carveout_devs[kept++] = hdev;
	}
	nr_carveouts = kept;
	carveouts_published = true;
}

void hugepfn_carveouts_exit(void)
{
	while (nr_carveouts)
		carveout_drop(carveout_devs[--nr_carveouts], carveouts_published);
	carveouts_published = false;
}
