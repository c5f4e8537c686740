// SPDX-License-Identifier: GPL-2.0
/*
 * The hugepfn tool's command line: global options anywhere, each
 * command's options and arguments, strict numbers, and the help texts.
 * Nothing here opens a device: a usage error is found before anything is
 * done, and always exits 2.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "options.h"

/* Where the binding records live (tools/meson.build: the install's sysconfdir). */
#ifndef HUGEPFN_SYSCONFDIR
#define HUGEPFN_SYSCONFDIR "/etc"
#endif

#define NUMBERS_HELP \
	"Numbers are decimal (a leading 0 is no octal) or 0x hex; sizes and offsets may\n" \
	"end in K, M or G (also written KiB, MiB, GiB; 1K = 1024). Signs, blanks and\n" \
	"trailing text are refused.\n"

#define GLOBALS_HELP \
	"The global options (--json, --backend, --sysfs-root, --dev-root) may also come\n" \
	"after the command; 'hugepfn --help' describes them.\n"

static const char main_usage[] =
	"Usage: hugepfn [OPTIONS] COMMAND [ARGS]\n"
	"\n"
	"Commands:\n"
	"  list                 PCI devices with their driver and memory BARs, and carveouts\n"
	"  info DEV             a device's regions\n"
	"  map DEV REGION       map a region huge-aligned, touch it, show the page sizes\n"
	"  bind BDF [DRIVER]    hand a PCI device to hugepfn (default) or vfio-pci;\n"
	"                       with --persist also at every boot (hugepfn bind --help)\n"
	"  unbind BDF           give it back to its usual driver\n"
	"  bench DEV REGION     4K vs 2M vs 1G: load latency, memcpy, mapping cost\n"
	"  bench --host         the same on anonymous memory (4K, THP, hugetlb 1G)\n"
	"  peek DEV REGION OFFSET [--width 8|16|32|64]\n"
	"  poke DEV REGION OFFSET VALUE [--width 8|16|32|64]\n"
	"                       read or write one register\n"
	"  doctor [DEV]         why mappings are (not) huge: checks, findings and what to do\n"
	"  version              the tool's and the library's versions\n"
	"\n"
	"DEV is a PCI address (DDDD:BB:DD.F or BB:DD.F, hex), carveout:NAME, or a device\n"
	"node (/dev/hugepfn/..., /dev/uioN); BDF is a PCI address.\n"
	NUMBERS_HELP
	"\n"
	"Options, before or after the command:\n"
	"  --json               machine-readable output: one JSON value on stdout; a device\n"
	"                       or kernel error (exit 1) prints {\"error\":{...}} there too\n"
	"  --backend NAME       open devices through NAME: auto (default), hugepfn, uio,\n"
	"                       sysfs, vfio (group/container) or vfio-cdev (iommufd)\n"
	"  --sysfs-root DIR     sysfs (and debugfs, as DIR/kernel/debug) under DIR, not /sys\n"
	"  --dev-root DIR       device nodes under DIR, not /dev\n"
	"  --version            the tool's and the library's versions, as 'version'\n"
	"  -h, --help           this text; 'hugepfn COMMAND --help' for a command\n"
	"\n"
	"bind, unbind and doctor also take --root DIR (anywhere on the command line): the\n"
	"installed system's files (binding records, kernel modules, DKMS) under DIR, not /.\n"
	"\n"
	"Exit status: 0 success, 1 device or kernel error, 2 bad usage.\n";

/* ---- strict numbers ---------------------------------------------------- */

static int digit(char c, unsigned int base)
{
	int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
		c >= 'A' && c <= 'F' ? c - 'A' + 10 : 99;

	return v < (int)base ? v : -1;
}

