/* SPDX-License-Identifier: GPL-2.0 */
/* What the hugepfn tool's commands share. */
#ifndef HUGEPFN_TOOL_H
#define HUGEPFN_TOOL_H

#include <stdint.h>

#include "hugepfn.h"

#define EXIT_DEVICE 1
#define EXIT_USAGE 2

extern int json_output;		/* --json given */

/* A number with an optional K/M/G suffix: 0, or -1 when it is not one. */
int tool_parse_u64(const char *s, uint64_t *v);
/* Open a device, reporting the failure; 0 or a negative errno. */
int tool_open_dev(struct hugepfn_ctx *ctx, const char *spec, struct hugepfn_dev **dev);
/* Print "hugepfn: WHAT: ERROR: DETAIL" and return EXIT_DEVICE. */
int tool_fail(struct hugepfn_dev *dev, int err, const char *what);

int cmd_bench(struct hugepfn_ctx *ctx, int argc, char **argv);
int cmd_doctor(struct hugepfn_ctx *ctx, int argc, char **argv);

#endif
