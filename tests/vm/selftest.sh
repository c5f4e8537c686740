#!/usr/bin/env bash
# Tests of the VM harness itself: a deliberately failing guest test and a
# deliberately injected kernel WARNING must each make a run fail, with a
# message that names the cause. Prints TAP.
set -uo pipefail
. "$(dirname "$0")/common.sh"

kind=${1:-patched}
n=0 failed=0
check() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - harness: $2"
	else
		echo "not ok $n - harness: $2"
		failed=1
	fi
}

out=$("$HUGEPFN_ROOT/tests/vm/run-vm.sh" --kernel "$kind" --name harness-failing-test \
	--tests t_harness_fail --timeout 600 2>&1)
rc=$?
check $([ $rc -eq 1 ] && echo 0 || echo 1) "a failing guest test makes the run fail (exit status $rc)"
grep -q '^not ok .*deliberately failing check' <<<"$out"
check $? "the failing check is named in the output"
grep -q '^ok .*a passing check before the failure' <<<"$out"
check $? "the passing check of the same program is still reported"

out=$("$HUGEPFN_ROOT/tests/vm/run-vm.sh" --kernel "$kind" --name harness-kernel-warning \
	--tests t_sysfs_bar --append hpfn.inject_warn=1 --timeout 600 2>&1)
rc=$?
check $([ $rc -eq 1 ] && echo 0 || echo 1) "a kernel WARNING makes the run fail although every guest test passed (exit status $rc)"
grep -q '^not ok .*kernel log has .*problem line' <<<"$out"
check $? "the failure says the kernel log has a problem"
grep -q 'hpfn_test: warning injected' "$HUGEPFN_BUILD/vm-logs/harness-kernel-warning/kernel-problems.txt" 2>/dev/null ||
	grep -q 'WARNING:.*hpfn_test' "$HUGEPFN_BUILD/vm-logs/harness-kernel-warning/kernel-problems.txt" 2>/dev/null
check $? "the injected warning is the problem found"
grep -q -- '---- \[harness-kernel-warning\] last 40 lines of the guest kernel log' <<<"$out"
check $? "the tail of the failing run's kernel log is printed"
exit $failed
