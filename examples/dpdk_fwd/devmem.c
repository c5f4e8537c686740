// SPDX-License-Identifier: GPL-2.0
/*
 * dpdk-fwd's memory: map the device region with libhugepfn (or anonymous
 * memory with --host), tell DPDK about it with rte_extmem_register(), and
 * build an mbuf pool whose packet data lies in it while the mbuf headers
 * stay in DPDK's own memory.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_memory.h>

#include "dpdk_fwd.h"

#define SZ_4K	4096ULL
#define SZ_2M	(2ULL << 20)

static int hpfn_fail(struct devmem *m, int err, const char *what)
{
	char detail[1024] = "";

	/* a failed open leaves no handle: its detail is the context's */
	if (m->dev)
		hugepfn_dev_error(m->dev, detail, sizeof(detail));
	else if (m->ctx)
		hugepfn_ctx_error(m->ctx, detail, sizeof(detail));
	fprintf(stderr, "dpdk-fwd: %s: %s%s%s\n", what, hugepfn_strerror(err), detail[0] ? ": " : "",
		detail);
	return FWD_EXIT_RUNTIME;
}

/*
 * --host: anonymous memory, 2 MiB aligned so that transparent huge pages
 * can back it (declined with --4k). Nothing says which pages the kernel
 * used, nor where they are physically.
 */
static int map_host(const struct fwd_opts *o, struct devmem *m)
{
	uintptr_t start;

	m->anon_len = o->length + SZ_2M;
	m->anon = mmap(NULL, m->anon_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m->anon == MAP_FAILED) {
		m->anon = NULL;
		fprintf(stderr, "dpdk-fwd: mmap of %" PRIu64 " bytes of anonymous memory: %s\n",
			m->anon_len, strerror(errno));
		return FWD_EXIT_RUNTIME;
	}
	start = ((uintptr_t)m->anon + SZ_2M - 1) & ~(uintptr_t)(SZ_2M - 1);
	m->addr = (uint8_t *)start;
	m->len = o->length;
	madvise(m->addr, m->len, o->map_4k ? MADV_NOHUGEPAGE : MADV_HUGEPAGE);
	m->backend = "anonymous memory";
	m->page_size = SZ_4K;
	m->page_note = "anonymous memory: the kernel does not say";
	return 0;
}

/*
 * The page size extmem is registered with: the smallest page size the
 * kernel used anywhere in the mapping, since a registered page must not
 * straddle two IOVA ranges. 4 KiB when any run is unknown.
 */
static void pick_page_size(struct devmem *m)
{
	struct hugepfn_run few[64], *runs = few;
	uint64_t min = UINT64_MAX;
	int n, i;

	m->page_size = SZ_4K;
	n = hugepfn_map_runs(m->map, runs, 64);
	if (n > 64) {
		runs = calloc(n, sizeof(*runs));
		n = runs ? hugepfn_map_runs(m->map, runs, n) : -ENOMEM;
	}
	if (n <= 0) {
		m->page_note = "hugepfn_map_runs() failed";
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (runs[i].page_size == UINT64_MAX) {
			m->page_note = "the backend cannot tell";
			goto out;
		}
		if (runs[i].page_size && runs[i].page_size < min)
			min = runs[i].page_size;
	}
	/* never happens with the runs the library reports; checked as DPDK requires it */
	if (min == UINT64_MAX || (uintptr_t)m->addr % min || m->len % min) {
		m->page_note = "the mapped runs do not tile the mapping";
		goto out;
	}
	m->page_size = min;
out:
	if (runs != few)
		free(runs);
}

static int map_device(const struct fwd_opts *o, struct devmem *m)
{
	struct hugepfn_region r;
	uint64_t len = o->length;
	int ret;

	ret = hugepfn_ctx_new(NULL, &m->ctx);
	if (ret)
		return hpfn_fail(m, ret, "libhugepfn context");
	ret = hugepfn_open(m->ctx, o->spec, HUGEPFN_BACKEND_AUTO, &m->dev);
	if (ret)
		return hpfn_fail(m, ret, o->spec);
	ret = hugepfn_region_info(m->dev, o->region, &r);
	if (ret) {
		fprintf(stderr, "dpdk-fwd: %s has no region %u (%s)\n", o->spec, o->region,
			hugepfn_strerror(ret));
		return FWD_EXIT_USAGE;
	}
	if (!r.size) {
		fprintf(stderr, "dpdk-fwd: region %u of %s is unused (size 0)\n", o->region, o->spec);
		return FWD_EXIT_USAGE;
	}
	if (o->offset >= r.size || len > r.size - o->offset) {
		fprintf(stderr, "dpdk-fwd: --offset %" PRIu64, o->offset);
		if (len)
			fprintf(stderr, " + --length %" PRIu64, len);
		fprintf(stderr, " runs past the end of region %u of %s (%" PRIu64 " bytes)\n",
			o->region, o->spec, r.size);
		return FWD_EXIT_USAGE;
	}
	if (!len)
		len = r.size - o->offset;
	ret = hugepfn_map(m->dev, o->region, o->offset, len, o->map_4k ? HUGEPFN_MAP_4K : 0, &m->map);
	if (ret)
		return hpfn_fail(m, ret, "map");
	m->addr = hugepfn_map_addr(m->map);
	m->len = hugepfn_map_length(m->map);
	m->backend = hugepfn_backend_name(hugepfn_dev_backend(m->dev));
	m->phys_known = r.phys != 0;
	m->phys = r.phys + o->offset;
	pick_page_size(m);
	return 0;
}