/* Decimal or 0x hex digits at *p, advancing *p past them. */
static int parse_digits(const char **p, uint64_t *out, const char **why)
{
	const char *s = *p;
	unsigned int base = 10;
	uint64_t v = 0;
	int d, n = 0;

	if (!*s) {
		*why = "it is empty";
		return -1;
	}
	if (*s == '-' || *s == '+') {
		*why = "a sign is not allowed";
		return -1;
	}
	if (*s == ' ' || (*s >= '\t' && *s <= '\r')) {
		*why = "blanks are not allowed";
		return -1;
	}
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	for (; (d = digit(*s, base)) >= 0; s++, n++) {
		if (v > (UINT64_MAX - (uint64_t)d) / base) {
			*why = "it is too large (over 2^64 - 1)";
			return -1;
		}
		v = v * base + (uint64_t)d;
	}
	if (!n) {
		*why = base == 16 ? "no hex digits after 0x" : "it does not start with a digit";
		return -1;
	}
	*p = s;
	*out = v;
	return 0;
}

static int trailing(const char *p, const char **why)
{
	if (!*p)
		return 0;
	*why = *p == ' ' || (*p >= '\t' && *p <= '\r') ? "blanks are not allowed" : "trailing text after the number";
	return -1;
}

int tool_parse_number(const char *s, uint64_t max, uint64_t *out, const char **why)
{
	uint64_t v;

	if (parse_digits(&s, &v, why) || trailing(s, why))
		return -1;
	if (v > max) {
		*why = "it is out of range";
		return -1;
	}
	*out = v;
	return 0;
}

int tool_parse_size(const char *s, uint64_t *out, const char **why)
{
	unsigned int shift = 0;
	uint64_t v;

	if (parse_digits(&s, &v, why))
		return -1;
	switch (*s) {
	case 'K': case 'k': shift = 10; break;
	case 'M': case 'm': shift = 20; break;
	case 'G': case 'g': shift = 30; break;
	}
	if (shift) {
		s++;
		if (s[0] == 'i' && s[1] == 'B')
			s += 2;
	}
	if (trailing(s, why))
		return -1;
	if (v > (UINT64_MAX >> shift)) {
		*why = "it is too large (over 2^64 - 1 bytes)";
		return -1;
	}
	*out = v << shift;
	return 0;
}

int tool_parse_size_list(const char *s, uint64_t *out, size_t max, size_t *n, size_t *bad,
			 const char **why)
{
	char item[64];
	size_t len;

	*n = 0;
	*bad = 0;
	if (!*s) {
		*why = "the list is empty";
		return -1;
	}
	for (;;) {
		len = strcspn(s, ",");
		*bad = *n + 1;
		if (*n == max) {
			*why = "too many sizes";
			return -1;
		}
		if (len >= sizeof(item)) {
			*why = "it is too long to be a size";
			return -1;
		}
		memcpy(item, s, len);
		item[len] = '\0';
		if (tool_parse_size(item, &out[*n], why))
			return -1;
		(*n)++;
		if (!s[len])
			break;
		s += len + 1;
	}
	*bad = 0;
	return 0;
}

/* ---- reporting usage errors ---------------------------------------------- */

static int usage_error(const struct tool_args *a, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "hugepfn%s%s: ", a->cmd_name ? " " : "", a->cmd_name ? a->cmd_name : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (try 'hugepfn %s%s--help')\n", a->cmd_name ? a->cmd_name : "",
		a->cmd_name ? " " : "");
	return EXIT_USAGE;
}

static int bad_size(const struct tool_args *a, const char *what, const char *arg, const char *why)
{
	return usage_error(a, "%s '%s' is not a size: %s; sizes are bytes in decimal or 0x hex with "
			   "an optional K, M or G suffix", what, arg, why);
}

static int bad_number(const struct tool_args *a, const char *what, const char *arg, const char *why)
{
	return usage_error(a, "%s '%s' is not a valid number: %s", what, arg, why);
}

/* ---- the commands' arguments ------------------------------------------- */

/*
 * getopt codes of the long options: above any character, so that an
 * unknown short option (optopt) is never taken for one of them.
 */
enum {
	OPT_OFFSET = 256, OPT_LENGTH, OPT_WC, OPT_4K, OPT_2M, OPT_HUGE_REQUIRED,
	OPT_WIDTH, OPT_SIZES, OPT_REPS, OPT_COPY_SIZE, OPT_HOST, OPT_HELP,
	OPT_PERSIST, OPT_LIST_PERSISTENT, OPT_APPLY_PERSISTENT,
};

