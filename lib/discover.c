// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * PCI discovery through libpci (pciutils), reading the context's sysfs
 * tree, so tests can point it at a fake one.
 *
 * libpci reports fatal errors through a callback that must not return (its
 * default prints and exits); ours jumps back to the caller with a
 * per-thread jump buffer, so the library neither prints nor exits.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pci/pci.h>

#include "hugepfn_internal.h"

static __thread jmp_buf *pci_error_jmp;

static void __attribute__((noreturn)) pci_error_cb(char *msg, ...)
{
	(void)msg;
	longjmp(*pci_error_jmp, 1);
}

static void pci_quiet_cb(char *msg, ...)
{
	(void)msg;
}

static void fill_info(const struct hugepfn_ctx *ctx, struct pci_dev *d, struct hugepfn_pci_info *out)
{
	char *s;
	int i;

	memset(out, 0, sizeof(*out));
	pci_fill_info(d, PCI_FILL_IDENT | PCI_FILL_CLASS | PCI_FILL_CLASS_EXT | PCI_FILL_BASES |
			 PCI_FILL_SIZES | PCI_FILL_IO_FLAGS | PCI_FILL_IOMMU_GROUP |
			 PCI_FILL_NUMA_NODE | PCI_FILL_DRIVER);
	snprintf(out->bdf, sizeof(out->bdf), "%04x:%02x:%02x.%x", d->domain & 0xffff, d->bus,
		 d->dev, d->func);
	out->vendor = d->vendor_id;
	out->device = d->device_id;
	out->class_code = (uint32_t)d->device_class << 8 | (d->prog_if & 0xff);
	s = pci_get_string_property(d, PCI_FILL_DRIVER);
	if (s)
		snprintf(out->driver, sizeof(out->driver), "%s", s);
	else
		hpfn_pci_driver(ctx, out->bdf, out->driver, sizeof(out->driver));
	s = pci_get_string_property(d, PCI_FILL_IOMMU_GROUP);
	out->iommu_group = s ? atoi(s) : -1;
	out->numa_node = d->numa_node;
	for (i = 0; i < 6; i++) {
		struct hugepfn_bar *b = &out->bars[i];
		pciaddr_t flags = d->flags[i];

		b->size = d->size[i];
		if (!b->size)
			continue;
		if (flags & PCI_IORESOURCE_IO) {
			b->flags = HUGEPFN_BAR_IO;
			b->phys = d->base_addr[i] & PCI_ADDR_IO_MASK;
			continue;
		}
		b->phys = d->base_addr[i] & PCI_ADDR_MEM_MASK;
		if (flags & PCI_IORESOURCE_MEM_64)
			b->flags |= HUGEPFN_BAR_MEM64;
		if (flags & PCI_IORESOURCE_PREFETCH)
			b->flags |= HUGEPFN_BAR_PREFETCH;
	}
}

/* Scan and call @fn for each device until it returns non-zero. */
static int scan(struct hugepfn_ctx *ctx,
		int (*fn)(struct hugepfn_ctx *, struct pci_dev *, void *), void *arg)
{
	char path[HPFN_PATH_MAX];
	struct pci_access *pacc;
	jmp_buf jmp, *saved = pci_error_jmp;
	volatile int ret = 0;
	struct pci_dev *d;

	if (hpfn_sysfs_path(ctx, path, sizeof(path), "bus/pci"))
		return -ENAMETOOLONG;
	pacc = pci_alloc();
	if (!pacc)
		return -ENOMEM;
	pacc->error = pci_error_cb;
	pacc->warning = pci_quiet_cb;
	pacc->debug = pci_quiet_cb;
	pacc->method = PCI_ACCESS_SYS_BUS_PCI;
	pci_error_jmp = &jmp;
	if (setjmp(jmp)) {
		ret = -ENODEV;	/* libpci could not read the tree */
		goto out;
	}
	pci_set_param(pacc, "sysfs.path", path);
	pci_init(pacc);
	pci_scan_bus(pacc);
	for (d = pacc->devices; d && !ret; d = d->next)
		ret = fn(ctx, d, arg);
out:
	pci_error_jmp = saved;
	pci_cleanup(pacc);
	return ret < 0 ? ret : 0;
}

