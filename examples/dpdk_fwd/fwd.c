// SPDX-License-Identifier: GPL-2.0
/*
 * dpdk-fwd's packets: two ports with one RX and one TX queue each, a fixed
 * set of numbered frames injected into port 0, forwarded from whichever
 * port received them to the other, and at the end drained and checked.
 *
 * With net_ring vdevs ("--vdev=net_ring0 --vdev=net_ring1") each port's TX
 * queue is its own RX queue (a packet sent on port 0 is received on port
 * 0), so the same packets keep going round: port 0 RX -> port 1 TX -> port
 * 1 RX -> port 0 TX -> ... and any corruption or stray buffer along the way
 * is still there to be found when they are drained.
 */
#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include <rte_byteorder.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#include "dpdk_fwd.h"

#define RING_DESC	1024
/* Polls in a row that find nothing before giving up (a port that does not loop back). */
#define IDLE_POLLS	(1u << 20)

#define FWD_MAGIC	0x4850464eu	/* "HPFN" */
#define FWD_ETHER_TYPE	0x88b5		/* IEEE 802 local experimental */
#define FWD_PATTERN	34		/* fills the frame to the 60-byte minimum */

/* The frame: Ethernet header, then this. */
struct fwd_payload {
	rte_be32_t magic;
	rte_be32_t seq;
	uint8_t pattern[FWD_PATTERN];
	rte_be32_t sum;		/* FNV-1a of everything above */
} __rte_packed;

#define FWD_FRAME_LEN	(sizeof(struct rte_ether_hdr) + sizeof(struct fwd_payload))

/* inject() sends all of them in one burst */
_Static_assert(FWD_INJECT <= FWD_MAX_BURST, "FWD_INJECT must fit one burst");

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static uint32_t fnv1a(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint32_t h = 2166136261u;

	while (len--)
		h = (h ^ *b++) * 16777619u;
	return h;
}

static int port_setup(uint16_t port, struct rte_mempool *pool)
{
	static const struct rte_eth_conf conf;
	int socket = rte_eth_dev_socket_id(port), ret;
	uint16_t rxd = RING_DESC, txd = RING_DESC;

	ret = rte_eth_dev_configure(port, 1, 1, &conf);
	if (!ret)
		ret = rte_eth_dev_adjust_nb_rx_tx_desc(port, &rxd, &txd);
	if (!ret)
		ret = rte_eth_rx_queue_setup(port, 0, rxd, socket, NULL, pool);
	if (!ret)
		ret = rte_eth_tx_queue_setup(port, 0, txd, socket, NULL);
	if (!ret)
		ret = rte_eth_dev_start(port);
	if (ret)
		fprintf(stderr, "dpdk-fwd: setting up port %u: %s\n", port, rte_strerror(-ret));
	return ret;
}

/* The first two ports, started; 0 or an exit code. */
int fwd_ports_start(struct rte_mempool *pool, struct fwd_result *r)
{
	unsigned int n = 0;
	uint16_t port;

	RTE_ETH_FOREACH_DEV(port) {
		if (n == 2)
			break;
		r->port[n++] = port;
	}
	if (n < 2) {
		fprintf(stderr, "dpdk-fwd: %u Ethernet port(s), 2 needed; give the EAL options "
			"--vdev=net_ring0 --vdev=net_ring1 (try --help)\n", n);
		return FWD_EXIT_USAGE;
	}
	if (port_setup(r->port[0], pool))
		return FWD_EXIT_RUNTIME;
	if (port_setup(r->port[1], pool)) {
		rte_eth_dev_stop(r->port[0]);
		return FWD_EXIT_RUNTIME;
	}
	return 0;
}

void fwd_ports_stop(const struct fwd_result *r)
{
	for (int i = 0; i < 2; i++) {
		rte_eth_dev_stop(r->port[i]);
		rte_eth_dev_close(r->port[i]);
	}
}

static void fill_frame(struct rte_mbuf *m, uint32_t seq)
{
	static const struct rte_ether_addr dst = { { 0x02, 0, 0, 0, 0, 0x01 } };
	static const struct rte_ether_addr src = { { 0x02, 0, 0, 0, 0, 0x00 } };
	struct rte_ether_hdr *eh = (struct rte_ether_hdr *)rte_pktmbuf_append(m, FWD_FRAME_LEN);
	struct fwd_payload *pl = (struct fwd_payload *)(eh + 1);

	eh->dst_addr = dst;
	eh->src_addr = src;
	eh->ether_type = rte_cpu_to_be_16(FWD_ETHER_TYPE);
	pl->magic = rte_cpu_to_be_32(FWD_MAGIC);
	pl->seq = rte_cpu_to_be_32(seq);
	for (int i = 0; i < FWD_PATTERN; i++)
		pl->pattern[i] = (uint8_t)(seq * 31 + i * 7);
	pl->sum = rte_cpu_to_be_32(fnv1a(pl, offsetof(struct fwd_payload, sum)));
}

/* The frame's sequence number, or -1 when it is not one we built intact. */
static int64_t check_frame(const struct rte_mbuf *m)
{
	const struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	const struct fwd_payload *pl = (const struct fwd_payload *)(eh + 1);
	uint32_t seq;

	if (m->nb_segs != 1 || m->data_len != FWD_FRAME_LEN ||
	    eh->ether_type != rte_cpu_to_be_16(FWD_ETHER_TYPE) ||
	    pl->magic != rte_cpu_to_be_32(FWD_MAGIC) ||
	    rte_be_to_cpu_32(pl->sum) != fnv1a(pl, offsetof(struct fwd_payload, sum)))
		return -1;
	seq = rte_be_to_cpu_32(pl->seq);
	for (int i = 0; i < FWD_PATTERN; i++)
		if (pl->pattern[i] != (uint8_t)(seq * 31 + i * 7))
			return -1;
	return seq;
}

