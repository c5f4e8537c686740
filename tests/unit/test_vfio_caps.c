// SPDX-License-Identifier: GPL-2.0
/*
 * The VFIO region capability chain parser: sparse-mmap areas found, other
 * capabilities ignored, and every malformed chain (offsets out of the
 * buffer, loops, areas past the region, truncated area lists) refused.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <linux/vfio.h>

#include "hugepfn_internal.h"
#include "unit.h"

#define REGION_SIZE 0x100000ULL

/* A region info buffer the way the kernel lays it out. */
struct chain {
	union {
		struct vfio_region_info ri;
		unsigned char bytes[512];
	};
	uint32_t used;
};

static void chain_init(struct chain *c)
{
	memset(c, 0, sizeof(*c));
	c->ri.argsz = sizeof(c->ri);
	c->ri.size = REGION_SIZE;
	c->ri.flags = VFIO_REGION_INFO_FLAG_MMAP;
	c->used = sizeof(c->ri);
}

/* Append a capability of @len bytes, link it last, return its offset. */
static uint32_t chain_add(struct chain *c, uint16_t id, const void *body, uint32_t len)
{
	struct vfio_info_cap_header hdr = { .id = id, .version = 1 };
	uint32_t off = c->used, prev;

	memcpy(c->bytes + off, &hdr, sizeof(hdr));
	memcpy(c->bytes + off + sizeof(hdr), body, len);
	c->used += (uint32_t)sizeof(hdr) + len;
	c->used = (c->used + 7) & ~7u;
	c->ri.argsz = c->used;
	c->ri.flags |= VFIO_REGION_INFO_FLAG_CAPS;
	if (!c->ri.cap_offset) {
		c->ri.cap_offset = off;
	} else {
		struct vfio_info_cap_header *h;

		for (prev = c->ri.cap_offset;; prev = h->next) {
			h = (struct vfio_info_cap_header *)(c->bytes + prev);
			if (!h->next)
				break;
		}
		h->next = off;
	}
	return off;
}

static uint32_t add_sparse(struct chain *c, uint32_t nr, const struct vfio_region_sparse_mmap_area *a)
{
	unsigned char body[256];
	uint32_t hdr[2] = { nr, 0 };	/* nr_areas, reserved */

	memcpy(body, hdr, sizeof(hdr));
	memcpy(body + sizeof(hdr), a, nr * sizeof(*a));
	return chain_add(c, VFIO_REGION_INFO_CAP_SPARSE_MMAP, body, sizeof(hdr) + nr * sizeof(*a));
}