struct cmd_spec {
	const char *name;
	enum tool_cmd cmd;
	const char *usage;
	const struct option *longopts;
	int min_args, max_args;
	/* an option of the command (getopt's code); 0 or EXIT_USAGE */
	int (*option)(struct tool_args *a, int c, const char *arg);
	/* the positional arguments, already counted; 0 or EXIT_USAGE */
	int (*args)(struct tool_args *a, char **args, int n);
};

static const struct option help_only[] = {
	{ "help", no_argument, NULL, OPT_HELP },
	{ 0 }
};

static int parse_region(struct tool_args *a, const char *arg)
{
	const char *why;
	uint64_t v;

	if (tool_parse_number(arg, TOOL_MAX_REGION, &v, &why))
		return usage_error(a, "REGION '%s' is not a region number (0 to %d): %s", arg, TOOL_MAX_REGION, why);
	a->region = (unsigned int)v;
	return 0;
}

static int dev_args(struct tool_args *a, char **args, int n)
{
	a->dev = n ? args[0] : NULL;
	return 0;
}

static int dev_region_args(struct tool_args *a, char **args, int n)
{
	a->dev = args[0];
	return parse_region(a, args[1]);
}

static int bind_option(struct tool_args *a, int c, const char *arg)
{
	switch (c) {
	case OPT_PERSIST: a->persist = 1; return 0;
	case OPT_LIST_PERSISTENT: a->list_persistent = 1; return 0;
	case OPT_APPLY_PERSISTENT: a->apply_persistent = 1; return 0;
	}
	return EXIT_USAGE;
}

/* --list-persistent and --apply-persistent read the records: no --persist, no DRIVER. */
static int record_mode_args(struct tool_args *a, char **args, int n)
{
	const char *mode = a->list_persistent ? "--list-persistent" : "--apply-persistent";

	if (a->list_persistent && a->apply_persistent)
		return usage_error(a, "--list-persistent and --apply-persistent exclude each other");
	if (a->persist)
		return usage_error(a, "--persist records one binding; %s takes none", mode);
	if (n > (a->list_persistent ? 0 : 1))
		return usage_error(a, "unexpected argument '%s': %s takes %s", args[n - 1], mode,
				   a->list_persistent ? "no argument" : "at most a BDF (the driver is the record's)");
	a->dev = n ? args[0] : NULL;
	return 0;
}

/* The rules hugepfn_pci_bind() has for a driver name, checked first so that
 * a bad name is blamed on the name, not on the address. */
static int bind_args(struct tool_args *a, char **args, int n)
{
	const char *d;

	if (a->list_persistent || a->apply_persistent)
		return record_mode_args(a, args, n);
	if (!n)
		return usage_error(a, "missing arguments; usage: hugepfn [--json] bind [--persist] BDF [DRIVER]");
	a->dev = args[0];
	if (n < 2)
		return 0;
	a->driver = d = args[1];
	if (!*d || strlen(d) > 63)
		return usage_error(a, "driver name '%s' must be 1 to 63 characters", d);
	for (; *d; d++)
		if (*d == '/' || (unsigned char)*d <= ' ' || *d == 0x7f)
			return usage_error(a, "driver name '%s' may not contain '/', blanks or control "
					   "characters (a driver's name as in /sys/bus/pci/drivers)", a->driver);
	/* what boots can rely on: the two drivers this project maps through */
	if (a->persist && strcmp(a->driver, "hugepfn") && strcmp(a->driver, "vfio-pci"))
		return usage_error(a, "--persist records hugepfn or vfio-pci, not '%s'", a->driver);
	return 0;
}

/* --persist, the one option of unbind besides --help */
static int unbind_option(struct tool_args *a, int c, const char *arg)
{
	a->persist = 1;
	return 0;
}

static int unbind_args(struct tool_args *a, char **args, int n)
{
	a->dev = args[0];
	return 0;
}

