// SPDX-License-Identifier: GPL-2.0
/*
 * hugepfn: list PCI devices, show a device's regions, hand devices to a
 * driver, and (map.c, bench.c, doctor.c) map regions huge-aligned and say
 * what the kernel gave, through libhugepfn. options.c parses the command
 * line; report.c prints failures and JSON.
 *
 * Exit status: 0 success, 1 the device or the kernel refused, 2 bad usage.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

#ifndef HUGEPFN_TOOL_VERSION
#error "HUGEPFN_TOOL_VERSION comes from the build (tools/meson.build)"
#endif

/* An IOMMU group or NUMA node: null in JSON when there is none (-1). */
static struct json_object *json_id(int v)
{
	return v < 0 ? NULL : json_object_new_int(v);
}

static struct json_object *pci_json(const struct hugepfn_pci_info *d)
{
	struct json_object *o = json_object_new_object(), *bars = json_object_new_array(), *b;
	char id[8];
	int i;

	json_object_object_add(o, "device", json_object_new_string(d->bdf));
	snprintf(id, sizeof(id), "%04x", d->vendor);
	json_object_object_add(o, "vendor", json_object_new_string(id));
	snprintf(id, sizeof(id), "%04x", d->device);
	json_object_object_add(o, "device_id", json_object_new_string(id));
	snprintf(id, sizeof(id), "%06x", d->class_code & 0xffffff);
	json_object_object_add(o, "class", json_object_new_string(id));
	json_object_object_add(o, "driver", json_object_new_string(d->driver));
	json_object_object_add(o, "iommu_group", json_id(d->iommu_group));
	json_object_object_add(o, "numa_node", json_id(d->numa_node));
	for (i = 0; i < 6; i++) {
		b = json_object_new_object();
		json_object_object_add(b, "index", json_object_new_int(i));
		json_object_object_add(b, "phys", tool_json_hex(d->bars[i].phys));
		json_object_object_add(b, "size", json_object_new_uint64(d->bars[i].size));
		json_object_object_add(b, "io", json_object_new_boolean(d->bars[i].flags & HUGEPFN_BAR_IO));
		json_object_object_add(b, "mem64", json_object_new_boolean(d->bars[i].flags & HUGEPFN_BAR_MEM64));
		json_object_object_add(b, "prefetchable",
				       json_object_new_boolean(d->bars[i].flags & HUGEPFN_BAR_PREFETCH));
		json_object_array_add(bars, b);
	}
	json_object_object_add(o, "bars", bars);
	return o;
}

static void pci_text(const struct hugepfn_pci_info *d)
{
	char group[16] = "-", node[16] = "-";
	int b;

	if (d->iommu_group >= 0)
		snprintf(group, sizeof(group), "%d", d->iommu_group);
	if (d->numa_node >= 0)
		snprintf(node, sizeof(node), "%d", d->numa_node);
	printf("%-12s %04x:%04x %06x %-12s %5s %4s ", d->bdf, d->vendor, d->device, d->class_code,
	       d->driver[0] ? d->driver : "-", group, node);
	for (b = 0; b < 6; b++) {
		if (!d->bars[b].size || (d->bars[b].flags & HUGEPFN_BAR_IO))
			continue;
		printf(" %d:%s@0x%" PRIx64 "%s", b, tool_size_text(d->bars[b].size).s, d->bars[b].phys,
		       d->bars[b].flags & HUGEPFN_BAR_PREFETCH ? "(pf)" : "");
	}
	printf("\n");
}

/*
 * The library's list calls store the first @max and return how many there
 * are: ask with a guess, then again with room for all. Returns the count
 * and *out (to free), or a negative errno.
 */
int tool_list_all(struct hugepfn_ctx *ctx, int carveouts, void **out)
{
	size_t size = carveouts ? sizeof(struct hugepfn_carveout_info) : sizeof(struct hugepfn_pci_info);
	int n = 32, want;

	for (;;) {
		*out = calloc((size_t)n, size);
		if (!*out)
			return -ENOMEM;
		want = carveouts ? hugepfn_carveout_list(ctx, *out, (size_t)n) :
				   hugepfn_pci_list(ctx, *out, (size_t)n);
		if (want <= n)
			break;
		free(*out);
		n = want;
	}
	if (want < 0) {
		free(*out);
		*out = NULL;
	}
	return want;
}

