// SPDX-License-Identifier: GPL-2.0
/*
 * Carveouts: physical ranges an administrator reserved (memmap=SIZE$ADDR,
 * reserved-memory) and names with carveouts=NAME:SIZE@ADDR[,...]. Each
 * becomes /dev/hugepfn/carveout-NAME with one write-back region. A range is
 * refused when it is not page-aligned, overlaps System RAM (this driver
 * must never become a /dev/mem) or is claimed by anyone else.
 */
#include <linux/ctype.h>
#include <linux/ioport.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "hugepfn_private.h"

#define HUGEPFN_MAX_CARVEOUTS	16

static struct hugepfn_dev *carveout_devs[HUGEPFN_MAX_CARVEOUTS];
static unsigned int nr_carveouts;

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

static int carveout_add(const char *name, u64 size, u64 addr)
{
	struct hugepfn_dev *hdev;
	struct resource *res;
	char node[48];
	u64 end;
	int ret;

	if (carveout_name_taken(name)) {
		pr_info("hugepfn: carveout %s: the name is given twice; each carveout needs its own\n",
			name);
		return -EEXIST;
	}
	if (nr_carveouts >= HUGEPFN_MAX_CARVEOUTS) {
		pr_info("hugepfn: carveout %s: more than %d carveouts\n", name,
			HUGEPFN_MAX_CARVEOUTS);
		return -ENOSPC;
	}
	if (!size || !PAGE_ALIGNED(addr) || !PAGE_ALIGNED(size) ||
	    check_add_overflow(addr, size - 1, &end)) {
		pr_info("hugepfn: carveout %s: %#llx bytes at %#llx is not a page-aligned range\n",
			name, size, addr);
		return -EINVAL;
	}
	if (region_intersects(addr, size, IORESOURCE_SYSTEM_RAM, IORES_DESC_NONE) !=
	    REGION_DISJOINT) {
		pr_info("hugepfn: carveout %s: [%#llx-%#llx] overlaps System RAM; reserve it first (memmap=SIZE$ADDR)\n",
			name, addr, end);
		return -EPERM;
	}
	res = request_mem_region(addr, size, "hugepfn carveout");
	if (!res) {
		pr_info("hugepfn: carveout %s: [%#llx-%#llx] is claimed by another driver (see /proc/iomem)\n",
			name, addr, end);
		return -EBUSY;
	}
	snprintf(node, sizeof(node), "carveout-%s", name);
	hdev = hugepfn_dev_create(NULL, HUGEPFN_KIND_CARVEOUT, name, node);
	if (IS_ERR(hdev)) {
		release_mem_region(addr, size);
		return PTR_ERR(hdev);
	}
	hdev->claimed = res;
	hdev->nr_regions = 1;
	hdev->regions[0].phys = addr;
	hdev->regions[0].size = size;
	hdev->regions[0].flags = HUGEPFN_REGION_MAPPABLE | HUGEPFN_REGION_CARVEOUT;
	ret = hugepfn_dev_add(hdev);
	if (ret) {
		put_device(&hdev->dev);
		release_mem_region(addr, size);
		return ret;
	}
	carveout_devs[nr_carveouts++] = hdev;
	pr_info("hugepfn: /dev/hugepfn/%s: [%#llx-%#llx]\n", node, addr, end);
	return 0;
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

	if (end[-1] && suffix) {
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
		pr_info("hugepfn: carveout name '%s': use 1-32 letters, digits, '_' or '-'\n",
			item);
		return -EINVAL;
	}
	size = memparse(colon + 1, &p);
	if (p == colon + 1 || *p)
		goto bad;
	if (carveout_size_overflows(colon + 1, p)) {
		pr_info("hugepfn: carveout %s: size '%s' does not fit in 64 bits\n", item,
			colon + 1);
		return -EINVAL;
	}
	if (kstrtou64(at + 1, 0, &addr))
		goto bad;
	return carveout_add(item, size, addr);
bad:
	pr_info("hugepfn: carveouts: cannot parse '%s'; expected NAME:SIZE@ADDR, e.g. buf:64M@0x40000000\n",
		item);
	return -EINVAL;
}

int hugepfn_carveouts_init(const char *spec)
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

void hugepfn_carveouts_exit(void)
{
	while (nr_carveouts) {
		struct hugepfn_dev *hdev = carveout_devs[--nr_carveouts];
		struct resource *res = hdev->claimed;

		hugepfn_dev_remove(hdev);
		release_mem_region(res->start, resource_size(res));
	}
}
