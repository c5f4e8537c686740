// SPDX-License-Identifier: GPL-2.0
/* dpdk-fwd's summary: a table for people, or one JSON object (--json, written by json-c). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

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

/* Plain (no blanks) and "/" unescaped, as the hugepfn tool prints: the guest tests grep exact text. */
#define JSON_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

/* A double printed as @fmt formats it, not as json-c's own "%.17g". */
static struct json_object *json_fixed(double v, const char *fmt)
{
	char buf[64];

	snprintf(buf, sizeof(buf), fmt, v);
	return json_object_new_double_s(v, buf);
}

/* Addresses as strings: JSON numbers lose precision past 2^53 in most readers. */
static struct json_object *json_ptr(const void *p)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%p", p);
	return json_object_new_string(buf);
}

static struct json_object *json_hex(uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "0x%" PRIx64, v);
	return json_object_new_string(buf);
}

/* What was mapped and how DPDK knows it; a NULL json object prints as null. */
static struct json_object *json_mapping(const struct fwd_opts *o, const struct devmem *m)
{
	struct json_object *j = json_object_new_object();

	json_object_object_add(j, "host", json_object_new_boolean(o->host));
	json_object_object_add(j, "device", o->host ? NULL : json_object_new_string(o->spec));
	if (!o->host) {
		json_object_object_add(j, "region", json_object_new_uint64(o->region));
		json_object_object_add(j, "offset", json_object_new_uint64(o->offset));
	}
	json_object_object_add(j, "backend", json_object_new_string(m->backend));
	json_object_object_add(j, "map_4k", json_object_new_boolean(o->map_4k));
	json_object_object_add(j, "address", json_ptr(m->addr));
	json_object_object_add(j, "length", json_object_new_uint64(m->len));
	json_object_object_add(j, "page_size", json_object_new_uint64(m->page_size));
	json_object_object_add(j, "page_size_known", json_object_new_boolean(!m->page_note));
	json_object_object_add(j, "page_size_note", m->page_note ? json_object_new_string(m->page_note) : NULL);
	json_object_object_add(j, "phys", m->phys_known ? json_hex(m->phys) : NULL);
	json_object_object_add(j, "iova_mode", json_object_new_string(iova_mode()));
	return j;
}

static struct json_object *json_pool(const struct devmem *m)
{
	struct json_object *j = json_object_new_object();

	json_object_object_add(j, "mbufs", json_object_new_uint64(m->mbufs));
	json_object_object_add(j, "buffer_size", json_object_new_int(FWD_ELT_SIZE));
	json_object_object_add(j, "device_bytes_used", json_object_new_uint64((uint64_t)m->mbufs * FWD_ELT_SIZE));
	return j;
}

static struct json_object *json_ports(const struct fwd_result *r)
{
	struct json_object *arr = json_object_new_array(), *j;

	for (int i = 0; i < 2; i++) {
		j = json_object_new_object();
		json_object_object_add(j, "port", json_object_new_uint64(r->port[i]));
		json_object_object_add(j, "driver", json_object_new_string(port_driver(r->port[i])));
		json_object_object_add(j, "rx", json_object_new_uint64(r->stats[i].rx));
		json_object_object_add(j, "tx", json_object_new_uint64(r->stats[i].tx));
		json_object_object_add(j, "drops", json_object_new_uint64(r->stats[i].drops));
		json_object_array_add(arr, j);
	}
	return arr;
}

static struct json_object *json_run(const struct fwd_opts *o, const struct fwd_result *r)
{
	struct json_object *j = json_object_new_object();
	enum machine mach = machine();

	json_object_object_add(j, "injected", json_object_new_uint64(r->injected));
	json_object_object_add(j, "burst", json_object_new_uint64(o->burst));
	json_object_object_add(j, "packets", json_object_new_uint64(o->packets));
	json_object_object_add(j, "forwarded", json_object_new_uint64(r->forwarded));
	json_object_object_add(j, "elapsed_ns", json_object_new_uint64(r->elapsed_ns));
	json_object_object_add(j, "pps", json_fixed(pps(r), "%.0f"));
	json_object_object_add(j, "stopped_by", json_object_new_string(r->stopped_by));
	json_object_object_add(j, "machine", json_object_new_string(machine_name[mach]));
	json_object_object_add(j, "pps_note", json_object_new_string(pps_note(mach)));
	return j;
}

static struct json_object *json_verification(const struct fwd_result *r)
{
	struct json_object *j = json_object_new_object(), *frame = json_object_new_object();

	json_object_object_add(j, "passed", json_object_new_boolean(r->verified));
	json_object_object_add(j, "drained", json_object_new_uint64(r->seen));
	json_object_object_add(j, "outside_area", json_object_new_uint64(r->outside));
	json_object_object_add(j, "corrupt", json_object_new_uint64(r->corrupt));
	json_object_object_add(j, "duplicate", json_object_new_uint64(r->duplicate));
	json_object_object_add(j, "lost", json_object_new_uint64(r->lost));
	json_object_object_add(j, "dropped", json_object_new_uint64(dropped(r)));
	/* the frame the guest test looks for in the BAR with 'hugepfn peek' */
	json_object_object_add(frame, "seq", json_object_new_uint64(r->sample_seq));
	json_object_object_add(frame, "area_offset", json_object_new_uint64(r->sample_offset));
	json_object_object_add(j, "sample_frame", frame);
	return j;
}

/*
 * One JSON object on one line, written by json-c so that the device spec
 * and the messages come out escaped. Keys, order and nesting are what
 * tests/vm/guest/t_dpdk.sh greps as exact text ("verification":{"passed":
 * true) and what its json_num reads as the first "KEY":NUMBER.
 */
static void json_report(const struct fwd_opts *o, const struct devmem *m, const struct fwd_result *r)
{
	struct json_object *j = json_object_new_object();

	json_object_object_add(j, "mapping", json_mapping(o, m));
	json_object_object_add(j, "pool", json_pool(m));
	json_object_object_add(j, "ports", json_ports(r));
	json_object_object_add(j, "run", json_run(o, r));
	json_object_object_add(j, "verification", json_verification(r));
	puts(json_object_to_json_string_ext(j, JSON_FLAGS));
	json_object_put(j);
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
