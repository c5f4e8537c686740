/* SPDX-License-Identifier: GPL-2.0 */
/* What the hugepfn tool's commands share. */
#ifndef HUGEPFN_TOOL_H
#define HUGEPFN_TOOL_H

#include <stdint.h>

#include <json-c/json.h>

#include "hugepfn.h"
#include "options.h"

/* ---- util.c: helpers without the library ---------------------------------- */

/* A size as the tool prints it: "4K", "2M", "1G", or bytes ("12345"). */
struct tool_size_text {
	char s[24];
};
struct tool_size_text tool_size_text(uint64_t bytes);
/* CLOCK_MONOTONIC in nanoseconds, for every timing the tool prints. */
uint64_t tool_now_ns(void);

/* ---- report.c: output, errors and opening ---------------------------------- */

/* Print @o as one line of JSON on stdout and free it. */
void tool_json_print(struct json_object *o);
/* "0x1234": addresses and physical addresses, as the tool always wrote them. */
struct json_object *tool_json_hex(uint64_t v);
/* A number printed with @fmt ("%.3f"), so that figures keep their precision. */
struct json_object *tool_json_fixed(double v, const char *fmt);

/*
 * Report a failure of the library (@err, a negative errno) in @what, with
 * the detail the library kept on @ctx or @dev and what to do next: on
 * stderr, and with --json as {"error":{...}} on stdout. Return EXIT_DEVICE.
 */
int tool_fail_ctx(const struct tool_args *a, struct hugepfn_ctx *ctx, int err, const char *what);
int tool_fail_dev(const struct tool_args *a, struct hugepfn_dev *dev, int err, const char *what);
/* The same with the detail and the next step given (@next NULL: by @err). */
int tool_fail_msg(const struct tool_args *a, int err, const char *what, const char *detail,
		  const char *next);
/*
 * Whether a->dev is well-formed (any DEV, or with @pci_only a PCI address):
 * 0, or EXIT_USAGE after saying so. A PCI address is checked by the
 * library's own grammar; *exists (when not NULL) says whether such a PCI
 * device was found (-1: not a PCI address, or unknown).
 */
int tool_check_dev(const struct tool_args *a, struct hugepfn_ctx *ctx, int pci_only, int *exists);
/* Open a->dev through a->backend: 0, or the exit status after reporting. */
int tool_open_dev(const struct tool_args *a, struct hugepfn_ctx *ctx, struct hugepfn_dev **dev);

/* ---- the commands ------------------------------------------------------------- */

int cmd_list(struct hugepfn_ctx *ctx, const struct tool_args *a);
int cmd_info(struct hugepfn_ctx *ctx, const struct tool_args *a);
int cmd_bind(struct hugepfn_ctx *ctx, const struct tool_args *a);
int cmd_map(struct hugepfn_ctx *ctx, const struct tool_args *a);
int cmd_access(struct hugepfn_ctx *ctx, const struct tool_args *a);
int cmd_bench(struct hugepfn_ctx *ctx, const struct tool_args *a);
int cmd_doctor(struct hugepfn_ctx *ctx, const struct tool_args *a);

#endif
