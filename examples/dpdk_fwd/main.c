// SPDX-License-Identifier: GPL-2.0
/*
 * dpdk-fwd: a DPDK packet forwarder whose packet buffers live in device
 * memory mapped by libhugepfn. The mbuf pool's data buffers are carved out
 * of a mapped PCI BAR or carveout (registered with rte_extmem_register()),
 * numbered frames are forwarded back and forth between two ports, and at
 * the end every packet is checked: its data inside the mapped area, its
 * payload intact.
 *
 * Usage: dpdk-fwd [EAL options] -- (--device SPEC --region N | --host --length BYTES) ...
 * (--help says the rest).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_log.h>

#include "dpdk_fwd.h"

#define EAL_EXAMPLE "--no-huge --no-pci -l 0 --vdev=net_ring0 --vdev=net_ring1"

/* The one piece of global state: set from a signal handler. */
static volatile sig_atomic_t stop_requested;

int fwd_stop_requested(void)
{
	return stop_requested;
}

static void on_signal(int sig)
{
	stop_requested = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: dpdk-fwd [EAL options] -- --device SPEC --region N [--offset BYTES] [--length BYTES]\n"
		"                               [--4k] [--packets N] [--burst N] [--mbufs N] [--json]\n"
		"       dpdk-fwd [EAL options] -- --host --length BYTES [--4k] [--packets N] ...\n\n"
		"Maps device memory with libhugepfn, makes it the packet-buffer memory of a DPDK\n"
		"mbuf pool (rte_extmem_register + rte_pktmbuf_pool_create_extbuf), injects %d\n"
		"numbered frames into port 0 and forwards them between the first two ports until\n"
		"N packets have been forwarded, then checks every packet: data inside the mapped\n"
		"area, payload intact. Exit status: 0 verified, 1 failure, 2 bad usage.\n\n"
		"  --device SPEC   what hugepfn_open() takes: 0000:00:01.0, carveout:NAME, /dev/hugepfn/...\n"
		"  --region N      the region (BAR) to map\n"
		"  --offset BYTES  where in the region to start (multiple of 4K; default 0)\n"
		"  --length BYTES  how much to map (multiple of 4K; default: to the region's end)\n"
		"  --host          anonymous memory instead of a device (no physical address)\n"
		"  --4k            map with 4 KiB pages (HUGEPFN_MAP_4K; --host: no THP)\n"
		"  --packets N     packets to forward (default 1000000)\n"
		"  --burst N       packets per rx/tx burst, 1 to %d (default 32)\n"
		"  --mbufs N       mbufs in the pool (default: as many as fit, up to %d)\n"
		"  --json          print the summary as one JSON object\n"
		"Sizes take K, M and G suffixes. The EAL options must provide two ports; with\n"
		"no NIC and no hugetlbfs, two net_ring ports:\n\n"
		"  dpdk-fwd " EAL_EXAMPLE " -- --host --length 8M\n"
		"  dpdk-fwd " EAL_EXAMPLE " -- --device 0000:00:01.0 --region 2 --length 64M\n\n"
		"'dpdk-fwd --help' (without '--') also lists the EAL options.\n",
		FWD_INJECT, FWD_MAX_BURST, FWD_DEFAULT_MBUFS);
}

/* Printed after the EAL's own usage by 'dpdk-fwd --help'. */
static void usage_hook(const char *prgname)
{
	usage(stdout);
}

static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("dpdk-fwd: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (try --help)\n", stderr);
	return FWD_EXIT_USAGE;
}