/* Map the memory the packet buffers will use; 0 or an exit code. */
int devmem_map(const struct fwd_opts *o, struct devmem *m)
{
	return o->host ? map_host(o, m) : map_device(o, m);
}

/*
 * Register the area as external memory, page by page with its IOVA: the
 * physical address where the region has one, else RTE_BAD_IOVA (anonymous
 * memory, or a backend that cannot tell). No DMA mapping is set up
 * (rte_dev_dma_map()): the net_ring ports never DMA.
 */
int devmem_register(struct devmem *m)
{
	uint64_t n = m->len / m->page_size, i;
	rte_iova_t *iova;
	int ret;

	iova = calloc(n, sizeof(*iova));
	if (!iova) {
		fprintf(stderr, "dpdk-fwd: no memory for %" PRIu64 " IOVA entries\n", n);
		return FWD_EXIT_RUNTIME;
	}
	for (i = 0; i < n; i++)
		iova[i] = m->phys_known ? m->phys + i * m->page_size : RTE_BAD_IOVA;
	ret = rte_extmem_register(m->addr, m->len, iova, n, m->page_size);
	free(iova);
	if (ret) {
		fprintf(stderr, "dpdk-fwd: rte_extmem_register(%p, %" PRIu64 ", %" PRIu64 " pages of %" PRIu64
			"): %s\n", (void *)m->addr, m->len, n, m->page_size, rte_strerror(rte_errno));
		return FWD_EXIT_RUNTIME;
	}
	m->registered = 1;
	return 0;
}

/*
 * The mbuf pool: headers from DPDK's memory, one FWD_ELT_SIZE data buffer
 * per mbuf carved out of the device area in order.
 */
int devmem_pool(const struct fwd_opts *o, struct devmem *m)
{
	uint64_t fit = m->len / FWD_ELT_SIZE;
	struct rte_pktmbuf_extmem ext = {
		.buf_ptr = m->addr,
		.buf_iova = m->phys_known ? m->phys : RTE_BAD_IOVA,
		.buf_len = m->len,
		.elt_size = FWD_ELT_SIZE,
	};

	m->mbufs = o->mbufs ? o->mbufs : (unsigned int)RTE_MIN(fit, (uint64_t)FWD_DEFAULT_MBUFS);
	/* DPDK only asserts this in debug builds; past it, buffers would overrun the area */
	if (m->mbufs > fit) {
		fprintf(stderr, "dpdk-fwd: %u mbufs of %d bytes do not fit the %" PRIu64
			"-byte area (room for %" PRIu64 "): give a larger --length or a smaller --mbufs\n",
			m->mbufs, FWD_ELT_SIZE, m->len, fit);
		return FWD_EXIT_USAGE;
	}
	m->pool = rte_pktmbuf_pool_create_extbuf("dpdk_fwd_pool", m->mbufs, 0, 0, FWD_ELT_SIZE,
						 rte_socket_id(), &ext, 1);
	if (!m->pool) {
		fprintf(stderr, "dpdk-fwd: rte_pktmbuf_pool_create_extbuf(%u mbufs): %s\n", m->mbufs,
			rte_strerror(rte_errno));
		return FWD_EXIT_RUNTIME;
	}
	return 0;
}

/* Undo whatever of the above was done, in reverse. */
void devmem_release(struct devmem *m)
{
	if (m->pool)
		rte_mempool_free(m->pool);
	if (m->registered && rte_extmem_unregister(m->addr, m->len))
		fprintf(stderr, "dpdk-fwd: rte_extmem_unregister: %s\n", rte_strerror(rte_errno));
	if (m->map)
		hugepfn_unmap(m->map);
	if (m->anon)
		munmap(m->anon, m->anon_len);
	hugepfn_close(m->dev);
	hugepfn_ctx_free(m->ctx);
	memset(m, 0, sizeof(*m));
}
