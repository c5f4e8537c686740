#!/bin/sh
# Run the upstream mm selftests (tools/testing/selftests/mm of the Debian
# source, built statically by tests/vm/build-mm-selftests.sh into
# /hpfn/mm-selftests/) and record every result, each program under a time
# limit. The harness does not judge these: the same programs run on the
# patched kernel and on the base kernel (the same source and config without
# the series), and tests/vm/compare-mm-selftests.py compares the two runs
# check by check on the host, so that a failure that exists without the
# series too does not fail the run. Results therefore go out as diagnostic
# lines, never as plain TAP:
#   # mm-run NAME: COMMAND
#   # mm-result NAME<TAB>STATUS<TAB>DESC   one per check; STATUS is pass,
#       fail, skip or xfail; DESC is the check's description, after the
#       "[RUN] ..." line that announced it when the program prints those
#       (cow prints the same description for many runs)
#   # mm-result NAME<TAB>STATUS<TAB>(exit status)   the program itself:
#       pass (0), skip (4), fail (any other status), timeout, crash (killed
#       by a signal)
#   # mm-exit NAME: ...                   exit status, time, counts
#   # mm-log NAME: LINE                   the output's last lines when the
#       program or one of its checks failed
#   # mm-selftests-done                   all programs ran
# The only TAP lines are "ok - ran N programs", or "not ok" when the
# programs are not there, and the plan "1..1".
dir=/hpfn/mm-selftests
tab=$(printf '\t')
if [ ! -d "$dir" ]; then
	echo "not ok - no $dir in the initramfs (x86_64 only; tests/vm/build-mm-selftests.sh)"
	echo "1..1"
	exit 1
fi

# Every program starts from the same state: no hugetlb pages reserved (the
# hugetlb variants skip, on both kernels alike), THP as the config sets it
# (each program sets and restores what it needs).
echo 0 > /proc/sys/vm/nr_hugepages
# The same address layout on both kernels: with ASLR, mremap_test's "40MB
# Preamble" case (MAP_FIXED_NOREPLACE near its source) now and then finds
# the place taken (EEXIST) on one kernel only, which the comparison would
# report as a regression.
echo 0 > /proc/sys/kernel/randomize_va_space

# NAME LIMIT_S PROGRAM [ARGS]: the programs, in this order, with a time
# limit each (well above what they take under TCG). README "Upstream mm
# selftests" says which are left out and why. Special cases (setup() below):
# - mremap_test -p 1: a fixed pattern seed, so both kernels see the same
#   data; its 2 GiB PUD-aligned moves need overcommit_memory=1 (the guest
#   has 2 GiB), as they map 2 GiB and touch only the first 4 MiB;
# - split_huge_page_test gets a read-only directory as its "filesystem with
#   large folios" (upstream mounts XFS; this kernel has no block layer): its
#   nine pagecache cases, which write 4 MiB a byte at a time (~40 s each
#   under TCG) only to skip on tmpfs, stop at once ("Bail out!", exit 1;
#   listed in tests/vm/mm-selftests-known-failures.txt);
# - uffd-unit-tests runs as seven filtered invocations (-f NAME matches
#   test names containing NAME), without "events", "events-wp" and
#   "poison": under TCG those fail or hang now and then on the base kernel
#   too (UFFDIO_COPY -ENOENT and "memory corruption" in the events tests,
#   the poison test stuck until killed), which would make the comparison
#   flaky. A filtered run skips the UFFDIO_API checks.
programs='
map_fixed_noreplace 30 map_fixed_noreplace
mremap_dontunmap 30 mremap_dontunmap
mremap_test 60 mremap_test -p 1
mlock2-tests 30 mlock2-tests
madv_populate 30 madv_populate
mseal_test 30 mseal_test
mdwe_test 30 mdwe_test
mrelease_test 30 mrelease_test
droppable 30 droppable
mkdirty 30 mkdirty
gup_test-u 30 gup_test -u
gup_test-a 30 gup_test -a
gup_test-ct 30 gup_test -ct -F 0x1 0 19 0x1000
split_huge_page_test 60 split_huge_page_test /tmp/mm-ro
cow 90 cow
pagemap_ioctl 90 pagemap_ioctl
soft-dirty 400 soft-dirty
uffd-register-ioctls 30 uffd-unit-tests -f register-ioctls
uffd-zeropage 30 uffd-unit-tests -f zeropage
uffd-move 90 uffd-unit-tests -f move
uffd-wp-fork 60 uffd-unit-tests -f wp-fork
uffd-wp-unpopulated 30 uffd-unit-tests -f wp-unpopulated
uffd-minor 150 uffd-unit-tests -f minor
uffd-sigbus 90 uffd-unit-tests -f sigbus
'
mkdir -p /tmp/mm-ro
mount -t tmpfs -o ro,size=1M mm-ro /tmp/mm-ro