static int map_option(struct tool_args *a, int c, const char *arg)
{
	const char *why;

	switch (c) {
	case OPT_OFFSET:
		return tool_parse_size(arg, &a->offset, &why) ? bad_size(a, "--offset", arg, why) : 0;
	case OPT_LENGTH:
		return tool_parse_size(arg, &a->length, &why) ? bad_size(a, "--length", arg, why) : 0;
	case OPT_WC: a->map_flags |= HUGEPFN_MAP_WC; return 0;
	case OPT_4K: a->map_flags |= HUGEPFN_MAP_4K; return 0;
	case OPT_2M: a->map_flags |= HUGEPFN_MAP_2M; return 0;
	case OPT_HUGE_REQUIRED: a->map_flags |= HUGEPFN_MAP_HUGE_REQUIRED; return 0;
	}
	return EXIT_USAGE;
}

static int map_args(struct tool_args *a, char **args, int n)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);

	if ((a->map_flags & HUGEPFN_MAP_4K) && (a->map_flags & HUGEPFN_MAP_2M))
		return usage_error(a, "--4k and --2m exclude each other");
	if (a->offset % page || a->length % page)
		return usage_error(a, "--offset and --length must be multiples of the page size (%llu bytes)",
				   (unsigned long long)page);
	return dev_region_args(a, args, n);
}

static int access_option(struct tool_args *a, int c, const char *arg)
{
	const char *why;
	uint64_t w;

	if (tool_parse_number(arg, 64, &w, &why) || (w != 8 && w != 16 && w != 32 && w != 64))
		return usage_error(a, "--width '%s' must be 8, 16, 32 or 64", arg);
	a->width = (unsigned int)w;
	return 0;
}

static int access_args(struct tool_args *a, char **args, int n)
{
	uint64_t max = a->width == 64 ? UINT64_MAX : (1ULL << a->width) - 1;
	const char *why;

	if (dev_region_args(a, args, n))
		return EXIT_USAGE;
	if (tool_parse_size(args[2], &a->offset, &why))
		return bad_size(a, "OFFSET", args[2], why);
	if (a->offset % (a->width / 8))
		return usage_error(a, "OFFSET %s is not aligned to the %u-bit width", args[2], a->width);
	if (a->cmd != CMD_POKE)
		return 0;
	if (tool_parse_number(args[3], UINT64_MAX, &a->value, &why))
		return bad_number(a, "VALUE", args[3], why);
	if (a->value > max)
		return usage_error(a, "VALUE %s does not fit in %u bits", args[3], a->width);
	return 0;
}

static int bench_option(struct tool_args *a, int c, const char *arg)
{
	const char *why;
	size_t bad;
	uint64_t v;

	switch (c) {
	case OPT_SIZES:
		if (tool_parse_size_list(arg, a->sizes, TOOL_MAX_SIZES, &a->nsizes, &bad, &why))
			return bad ? usage_error(a, "--sizes '%s': size %zu: %s (at most %d sizes, "
						 "each with an optional K, M or G suffix)", arg, bad, why,
						 TOOL_MAX_SIZES) :
				     usage_error(a, "--sizes '%s': %s", arg, why);
		return 0;
	case OPT_REPS:
		if (tool_parse_number(arg, 31, &v, &why) || !v)
			return usage_error(a, "--reps '%s' must be a number from 1 to 31", arg);
		a->reps = (unsigned int)v;
		return 0;
	case OPT_COPY_SIZE:
		if (tool_parse_size(arg, &a->copy_size, &why))
			return bad_size(a, "--copy-size", arg, why);
		return a->copy_size ? 0 : usage_error(a, "--copy-size must not be 0");
	case OPT_HOST:
		a->host = 1;
		return 0;
	}
	return EXIT_USAGE;
}

static int bench_args(struct tool_args *a, char **args, int n)
{
	size_t i;

	if (n != (a->host ? 0 : 2))
		return usage_error(a, a->host ? "--host takes no DEV or REGION" : "need DEV and REGION, or --host");
	/* the latency chase walks whole pages, and each size is mapped */
	for (i = 0; i < a->nsizes; i++)
		if (a->sizes[i] < 4096 || a->sizes[i] % 4096)
			return usage_error(a, "--sizes: size %zu (%llu bytes) is not a multiple of 4K", i + 1,
					   (unsigned long long)a->sizes[i]);
	return n ? dev_region_args(a, args, n) : 0;
}

