/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Minimal TAP output for guest test programs. Each program prints
 * "ok - DESC" / "not ok - DESC" lines (the guest runner prefixes the
 * program name, the host numbers them) and "# ..." diagnostics, and ends
 * with tap_exit(): a trailing plan "1..N" that counts every result it
 * printed, and a non-zero exit status when any check failed. The host
 * fails a program whose plan is missing (it died or returned early) or
 * disagrees with the results that reached it.
 */
#ifndef HPFN_TAP_H
#define HPFN_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* Defined once, in guest.c, so helpers and tests count together. */
extern int tap_failures;
extern int tap_results;

__attribute__((format(printf, 2, 3)))
static inline int tap_check(int cond, const char *fmt, ...)
{
	va_list ap;

	printf("%s - ", cond ? "ok" : "not ok");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	tap_results++;
	if (!cond)
		tap_failures++;
	return cond;
}

__attribute__((format(printf, 1, 2)))
static inline void tap_diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

/* A check that cannot run here, with the reason; counted as skipped. */
__attribute__((format(printf, 1, 2)))
static inline void tap_skip(const char *fmt, ...)
{
	va_list ap;

	printf("ok - # SKIP ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	tap_results++;
}

/*
 * Give up on the rest of the program after a failed precondition. No plan
 * is printed: the host reports the program as stopped early.
 */
__attribute__((format(printf, 1, 2), noreturn))
static inline void tap_bail(const char *fmt, ...)
{
	va_list ap;

	printf("not ok - ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf(" (cannot continue)\n");
	fflush(stdout);
	exit(1);
}

/*
 * The end of main(): the plan, then the exit status. Results printed by
 * forked children are not counted here: a child reports through its exit
 * status, and the parent checks it.
 */
static inline int tap_exit(void)
{
	printf("1..%d\n", tap_results);
	fflush(stdout);
	return tap_failures ? 1 : 0;
}

#endif
