#!/bin/sh
# Harness self-test: a guest test that passes, for runs whose failure must
# come from the kernel log alone. Never part of a normal test list.
. /hpfn/lib.sh
check "a passing check (harness self-test)" "true"
tap_end