/* A number with an optional K/M/G suffix; 0, or -1 when it is not one. */
static int parse_u64(const char *s, uint64_t *v)
{
	unsigned int shift = 0;
	char *end;

	if (!*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	*v = strtoull(s, &end, 0);
	if (errno || end == s)
		return -1;
	switch (*end) {
	case 'K': case 'k': shift = 10; end++; break;
	case 'M': case 'm': shift = 20; end++; break;
	case 'G': case 'g': shift = 30; end++; break;
	}
	if (*end || (shift && *v > UINT64_MAX >> shift))
		return -1;
	*v <<= shift;
	return 0;
}

/* One option's number, between min and max; 0 or an exit code. */
static int opt_number(const char *name, const char *arg, uint64_t min, uint64_t max, uint64_t *v)
{
	if (parse_u64(arg, v))
		return usage_error("%s takes a number (K/M/G suffixes), not '%s'", name, arg);
	if (*v < min || *v > max)
		return usage_error("%s %s is out of range (%" PRIu64 " to %" PRIu64 ")", name, arg, min, max);
	return 0;
}

/* What getopt did not like, in words. */
static int bad_option(char **argv, int c)
{
	const char *arg = argv[optind - 1];

	if (c == ':')
		return usage_error("%s needs an argument", arg);
	if (optopt)
		return usage_error("unknown option '-%c'", optopt);
	return usage_error("unknown option '%s'", arg);
}

/* The options' combination; 0 or an exit code. */
static int check_opts(const struct fwd_opts *o, int have_region, int have_offset)
{
	if (!o->host && !o->spec)
		return usage_error("say what to map: --device SPEC --region N, or --host --length BYTES");
	if (o->host && o->spec)
		return usage_error("--device and --host exclude each other");
	if (o->spec && !have_region)
		return usage_error("--device %s needs --region N", o->spec);
	if (o->host && (have_region || have_offset))
		return usage_error("--%s is for --device, not --host", have_region ? "region" : "offset");
	if (o->host && !o->length)
		return usage_error("--host needs --length BYTES");
	if (o->offset % 4096)
		return usage_error("--offset %" PRIu64 " is not a multiple of 4096", o->offset);
	if (o->length % 4096)
		return usage_error("--length %" PRIu64 " is not a multiple of 4096", o->length);
	return 0;
}

/* dpdk-fwd's own options (what follows "--"); 0 or an exit code, -1 for --help. */
static int parse_opts(int argc, char **argv, struct fwd_opts *o)
{
	static const struct option opts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "region", required_argument, NULL, 'r' },
		{ "offset", required_argument, NULL, 'o' },
		{ "length", required_argument, NULL, 'l' },
		{ "host", no_argument, NULL, 'H' },
		{ "4k", no_argument, NULL, '4' },
		{ "packets", required_argument, NULL, 'p' },
		{ "burst", required_argument, NULL, 'b' },
		{ "mbufs", required_argument, NULL, 'm' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	int c, ret = 0, have_region = 0, have_offset = 0;
	uint64_t v;

	optind = 1;
	opterr = 0;
	while (!ret && (c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			if (!*optarg)
				return usage_error("--device needs a SPEC (0000:00:01.0, carveout:NAME, /dev/...)");
			o->spec = optarg;
			break;
		case 'r':
			ret = opt_number("--region", optarg, 0, 255, &v);
			o->region = (unsigned int)v;
			have_region = 1;
			break;
		case 'o':
			ret = opt_number("--offset", optarg, 0, UINT64_MAX, &o->offset);
			have_offset = 1;
			break;
		case 'l':
			ret = opt_number("--length", optarg, 4096, UINT64_MAX, &o->length);
			break;
		case 'H': o->host = 1; break;
		case '4': o->map_4k = 1; break;
		case 'p':
			ret = opt_number("--packets", optarg, 1, UINT64_MAX, &o->packets);
			break;
		case 'b':
			ret = opt_number("--burst", optarg, 1, FWD_MAX_BURST, &v);
			o->burst = (unsigned int)v;
			break;
		case 'm':
			ret = opt_number("--mbufs", optarg, 1, UINT32_MAX >> 1, &v);
			o->mbufs = (unsigned int)v;
			break;
		case 'j': o->json = 1; break;
		case 'h': return -1;
		default: return bad_option(argv, c);
		}
	}
	if (ret)
		return ret;
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	return check_opts(o, have_region, have_offset);
}

static int find_separator(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--"))
			return i;
	return -1;
}

static int wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return 1;
	return 0;
}

/* The EAL, on the options before "--"; 0 or an exit code. */
static int eal_init(int argc, char **argv)
{
	/* the EAL logs to stdout by default; keep stdout for the summary (--json) */
	rte_openlog_stream(stderr);
	rte_set_application_usage_hook(usage_hook);
	if (rte_eal_init(argc, argv) >= 0)
		return 0;
	/* the EAL said why just above */
	fprintf(stderr, "dpdk-fwd: EAL initialisation failed: %s\n", rte_strerror(rte_errno));
	return rte_errno == EINVAL ? FWD_EXIT_USAGE : FWD_EXIT_RUNTIME;
}

static void catch_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/* Map, register, pool, ports, forward, report, and undo it all. */
static int run(const struct fwd_opts *o)
{
	struct devmem m = { 0 };
	struct fwd_result r = { 0 };
	int ret;

	ret = devmem_map(o, &m);
	if (!ret)
		ret = devmem_register(&m);
	if (!ret)
		ret = devmem_pool(o, &m);
	if (!ret)
		ret = fwd_ports_start(m.pool, &r);
	if (!ret) {
		ret = fwd_run(o, &m, &r);
		if (r.injected)
			report(o, &m, &r);
		fwd_ports_stop(&r);
	}
	devmem_release(&m);
	return ret;
}

int main(int argc, char **argv)
{
	struct fwd_opts o = { .packets = 1000000, .burst = 32 };
	int sep = find_separator(argc, argv), ret;

	if (sep < 0) {
		/* the EAL prints its usage, then ours through the hook, and exits */
		if (wants_help(argc, argv))
			return eal_init(argc, argv);
		return usage_error("no '--': EAL options come first, then '--', then dpdk-fwd's options");
	}
	/* argv[sep], the "--", stands in for the program name */
	ret = parse_opts(argc - sep, argv + sep, &o);
	if (ret < 0) {
		usage(stdout);
		return 0;
	}
	if (ret)
		return ret;
	ret = eal_init(sep, argv);
	if (ret)
		return ret;
	catch_signals();
	ret = run(&o);
	rte_eal_cleanup();
	return ret;
}
