// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for every parser of kernel-provided text in libhugepfn:
 * the page-table dump (lines and whole dumps), PCI sysfs "resource" files,
 * PCI addresses, the CPU modalias, and the binary capability chain of VFIO
 * region info. The first input byte picks the parser.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "align.h"
#include "hugepfn_internal.h"
#include "ptdump.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hpfn_pt_run runs[16];
	struct hugepfn_area areas[4];
	struct hugepfn_bar bars[6];
	char *text, bdf[16];
	int sparse;

	if (size < 1)
		return 0;
	text = malloc(size);
	if (!text)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	switch (data[0] % 6) {
	case 0:
		hpfn_ptdump_parse_line(text, &runs[0]);
		break;
	case 1:
		hpfn_ptdump_collect(text, size - 1, 0x7f0000000000ULL, 0x40000000ULL, runs, 16);
		break;
	case 2:
		hpfn_parse_resource(text, size - 1, bars, 6);
		break;
	case 3:
		hpfn_parse_bdf(text, bdf, sizeof(bdf));
		break;
	case 4:
		hpfn_parse_vfio_region_caps(text, size - 1, 1 << 20, areas, 4, &sparse);
		break;
	case 5:
		hpfn_parse_modalias_gbpages(text);
		break;
	}
	free(text);
	return 0;
}
