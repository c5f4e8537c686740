/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Minimal TAP output for guest test programs. Each program prints
 * "ok - DESC" / "not ok - DESC" lines (the guest runner numbers them and
 * prefixes the program name) and "# ..." diagnostics, and exits non-zero
 * when any check failed.
 */
#ifndef HPFN_TAP_H
#define HPFN_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* Defined once, in guest.c, so helpers and tests count together. */
extern int tap_failures;

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
}

/* Give up on the rest of the program after a failed precondition. */
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

static inline int tap_exit(void)
{
	return tap_failures ? 1 : 0;
}

#endif