static struct json_object *carveout_json(const struct hugepfn_carveout_info *c)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "name", json_object_new_string(c->name));
	/* 0 with size 0: this user cannot open the node, so nothing is known */
	json_object_object_add(o, "phys", c->size ? tool_json_hex(c->phys) : NULL);
	json_object_object_add(o, "size", c->size ? json_object_new_uint64(c->size) : NULL);
	return o;
}

static void list_text(const struct hugepfn_pci_info *devs, int n, const struct hugepfn_carveout_info *cv, int ncv)
{
	int i;

	printf("%-12s %-9s %-6s %-12s %5s %4s  %s\n", "DEVICE", "ID", "CLASS", "DRIVER", "IOMMU", "NUMA",
	       "MEMORY BARS");
	for (i = 0; i < n; i++)
		pci_text(&devs[i]);
	if (ncv)
		printf("\n%-20s %-18s %s\n", "CARVEOUT", "PHYS", "SIZE");
	for (i = 0; i < ncv; i++)
		printf("carveout:%-11s 0x%016" PRIx64 " %s\n", cv[i].name, cv[i].phys,
		       cv[i].size ? tool_size_text(cv[i].size).s : "? (no access to the node)");
}

int cmd_list(struct hugepfn_ctx *ctx, const struct tool_args *a)
{
	struct hugepfn_carveout_info *cv;
	struct hugepfn_pci_info *devs;
	struct json_object *o, *pci, *carve;
	int n, ncv, i;

	n = tool_list_all(ctx, 0, (void **)&devs);
	if (n < 0)
		return tool_fail_ctx(a, ctx, n, "list PCI devices");
	ncv = tool_list_all(ctx, 1, (void **)&cv);
	if (ncv < 0) {
		free(devs);
		return tool_fail_ctx(a, ctx, ncv, "list carveouts");
	}
	if (a->json) {
		o = json_object_new_object();
		pci = json_object_new_array();
		carve = json_object_new_array();
		for (i = 0; i < n; i++)
			json_object_array_add(pci, pci_json(&devs[i]));
		for (i = 0; i < ncv; i++)
			json_object_array_add(carve, carveout_json(&cv[i]));
		json_object_object_add(o, "pci", pci);
		json_object_object_add(o, "carveouts", carve);
		tool_json_print(o);
	} else {
		list_text(devs, n, cv, ncv);
	}
	free(devs);
	free(cv);
	return 0;
}

/* The mappable areas of a sparse region, in JSON or as indented lines. */
static struct json_object *areas_out(const struct tool_args *a, struct hugepfn_dev *dev,
				     const struct hugepfn_region *r)
{
	struct json_object *arr = a->json ? json_object_new_array() : NULL, *o;
	struct hugepfn_area areas[64];
	int n = hugepfn_region_areas(dev, r->index, areas, 64), i;

	for (i = 0; i < n && i < 64; i++) {
		if (!a->json) {
			printf("       mappable area [0x%" PRIx64 ", +0x%" PRIx64 ")\n", areas[i].offset, areas[i].size);
			continue;
		}
		o = json_object_new_object();
		json_object_object_add(o, "offset", json_object_new_uint64(areas[i].offset));
		json_object_object_add(o, "size", json_object_new_uint64(areas[i].size));
		json_object_array_add(arr, o);
	}
	if (!a->json && n <= 0)
		printf("       sparse, no mappable area\n");
	return arr;
}

static struct json_object *region_json(const struct tool_args *a, struct hugepfn_dev *dev,
				       const struct hugepfn_region *r)
{
	static const struct { const char *key; unsigned int flag; } flags[] = {
		{ "mappable", HUGEPFN_RGN_MAPPABLE }, { "prefetchable", HUGEPFN_RGN_PREFETCH },
		{ "mem64", HUGEPFN_RGN_MEM64 }, { "wc", HUGEPFN_RGN_WC }, { "carveout", HUGEPFN_RGN_CARVEOUT },
		{ "io", HUGEPFN_RGN_IO }, { "fault_filled", HUGEPFN_RGN_FAULT }, { "sparse", HUGEPFN_RGN_SPARSE },
	};
	struct json_object *o = json_object_new_object();
	size_t i;

	json_object_object_add(o, "index", json_object_new_int((int)r->index));
	json_object_object_add(o, "size", json_object_new_uint64(r->size));
	json_object_object_add(o, "phys", tool_json_hex(r->phys));
	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		json_object_object_add(o, flags[i].key, json_object_new_boolean(!!(r->flags & flags[i].flag)));
	if (r->flags & HUGEPFN_RGN_SPARSE)
		json_object_object_add(o, "areas", areas_out(a, dev, r));
	return o;
}

