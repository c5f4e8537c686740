#!/usr/bin/env bash
# Tests of the VM harness itself: every way a run must fail is provoked for
# real in a VM, and the run must fail and name the cause:
#   - guest TAP: a failing check, a program that stops before its plan, one
#     that prints nothing, one that skips what tests/vm/expected-skips.list
#     does not allow, one that is not in the image;
#   - the kernel log: hpfn_provoke.ko makes the kernel report a WARNING, a
#     lockdep inversion, UBSAN, KFENCE, a hung task, a soft lockup, an RCU
#     stall, a sleep in atomic context, list corruption and a bad page-table
#     entry in one boot (each between markers, each found in its own part
#     of the log), then a BUG and an Oops (each ends its VM); KASAN is not
#     in the test kernel (README) and is checked on canned lines only
#     (tests/unit/test_check_run.py);
#   - a program that outlives its time limit, with a child holding its
#     output open (its process group is killed and the run goes on), and a
#     guest that never finishes (the host's time limit).
# Prints TAP. Usage: tests/vm/selftest.sh [--linux VERSION] [KIND]
# (KIND patched, the default, or another run-vm.sh --kernel; VERSION 6.12,
# the default, or 7.3: the kernel the harness is tested on).
set -uo pipefail
. "$(dirname "$0")/common.sh"

linux=6.12
case "${1:-}" in
	-h|--help)
		sed -n '2,/^set -uo/{/^set -uo/d;s/^# \{0,1\}//;p}' "$0"
		exit 0 ;;
	--linux)
		[ $# -ge 2 ] || die "--linux needs a version: ${HUGEPFN_LINUX_VERSIONS[*]}"
		linux=$2
		shift 2 ;;
	--linux=*) linux=${1#--linux=}; shift ;;
esac
kind=${1:-patched}
linux_select "$linux"
# The runs' names (and log directories) get -7.3 on 7.3.
tag=$LINUX_CACHE_TAG
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
# run NAME ARGS...: one harness VM run; sets out and rc.
run() {
	local name=$1
	shift
	say "harness self-test: $name"
	out=$("$HUGEPFN_ROOT/tests/vm/run-vm.sh" --kernel "$kind" --linux "$linux" --name "$name$tag" "$@" 2>&1)
	rc=$?
}
# has REGEX DESCRIPTION: the last run's output has a line matching REGEX.
has() {
	grep -qE -- "$1" <<<"$out"
	check $? "$2"
}
failed_run() {
	check $([ "$rc" -eq 1 ] && echo 0 || echo 1) "$1 makes the run fail (exit status $rc)"
}
logs=$HUGEPFN_BUILD/vm-logs

# --- the guest's TAP ---------------------------------------------------------
run harness-bad-tap --tests t_harness_fail,t_harness_noplan,t_harness_silent,t_harness_skip,t_harness_absent \
	--timeout 600
failed_run "bad guest TAP"
has '^ok .*t_harness_fail: a passing check before the failure' \
	"the passing check of a failing program is still reported"
has '^not ok .*t_harness_fail: deliberately failing check' "a failing check is named"
has '^not ok .*t_harness_noplan: printed no TAP plan' "a program that stops before its plan (exit 0) fails"
has '^not ok .*t_harness_silent: printed no test results' "a program that prints nothing (exit 0) fails"
has '^not ok .*t_harness_skip: unexpected skip' "a skip that tests/vm/expected-skips.list does not allow fails"
has '^not ok .*t_harness_absent: no such guest test' "a program missing from the image fails"
has "---- \\[harness-bad-tap$tag\\] last 40 lines of the guest kernel log" "the tail of a failing run's kernel log is printed"

# --- kernel reports that leave the kernel running ------------------------------
classes=(warn:warning lockdep:lockdep ubsan:ubsan kfence:kfence hung:hung-task
	softlockup:soft-lockup rcu_stall:rcu-stall atomic_sleep:atomic-sleep
	list_corruption:list-corruption pagetable:page-table)
provoke=$(printf '%s\n' "${classes[@]%%:*}" | paste -sd, -)
run harness-kernel-reports --tests t_harness_pass --append "hpfn.provoke=$provoke" --timeout 600
failed_run "kernel reports with every guest test passing"
has '^ok .*t_harness_pass: a passing check' "the guest test itself passed"
has '^not ok .*the kernel log has .*problem line' "the failure names the kernel log"
for c in "${classes[@]}"; do
	what=${c%%:*} cls=${c#*:}
	found=$(python3 "$HUGEPFN_ROOT/tests/vm/check-run.py" kernel-log --class "$cls" \
		--between "hpfn-provoke: begin $what" "hpfn-provoke: end $what" \
		"$logs/harness-kernel-reports$tag/console.log")
	# exit status 1 with the report named: a problem of that class is there
	check $([ $? -eq 1 ] && grep -q "^$cls	" <<<"$found" && echo 0 || echo 1) \
		"provoked '$what': the kernel log's $cls report is caught"
done

# --- kernel reports that end the kernel ----------------------------------------
for c in bug:bug oops:oops; do
	what=${c%%:*} cls=${c#*:}
	run "harness-$what" --tests t_harness_pass --append "hpfn.provoke=$what" --timeout 600
	failed_run "a kernel $what"
	has '^not ok .*the guest stopped before finishing' "after a $what, the run says the guest stopped"
	grep -q "^$cls	" "$logs/harness-$what$tag/kernel-problems.txt" 2>/dev/null
	check $? "after a $what, the kernel log's $cls report is caught"
done

# --- programs and guests that never finish -------------------------------------
run harness-program-limit --tests t_harness_hang,t_harness_pass --append hpfn.test_timeout=20 --timeout 300
failed_run "a program past its time limit"
has '^not ok .*t_harness_hang: timed out after 20s' "the program past its limit is named"
has '^ok .*t_harness_pass: a passing check' "the run went on after killing it (and its child)"
run harness-hang --tests t_harness_hang --append hpfn.test_timeout=1000 --timeout 75
failed_run "a guest that never finishes"
has '^not ok .*did not finish within 75s' "the time limit is named"
has '^not ok .*t_harness_hang: did not finish' "the program that hung is named"
echo "1..$n"
exit $failed