/* Whether the packet's data lies wholly inside the mapped device area. */
static int in_area(const struct devmem *dm, const struct rte_mbuf *m)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);

	return p >= dm->addr && p + m->data_len <= dm->addr + dm->len;
}

/* Send pkts[0..n) on a port's TX queue; free and count what it refuses. */
static uint16_t tx_or_drop(uint16_t port, struct rte_mbuf **pkts, uint16_t n, struct port_stats *st)
{
	uint16_t sent = rte_eth_tx_burst(port, 0, pkts, n);

	st->tx += sent;
	if (sent < n) {
		rte_pktmbuf_free_bulk(pkts + sent, n - sent);
		st->drops += n - sent;
	}
	return sent;
}

/* Build FWD_INJECT (or as many as the pool has) frames and send them on port 0. */
static int inject(const struct devmem *dm, struct fwd_result *r)
{
	struct rte_mbuf *pkts[FWD_MAX_BURST];
	unsigned int n = RTE_MIN((unsigned int)FWD_INJECT, dm->mbufs), i;

	if (rte_pktmbuf_alloc_bulk(dm->pool, pkts, n)) {
		fprintf(stderr, "dpdk-fwd: could not allocate %u mbufs from the pool\n", n);
		return FWD_EXIT_RUNTIME;
	}
	for (i = 0; i < n; i++)
		fill_frame(pkts[i], i);
	r->injected = n;
	tx_or_drop(r->port[0], pkts, n, &r->stats[0]);
	return 0;
}

/*
 * The loop: poll each port in turn and send what it received on the other,
 * until --packets have been forwarded, nothing is left in flight (all
 * dropped), no port has received anything for IDLE_POLLS polls, or a
 * signal came.
 */
static void forward(const struct fwd_opts *o, const struct devmem *dm, struct fwd_result *r)
{
	uint64_t in_flight = r->injected - r->stats[0].drops, idle = 0;
	struct rte_mbuf *pkts[FWD_MAX_BURST];
	uint16_t n, i, sent;
	int p;

	while (r->forwarded < o->packets) {
		if (!in_flight) {
			r->stopped_by = "every packet was dropped";
			return;
		}
		if (idle >= IDLE_POLLS) {
			r->stopped_by = "the ports stopped returning packets";
			return;
		}
		if (fwd_stop_requested()) {
			r->stopped_by = "a signal";
			return;
		}
		idle++;
		for (p = 0; p < 2 && r->forwarded < o->packets; p++) {
			n = rte_eth_rx_burst(r->port[p], 0, pkts,
					     (uint16_t)RTE_MIN((uint64_t)o->burst, o->packets - r->forwarded));
			if (!n)
				continue;
			idle = 0;
			r->stats[p].rx += n;
			/* a pointer compare per packet: cheap enough to do on every one seen */
			for (i = 0; i < n; i++)
				r->outside += !in_area(dm, pkts[i]);
			sent = tx_or_drop(r->port[!p], pkts, n, &r->stats[!p]);
			r->forwarded += sent;
			in_flight -= n - sent;
		}
	}
	r->stopped_by = "--packets reached";
}

/* Receive everything still queued on both ports and check each packet. */
static void drain_and_verify(const struct devmem *dm, struct fwd_result *r)
{
	struct rte_mbuf *pkts[FWD_MAX_BURST];
	uint8_t seen[FWD_INJECT] = { 0 };
	uint64_t dropped = r->stats[0].drops + r->stats[1].drops;
	uint16_t n, i;
	int64_t seq;
	int p, got;

	do {
		got = 0;
		for (p = 0; p < 2; p++) {
			n = rte_eth_rx_burst(r->port[p], 0, pkts, FWD_MAX_BURST);
			got += n;
			for (i = 0; i < n; i++) {
				r->seen++;
				r->outside += !in_area(dm, pkts[i]);
				seq = check_frame(pkts[i]);
				if (seq < 0 || (uint64_t)seq >= r->injected)
					r->corrupt++;
				else if (seen[seq])
					r->duplicate++;
				else
					seen[seq] = 1;
				/* where one frame sits, for a check from outside this process */
				if (seq >= 0 && in_area(dm, pkts[i])) {
					r->sample_seq = (uint64_t)seq;
					r->sample_offset = (uint64_t)(rte_pktmbuf_mtod(pkts[i], const uint8_t *) -
								      dm->addr);
				}
			}
			rte_pktmbuf_free_bulk(pkts, n);
		}
	} while (got);
	if (r->seen + dropped < r->injected)
		r->lost = r->injected - r->seen - dropped;
	r->verified = r->seen && !r->outside && !r->corrupt && !r->duplicate && !r->lost &&
		      r->seen + dropped == r->injected;
}

/* Inject, forward, verify; 0 or an exit code. */
int fwd_run(const struct fwd_opts *o, const struct devmem *dm, struct fwd_result *r)
{
	uint64_t t0;
	int ret;

	ret = inject(dm, r);
	if (ret)
		return ret;
	t0 = now_ns();
	forward(o, dm, r);
	r->elapsed_ns = now_ns() - t0;
	drain_and_verify(dm, r);
	if (!r->forwarded) {
		fprintf(stderr, "dpdk-fwd: nothing was forwarded (%s)\n", r->stopped_by);
		return FWD_EXIT_RUNTIME;
	}
	return r->verified ? 0 : FWD_EXIT_RUNTIME;
}