static const struct option map_opts[] = {
	{ "offset", required_argument, NULL, OPT_OFFSET },
	{ "length", required_argument, NULL, OPT_LENGTH },
	{ "wc", no_argument, NULL, OPT_WC },
	{ "4k", no_argument, NULL, OPT_4K },
	{ "2m", no_argument, NULL, OPT_2M },
	{ "huge-required", no_argument, NULL, OPT_HUGE_REQUIRED },
	{ "help", no_argument, NULL, OPT_HELP },
	{ 0 }
};

static const struct option bind_opts[] = {
	{ "persist", no_argument, NULL, OPT_PERSIST },
	{ "list-persistent", no_argument, NULL, OPT_LIST_PERSISTENT },
	{ "apply-persistent", no_argument, NULL, OPT_APPLY_PERSISTENT },
	{ "help", no_argument, NULL, OPT_HELP },
	{ 0 }
};

static const struct option unbind_opts[] = {
	{ "persist", no_argument, NULL, OPT_PERSIST },
	{ "help", no_argument, NULL, OPT_HELP },
	{ 0 }
};

static const struct option access_opts[] = {
	{ "width", required_argument, NULL, OPT_WIDTH },
	{ "help", no_argument, NULL, OPT_HELP },
	{ 0 }
};

static const struct option bench_opts[] = {
	{ "sizes", required_argument, NULL, OPT_SIZES },
	{ "reps", required_argument, NULL, OPT_REPS },
	{ "copy-size", required_argument, NULL, OPT_COPY_SIZE },
	{ "host", no_argument, NULL, OPT_HOST },
	{ "help", no_argument, NULL, OPT_HELP },
	{ 0 }
};

