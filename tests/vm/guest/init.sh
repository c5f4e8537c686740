#!/bin/busybox sh
# /init of the test VM. Runs the guest test programs named by hpfn.tests= on
# the kernel command line and writes TAP to the second serial port (the
# kernel console stays on the first, so the two never interleave).
# Lines: "ok - PROG: DESC", "not ok - PROG: DESC", each program's plan
# "1..N", "# ...", and a final "# hpfn-done" that tells the host the guest
# finished (tests/vm/check-run.py reads them).
/bin/busybox mkdir -p /proc /sys /dev /tmp /bin /sbin
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mount -t devtmpfs devtmpfs /dev 2>/dev/null
/bin/busybox mount -t tmpfs tmpfs /tmp
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/hpfn/bin
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null

param() {
	for kv in $(cat /proc/cmdline); do
		case "$kv" in "$1="*) echo "${kv#*=}"; return ;; esac
	done
}

# TAP goes to the second serial port, or where hpfn.tap= says (arm64's
# virt machine has one UART: there it is a virtio console).
tap=$(param hpfn.tap)
exec 3>"${tap:-/dev/ttyS1}"

# kernel_state_checks: what the kernel log may not show before power-off:
# a process still stuck in uninterruptible sleep (the hung-task detector
# needs its timeout to pass first), and any taint flag other than U (VFIO's
# no-IOMMU mode, which the tests use, taints "user requested"), O (our
# out-of-tree modules) and E (unsigned, on Debian's kernel).
kernel_state_checks() {
	local d state taint
	# user processes only: kernel threads (no command line) may sleep
	# uninterruptibly by design
	for d in /proc/[0-9]*; do
		[ -n "$(tr -d '\0' < "$d/cmdline" 2>/dev/null)" ] || continue
		read -r state < "$d/stat" 2>/dev/null || continue
		case "$state" in
			*") D "*) echo "not ok - init: a process is stuck in uninterruptible sleep at the end: $state" >&3 ;;
		esac
	done
	taint=$(cat /proc/sys/kernel/tainted)
	if [ $((taint & ~(64 | 4096 | 8192))) -ne 0 ]; then
		echo "not ok - init: the kernel is tainted ($taint, flags beyond U, O and E: see Documentation/admin-guide/tainted-kernels.rst)" >&3
	fi
}

finish() {
	kernel_state_checks
	echo "# hpfn-done" >&3
	sync
	reboot -f
}

echo "# kernel $(uname -r) ($(param hpfn.kernel)), $(nproc) CPUs, features: $(param hpfn.features)" >&3

# Modules that the kernel has as loadable modules (stock kernel), then ours.
for m in $(cat /hpfn/modules/load.list 2>/dev/null); do
	insmod "/hpfn/modules/$m" 2>/tmp/insmod.err ||
		echo "# insmod $m: $(cat /tmp/insmod.err)" >&3
done
if ! insmod /hpfn/modules/hpfn_test.ko 2>/tmp/insmod.err; then
	echo "not ok - init: insmod hpfn_test.ko: $(cat /tmp/insmod.err)" >&3
	finish
fi

# hpfn.provoke=CLASS,...: the harness self-test (tests/vm/selftest.sh) has
# hpfn_provoke.ko make the kernel report each class of problem in turn,
# between markers in the kernel log that tell the host which lines each
# one caused. The detectors' thresholds are lowered first so that a hang,
# a soft lockup and an RCU stall are reported within seconds.
provoke() {
	case "$1" in
		hung) echo 2 > /proc/sys/kernel/hung_task_timeout_secs ;;
		softlockup) echo 1 > /proc/sys/kernel/watchdog_thresh ;;
		rcu_stall) echo 3 > /sys/module/rcupdate/parameters/rcu_cpu_stall_timeout ;;
	esac
	echo "hpfn-provoke: begin $1" > /dev/kmsg
	insmod /hpfn/modules/hpfn_provoke.ko what="$1" 2>/tmp/insmod.err ||
		echo "# insmod hpfn_provoke.ko what=$1: $(cat /tmp/insmod.err)" >&3
	rmmod hpfn_provoke
	echo "hpfn-provoke: end $1" > /dev/kmsg
	echo "# provoked $1" >&3
}
for p in $(param hpfn.provoke | tr , ' '); do
	provoke "$p"
done

# Hung tasks are reported after 60 s rather than the default 120, so that
# one in the last minutes of a run still reaches the log.
echo 60 2>/dev/null > /proc/sys/kernel/hung_task_timeout_secs

limit=$(param hpfn.test_timeout)
[ -n "$limit" ] || limit=300

# run_limited LIMIT PROGRAM: run PROGRAM in /tmp in its own process group
# and kill the whole group after LIMIT seconds (busybox timeout would kill
# the program alone, and a child of it holding the output pipe would keep
# the run waiting). Leaves /tmp/timed-out when the limit struck. Whatever
# the program left running is killed when it ends.
run_limited() {
	local pid watchdog rc
	rm -f /tmp/timed-out
	(cd /tmp && exec setsid "$2") &
	pid=$!
	(sleep "$1" && touch /tmp/timed-out && kill -KILL -- "-$pid") > /dev/null 2>&1 &
	watchdog=$!
	wait "$pid"
	rc=$?
	kill "$watchdog" 2>/dev/null
	kill -KILL -- "-$pid" 2>/dev/null
	return $rc
}

# relay PROG: the program's output, its results named after it; lines that
# look like the runner's own markers are defused ("# hpfn-host:" requests
# to the host pass, tests/vm/run-vm.sh).
relay() {
	while IFS= read -r line || [ -n "$line" ]; do
		case "$line" in
			"ok - "*) printf 'ok - %s: %s\n' "$1" "${line#ok - }" ;;
			"not ok - "*) printf 'not ok - %s: %s\n' "$1" "${line#not ok - }" ;;
			"# hpfn-begin"*|"# hpfn-end"*|"# hpfn-done"*)
				printf '# (%s printed) %s\n' "$1" "${line#\# }" ;;
			*) printf '%s\n' "$line" ;;
		esac
	done
}

# Each program's output is framed by "# hpfn-begin T" and "# hpfn-end T
# STATUS", so the host can hold every program to its own plan and exit
# status (a program that prints nothing, or dies before its plan, fails
# there).
for t in $(param hpfn.tests | tr , ' '); do
	echo "# hpfn-begin $t" >&3
	if [ ! -x "/hpfn/tests/$t" ]; then
		echo "not ok - $t: no such guest test in the initramfs" >&3
		echo "# hpfn-end $t 127" >&3
		continue
	fi
	start=$(cut -d' ' -f1 /proc/uptime)
	# Stream the output, so a test that crashes the kernel still shows
	# how far it got.
	set -o pipefail
	run_limited "$limit" "/hpfn/tests/$t" 2>&1 | relay "$t" >&3
	rc=$?
	set +o pipefail
	end=$(cut -d' ' -f1 /proc/uptime)
	if [ -e /tmp/timed-out ]; then
		echo "not ok - $t: timed out after ${limit}s (its process group was killed)" >&3
	elif [ $rc -ne 0 ]; then
		echo "# $t exited with status $rc" >&3
	fi
	echo "# $t took $(awk "BEGIN{print $end-$start}")s" >&3
	echo "# hpfn-end $t $rc" >&3
done
finish
