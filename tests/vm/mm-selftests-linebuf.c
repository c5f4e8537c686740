// SPDX-License-Identifier: GPL-2.0
/*
 * Linked into every upstream mm selftest the VM runs
 * (tests/vm/build-mm-selftests.sh): line-buffered stdout. The guest writes
 * the programs' output to a file, where stdio would buffer it fully: a
 * program killed at its time limit would lose the results it had already
 * printed, and a child forked with a non-empty buffer (cow, uffd) would
 * print the parent's lines a second time.
 */
#include <stdio.h>

static void __attribute__((constructor)) hpfn_line_buffered_stdout(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
}