static const struct cmd_spec commands[] = {
	{ "list", CMD_LIST,
	  "Usage: hugepfn [--json] list\n\n"
	  "PCI devices (address, IDs, class, driver, IOMMU group, NUMA node, memory BARs)\n"
	  "and the carveouts of hugepfn.ko.\n",
	  help_only, 0, 0, NULL, dev_args },
	{ "info", CMD_INFO,
	  "Usage: hugepfn [--json] [--backend NAME] info DEV\n\n"
	  "DEV: DDDD:BB:DD.F, carveout:NAME or a device node.\n"
	  "Shows the backend the device opens through and its regions.\n",
	  help_only, 1, 1, NULL, dev_args },
	{ "map", CMD_MAP,
	  "Usage: hugepfn [--json] [--backend NAME] map DEV REGION [--offset N] [--length N]\n"
	  "                                          [--wc] [--4k|--2m] [--huge-required]\n\n"
	  "Maps REGION of DEV (--length 0 or none: to its end) at a huge-aligned address,\n"
	  "touches every page, and prints the page size of every run, the page-table pages,\n"
	  "the memory type (cache mode) the kernel applied and the time taken.\n"
	  "  --offset N       where in the region to start (a multiple of the page size)\n"
	  "  --length N       how much to map (a multiple of the page size)\n"
	  "  --wc             write-combining (fails, naming the type obtained, when the\n"
	  "                   kernel is seen to give the range another memory type)\n"
	  "  --4k             deliberately one page off the huge alignment, for comparison\n"
	  "  --2m             2 MiB leaves at most: one 2 MiB off the 1 GiB alignment\n"
	  "  --huge-required  fail unless huge leaves were obtained\n",
	  map_opts, 2, 2, map_option, map_args },
	{ "bind", CMD_BIND,
	  "Usage: hugepfn [--json] bind [--persist] BDF [DRIVER]\n"
	  "       hugepfn [--json] bind --list-persistent\n"
	  "       hugepfn [--json] bind --apply-persistent [BDF]\n\n"
	  "Unbinds the device from its driver and binds it to DRIVER (default hugepfn;\n"
	  "vfio-pci for VFIO) through driver_override. Needs root and the driver loaded.\n"
	  "  --persist           also record it, so that it is bound so at every boot: the\n"
	  "                      file pci-DDDD:BB:DD.F, holding DRIVER (hugepfn or vfio-pci),\n"
	  "                      in " HUGEPFN_SYSCONFDIR "/hugepfn/bind.d (written only once bound)\n"
	  "  --list-persistent   the recorded bindings, and what each device is bound to now\n"
	  "  --apply-persistent  bind every recorded device (or BDF) not bound as recorded,\n"
	  "                      loading the driver (modprobe) where needed; a device that is\n"
	  "                      not there is 'absent', no failure. Exit 1 if one failed.\n"
	  "                      hugepfn.bind=0 on the kernel command line: nothing is applied.\n"
	  "                      At boot the udev rule 61-hugepfn-bind.rules runs it for each\n"
	  "                      recorded device as it appears, hugepfn-bind.service for all.\n"
	  "  --root DIR          the records under DIR (DIR" HUGEPFN_SYSCONFDIR "/hugepfn/bind.d)\n"
	  "\n"
	  "'hugepfn unbind --persist BDF' unbinds and forgets the record.\n",
	  bind_opts, 0, 2, bind_option, bind_args },
	{ "unbind", CMD_UNBIND,
	  "Usage: hugepfn [--json] unbind [--persist] BDF\n\n"
	  "Unbinds the device, clears driver_override and lets its usual driver probe it.\n"
	  "  --persist    remove its record (hugepfn bind --persist), so that it is no longer\n"
	  "               bound at boot, then unbind it only if it is bound to the recorded\n"
	  "               driver (or to none with that override); without a record, or with\n"
	  "               another driver, the device is left as it is\n"
	  "  --root DIR   the records under DIR (DIR" HUGEPFN_SYSCONFDIR "/hugepfn/bind.d)\n",
	  unbind_opts, 1, 1, unbind_option, unbind_args },
	{ "peek", CMD_PEEK,
	  "Usage: hugepfn [--json] [--backend NAME] peek DEV REGION OFFSET [--width 8|16|32|64]\n\n"
	  "Reads one naturally aligned word at OFFSET of REGION (default width 32 bits) and\n"
	  "prints it in hex.\n",
	  access_opts, 3, 3, access_option, access_args },
	{ "poke", CMD_POKE,
	  "Usage: hugepfn [--json] [--backend NAME] poke DEV REGION OFFSET VALUE [--width 8|16|32|64]\n\n"
	  "Writes VALUE (a number, no suffix) as one naturally aligned word at OFFSET of\n"
	  "REGION (default width 32 bits) and prints what it wrote.\n",
	  access_opts, 4, 4, access_option, access_args },
	{ "bench", CMD_BENCH,
	  "Usage: hugepfn [--json] [--backend NAME] bench DEV REGION [--sizes LIST] [--reps N] [--copy-size N]\n"
	  "       hugepfn [--json] bench --host [--sizes LIST] [--reps N] [--copy-size N]\n\n"
	  "Maps the region (or, with --host, anonymous memory) three times: 4 KiB pages,\n"
	  "2 MiB leaves at most, and 1 GiB leaves where the range allows them, and compares\n"
	  "load latency (stride 64, random page order), memcpy from and to it, and the cost\n"
	  "of mapping it (mmap, touch, fork, munmap, 4 KiB mprotect, page-table pages).\n"
	  "A column the range or the system cannot give (a region under 1 GiB, no 1 GiB\n"
	  "hugetlb pages reserved, or transparent huge pages that did not give 2 MiB pages\n"
	  "for --host) shows '-' and says why.\n"
	  "  --sizes LIST    working-set sizes for latency, multiples of 4K, e.g. 64M,256M,1G\n"
	  "                  (at most 16; default 64M doubling up to the region, or 256M)\n"
	  "  --reps N        measured repetitions per figure, 1 to 31, median reported (default 5)\n"
	  "  --copy-size N   bytes per memcpy (default: 1G, 2G and 4G as far as the range goes)\n",
	  bench_opts, 0, 2, bench_option, bench_args },
	{ "doctor", CMD_DOCTOR,
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
	  "The installation too: the running kernel, whether hugepfn.ko is there for it\n"
	  "(loaded, under /lib/modules/RELEASE, or built by DKMS), and whether the bindings\n"
	  "recorded for every boot ('hugepfn bind --help') are made, and by what at boot.\n"
	  "\n"
	  "  --json      an array of {\"check\", \"status\", \"found\", \"advice\"}\n"
	  "  --root DIR  the installed files (records, /lib/modules, /var/lib/dkms) under DIR\n"
	  "\n"
	  "Exit status: 0 no check failed, 1 a check failed (or the checks could not run),\n"
	  "2 bad usage.\n",
	  help_only, 0, 1, NULL, dev_args },
	{ "version", CMD_VERSION,
	  "Usage: hugepfn [--json] version\n\n"
	  "The tool's version and the version of the libhugepfn it runs with\n"
	  "(--json: {\"tool\":..., \"library\":...}). 'hugepfn --version' is the same.\n",
	  help_only, 0, 0, NULL, dev_args },
};

