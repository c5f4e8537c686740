/* SPDX-License-Identifier: GPL-2.0 */
/* What the parts of the dpdk-fwd example share. */
#ifndef DPDK_FWD_H
#define DPDK_FWD_H

#include <stdint.h>

#include <rte_mbuf.h>

#include "hugepfn.h"

#define FWD_EXIT_RUNTIME	1
#define FWD_EXIT_USAGE		2

#define FWD_MAX_BURST		512
/*
 * Packets kept in flight. A net_ring port's ring holds 1023 packets, so
 * this many always fit and a healthy run drops nothing.
 */
#define FWD_INJECT		512
/* One packet buffer in device memory: DPDK's default data room. */
#define FWD_ELT_SIZE		RTE_MBUF_DEFAULT_BUF_SIZE

/* The command line, checked. */
struct fwd_opts {
	const char *spec;	/* --device, NULL with --host */
	unsigned int region;
	uint64_t offset;
	uint64_t length;	/* 0: to the end of the region */
	int host;
	int map_4k;
	int json;
	uint64_t packets;
	unsigned int burst;
	unsigned int mbufs;	/* 0: as many as fit, up to FWD_DEFAULT_MBUFS */
};

#define FWD_DEFAULT_MBUFS	8191	/* 2^n - 1 suits the mempool's ring */

/* The memory the packet data lives in, and how DPDK knows it. */
struct devmem {
	struct hugepfn_ctx *ctx;
	struct hugepfn_dev *dev;
	struct hugepfn_map *map;
	void *anon;		/* --host: what to munmap */
	uint64_t anon_len;
	uint8_t *addr;
	uint64_t len;
	uint64_t page_size;	/* what extmem was registered with */
	const char *page_note;	/* why page_size is a fallback, else NULL */
	uint64_t phys;		/* of addr; valid when phys_known */
	int phys_known;
	const char *backend;
	int registered;		/* rte_extmem_register() succeeded */
	struct rte_mempool *pool;
	unsigned int mbufs;
};

struct port_stats {
	uint64_t rx, tx, drops;
};

struct fwd_result {
	uint16_t port[2];
	struct port_stats stats[2];
	uint64_t injected;
	uint64_t forwarded;
	uint64_t elapsed_ns;
	const char *stopped_by;	/* why the loop ended */
	/* verification */
	uint64_t seen;		/* packets drained at the end */
	uint64_t outside;	/* data not inside the device area, loop and drain */
	uint64_t corrupt;	/* drained with a bad payload */
	uint64_t duplicate;
	uint64_t lost;		/* neither drained nor counted as a drop */
	int verified;
	/* one drained frame: its sequence number and offset in the mapped area */
	uint64_t sample_seq, sample_offset;
};

/* devmem.c */
int devmem_map(const struct fwd_opts *o, struct devmem *m);
int devmem_register(struct devmem *m);
int devmem_pool(const struct fwd_opts *o, struct devmem *m);
void devmem_release(struct devmem *m);

/* fwd.c */
int fwd_ports_start(struct rte_mempool *pool, struct fwd_result *r);
void fwd_ports_stop(const struct fwd_result *r);
int fwd_run(const struct fwd_opts *o, const struct devmem *m, struct fwd_result *r);

/* report.c */
void report(const struct fwd_opts *o, const struct devmem *m, const struct fwd_result *r);

/* main.c: set by SIGINT/SIGTERM, polled by the forwarding loop. */
int fwd_stop_requested(void);

#endif
