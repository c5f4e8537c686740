/* SPDX-License-Identifier: GPL-2.0 */
/* TAP for host unit tests (meson's tap protocol). */
#ifndef HPFN_UNIT_H
#define HPFN_UNIT_H

#include <stdio.h>

static int unit_n, unit_failed;

#define CHECK(cond, ...) do {						\
	int c_ = !!(cond);						\
	printf("%s %d - ", c_ ? "ok" : "not ok", ++unit_n);		\
	printf(__VA_ARGS__);						\
	printf("%s\n", c_ ? "" : "  [" #cond "]");			\
	if (!c_)							\
		unit_failed++;						\
} while (0)

#define UNIT_DONE() (printf("1..%d\n", unit_n), unit_failed ? 1 : 0)

#endif