static const struct cmd_spec *find_command(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(name, commands[i].name))
			return &commands[i];
	return NULL;
}

static void print_usage(FILE *f, const struct cmd_spec *spec)
{
	fputs(spec ? spec->usage : main_usage, f);
	if (spec && spec->cmd != CMD_VERSION)
		fputs("\n" NUMBERS_HELP GLOBALS_HELP, f);
}

/*
 * getopt's complaint, in the tool's words (opterr is off). A long option
 * always ends its argv element, so argv[optind - 1] is the long option at
 * fault; an unknown short option may sit inside an element: optopt says.
 */
static int getopt_error(const struct tool_args *a, int c, char **argv)
{
	if (c == ':')
		return usage_error(a, "option '%s' needs a value", argv[optind - 1]);
	if (optopt >= OPT_OFFSET)
		return usage_error(a, "option '%s' takes no value", argv[optind - 1]);
	if (optopt)
		return usage_error(a, "unknown option '-%c'%s", optopt,
				   optopt >= '0' && optopt <= '9' ? " (negative numbers are not accepted)" : "");
	return usage_error(a, "unknown option '%s'", argv[optind - 1]);
}

/*
 * The word of the long option getopt_long() just matched (@li; -1 for a
 * short one) when it was written abbreviated, else NULL: getopt_long()
 * takes any unambiguous prefix, and a later option would change what an
 * old prefix means.
 */
static const char *abbreviated(char **argv, const struct option *longopts, int li)
{
	const char *arg;
	size_t len;

	if (li < 0)
		return NULL;
	/* its value, when it has one, is the last word, or part of the option's */
	arg = optarg && optarg == argv[optind - 1] && optind >= 2 ? argv[optind - 2] : argv[optind - 1];
	if (strncmp(arg, "--", 2))
		return NULL;
	len = strcspn(arg + 2, "=");
	if (len == strlen(longopts[li].name) && !strncmp(arg + 2, longopts[li].name, len))
		return NULL;
	return arg;
}

/* One command's options and arguments: argv[0] is the command's name. */
static int parse_command(const struct cmd_spec *spec, int argc, char **argv, struct tool_args *a)
{
	char opts[] = ":h";
	const char *abbrev;
	int c, n, li = -1;

	a->cmd = spec->cmd;
	a->cmd_name = spec->name;
	optind = 0;	/* 0: glibc starts over (this may run more than once) */
	opterr = 0;
	while ((c = getopt_long(argc, argv, opts, spec->longopts, &li)) != -1) {
		abbrev = c != '?' && c != ':' ? abbreviated(argv, spec->longopts, li) : NULL;
		if (abbrev)
			return usage_error(a, "unknown option '%s' (options are not abbreviated)", abbrev);
		li = -1;
		if (c == 'h' || c == OPT_HELP) {
			print_usage(stdout, spec);
			return TOOL_DONE;
		}
		if (c == '?' || c == ':')
			return getopt_error(a, c, argv);
		if (spec->option(a, c, optarg))
			return EXIT_USAGE;
	}
	n = argc - optind;
	if (n < spec->min_args || n > spec->max_args) {
		if (n > spec->max_args)
			return usage_error(a, "unexpected argument '%s'", argv[optind + spec->max_args]);
		return usage_error(a, "missing arguments; usage: %.*s", (int)strcspn(spec->usage + 7, "\n"),
				   spec->usage + 7);
	}
	return spec->args(a, argv + optind, n);
}