int main(void)
{
	const struct vfio_region_sparse_mmap_area two[2] = { { 0, 0x3000 }, { 0x4000, 0xfc000 } };
	struct hugepfn_area areas[4];
	struct chain c;
	uint32_t body = 0, off;
	int sparse, n;

	chain_init(&c);
	n = hpfn_parse_vfio_region_caps(&c, c.used, REGION_SIZE, areas, 4, &sparse);
	CHECK(n == 0 && !sparse, "no capabilities: not sparse");

	chain_init(&c);
	chain_add(&c, VFIO_REGION_INFO_CAP_MSIX_MAPPABLE, &body, 0);
	n = hpfn_parse_vfio_region_caps(&c, c.used, REGION_SIZE, areas, 4, &sparse);
	CHECK(n == 0 && !sparse, "an MSI-X-mappable capability alone leaves the region whole");

	chain_init(&c);
	chain_add(&c, VFIO_REGION_INFO_CAP_MSIX_MAPPABLE, &body, 0);
	add_sparse(&c, 2, two);
	memset(areas, 0xff, sizeof(areas));
	n = hpfn_parse_vfio_region_caps(&c, c.used, REGION_SIZE, areas, 4, &sparse);
	CHECK(n == 2 && sparse && areas[0].offset == 0 && areas[0].size == 0x3000 &&
	      areas[1].offset == 0x4000 && areas[1].size == 0xfc000,
	      "a sparse-mmap capability after another one: both areas (n=%d)", n);
	n = hpfn_parse_vfio_region_caps(&c, c.used, REGION_SIZE, areas, 1, &sparse);
	CHECK(n == 2 && sparse, "more areas than room: the count is still the total");

	chain_init(&c);
	add_sparse(&c, 0, two);
	n = hpfn_parse_vfio_region_caps(&c, c.used, REGION_SIZE, areas, 4, &sparse);
	CHECK(n == 0 && sparse, "a sparse capability without areas: nothing is mappable");

	chain_init(&c);
	add_sparse(&c, 2, two);
	n = hpfn_parse_vfio_region_caps(&c, c.used, 0x80000, areas, 4, &sparse);
	CHECK(n == -EPROTO, "an area past the end of the region is refused");

	chain_init(&c);
	{
		const struct vfio_region_sparse_mmap_area wrap = { UINT64_MAX - 0xfff, 0x2000 };

		add_sparse(&c, 1, &wrap);
	}
	n = hpfn_parse_vfio_region_caps(&c, c.used, REGION_SIZE, areas, 4, &sparse);
	CHECK(n == -EPROTO, "an area whose end overflows is refused");

	chain_init(&c);
	off = add_sparse(&c, 2, two);
	((uint32_t *)(c.bytes + off + 8))[0] = 1000;	/* nr_areas beyond the buffer */
	n = hpfn_parse_vfio_region_caps(&c, c.used, REGION_SIZE, areas, 4, &sparse);
	CHECK(n == -EPROTO, "an area count beyond the buffer is refused");

	chain_init(&c);
	off = chain_add(&c, VFIO_REGION_INFO_CAP_MSIX_MAPPABLE, &body, 0);
	((struct vfio_info_cap_header *)(c.bytes + off))->next = off;
	n = hpfn_parse_vfio_region_caps(&c, c.used, REGION_SIZE, areas, 4, &sparse);
	CHECK(n == -EPROTO, "a chain pointing at itself is refused (no endless loop)");

	chain_init(&c);
	off = chain_add(&c, VFIO_REGION_INFO_CAP_MSIX_MAPPABLE, &body, 0);
	((struct vfio_info_cap_header *)(c.bytes + off))->next = 4096;
	n = hpfn_parse_vfio_region_caps(&c, c.used, REGION_SIZE, areas, 4, &sparse);
	CHECK(n == -EPROTO, "a next offset past the buffer is refused");

	chain_init(&c);
	c.ri.flags |= VFIO_REGION_INFO_FLAG_CAPS;
	c.ri.cap_offset = 8;
	n = hpfn_parse_vfio_region_caps(&c, c.used, REGION_SIZE, areas, 4, &sparse);
	CHECK(n == -EPROTO, "a capability inside the fixed part is refused");

	chain_init(&c);
	add_sparse(&c, 2, two);
	n = hpfn_parse_vfio_region_caps(&c, c.used - 8, REGION_SIZE, areas, 4, &sparse);
	CHECK(n == -EPROTO, "a buffer shorter than argsz (chain not fetched whole) is refused");
	n = hpfn_parse_vfio_region_caps(&c, 8, REGION_SIZE, areas, 4, &sparse);
	CHECK(n == -EPROTO, "a buffer shorter than the fixed part is refused");

	/* what hugepfn_map() allows in a sparse region */
	areas[0] = (struct hugepfn_area){ 0, 0x3000 };
	areas[1] = (struct hugepfn_area){ 0x4000, 0xfc000 };
	CHECK(hpfn_areas_contain(areas, 2, 0, 0x3000), "a range filling the first area is allowed");
	CHECK(hpfn_areas_contain(areas, 2, 0x5000, 0x7000), "a range inside the second area is allowed");
	CHECK(!hpfn_areas_contain(areas, 2, 0x2000, 0x5000), "a range across the hole is refused");
	CHECK(!hpfn_areas_contain(areas, 2, 0x3000, 0x4000), "a range in the hole is refused");
	CHECK(!hpfn_areas_contain(areas, 2, 0x4000, 0x101000), "a range past the last area is refused");
	CHECK(!hpfn_areas_contain(areas, 0, 0, 0x1000), "no areas: nothing is allowed");
	return UNIT_DONE();
}
