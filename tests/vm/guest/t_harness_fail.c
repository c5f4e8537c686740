// SPDX-License-Identifier: GPL-2.0
/*
 * Harness self-test: a guest test that fails on purpose. The harness test
 * boots it and requires the run to be reported as failed. It is never part
 * of the normal test list.
 */
#include "tap.h"

int main(void)
{
	tap_check(1, "a passing check before the failure");
	tap_check(0, "deliberately failing check (harness self-test)");
	return tap_exit();
}