static int parse_backend(struct tool_args *a, const char *name)
{
	enum hugepfn_backend b;

	for (b = HUGEPFN_BACKEND_AUTO; b <= HUGEPFN_BACKEND_VFIO_CDEV; b++) {
		if (!strcmp(name, hugepfn_backend_name(b))) {
			a->backend = b;
			return 0;
		}
	}
	return usage_error(a, "--backend '%s' is none of auto, hugepfn, uio, sysfs, vfio, vfio-cdev", name);
}

static int parse_root(struct tool_args *a, const char *opt, const char *dir, const char **out)
{
	if (!*dir || strlen(dir) > 255)
		return usage_error(a, "%s '%s' must be a directory name of 1 to 255 bytes", opt, dir);
	*out = dir;
	return 0;
}

/*
 * A global option at argv[*i]: 1 when it was one (*i moved past its value),
 * 0 when not, EXIT_USAGE when it is malformed.
 */
static int global_option(struct tool_args *a, int argc, char **argv, int *i)
{
	static const char *const valued[] = { "--backend", "--sysfs-root", "--dev-root", "--root" };
	const char *arg = argv[*i], *val = NULL;
	size_t k, len;

	if (!strcmp(arg, "--json") || !strcmp(arg, "--version")) {
		if (arg[2] == 'j')
			a->json = 1;
		else
			a->cmd = CMD_VERSION;
		return 1;
	}
	for (k = 0; k < sizeof(valued) / sizeof(valued[0]); k++) {
		len = strlen(valued[k]);
		if (strncmp(arg, valued[k], len) || (arg[len] && arg[len] != '='))
			continue;
		if (arg[len] == '=')
			val = arg + len + 1;
		else if (*i + 1 < argc)
			val = argv[++*i];
		else
			return usage_error(a, "option '%s' needs a value", arg);
		if (k == 0)
			return parse_backend(a, val) ? EXIT_USAGE : 1;
		return parse_root(a, valued[k], val, k == 1 ? &a->sysfs_root : k == 2 ? &a->dev_root : &a->root) ?
		       EXIT_USAGE : 1;
	}
	return 0;
}

/*
 * Take the global options out of argv wherever they are (up to a "--"),
 * keeping the order of the rest; returns the new argc or -EXIT_USAGE.
 */
static int take_globals(int argc, char **argv, struct tool_args *a)
{
	int i, out = 1, ret, rest = 0;

	for (i = 1; i < argc; i++) {
		if (!rest && !strcmp(argv[i], "--"))
			rest = 1;
		ret = rest ? 0 : global_option(a, argc, argv, &i);
		if (ret == EXIT_USAGE)
			return -EXIT_USAGE;
		if (!ret)
			argv[out++] = argv[i];
	}
	return out;
}

int tool_parse_args(int argc, char **argv, struct tool_args *a)
{
	const struct cmd_spec *spec;
	int version;

	memset(a, 0, sizeof(*a));
	a->driver = "hugepfn";
	a->width = 32;
	a->reps = 5;
	argc = take_globals(argc, argv, a);
	if (argc < 0)
		return EXIT_USAGE;
	version = a->cmd == CMD_VERSION;
	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		print_usage(stdout, NULL);
		return TOOL_DONE;
	}
	if (argc > 1 && argv[1][0] == '-' && !version) {
		usage_error(a, "unknown option '%s'", argv[1]);
		return EXIT_USAGE;
	}
	spec = argc > 1 && !version ? find_command(argv[1]) : NULL;
	if (version) {
		a->cmd = CMD_VERSION;
		a->cmd_name = "version";
		return 0;
	}
	if (!spec) {
		if (argc > 1)
			return usage_error(a, "unknown command '%s'", argv[1]);
		print_usage(stderr, NULL);
		return EXIT_USAGE;
	}
	return parse_command(spec, argc - 1, argv + 1, a);
}
