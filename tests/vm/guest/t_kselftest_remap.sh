#!/bin/sh
# Run the series' own kselftest (tools/testing/selftests/mm/remap_pfn_pmd.c,
# built from the patched tree) on the big ivshmem BAR, and pass its TAP on,
# plan included: the kselftest declares its plan before its first check.
ks=/hpfn/bin/remap_pfn_pmd
if [ ! -x "$ks" ]; then
	# Allowed on the stock kernel only (tests/vm/expected-skips.list): on
	# the patched one a missing binary is a broken build, and fails.
	echo "ok - # SKIP no $ks: the series' kselftest is built only for the patched kernel"
	echo "1..1"
	exit 0
fi
. /hpfn/lib.sh
bar=$(big_ivshmem)
[ -n "$bar" ] && bar=/sys/bus/pci/devices/$bar
if [ -z "$bar" ]; then
	echo "not ok - no ivshmem device with a 1 GiB BAR2"
	exit 1
fi
echo 1 > "$bar/enable"
"$ks" "$bar/resource2" > /tmp/ks.out 2>&1
rc=$?
# kselftest TAP ("ok 3 desc", "1..N") -> the runner's form ("ok - desc");
# "TAP version" and the kselftest's own totals become diagnostics.
sed -n -e 's/^\(not ok\|ok\) [0-9]* \(.*\)/\1 - \2/p' -e 's/^\(1\.\.[0-9]*\)$/\1/p' \
	-e 's/^# \(.*\)/# \1/p' -e 's/^\(Bail out!.*\)/# \1/p' /tmp/ks.out
[ $rc -eq 0 ] || echo "not ok - remap_pfn_pmd exited with status $rc"
exit $rc
