// SPDX-License-Identifier: GPL-2.0
/* dpdk-fwd's summary: a table for people, or one JSON object (--json). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_ethdev.h>

#include "dpdk_fwd.h"

enum machine { BARE_METAL, HYPERVISOR, EMULATED };

/*
 * Where the run happened, told the way the hugepfn tool tells it: the
 * CPU's 'hypervisor' flag, and qemu TCG's CPU model names for emulation.
 */
static enum machine machine(void)
{
	FILE *f = fopen("/proc/cpuinfo", "re");
	enum machine m = BARE_METAL;
	char line[4096];

	while (f && fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "model name", 10) && (strstr(line, "TCG") || strstr(line, "QEMU Virtual")))
			m = EMULATED;
		if (m == BARE_METAL && !strncmp(line, "flags", 5) && strstr(line, " hypervisor"))
			m = HYPERVISOR;
	}
	if (f)
		fclose(f);
	return m;
}

static const char *const machine_name[] = {
	[BARE_METAL] = "bare metal", [HYPERVISOR] = "under a hypervisor", [EMULATED] = "emulated (qemu TCG)",
};

static const char *pps_note(enum machine m)
{
	if (m == EMULATED)
		return "measured in an emulator: packets per second here mean nothing about hardware";
	if (m == HYPERVISOR)
		return "measured under a hypervisor: packets per second here say nothing reliable about hardware";
	return "a software ring-to-ring rate with no NIC involved, not a NIC's rate";
}

static double pps(const struct fwd_result *r)
{
	return r->elapsed_ns ? r->forwarded * 1e9 / r->elapsed_ns : 0;
}

static const char *port_driver(uint16_t port)
{
	struct rte_eth_dev_info info;

	if (rte_eth_dev_info_get(port, &info) || !info.driver_name)
		return "?";
	return info.driver_name;
}

static const char *iova_mode(void)
{
	return rte_eal_iova_mode() == RTE_IOVA_PA ? "PA" : rte_eal_iova_mode() == RTE_IOVA_VA ? "VA" : "DC";
}

static uint64_t dropped(const struct fwd_result *r)
{
	return r->stats[0].drops + r->stats[1].drops;
}

/* A JSON string: quotes, backslashes and control characters escaped. */
static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", (unsigned int)*s);
		else
			putchar(*s);
	}
	putchar('"');
}

static void json_mapping(const struct fwd_opts *o, const struct devmem *m)
{
	printf("\"mapping\":{\"host\":%s,\"device\":", o->host ? "true" : "false");
	if (o->host) {
		printf("null");
	} else {
		json_str(o->spec);
		printf(",\"region\":%u,\"offset\":%" PRIu64, o->region, o->offset);
	}
	printf(",\"backend\":");
	json_str(m->backend);
	printf(",\"map_4k\":%s,\"address\":\"%p\",\"length\":%" PRIu64 ",\"page_size\":%" PRIu64
	       ",\"page_size_known\":%s,\"page_size_note\":",
	       o->map_4k ? "true" : "false", (void *)m->addr, m->len, m->page_size,
	       m->page_note ? "false" : "true");
	if (m->page_note)
		json_str(m->page_note);
	else
		printf("null");
	if (m->phys_known)
		printf(",\"phys\":\"0x%" PRIx64 "\"", m->phys);
	else
		printf(",\"phys\":null");
	printf(",\"iova_mode\":\"%s\"},", iova_mode());
}

