// SPDX-License-Identifier: GPL-2.0
/*
 * hugepfn map: map a region huge-aligned, touch it, and say what the
 * kernel gave; hugepfn peek/poke: one naturally aligned register access.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tool.h"

/* What a map measured and what the library says the kernel gave. */
struct map_result {
	uint64_t mmap_us, touch_us;
	struct hugepfn_run *runs;	/* malloc'ed */
	int nruns;			/* < 0: the errno of hugepfn_map_runs() */
	int64_t pt_pages;		/* < 0: the errno of hugepfn_map_pt_pages() */
	int cache;			/* < 0: the errno of hugepfn_map_cache() */
};

/* Every run, however many there are (the library says how many). */
static int all_runs(struct hugepfn_map *map, struct hugepfn_run **out)
{
	int max = 64, n;

	for (;;) {
		*out = calloc((size_t)max, sizeof(**out));
		if (!*out)
			return -ENOMEM;
		n = hugepfn_map_runs(map, *out, (size_t)max);
		if (n <= max)
			return n;
		free(*out);
		max = n;
	}
}

static const char *page_text(uint64_t ps, struct tool_size_text *t)
{
	if (ps == UINT64_MAX)
		return "unknown";
	if (!ps)
		return "none";
	*t = tool_size_text(ps);
	return t->s;
}

/* Why there is no page-table count: the errno, in words a reader can act on. */
static const char *pt_why_not(int64_t pt)
{
	if (pt >= 0)
		return "";
	if (pt == -ENODATA)
		return "the page sizes are unknown (no page-table dump readable here: debugfs, root)";
	return hugepfn_strerror((int)pt);
}

static void map_json(const struct tool_args *a, struct hugepfn_dev *dev, struct hugepfn_map *map,
		     const struct map_result *m)
{
	struct json_object *o = json_object_new_object(), *runs = json_object_new_array(), *r;
	char addr[32];
	int i;

	snprintf(addr, sizeof(addr), "%p", hugepfn_map_addr(map));
	json_object_object_add(o, "device", json_object_new_string(a->dev));
	json_object_object_add(o, "backend", json_object_new_string(hugepfn_backend_name(hugepfn_dev_backend(dev))));
	json_object_object_add(o, "region", json_object_new_int((int)a->region));
	json_object_object_add(o, "offset", json_object_new_uint64(a->offset));
	json_object_object_add(o, "address", json_object_new_string(addr));
	json_object_object_add(o, "length", json_object_new_uint64(hugepfn_map_length(map)));
	json_object_object_add(o, "alignment", json_object_new_uint64(hugepfn_map_alignment(map)));
	json_object_object_add(o, "mmap_us", json_object_new_uint64(m->mmap_us));
	json_object_object_add(o, "touch_us", json_object_new_uint64(m->touch_us));
	/* never an errno as a count: null, and why */
	json_object_object_add(o, "page_table_pages", m->pt_pages >= 0 ? json_object_new_int64(m->pt_pages) : NULL);
	json_object_object_add(o, "page_table_pages_why_not", json_object_new_string(pt_why_not(m->pt_pages)));
	json_object_object_add(o, "cache", json_object_new_string(m->cache < 0 ? "unknown" : hugepfn_cache_name(m->cache)));
	for (i = 0; i < m->nruns; i++) {
		r = json_object_new_object();
		json_object_object_add(r, "offset", json_object_new_uint64(m->runs[i].offset));
		json_object_object_add(r, "length", json_object_new_uint64(m->runs[i].length));
		json_object_object_add(r, "page_size", m->runs[i].page_size == UINT64_MAX ? NULL :
				       json_object_new_uint64(m->runs[i].page_size));
		json_object_array_add(runs, r);
	}
	json_object_object_add(o, "runs", runs);
	json_object_object_add(o, "runs_why_not", json_object_new_string(m->nruns < 0 ? hugepfn_strerror(m->nruns) : ""));
	tool_json_print(o);
}

static void map_text(const struct tool_args *a, struct hugepfn_dev *dev, struct hugepfn_map *map,
		     const struct map_result *m)
{
	struct tool_size_text t;
	int i;

	printf("device     %s through %s, region %u\n", a->dev, hugepfn_backend_name(hugepfn_dev_backend(dev)),
	       a->region);
	printf("address    %p, %s, aligned for %s leaves\n", hugepfn_map_addr(map),
	       tool_size_text(hugepfn_map_length(map)).s, tool_size_text(hugepfn_map_alignment(map)).s);
	printf("time       mmap %" PRIu64 " us, touching every page %" PRIu64 " us\n", m->mmap_us, m->touch_us);
	if (m->pt_pages >= 0)
		printf("page-table pages %" PRId64 "\n", m->pt_pages);
	else
		printf("page-table pages unknown: %s\n", pt_why_not(m->pt_pages));
	printf("memory type %s\n", m->cache < 0 ? "unknown" : hugepfn_cache_name(m->cache));
	if (m->nruns < 0)
		printf("page sizes unknown: %s\n", hugepfn_strerror(m->nruns));
	printf("%-18s %-10s %s\n", "OFFSET", "LENGTH", "PAGE SIZE");
	for (i = 0; i < m->nruns; i++)
		printf("0x%016" PRIx64 " %-10s %s\n", m->runs[i].offset, tool_size_text(m->runs[i].length).s,
		       page_text(m->runs[i].page_size, &t));
}