static void region_text(const struct tool_args *a, struct hugepfn_dev *dev, const struct hugepfn_region *r)
{
	if (!r->size)
		return;
	printf("%-6u %-10s 0x%016" PRIx64 " %s%s%s%s%s%s%s%s\n", r->index, tool_size_text(r->size).s, r->phys,
	       r->flags & HUGEPFN_RGN_MAPPABLE ? "mappable" : "not-mappable",
	       r->flags & HUGEPFN_RGN_PREFETCH ? " prefetchable" : "", r->flags & HUGEPFN_RGN_MEM64 ? " 64-bit" : "",
	       r->flags & HUGEPFN_RGN_WC ? " wc" : "", r->flags & HUGEPFN_RGN_CARVEOUT ? " carveout" : "",
	       r->flags & HUGEPFN_RGN_IO ? " io" : "", r->flags & HUGEPFN_RGN_SPARSE ? " sparse" : "",
	       r->flags & HUGEPFN_RGN_FAULT ? " fault-filled" : "");
	if (r->flags & HUGEPFN_RGN_SPARSE)
		areas_out(a, dev, r);
}

int cmd_info(struct hugepfn_ctx *ctx, const struct tool_args *a)
{
	struct json_object *o = NULL, *regions = NULL;
	struct hugepfn_region r;
	struct hugepfn_dev *dev;
	const char *backend;
	int n, i, ret;

	ret = tool_open_dev(a, ctx, &dev);
	if (ret)
		return ret;
	backend = hugepfn_backend_name(hugepfn_dev_backend(dev));
	n = hugepfn_region_count(dev);
	if (n < 0) {
		ret = tool_fail_dev(a, dev, n, "count the regions");
		goto out;
	}
	if (a->json) {
		o = json_object_new_object();
		regions = json_object_new_array();
		json_object_object_add(o, "device", json_object_new_string(a->dev));
		json_object_object_add(o, "backend", json_object_new_string(backend));
		json_object_object_add(o, "regions", regions);
	} else {
		printf("%s through %s\n%-6s %-10s %-18s %s\n", a->dev, backend, "REGION", "SIZE", "PHYS", "FLAGS");
	}
	for (i = 0; i < n; i++) {
		ret = hugepfn_region_info(dev, (unsigned int)i, &r);
		if (ret) {
			ret = tool_fail_dev(a, dev, ret, "region info");
			goto out;
		}
		if (a->json)
			json_object_array_add(regions, region_json(a, dev, &r));
		else
			region_text(a, dev, &r);
	}
	if (o)
		tool_json_print(o);
	o = NULL;
out:
	json_object_put(o);
	hugepfn_close(dev);
	return ret;
}

/*
 * bind/unbind failed with @ret. The address is well-formed (checked
 * first), so -EINVAL is about the driver's name; @exists says whether the
 * device was found, which tells "no device" from "no driver" for -ENOENT.
 */
int tool_bind_failed(struct hugepfn_ctx *ctx, const struct tool_args *a, int ret, int exists)
{
	char what[128], lib[1024] = "", detail[1100], next[160];

	hugepfn_ctx_error(ctx, lib, sizeof(lib));
	snprintf(detail, sizeof(detail), "%s", lib);
	if (ret == -EINVAL && a->cmd == CMD_BIND) {
		fprintf(stderr, "hugepfn bind: driver name '%s' is refused: %s (try 'hugepfn bind --help')\n",
			a->driver, detail[0] ? detail : hugepfn_strerror(ret));
		return EXIT_USAGE;
	}
	snprintf(what, sizeof(what), "%s %s%s%s", a->cmd_name, a->dev, a->cmd == CMD_BIND ? " to " : "",
		 a->cmd == CMD_BIND ? a->driver : "");
	if (exists == 0)
		return tool_fail_msg(a, ret, what, "no such PCI device", NULL);
	if (a->cmd == CMD_BIND && (ret == -ENODEV || ret == -ENOENT)) {
		/* the library's detail says too whether the device waits for the driver (its override) */
		snprintf(detail, sizeof(detail), "driver %s is not loaded (%s)", a->driver, lib);
		snprintf(next, sizeof(next), "%s%s", !strcmp(a->driver, "hugepfn") ? "insmod hugepfn.ko (kernel/driver), or "
			 : "", "modprobe ");
		snprintf(next + strlen(next), sizeof(next) - strlen(next), "%s", a->driver);
		return tool_fail_msg(a, ret, what, detail, next);
	}
	return tool_fail_msg(a, ret, what, detail, NULL);
}