static void json_report(const struct fwd_opts *o, const struct devmem *m, const struct fwd_result *r)
{
	enum machine mach = machine();

	printf("{");
	json_mapping(o, m);
	printf("\"pool\":{\"mbufs\":%u,\"buffer_size\":%d,\"device_bytes_used\":%" PRIu64 "},",
	       m->mbufs, FWD_ELT_SIZE, (uint64_t)m->mbufs * FWD_ELT_SIZE);
	printf("\"ports\":[");
	for (int i = 0; i < 2; i++) {
		printf("%s{\"port\":%u,\"driver\":", i ? "," : "", r->port[i]);
		json_str(port_driver(r->port[i]));
		printf(",\"rx\":%" PRIu64 ",\"tx\":%" PRIu64 ",\"drops\":%" PRIu64 "}",
		       r->stats[i].rx, r->stats[i].tx, r->stats[i].drops);
	}
	printf("],\"run\":{\"injected\":%" PRIu64 ",\"burst\":%u,\"packets\":%" PRIu64 ",\"forwarded\":%" PRIu64
	       ",\"elapsed_ns\":%" PRIu64 ",\"pps\":%.0f,\"stopped_by\":",
	       r->injected, o->burst, o->packets, r->forwarded, r->elapsed_ns, pps(r));
	json_str(r->stopped_by);
	printf(",\"machine\":");
	json_str(machine_name[mach]);
	printf(",\"pps_note\":");
	json_str(pps_note(mach));
	printf("},\"verification\":{\"passed\":%s,\"drained\":%" PRIu64 ",\"outside_area\":%" PRIu64
	       ",\"corrupt\":%" PRIu64 ",\"duplicate\":%" PRIu64 ",\"lost\":%" PRIu64 ",\"dropped\":%" PRIu64
	       ",\"sample_frame\":{\"seq\":%" PRIu64 ",\"area_offset\":%" PRIu64 "}}}\n",
	       r->verified ? "true" : "false", r->seen, r->outside, r->corrupt, r->duplicate, r->lost,
	       dropped(r), r->sample_seq, r->sample_offset);
}

static void text_mapping(const struct fwd_opts *o, const struct devmem *m)
{
	if (o->host)
		printf("mapping       anonymous memory (--host)%s\n", o->map_4k ? ", THP declined (--4k)" : "");
	else
		printf("mapping       %s region %u +%#" PRIx64 " through %s%s\n", o->spec, o->region, o->offset,
		       m->backend, o->map_4k ? ", HUGEPFN_MAP_4K" : "");
	printf("  address     %p\n", (void *)m->addr);
	printf("  length      %" PRIu64 " bytes (%" PRIu64 " KiB)\n", m->len, m->len >> 10);
	if (m->page_note)
		printf("  page size   unknown (%s); registered as %" PRIu64 "-byte pages\n", m->page_note,
		       m->page_size);
	else
		printf("  page size   %" PRIu64 " KiB (smallest page the kernel used)\n", m->page_size >> 10);
	if (m->phys_known)
		printf("  physical    %#" PRIx64 " (each page's IOVA; EAL IOVA mode %s)\n", m->phys, iova_mode());
	else
		printf("  physical    unknown (pages registered with RTE_BAD_IOVA; EAL IOVA mode %s)\n",
		       iova_mode());
}

static void text_report(const struct fwd_opts *o, const struct devmem *m, const struct fwd_result *r)
{
	enum machine mach = machine();

	text_mapping(o, m);
	printf("pool          %u mbufs; data buffers of %d bytes in the mapped area: %" PRIu64
	       " bytes used; headers in DPDK memory\n", m->mbufs, FWD_ELT_SIZE, (uint64_t)m->mbufs * FWD_ELT_SIZE);
	printf("ports         %-12s %14s %14s %10s\n", "driver", "rx", "tx", "drops");
	for (int i = 0; i < 2; i++)
		printf("  port %-6u %-12s %14" PRIu64 " %14" PRIu64 " %10" PRIu64 "\n", r->port[i],
		       port_driver(r->port[i]), r->stats[i].rx, r->stats[i].tx, r->stats[i].drops);
	printf("run           %" PRIu64 " frames injected into port %u, burst %u; stopped: %s\n", r->injected,
	       r->port[0], o->burst, r->stopped_by);
	printf("  forwarded   %" PRIu64 " packets in %.3f ms\n", r->forwarded, r->elapsed_ns / 1e6);
	printf("  rate        %.0f packets/s (machine: %s)\n", pps(r), machine_name[mach]);
	printf("  NOTE        %s\n", pps_note(mach));
	printf("verification  %s: %" PRIu64 " packets drained of %" PRIu64 " injected (%" PRIu64
	       " dropped); %" PRIu64 " with data outside the mapped area, %" PRIu64 " corrupt, %" PRIu64
	       " duplicate, %" PRIu64 " lost\n",
	       r->verified ? "PASSED" : "FAILED", r->seen, r->injected, dropped(r), r->outside, r->corrupt,
	       r->duplicate, r->lost);
}

void report(const struct fwd_opts *o, const struct devmem *m, const struct fwd_result *r)
{
	if (o->json)
		json_report(o, m, r);
	else
		text_report(o, m, r);
	fflush(stdout);
}
