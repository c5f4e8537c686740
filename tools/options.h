/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The hugepfn tool's command line: every command's arguments parsed into
 * one struct before anything is opened, so that every usage error exits 2
 * the same way, and so that the parsing can be fuzzed on its own
 * (tests/fuzz/fuzz_options.c).
 */
#ifndef HUGEPFN_TOOL_OPTIONS_H
#define HUGEPFN_TOOL_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "hugepfn.h"

#define EXIT_DEVICE 1
#define EXIT_USAGE 2
/* tool_parse_args(): help or the version was asked for, nothing to run */
#define TOOL_DONE (-1)

#define TOOL_MAX_SIZES 16	/* bench --sizes */
#define TOOL_MAX_REGION 255

enum tool_cmd {
	CMD_NONE,
	CMD_LIST,
	CMD_INFO,
	CMD_MAP,
	CMD_BIND,
	CMD_UNBIND,
	CMD_PEEK,
	CMD_POKE,
	CMD_BENCH,
	CMD_DOCTOR,
	CMD_VERSION,
};

struct tool_args {
	/* global options, accepted before or after the command */
	int json;			/* --json */
	enum hugepfn_backend backend;	/* --backend */
	const char *sysfs_root;		/* --sysfs-root, NULL: the library's default */
	const char *dev_root;		/* --dev-root */
	const char *root;		/* --root: installed files (records, modules) under it, NULL: / */

	enum tool_cmd cmd;
	const char *cmd_name;		/* as typed: "map", "poke", ... */
	const char *dev;		/* DEV (or BDF for bind/unbind), NULL when none */
	const char *driver;		/* bind: the driver, default "hugepfn" */
	int persist;			/* bind/unbind --persist: also record / forget the binding */
	int list_persistent;		/* bind --list-persistent (a->dev NULL) */
	int apply_persistent;		/* bind --apply-persistent [BDF] (a->dev NULL: every record) */
	unsigned int region;
	uint64_t offset, length;	/* map: --offset, --length; peek/poke: OFFSET */
	unsigned int map_flags;		/* map: HUGEPFN_MAP_* */
	unsigned int width;		/* peek/poke: bits, 8/16/32/64 */
	uint64_t value;			/* poke */
	int host;			/* bench --host */
	uint64_t sizes[TOOL_MAX_SIZES];	/* bench --sizes */
	size_t nsizes;
	unsigned int reps;		/* bench --reps */
	uint64_t copy_size;		/* bench --copy-size, 0: the default */
};

/*
 * Parse the whole command line (argv[0] is the program). Returns 0 with
 * @a filled, TOOL_DONE after printing help or asking for the version
 * (a->cmd == CMD_VERSION), or EXIT_USAGE after saying on stderr what is
 * wrong. Reorders the arguments of @argv (getopt) but keeps its strings.
 */
int tool_parse_args(int argc, char **argv, struct tool_args *a);

/*
 * Strict numbers. A size is bytes in decimal or 0x hex, optionally with a
 * binary suffix K, M or G (either case, optionally followed by "iB":
 * 4K = 4KiB = 4096); a plain number takes no suffix. No sign, blank,
 * empty string, trailing text or overflow is accepted. Each returns 0, or
 * -1 with *why saying what is wrong (a static string).
 */
int tool_parse_size(const char *s, uint64_t *out, const char **why);
int tool_parse_number(const char *s, uint64_t max, uint64_t *out, const char **why);
/*
 * A comma-separated list of sizes ("64M,256M,1G"): no empty element.
 * Stores up to @max in @out and their count in *n. On failure *bad is the
 * 1-based position of the element at fault (0: the list as a whole).
 */
int tool_parse_size_list(const char *s, uint64_t *out, size_t max, size_t *n, size_t *bad,
			 const char **why);

#endif
