#!/bin/sh
# Run the series' own kselftest (tools/testing/selftests/mm/remap_pfn_pmd.c,
# built from the patched tree) as run_vmtests.sh does. It writes to the BAR,
# so it runs only on one named for it: first without one, when it must
# skip, then with REMAP_PFN_PMD_BAR naming the big ivshmem BAR2. Its TAP is
# passed on with three more checks (it skipped without a BAR, it used the
# one named, it put back the BAR words it wrote over) and its plan
# (declared before its first check) raised by three; without a plan, none
# is printed.
ks=/hpfn/bin/remap_pfn_pmd
if [ ! -x "$ks" ]; then
	# Allowed on the stock kernel (tests/vm/expected-skips.list; a patched
	# kernel's series has the kselftest, 6.12's and 7.3's alike): on any
	# other, a missing binary is a broken build, and fails.
	echo "ok - # SKIP no $ks: the series' kselftest is built only for a patched kernel whose series has it"
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
if [ -e "$bar/driver" ]; then
	echo "not ok - $bar is bound to $(basename "$(readlink "$bar/driver")")"
	exit 1
fi
echo 1 > "$bar/enable"
# Markers where the kselftest writes (the BAR's first word, the first of
# its last GiB), which it must put back when it exits.
start=$(( $(head -n 3 "$bar/resource" | tail -n 1 | cut -d' ' -f1) ))
end=$(( $(head -n 3 "$bar/resource" | tail -n 1 | cut -d' ' -f2) + 1 ))
last_gib=$(( (end & ~0x3fffffff) - 0x40000000 - start ))
for off in 0 $last_gib; do
	/hpfn/bin/bar_word "$bar/resource2" $off $(( 0x5eed0000 + (off >> 20) )) > /dev/null
done
(unset REMAP_PFN_PMD_BAR; "$ks") > /tmp/ks-unnamed.out 2>&1
unnamed=$?
REMAP_PFN_PMD_BAR="$bar/resource2" "$ks" > /tmp/ks.out 2>&1
rc=$?
kept=0
for off in 0 $last_gib; do
	[ $(( $(/hpfn/bin/bar_word "$bar/resource2" $off) )) -eq $(( 0x5eed0000 + (off >> 20) )) ] &&
		kept=$((kept + 1))
done
# kselftest TAP ("ok 3 desc") -> the runner's form ("ok - desc"); "TAP
# version" and the kselftest's own totals become diagnostics.
sed -n -e 's/^\(not ok\|ok\) [0-9]* \(.*\)/\1 - \2/p' \
	-e 's/^# \(.*\)/# \1/p' -e 's/^\(Bail out!.*\)/# \1/p' /tmp/ks.out
plan=$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' /tmp/ks.out)
# kselftest's skip status is 4
if [ $unnamed -eq 4 ] && grep -q "no BAR named" /tmp/ks-unnamed.out; then
	echo "ok - without a BAR named the kselftest skips (it writes to the BAR it gets)"
else
	echo "not ok - without a BAR named the kselftest exited $unnamed: $(tail -n 1 /tmp/ks-unnamed.out)"
fi
if grep -q "^# using $bar/resource2 at " /tmp/ks.out; then
	echo "ok - the kselftest used $bar/resource2, named in REMAP_PFN_PMD_BAR"
else
	echo "not ok - the kselftest did not use $bar/resource2: $(grep -m1 '^# using\|SKIP' /tmp/ks.out)"
	rc=1
fi
if [ $kept -eq 2 ]; then
	echo "ok - the kselftest put back the BAR words it wrote over"
else
	echo "not ok - the kselftest put back $kept of 2 marker words (at offsets 0, $last_gib)"
fi
[ $rc -eq 0 ] || echo "not ok - remap_pfn_pmd exited with status $rc"
[ -n "$plan" ] && echo "1..$((plan + 3))"
exit $rc
