// SPDX-License-Identifier: GPL-2.0
/* The hugepfn tool's small helpers: how sizes are printed, and the clock. */
#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include "tool.h"

struct tool_size_text tool_size_text(uint64_t bytes)
{
	static const char units[] = "GMK";
	struct tool_size_text t;
	int shift, u;

	/* the largest unit that divides the size exactly: 4096 is "4K", never "0M" */
	for (u = 0, shift = 30; shift; u++, shift -= 10) {
		if (bytes && !(bytes & ((1ULL << shift) - 1))) {
			snprintf(t.s, sizeof(t.s), "%" PRIu64 "%c", bytes >> shift, units[u]);
			return t;
		}
	}
	snprintf(t.s, sizeof(t.s), "%" PRIu64, bytes);
	return t;
}

uint64_t tool_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}