int cmd_map(struct hugepfn_ctx *ctx, const struct tool_args *a)
{
	uint64_t t0, t1, len, page = (uint64_t)sysconf(_SC_PAGESIZE), i;
	struct map_result m = { 0 };
	struct hugepfn_dev *dev;
	struct hugepfn_map *map;
	volatile uint8_t *p;
	int ret;

	ret = tool_open_dev(a, ctx, &dev);
	if (ret)
		return ret;
	t0 = tool_now_ns();
	/* it only reads: a read-only mapping, which hugepfn.ko does not reset the device for */
	ret = hugepfn_map(dev, a->region, a->offset, a->length, a->map_flags | HUGEPFN_MAP_READONLY, &map);
	t1 = tool_now_ns();
	if (ret) {
		ret = tool_fail_dev(a, dev, ret, "map");
		hugepfn_close(dev);
		return ret;
	}
	len = hugepfn_map_length(map);
	p = hugepfn_map_addr(map);
	for (i = 0; i < len; i += page)
		(void)p[i];
	m.mmap_us = (t1 - t0) / 1000;
	m.touch_us = (tool_now_ns() - t1) / 1000;
	m.nruns = all_runs(map, &m.runs);
	m.pt_pages = hugepfn_map_pt_pages(map);
	m.cache = hugepfn_map_cache(map);
	if (a->json)
		map_json(a, dev, map, &m);
	else
		map_text(a, dev, map, &m);
	free(m.runs);
	hugepfn_unmap(map);
	hugepfn_close(dev);
	return 0;
}

/* One access of a->width bits at @p: a write of a->value, or a read. */
static uint64_t access_word(const struct tool_args *a, volatile uint8_t *p)
{
	int write = a->cmd == CMD_POKE;

	switch (a->width) {
	case 8:
		if (write)
			*p = (uint8_t)a->value;
		return write ? a->value : *p;
	case 16:
		if (write)
			*(volatile uint16_t *)p = (uint16_t)a->value;
		return write ? a->value : *(volatile uint16_t *)p;
	case 32:
		if (write)
			*(volatile uint32_t *)p = (uint32_t)a->value;
		return write ? a->value : *(volatile uint32_t *)p;
	}
	if (write)
		*(volatile uint64_t *)p = a->value;
	return write ? a->value : *(volatile uint64_t *)p;
}

static void access_report(const struct tool_args *a, uint64_t value)
{
	struct json_object *o;

	if (!a->json) {
		if (a->cmd == CMD_POKE)
			printf("wrote 0x%0*" PRIx64 " (%u bits) at offset 0x%" PRIx64 " of region %u of %s\n",
			       (int)(a->width / 4), value, a->width, a->offset, a->region, a->dev);
		else
			printf("0x%0*" PRIx64 "\n", (int)(a->width / 4), value);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "device", json_object_new_string(a->dev));
	json_object_object_add(o, "access", json_object_new_string(a->cmd == CMD_POKE ? "write" : "read"));
	json_object_object_add(o, "region", json_object_new_int((int)a->region));
	json_object_object_add(o, "offset", json_object_new_uint64(a->offset));
	json_object_object_add(o, "width", json_object_new_int((int)a->width));
	json_object_object_add(o, "value", json_object_new_uint64(value));
	tool_json_print(o);
}

/* peek/poke: map the page holding OFFSET at base pages and access one word. */
int cmd_access(struct hugepfn_ctx *ctx, const struct tool_args *a)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE), value;
	int write = a->cmd == CMD_POKE, ret;
	struct hugepfn_dev *dev;
	struct hugepfn_map *map;

	ret = tool_open_dev(a, ctx, &dev);
	if (ret)
		return ret;
	ret = hugepfn_map(dev, a->region, a->offset & ~(page - 1), page,
			  HUGEPFN_MAP_4K | (write ? 0 : HUGEPFN_MAP_READONLY), &map);
	if (ret) {
		ret = tool_fail_dev(a, dev, ret, write ? "map the page to write" : "map the page to read");
		hugepfn_close(dev);
		return ret;
	}
	value = access_word(a, (volatile uint8_t *)hugepfn_map_addr(map) + (a->offset & (page - 1)));
	access_report(a, value);
	hugepfn_unmap(map);
	hugepfn_close(dev);
	return 0;
}