/* Every device, in scan order, into a growing array. */
struct list_arg {
	struct hugepfn_pci_info *all;
	size_t n, cap;
};

static int list_one(struct hugepfn_ctx *ctx, struct pci_dev *d, void *arg)
{
	struct list_arg *la = arg;

	if (la->n == la->cap) {
		size_t cap = la->cap ? 2 * la->cap : 64;
		struct hugepfn_pci_info *all = realloc(la->all, cap * sizeof(*all));

		if (!all)
			return -ENOMEM;
		la->all = all;
		la->cap = cap;
	}
	fill_info(ctx, d, &la->all[la->n++]);
	return 0;
}

static int cmp_bdf(const void *a, const void *b)
{
	return strcmp(((const struct hugepfn_pci_info *)a)->bdf,
		      ((const struct hugepfn_pci_info *)b)->bdf);
}

static int scan_failed(struct hugepfn_ctx *ctx, int ret)
{
	char path[HPFN_PATH_MAX];

	hpfn_sysfs_path(ctx, path, sizeof(path), "bus/pci");
	if (ret == -ENOMEM)
		return hpfn_ctx_err(ctx, ret, "no memory for the PCI device list");
	return hpfn_ctx_err(ctx, ret, "libpci cannot read the PCI devices under %s: %s", path,
			    hugepfn_strerror(ret));
}

HUGEPFN_API int hugepfn_pci_list(struct hugepfn_ctx *ctx, struct hugepfn_pci_info *out, size_t max)
{
	struct list_arg la = { NULL, 0, 0 };
	int ret;

	if (!ctx)
		return -EINVAL;
	hpfn_errors_clear(&ctx->errors);
	if (!out && max)
		return hpfn_ctx_err(ctx, -EINVAL, "hugepfn_pci_list: out is NULL with max %zu", max);
	ret = scan(ctx, list_one, &la);
	if (ret) {
		free(la.all);
		return scan_failed(ctx, ret);
	}
	/* sorted before cutting: a short buffer gets the first devices */
	if (la.n)
		qsort(la.all, la.n, sizeof(*la.all), cmp_bdf);
	if (max && la.n)
		memcpy(out, la.all, (la.n < max ? la.n : max) * sizeof(*out));
	free(la.all);
	return la.n > INT32_MAX ? -E2BIG : (int)la.n;
}

struct find_arg {
	char bdf[16];
	struct hugepfn_pci_info *out;
};

static int find_one(struct hugepfn_ctx *ctx, struct pci_dev *d, void *arg)
{
	struct find_arg *fa = arg;
	char bdf[16];

	snprintf(bdf, sizeof(bdf), "%04x:%02x:%02x.%x", d->domain & 0xffff, d->bus, d->dev, d->func);
	if (strcmp(bdf, fa->bdf))
		return 0;
	fill_info(ctx, d, fa->out);
	return 1;
}

HUGEPFN_API int hugepfn_pci_info(struct hugepfn_ctx *ctx, const char *bdf, struct hugepfn_pci_info *out)
{
	struct find_arg fa = { .out = out };
	int ret;

	if (!ctx)
		return -EINVAL;
	hpfn_errors_clear(&ctx->errors);
	if (!bdf || !out)
		return hpfn_ctx_err(ctx, -EINVAL, "hugepfn_pci_info: %s is NULL", bdf ? "out" : "bdf");
	if (hpfn_parse_bdf(bdf, fa.bdf, sizeof(fa.bdf)))
		return hpfn_ctx_err(ctx, -EINVAL, "'%s' is not a PCI address ([DDDD:]BB:DD.F, hex)", bdf);
	memset(out, 0, sizeof(*out));
	ret = scan(ctx, find_one, &fa);
	if (ret < 0)
		return scan_failed(ctx, ret);
	if (strcmp(out->bdf, fa.bdf))
		return hpfn_ctx_err(ctx, -ENOENT, "no PCI device %s; 'hugepfn list' shows the devices", fa.bdf);
	return 0;
}