/* bind and unbind; with --persist and the record options persist.c's. */
int cmd_bind(struct hugepfn_ctx *ctx, const struct tool_args *a)
{
	int bind = a->cmd == CMD_BIND, exists, ret;
	struct json_object *o;

	if (a->list_persistent)
		return cmd_bind_list(ctx, a);
	if (a->apply_persistent)
		return cmd_bind_apply(ctx, a);
	if (a->persist)
		return bind ? cmd_bind_persist(ctx, a) : cmd_unbind_persist(ctx, a);
	ret = tool_check_dev(a, ctx, 1, &exists);
	if (ret)
		return ret;
	ret = bind ? hugepfn_pci_bind(ctx, a->dev, a->driver) : hugepfn_pci_unbind(ctx, a->dev);
	if (ret)
		return tool_bind_failed(ctx, a, ret, exists);
	if (a->json) {
		o = json_object_new_object();
		json_object_object_add(o, "device", json_object_new_string(a->dev));
		json_object_object_add(o, "driver", json_object_new_string(bind ? a->driver : ""));
		tool_json_print(o);
	} else if (bind) {
		printf("%s bound to %s\n", a->dev, a->driver);
	} else {
		printf("%s unbound from the override; back to its usual driver\n", a->dev);
	}
	return 0;
}

static int cmd_version(const struct tool_args *a)
{
	struct json_object *o;

	if (!a->json) {
		printf("hugepfn %s (libhugepfn %s)\n", HUGEPFN_TOOL_VERSION, hugepfn_version());
		return 0;
	}
	o = json_object_new_object();
	json_object_object_add(o, "tool", json_object_new_string(HUGEPFN_TOOL_VERSION));
	json_object_object_add(o, "library", json_object_new_string(hugepfn_version()));
	tool_json_print(o);
	return 0;
}

static int run(struct hugepfn_ctx *ctx, const struct tool_args *a)
{
	switch (a->cmd) {
	case CMD_LIST: return cmd_list(ctx, a);
	case CMD_INFO: return cmd_info(ctx, a);
	case CMD_MAP: return cmd_map(ctx, a);
	case CMD_BIND:
	case CMD_UNBIND: return cmd_bind(ctx, a);
	case CMD_PEEK:
	case CMD_POKE: return cmd_access(ctx, a);
	case CMD_BENCH: return cmd_bench(ctx, a);
	case CMD_DOCTOR: return cmd_doctor(ctx, a);
	case CMD_VERSION: return cmd_version(a);
	case CMD_NONE: break;
	}
	return EXIT_USAGE;
}

int main(int argc, char **argv)
{
	struct hugepfn_ctx_opts opts;
	struct hugepfn_ctx *ctx;
	struct tool_args a;
	int ret = tool_parse_args(argc, argv, &a);

	if (ret)
		return ret == TOOL_DONE ? 0 : ret;
	if (a.cmd == CMD_VERSION)
		return cmd_version(&a);
	memset(&opts, 0, sizeof(opts));
	opts.sysfs_root = a.sysfs_root;
	opts.dev_root = a.dev_root;
	ret = hugepfn_ctx_new(&opts, &ctx);
	if (ret == -EINVAL) {
		fprintf(stderr, "hugepfn %s: the library refused --sysfs-root/--dev-root (try 'hugepfn --help')\n",
			a.cmd_name);
		return EXIT_USAGE;
	}
	if (ret)
		return tool_fail_msg(&a, ret, "create a library context", "", NULL);
	ret = run(ctx, &a);
	hugepfn_ctx_free(ctx);
	return ret;
}
