// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The capability chain of VFIO_DEVICE_GET_REGION_INFO: which parts of a
 * region may be mapped. The chain is binary data from the kernel (or from
 * a vfio-user server, some day), so every offset is checked before it is
 * followed.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include <linux/vfio.h>

#include "hugepfn_internal.h"

/*
 * Walk the chain of the vfio_region_info in @info (@len bytes, what the
 * kernel filled in). A sparse-mmap capability fills @areas (up to @max)
 * and sets *@sparse; the return value is then the number of areas it
 * lists. Without one, *@sparse is 0 and the return value 0. -EPROTO when
 * the chain is malformed: an offset outside the buffer, a chain that does
 * not move forward, an area outside the region.
 */
int hpfn_parse_vfio_region_caps(const void *info, size_t len, uint64_t region_size,
				struct hugepfn_area *areas, size_t max, int *sparse)
{
	const unsigned char *buf = info;
	struct vfio_region_info ri;
	uint32_t off, nr = 0;

	*sparse = 0;
	if (len < sizeof(ri))
		return -EPROTO;
	memcpy(&ri, buf, sizeof(ri));
	if (!(ri.flags & VFIO_REGION_INFO_FLAG_CAPS))
		return 0;
	if (ri.argsz > len)
		return -EPROTO;	/* the caller did not fetch the whole chain */
	len = ri.argsz;
	for (off = ri.cap_offset; off; ) {
		struct vfio_info_cap_header hdr;

		/* each capability starts after the fixed part and the previous one */
		if (off < sizeof(ri) || off > len || len - off < sizeof(hdr) || off % 4)
			return -EPROTO;
		memcpy(&hdr, buf + off, sizeof(hdr));
		if (hdr.id == VFIO_REGION_INFO_CAP_SPARSE_MMAP) {
			struct vfio_region_info_cap_sparse_mmap cap;
			uint32_t i;

			if (*sparse || len - off < sizeof(cap))
				return -EPROTO;
			memcpy(&cap, buf + off, sizeof(cap));
			if (cap.nr_areas > (len - off - sizeof(cap)) / sizeof(cap.areas[0]))
				return -EPROTO;
			for (i = 0; i < cap.nr_areas; i++) {
				struct vfio_region_sparse_mmap_area a;
				uint64_t end;

				memcpy(&a, buf + off + sizeof(cap) + i * sizeof(a), sizeof(a));
				if (__builtin_add_overflow(a.offset, a.size, &end) || end > region_size)
					return -EPROTO;
				if (nr < max)
					areas[nr] = (struct hugepfn_area){ a.offset, a.size };
				nr++;
			}
			*sparse = 1;
		}
		/* Other capabilities (MSI-X mappable, type, ...) do not limit mmap. */
		if (hdr.next && hdr.next <= off)
			return -EPROTO;
		off = hdr.next;
	}
	return (int)nr;
}

/* Whether [@offset, @end) lies inside one of the @nr areas. */
int hpfn_areas_contain(const struct hugepfn_area *areas, unsigned int nr, uint64_t offset,
		       uint64_t end)
{
	unsigned int i;

	for (i = 0; i < nr; i++)
		if (offset >= areas[i].offset && end > offset &&
		    end - areas[i].offset <= areas[i].size)
			return 1;
	return 0;
}
