/* SPDX-License-Identifier: GPL-2.0 */
/* What the hugepfn tool's commands share. */
#ifndef HUGEPFN_TOOL_H
#define HUGEPFN_TOOL_H

#include <stddef.h>
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
/*
 * snprintf() for paths and messages that may be cut short on purpose (a
 * path over PATH_MAX is no file anyway): 0, or -ENAMETOOLONG when cut.
 */
int tool_format(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/*
 * [--root]@fmt: an installed file under --root (without its trailing '/'),
 * or under / without it. 0, or -ENAMETOOLONG when cut.
 */
int tool_rooted(const struct tool_args *a, char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

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

/* ---- records.c: the files of the bindings recorded for every boot ---------------- */

/* What went wrong and what to do next, for tool_fail_msg(). */
struct tool_why {
	char detail[2048];
	char advice[1024];
};

/*
 * One entry of the records directory: pci-DDDD:BB:DD.F holding the driver
 * that device is bound to at boot. A refused record (a name no device has,
 * a file that is not a plain one of root's, content other than one driver
 * line) keeps why in @error and what to do in @advice; an ignored entry (a
 * backup copy, a README) is no record, @error its notice.
 */
struct tool_record {
	char name[1024];	/* the file's name as shown: bytes other than printable ASCII as \xNN */
	char bdf[16];		/* its device, canonical; "" when the name is no record's */
	char driver[16];	/* "hugepfn" or "vfio-pci"; "" when refused or ignored */
	int ignored;		/* not a record: @error says so, nothing is refused */
	char error[2048];	/* "PATH line N: what is wrong", "" when valid */
	char advice[1024];	/* what to do about @error */
};

/* The records directory, [--root]SYSCONFDIR/hugepfn/bind.d: 0 or -ENAMETOOLONG. */
int tool_records_dir(const struct tool_args *a, char *buf, size_t size);
/*
 * The records directory, checked (a directory of root's, writable by no
 * one else) and made when @create: its descriptor, -ENOENT when there is
 * none and !@create, or -errno with @why.
 */
int tool_records_open(const char *dir, int create, struct tool_why *why);
/*
 * Every entry of @dir (only @bdf's record when @bdf is not NULL), sorted
 * by name (dot files, such as a record being written, are skipped): the
 * count, 0 when @dir does not exist, or -errno with @why. *out is for free().
 */
int tool_records_read(struct hugepfn_ctx *ctx, const char *dir, const char *bdf, struct tool_record **out,
		      struct tool_why *why);
/* Write @driver as @bdf's record into the directory @dfd, atomically: 0, or -errno and the *step that failed. */
int tool_record_write(int dfd, const char *bdf, const char *driver, const char **step);
/* Remove @bdf's record from @dfd: 0 or -errno (-ENOENT: there was none). */
int tool_record_remove(int dfd, const char *bdf);
/* A PCI address the library takes ([DDDD:]BB:DD.F, hex), canonical: 0 or -EINVAL. */
int tool_bdf(struct hugepfn_ctx *ctx, const char *s, char out[16]);
/*
 * Take [--root]/run/hugepfn/bind.lock, waiting up to 30 s (the environment's
 * HUGEPFN_LOCK_TIMEOUT seconds): its descriptor (close() releases it), or
 * -errno with @why (-ETIMEDOUT: another command holds it).
 */
int tool_lock(const struct tool_args *a, struct tool_why *why);

/* ---- persist.c: bindings recorded for every boot ------------------------------ */

/* bind --persist, bind --list-persistent, bind --apply-persistent, unbind --persist. */
int cmd_bind_persist(struct hugepfn_ctx *ctx, const struct tool_args *a);
int cmd_bind_list(struct hugepfn_ctx *ctx, const struct tool_args *a);
int cmd_bind_apply(struct hugepfn_ctx *ctx, const struct tool_args *a);
int cmd_unbind_persist(struct hugepfn_ctx *ctx, const struct tool_args *a);
/* hugepfn.c: a failed bind or unbind, reported with what to do; the exit status. */
int tool_bind_failed(struct hugepfn_ctx *ctx, const struct tool_args *a, int ret, int exists);
/*
 * hugepfn.c: every PCI device (@carveouts 0, struct hugepfn_pci_info) or
 * carveout (struct hugepfn_carveout_info) in *out (for free()): the count,
 * or a negative errno (the detail on @ctx).
 */
int tool_list_all(struct hugepfn_ctx *ctx, int carveouts, void **out);

/* ---- install.c: what doctor says of the installation ------------------------------ */

/*
 * The findings about the installation: the running kernel (and what the
 * library's @lib[@nlib] measured of it), hugepfn.ko for it, the recorded
 * bindings and what applies them at boot. Returns how many, in *out (for
 * free()), or -ENOMEM.
 */
int tool_install_checks(struct hugepfn_ctx *ctx, const struct tool_args *a, const struct hugepfn_check *lib,
			int nlib, struct hugepfn_check **out);

/* ---- the commands ------------------------------------------------------------- */

int cmd_list(struct hugepfn_ctx *ctx, const struct tool_args *a);
int cmd_info(struct hugepfn_ctx *ctx, const struct tool_args *a);
int cmd_bind(struct hugepfn_ctx *ctx, const struct tool_args *a);
int cmd_map(struct hugepfn_ctx *ctx, const struct tool_args *a);
int cmd_access(struct hugepfn_ctx *ctx, const struct tool_args *a);
int cmd_bench(struct hugepfn_ctx *ctx, const struct tool_args *a);
int cmd_doctor(struct hugepfn_ctx *ctx, const struct tool_args *a);

#endif
