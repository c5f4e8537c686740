// SPDX-License-Identifier: GPL-2.0
/* The hugepfn tool's small helpers: how sizes are printed, the clock, formatting, --root. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
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

int tool_format(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int tool_rooted(const struct tool_args *a, char *buf, size_t size, const char *fmt, ...)
{
	const char *root = a->root ? a->root : "";
	size_t len = strlen(root);
	va_list ap;
	int n;

	/* "--root /" and "--root DIR/" name the same tree as none and "DIR" */
	while (len && root[len - 1] == '/')
		len--;
	n = snprintf(buf, size, "%.*s", (int)len, root);
	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	va_start(ap, fmt);
	n = vsnprintf(buf + len, size - len, fmt, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= size - len ? -ENAMETOOLONG : 0;
}
