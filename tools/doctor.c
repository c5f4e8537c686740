// SPDX-License-Identifier: GPL-2.0
/*
 * hugepfn doctor [DEV]: why mappings do or do not come out huge, one line
 * a finding, each with what to do (hugepfn_doctor() does the checking).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hugepfn.h"
#include "tool.h"

#define MAX_CHECKS 64

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: hugepfn [--json] doctor [DEV]\n"
		"\n"
		"Checks and explains why device mappings do or do not get huge page-table leaves,\n"
		"one line each: status (ok, info, warn, fail), what was found, and what to do.\n"
		"\n"
		"Without DEV, the system: page and leaf sizes, THP, whether remap_pfn_range()\n"
		"installs PMD/PUD leaves (found out by mapping one aligned block of a hugepfn.ko\n"
		"node this user can open, without touching it), hugepfn.ko, the IOMMU and VFIO's\n"
		"no-IOMMU mode. With DEV (DDDD:BB:DD.F, carveout:NAME, /dev/hugepfn/..., /dev/uioN)\n"
		"also that device: its driver and whether its mmap path can give huge leaves, the\n"
		"physical alignment and size of its BARs or carveout, for vfio-pci its IOMMU group,\n"
		"and whether this user may open its device nodes. VFIO devices are not opened and\n"
		"no device memory is read or written.\n"
		"\n"
		"  --json      an array of {\"check\", \"status\", \"found\", \"advice\"}\n"
		"\n"
		"Exit status: 0 no check failed, 1 a check failed (or the checks could not run),\n"
		"2 bad usage.\n");
}

/* A JSON string: quotes, backslashes and control characters escaped. */
static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			printf("\\%c", ch);
		else if (ch < 0x20)
			printf("\\u%04x", ch);
		else
			putchar(ch);
	}
	putchar('"');
}

int cmd_doctor(struct hugepfn_ctx *ctx, int argc, char **argv)
{
	struct hugepfn_check *checks;
	const char *dev = NULL;
	int n, i, failed = 0;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		}
		if (argv[i][0] == '-' || dev) {
			fprintf(stderr, "hugepfn doctor: unexpected argument '%s' (try --help)\n", argv[i]);
			return EXIT_USAGE;
		}
		dev = argv[i];
	}
	checks = calloc(MAX_CHECKS, sizeof(*checks));
	if (!checks)
		return tool_fail(NULL, -ENOMEM, "doctor");
	n = hugepfn_doctor(ctx, dev, checks, MAX_CHECKS);
	if (n < 0) {
		free(checks);
		return tool_fail(NULL, n, "doctor");
	}
	if (n > MAX_CHECKS)
		n = MAX_CHECKS;
	if (json_output)
		putchar('[');
	else
		printf("%-6s %-13s %s\n", "STATUS", "CHECK", "FOUND -> WHAT TO DO");
	for (i = 0; i < n; i++) {
		const struct hugepfn_check *c = &checks[i];

		failed |= c->status == HUGEPFN_CHECK_FAIL;
		if (json_output) {
			printf("%s{\"check\":", i ? "," : "");
			json_str(c->check);
			printf(",\"status\":");
			json_str(hugepfn_check_status_name(c->status));
			printf(",\"found\":");
			json_str(c->found);
			printf(",\"advice\":");
			json_str(c->advice);
			putchar('}');
			continue;
		}
		printf("%-6s %-13s %s%s%s\n", hugepfn_check_status_name(c->status), c->check, c->found,
		       c->advice[0] ? " -> " : "", c->advice);
	}
	if (json_output)
		printf("]\n");
	free(checks);
	return failed ? EXIT_DEVICE : 0;
}