# setup NAME on|off: what a program needs around its run.
setup() {
	case "$1:$2" in
		mremap_test:on) echo 1 > /proc/sys/vm/overcommit_memory ;;
		mremap_test:off) echo 0 > /proc/sys/vm/overcommit_memory ;;
	esac
}
list=$(echo "$programs" | awk 'NF { printf "%s%s", sep, $1; sep = " " }')
echo "# mm-selftests: $list"

# parse NAME < OUTPUT: the results of one program as "# mm-result" lines;
# prints the counts "PASS FAIL SKIP" last, on a line of its own.
parse() {
	awk -v prog="$1" -v tab="$tab" '
	function trim(s) { sub(/^[ \t]+/, "", s); sub(/[ \t\r]+$/, "", s); return s }
	function result(st, d) {
		d = trim(d)
		if (ctx != "")
			d = (d == "") ? ctx : ctx " :: " d
		print "# mm-result " prog tab st tab d
		if (st == "fail") nfail++; else if (st == "skip") nskip++; else npass++
	}
	# kselftest programs announce a check with "# [RUN] WHAT" and report
	# it with a description that may be shared by many checks.
	/^# \[RUN\] / { ctx = trim(substr($0, 9)); next }
	# uffd-unit-tests: "Testing NAME... done|skipped [reason: ...]|failed [reason: ...]"
	prog ~ /^uffd/ && /^Testing .*\.\.\. / {
		if (pending != "") result("fail", pending " (no result)")
		i = index($0, "... ")
		pending = substr($0, 9, i - 9)
		$0 = substr($0, i + 4)
	}
	pending != "" && /^(done|skipped|failed)/ {
		if ($0 ~ /^done/) result("pass", pending)
		else if ($0 ~ /^skipped/) result("skip", pending)
		else result("fail", pending)
		pending = ""
		next
	}
	# kselftest TAP: "ok N DESC", "not ok N DESC", "ok N # SKIP DESC",
	# "ok N # XFAIL DESC", "not ok N # error DESC", "ok N DESC # SKIP WHY"
	/^(not )?ok [0-9]+( |$)/ {
		ok = ($1 == "ok")
		rest = $0
		sub(/^(not )?ok [0-9]+ ?/, "", rest)
		if (rest ~ /^# SKIP/) { sub(/^# SKIP/, "", rest); result("skip", rest) }
		else if (rest ~ /^# XFAIL/) { sub(/^# XFAIL/, "", rest); result("xfail", rest) }
		else if (rest ~ /^# error/) { sub(/^# error/, "", rest); result("fail", rest) }
		else if (ok && rest ~ / # SKIP/) { sub(/ # SKIP.*/, "", rest); result("skip", rest) }
		else if (ok && rest ~ / # XFAIL/) { sub(/ # XFAIL.*/, "", rest); result("xfail", rest) }
		else result(ok ? "pass" : "fail", rest)
	}
	END {
		if (pending != "") result("fail", pending " (no result: the program ended)")
		print npass + 0, nfail + 0, nskip + 0
	}'
}

echo "$programs" | while read -r name limit prog args; do
	[ -n "$name" ] || continue
	if [ ! -x "$dir/$prog" ]; then
		echo "not ok - $name: $dir/$prog is not in the initramfs"
		echo "1..1"
		exit 1
	fi
	echo "# mm-run $name: $prog $args"
	rm -rf /tmp/mm-work
	mkdir -p /tmp/mm-work
	setup "$name" on
	start=$(cut -d' ' -f1 /proc/uptime)
	# shellcheck disable=SC2086 # args are words
	(cd /tmp/mm-work && exec timeout -s KILL "$limit" "$dir/$prog" $args) \
		> /tmp/mm.out 2>&1 < /dev/null
	rc=$?
	end=$(cut -d' ' -f1 /proc/uptime)
	setup "$name" off
	secs=$(awk "BEGIN { printf \"%d\", $end - $start + 0.5 }")
	# children a killed program leaves behind (cow and uffd fork)
	for p in $(pidof "$prog"); do kill -9 "$p" 2>/dev/null; done
	parse "$name" < /tmp/mm.out > /tmp/mm.res
	sed '$d' /tmp/mm.res
	set -- $(tail -n 1 /tmp/mm.res)
	npass=$1 nfail=$2 nskip=$3
	case $rc in
		0) st=pass ;;
		4) st=skip ;;
		137) if [ "$secs" -ge "$limit" ]; then st=timeout; else st=crash; fi ;;
		*) if [ "$rc" -gt 128 ]; then st=crash; else st=fail; fi ;;
	esac
	echo "# mm-result $name$tab$st$tab(exit status)"
	echo "# mm-exit $name: $st, exit status $rc after ${secs}s (limit ${limit}s); checks: $npass passed, $nfail failed, $nskip skipped"
	if [ "$st" != pass ] && [ "$st" != skip ] || [ "$nfail" -gt 0 ]; then
		tail -n 40 /tmp/mm.out | sed "s/^/# mm-log $name: /"
	fi
done || exit 1
echo "# mm-selftests-done"
echo "ok - ran the upstream mm selftests ($(echo "$list" | wc -w) programs; results as '# mm-result' lines, compared with the base kernel's on the host)"
echo "1..1"
exit 0
