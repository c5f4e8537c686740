// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for the hugepfn tool's command line (tools/options.c)
 * and its size formatter (tools/util.c). The first input byte picks what
 * the rest is fed to:
 *   0: an argv vector, the rest split at NUL bytes (at most 64 arguments),
 *      through tool_parse_args(), whose result must then hold together
 *      (a region in range, a width the access code has, sizes that are
 *      whole pages, a value that fits its width, ...);
 *   1: one size, tool_parse_size(): what it accepts, tool_size_text() must
 *      print so that it parses back to the same number;
 *   2: a list of sizes, tool_parse_size_list();
 *   3: a plain number, tool_parse_number(), against strtoull() where both
 *      should agree.
 * A broken invariant aborts, which libFuzzer reports as a crash. The
 * tool's messages go to stdout/stderr (run.sh closes them: -close_fd_mask).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"
#include "tool.h"

#define MAX_ARGS 64

#define REQUIRE(cond) do { if (!(cond)) abort(); } while (0)

static int needs_dev(const struct tool_args *a)
{
	enum tool_cmd cmd = a->cmd;

	/* bind --list-persistent and --apply-persistent read the records instead */
	if (cmd == CMD_BIND && (a->list_persistent || a->apply_persistent))
		return 0;
	return cmd == CMD_INFO || cmd == CMD_MAP || cmd == CMD_BIND || cmd == CMD_UNBIND ||
	       cmd == CMD_PEEK || cmd == CMD_POKE || (cmd == CMD_BENCH && !a->host);
}

/* What every command may rely on once tool_parse_args() said 0. */
static void check_args(const struct tool_args *a)
{
	size_t i;

	REQUIRE(a->cmd > CMD_NONE && a->cmd <= CMD_VERSION && a->cmd_name);
	REQUIRE(a->backend >= HUGEPFN_BACKEND_AUTO && a->backend <= HUGEPFN_BACKEND_VFIO_CDEV);
	REQUIRE(!a->sysfs_root || (*a->sysfs_root && strlen(a->sysfs_root) <= 255));
	REQUIRE(!a->dev_root || (*a->dev_root && strlen(a->dev_root) <= 255));
	REQUIRE(!a->root || (*a->root && strlen(a->root) <= 255));
	REQUIRE(!needs_dev(a) || a->dev);
	/* one way of using the records at a time; --list-persistent with no device */
	REQUIRE(a->persist + a->list_persistent + a->apply_persistent <= 1);
	REQUIRE(!a->list_persistent || !a->dev);
	REQUIRE(!(a->list_persistent || a->apply_persistent) || a->cmd == CMD_BIND);
	REQUIRE(!a->persist || a->cmd == CMD_BIND || a->cmd == CMD_UNBIND);
	REQUIRE(a->region <= TOOL_MAX_REGION);
	REQUIRE(a->width == 8 || a->width == 16 || a->width == 32 || a->width == 64);
	REQUIRE(a->reps >= 1 && a->reps <= 31);
	REQUIRE(a->nsizes <= TOOL_MAX_SIZES);
	for (i = 0; i < a->nsizes; i++)
		REQUIRE(a->sizes[i] >= 4096 && a->sizes[i] % 4096 == 0);
	REQUIRE(!((a->map_flags & HUGEPFN_MAP_4K) && (a->map_flags & HUGEPFN_MAP_2M)));
	if (a->cmd == CMD_PEEK || a->cmd == CMD_POKE)
		REQUIRE(a->offset % (a->width / 8) == 0);
	if (a->cmd == CMD_POKE && a->width < 64)
		REQUIRE(a->value < (1ULL << a->width));
	if (a->cmd == CMD_BIND) {
		REQUIRE(a->driver && *a->driver && strlen(a->driver) <= 63 && !strchr(a->driver, '/'));
		for (i = 0; a->driver[i]; i++)
			REQUIRE((unsigned char)a->driver[i] > ' ');
		/* a record holds one of the two drivers a boot may bind to */
		if (a->persist)
			REQUIRE(!strcmp(a->driver, "hugepfn") || !strcmp(a->driver, "vfio-pci"));
	}
}

static void fuzz_argv(char *text, size_t len)
{
	char *argv[MAX_ARGS + 2], *p = text;
	struct tool_args a;
	int argc = 0, ret;

	argv[argc++] = (char *)"hugepfn";
	while (p < text + len && argc <= MAX_ARGS) {
		argv[argc++] = p;
		p += strlen(p) + 1;
	}
	argv[argc] = NULL;
	ret = tool_parse_args(argc, argv, &a);
	REQUIRE(ret == 0 || ret == TOOL_DONE || ret == EXIT_USAGE);
	if (ret == 0)
		check_args(&a);
}

static void fuzz_size(const char *s)
{
	const char *why = NULL;
	uint64_t v, back;

	if (tool_parse_size(s, &v, &why)) {
		REQUIRE(why && *why);
		return;
	}
	REQUIRE(!tool_parse_size(tool_size_text(v).s, &back, &why) && back == v);
}

static void fuzz_list(const char *s)
{
	uint64_t out[TOOL_MAX_SIZES];
	const char *why = NULL;
	size_t n = 99, bad = 99;

	if (tool_parse_size_list(s, out, TOOL_MAX_SIZES, &n, &bad, &why)) {
		REQUIRE(why && *why && bad <= n + 1 && n <= TOOL_MAX_SIZES);
		return;
	}
	REQUIRE(n >= 1 && n <= TOOL_MAX_SIZES && bad == 0);
}

static void fuzz_number(const char *s)
{
	const char *why = NULL;
	uint64_t v, ref;
	char *end;
	int hex = s[0] == '0' && (s[1] == 'x' || s[1] == 'X');

	if (tool_parse_number(s, UINT64_MAX, &v, &why)) {
		REQUIRE(why && *why);
		return;
	}
	/* accepted: digits only, so strtoull() must read exactly the same */
	errno = 0;
	ref = strtoull(hex ? s + 2 : s, &end, hex ? 16 : 10);
	REQUIRE(!errno && !*end && ref == v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;

	if (size < 1)
		return 0;
	/* NUL-terminated: mode 0 splits at the NULs, the others stop at the first */
	text = malloc(size);
	if (!text)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	switch (data[0] % 4) {
	case 0: fuzz_argv(text, size - 1); break;
	case 1: fuzz_size(text); break;
	case 2: fuzz_list(text); break;
	case 3: fuzz_number(text); break;
	}
	free(text);
	return 0;
}
